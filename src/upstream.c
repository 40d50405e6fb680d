/*
 * upstream.c - the upstream PCP servers, as the daemon sees them, and the
 * table's inbound entries as their mappings.
 *
 * At start-up (and at reload, and when the WAN address moves) the servers
 * to ask come from pcpc_select (upstream_pcp: the configured one, or in
 * auto the DHCP option's file, else the WAN's default gateways). Each
 * server (its addresses tried in turn) gets a client (pcp_client) bound to
 * the WAN interface's address, which asks with an ANNOUNCE request whether
 * a PCP server is there: RFC 6887 has no request made for probing, and an
 * ANNOUNCE request is the only one that asks for no state (§14.1.1). With
 * more than one server (RFC 7488 §4: each may be a different NAT in
 * front, as when multihomed) every one is asked, in parallel, for every
 * mapping, up to UP_SERVERS_MAX; the first in their order that answers is
 * the primary, whose external address and ports clients are told. No
 * answer is not an error: the daemon works as it does without an
 * upstream, and says what that means for the WAN address it has.
 *
 * Once a server answers, every inbound IPv4 entry of the table, whatever
 * its source, is a MAP there (a record here, by entry id): the gateway's
 * external port as the internal port, that port suggested, the entry's
 * FILTERs, PREFER_FAILURE where the entry's requester wants that port or
 * none (e->fixed), the lifetime left on the entry's lease (UP_PERM_LIFETIME
 * for a permanent one, renewed by the client), a range as one MAP per port
 * (its first UP_RANGE_MAX). Renewals refresh it, deletion and expiry delete
 * it. Each mapping's nonce is derived from a key kept in the state file
 * (SipHash of protocol and port), so after a restart the same nonce renews
 * what the server still holds: a server knows a mapping by its nonce, and
 * refuses another's. The clients do the rest: retransmission, renewal,
 * the epoch, ANNOUNCEs, a lost server, deletions owed to one.
 *
 * A front end that made an entry asks (upstream_await), after the kernel
 * took it, what the primary made of it, and waits up to UP_WAIT_MS: then
 * it tells its client the upstream's external address, port and the
 * shorter lifetime, or its refusal, in which case the entry is deleted
 * here too, so nothing is left on either side.
 */
#include "config.h"

#include <event2/event.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conf.h"
#include "daemon.h"
#include "event.h"
#include "ipclass.h"
#include "log.h"
#include "hmap.h"
#include "pcp/pcp_client.h"
#include "pcp/pcpc_select.h"
#include "state.h"
#include "upstream.h"
#include "util.h"
#include "wanaddr.h"

#define UP_KEY_LEN	16
#define UP_PROBE_PORT	65535	/* the address probe's MAP: UDP, deleted once answered (a
				   high port: carriers commonly refuse the well-known ones) */

struct up_ent;
struct upstream;

/* One upstream server and its client. */
struct up_srv {
	struct upstream		*u;
	struct pcpc		*c;
	struct pcpc_server	 server;
	struct pcpc_map		*addr_probe;	/* a MAP asked only for the external address */
	int			 had_ext;	/* it gave an external address before */
};

/* One upstream MAP: a port of an entry, at one server. */
struct up_port {
	struct up_ent	*ent;
	struct up_srv	*s;
	struct pcpc_map	*m;		/* NULL: not asked (yet, or upstream_max_mappings) */
	uint8_t		 full;		/* not asked: upstream_max_mappings */
};

/* An entry's upstream mappings: p[server * nports + port]. */
struct up_ent {
	struct hnode	 node;		/* upstream.ents, by id */
	struct upstream	*u;
	uint64_t	 id;
	uint8_t		 proto;		/* MT_TCP, MT_UDP */
	uint8_t		 fixed;
	uint16_t	 port, nports;	/* the entry's first external port, how many are asked */
	uint32_t	 lifetime;	/* asked */
	struct up_port	*p;
	uint8_t		 told_state;	/* enum pcpc_state last evented */
	uint16_t	 told_port;
};

/* A front end's answer waiting for the upstream's. */
struct up_wait {
	struct up_wait	*next;
	uint64_t	 id;
	const void	*owner;
	up_landed_cb	*cb;
	void		*arg;
	uint64_t	 deadline;	/* clock ms */
};

struct upstream {
	struct pg_ctx		*ctx;
	struct up_srv		 srv[UP_SERVERS_MAX];	/* the servers asked, in their order */
	size_t			 nsrv;		/* 0: nothing to ask (reason) */
	const struct up_srv	*primary;	/* the one clients were told of last */
	struct in6_addr		 local;		/* the WAN interface's address */
	char			 reason[96];
	struct up_hooks		 hooks;
	struct hmap		 ents;		/* struct up_ent by entry id */
	uint8_t			 key[UP_KEY_LEN];	/* nonces come from it (the state file's) */
	struct up_wait		*waits;
	struct event		*wait_ev;
	struct event		*moved_ev;	/* mappings granted elsewhere: announce, once */
	unsigned		 unasked;	/* entries' ports not asked: the limit */
};

/* ---- nonces: SipHash-2-4 of (protocol, port, half) under the kept key ---- */

#define UP_ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void
up_sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = UP_ROTL(v[1], 13); v[1] ^= v[0]; v[0] = UP_ROTL(v[0], 32);
	v[2] += v[3]; v[3] = UP_ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = UP_ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = UP_ROTL(v[1], 17); v[1] ^= v[2]; v[2] = UP_ROTL(v[2], 32);
}

