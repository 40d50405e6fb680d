/* daemon.c - start-up and shutdown order, the lease timer, batching and saving. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <ifaddrs.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "event.h"
#include "fw/fw.h"
#include "hostnames.h"
#include "history.h"
#include "ipclass.h"
#include "igd/igd.h"
#include "log.h"
#include "mtable.h"
#include "netif.h"
#include "pcp/pcp_server.h"
#include "neigh.h"
#include "pidlock.h"
#include "state.h"
#include "state_health.h"
#include "state_journal.h"
#include "trigger/nflog.h"
#include "trigger/trigger.h"
#include "upstream.h"
#include "util.h"
#include "wanaddr.h"

#define PG_SAVE_DELAY_MS	200	/* a full save waits this long, so a burst makes one */
#define PG_SAVE_RETRY_S		5

static uint64_t
pg_mono_now(void *arg)
{
	(void)arg;
	return util_mono_ms();
}

const struct pg_clock pg_clock_mono = { pg_mono_now, NULL };

static void
pg_arm_lease(struct pg_ctx *ctx)
{
	uint64_t next = mtable_next_expiry(ctx->mt), now = pg_clock_now(&ctx->clock);
	struct timeval tv;

	if (next == 0) {
		evtimer_del(ctx->lease_ev);
		return;
	}
	next = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(next / 1000);
	tv.tv_usec = (suseconds_t)(next % 1000) * 1000;
	evtimer_add(ctx->lease_ev, &tv);
}

/* A full save of the state file soon (or when the retry already set is due). */
static void
pg_save_soon(struct pg_ctx *ctx)
{
	struct timeval tv = { 0, PG_SAVE_DELAY_MS * 1000 };

	if (ctx->save_ev != NULL && !evtimer_pending(ctx->save_ev, NULL))
		evtimer_add(ctx->save_ev, &tv);
}

/*
 * The state file cannot be written: said once (and the recovery once),
 * then a full save is tried every few seconds. A journal that failed is
 * closed: the line it was writing may be cut short, and nothing may follow
 * it; the next full save starts a new one.
 */
static void
pg_state_failed(struct pg_ctx *ctx, const char *err, int journal_too)
{
	struct timeval retry = { PG_SAVE_RETRY_S, 0 };

	if (state_health_failed(&ctx->state_health, ctx->cfg->state_file, err))
		log_warnx("state: cannot save %s: %s; retrying every %d s", ctx->cfg->state_file,
		    err, PG_SAVE_RETRY_S);
	if (journal_too) {
		state_journal_close(ctx->journal);
		ctx->journal = NULL;
	}
	if (ctx->save_ev != NULL)
		evtimer_add(ctx->save_ev, &retry);
}

/*
 * Each change is appended to the state file's journal before the table
 * call that made it returns, so before the front end answers: a delete
 * that was answered stays deleted if the daemon is killed right after.
 * The journal outgrowing the snapshot calls for a full save (compaction).
 */
static void
pg_journal(struct pg_ctx *ctx, enum mt_change what, const struct mt_entry *e)
{
	char err[sizeof(ctx->state_health.error)];

	if (what == MT_CHG_OTHER)
		return;
	if (ctx->journal == NULL)
		pg_save_soon(ctx);	/* the last save failed: the next one takes this in */
	else if (state_journal_append(ctx->journal, ctx->mt, what, e, err, sizeof(err)) == -1)
		pg_state_failed(ctx, err, 1);
	else if (state_journal_full(ctx->journal))
		pg_save_soon(ctx);
}

/* Once per event-loop iteration that changed the table: its journal lines reach the disk. */
static void
pg_journal_sync(struct pg_ctx *ctx)
{
	char err[sizeof(ctx->state_health.error)];
	int rc;

	if (ctx->journal == NULL)
		return;
	if ((rc = state_journal_sync(ctx->journal, err, sizeof(err))) == -1)
		pg_state_failed(ctx, err, 1);
	else if (rc == 1)
		state_health_synced(&ctx->state_health, time(NULL));
}

/* The table's commits run once, at the end of the loop turn that asked for one. */
static void
pg_commit_soon(void *arg)
{
	struct pg_ctx *ctx = arg;

	if (!event_pending(ctx->commit_ev, EV_TIMEOUT, NULL))
		event_active(ctx->commit_ev, EV_TIMEOUT, 0);
}

static int
pg_any_entry(void *arg, struct mt_entry *e)
{
	(void)arg;
	(void)e;
	return 1;
}

/*
 * The change on the event bus: mapping.added, renewed, deleted or expired
 * (PEER pins, outbound flows, are not reported); a trigger's last port
 * closing is trigger.closed.
 */
