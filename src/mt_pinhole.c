/*
 * mt_pinhole.c - IPv6 pinholes (kind MT_KIND_PINHOLE), on the mapping table's core
 * (mt_core.c).
 *
 * On IPv6 there is no NAT: a LAN host has a global address and asks the
 * gateway's firewall to let inbound traffic to (proto, address, port) in
 * from a remote (an address, a prefix or anyone; a port or any). A pinhole
 * is an entry of the one table (kind MT_KIND_PINHOLE): the same lease heap,
 * quota, allow/deny rules, lease caps, state file and firewall queue as a
 * mapping, but it holds no external port, so it lives in two indexes of its
 * own here: by internal endpoint (conflicts: O(pinholes of that endpoint))
 * and by ID (UPnP's UniqueID, portgatectl's handle; O(1)).
 *
 * IDs: UPnP's UniqueID is a ui2, so UPnP pinholes take IDs 1..65535 (in
 * rotation, a freed ID comes back last); every other pinhole takes an ID
 * from 65536 up, so 200,000 pinholes fit.
 *
 * The kernel sees each pinhole as one element per allowed remote (its
 * remote, or each of its PCP filters). Two pinholes of one endpoint must
 * not make the same element, and prefix elements (an interval set) must not
 * overlap: both are conflicts decided here, never by a kernel refusal.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fw/fw.h"
#include "hmap.h"
#include "log.h"
#include "mt_core.h"
#include "mt_kinds.h"
#include "mtable.h"
#include "netif.h"
#include "util.h"

#define PIN_FIRST_OTHER	65536u
#define PIN_ADMIN_RESERVE	1024	/* pinholes (and prefix ones) only the admin may take */

struct mt_pins {
	struct hmap		 by_pinep;	/* pinholes, by (proto, internal address, port) */
	struct hmap		 by_pinid;	/* pinholes, by ID */
	size_t			 npins;
	size_t			 npfx;		/* pinholes with prefix remotes (interval elements) */
	uint32_t		 next_upnp_pin;	/* UPnP UniqueIDs rotate through 1..65535 */
	uint32_t		 next_pin;	/* other pinholes' IDs: 65536 and up */
};

static uint32_t
pin_ep_hash(const struct mtable *mt, int proto, const struct in6_addr *a, uint16_t port)
{
	return mt_endpoint_hash(&mt->pins->by_pinep, proto, a, port);
}

static uint32_t
pin_id_hash(const struct mtable *mt, uint32_t id)
{
	return hmap_hash(&mt->pins->by_pinid, &id, sizeof(id));
}

static void
mt_pin_init(struct mtable *mt)
{
	struct mt_pins *p = xcalloc(1, sizeof(*p));

	hmap_init(&p->by_pinep);
	hmap_init(&p->by_pinid);
	p->next_upnp_pin = 1;
	p->next_pin = PIN_FIRST_OTHER;
	mt->pins = p;
}

static void
mt_pin_free(struct mtable *mt)
{
	struct mt_pins *p = mt->pins;
	struct hnode *n;
	size_t i;

	for (i = 0; i < p->by_pinid.nbuckets; i++) {
		while ((n = p->by_pinid.buckets[i]) != NULL) {
			p->by_pinid.buckets[i] = n->next;
			mt_entry_free(HMAP_ENTRY(n, struct mt_entry, own_node));
		}
	}
	hmap_destroy(&p->by_pinep);
	hmap_destroy(&p->by_pinid);
	free(p);
}

struct mt_entry *
mtable_pinhole_get(const struct mtable *mt, uint32_t id)
{
	uint32_t h = pin_id_hash(mt, id);
	struct hnode *n;
	struct mt_entry *e;

	for (n = hmap_bucket(&mt->pins->by_pinid, h); n != NULL; n = n->next) {
		e = HMAP_ENTRY(n, struct mt_entry, own_node);
		if (n->hash == h && e->pin_id == id)
			return e;
	}
	return NULL;
}

static int
pin_filter_eq(const struct mt_filter *a, const struct mt_filter *b)
{
	return a->plen == b->plen && a->port == b->port &&
	    memcmp(&a->addr, &b->addr, sizeof(a->addr)) == 0;
}

