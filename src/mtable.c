/*
 * mtable.c - the mapping table.
 *
 * Every operation costs the same at 0 or 100,000 mappings:
 *  - external ports are direct-indexed: one pointer per (proto, port) slot,
 *    so conflict detection is a slot lookup (a range touches its own slots);
 *  - a Fenwick tree over the slots gives the index-th mapping in
 *    (proto, port) order in O(log 131072), for GetGenericPortMappingEntry;
 *  - hash maps index internal endpoints, owner tokens and per-client counts;
 *  - a binary heap ordered by expiry is the one lease clock for all sources.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fenwick.h"
#include "fw/fw.h"
#include "heap.h"
#include "log.h"
#include "mtable.h"
#include "mt_core.h"
#include "netif.h"
#include "policy.h"
#include "portbits.h"
#include "util.h"

struct mtable *
mtable_new(struct fw *fw, const struct pg_clock *clk)
{
	struct mtable *mt = xcalloc(1, sizeof(*mt));

	mt->fw = fw;
	mt->clk = *clk;
	mt->slots = xcalloc(MT_NSLOTS, sizeof(*mt->slots));
	fenwick_init(&mt->fenwick, MT_NSLOTS);
	fenwick_init(&mt->fenport, MT_NSLOTS);
	heap_init(&mt->heap);
	hmap_init(&mt->by_int);
	hmap_init(&mt->by_owner);
	hmap_init(&mt->by_flow);
	hmap_init(&mt->by_out);
	hmap_init(&mt->clients);
	mt_pin_init(mt);
	mt->next_id = 1;
	return mt;
}

void
mtable_free(struct mtable *mt)
{
	struct mt_entry *e;
	struct hnode *n;
	size_t i;

	if (mt == NULL)
		return;
	/* a range fills several slots: free it at its first, then skip past its last */
	for (i = 0; i < MT_NSLOTS; i++) {
		if ((e = mt->slots[i]) == NULL)
			continue;
		i = (size_t)e->proto * 65536 + e->ext_port_end;
		free(e);
	}
	for (i = 0; i < mt->by_flow.nbuckets; i++) {
		while ((n = mt->by_flow.buckets[i]) != NULL) {
			mt->by_flow.buckets[i] = n->next;
			free(HMAP_ENTRY(n, struct mt_entry, int_node));
		}
	}
	mt_pin_free(mt);
	for (i = 0; i < mt->clients.nbuckets; i++) {
		while ((n = mt->clients.buckets[i]) != NULL) {
			mt->clients.buckets[i] = n->next;
			free(HMAP_ENTRY(n, struct mt_client, node));
		}
	}
	hmap_destroy(&mt->by_int);
	hmap_destroy(&mt->by_owner);
	hmap_destroy(&mt->by_flow);
	hmap_destroy(&mt->by_out);
	hmap_destroy(&mt->clients);
	free(mt->slots);
	fenwick_destroy(&mt->fenwick);
	fenwick_destroy(&mt->fenport);
	heap_destroy(&mt->heap);
	free(mt);
}

void
mtable_set_policy(struct mtable *mt, const struct policy *p)
{
	mt->policy = p;
}

void
mtable_set_limits(struct mtable *mt, unsigned max_per_client, uint32_t max_lease)
{
	mt->max_per_client = max_per_client;
	mt->max_lease = max_lease;
}

void
mtable_set_netif(struct mtable *mt, struct netif *n)
{
	mt->netif = n;
}

int
mtable_client_ok(const struct mtable *mt, const struct in6_addr *a, char *why, size_t len)
{
	if (mt->netif == NULL)
		return 1;
	return netif_client_ok(mt->netif, a, why, len);
}

void
mtable_set_notify(struct mtable *mt, mt_notify_cb *cb, void *arg)
{
	mt->notify = cb;
	mt->notify_arg = arg;
}

uint64_t
mtable_now(const struct mtable *mt)
{
	return pg_clock_now(&mt->clk);
}

void
mt_notify(struct mtable *mt, enum mt_change what, const struct mt_entry *e)
{
	if (mt->notify != NULL)
		mt->notify(mt->notify_arg, what, e);
}

void
mt_heap_remove(struct mtable *mt, struct mt_entry *e)
{
	heap_remove(&mt->heap, &e->lease);
}

/* ---- hash keys ---- */

struct mt_intkey {
	struct in6_addr	addr;
	uint16_t	port;
	uint8_t		proto;
	uint8_t		pad;
};

static uint32_t
int_hash(const struct mtable *mt, int proto, const struct in6_addr *a, uint16_t port)
{
	struct mt_intkey k;

	memset(&k, 0, sizeof(k));
	k.addr = *a;
	k.port = port;
	k.proto = (uint8_t)proto;
	return hmap_hash(&mt->by_int, &k, sizeof(k));
}

static uint32_t
owner_hash(const struct mtable *mt, int source, const char *owner)
{
	char buf[MT_OWNER_MAX + 1];
	size_t len = strnlen(owner, MT_OWNER_MAX - 1);

	buf[0] = (char)source;
	memcpy(buf + 1, owner, len);
	return hmap_hash(&mt->by_owner, buf, len + 1);
}

void
mtable_set_host_key(struct mtable *mt, mt_host_key_cb *cb, void *arg)
{
	mt->host_key = cb;
	mt->host_key_arg = arg;
}