static void
pg_post_change(struct pg_ctx *ctx, enum mt_change what, const struct mt_entry *e)
{
	static const uint8_t types[] = {
		[MT_CHG_PUT] = EV_MAPPING_RENEWED,	/* an existing one, more than its lease */
		[MT_CHG_LEASE] = EV_MAPPING_RENEWED,
		[MT_CHG_DEL] = EV_MAPPING_DELETED,
		[MT_CHG_OTHER] = EV_NTYPE,
		[MT_CHG_NEW] = EV_MAPPING_ADDED,
		[MT_CHG_EXPIRE] = EV_MAPPING_EXPIRED,
	};
	struct pg_event ev;

	if (e == NULL || e->kind == MT_KIND_PEER || (size_t)what >= PG_NELEM(types) ||
	    types[what] == EV_NTYPE)
		return;
	ev_init(&ev, types[what]);
	ev_set_entry(&ev, e, mtable_remaining(ctx->mt, e));
	evbus_post(ctx->events, &ev);
	if (e->source != MT_SRC_TRIGGER || (what != MT_CHG_DEL && what != MT_CHG_EXPIRE) ||
	    mtable_foreach_owner(ctx->mt, MT_SRC_TRIGGER, e->owner, pg_any_entry, NULL) != 0)
		return;
	ev_init(&ev, EV_TRIGGER_CLOSED);
	ev.has = EVF_RULE | EVF_HOST;
	ev_set_text(ev.rule, sizeof(ev.rule), e->owner);
	ev.host = e->int_addr;
	evbus_post(ctx->events, &ev);
}

static void
pg_table_changed(void *arg, enum mt_change what, const struct mt_entry *e)
{
	struct pg_ctx *ctx = arg;

	pg_post_change(ctx, what, e);
	pg_journal(ctx, what, e);
	pg_commit_soon(ctx);
	pg_arm_lease(ctx);
	igd_table_changed(ctx->igd);
	upstream_table_changed(ctx->up, what, e);
}

/*
 * The end of an iteration that changed the table: one firewall batch, whose
 * waiting answers go out, then one journal sync. The sync is an event of its
 * own, behind the ones the answers activated (UPnP's resumed connections),
 * so no answer waits for the disk.
 */
static void
pg_commit_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct pg_ctx *ctx = arg;

	(void)fd;
	(void)ev;
	mtable_commit(ctx->mt, NULL, NULL);	/* a refused add is rolled back: journaled too */
	event_active(ctx->sync_ev, EV_TIMEOUT, 0);
}

static void
pg_sync_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	pg_journal_sync(arg);
}

static void
pg_lease_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct pg_ctx *ctx = arg;

	(void)fd;
	(void)ev;
	mtable_expire(ctx->mt);
	pg_arm_lease(ctx);
}

/*
 * A full save: the snapshot replaces the file and its journal, and a new
 * journal starts on it. If the snapshot fails the old file and its journal
 * stay, and the journal goes on.
 */
void
pg_save_now(struct pg_ctx *ctx)
{
	char err[sizeof(ctx->state_health.error)];

	if (state_save(ctx->cfg->state_file, ctx->mt, ctx->trig, &ctx->meta, err,
	    sizeof(err)) == -1) {
		pg_state_failed(ctx, err, 0);
		return;
	}
	state_journal_close(ctx->journal);	/* its file is gone: renamed over */
	if ((ctx->journal = state_journal_open(ctx->cfg->state_file, ctx->mt, err,
	    sizeof(err))) == NULL) {
		pg_state_failed(ctx, err, 1);
		return;
	}
	if (state_health_saved(&ctx->state_health, ctx->cfg->state_file, time(NULL)))
		log_warnx("state: %s saved again", ctx->cfg->state_file);
	if (ctx->save_ev != NULL)
		evtimer_del(ctx->save_ev);	/* done: no second snapshot of the same */
}

static void
pg_save_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	pg_save_now(arg);
}

static void
pg_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct pg_ctx *ctx = arg;

	(void)ev;
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s", ctx->cfg->path);
		pg_reload(ctx);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(ctx->base);
}

/* Reinstall the firewall's rules and trigger sets after the config or trigger rules changed. */
static void
pg_fw_rules_changed(struct pg_ctx *ctx)
{
	if (ctx->trig != NULL)		/* trigger ports first: the resync installs them */
		trig_nflog_sync_rules(ctx->nflog, ctx->fw, ctx->trig);
	if (mtable_resync(ctx->mt) == -1)
		log_warnx("firewall: resync failed");
}

static void
pg_fw_lost(void *arg)
{
	struct pg_ctx *ctx = arg;
	struct pg_event ev;

	log_info("firewall: rebuilding portgate's tables from the mapping table (%zu mappings, "
	    "%zu pinholes)", mtable_count(ctx->mt), mtable_pinhole_count(ctx->mt));
	pg_fw_rules_changed(ctx);
	ev_init(&ev, EV_FIREWALL_REPAIRED);
	ev.has = EVF_COUNTS;
	ev.mappings = (uint32_t)mtable_count(ctx->mt);
	ev.pinholes = (uint32_t)mtable_pinhole_count(ctx->mt);
	evbus_post(ctx->events, &ev);
}

