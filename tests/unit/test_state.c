/* test_state.c - state file round trip, expiry across restarts, corrupt files. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
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
	char err[256];

	snprintf(path, sizeof(path), "%s/state", dir);
	add(a, MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0, "web server");
	add(a, MT_UDP, MT_SRC_UPNP, 7000, 7010, "192.0.2.11", 7000, 600, "with %percent and \xc3\xa9");
	add(a, MT_TCP, MT_SRC_PCP, 9000, 0, "192.0.2.12", 9001, 2, "");
	CHECK_EQ(trig_rule_parse(&r, "game tcp:7000 open tcp:7100-7110,udp:7100-7110 idle 5",
	    err, sizeof(err)), 0);
	CHECK_EQ(trigger_add_rule(ta, &r, 1, err, sizeof(err)), 0);
	CHECK_EQ(state_save(path, a, ta, NULL, err, sizeof(err)), 0);
	CHECK(access(path, F_OK) == 0);
	CHECK_EQ(state_load(path, b, tb, NULL), 3);
	CHECK_EQ(mtable_count(b), 3);
	CHECK_EQ(trigger_count(tb), 1);
	e = mtable_lookup_ext(b, MT_UDP, 7005);
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK_STR(e->desc, "with %percent and \xc3\xa9");
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
	CHECK_EQ(state_load(path, b, NULL, NULL), 1);
	CHECK(mtable_lookup_ext(b, MT_TCP, 8080) == NULL);
	CHECK(mtable_lookup_ext(b, MT_TCP, 8081) != NULL);
	mtable_free(b);
}

/* Number of PATH.corrupt.* files next to path. */
static int
count_aside(const char *dir, const char *name)
{
	char cmd[512], buf[32];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^%s.corrupt.20[0-9]*T[0-9]*'", dir, name);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), p) != NULL)
		n = atoi(buf);
	pclose(p);
	return n;
}

/* A damaged file: the good records are restored, the file is kept aside. */
static void
expect_damaged(const char *dir, const char *name, const char *text, size_t restored)
{
	char path[256];
	struct mtable *b = table();

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, text);
	CHECK_EQ(state_load(path, b, NULL, NULL), restored);
	CHECK_EQ(mtable_count(b), restored);
	CHECK(access(path, F_OK) != 0);			/* moved aside ... */
	CHECK_EQ(count_aside(dir, name), 1);		/* ... to .corrupt.TIMESTAMP */
	mtable_free(b);
}

/* One bad record (an impossible address) costs that record only. */
static void
test_bad_record(const char *dir)
{
	char path[256];
	struct mtable *b = table();
	struct trigger *t = trigger_new(b);

	snprintf(path, sizeof(path), "%s/onebad", dir);
	write_file(path, "portgate-state 1\n"
	    "map tcp 8080 8080 192.0.2.10 80 static 0 * a %-\n"
	    "map tcp 8081 8081 192.0.2.999 80 static 0 * b %-\n"
	    "trigger irc%20tcp:6667-6667%20open%20tcp:1024-1034%20idle%20300\n"
	    "map udp 9000 9000 192.0.2.11 9000 static 0 * c %-\n"
	    "end 4\n");
	CHECK_EQ(state_load(path, b, t, NULL), 2);
	CHECK(mtable_lookup_ext(b, MT_TCP, 8080) != NULL);
	CHECK(mtable_lookup_ext(b, MT_TCP, 8081) == NULL);
	CHECK(mtable_lookup_ext(b, MT_UDP, 9000) != NULL);
	CHECK_EQ(trigger_count(t), 1);
	CHECK_EQ(count_aside(dir, "onebad"), 1);
	/* a second damaged file in the same second keeps the first copy */
	write_file(path, "portgate-state 1\nmap tcp 1 1 x 1 static 0 * a %-\nend 1\n");
	CHECK_EQ(state_load(path, b, t, NULL), 0);
	CHECK_EQ(count_aside(dir, "onebad"), 2);
	trigger_free(t);
	mtable_free(b);
}

