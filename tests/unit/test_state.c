/* test_state.c - state file round trip, expiry across restarts, corrupt files. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fw/fw.h"
#include "log.h"
#include "mtable.h"
#include "state.h"
#include "testutil.h"
#include "trigger/trigger.h"
#include "util.h"

static struct fake_clock fc = { 5000000 };

static struct mtable *
table(void)
{
	struct pg_clock clk = tu_fake_clock(&fc);

	return mtable_new(NULL, &clk);
}

static void
add(struct mtable *mt, int proto, int src, uint16_t p, uint16_t end, const char *ip,
    uint16_t ip_port, uint32_t lease, const char *desc)
{
	struct mt_request q;

	memset(&q, 0, sizeof(q));
	q.proto = (uint8_t)proto;
	q.source = (uint8_t)src;
	q.ext_port = p;
	q.ext_port_end = end;
	q.int_port = ip_port;
	q.lease_s = lease;
	q.desc = desc;
	q.owner = "nonce-1";
	util_parse_addr(ip, &q.int_addr);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void
test_round_trip(const char *dir)
{
	char path[256];
	struct mtable *a = table(), *b = table();
	struct trigger *ta = trigger_new(a), *tb = trigger_new(b);
	struct trig_rule r;
	struct mt_entry *e;
	char err[128];

	snprintf(path, sizeof(path), "%s/state", dir);
	add(a, MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0, "web server");
	add(a, MT_UDP, MT_SRC_UPNP, 7000, 7010, "192.0.2.11", 7000, 600, "with %percent\ttab");
	add(a, MT_TCP, MT_SRC_PCP, 9000, 0, "192.0.2.12", 9001, 2, "");
	CHECK_EQ(trig_rule_parse(&r, "game tcp:7000 open tcp:7100-7110,udp:7100-7110 idle 5",
	    err, sizeof(err)), 0);
	CHECK_EQ(trigger_add_rule(ta, &r, 1, err, sizeof(err)), 0);
	CHECK_EQ(state_save(path, a, ta), 0);
	CHECK(access(path, F_OK) == 0);
	CHECK_EQ(state_load(path, b, tb), 3);
	CHECK_EQ(mtable_count(b), 3);
	CHECK_EQ(trigger_count(tb), 1);
	e = mtable_lookup_ext(b, MT_UDP, 7005);
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK_STR(e->desc, "with %percent\ttab");
		CHECK_STR(e->owner, "nonce-1");
		CHECK_EQ(e->ext_port_end, 7010);
		CHECK_EQ(e->source, MT_SRC_UPNP);
		CHECK(mtable_remaining(b, e) >= 599 && mtable_remaining(b, e) <= 600);
	}
	e = mtable_lookup_ext(b, MT_TCP, 8080);
	CHECK(e != NULL && e->expires_ms == 0 && e->int_port == 80);
	mtable_free(a);
	mtable_free(b);
	trigger_free(ta);
	trigger_free(tb);
}

static void
test_expired_while_down(const char *dir)
{
	char path[256];
	struct mtable *b = table();

	snprintf(path, sizeof(path), "%s/old", dir);
	write_file(path, "portgate-state 1\n"
	    "map tcp 8080 8080 192.0.2.10 80 upnp 1000 * old %-\n"
	    "map tcp 8081 8081 192.0.2.10 81 static 0 * kept %-\n"
	    "end 2\n");
	CHECK_EQ(state_load(path, b, NULL), 1);
	CHECK(mtable_lookup_ext(b, MT_TCP, 8080) == NULL);
	CHECK(mtable_lookup_ext(b, MT_TCP, 8081) != NULL);
	mtable_free(b);
}

static void
expect_corrupt(const char *dir, const char *name, const char *text)
{
	char path[256], aside[300];
	struct mtable *b = table();

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	write_file(path, text);
	CHECK_EQ(state_load(path, b, NULL), 0);
	CHECK_EQ(mtable_count(b), 0);
	CHECK(access(path, F_OK) != 0);		/* moved aside ... */
	CHECK(access(aside, F_OK) == 0);	/* ... to .corrupt */
	mtable_free(b);
}

int
main(void)
{
	const char *dir = tu_tmpdir();
	struct mtable *b;
	char path[256], err[128];

	log_setverbose(-2);
	test_round_trip(dir);
	test_expired_while_down(dir);
	expect_corrupt(dir, "garbage", "\x01\x02 not a state file\n");
	expect_corrupt(dir, "empty", "");
	expect_corrupt(dir, "truncated", "portgate-state 1\n"
	    "map tcp 8080 8080 192.0.2.10 80 static 0 * a %-\n"
	    "map tcp 8081 8081 192.0.2.10 8");
	expect_corrupt(dir, "noend", "portgate-state 1\n"
	    "map tcp 8080 8080 192.0.2.10 80 static 0 * a %-\n");
	expect_corrupt(dir, "badcount", "portgate-state 1\n"
	    "map tcp 8080 8080 192.0.2.10 80 static 0 * a %-\nend 2\n");
	expect_corrupt(dir, "badfield", "portgate-state 1\n"
	    "map tcp 99999 8080 192.0.2.10 80 static 0 * a %-\nend 1\n");
	expect_corrupt(dir, "badsource", "portgate-state 1\n"
	    "map tcp 80 80 192.0.2.10 80 nobody 0 * a %-\nend 1\n");
	expect_corrupt(dir, "badtrigger", "portgate-state 1\ntrigger x\nend 1\n");
	{
		static const char ok[] = "portgate-state 1\nend 0\n";
		static const char bad[] = "portgate-state 1\nend 0\nx\n";
		CHECK_EQ(state_check(ok, sizeof(ok) - 1, err, sizeof(err)), 0);
		CHECK_EQ(state_check(bad, sizeof(bad) - 1, err, sizeof(err)), -1);
	}
	/* a missing file is not an error */
	b = table();
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK_EQ(state_load(path, b, NULL), 0);
	mtable_free(b);
	return tu_done("test_state");
}