/*
 * A trigger's activation or refusal on the event bus; a refusal is also a
 * request.refused (the trigger front end said no to the host's traffic).
 * The holder is whoever has the rule's first port.
 */
static void
pg_post_trigger(struct pg_ctx *ctx, enum trig_change what, const struct trig_rule *r,
    const struct in6_addr *host)
{
	const struct mt_entry *held;
	struct pg_event ev;
	char detail[EV_DETAIL_MAX], a[INET6_ADDRSTRLEN];

	ev_init(&ev, what == TRIG_CHG_ACTIVATED ? EV_TRIGGER_ACTIVATED : EV_TRIGGER_REFUSED);
	ev.has = EVF_RULE | EVF_HOST;
	ev_set_text(ev.rule, sizeof(ev.rule), r->name);
	ev.host = *host;
	held = r->nopen > 0 ? mtable_lookup_ext(ctx->mt, r->open[0].proto, r->open[0].lo) : NULL;
	if (what == TRIG_CHG_REFUSED && held != NULL) {
		ev.has |= EVF_HOLDER;
		ev.holder = held->int_addr;
	}
	evbus_post(ctx->events, &ev);
	if (what != TRIG_CHG_REFUSED)
		return;
	snprintf(detail, sizeof(detail), "trigger %s: its ports are held by %s", r->name,
	    held != NULL ? util_addr_str(&held->int_addr, a, sizeof(a)) : "another host");
	evbus_refused(ctx->events, "trigger", host, r->name, "held_by_another_host", detail);
}

/*
 * A run-time trigger rule came or went (portgatectl): the firewall's trigger
 * sets follow, and the state file keeps the rule set (its journal records
 * only table changes). Activations and refusals go on the event bus.
 */
static void
pg_trigger_changed(void *arg, enum trig_change what, const struct trig_rule *r,
    const struct in6_addr *host)
{
	struct pg_ctx *ctx = arg;

	if ((what == TRIG_CHG_ACTIVATED || what == TRIG_CHG_REFUSED) && host != NULL) {
		pg_post_trigger(ctx, what, r, host);
		return;
	}
	if (what == TRIG_CHG_ENABLED || what == TRIG_CHG_DISABLED) {
		pg_save_now(ctx);	/* the state file keeps a run-time rule's switch */
		return;
	}
	if (what != TRIG_CHG_ADDED && what != TRIG_CHG_DELETED)
		return;
	pg_fw_rules_changed(ctx);
	pg_save_now(ctx);
}

/* The neighbour table changed: the firewall honours each LAN address from its MAC only. */
static void
pg_neigh_changed(void *arg)
{
	struct pg_ctx *ctx = arg;
	const struct neigh_host *h;
	struct fw_host *fh;
	size_t n = neigh_hosts(ctx->neigh, &h), i;

	if (ctx->fw == NULL)
		return;
	fh = xcalloc(n ? n : 1, sizeof(*fh));
	for (i = 0; i < n; i++) {
		fh[i].addr = h[i].addr;
		memcpy(fh[i].mac, h[i].mac, 6);
	}
	if (fw_set_hosts(ctx->fw, fh, n) == -1)
		log_warnx("neigh: the firewall did not take the %zu LAN hosts", n);
	free(fh);
}

/* Limits count per host: its MAC where the neighbour table knows it, else its /64 or address. */
static void
pg_host_key(void *arg, const struct in6_addr *addr, struct in6_addr *key)
{
	struct pg_ctx *ctx = arg;

	neigh_host_key(ctx->neigh, addr, key);
}

/* Follow the LAN interfaces' neighbours (again at reload: the interfaces may change). */
static void
pg_watch_neigh(struct pg_ctx *ctx)
{
	neigh_free(ctx->neigh);
	ctx->neigh = neigh_new(ctx->base, ctx->cfg->lan_interface, ctx->cfg->nlan, &ctx->clock,
	    pg_neigh_changed, ctx);
	hostnames_set_neigh(ctx->hosts, ctx->neigh);
	if (ctx->neigh != NULL)
		pg_neigh_changed(ctx);
}

/* Read the LAN hosts' names from the dhcp_leases files (again at reload: they may change). */
static void
pg_watch_leases(struct pg_ctx *ctx)
{
	hostnames_free(ctx->hosts);
	ctx->hosts = hostnames_new(ctx->base, ctx->cfg->dhcp_leases, ctx->cfg->ndhcp_leases,
	    &ctx->clock);
	hostnames_set_neigh(ctx->hosts, ctx->neigh);
}

