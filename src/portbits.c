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

uint32_t
portbits_next_free(const struct portbits *pb, uint32_t from)
{
	const uint64_t *u = pb->used, *f = pb->full;
	uint64_t bits;
	uint32_t w, sw;

	if (from > 65535)
		return 0;
	w = from / 64;
	bits = ~u[w] & (~0ULL << (from % 64));
	if (bits)
		return w * 64 + (uint32_t)__builtin_ctzll(bits);
	for (w = w + 1; w < 1024; w++) {
		sw = w / 64;
		bits = ~f[sw] & (~0ULL << (w % 64));
		if (bits == 0) {
			w = sw * 64 + 63;	/* whole summary word full: skip it */
			continue;
		}
		w = sw * 64 + (uint32_t)__builtin_ctzll(bits);
		return w * 64 + (uint32_t)__builtin_ctzll(~u[w]);
	}
	return 0;
}
