/*
 * mt_peer.c - the mapping table's PEER pins (kind MT_KIND_PEER), on the
 * core (mt_core.c): an outbound flow int_addr:int_port -> peer_addr:peer_port
 * pinned to leave by an external port (PCP PEER). Pins hold no inbound
 * slot: they are indexed by their flow and by what the WAN sees of it
 * (unique), and a pin's port is one no inbound mapping (mt_map.c) sends to
 * another internal endpoint.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw/fw.h"
#include "hmap.h"
#include "log.h"
#include "mt_core.h"
#include "mt_kinds.h"
#include "mtable.h"
#include "util.h"

struct mt_peers {
	struct hmap		 by_flow;	/* PEER pins, by 5-tuple */
	struct hmap		 by_out;	/* PEER pins, by what the WAN sees: unique */
	size_t			 npeers;
};

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
	return hmap_hash(&mt->peers->by_flow, &k, sizeof(k));
}

static void
mt_peer_init(struct mtable *mt)
{
	struct mt_peers *p = xcalloc(1, sizeof(*p));

	hmap_init(&p->by_flow);
	hmap_init(&p->by_out);
	mt->peers = p;
}

static void
mt_peer_free(struct mtable *mt)
{
	struct mt_peers *p = mt->peers;
	struct hnode *n;
	size_t i;

	for (i = 0; i < p->by_flow.nbuckets; i++) {
		while ((n = p->by_flow.buckets[i]) != NULL) {
			p->by_flow.buckets[i] = n->next;
			mt_entry_free(HMAP_ENTRY(n, struct mt_entry, int_node));
		}
	}
	hmap_destroy(&p->by_flow);
	hmap_destroy(&p->by_out);
	free(p);
}

struct mt_entry *
mtable_lookup_peer(const struct mtable *mt, int proto, const struct in6_addr *a, uint16_t ip,
    const struct in6_addr *peer, uint16_t pp)
{
	uint32_t h = flow_hash(mt, proto, a, ip, peer, pp);
	struct hnode *n;
	struct mt_entry *e;

	for (n = hmap_bucket(&mt->peers->by_flow, h); n != NULL; n = n->next) {
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
	return hmap_hash(&mt->peers->by_out, &k, sizeof(k));
}

/* The pin whose flow leaves as (proto, ext_port) towards peer:pp, or NULL. */
static struct mt_entry *
mt_lookup_out(const struct mtable *mt, int proto, uint16_t ext, const struct in6_addr *peer,
    uint16_t pp)
{
	uint32_t h = out_hash(mt, proto, ext, peer, pp);
	struct hnode *n;
	struct mt_entry *e;

	for (n = hmap_bucket(&mt->peers->by_out, h); n != NULL; n = n->next) {
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
	hmap_insert(&mt->peers->by_out, &e->own_node, out_hash(mt, e->proto, e->ext_port,
	    &e->peer_addr, e->peer_port));
}

size_t
mtable_peer_count(const struct mtable *mt)
{
	return mt->peers->npeers;
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
	hmap_remove(&mt->peers->by_out, &e->own_node);
	e->ext_port = e->ext_port_end = r->ext_port;
	e->ext_addr = r->ext_addr;
	mt_index_out(mt, e);
	if (mt_entry_set_owner(e, r->owner) == -1)	/* kept as it was */
		log_warnx("mtable: out of memory: a PEER pin keeps its nonce");
	return mt_renew(mt, e, r->lease_s, 0, MT_CHG_PUT);
}

static enum mt_err
mt_peer_new(struct mtable *mt, const struct mt_peer_req *r, struct mt_entry **out)
{
	struct mt_entry *e;
	struct mt_client *c;
	enum mt_err err;

	if (mt->peers->npeers >= MT_MAX_PEERS)
		return MT_ERR_NOPORT;
	if ((err = mt_client_claim(mt, &r->int_addr, MT_SRC_PCP, &c)) != MT_OK)
		return err;
	if ((e = mt_entry_new()) == NULL) {
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
	if (mt_entry_set_owner(e, r->owner) == -1) {
		mt_client_unclaim(mt, c);
		mt_entry_free(e);
		return MT_ERR_NOMEM;
	}
	e->client = c;
	c->total++;
	c->dynamic++;
	hmap_insert(&mt->peers->by_flow, &e->int_node, flow_hash(mt, e->proto, &e->int_addr,
	    e->int_port, &e->peer_addr, e->peer_port));
	mt_index_out(mt, e);
	mt->peers->npeers++;
	*out = e;
	return mt_renew(mt, e, r->lease_s ? r->lease_s : 1, 0, MT_CHG_NEW);
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
	if ((err = mt_authorized(mt, r.actor, &r.int_addr, e)) != MT_OK)
		return err;		/* the flow's pin is another nonce's: before any port */
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

	for (i = 0; i < mt->peers->by_flow.nbuckets; i++) {
		for (n = mt->peers->by_flow.buckets[i]; n != NULL; n = next) {
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

void
mtable_set_peer_addr(struct mtable *mt, const struct in6_addr *a)
{
	struct mt_entry *e;
	struct hnode *n;
	size_t i;

	/* a pin's kernel element SNATs to its address: replace it, or the flow leaves from the old one */
	for (i = 0; i < mt->peers->by_flow.nbuckets; i++) {
		for (n = mt->peers->by_flow.buckets[i]; n != NULL; n = n->next) {
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

/* ---- the kind ---- */

static void
mt_peer_unlink(struct mtable *mt, struct mt_entry *e)
{
	hmap_remove(&mt->peers->by_flow, &e->int_node);
	hmap_remove(&mt->peers->by_out, &e->own_node);
	mt->peers->npeers--;
}

/* The pin after e in the flow index (NULL e = first), or NULL. */
static const struct mt_entry *
mt_peer_iter(const struct mtable *mt, const struct mt_entry *e)
{
	const struct hmap *h = &mt->peers->by_flow;
	size_t b = 0;

	if (e != NULL) {
		if (e->int_node.next != NULL)
			return HMAP_ENTRY(e->int_node.next, struct mt_entry, int_node);
		b = (e->int_node.hash & (h->nbuckets - 1)) + 1;
	}
	for (; b < h->nbuckets; b++)
		if (h->buckets[b] != NULL)
			return HMAP_ENTRY(h->buckets[b], struct mt_entry, int_node);
	return NULL;
}

static struct mt_entry *
mt_peer_find(const struct mtable *mt, const struct fw_item *it)
{
	return mtable_lookup_peer(mt, it->proto, &it->int_addr, it->int_port, &it->peer_addr,
	    it->peer_port);
}

/* The kernel gets a pin's flow: its remote end. */
static void
mt_peer_fw_item(const struct mt_entry *e, struct fw_item *it)
{
	it->peer_addr = e->peer_addr;
	it->peer_port = e->peer_port;
}

const struct mt_kind_ops mt_peer_kind = {
	.init = mt_peer_init,
	.free = mt_peer_free,
	.unlink = mt_peer_unlink,
	.flush = mt_flush_peers,
	.iter = mt_peer_iter,
	.find = mt_peer_find,
	.fw_item = mt_peer_fw_item,
};