/* The LAN subnets of the configured interfaces, shared by the table and the firewall. */
static void
pg_set_netif(struct pg_ctx *ctx)
{
	struct netif *old = ctx->netif;

	ctx->netif = netif_new(ctx->cfg->lan_interface, ctx->cfg->nlan, &ctx->clock);
	if (ctx->cfg->nlan > 0 && netif_refresh(ctx->netif) == 0)
		log_warnx("netif: no lan_interface has an address yet; "
		    "mappings and triggers need a LAN subnet");
	if (ctx->mt != NULL)
		mtable_set_netif(ctx->mt, ctx->netif);
	if (ctx->fw != NULL)
		fw_set_netif(ctx->fw, ctx->netif);
	netif_free(old);
}

static void
pg_find_external_ip(struct pg_config *cfg)
{
	if (cfg->external_ip_fixed || cfg->wan_interface == NULL)
		return;
	cfg->has_external_ip = wanaddr_read(cfg->wan_interface, &cfg->external_ip);
}

/* wan.changed on the event bus: from old (had: 1 if there was one) to the config's now. */
static void
pg_post_wan(struct pg_ctx *ctx, const struct in6_addr *old, int had)
{
	struct pg_event ev;

	ev_init(&ev, EV_WAN_CHANGED);
	if (had) {
		ev.has |= EVF_OLD;
		ev.old_addr = *old;
	}
	if (ctx->cfg->has_external_ip) {
		ev.has |= EVF_NEW;
		ev.new_addr = ctx->cfg->external_ip;
	}
	evbus_post(ctx->events, &ev);
}

/*
 * ctx->cfg's external address is new (it was old, if had): mappings move
 * to it and clients are told.
 */
static void
pg_ext_addr_moved(struct pg_ctx *ctx, const struct in6_addr *old, int had)
{
	struct in6_addr wan;

	ctx->ext_addr_changes++;
	pg_post_wan(ctx, old, had);

	if (ctx->cfg->has_external_ip)
		mtable_set_ext_addr(ctx->mt, &ctx->cfg->external_ip);
	if (wanaddr_read(ctx->cfg->wan_interface, &wan))
		mtable_set_peer_addr(ctx->mt, &wan);	/* pins SNAT to the WAN interface's own */
	igd_ext_addr_changed(ctx->igd);
	pcp_srv_reset_epoch(ctx->pcp);	/* PCP clients re-learn the address from fresh answers */
	pg_save_now(ctx);		/* the new epoch is kept at once (the journal has no record of it) */
}

/*
 * The upstream server gives an external address: UPnP subscribers hear it
 * (ExternalIPAddress); when it moved from one it gave before, PCP and
 * NAT-PMP clients are told to ask again (a new epoch, announced).
 */
static void
pg_public_moved(struct pg_ctx *ctx, int moved)
{
	ctx->ext_addr_changes++;
	igd_ext_addr_changed(ctx->igd);
	if (!moved)
		return;
	pcp_srv_reset_epoch(ctx->pcp);
	pg_save_now(ctx);
}

/* The upstream PCP server, looked for again (start, reload, a new WAN address). */
static void
pg_start_upstream(struct pg_ctx *ctx)
{
	static const struct up_hooks hooks = { pg_public_moved, pg_save_now, NULL, { NULL }, NULL };

	upstream_free(ctx->up);
	ctx->up = upstream_new(ctx, &hooks);
}

/* The WAN address changed (DHCP, PPP). */
static void
pg_wan_changed(void *arg, const struct in6_addr *a, int have)
{
	struct pg_ctx *ctx = arg;
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr old = ctx->cfg->external_ip;
	int had = ctx->cfg->has_external_ip;

	ctx->cfg->has_external_ip = have;
	if (have) {
		ctx->cfg->external_ip = *a;
		log_info("wan: %s now has %s; mappings move to it", ctx->cfg->wan_interface,
		    util_addr_str(a, buf, sizeof(buf)));
	} else
		log_warnx("wan: %s has no IPv4 address now", ctx->cfg->wan_interface);
	pg_ext_addr_moved(ctx, &old, had);
	pg_start_upstream(ctx);		/* its client is bound to the old address */
}

/* PCP and NAT-PMP share UDP 5351: one server while either is on. */
static void
pg_start_pcp(struct pg_ctx *ctx)
{
	int want = ctx->cfg->pcp || ctx->cfg->natpmp;

	if (want && ctx->pcp == NULL && (ctx->pcp = pcp_srv_new(ctx)) == NULL)
		log_warnx("pcp: PCP and NAT-PMP are off: UDP 5351 could not be opened");
	if (!want && ctx->pcp != NULL) {
		pcp_srv_free(ctx->pcp);
		ctx->pcp = NULL;
	}
}

