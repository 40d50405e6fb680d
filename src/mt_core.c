/*
 * mt_core.c - the mapping table's lower layer: what every kind of entry
 * (mapping, PEER pin, pinhole) shares. Clients and their quota, allow/deny
 * and lease caps, the one lease clock (a heap ordered by expiry), the
 * firewall queue, change notification and entry IDs; who may change an
 * entry (mtable_authorize: the one place of those rules); and the generic
 * delete, flush, expiry, commit roll-back and resync, which reach each kind
 * through the table of struct mt_kind_ops that mtable.c installs.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw/fw.h"
#include "heap.h"
#include "log.h"
#include "mt_core.h"
#include "mtable.h"
#include "netif.h"
#include "policy.h"
#include "util.h"

struct mtable *
mt_core_new(struct fw *fw, const struct pg_clock *clk)
{
	struct mtable *mt = xcalloc(1, sizeof(*mt));

	mt->fw = fw;
	mt->clk = *clk;
	hmap_init(&mt->clients);
	heap_init(&mt->heap);
	mt->next_id = 1;
	return mt;
}

void
mt_core_free(struct mtable *mt)
{
	struct hnode *n;
	size_t i;

	for (i = 0; i < mt->clients.nbuckets; i++) {
		while ((n = mt->clients.buckets[i]) != NULL) {
			mt->clients.buckets[i] = n->next;
			free(HMAP_ENTRY(n, struct mt_client, node));
		}
	}
	hmap_destroy(&mt->clients);
	heap_destroy(&mt->heap);
	mt_wait_free(&mt->waiters);
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

/* ---- clients ---- */

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
void
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

unsigned
mtable_client_count(const struct mtable *mt, const struct in6_addr *a)
{
	struct mt_client *c = client_get((struct mtable *)mt, a, 0);

	return c ? c->dynamic : 0;
}

/* ---- policy, lease caps, filters ---- */