static uint64_t
up_le64(const uint8_t *b)
{
	uint64_t x = 0;
	int i;

	for (i = 7; i >= 0; i--)
		x = x << 8 | b[i];
	return x;
}

/* SipHash-2-4 of one 8-octet message m (the message's length, 8, in the final block). */
static uint64_t
up_siphash(const uint8_t key[UP_KEY_LEN], uint64_t m)
{
	uint64_t k0 = up_le64(key), k1 = up_le64(key + 8), b = (uint64_t)8 << 56;
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
	    k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL };

	v[3] ^= m; up_sipround(v); up_sipround(v); v[0] ^= m;
	v[3] ^= b; up_sipround(v); up_sipround(v); v[0] ^= b;
	v[2] ^= 0xff;
	up_sipround(v); up_sipround(v); up_sipround(v); up_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The nonce of the upstream mapping of (proto, port): the same after a restart. */
static void
up_nonce(const struct upstream *u, int proto, uint16_t port, uint8_t out[PCP_WIRE_NONCE_LEN])
{
	uint64_t h[2];
	size_t i;

	for (i = 0; i < 2; i++)
		h[i] = up_siphash(u->key, (uint64_t)proto << 32 | (uint64_t)port << 8 | i);
	for (i = 0; i < PCP_WIRE_NONCE_LEN; i++)
		out[i] = (uint8_t)(h[i / 8] >> (8 * (i % 8)));
}

