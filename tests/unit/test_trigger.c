/* test_trigger.c - trigger semantics on the mapping table with a fake clock. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "log.h"
#include "mtable.h"
#include "testutil.h"
#include "trigger/trigger.h"
#include "util.h"

static struct fake_clock fc = { 1000000 };
static struct in6_addr A, B;

struct status_probe {
	const char		*name;
	struct trig_status	 st;
	int			 found;
};

static void
probe_cb(void *arg, const struct trig_rule *r, const struct trig_status *st)
{
	struct status_probe *p = arg;

	if (strcmp(r->name, p->name) == 0) {
		p->st = *st;
		p->found = 1;
	}
}

static struct trig_status
status(struct trigger *t, const char *name)
{
	struct status_probe p = { name, { 0 }, 0 };

	trigger_foreach_status(t, probe_cb, &p);
	CHECK(p.found);
	return p.st;
}

/* What trigger_set_notify's listener heard, as "EVENT RULE [HOST]" lines. */
static char heard[1024];

static void
listen_cb(void *arg, enum trig_change what, const struct trig_rule *r,
    const struct in6_addr *host)
{
	static const char *const names[] = { "added", "deleted", "activated", "refused" };
	char a[INET6_ADDRSTRLEN];
	size_t n = strlen(heard);

	(void)arg;
	snprintf(heard + n, sizeof(heard) - n, "%s %s%s%s\n", names[what], r->name,
	    host ? " " : "", host ? util_addr_str(host, a, sizeof(a)) : "");
}

static int
holder_is(struct mtable *mt, int proto, uint16_t port, const struct in6_addr *h)
{
	struct mt_entry *e = mtable_lookup_ext(mt, proto, port);

	return e != NULL && e->source == MT_SRC_TRIGGER && memcmp(&e->int_addr, h, sizeof(*h)) == 0;
}

int
main(void)
{
	struct pg_clock clk = tu_fake_clock(&fc);
	struct fw *fw = fw_new("none", NULL, NULL);
	struct mtable *mt;
	struct trigger *t;
	struct trig_rule r;
	struct trig_status st;
	struct mt_request q;
	char err[160];
	int i;

	log_setverbose(-2);
	fw_init(fw);
	mt = mtable_new(fw, &clk);
	t = trigger_new(mt);
	trigger_set_notify(t, listen_cb, NULL);
	util_parse_addr("192.0.2.10", &A);
	util_parse_addr("192.0.2.11", &B);
	CHECK_EQ(trig_rule_parse(&r, "game tcp:7000 open tcp:7100-7110,udp:7100-7110 idle 5",
	    err, sizeof(err)), 0);
	trigger_set_config_rules(t, &r, 1);
	CHECK_EQ(trigger_count(t), 1);
	CHECK_STR(heard, "");		/* config rules: the daemon set them itself */

	/* nothing open before any trigger; unrelated ports do nothing */
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7105) == NULL);
	trigger_outbound(t, MT_TCP, 7001, &A);
	trigger_outbound(t, MT_UDP, 7000, &A);
	CHECK_EQ(mtable_count(mt), 0);

	/* A triggers: both open ranges to A, one entry each */
	trigger_outbound(t, MT_TCP, 7000, &A);
	CHECK_EQ(mtable_count_source(mt, MT_SRC_TRIGGER), 2);
	CHECK(holder_is(mt, MT_TCP, 7105, &A));
	CHECK(holder_is(mt, MT_UDP, 7110, &A));
	mtable_commit(mt, NULL, NULL);
	CHECK(fw_mem_lookup(fw, MT_TCP, 7100) != NULL);
	st = status(t, "game");
	CHECK(st.active);
	CHECK_EQ(st.closes_in, 5);

	/* B is refused while A holds it, and that is visible */
	fc.now += 2000;
	trigger_outbound(t, MT_TCP, 7000, &B);
	CHECK(holder_is(mt, MT_TCP, 7105, &A));
	st = status(t, "game");
	CHECK(st.has_refused);
	CHECK(memcmp(&st.last_refused, &B, sizeof(B)) == 0);
	CHECK_EQ(st.refusals, 1);
	CHECK_STR(heard, "activated game 192.0.2.10\nrefused game 192.0.2.11\n");
	heard[0] = '\0';

	/* steady traffic from A keeps it open past several idle periods */
	for (i = 0; i < 8; i++) {
		fc.now += 3000;
		mtable_expire(mt);
		trigger_outbound(t, MT_TCP, 7000, &A);
	}
	CHECK(holder_is(mt, MT_TCP, 7105, &A));
	/* an inbound connection refreshes as well */
	fc.now += 4000;
	trigger_inbound(t, MT_UDP, 7103, &A);
	fc.now += 4000;
	mtable_expire(mt);
	CHECK(holder_is(mt, MT_TCP, 7105, &A));

	/* idle: closes through the lease clock; then B gets it */
	fc.now += 5000;
	mtable_expire(mt);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7105) == NULL);
	CHECK(!status(t, "game").active);
	trigger_outbound(t, MT_TCP, 7000, &B);
	CHECK(holder_is(mt, MT_UDP, 7100, &B));
	fc.now += 6000;
	mtable_expire(mt);

	/* an explicit mapping inside an open range blocks activation (all or nothing) */
	memset(&q, 0, sizeof(q));
	q.proto = MT_UDP;
	q.source = MT_SRC_UPNP;
	q.ext_port = 7108;
	q.int_addr = B;
	q.lease_s = 100;
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	trigger_outbound(t, MT_TCP, 7000, &A);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7105) == NULL);
	CHECK_EQ(mtable_count_source(mt, MT_SRC_TRIGGER), 0);
	mtable_flush(mt, MT_SRC_UPNP);
	/* and an active trigger blocks a later explicit request for another host */
	trigger_outbound(t, MT_TCP, 7000, &A);
	q.int_addr = B;
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_CONFLICT);

	/* run-time rules: add, refuse overlaps, delete closes ports */
	CHECK_EQ(trig_rule_parse(&r, "irc tcp:6667 open tcp:1024-1034", err, sizeof(err)), 0);
	CHECK_EQ(trigger_add_rule(t, &r, 1, err, sizeof(err)), 0);
	CHECK_EQ(trigger_add_rule(t, &r, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "a rule named 'irc' already exists");
	trigger_outbound(t, MT_TCP, 6667, &B);
	CHECK(holder_is(mt, MT_TCP, 1030, &B));
	CHECK_EQ(trigger_del_rule(t, "game", err, sizeof(err)), -2);	/* config rule */
	CHECK_EQ(trigger_del_rule(t, "irc", err, sizeof(err)), 0);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 1030) == NULL);
	CHECK_STR(strstr(heard, "added irc"), "added irc\nactivated irc 192.0.2.11\n"
	    "deleted irc\n");
	heard[0] = '\0';
	/* reload without the config rule: its ports close, rule gone */
	trigger_set_config_rules(t, NULL, 0);
	CHECK_EQ(trigger_count(t), 0);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7105) == NULL);
	CHECK_STR(heard, "");

	trigger_free(t);
	mtable_free(mt);
	fw_free(fw);
	return tu_done("test_trigger");
}