static struct mt_client *
client_get(struct mtable *mt, const struct in6_addr *addr, int create)
{
	struct in6_addr key = *addr, *a = &key;
	uint32_t h;
	struct hnode *n;
	struct mt_client *c;

	if (mt->host_key != NULL)
		mt->host_key(mt->host_key_arg, addr, &key);
	h = hmap_hash(&mt->clients, a, sizeof(*a));

	for (n = hmap_bucket(&mt->clients, h); n != NULL; n = n->next) {
		c = HMAP_ENTRY(n, struct mt_client, node);
		if (n->hash == h && memcmp(&c->addr, a, sizeof(*a)) == 0)
			return c;
	}
	if (!create || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->addr = *a;
	hmap_insert(&mt->clients, &c->node, h);
	return c;
}

/* A client with no entries yet is not kept. */
static void
mt_client_unclaim(struct mtable *mt, struct mt_client *c)
{
	if (c->total == 0) {
		hmap_remove(&mt->clients, &c->node);
		free(c);
	}
}

enum mt_err
mt_client_claim(struct mtable *mt, const struct in6_addr *a, int source, struct mt_client **out)
{
	struct mt_client *c = client_get(mt, a, 1);

	if (c == NULL)
		return MT_ERR_NOMEM;
	if (mt_source_is_dynamic(source) && mt->max_per_client != 0 &&
	    c->dynamic >= mt->max_per_client) {
		mt_client_unclaim(mt, c);
		return MT_ERR_QUOTA;
	}
	*out = c;
	return MT_OK;
}

/* ---- firewall plumbing ---- */

void
mt_fw_item(const struct mtable *mt, const struct mt_entry *e, struct fw_item *it)
{
	uint64_t now = mtable_now(mt);

	memset(it, 0, sizeof(*it));
	it->id = e->id;
	it->proto = e->proto;
	it->source = e->source;
	it->ext_port = e->ext_port;
	it->ext_port_end = e->ext_port_end;
	it->int_port = e->int_port;
	it->int_addr = e->int_addr;
	it->nfilters = e->nfilters;
	memcpy(it->filters, e->filters, e->nfilters * sizeof(e->filters[0]));
	it->kind = e->kind;
	it->ext_addr = e->ext_addr;
	it->peer_addr = e->peer_addr;
	it->peer_port = e->peer_port;
	it->pin_id = e->pin_id;
	it->pkts = e->pin_pkts;
	it->bytes = e->pin_bytes;
	if (e->kind == MT_KIND_PINHOLE && e->nfilters == 0 &&
	    (e->remote.plen != 0 || e->remote.port != 0)) {
		it->nfilters = 1;		/* the kernel gets a pinhole's remotes as filters */
		it->filters[0] = e->remote;
	}
	if (e->expires_ms != 0)
		it->timeout_ms = e->expires_ms > now ? e->expires_ms - now : 1;
}

void
mt_fw_queue(struct mtable *mt, enum fw_op op, const struct mt_entry *e)
{
	struct fw_item it;

	if (mt->fw == NULL)
		return;
	mt_fw_item(mt, e, &it);
	if (fw_queue(mt->fw, op, &it) == -1)
		log_warnx("mtable: cannot queue firewall change for %s %u",
		    mt_proto_name(e->proto), e->ext_port);
}

/* ---- add / delete ---- */

static enum mt_err
mt_validate(const struct mt_request *r, uint16_t *end, uint16_t *int_port)
{
	uint32_t span;

	if (r->proto >= MT_NPROTO || r->source >= MT_NSOURCE || r->ext_port == 0)
		return MT_ERR_INVAL;
	*end = r->ext_port_end ? r->ext_port_end : r->ext_port;
	if (*end < r->ext_port)
		return MT_ERR_INVAL;
	*int_port = r->int_port ? r->int_port : r->ext_port;
	span = (uint32_t)(*end - r->ext_port);
	if ((uint32_t)*int_port + span > 65535)
		return MT_ERR_INVAL;
	return MT_OK;
}

int
mtable_permitted(const struct mtable *mt, int source, uint16_t ext_lo, uint16_t ext_hi,
    const struct in6_addr *a, uint16_t int_lo, uint16_t int_hi)
{
	if (!mt_source_is_dynamic(source) || mt->policy == NULL)
		return 1;
	return policy_check(mt->policy, ext_lo, ext_hi, a, int_lo, int_hi);
}

/* The same client asking again for exactly what it holds: a renewal, not a conflict. */
static int
mt_is_same(const struct mt_entry *e, const struct mt_request *r, uint16_t end, uint16_t ip)
{
	return e->ext_port == r->ext_port && e->ext_port_end == end &&
	    e->int_port == ip && e->source == r->source &&
	    memcmp(&e->int_addr, &r->int_addr, sizeof(e->int_addr)) == 0;
}

/* Held by the same source and host on exactly these external ports (another internal port). */
static int
mt_is_own(const struct mt_entry *e, const struct mt_request *r, uint16_t end)
{
	return e->ext_port == r->ext_port && e->ext_port_end == end && e->source == r->source &&
	    memcmp(&e->int_addr, &r->int_addr, sizeof(e->int_addr)) == 0;
}

uint32_t
mt_cap_lease(const struct mtable *mt, int source, uint32_t lease)
{
	if (!mt_source_is_dynamic(source) || mt->max_lease == 0)
		return lease;
	if (lease == 0 || lease > mt->max_lease)
		return mt->max_lease;
	return lease;
}

static size_t mt_flush_peers(struct mtable *, int);

static void
mt_link(struct mtable *mt, struct mt_entry *e)
{
	size_t base = (size_t)e->proto * 65536, p;

	for (p = e->ext_port; p <= e->ext_port_end; p++)
		mt->slots[base + p] = e;
	fenwick_add(&mt->fenwick, base + e->ext_port, 1);
	fenwick_add(&mt->fenport, base + e->ext_port, e->ext_port_end - e->ext_port + 1);
	hmap_insert(&mt->by_int, &e->int_node, int_hash(mt, e->proto, &e->int_addr, e->int_port));
	if (e->owner[0] != '\0')	/* only owned entries are looked up by owner */
		hmap_insert(&mt->by_owner, &e->own_node, owner_hash(mt, e->source, e->owner));
	portbits_set(&mt->ports[e->proto], e->ext_port, e->ext_port_end, 1);
	mt->count++;
	mt->per_source[e->source]++;
}


static void
mt_unlink(struct mtable *mt, struct mt_entry *e)
{
	size_t base = (size_t)e->proto * 65536, p;

	if (e->kind == MT_KIND_PINHOLE) {
		mt_pin_unlink(mt, e);
		return;
	}
	if (e->kind == MT_KIND_PEER) {
		hmap_remove(&mt->by_flow, &e->int_node);
		hmap_remove(&mt->by_out, &e->own_node);
		mt_heap_remove(mt, e);
		mt_client_put(mt, e);
		mt->npeers--;
		return;
	}
	for (p = e->ext_port; p <= e->ext_port_end; p++)
		mt->slots[base + p] = NULL;
	fenwick_add(&mt->fenwick, base + e->ext_port, -1);
	fenwick_add(&mt->fenport, base + e->ext_port, -(e->ext_port_end - e->ext_port + 1));
	hmap_remove(&mt->by_int, &e->int_node);
	if (e->owner[0] != '\0')
		hmap_remove(&mt->by_owner, &e->own_node);
	portbits_set(&mt->ports[e->proto], e->ext_port, e->ext_port_end, 0);
	mt_heap_remove(mt, e);
	mt_client_put(mt, e);
	mt->count--;
	mt->per_source[e->source]--;
}

/* The entry no longer counts for its client (freed with its last entry). */
void
mt_client_put(struct mtable *mt, struct mt_entry *e)
{
	if (e->client == NULL)
		return;
	e->client->total--;
	if (mt_source_is_dynamic(e->source))
		e->client->dynamic--;
	if (e->client->total == 0) {
		hmap_remove(&mt->clients, &e->client->node);
		free(e->client);
	}
	e->client = NULL;
}

static enum mt_err
mt_check_conflict(const struct mtable *mt, const struct mt_request *r, uint16_t end,
    uint16_t ip, struct mt_entry **same, const struct mt_entry **conflict)
{
	size_t base = (size_t)r->proto * 65536, p;
	struct mt_entry *e;

	*same = NULL;
	for (p = r->ext_port; p <= end; p++) {
		if ((e = mt->slots[base + p]) == NULL)
			continue;
		if (mt_is_same(e, r, end, ip)) {
			*same = e;
			return MT_OK;
		}
		if (r->replace_own && mt_is_own(e, r, end)) {
			*same = e;
			return MT_OK;
		}
		if (conflict != NULL)
			*conflict = e;
		return MT_ERR_CONFLICT;
	}
	return MT_OK;
}

/* Descriptions are cut to fit on a character boundary, never mid-character. */
static void
mt_set_strings(struct mt_entry *e, const struct mt_request *r)
{
	util_utf8_copy(e->desc, sizeof(e->desc), r->desc ? r->desc : "");
	util_utf8_copy(e->owner, sizeof(e->owner), r->owner ? r->owner : "");
}

/* A renewal may bring a new description and owner (the owner index follows); 1 if either did. */
static int
mt_renew_strings(struct mtable *mt, struct mt_entry *e, const struct mt_request *r)
{
	char owner[MT_OWNER_MAX], desc[MT_DESC_MAX];
	int changed = 0;

	util_utf8_copy(owner, sizeof(owner), r->owner ? r->owner : "");
	if (strcmp(owner, e->owner) != 0) {
		if (e->owner[0] != '\0')
			hmap_remove(&mt->by_owner, &e->own_node);
		memcpy(e->owner, owner, sizeof(owner));
		if (e->owner[0] != '\0')
			hmap_insert(&mt->by_owner, &e->own_node, owner_hash(mt, e->source, e->owner));
		changed = 1;
	}
	util_utf8_copy(desc, sizeof(desc), r->desc ? r->desc : "");
	if (strcmp(desc, e->desc) != 0) {
		memcpy(e->desc, desc, sizeof(desc));
		changed = 1;
	}
	return changed;
}

/* Filters: bounded, single-port mappings only, prefixes of the mapping's family. */
static int
mt_filters_ok(const struct mt_request *r, uint16_t end)
{
	int v4 = util_addr_is_v4(&r->int_addr);
	size_t i;

	if (r->nfilters == 0)
		return 1;
	if (r->nfilters > MT_MAX_FILTERS || r->filters == NULL || end != r->ext_port)
		return 0;
	for (i = 0; i < r->nfilters; i++) {
		if (r->filters[i].plen > 128 || util_addr_is_v4(&r->filters[i].addr) != v4 ||
		    (v4 && r->filters[i].plen < 96))
			return 0;
	}
	return 1;
}

/*
 * The filters, masked, without one another's duplicates or subsets, wider prefixes
 * first: the kernel's interval set refuses an element that overlaps one already in
 * it (a duplicate, a /32 inside a /24 of the same port), so a request naming both
 * would lose the whole mapping; inserted widest first, nested prefixes of different
 * ports are accepted.
 */
void
mt_set_filters_from(struct mt_entry *e, const struct mt_filter *fs, size_t nfs)
{
	struct mt_filter f, t;
	size_t i, j, n = 0;

	for (i = 0; i < nfs && i < MT_MAX_FILTERS; i++) {
		f = fs[i];
		mt_mask(&f.addr, f.plen);
		for (j = 0; j < n && !mt_filter_within(&f, &e->filters[j]); j++)
			;
		if (j < n)
			continue;		/* already allowed */
		for (j = 0; j < n; ) {		/* the new one covers these */
			if (mt_filter_within(&e->filters[j], &f))
				e->filters[j] = e->filters[--n];
			else
				j++;
		}
		e->filters[n++] = f;
	}
	for (i = 1; i < n; i++)		/* insertion sort, stable: at most MT_MAX_FILTERS */
		for (j = i; j > 0 && e->filters[j - 1].plen > e->filters[j].plen; j--) {
			t = e->filters[j];
			e->filters[j] = e->filters[j - 1];
			e->filters[j - 1] = t;
		}
	e->nfilters = (uint8_t)n;
}

static void
mt_set_filters(struct mt_entry *e, const struct mt_request *r)
{
	mt_set_filters_from(e, r->filters, r->nfilters);
}

static int
mt_filters_differ(const struct mt_entry *e, const struct mt_request *r)
{
	struct mt_entry t;

	memset(&t, 0, sizeof(t));
	mt_set_filters(&t, r);
	return t.nfilters != e->nfilters ||
	    memcmp(t.filters, e->filters, e->nfilters * sizeof(e->filters[0])) != 0;
}

/* Text from outside must be UTF-8 without controls before it reaches a reply, log or file. */
static int
mt_strings_ok(const struct mt_request *r)
{
	return (r->desc == NULL || util_text_problem(r->desc, strlen(r->desc), SIZE_MAX) == NULL) &&
	    (r->owner == NULL || util_text_problem(r->owner, strlen(r->owner), SIZE_MAX) == NULL);
}

enum mt_err
mtable_add(struct mtable *mt, const struct mt_request *r, struct mt_entry **out,
    const struct mt_entry **conflict)
{
	struct mt_entry *e, *same;
	struct mt_client *c;
	enum mt_change what;
	uint16_t end, ip;
	uint32_t lease;
	enum mt_err err;

	if ((err = mt_validate(r, &end, &ip)) != MT_OK)
		return err;
	if (!mt_strings_ok(r) || !mt_filters_ok(r, end))
		return MT_ERR_INVAL;
	if (!util_addr_is_v4(&r->int_addr))
		return MT_ERR_ADDR;	/* IPv6 has no NAT: a mapping is IPv4's (pinholes are not) */
	if (!mtable_client_ok(mt, &r->int_addr, NULL, 0))
		return MT_ERR_ADDR;
	if (!mtable_permitted(mt, r->source, r->ext_port, end, &r->int_addr, ip,
	    (uint16_t)(ip + (end - r->ext_port))))
		return MT_ERR_DENIED;
	if ((err = mt_check_conflict(mt, r, end, ip, &same, conflict)) != MT_OK)
		return err;
	lease = mt_cap_lease(mt, r->source, r->lease_s);
	if (same != NULL && same->int_port != ip) {
		mtable_del(mt, same);	/* re-pointed by its holder: replaced in one batch */
		same = NULL;
	}
	if (same != NULL) {
		what = mt_renew_strings(mt, same, r) ? MT_CHG_PUT : MT_CHG_LEASE;
		if (out != NULL)
			*out = same;
		if (r->set_filters && mt_filters_differ(same, r)) {
			mt_fw_queue(mt, FW_DEL, same);	/* the old filters leave the kernel */
			mt_set_filters(same, r);
			return mt_renew(mt, same, lease, 0, MT_CHG_PUT);
		}
		return mt_renew(mt, same, lease, 1, what);
	}
	if ((err = mt_client_claim(mt, &r->int_addr, r->source, &c)) != MT_OK)
		return err;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		mt_client_unclaim(mt, c);
		return MT_ERR_NOMEM;
	}
	e->id = mt->next_id++;
	e->proto = r->proto;
	e->source = r->source;
	e->ext_port = r->ext_port;
	e->ext_port_end = end;
	e->int_port = ip;
	e->int_port_end = (uint16_t)(ip + (end - r->ext_port));
	e->ext_addr = r->ext_addr;
	e->int_addr = r->int_addr;
	mt_set_filters(e, r);
	mt_set_strings(e, r);
	if (lease != 0) {
		e->expires_ms = mtable_now(mt) + (uint64_t)lease * 1000;
		if (heap_push(&mt->heap, &e->lease, e->expires_ms) == -1) {
			free(e);
			return MT_ERR_NOMEM;
		}
	}
	e->client = c;
	c->total++;
	if (mt_source_is_dynamic(e->source))
		c->dynamic++;
	mt_link(mt, e);
	mt_fw_queue(mt, FW_ADD, e);
	if (out != NULL)
		*out = e;
	mt_notify(mt, MT_CHG_PUT, e);
	return MT_OK;
}

