/*
 * fw_mem.c - the in-memory firewall ("firewall = none"): keeps the state a
 * kernel would hold, so the daemon behaves the same without root, and lets
 * tests look at it and inject refusals. It has no conntrack: closed doors
 * (whose flows the kernel backend ends) and opened ones (whose ports the
 * kernel backend takes back from other endpoints' flows) are only counted,
 * and the last of each kept.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw/backend.h"
#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "hmap.h"
#include "log.h"
#include "mt_vocab.h"
#include "util.h"

/* An IPv6 pinhole as the kernel would hold it: item.pkts/bytes are its live counters. */
struct fw_mem_pin {
	struct hnode	 node;		/* in fw_mem.pins, by pin_id */
	struct fw_item	 item;
};

/* An open outbound flow, as conntrack would hold it: where it leaves from. */
struct fw_mem_flow {
	struct fw_item	 flow;		/* proto, int_addr:int_port -> peer_addr:peer_port */
	uint16_t	 ext_port;
};

struct fw_mem {
	struct fw_item	*slots[MT_NPROTO][65536];	/* by external start port */
	size_t		 count;
	size_t		 npeers;	/* PEER pins (SNAT of outbound flows): counted only */
	struct hmap	 pins;		/* struct fw_mem_pin by pin_id */
	struct fw_mem_flow *flows;	/* open flows (fw_mem_flow): a test's conntrack */
	size_t		 nflows;
	int		 fail_proto;
	uint16_t	 fail_port;
	int		 fail_err;
	size_t		 ncloses;	/* doors closed */
	struct fw_item	 last_close;
	int		 last_partial;	/* the last one stays open to some remotes */
	size_t		 nopens;	/* doors opened */
	struct fw_item	 last_open;
	uint64_t	 inb_pkts, inb_bytes;	/* in through mappings (fw_mem_traffic) */
};

static int
fw_mem_init(struct fw_backend *b)
{
	struct fw_mem *m = xcalloc(1, sizeof(*m));

	m->fail_proto = -1;
	hmap_init(&m->pins);
	b->priv = m;
	return 0;
}

static uint32_t
fw_mem_pin_hash(const struct fw_mem *m, uint32_t pin_id)
{
	return hmap_hash(&m->pins, &pin_id, sizeof(pin_id));
}

static struct fw_mem_pin *
fw_mem_pin_find(const struct fw_mem *m, uint32_t pin_id)
{
	uint32_t h = fw_mem_pin_hash(m, pin_id);
	struct hnode *n;
	struct fw_mem_pin *p;

	for (n = hmap_bucket(&m->pins, h); n != NULL; n = n->next) {
		p = HMAP_ENTRY(n, struct fw_mem_pin, node);
		if (n->hash == h && p->item.pin_id == pin_id)
			return p;
	}
	return NULL;
}

static void
fw_mem_pins_clear(struct fw_mem *m)
{
	struct hnode *n, *next;
	size_t i;

	for (i = 0; i < m->pins.nbuckets; i++) {
		for (n = m->pins.buckets[i]; n != NULL; n = next) {
			next = n->next;
			free(HMAP_ENTRY(n, struct fw_mem_pin, node));
		}
		m->pins.buckets[i] = NULL;
	}
	m->pins.count = 0;
}

static void
fw_mem_clear(struct fw_mem *m)
{
	size_t p, i;

	for (p = 0; p < MT_NPROTO; p++)
		for (i = 0; i < 65536; i++) {
			free(m->slots[p][i]);
			m->slots[p][i] = NULL;
		}
	m->count = 0;
	m->npeers = 0;
	fw_mem_pins_clear(m);
}

