/*
 * test_fw_mem.c - the in-memory firewall: IPv6 pinholes, their counters, refusals, scale,
 * and which of the table's changes close a door (so a backend ends its flows) or open
 * one (so a backend ends other endpoints' flows on its ports).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "mtable.h"
#include "testutil.h"
#include "util.h"

struct fails {
	int		n;
	int		err;
	uint32_t	pin_id;
};

static void
on_fail(void *arg, const struct fw_change *c, int err)
{
	struct fails *f = arg;

	f->n++;
	f->err = err;
	f->pin_id = c->item.pin_id;
}

static struct fw *
new_fw(void)
{
	struct fw *fw = fw_new("none", NULL, NULL);

	fw_init(fw);
	return fw;
}

static struct fw_item
pin(uint32_t id, const char *addr, uint16_t port)
{
	struct fw_item it;

	memset(&it, 0, sizeof(it));
	it.kind = MT_KIND_PINHOLE;
	it.proto = MT_TCP;
	it.pin_id = id;
	it.id = 1000 + id;
	it.int_port = port;
	it.timeout_ms = 60000;
	util_parse_addr(addr, &it.int_addr);
	return it;
}

/* Queue one change and commit; the error the backend reported, 0 if none. */
static int
apply(struct fw *fw, enum fw_op op, const struct fw_item *it)
{
	struct fails f = { 0, 0, 0 };

	fw_queue(fw, op, it);
	fw_commit(fw, on_fail, &f);
	return f.n ? f.err : 0;
}

static void
test_add_del(void)
{
	struct fw *fw = new_fw();
	struct fw_item a = pin(1, "2001:db8:1::10", 8000), b = pin(2, "2001:db8:1::11", 8000);
	const struct fw_item *got;

	a.nfilters = 1;
	util_parse_addr("2001:db8:2::100", &a.filters[0].addr);
	a.filters[0].plen = 128;
	CHECK_EQ(apply(fw, FW_ADD, &a), 0);
	CHECK_EQ(apply(fw, FW_ADD, &b), 0);
	CHECK_EQ(fw_mem_pin_count(fw), 2);
	CHECK_EQ(fw_mem_count(fw), 0);	/* pinholes are not mappings: no port held */
	CHECK(fw_mem_lookup(fw, MT_TCP, 0) == NULL);
	got = fw_mem_pin_lookup(fw, 1);
	CHECK(got != NULL && got->int_port == 8000 && got->nfilters == 1 &&
	    got->filters[0].plen == 128);
	CHECK(fw_mem_pin_lookup(fw, 3) == NULL);
	/* the same pinhole twice: refused as a kernel would */
	CHECK_EQ(apply(fw, FW_ADD, &a), EEXIST);
	CHECK_EQ(fw_mem_pin_count(fw), 2);
	CHECK_EQ(apply(fw, FW_DEL, &a), 0);
	CHECK(fw_mem_pin_lookup(fw, 1) == NULL);
	/* deleting what is not there: ENOENT, as for mappings */
	CHECK_EQ(apply(fw, FW_DEL, &a), ENOENT);
	CHECK_EQ(fw_mem_pin_count(fw), 1);
	/* not a native IPv6 address, or a prefix beyond 128 bits: refused */
	a = pin(5, "192.0.2.10", 8000);
	CHECK_EQ(apply(fw, FW_ADD, &a), EINVAL);
	a = pin(5, "2001:db8:1::10", 8000);
	a.nfilters = 1;
	a.filters[0].plen = 129;
	CHECK_EQ(apply(fw, FW_ADD, &a), EINVAL);
	CHECK_EQ(fw_mem_pin_count(fw), 1);
	fw_free(fw);
}

