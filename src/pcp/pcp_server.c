/*
 * pcp_server.c - PCP and NAT-PMP on UDP 5351, a thin front end of the
 * mapping table.
 *
 * The sockets are pcp_sock's: it hands up what a LAN host sent to a LAN
 * interface, and sends an answer from the address the request was sent to
 * (NAT-PMP over IPv6 is dropped here). The first octet routes: version 2 is PCP
 * (pcp_wire), 0 is NAT-PMP (natpmp_wire), anything else is answered as
 * PCP's UNSUPP_VERSION. Every mapping is a `pcp` entry (owner: the nonce)
 * or a `natpmp` entry (owner: none, the client's address says whose) of the
 * one table; conflicts, quotas, allow/deny, lease caps and who may change an
 * entry are the table's (a request's actor: PCP with its nonce as the owner
 * token, or NAT-PMP for the sender's own address).
 * A new mapping is committed to the kernel before the client hears of it.
 *
 * The epoch counts seconds since the mapping state began: it continues
 * across a restart that restored a complete state file, and restarts at 0
 * when mappings may have been lost or the external address changed; then
 * (and at start) unsolicited ANNOUNCEs and NAT-PMP address announcements go
 * to 224.0.0.1:5350 (ANNOUNCEs also to [ff02::1]:5350 where the LAN has
 * IPv6) on every LAN interface, ten times, 250 ms apart and doubling
 * (RFC 6886 §3.2.1, RFC 6887 §14.1.3).
 */
#include "config.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "neigh.h"
#include "mtable.h"
#include "netif.h"
#include "pcp/natpmp_wire.h"
#include "pcp/pcp_server.h"
#include "pcp/pcp_sock.h"
#include "pcp/pcp_wire.h"
#include "util.h"
#include "wanaddr.h"

#define PCP_ANNOUNCE_TIMES	10
#define PCP_ANNOUNCE_FIRST_MS	250

struct pcp_bucket {
	struct in6_addr	 addr;
	uint64_t	 at_ms;		/* last refill */
	uint32_t	 tokens;
};

struct pcp_srv {
	struct pg_ctx		*ctx;
	struct pcp_sock		*sock;		/* UDP 5351 (NULL: tests and the fuzzer) */
	struct event		*announce_ev;
	unsigned		 announce_left;
	uint64_t		 announce_gap_ms;
	uint64_t		 epoch_mono0;	/* lease clock ms when the epoch was epoch_off */
	uint32_t		 epoch_off;	/* seconds of epoch already run at epoch_mono0 */
	struct pcp_bucket	 rate[PCP_SRV_CLIENTS];
	uint32_t		 rate_seed;	/* of the buckets' hash: no host can aim at another's */
	struct log_limit	 log_limit;
	struct pcp_srv_stats	 stats;
	const struct mt_entry	*landing;	/* the entry the request being handled waits for */
	struct pcp_answer	*pending;	/* answers waiting for their entries to land */
};

/* A caller's buffer for an answer (pcp_srv_handle). */
struct pcp_sink {
	uint8_t			*out;
	size_t			 outlen;
	size_t			 olen;		/* what was written */
	int			 done;
};

/* An answer whose entry is on its way to the kernel (mtable_commit_entry). */
struct pcp_answer {
	struct pcp_srv		*srv;
	struct pcp_answer	*next, **prevp;	/* pcp_srv.pending */
	struct in6_addr		 src;		/* for the debug log */
	int			 natpmp;
	struct pcp_request	 q;
	struct pcp_response	 resp;
	struct natpmp_request	 nq;
	struct natpmp_response	 nresp;
	struct pcp_dest		 dest;		/* a socket's (pcp_sock), or family 0: */
	struct pcp_sink		*sink;		/* a caller's buffer; NULL once its caller has gone */
};

/* One MAP being served. */
struct pcp_map {
	struct pcp_srv		*srv;
	const struct pcp_request *req;
	struct pcp_response	*resp;
	struct in6_addr		 internal;	/* the source, or THIRD_PARTY's address */
	char			 nonce[2 * PCP_WIRE_NONCE_LEN + 1];
	struct mt_actor		 actor;		/* the sender, with the nonce as its owner token */
	struct mt_filter	 filters[MT_MAX_FILTERS];
	size_t			 nfilters;
	int			 set_filters;
};

static uint64_t
pcp_now(const struct pcp_srv *s)
{
	return mtable_now(s->ctx->mt);
}

uint32_t
pcp_srv_epoch(const struct pcp_srv *s)
{
	uint64_t now = pcp_now(s);

	return s->epoch_off + (uint32_t)(now > s->epoch_mono0 ? (now - s->epoch_mono0) / 1000 : 0);
}

const struct pcp_srv_stats *
pcp_srv_stats(const struct pcp_srv *s)
{
	return &s->stats;
}

static void
pcp_debug(struct pcp_srv *s, const struct in6_addr *who, const char *what, const char *why)
{
	char a[INET6_ADDRSTRLEN];

	if (log_limit_pass(&s->log_limit, util_mono_ms()))
		log_debug("pcp: %s from %s: %s", what, util_addr_str(who, a, sizeof(a)), why);
}

/* ---- rate limit: a token bucket per host, in a fixed table ---- */

#define PCP_RATE_PROBE	8	/* slots a host's bucket may be in, from its hash on */

/*
 * The bucket of a host (its key: MAC, else /64 or IPv4 address, so that a
 * host cannot multiply its rate by taking more addresses). A host without
 * a bucket takes a free slot of its probe window, or the one idle longest
 * if that one has refilled completely anyway (nothing is forgiven); when
 * every slot of the window holds a host still being limited, the newcomer
 * is limited too (NULL) rather than reset someone's bucket to a full burst.
 * The hash is seeded at random: with a known one, a host could pick 8 keys
 * (addresses with MACs it makes up) that fill another host's window, keep
 * them just under their bursts, and so have that host's requests dropped.
 */