enum mt_err
mt_renew(struct mtable *mt, struct mt_entry *e, uint32_t lease_s, int queue_del,
    enum mt_change what)
{
	lease_s = mt_cap_lease(mt, e->source, lease_s);
	mt_heap_remove(mt, e);
	e->expires_ms = 0;
	if (lease_s != 0) {
		e->expires_ms = mtable_now(mt) + (uint64_t)lease_s * 1000;
		if (heap_push(&mt->heap, &e->lease, e->expires_ms) == -1)
			return MT_ERR_NOMEM;
	}
	/* the kernel element carries the lease: replace it to refresh its timeout */
	if (e->kind == MT_KIND_PINHOLE && queue_del)
		mt_pin_save_counters(mt, e);	/* the new element counts on from there */
	if (queue_del)
		mt_fw_queue(mt, FW_DEL, e);
	mt_fw_queue(mt, FW_ADD, e);
	mt_notify(mt, what, e);
	return MT_OK;
}

enum mt_err
mtable_renew(struct mtable *mt, struct mt_entry *e, uint32_t lease_s)
{
	return mt_renew(mt, e, lease_s, 1, MT_CHG_LEASE);
}

void
mtable_del(struct mtable *mt, struct mt_entry *e)
{
	mt_unlink(mt, e);
	mt_fw_queue(mt, FW_DEL, e);
	mt_notify(mt, MT_CHG_DEL, e);
	free(e);
}

