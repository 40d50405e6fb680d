/*
 * pcp_wire.c - the PCP (RFC 6887) wire format, both ways: the server's
 * (requests in, responses out) and the upstream client's (requests out,
 * responses in).
 *
 * Decoding a request follows §8.2 in its order: shorter than 2 octets or a
 * response (R bit) is dropped; another version is answered UNSUPP_VERSION;
 * shorter than 24 octets is dropped; longer than 1100 octets or not a
 * multiple of 4 is MALFORMED_REQUEST; then the opcode (UNSUPP_OPCODE), its
 * data (MALFORMED_REQUEST if truncated) and the options, processed in order
 * (§7.3). Decoding a response follows §8.3: anything but a version 2
 * response of 24 to 1100 octets, a multiple of 4, of a known opcode with
 * its data and well-formed options is dropped (a client answers nothing);
 * an error response may be the header alone. Reserved fields are ignored on
 * reception and sent as 0.
 *
 * Opcodes and options are described by two tables; the decoders and the
 * encoders only walk them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "pcp/pcp_wire.h"
#include "util.h"

#define PCP_R_BIT		0x80
#define PCP_OPCODE_MASK		0x7f
#define PCP_OPT_HDR_LEN		4
#define PAD4(n)			(((n) + 3) & ~(size_t)3)
#define OPBIT(op)		(1u << (op))

static void
getaddr(const uint8_t *p, struct in6_addr *a)
{
	memcpy(a->s6_addr, p, sizeof(a->s6_addr));
}

static void
putaddr(uint8_t *p, const struct in6_addr *a)
{
	memcpy(p, a->s6_addr, sizeof(a->s6_addr));
}

static enum pcp_result
reject(struct pcp_request *r, enum pcp_result res, const char *why)
{
	r->reason = why;
	return res;
}

/* ---- opcodes ---- */

/* MAP and PEER share their first 36 octets (§11.1, §12.1). */
static void
decode_mapping(const uint8_t *d, struct pcp_request *r)
{
	memcpy(r->nonce, d, PCP_WIRE_NONCE_LEN);
	r->protocol = d[12];
	/* d[13..15]: reserved */
	r->internal_port = util_get16(d + 16);
	r->ext_port = util_get16(d + 18);
	getaddr(d + 20, &r->ext_addr);
}

/*
 * Protocol 0 is "all protocols", with internal port 0. Another internal
 * port with it is refused, whatever the lifetime: §11.3 (lifetime not zero)
 * and §15.1 (lifetime zero) both say "If the protocol is zero and the
 * internal port is non-zero, then the request is invalid and the PCP server
 * MUST return a MALFORMED_REQUEST error to the client." (§11.1's "MUST be
 * ignored on reception" describes the field; the processing rules decide.)
 */
static enum pcp_result
decode_map(const uint8_t *d, struct pcp_request *r)
{
	decode_mapping(d, r);
	if (r->protocol == 0 && r->internal_port != 0)
		return reject(r, PCP_RES_MALFORMED_REQUEST, "MAP with protocol 0 and a port");
	return PCP_RES_SUCCESS;
}

static enum pcp_result
decode_peer(const uint8_t *d, struct pcp_request *r)
{
	decode_mapping(d, r);
	r->peer_port = util_get16(d + 36);
	/* d[38..39]: reserved */
	getaddr(d + 40, &r->peer_addr);
	/* §12.1: protocol, internal port and remote peer port "MUST NOT be zero" */
	if (r->protocol == 0)
		return reject(r, PCP_RES_MALFORMED_REQUEST, "PEER with protocol 0");
	if (r->internal_port == 0)
		return reject(r, PCP_RES_MALFORMED_REQUEST, "PEER with internal port 0");
	if (r->peer_port == 0)
		return reject(r, PCP_RES_MALFORMED_REQUEST, "PEER with remote peer port 0");
	return PCP_RES_SUCCESS;
}