static struct pcp_bucket *
pcp_bucket_of(struct pcp_srv *s, const struct in6_addr *key, uint64_t now, uint32_t burst,
    uint32_t rate)
{
	uint32_t h = 2166136261u ^ s->rate_seed;
	struct pcp_bucket *b, *best = NULL;
	size_t i;

	for (i = 0; i < sizeof(*key); i++)
		h = (h ^ key->s6_addr[i]) * 16777619u;
	h ^= h >> 16;		/* the slot's low bits then depend on all of the seed */
	for (i = 0; i < PCP_RATE_PROBE; i++) {
		b = &s->rate[(h + i) % PCP_SRV_CLIENTS];
		if (b->at_ms != 0 && memcmp(&b->addr, key, sizeof(*key)) == 0)
			return b;
		if (best == NULL || b->at_ms < best->at_ms)
			best = b;
	}
	if (best->at_ms != 0 && (now - best->at_ms) * rate / 1000 + best->tokens < burst)
		return NULL;
	best->addr = *key;
	best->at_ms = now;
	best->tokens = burst;
	return best;
}

static int
pcp_rate_ok(struct pcp_srv *s, const struct in6_addr *a)
{
	uint32_t rate = s->ctx->cfg->pcp_rate_limit;
	uint32_t burst = rate * PCP_SRV_BURST_FACTOR;
	struct pcp_bucket *b;
	struct in6_addr key;
	uint64_t now = pcp_now(s), add;

	if (rate == 0)
		return 1;
	neigh_host_key(s->ctx->neigh, a, &key);
	if (now == 0)
		now = 1;	/* at_ms 0 marks a free slot */
	if ((b = pcp_bucket_of(s, &key, now, burst, rate)) == NULL)
		return 0;
	add = (now - b->at_ms) * rate / 1000;
	if (add > 0) {
		b->tokens = (uint32_t)(b->tokens + add > burst ? burst : b->tokens + add);
		b->at_ms = now;
	}
	if (b->tokens == 0)
		return 0;
	b->tokens--;
	return 1;
}

/* ---- the table's answers, in the protocols' words (one place) ---- */

static enum pcp_result
pcp_result_of(enum mt_err e)
{
	switch (e) {
	case MT_OK:
		return PCP_RES_SUCCESS;
	case MT_ERR_INVAL:
		return PCP_RES_MALFORMED_REQUEST;
	case MT_ERR_CONFLICT:
		return PCP_RES_CANNOT_PROVIDE_EXTERNAL;
	case MT_ERR_DENIED:
	case MT_ERR_ADDR:
	case MT_ERR_NOTFOUND:
	case MT_ERR_NOT_AUTHORIZED:	/* another nonce's (or source's) entry */
		return PCP_RES_NOT_AUTHORIZED;
	case MT_ERR_QUOTA:
		return PCP_RES_USER_EX_QUOTA;
	case MT_ERR_NOPORT:
	case MT_ERR_NOMEM:
		return PCP_RES_NO_RESOURCES;
	case MT_ERR_FIREWALL:
		return PCP_RES_NETWORK_FAILURE;
	}
	return PCP_RES_NO_RESOURCES;
}

static enum natpmp_result
natpmp_result_of(enum mt_err e)
{
	switch (e) {
	case MT_OK:
		return NATPMP_RES_SUCCESS;
	case MT_ERR_DENIED:
	case MT_ERR_ADDR:
	case MT_ERR_INVAL:
	case MT_ERR_NOTFOUND:
	case MT_ERR_CONFLICT:
	case MT_ERR_NOT_AUTHORIZED:
		return NATPMP_RES_NOT_AUTHORIZED;
	case MT_ERR_FIREWALL:
		return NATPMP_RES_NETWORK_FAILURE;
	case MT_ERR_QUOTA:
	case MT_ERR_NOPORT:
	case MT_ERR_NOMEM:
		break;
	}
	return NATPMP_RES_NO_RESOURCES;
}

/*
 * A new or changed mapping reaches the kernel before the client is told:
 * the answer waits for e to land (pcp_answer_wait), with every other
 * request of this loop turn in one kernel batch.
 */
static enum mt_err
pcp_land(struct pcp_srv *s, const struct mt_entry *e)
{
	s->landing = e;
	return MT_OK;
}

/* Lifetime asked for, clamped to [pcp_min_lifetime, ...]; the table caps it at max_lease. */
static uint32_t
pcp_lifetime(const struct pcp_srv *s, uint32_t asked)
{
	uint32_t min = s->ctx->cfg->pcp_min_lifetime;

	return asked < min ? min : asked;
}

static uint32_t
pcp_granted(const struct pcp_srv *s, const struct mt_entry *e)
{
	long left = mtable_remaining(s->ctx->mt, e);

	return left < 0 ? UINT32_MAX : (uint32_t)left;
}

/* ---- PCP MAP ---- */

