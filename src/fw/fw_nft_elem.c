/*
 * fw_nft_elem.c - what each change becomes in the nftables backend's sets:
 * a mapping's DNAT element (and its inb_own / inb_range, filt_* and
 * trig_open elements), a PEER pin's SNAT element, a pinhole's elements
 * (one per remote), a verified LAN host's element. Keys only: the
 * messages are fw_nft_batch.c's, what is sent when is fw_nft.c's.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fw/fw_nft_priv.h"
#include "mt_vocab.h"
#include "util.h"

/* ---- elements ---- */

void
nft_key_proto_port(uint8_t *k, int proto, uint16_t port)
{
	k[0] = proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	util_put16(k + 4, port);
}

static const char *
nft_item_elem(const struct fw_item *it, struct nft_elem *el)
{
	memset(el, 0, sizeof(*el));
	nft_key_proto_port(el->key, it->proto, it->ext_port);
	memcpy(el->data, &it->int_addr.s6_addr[12], 4);
	el->timeout = it->timeout_ms;
	if (it->ext_port_end != it->ext_port || it->source == MT_SRC_TRIGGER) {
		el->has_end = 1;
		nft_key_proto_port(el->key_end, it->proto, it->ext_port_end);
		el->data_len = 4;
		return "dnat_range";
	}
	util_put16(el->data + 4, it->int_port);
	el->data_len = 8;
	return "dnat_port";
}

/* filt_allow's interval for one filter: (proto, port, first..last address, port or 0..65535). */
static void
nft_filter_elem(const struct fw_item *it, const struct mt_filter *f, struct nft_elem *el)
{
	uint32_t lo, hi, host = f->plen >= 128 ? 0 : (uint32_t)(0xffffffffu >> (f->plen - 96));

	memset(el, 0, sizeof(*el));
	el->key_len = 16;
	el->has_end = 1;
	el->timeout = it->timeout_ms;
	nft_key_proto_port(el->key, it->proto, it->ext_port);
	nft_key_proto_port(el->key_end, it->proto, it->ext_port);
	memcpy(&lo, &f->addr.s6_addr[12], 4);
	hi = htonl(ntohl(lo) | host);
	memcpy(el->key + 8, &lo, 4);
	memcpy(el->key_end + 8, &hi, 4);
	util_put16(el->key + 12, f->port);
	util_put16(el->key_end + 12, f->port ? f->port : 65535);
}

/* A mapping with remote filters: its port in filt_ports, each filter in filt_allow. */
static int
nft_emit_filters(struct fw_nft *n, const struct fw_change *c, const struct nft_elem *port)
{
	struct nft_elem el[MT_MAX_FILTERS], key;
	int del = c->op == FW_DEL;
	size_t i;

	memset(&key, 0, sizeof(key));
	memcpy(key.key, port->key, 8);
	key.timeout = port->timeout;
	if (nft_emit_elems(n, "filt_ports", del, &key, 1, 0) == -1)
		return -1;
	for (i = 0; i < c->item.nfilters && i < MT_MAX_FILTERS; i++)
		nft_filter_elem(&c->item, &c->item.filters[i], &el[i]);
	return nft_emit_elems(n, "filt_allow", del, el, i, 0);
}

/* An element keyed by the item's internal endpoint first: int addr . proto . int port (12 bytes). */
static void
nft_key_endpoint(struct nft_elem *el, const struct fw_item *it, uint32_t key_len)
{
	memset(el, 0, sizeof(*el));
	el->key_len = key_len;
	memcpy(el->key, &it->int_addr.s6_addr[12], 4);
	el->key[4] = it->proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	util_put16(el->key + 8, it->int_port);
}

/* A single-port mapping's inb_own element: int addr . proto . int port . ext port. */
static int
nft_emit_own(struct fw_nft *n, const struct fw_change *c)
{
	const struct fw_item *it = &c->item;
	struct nft_elem el;

	nft_key_endpoint(&el, it, 16);
	util_put16(el.key + 12, it->ext_port);
	el.timeout = it->timeout_ms;
	return nft_emit_elems(n, "inb_own", c->op == FW_DEL, &el, 1, 0);
}

/* A range's inb_range element: [int addr . proto . first port, int addr . proto . last]. */
static int
nft_emit_own_range(struct fw_nft *n, const struct fw_change *c)
{
	const struct fw_item *it = &c->item;
	struct nft_elem el;

	memset(&el, 0, sizeof(el));
	el.key_len = 12;
	el.has_end = 1;
	memcpy(el.key, &it->int_addr.s6_addr[12], 4);
	el.key[4] = it->proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	memcpy(el.key_end, el.key, 8);
	util_put16(el.key + 8, it->ext_port);
	util_put16(el.key_end + 8, it->ext_port_end);
	el.timeout = it->timeout_ms;
	return nft_emit_elems(n, "inb_range", c->op == FW_DEL, &el, 1, 0);
}