/* PATH.tmp planted as a symlink is replaced, never followed. */
static void
test_tmp_symlink(const char *dir)
{
	char path[256], tmp[300], victim[300], err[256], buf[64];
	struct mtable *a = table();
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/linked", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	write_file(victim, "precious\n");
	CHECK_EQ(symlink(victim, tmp), 0);
	add(a, MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0, "x");
	CHECK_EQ(state_save(path, a, NULL, NULL, err, sizeof(err)), 0);
	f = fopen(victim, "r");
	CHECK(f != NULL && fgets(buf, sizeof(buf), f) != NULL && strcmp(buf, "precious\n") == 0);
	if (f != NULL)
		fclose(f);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	/* a save that cannot happen says why */
	snprintf(path, sizeof(path), "%s/no/such/dir/state", dir);
	CHECK_EQ(state_save(path, a, NULL, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, "No such file or directory") != NULL);
	mtable_free(a);
}

/* The epoch goes on only after a complete restore: PEER pins are not kept, so they count as lost. */
static void
test_meta_complete(const char *dir)
{
	char path[256], err[128];
	struct mtable *a = table(), *b = table(), *c = table();
	struct state_meta m, got;
	struct mt_peer_req r;
	struct mt_entry *e;

	snprintf(path, sizeof(path), "%s/meta", dir);
	memset(&m, 0, sizeof(m));
	m.epoch_start = 1700000000;
	strcpy(m.uuid, "0d3f5e2a-1111-4222-8333-444455556660");
	add(a, MT_TCP, MT_SRC_PCP, 9000, 0, "192.0.2.12", 9001, 600, "");
	CHECK_EQ(state_save(path, a, NULL, &m, err, sizeof(err)), 0);
	memset(&got, 0, sizeof(got));
	CHECK_EQ(state_load(path, b, NULL, &got), 1);
	CHECK_EQ(got.complete, 1);
	CHECK_EQ(got.epoch_start, 1700000000);
	CHECK_STR(got.uuid, m.uuid);
	memset(&r, 0, sizeof(r));
	r.proto = MT_TCP;
	r.source = MT_SRC_PCP;
	util_parse_addr("192.0.2.12", &r.int_addr);
	util_parse_addr("198.51.100.100", &r.peer_addr);
	r.int_port = r.ext_port = 40000;
	r.peer_port = 7000;
	r.lease_s = 600;
	CHECK_EQ(mtable_peer(a, &r, &e), MT_OK);
	CHECK_EQ(state_save(path, a, NULL, &m, err, sizeof(err)), 0);
	memset(&got, 0, sizeof(got));
	CHECK_EQ(state_load(path, c, NULL, &got), 1);
	CHECK_EQ(got.complete, 0);		/* a pin was lost: clients must re-create */
	mtable_free(a);
	mtable_free(b);
	mtable_free(c);
}

static struct mt_entry *
pin(struct mtable *mt, int src, const char *ip, uint16_t port, const char *remote,
    const char *filter, uint32_t lease, const char *owner)
{
	struct mt_pin_req q;
	struct mt_filter f;
	struct mt_entry *e = NULL;

	memset(&q, 0, sizeof(q));
	q.proto = MT_TCP;
	q.source = (uint8_t)src;
	util_parse_addr(ip, &q.int_addr);
	q.int_port = port;
	if (remote != NULL)
		CHECK_EQ(mt_filter_parse(remote, &q.remote), 0);
	if (filter != NULL) {
		CHECK_EQ(mt_filter_parse(filter, &f), 0);
		q.filters = &f;
		q.nfilters = 1;
	}
	q.lease_s = lease;
	q.desc = "pin hole";
	q.owner = owner;
	CHECK_EQ(mtable_pinhole_add(mt, &q, &e, NULL), MT_OK);
	return e;
}

