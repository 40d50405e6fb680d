/* test_mtable.c - the mapping table: conflicts, ranges, quota, policy, expiry, scale. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/fw.h"
#include "mt_core.h"
#include "fw/fw_mem.h"
#include "mtable.h"
#include "policy.h"
#include "testutil.h"
#include "util.h"

static struct fake_clock fc = { 1000000 };

/*
 * Out of memory on demand: the table's lease heap grows with reallocarray,
 * and this one (the program's own, so the library's calls come here) fails
 * the next fail_reallocs calls.
 */
static int fail_reallocs;

void *
reallocarray(void *p, size_t n, size_t size)
{
	if (fail_reallocs > 0) {
		fail_reallocs--;
		errno = ENOMEM;
		return NULL;
	}
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

static struct mt_request
req(int proto, int source, uint16_t ext, uint16_t end, const char *ip, uint16_t iport,
    uint32_t lease)
{
	struct mt_request q;

	memset(&q, 0, sizeof(q));
	q.proto = (uint8_t)proto;
	q.source = (uint8_t)source;
	q.ext_port = ext;
	q.ext_port_end = end;
	q.int_port = iport;
	q.lease_s = lease;
	util_parse_addr(ip, &q.int_addr);
	q.desc = "test";
	return q;
}

static struct mtable *
new_table(struct fw **fwp)
{
	return tu_mem_table(&fc, fwp);
}

static void
test_conflicts(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	const struct mt_entry *c = NULL;
	struct mt_entry *e, *e2;

	q = req(MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0);
	CHECK_EQ(mtable_add(mt, &q, &e, &c), MT_OK);
	CHECK_EQ(e->int_port, 80);
	/* another client on the same port: conflict naming the holder */
	q = req(MT_TCP, MT_SRC_UPNP, 8080, 0, "192.0.2.11", 8080, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, &c), MT_ERR_CONFLICT);
	CHECK(c == e);
	/* same port, other protocol: fine */
	q = req(MT_UDP, MT_SRC_UPNP, 8080, 0, "192.0.2.11", 8080, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	/* a range overlapping a single port conflicts */
	q = req(MT_TCP, MT_SRC_TRIGGER, 8000, 8100, "192.0.2.12", 0, 30);
	CHECK_EQ(mtable_add(mt, &q, NULL, &c), MT_ERR_CONFLICT);
	CHECK(c == e);
	/* a range elsewhere is fine; a single port inside it conflicts */
	q = req(MT_TCP, MT_SRC_TRIGGER, 7100, 7110, "192.0.2.12", 0, 30);
	CHECK_EQ(mtable_add(mt, &q, &e2, NULL), MT_OK);
	q = req(MT_TCP, MT_SRC_PCP, 7105, 0, "192.0.2.13", 7105, 30);
	CHECK_EQ(mtable_add(mt, &q, NULL, &c), MT_ERR_CONFLICT);
	CHECK(c == e2);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7110) == e2);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7111) == NULL);
	/* ranges touching at the edge conflict; adjacent ones do not */
	q = req(MT_TCP, MT_SRC_STATIC, 7110, 7120, "192.0.2.13", 0, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_CONFLICT);
	q = req(MT_TCP, MT_SRC_STATIC, 7111, 7120, "192.0.2.13", 0, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	/* the same client asking again renews instead of conflicting */
	fc.now += 10000;
	q = req(MT_UDP, MT_SRC_UPNP, 8080, 0, "192.0.2.11", 8080, 60);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(mtable_remaining(mt, e), 60);
	CHECK_EQ(mtable_count(mt), 4);
	/* invalid requests */
	q = req(MT_TCP, MT_SRC_STATIC, 0, 0, "192.0.2.10", 80, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_INVAL);
	q = req(MT_TCP, MT_SRC_STATIC, 100, 90, "192.0.2.10", 80, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_INVAL);
	q = req(MT_TCP, MT_SRC_STATIC, 100, 200, "192.0.2.10", 65500, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_INVAL);
	/* delete frees every slot of a range */
	mtable_del(mt, e2);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7105) == NULL);
	q = req(MT_TCP, MT_SRC_PCP, 7105, 0, "192.0.2.13", 7105, 30);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	mtable_free(mt);
	fw_free(fw);
}

