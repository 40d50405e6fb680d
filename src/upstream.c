/*
 * upstream.c - the upstream PCP server, as the daemon sees it.
 *
 * At start-up (and at reload, and when the WAN address moves) the servers
 * to ask come from pcpc_select (upstream_pcp: the configured one, or in
 * auto the DHCP option's file, else the WAN's default gateway); the first
 * one's addresses go to a client (pcp_client) bound to the WAN interface's
 * address, which asks with an ANNOUNCE request whether a PCP server is
 * there. RFC 6887 has no request made for probing; an ANNOUNCE request is
 * the only one that asks for no state: the server checks the client address
 * and answers with its epoch (§14.1.1), nothing is mapped, nothing is left
 * to expire. (A MAP of a harmless port, even a short one, leaves a mapping
 * until its lifetime ends, and servers raise short lifetimes.) No answer is
 * not an error: the daemon works as it does without an upstream, and says
 * what that means for the WAN address it has.
 */
#include "config.h"

#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "ipclass.h"
#include "log.h"
#include "pcp/pcp_client.h"
#include "pcp/pcpc_select.h"
#include "upstream.h"
#include "util.h"
#include "wanaddr.h"

struct upstream {
	struct pg_ctx		*ctx;
	struct pcpc		*c;		/* NULL: nothing to ask (reason) */
	struct pcpc_server	 server;	/* the one asked */
	size_t			 nservers;	/* found, in order; the first is asked */
	struct in6_addr		 local;		/* the WAN interface's address */
	char			 reason[96];
};

static const char *
up_server_str(const struct upstream *u, char *buf, size_t len)
{
	struct in6_addr a;

	pcpc_server_addr(u->c, &a);
	return util_addr_str(&a, buf, len);
}

/* What no upstream server means for the WAN address (ipclass): said once. */
static void
up_say_none(const struct upstream *u, const char *why)
{
	char a[INET6_ADDRSTRLEN];
	enum ipclass k = ipclass_of(&u->local, NULL);

	if (k == IPCLASS_NOT_V4)
		log_info("upstream PCP: %s", why);
	else if (k == IPCLASS_PUBLIC)
		log_info("upstream PCP: %s; the WAN address %s is public: nothing is needed", why,
		    util_addr_str(&u->local, a, sizeof(a)));
	else
		log_info("upstream PCP: %s; the WAN address %s is %s: inbound mappings are "
		    "not reachable from the internet unless the network in front forwards them",
		    why, util_addr_str(&u->local, a, sizeof(a)), ipclass_what(k));
}

static void
up_event(void *arg, struct pcpc *c, enum pcpc_event ev)
{
	struct upstream *u = arg;
	char s[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN], why[128];
	struct in6_addr a;

	up_server_str(u, s, sizeof(s));
	switch (ev) {
	case PCPC_EV_UP:
		log_info("upstream PCP: %s answers", s);
		break;
	case PCPC_EV_NONE:
		snprintf(why, sizeof(why), "no answer from %s (%s)", s,
		    pcpc_source_name(u->server.source));
		up_say_none(u, why);
		break;
	case PCPC_EV_LOST:
		log_warnx("upstream PCP: %s stopped answering; asking again with back-off", s);
		break;
	case PCPC_EV_RESTART:
		log_info("upstream PCP: %s lost its mappings (epoch)", s);
		break;
	case PCPC_EV_EXT_ADDR:
		if (pcpc_ext_addr(c, &a))
			log_info("upstream PCP: the external address %s gives is %s", s,
			    util_addr_str(&a, e, sizeof(e)));
		break;
	}
}

/* The client for the first server found; 0, or -1 with the reason. */
static int
up_start(struct upstream *u)
{
	const struct pg_config *cfg = u->ctx->cfg;
	struct pcpc_server sv[PCPC_SELECT_MAX];
	struct pcpc_params p;
	char a[INET6_ADDRSTRLEN];
	size_t i;

	if (!wanaddr_read(cfg->wan_interface, &u->local)) {
		snprintf(u->reason, sizeof(u->reason), "%s has no IPv4 address",
		    cfg->wan_interface);
		return -1;
	}
	u->nservers = pcpc_select_servers(cfg->upstream_pcp == CONF_UPSTREAM_ADDR ?
	    &cfg->upstream_pcp_addr : NULL, cfg->upstream_pcp_file, cfg->wan_interface, sv,
	    PG_NELEM(sv));
	if (u->nservers == 0) {
		snprintf(u->reason, sizeof(u->reason), "no server to ask (%s has no default "
		    "gateway%s)", cfg->wan_interface, cfg->upstream_pcp_file != NULL ?
		    ", upstream_pcp_file names none" : "");
		return -1;
	}
	u->server = sv[0];
	for (i = 1; i < u->nservers; i++)	/* RFC 7488 §4: one server for now */
		log_info("upstream PCP: %s (%s) is not asked: only the first server is",
		    util_addr_str(&sv[i].addr[0], a, sizeof(a)), pcpc_source_name(sv[i].source));
	memset(&p, 0, sizeof(p));
	p.local = u->local;
	memcpy(p.server, u->server.addr, sizeof(p.server));
	p.nserver = u->server.naddr;
	p.ifindex = if_nametoindex(cfg->wan_interface);
	p.max_mappings = cfg->upstream_max_mappings;
	p.clock = &u->ctx->clock;
	p.event = up_event;
	p.event_arg = u;
	if ((u->c = pcpc_new(u->ctx->base, &p)) == NULL) {
		snprintf(u->reason, sizeof(u->reason), "the client could not start");
		return -1;
	}
	log_info("upstream PCP: asking %s (%s) whether it is a PCP server",
	    util_addr_str(&u->server.addr[0], a, sizeof(a)), pcpc_source_name(u->server.source));
	pcpc_probe(u->c);
	return 0;
}

struct upstream *
upstream_new(struct pg_ctx *ctx)
{
	const struct pg_config *cfg = ctx->cfg;
	struct upstream *u;

	if (cfg->upstream_pcp == CONF_UPSTREAM_OFF)
		return NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		log_warn("upstream");
		return NULL;
	}
	u->ctx = ctx;
	if (cfg->wan_interface == NULL)
		snprintf(u->reason, sizeof(u->reason), "no wan_interface");
	else if (up_start(u) == -1)
		up_say_none(u, u->reason);
	return u;
}

void
upstream_free(struct upstream *u)
{
	if (u == NULL)
		return;
	pcpc_free(u->c);
	free(u);
}

void
upstream_status(const struct upstream *u, const struct pg_ctx *ctx, pg_status_emit *emit,
    void *arg)
{
	char a[INET6_ADDRSTRLEN];

	emit(arg, "upstream_pcp", "%s", conf_upstream_name(ctx->cfg, a, sizeof(a)));
	if (u == NULL)
		return;
	if (u->c == NULL) {
		emit(arg, "upstream_pcp_state", "none");
		emit(arg, "upstream_pcp_reason", "%s", u->reason);
		return;
	}
	emit(arg, "upstream_pcp_source", "%s", pcpc_source_name(u->server.source));
	pcpc_status(u->c, emit, arg);
}