/*
 * The response data has the request's layout with the assigned external
 * port and address; a request's (resp NULL) has the suggested ones.
 */
static void
encode_mapping(const struct pcp_request *r, const struct pcp_response *resp, uint8_t *d)
{
	memcpy(d, r->nonce, PCP_WIRE_NONCE_LEN);
	d[12] = r->protocol;
	util_put16(d + 16, r->internal_port);
	/* §11.1/§12.1: on an error response the suggested port and address are copied */
	if (resp != NULL && resp->result == PCP_RES_SUCCESS) {
		util_put16(d + 18, resp->ext_port);
		putaddr(d + 20, &resp->ext_addr);
	} else {
		util_put16(d + 18, r->ext_port);
		putaddr(d + 20, &r->ext_addr);
	}
}

static void
encode_peer(const struct pcp_request *r, const struct pcp_response *resp, uint8_t *d)
{
	encode_mapping(r, resp, d);
	util_put16(d + 36, r->peer_port);
	putaddr(d + 40, &r->peer_addr);
}

/* A response's data: the request's fields, with the external port and address in resp. */
static void
decode_resp_mapping(const uint8_t *d, struct pcp_request *q, struct pcp_response *resp)
{
	decode_mapping(d, q);
	resp->ext_port = q->ext_port;
	resp->ext_addr = q->ext_addr;
	q->ext_port = 0;
	memset(&q->ext_addr, 0, sizeof(q->ext_addr));
}

static void
decode_resp_peer(const uint8_t *d, struct pcp_request *q, struct pcp_response *resp)
{
	decode_resp_mapping(d, q, resp);
	q->peer_port = util_get16(d + 36);
	getaddr(d + 40, &q->peer_addr);
}

struct pcp_opdesc {
	uint8_t		 opcode;
	size_t		 len;		/* opcode data */
	unsigned	 options;	/* OPBIT of each option valid with it */
	enum pcp_result	(*decode)(const uint8_t *, struct pcp_request *);
	void		(*encode)(const struct pcp_request *, const struct pcp_response *, uint8_t *);
	void		(*decode_resp)(const uint8_t *, struct pcp_request *, struct pcp_response *);
};

static const struct pcp_opdesc opcodes[] = {
	{ PCP_OP_ANNOUNCE, 0, 0, NULL, NULL, NULL },
	{ PCP_OP_MAP, PCP_WIRE_MAP_LEN,
	    OPBIT(PCP_OPT_THIRD_PARTY) | OPBIT(PCP_OPT_PREFER_FAILURE) | OPBIT(PCP_OPT_FILTER),
	    decode_map, encode_mapping, decode_resp_mapping },
	{ PCP_OP_PEER, PCP_WIRE_PEER_LEN, OPBIT(PCP_OPT_THIRD_PARTY), decode_peer, encode_peer,
	    decode_resp_peer },
};

static const struct pcp_opdesc *
opdesc(uint8_t opcode)
{
	size_t i;

	for (i = 0; i < PG_NELEM(opcodes); i++)
		if (opcodes[i].opcode == opcode)
			return &opcodes[i];
	return NULL;
}

/* ---- options (§13) ---- */

static enum pcp_result
decode_third_party(const uint8_t *d, struct pcp_request *r)
{
	if (r->has_third_party)
		return reject(r, PCP_RES_MALFORMED_OPTION, "THIRD_PARTY appears twice");
	r->has_third_party = 1;
	getaddr(d, &r->third_party);
	return PCP_RES_SUCCESS;
}

static enum pcp_result
decode_prefer_failure(const uint8_t *d, struct pcp_request *r)
{
	(void)d;
	if (r->prefer_failure)
		return reject(r, PCP_RES_MALFORMED_OPTION, "PREFER_FAILURE appears twice");
	r->prefer_failure = 1;
	return PCP_RES_SUCCESS;
}