static int
up_hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The key from the state file, or a new one kept there at once; 0, or -1. */
static int
up_key_init(struct upstream *u)
{
	char *hex = u->ctx->meta.upstream_key;
	size_t i;

	if (strlen(hex) == 2 * UP_KEY_LEN) {
		for (i = 0; i < UP_KEY_LEN; i++) {
			int hi = up_hexval(hex[2 * i]), lo = up_hexval(hex[2 * i + 1]);

			if (hi < 0 || lo < 0)
				break;
			u->key[i] = (uint8_t)(hi << 4 | lo);
		}
		if (i == UP_KEY_LEN)
			return 0;
	}
	if (getrandom(u->key, sizeof(u->key), 0) != (ssize_t)sizeof(u->key)) {
		log_warn("upstream PCP: getrandom");
		return -1;
	}
	for (i = 0; i < UP_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", u->key[i]);
	if (u->hooks.save != NULL)
		u->hooks.save(u->ctx);	/* a restart must find it */
	return 0;
}

/* ---- servers ---- */

static enum pcpc_srv_state
up_srv_state(const struct up_srv *s)
{
	return pcpc_server_state(s->c);
}

/* The server answers, or answered and will again: mappings are asked for (else they wait). */
static int
up_srv_asking(const struct up_srv *s)
{
	enum pcpc_srv_state st = up_srv_state(s);

	return st == PCPC_SRV_UP || st == PCPC_SRV_LOST;
}

/* The server whose answers clients are told: the first that answers, else the first. */
static const struct up_srv *
up_primary(const struct upstream *u)
{
	size_t i;

	if (u == NULL || u->nsrv == 0)
		return NULL;
	for (i = 0; i < u->nsrv; i++)
		if (up_srv_state(&u->srv[i]) == PCPC_SRV_UP)
			return &u->srv[i];
	return &u->srv[0];
}

static int
up_any_asking(const struct upstream *u)
{
	size_t i;

	for (i = 0; u != NULL && i < u->nsrv; i++)
		if (up_srv_asking(&u->srv[i]))
			return 1;
	return 0;
}

static size_t
up_srv_index(const struct upstream *u, const struct up_srv *s)
{
	return (size_t)(s - u->srv);
}

/* ---- records: an entry's upstream mappings ---- */

static uint32_t
up_id_hash(const struct upstream *u, uint64_t id)
{
	return hmap_hash(&u->ents, &id, sizeof(id));
}

static struct up_ent *
up_find(const struct upstream *u, uint64_t id)
{
	uint32_t h = up_id_hash(u, id);
	struct hnode *n;

	for (n = hmap_bucket(&u->ents, h); n != NULL; n = n->next) {
		struct up_ent *r = HMAP_ENTRY(n, struct up_ent, node);

		if (n->hash == h && r->id == id)
			return r;
	}
	return NULL;
}

/* r's port i at server s. */
static struct up_port *
up_port_at(const struct up_ent *r, const struct up_srv *s, unsigned i)
{
	return &r->p[up_srv_index(r->u, s) * r->nports + i];
}

/* Entries that get upstream mappings: inbound IPv4 mappings (not PEER pins, not pinholes). */
static int
up_wants(const struct mt_entry *e)
{
	return e->kind == MT_KIND_MAP && util_addr_is_v4(&e->int_addr);
}

static uint16_t
up_nports(const struct mt_entry *e)
{
	unsigned n = (unsigned)(e->ext_port_end - e->ext_port) + 1;

	return (uint16_t)(n > UP_RANGE_MAX ? UP_RANGE_MAX : n);
}

/* Seconds to ask for e: what its lease has left (it is renewed with it), or UP_PERM_LIFETIME. */
static uint32_t
up_lifetime(const struct upstream *u, const struct mt_entry *e)
{
	long left = mtable_remaining(u->ctx->mt, e);

	if (left < 0)
		return UP_PERM_LIFETIME;
	return left < 1 ? 1 : left > PCPC_LIFETIME_MAX ? PCPC_LIFETIME_MAX : (uint32_t)left;
}

static void up_map_cb(void *, struct pcpc_map *, const struct pcpc_info *);
static void up_arm_wait(struct upstream *);
static void up_wake(struct upstream *, uint64_t id, const struct up_landing *);

static void
up_request(const struct up_srv *s, const struct mt_entry *e, const struct up_ent *r,
    uint16_t port, struct pcpc_req *q)
{
	size_t i;

	memset(q, 0, sizeof(*q));
	q->proto = e->proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	q->internal_port = port;
	q->ext_port = port;		/* the same number on both tiers, where the server can */
	(void)pcpc_ext_addr(s->c, &q->ext_addr);	/* the address it gave (or none) */
	q->lifetime = r->lifetime;
	q->until_ms = e->expires_ms;	/* renewals never outlive the entry (0: permanent) */
	q->flags = r->fixed == MT_PORT_FIXED ? PCPC_F_PREFER_FAILURE : PCPC_F_RETRY;
	q->has_nonce = 1;
	up_nonce(s->u, q->proto, port, q->nonce);
	for (i = 0; i < e->nfilters && i < PCPC_FILTER_MAX; i++) {
		q->filter[i].prefix_len = e->filters[i].plen;
		q->filter[i].port = e->filters[i].port;
		q->filter[i].addr = e->filters[i].addr;
	}
	q->nfilter = (unsigned)i;
}

/* r's mappings at server s that are not asked for yet, asked now. */
static void
up_ask(struct up_srv *s, struct up_ent *r, const struct mt_entry *e)
{
	struct upstream *u = s->u;
	struct up_port *p;
	struct pcpc_req q;
	enum pcpc_err err;
	char a[INET6_ADDRSTRLEN];
	unsigned i;

	for (i = 0; i < r->nports; i++) {
		if ((p = up_port_at(r, s, i))->m != NULL)
			continue;
		up_request(s, e, r, (uint16_t)(e->ext_port + i), &q);
		if (s->addr_probe != NULL && q.proto == IPPROTO_UDP &&
		    q.internal_port == UP_PROBE_PORT) {
			pcpc_map_drop(s->c, s->addr_probe);	/* the entry's own MAP instead */
			s->addr_probe = NULL;
		}
		if ((p->m = pcpc_map_add(s->c, &q, up_map_cb, p, &err)) != NULL) {
			if (p->full)
				u->unasked--;
			p->full = 0;
		} else if (!p->full) {
			p->full = err == PCPC_ERR_FULL;
			u->unasked += p->full;
			pcpc_server_addr(s->c, &q.ext_addr);
			log_info("upstream PCP: %s %u is not asked for at %s: %s%s",
			    mt_proto_name(e->proto), e->ext_port + i,
			    util_addr_str(&q.ext_addr, a, sizeof(a)), pcpc_err_name(err),
			    err == PCPC_ERR_FULL ? " (upstream_max_mappings)" : "");
		}
	}
}

/* e's record, its mappings asked for at every server that answers. */
static void
up_add(struct upstream *u, const struct mt_entry *e)
{
	struct up_ent *r;
	size_t i;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->p = calloc(u->nsrv * up_nports(e), sizeof(*r->p))) == NULL) {
		free(r);
		log_warn("upstream PCP: entry");
		return;
	}
	r->u = u;
	r->id = e->id;
	r->proto = e->proto;
	r->fixed = e->fixed;
	r->port = e->ext_port;
	r->nports = up_nports(e);
	r->lifetime = up_lifetime(u, e);
	for (i = 0; i < u->nsrv * r->nports; i++) {
		r->p[i].ent = r;
		r->p[i].s = &u->srv[i / r->nports];
	}
	hmap_insert(&u->ents, &r->node, up_id_hash(u, r->id));
	for (i = 0; i < u->nsrv; i++)
		if (up_srv_asking(&u->srv[i]))
			up_ask(&u->srv[i], r, e);
	if (e->ext_port_end - e->ext_port >= UP_RANGE_MAX)
		log_info("upstream PCP: %s %u-%u: only its first %u ports are asked for upstream",
		    mt_proto_name(e->proto), e->ext_port, e->ext_port_end, UP_RANGE_MAX);
}

/* The record goes: its mappings are deleted upstream; waiting answers go out as they are. */
static void
up_drop(struct upstream *u, struct up_ent *r)
{
	struct up_landing l;
	size_t i;

	for (i = 0; i < u->nsrv * r->nports; i++) {
		if (r->p[i].m != NULL)
			pcpc_map_drop(r->p[i].s->c, r->p[i].m);
		u->unasked -= r->p[i].full;
	}
	hmap_remove(&u->ents, &r->node);
	memset(&l, 0, sizeof(l));
	up_wake(u, r->id, &l);
	free(r->p);
	free(r);
}

/* The lease changed: the upstream lifetime follows (never longer than the entry's). */
static void
up_refresh(struct upstream *u, struct up_ent *r, const struct mt_entry *e)
{
	uint32_t life = up_lifetime(u, e);
	size_t i;

	if (life == r->lifetime && mtable_remaining(u->ctx->mt, e) < 0)
		return;			/* permanent: the client renews it */
	r->lifetime = life;
	for (i = 0; i < u->nsrv * r->nports; i++)
		if (r->p[i].m != NULL) {
			pcpc_map_until(r->p[i].m, e->expires_ms);
			pcpc_map_refresh(r->p[i].s->c, r->p[i].m, life);
		}
}