/* Pinholes come back with their IDs, remotes, filters, owners and leases. */
static void
test_pinholes(const char *dir)
{
	char path[256], err[256];
	struct mtable *a = table(), *b = table();
	struct mt_entry *e;
	struct mt_filter any;

	memset(&any, 0, sizeof(any));
	snprintf(path, sizeof(path), "%s/state-pin", dir);
	/* e points into a or b only while that table lives */
	pin(a, MT_SRC_UPNP, "2001:db8:1::10", 8000, "2001:db8:2::100", NULL, 600, "");
	pin(a, MT_SRC_STATIC, "2001:db8:1::11", 53, "[2001:db8:2::/48]:53", NULL, 0, "config");
	e = pin(a, MT_SRC_PCP, "2001:db8:1::10", 9000, NULL, "2001:db8:3::/64", 2, "0011");
	CHECK_EQ(state_save(path, a, NULL, NULL, err, sizeof(err)), 0);
	CHECK_EQ(state_load(path, b, NULL, NULL), 3);
	CHECK_EQ(mtable_pinhole_count(b), 3);
	CHECK((e = mtable_pinhole_get(b, 1)) != NULL);
	if (e != NULL) {
		CHECK_EQ(e->source, MT_SRC_UPNP);
		CHECK_EQ(e->remote.plen, 128);
		CHECK_STR(e->desc, "pin hole");
		CHECK(mtable_remaining(b, e) >= 599 && mtable_remaining(b, e) <= 600);
	}
	CHECK((e = mtable_pinhole_get(b, 65536)) != NULL);
	if (e != NULL) {
		CHECK_EQ(e->remote.plen, 48);
		CHECK_EQ(e->remote.port, 53);
		CHECK_STR(e->owner, "config");
		CHECK_EQ(mtable_remaining(b, e), -1);
	}
	CHECK((e = mtable_pinhole_get(b, 65537)) != NULL);
	if (e != NULL) {
		CHECK_EQ(e->nfilters, 1);
		CHECK_EQ(e->filters[0].plen, 64);
		CHECK_STR(e->owner, "0011");
	}
	/* a pinhole whose lease ran out while we were down is not restored */
	mtable_free(b);
	b = table();
	fc.now += 3000;
	CHECK_EQ(state_save(path, a, NULL, NULL, err, sizeof(err)), 0);
	CHECK_EQ(state_load(path, b, NULL, NULL), 2);
	CHECK(mtable_pinhole_get(b, 65537) == NULL);
	util_parse_addr("2001:db8:1::10", &any.addr);
	CHECK(mtable_pinhole_find(b, MT_TCP, &any.addr, 9000, &(struct mt_filter){ 0 }) == NULL);
	mtable_free(b);
	mtable_free(a);
	/* bad pinhole records are skipped, the good ones restored */
	write_file(path, "portgate-state 1\n"
	    "pinhole 1 tcp 192.0.2.10 8000 * upnp 0 * a %-\n"
	    "pinhole 2 tcp 2001:db8:1::10 0 * upnp 0 * a %-\n"
	    "pinhole 3 tcp 2001:db8:1::10 8000 nonsense upnp 0 * a %-\n"
	    "pinhole 4 tcp 2001:db8:1::10 8000 * upnp 0 * a\n"
	    "pinhole 5 tcp 2001:db8:1::10 8000 * upnp 0 * a %-\n"
	    "end 5\n");
	b = table();
	CHECK_EQ(state_load(path, b, NULL, NULL), 1);
	CHECK(mtable_pinhole_get(b, 5) != NULL);
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
	test_pinholes(dir);
	test_meta_complete(dir);
	test_expired_while_down(dir);
	test_bad_record(dir);
	test_tmp_symlink(dir);
	expect_damaged(dir, "garbage", "\x01\x02 not a state file\n", 0);
	expect_damaged(dir, "empty", "", 0);
	expect_damaged(dir, "truncated", "portgate-state 1\n"
	    "map tcp 8080 8080 192.0.2.10 80 static 0 * a %-\n"
	    "map tcp 8081 8081 192.0.2.10 8", 1);
	expect_damaged(dir, "noend", "portgate-state 1\n"
	    "map tcp 8080 8080 192.0.2.10 80 static 0 * a %-\n", 1);
	expect_damaged(dir, "badcount", "portgate-state 1\n"
	    "map tcp 8080 8080 192.0.2.10 80 static 0 * a %-\nend 2\n", 1);
	expect_damaged(dir, "badfield", "portgate-state 1\n"
	    "map tcp 99999 8080 192.0.2.10 80 static 0 * a %-\nend 1\n", 0);
	expect_damaged(dir, "badsource", "portgate-state 1\n"
	    "map tcp 80 80 192.0.2.10 80 nobody 0 * a %-\nend 1\n", 0);
	expect_damaged(dir, "badtrigger", "portgate-state 1\ntrigger x\nend 1\n", 0);
	{
		static const char ok[] = "portgate-state 1\nend 0\n";
		static const char bad[] = "portgate-state 1\nend 0\nx\n";
		CHECK_EQ(state_check(ok, sizeof(ok) - 1, err, sizeof(err)), 0);
		CHECK_EQ(state_check(bad, sizeof(bad) - 1, err, sizeof(err)), -1);
	}
	/* a missing file is not an error */
	b = table();
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK_EQ(state_load(path, b, NULL, NULL), 0);
	mtable_free(b);
	return tu_done("test_state");
}