size_t
mtable_flush(struct mtable *mt, int source)
{
	struct mt_entry *e, *next;
	size_t n = 0;

	for (e = mtable_next(mt, NULL); e != NULL; e = next) {
		next = mtable_next(mt, e);
		if (source == MT_NSOURCE || e->source == source) {
			mtable_del(mt, e);
			n++;
		}
	}
	return n + mt_flush_peers(mt, source) + mt_pin_flush(mt, source);
}

/* ---- PEER pins: outbound flows, indexed by their 5-tuple ---- */

struct mt_flowkey {
	struct in6_addr	int_addr, peer_addr;
	uint16_t	int_port, peer_port;
	uint8_t		proto;
	uint8_t		pad[3];
};

static uint32_t
flow_hash(const struct mtable *mt, int proto, const struct in6_addr *a, uint16_t ip,
    const struct in6_addr *peer, uint16_t pp)
{
	struct mt_flowkey k;

	memset(&k, 0, sizeof(k));
	k.int_addr = *a;
	k.peer_addr = *peer;
	k.int_port = ip;
	k.peer_port = pp;
	k.proto = (uint8_t)proto;
	return hmap_hash(&mt->by_flow, &k, sizeof(k));
}

struct mt_entry *
mtable_lookup_peer(const struct mtable *mt, int proto, const struct in6_addr *a, uint16_t ip,
    const struct in6_addr *peer, uint16_t pp)
{
	uint32_t h = flow_hash(mt, proto, a, ip, peer, pp);
	struct hnode *n;
	struct mt_entry *e;

	for (n = hmap_bucket(&mt->by_flow, h); n != NULL; n = n->next) {
		e = HMAP_ENTRY(n, struct mt_entry, int_node);
		if (n->hash == h && e->proto == proto && e->int_port == ip && e->peer_port == pp &&
		    memcmp(&e->int_addr, a, sizeof(*a)) == 0 &&
		    memcmp(&e->peer_addr, peer, sizeof(*peer)) == 0)
			return e;
	}
	return NULL;
}