static void
test_quota_policy(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct policy pol = { NULL, 0 };
	struct policy_rule r;
	struct mt_request q;
	struct in6_addr a;
	char rule1[] = "1024-65535 192.0.2.0/25 1024-65535";
	char rule2[] = "0-65535 0.0.0.0/0 0-65535";
	char err[100];
	uint16_t port;
	int i;

	CHECK_EQ(policy_parse_rule(&r, 1, rule1, err, sizeof(err)), 0);
	policy_append(&pol, &r);
	/* miniupnpd's stock last rule: 0-65535 is every port (1-65535) */
	CHECK_EQ(policy_parse_rule(&r, 0, rule2, err, sizeof(err)), 0);
	CHECK_EQ(r.ext_lo, 1);
	CHECK_EQ(r.ext_hi, 65535);
	CHECK_EQ(r.int_lo, 1);
	CHECK_EQ(r.plen, 96);
	policy_append(&pol, &r);
	mtable_set_policy(mt, &pol);
	mtable_set_limits(mt, 3, 3600);

	q = req(MT_TCP, MT_SRC_UPNP, 5000, 0, "192.0.2.10", 5000, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	/* low external port: denied for protocols, allowed for the admin */
	q = req(MT_TCP, MT_SRC_UPNP, 80, 0, "192.0.2.10", 80, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_DENIED);
	q.source = MT_SRC_STATIC;
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	/* address outside the allowed /25 */
	q = req(MT_TCP, MT_SRC_PCP, 5001, 0, "192.0.2.200", 5001, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_DENIED);
	/* quota: 3 protocol mappings per client; static ones do not count */
	for (i = 1; i < 3; i++) {
		q = req(MT_UDP, MT_SRC_NATPMP, (uint16_t)(6000 + i), 0, "192.0.2.10", 6000, 60);
		CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	}
	util_parse_addr("192.0.2.10", &a);
	CHECK_EQ(mtable_client_count(mt, &a), 3);
	q = req(MT_UDP, MT_SRC_NATPMP, 6010, 0, "192.0.2.10", 6010, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_QUOTA);
	q = req(MT_UDP, MT_SRC_NATPMP, 6010, 0, "192.0.2.11", 6010, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	/* lease cap: permanent protocol requests get max_lease */
	{
		struct mt_entry *e = mtable_lookup_ext(mt, MT_TCP, 5000);
		CHECK_EQ(mtable_remaining(mt, e), 3600);
	}
	/* free-port search skips taken and denied ports, wraps around */
	q = req(MT_TCP, MT_SRC_UPNP, 5001, 0, "192.0.2.11", 5001, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	CHECK_EQ(mtable_find_free(mt, MT_TCP, MT_SRC_UPNP, 5000, &a, 5000, &port), MT_OK);
	CHECK_EQ(port, 5002);
	CHECK_EQ(mtable_find_free(mt, MT_TCP, MT_SRC_UPNP, 80, &a, 5000, &port), MT_OK);
	CHECK_EQ(port, 1024);
	q = req(MT_TCP, MT_SRC_STATIC, 65535, 0, "192.0.2.11", 65535, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	CHECK_EQ(mtable_find_free(mt, MT_TCP, MT_SRC_UPNP, 65535, &a, 5000, &port), MT_OK);
	CHECK_EQ(port, 1024);
	mtable_free(mt);
	fw_free(fw);
	policy_clear(&pol);
}

static void
test_expiry_order(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	struct mt_entry *e;
	static const uint16_t ports[] = { 9000, 100, 5000, 7000 };
	static const uint32_t leases[] = { 30, 10, 0, 20 };
	size_t i;

	for (i = 0; i < 4; i++) {
		q = req(MT_TCP, MT_SRC_STATIC, ports[i], 0, "192.0.2.10", ports[i], leases[i]);
		CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	}
	q = req(MT_UDP, MT_SRC_STATIC, 50, 0, "192.0.2.10", 50, 15);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_count(fw), 5);
	/* index order: tcp by port, then udp */
	CHECK_EQ(mtable_at(mt, 0)->ext_port, 100);
	CHECK_EQ(mtable_at(mt, 1)->ext_port, 5000);
	CHECK_EQ(mtable_at(mt, 2)->ext_port, 7000);
	CHECK_EQ(mtable_at(mt, 3)->ext_port, 9000);
	CHECK_EQ(mtable_at(mt, 4)->proto, MT_UDP);
	CHECK(mtable_at(mt, 5) == NULL);
	for (i = 0, e = mtable_next(mt, NULL); e != NULL; e = mtable_next(mt, e))
		i++;
	CHECK_EQ(i, 5);
	CHECK_EQ(mtable_next_expiry(mt), fc.now + 10000);
	/* nothing expires early */
	fc.now += 9999;
	CHECK_EQ(mtable_expire(mt), 0);
	fc.now += 1;
	CHECK_EQ(mtable_expire(mt), 1);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 100) == NULL);
	/* renewal pushes a lease out */
	e = mtable_lookup_ext(mt, MT_UDP, 50);
	CHECK_EQ(mtable_renew(mt, e, 100), MT_OK);
	fc.now += 25000;
	CHECK_EQ(mtable_expire(mt), 2);		/* 7000 (20s) and 9000 (30s) */
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7000) == NULL);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9000) == NULL);
	fc.now += 10000;
	mtable_expire(mt);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9000) == NULL);
	CHECK(mtable_lookup_ext(mt, MT_UDP, 50) != NULL);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 5000) != NULL);	/* permanent */
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_count(fw), 2);
	CHECK(fw_mem_lookup(fw, MT_TCP, 7000) == NULL);
	/* flush by source */
	CHECK_EQ(mtable_flush(mt, MT_SRC_UPNP), 0);
	CHECK_EQ(mtable_flush(mt, MT_SRC_STATIC), 2);
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_count(fw), 0);
	mtable_free(mt);
	fw_free(fw);
}

static int fail_calls;
static int fail_err;

