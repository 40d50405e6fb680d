/*
 * igd.h - the UPnP IGD front end: SSDP discovery, descriptions, SOAP
 * control, GENA events. igd.c makes the parts and wires them; the
 * catalogue they share is igd_service.h.
 */
#ifndef PG_IGD_H
#define PG_IGD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "igd/igd_service.h"
#include "log.h"
#include "metric.h"
#include "status.h"

struct event;
struct evbus;
struct pg_ctx;
struct igd_http;
struct ssdp;
struct gena;

#define IGD_RESCAN_S	5	/* seconds between looks at the LAN addresses (HTTP, SSDP) */

#define IGD_ACT_SLOTS		40	/* counters by action: each of igd_act.c's, then unknown */
#define IGD_RESULT_SLOTS	24	/* by result: success, each named error, other */

struct igd_stats {
	uint64_t	 ssdp_searches;		/* M-SEARCH datagrams accepted */
	uint64_t	 ssdp_replies;
	uint64_t	 ssdp_dropped;		/* malformed, off-LAN or over the rate limit */
	uint64_t	 ssdp_notifies;
	uint64_t	 http_requests;
	uint64_t	 http_refused;		/* off-LAN peers (closed at accept), 403s, cut requests */
	uint64_t	 soap_requests;
	uint64_t	 soap_errors;		/* answered with a UPnPError */
	uint64_t	 events_sent;
	uint64_t	 actions[IGD_ACT_SLOTS][IGD_RESULT_SLOTS];	/* answers (igd_act.c) */
};

#define IGD_SERVER_MAX	128

struct igd {
	struct pg_ctx		*ctx;
	char			 udn[IGD_NDEV][IGD_UUID_LEN];	/* without "uuid:" */
	uint32_t		 boot_id;
	uint32_t		 config_id;
	uint32_t		 system_update_id;
	char			 server[IGD_SERVER_MAX];	/* igd_server_string's, at init */
	struct igd_http		*http;
	struct ssdp		*ssdp;
	struct gena		*gena;
	struct event		*rescan_ev;
	struct igd_stats	 stats;
	struct log_limit	 log_limit;	/* debug lines about bad requests */
	struct evbus		*events;	/* refusals are posted here (the context's bus) */
};

/* Start the front end if the config enables it (ctx->meta.uuid is set here when empty). */
int igd_init(struct pg_ctx *);
/* Stop it: SSDP byebye, close sockets, drop subscriptions. */
void igd_shutdown(struct pg_ctx *);
/* Apply a reloaded configuration (interfaces, port, names). */
void igd_reload(struct pg_ctx *);
/* The mapping table changed: bump SystemUpdateID, schedule events. */
void igd_table_changed(struct igd *);
/* The external address changed (or went away): event it. */
void igd_ext_addr_changed(struct igd *);
/* Make the SERVER string from uname(2) (at init). */
void igd_server_init(struct igd *);
/* The SERVER / USER-AGENT product string: "Linux/REL UPnP/1.1 portgate/VER". */
const char *igd_server_string(const struct igd *);
/*
 * Its state, as `portgatectl status` prints it (igd may be NULL: "upnp
 * off"): upnp, upnp_uuid, upnp_igd_version, upnp_url (one per address
 * listened on), the ssdp_*, http_* and soap_* counters, upnp_subscriptions,
 * upnp_events_sent.
 */
void igd_status(const struct igd *, pg_status_emit *, void *);
/*
 * Metrics (metric.h; nothing when igd is NULL): requests_total for protocol
 * upnp by action and result, gena_subscriptions, gena_events_sent_total,
 * the ssdp_* and upnp_http_* counters.
 */
void igd_metrics(const struct igd *, pg_metric_emit *, void *);

#endif