struct mt_outkey {
	struct in6_addr	peer_addr;
	uint16_t	ext_port, peer_port;
	uint8_t		proto;
	uint8_t		pad[3];
};

static uint32_t
out_hash(const struct mtable *mt, int proto, uint16_t ext, const struct in6_addr *peer,
    uint16_t pp)
{
	struct mt_outkey k;

	memset(&k, 0, sizeof(k));
	k.peer_addr = *peer;
	k.ext_port = ext;
	k.peer_port = pp;
	k.proto = (uint8_t)proto;
	return hmap_hash(&mt->by_out, &k, sizeof(k));
}

/* The pin whose flow leaves as (proto, ext_port) towards peer:pp, or NULL. */
static struct mt_entry *
mt_lookup_out(const struct mtable *mt, int proto, uint16_t ext, const struct in6_addr *peer,
    uint16_t pp)
{
	uint32_t h = out_hash(mt, proto, ext, peer, pp);
	struct hnode *n;
	struct mt_entry *e;

	for (n = hmap_bucket(&mt->by_out, h); n != NULL; n = n->next) {
		e = HMAP_ENTRY(n, struct mt_entry, own_node);
		if (n->hash == h && e->proto == proto && e->ext_port == ext && e->peer_port == pp &&
		    memcmp(&e->peer_addr, peer, sizeof(*peer)) == 0)
			return e;
	}
	return NULL;
}

int
mtable_peer_port_free(const struct mtable *mt, int proto, uint16_t ext,
    const struct in6_addr *peer, uint16_t pp, const struct mt_entry *self)
{
	const struct mt_entry *e = mt_lookup_out(mt, proto, ext, peer, pp);

	return e == NULL || e == self;
}

static void
mt_index_out(struct mtable *mt, struct mt_entry *e)
{
	hmap_insert(&mt->by_out, &e->own_node, out_hash(mt, e->proto, e->ext_port, &e->peer_addr,
	    e->peer_port));
}

size_t
mtable_peer_count(const struct mtable *mt)
{
	return mt->npeers;
}

static enum mt_err
mt_peer_check(const struct mtable *mt, const struct mt_peer_req *r)
{
	if (r->proto >= MT_NPROTO || r->source >= MT_NSOURCE || r->int_port == 0 ||
	    r->peer_port == 0 || !util_addr_is_v4(&r->int_addr) ||
	    !util_addr_is_v4(&r->peer_addr))
		return MT_ERR_INVAL;
	if (r->owner != NULL && util_text_problem(r->owner, strlen(r->owner), SIZE_MAX) != NULL)
		return MT_ERR_INVAL;
	if (!mtable_client_ok(mt, &r->int_addr, NULL, 0))
		return MT_ERR_ADDR;
	return MT_OK;
}

/*
 * 1 if r's flow may leave by ext: no inbound entry (a mapping, a forward, a
 * trigger's range) sends that port to another internal endpoint, since the
 * remote end's traffic to it would reach this flow instead (conntrack's
 * reply direction wins over the DNAT), and no other pin leaves by it
 * towards the same remote end (two such flows would clash in conntrack).
 */
