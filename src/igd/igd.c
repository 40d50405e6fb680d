/*
 * igd.c - the UPnP IGD front end's life cycle and identity.
 *
 * It makes the parts and wires them, and nothing below calls back into
 * it: SSDP and HTTP are handed what they say about the device (UDNs,
 * BOOTID, CONFIGID, SERVER) when they are made, GENA renders evented
 * variables through the callback given here, and the catalogue every part
 * names (services, devices, versions, LOCATION) is igd_service.c's.
 *
 * One device (one UDN per device level), one LOCATION: every SSDP answer
 * and announcement, for a version-1 type as for a version-2 one, points at
 * /rootDesc.xml. A control point that can use IGD:2 gets IGD:2 whatever it
 * searched for first: miniupnpc searches InternetGatewayDevice:1 first and
 * keeps the description it is pointed at, so a separate v1 LOCATION for v1
 * searches left it on WANIPConnection:1, where its v2 calls
 * (GetListOfPortMappings, AddAnyPortMapping, DeletePortMappingRange) are
 * Invalid Action and a conflict with a static forward is 718, never 729.
 * UDA lets a device answer a search for an older version of its types with
 * a description naming the newer one.
 *
 * Some control points only know IGD:1 and refuse a description naming
 * InternetGatewayDevice:2 (Windows' own NAT traversal, which games, BITS
 * and Xbox apps use, and the many hand-written clients that copied its
 * User-Agent). They can be recognised where it matters, when they fetch
 * the description: upnp_igd_version = auto (the default) serves the IGD:1
 * description at the same LOCATION to the User-Agents igd_desc.c lists,
 * and IGD:2 to everyone else. upnp_igd_version = 2 serves IGD:2 to all,
 * and 1 makes an IGD:1-only device: only version-1 types are announced,
 * answered, described and controlled. /rootDesc1.xml, the IGD:1
 * description, stays for clients that were given that URL.
 *
 * Both descriptions point at the same control URLs; the control handler
 * reads the service version from the SOAPAction and refuses v2-only
 * actions to a v1 caller (and every v2 SOAPAction when the device is
 * IGD:1 only). Every action goes to the one mapping table, so both kinds
 * of client see and share the same mappings.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>

#include "conf.h"
#include "daemon.h"
#include "igd/gena.h"
#include "igd/igd.h"
#include "igd/igd_act.h"
#include "igd/igd_desc.h"
#include "igd/igd_http.h"
#include "igd/igd_service.h"
#include "igd/ssdp.h"
#include "log.h"
#include "netif.h"
#include "util.h"

const char *
igd_server_string(const struct igd *igd)
{
	static const char fallback[] = "Linux UPnP/1.1 portgate/" PACKAGE_VERSION;

	return igd != NULL && igd->server[0] != '\0' ? igd->server : fallback;
}

/*
 * "Linux/6.1.0-18-amd64 UPnP/1.1 portgate/VER", as UDA asks of SERVER:
 * OS/version from uname(2), cut to a token (letters, digits, . _ + -) so
 * nothing of it can break a header line.
 */
void
igd_server_init(struct igd *igd)
{
	struct utsname u;
	char rel[64];
	size_t i, n = 0;

	if (uname(&u) == -1)
		return;
	for (i = 0; u.release[i] != '\0' && n < sizeof(rel) - 1; i++)
		if (isalnum((unsigned char)u.release[i]) || strchr("._+-", u.release[i]) != NULL)
			rel[n++] = u.release[i];
	rel[n] = '\0';
	snprintf(igd->server, sizeof(igd->server), "Linux/%s UPnP/1.1 portgate/%s",
	    n > 0 ? rel : "unknown", PACKAGE_VERSION);
}

/* A random (version 4) UUID, made once and kept in the state file. */
static void
igd_make_uuid(char *out, size_t len)
{
	uint8_t b[16];
	size_t i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		uint64_t t = util_mono_ms() ^ (uint64_t)time(NULL) << 20;

		for (i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)(t >> (i % 8 * 8)) ^ (uint8_t)(i * 37);
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	    b[13], b[14], b[15]);
}