static void
test_counters(void)
{
	struct fw *fw = new_fw();
	struct fw_item a = pin(7, "2001:db8:1::10", 8000);
	uint64_t pkts = 99, bytes = 99;
	struct fails f = { 0, 0, 0 };

	CHECK_EQ(apply(fw, FW_ADD, &a), 0);
	CHECK_EQ(fw_pin_counters(fw, &a, &pkts, &bytes), 0);
	CHECK_EQ(pkts, 0);
	CHECK_EQ(bytes, 0);
	fw_mem_pin_traffic(fw, 7, 3, 180);
	fw_mem_pin_traffic(fw, 7, 2, 120);
	fw_mem_pin_traffic(fw, 8, 1, 60);	/* no such pinhole: nothing happens */
	CHECK_EQ(fw_pin_counters(fw, &a, &pkts, &bytes), 0);
	CHECK_EQ(pkts, 5);
	CHECK_EQ(bytes, 300);
	/* a renewal: DEL then ADD in one commit, passing the count on */
	a.pkts = pkts;
	a.bytes = bytes;
	a.timeout_ms = 120000;
	fw_queue(fw, FW_DEL, &a);
	fw_queue(fw, FW_ADD, &a);
	CHECK_EQ(fw_commit(fw, on_fail, &f), 0);
	CHECK_EQ(f.n, 0);
	CHECK_EQ(fw_mem_pin_lookup(fw, 7)->timeout_ms, 120000);
	fw_mem_pin_traffic(fw, 7, 1, 60);
	CHECK_EQ(fw_pin_counters(fw, &a, &pkts, &bytes), 0);
	CHECK_EQ(pkts, 6);
	CHECK_EQ(bytes, 360);
	/* gone: -1 with ENOENT */
	CHECK_EQ(apply(fw, FW_DEL, &a), 0);
	errno = 0;
	CHECK_EQ(fw_pin_counters(fw, &a, &pkts, &bytes), -1);
	CHECK_EQ(errno, ENOENT);
	fw_free(fw);
}

static struct fw_item resync_items[3];
static size_t resync_next;

static int
resync_iter(void *arg, struct fw_item *out)
{
	(void)arg;
	if (resync_next == PG_NELEM(resync_items))
		return 0;
	*out = resync_items[resync_next++];
	return 1;
}

static void
test_resync_failure(void)
{
	struct fw *fw = new_fw();
	struct fw_item a = pin(1, "2001:db8:1::10", 8000), m;
	struct fails f = { 0, 0, 0 };
	uint64_t pkts, bytes;

	CHECK_EQ(apply(fw, FW_ADD, &a), 0);
	/* an injected refusal names the pinhole's proto and internal port */
	a = pin(2, "2001:db8:1::10", 8100);
	fw_mem_inject_failure(fw, MT_TCP, 8100, EPERM);
	fw_queue(fw, FW_ADD, &a);
	a = pin(3, "2001:db8:1::10", 8200);
	fw_queue(fw, FW_ADD, &a);
	CHECK_EQ(fw_commit(fw, on_fail, &f), -1);
	CHECK_EQ(f.n, 1);
	CHECK_EQ(f.err, EPERM);
	CHECK_EQ(f.pin_id, 2);
	CHECK_EQ(fw_mem_pin_count(fw), 2);
	/* a rebuild replaces everything: pinholes (with their counts) and mappings */
	memset(&m, 0, sizeof(m));
	m.kind = MT_KIND_MAP;
	m.proto = MT_UDP;
	m.ext_port = m.ext_port_end = m.int_port = 5000;
	util_parse_addr("192.0.2.10", &m.int_addr);
	resync_items[0] = m;
	resync_items[1] = pin(10, "2001:db8:1::11", 22);
	resync_items[1].pkts = 40;
	resync_items[1].bytes = 4000;
	resync_items[2] = pin(11, "2001:db8:1::11", 23);
	resync_next = 0;
	CHECK_EQ(fw_resync(fw, resync_iter, NULL), 0);
	CHECK_EQ(fw_mem_count(fw), 1);
	CHECK_EQ(fw_mem_pin_count(fw), 2);
	CHECK(fw_mem_pin_lookup(fw, 1) == NULL);
	CHECK_EQ(fw_pin_counters(fw, &resync_items[1], &pkts, &bytes), 0);
	CHECK_EQ(pkts, 40);
	CHECK_EQ(bytes, 4000);
	fw_free(fw);
}