static int
mt_peer_port_ok(const struct mtable *mt, const struct mt_peer_req *r, uint16_t ext,
    const struct mt_entry *self)
{
	const struct mt_entry *in = mtable_lookup_ext(mt, r->proto, ext);

	if (in != NULL && (memcmp(&in->int_addr, &r->int_addr, sizeof(r->int_addr)) != 0 ||
	    (uint32_t)in->int_port + (ext - in->ext_port) != r->int_port))
		return 0;
	return mtable_peer_port_free(mt, r->proto, ext, &r->peer_addr, r->peer_port, self);
}

/* The port the kernel already translated r's flow to, when it is open: 1 with *port. */
static int
mt_peer_open_port(const struct mtable *mt, const struct mt_peer_req *r, uint16_t *port)
{
	struct fw_item it;

	if (mt->fw == NULL)
		return 0;
	memset(&it, 0, sizeof(it));
	it.kind = MT_KIND_PEER;
	it.proto = r->proto;
	it.int_addr = r->int_addr;
	it.int_port = r->int_port;
	it.peer_addr = r->peer_addr;
	it.peer_port = r->peer_port;
	return fw_flow_port(mt->fw, &it, port) == 0 && *port != 0;
}

/*
 * The external port for r's pin (self: its pin, if it has one). An open flow
 * keeps the port it has: that is what the remote end sees. Otherwise the
 * pin's, the internal endpoint's mapping's, or the internal port (what a
 * masquerade keeps where it can), moved up to the first port the flow may
 * leave by.
 */
static enum mt_err
mt_peer_pick(const struct mtable *mt, const struct mt_peer_req *r, const struct mt_entry *self,
    uint16_t *out)
{
	const struct mt_entry *m;
	uint32_t p, tries;
	uint16_t open;

	if (mt_peer_open_port(mt, r, &open)) {
		*out = open;		/* not moved: if it is not free, a conflict */
		return MT_OK;
	}
	if (self != NULL)
		p = self->ext_port;
	else if ((m = mtable_lookup_int(mt, r->proto, &r->int_addr, r->int_port)) != NULL)
		p = m->ext_port;
	else
		p = r->int_port;
	for (tries = 0; tries < 64; tries++, p = p >= 65535 ? 1024 : p + 1)
		if (mt_peer_port_ok(mt, r, (uint16_t)p, self)) {
			*out = (uint16_t)p;
			return MT_OK;
		}
	return MT_ERR_NOPORT;
}

/* A refreshed pin may move to another external port: the kernel element is replaced. */
static enum mt_err
mt_peer_refresh(struct mtable *mt, struct mt_entry *e, const struct mt_peer_req *r)
{
	mt_fw_queue(mt, FW_DEL, e);
	hmap_remove(&mt->by_out, &e->own_node);
	e->ext_port = e->ext_port_end = r->ext_port;
	e->ext_addr = r->ext_addr;
	mt_index_out(mt, e);
	util_utf8_copy(e->owner, sizeof(e->owner), r->owner ? r->owner : "");
	return mt_renew(mt, e, r->lease_s, 0, MT_CHG_PUT);
}

static enum mt_err
mt_peer_new(struct mtable *mt, const struct mt_peer_req *r, struct mt_entry **out)
{
	struct mt_entry *e;
	struct mt_client *c;
	enum mt_err err;

	if (mt->npeers >= MT_MAX_PEERS)
		return MT_ERR_NOPORT;
	if ((err = mt_client_claim(mt, &r->int_addr, MT_SRC_PCP, &c)) != MT_OK)
		return err;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		mt_client_unclaim(mt, c);
		return MT_ERR_NOMEM;
	}
	e->id = mt->next_id++;
	e->kind = MT_KIND_PEER;
	e->proto = r->proto;
	e->source = r->source;
	e->int_addr = r->int_addr;
	e->int_port = e->int_port_end = r->int_port;
	e->peer_addr = r->peer_addr;
	e->peer_port = r->peer_port;
	e->ext_addr = r->ext_addr;
	e->ext_port = e->ext_port_end = r->ext_port;
	util_utf8_copy(e->owner, sizeof(e->owner), r->owner ? r->owner : "");
	e->client = c;
	c->total++;
	c->dynamic++;
	hmap_insert(&mt->by_flow, &e->int_node, flow_hash(mt, e->proto, &e->int_addr,
	    e->int_port, &e->peer_addr, e->peer_port));
	mt_index_out(mt, e);
	mt->npeers++;
	*out = e;
	return mt_renew(mt, e, r->lease_s ? r->lease_s : 1, 0, MT_CHG_PUT);
}

enum mt_err
mtable_peer(struct mtable *mt, const struct mt_peer_req *req, struct mt_entry **out)
{
	struct mt_peer_req r = *req;
	struct mt_entry *e;
	enum mt_err err;

	if ((err = mt_peer_check(mt, &r)) != MT_OK)
		return err;
	e = mtable_lookup_peer(mt, r.proto, &r.int_addr, r.int_port, &r.peer_addr, r.peer_port);
	if (r.ext_port == 0 && (err = mt_peer_pick(mt, &r, e, &r.ext_port)) != MT_OK)
		return err;
	if (!mt_peer_port_ok(mt, &r, r.ext_port, e))
		return MT_ERR_CONFLICT;
	if (!mtable_permitted(mt, r.source, r.ext_port, r.ext_port, &r.int_addr, r.int_port,
	    r.int_port))
		return MT_ERR_DENIED;
	if (e == NULL)
		return mt_peer_new(mt, &r, out);
	*out = e;
	return mt_peer_refresh(mt, e, &r);
}

