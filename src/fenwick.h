/* fenwick.h - a Fenwick (binary indexed) tree of counts over slots: prefix sums and select. */
#ifndef PG_FENWICK_H
#define PG_FENWICK_H

#include <stddef.h>
#include <stdint.h>

struct fenwick {
	uint32_t	*tree;		/* n + 1 sums, 1-based */
	size_t		 n;		/* slots 0 .. n-1 */
	size_t		 top;		/* the highest power of two <= n */
};

/* An all-zero tree over n slots (n >= 1; allocation failure is fatal: start-up only). */
void fenwick_init(struct fenwick *, size_t n);
/* Free the tree. */
void fenwick_destroy(struct fenwick *);
/* Add delta (may be negative) to the weight at slot. */
void fenwick_add(struct fenwick *, size_t slot, int32_t delta);
/* Sum of weights at slots [0, slot]. */
size_t fenwick_prefix(const struct fenwick *, size_t slot);
/*
 * The slot where the prefix sum first exceeds k; *rest (may be NULL) = k less
 * the sum before it. Inline: the table's index-th mapping (a UPnP list walk).
 */
static inline size_t
fenwick_select(const struct fenwick *f, size_t k, size_t *rest)
{
	const uint32_t *tree = f->tree;
	size_t pos = 0, step;

	for (step = f->top; step > 0; step >>= 1) {
		if (pos + step <= f->n && tree[pos + step] <= k) {
			pos += step;
			k -= tree[pos];
		}
	}
	if (rest != NULL)
		*rest = k;
	return pos;		/* 1-based index pos+1 -> slot pos */
}

#endif