/* A pinhole, by pin_id; an injected failure matches its proto and internal port. */
static int
fw_mem_apply_pin(struct fw_mem *m, const struct fw_change *c)
{
	struct fw_mem_pin *p = fw_mem_pin_find(m, c->item.pin_id);
	size_t i;

	if (c->op == FW_ADD && (util_addr_is_v4(&c->item.int_addr) ||
	    c->item.nfilters > MT_MAX_FILTERS))
		return EINVAL;	/* what the kernel backend refuses too */
	for (i = 0; c->op == FW_ADD && i < c->item.nfilters; i++)
		if (c->item.filters[i].plen > 128)
			return EINVAL;
	if (c->op == FW_DEL) {
		if (p == NULL)
			return ENOENT;
		hmap_remove(&m->pins, &p->node);
		free(p);
		return 0;
	}
	if (m->fail_proto == c->item.proto && m->fail_port == c->item.int_port) {
		m->fail_proto = -1;
		return m->fail_err;
	}
	if (p != NULL)
		return EEXIST;
	if ((p = malloc(sizeof(*p))) == NULL)
		return ENOMEM;
	p->item = c->item;	/* the counters start where the item says (a renewal's count) */
	hmap_insert(&m->pins, &p->node, fw_mem_pin_hash(m, c->item.pin_id));
	return 0;
}

static int
fw_mem_apply_peer(struct fw_mem *m, const struct fw_change *c)
{
	if (c->op == FW_DEL) {
		if (m->npeers == 0)
			return ENOENT;
		m->npeers--;
		return 0;
	}
	if (m->fail_proto == c->item.proto && m->fail_port == c->item.ext_port) {
		m->fail_proto = -1;
		return m->fail_err;
	}
	m->npeers++;
	return 0;
}

static int
fw_mem_apply(struct fw_mem *m, const struct fw_change *c)
{
	struct fw_item **slot;

	if (c->item.proto >= MT_NPROTO)
		return EINVAL;
	if (c->item.kind == MT_KIND_PEER)
		return fw_mem_apply_peer(m, c);
	if (c->item.kind == MT_KIND_PINHOLE)
		return fw_mem_apply_pin(m, c);
	slot = &m->slots[c->item.proto][c->item.ext_port];
	if (c->op == FW_DEL) {
		if (*slot == NULL)
			return ENOENT;
		free(*slot);
		*slot = NULL;
		m->count--;
		return 0;
	}
	if (m->fail_proto == c->item.proto && m->fail_port == c->item.ext_port) {
		m->fail_proto = -1;
		return m->fail_err;
	}
	if (*slot != NULL)
		return EEXIST;
	if ((*slot = malloc(sizeof(**slot))) == NULL)
		return ENOMEM;
	**slot = c->item;
	m->count++;
	return 0;
}

static int
fw_mem_commit(struct fw_backend *b, const struct fw_change *c, size_t n, fw_fail_cb *cb,
    void *arg)
{
	struct fw_mem *m = b->priv;
	size_t i;
	int err, failed = 0;

	for (i = 0; i < n; i++) {
		if ((err = fw_mem_apply(m, &c[i])) != 0) {
			failed++;
			if (cb != NULL)
				cb(arg, &c[i], err);
		}
	}
	return failed ? -1 : 0;
}

static int
fw_mem_resync(struct fw_backend *b, fw_iter_cb *it, void *arg)
{
	struct fw_mem *m = b->priv;
	struct fw_change c;

	fw_mem_clear(m);
	c.op = FW_ADD;
	while (it(arg, &c.item))
		fw_mem_apply(m, &c);
	return 0;
}

static void
fw_mem_close(struct fw_backend *b, const struct fw_close *cl, size_t n)
{
	struct fw_mem *m = b->priv;

	m->ncloses += n;
	m->last_close = *cl[n - 1].item;
	m->last_partial = cl[n - 1].still != NULL;
}

static void
fw_mem_open(struct fw_backend *b, const struct fw_open *op, size_t n)
{
	struct fw_mem *m = b->priv;

	m->nopens += n;
	m->last_open = *op[n - 1].item;
}

static int
fw_mem_pin_counters(struct fw_backend *b, const struct fw_item *it, uint64_t *pkts,
    uint64_t *bytes)
{
	const struct fw_mem_pin *p = fw_mem_pin_find(b->priv, it->pin_id);

	if (p == NULL) {
		errno = ENOENT;
		return -1;
	}
	*pkts = p->item.pkts;
	*bytes = p->item.bytes;
	return 0;
}