/* MT_MAX_PINHOLES pinholes: every operation must stay cheap (a map by ID, not a list). */
static void
test_scale(void)
{
	struct fw *fw = new_fw();
	struct fw_item it = pin(0, "2001:db8:1::10", 1);
	struct fails f = { 0, 0, 0 };
	uint64_t pkts = 0, bytes = 0;
	clock_t t0 = clock();
	uint32_t i;
	double secs;

	for (i = 1; i <= MT_MAX_PINHOLES; i++) {
		it.pin_id = i;
		it.int_port = (uint16_t)(i % 65535 + 1);
		it.int_addr.s6_addr[13] = (uint8_t)(i >> 16);
		fw_queue(fw, FW_ADD, &it);
	}
	CHECK_EQ(fw_commit(fw, on_fail, &f), 0);
	CHECK_EQ(fw_mem_pin_count(fw), MT_MAX_PINHOLES);
	for (i = 1; i <= MT_MAX_PINHOLES; i++)
		fw_mem_pin_traffic(fw, i, 1, 100);
	it.pin_id = 123456;
	CHECK_EQ(fw_pin_counters(fw, &it, &pkts, &bytes), 0);
	CHECK_EQ(pkts, 1);
	for (i = 1; i <= MT_MAX_PINHOLES; i += 2) {
		it.pin_id = i;
		fw_queue(fw, FW_DEL, &it);
	}
	CHECK_EQ(fw_commit(fw, on_fail, &f), 0);
	CHECK_EQ(f.n, 0);
	CHECK_EQ(fw_mem_pin_count(fw), MT_MAX_PINHOLES / 2);
	CHECK(fw_mem_pin_lookup(fw, 1) == NULL);
	CHECK(fw_mem_pin_lookup(fw, 2) != NULL);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK(secs < 2.0);
	fw_free(fw);
}

/* ---- closed doors ---- */

static struct fake_clock fc = { 1000000 };

static struct mtable *
new_table(struct fw **fwp)
{
	struct pg_clock clk = tu_fake_clock(&fc);

	*fwp = new_fw();
	return mtable_new(*fwp, &clk);
}

static struct mt_request
map_req(int proto, uint16_t ext, uint16_t end, const char *ip, uint16_t iport, uint32_t lease)
{
	struct mt_request q;

	memset(&q, 0, sizeof(q));
	q.proto = (uint8_t)proto;
	q.source = MT_SRC_UPNP;
	q.ext_port = ext;
	q.ext_port_end = end;
	q.int_port = iport;
	q.lease_s = lease;
	q.desc = "t";
	util_parse_addr(ip, &q.int_addr);
	return q;
}

/* Doors closed by the commit of what is queued. */
static size_t
closes_of_commit(struct fw *fw, struct mtable *mt)
{
	size_t before = fw_mem_close_count(fw);

	mtable_commit(mt, NULL, NULL);
	return fw_mem_close_count(fw) - before;
}

/* Delete, expiry, flush and re-pointing close; renewals do not. */
static void
test_close_map(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q = map_req(MT_UDP, 7400, 0, "192.0.2.10", 7400, 3);
	struct mt_entry *e;
	const struct fw_item *last;
	int partial = -1;

	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	CHECK(fw_mem_last_close(fw, NULL) == NULL);
	/* a renewal is a DEL and an ADD of the same door in one batch: not a close */
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	CHECK_EQ(mtable_renew(mt, e, 60), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	/* the lease ends: the door closes */
	CHECK_EQ(mtable_renew(mt, e, 3), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	fc.now += 3000;
	CHECK_EQ(mtable_expire(mt), 1);
	CHECK_EQ(closes_of_commit(fw, mt), 1);
	last = fw_mem_last_close(fw, &partial);
	CHECK(last != NULL && last->proto == MT_UDP && last->ext_port == 7400 &&
	    last->kind == MT_KIND_MAP);
	CHECK_EQ(partial, 0);
	/* added and deleted in one batch: closes too (the add may have landed meanwhile) */
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	mtable_del(mt, e);
	CHECK_EQ(closes_of_commit(fw, mt), 1);
	/* re-pointed by its holder to another internal port: the old door closes */
	q = map_req(MT_TCP, 7402, 0, "192.0.2.10", 7402, 600);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	q.int_port = 7403;
	q.replace_own = 1;
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 1);
	CHECK_EQ(fw_mem_last_close(fw, NULL)->int_port, 7402);
	/* a flush closes every door in one commit; a range is one door */
	q = map_req(MT_TCP, 7100, 7110, "192.0.2.11", 7100, 0);
	q.source = MT_SRC_STATIC;
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	CHECK_EQ(mtable_flush(mt, MT_NSOURCE), 2);
	CHECK_EQ(closes_of_commit(fw, mt), 2);
	mtable_free(mt);
	fw_free(fw);
}

/* A renewal with other remotes: fewer close the door partly, more do not close it. */
static void
test_close_filters(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q = map_req(MT_UDP, 7500, 0, "192.0.2.10", 7500, 600);
	struct mt_filter f[2];
	struct mt_entry *e;
	int partial = -1;

	memset(f, 0, sizeof(f));
	util_parse_addr("198.51.100.0", &f[0].addr);
	f[0].plen = 96 + 24;
	util_parse_addr("198.51.100.100", &f[1].addr);
	f[1].plen = 128;
	f[1].port = 40000;
	q.filters = f;
	q.nfilters = 1;
	q.set_filters = 1;
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	/* narrower: one host and port of the /24 */
	q.filters = &f[1];
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 1);
	CHECK(fw_mem_last_close(fw, &partial) != NULL);
	CHECK_EQ(partial, 1);
	/* wider again, then anyone: nothing that was let in is shut out */
	q.filters = &f[0];
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	q.nfilters = 0;
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	/* and from anyone to one /24: partly closed */
	q.filters = &f[0];
	q.nfilters = 1;
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 1);
	CHECK(fw_mem_last_close(fw, &partial) != NULL && partial == 1);
	mtable_free(mt);
	fw_free(fw);
}

