/*
 * trigger.c - port triggering on top of the mapping table.
 *
 * A rule's open ranges become "trigger" entries in the shared table, owned by
 * the rule's name, with the idle time as their lease: the table's lease clock
 * closes them, conflicts with explicit mappings are the table's conflicts,
 * and whether a rule is active (and for whom) is read from the table, never
 * kept twice.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mtable.h"
#include "trigger/trigger.h"
#include "util.h"

struct trig_state {
	struct trig_rule rule;
	int		 runtime;
	int		 disabled;	/* its traffic opens nothing (trigger_set_enabled) */
	int		 has_refused;
	struct in6_addr	 last_refused;
	uint64_t	 refused_ms;
	unsigned	 refusals;
};

struct trigger {
	struct mtable		*mt;
	struct trig_state	*rules;
	size_t			 n;
	uint64_t		 bad_sources;	/* notifications from non-LAN sources */
	uint64_t		 activations;	/* rules opened for a host */
	uint64_t		 refusals;	/* trigger traffic refused: another host holds it */
	struct log_limit	 loglim;	/* refusals: bounded for all hosts together */
	trig_notify_cb		*notify;
	void			*notify_arg;
};

/* Log lines that LAN traffic can cause: at most this many per window, all hosts together. */
#define TRIG_LOG_WINDOW_MS	10000
#define TRIG_LOG_BURST		10

struct trigger *
trigger_new(struct mtable *mt)
{
	struct trigger *t = xcalloc(1, sizeof(*t));

	t->mt = mt;
	log_limit_init(&t->loglim, TRIG_LOG_WINDOW_MS, TRIG_LOG_BURST);
	return t;
}

void
trigger_free(struct trigger *t)
{
	if (t == NULL)
		return;
	free(t->rules);
	free(t);
}

size_t
trigger_count(const struct trigger *t)
{
	return t->n;
}

uint64_t
trigger_bad_sources(const struct trigger *t)
{
	return t->bad_sources;
}

void
trigger_set_notify(struct trigger *t, trig_notify_cb *cb, void *arg)
{
	t->notify = cb;
	t->notify_arg = arg;
}

static void
trig_notify(struct trigger *t, enum trig_change what, const struct trig_rule *r,
    const struct in6_addr *host)
{
	if (t->notify != NULL)
		t->notify(t->notify_arg, what, r, host);
}

static int
trig_del_visit(void *arg, struct mt_entry *e)
{
	mtable_del(arg, e);
	return 0;
}

static void
trig_close(struct trigger *t, const char *name)
{
	mtable_foreach_owner(t->mt, MT_SRC_TRIGGER, name, trig_del_visit, t->mt);
}

static void
trig_remove_at(struct trigger *t, size_t i)
{
	trig_close(t, t->rules[i].rule.name);
	memmove(&t->rules[i], &t->rules[i + 1], (t->n - i - 1) * sizeof(*t->rules));
	t->n--;
}

int
trigger_add_rule(struct trigger *t, const struct trig_rule *r, int runtime, char *err,
    size_t errlen)
{
	struct trig_state *n;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (trig_rule_overlap(&t->rules[i].rule, r, err, errlen))
			return -1;
	if ((n = reallocarray(t->rules, t->n + 1, sizeof(*n))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->rules = n;
	memset(&t->rules[t->n], 0, sizeof(*t->rules));
	t->rules[t->n].rule = *r;
	t->rules[t->n].runtime = runtime;
	t->n++;
	if (runtime)
		trig_notify(t, TRIG_CHG_ADDED, r, NULL);
	return 0;
}

void
trigger_set_config_rules(struct trigger *t, const struct trig_rule *r, size_t n)
{
	char err[160];
	size_t i, j;
	int keep;

	/* drop config rules that are gone or changed; unchanged ones keep their state */
	for (i = t->n; i-- > 0;) {
		if (t->rules[i].runtime)
			continue;
		for (keep = 0, j = 0; j < n && !keep; j++)
			keep = memcmp(&t->rules[i].rule, &r[j], sizeof(r[j])) == 0;
		if (!keep)
			trig_remove_at(t, i);
	}
	for (j = 0; j < n; j++) {
		for (keep = 0, i = 0; i < t->n && !keep; i++)
			keep = !t->rules[i].runtime &&
			    memcmp(&t->rules[i].rule, &r[j], sizeof(r[j])) == 0;
		if (!keep && trigger_add_rule(t, &r[j], 0, err, sizeof(err)) == -1)
			log_warnx("trigger: config rule %s not loaded: %s (a run-time rule wins; "
			    "remove it with portgatectl trigger del to use the config rule)",
			    r[j].name, err);
	}
}

int
trigger_del_rule(struct trigger *t, const char *name, char *err, size_t errlen)
{
	struct trig_rule gone;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->rules[i].rule.name, name) != 0)
			continue;
		if (!t->rules[i].runtime) {
			snprintf(err, errlen, "trigger rule %s comes from the config file; "
			    "remove it there and reload", name);
			return -2;
		}
		gone = t->rules[i].rule;
		trig_remove_at(t, i);
		trig_notify(t, TRIG_CHG_DELETED, &gone, NULL);
		return 0;
	}
	snprintf(err, errlen, "no trigger rule named %s", name);
	return -1;
}

