/*
 * pcp_server.c - PCP and NAT-PMP on UDP 5351, a thin front end of the
 * mapping table.
 *
 * In layers: pcp_sock.c below holds the sockets and hands up what a LAN
 * host sent to a LAN interface (the answer leaves from the address the
 * request was sent to); pcp_op.c below turns PCP's MAP and PEER and
 * NAT-PMP's MAP into the table's calls. This file decodes (pcp_wire,
 * natpmp_wire), counts, limits each host's rate and answers, at once or
 * when the request's entry is in the kernel; it keeps the epoch, announces
 * it and reports its status. pcp_srv_handle is the same without a socket
 * (tests, the fuzzer). The first octet routes: version 2 is PCP, 0 is
 * NAT-PMP (over IPv4 only), anything else is answered as PCP's
 * UNSUPP_VERSION. Every mapping is a `pcp` entry (owner: the nonce) or a
 * `natpmp` entry (owner: none, the client's address says whose) of the one
 * table; conflicts, quotas, allow/deny, lease caps and who may change an
 * entry are the table's. A new mapping is committed to the kernel before
 * the client hears of it.
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
#include "event.h"
#include "log.h"
#include "neigh.h"
#include "mtable.h"
#include "netif.h"
#include "pcp/natpmp_wire.h"
#include "pcp/pcp_op.h"
#include "pcp/pcp_server.h"
#include "pcp/pcp_sock.h"
#include "pcp/pcp_wire.h"
#include "upstream.h"
#include "util.h"

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
	struct pcp_answer	*pending;	/* answers waiting for their entries to land */
	struct evbus		*events;	/* refusals are posted here (the context's) */
};

static const char *const pcp_op_names[PCP_OPCODE_COUNT] = { "announce", "map", "peer" };
static const char *const natpmp_op_names[NATPMP_OPCODE_COUNT] = { "public_address", "map_udp",
    "map_tcp" };

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
	uint64_t		 id;		/* the entry it waits for */
	struct pcp_dest		 dest;		/* a socket's (pcp_sock), or family 0: */
	struct pcp_sink		*sink;		/* a caller's buffer (NULL: its caller has gone) */
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

static void
pcp_debug(struct pcp_srv *s, const struct in6_addr *who, const char *what, const char *why)
{
	char a[INET6_ADDRSTRLEN];

	if (log_limit_pass(&s->log_limit, util_mono_ms()))
		log_debug("pcp: %s from %s: %s", what, util_addr_str(who, a, sizeof(a)), why);
}

/* A result's name as a token for counters and events: "NOT_AUTHORIZED" as not_authorized. */
static const char *
pcp_token(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < len; i++)
		buf[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
	buf[i] = '\0';
	return buf;
}

/* A refused request on the event bus: protocol, sender, opcode, the result's token. */
static void
pcp_post_refusal(struct pcp_srv *s, const char *protocol, const struct in6_addr *src,
    const char *op, const char *result)
{
	char tok[EV_WORD_MAX];

	evbus_refused(s->events, protocol, src, op, pcp_token(result, tok, sizeof(tok)), result);
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

static void pcp_deliver(struct pcp_srv *, struct pcp_answer *, const uint8_t *, size_t);
static void pcp_answer_wait(struct pcp_srv *, struct pcp_answer *, const struct mt_entry *);

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
		pcp_post_refusal(s, "pcp", &a->src, a->q.opcode < PCP_OPCODE_COUNT ?
		    pcp_op_names[a->q.opcode] : "unknown", pcp_wire_result_name(a->resp.result));
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
	struct pcp_op op = { s->ctx, NULL };
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
		pcp_post_refusal(s, "pcp", &p->src, "unknown", pcp_wire_result_name(err));
		pcp_deliver(s, a, out, pcp_wire_encode_error(p->buf, p->len, err,
		    pcp_wire_error_lifetime(err), resp->epoch, out, sizeof(out)));
		return;
	}
	/* an IPv4 MAP needs the external address; an IPv6 one (a pinhole) does not */
	if (!s->ctx->cfg->pcp || (q->opcode == PCP_OP_MAP && !s->ctx->cfg->has_external_ip &&
	    util_addr_is_v4(&p->src)))
		resp->result = s->ctx->cfg->pcp ? PCP_RES_NETWORK_FAILURE : PCP_RES_NOT_AUTHORIZED;
	else if (memcmp(&q->client, &p->src, sizeof(p->src)) != 0)
		resp->result = PCP_RES_ADDRESS_MISMATCH;	/* §8.2: whatever the opcode */
	else if (q->opcode == PCP_OP_MAP)
		resp->result = pcp_op_map(&op, &p->src, q, resp);
	else if (q->opcode == PCP_OP_PEER)
		resp->result = pcp_op_peer(&op, &p->src, q, resp);
	else
		resp->result = PCP_RES_SUCCESS;		/* ANNOUNCE */
	if (resp->result == PCP_RES_SUCCESS && op.landing != NULL)
		pcp_answer_wait(s, a, op.landing);
	else
		pcp_answer_send(s, a);
}