/* Pinholes close like mappings; PEER pins never close a door; a refused re-add closes it. */
static void
test_close_kinds(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_pin_req pq;
	struct mt_peer_req rq;
	struct mt_request q = map_req(MT_TCP, 7600, 0, "192.0.2.10", 7600, 600);
	struct mt_entry *e;
	const struct fw_item *last;

	memset(&pq, 0, sizeof(pq));
	pq.proto = MT_UDP;
	pq.source = MT_SRC_STATIC;
	pq.int_port = 7600;
	pq.lease_s = 60;
	util_parse_addr("2001:db8:1::10", &pq.int_addr);
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &e, NULL), MT_OK);	/* renewal */
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	mtable_del(mt, e);
	CHECK_EQ(closes_of_commit(fw, mt), 1);
	last = fw_mem_last_close(fw, NULL);
	CHECK(last != NULL && last->kind == MT_KIND_PINHOLE && last->int_port == 7600);

	memset(&rq, 0, sizeof(rq));
	rq.proto = MT_UDP;
	rq.source = MT_SRC_PCP;
	rq.int_port = 5000;
	rq.peer_port = 3478;
	rq.ext_port = 5000;
	rq.lease_s = 60;
	util_parse_addr("192.0.2.10", &rq.int_addr);
	util_parse_addr("198.51.100.100", &rq.peer_addr);
	util_parse_addr("198.51.100.1", &rq.ext_addr);
	CHECK_EQ(mtable_peer(mt, &rq, &e), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	mtable_del(mt, e);
	CHECK_EQ(closes_of_commit(fw, mt), 0);	/* the flow is the LAN host's own */

	/* a renewal whose add the backend refuses leaves the door closed */
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	fw_mem_inject_failure(fw, MT_TCP, 7600, ENOSPC);
	CHECK_EQ(mtable_renew(mt, e, 600), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 1);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7600) == NULL);	/* rolled back */
	mtable_free(mt);
	fw_free(fw);
}

/* A rebuild drops the queue: its deletes still close their doors, its renewals do not. */
static void
test_close_resync(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q = map_req(MT_UDP, 7700, 0, "192.0.2.10", 7700, 600);
	struct mt_entry *a, *b;

	CHECK_EQ(mtable_add(mt, &q, &a, NULL), MT_OK);
	q.ext_port = q.int_port = 7701;
	CHECK_EQ(mtable_add(mt, &q, &b, NULL), MT_OK);
	CHECK_EQ(closes_of_commit(fw, mt), 0);
	CHECK_EQ(mtable_renew(mt, a, 600), MT_OK);
	mtable_del(mt, b);
	CHECK_EQ(fw_pending(fw), 3);
	CHECK_EQ(mtable_resync(mt), 0);
	CHECK_EQ(fw_pending(fw), 0);
	CHECK_EQ(fw_mem_close_count(fw), 1);
	CHECK_EQ(fw_mem_last_close(fw, NULL)->ext_port, 7701);
	CHECK_EQ(fw_mem_count(fw), 1);
	mtable_free(mt);
	fw_free(fw);
}

/* Many closes and renewals in one batch: every delete is paired in log time. */
static void
test_close_scale(void)
{
	struct fw *fw = new_fw();
	struct fw_item it;
	clock_t t0 = clock();
	uint32_t i;

	memset(&it, 0, sizeof(it));
	it.proto = MT_UDP;
	util_parse_addr("192.0.2.10", &it.int_addr);
	for (i = 1; i <= 60000; i++) {
		it.id = i;
		it.ext_port = it.ext_port_end = it.int_port = (uint16_t)i;
		fw_queue(fw, FW_ADD, &it);
	}
	CHECK_EQ(fw_commit(fw, NULL, NULL), 0);
	for (i = 1; i <= 60000; i++) {
		it.id = i;
		it.ext_port = it.ext_port_end = it.int_port = (uint16_t)i;
		fw_queue(fw, FW_DEL, &it);
		if (i % 2 == 0)
			fw_queue(fw, FW_ADD, &it);	/* every other one renewed */
	}
	CHECK_EQ(fw_commit(fw, NULL, NULL), 0);
	CHECK_EQ(fw_mem_close_count(fw), 30000);
	CHECK_EQ(fw_mem_last_close(fw, NULL)->ext_port, 59999);
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
	fw_free(fw);
}

