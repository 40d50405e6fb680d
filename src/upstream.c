/*
 * upstream.c - the upstream PCP server, as the daemon sees it, and the
 * table's inbound entries as its mappings.
 *
 * At start-up (and at reload, and when the WAN address moves) the servers
 * to ask come from pcpc_select (upstream_pcp: the configured one, or in
 * auto the DHCP option's file, else the WAN's default gateway); the first
 * one's addresses go to a client (pcp_client) bound to the WAN interface's
 * address, which asks with an ANNOUNCE request whether a PCP server is
 * there. RFC 6887 has no request made for probing; an ANNOUNCE request is
 * the only one that asks for no state: the server checks the client address
 * and answers with its epoch (§14.1.1), nothing is mapped, nothing is left
 * to expire. No answer is not an error: the daemon works as it does without
 * an upstream, and says what that means for the WAN address it has.
 *
 * Once the server answers, every inbound IPv4 entry of the table, whatever
 * its source, is a MAP there (a record here, by entry id): the gateway's
 * external port as the internal port, that port suggested, the entry's
 * FILTERs, PREFER_FAILURE where the entry's requester wants that port or
 * none (e->fixed), the lifetime left on the entry's lease (UP_PERM_LIFETIME
 * for a permanent one, renewed by the client), a range as one MAP per port
 * (its first UP_RANGE_MAX). Renewals refresh it, deletion and expiry delete
 * it. Each mapping's nonce is derived from a key kept in the state file
 * (SipHash of protocol and port), so after a restart the same nonce renews
 * what the server still holds: a server knows a mapping by its nonce, and
 * refuses another's. The client does the rest: retransmission, renewal,
 * the epoch, ANNOUNCEs, a lost server.
 *
 * A front end that made an entry asks (upstream_await), after the kernel
 * took it, what the upstream made of it, and waits up to UP_WAIT_MS: then
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

/* One upstream MAP: a port of an entry. */
struct up_port {
	struct up_ent	*ent;
	struct pcpc_map	*m;		/* NULL: not asked (upstream_max_mappings reached) */
};

/* An entry's upstream mappings. */
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
	struct pcpc		*c;		/* NULL: nothing to ask (reason) */
	struct pcpc_server	 server;	/* the one asked */
	size_t			 nservers;	/* found, in order; the first is asked */
	struct in6_addr		 local;		/* the WAN interface's address */
	char			 reason[96];
	struct up_hooks		 hooks;
	struct hmap		 ents;		/* struct up_ent by entry id */
	uint8_t			 key[UP_KEY_LEN];	/* nonces come from it (the state file's) */
	struct up_wait		*waits;
	struct event		*wait_ev;
	struct event		*moved_ev;	/* mappings granted elsewhere: announce, once */
	unsigned		 unasked;	/* entries' ports not asked: the limit */
	struct pcpc_map		*addr_probe;	/* a MAP asked only for the external address */
	int			 had_ext;	/* the server gave an external address before */
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

