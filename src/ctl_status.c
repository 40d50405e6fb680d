/*
 * ctl_status.c - `portgatectl status` as a table: one row per section, each
 * a module's status verb (status.h) applied to the context, in the order
 * the command prints them. The rows' names are the sections' (for a later
 * HTTP API and metrics page that show them apart).
 */
#include "config.h"

#include <stdio.h>

#include "ctl_status.h"
#include "daemon.h"
#include "hostnames.h"
#include "igd/igd.h"
#include "mtable.h"
#include "neigh.h"
#include "pcp/pcp_server.h"
#include "state_health.h"
#include "state_journal.h"
#include "trigger/nflog.h"
#include "trigger/trigger.h"
#include "upstream.h"
#include "util.h"

static void
status_table(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	mtable_status(ctx->mt, emit, arg);
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

/* The UPnP front end: where control points find it, and what it has seen. */
static void
status_upnp(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	igd_status(ctx->igd, emit, arg);
}

/* The PCP server, then the upstream one (the client's view). */
static void
status_pcp(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	pcp_srv_status(ctx->pcp, emit, arg);
	upstream_status(ctx->up, ctx, emit, arg);
}

static void
status_neigh(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	neigh_status(ctx->neigh, emit, arg);
}

static void
status_hostnames(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	hostnames_status(ctx->hosts, emit, arg);
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
	{ "hostnames", status_hostnames },
};

void
ctl_status(const struct pg_ctx *ctx, ctl_status_fn *own, pg_status_emit *emit, void *arg)
{
	ctl_status_sections(ctx, own, NULL, emit, arg);
}

void
ctl_status_sections(const struct pg_ctx *ctx, ctl_status_fn *own,
    void (*section)(void *, const char *), pg_status_emit *emit, void *arg)
{
	size_t i;

	for (i = 0; i < PG_NELEM(ctl_status_rows); i++) {
		if (section != NULL)
			section(arg, ctl_status_rows[i].name);
		if (ctl_status_rows[i].fn != NULL)
			ctl_status_rows[i].fn(ctx, emit, arg);
		else if (own != NULL)
			own(ctx, emit, arg);
	}
}