static void
pcp_hex(const uint8_t *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Who asks, for the table: PCP, the sender, its nonce (hex) as the owner token. */
static void
pcp_actor(const struct pcp_srv_pkt *p, const char *nonce, struct mt_actor *a)
{
	memset(a, 0, sizeof(*a));
	a->source = MT_SRC_PCP;
	a->client = p->src;
	a->owner = nonce;
}

/* FILTER options as table filters: a prefix length of 0 clears them (RFC 6887 §13.3). */
static enum pcp_result
pcp_map_filters(struct pcp_map *m)
{
	const struct pcp_request *q = m->req;
	unsigned i;

	m->set_filters = q->nfilter > 0;
	if (q->nfilter > m->srv->ctx->cfg->pcp_max_filters || q->nfilter > MT_MAX_FILTERS)
		return PCP_RES_EXCESSIVE_REMOTE_PEERS;
	for (i = 0; i < q->nfilter; i++) {
		if (q->filter[i].prefix_len == 0) {
			m->nfilters = 0;	/* "no filter": anyone again */
			return PCP_RES_SUCCESS;
		}
		m->filters[m->nfilters].addr = q->filter[i].addr;
		m->filters[m->nfilters].plen = q->filter[i].prefix_len;
		m->filters[m->nfilters].port = q->filter[i].port;
		if (util_addr_is_v4(&q->filter[i].addr) != util_addr_is_v4(&m->internal))
			return PCP_RES_MALFORMED_OPTION;
		m->nfilters++;
	}
	return PCP_RES_SUCCESS;
}

/*
 * Who a MAP or PEER is for: the sender, or the LAN host a THIRD_PARTY
 * option names (RFC 6887 §13.1). Naming the sender itself is malformed
 * whether or not the option is allowed: "A PCP server receiving a
 * THIRD_PARTY option specifying the same address as the source address of
 * the packet MUST return a MALFORMED_REQUEST result code." Where the config
 * does not allow it: "If this option is prohibited, and a PCP server
 * receives a PCP MAP request with a THIRD_PARTY option, it MUST generate a
 * UNSUPP_OPTION response" (and "If the packet arrives from an unauthorized
 * host, the PCP server MUST generate an UNSUPP_OPTION error": PEER too).
 */
static enum pcp_result
pcp_internal(const struct pcp_srv *s, const struct pcp_srv_pkt *p, const struct pcp_request *q,
    struct in6_addr *internal)
{
	*internal = p->src;
	if (!q->has_third_party)
		return PCP_RES_SUCCESS;
	if (memcmp(&q->third_party, &p->src, sizeof(p->src)) == 0)
		return PCP_RES_MALFORMED_REQUEST;
	if (!s->ctx->cfg->pcp_allow_third_party)
		return PCP_RES_UNSUPP_OPTION;
	if (!mtable_client_ok(s->ctx->mt, &q->third_party, NULL, 0))
		return PCP_RES_NOT_AUTHORIZED;
	*internal = q->third_party;
	return PCP_RES_SUCCESS;
}

static void
pcp_map_request(const struct pcp_map *m, struct mt_request *r, uint16_t ext_port)
{
	memset(r, 0, sizeof(*r));
	r->actor = &m->actor;		/* the table refuses another nonce's refresh */
	r->proto = m->req->protocol == IPPROTO_TCP ? MT_TCP : MT_UDP;
	r->source = MT_SRC_PCP;
	r->ext_port = ext_port;
	r->int_port = m->req->internal_port;
	r->int_addr = m->internal;
	r->ext_addr = m->srv->ctx->cfg->external_ip;
	r->lease_s = pcp_lifetime(m->srv, m->req->lifetime);
	r->desc = "";
	r->owner = m->nonce;
	r->filters = m->filters;
	r->nfilters = m->nfilters;
	r->set_filters = m->set_filters;
}

/* A suggested external address other than ours can only be refused or ignored. */
static int
pcp_map_addr_ok(const struct pcp_map *m)
{
	static const struct in6_addr any;
	struct in6_addr v4any;

	memset(&v4any, 0, sizeof(v4any));
	v4any.s6_addr[10] = v4any.s6_addr[11] = 0xff;
	if (memcmp(&m->req->ext_addr, &any, sizeof(any)) == 0 ||
	    memcmp(&m->req->ext_addr, &v4any, sizeof(v4any)) == 0)
		return 1;
	return m->srv->ctx->cfg->has_external_ip &&
	    memcmp(&m->req->ext_addr, &m->srv->ctx->cfg->external_ip, sizeof(v4any)) == 0;
}

/* A new mapping: the suggested port, else (without PREFER_FAILURE) a free one near it. */
static enum pcp_result
pcp_map_create(struct pcp_map *m, struct mt_entry **out)
{
	struct mtable *mt = m->srv->ctx->mt;
	struct mt_request r;
	uint16_t want = m->req->ext_port ? m->req->ext_port : m->req->internal_port, port;
	enum mt_err e;

	if (!pcp_map_addr_ok(m) && m->req->prefer_failure)
		return PCP_RES_CANNOT_PROVIDE_EXTERNAL;
	pcp_map_request(m, &r, want);
	e = mtable_add(mt, &r, out, NULL);
	if ((e == MT_ERR_CONFLICT || e == MT_ERR_DENIED) && !m->req->prefer_failure) {
		/* taken or not allowed there: the nearest free port, or NO_RESOURCES */
		e = mtable_find_free(mt, r.proto, MT_SRC_PCP, want, &r.int_addr, r.int_port, &port);
		r.ext_port = port;
		if (e == MT_OK)
			e = mtable_add(mt, &r, out, NULL);
	}
	if (e == MT_OK)
		e = pcp_land(m->srv, *out);
	return pcp_result_of(e);
}

static enum pcp_result
pcp_map_refresh(struct pcp_map *m, struct mt_entry *e, struct mt_entry **out)
{
	struct mt_request r;
	enum mt_err err;

	pcp_map_request(m, &r, e->ext_port);
	if ((err = mtable_add(m->srv->ctx->mt, &r, out, NULL)) == MT_OK)
		err = pcp_land(m->srv, *out);
	return pcp_result_of(err);
}

/* ---- IPv6: no NAT, so MAP and PEER open pinholes (RFC 6887 §11.1, §12 for a firewall) ---- */

/* One pinhole of this client's nonce: created, refreshed or (lifetime 0) closed. */
static enum pcp_result
pcp_pin_apply(struct pcp_srv *s, const struct mt_pin_req *r, uint32_t lifetime,
    struct pcp_response *resp)
{
	struct mt_entry *e;
	enum mt_err err;

	if (!s->ctx->cfg->pcp_pinholes)
		return PCP_RES_NOT_AUTHORIZED;
	resp->ext_addr = r->int_addr;		/* seen from outside as it is */
	resp->ext_port = r->int_port;
	/* another nonce's pinhole on the key (or not PCP's) is refused by the table */
	if (lifetime == 0) {
		e = mtable_pinhole_find(s->ctx->mt, r->proto, &r->int_addr, r->int_port,
		    &r->remote);
		if (e != NULL && (err = mtable_del_by(s->ctx->mt, r->actor, e)) != MT_OK)
			return pcp_result_of(err);
		resp->lifetime = 0;
		return PCP_RES_SUCCESS;
	}
	if ((err = mtable_pinhole_add(s->ctx->mt, r, &e, NULL)) == MT_OK)
		err = pcp_land(s, e);
	if (err != MT_OK)
		return pcp_result_of(err);
	resp->lifetime = pcp_granted(s, e);
	return PCP_RES_SUCCESS;
}

static void
pcp_pin_req(struct pcp_srv *s, const struct pcp_request *q, const struct in6_addr *internal,
    const struct mt_actor *a, struct mt_pin_req *r)
{
	memset(r, 0, sizeof(*r));
	r->actor = a;
	r->proto = q->protocol == IPPROTO_TCP ? MT_TCP : MT_UDP;
	r->source = MT_SRC_PCP;
	r->int_addr = *internal;
	r->int_port = q->internal_port;
	r->lease_s = pcp_lifetime(s, q->lifetime);
	r->desc = "";
	r->owner = a->owner;
}

/* MAP from an IPv6 host: a pinhole for anyone, or for its FILTER peers (in the kernel). */
static enum pcp_result
pcp_pin_map(struct pcp_map *m, struct pcp_response *resp)
{
	struct mt_pin_req r;

	pcp_pin_req(m->srv, m->req, &m->internal, &m->actor, &r);
	r.filters = m->filters;
	r.nfilters = m->nfilters;
	r.set_filters = m->set_filters;
	return pcp_pin_apply(m->srv, &r, m->req->lifetime, resp);
}

/*
 * PEER from an IPv6 host: a firewall without NAT keeps the flow's state
 * open, so this is a pinhole for that one remote address and port; the
 * external address and port are the internal ones.
 */
static enum pcp_result
pcp_pin_peer(struct pcp_srv *s, const struct mt_actor *a, const struct in6_addr *internal,
    const struct pcp_request *q, struct pcp_response *resp)
{
	struct mt_pin_req r;

	if (q->internal_port == 0 || q->peer_port == 0)
		return PCP_RES_MALFORMED_REQUEST;
	if (util_addr_is_v4(&q->peer_addr))
		return PCP_RES_MALFORMED_REQUEST;
	pcp_pin_req(s, q, internal, a, &r);
	r.remote.addr = q->peer_addr;
	r.remote.plen = 128;
	r.remote.port = q->peer_port;
	/* a peer on the LAN side (or not unicast) is the table's rule; PCP says NOT_AUTHORIZED */
	if (!mtable_pinhole_remote_ok(s->ctx->mt, &r.remote))
		return PCP_RES_NOT_AUTHORIZED;
	return pcp_pin_apply(s, &r, q->lifetime, resp);
}

static enum pcp_result
pcp_map(struct pcp_srv *s, const struct pcp_srv_pkt *p, const struct pcp_request *q,
    struct pcp_response *resp)
{
	struct pcp_map m;
	struct mt_entry *e, *got = NULL;
	enum pcp_result res;
	enum mt_err err;
	int proto;

	memset(&m, 0, sizeof(m));
	m.srv = s;
	m.req = q;
	m.resp = resp;
	pcp_hex(q->nonce, sizeof(q->nonce), m.nonce);
	pcp_actor(p, m.nonce, &m.actor);
	if ((res = pcp_internal(s, p, q, &m.internal)) != PCP_RES_SUCCESS)
		return res;
	if (q->protocol != IPPROTO_TCP && q->protocol != IPPROTO_UDP)
		return PCP_RES_UNSUPP_PROTOCOL;
	if (q->internal_port == 0)	/* "all ports" is not offered */
		return q->lifetime == 0 ? PCP_RES_SUCCESS : PCP_RES_UNSUPP_PROTOCOL;
	if ((res = pcp_map_filters(&m)) != PCP_RES_SUCCESS)
		return res;
	if (!util_addr_is_v4(&m.internal))
		return pcp_pin_map(&m, resp);
	proto = q->protocol == IPPROTO_TCP ? MT_TCP : MT_UDP;
	e = mtable_lookup_int_source(s->ctx->mt, proto, &m.internal, q->internal_port,
	    MT_SRC_PCP);
	if (q->lifetime == 0) {		/* another nonce's: the table refuses, as a refresh */
		if (e != NULL && (err = mtable_del_by(s->ctx->mt, &m.actor, e)) != MT_OK)
			return pcp_result_of(err);
		resp->lifetime = 0;
		return PCP_RES_SUCCESS;
	}
	res = e != NULL ? pcp_map_refresh(&m, e, &got) : pcp_map_create(&m, &got);
	if (res != PCP_RES_SUCCESS)
		return res;
	resp->ext_port = got->ext_port;
	resp->ext_addr = s->ctx->cfg->external_ip;
	resp->lifetime = pcp_granted(s, got);
	return PCP_RES_SUCCESS;
}

/* Pins SNAT to an address the gateway has: the WAN interface's (external_ip is only reported). */
static struct in6_addr
pcp_snat_addr(const struct pcp_srv *s)
{
	struct in6_addr a;

	if (wanaddr_read(s->ctx->cfg->wan_interface, &a))
		return a;
	return s->ctx->cfg->external_ip;
}

/* A remote peer that can be on the WAN: unicast IPv4, not 0/8, loopback, multicast or class E. */
static int
pcp_peer_addr_ok(const struct in6_addr *a)
{
	const uint8_t *b = &a->s6_addr[12];

	return util_addr_is_v4(a) && b[0] != 0 && b[0] != 127 && b[0] < 224;
}

/*
 * PEER (RFC 6887 §12): the external address and port of an outbound flow,
 * so the client can keep it alive, and a pin in the kernel (an SNAT map
 * element keyed by the 5-tuple) so the flow leaves with that port even if
 * it is re-created. The table picks the port: the one an open flow already
 * leaves by, else one that no other endpoint's inbound mapping and no other
 * pin towards the same remote end holds (CANNOT_PROVIDE_EXTERNAL when the
 * open flow's own port is such a one).
 */
static enum pcp_result
pcp_peer(struct pcp_srv *s, const struct pcp_srv_pkt *p, const struct pcp_request *q,
    struct pcp_response *resp)
{
	struct mt_peer_req r;
	struct mt_entry *e;
	char nonce[2 * PCP_WIRE_NONCE_LEN + 1];
	struct mt_actor actor;
	struct in6_addr internal;
	enum pcp_result res;
	enum mt_err err;

	if ((res = pcp_internal(s, p, q, &internal)) != PCP_RES_SUCCESS)
		return res;
	if (q->protocol != IPPROTO_TCP && q->protocol != IPPROTO_UDP)
		return PCP_RES_UNSUPP_PROTOCOL;
	pcp_hex(q->nonce, sizeof(q->nonce), nonce);
	pcp_actor(p, nonce, &actor);
	if (!util_addr_is_v4(&internal))
		return pcp_pin_peer(s, &actor, &internal, q, resp);
	if (q->internal_port == 0 || q->peer_port == 0 || !pcp_peer_addr_ok(&q->peer_addr))
		return PCP_RES_MALFORMED_REQUEST;
	if (netif_client_ok(s->ctx->netif, &q->peer_addr, NULL, 0) ||
	    netif_is_lan_local(s->ctx->netif, &q->peer_addr))
		return PCP_RES_NOT_AUTHORIZED;	/* a LAN flow never leaves by the WAN */
	memset(&r, 0, sizeof(r));
	r.actor = &actor;		/* another nonce's pin: the table refuses it */
	r.proto = q->protocol == IPPROTO_TCP ? MT_TCP : MT_UDP;
	r.source = MT_SRC_PCP;
	r.int_addr = internal;
	r.int_port = q->internal_port;
	r.peer_addr = q->peer_addr;
	r.peer_port = q->peer_port;
	r.ext_addr = pcp_snat_addr(s);
	r.owner = nonce;
	if (q->lifetime == 0) {		/* the client is done with the flow */
		e = mtable_lookup_peer(s->ctx->mt, r.proto, &r.int_addr, r.int_port, &r.peer_addr,
		    r.peer_port);
		if (e != NULL && (err = mtable_del_by(s->ctx->mt, &actor, e)) != MT_OK)
			return pcp_result_of(err);
		resp->ext_port = r.int_port;
		resp->ext_addr = r.ext_addr;
		return PCP_RES_SUCCESS;
	}
	r.lease_s = pcp_lifetime(s, q->lifetime);
	if ((err = mtable_peer(s->ctx->mt, &r, &e)) == MT_OK)
		err = pcp_land(s, e);
	if (err != MT_OK)
		return pcp_result_of(err);
	resp->ext_port = e->ext_port;
	resp->ext_addr = s->ctx->cfg->external_ip;
	resp->lifetime = pcp_granted(s, e);
	return PCP_RES_SUCCESS;
}

static void pcp_deliver(struct pcp_srv *, struct pcp_answer *, const uint8_t *, size_t);
static void pcp_answer_wait(struct pcp_srv *, struct pcp_answer *);

/* A PCP answer's last step: counted, error lifetime and log for a refusal, encoded, sent. */
static void
pcp_answer_send(struct pcp_srv *s, struct pcp_answer *a)
{
	uint8_t out[PCP_WIRE_MAX_LEN];

	if (a->q.opcode < PCP_OPCODE_COUNT && a->resp.result < PCP_RESULT_COUNT)
		s->stats.pcp[a->q.opcode][a->resp.result]++;
	if (a->resp.result != PCP_RES_SUCCESS) {
		a->resp.lifetime = pcp_wire_error_lifetime(a->resp.result);
		pcp_debug(s, &a->src, "PCP request", pcp_wire_result_name(a->resp.result));
	}
	pcp_deliver(s, a, out, pcp_wire_encode_response(&a->q, &a->resp, out,
	    sizeof(out)));
}

static void
pcp_handle(struct pcp_srv *s, const struct pcp_srv_pkt *p, struct pcp_answer *a)
{
	struct pcp_request *q = &a->q;
	struct pcp_response *resp = &a->resp;
	uint8_t out[PCP_WIRE_MAX_LEN];
	enum pcp_result err;
	enum pcp_wire_status st;

	st = pcp_wire_decode(p->buf, p->len, q, &err);
	if (st == PCP_WIRE_DROP) {
		s->stats.dropped++;
		pcp_debug(s, &p->src, "PCP request dropped", q->reason ? q->reason : "?");
		return;
	}
	memset(resp, 0, sizeof(*resp));
	resp->epoch = pcp_srv_epoch(s);
	if (st == PCP_WIRE_ERROR) {
		s->stats.pcp_other++;
		pcp_debug(s, &p->src, "PCP request refused", pcp_wire_result_name(err));
		pcp_deliver(s, a, out, pcp_wire_encode_error(p->buf, p->len, err,
		    pcp_wire_error_lifetime(err), resp->epoch, out, sizeof(out)));
		return;
	}
	s->landing = NULL;
	/* an IPv4 MAP needs the external address; an IPv6 one (a pinhole) does not */
	if (!s->ctx->cfg->pcp || (q->opcode == PCP_OP_MAP && !s->ctx->cfg->has_external_ip &&
	    util_addr_is_v4(&p->src)))
		resp->result = s->ctx->cfg->pcp ? PCP_RES_NETWORK_FAILURE : PCP_RES_NOT_AUTHORIZED;
	else if (memcmp(&q->client, &p->src, sizeof(p->src)) != 0)
		resp->result = PCP_RES_ADDRESS_MISMATCH;	/* §8.2: whatever the opcode */
	else if (q->opcode == PCP_OP_MAP)
		resp->result = pcp_map(s, p, q, resp);
	else if (q->opcode == PCP_OP_PEER)
		resp->result = pcp_peer(s, p, q, resp);
	else
		resp->result = PCP_RES_SUCCESS;		/* ANNOUNCE */
	if (resp->result == PCP_RES_SUCCESS && s->landing != NULL)
		pcp_answer_wait(s, a);
	else
		pcp_answer_send(s, a);
}

/* ---- NAT-PMP ---- */

/*
 * Lifetime 0 with internal port 0: delete every NAT-PMP mapping of this
 * client and protocol, which are the ones the table lets its actor delete.
 */
static void
natpmp_delete_all(struct pcp_srv *s, const struct mt_actor *a, int proto)
{
	struct mt_entry *e, *next;

	for (e = mtable_next(s->ctx->mt, NULL); e != NULL; e = next) {
		next = mtable_next(s->ctx->mt, e);
		if (e->proto == proto)
			(void)mtable_del_by(s->ctx->mt, a, e);
	}
}

static enum mt_err
natpmp_map_add(struct pcp_srv *s, const struct natpmp_request *q, const struct mt_actor *a,
    int proto, struct mt_entry **got)
{
	const struct in6_addr *client = &a->client;
	struct mtable *mt = s->ctx->mt;
	struct mt_request r;
	uint16_t port;
	enum mt_err e;

	memset(&r, 0, sizeof(r));
	r.actor = a;
	r.proto = (uint8_t)proto;
	r.source = MT_SRC_NATPMP;
	r.ext_port = q->ext_port ? q->ext_port : q->internal_port;
	r.int_port = q->internal_port;
	r.int_addr = *client;
	r.ext_addr = s->ctx->cfg->external_ip;
	r.lease_s = pcp_lifetime(s, q->lifetime);	/* pcp_min_lifetime holds for NAT-PMP too */
	r.desc = "";
	r.replace_own = 1;
	e = mtable_add(mt, &r, got, NULL);
	if (e == MT_ERR_CONFLICT || e == MT_ERR_DENIED) {
		e = mtable_find_free(mt, r.proto, MT_SRC_NATPMP, r.ext_port, client, r.int_port,
		    &port);
		r.ext_port = port;
		if (e == MT_OK)
			e = mtable_add(mt, &r, got, NULL);
	}
	return e == MT_OK ? pcp_land(s, *got) : e;
}

static enum natpmp_result
natpmp_map(struct pcp_srv *s, const struct natpmp_request *q, const struct in6_addr *client,
    struct natpmp_response *resp)
{
	int proto = q->opcode == NATPMP_OP_MAP_TCP ? MT_TCP : MT_UDP;
	struct mt_entry *e, *got = NULL;
	struct mt_actor a;
	enum mt_err err;

	/* the sender acts for its own address only: no request names another */
	memset(&a, 0, sizeof(a));
	a.source = MT_SRC_NATPMP;
	a.client = *client;
	a.secure = 1;
	resp->ext_port = q->ext_port;
	if (q->lifetime == 0) {
		if (q->internal_port == 0)
			natpmp_delete_all(s, &a, proto);
		else if ((e = mtable_lookup_int_source(s->ctx->mt, proto, client,
		    q->internal_port, MT_SRC_NATPMP)) != NULL)
			(void)mtable_del_by(s->ctx->mt, &a, e);
		resp->ext_port = 0;
		return NATPMP_RES_SUCCESS;
	}
	if (q->internal_port == 0)
		return NATPMP_RES_NOT_AUTHORIZED;
	e = mtable_lookup_int_source(s->ctx->mt, proto, client, q->internal_port, MT_SRC_NATPMP);
	if (e != NULL) {		/* a refresh keeps its external port */
		struct natpmp_request again = *q;

		again.ext_port = e->ext_port;
		err = natpmp_map_add(s, &again, &a, proto, &got);
	} else
		err = natpmp_map_add(s, q, &a, proto, &got);
	if (err != MT_OK)
		return natpmp_result_of(err);
	resp->ext_port = got->ext_port;
	resp->lifetime = pcp_granted(s, got);
	return NATPMP_RES_SUCCESS;
}

static void
natpmp_answer_send(struct pcp_srv *s, struct pcp_answer *a)
{
	uint8_t out[PCP_WIRE_MAX_LEN];

	if (a->nq.opcode < NATPMP_OPCODE_COUNT && a->nresp.result < NATPMP_RESULT_COUNT)
		s->stats.natpmp[a->nq.opcode][a->nresp.result]++;
	if (a->nresp.result != NATPMP_RES_SUCCESS)
		pcp_debug(s, &a->src, "NAT-PMP request", natpmp_wire_result_name(a->nresp.result));
	pcp_deliver(s, a, out, natpmp_wire_encode_response(&a->nq, &a->nresp, out,
	    sizeof(out)));
}

static void
natpmp_handle(struct pcp_srv *s, const struct pcp_srv_pkt *p, struct pcp_answer *a)
{
	struct natpmp_request *q = &a->nq;
	struct natpmp_response *resp = &a->nresp;
	uint8_t out[PCP_WIRE_MAX_LEN];
	enum natpmp_result err;
	enum natpmp_wire_status st;

	a->natpmp = 1;
	st = natpmp_wire_decode(p->buf, p->len, q, &err);
	if (st == NATPMP_WIRE_DROP) {
		s->stats.dropped++;
		return;
	}
	memset(resp, 0, sizeof(*resp));
	resp->epoch = pcp_srv_epoch(s);
	if (st == NATPMP_WIRE_ERROR) {
		s->stats.natpmp_other++;
		pcp_deliver(s, a, out, natpmp_wire_encode_error(p->buf, p->len, err,
		    resp->epoch, out, sizeof(out)));
		return;
	}
	s->landing = NULL;
	if (!s->ctx->cfg->natpmp)
		resp->result = NATPMP_RES_NOT_AUTHORIZED;
	else if (!s->ctx->cfg->has_external_ip)
		resp->result = NATPMP_RES_NETWORK_FAILURE;
	else if (q->opcode == NATPMP_OP_PUBLIC_ADDR)
		resp->ext_addr = s->ctx->cfg->external_ip;
	else
		resp->result = natpmp_map(s, q, &p->src, resp);
	if (resp->result == NATPMP_RES_SUCCESS && s->landing != NULL)
		pcp_answer_wait(s, a);
	else
		natpmp_answer_send(s, a);
}

/* ---- answers: now, or once their entry is in the kernel ---- */

static void
pcp_deliver(struct pcp_srv *s, struct pcp_answer *a, const uint8_t *buf, size_t len)
{
	if (a->dest.family != 0)
		pcp_sock_send(s->sock, &a->dest, buf, len);
	else if (a->sink != NULL) {
		a->sink->done = 1;
		if (len > 0 && len <= a->sink->outlen) {
			memcpy(a->sink->out, buf, len);
			a->sink->olen = len;
		}
	}
}

/*
 * The entry landed (ok) or the kernel refused it: then the answer is what the
 * front end would have said had the change failed on the spot (the mapping
 * was rolled back), with the fields it had before the mapping existed.
 */
static void
pcp_landed(void *arg, int err)
{
	struct pcp_answer *a = arg;
	struct pcp_srv *s = a->srv;

	if ((*a->prevp = a->next) != NULL)
		a->next->prevp = a->prevp;
	if (a->natpmp) {
		if (err != 0) {
			a->nresp.result = natpmp_result_of(MT_ERR_FIREWALL);
			a->nresp.ext_port = a->nq.ext_port;
			a->nresp.lifetime = 0;
		}
		natpmp_answer_send(s, a);
	} else {
		if (err != 0) {
			a->resp.result = pcp_result_of(MT_ERR_FIREWALL);
			if (util_addr_is_v4(&a->src)) {	/* a pinhole's answer names the host */
				memset(&a->resp.ext_addr, 0, sizeof(a->resp.ext_addr));
				a->resp.ext_port = 0;
			}
		}
		pcp_answer_send(s, a);
	}
	free(a);
}

/* The answer waits for s->landing to reach the kernel: one batch for the loop turn. */
static void
pcp_answer_wait(struct pcp_srv *s, struct pcp_answer *a)
{
	struct pcp_answer *w;
	const struct mt_entry *e = s->landing;

	s->landing = NULL;
	if ((w = malloc(sizeof(*w))) == NULL) {
		/* the entry is in the table and reaches the kernel anyway: a retry refreshes it */
		if (a->natpmp) {
			a->nresp.result = NATPMP_RES_NO_RESOURCES;
			natpmp_answer_send(s, a);
		} else {
			a->resp.result = PCP_RES_NO_RESOURCES;
			pcp_answer_send(s, a);
		}
		return;
	}
	*w = *a;
	w->srv = s;
	if ((w->next = s->pending) != NULL)
		w->next->prevp = &w->next;
	w->prevp = &s->pending;
	s->pending = w;
	mtable_commit_entry(s->ctx->mt, e, s, pcp_landed, w);
}

static void
pcp_srv_answer(struct pcp_srv *s, const struct pcp_srv_pkt *p, struct pcp_answer *a)
{
	a->srv = s;
	a->src = p->src;
	if (p->len < 1)
		return;
	if (!pcp_rate_ok(s, &p->src)) {
		s->stats.dropped++;
		pcp_debug(s, &p->src, "request", "over the rate limit");
		return;
	}
	if (p->buf[0] == NATPMP_WIRE_VERSION)
		natpmp_handle(s, p, a);
	else
		pcp_handle(s, p, a);
}

/*
 * The socket-free entry (tests, the fuzzer): with a table that commits at
 * once (no scheduler) the answer is in out on return. Were it to wait, it
 * would be dropped when it lands: out is the caller's.
 */
size_t
pcp_srv_handle(struct pcp_srv *s, const struct pcp_srv_pkt *p, uint8_t *out, size_t outlen)
{
	struct pcp_sink sink = { out, outlen, 0, 0 };
	struct pcp_answer a;
	struct pcp_answer *w;

	memset(&a, 0, sizeof(a));
	a.sink = &sink;
	pcp_srv_answer(s, p, &a);
	for (w = s->pending; w != NULL; w = w->next)	/* still waiting: out is not its to keep */
		if (w->sink == &sink)
			w->sink = NULL;
	return sink.olen;
}

/* A datagram from a LAN host (pcp_sock): PCP over either family, NAT-PMP over IPv4. */
static void
pcp_srv_datagram(void *arg, const struct pcp_sock_dgram *g)
{
	struct pcp_srv *s = arg;
	struct pcp_srv_pkt p;
	struct pcp_answer a;

	/* PCP only over IPv6: NAT-PMP is IPv4's (RFC 6886), and is not answered there */
	if (g->reply.family == AF_INET6 && g->len >= 1 && g->buf[0] == NATPMP_WIRE_VERSION) {
		s->stats.dropped++;
		return;
	}
	memset(&p, 0, sizeof(p));
	p.buf = g->buf;
	p.len = g->len;
	p.src = g->src;
	p.sport = g->sport;
	p.dst = g->dst;
	memset(&a, 0, sizeof(a));
	a.dest = g->reply;
	pcp_srv_answer(s, &p, &a);
}

/* ---- announcements ---- */

/* An unsolicited ANNOUNCE to ff02::1 port 5350 on a LAN interface with IPv6. */
static void
pcp_announce6(struct pcp_srv *s, const struct netif_prefix *p)
{
	struct sockaddr_storage ss;
	struct pcp_dest d;
	uint8_t pkt[64];
	size_t len;

	if (!pcp_sock_has6(s->sock) || !s->ctx->cfg->pcp ||
	    (len = pcp_wire_encode_announce(pcp_srv_epoch(s), pkt, sizeof(pkt))) == 0 ||
	    pcp_wire_announce_dest(AF_INET6, &ss) == 0)
		return;
	memset(&d, 0, sizeof(d));
	d.family = AF_INET6;
	memcpy(&d.to6, &ss, sizeof(d.to6));
	d.to6.sin6_scope_id = p->ifindex;
	d.ifindex = p->ifindex;		/* from the interface's own address */
	pcp_sock_send(s->sock, &d, pkt, len);
	s->stats.announces++;
}

/* 1 if prefix i is the first IPv6 prefix of its interface. */
static int
pcp_first_v6_prefix(const struct netif_prefix *p, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (p[j].ifindex == p[i].ifindex && !util_addr_is_v4(&p[j].local))
			return 0;
	return 1;
}

static void
pcp_announce_once(struct pcp_srv *s)
{
	const struct netif_prefix *p;
	struct sockaddr_storage ss;
	struct pcp_dest d;
	uint8_t pkt[64];
	size_t i, n = netif_lan_prefixes(s->ctx->netif, &p), len;

	for (i = 0; i < n; i++) {
		if (!util_addr_is_v4(&p[i].local)) {
			if (pcp_first_v6_prefix(p, i))	/* one ANNOUNCE per interface */
				pcp_announce6(s, &p[i]);
			continue;
		}
		memset(&d, 0, sizeof(d));
		d.family = AF_INET;
		memcpy(&d.from, &p[i].local.s6_addr[12], 4);
		d.ifindex = p[i].ifindex;
		if (s->ctx->cfg->pcp && (len = pcp_wire_encode_announce(pcp_srv_epoch(s), pkt,
		    sizeof(pkt))) > 0 && pcp_wire_announce_dest(AF_INET, &ss) > 0) {
			memcpy(&d.to, &ss, sizeof(d.to));
			pcp_sock_send(s->sock, &d, pkt, len);
			s->stats.announces++;
		}
		if (s->ctx->cfg->natpmp && s->ctx->cfg->has_external_ip &&
		    (len = natpmp_wire_encode_announce(pcp_srv_epoch(s), &s->ctx->cfg->external_ip,
		    pkt, sizeof(pkt))) > 0 && natpmp_wire_announce_dest(&ss) > 0) {
			memcpy(&d.to, &ss, sizeof(d.to));
			pcp_sock_send(s->sock, &d, pkt, len);
			s->stats.announces++;
		}
	}
}

static void
pcp_announce_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct pcp_srv *s = arg;
	struct timeval tv;

	(void)fd;
	(void)ev;
	pcp_announce_once(s);
	if (--s->announce_left == 0)
		return;
	s->announce_gap_ms *= 2;
	tv.tv_sec = (time_t)(s->announce_gap_ms / 1000);
	tv.tv_usec = (suseconds_t)(s->announce_gap_ms % 1000) * 1000;
	evtimer_add(s->announce_ev, &tv);
}

