/*
 * fuzz_pcp.c - the PCP (RFC 6887) and NAT-PMP (RFC 6886) codecs. Every
 * input is decoded as the daemon would route it (first octet 0: NAT-PMP,
 * else PCP) and also by the other decoder, then answered with the encoders;
 * it is also decoded as a response (what the upstream client takes), and a
 * request decoded is encoded again as the client would send it; the
 * invariants below abort() when broken.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pcp/natpmp_wire.h"
#include "pcp/pcp_wire.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define ASSERT(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	return 0;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A DROP is one of §8.2's three reasons. */
static void
check_pcp_drop(const uint8_t *buf, size_t len)
{
	ASSERT(len < 2 || (buf[1] & 0x80) || (buf[0] == PCP_WIRE_VERSION && len < PCP_WIRE_HDR_LEN));
}

/* An error response: a response header and a copy of the request; decoded again, the same error. */
static void
check_pcp_error(const uint8_t *buf, size_t len, enum pcp_result err)
{
	struct pcp_request r;
	enum pcp_result err2;
	uint8_t out[PCP_WIRE_MAX_LEN];
	size_t n;

	ASSERT(err == PCP_RES_UNSUPP_VERSION || err == PCP_RES_MALFORMED_REQUEST ||
	    err == PCP_RES_UNSUPP_OPCODE || err == PCP_RES_UNSUPP_OPTION ||
	    err == PCP_RES_MALFORMED_OPTION);
	ASSERT(err == PCP_RES_UNSUPP_VERSION || len >= PCP_WIRE_HDR_LEN);
	ASSERT(strcmp(pcp_wire_result_name(err), "UNKNOWN") != 0);
	ASSERT(pcp_wire_error_lifetime(err) == PCP_WIRE_LIFETIME_LONG);
	n = pcp_wire_encode_error(buf, len, err, pcp_wire_error_lifetime(err), 7, out, sizeof(out));
	ASSERT(n >= PCP_WIRE_HDR_LEN && n <= PCP_WIRE_MAX_LEN && n % 4 == 0);
	ASSERT(err == PCP_RES_UNSUPP_VERSION ? n == PCP_WIRE_HDR_LEN : n <= len);
	ASSERT(out[0] == PCP_WIRE_VERSION && out[1] == (0x80 | (buf[1] & 0x7f)) && out[2] == 0);
	ASSERT(out[3] == err && rd32(out + 8) == 7);
	ASSERT(n == PCP_WIRE_HDR_LEN || memcmp(out + 24, buf + 24, n - 24) == 0);
	ASSERT(pcp_wire_encode_error(buf, len, err, 0, 7, out, n - 1) == 0);
	ASSERT(pcp_wire_decode(out, n, &r, &err2) == PCP_WIRE_DROP);
	/* the copy as a request again: a version 2 header and the same body give the same error */
	if (err != PCP_RES_UNSUPP_VERSION && len == n) {
		out[1] &= 0x7f;
		ASSERT(pcp_wire_decode(out, n, &r, &err2) == PCP_WIRE_ERROR && err2 == err);
	}
}

/* A response to a decoded request; with the R bit cleared it decodes to the same request. */
static void
check_pcp_response(const struct pcp_request *r, size_t len, enum pcp_result res)
{
	struct pcp_response resp;
	struct pcp_request r2;
	enum pcp_result err;
	uint8_t out[PCP_WIRE_MAX_LEN];
	size_t n;

	memset(&resp, 0, sizeof(resp));
	resp.result = res;
	resp.lifetime = r->lifetime;
	resp.epoch = 1;
	resp.ext_port = r->ext_port;
	resp.ext_addr = r->ext_addr;
	n = pcp_wire_encode_response(r, &resp, out, sizeof(out));
	ASSERT(n >= PCP_WIRE_HDR_LEN && n <= len && n % 4 == 0);
	ASSERT(n == len || r->skipped > 0);
	ASSERT(out[0] == PCP_WIRE_VERSION && out[1] == (0x80 | r->opcode) && out[3] == res);
	ASSERT(pcp_wire_encode_response(r, &resp, out, n - 1) == 0);
	ASSERT(pcp_wire_decode(out, n, &r2, &err) == PCP_WIRE_DROP);
	out[1] &= 0x7f;
	ASSERT(pcp_wire_decode(out, n, &r2, &err) == PCP_WIRE_OK);
	r2.client = r->client;
	r2.skipped = r->skipped;
	ASSERT(memcmp(r, &r2, sizeof(r2)) == 0);
}