/* ---- NAT-PMP ---- */

static void
natpmp_answer_send(struct pcp_srv *s, struct pcp_answer *a)
{
	uint8_t out[PCP_WIRE_MAX_LEN];

	if (a->nq.opcode < NATPMP_OPCODE_COUNT && a->nresp.result < NATPMP_RESULT_COUNT)
		s->stats.natpmp[a->nq.opcode][a->nresp.result]++;
	if (a->nresp.result != NATPMP_RES_SUCCESS) {
		pcp_debug(s, &a->src, "NAT-PMP request", natpmp_wire_result_name(a->nresp.result));
		pcp_post_refusal(s, "natpmp", &a->src, a->nq.opcode < NATPMP_OPCODE_COUNT ?
		    natpmp_op_names[a->nq.opcode] : "unknown",
		    natpmp_wire_result_name(a->nresp.result));
	}
	pcp_deliver(s, a, out, natpmp_wire_encode_response(&a->nq, &a->nresp, out,
	    sizeof(out)));
}

static void
natpmp_handle(struct pcp_srv *s, const struct pcp_srv_pkt *p, struct pcp_answer *a)
{
	struct natpmp_request *q = &a->nq;
	struct natpmp_response *resp = &a->nresp;
	uint8_t out[PCP_WIRE_MAX_LEN];
	struct pcp_op op = { s->ctx, NULL };
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
		pcp_post_refusal(s, "natpmp", &p->src, "unknown", natpmp_wire_result_name(err));
		pcp_deliver(s, a, out, natpmp_wire_encode_error(p->buf, p->len, err,
		    resp->epoch, out, sizeof(out)));
		return;
	}
	if (!s->ctx->cfg->natpmp)
		resp->result = NATPMP_RES_NOT_AUTHORIZED;
	else if (!s->ctx->cfg->has_external_ip)
		resp->result = NATPMP_RES_NETWORK_FAILURE;
	else if (q->opcode == NATPMP_OP_PUBLIC_ADDR)
		(void)upstream_public_addr(s->ctx, &resp->ext_addr);	/* the upstream's, if it gives one */
	else
		resp->result = natpmp_op_map(&op, q, &p->src, resp);
	if (resp->result == NATPMP_RES_SUCCESS && op.landing != NULL)
		pcp_answer_wait(s, a, op.landing);
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
 * The entry landed (err 0) or the kernel refused it: then the answer is the
 * refusal the front end gives when a change fails (the mapping was rolled
 * back).
 */
static void
pcp_answer_done(struct pcp_srv *s, struct pcp_answer *a)
{
	if ((*a->prevp = a->next) != NULL)
		a->next->prevp = a->prevp;
	if (a->natpmp)
		natpmp_answer_send(s, a);
	else
		pcp_answer_send(s, a);
	free(a);
}

/* NAT-PMP's word for an upstream server's refusal. */
static enum natpmp_result
natpmp_of_upstream(enum pcp_result r)
{
	switch (r) {
	case PCP_RES_NOT_AUTHORIZED:
		return NATPMP_RES_NOT_AUTHORIZED;
	case PCP_RES_NO_RESOURCES:
	case PCP_RES_USER_EX_QUOTA:
	case PCP_RES_CANNOT_PROVIDE_EXTERNAL:
		return NATPMP_RES_NO_RESOURCES;
	default:
		return NATPMP_RES_NETWORK_FAILURE;
	}
}

/*
 * What the upstream made of the entry (RFC 7648): its external address and
 * port and the shorter lifetime, or its refusal (the entry was deleted here
 * too). Pending or lost upstream: the gateway's own answer.
 */