void
upstream_table_changed(struct upstream *u, enum mt_change what, const struct mt_entry *e)
{
	struct up_ent *r;

	if (!up_any_asking(u) || e == NULL || !up_wants(e))
		return;
	r = up_find(u, e->id);
	switch (mt_change_record(what)) {
	case MT_CHG_PUT:
		/* the same ports: the same upstream mappings (the internal host is ours alone) */
		if (r != NULL && r->proto == e->proto && r->port == e->ext_port &&
		    r->nports == up_nports(e) && r->fixed == e->fixed) {
			up_refresh(u, r, e);
			break;
		}
		if (r != NULL)
			up_drop(u, r);
		up_add(u, e);
		break;
	case MT_CHG_LEASE:
		if (r != NULL)
			up_refresh(u, r, e);
		break;
	case MT_CHG_DEL:
		if (r != NULL)
			up_drop(u, r);
		break;
	default:
		break;
	}
}

/* Server s answers now: every inbound entry gets its mappings there. */
static void
up_sync(struct up_srv *s)
{
	struct upstream *u = s->u;
	struct mt_entry *e;
	struct up_ent *r;

	for (e = mtable_next(u->ctx->mt, NULL); e != NULL; e = mtable_next(u->ctx->mt, e)) {
		if (!up_wants(e))
			continue;
		if ((r = up_find(u, e->id)) == NULL)
			up_add(u, e);
		else
			up_ask(s, r, e);
	}
}

/* ---- what the upstream made of an entry ---- */

/* What server s made of r: 0 when nothing was asked there. */
static int
up_view_at(const struct upstream *u, const struct up_srv *s, const struct up_ent *r,
    struct up_view *v)
{
	uint64_t now = pg_clock_now(&u->ctx->clock), first = 0;
	const struct pcpc_info *in;
	const struct up_port *p;
	unsigned i;
	int set = 0;

	memset(v, 0, sizeof(*v));
	v->state = PCPC_GRANTED;
	for (i = 0; i < r->nports; i++) {
		if ((p = up_port_at(r, s, i))->m == NULL)
			continue;
		in = pcpc_map_info(p->m);
		v->asked++;
		if (in->state != PCPC_GRANTED) {
			if (v->state == PCPC_GRANTED || in->state == PCPC_REFUSED) {
				v->state = in->state;
				v->result = in->result;
			}
			continue;
		}
		if (!set) {
			v->ext_addr = in->ext_addr;
			v->ext_port = (uint16_t)(in->ext_port - i);	/* as for the first port */
			set = 1;
		}
		if (first == 0 || in->expires_ms < first)
			first = in->expires_ms;
	}
	if (v->asked == 0)
		return 0;
	if (v->state == PCPC_GRANTED)
		v->lifetime = first > now ? (uint32_t)((first - now) / 1000) : 0;
	return 1;
}

/* What the primary made of r. */
static int
up_view_of(const struct upstream *u, const struct up_ent *r, struct up_view *v)
{
	const struct up_srv *s = up_primary(u);

	return s != NULL && up_view_at(u, s, r, v);
}

int
upstream_view(const struct upstream *u, const struct mt_entry *e, struct up_view *v)
{
	const struct up_ent *r;

	if (u == NULL || u->nsrv == 0 || (r = up_find(u, e->id)) == NULL)
		return 0;
	return up_view_of(u, r, v);
}

/* A fixed entry granted at another port than the one asked is refused as far as it goes. */
static int
up_wrong_port(const struct up_ent *r, const struct up_view *v)
{
	return r->fixed == MT_PORT_FIXED && v->state == PCPC_GRANTED && v->ext_port != r->port;
}

/* ---- answers waiting for the upstream ---- */

/* Entry id's waiters, taken off the list (in the order they came). */
static struct up_wait *
up_take_waiters(struct upstream *u, uint64_t id)
{
	struct up_wait **pp = &u->waits, *w, *taken = NULL, **tail = &taken;

	while ((w = *pp) != NULL) {
		if (w->id == id) {
			*pp = w->next;
			w->next = NULL;
			*tail = w;
			tail = &w->next;
		} else
			pp = &w->next;
	}
	return taken;
}

static void
up_run_waiters(struct up_wait *w, const struct up_landing *l)
{
	struct up_wait *next;

	for (; w != NULL; w = next) {
		next = w->next;
		w->cb(w->arg, l);
		free(w);
	}
}

/* Taken off first: a callback may wait again. */
static void
up_wake(struct upstream *u, uint64_t id, const struct up_landing *l)
{
	up_run_waiters(up_take_waiters(u, id), l);
}

static int
up_waiting(const struct upstream *u, uint64_t id)
{
	const struct up_wait *w;

	for (w = u->waits; w != NULL; w = w->next)
		if (w->id == id)
			return 1;
	return 0;
}

/* A request for the entry e is, at another external port (the daemon's: nothing to authorize). */
static void
up_moved_request(const struct mtable *mt, const struct mt_entry *e, uint16_t port,
    struct mt_request *q)
{
	long left = mtable_remaining(mt, e);