/* Every pin of a source (MT_NSOURCE: all), deleted; returns how many. */
static size_t
mt_flush_peers(struct mtable *mt, int source)
{
	struct mt_entry *e;
	struct hnode *n, *next;
	size_t i, cnt = 0;

	for (i = 0; i < mt->by_flow.nbuckets; i++) {
		for (n = mt->by_flow.buckets[i]; n != NULL; n = next) {
			next = n->next;
			e = HMAP_ENTRY(n, struct mt_entry, int_node);
			if (source != MT_NSOURCE && e->source != source)
				continue;
			mtable_del(mt, e);
			cnt++;
		}
	}
	return cnt;
}

/* ---- lookups ---- */

struct mt_entry *
mtable_lookup_ext(const struct mtable *mt, int proto, uint16_t port)
{
	if (proto < 0 || proto >= MT_NPROTO)
		return NULL;
	return mt->slots[(size_t)proto * 65536 + port];
}

struct mt_entry *
mtable_lookup_int_source(const struct mtable *mt, int proto, const struct in6_addr *a,
    uint16_t port, int source)
{
	uint32_t h = int_hash(mt, proto, a, port);
	struct hnode *n;
	struct mt_entry *e;

	for (n = hmap_bucket(&mt->by_int, h); n != NULL; n = n->next) {
		e = HMAP_ENTRY(n, struct mt_entry, int_node);
		if (n->hash == h && e->proto == proto && e->int_port == port &&
		    memcmp(&e->int_addr, a, sizeof(*a)) == 0 &&
		    (source == MT_NSOURCE || e->source == source))
			return e;
	}
	return NULL;
}

struct mt_entry *
mtable_lookup_int(const struct mtable *mt, int proto, const struct in6_addr *a, uint16_t port)
{
	return mtable_lookup_int_source(mt, proto, a, port, MT_NSOURCE);
}

int
mtable_foreach_owner(const struct mtable *mt, int source, const char *owner,
    mt_visit_cb *cb, void *arg)
{
	uint32_t h = owner_hash(mt, source, owner);
	struct hnode *n, *next;
	struct mt_entry *e;
	int rc;

	for (n = hmap_bucket(&mt->by_owner, h); n != NULL; n = next) {
		next = n->next;		/* the visitor may delete e */
		e = HMAP_ENTRY(n, struct mt_entry, own_node);
		if (n->hash != h || e->source != source ||
		    strncmp(e->owner, owner, MT_OWNER_MAX - 1) != 0)
			continue;
		if ((rc = cb(arg, e)) != 0)
			return rc;
	}
	return 0;
}

enum mt_err
mtable_find_free(const struct mtable *mt, int proto, int source, uint16_t suggested,
    const struct in6_addr *a, uint16_t int_port, uint16_t *out)
{
	uint32_t p, lo = 1024, pass;

	if (proto < 0 || proto >= MT_NPROTO)
		return MT_ERR_INVAL;
	if (suggested < lo)
		suggested = (uint16_t)lo;
	/* from the suggestion up to 65535, then from 1024 up to the suggestion */
	for (pass = 0; pass < 2; pass++) {
		p = pass == 0 ? suggested : lo;
		while ((p = portbits_next_free(&mt->ports[proto], p)) != 0) {
			if (pass == 1 && p >= suggested)
				break;
			if (mtable_permitted(mt, source, (uint16_t)p, (uint16_t)p, a, int_port,
			    int_port)) {
				*out = (uint16_t)p;
				return MT_OK;
			}
			p++;
		}
	}
	return MT_ERR_NOPORT;
}

size_t
mtable_count(const struct mtable *mt)
{
	return mt->count;
}

size_t
mtable_count_source(const struct mtable *mt, int source)
{
	if (source < 0 || source >= MT_NSOURCE)
		return 0;
	return mt->per_source[source];
}

unsigned
mtable_client_count(const struct mtable *mt, const struct in6_addr *a)
{
	struct mt_client *c = client_get((struct mtable *)mt, a, 0);

	return c ? c->dynamic : 0;
}

struct mt_entry *
mtable_at(const struct mtable *mt, size_t index)
{
	if (index >= mt->count)
		return NULL;
	return mt->slots[fenwick_select(&mt->fenwick, index, NULL)];
}

struct mt_entry *
mtable_next(const struct mtable *mt, const struct mt_entry *e)
{
	if (e == NULL)
		return mtable_at(mt, 0);
	return mtable_at(mt, fenwick_prefix(&mt->fenwick, (size_t)e->proto * 65536 + e->ext_port));
}

size_t
mtable_port_count(const struct mtable *mt)
{
	return fenwick_prefix(&mt->fenport, MT_NSLOTS - 1);
}

struct mt_entry *
mtable_port_at(const struct mtable *mt, size_t index, uint16_t *port)
{
	struct mt_entry *e;
	size_t rest;

	if (index >= mtable_port_count(mt))
		return NULL;
	e = mt->slots[fenwick_select(&mt->fenport, index, &rest)];
	*port = (uint16_t)(e->ext_port + rest);
	return e;
}

size_t
mtable_port_rank(const struct mtable *mt, int proto, uint16_t port)
{
	size_t slot = (size_t)proto * 65536 + port;
	const struct mt_entry *e;

	if (proto < 0 || proto >= MT_NPROTO)
		return 0;
	if (slot == 0)
		return 0;
	/* ports of entries starting before this slot, less the part of a range at or after it */
	e = mt->slots[slot];
	if (e != NULL && e->ext_port < port)
		return fenwick_prefix(&mt->fenport, slot - 1) - (size_t)(e->ext_port_end - port + 1);
	return fenwick_prefix(&mt->fenport, slot - 1);
}