int
mtable_permitted(const struct mtable *mt, int source, uint16_t ext_lo, uint16_t ext_hi,
    const struct in6_addr *a, uint16_t int_lo, uint16_t int_hi)
{
	if (!mt_source_is_dynamic(source) || mt->policy == NULL)
		return 1;
	return policy_check(mt->policy, ext_lo, ext_hi, a, int_lo, int_hi);
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

uint32_t
mt_endpoint_hash(const struct hmap *h, int proto, const struct in6_addr *a, uint16_t port)
{
	struct {
		struct in6_addr	addr;
		uint16_t	port;
		uint8_t		proto;
		uint8_t		pad;
	} k;

	memset(&k, 0, sizeof(k));
	k.addr = *a;
	k.port = port;
	k.proto = (uint8_t)proto;
	return hmap_hash(h, &k, sizeof(k));
}

/*
 * The filters, masked, without one another's duplicates or subsets, wider prefixes
 * first: the kernel's interval set refuses an element that overlaps one already in
 * it (a duplicate, a /32 inside a /24 of the same port), so a request naming both
 * would lose the whole mapping; inserted widest first, nested prefixes of different
 * ports are accepted.
 */
size_t
mt_filters_norm(struct mt_filter *out, const struct mt_filter *fs, size_t nfs)
{
	struct mt_filter f, t;
	size_t i, j, n = 0;

	for (i = 0; i < nfs && i < MT_MAX_FILTERS; i++) {
		f = fs[i];
		mt_mask(&f.addr, f.plen);
		for (j = 0; j < n && !mt_filter_within(&f, &out[j]); j++)
			;
		if (j < n)
			continue;		/* already allowed */
		for (j = 0; j < n; ) {		/* the new one covers these */
			if (mt_filter_within(&out[j], &f))
				out[j] = out[--n];
			else
				j++;
		}
		out[n++] = f;
	}
	for (i = 1; i < n; i++)		/* insertion sort, stable: at most MT_MAX_FILTERS */
		for (j = i; j > 0 && out[j - 1].plen > out[j].plen; j--) {
			t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/*
 * An entry's filters live out of line, exactly as many as it has (most entries
 * have none: a mapping's memory is mostly the entry itself).
 */
int
mt_entry_set_filters(struct mt_entry *e, const struct mt_filter *f, size_t n)
{
	struct mt_filter *p = NULL;

	if (n > MT_MAX_FILTERS)
		n = MT_MAX_FILTERS;
	if (n > 0) {
		if ((p = malloc(n * sizeof(*p))) == NULL)
			return -1;
		memcpy(p, f, n * sizeof(*p));
	}
	free(e->filters);
	e->filters = p;
	e->nfilters = (uint8_t)n;
	return 0;
}

int
mt_set_filters_from(struct mt_entry *e, const struct mt_filter *fs, size_t nfs)
{
	struct mt_filter t[MT_MAX_FILTERS];

	return mt_entry_set_filters(e, t, mt_filters_norm(t, fs, nfs));
}

/* Most entries have no owner token (UPnP's, static forwards'), many no description: they share this. */
static const char mt_no_str[] = "";

static void
mt_str_free(const char *p)
{
	if (p != mt_no_str)
		free((char *)(uintptr_t)p);
}

/*
 * *field becomes a copy of s (NULL: ""), cut to max - 1 bytes on a character
 * boundary, never mid-character: 1 if that changed it, 0 if it was that already,
 * -1 out of memory (kept as it was).
 */
static int
mt_str_set(const char **field, const char *s, size_t max)
{
	char buf[MT_DESC_MAX > MT_OWNER_MAX ? MT_DESC_MAX : MT_OWNER_MAX];
	const char *p = mt_no_str;

	util_utf8_copy(buf, max < sizeof(buf) ? max : sizeof(buf), s != NULL ? s : "");
	if (*field != NULL && strcmp(buf, *field) == 0)
		return 0;
	if (buf[0] != '\0' && (p = strdup(buf)) == NULL)
		return -1;
	mt_str_free(*field);
	*field = p;
	return 1;
}

struct mt_entry *
mt_entry_new(void)
{
	struct mt_entry *e = calloc(1, sizeof(*e));

	if (e != NULL)
		e->desc = e->owner = mt_no_str;
	return e;
}

int
mt_entry_set_owner(struct mt_entry *e, const char *s)
{
	return mt_str_set(&e->owner, s, MT_OWNER_MAX);
}

int
mt_entry_set_desc(struct mt_entry *e, const char *s)
{
	return mt_str_set(&e->desc, s, MT_DESC_MAX);
}

int
mt_entry_set_strings(struct mt_entry *e, const char *desc, const char *owner)
{
	int d = mt_entry_set_desc(e, desc), o = mt_entry_set_owner(e, owner);

	return d == -1 || o == -1 ? -1 : d | o;
}

int
mt_entry_filters_differ(const struct mt_entry *e, const struct mt_filter *f, size_t n)
{
	return n != e->nfilters || (n > 0 && memcmp(f, e->filters, n * sizeof(f[0])) != 0);
}

void
mt_entry_free(struct mt_entry *e)
{
	if (e == NULL)
		return;
	free(e->filters);
	mt_str_free(e->owner);
	mt_str_free(e->desc);
	free(e);
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
	if (e->nfilters > 0)
		memcpy(it->filters, e->filters, e->nfilters * sizeof(e->filters[0]));
	it->kind = e->kind;
	it->ext_addr = e->ext_addr;
	/* the kind's own fields (peer_addr, pin_id ...): its fw_item hook */
	if (mt->kinds[e->kind]->fw_item != NULL)
		mt->kinds[e->kind]->fw_item(e, it);
	if (e->expires_ms != 0)
		it->timeout_ms = e->expires_ms > now ? e->expires_ms - now : 1;
}

void
mtable_fw_item(const struct mtable *mt, const struct mt_entry *e, struct fw_item *it)
{
	mt_fw_item(mt, e, it);
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

/* ---- authority: who may change what ---- */

/*
 * The rules the front ends applied each for itself before, and no others:
 * UPnP's secure mode and its "held by another source", PCP's nonce as the
 * owner token (and, for pinholes, PCP's source), NAT-PMP's "the sender's
 * own address".
 */
enum mt_deny
mtable_authorize(const struct mtable *mt, const struct mt_actor *a,
    const struct in6_addr *int_addr, const struct mt_entry *e)
{
	(void)mt;
	if (a == NULL)
		return MT_DENY_NONE;		/* the daemon itself */
	if (e != NULL && e->source != a->source)
		return MT_DENY_SOURCE;
	if (e != NULL && a->owner != NULL && strcmp(e->owner, a->owner) != 0)
		return MT_DENY_OWNER;
	if (!a->secure)
		return MT_DENY_NONE;
	if (int_addr == NULL && e == NULL)
		return MT_DENY_EVERY_HOST;
	if ((int_addr != NULL && memcmp(int_addr, &a->client, sizeof(a->client)) != 0) ||
	    (e != NULL && memcmp(&e->int_addr, &a->client, sizeof(a->client)) != 0))
		return MT_DENY_HOST;
	return MT_DENY_NONE;
}

/* ---- renew / delete ---- */

enum mt_err
mt_renew(struct mtable *mt, struct mt_entry *e, uint32_t lease_s, int queue_del,
    enum mt_change what)
{
	lease_s = mt_cap_lease(mt, e->source, lease_s);
	mt_heap_remove(mt, e);
	if (mt_lease_start(mt, e, lease_s) == -1)
		return MT_ERR_NOMEM;
	/* the kernel element carries the lease: replace it to refresh its timeout */
	if (queue_del && mt->kinds[e->kind]->save_counters != NULL)
		mt->kinds[e->kind]->save_counters(mt, e);	/* the new element counts on */
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

enum mt_err
mtable_renew_by(struct mtable *mt, const struct mt_actor *a, struct mt_entry *e,
    uint32_t lease_s)
{
	if (mt_authorized(mt, a, NULL, e) != MT_OK)
		return MT_ERR_NOT_AUTHORIZED;
	return mtable_renew(mt, e, lease_s);
}

/* Out of the table: its kind's indexes, the lease heap, its client's count (not freed). */
static void
mt_unlink(struct mtable *mt, struct mt_entry *e)
{
	mt->kinds[e->kind]->unlink(mt, e);
	mt_heap_remove(mt, e);
	mt_client_put(mt, e);
}

/* e leaves the table and the kernel; the subscriber hears why (DEL or EXPIRE). */
static void
mt_del_as(struct mtable *mt, struct mt_entry *e, enum mt_change what)
{
	mt_unlink(mt, e);
	mt_fw_queue(mt, FW_DEL, e);
	mt_notify(mt, what, e);
	mt_entry_free(e);
}

void
mtable_del(struct mtable *mt, struct mt_entry *e)
{
	mt_del_as(mt, e, MT_CHG_DEL);
}

enum mt_err
mtable_del_by(struct mtable *mt, const struct mt_actor *a, struct mt_entry *e)
{
	if (mt_authorized(mt, a, NULL, e) != MT_OK)
		return MT_ERR_NOT_AUTHORIZED;
	mtable_del(mt, e);
	return MT_OK;
}

size_t
mtable_flush(struct mtable *mt, int source)
{
	size_t k, n = 0;

	for (k = 0; k < MT_NKIND; k++)
		n += mt->kinds[k]->flush(mt, source);
	return n;
}

/* ---- lease clock ---- */

int
mt_lease_start(struct mtable *mt, struct mt_entry *e, uint32_t lease_s)
{
	e->expires_ms = 0;
	if (lease_s == 0)
		return 0;
	e->expires_ms = mtable_now(mt) + (uint64_t)lease_s * 1000;
	return heap_push(&mt->heap, &e->lease, e->expires_ms);
}

void
mt_heap_remove(struct mtable *mt, struct mt_entry *e)
{
	heap_remove(&mt->heap, &e->lease);
}

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
		mt_del_as(mt, e, MT_CHG_EXPIRE);
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
	mt_wait_refused(&cc->mt->waiters, c->item.id, err);
	e = c->item.kind < MT_NKIND ? cc->mt->kinds[c->item.kind]->find(cc->mt, &c->item) : NULL;
	if (e != NULL && e->id == c->item.id) {
		/* never reached the firewall: roll back without queueing a delete */
		log_warnx("mtable: firewall refused %s %u: %s; mapping removed",
		    mt_proto_name(e->proto), e->ext_port, strerror(err));
		mt_unlink(cc->mt, e);
		mt_notify(cc->mt, MT_CHG_DEL, e);
		mt_entry_free(e);
	}
	if (cc->cb != NULL)
		cc->cb(cc->arg, c->item.id, c->item.proto, c->item.ext_port, err);
}

int
mtable_commit(struct mtable *mt, mt_fail_cb *cb, void *arg)
{
	struct mt_commit_ctx cc = { mt, cb, arg };
	int rc = 0;

	if (mt->fw != NULL)
		rc = fw_commit(mt->fw, mt_commit_failed, &cc);
	mt_wait_run(&mt->waiters);
	return rc;
}

void
mtable_set_commit_sched(struct mtable *mt, mt_sched_cb *sched, void *arg)
{
	mt->sched = sched;
	mt->sched_arg = arg;
}

struct mt_landing {
	uint64_t	 id;
	int		 err;
};

static void
mt_landing_failed(void *arg, uint64_t id, int proto, uint16_t port, int err)
{
	struct mt_landing *l = arg;

	(void)proto;
	(void)port;
	if (id == l->id)
		l->err = err ? err : -1;
}

void
mtable_commit_entry(struct mtable *mt, const struct mt_entry *e, const void *owner,
    mt_landed_cb *cb, void *arg)
{
	struct mt_landing l = { e->id, 0 };

	if (mt->sched != NULL && mt_wait_add(&mt->waiters, e->id, owner, cb, arg) == 0) {
		mt->sched(mt->sched_arg);
		return;
	}
	mtable_commit(mt, mt_landing_failed, &l);
	cb(arg, l.err);
}

void
mtable_commit_cancel(struct mtable *mt, const void *owner)
{
	mt_wait_cancel(&mt->waiters, owner);
}

struct mt_iter {
	struct mtable		*mt;
	const struct mt_entry	*cur;
	size_t			 kind;		/* walking: mappings, pins, then pinholes */
};

static int
mt_iter_next(void *arg, struct fw_item *out)
{
	struct mt_iter *it = arg;

	while (it->kind < MT_NKIND &&
	    (it->cur = it->mt->kinds[it->kind]->iter(it->mt, it->cur)) == NULL)
		it->kind++;
	if (it->cur == NULL)
		return 0;
	mt_fw_item(it->mt, it->cur, out);
	return 1;
}

int
mtable_resync(struct mtable *mt)
{
	struct mt_iter it = { mt, NULL, 0 };

	if (mt->fw == NULL)
		return 0;
	return fw_resync(mt->fw, mt_iter_next, &it);
}
