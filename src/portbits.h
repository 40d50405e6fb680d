/* portbits.h - the taken ports of one protocol: a bitmap with a summary of its full words. */
#ifndef PG_PORTBITS_H
#define PG_PORTBITS_H

#include <stdint.h>

struct portbits {
	uint64_t	 used[1024];	/* bit per taken port */
	uint64_t	 full[16];	/* bit per used[] word with no free port */
};

/* Mark ports lo..hi taken (on) or free (off). A zeroed struct has every port free. */
void portbits_set(struct portbits *, uint16_t lo, uint16_t hi, int on);
/* First free port >= from (up to 65535), or 0 (inline: the free-port search's inner step). */
static inline uint32_t
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

#endif