/* ---- opened doors ---- */

/* Doors opened by the commit of what is queued. */
static size_t
opens_of_commit(struct fw *fw, struct mtable *mt)
{
	size_t before = fw_mem_open_count(fw);

	mtable_commit(mt, NULL, NULL);
	return fw_mem_open_count(fw) - before;
}

/* A new mapping opens; renewals do not; re-pointing, expiry and a new add do; a refusal not. */
static void
test_open_map(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q = map_req(MT_UDP, 7400, 0, "192.0.2.10", 7400, 3);
	struct mt_filter f;
	struct mt_entry *e;
	const struct fw_item *last;

	CHECK(fw_mem_last_open(fw) == NULL);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 1);
	last = fw_mem_last_open(fw);
	CHECK(last != NULL && last->kind == MT_KIND_MAP && last->proto == MT_UDP &&
	    last->ext_port == 7400 && last->int_port == 7400);
	/* renewals, and a renewal with remotes: the same door, no new port */
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 0);
	CHECK_EQ(mtable_renew(mt, e, 60), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 0);
	memset(&f, 0, sizeof(f));
	util_parse_addr("198.51.100.0", &f.addr);
	f.plen = 96 + 24;
	q.filters = &f;
	q.nfilters = 1;
	q.set_filters = 1;
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 0);
	q.nfilters = 0;
	q.filters = NULL;
	/* the lease ends, then the port is mapped again: a new door */
	CHECK_EQ(mtable_renew(mt, e, 3), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 0);
	fc.now += 3000;
	CHECK_EQ(mtable_expire(mt), 1);
	CHECK_EQ(opens_of_commit(fw, mt), 0);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 1);
	/* added and deleted in one batch: not open after it */
	mtable_del(mt, e);
	CHECK_EQ(opens_of_commit(fw, mt), 0);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	mtable_del(mt, e);
	CHECK_EQ(opens_of_commit(fw, mt), 0);
	/* re-pointed to another internal port: its own endpoint changed, the door is new */
	q = map_req(MT_TCP, 7402, 0, "192.0.2.10", 7402, 600);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 1);
	q.int_port = 7403;
	q.replace_own = 1;
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 1);
	CHECK_EQ(fw_mem_last_open(fw)->int_port, 7403);
	/* an add the backend refuses opens nothing */
	q = map_req(MT_UDP, 7404, 0, "192.0.2.10", 7404, 600);
	fw_mem_inject_failure(fw, MT_UDP, 7404, ENOSPC);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 0);
	CHECK(mtable_lookup_ext(mt, MT_UDP, 7404) == NULL);
	/* a range is one door, its whole span */
	q = map_req(MT_UDP, 7100, 7110, "192.0.2.11", 7100, 0);
	q.source = MT_SRC_STATIC;
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 1);
	last = fw_mem_last_open(fw);
	CHECK(last->ext_port == 7100 && last->ext_port_end == 7110);
	mtable_free(mt);
	fw_free(fw);
}

/* Pinholes and PEER pins open no port of the WAN address; a rebuild's queued adds open. */
static void
test_open_kinds(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_pin_req pq;
	struct mt_peer_req rq;
	struct mt_request q = map_req(MT_UDP, 7700, 0, "192.0.2.10", 7700, 600);
	struct mt_entry *e, *a;

	memset(&pq, 0, sizeof(pq));
	pq.proto = MT_UDP;
	pq.source = MT_SRC_STATIC;
	pq.int_port = 7600;
	pq.lease_s = 60;
	util_parse_addr("2001:db8:1::10", &pq.int_addr);
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &e, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 0);
	memset(&rq, 0, sizeof(rq));
	rq.proto = MT_UDP;
	rq.source = MT_SRC_PCP;
	rq.int_port = 5000;
	rq.peer_port = 3478;
	rq.ext_port = 5000;
	rq.lease_s = 60;
	util_parse_addr("192.0.2.10", &rq.int_addr);
	util_parse_addr("198.51.100.100", &rq.peer_addr);
	util_parse_addr("198.51.100.1", &rq.ext_addr);
	CHECK_EQ(mtable_peer(mt, &rq, &e), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 0);

	/* a rebuild drops the queue: its adds still open their doors, its renewals do not */
	CHECK_EQ(mtable_add(mt, &q, &a, NULL), MT_OK);
	CHECK_EQ(opens_of_commit(fw, mt), 1);
	CHECK_EQ(mtable_renew(mt, a, 600), MT_OK);
	q.ext_port = q.int_port = 7701;
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	CHECK_EQ(mtable_resync(mt), 0);
	CHECK_EQ(fw_mem_open_count(fw), 2);
	CHECK_EQ(fw_mem_last_open(fw)->ext_port, 7701);
	CHECK_EQ(mtable_resync(mt), 0);		/* nothing queued: nothing new */
	CHECK_EQ(fw_mem_open_count(fw), 2);
	mtable_free(mt);
	fw_free(fw);
}