/* GENA's evented variables are the control actions' (igd_act.c). */
static void
igd_vars(void *arg, enum igd_svc svc, struct evbuffer *props)
{
	igd_event_vars(arg, svc, props);
}

/*
 * The LAN addresses may change under us (a bridge gets its address after
 * start, a delegated IPv6 prefix arrives, DAD keeps an IPv6 address
 * tentative for a second): every IGD_RESCAN_S seconds HTTP listens on new
 * ones, then SSDP joins and announces them, so a LOCATION is served by the
 * time it is announced.
 */
static void
igd_rescan_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct igd *igd = arg;

	(void)fd;
	(void)ev;
	netif_refresh(igd->ctx->netif);
	igd_http_sync(igd->http);
	ssdp_sync(igd->ssdp);
}

/* HTTP and SSDP follow the interfaces and port: a reload restarts them (subscriptions stay). */
static int
igd_start_parts(struct igd *igd)
{
	struct ssdp_params sp;

	igd->config_id = (uint32_t)igd_desc_config_id(igd);
	if ((igd->http = igd_http_new(igd, igd_server_string(igd))) == NULL)
		return -1;
	memset(&sp, 0, sizeof(sp));
	sp.ctx = igd->ctx;
	sp.udn = igd->udn;
	sp.boot_id = igd->boot_id;
	sp.config_id = igd->config_id;
	sp.server = igd_server_string(igd);
	sp.stats = &igd->stats;
	/* discovery is optional: a control point that knows the URL still works without it */
	if ((igd->ssdp = ssdp_new(&sp)) == NULL)
		log_warnx("upnp: SSDP is off; control points cannot discover the IGD");
	return 0;
}

static void
igd_stop_parts(struct igd *igd)
{
	ssdp_free(igd->ssdp);	/* byebye while the descriptions are still served */
	igd->ssdp = NULL;
	igd_http_free(igd->http);
	igd->http = NULL;
}

int
igd_init(struct pg_ctx *ctx)
{
	struct timeval rescan = { IGD_RESCAN_S, 0 };
	struct igd *igd;

	if (!ctx->cfg->upnp)
		return 0;
	if (ctx->cfg->uuid != NULL)	/* the admin's (another daemon's, imported) */
		snprintf(ctx->meta.uuid, sizeof(ctx->meta.uuid), "%s", ctx->cfg->uuid);
	if (ctx->meta.uuid[0] == '\0')
		igd_make_uuid(ctx->meta.uuid, sizeof(ctx->meta.uuid));
	igd = xcalloc(1, sizeof(*igd));
	igd->ctx = ctx;
	igd->events = ctx->events;
	igd_service_udns(ctx->meta.uuid, igd->udn);
	/* BOOTID.UPNP.ORG must grow at every start: the wall clock does */
	igd->boot_id = (uint32_t)time(NULL) & 0x7fffffff;
	igd->system_update_id = 1;
	igd_server_init(igd);
	log_limit_init(&igd->log_limit, 10000, 50);
	ctx->igd = igd;
	igd->gena = gena_new(ctx, &igd->stats, igd_vars, igd);
	if ((igd->rescan_ev = event_new(ctx->base, -1, EV_PERSIST, igd_rescan_cb, igd)) == NULL ||
	    event_add(igd->rescan_ev, &rescan) == -1 || igd_start_parts(igd) == -1) {
		igd_shutdown(ctx);
		return -1;
	}
	log_info("upnp: IGD uuid:%s on port %u, upnp_igd_version %s", igd->udn[IGD_DEV_ROOT],
	    ctx->cfg->upnp_http_port, conf_igd_version_name(ctx->cfg->upnp_igd_version));
	return 0;
}

void
igd_shutdown(struct pg_ctx *ctx)
{
	struct igd *igd = ctx->igd;

	if (igd == NULL)
		return;
	igd_stop_parts(igd);
	if (igd->rescan_ev != NULL)
		event_free(igd->rescan_ev);
	gena_free(igd->gena);
	free(igd);
	ctx->igd = NULL;
}