static void
pcp_announce_start(struct pcp_srv *s)
{
	struct timeval now = { 0, 0 };

	if (s->announce_ev == NULL)
		return;
	s->announce_left = PCP_ANNOUNCE_TIMES;
	s->announce_gap_ms = PCP_ANNOUNCE_FIRST_MS / 2;	/* doubled before the second */
	evtimer_add(s->announce_ev, &now);
}

void
pcp_srv_reset_epoch(struct pcp_srv *s)
{
	if (s == NULL)
		return;
	s->epoch_mono0 = pcp_now(s);
	s->epoch_off = 0;
	s->ctx->meta.epoch_start = time(NULL);
	log_info("pcp: epoch restarts at 0");
	pcp_announce_start(s);
}

/* Where the epoch stands: continued from the state file, or from now. */
static void
pcp_epoch_init(struct pcp_srv *s)
{
	time_t now = time(NULL), start = s->ctx->meta.epoch_start;

	/* lost or damaged state (or a clock gone backwards): mappings may be gone */
	if (!s->ctx->meta.complete || start <= 0 || start > now)
		start = s->ctx->meta.epoch_start = now;
	s->epoch_off = (uint32_t)(now - start);
	s->epoch_mono0 = pcp_now(s);
}

struct pcp_srv *
pcp_srv_new(struct pg_ctx *ctx)
{
	struct pcp_srv *s = xcalloc(1, sizeof(*s));

	s->ctx = ctx;
	if (getrandom(&s->rate_seed, sizeof(s->rate_seed), GRND_NONBLOCK) !=
	    sizeof(s->rate_seed))
		s->rate_seed = (uint32_t)util_mono_ms() * 2654435761u;
	log_limit_init(&s->log_limit, 10000, 50);
	pcp_epoch_init(s);
	if (ctx->base == NULL)
		return s;		/* tests and the fuzzer: the core without a socket */
	if ((s->sock = pcp_sock_new(ctx, pcp_srv_datagram, s, &s->stats.dropped)) == NULL ||
	    (s->announce_ev = evtimer_new(ctx->base, pcp_announce_cb, s)) == NULL) {
		pcp_srv_free(s);
		return NULL;
	}
	pcp_announce_start(s);
	log_info("pcp: PCP %s, NAT-PMP %s on UDP %d, epoch %u", ctx->cfg->pcp ? "on" : "off",
	    ctx->cfg->natpmp ? "on" : "off", PCP_SOCK_PORT, pcp_srv_epoch(s));
	return s;
}