/* Many adds in one batch open each; many renewals open none; in log time. */
static void
test_open_scale(void)
{
	struct fw *fw = new_fw();
	struct fw_item it;
	clock_t t0 = clock();
	uint32_t i;

	memset(&it, 0, sizeof(it));
	it.proto = MT_UDP;
	util_parse_addr("192.0.2.10", &it.int_addr);
	for (i = 1; i <= 60000; i++) {
		it.id = i;
		it.ext_port = it.ext_port_end = it.int_port = (uint16_t)i;
		fw_queue(fw, FW_ADD, &it);
	}
	CHECK_EQ(fw_commit(fw, NULL, NULL), 0);
	CHECK_EQ(fw_mem_open_count(fw), 60000);
	for (i = 1; i <= 60000; i++) {
		it.id = i;
		it.ext_port = it.ext_port_end = it.int_port = (uint16_t)i;
		fw_queue(fw, FW_DEL, &it);
		fw_queue(fw, FW_ADD, &it);
	}
	CHECK_EQ(fw_commit(fw, NULL, NULL), 0);
	CHECK_EQ(fw_mem_open_count(fw), 60000);
	CHECK_EQ(fw_mem_close_count(fw), 0);
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
	fw_free(fw);
}

/* The seam's capability queries: callers ask, they never compare backend names. */
static void
test_capabilities(void)
{
	struct fw *fw = fw_new("none", NULL, NULL);
	struct fw_trig_port tp = { MT_TCP, 7000, 7000 };

	CHECK(fw_backend_valid("nftables"));
	CHECK(fw_backend_valid("none"));
	CHECK(!fw_backend_valid("iptables"));
	CHECK(!fw_backend_valid(NULL));
	CHECK(fw_backend_in_kernel("nftables"));
	CHECK(!fw_backend_in_kernel("none"));
	CHECK(fw_backend_valid(fw_backend_default()));
	CHECK(fw_backend_in_kernel(fw_backend_default()));
	CHECK(!fw_in_kernel(NULL));
	CHECK(!fw_in_kernel(fw));
	CHECK(!fw_has(NULL, FW_CAP_KERNEL));
	CHECK(!fw_has(fw, FW_CAP_KERNEL));
	CHECK(!fw_has(fw, FW_CAP_NFLOG));
	CHECK_EQ(fw_set_trigger_ports(fw, &tp, 1), 0);	/* no kernel: nothing to install */
	fw_mem_pretend_kernel(fw);
	CHECK(fw_in_kernel(fw));
	CHECK(fw_has(fw, FW_CAP_KERNEL));
	CHECK(!fw_has(fw, FW_CAP_NFLOG));	/* it pretends a kernel, not an NFLOG group */
	CHECK(!fw_has(fw, FW_CAP_KERNEL | FW_CAP_NFLOG));
	fw_free(fw);
	/* after fw_init too, with state to keep */
	fw = fw_new("none", NULL, NULL);
	CHECK_EQ(fw_init(fw), 0);
	fw_mem_pretend_kernel(fw);
	CHECK(fw_has(fw, FW_CAP_KERNEL));
	CHECK_EQ(fw_mem_count(fw), 0);
	fw_free(fw);
}

int
main(void)
{
	test_capabilities();
	test_add_del();
	test_counters();
	test_resync_failure();
	test_scale();
	test_close_map();
	test_close_filters();
	test_close_kinds();
	test_close_resync();
	test_close_scale();
	test_open_map();
	test_open_kinds();
	test_open_scale();
	return tu_done("test_fw_mem");
}