void
igd_reload(struct pg_ctx *ctx)
{
	if (ctx->igd == NULL) {
		if (igd_init(ctx) == -1)
			log_warnx("reload: cannot start the UPnP front end");
		return;
	}
	if (!ctx->cfg->upnp) {
		igd_shutdown(ctx);
		log_info("reload: UPnP front end stopped");
		return;
	}
	/* addresses, port or names may have changed: listen and announce afresh */
	igd_stop_parts(ctx->igd);
	ctx->igd->boot_id++;
	if (igd_start_parts(ctx->igd) == -1)
		log_warnx("reload: UPnP front end could not restart");
}

void
igd_table_changed(struct igd *igd)
{
	if (igd == NULL)
		return;
	igd->system_update_id++;
	gena_changed(igd->gena);
}

void
igd_ext_addr_changed(struct igd *igd)
{
	if (igd == NULL)
		return;
	gena_changed(igd->gena);
}

void
igd_status(const struct igd *igd, pg_status_emit *emit, void *arg)
{
	const struct igd_stats *st;
	const struct in6_addr *addrs;
	char url[128];
	size_t i, n;

	emit(arg, "upnp", "%s", igd != NULL ? "on" : "off");
	if (igd == NULL)
		return;
	st = &igd->stats;
	emit(arg, "upnp_uuid", "uuid:%s", igd->udn[IGD_DEV_ROOT]);
	emit(arg, "upnp_igd_version", "%s",
	    conf_igd_version_name(igd->ctx->cfg->upnp_igd_version));
	n = igd->http != NULL ? igd_http_addrs(igd->http, &addrs) : 0;
	for (i = 0; i < n; i++) {
		igd_service_location(&addrs[i], igd->ctx->cfg->upnp_http_port, url, sizeof(url));
		emit(arg, "upnp_url", "%s", url);
	}
	emit(arg, "ssdp_searches", "%llu", (unsigned long long)st->ssdp_searches);
	emit(arg, "ssdp_replies", "%llu", (unsigned long long)st->ssdp_replies);
	emit(arg, "ssdp_dropped", "%llu", (unsigned long long)st->ssdp_dropped);
	emit(arg, "ssdp_notifies", "%llu", (unsigned long long)st->ssdp_notifies);
	emit(arg, "http_requests", "%llu", (unsigned long long)st->http_requests);
	emit(arg, "http_refused", "%llu", (unsigned long long)st->http_refused);
	emit(arg, "soap_requests", "%llu", (unsigned long long)st->soap_requests);
	emit(arg, "soap_errors", "%llu", (unsigned long long)st->soap_errors);
	emit(arg, "upnp_subscriptions", "%zu", igd->gena != NULL ? gena_count(igd->gena) : 0);
	emit(arg, "upnp_events_sent", "%llu", (unsigned long long)st->events_sent);
}

void
igd_metrics(const struct igd *igd, pg_metric_emit *emit, void *arg)
{
	const struct igd_stats *st;

	if (igd == NULL)
		return;
	st = &igd->stats;
	igd_act_metrics(igd, emit, arg);
	emit(arg, "gena_subscriptions", NULL, igd->gena != NULL ? (double)gena_count(igd->gena) :
	    0, NULL);
	emit(arg, "gena_events_sent_total", NULL, (double)st->events_sent, NULL);
	emit(arg, "ssdp_searches_total", NULL, (double)st->ssdp_searches, NULL);
	emit(arg, "ssdp_replies_total", NULL, (double)st->ssdp_replies, NULL);
	emit(arg, "ssdp_dropped_total", NULL, (double)st->ssdp_dropped, NULL);
	emit(arg, "upnp_http_requests_total", NULL, (double)st->http_requests, NULL);
	emit(arg, "upnp_http_refused_total", NULL, (double)st->http_refused, NULL);
}
