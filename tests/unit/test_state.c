/*
 * test_state.c - state file round trip, expiry across restarts, corrupt
 * files; the journal: replay order, bytes per change against table size,
 * records cut short, hostile records, compaction, format 1 files.
 */
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
#include "state_journal.h"
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
	CHECK_EQ(trig_rule_parse(&r, "off tcp:7200 open tcp:7201", err, sizeof(err)), 0);
	CHECK_EQ(trigger_add_rule(ta, &r, 1, err, sizeof(err)), 0);
	CHECK_EQ(trigger_set_enabled(ta, "off", 0, err, sizeof(err)), 0);
	CHECK_EQ(state_save(path, a, ta, NULL, err, sizeof(err)), 0);
	CHECK(access(path, F_OK) == 0);
	CHECK_EQ(state_load(path, b, tb, NULL), 3);
	CHECK_EQ(mtable_count(b), 3);
	CHECK_EQ(trigger_count(tb), 2);
	CHECK(trigger_rule_enabled(tb, "game"));
	CHECK(!trigger_rule_enabled(tb, "off"));	/* a disabled rule stays disabled */
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
	strcpy(m.upstream_key, "00112233445566778899aabbccddeeff");
	add(a, MT_TCP, MT_SRC_PCP, 9000, 0, "192.0.2.12", 9001, 600, "");
	CHECK_EQ(state_save(path, a, NULL, &m, err, sizeof(err)), 0);
	memset(&got, 0, sizeof(got));
	CHECK_EQ(state_load(path, b, NULL, &got), 1);
	CHECK_EQ(got.complete, 1);
	CHECK_EQ(got.epoch_start, 1700000000);
	CHECK_STR(got.uuid, m.uuid);
	CHECK_STR(got.upstream_key, m.upstream_key);	/* the upstream nonces' key, kept */
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

/* ---- the journal ---- */

/* The daemon's wiring: every change the table reports is appended. */
struct jwire {
	struct mtable		*mt;
	struct state_journal	*j;
	int			 failed;
};

static void
jwire_cb(void *arg, enum mt_change what, const struct mt_entry *e)
{
	struct jwire *w = arg;
	char err[256];

	if (w->j != NULL && state_journal_append(w->j, w->mt, what, e, err, sizeof(err)) == -1) {
		fprintf(stderr, "append: %s\n", err);
		w->failed++;
	}
}

/* A full save, then the journal on it (as pg_save_now). */
static void
jwire_save(struct jwire *w, const char *path)
{
	char err[256];

	CHECK_EQ(state_save(path, w->mt, NULL, NULL, err, sizeof(err)), 0);
	state_journal_close(w->j);
	w->j = state_journal_open(path, w->mt, err, sizeof(err));
	CHECK(w->j != NULL);
	mtable_set_notify(w->mt, jwire_cb, w);
}