	memset(q, 0, sizeof(*q));
	q->proto = e->proto;
	q->source = e->source;
	q->ext_port = port;
	q->int_port = e->int_port;
	q->int_addr = e->int_addr;
	q->ext_addr = e->ext_addr;
	q->lease_s = left < 0 ? 0 : left < 1 ? 1 : (uint32_t)left;
	q->desc = e->desc;
	q->owner = e->owner;
	q->filters = e->filters;
	q->nfilters = e->nfilters;
	q->set_filters = 1;
	q->fixed = MT_PORT_FIXED;	/* that port upstream now, or nothing */
}

/*
 * An AddAnyPortMapping entry the primary granted at another port: the
 * entry moves to that port here too, so both tiers use one number (UPnP's
 * lists and deletions name it), and is asked for again there with
 * PREFER_FAILURE once the old upstream mapping is deleted. Its waiters wait
 * for the new entry; if that port is not free here, they hear a refusal,
 * and nothing is left of either.
 */
static void
up_follow(struct upstream *u, struct up_ent *r, uint16_t port)
{
	struct mtable *mt = u->ctx->mt;
	struct mt_entry *e = mtable_lookup_ext(mt, r->proto, r->port), *ne = NULL;
	char desc[MT_DESC_MAX], owner[MT_OWNER_MAX];
	struct mt_filter f[MT_MAX_FILTERS];
	struct up_wait *w, *mine;
	struct up_landing l;
	struct mt_request q;
	uint64_t now = pg_clock_now(&u->ctx->clock);
	uint16_t old_port = r->port;	/* r goes with e */

	if (e == NULL || e->id != r->id)
		return;
	up_moved_request(mt, e, port, &q);
	snprintf(desc, sizeof(desc), "%s", e->desc);	/* e goes before q is used */
	snprintf(owner, sizeof(owner), "%s", e->owner);
	if (e->nfilters > 0)
		memcpy(f, e->filters, e->nfilters * sizeof(f[0]));
	q.desc = desc;
	q.owner = owner;
	q.filters = f;
	mine = up_take_waiters(u, r->id);
	mtable_del(mt, e);		/* r with it: its upstream mapping deleted first */
	if (mtable_add(mt, &q, &ne, NULL) != MT_OK || ne == NULL) {
		memset(&l, 0, sizeof(l));
		l.refused = l.has_view = 1;
		l.view.state = PCPC_REFUSED;
		l.view.result = PCP_RES_CANNOT_PROVIDE_EXTERNAL;
		up_run_waiters(mine, &l);
		return;
	}
	log_debug("upstream PCP: %s %u moves to %u, the port the upstream grants",
	    mt_proto_name(ne->proto), old_port, port);
	while ((w = mine) != NULL) {
		mine = w->next;
		w->id = ne->id;
		w->deadline = now + UP_WAIT_MS;
		w->next = u->waits;
		u->waits = w;
	}
	up_arm_wait(u);
}

/*
 * An answer for r's waiters once the primary has none pending. A refusal
 * (or a fixed entry given another port) with a front end waiting deletes
 * the entry: its client hears no, and nothing stays on either side.
 */
static void
up_settle(struct upstream *u, struct up_ent *r)
{
	struct up_landing l;
	struct mt_entry *e;
	uint64_t id = r->id;

	memset(&l, 0, sizeof(l));
	l.has_view = up_view_of(u, r, &l.view);
	if (!l.has_view || l.view.state == PCPC_PENDING || !up_waiting(u, id))
		return;
	if (r->fixed == MT_PORT_FOLLOW && r->nports == 1 && l.view.state == PCPC_GRANTED &&
	    l.view.ext_port != r->port) {
		up_follow(u, r, l.view.ext_port);
		return;
	}
	if (l.view.state != PCPC_REFUSED && !up_wrong_port(r, &l.view)) {
		up_wake(u, id, &l);
		return;
	}
	l.refused = 1;
	if (l.view.state == PCPC_GRANTED)
		l.view.result = PCP_RES_CANNOT_PROVIDE_EXTERNAL;
	e = mtable_lookup_ext(u->ctx->mt, r->proto, r->port);
	up_wake(u, id, &l);		/* told first: the deletion below drops r */
	if (e != NULL && e->id == id)
		mtable_del(u->ctx->mt, e);
}

/*
 * An entry whose upstream mapping came (or was refused, or moved) is a
 * mapping.renewed event: the panel and watchers see where the internet
 * reaches it. Not while the primary is away (every mapping goes lost at
 * once; status says that), and at the client's pace otherwise.
 */
static void
up_post(struct upstream *u, struct up_ent *r)
{
	const struct up_srv *s = up_primary(u);
	struct pg_event ev;
	struct up_view v;
	struct mt_entry *e;

	if (s == NULL || up_srv_state(s) != PCPC_SRV_UP || !up_view_of(u, r, &v) ||
	    v.state == PCPC_PENDING || v.state == PCPC_LOST ||
	    (v.state == r->told_state && v.ext_port == r->told_port))
		return;
	r->told_state = (uint8_t)v.state;
	r->told_port = v.ext_port;
	if ((e = mtable_lookup_ext(u->ctx->mt, r->proto, r->port)) == NULL || e->id != r->id)
		return;
	ev_init(&ev, EV_MAPPING_RENEWED);
	ev_set_entry(&ev, e, mtable_remaining(u->ctx->mt, e));
	evbus_post(u->ctx->events, &ev);
}