/* Follow the WAN address unless the config fixes it (again at reload: the interface may change). */
static void
pg_watch_wan(struct pg_ctx *ctx)
{
	wanaddr_free(ctx->wan);
	ctx->wan = NULL;
	if (ctx->cfg->external_ip_fixed || ctx->cfg->wan_interface == NULL)
		return;
	ctx->wan = wanaddr_new(ctx->base, ctx->cfg->wan_interface, pg_wan_changed, ctx);
}

/* Rules that all name IPv4 prefixes leave IPv6 pinholes unrestricted: say so. */
static void
pg_warn_v4_only_policy(const struct pg_config *cfg)
{
	size_t i;

	if (cfg->policy.n == 0)
		return;
	for (i = 0; i < cfg->policy.n; i++)
		if (!util_addr_is_v4(&cfg->policy.rules[i].addr))
			return;
	log_warnx("config: every allow/deny rule is IPv4, so none restricts IPv6 pinholes; "
	    "add e.g. 'deny 1-65535 ::/0 1-65535'");
}

static void
pg_apply_limits(struct pg_ctx *ctx)
{
	pg_warn_v4_only_policy(ctx->cfg);
	mtable_set_policy(ctx->mt, &ctx->cfg->policy);
	mtable_set_limits(ctx->mt, ctx->cfg->max_mappings_per_client, ctx->cfg->max_lease);
}

/*
 * Config trigger rules, after the run-time ones (state file at start-up,
 * the running set at reload): on both paths a run-time rule wins over a
 * config rule that overlaps it, which is then not loaded (and logged).
 */
static void
pg_apply_triggers(struct pg_ctx *ctx)
{
	trigger_set_config_rules(ctx->trig, ctx->cfg->triggers, ctx->cfg->ntriggers);
}

#define PG_CONF_OWNER	"config"

static int
pg_conf_has_pinhole(const struct pg_config *cfg, const struct mt_entry *e)
{
	size_t i;

	for (i = 0; i < cfg->npinholes; i++) {
		const struct conf_pinhole *c = &cfg->pinholes[i];

		if (c->proto == e->proto && c->port == e->int_port &&
		    memcmp(&c->addr, &e->int_addr, sizeof(c->addr)) == 0 &&
		    memcmp(&c->remote, &e->remote, sizeof(c->remote)) == 0)
			return 1;
	}
	return 0;
}

/*
 * Config pinholes are static, permanent and owned by "config": the ones no
 * longer in the file close, the file's open (or stay open). A run-time
 * pinhole on the same key keeps it, and the config one is logged.
 */
static void
pg_apply_pinholes(struct pg_ctx *ctx)
{
	struct mt_entry *e, *next;
	const struct mt_entry *held = NULL;
	struct mt_pin_req q;
	char a[INET6_ADDRSTRLEN];
	enum mt_err err;
	size_t i;

	for (e = mtable_pinhole_next(ctx->mt, NULL); e != NULL; e = next) {
		next = mtable_pinhole_next(ctx->mt, e);
		if (e->source == MT_SRC_STATIC && strcmp(e->owner, PG_CONF_OWNER) == 0 &&
		    !pg_conf_has_pinhole(ctx->cfg, e))
			mtable_del(ctx->mt, e);
	}
	for (i = 0; i < ctx->cfg->npinholes; i++) {
		const struct conf_pinhole *c = &ctx->cfg->pinholes[i];

		memset(&q, 0, sizeof(q));
		q.proto = c->proto;
		q.source = MT_SRC_STATIC;
		q.int_addr = c->addr;
		q.int_port = c->port;
		q.remote = c->remote;
		q.desc = c->desc;
		q.owner = PG_CONF_OWNER;
		if ((err = mtable_pinhole_add(ctx->mt, &q, NULL, &held)) != MT_OK)
			log_warnx("config: pinhole %s [%s]:%u not opened: %s",
			    mt_proto_name(c->proto), util_addr_str(&c->addr, a, sizeof(a)),
			    c->port, mt_strerror(err));
	}
}

/*
 * The daemon's own status: its version, how long it runs, its firewall, its
 * external address and whether the internet reaches its inbound mappings.
 */
static void
pg_status(const struct pg_ctx *ctx, pg_status_emit *emit, void *arg)
{
	char a[INET6_ADDRSTRLEN] = "none";

	if (ctx->cfg->has_external_ip)
		util_addr_str(&ctx->cfg->external_ip, a, sizeof(a));
	emit(arg, "version", "%s", PACKAGE_VERSION);
	emit(arg, "uptime", "%lld", (long long)(time(NULL) - ctx->started));
	emit(arg, "firewall", "%s", ctx->cfg->firewall);
	emit(arg, "external_ip", "%s", a);
	/* whether the internet can reach it: the panel's verdict, the check's first step */
	emit(arg, "external_ip_class", "%s", ctx->cfg->has_external_ip ?
	    ipclass_name(ipclass_of(&ctx->cfg->external_ip, NULL)) : "none");
	/* and what that means for inbound mappings: an upstream PCP server maps them */
	emit(arg, "inbound_reachability", "%s", ipclass_reach_name(ipclass_reach(
	    ctx->cfg->has_external_ip ? &ctx->cfg->external_ip : NULL, upstream_up(ctx->up))));
}

