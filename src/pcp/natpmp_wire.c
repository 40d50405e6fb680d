/*
 * natpmp_wire.c - the NAT-PMP (RFC 6886) wire format.
 *
 * Decoding (§3.5): a response (opcode >= 128) is ignored whatever its
 * version; another version than 0 is answered "Unsupported Version"; an
 * opcode other than 0, 1, 2 is answered by echoing the request with result
 * 5. A known opcode must have its exact length (2 or 12 octets): NAT-PMP has
 * no "malformed" result, so anything else is dropped. Opcodes are a table.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "pcp/natpmp_wire.h"
#include "util.h"

/* ---- opcodes ---- */

static void
decode_map(const uint8_t *buf, struct natpmp_request *r)
{
	/* buf[2..3]: reserved */
	r->internal_port = util_get16(buf + 4);
	r->ext_port = util_get16(buf + 6);
	r->lifetime = util_get32(buf + 8);
}

/* Public address reply (§3.2): the address must be IPv4 on SUCCESS, else 0.0.0.0 is sent. */
static int
encode_addr(const struct natpmp_request *r, const struct natpmp_response *resp, uint8_t *out)
{
	(void)r;
	if (util_addr_is_v4(&resp->ext_addr))
		memcpy(out + 8, &resp->ext_addr.s6_addr[12], 4);
	else if (resp->result == NATPMP_RES_SUCCESS)
		return -1;
	return 0;
}

/* Mapping reply (§3.3): internal port copied, mapped port and lifetime from the server. */
static int
encode_map(const struct natpmp_request *r, const struct natpmp_response *resp, uint8_t *out)
{
	util_put16(out + 8, r->internal_port);
	util_put16(out + 10, resp->ext_port);
	util_put32(out + 12, resp->lifetime);
	return 0;
}

struct natpmp_opdesc {
	uint8_t		 opcode;
	size_t		 reqlen;
	size_t		 resplen;
	void		(*decode)(const uint8_t *, struct natpmp_request *);
	int		(*encode)(const struct natpmp_request *, const struct natpmp_response *,
			    uint8_t *);
};

static const struct natpmp_opdesc opcodes[] = {
	{ NATPMP_OP_PUBLIC_ADDR, NATPMP_WIRE_ADDR_REQ_LEN, NATPMP_WIRE_ADDR_RESP_LEN,
	    NULL, encode_addr },
	{ NATPMP_OP_MAP_UDP, NATPMP_WIRE_MAP_REQ_LEN, NATPMP_WIRE_MAP_RESP_LEN,
	    decode_map, encode_map },
	{ NATPMP_OP_MAP_TCP, NATPMP_WIRE_MAP_REQ_LEN, NATPMP_WIRE_MAP_RESP_LEN,
	    decode_map, encode_map },
};

static const struct natpmp_opdesc *
opdesc(uint8_t opcode)
{
	size_t i;

	for (i = 0; i < PG_NELEM(opcodes); i++)
		if (opcodes[i].opcode == opcode)
			return &opcodes[i];
	return NULL;
}

/* ---- decoding ---- */

static enum natpmp_wire_status
drop(struct natpmp_request *r, const char *why)
{
	r->reason = why;
	return NATPMP_WIRE_DROP;
}

static enum natpmp_wire_status
fail(struct natpmp_request *r, enum natpmp_result *err, enum natpmp_result res, const char *why)
{
	r->reason = why;
	*err = res;
	return NATPMP_WIRE_ERROR;
}

enum natpmp_wire_status
natpmp_wire_decode(const uint8_t *buf, size_t len, struct natpmp_request *out,
    enum natpmp_result *err)
{
	const struct natpmp_opdesc *op;

	memset(out, 0, sizeof(*out));
	*err = NATPMP_RES_SUCCESS;
	if (len < 2)
		return drop(out, "shorter than 2 octets");
	out->version = buf[0];
	out->opcode = buf[1];
	if (buf[1] >= NATPMP_WIRE_RESPONSE)
		return drop(out, "a response (opcode >= 128)");
	if (buf[0] != NATPMP_WIRE_VERSION)
		return fail(out, err, NATPMP_RES_UNSUPP_VERSION, "unsupported version");
	if ((op = opdesc(buf[1])) == NULL)
		return fail(out, err, NATPMP_RES_UNSUPP_OPCODE, "unsupported opcode");
	if (len != op->reqlen)
		return drop(out, "wrong length for the opcode");
	if (op->decode != NULL)
		op->decode(buf, out);
	return NATPMP_WIRE_OK;
}

