/*
 * fenwick.c - a Fenwick tree: each of n slots has a weight; the sum of the
 * weights up to a slot, and the slot where the sum passes k, cost O(log n).
 * The mapping table keeps two over its (proto, port) slots for the
 * index-th mapping and the index-th mapped port.
 */
#include "config.h"

#include <stdlib.h>

#include "fenwick.h"
#include "util.h"

void
fenwick_init(struct fenwick *f, size_t n)
{
	f->n = n;
	f->tree = xzmap(n + 1, sizeof(*f->tree));
	for (f->top = 1; f->top <= n / 2; f->top <<= 1)
		;
}

void
fenwick_destroy(struct fenwick *f)
{
	xzunmap(f->tree, f->n + 1, sizeof(*f->tree));
	f->tree = NULL;
	f->n = f->top = 0;
}

void
fenwick_add(struct fenwick *f, size_t slot, int32_t delta)
{
	uint32_t *tree = f->tree;
	size_t i;

	for (i = slot + 1; i <= f->n; i += i & (~i + 1))
		tree[i] += (uint32_t)delta;
}

size_t
fenwick_prefix(const struct fenwick *f, size_t slot)
{
	const uint32_t *tree = f->tree;
	size_t i, sum = 0;

	for (i = slot + 1; i > 0; i -= i & (~i + 1))
		sum += tree[i];
	return sum;
}