int
trigger_set_enabled(struct trigger *t, const char *name, int on, char *err, size_t errlen)
{
	struct trig_state *s;
	size_t i;

	for (i = 0; i < t->n && strcmp(t->rules[i].rule.name, name) != 0; i++)
		;
	if (i == t->n) {
		snprintf(err, errlen, "no trigger rule named %s", name);
		return -1;
	}
	s = &t->rules[i];
	if (s->disabled == !on)
		return 0;
	s->disabled = !on;
	if (!on)
		trig_close(t, name);	/* the host holding it loses the ports now */
	trig_notify(t, on ? TRIG_CHG_ENABLED : TRIG_CHG_DISABLED, &s->rule, NULL);
	return 0;
}

int
trigger_rule_enabled(const struct trigger *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->rules[i].rule.name, name) == 0)
			return !t->rules[i].disabled;
	return 0;
}

size_t
trigger_foreach_runtime(const struct trigger *t, trig_rule_cb *cb, void *arg)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		if (t->rules[i].runtime) {
			cb(arg, &t->rules[i].rule);
			n++;
		}
	return n;
}

void
trigger_foreach_rule(const struct trigger *t, trig_rule_cb *cb, void *arg)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		cb(arg, &t->rules[i].rule);
}

static int
trig_first_visit(void *arg, struct mt_entry *e)
{
	*(struct mt_entry **)arg = e;
	return 1;
}

/* The rule's first active entry (all share holder and lease), or NULL. */
static struct mt_entry *
trig_holder(const struct trigger *t, const struct trig_state *s)
{
	struct mt_entry *e = NULL;

	mtable_foreach_owner(t->mt, MT_SRC_TRIGGER, s->rule.name, trig_first_visit, &e);
	return e;
}

void
trigger_foreach_status(const struct trigger *t, trig_status_cb *cb, void *arg)
{
	const struct trig_state *s;
	struct trig_status st;
	struct mt_entry *e;
	uint64_t now = mtable_now(t->mt);
	size_t i;

	for (i = 0; i < t->n; i++) {
		s = &t->rules[i];
		memset(&st, 0, sizeof(st));
		st.runtime = s->runtime;
		st.disabled = s->disabled;
		if ((e = trig_holder(t, s)) != NULL) {
			st.active = 1;
			st.holder = e->int_addr;
			st.closes_in = mtable_remaining(t->mt, e);
		}
		st.has_refused = s->has_refused;
		st.last_refused = s->last_refused;
		st.refused_ago = s->has_refused ? (long)((now - s->refused_ms) / 1000) : 0;
		st.refusals = s->refusals;
		cb(arg, &s->rule, &st);
	}
}

static struct trig_state *
trig_find_trigger(struct trigger *t, int proto, uint16_t port)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct trig_range *r = &t->rules[i].rule.trigger;

		if (r->proto == proto && port >= r->lo && port <= r->hi)
			return &t->rules[i];
	}
	return NULL;
}

struct trig_refresh {
	struct mtable	*mt;
	uint32_t	 idle;
};

static int
trig_refresh_visit(void *arg, struct mt_entry *e)
{
	struct trig_refresh *r = arg;

	mtable_renew(r->mt, e, r->idle);
	return 0;
}

static void
trig_refresh(struct trigger *t, const struct trig_state *s)
{
	struct trig_refresh r = { t->mt, s->rule.idle };

	mtable_foreach_owner(t->mt, MT_SRC_TRIGGER, s->rule.name, trig_refresh_visit, &r);
}