/* Entries that get upstream mappings: inbound IPv4 mappings (not PEER pins, not pinholes). */
static int
up_wants(const struct mt_entry *e)
{
	return e->kind == MT_KIND_MAP && util_addr_is_v4(&e->int_addr);
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

/* The server answers, or answered and will again: mappings are asked for (else they wait). */
static int
up_asking(const struct upstream *u)
{
	enum pcpc_srv_state st;

	if (u == NULL || u->c == NULL)
		return 0;
	st = pcpc_server_state(u->c);
	return st == PCPC_SRV_UP || st == PCPC_SRV_LOST;
}

static void up_map_cb(void *, struct pcpc_map *, const struct pcpc_info *);
static void up_wake(struct upstream *, uint64_t id, const struct up_landing *);

static void
up_request(const struct upstream *u, const struct mt_entry *e, const struct up_ent *r,
    uint16_t port, struct pcpc_req *q)
{
	size_t i;

	memset(q, 0, sizeof(*q));
	q->proto = e->proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	q->internal_port = port;
	q->ext_port = port;		/* the same number on both tiers, where the server can */
	(void)pcpc_ext_addr(u->c, &q->ext_addr);	/* the address it gave (or none) */
	q->lifetime = r->lifetime;
	q->flags = r->fixed ? PCPC_F_PREFER_FAILURE : PCPC_F_RETRY;
	q->has_nonce = 1;
	up_nonce(u, q->proto, port, q->nonce);
	for (i = 0; i < e->nfilters && i < PCPC_FILTER_MAX; i++) {
		q->filter[i].prefix_len = e->filters[i].plen;
		q->filter[i].port = e->filters[i].port;
		q->filter[i].addr = e->filters[i].addr;
	}
	q->nfilter = (unsigned)i;
}

/* e's upstream mappings, asked for now. */
static void
up_add(struct upstream *u, const struct mt_entry *e)
{
	char why[64];
	struct pcpc_req q;
	enum pcpc_err err;
	struct up_ent *r;
	unsigned i, n = (unsigned)(e->ext_port_end - e->ext_port) + 1;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->p = calloc(n > UP_RANGE_MAX ? UP_RANGE_MAX : n, sizeof(*r->p))) == NULL) {
		free(r);
		log_warn("upstream PCP: entry");
		return;
	}
	r->u = u;
	r->id = e->id;
	r->proto = e->proto;
	r->fixed = e->fixed;
	r->port = e->ext_port;
	r->nports = (uint16_t)(n > UP_RANGE_MAX ? UP_RANGE_MAX : n);
	r->lifetime = up_lifetime(u, e);
	hmap_insert(&u->ents, &r->node, up_id_hash(u, r->id));
	for (i = 0; i < r->nports; i++) {
		r->p[i].ent = r;
		up_request(u, e, r, (uint16_t)(e->ext_port + i), &q);
		if (u->addr_probe != NULL && q.proto == IPPROTO_UDP &&
		    q.internal_port == UP_PROBE_PORT) {
			pcpc_map_drop(u->c, u->addr_probe);	/* the entry's own MAP instead */
			u->addr_probe = NULL;
		}
		r->p[i].m = pcpc_map_add(u->c, &q, up_map_cb, &r->p[i], &err);
		if (r->p[i].m == NULL) {
			u->unasked++;
			snprintf(why, sizeof(why), "%s", pcpc_err_name(err));
			log_info("upstream PCP: %s %u is not asked for upstream: %s%s",
			    mt_proto_name(e->proto), e->ext_port + i, why, err == PCPC_ERR_FULL ?
			    " (upstream_max_mappings)" : "");
		}
	}
	if (n > UP_RANGE_MAX)
		log_info("upstream PCP: %s %u-%u: only its first %u ports are asked for upstream",
		    mt_proto_name(e->proto), e->ext_port, e->ext_port_end, UP_RANGE_MAX);
}

