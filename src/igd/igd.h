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
#include "status.h"

struct event;
struct pg_ctx;
struct igd_http;
struct ssdp;
struct gena;

#define IGD_RESCAN_S	5	/* seconds between looks at the LAN addresses (HTTP, SSDP) */

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

#endif
