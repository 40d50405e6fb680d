/* hmap.h - intrusive chained hash map with seeded hashing and growth. */
#ifndef PG_HMAP_H
#define PG_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hnode {
	struct hnode	*next;
	uint32_t	 hash;
};

struct hmap {
	struct hnode	**buckets;
	size_t		  nbuckets;	/* power of two */
	size_t		  count;
	uint32_t	  seed;
};

#define HMAP_ENTRY(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Prepare an empty map. */
void hmap_init(struct hmap *);
/* Free the bucket array (not the nodes). */
void hmap_destroy(struct hmap *);
/* Hash bytes with the map's seed. */
uint32_t hmap_hash(const struct hmap *, const void *, size_t);
/* Insert a node with a precomputed hash. */
void hmap_insert(struct hmap *, struct hnode *, uint32_t hash);
/* Remove a node that is in the map. */
void hmap_remove(struct hmap *, struct hnode *);
/* First node of the chain holding hash (check node->hash and the key yourself). */
struct hnode *hmap_bucket(const struct hmap *, uint32_t hash);

#endif
