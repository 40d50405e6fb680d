/*
 * pcp_op.c - PCP's MAP and PEER and NAT-PMP's MAP as calls of the mapping
 * table, under pcp_server.c (which decodes, counts and answers).
 *
 * A request's actor is PCP with the sender and its nonce as the owner
 * token, or NAT-PMP for the sender's own address; conflicts, quotas,
 * allow/deny, lease caps and who may change an entry are the table's, and
 * its errors become the protocols' result codes here, in one place. From
 * an IPv6 host (no NAT) MAP and PEER open pinholes. A new or changed entry
 * is left in op->landing: the answer waits until it is in the kernel.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "mtable.h"
#include "netif.h"
#include "pcp/natpmp_wire.h"
#include "pcp/pcp_op.h"
#include "pcp/pcp_wire.h"
#include "util.h"
#include "wanaddr.h"

/* One MAP being served. */
struct pcp_map {
	struct pcp_op		*op;
	const struct pcp_request *req;
	struct pcp_response	*resp;
	struct in6_addr		 internal;	/* the source, or THIRD_PARTY's address */
	char			 nonce[2 * PCP_WIRE_NONCE_LEN + 1];
	struct mt_actor		 actor;		/* the sender, with the nonce as its owner token */
	struct mt_filter	 filters[MT_MAX_FILTERS];
	size_t			 nfilters;
	int			 set_filters;
};

/* ---- the table's answers, in the protocols' words (one place) ---- */

enum pcp_result
pcp_op_result_of(enum mt_err e)
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

enum natpmp_result
natpmp_op_result_of(enum mt_err e)
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
pcp_land(struct pcp_op *op, const struct mt_entry *e)
{
	op->landing = e;
	return MT_OK;
}

/* Lifetime asked for, clamped to [pcp_min_lifetime, ...]; the table caps it at max_lease. */
static uint32_t
pcp_lifetime(const struct pcp_op *op, uint32_t asked)
{
	uint32_t min = op->ctx->cfg->pcp_min_lifetime;

	return asked < min ? min : asked;
}