static const struct ctl_hooks pg_ctl_hooks = { pg_status };

/*
 * A minute's sample for the panel's charts: the table's counts and the
 * firewall's inbound total (none where it does not count: firewall = none).
 */
static void
pg_history_sample(struct pg_ctx *ctx)
{
	struct history_sample s;
	uint64_t bytes;
	int src;

	memset(&s, 0, sizeof(s));
	s.time = (int64_t)time(NULL);
	for (src = 0; src < MT_NSOURCE; src++)
		s.mappings[src] = (uint32_t)mtable_count_source(ctx->mt, src);
	s.pinholes = (uint32_t)mtable_pinhole_count(ctx->mt);
	s.has_total = fw_inbound(ctx->fw, &s.inbound_total, &bytes) == 0;
	history_add(&ctx->history, &s);
}

static void
pg_history_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	pg_history_sample(arg);
}

/*
 * Seconds between history samples: HISTORY_INTERVAL_S, or what the
 * environment's PORTGATE_TEST_HISTORY_INTERVAL says (1 to 60), a knob for
 * tests that cannot wait minutes, not a setting.
 */
static unsigned
pg_history_interval(void)
{
	const char *v = getenv("PORTGATE_TEST_HISTORY_INTERVAL");
	unsigned long s;
	char *end;

	if (v == NULL || *v == '\0')
		return HISTORY_INTERVAL_S;
	errno = 0;
	s = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || s == 0 || s > HISTORY_INTERVAL_S) {
		log_warnx("PORTGATE_TEST_HISTORY_INTERVAL: '%s' is not 1-%d seconds; ignored", v,
		    HISTORY_INTERVAL_S);
		return HISTORY_INTERVAL_S;
	}
	log_info("history: a sample every %lu s (PORTGATE_TEST_HISTORY_INTERVAL)", s);
	return (unsigned)s;
}

/* The history starts with a sample now, then one every interval. */
static int
pg_start_history(struct pg_ctx *ctx)
{
	struct timeval tv = { 0, 0 };

	history_init(&ctx->history, pg_history_interval());
	tv.tv_sec = ctx->history.interval_s;
	pg_history_sample(ctx);
	if ((ctx->history_ev = event_new(ctx->base, -1, EV_PERSIST, pg_history_cb, ctx)) == NULL)
		return -1;
	return event_add(ctx->history_ev, &tv);
}

static int
pg_start_events(struct pg_ctx *ctx)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	size_t i;

	ctx->commit_ev = event_new(ctx->base, -1, 0, pg_commit_cb, ctx);
	ctx->sync_ev = event_new(ctx->base, -1, 0, pg_sync_cb, ctx);
	ctx->lease_ev = evtimer_new(ctx->base, pg_lease_cb, ctx);
	ctx->save_ev = evtimer_new(ctx->base, pg_save_cb, ctx);
	for (i = 0; i < 3; i++) {
		ctx->sig_ev[i] = evsignal_new(ctx->base, sigs[i], pg_signal_cb, ctx);
		if (ctx->sig_ev[i] == NULL || evsignal_add(ctx->sig_ev[i], NULL) == -1)
			return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return ctx->commit_ev && ctx->sync_ev && ctx->lease_ev && ctx->save_ev ? 0 : -1;
}

/*
 * Everything that needs root is open: the account takes over (user,
 * group), keeping CAP_NET_ADMIN (priv.c says why), before the first state
 * save, so every file it writes from now on is its own. The control socket
 * is given to it (root and its group may connect); the state file's
 * directory must be its to write in.
 */
static int
pg_drop_privileges(struct pg_ctx *ctx)
{
	const struct priv_account *a = &ctx->account;
	char why[256], dir[PATH_MAX], caps[64], *slash;
	uint64_t keep = priv_caps(ctx->cfg);

	if (!a->drop)
		return 0;
	/* the state lock too (made now, as root): a later start as the account reopens it */
	snprintf(dir, sizeof(dir), "%s.lock", ctx->cfg->state_file);
	if (access(dir, F_OK) == 0 && priv_give(a, dir, 0600, why, sizeof(why)) == -1)
		log_warnx("user %s: %s", a->user, why);
	if (priv_give(a, ctx->cfg->control_socket, 0660, why, sizeof(why)) == -1 ||
	    priv_drop(a, keep, why, sizeof(why)) == -1) {
		log_warnx("user %s: %s", a->user, why);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", ctx->cfg->state_file);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (access(dir, W_OK | X_OK) == -1) {
		log_warnx("state_file: its directory %s is not writable by user %s: the state "
		    "could not be kept (make it %s's, as StateDirectory= or the package does)",
		    dir, a->user, a->user);
		return -1;
	}
	log_info("running as user %s, group %s, with %s only", a->user, a->group,
	    priv_caps_str(keep, caps, sizeof(caps)));
	return 0;
}