struct mt_entry *
mtable_pinhole_find(const struct mtable *mt, int proto, const struct in6_addr *a,
    uint16_t port, const struct mt_filter *remote)
{
	uint32_t h = pin_ep_hash(mt, proto, a, port);
	struct mt_filter r = *remote;
	struct hnode *n;
	struct mt_entry *e;

	mt_mask(&r.addr, r.plen);
	for (n = hmap_bucket(&mt->pins->by_pinep, h); n != NULL; n = n->next) {
		e = HMAP_ENTRY(n, struct mt_entry, int_node);
		if (n->hash == h && e->proto == proto && e->int_port == port &&
		    memcmp(&e->int_addr, a, sizeof(*a)) == 0 && pin_filter_eq(&e->remote, &r))
			return e;
	}
	return NULL;
}

/* The pinhole after e in the resync walk (NULL = first), or NULL. */
static const struct mt_entry *
mt_pin_iter(const struct mtable *mt, const struct mt_entry *e)
{
	const struct hmap *h = &mt->pins->by_pinid;
	size_t b = 0;

	if (e != NULL) {
		if (e->own_node.next != NULL)
			return HMAP_ENTRY(e->own_node.next, struct mt_entry, own_node);
		b = (e->own_node.hash & (h->nbuckets - 1)) + 1;
	}
	for (; b < h->nbuckets; b++)
		if (h->buckets[b] != NULL)
			return HMAP_ENTRY(h->buckets[b], struct mt_entry, own_node);
	return NULL;
}

struct mt_entry *
mtable_pinhole_next(const struct mtable *mt, const struct mt_entry *e)
{
	return (struct mt_entry *)(uintptr_t)mt_pin_iter(mt, e);
}

size_t
mtable_pinhole_count(const struct mtable *mt)
{
	return mt->pins->npins;
}

/* ---- checks ---- */

static int
pin_filter_ok(const struct mt_filter *f)
{
	return f->plen <= 128 && (f->plen == 0 || !util_addr_is_v4(&f->addr));
}

/*
 * A remote that can be on the WAN: one host must be global unicast and not
 * the LAN's (a pinhole "from" a LAN host or ff02::1 admits nothing, and
 * the client would believe it open); a prefix may not be multicast.
 */
int
mtable_pinhole_remote_ok(const struct mtable *mt, const struct mt_filter *f)
{
	const struct in6_addr *a = &f->addr;
	struct in6_addr lan;

	if (f->plen == 0)
		return 1;
	if (IN6_IS_ADDR_MULTICAST(a) || (f->plen >= 10 && IN6_IS_ADDR_LINKLOCAL(a)))
		return 0;
	if (f->plen < 128)
		return 1;
	if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a))
		return 0;
	return mt->netif == NULL || (netif_local_for(mt->netif, a, &lan) == -1 &&
	    !netif_is_own(mt->netif, a));
}

static int
pin_text_ok(const char *s)
{
	return s == NULL || util_text_problem(s, strlen(s), SIZE_MAX) == NULL;
}

static enum mt_err
pin_validate(const struct mtable *mt, const struct mt_pin_req *r)
{
	size_t i;

	if (r->proto >= MT_NPROTO || r->source >= MT_NSOURCE || r->int_port == 0 ||
	    util_addr_is_v4(&r->int_addr) || !pin_filter_ok(&r->remote) ||
	    !pin_text_ok(r->desc) || !pin_text_ok(r->owner))
		return MT_ERR_INVAL;
	if (r->nfilters > MT_MAX_FILTERS || (r->nfilters > 0 && (r->filters == NULL ||
	    r->remote.plen != 0 || r->remote.port != 0)))
		return MT_ERR_INVAL;
	for (i = 0; i < r->nfilters; i++)
		if (!pin_filter_ok(&r->filters[i]) || !mtable_pinhole_remote_ok(mt, &r->filters[i]))
			return MT_ERR_INVAL;
	if (!mtable_pinhole_remote_ok(mt, &r->remote))
		return MT_ERR_INVAL;
	if (!mtable_client_ok(mt, &r->int_addr, NULL, 0))
		return MT_ERR_ADDR;
	/* no NAT: the external port is the internal one */
	if (!mtable_permitted(mt, r->source, r->int_port, r->int_port, &r->int_addr, r->int_port,
	    r->int_port))
		return MT_ERR_DENIED;
	return MT_OK;
}

/* The remotes a pinhole admits, as the kernel gets them: its filters, or its remote. */
static size_t
pin_elems(const struct mt_entry *e, const struct mt_filter **out)
{
	if (e->nfilters > 0) {
		*out = e->filters;
		return e->nfilters;
	}
	*out = &e->remote;
	return 1;
}