/* The record goes: its mappings are deleted upstream; waiting answers go out as they are. */
static void
up_drop(struct upstream *u, struct up_ent *r)
{
	struct up_landing l;
	unsigned i;

	for (i = 0; i < r->nports; i++) {
		if (r->p[i].m != NULL)
			pcpc_map_drop(u->c, r->p[i].m);
		else
			u->unasked--;
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
	unsigned i;

	if (life == r->lifetime && mtable_remaining(u->ctx->mt, e) < 0)
		return;			/* permanent: the client renews it */
	r->lifetime = life;
	for (i = 0; i < r->nports; i++)
		if (r->p[i].m != NULL)
			pcpc_map_refresh(u->c, r->p[i].m, life);
}

void
upstream_table_changed(struct upstream *u, enum mt_change what, const struct mt_entry *e)
{
	struct up_ent *r;

	if (!up_asking(u) || e == NULL || !up_wants(e))
		return;
	r = up_find(u, e->id);
	switch (mt_change_record(what)) {
	case MT_CHG_PUT:
		/* the same ports: the same upstream mappings (the internal host is ours alone) */
		if (r != NULL && r->proto == e->proto && r->port == e->ext_port &&
		    r->nports == (e->ext_port_end - e->ext_port >= UP_RANGE_MAX ? UP_RANGE_MAX :
		    e->ext_port_end - e->ext_port + 1) && r->fixed == e->fixed) {
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

/* Every inbound entry without upstream mappings gets them (the server answers now). */
static void
up_sync_all(struct upstream *u)
{
	struct mt_entry *e;

	for (e = mtable_next(u->ctx->mt, NULL); e != NULL; e = mtable_next(u->ctx->mt, e))
		if (up_wants(e) && up_find(u, e->id) == NULL)
			up_add(u, e);
}

/* ---- what the upstream made of an entry ---- */

static int
up_view_of(const struct upstream *u, const struct up_ent *r, struct up_view *v)
{
	uint64_t now = pg_clock_now(&u->ctx->clock), first = 0;
	const struct pcpc_info *in;
	unsigned i;
	int set = 0;

	memset(v, 0, sizeof(*v));
	v->state = PCPC_GRANTED;
	for (i = 0; i < r->nports; i++) {
		if (r->p[i].m == NULL)
			continue;
		in = pcpc_map_info(r->p[i].m);
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

int
upstream_view(const struct upstream *u, const struct mt_entry *e, struct up_view *v)
{
	const struct up_ent *r;

	if (u == NULL || u->c == NULL || (r = up_find(u, e->id)) == NULL)
		return 0;
	return up_view_of(u, r, v);
}

/* A fixed entry granted at another port than the one asked is refused as far as it goes. */
static int
up_wrong_port(const struct up_ent *r, const struct up_view *v)
{
	return r->fixed && v->state == PCPC_GRANTED && v->ext_port != r->port;
}

/* ---- answers waiting for the upstream ---- */

static void
up_wake(struct upstream *u, uint64_t id, const struct up_landing *l)
{
	struct up_wait **pp = &u->waits, *w, *ready = NULL, **tail = &ready;

	while ((w = *pp) != NULL) {	/* taken off first: a callback may wait again */
		if (w->id == id) {
			*pp = w->next;
			w->next = NULL;
			*tail = w;
			tail = &w->next;
		} else
			pp = &w->next;
	}
	while ((w = ready) != NULL) {
		ready = w->next;
		w->cb(w->arg, l);
		free(w);
	}
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

/*
 * An answer for r's waiters once no port is pending. A refusal (or a fixed
 * entry given another port) with a front end waiting deletes the entry:
 * its client hears no, and nothing stays on either side.
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
 * reaches it. Not while the server is away (every mapping goes lost at
 * once; status says that), and at the client's pace otherwise.
 */
static void
up_post(struct upstream *u, struct up_ent *r)
{
	struct pg_event ev;
	struct up_view v;
	struct mt_entry *e;

	if (pcpc_server_state(u->c) != PCPC_SRV_UP || !up_view_of(u, r, &v) ||
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

/* The upstream moved mappings (granted again elsewhere, after it lost its state). */
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
	struct timeval tv = { 1, 0 };

	(void)m;
	/* what clients were told is stale: one announcement for all of a restart's moves */
	if ((in->changed & PCPC_CHG_EXT) && in->state == PCPC_GRANTED &&
	    !evtimer_pending(u->moved_ev, NULL))
		evtimer_add(u->moved_ev, &tv);
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
	struct up_landing l;
	struct up_wait *w;
	struct up_ent *r;

	memset(&l, 0, sizeof(l));
	r = u != NULL && u->c != NULL ? up_find(u, id) : NULL;
	if (r != NULL)
		l.has_view = up_view_of(u, r, &l.view);
	if (r == NULL || !l.has_view || l.view.state != PCPC_PENDING ||
	    pcpc_server_state(u->c) != PCPC_SRV_UP || (w = calloc(1, sizeof(*w))) == NULL) {
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
upstream_ext_addr(const struct upstream *u, struct in6_addr *a)
{
	return upstream_up(u) && pcpc_ext_addr(u->c, a);
}

struct pcpc *
upstream_client(const struct upstream *u)
{
	return u != NULL ? u->c : NULL;
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

int
upstream_server(const struct upstream *u, struct in6_addr *a)
{
	if (!upstream_up(u))
		return 0;
	pcpc_server_addr(u->c, a);
	return 1;
}

int
upstream_up(const struct upstream *u)
{
	return u != NULL && u->c != NULL && pcpc_server_state(u->c) == PCPC_SRV_UP;
}

/*
 * The server answers but no MAP has told its external address yet (an
 * ANNOUNCE carries none): one short MAP of UDP UP_PROBE_PORT, deleted
 * as soon as it is answered, so GetExternalIPAddress, NAT-PMP and status
 * say the address the internet sees before the first mapping is made.
 */
static void
up_probe_cb(void *arg, struct pcpc_map *m, const struct pcpc_info *in)
{
	struct upstream *u = arg;

	if (in->state == PCPC_PENDING)
		return;
	pcpc_map_drop(u->c, m);		/* deleted upstream; nothing else was asked */
	u->addr_probe = NULL;
}

static void
up_probe_addr(struct upstream *u)
{
	struct pcpc_req q;
	struct in6_addr a;

	if (u->addr_probe != NULL || pcpc_ext_addr(u->c, &a) || u->ents.count > 0)
		return;
	memset(&q, 0, sizeof(q));
	q.proto = IPPROTO_UDP;
	q.internal_port = UP_PROBE_PORT;
	q.lifetime = 30;
	q.has_nonce = 1;
	up_nonce(u, q.proto, q.internal_port, q.nonce);
	u->addr_probe = pcpc_map_add(u->c, &q, up_probe_cb, u, NULL);
}

static const char *
up_server_str(const struct upstream *u, char *buf, size_t len)
{
	struct in6_addr a;

	pcpc_server_addr(u->c, &a);
	return util_addr_str(&a, buf, len);
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

static void
up_event(void *arg, struct pcpc *c, enum pcpc_event ev)
{
	struct upstream *u = arg;
	char s[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN], why[128];
	struct in6_addr a;

	up_server_str(u, s, sizeof(s));
	switch (ev) {
	case PCPC_EV_UP:
		log_info("upstream PCP: %s answers; inbound mappings are asked for there", s);
		up_sync_all(u);
		up_probe_addr(u);
		break;
	case PCPC_EV_NONE:
		snprintf(why, sizeof(why), "no answer from %s (%s)", s,
		    pcpc_source_name(u->server.source));
		up_say_none(u, why);
		break;
	case PCPC_EV_LOST:
		log_warnx("upstream PCP: %s stopped answering; asking again with back-off", s);
		break;
	case PCPC_EV_RESTART:
		log_info("upstream PCP: %s lost its mappings (epoch)", s);
		break;
	case PCPC_EV_EXT_ADDR:
		if (pcpc_ext_addr(c, &a))
			log_info("upstream PCP: the external address %s gives is %s", s,
			    util_addr_str(&a, e, sizeof(e)));
		if (u->hooks.public_moved != NULL)	/* UPnP subscribers, PCP, NAT-PMP clients */
			u->hooks.public_moved(u->ctx, u->had_ext);
		u->had_ext = 1;
		break;
	}
}

/* The client for the first server found; 0, or -1 with the reason. */
static int
up_start(struct upstream *u)
{
	const struct pg_config *cfg = u->ctx->cfg;
	struct pcpc_server sv[PCPC_SELECT_MAX];
	struct pcpc_params p;
	char a[INET6_ADDRSTRLEN];
	size_t i;

	if (u->hooks.local != NULL)
		u->local = *u->hooks.local;
	else if (!wanaddr_read(cfg->wan_interface, &u->local)) {
		snprintf(u->reason, sizeof(u->reason), "%s has no IPv4 address",
		    cfg->wan_interface);
		return -1;
	}
	u->nservers = pcpc_select_servers(cfg->upstream_pcp == CONF_UPSTREAM_ADDR ?
	    &cfg->upstream_pcp_addr : NULL, cfg->upstream_pcp_file, cfg->wan_interface, sv,
	    PG_NELEM(sv));
	if (u->nservers == 0) {
		snprintf(u->reason, sizeof(u->reason), "no server to ask (%s has no default "
		    "gateway%s)", cfg->wan_interface, cfg->upstream_pcp_file != NULL ?
		    ", upstream_pcp_file names none" : "");
		return -1;
	}
	u->server = sv[0];
	for (i = 1; i < u->nservers; i++)	/* RFC 7488 §4: one server for now */
		log_info("upstream PCP: %s (%s) is not asked: only the first server is",
		    util_addr_str(&sv[i].addr[0], a, sizeof(a)), pcpc_source_name(sv[i].source));
	memset(&p, 0, sizeof(p));
	p.local = u->local;
	memcpy(p.server, u->server.addr, sizeof(p.server));
	p.nserver = u->server.naddr;
	p.ifindex = if_nametoindex(cfg->wan_interface);
	p.max_mappings = cfg->upstream_max_mappings;
	p.clock = &u->ctx->clock;
	p.event = up_event;
	p.event_arg = u;
	p.send = u->hooks.send;
	p.send_arg = u->hooks.send_arg;
	if ((u->c = pcpc_new(u->ctx->base, &p)) == NULL) {
		snprintf(u->reason, sizeof(u->reason), "the client could not start");
		return -1;
	}
	log_info("upstream PCP: asking %s (%s) whether it is a PCP server",
	    util_addr_str(&u->server.addr[0], a, sizeof(a)), pcpc_source_name(u->server.source));
	pcpc_probe(u->c);
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
	pcpc_free(u->c);	/* its mappings run out upstream by their lifetimes */
	if (u->wait_ev != NULL)
		event_free(u->wait_ev);
	if (u->moved_ev != NULL)
		event_free(u->moved_ev);
	free(u);
}

void
upstream_status(const struct upstream *u, const struct pg_ctx *ctx, pg_status_emit *emit,
    void *arg)
{
	char a[INET6_ADDRSTRLEN];

	emit(arg, "upstream_pcp", "%s", conf_upstream_name(ctx->cfg, a, sizeof(a)));
	if (u == NULL)
		return;
	if (u->c == NULL) {
		emit(arg, "upstream_pcp_state", "none");
		emit(arg, "upstream_pcp_reason", "%s", u->reason);
		return;
	}
	emit(arg, "upstream_pcp_source", "%s", pcpc_source_name(u->server.source));
	pcpc_status(u->c, emit, arg);
	emit(arg, "upstream_entries", "%zu", u->ents.count);
	emit(arg, "upstream_not_asked", "%u", u->unasked);
}