/*
 * What the in-memory "kernel" holds for one item: a mapping's slot or a
 * pinhole, the same door. It never ages what it holds, so the time left is
 * the timeout the item came with. PEER pins are only counted: it cannot say.
 */
static void
fw_mem_query1(const struct fw_mem *m, const struct fw_item *it, struct fw_elem_info *out)
{
	const struct fw_mem_pin *p;
	const struct fw_item *h = NULL;

	memset(out, 0, sizeof(*out));
	if (it->proto >= MT_NPROTO || it->kind == MT_KIND_PEER)
		return;
	out->elems = 1;
	out->counted = 1;
	if (it->kind == MT_KIND_PINHOLE)
		h = (p = fw_mem_pin_find(m, it->pin_id)) != NULL ? &p->item : NULL;
	else
		h = m->slots[it->proto][it->ext_port];
	if (h == NULL || h->ext_port_end != it->ext_port_end || h->int_port != it->int_port ||
	    memcmp(&h->int_addr, &it->int_addr, sizeof(h->int_addr)) != 0)
		return;
	out->found = 1;
	out->timeout_ms = out->left_ms = h->timeout_ms;
	out->pkts = h->pkts;
	out->bytes = h->bytes;
}

static int
fw_mem_query(struct fw_backend *b, const struct fw_item *it, size_t n, int dump,
    struct fw_elem_info *out)
{
	size_t i;

	(void)dump;	/* one lookup per item either way */
	for (i = 0; i < n; i++)
		fw_mem_query1(b->priv, &it[i], &out[i]);
	return 0;
}

/* What came in through mappings: the kernel's rule counter, as fw_mem_traffic fakes it. */
static int
fw_mem_inbound(struct fw_backend *b, uint64_t *pkts, uint64_t *bytes)
{
	const struct fw_mem *m = b->priv;

	*pkts = m->inb_pkts;
	*bytes = m->inb_bytes;
	return 0;
}

/* The open flow of a PEER item, or NULL. */
static struct fw_mem_flow *
fw_mem_flow_find(const struct fw_mem *m, const struct fw_item *it)
{
	const struct fw_item *f;
	size_t i;

	for (i = 0; i < m->nflows; i++) {
		f = &m->flows[i].flow;
		if (f->proto == it->proto && f->int_port == it->int_port &&
		    f->peer_port == it->peer_port &&
		    memcmp(&f->int_addr, &it->int_addr, sizeof(f->int_addr)) == 0 &&
		    memcmp(&f->peer_addr, &it->peer_addr, sizeof(f->peer_addr)) == 0)
			return &m->flows[i];
	}
	return NULL;
}

static int
fw_mem_flow_port(struct fw_backend *b, const struct fw_item *it, uint16_t *port)
{
	const struct fw_mem_flow *f = fw_mem_flow_find(b->priv, it);

	if (f == NULL)
		return -1;
	*port = f->ext_port;
	return 0;
}

static void
fw_mem_shutdown(struct fw_backend *b)
{
	struct fw_mem *m = b->priv;

	if (m == NULL)
		return;
	fw_mem_clear(m);
	hmap_destroy(&m->pins);
	free(m->flows);
	free(m);
	b->priv = NULL;
}

const struct fw_ops fw_mem_ops = {
	.name = "none",
	.caps = 0,
	.init = fw_mem_init,
	.commit = fw_mem_commit,
	.resync = fw_mem_resync,
	.close = fw_mem_close,
	.open = fw_mem_open,
	.pin_counters = fw_mem_pin_counters,
	.query = fw_mem_query,
	.inbound = fw_mem_inbound,
	.flow_port = fw_mem_flow_port,
	.shutdown = fw_mem_shutdown,
};

/* ---- test hooks (fw_mem.h) ---- */