static void
on_fail(void *arg, uint64_t id, int proto, uint16_t port, int err)
{
	(void)arg;
	(void)id;
	(void)proto;
	(void)port;
	fail_calls++;
	fail_err = err;
}

static void
test_fw_failure(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;

	fw_mem_inject_failure(fw, MT_TCP, 8081, EPERM);
	q = req(MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_TCP, MT_SRC_STATIC, 8081, 0, "192.0.2.10", 81, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_TCP, MT_SRC_STATIC, 8082, 0, "192.0.2.10", 82, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	CHECK_EQ(fw_pending(fw), 3);
	mtable_commit(mt, on_fail, NULL);
	/* the refused one is rolled back; the rest of the batch landed */
	CHECK_EQ(fail_calls, 1);
	CHECK_EQ(fail_err, EPERM);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 8081) == NULL);
	CHECK_EQ(mtable_count(mt), 2);
	CHECK_EQ(fw_mem_count(fw), 2);
	CHECK_EQ(fw_pending(fw), 0);
	/* resync rebuilds the backend from the table */
	mtable_resync(mt);
	CHECK_EQ(fw_mem_count(fw), 2);
	mtable_free(mt);
	fw_free(fw);
}

static void
test_scale(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	struct mt_entry *e;
	char ip[32];
	size_t i, n = 0;

	for (i = 0; i < 100000; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%zu", 1 + i % 250);
		q = req((int)(i / 50000), MT_SRC_STATIC, (uint16_t)(1 + i % 50000), 0, ip,
		    (uint16_t)(1 + i % 60000), (uint32_t)(i % 3 ? 100 + i % 1000 : 0));
		if (mtable_add(mt, &q, NULL, NULL) == MT_OK)
			n++;
	}
	CHECK_EQ(n, 100000);
	CHECK_EQ(mtable_count(mt), 100000);
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_count(fw), 100000);
	CHECK_EQ(mtable_at(mt, 99999)->ext_port, 50000);
	CHECK_EQ(mtable_at(mt, 99999)->proto, MT_UDP);
	CHECK_EQ(mtable_at(mt, 50000)->ext_port, 1);
	e = mtable_lookup_int(mt, MT_UDP, &mtable_at(mt, 50000)->int_addr,
	    mtable_at(mt, 50000)->int_port);
	CHECK(e == mtable_at(mt, 50000));
	fc.now += 2000 * 1000;
	CHECK_EQ(mtable_expire(mt), 100000 - 33334);
	CHECK_EQ(mtable_count(mt), 33334);
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_count(fw), 33334);
	mtable_free(mt);
	fw_free(fw);
}

static int
count_visit(void *arg, struct mt_entry *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static void
test_owner(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	int n = 0;

	q = req(MT_TCP, MT_SRC_TRIGGER, 7100, 7110, "192.0.2.10", 0, 5);
	q.owner = "game";
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_UDP, MT_SRC_TRIGGER, 7100, 7110, "192.0.2.10", 0, 5);
	q.owner = "game";
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_UDP, MT_SRC_PCP, 9000, 0, "192.0.2.10", 0, 5);
	q.owner = "game";
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	mtable_foreach_owner(mt, MT_SRC_TRIGGER, "game", count_visit, &n);
	CHECK_EQ(n, 2);
	n = 0;
	mtable_foreach_owner(mt, MT_SRC_TRIGGER, "other", count_visit, &n);
	CHECK_EQ(n, 0);
	mtable_free(mt);
	fw_free(fw);
}

/* Freeing a table with ranges (also back to back, on both protocols, up to port 65535). */
static void
test_free_ranges(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;

	q = req(MT_TCP, MT_SRC_STATIC, 7100, 7110, "192.0.2.10", 0, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_TCP, MT_SRC_STATIC, 7111, 7111, "192.0.2.10", 0, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_UDP, MT_SRC_TRIGGER, 65000, 65535, "192.0.2.11", 0, 30);
	q.owner = "game";
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	CHECK_EQ(mtable_count(mt), 3);
	mtable_free(mt);	/* ASan (build-asan) reports a use-after-free here if ranges are freed twice */
	fw_free(fw);
}

/* Renewing with another owner token re-indexes it (found by fuzz_state: a freed entry stayed indexed). */
static void
test_renew_owner(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	int n = 0;

	q = req(MT_UDP, MT_SRC_PCP, 9000, 0, "192.0.2.10", 0, 60);
	q.owner = "nonce-a";
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q.owner = "";
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);	/* a renewal */
	mtable_foreach_owner(mt, MT_SRC_PCP, "nonce-a", count_visit, &n);
	CHECK_EQ(n, 0);
	q.owner = "nonce-b";
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	mtable_foreach_owner(mt, MT_SRC_PCP, "nonce-b", count_visit, &n);
	CHECK_EQ(n, 1);
	CHECK_EQ(mtable_flush(mt, MT_NSOURCE), 1);
	q = req(MT_UDP, MT_SRC_PCP, 9001, 0, "192.0.2.10", 0, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);	/* the index is sound */
	mtable_free(mt);
	fw_free(fw);
}