int
pg_start(struct pg_ctx *ctx)
{
	size_t n;
	char why[256];

	ctx->started = time(NULL);
	state_health_init(&ctx->state_health, ctx->cfg->state_file);
	if (ctx->clock.now_ms == NULL)
		ctx->clock = pg_clock_mono;
	if (priv_lookup(ctx->cfg, &ctx->account, why, sizeof(why)) == -1) {
		log_warnx("%s", why);
		return -1;
	}
	/* before anything is touched: another instance's kernel state and files are its own */
	if ((ctx->lock = pidlock_take(fw_backend_in_kernel(ctx->cfg->firewall) ?
	    ctx->cfg->nft_table : NULL, ctx->cfg->state_file,
	    why, sizeof(why))) == NULL) {
		log_warnx("%s", why);
		return -1;
	}
	pg_find_external_ip(ctx->cfg);
	if ((ctx->events = evbus_new(EV_RING_DEFAULT, NULL)) == NULL) {
		log_warnx("pg_start: no memory for the event bus");
		return -1;
	}
	if (pg_start_events(ctx) == -1) {
		log_warnx("pg_start: cannot set up events");
		return -1;
	}
	pg_set_netif(ctx);
	if ((ctx->fw = fw_new(ctx->cfg->firewall, ctx->cfg, ctx->base)) == NULL) {
		log_warnx("pg_start: unknown firewall backend '%s'", ctx->cfg->firewall);
		return -1;
	}
	fw_set_netif(ctx->fw, ctx->netif);
	if (fw_init(ctx->fw) == -1) {
		log_warnx("pg_start: firewall backend '%s' failed to start", ctx->cfg->firewall);
		return -1;
	}
	fw_set_lost_cb(ctx->fw, pg_fw_lost, ctx);
	pg_watch_neigh(ctx);
	pg_watch_leases(ctx);
	ctx->mt = mtable_new(ctx->fw, &ctx->clock);
	mtable_set_netif(ctx->mt, ctx->netif);
	mtable_set_host_key(ctx->mt, pg_host_key, ctx);
	ctx->trig = trigger_new(ctx->mt);
	pg_apply_limits(ctx);
	n = state_load(ctx->cfg->state_file, ctx->mt, ctx->trig, &ctx->meta);
	log_info("restored %zu mappings from %s", n, ctx->cfg->state_file);
	pg_apply_triggers(ctx);
	pg_apply_pinholes(ctx);
	mtable_set_notify(ctx->mt, pg_table_changed, ctx);
	mtable_set_commit_sched(ctx->mt, pg_commit_soon, ctx);
	trigger_set_notify(ctx->trig, pg_trigger_changed, ctx);
	if ((ctx->nflog = trig_nflog_new(ctx)) == NULL && fw_has(ctx->fw, FW_CAP_NFLOG))
		return -1;
	if (ctx->trig != NULL)
		trig_nflog_sync_rules(ctx->nflog, ctx->fw, ctx->trig);
	if (mtable_resync(ctx->mt) == -1) {
		log_warnx("pg_start: cannot install the firewall state");
		return -1;
	}
	pg_arm_lease(ctx);
	if (pg_start_history(ctx) == -1) {
		log_warnx("pg_start: cannot set up the history timer");
		return -1;
	}
	if ((ctx->ctl = ctl_new(ctx, &pg_ctl_hooks)) == NULL)
		return -1;
	pg_watch_wan(ctx);
	if (igd_init(ctx) == -1)
		return -1;
	pg_start_pcp(ctx);
	pg_start_upstream(ctx);
	if (admin_init(ctx, &pg_ctl_hooks) == -1)
		return -1;
	if (pg_drop_privileges(ctx) == -1)
		return -1;
	pg_save_now(ctx);	/* a new device UUID and epoch are kept at once */
	log_info("portgated %s started (firewall %s, %zu mappings)", PACKAGE_VERSION,
	    ctx->cfg->firewall, mtable_count(ctx->mt));
	return 0;
}