static uint32_t
pcp_granted(const struct pcp_op *op, const struct mt_entry *e)
{
	long left = mtable_remaining(op->ctx->mt, e);

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
pcp_actor(const struct in6_addr *src, const char *nonce, struct mt_actor *a)
{
	memset(a, 0, sizeof(*a));
	a->source = MT_SRC_PCP;
	a->client = *src;
	a->owner = nonce;
}

/* FILTER options as table filters: a prefix length of 0 clears them (RFC 6887 §13.3). */
static enum pcp_result
pcp_map_filters(struct pcp_map *m)
{
	const struct pcp_request *q = m->req;
	unsigned i;

	m->set_filters = q->nfilter > 0;
	if (q->nfilter > m->op->ctx->cfg->pcp_max_filters || q->nfilter > MT_MAX_FILTERS)
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
pcp_internal(const struct pcp_op *op, const struct in6_addr *src, const struct pcp_request *q,
    struct in6_addr *internal)
{
	*internal = *src;
	if (!q->has_third_party)
		return PCP_RES_SUCCESS;
	if (memcmp(&q->third_party, src, sizeof(*src)) == 0)
		return PCP_RES_MALFORMED_REQUEST;
	if (!op->ctx->cfg->pcp_allow_third_party)
		return PCP_RES_UNSUPP_OPTION;
	if (!mtable_client_ok(op->ctx->mt, &q->third_party, NULL, 0))
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
	r->ext_addr = m->op->ctx->cfg->external_ip;
	r->lease_s = pcp_lifetime(m->op, m->req->lifetime);
	r->desc = "";
	r->owner = m->nonce;
	r->filters = m->filters;
	r->nfilters = m->nfilters;
	r->set_filters = m->set_filters;
	r->fixed = m->req->prefer_failure ? MT_PORT_FIXED : MT_PORT_ANY;	/* relayed upstream */
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
	return m->op->ctx->cfg->has_external_ip &&
	    memcmp(&m->req->ext_addr, &m->op->ctx->cfg->external_ip, sizeof(v4any)) == 0;
}

/* A new mapping: the suggested port, else (without PREFER_FAILURE) a free one near it. */
static enum pcp_result
pcp_map_create(struct pcp_map *m, struct mt_entry **out)
{
	struct mtable *mt = m->op->ctx->mt;
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
		e = pcp_land(m->op, *out);
	return pcp_op_result_of(e);
}

static enum pcp_result
pcp_map_refresh(struct pcp_map *m, struct mt_entry *e, struct mt_entry **out)
{
	struct mt_request r;
	enum mt_err err;

	pcp_map_request(m, &r, e->ext_port);
	if ((err = mtable_add(m->op->ctx->mt, &r, out, NULL)) == MT_OK)
		err = pcp_land(m->op, *out);
	return pcp_op_result_of(err);
}

/* ---- IPv6: no NAT, so MAP and PEER open pinholes (RFC 6887 §11.1, §12 for a firewall) ---- */

/* One pinhole of this client's nonce: created, refreshed or (lifetime 0) closed. */
static enum pcp_result
pcp_pin_apply(struct pcp_op *op, const struct mt_pin_req *r, uint32_t lifetime,
    struct pcp_response *resp)
{
	struct mt_entry *e;
	enum mt_err err;

	if (!op->ctx->cfg->pcp_pinholes)
		return PCP_RES_NOT_AUTHORIZED;
	resp->ext_addr = r->int_addr;		/* seen from outside as it is */
	resp->ext_port = r->int_port;
	/* another nonce's pinhole on the key (or not PCP's) is refused by the table */
	if (lifetime == 0) {
		e = mtable_pinhole_find(op->ctx->mt, r->proto, &r->int_addr, r->int_port,
		    &r->remote);
		if (e != NULL && (err = mtable_del_by(op->ctx->mt, r->actor, e)) != MT_OK)
			return pcp_op_result_of(err);
		resp->lifetime = 0;
		return PCP_RES_SUCCESS;
	}
	if ((err = mtable_pinhole_add(op->ctx->mt, r, &e, NULL)) == MT_OK)
		err = pcp_land(op, e);
	if (err != MT_OK)
		return pcp_op_result_of(err);
	resp->lifetime = pcp_granted(op, e);
	return PCP_RES_SUCCESS;
}

static void
pcp_pin_req(struct pcp_op *op, const struct pcp_request *q, const struct in6_addr *internal,
    const struct mt_actor *a, struct mt_pin_req *r)
{
	memset(r, 0, sizeof(*r));
	r->actor = a;
	r->proto = q->protocol == IPPROTO_TCP ? MT_TCP : MT_UDP;
	r->source = MT_SRC_PCP;
	r->int_addr = *internal;
	r->int_port = q->internal_port;
	r->lease_s = pcp_lifetime(op, q->lifetime);
	r->desc = "";
	r->owner = a->owner;
}

/* MAP from an IPv6 host: a pinhole for anyone, or for its FILTER peers (in the kernel). */
static enum pcp_result
pcp_pin_map(struct pcp_map *m, struct pcp_response *resp)
{
	struct mt_pin_req r;

	pcp_pin_req(m->op, m->req, &m->internal, &m->actor, &r);
	r.filters = m->filters;
	r.nfilters = m->nfilters;
	r.set_filters = m->set_filters;
	return pcp_pin_apply(m->op, &r, m->req->lifetime, resp);
}

/*
 * PEER from an IPv6 host: a firewall without NAT keeps the flow's state
 * open, so this is a pinhole for that one remote address and port; the
 * external address and port are the internal ones.
 */
static enum pcp_result
pcp_pin_peer(struct pcp_op *op, const struct mt_actor *a, const struct in6_addr *internal,
    const struct pcp_request *q, struct pcp_response *resp)
{
	struct mt_pin_req r;

	if (q->internal_port == 0 || q->peer_port == 0)
		return PCP_RES_MALFORMED_REQUEST;
	if (util_addr_is_v4(&q->peer_addr))
		return PCP_RES_MALFORMED_REQUEST;
	pcp_pin_req(op, q, internal, a, &r);
	r.remote.addr = q->peer_addr;
	r.remote.plen = 128;
	r.remote.port = q->peer_port;
	/* a peer on the LAN side (or not unicast) is the table's rule; PCP says NOT_AUTHORIZED */
	if (!mtable_pinhole_remote_ok(op->ctx->mt, &r.remote))
		return PCP_RES_NOT_AUTHORIZED;
	return pcp_pin_apply(op, &r, q->lifetime, resp);
}

enum pcp_result
pcp_op_map(struct pcp_op *op, const struct in6_addr *src, const struct pcp_request *q,
    struct pcp_response *resp)
{
	struct pcp_map m;
	struct mt_entry *e, *got = NULL;
	enum pcp_result res;
	enum mt_err err;
	int proto;

	memset(&m, 0, sizeof(m));
	m.op = op;
	m.req = q;
	m.resp = resp;
	pcp_hex(q->nonce, sizeof(q->nonce), m.nonce);
	pcp_actor(src, m.nonce, &m.actor);
	if ((res = pcp_internal(op, src, q, &m.internal)) != PCP_RES_SUCCESS)
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
	e = mtable_lookup_int_source(op->ctx->mt, proto, &m.internal, q->internal_port,
	    MT_SRC_PCP);
	if (q->lifetime == 0) {		/* another nonce's: the table refuses, as a refresh */
		if (e != NULL && (err = mtable_del_by(op->ctx->mt, &m.actor, e)) != MT_OK)
			return pcp_op_result_of(err);
		resp->lifetime = 0;
		return PCP_RES_SUCCESS;
	}
	res = e != NULL ? pcp_map_refresh(&m, e, &got) : pcp_map_create(&m, &got);
	if (res != PCP_RES_SUCCESS)
		return res;
	resp->ext_port = got->ext_port;
	resp->ext_addr = op->ctx->cfg->external_ip;
	resp->lifetime = pcp_granted(op, got);
	return PCP_RES_SUCCESS;
}

/* Pins SNAT to an address the gateway has: the WAN interface's (external_ip is only reported). */
static struct in6_addr
pcp_snat_addr(const struct pcp_op *op)
{
	struct in6_addr a;

	if (wanaddr_read(op->ctx->cfg->wan_interface, &a))
		return a;
	return op->ctx->cfg->external_ip;
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
enum pcp_result
pcp_op_peer(struct pcp_op *op, const struct in6_addr *src, const struct pcp_request *q,
    struct pcp_response *resp)
{
	struct mt_peer_req r;
	struct mt_entry *e;
	char nonce[2 * PCP_WIRE_NONCE_LEN + 1];
	struct mt_actor actor;
	struct in6_addr internal;
	enum pcp_result res;
	enum mt_err err;

	if ((res = pcp_internal(op, src, q, &internal)) != PCP_RES_SUCCESS)
		return res;
	if (q->protocol != IPPROTO_TCP && q->protocol != IPPROTO_UDP)
		return PCP_RES_UNSUPP_PROTOCOL;
	pcp_hex(q->nonce, sizeof(q->nonce), nonce);
	pcp_actor(src, nonce, &actor);
	if (!util_addr_is_v4(&internal))
		return pcp_pin_peer(op, &actor, &internal, q, resp);
	if (q->internal_port == 0 || q->peer_port == 0 || !pcp_peer_addr_ok(&q->peer_addr))
		return PCP_RES_MALFORMED_REQUEST;
	if (netif_client_ok(op->ctx->netif, &q->peer_addr, NULL, 0) ||
	    netif_is_lan_local(op->ctx->netif, &q->peer_addr))
		return PCP_RES_NOT_AUTHORIZED;	/* a LAN flow never leaves by the WAN */
	memset(&r, 0, sizeof(r));
	r.actor = &actor;		/* another nonce's pin: the table refuses it */
	r.proto = q->protocol == IPPROTO_TCP ? MT_TCP : MT_UDP;
	r.source = MT_SRC_PCP;
	r.int_addr = internal;
	r.int_port = q->internal_port;
	r.peer_addr = q->peer_addr;
	r.peer_port = q->peer_port;
	r.ext_addr = pcp_snat_addr(op);
	r.owner = nonce;
	if (q->lifetime == 0) {		/* the client is done with the flow */
		e = mtable_lookup_peer(op->ctx->mt, r.proto, &r.int_addr, r.int_port, &r.peer_addr,
		    r.peer_port);
		if (e != NULL && (err = mtable_del_by(op->ctx->mt, &actor, e)) != MT_OK)
			return pcp_op_result_of(err);
		resp->ext_port = r.int_port;
		resp->ext_addr = r.ext_addr;
		return PCP_RES_SUCCESS;
	}
	r.lease_s = pcp_lifetime(op, q->lifetime);
	if ((err = mtable_peer(op->ctx->mt, &r, &e)) == MT_OK)
		err = pcp_land(op, e);
	if (err != MT_OK)
		return pcp_op_result_of(err);
	resp->ext_port = e->ext_port;
	resp->ext_addr = op->ctx->cfg->external_ip;
	resp->lifetime = pcp_granted(op, e);
	return PCP_RES_SUCCESS;
}

/* ---- NAT-PMP ---- */

/*
 * Lifetime 0 with internal port 0: delete every NAT-PMP mapping of this
 * client and protocol, which are the ones the table lets its actor delete.
 */
static void
natpmp_delete_all(struct pcp_op *op, const struct mt_actor *a, int proto)
{
	struct mt_entry *e, *next;

	for (e = mtable_next(op->ctx->mt, NULL); e != NULL; e = next) {
		next = mtable_next(op->ctx->mt, e);
		if (e->proto == proto)
			(void)mtable_del_by(op->ctx->mt, a, e);
	}
}

static enum mt_err
natpmp_map_add(struct pcp_op *op, const struct natpmp_request *q, const struct mt_actor *a,
    int proto, struct mt_entry **got)
{
	const struct in6_addr *client = &a->client;
	struct mtable *mt = op->ctx->mt;
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
	r.ext_addr = op->ctx->cfg->external_ip;
	r.lease_s = pcp_lifetime(op, q->lifetime);	/* pcp_min_lifetime holds for NAT-PMP too */
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
	return e == MT_OK ? pcp_land(op, *got) : e;
}

enum natpmp_result
natpmp_op_map(struct pcp_op *op, const struct natpmp_request *q, const struct in6_addr *client,
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
			natpmp_delete_all(op, &a, proto);
		else if ((e = mtable_lookup_int_source(op->ctx->mt, proto, client,
		    q->internal_port, MT_SRC_NATPMP)) != NULL)
			(void)mtable_del_by(op->ctx->mt, &a, e);
		resp->ext_port = 0;
		return NATPMP_RES_SUCCESS;
	}
	if (q->internal_port == 0)
		return NATPMP_RES_NOT_AUTHORIZED;
	e = mtable_lookup_int_source(op->ctx->mt, proto, client, q->internal_port, MT_SRC_NATPMP);
	if (e != NULL) {		/* a refresh keeps its external port */
		struct natpmp_request again = *q;

		again.ext_port = e->ext_port;
		err = natpmp_map_add(op, &again, &a, proto, &got);
	} else
		err = natpmp_map_add(op, q, &a, proto, &got);
	if (err != MT_OK)
		return natpmp_op_result_of(err);
	resp->ext_port = got->ext_port;
	resp->lifetime = pcp_granted(op, got);
	return NATPMP_RES_SUCCESS;
}