/* A request decoded, encoded as the upstream client sends it: the same request again. */
static void
check_pcp_request(const struct pcp_request *r, size_t len)
{
	struct pcp_request r2;
	enum pcp_result err;
	uint8_t out[PCP_WIRE_MAX_LEN];
	size_t n;

	n = pcp_wire_encode_request(r, out, sizeof(out));
	ASSERT(n >= PCP_WIRE_HDR_LEN && n <= len && n % 4 == 0);
	ASSERT(n == len || r->skipped > 0);
	ASSERT(pcp_wire_encode_request(r, out, n - 1) == 0);
	ASSERT(pcp_wire_decode(out, n, &r2, &err) == PCP_WIRE_OK);
	r2.skipped = r->skipped;
	ASSERT(memcmp(r, &r2, sizeof(r2)) == 0);
}

/* The input as a response (§8.3): dropped for a reason, or the same again when re-encoded. */
static void
fuzz_pcp_response(const uint8_t *buf, size_t len)
{
	struct pcp_response resp, resp2;
	struct pcp_request q, q2;
	uint8_t out[PCP_WIRE_MAX_LEN];
	size_t n;

	switch (pcp_wire_decode_response(buf, len, &q, &resp)) {
	case PCP_WIRE_DROP:
		/* the header's fault; or the opcode data's, or an option's (past the header) */
		ASSERT(q.reason != NULL);
		ASSERT(len < PCP_WIRE_HDR_LEN || buf[0] != PCP_WIRE_VERSION || !(buf[1] & 0x80) ||
		    len > PCP_WIRE_MAX_LEN || len % 4 != 0 || (buf[1] & 0x7f) > PCP_OP_PEER ||
		    len > PCP_WIRE_HDR_LEN || ((buf[1] & 0x7f) != PCP_OP_ANNOUNCE && buf[3] == 0));
		break;
	case PCP_WIRE_ERROR:
		ASSERT(len == PCP_WIRE_HDR_LEN && buf[3] != 0 && (buf[1] & 0x7f) != PCP_OP_ANNOUNCE);
		ASSERT(resp.result == buf[3] && resp.lifetime == rd32(buf + 4) &&
		    resp.epoch == rd32(buf + 8));
		break;
	case PCP_WIRE_OK:
		ASSERT(q.reason == NULL && len >= PCP_WIRE_HDR_LEN && len <= PCP_WIRE_MAX_LEN);
		ASSERT(len % 4 == 0 && (buf[1] & 0x80) && q.opcode <= PCP_OP_PEER);
		ASSERT((unsigned)resp.result == buf[3] && resp.epoch == rd32(buf + 8));
		/* an error response's external fields are what it copied: re-encode as a success */
		resp2 = resp;
		resp2.result = PCP_RES_SUCCESS;
		n = pcp_wire_encode_response(&q, &resp2, out, sizeof(out));
		ASSERT(n >= PCP_WIRE_HDR_LEN && n <= len && (n == len || q.skipped > 0));
		out[3] = buf[3];
		ASSERT(pcp_wire_decode_response(out, n, &q2, &resp2) == PCP_WIRE_OK);
		q2.skipped = q.skipped;
		ASSERT(memcmp(&q, &q2, sizeof(q)) == 0 && memcmp(&resp, &resp2, sizeof(resp)) == 0);
		break;
	}
}

static void
fuzz_pcp(const uint8_t *buf, size_t len)
{
	struct pcp_request r;
	enum pcp_result err;
	uint8_t out[PCP_WIRE_MAX_LEN];

	switch (pcp_wire_decode(buf, len, &r, &err)) {
	case PCP_WIRE_DROP:
		ASSERT(r.reason != NULL);
		check_pcp_drop(buf, len);
		break;
	case PCP_WIRE_ERROR:
		ASSERT(r.reason != NULL);
		check_pcp_error(buf, len, err);
		break;
	case PCP_WIRE_OK:
		ASSERT(r.reason == NULL && len >= PCP_WIRE_HDR_LEN && len <= PCP_WIRE_MAX_LEN);
		ASSERT(len % 4 == 0 && r.version == PCP_WIRE_VERSION && r.opcode <= PCP_OP_PEER);
		ASSERT(r.nfilter <= PCP_WIRE_FILTER_MAX && (r.opcode == PCP_OP_MAP || r.nfilter == 0));
		ASSERT(r.opcode == PCP_OP_MAP || !r.prefer_failure);
		check_pcp_response(&r, len, PCP_RES_SUCCESS);
		check_pcp_request(&r, len);
		/* an error the server decides on, picked by the input */
		check_pcp_response(&r, len, (enum pcp_result)(1 + buf[len - 1] % 13));
		break;
	}
	ASSERT(pcp_wire_encode_announce((uint32_t)len, out, sizeof(out)) == PCP_WIRE_HDR_LEN);
	ASSERT(out[1] == 0x80 && out[3] == 0 && rd32(out + 4) == 0 && rd32(out + 8) == (uint32_t)len);
}

