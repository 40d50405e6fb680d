/* hmap.c - intrusive chained hash map; FNV-1a with a per-map random seed. */
#include "config.h"

#include <stdlib.h>
#include <sys/random.h>

#include "hmap.h"
#include "log.h"
#include "util.h"

void
hmap_init(struct hmap *m)
{
	m->nbuckets = 64;
	m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
	m->count = 0;
	if (getrandom(&m->seed, sizeof(m->seed), GRND_NONBLOCK) != sizeof(m->seed))
		m->seed = 0x9e3779b9u;
}

void
hmap_destroy(struct hmap *m)
{
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = m->count = 0;
}

uint32_t
hmap_hash(const struct hmap *m, const void *p, size_t len)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u ^ m->seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	return h;
}

static void
hmap_grow(struct hmap *m)
{
	size_t n = m->nbuckets * 2, i;
	struct hnode **nb, *e, *next;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;		/* keep working with longer chains */
	for (i = 0; i < m->nbuckets; i++) {
		for (e = m->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(m->buckets);
	m->buckets = nb;
	m->nbuckets = n;
}

void
hmap_insert(struct hmap *m, struct hnode *node, uint32_t hash)
{
	struct hnode **b;

	if (m->count >= m->nbuckets)
		hmap_grow(m);
	node->hash = hash;
	b = &m->buckets[hash & (m->nbuckets - 1)];
	node->next = *b;
	*b = node;
	m->count++;
}

void
hmap_remove(struct hmap *m, struct hnode *node)
{
	struct hnode **pp = &m->buckets[node->hash & (m->nbuckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			node->next = NULL;
			m->count--;
			return;
		}
	}
	fatalx("hmap_remove: node not in map");
}

struct hnode *
hmap_bucket(const struct hmap *m, uint32_t hash)
{
	return m->buckets[hash & (m->nbuckets - 1)];
}