/* §13.3: IPv4 (v4-mapped) prefixes are 96-128, IPv6 0-128; 0 always means "no filter". */
static int
filter_prefix_ok(const struct pcp_filter *f)
{
	if (f->prefix_len == 0)
		return 1;
	if (util_addr_is_v4(&f->addr))
		return f->prefix_len >= 96 && f->prefix_len <= 128;
	return f->prefix_len <= 128;
}

static enum pcp_result
decode_filter(const uint8_t *d, struct pcp_request *r)
{
	struct pcp_filter *f;

	if (r->nfilter >= PCP_WIRE_FILTER_MAX)	/* cannot happen within 1100 octets */
		return reject(r, PCP_RES_MALFORMED_OPTION, "too many FILTER options");
	f = &r->filter[r->nfilter];
	/* d[0]: reserved */
	f->prefix_len = d[1];
	f->port = util_get16(d + 2);
	getaddr(d + 4, &f->addr);
	if (!filter_prefix_ok(f)) {
		memset(f, 0, sizeof(*f));
		return reject(r, PCP_RES_MALFORMED_OPTION, "FILTER prefix length out of range");
	}
	r->nfilter++;
	return PCP_RES_SUCCESS;
}

static unsigned
count_third_party(const struct pcp_request *r)
{
	return r->has_third_party ? 1 : 0;
}

static unsigned
count_prefer_failure(const struct pcp_request *r)
{
	return r->prefer_failure ? 1 : 0;
}

static unsigned
count_filter(const struct pcp_request *r)
{
	return r->nfilter;
}

static void
encode_third_party(const struct pcp_request *r, unsigned i, uint8_t *d)
{
	(void)i;
	putaddr(d, &r->third_party);
}

static void
encode_prefer_failure(const struct pcp_request *r, unsigned i, uint8_t *d)
{
	(void)r;
	(void)i;
	(void)d;
}

static void
encode_filter(const struct pcp_request *r, unsigned i, uint8_t *d)
{
	d[1] = r->filter[i].prefix_len;
	util_put16(d + 2, r->filter[i].port);
	putaddr(d + 4, &r->filter[i].addr);
}

struct pcp_optdesc {
	uint8_t		 code;
	uint16_t	 len;		/* option data, without padding */
	unsigned	 opcodes;	/* OPBIT of each opcode it is valid for */
	enum pcp_result	(*decode)(const uint8_t *, struct pcp_request *);
	unsigned	(*count)(const struct pcp_request *);
	void		(*encode)(const struct pcp_request *, unsigned, uint8_t *);
};

static const struct pcp_optdesc options[] = {
	{ PCP_OPT_THIRD_PARTY, 16, OPBIT(PCP_OP_MAP) | OPBIT(PCP_OP_PEER),
	    decode_third_party, count_third_party, encode_third_party },
	{ PCP_OPT_PREFER_FAILURE, 0, OPBIT(PCP_OP_MAP),
	    decode_prefer_failure, count_prefer_failure, encode_prefer_failure },
	{ PCP_OPT_FILTER, 20, OPBIT(PCP_OP_MAP),
	    decode_filter, count_filter, encode_filter },
};

static const struct pcp_optdesc *
optdesc(uint8_t code)
{
	size_t i;

	for (i = 0; i < PG_NELEM(options); i++)
		if (options[i].code == code)
			return &options[i];
	return NULL;
}

/*
 * One option at p (len octets left); *used is how many octets it takes with
 * its padding. In a response (resp 1) an option not known is skipped
 * whatever its code: a client has nobody to tell.
 */