/* ---- encoding ---- */

static void
put_header(uint8_t *p, uint8_t opcode, enum natpmp_result res, uint32_t epoch)
{
	p[0] = NATPMP_WIRE_VERSION;
	p[1] = opcode;
	util_put16(p + 2, (uint16_t)res);
	util_put32(p + 4, epoch);
}

size_t
natpmp_wire_encode_response(const struct natpmp_request *req, const struct natpmp_response *resp,
    uint8_t *out, size_t outlen)
{
	const struct natpmp_opdesc *op;

	if ((op = opdesc(req->opcode)) == NULL || outlen < op->resplen ||
	    (unsigned)resp->result > UINT16_MAX)
		return 0;
	memset(out, 0, op->resplen);
	put_header(out, (uint8_t)(NATPMP_WIRE_RESPONSE + op->opcode), resp->result, resp->epoch);
	if (op->encode(req, resp, out) == -1)
		return 0;
	return op->resplen;
}

/*
 * §3.5: "Unsupported Version" is the fixed 8-octet reply with OP = 0 as the
 * RFC draws it; "Unsupported opcode" returns the entire request (cut to
 * NATPMP_WIRE_MAX_LEN, padded to 4 octets to hold the result code) with the
 * opcode's top bit set and the result code 5.
 */
size_t
natpmp_wire_encode_error(const uint8_t *req, size_t reqlen, enum natpmp_result err,
    uint32_t epoch, uint8_t *out, size_t outlen)
{
	size_t n;

	if (req == NULL || reqlen < 2)
		return 0;
	if (err == NATPMP_RES_UNSUPP_VERSION) {
		if (outlen < NATPMP_WIRE_VERSION_RESP_LEN)
			return 0;
		put_header(out, 0, err, epoch);
		return NATPMP_WIRE_VERSION_RESP_LEN;
	}
	if (err != NATPMP_RES_UNSUPP_OPCODE)
		return 0;
	n = reqlen < NATPMP_WIRE_MAX_LEN ? reqlen : NATPMP_WIRE_MAX_LEN;
	if (n < 4)
		n = 4;
	if (outlen < n)
		return 0;
	memset(out, 0, 4);
	memcpy(out, req, n < reqlen ? n : reqlen);
	out[1] |= NATPMP_WIRE_RESPONSE;
	util_put16(out + 2, (uint16_t)err);
	return n;
}

size_t
natpmp_wire_encode_announce(uint32_t epoch, const struct in6_addr *ext, uint8_t *out,
    size_t outlen)
{
	struct natpmp_request req;
	struct natpmp_response resp;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.opcode = NATPMP_OP_PUBLIC_ADDR;
	resp.result = NATPMP_RES_SUCCESS;
	resp.epoch = epoch;
	resp.ext_addr = *ext;
	return natpmp_wire_encode_response(&req, &resp, out, outlen);
}

socklen_t
natpmp_wire_announce_dest(struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(NATPMP_WIRE_CLIENT_PORT);
	sin->sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP);	/* 224.0.0.1 */
	return sizeof(*sin);
}

static const char *const results[] = {
	[NATPMP_RES_SUCCESS] = "SUCCESS",
	[NATPMP_RES_UNSUPP_VERSION] = "UNSUPP_VERSION",
	[NATPMP_RES_NOT_AUTHORIZED] = "NOT_AUTHORIZED",
	[NATPMP_RES_NETWORK_FAILURE] = "NETWORK_FAILURE",
	[NATPMP_RES_NO_RESOURCES] = "NO_RESOURCES",
	[NATPMP_RES_UNSUPP_OPCODE] = "UNSUPP_OPCODE",
};

const char *
natpmp_wire_result_name(enum natpmp_result res)
{
	if ((unsigned)res >= PG_NELEM(results))
		return "UNKNOWN";
	return results[res];
}