/* What clients were told is stale (mappings moved, another primary): they are told, once. */
static void
up_moved_soon(struct upstream *u)
{
	struct timeval tv = { 1, 0 };

	if (!evtimer_pending(u->moved_ev, NULL))
		evtimer_add(u->moved_ev, &tv);
}

static void
up_moved_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream *u = arg;

	(void)fd;
	(void)ev;
	log_info("upstream PCP: the upstream moved mappings; clients are told to ask again");
	if (u->hooks.public_moved != NULL)
		u->hooks.public_moved(u->ctx, 1);
}

static void
up_map_cb(void *arg, struct pcpc_map *m, const struct pcpc_info *in)
{
	struct up_port *p = arg;
	struct upstream *u = p->ent->u;

	(void)m;
	if (p->s != up_primary(u))
		return;		/* clients hear the primary's answers only */
	if ((in->changed & PCPC_CHG_EXT) && in->state == PCPC_GRANTED)
		up_moved_soon(u);	/* granted again elsewhere, after the server lost its state */
	up_post(u, p->ent);
	up_settle(u, p->ent);
}

static void
up_arm_wait(struct upstream *u)
{
	uint64_t now = pg_clock_now(&u->ctx->clock), first = 0;
	const struct up_wait *w;
	struct timeval tv;

	for (w = u->waits; w != NULL; w = w->next)
		if (first == 0 || w->deadline < first)
			first = w->deadline;
	if (first == 0) {
		evtimer_del(u->wait_ev);
		return;
	}
	first = first > now ? first - now : 0;
	tv.tv_sec = (time_t)(first / 1000);
	tv.tv_usec = (suseconds_t)(first % 1000 * 1000);
	evtimer_add(u->wait_ev, &tv);
}

/* Waits past their time: answered with what the upstream has said so far. */
static void
up_wait_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream *u = arg;
	uint64_t now = pg_clock_now(&u->ctx->clock);
	struct up_landing l;
	struct up_wait *w;
	struct up_ent *r;

	(void)fd;
	(void)ev;
	for (;;) {
		for (w = u->waits; w != NULL && w->deadline > now; w = w->next)
			;
		if (w == NULL)
			break;
		memset(&l, 0, sizeof(l));
		if ((r = up_find(u, w->id)) != NULL)
			l.has_view = up_view_of(u, r, &l.view);
		up_wake(u, w->id, &l);
	}
	up_arm_wait(u);
}

void
upstream_await(struct upstream *u, uint64_t id, const void *owner, up_landed_cb *cb, void *arg)
{
	const struct up_srv *s = up_primary(u);
	struct up_landing l;
	struct up_wait *w;
	struct up_ent *r;

	memset(&l, 0, sizeof(l));
	r = s != NULL ? up_find(u, id) : NULL;
	if (r != NULL)
		l.has_view = up_view_of(u, r, &l.view);
	if (r == NULL || !l.has_view || l.view.state != PCPC_PENDING ||
	    up_srv_state(s) != PCPC_SRV_UP || (w = calloc(1, sizeof(*w))) == NULL) {
		cb(arg, &l);
		return;
	}
	w->id = id;
	w->owner = owner;
	w->cb = cb;
	w->arg = arg;
	w->deadline = pg_clock_now(&u->ctx->clock) + UP_WAIT_MS;
	w->next = u->waits;
	u->waits = w;
	up_arm_wait(u);
}

void
upstream_await_cancel(struct upstream *u, const void *owner)
{
	struct up_wait **pp, *w;

	if (u == NULL)
		return;
	for (pp = &u->waits; (w = *pp) != NULL;) {
		if (w->owner == owner) {
			*pp = w->next;
			free(w);
		} else
			pp = &w->next;
	}
}

int
upstream_up(const struct upstream *u)
{
	const struct up_srv *s = up_primary(u);

	return s != NULL && up_srv_state(s) == PCPC_SRV_UP;
}

int
upstream_ext_addr(const struct upstream *u, struct in6_addr *a)
{
	return upstream_up(u) && pcpc_ext_addr(up_primary(u)->c, a);
}

int
upstream_server(const struct upstream *u, struct in6_addr *a)
{
	if (!upstream_up(u))
		return 0;
	pcpc_server_addr(up_primary(u)->c, a);
	return 1;
}

struct pcpc *
upstream_client(const struct upstream *u, size_t i)
{
	return u != NULL && i < u->nsrv ? u->srv[i].c : NULL;
}

int
upstream_public_addr(const struct pg_ctx *ctx, struct in6_addr *a)
{
	if (upstream_ext_addr(ctx->up, a))
		return 1;
	if (!ctx->cfg->has_external_ip)
		return 0;
	*a = ctx->cfg->external_ip;
	return 1;
}

/* ---- the servers' events ---- */

/*
 * The server answers but no MAP has told its external address yet (an
 * ANNOUNCE carries none): one short MAP of UDP UP_PROBE_PORT, deleted
 * as soon as it is answered, so GetExternalIPAddress, NAT-PMP and status
 * say the address the internet sees before the first mapping is made.
 */
static void
up_probe_cb(void *arg, struct pcpc_map *m, const struct pcpc_info *in)
{
	struct up_srv *s = arg;

	if (in->state == PCPC_PENDING)
		return;
	pcpc_map_drop(s->c, m);		/* deleted upstream; nothing else was asked */
	s->addr_probe = NULL;
}

