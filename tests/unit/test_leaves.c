/* test_leaves.c - the table's leaves: Fenwick tree, lease heap, free-port bitmap (against brute force). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fenwick.h"
#include "heap.h"
#include "portbits.h"
#include "testutil.h"

static uint32_t seed = 12345;

static uint32_t
rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

/* Any n, not only the table's power of two: prefix sums and select agree with a plain array. */
static void
test_fenwick(void)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 1000, 4096 };
	struct fenwick f;
	uint32_t w[4096];
	size_t si, n, i, k, sum, slot, rest, bad;

	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		n = sizes[si];
		fenwick_init(&f, n);
		memset(w, 0, sizeof(w));
		for (i = 0; i < 3 * n; i++) {
			slot = rnd() % n;
			if (w[slot] > 0 && rnd() % 3 == 0) {
				fenwick_add(&f, slot, -1);
				w[slot]--;
			} else {
				k = 1 + rnd() % 5;
				fenwick_add(&f, slot, (int32_t)k);
				w[slot] += (uint32_t)k;
			}
		}
		bad = 0;
		for (sum = 0, i = 0; i < n; i++) {
			sum += w[i];
			bad += fenwick_prefix(&f, i) != sum;
		}
		CHECK_EQ(bad, 0);
		/* the k-th unit of weight lies at the slot where the prefix first exceeds k */
		bad = 0;
		for (k = 0, i = 0; i < n; i++) {
			for (rest = 0; rest < w[i]; rest++, k++) {
				size_t r;

				bad += fenwick_select(&f, k, &r) != i || r != rest;
			}
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(fenwick_select(&f, k, NULL), n);	/* past the end */
		fenwick_destroy(&f);
	}
}

struct item {
	uint64_t	 key;
	struct heap_node node;
	int		 in;
};

/* Pushes and removals from anywhere; the top is always the smallest key. */
static void
test_heap(void)
{
	static struct item it[2000];
	struct heap h;
	struct heap_node *top;
	struct item *t;
	size_t i, j, n, bad = 0;
	uint64_t min;

	heap_init(&h);
	CHECK(heap_top(&h) == NULL);
	CHECK_EQ(heap_top_key(&h), 0);
	for (i = 0; i < 20000; i++) {
		j = rnd() % 2000;
		if (it[j].in && rnd() % 2 == 0) {
			heap_remove(&h, &it[j].node);
			it[j].in = 0;
		} else if (!it[j].in) {
			it[j].key = 1 + rnd() % 1000;
			CHECK_EQ(heap_push(&h, &it[j].node, it[j].key), 0);
			it[j].in = 1;
		}
		heap_remove(&h, &it[(j + 1) % 2000].node);	/* out of no heap: nothing */
		it[(j + 1) % 2000].in = 0;
		for (min = UINT64_MAX, n = 0, j = 0; j < 2000; j++)
			if (it[j].in) {
				n++;
				min = it[j].key < min ? it[j].key : min;
			}
		bad += heap_count(&h) != n || (n > 0 && heap_top_key(&h) != min);
		if ((top = heap_top(&h)) != NULL) {
			t = HEAP_ENTRY(top, struct item, node);
			bad += !t->in || t->key != min;
		}
	}
	CHECK_EQ(bad, 0);
	/* drained in key order */
	for (min = 0; (top = heap_top(&h)) != NULL; ) {
		t = HEAP_ENTRY(top, struct item, node);
		bad += t->key < min;
		min = t->key;
		heap_remove(&h, top);
		t->in = 0;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(heap_count(&h), 0);
	heap_destroy(&h);
}

static uint32_t
brute_next_free(const unsigned char *taken, uint32_t from)
{
	uint32_t p;

	for (p = from; p <= 65535; p++)
		if (!taken[p])
			return p;
	return 0;
}

/* The first free port at or after any start, with taken runs long and short. */
static void
test_portbits(void)
{
	static unsigned char taken[65536];
	static struct portbits pb;
	uint32_t lo, hi, from, i, bad = 0;
	int on;

	CHECK_EQ(portbits_next_free(&pb, 1024), 1024);
	portbits_set(&pb, 1024, 65535, 1);		/* everything from 1024 taken */
	memset(taken + 1024, 1, 65536 - 1024);
	CHECK_EQ(portbits_next_free(&pb, 1024), 0);
	CHECK_EQ(portbits_next_free(&pb, 65536), 0);
	portbits_set(&pb, 65535, 65535, 0);
	taken[65535] = 0;
	CHECK_EQ(portbits_next_free(&pb, 1024), 65535);
	for (i = 0; i < 3000; i++) {
		lo = rnd() % 65536;
		hi = lo + rnd() % (i % 10 == 0 ? 9000 : 70);
		hi = hi > 65535 ? 65535 : hi;
		on = rnd() % 3 != 0;
		portbits_set(&pb, (uint16_t)lo, (uint16_t)hi, on);
		memset(taken + lo, on, hi - lo + 1);
		from = rnd() % 65536;
		bad += portbits_next_free(&pb, from) != brute_next_free(taken, from);
	}
	CHECK_EQ(bad, 0);
}

int
main(void)
{
	test_fenwick();
	test_heap();
	test_portbits();
	return tu_done("test_leaves");
}