static enum pcp_result
decode_option(const uint8_t *p, size_t len, const struct pcp_opdesc *op, struct pcp_request *r,
    int resp, size_t *used)
{
	const struct pcp_optdesc *o;
	size_t dlen;

	if (len < PCP_OPT_HDR_LEN)
		return reject(r, PCP_RES_MALFORMED_OPTION, "option header truncated");
	dlen = util_get16(p + 2);
	if (PAD4(dlen) > len - PCP_OPT_HDR_LEN)
		return reject(r, PCP_RES_MALFORMED_OPTION, "option runs past the end of the packet");
	*used = PCP_OPT_HDR_LEN + PAD4(dlen);
	if ((o = optdesc(p[0])) == NULL) {
		if (PCP_WIRE_OPT_MANDATORY(p[0]) && !resp)
			return reject(r, PCP_RES_UNSUPP_OPTION, "unknown mandatory-to-process option");
		r->skipped++;
		return PCP_RES_SUCCESS;
	}
	/* §12.1 (PREFER_FAILURE in PEER), applied to every option outside its opcodes */
	if ((o->opcodes & OPBIT(op->opcode)) == 0)
		return reject(r, PCP_RES_MALFORMED_REQUEST, "option not valid for the opcode");
	if (dlen != o->len)
		return reject(r, PCP_RES_MALFORMED_OPTION, "option length wrong for its type");
	return o->decode(p + PCP_OPT_HDR_LEN, r);
}

static enum pcp_result
decode_options(const uint8_t *p, size_t len, const struct pcp_opdesc *op, struct pcp_request *r,
    int resp)
{
	enum pcp_result res;
	size_t used = 0;

	while (len > 0) {
		if ((res = decode_option(p, len, op, r, resp, &used)) != PCP_RES_SUCCESS)
			return res;
		p += used;
		len -= used;
	}
	return PCP_RES_SUCCESS;
}

/* The options a response to r carries: those it processed, valid for its opcode. */
static size_t
options_len(const struct pcp_request *r, const struct pcp_opdesc *op)
{
	size_t i, n = 0;

	for (i = 0; i < PG_NELEM(options); i++)
		if (options[i].opcodes & OPBIT(op->opcode))
			n += options[i].count(r) * (PCP_OPT_HDR_LEN + PAD4(options[i].len));
	return n;
}

static void
encode_options(const struct pcp_request *r, const struct pcp_opdesc *op, uint8_t *p)
{
	const struct pcp_optdesc *o;
	unsigned j, n;
	size_t i;

	for (i = 0; i < PG_NELEM(options); i++) {
		o = &options[i];
		if ((o->opcodes & OPBIT(op->opcode)) == 0)
			continue;
		for (j = 0, n = o->count(r); j < n; j++) {
			p[0] = o->code;
			util_put16(p + 2, o->len);
			o->encode(r, j, p + PCP_OPT_HDR_LEN);
			p += PCP_OPT_HDR_LEN + PAD4(o->len);
		}
	}
}

/* ---- decoding ---- */

static enum pcp_wire_status
drop(struct pcp_request *r, const char *why)
{
	r->reason = why;
	return PCP_WIRE_DROP;
}

static enum pcp_wire_status
fail(enum pcp_result *err, enum pcp_result res)
{
	*err = res;
	return PCP_WIRE_ERROR;
}

/* §8.2 up to the opcode: DROP, ERROR, or OK with the header in r. */
static enum pcp_wire_status
decode_header(const uint8_t *buf, size_t len, struct pcp_request *r, enum pcp_result *err)
{
	if (len < 2)
		return drop(r, "shorter than 2 octets");
	r->version = buf[0];
	r->opcode = buf[1] & PCP_OPCODE_MASK;
	if (buf[1] & PCP_R_BIT)
		return drop(r, "a response (R bit set)");
	if (r->version != PCP_WIRE_VERSION)
		return fail(err, reject(r, PCP_RES_UNSUPP_VERSION, "unsupported version"));
	if (len < PCP_WIRE_HDR_LEN)
		return drop(r, "shorter than 24 octets");
	if (len > PCP_WIRE_MAX_LEN)
		return fail(err, reject(r, PCP_RES_MALFORMED_REQUEST, "longer than 1100 octets"));
	if (len % 4 != 0)
		return fail(err, reject(r, PCP_RES_MALFORMED_REQUEST, "not a multiple of 4 octets"));
	/* buf[2..3]: reserved */
	r->lifetime = util_get32(buf + 4);
	getaddr(buf + 8, &r->client);
	return PCP_WIRE_OK;
}