static struct mt_filter
filt(const char *s)
{
	struct mt_filter f;

	CHECK_EQ(mt_filter_parse(s, &f), 0);
	return f;
}

/*
 * Overlapping filters: the kernel's interval set refuses a duplicate or a prefix inside
 * another of the same port, which cost the whole mapping (NETWORK_FAILURE). The table
 * keeps neither, and puts wider prefixes first.
 */
static void
test_filter_overlap(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	struct mt_filter fl[4];
	struct mt_entry *e = NULL;
	char b[64];

	q = req(MT_TCP, MT_SRC_PCP, 9400, 0, "192.0.2.10", 8100, 300);
	fl[0] = filt("198.51.100.100");
	fl[1] = filt("198.51.100.100");
	q.filters = fl;
	q.nfilters = 2;
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(e->nfilters, 1);
	fl[0] = filt("198.51.100.100:80");
	fl[1] = filt("198.51.100.0/24");
	fl[2] = filt("198.51.100.7/32");
	q.nfilters = 3;
	q.set_filters = 1;
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(e->nfilters, 1);
	CHECK(strcmp(mt_filter_str(&e->filters[0], b, sizeof(b)), "198.51.100.0/24") == 0);
	/* nested prefixes of different ports both stay, the wider first */
	fl[0] = filt("198.51.100.0/25");
	fl[1] = filt("198.51.100.0/24:80");
	fl[2] = filt("203.0.113.0/24:80");
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(e->nfilters, 3);
	CHECK(strcmp(mt_filter_str(&e->filters[0], b, sizeof(b)), "198.51.100.0/24:80") == 0);
	CHECK(strcmp(mt_filter_str(&e->filters[2], b, sizeof(b)), "198.51.100.0/25") == 0);
	mtable_free(mt);
	fw_free(fw);
}

/* A new external address reaches the pins' kernel elements too (they SNAT to it). */
static void
test_peer_ext_addr(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_peer_req r;
	struct mt_entry *e = NULL;
	struct in6_addr moved;

	memset(&r, 0, sizeof(r));
	r.proto = MT_TCP;
	r.source = MT_SRC_PCP;
	util_parse_addr("192.0.2.10", &r.int_addr);
	util_parse_addr("198.51.100.100", &r.peer_addr);
	util_parse_addr("198.51.100.1", &r.ext_addr);
	r.int_port = r.ext_port = 40000;
	r.peer_port = 7000;
	r.lease_s = 600;
	r.owner = "n";
	CHECK_EQ(mtable_peer(mt, &r, &e), MT_OK);
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_pending(fw), 0);
	util_parse_addr("198.51.100.7", &moved);
	mtable_set_peer_addr(mt, &moved);
	CHECK(memcmp(&e->ext_addr, &moved, sizeof(moved)) == 0);
	CHECK_EQ(fw_pending(fw), 2);		/* the old element out, the new one in */
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_peer_count(fw), 1);
	mtable_set_peer_addr(mt, &moved);	/* unchanged: nothing to send */
	CHECK_EQ(fw_pending(fw), 0);
	/* another host's flow may not leave as the same port towards the same end */
	util_parse_addr("192.0.2.11", &r.int_addr);
	CHECK_EQ(mtable_peer(mt, &r, &e), MT_ERR_CONFLICT);
	CHECK(mtable_peer_port_free(mt, MT_TCP, 40001, &r.peer_addr, 7000, NULL));
	r.ext_port = 40001;
	CHECK_EQ(mtable_peer(mt, &r, &e), MT_OK);
	CHECK_EQ(mtable_peer_count(mt), 2);
	mtable_free(mt);
	fw_free(fw);
}

static struct mt_peer_req
peer(int proto, const char *ip, uint16_t iport, uint16_t ext)
{
	struct mt_peer_req r;

	memset(&r, 0, sizeof(r));
	r.proto = (uint8_t)proto;
	r.source = MT_SRC_PCP;
	util_parse_addr(ip, &r.int_addr);
	util_parse_addr("198.51.100.100", &r.peer_addr);
	util_parse_addr("198.51.100.1", &r.ext_addr);
	r.int_port = iport;
	r.peer_port = 7000;
	r.ext_port = ext;
	r.lease_s = 600;
	r.owner = "n";
	return r;
}

/* The external port the table pins r's flow to; 0 if it refuses. */
static uint16_t
pin_port(struct mtable *mt, const struct mt_peer_req *r)
{
	struct mt_entry *e = NULL;

	return mtable_peer(mt, r, &e) == MT_OK ? e->ext_port : 0;
}

/*
 * A pin never leaves by a port an inbound entry sends to another internal
 * endpoint: the remote end's traffic to that port would reach the pinned
 * flow, not the mapping. The table picks the next one, or refuses one asked for.
 */
