/*
 * portbits.c - the free-port bitmap: two levels, so a search skips taken
 * runs 4096 ports at a time (the mapping table's free-port search at
 * 100,000 mappings).
 */
#include "config.h"

#include <stddef.h>

#include "portbits.h"

void
portbits_set(struct portbits *pb, uint16_t lo, uint16_t hi, int on)
{
	uint64_t *u = pb->used, *f = pb->full;
	size_t p, w;

	for (p = lo; p <= hi; p++) {
		w = p / 64;
		if (on)
			u[w] |= 1ULL << (p % 64);
		else
			u[w] &= ~(1ULL << (p % 64));
		if (u[w] == ~0ULL)
			f[w / 64] |= 1ULL << (w % 64);
		else
			f[w / 64] &= ~(1ULL << (w % 64));
	}
}