enum pcp_wire_status
pcp_wire_decode(const uint8_t *buf, size_t len, struct pcp_request *out, enum pcp_result *err)
{
	const struct pcp_opdesc *op;
	enum pcp_wire_status st;
	enum pcp_result res;
	size_t left;

	memset(out, 0, sizeof(*out));
	*err = PCP_RES_SUCCESS;
	if ((st = decode_header(buf, len, out, err)) != PCP_WIRE_OK)
		return st;
	if ((op = opdesc(out->opcode)) == NULL)
		return fail(err, reject(out, PCP_RES_UNSUPP_OPCODE, "unsupported opcode"));
	left = len - PCP_WIRE_HDR_LEN;
	if (left < op->len)
		return fail(err, reject(out, PCP_RES_MALFORMED_REQUEST, "opcode data truncated"));
	if (op->decode != NULL &&
	    (res = op->decode(buf + PCP_WIRE_HDR_LEN, out)) != PCP_RES_SUCCESS)
		return fail(err, res);
	res = decode_options(buf + PCP_WIRE_HDR_LEN + op->len, left - op->len, op, out, 0);
	if (res != PCP_RES_SUCCESS)
		return fail(err, res);
	return PCP_WIRE_OK;
}

/* §8.3's checks of a response's header: DROP (why in q->reason) or OK. */
static enum pcp_wire_status
decode_resp_header(const uint8_t *buf, size_t len, struct pcp_request *q,
    struct pcp_response *resp)
{
	if (len < PCP_WIRE_HDR_LEN)
		return drop(q, "shorter than 24 octets");
	q->version = buf[0];
	q->opcode = buf[1] & PCP_OPCODE_MASK;
	if (q->version != PCP_WIRE_VERSION)
		return drop(q, "not version 2");
	if ((buf[1] & PCP_R_BIT) == 0)
		return drop(q, "a request (R bit clear)");
	if (len > PCP_WIRE_MAX_LEN)
		return drop(q, "longer than 1100 octets");
	if (len % 4 != 0)
		return drop(q, "not a multiple of 4 octets");
	/* buf[2]: reserved; buf[12..23]: reserved in a response */
	resp->result = (enum pcp_result)buf[3];
	resp->lifetime = util_get32(buf + 4);
	resp->epoch = util_get32(buf + 8);
	return PCP_WIRE_OK;
}

enum pcp_wire_status
pcp_wire_decode_response(const uint8_t *buf, size_t len, struct pcp_request *q,
    struct pcp_response *resp)
{
	const struct pcp_opdesc *op;
	enum pcp_wire_status st;
	size_t left;

	memset(q, 0, sizeof(*q));
	memset(resp, 0, sizeof(*resp));
	if ((st = decode_resp_header(buf, len, q, resp)) != PCP_WIRE_OK)
		return st;
	if ((op = opdesc(q->opcode)) == NULL)
		return drop(q, "unknown opcode");
	left = len - PCP_WIRE_HDR_LEN;
	if (left == 0 && op->len > 0 && resp->result != PCP_RES_SUCCESS) {
		q->reason = "an error response without opcode data";
		return PCP_WIRE_ERROR;
	}
	if (left < op->len)
		return drop(q, "opcode data truncated");
	if (op->decode_resp != NULL)
		op->decode_resp(buf + PCP_WIRE_HDR_LEN, q, resp);
	if (decode_options(buf + PCP_WIRE_HDR_LEN + op->len, left - op->len, op, q, 1) !=
	    PCP_RES_SUCCESS)
		return PCP_WIRE_DROP;	/* q->reason says which option */
	return PCP_WIRE_OK;
}