static void
fuzz_natpmp(const uint8_t *buf, size_t len)
{
	struct natpmp_response resp;
	struct natpmp_request r;
	enum natpmp_result err;
	uint8_t out[NATPMP_WIRE_MAX_LEN];
	size_t n;

	switch (natpmp_wire_decode(buf, len, &r, &err)) {
	case NATPMP_WIRE_DROP:
		ASSERT(r.reason != NULL);
		ASSERT(len < 2 || buf[1] >= 128 || (buf[0] == 0 && buf[1] <= 2 &&
		    len != (buf[1] == 0 ? 2u : 12u)));
		break;
	case NATPMP_WIRE_ERROR:
		ASSERT(err == NATPMP_RES_UNSUPP_VERSION || err == NATPMP_RES_UNSUPP_OPCODE);
		ASSERT(strcmp(natpmp_wire_result_name(err), "UNKNOWN") != 0);
		n = natpmp_wire_encode_error(buf, len, err, 5, out, sizeof(out));
		ASSERT(n > 0 && n <= NATPMP_WIRE_MAX_LEN && out[0] == 0 && out[2] == 0 && out[3] == err);
		if (err == NATPMP_RES_UNSUPP_VERSION) {
			ASSERT(buf[0] != 0 && n == 8 && out[1] == 0 && rd32(out + 4) == 5);
		} else {
			/* the request echoed: at least 4 octets, cut at the maximum */
			ASSERT(n == (len < 4 ? 4 : len > NATPMP_WIRE_MAX_LEN ? NATPMP_WIRE_MAX_LEN : len));
			ASSERT(out[1] == (buf[1] | 0x80) && (n <= 4 || memcmp(out + 4, buf + 4, n - 4) == 0));
		}
		ASSERT(natpmp_wire_encode_error(buf, len, err, 5, out, n - 1) == 0);
		/* our answer is never answered: no ping-pong between two servers */
		ASSERT(natpmp_wire_decode(out, n, &r, &err) == NATPMP_WIRE_DROP);
		break;
	case NATPMP_WIRE_OK:
		ASSERT(r.reason == NULL && r.version == 0 && r.opcode <= NATPMP_OP_MAP_TCP);
		memset(&resp, 0, sizeof(resp));
		resp.result = (enum natpmp_result)(buf[len - 1] % 6);
		resp.epoch = 3;
		resp.ext_addr.s6_addr[10] = resp.ext_addr.s6_addr[11] = 0xff;
		resp.ext_port = r.ext_port;
		resp.lifetime = r.lifetime;
		n = natpmp_wire_encode_response(&r, &resp, out, sizeof(out));
		ASSERT(n == (r.opcode == NATPMP_OP_PUBLIC_ADDR ? 12u : 16u));
		ASSERT(out[0] == 0 && out[1] == 128 + r.opcode && out[3] == resp.result);
		ASSERT(r.opcode == 0 || (out[8] << 8 | out[9]) == r.internal_port);
		ASSERT(natpmp_wire_decode(out, n, &r, &err) == NATPMP_WIRE_DROP);
		break;
	}
}

/* The announcements, from an address in the input: NAT-PMP's needs IPv4. */
static void
fuzz_announce(const uint8_t *buf, size_t len)
{
	struct sockaddr_storage ss;
	struct in6_addr a;
	uint8_t out[NATPMP_WIRE_ADDR_RESP_LEN];
	int v4;

	if (len < sizeof(a.s6_addr))
		return;
	memcpy(a.s6_addr, buf, sizeof(a.s6_addr));
	v4 = IN6_IS_ADDR_V4MAPPED(&a);
	ASSERT(natpmp_wire_encode_announce(9, &a, out, sizeof(out)) == (v4 ? sizeof(out) : 0));
	ASSERT(!v4 || (out[1] == 128 && memcmp(out + 8, buf + 12, 4) == 0));
	ASSERT(natpmp_wire_announce_dest(&ss) == sizeof(struct sockaddr_in));
	ASSERT(pcp_wire_announce_dest(buf[0] & 1 ? AF_INET6 : AF_INET, &ss) > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	/* the daemon's routing, then the other decoder on the same octets */
	if (len > 0 && data[0] == NATPMP_WIRE_VERSION) {
		fuzz_natpmp(data, len);
		fuzz_pcp(data, len);
	} else {
		fuzz_pcp(data, len);
		fuzz_natpmp(data, len);
	}
	fuzz_pcp_response(data, len);
	fuzz_announce(data, len);
	return 0;
}