void
pg_stop(struct pg_ctx *ctx)
{
	size_t i;

	if (ctx->mt != NULL)
		mtable_commit(ctx->mt, NULL, NULL);	/* answers waiting for this turn's batch go out */
	upstream_free(ctx->up);
	ctx->up = NULL;
	pcp_srv_free(ctx->pcp);
	ctx->pcp = NULL;
	admin_shutdown(ctx);
	igd_shutdown(ctx);
	wanaddr_free(ctx->wan);
	ctx->wan = NULL;
	ctl_free(ctx->ctl);
	if (ctx->mt != NULL) {
		mtable_commit(ctx->mt, NULL, NULL);
		pg_save_now(ctx);
	}
	state_journal_close(ctx->journal);
	ctx->journal = NULL;
	trig_nflog_free(ctx->nflog);
	trigger_free(ctx->trig);
	mtable_free(ctx->mt);
	hostnames_free(ctx->hosts);
	ctx->hosts = NULL;
	neigh_free(ctx->neigh);
	ctx->neigh = NULL;
	fw_free(ctx->fw);
	netif_free(ctx->netif);
	pidlock_release(ctx->lock);
	for (i = 0; i < 3; i++)
		if (ctx->sig_ev[i] != NULL)
			event_free(ctx->sig_ev[i]);
	if (ctx->commit_ev)
		event_free(ctx->commit_ev);
	if (ctx->sync_ev)
		event_free(ctx->sync_ev);
	if (ctx->lease_ev)
		event_free(ctx->lease_ev);
	if (ctx->save_ev)
		event_free(ctx->save_ev);
	if (ctx->history_ev)
		event_free(ctx->history_ev);
	evbus_free(ctx->events);	/* last: every subscriber (ctl's watchers) has gone */
	ctx->events = NULL;
	log_info("portgated stopped");
}

static void
pg_keep_fixed(struct pg_config *old, struct pg_config *new)
{
	static const size_t offs[] = {
		offsetof(struct pg_config, firewall),
		offsetof(struct pg_config, state_file),
		offsetof(struct pg_config, control_socket),
		offsetof(struct pg_config, nft_table),
	};
	static const char *const names[] = { "firewall", "state_file", "control_socket",
	    "nft_table" };
	char **o, **n, *t;
	size_t i;

	for (i = 0; i < PG_NELEM(offs); i++) {
		o = (char **)(void *)((char *)old + offs[i]);
		n = (char **)(void *)((char *)new + offs[i]);
		if (strcmp(*o, *n) == 0)
			continue;
		log_warnx("reload: %s changed; it takes effect at the next restart", names[i]);
		t = *o;
		*o = *n;
		*n = t;
	}
	/* the NFLOG socket is bound to its group at start-up: rules must keep reporting there */
	if (old->nflog_group != new->nflog_group) {
		log_warnx("reload: nflog_group changed; it takes effect at the next restart");
		new->nflog_group = old->nflog_group;
	}
}

int
pg_reload(struct pg_ctx *ctx)
{
	struct pg_config *cfg = conf_load(ctx->cfg->path, conf_err_log, NULL);
	char buf[INET6_ADDRSTRLEN], uuid[sizeof(ctx->meta.uuid)];
	struct in6_addr old;
	int moved, had;

	if (cfg == NULL) {
		log_warnx("reload: %s has errors; keeping the running configuration",
		    ctx->cfg->path);
		return -1;
	}
	pg_keep_fixed(ctx->cfg, cfg);
	pg_find_external_ip(cfg);
	/* external_ip edited (or no longer fixed): as if the WAN address had changed */
	moved = cfg->has_external_ip != ctx->cfg->has_external_ip || (cfg->has_external_ip &&
	    memcmp(&cfg->external_ip, &ctx->cfg->external_ip, sizeof(cfg->external_ip)) != 0);
	old = ctx->cfg->external_ip;
	had = ctx->cfg->has_external_ip;
	conf_free(ctx->cfg);
	ctx->cfg = cfg;
	fw_set_config(ctx->fw, cfg);
	pg_set_netif(ctx);
	pg_apply_limits(ctx);
	pg_apply_triggers(ctx);
	pg_apply_pinholes(ctx);
	pg_watch_neigh(ctx);	/* before the rebuild: it installs the hosts */
	pg_watch_leases(ctx);
	pg_fw_rules_changed(ctx);
	pg_watch_wan(ctx);
	memcpy(uuid, ctx->meta.uuid, sizeof(uuid));
	igd_reload(ctx);
	if (strcmp(uuid, ctx->meta.uuid) != 0)
		pg_save_now(ctx);	/* UPnP turned on: its new device UUID is kept at once */
	pg_start_pcp(ctx);
	pg_start_upstream(ctx);
	admin_reload(ctx, &pg_ctl_hooks);
	if (moved) {
		log_info("reload: the external address is %s now; mappings move to it",
		    cfg->has_external_ip ? util_addr_str(&cfg->external_ip, buf, sizeof(buf)) :
		    "unknown");
		pg_ext_addr_moved(ctx, &old, had);
	}
	ctx->reloads++;
	log_info("reload: configuration applied");
	return 0;
}
