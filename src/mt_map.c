/*
 * mt_map.c - the mapping table's inbound mappings (kind MT_KIND_MAP), on
 * the core (mt_core.c).
 *
 * Every operation costs the same at 0 or 100,000 mappings:
 *  - external ports are direct-indexed: one pointer per (proto, port) slot,
 *    so conflict detection is a slot lookup (a range touches its own slots);
 *  - a Fenwick tree over the slots gives the index-th mapping in
 *    (proto, port) order in O(log 131072), for GetGenericPortMappingEntry;
 *  - a two-level bitmap of taken ports finds a free one;
 *  - hash maps index internal endpoints and owner tokens.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fenwick.h"
#include "fw/fw.h"
#include "hmap.h"
#include "log.h"
#include "mt_core.h"
#include "mt_kinds.h"
#include "mtable.h"
#include "portbits.h"
#include "util.h"

#define MT_NSLOTS	(MT_NPROTO * 65536)

struct mt_map {
	struct mt_entry		**slots;	/* MT_NSLOTS: entry covering (proto, port) */
	struct fenwick		 fenwick;	/* MT_NSLOTS: 1 at the first slot of each entry */
	struct fenwick		 fenport;	/* MT_NSLOTS: its number of ports, at that slot */
	struct portbits		 ports[MT_NPROTO];	/* taken external ports */
	struct hmap		 by_int;
	struct hmap		 by_owner;
	size_t			 count;
	size_t			 per_source[MT_NSOURCE];
};

/* ---- hash keys ---- */

static uint32_t
int_hash(const struct mtable *mt, int proto, const struct in6_addr *a, uint16_t port)
{
	return mt_endpoint_hash(&mt->map->by_int, proto, a, port);
}

static uint32_t
owner_hash(const struct mtable *mt, int source, const char *owner)
{
	char buf[MT_OWNER_MAX + 1];
	size_t len = strnlen(owner, MT_OWNER_MAX - 1);

	buf[0] = (char)source;
	memcpy(buf + 1, owner, len);
	return hmap_hash(&mt->map->by_owner, buf, len + 1);
}

static void
mt_map_init(struct mtable *mt)
{
	struct mt_map *m = xcalloc(1, sizeof(*m));

	m->slots = xzmap(MT_NSLOTS, sizeof(*m->slots));
	fenwick_init(&m->fenwick, MT_NSLOTS);
	fenwick_init(&m->fenport, MT_NSLOTS);
	hmap_init(&m->by_int);
	hmap_init(&m->by_owner);
	mt->map = m;
}