static size_t
jbytes(const struct jwire *w)
{
	struct state_journal_stats st;

	state_journal_stats(w->j, &st);
	return st.bytes;
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* One line per entry, leases left out (the wall clock may tick between save and load). */
static void
dump(const struct mtable *mt, char *buf, size_t len)
{
	const struct mt_entry *e;
	char a[INET6_ADDRSTRLEN];
	size_t n = 0;

	buf[0] = '\0';
	for (e = mtable_next(mt, NULL); e != NULL && n < len; e = mtable_next(mt, e))
		n += (size_t)snprintf(buf + n, len - n, "map %s %u-%u %s:%u %s %s %s %u %s\n",
		    mt_proto_name(e->proto), e->ext_port, e->ext_port_end,
		    util_addr_str(&e->int_addr, a, sizeof(a)), e->int_port,
		    mt_source_name(e->source), e->desc, e->owner, e->nfilters,
		    e->expires_ms ? "leased" : "permanent");
	for (e = mtable_pinhole_next(mt, NULL); e != NULL && n < len;
	    e = mtable_pinhole_next(mt, e))
		n += (size_t)snprintf(buf + n, len - n, "pinhole %u %s [%s]:%u %s %s %s %u %u %s\n",
		    e->pin_id, mt_proto_name(e->proto), util_addr_str(&e->int_addr, a, sizeof(a)),
		    e->int_port, mt_source_name(e->source), e->desc, e->owner, e->nfilters,
		    e->remote.plen, e->expires_ms ? "leased" : "permanent");
}

static struct mt_request
mreq(int proto, uint16_t p, uint16_t end, const char *ip, uint16_t ip_port, uint32_t lease,
    const char *desc)
{
	struct mt_request q;

	memset(&q, 0, sizeof(q));
	q.proto = (uint8_t)proto;
	q.source = MT_SRC_UPNP;
	q.ext_port = p;
	q.ext_port_end = end;
	q.int_port = ip_port;
	q.lease_s = lease;
	q.desc = desc;
	util_parse_addr(ip, &q.int_addr);
	return q;
}

/*
 * Changes after a full save, never saved again: loading the file (snapshot
 * + journal, replayed in order) gives the table as it is now.
 */
static void
test_journal_replay(const char *dir)
{
	char path[256], want[8192], got[8192];
	struct jwire w = { table(), NULL, 0 };
	struct mtable *b = table();
	struct mt_request q;
	struct mt_entry *e;
	struct state_meta m;

	snprintf(path, sizeof(path), "%s/journal", dir);
	add(w.mt, MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0, "web");
	add(w.mt, MT_TCP, MT_SRC_UPNP, 9000, 0, "192.0.2.10", 9000, 600, "gone soon");
	jwire_save(&w, path);
	/* add, renew, delete, re-add elsewhere: the last word on each key wins */
	q = mreq(MT_UDP, 5000, 0, "192.0.2.11", 5000, 100, "first");
	CHECK_EQ(mtable_add(w.mt, &q, NULL, NULL), MT_OK);
	q.lease_s = 3000;
	CHECK_EQ(mtable_add(w.mt, &q, NULL, NULL), MT_OK);		/* a renewal */
	mtable_del(w.mt, mtable_lookup_ext(w.mt, MT_TCP, 9000));	/* in the snapshot */
	q = mreq(MT_TCP, 9000, 0, "192.0.2.12", 22, 0, "re-added");
	CHECK_EQ(mtable_add(w.mt, &q, NULL, NULL), MT_OK);
	q = mreq(MT_TCP, 7000, 7005, "192.0.2.13", 7000, 0, "a range");
	CHECK_EQ(mtable_add(w.mt, &q, NULL, NULL), MT_OK);
	mtable_del(w.mt, mtable_lookup_ext(w.mt, MT_TCP, 7000));
	q = mreq(MT_TCP, 7003, 0, "192.0.2.13", 7003, 0, "inside the old range");
	CHECK_EQ(mtable_add(w.mt, &q, NULL, NULL), MT_OK);
	q = mreq(MT_UDP, 5000, 0, "192.0.2.11", 5000, 3000, "new description");
	CHECK_EQ(mtable_add(w.mt, &q, NULL, NULL), MT_OK);		/* more than a lease */
	pin(w.mt, MT_SRC_PCP, "2001:db8:1::10", 8000, NULL, NULL, 50, "n1");
	e = pin(w.mt, MT_SRC_PCP, "2001:db8:1::10", 8001, NULL, NULL, 50, "n1");
	mtable_del(w.mt, e);
	e = pin(w.mt, MT_SRC_PCP, "2001:db8:1::10", 8000, NULL, NULL, 5000, "n1");	/* renewal */
	CHECK_EQ(w.failed, 0);
	CHECK(jbytes(&w) > 0);
	state_journal_close(w.j);
	w.j = NULL;
	memset(&m, 0, sizeof(m));
	CHECK_EQ(state_load(path, b, NULL, &m), mtable_count(w.mt) + mtable_pinhole_count(w.mt));
	CHECK_EQ(m.complete, 1);
	dump(w.mt, want, sizeof(want));
	dump(b, got, sizeof(got));
	CHECK_STR(got, want);
	CHECK(mtable_lookup_ext(b, MT_TCP, 7000) == NULL);
	CHECK((e = mtable_lookup_ext(b, MT_UDP, 5000)) != NULL);
	if (e != NULL) {
		CHECK(mtable_remaining(b, e) >= 2999 && mtable_remaining(b, e) <= 3000);
		CHECK_STR(e->desc, "new description");
	}
	e = mtable_pinhole_next(b, NULL);
	CHECK(e != NULL && e->int_port == 8000 && mtable_remaining(b, e) >= 4999);
	CHECK_EQ(count_aside(dir, "journal"), 0);
	mtable_free(b);
	mtable_free(w.mt);
}

/*
 * What a change costs does not depend on the table: at 0, 1,000 and
 * 20,000 pinholes (the size of the 1.76 MB file), a renewal, an
 * add and a delete append the same bytes, and the file grows by them only.
 */
static void
test_journal_bytes_per_change(const char *dir)
{
	static const size_t sizes[] = { 0, 1000, 20000 };
	size_t i, k, cost[3][3];
	char path[256], a[64];
	long before;

	snprintf(path, sizeof(path), "%s/bytes", dir);
	for (i = 0; i < 3; i++) {
		struct jwire w = { table(), NULL, 0 };
		struct mt_entry *e;
		size_t b0;

		for (k = 0; k < sizes[i]; k++) {
			snprintf(a, sizeof(a), "2001:db8:1::%zx", 0x1000 + k / 1000);
			pin(w.mt, MT_SRC_PCP, a, (uint16_t)(1000 + k % 1000), NULL, NULL, 3600,
			    "00112233445566778899aabb");
		}
		e = pin(w.mt, MT_SRC_PCP, "2001:db8:1::10", 8000, NULL, NULL, 3600, "ab");
		jwire_save(&w, path);
		before = file_size(path);
		if (i == 2)
			CHECK(before > 1500000);	/* a full rewrite per change would cost that */
		b0 = jbytes(&w);
		CHECK_EQ(mtable_renew(w.mt, e, 3600), MT_OK);
		cost[i][0] = jbytes(&w) - b0;
		b0 = jbytes(&w);
		pin(w.mt, MT_SRC_PCP, "2001:db8:1::10", 8001, NULL, NULL, 3600, "ab");
		cost[i][1] = jbytes(&w) - b0;
		b0 = jbytes(&w);
		mtable_del(w.mt, e);
		cost[i][2] = jbytes(&w) - b0;
		CHECK_EQ(file_size(path) - before, (long)jbytes(&w));
		CHECK(!state_journal_full(w.j));
		CHECK_EQ(w.failed, 0);
		state_journal_close(w.j);
		mtable_free(w.mt);
	}
	for (k = 0; k < 3; k++) {
		CHECK(cost[0][k] > 0 && cost[0][k] < 200);
		CHECK_EQ(cost[1][k], cost[0][k]);
		CHECK_EQ(cost[2][k], cost[0][k]);
	}
}

/* PEER pins are not kept, but the journal says whether any are held: then state is lost. */
static void
test_journal_pins(const char *dir)
{
	char path[256];
	struct jwire w = { table(), NULL, 0 };
	struct mt_peer_req r;
	struct state_meta m;
	struct mt_entry *e;
	struct mtable *b;
	size_t before;

	snprintf(path, sizeof(path), "%s/pins", dir);
	add(w.mt, MT_TCP, MT_SRC_PCP, 9000, 0, "192.0.2.12", 9001, 600, "");
	jwire_save(&w, path);
	memset(&r, 0, sizeof(r));
	r.proto = MT_TCP;
	r.source = MT_SRC_PCP;
	util_parse_addr("192.0.2.12", &r.int_addr);
	util_parse_addr("198.51.100.100", &r.peer_addr);
	r.int_port = r.ext_port = 40000;
	r.peer_port = 7000;
	r.lease_s = 600;
	CHECK_EQ(mtable_peer(w.mt, &r, &e), MT_OK);
	before = jbytes(&w);
	r.peer_port = 7001;
	CHECK_EQ(mtable_peer(w.mt, &r, &e), MT_OK);		/* a second: no record */
	CHECK_EQ(jbytes(&w), before);
	b = table();
	memset(&m, 0, sizeof(m));
	CHECK_EQ(state_load(path, b, NULL, &m), 1);
	CHECK_EQ(m.complete, 0);
	mtable_free(b);
	mtable_flush(w.mt, MT_NSOURCE);
	add(w.mt, MT_TCP, MT_SRC_PCP, 9000, 0, "192.0.2.12", 9001, 600, "");
	b = table();
	memset(&m, 0, sizeof(m));
	CHECK_EQ(state_load(path, b, NULL, &m), 1);
	CHECK_EQ(m.complete, 1);		/* none held any more */
	mtable_free(b);
	CHECK_EQ(w.failed, 0);
	state_journal_close(w.j);
	mtable_free(w.mt);
}

/* The file as the journal left it, cut at len bytes. */
static void
cut_file(const char *path, long len)
{
	CHECK_EQ(truncate(path, len), 0);
}

/*
 * A crash while a record is appended leaves its line cut short: every cut
 * of the last record loads what came before it, is logged and ignored,
 * and is not a damaged file.
 */
static void
test_journal_torn(const char *dir)
{
	char path[256], copy[300], cmd[700];
	struct jwire w = { table(), NULL, 0 };
	struct state_meta m;
	struct mt_request q;
	long full, last, cut;

	snprintf(path, sizeof(path), "%s/torn", dir);
	snprintf(copy, sizeof(copy), "%s/torn.whole", dir);
	add(w.mt, MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0, "snap");
	jwire_save(&w, path);
	q = mreq(MT_TCP, 9000, 0, "192.0.2.10", 9000, 600, "kept");
	CHECK_EQ(mtable_add(w.mt, &q, NULL, NULL), MT_OK);
	last = file_size(path);
	q = mreq(MT_TCP, 9001, 0, "192.0.2.10", 9001, 600, "the last record");
	CHECK_EQ(mtable_add(w.mt, &q, NULL, NULL), MT_OK);
	full = file_size(path);
	state_journal_close(w.j);
	snprintf(cmd, sizeof(cmd), "cp %s %s", path, copy);
	CHECK_EQ(system(cmd), 0);
	for (cut = last + 1; cut < full; cut++) {
		struct mtable *b = table();

		snprintf(cmd, sizeof(cmd), "cp %s %s", copy, path);
		CHECK_EQ(system(cmd), 0);
		cut_file(path, cut);
		memset(&m, 0, sizeof(m));
		CHECK_EQ(state_load(path, b, NULL, &m), 2);
		CHECK(mtable_lookup_ext(b, MT_TCP, 8080) != NULL);
		CHECK(mtable_lookup_ext(b, MT_TCP, 9000) != NULL);
		CHECK(mtable_lookup_ext(b, MT_TCP, 9001) == NULL);
		CHECK_EQ(m.complete, 0);	/* it may have been answered for: PCP's epoch restarts */
		CHECK(access(path, F_OK) == 0);	/* not a damaged file */
		mtable_free(b);
	}
	CHECK_EQ(count_aside(dir, "torn"), 0);
	mtable_free(w.mt);
}

#define SNAP2	"portgate-state 2\nmap tcp 8080 8080 192.0.2.10 80 static 0 * a %-\n" \
		"pinhole 70000 tcp 2001:db8:1::10 8000 * pcp 0 * b %-\nend 2\n"

#define STATE_LONG	3000

/* A journal line with its check, for hand-made files. */
static void
jline(char *buf, size_t len, const char *text)
{
	size_t n = strlen(buf);

	CHECK(state_frame(text, buf + n, len - n) > 0);
}

/*
 * Hostile or damaged records: each bad one is skipped and reported (the
 * file is kept aside), the good ones around it are applied, the
 * snapshot's entries stay unless a good record says otherwise.
 */
static void
test_journal_hostile(const char *dir)
{
	char path[256], text[8192];
	struct mtable *b = table();
	struct state_meta m;
	size_t n;

	snprintf(path, sizeof(path), "%s/hostile", dir);
	snprintf(text, sizeof(text), "%s", SNAP2);
	jline(text, sizeof(text), "map udp 5000 5000 192.0.2.11 5000 upnp 4102444800 * good %-");
	strcat(text, "j 00000000 del map tcp 8080\n");			/* a wrong check */
	strcat(text, "j 1234567 del map tcp 8080\n");			/* a short one */
	strcat(text, "del map tcp 8080\n");				/* none */
	jline(text, sizeof(text), "del map tcp 0");
	jline(text, sizeof(text), "del map tcp 8080 extra");
	jline(text, sizeof(text), "del pinhole -1");
	jline(text, sizeof(text), "lease pinhole 70000 -5");
	jline(text, sizeof(text), "lease pinhole 70000");
	jline(text, sizeof(text), "lease map tcp 8080 99999999999999999999999");
	jline(text, sizeof(text), "map tcp 8080 8080 192.0.2.999 80 static 0 * x %-");
	jline(text, sizeof(text), "trigger a%20tcp:1%20open%20tcp:2");	/* a snapshot record */
	jline(text, sizeof(text), "uuid 0d3f5e2a-1111-4222-8333-444455556660");
	jline(text, sizeof(text), "end 0");
	jline(text, sizeof(text), "");
	jline(text, sizeof(text), "pins x");
	n = strlen(text);
	memset(text + n, 'x', STATE_LONG);				/* too long */
	strcpy(text + n + STATE_LONG, "\n");
	jline(text, sizeof(text), "del map udp 9999");			/* nothing there: fine */
	jline(text, sizeof(text), "lease map udp 5000 0");		/* good: now permanent */
	write_file(path, text);
	memset(&m, 0, sizeof(m));
	CHECK_EQ(state_load(path, b, NULL, &m), 3);
	CHECK(mtable_lookup_ext(b, MT_TCP, 8080) != NULL);
	CHECK(mtable_pinhole_get(b, 70000) != NULL);
	CHECK(mtable_lookup_ext(b, MT_UDP, 5000) != NULL &&
	    mtable_lookup_ext(b, MT_UDP, 5000)->expires_ms == 0);
	CHECK_EQ(mtable_count(b), 2);
	CHECK_EQ(m.complete, 0);
	CHECK_EQ(count_aside(dir, "hostile"), 1);
	CHECK(state_check(text, strlen(text), path, sizeof(path)) == -1);
	mtable_free(b);
	/* a record in the way of another is replaced: the journal is the later word */
	b = table();
	snprintf(path, sizeof(path), "%s/replace", dir);
	snprintf(text, sizeof(text), "%s", SNAP2);
	jline(text, sizeof(text), "map tcp 8000 8100 192.0.2.12 8000 static 0 * range %-");
	jline(text, sizeof(text), "pinhole 70001 tcp 2001:db8:1::10 8000 * pcp 0 * moved %-");
	jline(text, sizeof(text), "pins 2");
	write_file(path, text);
	memset(&m, 0, sizeof(m));
	CHECK_EQ(state_load(path, b, NULL, &m), 2);
	CHECK(mtable_lookup_ext(b, MT_TCP, 8080) != NULL &&
	    mtable_lookup_ext(b, MT_TCP, 8080)->ext_port == 8000);
	CHECK(mtable_pinhole_get(b, 70000) == NULL && mtable_pinhole_get(b, 70001) != NULL);
	CHECK_EQ(m.complete, 0);		/* pins were held: they are lost */
	CHECK_EQ(count_aside(dir, "replace"), 0);
	mtable_free(b);
}

/*
 * Compaction: the journal says it is full past max(64 KiB, the snapshot);
 * a full save then starts it again, smaller, with the same table behind it.
 */
static void
test_journal_compaction(const char *dir)
{
	char path[256], want[4096], got[4096];
	struct jwire w = { table(), NULL, 0 };
	struct mtable *b = table();
	struct mt_entry *e;
	long grown;
	int i;

	snprintf(path, sizeof(path), "%s/compact", dir);
	add(w.mt, MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0, "web");
	e = pin(w.mt, MT_SRC_PCP, "2001:db8:1::10", 8000, NULL, NULL, 600, "n");
	jwire_save(&w, path);
	for (i = 0; i < 100000 && !state_journal_full(w.j); i++) {
		fc.now += 1000;
		CHECK_EQ(mtable_renew(w.mt, e, 600), MT_OK);
	}
	CHECK(state_journal_full(w.j));
	CHECK(jbytes(&w) > 65536 && jbytes(&w) < 65536 + 200);
	grown = file_size(path);
	jwire_save(&w, path);
	CHECK_EQ(jbytes(&w), 0);
	CHECK(file_size(path) < grown / 50);
	CHECK_EQ(state_load(path, b, NULL, NULL), 2);
	dump(w.mt, want, sizeof(want));
	dump(b, got, sizeof(got));
	CHECK_STR(got, want);
	state_journal_close(w.j);
	mtable_free(w.mt);
	mtable_free(b);
}

/* Formats: 2 is written, 1 (today's files before the journal) is read, a newer one is not. */
static void
test_formats(const char *dir)
{
	char path[256], err[128], buf[64], text[4096];
	struct mtable *a = table(), *b = table();
	FILE *f;

	/* the check is zlib's CRC-32, so other tools can write and read journal lines */
	CHECK(state_frame("del map tcp 8080", buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "j 4e2e55b7 del map tcp 8080\n");
	snprintf(text, sizeof(text), "%s%s", SNAP2, buf);
	CHECK_EQ(state_check(text, strlen(text), err, sizeof(err)), 0);
	text[strlen(text) - 1] = '\0';
	CHECK_EQ(state_check(text, strlen(text), err, sizeof(err)), -1);	/* cut short */
	CHECK_EQ(state_frame("del map tcp 8080", buf, 20), 0);	/* does not fit: 0 */

	snprintf(path, sizeof(path), "%s/format", dir);
	add(a, MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0, "x");
	CHECK_EQ(state_save(path, a, NULL, NULL, err, sizeof(err)), 0);
	f = fopen(path, "r");
	CHECK(f != NULL && fgets(buf, sizeof(buf), f) != NULL);
	CHECK_STR(buf, "portgate-state 2\n");
	if (f != NULL)
		fclose(f);
	write_file(path, "portgate-state 1\n"
	    "map tcp 8080 8080 192.0.2.10 80 static 0 * a %-\n"
	    "pinhole 1 tcp 2001:db8:1::10 8000 * upnp 0 * b %-\nend 2\n");
	CHECK_EQ(state_load(path, b, NULL, NULL), 2);
	CHECK(access(path, F_OK) == 0);
	mtable_free(b);
	b = table();
	write_file(path, "portgate-state 3\nend 0\n");
	CHECK_EQ(state_load(path, b, NULL, NULL), 0);
	CHECK_EQ(count_aside(dir, "format"), 1);
	mtable_free(a);
	mtable_free(b);
}

int
main(void)
{
	const char *dir = tu_tmpdir();
	struct mtable *b;
	char path[256], err[128];

	log_setverbose(getenv("TEST_VERBOSE") ? 1 : -2);
	test_round_trip(dir);
	test_pinholes(dir);
	test_meta_complete(dir);
	test_expired_while_down(dir);
	test_bad_record(dir);
	test_tmp_symlink(dir);
	test_journal_replay(dir);
	test_journal_bytes_per_change(dir);
	test_journal_pins(dir);
	test_journal_torn(dir);
	test_journal_hostile(dir);
	test_journal_compaction(dir);
	test_formats(dir);
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
	/* an upstream key that is not 32 lowercase hex digits */
	expect_damaged(dir, "badkey", "portgate-state 2\nupstream_key 0011\nend 1\n", 0);
	expect_damaged(dir, "badkey2", "portgate-state 2\n"
	    "upstream_key 00112233445566778899AABBCCDDEEFF\nend 1\n", 0);
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
