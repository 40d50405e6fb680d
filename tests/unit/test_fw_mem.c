/* test_fw_mem.c - the in-memory firewall: IPv6 pinholes, their counters, refusals, scale. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fw/fw.h"
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

int
main(void)
{
	test_add_del();
	test_counters();
	test_resync_failure();
	test_scale();
	return tu_done("test_fw_mem");
}