/* ---- encoding ---- */

static void
put_header(uint8_t *p, uint8_t opcode, enum pcp_result res, uint32_t lifetime, uint32_t epoch)
{
	memset(p, 0, PCP_WIRE_HDR_LEN);
	p[0] = PCP_WIRE_VERSION;
	p[1] = (uint8_t)(PCP_R_BIT | (opcode & PCP_OPCODE_MASK));
	p[3] = (uint8_t)res;
	util_put32(p + 4, lifetime);
	util_put32(p + 8, epoch);
}

size_t
pcp_wire_encode_request(const struct pcp_request *req, uint8_t *out, size_t outlen)
{
	const struct pcp_opdesc *op;
	size_t n;

	if ((op = opdesc(req->opcode)) == NULL || req->nfilter > PCP_WIRE_FILTER_MAX)
		return 0;
	n = PCP_WIRE_HDR_LEN + op->len + options_len(req, op);
	if (n > PCP_WIRE_MAX_LEN || n > outlen)
		return 0;
	memset(out, 0, n);
	out[0] = PCP_WIRE_VERSION;
	out[1] = req->opcode & PCP_OPCODE_MASK;
	util_put32(out + 4, req->lifetime);
	putaddr(out + 8, &req->client);
	if (op->encode != NULL)
		op->encode(req, NULL, out + PCP_WIRE_HDR_LEN);
	encode_options(req, op, out + PCP_WIRE_HDR_LEN + op->len);
	return n;
}

size_t
pcp_wire_encode_response(const struct pcp_request *req, const struct pcp_response *resp,
    uint8_t *out, size_t outlen)
{
	const struct pcp_opdesc *op;
	size_t n;

	if ((op = opdesc(req->opcode)) == NULL || req->nfilter > PCP_WIRE_FILTER_MAX ||
	    (unsigned)resp->result > UINT8_MAX)
		return 0;
	n = PCP_WIRE_HDR_LEN + op->len + options_len(req, op);
	if (n > PCP_WIRE_MAX_LEN || n > outlen)
		return 0;
	memset(out, 0, n);
	put_header(out, req->opcode, resp->result, resp->lifetime, resp->epoch);
	if (op->encode != NULL)
		op->encode(req, resp, out + PCP_WIRE_HDR_LEN);
	encode_options(req, op, out + PCP_WIRE_HDR_LEN + op->len);
	return n;
}

/*
 * §7.3/§8.2: an error response is a copy of the request, cut to 1100 octets
 * (and down to a multiple of 4, which clients require of a response), with
 * the header set; its Reserved field carries the last 96 bits of the
 * request's client address (§7.2, "not successfully parsed"). A version we
 * do not speak is answered with the version 2 header alone: its body has
 * no layout we know.
 */
size_t
pcp_wire_encode_error(const uint8_t *req, size_t reqlen, enum pcp_result err, uint32_t lifetime,
    uint32_t epoch, uint8_t *out, size_t outlen)
{
	size_t n = PCP_WIRE_HDR_LEN;

	if (req == NULL || reqlen < 2 || err == PCP_RES_SUCCESS || (unsigned)err > UINT8_MAX)
		return 0;
	if (err != PCP_RES_UNSUPP_VERSION && reqlen > PCP_WIRE_HDR_LEN)
		n = (reqlen < PCP_WIRE_MAX_LEN ? reqlen : PCP_WIRE_MAX_LEN) & ~(size_t)3;
	if (n > outlen)
		return 0;
	put_header(out, req[1], err, lifetime, epoch);
	if (reqlen > 12)
		memcpy(out + 12, req + 12, (reqlen < PCP_WIRE_HDR_LEN ? reqlen : PCP_WIRE_HDR_LEN) - 12);
	if (n > PCP_WIRE_HDR_LEN)
		memcpy(out + PCP_WIRE_HDR_LEN, req + PCP_WIRE_HDR_LEN, n - PCP_WIRE_HDR_LEN);
	return n;
}