static int
pin_is_prefix(const struct mt_filter *f)
{
	return f->plen > 0 && f->plen < 128;
}

/* 1 if the pinhole has an element in the kernel's interval set. */
static int
pin_has_prefix(const struct mt_entry *e)
{
	const struct mt_filter *f;
	size_t n = pin_elems(e, &f), i;

	for (i = 0; i < n; i++)
		if (pin_is_prefix(&f[i]))
			return 1;
	return 0;
}

/* a's address range lies inside b's, whatever their ports. */
static int
pin_prefix_nests(const struct mt_filter *a, const struct mt_filter *b)
{
	struct in6_addr m = a->addr;

	if (b->plen > a->plen)
		return 0;
	mt_mask(&m, b->plen);
	return memcmp(&m, &b->addr, sizeof(m)) == 0;
}

/* Would a and b clash in the kernel: the same element, or overlapping prefix intervals? */
static int
pin_elem_clash(const struct mt_filter *a, const struct mt_filter *b)
{
	if (pin_filter_eq(a, b))
		return 1;
	if (!pin_is_prefix(a) || !pin_is_prefix(b))
		return 0;
	if (a->port != 0 && b->port != 0 && a->port != b->port)
		return 0;		/* disjoint port ranges: no overlap */
	return pin_prefix_nests(a, b) || pin_prefix_nests(b, a);
}

/* Another pinhole of the endpoint whose elements clash with cand's, or NULL. */
static const struct mt_entry *
pin_clash(const struct mtable *mt, const struct mt_entry *cand, const struct mt_entry *self)
{
	uint32_t h = pin_ep_hash(mt, cand->proto, &cand->int_addr, cand->int_port);
	const struct mt_filter *fa, *fb;
	const struct mt_entry *e;
	struct hnode *n;
	size_t na, nb, i, j;

	na = pin_elems(cand, &fa);
	for (n = hmap_bucket(&mt->pins->by_pinep, h); n != NULL; n = n->next) {
		e = HMAP_ENTRY(n, struct mt_entry, int_node);
		if (e == self || n->hash != h || e->proto != cand->proto ||
		    e->int_port != cand->int_port ||
		    memcmp(&e->int_addr, &cand->int_addr, sizeof(e->int_addr)) != 0)
			continue;
		nb = pin_elems(e, &fb);
		for (i = 0; i < na; i++)
			for (j = 0; j < nb; j++)
				if (pin_elem_clash(&fa[i], &fb[j]))
					return e;
	}
	return NULL;
}

/* ---- IDs ---- */

static uint32_t
pin_alloc_id(struct mtable *mt, int source)
{
	uint32_t id, tries;

	if (source == MT_SRC_UPNP) {
		for (tries = 0; tries < MT_PIN_UPNP_MAX; tries++) {
			id = mt->pins->next_upnp_pin;
			mt->pins->next_upnp_pin = id >= MT_PIN_UPNP_MAX ? 1 : id + 1;
			if (mtable_pinhole_get(mt, id) == NULL)
				return id;
		}
		return 0;
	}
	for (tries = 0; tries < MT_MAX_PINHOLES + 1; tries++) {
		id = mt->pins->next_pin;
		mt->pins->next_pin = id == UINT32_MAX ? PIN_FIRST_OTHER : id + 1;
		if (mtable_pinhole_get(mt, id) == NULL)
			return id;
	}
	return 0;
}

/* A restored ID is kept if it is free and in its source's range. */
static uint32_t
pin_pick_id(struct mtable *mt, const struct mt_pin_req *r)
{
	if (r->pin_id != 0 && mtable_pinhole_get(mt, r->pin_id) == NULL &&
	    (r->source == MT_SRC_UPNP) == (r->pin_id <= MT_PIN_UPNP_MAX))
		return r->pin_id;
	return pin_alloc_id(mt, r->source);
}

/* ---- counters ---- */

static int
pin_read_counters(const struct mtable *mt, const struct mt_entry *e, uint64_t *pkts,
    uint64_t *bytes)
{
	struct fw_item it;

	if (mt->fw == NULL)
		return -1;
	mt_fw_item(mt, e, &it);
	return fw_pin_counters(mt->fw, &it, pkts, bytes);
}

