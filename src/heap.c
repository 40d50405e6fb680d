/*
 * heap.c - a binary min-heap of intrusive nodes ordered by a 64-bit key
 * (the mapping table's lease clock: expiry times). Each node knows its
 * index, so a node leaves from anywhere in O(log n); keys live in the
 * heap's own array, so sifting reads no node.
 */
#include "config.h"

#include <stdlib.h>

#include "heap.h"

void
heap_init(struct heap *h)
{
	h->slots = NULL;
	h->n = h->cap = 0;
}

void
heap_destroy(struct heap *h)
{
	free(h->slots);
	heap_init(h);
}

static int
heap_less(const struct heap *h, size_t a, size_t b)
{
	return h->slots[a].key < h->slots[b].key;
}

static void
heap_swap(struct heap *h, size_t a, size_t b)
{
	struct heap_slot t = h->slots[a];

	h->slots[a] = h->slots[b];
	h->slots[b] = t;
	h->slots[a].node->pos = a + 1;
	h->slots[b].node->pos = b + 1;
}

static void
heap_up(struct heap *h, size_t i)
{
	while (i > 0 && heap_less(h, i, (i - 1) / 2)) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct heap *h, size_t i)
{
	size_t l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < h->n && heap_less(h, l, m))
			m = l;
		if (r < h->n && heap_less(h, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

int
heap_push(struct heap *h, struct heap_node *node, uint64_t key)
{
	struct heap_slot *s;
	size_t n;

	if (h->n == h->cap) {
		n = h->cap ? h->cap * 2 : 256;
		if ((s = reallocarray(h->slots, n, sizeof(*s))) == NULL)
			return -1;
		h->slots = s;
		h->cap = n;
	}
	h->slots[h->n].key = key;
	h->slots[h->n].node = node;
	node->pos = ++h->n;
	heap_up(h, h->n - 1);
	return 0;
}

void
heap_remove(struct heap *h, struct heap_node *node)
{
	size_t i;

	if (node->pos == 0)
		return;
	i = node->pos - 1;
	node->pos = 0;
	if (i != --h->n) {
		h->slots[i] = h->slots[h->n];
		h->slots[i].node->pos = i + 1;
		heap_down(h, i);
		heap_up(h, i);
	}
}

struct heap_node *
heap_top(const struct heap *h)
{
	return h->n > 0 ? h->slots[0].node : NULL;
}

uint64_t
heap_top_key(const struct heap *h)
{
	return h->n > 0 ? h->slots[0].key : 0;
}

size_t
heap_count(const struct heap *h)
{
	return h->n;
}