static void
test_peer_inbound(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	struct mt_peer_req r;
	struct mt_entry *e = NULL;

	q = req(MT_UDP, MT_SRC_PCP, 9000, 0, "192.0.2.10", 9000, 600);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_UDP, MT_SRC_TRIGGER, 9100, 9110, "192.0.2.11", 9100, 600);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	/* B's flow from 9000: not A's 9000 but the next port */
	r = peer(MT_UDP, "192.0.2.11", 9000, 0);
	CHECK_EQ(pin_port(mt, &r), 9001);
	CHECK_EQ(pin_port(mt, &r), 9001);	/* a refresh keeps it */
	/* asked for by name: refused */
	r = peer(MT_UDP, "192.0.2.12", 9000, 9000);
	CHECK_EQ(mtable_peer(mt, &r, &e), MT_ERR_CONFLICT);
	/* the same host, another internal port: refused too (the mapping goes to A:9000) */
	r = peer(MT_UDP, "192.0.2.10", 9500, 9000);
	CHECK_EQ(mtable_peer(mt, &r, &e), MT_ERR_CONFLICT);
	/* the mapping's own endpoint leaves by the mapping's port */
	r = peer(MT_UDP, "192.0.2.10", 9000, 0);
	CHECK_EQ(pin_port(mt, &r), 9000);
	/* a trigger's range: each port belongs to its endpoint in the range */
	r = peer(MT_UDP, "192.0.2.11", 9105, 0);
	CHECK_EQ(pin_port(mt, &r), 9105);
	r = peer(MT_UDP, "192.0.2.10", 9105, 0);
	CHECK_EQ(pin_port(mt, &r), 9111);
	/* the other protocol's 9000 is free */
	r = peer(MT_TCP, "192.0.2.11", 9000, 0);
	CHECK_EQ(pin_port(mt, &r), 9000);
	CHECK_EQ(mtable_peer_count(mt), 5);
	mtable_free(mt);
	fw_free(fw);
}

/* An open flow leaves by the port the kernel gave it: the table takes that one, and never moves it. */
static void
test_peer_open_flow(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	struct mt_peer_req r;
	struct mt_entry *e = NULL;
	struct fw_item flow;

	memset(&flow, 0, sizeof(flow));
	flow.kind = MT_KIND_PEER;
	flow.proto = MT_UDP;
	util_parse_addr("192.0.2.10", &flow.int_addr);
	flow.int_port = 5000;
	util_parse_addr("198.51.100.100", &flow.peer_addr);
	flow.peer_port = 7000;
	fw_mem_flow(fw, &flow, 47123);		/* the masquerade moved it */
	r = peer(MT_UDP, "192.0.2.10", 5000, 0);
	CHECK_EQ(pin_port(mt, &r), 47123);
	/* a pin without an open flow; on a refresh the port the kernel reports wins */
	r.int_port = flow.int_port = 5001;
	CHECK_EQ(pin_port(mt, &r), 5001);
	fw_mem_flow(fw, &flow, 47124);
	CHECK_EQ(pin_port(mt, &r), 47124);
	CHECK_EQ(mtable_peer_count(mt), 2);
	/* an open flow on a port another endpoint maps: not pinned there, nor elsewhere */
	q = req(MT_UDP, MT_SRC_PCP, 9000, 0, "192.0.2.11", 9000, 600);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	flow.int_port = 6000;
	fw_mem_flow(fw, &flow, 9000);
	r.int_port = 6000;
	CHECK_EQ(mtable_peer(mt, &r, &e), MT_ERR_CONFLICT);
	CHECK_EQ(mtable_peer_count(mt), 2);
	mtable_free(mt);
	fw_free(fw);
}

/* A mapping is NAT: an IPv6 internal address is refused by the table, whoever asks. */
static void
test_ipv6_refused(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;

	q = req(MT_TCP, MT_SRC_STATIC, 8080, 0, "2001:db8:1::10", 80, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_ADDR);
	CHECK_EQ(mtable_count(mt), 0);
	mtable_free(mt);
	fw_free(fw);
}

static struct mt_pin_req
pin_req(int source, const char *ip, uint16_t port, const char *remote, uint32_t lease)
{
	struct mt_pin_req q;

	memset(&q, 0, sizeof(q));
	q.proto = MT_TCP;
	q.source = (uint8_t)source;
	util_parse_addr(ip, &q.int_addr);
	q.int_port = port;
	if (remote != NULL)
		CHECK_EQ(mt_filter_parse(remote, &q.remote), 0);
	q.lease_s = lease;
	q.desc = "pin";
	return q;
}

