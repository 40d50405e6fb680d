/* gena.h - GENA eventing (UDA 1.1 §4): subscriptions and NOTIFY messages to control points. */
#ifndef PG_GENA_H
#define PG_GENA_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "igd/igd_service.h"

struct gena;
struct evbuffer;
struct igd_stats;
struct pg_ctx;

#define GENA_SID_MAX		48	/* "uuid:" + 36 + NUL, rounded */
#define GENA_PATH_MAX		256
#define GENA_TIMEOUT_MIN	60	/* seconds */
#define GENA_TIMEOUT_MAX	1800
#define GENA_TIMEOUT_DEFAULT	1800
#define GENA_PER_CLIENT		8	/* subscriptions one LAN host (MAC, or /64) may hold */
#define GENA_MAX_SUBS		256
#define GENA_INITIAL_DELAY_MS	100	/* from the SUBSCRIBE reply to the initial event */
#define GENA_MODERATION_MS	200	/* at most one event per subscription this often */
#define GENA_NOTIFY_TIMEOUT_MS	5000	/* connect + request + status line */
#define GENA_NOTIFY_FAILS	3	/* failed NOTIFYs in a row that end a subscription */
#define GENA_RESPONSE_MAX	1024	/* bytes of a NOTIFY response read for its status line */

/* The request headers of a SUBSCRIBE or UNSUBSCRIBE (NULL when absent). */
struct gena_hdrs {
	const char	*callback;
	const char	*nt;
	const char	*sid;
	const char	*timeout;
	int		 reply_hook;	/* the caller calls gena_reply_sent() once the reply is out */
};

/* What a SUBSCRIBE answers: the HTTP status, and on 200 the SID and TIMEOUT headers. */
struct gena_reply {
	int		 status;	/* 200, 400, 412, 503 */
	char		 sid[GENA_SID_MAX];
	char		 timeout[24];	/* "Second-1800" */
};

/* A parsed CALLBACK header: the first usable http:// URL in it. */
struct gena_url {
	struct in6_addr	 addr;		/* v4-mapped for IPv4 */
	uint16_t	 port;
	char		 path[GENA_PATH_MAX];	/* starts with '/' */
};

/*
 * The evented variables' renderer, wired by igd.c (the control actions'):
 * append one "<e:property><Name>escaped value</Name></e:property>" per
 * evented variable of svc, with current values, to props.
 */
typedef void gena_vars_fn(void *arg, enum igd_svc, struct evbuffer *props);

/*
 * Test hooks: render evented variables with vars(arg, ...) instead of the
 * renderer given to gena_new, and end NOTIFYs after notify_timeout_ms (0:
 * the default).
 */
struct gena_hooks {
	gena_vars_fn	 *vars;
	void		 *arg;
	unsigned	  notify_timeout_ms;
};

/* Parse a CALLBACK header ("<http://192.0.2.10:5000/evt>..."); 0, or -1 if no URL is usable. Pure. */
int gena_parse_callback(const char *hdr, struct gena_url *out);
/* Parse TIMEOUT ("Second-N" or "Second-infinite"), capped to [MIN, MAX]; NULL gives the default. Pure. */
unsigned gena_parse_timeout(const char *hdr);
/* The status code of an HTTP response's status line (len bytes, no NUL needed), or -1. Pure. */
int gena_parse_status(const char *line, size_t len);

/*
 * Subscriptions for the IGD's services, in ctx's loop; delivered events are
 * counted in stats->events_sent, variables rendered by vars(arg, ...).
 * NULL on failure.
 */
struct gena *gena_new(struct pg_ctx *, struct igd_stats *, gena_vars_fn *vars, void *arg);
/* Drop every subscription and pending NOTIFY. */
void gena_free(struct gena *);
/* Replace the variable renderer and NOTIFY deadline (tests). */
void gena_set_hooks(struct gena *, const struct gena_hooks *);
/* SUBSCRIBE (new, with CALLBACK and NT, or a renewal with SID) from client to svc. */
void gena_subscribe(struct gena *, enum igd_svc, const struct in6_addr *client,
    const struct gena_hdrs *, struct gena_reply *);
/* The reply to the SUBSCRIBE that made sid has gone out: its initial event follows shortly. */
void gena_reply_sent(struct gena *, const char *sid);
/* UNSUBSCRIBE; returns the HTTP status (200, 400, 412). */
int gena_unsubscribe(struct gena *, enum igd_svc, const struct in6_addr *client,
    const struct gena_hdrs *);
/* Evented state may have changed: send moderated events where values differ. */
void gena_changed(struct gena *);
/* Number of live subscriptions. */
size_t gena_count(const struct gena *);

#endif