static void
pcp_upstream_landed(void *arg, const struct up_landing *l)
{
	struct pcp_answer *a = arg;
	const struct up_view *v = &l->view;

	if (l->refused && a->natpmp) {
		a->nresp.result = natpmp_of_upstream(v->result);
		a->nresp.ext_port = a->nq.ext_port;
		a->nresp.lifetime = 0;
	} else if (l->refused) {
		a->resp.result = v->result > PCP_RES_SUCCESS && v->result < PCP_RESULT_COUNT ?
		    v->result : PCP_RES_NO_RESOURCES;
		a->resp.lifetime = pcp_wire_error_lifetime(a->resp.result);
	} else if (l->has_view && v->state == PCPC_GRANTED && a->natpmp) {
		a->nresp.ext_port = v->ext_port;
		if (v->lifetime < a->nresp.lifetime)
			a->nresp.lifetime = v->lifetime;
	} else if (l->has_view && v->state == PCPC_GRANTED) {
		a->resp.ext_addr = v->ext_addr;
		a->resp.ext_port = v->ext_port;
		if (v->lifetime < a->resp.lifetime)
			a->resp.lifetime = v->lifetime;
	}
	pcp_answer_done(a->srv, a);
}

/*
 * The entry landed (err 0): the answer waits for the upstream's, if one is
 * asked (upstream_await); or the kernel refused it: then the answer is the
 * refusal the front end gives when a change fails (the mapping was rolled
 * back).
 */
static void
pcp_landed(void *arg, int err)
{
	struct pcp_answer *a = arg;
	struct pcp_srv *s = a->srv;

	if (err == 0) {
		upstream_await(s->ctx->up, a->id, s, pcp_upstream_landed, a);
		return;
	}
	/*
	 * A refusal: PCP's wire format answers an error with the request's
	 * fields; NAT-PMP's carries the port asked for and lifetime 0.
	 */
	if (a->natpmp) {
		a->nresp.result = natpmp_op_result_of(MT_ERR_FIREWALL);
		a->nresp.ext_port = a->nq.ext_port;
		a->nresp.lifetime = 0;
	} else
		a->resp.result = pcp_op_result_of(MT_ERR_FIREWALL);
	pcp_answer_done(s, a);
}

/* The answer waits for e to reach the kernel: one batch for the loop turn. */
static void
pcp_answer_wait(struct pcp_srv *s, struct pcp_answer *a, const struct mt_entry *e)
{
	struct pcp_answer *w;

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
	w->id = e->id;
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
	struct in6_addr pub;
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
		if (s->ctx->cfg->natpmp && upstream_public_addr(s->ctx, &pub) &&
		    (len = natpmp_wire_encode_announce(pcp_srv_epoch(s), &pub,
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
	s->events = ctx->events;
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
	upstream_await_cancel(s->ctx->up, s);
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
	const char *const *pops = pcp_op_names, *const *nops = natpmp_op_names;
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

/* requests_total of one protocol: its counters by opcode and result, the non-zero ones. */
static void
pcp_metrics_requests(const char *protocol, const uint64_t *counts, int nops, int nres,
    const char *const *ops, const char *(*result_name)(int), pg_metric_emit *emit, void *arg)
{
	const char *labels[7] = { "protocol", protocol, "action", NULL, "result", NULL, NULL };
	char tok[EV_WORD_MAX];
	int op, res;

	for (op = 0; op < nops; op++)
		for (res = 0; res < nres; res++) {
			if (counts[op * nres + res] == 0)
				continue;
			labels[3] = ops[op];
			labels[5] = pcp_token(result_name(res), tok, sizeof(tok));
			emit(arg, "requests_total", labels, (double)counts[op * nres + res], NULL);
		}
}

static const char *
pcp_result_name(int res)
{
	return pcp_wire_result_name((enum pcp_result)res);
}

static const char *
natpmp_result_name(int res)
{
	return natpmp_wire_result_name((enum natpmp_result)res);
}

void
pcp_srv_metrics(const struct pcp_srv *s, pg_metric_emit *emit, void *arg)
{
	const char *pcp[3] = { "protocol", "pcp", NULL }, *natpmp[3] = { "protocol", "natpmp",
	    NULL };
	const struct pcp_srv_stats *st;

	if (s == NULL)
		return;
	st = &s->stats;
	pcp_metrics_requests("pcp", &st->pcp[0][0], PCP_OPCODE_COUNT, PCP_RESULT_COUNT,
	    pcp_op_names, pcp_result_name, emit, arg);
	pcp_metrics_requests("natpmp", &st->natpmp[0][0], NATPMP_OPCODE_COUNT,
	    NATPMP_RESULT_COUNT, natpmp_op_names, natpmp_result_name, emit, arg);
	emit(arg, "pcp_malformed_total", pcp, (double)st->pcp_other, NULL);
	emit(arg, "pcp_malformed_total", natpmp, (double)st->natpmp_other, NULL);
	emit(arg, "pcp_dropped_total", NULL, (double)st->dropped, NULL);
}