/* Pinholes: IDs, renewal, conflicts of the same key and of clashing kernel elements. */
static void
test_pinhole_basic(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_pin_req q;
	struct mt_entry *e = NULL, *e2 = NULL;
	const struct mt_entry *conflict = NULL;
	struct mt_filter any, f;

	memset(&any, 0, sizeof(any));
	q = pin_req(MT_SRC_UPNP, "2001:db8:1::10", 8000, NULL, 3600);
	CHECK_EQ(mtable_pinhole_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(e->pin_id, 1);
	CHECK_EQ(e->kind, MT_KIND_PINHOLE);
	CHECK_EQ(mtable_count(mt), 0);		/* no external port taken */
	CHECK(mtable_lookup_ext(mt, MT_TCP, 8000) == NULL);
	CHECK_EQ(mtable_pinhole_count(mt), 1);
	CHECK(mtable_pinhole_get(mt, 1) == e);
	CHECK(mtable_pinhole_find(mt, MT_TCP, &q.int_addr, 8000, &any) == e);
	/* the same key again: the same pinhole, a new lease */
	fc.now += 1000000;
	q.lease_s = 7200;
	CHECK_EQ(mtable_pinhole_add(mt, &q, &e2, NULL), MT_OK);
	CHECK(e2 == e);
	CHECK_EQ(mtable_remaining(mt, e), 7200);
	/* another source on the same key: a conflict naming the holder */
	q.source = MT_SRC_PCP;
	q.owner = "nonce";
	CHECK_EQ(mtable_pinhole_add(mt, &q, &e2, &conflict), MT_ERR_CONFLICT);
	CHECK(conflict == e);
	/* a different remote is a different pinhole */
	q = pin_req(MT_SRC_UPNP, "2001:db8:1::10", 8000, "2001:db8:2::100", 3600);
	CHECK_EQ(mtable_pinhole_add(mt, &q, &e2, NULL), MT_OK);
	CHECK(e2 != e);
	CHECK_EQ(e2->pin_id, 2);
	/* a PCP pinhole of any remote filtered to that host would be the same kernel element */
	q = pin_req(MT_SRC_PCP, "2001:db8:1::10", 8000, NULL, 3600);
	CHECK_EQ(mt_filter_parse("2001:db8:2::100", &f), 0);
	q.filters = &f;
	q.nfilters = 1;
	q.owner = "n1";
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_CONFLICT);
	/* prefixes of one endpoint may not overlap (the kernel's interval set refuses it) */
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9000, "2001:db8:2::/48", 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, &e2, NULL), MT_OK);
	CHECK(e2->pin_id >= 65536);
	CHECK_EQ(mtable_remaining(mt, e2), -1);
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9000, "2001:db8:2:1::/64", 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, &conflict), MT_ERR_CONFLICT);
	CHECK(conflict == e2);
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9000, "[2001:db8:3::/48]:53", 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_OK);	/* disjoint */
	/* nested prefixes whose ports overlap (one any port) clash, whichever came first */
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9000, "2001:db8:3::/64", 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_CONFLICT);
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9000, "[2001:db8:3::/64]:54", 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_OK);	/* other port: apart */
	CHECK_EQ(mtable_pinhole_count(mt), 5);
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9000, "[2001:db8:3::/64]:54", 0);
	mtable_del(mt, mtable_pinhole_find(mt, MT_TCP, &q.int_addr, 9000, &q.remote));
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9000, "ff02::1", 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_INVAL);	/* admits nothing */
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9000, "::", 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_INVAL);
	/* bad requests */
	q = pin_req(MT_SRC_STATIC, "192.0.2.10", 9000, NULL, 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_INVAL);
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 0, NULL, 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_INVAL);
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9001, "198.51.100.7", 0);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_INVAL);
	q = pin_req(MT_SRC_STATIC, "2001:db8:1::10", 9001, NULL, 0);
	q.desc = "bad\x01";
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_INVAL);
	/* UniqueIDs rotate: a freed ID is not handed out again at once */
	mtable_del(mt, e);
	q = pin_req(MT_SRC_UPNP, "2001:db8:1::11", 8000, NULL, 3600);
	CHECK_EQ(mtable_pinhole_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(e->pin_id, 3);
	CHECK_EQ(mtable_pinhole_count(mt), 4);
	/* the lease clock closes them; permanent ones stay */
	fc.now += 7201 * 1000;
	CHECK_EQ(mtable_expire(mt), 2);
	CHECK_EQ(mtable_pinhole_count(mt), 2);
	CHECK_EQ(mtable_flush(mt, MT_SRC_STATIC), 2);
	CHECK_EQ(mtable_pinhole_count(mt), 0);
	CHECK_EQ(mtable_client_count(mt, &q.int_addr), 0);
	mtable_free(mt);
	fw_free(fw);
}

/* Quota, policy and lease caps apply to pinholes as they do to mappings. */
static void
test_pinhole_limits(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct policy pol = { NULL, 0 };
	struct policy_rule r;
	char rule[] = "1-65535 2001:db8:1::66/128 1-65535", err[128];
	struct mt_pin_req q;
	struct mt_entry *e = NULL;

	mtable_set_limits(mt, 2, 600);
	CHECK_EQ(policy_parse_rule(&r, 0, rule, err, sizeof(err)), 0);
	policy_append(&pol, &r);
	mtable_set_policy(mt, &pol);
	q = pin_req(MT_SRC_UPNP, "2001:db8:1::66", 8000, NULL, 3600);
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_DENIED);
	q = pin_req(MT_SRC_UPNP, "2001:db8:1::10", 8000, NULL, 3600);
	CHECK_EQ(mtable_pinhole_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(mtable_remaining(mt, e), 600);		/* max_lease */
	q.int_port = 8001;
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_OK);
	q.int_port = 8002;
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_ERR_QUOTA);
	q.source = MT_SRC_STATIC;		/* the admin is not counted */
	CHECK_EQ(mtable_pinhole_add(mt, &q, NULL, NULL), MT_OK);
	mtable_free(mt);
	policy_clear(&pol);
	fw_free(fw);
}

