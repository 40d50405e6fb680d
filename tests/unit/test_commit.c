/*
 * test_commit.c - one kernel batch per loop turn: mtable_commit_entry's
 * waiters hear, after the commit that takes their entry, whether it landed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "mtable.h"
#include "testutil.h"
#include "util.h"

static struct fake_clock fc = { 1000000 };
static int sched_calls;

struct heard {
	int	 calls;
	int	 err;
};

static void
on_sched(void *arg)
{
	(void)arg;
	sched_calls++;
}

static void
on_landed(void *arg, int err)
{
	struct heard *h = arg;

	h->calls++;
	h->err = err;
}

static struct mt_entry *
add(struct mtable *mt, uint16_t port)
{
	struct mt_request q;
	struct mt_entry *e = NULL;

	memset(&q, 0, sizeof(q));
	q.proto = MT_TCP;
	q.source = MT_SRC_PCP;
	q.ext_port = port;
	q.int_port = port;
	q.lease_s = 600;
	util_parse_addr("192.0.2.10", &q.int_addr);
	q.desc = "test";
	q.owner = "nonce";
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	return e;
}

static struct mtable *
new_table(struct fw **fwp)
{
	return tu_mem_table(&fc, fwp);
}

/* Without a scheduler the entry is committed at once and the waiter hears before return. */
static void
test_at_once(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct heard h = { 0, 0 }, r = { 0, 0 };
	struct mt_entry *e;

	e = add(mt, 5000);
	mtable_commit_entry(mt, e, NULL, on_landed, &h);
	CHECK_EQ(h.calls, 1);
	CHECK_EQ(h.err, 0);
	CHECK_EQ(fw_mem_count(fw), 1);
	fw_mem_inject_failure(fw, MT_TCP, 5001, EPERM);
	e = add(mt, 5001);
	mtable_commit_entry(mt, e, NULL, on_landed, &r);
	CHECK_EQ(r.calls, 1);
	CHECK_EQ(r.err, EPERM);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 5001) == NULL);	/* rolled back */
	mtable_free(mt);
	fw_free(fw);
}

/*
 * With a scheduler, a turn's waiters wait: the owner's one commit sends
 * them in one batch, then each hears about its own entry only.
 */
static void
test_one_batch(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct heard h[8];
	struct heard gone = { 0, 0 };
	int owner_a, owner_b;
	size_t i;

	memset(h, 0, sizeof(h));
	sched_calls = 0;
	mtable_set_commit_sched(mt, on_sched, NULL);
	fw_mem_inject_failure(fw, MT_TCP, 6003, EEXIST);
	for (i = 0; i < 8; i++)
		mtable_commit_entry(mt, add(mt, (uint16_t)(6000 + i)), &owner_a, on_landed, &h[i]);
	mtable_commit_entry(mt, add(mt, 6100), &owner_b, on_landed, &gone);
	CHECK(sched_calls >= 1);
	for (i = 0; i < 8; i++)
		CHECK_EQ(h[i].calls, 0);	/* nothing answered before the kernel has it */
	CHECK_EQ(fw_mem_count(fw), 0);
	mtable_commit_cancel(mt, &owner_b);	/* its owner went away: never called */
	CHECK_EQ(fw_pending(fw), 9);		/* queued, not sent */
	mtable_commit(mt, NULL, NULL);		/* the turn's one batch for the nine */
	CHECK_EQ(fw_pending(fw), 0);
	for (i = 0; i < 8; i++) {
		CHECK_EQ(h[i].calls, 1);
		CHECK_EQ(h[i].err, i == 3 ? EEXIST : 0);
	}
	CHECK_EQ(gone.calls, 0);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 6003) == NULL);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 6100) != NULL);	/* the entry stays: only the answer went */
	CHECK_EQ(fw_mem_count(fw), 8);
	/* a later commit does not call them again */
	mtable_commit(mt, NULL, NULL);
	for (i = 0; i < 8; i++)
		CHECK_EQ(h[i].calls, 1);
	mtable_free(mt);
	fw_free(fw);
}

int
main(void)
{
	test_at_once();
	test_one_batch();
	return tu_done("test_commit");
}
