/*
 * item.c - the firewall's vocabulary: which remotes a mapping or pinhole
 * lets in, and whether one item lets in every remote another does (a
 * renewal with the same or more remotes closes no door).
 */
#include "config.h"

#include <string.h>

#include "fw/item.h"
#include "mt_vocab.h"

/* 1 if a is inside the prefix pfx/plen (plen in the 128-bit space). */
static int
fw_prefix_has(const struct in6_addr *pfx, unsigned plen, const struct in6_addr *a)
{
	unsigned i;
	uint8_t m;

	for (i = 0; i < 16 && plen > 0; i++, plen = plen >= 8 ? plen - 8 : 0) {
		m = plen >= 8 ? 0xff : (uint8_t)(0xff << (8 - plen));
		if ((pfx->s6_addr[i] & m) != (a->s6_addr[i] & m))
			return 0;
	}
	return 1;
}

int
fw_item_allows(const struct fw_item *it, const struct in6_addr *src, uint16_t sport)
{
	const struct mt_filter *f;
	size_t i;

	if (it->nfilters == 0)
		return 1;
	for (i = 0; i < it->nfilters && i < MT_MAX_FILTERS; i++) {
		f = &it->filters[i];
		if (fw_prefix_has(&f->addr, f->plen, src) && (f->port == 0 || f->port == sport))
			return 1;
	}
	return 0;
}

int
fw_item_covers(const struct fw_item *new, const struct fw_item *old)
{
	const struct mt_filter *f, *g;
	size_t i, j, nn = new->nfilters < MT_MAX_FILTERS ? new->nfilters : MT_MAX_FILTERS;

	if (new->nfilters == 0)
		return 1;
	if (old->nfilters == 0)
		return 0;
	for (i = 0; i < old->nfilters && i < MT_MAX_FILTERS; i++) {
		f = &old->filters[i];
		for (j = 0; j < nn; j++) {
			g = &new->filters[j];
			if (g->plen <= f->plen && (g->port == 0 || g->port == f->port) &&
			    fw_prefix_has(&g->addr, g->plen, &f->addr))
				break;
		}
		if (j == nn)
			return 0;
	}
	return 1;
}
