/*
 * ctl_status.c - `portgatectl status` as a table: one row per section, each
 * a module's status verb (status.h) applied to the context, in the order
 * the command prints them. The rows' names are the sections' (for a later
 * HTTP API and metrics page that show them apart).
 */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "ctl_status.h"
#include "daemon.h"
#include "igd/gena.h"
#include "igd/igd.h"
#include "igd/igd_http.h"
#include "mtable.h"
#include "neigh.h"
#include "pcp/pcp_server.h"
#include "state_health.h"
#include "state_journal.h"
#include "trigger/nflog.h"
#include "trigger/trigger.h"
#include "util.h"

/* The table's counts (until the table offers its own verb). */
static void
status_table(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	int s;

	emit(arg, "mappings", "%zu", mtable_count(ctx->mt));
	emit(arg, "pinholes", "%zu", mtable_pinhole_count(ctx->mt));
	for (s = 0; s < MT_NSOURCE; s++)
		emit(arg, "source", "%s %zu", mt_source_name(s), mtable_count_source(ctx->mt, s));
}

static void
status_trigger(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	trigger_status(ctx->trig, emit, arg);
}

static void
status_nflog(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	trig_nflog_status(ctx->nflog, emit, arg);
}

/* The state file's health, then its journal. */
static void
status_state(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	state_health_status(&ctx->state_health, emit, arg);
	state_journal_status(ctx->journal, emit, arg);
}

/* The UPnP front end: where control points find it, and what it has seen (until igd_status). */
static void
status_upnp(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	const struct igd *igd = ctx->igd;
	const struct igd_stats *st;
	const struct in6_addr *addrs;
	char url[128];
	size_t i, n;

	emit(arg, "upnp", "%s", igd != NULL ? "on" : "off");
	if (igd == NULL)
		return;
	st = &igd->stats;
	emit(arg, "upnp_uuid", "uuid:%s", igd->udn[IGD_DEV_ROOT]);
	emit(arg, "upnp_igd_version", "%s", conf_igd_version_name(ctx->cfg->upnp_igd_version));
	n = igd->http != NULL ? igd_http_addrs(igd->http, &addrs) : 0;
	for (i = 0; i < n; i++) {
		igd_location(igd, &addrs[i], url, sizeof(url));
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

static void
status_pcp(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	pcp_srv_status(ctx->pcp, emit, arg);
}

static void
status_neigh(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	neigh_status(ctx->neigh, emit, arg);
}

static const struct {
	const char	*name;
	ctl_status_fn	*fn;		/* NULL: the owner's own verb */
} ctl_status_rows[] = {
	{ "daemon", NULL },
	{ "table", status_table },
	{ "trigger", status_trigger },
	{ "nflog", status_nflog },
	{ "state", status_state },
	{ "upnp", status_upnp },
	{ "pcp", status_pcp },
	{ "neigh", status_neigh },
};

void
ctl_status(const struct pg_ctx *ctx, ctl_status_fn *own, pg_status_emit *emit, void *arg)
{
	size_t i;

	for (i = 0; i < PG_NELEM(ctl_status_rows); i++) {
		if (ctl_status_rows[i].fn != NULL)
			ctl_status_rows[i].fn(ctx, emit, arg);
		else if (own != NULL)
			own(ctx, emit, arg);
	}
}
