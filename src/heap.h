/* heap.h - intrusive binary min-heap by a 64-bit key; a node knows its place (O(log n) removal). */
#ifndef PG_HEAP_H
#define PG_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* Embedded in what the heap orders; all zero (calloc) = in no heap. */
struct heap_node {
	size_t		 pos;		/* 1 + its index in the heap; 0 = not in it */
};

struct heap_slot {
	uint64_t		 key;	/* kept here: comparing touches no node */
	struct heap_node	*node;
};

struct heap {
	struct heap_slot	*slots;
	size_t			 n, cap;
};

#define HEAP_ENTRY(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Prepare an empty heap. */
void heap_init(struct heap *);
/* Free the slot array (not the nodes). */
void heap_destroy(struct heap *);
/* Insert a node that is in no heap, with its key; 0, or -1 out of memory. */
int heap_push(struct heap *, struct heap_node *, uint64_t key);
/* Take a node out (nothing if it is in no heap). */
void heap_remove(struct heap *, struct heap_node *);
/* The node with the smallest key, or NULL when empty. */
struct heap_node *heap_top(const struct heap *);
/* The smallest key; 0 when empty. */
uint64_t heap_top_key(const struct heap *);
/* Number of nodes. */
size_t heap_count(const struct heap *);

#endif
