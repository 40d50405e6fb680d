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
/* First free port >= from (up to 65535), or 0. */
uint32_t portbits_next_free(const struct portbits *, uint32_t from);

#endif