int
mtable_pinhole_counters(const struct mtable *mt, const struct mt_entry *e, uint64_t *pkts,
    uint64_t *bytes)
{
	if (e->kind != MT_KIND_PINHOLE)
		return -1;
	if (pin_read_counters(mt, e, pkts, bytes) == 0)
		return 0;
	/* not in the kernel (yet, or lost): what it had counted when last re-added */
	*pkts = e->pin_pkts;
	*bytes = e->pin_bytes;
	return 0;
}

void
mtable_pinhole_counters_of(const struct mt_entry *e, const struct fw_elem_info *k,
    uint64_t *pkts, uint64_t *bytes)
{
	if (k != NULL && k->elems > 0 && k->found == k->elems) {
		*pkts = k->pkts;
		*bytes = k->bytes;
	} else {
		*pkts = e->pin_pkts;
		*bytes = e->pin_bytes;
	}
}

/* Read the kernel's counters into the entry before its element is replaced. */
static void
mt_pin_save_counters(struct mtable *mt, struct mt_entry *e)
{
	uint64_t p, b;

	if (pin_read_counters(mt, e, &p, &b) == 0) {
		e->pin_pkts = p;
		e->pin_bytes = b;
	}
}

/* ---- add / renew / delete ---- */

/* One's own pinhole again: a new lease, description and (if asked) filters. */
static enum mt_err
pin_renew(struct mtable *mt, struct mt_entry *e, const struct mt_pin_req *r,
    const struct mt_entry **conflict)
{
	struct mt_filter tf[MT_MAX_FILTERS];
	struct mt_entry t;
	const struct mt_entry *c;
	uint32_t lease = mt_cap_lease(mt, e->source, r->lease_s);
	enum mt_change what = MT_CHG_LEASE;
	int d;

	if ((d = mt_entry_set_desc(e, r->desc)) != 0) {
		if (d == -1)	/* kept as it was */
			log_warnx("mtable: out of memory: pinhole %u keeps its description",
			    e->pin_id);
		what = MT_CHG_PUT;
	}
	if (!r->set_filters)
		return mt_renew(mt, e, lease, 1, what);
	t = *e;		/* e as it would be: its filters in tf */
	t.filters = tf;
	t.nfilters = (uint8_t)mt_filters_norm(tf, r->filters, r->nfilters);
	if (!mt_entry_filters_differ(e, tf, t.nfilters))
		return mt_renew(mt, e, lease, 1, what);
	if ((c = pin_clash(mt, &t, e)) != NULL) {
		if (conflict != NULL)
			*conflict = c;
		return MT_ERR_CONFLICT;
	}
	if (!pin_has_prefix(e) && pin_has_prefix(&t) && mt->pins->npfx >= MT_MAX_PFX_PINHOLES)
		return MT_ERR_NOPORT;
	mt_pin_save_counters(mt, e);
	mt_fw_queue(mt, FW_DEL, e);	/* copied: the old filters leave the kernel */
	mt->pins->npfx -= (size_t)pin_has_prefix(e);
	if (mt_entry_set_filters(e, tf, t.nfilters) == -1)	/* re-added as they were */
		log_warnx("mtable: out of memory: pinhole %u keeps its filters", e->pin_id);
	mt->pins->npfx += (size_t)pin_has_prefix(e);
	return mt_renew(mt, e, lease, 0, MT_CHG_PUT);
}

static void
pin_link(struct mtable *mt, struct mt_entry *e)
{
	hmap_insert(&mt->pins->by_pinep, &e->int_node, pin_ep_hash(mt, e->proto, &e->int_addr,
	    e->int_port));
	hmap_insert(&mt->pins->by_pinid, &e->own_node, pin_id_hash(mt, e->pin_id));
	mt->pins->npins++;
	mt->pins->npfx += (size_t)pin_has_prefix(e);
}

static void
mt_pin_unlink(struct mtable *mt, struct mt_entry *e)
{
	hmap_remove(&mt->pins->by_pinep, &e->int_node);
	hmap_remove(&mt->pins->by_pinid, &e->own_node);
	mt->pins->npins--;
	mt->pins->npfx -= (size_t)pin_has_prefix(e);
}

static struct mt_entry *
pin_new_entry(const struct mt_pin_req *r)
{
	struct mt_entry *e = mt_entry_new();

	if (e == NULL)
		return NULL;
	e->kind = MT_KIND_PINHOLE;
	e->proto = r->proto;
	e->source = r->source;
	e->int_addr = r->int_addr;
	e->int_port = e->int_port_end = r->int_port;
	e->ext_addr = r->int_addr;		/* no NAT: seen from outside as it is */
	e->ext_port = e->ext_port_end = r->int_port;
	e->remote = r->remote;
	mt_mask(&e->remote.addr, e->remote.plen);
	if (mt_set_filters_from(e, r->filters, r->nfilters) == -1 ||
	    mt_entry_set_strings(e, r->desc, r->owner) == -1) {
		mt_entry_free(e);
		return NULL;
	}
	return e;
}