static void
up_probe_addr(struct up_srv *s)
{
	struct pcpc_req q;
	struct in6_addr a;

	if (s->addr_probe != NULL || pcpc_ext_addr(s->c, &a) || s->u->ents.count > 0)
		return;
	memset(&q, 0, sizeof(q));
	q.proto = IPPROTO_UDP;
	q.internal_port = UP_PROBE_PORT;
	q.lifetime = 30;
	q.has_nonce = 1;
	up_nonce(s->u, q.proto, q.internal_port, q.nonce);
	s->addr_probe = pcpc_map_add(s->c, &q, up_probe_cb, s, NULL);
}

/* What no upstream server means for the WAN address (ipclass): said once. */
static void
up_say_none(const struct upstream *u, const char *why)
{
	char a[INET6_ADDRSTRLEN];
	enum ipclass k = ipclass_of(&u->local, NULL);

	if (k == IPCLASS_NOT_V4)
		log_info("upstream PCP: %s", why);
	else if (k == IPCLASS_PUBLIC)
		log_info("upstream PCP: %s; the WAN address %s is public: nothing is needed", why,
		    util_addr_str(&u->local, a, sizeof(a)));
	else
		log_info("upstream PCP: %s; the WAN address %s is %s: inbound mappings are "
		    "not reachable from the internet unless the network in front forwards them",
		    why, util_addr_str(&u->local, a, sizeof(a)), ipclass_what(k));
}

/* Another server is the primary now (one came or went): clients are told to ask again. */
static void
up_primary_check(struct upstream *u)
{
	const struct up_srv *p = up_primary(u);

	if (p == u->primary)
		return;
	if (u->primary != NULL && up_srv_state(p) == PCPC_SRV_UP) {
		log_info("upstream PCP: clients are told of another upstream server now");
		up_moved_soon(u);
	}
	u->primary = p;
}

static void
up_event(void *arg, struct pcpc *c, enum pcpc_event ev)
{
	struct up_srv *s = arg;
	struct upstream *u = s->u;
	char a[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN], why[128];
	struct in6_addr x;

	pcpc_server_addr(c, &x);
	util_addr_str(&x, a, sizeof(a));
	switch (ev) {
	case PCPC_EV_UP:
		log_info("upstream PCP: %s answers; inbound mappings are asked for there", a);
		up_sync(s);
		up_probe_addr(s);
		break;
	case PCPC_EV_NONE:
		snprintf(why, sizeof(why), "no answer from %s (%s)", a,
		    pcpc_source_name(s->server.source));
		up_say_none(u, why);
		break;
	case PCPC_EV_LOST:
		log_warnx("upstream PCP: %s stopped answering; asking again with back-off", a);
		break;
	case PCPC_EV_RESTART:
		log_info("upstream PCP: %s lost its mappings (epoch)", a);
		break;
	case PCPC_EV_EXT_ADDR:
		if (pcpc_ext_addr(c, &x))
			log_info("upstream PCP: the external address %s gives is %s", a,
			    util_addr_str(&x, e, sizeof(e)));
		/* UPnP subscribers, PCP and NAT-PMP clients hear of the primary's */
		if (s == up_primary(u) && u->hooks.public_moved != NULL)
			u->hooks.public_moved(u->ctx, s->had_ext);
		s->had_ext = 1;
		break;
	}
	up_primary_check(u);
}

/*
 * How long a request nobody answers is asked again before the server counts
 * as lost: the client's 30 s, or what PORTGATE_TEST_UPSTREAM_WAIT says (1 to 30
 * seconds), a knob for the labs, which stop a carrier and wait for that.
 */
static uint32_t
up_max_wait_ms(void)
{
	const char *v = getenv("PORTGATE_TEST_UPSTREAM_WAIT");
	unsigned long s;

	if (v == NULL)
		return 0;
	if (util_parse_uint(v, 1, 30, &s) == -1) {
		log_warnx("PORTGATE_TEST_UPSTREAM_WAIT: '%s' is not 1-30 seconds; ignored", v);
		return 0;
	}
	return (uint32_t)s * 1000;
}

/* A client for server s (its index i); 0, or -1 after saying why. */
static int
up_start_one(struct upstream *u, size_t i, const struct pcpc_server *sv)
{
	const struct pg_config *cfg = u->ctx->cfg;
	struct up_srv *s = &u->srv[i];
	struct pcpc_params p;
	char a[INET6_ADDRSTRLEN];

	s->u = u;
	s->server = *sv;
	memset(&p, 0, sizeof(p));
	p.local = u->local;
	memcpy(p.server, sv->addr, sizeof(p.server));
	p.nserver = sv->naddr;
	p.ifindex = if_nametoindex(cfg->wan_interface);
	p.max_mappings = cfg->upstream_max_mappings;
	p.max_wait_ms = up_max_wait_ms();
	p.clock = &u->ctx->clock;
	p.event = up_event;
	p.event_arg = s;
	p.send = u->hooks.send;
	p.send_arg = u->hooks.send_arg[i];
	util_addr_str(&sv->addr[0], a, sizeof(a));
	if ((s->c = pcpc_new(u->ctx->base, &p)) == NULL) {
		log_warnx("upstream PCP: %s: the client could not start", a);
		return -1;
	}
	log_info("upstream PCP: asking %s (%s) whether it is a PCP server", a,
	    pcpc_source_name(sv->source));
	return 0;
}