size_t
pcp_wire_encode_announce(uint32_t epoch, uint8_t *out, size_t outlen)
{
	if (outlen < PCP_WIRE_HDR_LEN)
		return 0;
	put_header(out, PCP_OP_ANNOUNCE, PCP_RES_SUCCESS, 0, epoch);
	return PCP_WIRE_HDR_LEN;
}

socklen_t
pcp_wire_announce_dest(int family, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(PCP_WIRE_CLIENT_PORT);
		sin->sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP);	/* 224.0.0.1 */
		return sizeof(*sin);
	}
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(PCP_WIRE_CLIENT_PORT);
		sin6->sin6_addr.s6_addr[0] = 0xff;	/* ff02::1, all nodes */
		sin6->sin6_addr.s6_addr[1] = 0x02;
		sin6->sin6_addr.s6_addr[15] = 0x01;
		return sizeof(*sin6);
	}
	return 0;
}

/* ---- result codes (§7.4) ---- */

static const struct {
	const char	*name;
	uint32_t	 lifetime;
} results[] = {
	[PCP_RES_SUCCESS] =			{ "SUCCESS", 0 },
	[PCP_RES_UNSUPP_VERSION] =		{ "UNSUPP_VERSION", PCP_WIRE_LIFETIME_LONG },
	[PCP_RES_NOT_AUTHORIZED] =		{ "NOT_AUTHORIZED", PCP_WIRE_LIFETIME_LONG },
	[PCP_RES_MALFORMED_REQUEST] =		{ "MALFORMED_REQUEST", PCP_WIRE_LIFETIME_LONG },
	[PCP_RES_UNSUPP_OPCODE] =		{ "UNSUPP_OPCODE", PCP_WIRE_LIFETIME_LONG },
	[PCP_RES_UNSUPP_OPTION] =		{ "UNSUPP_OPTION", PCP_WIRE_LIFETIME_LONG },
	[PCP_RES_MALFORMED_OPTION] =		{ "MALFORMED_OPTION", PCP_WIRE_LIFETIME_LONG },
	[PCP_RES_NETWORK_FAILURE] =		{ "NETWORK_FAILURE", PCP_WIRE_LIFETIME_SHORT },
	[PCP_RES_NO_RESOURCES] =		{ "NO_RESOURCES", PCP_WIRE_LIFETIME_SHORT },
	[PCP_RES_UNSUPP_PROTOCOL] =		{ "UNSUPP_PROTOCOL", PCP_WIRE_LIFETIME_LONG },
	[PCP_RES_USER_EX_QUOTA] =		{ "USER_EX_QUOTA", PCP_WIRE_LIFETIME_SHORT },
	/* "depends on the reason": usually a port someone else holds, which passes */
	[PCP_RES_CANNOT_PROVIDE_EXTERNAL] =	{ "CANNOT_PROVIDE_EXTERNAL", PCP_WIRE_LIFETIME_SHORT },
	[PCP_RES_ADDRESS_MISMATCH] =		{ "ADDRESS_MISMATCH", PCP_WIRE_LIFETIME_LONG },
	[PCP_RES_EXCESSIVE_REMOTE_PEERS] =	{ "EXCESSIVE_REMOTE_PEERS", PCP_WIRE_LIFETIME_LONG },
};

uint32_t
pcp_wire_error_lifetime(enum pcp_result res)
{
	if ((unsigned)res >= PG_NELEM(results))
		return PCP_WIRE_LIFETIME_LONG;
	return results[res].lifetime;
}

const char *
pcp_wire_result_name(enum pcp_result res)
{
	if ((unsigned)res >= PG_NELEM(results))
		return "UNKNOWN";
	return results[res].name;
}