static void
mt_map_free(struct mtable *mt)
{
	struct mt_map *m = mt->map;
	struct mt_entry *e;
	size_t i;

	/* a range fills several slots: free it at its first, then skip past its last */
	for (i = 0; i < MT_NSLOTS; i++) {
		if ((e = m->slots[i]) == NULL)
			continue;
		i = (size_t)e->proto * 65536 + e->ext_port_end;
		mt_entry_free(e);
	}
	hmap_destroy(&m->by_int);
	hmap_destroy(&m->by_owner);
	xzunmap(m->slots, MT_NSLOTS, sizeof(*m->slots));
	fenwick_destroy(&m->fenwick);
	fenwick_destroy(&m->fenport);
	free(m);
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

static void
mt_link(struct mtable *mt, struct mt_entry *e)
{
	size_t base = (size_t)e->proto * 65536, p;

	for (p = e->ext_port; p <= e->ext_port_end; p++)
		mt->map->slots[base + p] = e;
	fenwick_add(&mt->map->fenwick, base + e->ext_port, 1);
	fenwick_add(&mt->map->fenport, base + e->ext_port, e->ext_port_end - e->ext_port + 1);
	hmap_insert(&mt->map->by_int, &e->int_node, int_hash(mt, e->proto, &e->int_addr,
	    e->int_port));
	if (e->owner[0] != '\0')	/* only owned entries are looked up by owner */
		hmap_insert(&mt->map->by_owner, &e->own_node, owner_hash(mt, e->source, e->owner));
	portbits_set(&mt->map->ports[e->proto], e->ext_port, e->ext_port_end, 1);
	mt->map->count++;
	mt->map->per_source[e->source]++;
}

static void
mt_map_unlink(struct mtable *mt, struct mt_entry *e)
{
	size_t base = (size_t)e->proto * 65536, p;

	for (p = e->ext_port; p <= e->ext_port_end; p++)
		mt->map->slots[base + p] = NULL;
	fenwick_add(&mt->map->fenwick, base + e->ext_port, -1);
	fenwick_add(&mt->map->fenport, base + e->ext_port, -(e->ext_port_end - e->ext_port + 1));
	hmap_remove(&mt->map->by_int, &e->int_node);
	if (e->owner[0] != '\0')
		hmap_remove(&mt->map->by_owner, &e->own_node);
	portbits_set(&mt->map->ports[e->proto], e->ext_port, e->ext_port_end, 0);
	mt->map->count--;
	mt->map->per_source[e->source]--;
}

static enum mt_err
mt_check_conflict(const struct mtable *mt, const struct mt_request *r, uint16_t end,
    uint16_t ip, struct mt_entry **same, const struct mt_entry **conflict)
{
	size_t base = (size_t)r->proto * 65536, p;
	struct mt_entry *e;

	*same = NULL;
	for (p = r->ext_port; p <= end; p++) {
		if ((e = mt->map->slots[base + p]) == NULL)
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

/* A renewal may bring a new description and owner (the owner index follows); 1 if either did. */
static int
mt_renew_strings(struct mtable *mt, struct mt_entry *e, const struct mt_request *r)
{
	int indexed = e->owner[0] != '\0', o, d;

	if ((o = mt_entry_set_owner(e, r->owner)) == 1) {	/* the node keeps its old hash */
		if (indexed)
			hmap_remove(&mt->map->by_owner, &e->own_node);
		if (e->owner[0] != '\0')
			hmap_insert(&mt->map->by_owner, &e->own_node, owner_hash(mt, e->source,
			    e->owner));
	}
	if ((d = mt_entry_set_desc(e, r->desc)) == -1 || o == -1)	/* kept as they were */
		log_warnx("mtable: out of memory: %s %u keeps its description or owner",
		    mt_proto_name(e->proto), e->ext_port);
	return o != 0 || d != 0;
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

/* Text from outside must be UTF-8 without controls before it reaches a reply, log or file. */
static int
mt_strings_ok(const struct mt_request *r)
{
	return (r->desc == NULL || util_text_problem(r->desc, strlen(r->desc), SIZE_MAX) == NULL) &&
	    (r->owner == NULL || util_text_problem(r->owner, strlen(r->owner), SIZE_MAX) == NULL);
}

/* A request for what its holder already has: the lease, the strings and maybe the filters renewed. */
static enum mt_err
mt_add_renew(struct mtable *mt, struct mt_entry *same, const struct mt_request *r, uint32_t lease)
{
	struct mt_filter f[MT_MAX_FILTERS];
	enum mt_change what = mt_renew_strings(mt, same, r) ? MT_CHG_PUT : MT_CHG_LEASE;
	size_t nf = r->set_filters ? mt_filters_norm(f, r->filters, r->nfilters) : 0;

	if (!r->set_filters || !mt_entry_filters_differ(same, f, nf))
		return mt_renew(mt, same, lease, 1, what);
	mt_fw_queue(mt, FW_DEL, same);	/* copied: the old filters leave the kernel */
	if (mt_entry_set_filters(same, f, nf) == -1)	/* re-added as they were */
		log_warnx("mtable: out of memory: %s %u keeps its filters",
		    mt_proto_name(same->proto), same->ext_port);
	return mt_renew(mt, same, lease, 0, MT_CHG_PUT);
}

enum mt_err
mtable_add(struct mtable *mt, const struct mt_request *r, struct mt_entry **out,
    const struct mt_entry **conflict)
{
	struct mt_entry *e, *same;
	struct mt_client *c;
	uint16_t end, ip;
	uint32_t lease;
	enum mt_err err;

	if ((err = mt_authorized(mt, r->actor, &r->int_addr, NULL)) != MT_OK)
		return err;		/* a secure actor asks for another host */
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
	if (same != NULL && (err = mt_authorized(mt, r->actor, NULL, same)) != MT_OK)
		return err;		/* one's own, but another owner token's (a PCP nonce) */
	lease = mt_cap_lease(mt, r->source, r->lease_s);
	if (same != NULL && same->int_port != ip) {
		mtable_del(mt, same);	/* re-pointed by its holder: replaced in one batch */
		same = NULL;
	}
	if (same != NULL) {
		if (out != NULL)
			*out = same;
		return mt_add_renew(mt, same, r, lease);
	}
	if ((err = mt_client_claim(mt, &r->int_addr, r->source, &c)) != MT_OK)
		return err;
	if ((e = mt_entry_new()) == NULL) {
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
	e->fixed = r->fixed >= MT_PORT_ANY && r->fixed <= MT_PORT_FOLLOW ?
	    (uint8_t)r->fixed : MT_PORT_ANY;
	if (mt_set_filters_from(e, r->filters, r->nfilters) == -1) {
		mt_client_unclaim(mt, c);
		mt_entry_free(e);
		return MT_ERR_NOMEM;
	}
	if (mt_entry_set_strings(e, r->desc, r->owner) == -1 ||
	    mt_lease_start(mt, e, lease) == -1) {
		mt_client_unclaim(mt, c);	/* the claim made the client's record */
		mt_entry_free(e);
		return MT_ERR_NOMEM;
	}
	e->client = c;
	c->total++;
	if (mt_source_is_dynamic(e->source))
		c->dynamic++;
	mt_link(mt, e);
	mt_fw_queue(mt, FW_ADD, e);
	if (out != NULL)
		*out = e;
	mt_notify(mt, MT_CHG_NEW, e);
	return MT_OK;
}

/* Every mapping of a source (MT_NSOURCE: all), deleted; returns how many. */
static size_t
mt_map_flush(struct mtable *mt, int source)
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
	return n;
}

/* ---- lookups ---- */

struct mt_entry *
mtable_lookup_ext(const struct mtable *mt, int proto, uint16_t port)
{
	if (proto < 0 || proto >= MT_NPROTO)
		return NULL;
	return mt->map->slots[(size_t)proto * 65536 + port];
}

struct mt_entry *
mtable_lookup_int_source(const struct mtable *mt, int proto, const struct in6_addr *a,
    uint16_t port, int source)
{
	uint32_t h = int_hash(mt, proto, a, port);
	struct hnode *n;
	struct mt_entry *e;

	for (n = hmap_bucket(&mt->map->by_int, h); n != NULL; n = n->next) {
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

	for (n = hmap_bucket(&mt->map->by_owner, h); n != NULL; n = next) {
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
		while ((p = portbits_next_free(&mt->map->ports[proto], p)) != 0) {
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
	return mt->map->count;
}

size_t
mtable_count_source(const struct mtable *mt, int source)
{
	if (source < 0 || source >= MT_NSOURCE)
		return 0;
	return mt->map->per_source[source];
}

struct mt_entry *
mtable_at(const struct mtable *mt, size_t index)
{
	if (index >= mt->map->count)
		return NULL;
	return mt->map->slots[fenwick_select(&mt->map->fenwick, index, NULL)];
}

struct mt_entry *
mtable_next(const struct mtable *mt, const struct mt_entry *e)
{
	if (e == NULL)
		return mtable_at(mt, 0);
	return mtable_at(mt, fenwick_prefix(&mt->map->fenwick,
	    (size_t)e->proto * 65536 + e->ext_port));
}

size_t
mtable_port_count(const struct mtable *mt)
{
	return fenwick_prefix(&mt->map->fenport, MT_NSLOTS - 1);
}

struct mt_entry *
mtable_port_at(const struct mtable *mt, size_t index, uint16_t *port)
{
	struct mt_entry *e;
	size_t rest;

	if (index >= mtable_port_count(mt))
		return NULL;
	e = mt->map->slots[fenwick_select(&mt->map->fenport, index, &rest)];
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
	e = mt->map->slots[slot];
	if (e != NULL && e->ext_port < port)
		return fenwick_prefix(&mt->map->fenport, slot - 1) -
		    (size_t)(e->ext_port_end - port + 1);
	return fenwick_prefix(&mt->map->fenport, slot - 1);
}

void
mtable_set_ext_addr(struct mtable *mt, const struct in6_addr *a)
{
	struct mt_entry *e;

	for (e = mtable_next(mt, NULL); e != NULL; e = mtable_next(mt, e))
		e->ext_addr = *a;
	mt_notify(mt, MT_CHG_OTHER, NULL);
}

/* ---- the kind ---- */

static const struct mt_entry *
mt_map_iter(const struct mtable *mt, const struct mt_entry *e)
{
	return mtable_next(mt, e);
}

static struct mt_entry *
mt_map_find(const struct mtable *mt, const struct fw_item *it)
{
	return mtable_lookup_ext(mt, it->proto, it->ext_port);
}

const struct mt_kind_ops mt_map_kind = {
	.init = mt_map_init,
	.free = mt_map_free,
	.unlink = mt_map_unlink,
	.flush = mt_map_flush,
	.iter = mt_map_iter,
	.find = mt_map_find,
};