/* The kernel's counters: read through the table, and kept when a renewal re-adds it. */
static void
test_pinhole_counters(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_pin_req q = pin_req(MT_SRC_UPNP, "2001:db8:1::10", 8000, NULL, 3600);
	struct mt_entry *e = NULL;
	uint64_t pkts = 9, bytes = 9;

	CHECK_EQ(mtable_pinhole_add(mt, &q, &e, NULL), MT_OK);
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_pin_count(fw), 1);
	CHECK_EQ(mtable_pinhole_counters(mt, e, &pkts, &bytes), 0);
	CHECK_EQ(pkts, 0);
	fw_mem_pin_traffic(fw, e->pin_id, 5, 500);
	CHECK_EQ(mtable_pinhole_counters(mt, e, &pkts, &bytes), 0);
	CHECK_EQ(pkts, 5);
	CHECK_EQ(bytes, 500);
	CHECK_EQ(mtable_renew(mt, e, 3600), MT_OK);
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_pin_count(fw), 1);
	fw_mem_pin_traffic(fw, e->pin_id, 1, 100);
	CHECK_EQ(mtable_pinhole_counters(mt, e, &pkts, &bytes), 0);
	CHECK_EQ(pkts, 6);
	CHECK_EQ(bytes, 600);
	mtable_del(mt, e);
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_pin_count(fw), 0);
	mtable_free(mt);
	fw_free(fw);
}

/* 100,000 pinholes: IDs past UPnP's 65535, lookups by ID and key, a resync of them all. */
static void
test_pinhole_scale(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_pin_req q = pin_req(MT_SRC_PCP, "2001:db8:1::10", 1, NULL, 3600);
	struct mt_entry *e = NULL;
	struct mt_filter any;
	size_t i, ok = 0, found = 0;

	memset(&any, 0, sizeof(any));
	q.owner = "n";
	for (i = 0; i < 100000; i++) {
		q.int_addr.s6_addr[13] = (uint8_t)(i / 50000);
		q.int_port = (uint16_t)(1 + i % 50000);
		if (mtable_pinhole_add(mt, &q, &e, NULL) == MT_OK)
			ok++;
	}
	CHECK_EQ(ok, 100000);
	CHECK_EQ(mtable_pinhole_count(mt), 100000);
	CHECK(e->pin_id > 65535 + 100000 - 1);
	CHECK(mtable_pinhole_get(mt, e->pin_id) == e);
	for (i = 0; i < 100000; i += 997)
		if (mtable_pinhole_find(mt, MT_TCP, &e->int_addr, (uint16_t)(1 + i % 50000), &any))
			found++;
	CHECK_EQ(found, (100000 + 996) / 997);
	mtable_commit(mt, NULL, NULL);
	CHECK_EQ(fw_mem_pin_count(fw), 100000);
	CHECK_EQ(mtable_resync(mt), 0);
	CHECK_EQ(fw_mem_pin_count(fw), 100000);
	mtable_free(mt);
	fw_free(fw);
}

/* What the change notification says: the journal writes a whole entry or just its lease from it. */
struct notes {
	char	 log[512];
	uint16_t port;		/* of the last entry named */
};

static void
note(void *arg, enum mt_change what, const struct mt_entry *e)
{
	static const char *const names[] = { "put", "lease", "del", "other", "new", "expire" };
	struct notes *n = arg;
	size_t len = strlen(n->log);

	snprintf(n->log + len, sizeof(n->log) - len, "%s%s", len ? " " : "", names[what]);
	if (e != NULL)
		n->port = e->int_port;	/* readable during the call, a deleted one too */
}

static void
test_notify(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct notes n;
	struct mt_request q;
	struct mt_pin_req p;
	struct mt_entry *e;
	struct in6_addr a;

	memset(&n, 0, sizeof(n));
	mtable_set_notify(mt, note, &n);
	q = req(MT_TCP, MT_SRC_UPNP, 8080, 0, "192.0.2.10", 80, 600);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);		/* new */
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);	/* same again: a renewal */
	CHECK_EQ(mtable_renew(mt, e, 60), MT_OK);
	q.desc = "another";
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);	/* more than the lease */
	q.int_port = 81;
	q.replace_own = 1;
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);		/* re-pointed: replaced */
	mtable_del(mt, e);
	CHECK_EQ(n.port, 81);
	CHECK_STR(n.log, "new lease lease put del new del");
	memset(&n, 0, sizeof(n));
	p = pin_req(MT_SRC_PCP, "2001:db8:1::10", 8000, NULL, 600);
	CHECK_EQ(mtable_pinhole_add(mt, &p, &e, NULL), MT_OK);
	CHECK_EQ(mtable_pinhole_add(mt, &p, NULL, NULL), MT_OK);
	p.desc = "renamed";
	CHECK_EQ(mtable_pinhole_add(mt, &p, NULL, NULL), MT_OK);
	util_parse_addr("198.51.100.9", &a);
	mtable_set_ext_addr(mt, &a);
	mtable_del(mt, e);
	CHECK_STR(n.log, "new lease put other del");
	/* the lease clock's deletions are told apart from the others' */
	memset(&n, 0, sizeof(n));
	q = req(MT_UDP, MT_SRC_UPNP, 8081, 0, "192.0.2.10", 81, 2);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	fc.now += 2000;
	CHECK_EQ(mtable_expire(mt), 1);
	CHECK_STR(n.log, "new expire");
	mtable_free(mt);
	fw_free(fw);
}