/* A PEER pin: (int addr . proto . int port . peer addr . peer port) -> ext addr . ext port. */
static int
nft_emit_peer(struct fw_nft *n, const struct fw_change *c)
{
	const struct fw_item *it = &c->item;
	struct nft_elem el;

	nft_key_endpoint(&el, it, 20);
	memcpy(el.key + 12, &it->peer_addr.s6_addr[12], 4);
	util_put16(el.key + 16, it->peer_port);
	memcpy(el.data, &it->ext_addr.s6_addr[12], 4);
	util_put16(el.data + 4, it->ext_port);
	el.data_len = 8;
	el.timeout = it->timeout_ms;
	return nft_emit_elems(n, "peer_snat", c->op == FW_DEL, &el, 1, 1);
}

/* ---- IPv6 pinholes ---- */

/* The first (lo) or last (hi) address of a prefix, into k (16 bytes). */
static void
nft_pfx_bound(uint8_t *k, const struct in6_addr *a, unsigned plen, int hi)
{
	unsigned i, bits;
	uint8_t host;

	for (i = 0; i < 16; i++) {
		bits = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
		host = (uint8_t)(0xffu >> bits);
		k[i] = hi ? (uint8_t)(a->s6_addr[i] | host) : (uint8_t)(a->s6_addr[i] & ~host);
	}
}

/*
 * One remote of a pinhole (f NULL: anyone) as an element; returns its set.
 * Keys: ip6 daddr (0) . l4proto (16) . dport (20) then pin_port: sport (24);
 * pin_host: saddr (24); pin_hostport, pin_pfx: saddr (24) . sport (40),
 * pin_pfx as the interval [first address . port or 0, last . port or 65535].
 */
static const char *
nft_pin_elem(const struct fw_item *it, const struct mt_filter *f, struct nft_elem *el)
{
	memset(el, 0, sizeof(*el));
	memcpy(el->key, it->int_addr.s6_addr, 16);
	el->key[16] = it->proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	util_put16(el->key + 20, it->int_port);
	el->timeout = it->timeout_ms;
	el->key_len = 24;
	if (f == NULL || (f->plen == 0 && f->port == 0))
		return "pin_any";
	if (f->plen == 0) {
		util_put16(el->key + 24, f->port);
		el->key_len = 28;
		return "pin_port";
	}
	memcpy(el->key_end, el->key, 24);
	nft_pfx_bound(el->key + 24, &f->addr, f->plen, 0);
	el->key_len = 40;
	if (f->plen >= 128 && f->port == 0)
		return "pin_host";
	util_put16(el->key + 40, f->port);
	el->key_len = 44;
	if (f->plen >= 128)
		return "pin_hostport";
	el->has_end = 1;
	nft_pfx_bound(el->key_end + 24, &f->addr, f->plen, 1);
	util_put16(el->key_end + 40, f->port ? f->port : 65535);
	return "pin_pfx";
}

/*
 * A pinhole's elements, one per remote (an identical remote twice gives one
 * element); the first carries the item's counts. Returns how many.
 */
size_t
nft_pin_elems(const struct fw_item *it, struct nft_elem *el, const char **set)
{
	size_t i, j, cnt = 0, nf = it->nfilters < MT_MAX_FILTERS ? it->nfilters : MT_MAX_FILTERS;

	for (i = 0; i < (nf ? nf : 1); i++) {
		set[cnt] = nft_pin_elem(it, nf ? &it->filters[i] : NULL, &el[cnt]);
		for (j = 0; j < cnt; j++)
			if (set[j] == set[cnt] && memcmp(el[j].key, el[cnt].key, NFT_KEY_MAX) == 0 &&
			    memcmp(el[j].key_end, el[cnt].key_end, NFT_KEY_MAX) == 0)
				break;
		if (j == cnt)
			cnt++;
	}
	el[0].pkts = it->pkts;
	el[0].bytes = it->bytes;
	return cnt;
}

/* 1 if the kernel can hold the pinhole: a native IPv6 address, prefixes within 128 bits. */
int
nft_pin_valid(const struct fw_item *it)
{
	size_t i;

	if (it->proto >= MT_NPROTO || it->nfilters > MT_MAX_FILTERS ||
	    util_addr_is_v4(&it->int_addr))
		return 0;
	for (i = 0; i < it->nfilters; i++)
		if (it->filters[i].plen > 128)
			return 0;
	return 1;
}