enum mt_err
mtable_pinhole_add(struct mtable *mt, const struct mt_pin_req *r, struct mt_entry **out,
    const struct mt_entry **conflict)
{
	struct mt_entry *e;
	const struct mt_entry *c;
	struct mt_client *cl;
	enum mt_err err;

	/* whose the key is comes first, before what is asked of it is looked at */
	e = mtable_pinhole_find(mt, r->proto, &r->int_addr, r->int_port, &r->remote);
	if ((err = mt_authorized(mt, r->actor, &r->int_addr, e)) != MT_OK)
		return err;
	if ((err = pin_validate(mt, r)) != MT_OK)
		return err;
	if (e != NULL) {
		if (e->source != r->source || strcmp(e->owner, r->owner ? r->owner : "") != 0) {
			if (conflict != NULL)
				*conflict = e;
			return MT_ERR_CONFLICT;
		}
		if (out != NULL)
			*out = e;
		return pin_renew(mt, e, r, conflict);
	}
	if (mt->pins->npins >= MT_MAX_PINHOLES -
	    (r->source == MT_SRC_STATIC ? 0 : PIN_ADMIN_RESERVE))
		return MT_ERR_NOPORT;
	if ((e = pin_new_entry(r)) == NULL)
		return MT_ERR_NOMEM;
	if (pin_has_prefix(e) && mt->pins->npfx >= MT_MAX_PFX_PINHOLES -
	    (r->source == MT_SRC_STATIC ? 0 : PIN_ADMIN_RESERVE)) {
		mt_entry_free(e);
		return MT_ERR_NOPORT;
	}
	if ((c = pin_clash(mt, e, NULL)) != NULL || (e->pin_id = pin_pick_id(mt, r)) == 0) {
		mt_entry_free(e);
		if (c != NULL && conflict != NULL)
			*conflict = c;
		return c != NULL ? MT_ERR_CONFLICT : MT_ERR_NOPORT;
	}
	if ((err = mt_client_claim(mt, &e->int_addr, e->source, &cl)) != MT_OK) {
		mt_entry_free(e);
		return err;
	}
	e->id = mt->next_id++;
	e->client = cl;
	cl->total++;
	if (mt_source_is_dynamic(r->source))
		cl->dynamic++;
	pin_link(mt, e);
	if (out != NULL)
		*out = e;
	return mt_renew(mt, e, mt_cap_lease(mt, e->source, r->lease_s), 0, MT_CHG_NEW);
}

/* Every pinhole of a source (MT_NSOURCE: all), deleted; returns how many. */
static size_t
mt_pin_flush(struct mtable *mt, int source)
{
	struct mt_entry *e, *next;
	size_t cnt = 0;

	for (e = mtable_pinhole_next(mt, NULL); e != NULL; e = next) {
		next = mtable_pinhole_next(mt, e);
		if (source != MT_NSOURCE && e->source != source)
			continue;
		mtable_del(mt, e);
		cnt++;
	}
	return cnt;
}

/* ---- the kind ---- */

/* The kernel gets a pinhole's ID, counters and remote (as its one filter). */
static void
mt_pin_fw_item(const struct mt_entry *e, struct fw_item *it)
{
	it->pin_id = e->pin_id;
	it->pkts = e->pin_pkts;
	it->bytes = e->pin_bytes;
	if (e->nfilters == 0 && (e->remote.plen != 0 || e->remote.port != 0)) {
		it->nfilters = 1;
		it->filters[0] = e->remote;
	}
}

static struct mt_entry *
mt_pin_find(const struct mtable *mt, const struct fw_item *it)
{
	return mtable_pinhole_get(mt, it->pin_id);
}

const struct mt_kind_ops mt_pin_kind = {
	.init = mt_pin_init,
	.free = mt_pin_free,
	.unlink = mt_pin_unlink,
	.flush = mt_pin_flush,
	.iter = mt_pin_iter,
	.find = mt_pin_find,
	.fw_item = mt_pin_fw_item,
	.save_counters = mt_pin_save_counters,
};