/* A host key that makes 192.0.2.10 and .11 one host (as one MAC would). */
static void
one_host(void *arg, const struct in6_addr *a, struct in6_addr *key)
{
	(void)arg;
	*key = *a;
	if (key->s6_addr[15] == 11)
		key->s6_addr[15] = 10;
}

/* The quota counts per host key, not per address. */
static void
test_quota_per_host(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;

	mtable_set_limits(mt, 2, 3600);
	mtable_set_host_key(mt, one_host, NULL);
	q = req(MT_TCP, MT_SRC_PCP, 6001, 0, "192.0.2.10", 6001, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_TCP, MT_SRC_PCP, 6002, 0, "192.0.2.11", 6002, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_TCP, MT_SRC_PCP, 6003, 0, "192.0.2.11", 6003, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_QUOTA);
	q = req(MT_TCP, MT_SRC_PCP, 6004, 0, "192.0.2.12", 6004, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);	/* another host */
	mtable_free(mt);
	fw_free(fw);
}

/* A new client whose mapping runs out of memory is not kept: its claim is released. */
static void
test_add_nomem(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	struct mt_entry *e;

	q = req(MT_TCP, MT_SRC_UPNP, 8080, 0, "192.0.2.10", 8080, 600);
	fail_reallocs = 1;		/* the first lease: the heap's first slots */
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_ERR_NOMEM);
	CHECK_EQ(fail_reallocs, 0);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 8080) == NULL);
	CHECK_EQ(mtable_count(mt), 0);
	CHECK_EQ(mt->clients.count, 0);	/* no client record left behind */
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	CHECK_EQ(mtable_client_count(mt, &q.int_addr), 1);
	CHECK_EQ(mt->clients.count, 1);
	mtable_del(mt, e);
	CHECK_EQ(mt->clients.count, 0);
	mtable_free(mt);
	fw_free(fw);
}

/* The table's status fields, as portgatectl status prints them. */
struct status_buf {
	char	 text[512];
};

static void
status_line(void *arg, const char *name, const char *fmt, ...)
{
	struct status_buf *b = arg;
	size_t len = strlen(b->text);
	va_list ap;

	len += (size_t)snprintf(b->text + len, sizeof(b->text) - len, "%s ", name);
	va_start(ap, fmt);
	if (len < sizeof(b->text))
		len += (size_t)vsnprintf(b->text + len, sizeof(b->text) - len, fmt, ap);
	va_end(ap);
	if (len < sizeof(b->text))
		snprintf(b->text + len, sizeof(b->text) - len, "\n");
}

static void
test_status(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	struct mt_pin_req p;
	struct mt_peer_req r;
	struct mt_entry *e;
	struct status_buf b;

	q = req(MT_TCP, MT_SRC_STATIC, 8080, 0, "192.0.2.10", 80, 0);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_UDP, MT_SRC_PCP, 9000, 9009, "192.0.2.11", 9000, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	q = req(MT_TCP, MT_SRC_PCP, 9100, 0, "192.0.2.11", 9100, 60);
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	p = pin_req(MT_SRC_UPNP, "2001:db8:1::10", 8000, NULL, 600);
	CHECK_EQ(mtable_pinhole_add(mt, &p, NULL, NULL), MT_OK);
	memset(&r, 0, sizeof(r));
	r.proto = MT_UDP;
	r.source = MT_SRC_PCP;
	util_parse_addr("192.0.2.12", &r.int_addr);
	util_parse_addr("203.0.113.5", &r.peer_addr);
	r.int_port = 5000;
	r.peer_port = 6000;
	r.lease_s = 60;
	CHECK_EQ(mtable_peer(mt, &r, &e), MT_OK);
	memset(&b, 0, sizeof(b));
	mtable_status(mt, status_line, &b);
	CHECK_STR(b.text, "mappings 3\npinholes 1\nsource static 1\nsource upnp 0\n"
	    "source pcp 2\nsource natpmp 0\nsource trigger 0\n");
	mtable_free(mt);
	fw_free(fw);
}

int
main(void)
{
	test_add_nomem();
	test_status();
	test_notify();
	test_quota_per_host();
	test_pinhole_basic();
	test_pinhole_limits();
	test_pinhole_counters();
	test_pinhole_scale();
	test_ipv6_refused();
	test_filter_overlap();
	test_peer_ext_addr();
	test_peer_inbound();
	test_peer_open_flow();
	test_free_ranges();
	test_renew_owner();
	test_conflicts();
	test_quota_policy();
	test_expiry_order();
	test_fw_failure();
	test_owner();
	test_scale();
	return tu_done("test_mtable");
}
