/* igd_act.h - UPnP control actions: a dispatch table over the mapping table's API. */
#ifndef PG_IGD_ACT_H
#define PG_IGD_ACT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "igd/igd.h"

struct evbuffer;
struct mt_entry;
struct up_landing;

/* An answer that may only go once its entry is in the kernel. */
struct igd_landing {
	const struct mt_entry	*entry;		/* NULL: the answer is final */
	const char		*action;	/* for the refusal's log line */
	int			 act;		/* the action's counters (igd_act.c) */
	uint64_t		 id;		/* the entry's, for the upstream's answer */
	uint16_t		 port;		/* its external port, as the reply says it */
	int			 svc, version;	/* the service answering (a reply rewritten) */
};

/*
 * Run one control request (body of len bytes, its SOAPAction header or
 * NULL) sent to service svc by client. The reply envelope (a response or a
 * UPnPError fault) goes to out; returns the HTTP status: 200 or 500. With
 * land, a 200 whose action changed an entry comes back with land->entry
 * set: the caller sends it once mtable_commit_entry says the entry landed,
 * or igd_act_refused's 501 instead. Without land (tests), the table is
 * committed here and out is final.
 */
int igd_act_control(struct igd *, enum igd_svc, const struct in6_addr *client,
    const char *soapaction, const char *body, size_t len, struct evbuffer *out,
    struct igd_landing *land);
/* The kernel refused land's entry (errno err, rolled back): out becomes the 501; returns 500. */
int igd_act_refused(struct igd *, const struct in6_addr *client, const struct igd_landing *land,
    int err, struct evbuffer *out);
/*
 * land's entry is in the kernel and the upstream PCP server (upstream_await)
 * answered l: a refusal makes out the 718 (AddPortMapping) or 728
 * (AddAnyPortMapping) the entry's deletion calls for; AddAnyPortMapping's
 * NewReservedPort becomes the port the upstream granted. Returns the status.
 */
int igd_act_upstream(struct igd *, const struct in6_addr *client,
    const struct igd_landing *land, const struct up_landing *l, int status,
    struct evbuffer *out);
/* land's entry is in the kernel: its answer goes out, counted as a success. */
void igd_act_landed(struct igd *, const struct igd_landing *land);
/* requests_total for protocol upnp, by action and result (metric.h), the non-zero ones. */
void igd_act_metrics(const struct igd *, pg_metric_emit *, void *);
/* Append the <e:property> elements of svc's evented variables, current values (GENA). */
void igd_event_vars(struct igd *, enum igd_svc, struct evbuffer *props);

#endif