void
mtable_set_ext_addr(struct mtable *mt, const struct in6_addr *a)
{
	struct mt_entry *e;

	for (e = mtable_next(mt, NULL); e != NULL; e = mtable_next(mt, e))
		e->ext_addr = *a;
	mt_notify(mt, MT_CHG_OTHER, NULL);
}

void
mtable_set_peer_addr(struct mtable *mt, const struct in6_addr *a)
{
	struct mt_entry *e;
	struct hnode *n;
	size_t i;

	/* a pin's kernel element SNATs to its address: replace it, or the flow leaves from the old one */
	for (i = 0; i < mt->by_flow.nbuckets; i++) {
		for (n = mt->by_flow.buckets[i]; n != NULL; n = n->next) {
			e = HMAP_ENTRY(n, struct mt_entry, int_node);
			if (memcmp(&e->ext_addr, a, sizeof(*a)) == 0)
				continue;
			mt_fw_queue(mt, FW_DEL, e);
			e->ext_addr = *a;
			mt_fw_queue(mt, FW_ADD, e);
		}
	}
	mt_notify(mt, MT_CHG_OTHER, NULL);
}

/* ---- lease clock ---- */

long
mtable_remaining(const struct mtable *mt, const struct mt_entry *e)
{
	uint64_t now = mtable_now(mt);

	if (e->expires_ms == 0)
		return -1;
	if (e->expires_ms <= now)
		return 0;
	return (long)((e->expires_ms - now + 999) / 1000);
}

size_t
mtable_expire(struct mtable *mt)
{
	uint64_t now = mtable_now(mt);
	struct mt_entry *e;
	size_t n = 0;
	char buf[INET6_ADDRSTRLEN];

	while (heap_count(&mt->heap) > 0 && heap_top_key(&mt->heap) <= now) {
		e = HEAP_ENTRY(heap_top(&mt->heap), struct mt_entry, lease);
		log_debug("mtable: lease expired: %s %u -> %s:%u (%s)", mt_proto_name(e->proto),
		    e->ext_port, util_addr_str(&e->int_addr, buf, sizeof(buf)), e->int_port,
		    mt_source_name(e->source));
		mtable_del(mt, e);
		n++;
	}
	return n;
}

uint64_t
mtable_next_expiry(const struct mtable *mt)
{
	return heap_top_key(&mt->heap);
}

/* ---- commit / resync ---- */

struct mt_commit_ctx {
	struct mtable	*mt;
	mt_fail_cb	*cb;
	void		*arg;
};

static void
mt_commit_failed(void *arg, const struct fw_change *c, int err)
{
	struct mt_commit_ctx *cc = arg;
	struct mt_entry *e;

	if (c->op != FW_ADD) {
		log_debug("mtable: firewall delete of %s %u failed: %s",
		    mt_proto_name(c->item.proto), c->item.ext_port, strerror(err));
		return;
	}
	e = c->item.kind == MT_KIND_PINHOLE ? mtable_pinhole_get(cc->mt, c->item.pin_id) :
	    c->item.kind == MT_KIND_PEER ? mtable_lookup_peer(cc->mt, c->item.proto,
	    &c->item.int_addr, c->item.int_port, &c->item.peer_addr, c->item.peer_port) :
	    mtable_lookup_ext(cc->mt, c->item.proto, c->item.ext_port);
	if (e != NULL && e->id == c->item.id) {
		/* never reached the firewall: roll back without queueing a delete */
		log_warnx("mtable: firewall refused %s %u: %s; mapping removed",
		    mt_proto_name(e->proto), e->ext_port, strerror(err));
		mt_unlink(cc->mt, e);
		mt_notify(cc->mt, MT_CHG_DEL, e);
		free(e);
	}
	if (cc->cb != NULL)
		cc->cb(cc->arg, c->item.id, c->item.proto, c->item.ext_port, err);
}

int
mtable_commit(struct mtable *mt, mt_fail_cb *cb, void *arg)
{
	struct mt_commit_ctx cc = { mt, cb, arg };

	if (mt->fw == NULL)
		return 0;
	return fw_commit(mt->fw, mt_commit_failed, &cc);
}

struct mt_iter {
	struct mtable		*mt;
	const struct mt_entry	*cur;
	int			 peers;		/* mappings done: walking the pins (2: pinholes) */
	size_t			 bucket;
	struct hnode		*node;
};

static const struct mt_entry *
mt_iter_peer(struct mt_iter *it)
{
	const struct hmap *h = &it->mt->by_flow;

	if (it->node != NULL)
		it->node = it->node->next;
	while (it->node == NULL && it->bucket < h->nbuckets)
		it->node = h->buckets[it->bucket++];
	return it->node ? HMAP_ENTRY(it->node, struct mt_entry, int_node) : NULL;
}

static int
mt_iter_next(void *arg, struct fw_item *out)
{
	struct mt_iter *it = arg;

	if (!it->peers && (it->cur = mtable_next(it->mt, it->cur)) == NULL)
		it->peers = 1;
	if (it->peers == 1 && (it->cur = mt_iter_peer(it)) == NULL) {
		it->peers = 2;
		it->cur = NULL;
	}
	if (it->peers == 2)
		it->cur = mt_pin_iter(it->mt, it->cur);
	if (it->cur == NULL)
		return 0;
	mt_fw_item(it->mt, it->cur, out);
	return 1;
}

int
mtable_resync(struct mtable *mt)
{
	struct mt_iter it = { mt, NULL, 0, 0, NULL };

	if (mt->fw == NULL)
		return 0;
	return fw_resync(mt->fw, mt_iter_next, &it);
}