/* A client for every server found (RFC 7488 §4: all, in parallel); 0, or -1 with the reason. */
static int
up_start(struct upstream *u)
{
	const struct pg_config *cfg = u->ctx->cfg;
	struct pcpc_server sv[PCPC_SELECT_MAX];
	char a[INET6_ADDRSTRLEN];
	size_t i, n;

	if (u->hooks.local != NULL)
		u->local = *u->hooks.local;
	else if (!wanaddr_read(cfg->wan_interface, &u->local)) {
		snprintf(u->reason, sizeof(u->reason), "%s has no IPv4 address",
		    cfg->wan_interface);
		return -1;
	}
	n = pcpc_select_servers(cfg->upstream_pcp == CONF_UPSTREAM_ADDR ?
	    &cfg->upstream_pcp_addr : NULL, cfg->upstream_pcp_file, cfg->wan_interface, sv,
	    PG_NELEM(sv));
	if (n == 0) {
		snprintf(u->reason, sizeof(u->reason), "no server to ask (%s has no default "
		    "gateway%s)", cfg->wan_interface, cfg->upstream_pcp_file != NULL ?
		    ", upstream_pcp_file names none" : "");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (u->nsrv == UP_SERVERS_MAX) {
			log_info("upstream PCP: %s (%s) is not asked: %d servers are at most",
			    util_addr_str(&sv[i].addr[0], a, sizeof(a)),
			    pcpc_source_name(sv[i].source), UP_SERVERS_MAX);
			continue;
		}
		if (up_start_one(u, u->nsrv, &sv[i]) == 0)
			u->nsrv++;
	}
	if (u->nsrv == 0) {
		snprintf(u->reason, sizeof(u->reason), "the client could not start");
		return -1;
	}
	u->primary = up_primary(u);
	for (i = 0; i < u->nsrv; i++)
		pcpc_probe(u->srv[i].c);
	return 0;
}

struct upstream *
upstream_new(struct pg_ctx *ctx, const struct up_hooks *hooks)
{
	const struct pg_config *cfg = ctx->cfg;
	struct upstream *u;

	if (cfg->upstream_pcp == CONF_UPSTREAM_OFF)
		return NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		log_warn("upstream");
		return NULL;
	}
	u->ctx = ctx;
	u->hooks = *hooks;
	hmap_init(&u->ents);
	if ((u->wait_ev = evtimer_new(ctx->base, up_wait_timeout, u)) == NULL ||
	    (u->moved_ev = evtimer_new(ctx->base, up_moved_cb, u)) == NULL ||
	    up_key_init(u) == -1) {
		log_warnx("upstream PCP: off: out of resources");
		upstream_free(u);
		return NULL;
	}
	if (cfg->wan_interface == NULL)
		snprintf(u->reason, sizeof(u->reason), "no wan_interface");
	else if (up_start(u) == -1)
		up_say_none(u, u->reason);
	return u;
}

void
upstream_free(struct upstream *u)
{
	struct up_landing l;
	struct hnode *n;
	size_t i;

	if (u == NULL)
		return;
	memset(&l, 0, sizeof(l));
	while (u->waits != NULL)		/* answered as they are */
		up_wake(u, u->waits->id, &l);
	for (i = 0; i < u->ents.nbuckets; i++)
		while ((n = u->ents.buckets != NULL ? u->ents.buckets[i] : NULL) != NULL) {
			struct up_ent *r = HMAP_ENTRY(n, struct up_ent, node);

			hmap_remove(&u->ents, n);
			free(r->p);
			free(r);
		}
	hmap_destroy(&u->ents);
	for (i = 0; i < u->nsrv; i++)
		pcpc_free(u->srv[i].c);	/* its mappings run out upstream by their lifetimes */
	if (u->wait_ev != NULL)
		event_free(u->wait_ev);
	if (u->moved_ev != NULL)
		event_free(u->moved_ev);
	free(u);
}

/* A server other than the primary: "ADDR STATE EXTERNAL" (its external address, or none). */
static void
up_status_other(const struct up_srv *s, pg_status_emit *emit, void *arg)
{
	char a[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN] = "none";
	struct in6_addr x;

	pcpc_server_addr(s->c, &x);
	util_addr_str(&x, a, sizeof(a));
	if (pcpc_ext_addr(s->c, &x))
		util_addr_str(&x, e, sizeof(e));
	emit(arg, "upstream_pcp_other", "%s %s %s", a, pcpc_srv_state_name(up_srv_state(s)), e);
}

void
upstream_status(const struct upstream *u, const struct pg_ctx *ctx, pg_status_emit *emit,
    void *arg)
{
	const struct up_srv *p = up_primary(u);
	char a[INET6_ADDRSTRLEN];
	size_t i;

	emit(arg, "upstream_pcp", "%s", conf_upstream_name(ctx->cfg, a, sizeof(a)));
	if (u == NULL)
		return;
	if (p == NULL) {
		emit(arg, "upstream_pcp_state", "none");
		emit(arg, "upstream_pcp_reason", "%s", u->reason);
		return;
	}
	emit(arg, "upstream_pcp_source", "%s", pcpc_source_name(p->server.source));
	pcpc_status(p->c, emit, arg);
	emit(arg, "upstream_entries", "%zu", u->ents.count);
	emit(arg, "upstream_not_asked", "%u", u->unasked);
	emit(arg, "upstream_pcp_servers", "%zu", u->nsrv);
	for (i = 0; i < u->nsrv; i++)
		if (&u->srv[i] != p)
			up_status_other(&u->srv[i], emit, arg);
}