/* A pinhole: one message per element, into table ip6. */
static int
nft_emit_pin(struct fw_nft *n, const struct fw_change *c)
{
	struct nft_elem el[MT_MAX_FILTERS];
	const char *set[MT_MAX_FILTERS];
	size_t i, cnt = nft_pin_elems(&c->item, el, set);

	for (i = 0; i < cnt; i++)
		if (nft_emit_elems(n, set[i], c->op == FW_DEL, &el[i], 1, 0) == -1)
			return -1;
	return 0;
}

/* Messages for one change (a trigger range also updates trig_open, filters their sets). */
int
nft_emit_change(struct fw_nft *n, const struct fw_change *c)
{
	struct nft_elem el;
	const char *set;
	int del = c->op == FW_DEL;

	if (c->item.kind == MT_KIND_PEER)
		return nft_emit_peer(n, c);
	if (c->item.kind == MT_KIND_PINHOLE)
		return nft_emit_pin(n, c);
	set = nft_item_elem(&c->item, &el);

	if (nft_emit_elems(n, set, del, &el, 1, 1) == -1)
		return -1;
	if ((strcmp(set, "dnat_port") == 0 ? nft_emit_own(n, c) : nft_emit_own_range(n, c)) == -1)
		return -1;
	if (c->item.nfilters > 0 && nft_emit_filters(n, c, &el) == -1)
		return -1;
	if (c->item.source != MT_SRC_TRIGGER)
		return 0;
	return nft_emit_elems(n, "trig_open", del, &el, 1, 0);
}

/* ---- verified LAN hosts ---- */

/* A host's element of lan_hosts (address . MAC) or lan_hosts6 into el; its set. */
static const char *
nft_host_elem(const struct fw_host *h, struct nft_elem *el)
{
	int v6 = !util_addr_is_v4(&h->addr);

	memset(el, 0, sizeof(*el));
	el->key_len = v6 ? 24 : 12;
	memcpy(el->key, v6 ? h->addr.s6_addr : &h->addr.s6_addr[12], v6 ? 16 : 4);
	memcpy(el->key + (v6 ? 16 : 4), h->mac, 6);
	return v6 ? "lan_hosts6" : "lan_hosts";
}

/* Into the open batch: empty lan_hosts and lan_hosts6 and fill them from n->hosts. */
void
nft_emit_hosts(struct fw_nft *n, int flush)
{
	static const char *const set[2] = { "lan_hosts", "lan_hosts6" };
	struct nft_elem el[NFT_ELEMS_PER_MSG];
	size_t i, cnt;
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		if (flush)
			nft_emit_elems(n, set[v6], 1, NULL, 0, 0);
		cnt = 0;
		for (i = 0; i < n->nhosts; i++) {
			if (util_addr_is_v4(&n->hosts[i].addr) == v6)
				continue;
			nft_host_elem(&n->hosts[i], &el[cnt]);
			if (++cnt == PG_NELEM(el)) {
				nft_emit_elems(n, set[v6], 0, el, cnt, 0);
				cnt = 0;
			}
		}
		if (cnt > 0)
			nft_emit_elems(n, set[v6], 0, el, cnt, 0);
	}
}

int
nft_host_cmp(const void *a, const void *b)
{
	const struct fw_host *x = a, *y = b;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	return c != 0 ? c : memcmp(x->mac, y->mac, sizeof(x->mac));
}

/*
 * Into the open batch: the pairs of one family in a[] that b[] lacks (both
 * sorted by nft_host_cmp), added (del 0) or deleted.
 */
size_t
nft_emit_hosts_diff(struct fw_nft *n, const struct fw_host *a, size_t na,
    const struct fw_host *b, size_t nb, int v6, int del)
{
	struct nft_elem el[NFT_ELEMS_PER_MSG];
	const char *set = v6 ? "lan_hosts6" : "lan_hosts";
	size_t i, j = 0, cnt = 0, total = 0;
	int c = 1;

	for (i = 0; i < na; i++) {
		if (util_addr_is_v4(&a[i].addr) == v6)
			continue;
		while (j < nb && (c = nft_host_cmp(&b[j], &a[i])) < 0)
			j++;
		if (j < nb && c == 0)
			continue;
		nft_host_elem(&a[i], &el[cnt]);
		total++;
		if (++cnt == PG_NELEM(el)) {
			nft_emit_elems(n, set, del, el, cnt, 0);
			cnt = 0;
		}
	}
	if (cnt > 0)
		nft_emit_elems(n, set, del, el, cnt, 0);
	return total;
}