void
pcp_srv_free(struct pcp_srv *s)
{
	struct pcp_answer *a;

	if (s == NULL)
		return;
	mtable_commit_cancel(s->ctx->mt, s);	/* answers still waiting are not sent */
	while ((a = s->pending) != NULL) {
		s->pending = a->next;
		free(a);
	}
	pcp_sock_free(s->sock);
	if (s->announce_ev != NULL)
		event_free(s->announce_ev);
	free(s);
}

void
pcp_srv_status(const struct pcp_srv *s, pg_status_emit *emit, void *arg)
{
	static const char *const pops[PCP_OPCODE_COUNT] = { "announce", "map", "peer" };
	static const char *const nops[NATPMP_OPCODE_COUNT] = { "public_address", "map_udp",
	    "map_tcp" };
	const struct pcp_srv_stats *st;
	int op, res;

	emit(arg, "pcp", "%s", s != NULL && s->ctx->cfg->pcp ? "on" : "off");
	emit(arg, "natpmp", "%s", s != NULL && s->ctx->cfg->natpmp ? "on" : "off");
	if (s == NULL)
		return;
	st = &s->stats;
	emit(arg, "pcp_epoch", "%u", pcp_srv_epoch(s));
	emit(arg, "peer_pins", "%zu", mtable_peer_count(s->ctx->mt));
	for (op = 0; op < PCP_OPCODE_COUNT; op++)
		for (res = 0; res < PCP_RESULT_COUNT; res++)
			if (st->pcp[op][res] != 0)
				emit(arg, "pcp_requests", "%s %s %llu", pops[op],
				    pcp_wire_result_name((enum pcp_result)res),
				    (unsigned long long)st->pcp[op][res]);
	for (op = 0; op < NATPMP_OPCODE_COUNT; op++)
		for (res = 0; res < NATPMP_RESULT_COUNT; res++)
			if (st->natpmp[op][res] != 0)
				emit(arg, "natpmp_requests", "%s %s %llu", nops[op],
				    natpmp_wire_result_name((enum natpmp_result)res),
				    (unsigned long long)st->natpmp[op][res]);
	emit(arg, "pcp_malformed", "%llu", (unsigned long long)st->pcp_other);
	emit(arg, "natpmp_malformed", "%llu", (unsigned long long)st->natpmp_other);
	emit(arg, "pcp_dropped", "%llu", (unsigned long long)st->dropped);
	emit(arg, "pcp_announces", "%llu", (unsigned long long)st->announces);
}
