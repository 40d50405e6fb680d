/*
 * bench_mtable.c - per-operation cost of the mapping table at 0, 10k and
 * 100k entries (in-memory firewall). Prints figures; asserts nothing.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fw/fw.h"
#include "log.h"
#include "mtable.h"
#include "util.h"

#define OPS	20000

static uint64_t fake_ms = 1000;

static uint64_t
now_ms(void *arg)
{
	(void)arg;
	return fake_ms;
}

static double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct mt_request
req(int proto, uint16_t port, uint32_t i)
{
	struct mt_request q;

	memset(&q, 0, sizeof(q));
	q.proto = (uint8_t)proto;
	q.source = MT_SRC_UPNP;
	q.ext_port = port;
	q.int_port = port;
	q.lease_s = 100 + i % 5000;
	q.int_addr.s6_addr[10] = q.int_addr.s6_addr[11] = 0xff;
	q.int_addr.s6_addr[12] = 192;
	q.int_addr.s6_addr[14] = 2;
	q.int_addr.s6_addr[15] = (uint8_t)(1 + i % 250);
	q.desc = "bench";
	return q;
}

/* Fill: tcp ports 1.. then udp; bench ops use ports 60000+ so they never collide. */
static void
fill(struct mtable *mt, size_t n)
{
	struct mt_request q;
	size_t i;

	for (i = 0; i < n; i++) {
		q = req((int)(i / 55000), (uint16_t)(1 + i % 55000), (uint32_t)i);
		mtable_add(mt, &q, NULL, NULL);
	}
	mtable_commit(mt, NULL, NULL);
}

static void
bench(size_t n)
{
	struct pg_clock clk = { now_ms, NULL };
	struct fw *fw = fw_new("none", NULL, NULL);
	struct mtable *mt;
	struct mt_entry *e;
	struct mt_request q;
	struct in6_addr a;
	double t0, t_add, t_lookup, t_at, t_free, t_renew, t_del;
	uint16_t port;
	size_t i;
	volatile size_t sink = 0;

	fw_init(fw);
	mt = mtable_new(fw, &clk);
	fill(mt, n);
	t0 = secs();
	for (i = 0; i < OPS; i++) {
		q = req(i & 1, (uint16_t)(60000 + i / 2 % 5000), (uint32_t)i);
		mtable_add(mt, &q, NULL, NULL);
		mtable_commit(mt, NULL, NULL);
	}
	t_add = secs() - t0;
	t0 = secs();
	for (i = 0; i < OPS; i++)
		sink += mtable_lookup_ext(mt, i & 1, (uint16_t)(60000 + i % 5000)) != NULL;
	t_lookup = secs() - t0;
	t0 = secs();
	for (i = 0; i < OPS; i++)
		sink += mtable_at(mt, (i * 7919) % mtable_count(mt)) != NULL;
	t_at = secs() - t0;
	util_parse_addr("192.0.2.7", &a);
	t0 = secs();
	for (i = 0; i < OPS; i++)
		sink += mtable_find_free(mt, MT_UDP, MT_SRC_UPNP, (uint16_t)(1024 + i % 1000), &a,
		    80, &port) == MT_OK;
	t_free = secs() - t0;
	t0 = secs();
	for (i = 0; i < OPS; i++) {
		if ((e = mtable_lookup_ext(mt, i & 1, (uint16_t)(60000 + i % 5000))) != NULL)
			mtable_renew(mt, e, 300);
		mtable_commit(mt, NULL, NULL);
	}
	t_renew = secs() - t0;
	t0 = secs();
	for (i = 0; i < OPS; i++) {
		if ((e = mtable_lookup_ext(mt, i & 1, (uint16_t)(60000 + i / 2 % 5000))) != NULL)
			mtable_del(mt, e);
		mtable_commit(mt, NULL, NULL);
	}
	t_del = secs() - t0;
	printf("%8zu  %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f\n", n,
	    t_add / OPS * 1e9, t_lookup / OPS * 1e9, t_at / OPS * 1e9, t_free / OPS * 1e9,
	    t_renew / OPS * 1e9, t_del / OPS * 1e9);
	(void)sink;
	mtable_free(mt);
	fw_free(fw);
}

int
main(void)
{
	log_setverbose(-2);
	printf("mapping table, in-memory firewall; ns per operation (add/renew/delete include commit)\n");
	printf("%8s  %9s %9s %9s %9s %9s %9s\n", "entries", "add", "lookup", "index", "freeport",
	    "renew", "delete");
	bench(0);
	bench(10000);
	bench(100000);
	return 0;
}