static void
trig_activate(struct trigger *t, struct trig_state *s, const struct in6_addr *host)
{
	const struct mt_entry *conflict = NULL;
	struct mt_request q;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	enum mt_err err;
	size_t i;

	for (i = 0; i < s->rule.nopen; i++) {
		memset(&q, 0, sizeof(q));
		q.proto = s->rule.open[i].proto;
		q.source = MT_SRC_TRIGGER;
		q.ext_port = s->rule.open[i].lo;
		q.ext_port_end = s->rule.open[i].hi;
		q.int_addr = *host;
		q.lease_s = s->rule.idle;
		q.desc = s->rule.name;
		q.owner = s->rule.name;
		if ((err = mtable_add(t->mt, &q, NULL, &conflict)) == MT_OK)
			continue;
		if (!log_limit_pass(&t->loglim, mtable_now(t->mt)))
			;	/* too many lately: counted, not logged */
		else if (err == MT_ERR_CONFLICT && conflict != NULL)
			log_warnx("trigger %s: not opened for %s: %s %u is held by %s (%s)",
			    s->rule.name, util_addr_str(host, a, sizeof(a)),
			    mt_proto_name(conflict->proto), conflict->ext_port,
			    util_addr_str(&conflict->int_addr, b, sizeof(b)),
			    mt_source_name(conflict->source));
		else
			log_warnx("trigger %s: not opened for %s: %s", s->rule.name,
			    util_addr_str(host, a, sizeof(a)), mt_strerror(err));
		trig_close(t, s->rule.name);	/* all ranges or none */
		return;
	}
	log_info("trigger %s: opened for %s for %us idle", s->rule.name,
	    util_addr_str(host, a, sizeof(a)), s->rule.idle);
	t->activations++;
	trig_notify(t, TRIG_CHG_ACTIVATED, &s->rule, host);
}

void
trigger_outbound(struct trigger *t, int proto, uint16_t port, const struct in6_addr *host)
{
	struct trig_state *s;
	struct mt_entry *e;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	char why[160];

	if ((s = trig_find_trigger(t, proto, port)) == NULL || s->disabled)
		return;
	/* the kernel rule only passes LAN sources; check again, the table would refuse anyway */
	if (!mtable_client_ok(t->mt, host, why, sizeof(why))) {
		t->bad_sources++;
		if (log_limit_pass(&t->loglim, mtable_now(t->mt)))
			log_warnx("trigger %s: ignored traffic: %s", s->rule.name, why);
		return;
	}
	if ((e = trig_holder(t, s)) == NULL) {
		trig_activate(t, s, host);
		return;
	}
	if (memcmp(&e->int_addr, host, sizeof(*host)) == 0) {
		trig_refresh(t, s);
		return;
	}
	if ((!s->has_refused || memcmp(&s->last_refused, host, sizeof(*host)) != 0 ||
	    mtable_now(t->mt) - s->refused_ms > 10000) && log_limit_pass(&t->loglim, mtable_now(t->mt)))
		log_warnx("trigger %s: refused %s: ports are held by %s", s->rule.name,
		    util_addr_str(host, a, sizeof(a)), util_addr_str(&e->int_addr, b, sizeof(b)));
	s->has_refused = 1;
	s->last_refused = *host;
	s->refused_ms = mtable_now(t->mt);
	s->refusals++;
	t->refusals++;
	trig_notify(t, TRIG_CHG_REFUSED, &s->rule, host);
}

void
trigger_inbound(struct trigger *t, int proto, uint16_t port, const struct in6_addr *host)
{
	struct mt_entry *e = mtable_lookup_ext(t->mt, proto, port);
	size_t i;

	if (e == NULL || e->source != MT_SRC_TRIGGER ||
	    memcmp(&e->int_addr, host, sizeof(*host)) != 0)
		return;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->rules[i].rule.name, e->owner) == 0) {
			trig_refresh(t, &t->rules[i]);
			return;
		}
}

void
trigger_status(const struct trigger *t, pg_status_emit *emit, void *arg)
{
	emit(arg, "trigger_rules", "%zu", t->n);
}

void
trigger_metrics(const struct trigger *t, pg_metric_emit *emit, void *arg)
{
	if (t == NULL)
		return;
	emit(arg, "trigger_rules", NULL, (double)t->n, NULL);
	emit(arg, "trigger_activations_total", NULL, (double)t->activations, NULL);
	emit(arg, "trigger_refusals_total", NULL, (double)t->refusals, NULL);
}