/* The state of the in-memory firewall a test hands in. */
static struct fw_mem *
fw_mem_of(const struct fw *fw)
{
	return FW_BACKEND_CONST(fw)->priv;
}

size_t
fw_mem_count(const struct fw *fw)
{
	const struct fw_mem *m = fw_mem_of(fw);

	return m->count;
}

const struct fw_item *
fw_mem_lookup(const struct fw *fw, int proto, uint16_t port)
{
	const struct fw_mem *m = fw_mem_of(fw);

	if (proto < 0 || proto >= MT_NPROTO)
		return NULL;
	return m->slots[proto][port];
}

size_t
fw_mem_close_count(const struct fw *fw)
{
	return fw_mem_of(fw)->ncloses;
}

const struct fw_item *
fw_mem_last_close(const struct fw *fw, int *partial)
{
	const struct fw_mem *m = fw_mem_of(fw);

	if (m->ncloses == 0)
		return NULL;
	if (partial != NULL)
		*partial = m->last_partial;
	return &m->last_close;
}

size_t
fw_mem_open_count(const struct fw *fw)
{
	return fw_mem_of(fw)->nopens;
}

const struct fw_item *
fw_mem_last_open(const struct fw *fw)
{
	const struct fw_mem *m = fw_mem_of(fw);

	return m->nopens ? &m->last_open : NULL;
}

void
fw_mem_inject_failure(struct fw *fw, int proto, uint16_t port, int err)
{
	struct fw_mem *m = fw_mem_of(fw);

	m->fail_proto = proto;
	m->fail_port = port;
	m->fail_err = err;
}

size_t
fw_mem_peer_count(const struct fw *fw)
{
	return fw_mem_of(fw)->npeers;
}

size_t
fw_mem_pin_count(const struct fw *fw)
{
	return fw_mem_of(fw)->pins.count;
}

const struct fw_item *
fw_mem_pin_lookup(const struct fw *fw, uint32_t pin_id)
{
	const struct fw_mem_pin *p = fw_mem_pin_find(fw_mem_of(fw), pin_id);

	return p ? &p->item : NULL;
}

void
fw_mem_pin_traffic(struct fw *fw, uint32_t pin_id, uint64_t pkts, uint64_t bytes)
{
	struct fw_mem_pin *p = fw_mem_pin_find(fw_mem_of(fw), pin_id);

	if (p == NULL)
		return;
	p->item.pkts += pkts;
	p->item.bytes += bytes;
}

void
fw_mem_traffic(struct fw *fw, int proto, uint16_t port, uint64_t pkts, uint64_t bytes)
{
	struct fw_mem *m = fw_mem_of(fw);
	struct fw_item *it;

	if (proto < 0 || proto >= MT_NPROTO || (it = m->slots[proto][port]) == NULL)
		return;
	it->pkts += pkts;
	it->bytes += bytes;
	m->inb_pkts += pkts;
	m->inb_bytes += bytes;
}

void
fw_mem_inbound_restart(struct fw *fw)
{
	struct fw_mem *m = fw_mem_of(fw);

	m->inb_pkts = m->inb_bytes = 0;
}

void
fw_mem_flow(struct fw *fw, const struct fw_item *it, uint16_t ext_port)
{
	struct fw_mem *m = fw_mem_of(fw);
	struct fw_mem_flow *f = fw_mem_flow_find(m, it), *nf;

	if (f == NULL && ext_port != 0) {
		if ((nf = reallocarray(m->flows, m->nflows + 1, sizeof(*nf))) == NULL)
			return;
		m->flows = nf;
		f = &m->flows[m->nflows++];
		f->flow = *it;
	}
	if (f != NULL && ext_port == 0)
		*f = m->flows[--m->nflows];	/* closed: the last one takes its place */
	else if (f != NULL)
		f->ext_port = ext_port;
}

void
fw_mem_pretend_kernel(struct fw *fw)
{
	struct fw_backend *b = FW_BACKEND(fw);

	if (b->ops == &fw_mem_ops)
		b->caps |= FW_CAP_KERNEL;
}
