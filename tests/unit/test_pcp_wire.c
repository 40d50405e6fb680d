/* test_pcp_wire.c - the PCP (RFC 6887) codec: every opcode, option, length and error path. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcp/pcp_wire.h"
#include "testutil.h"
#include "util.h"

/* A packet under construction; decoded from an exact-size heap copy so ASan sees any over-read. */
struct pkt {
	uint8_t		 b[1200];
	size_t		 len;
};

static const uint8_t nonce[PCP_WIRE_NONCE_LEN] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c
};

static struct in6_addr
A(const char *s)
{
	struct in6_addr a;

	if (util_parse_addr(s, &a) == -1)
		abort();
	return a;
}

static void
put8(struct pkt *p, uint8_t v)
{
	p->b[p->len++] = v;
}

static void
put16(struct pkt *p, uint16_t v)
{
	put8(p, (uint8_t)(v >> 8));
	put8(p, (uint8_t)v);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

static void
putaddr(struct pkt *p, const char *s)
{
	struct in6_addr a = A(s);

	memcpy(p->b + p->len, a.s6_addr, 16);
	p->len += 16;
}

static void
hdr(struct pkt *p, uint8_t version, uint8_t opcode, uint32_t lifetime)
{
	p->len = 0;
	put8(p, version);
	put8(p, opcode);
	put16(p, 0);
	put32(p, lifetime);
	putaddr(p, "192.0.2.33");
}

static void
map_data(struct pkt *p, uint8_t proto, uint16_t iport, uint16_t eport, const char *eaddr)
{
	memcpy(p->b + p->len, nonce, sizeof(nonce));
	p->len += sizeof(nonce);
	put8(p, proto);
	put8(p, 0);
	put16(p, 0);
	put16(p, iport);
	put16(p, eport);
	putaddr(p, eaddr);
}

static void
peer_data(struct pkt *p, uint8_t proto, uint16_t iport, uint16_t rport, const char *raddr)
{
	map_data(p, proto, iport, 0, "0.0.0.0");
	put16(p, rport);
	put16(p, 0);
	putaddr(p, raddr);
}

/* An option of dlen data octets (zero unless data), padded to 4. */
static void
opt(struct pkt *p, uint8_t code, uint16_t dlen, const uint8_t *data)
{
	put8(p, code);
	put8(p, 0);
	put16(p, dlen);
	memset(p->b + p->len, 0, (dlen + 3u) & ~3u);
	if (data != NULL)
		memcpy(p->b + p->len, data, dlen);
	p->len += (dlen + 3u) & ~3u;
}

static void
opt_third_party(struct pkt *p, const char *addr)
{
	struct in6_addr a = A(addr);

	opt(p, PCP_OPT_THIRD_PARTY, 16, a.s6_addr);
}

static void
opt_filter(struct pkt *p, uint8_t prefix, uint16_t port, const char *addr)
{
	struct in6_addr a = A(addr);
	uint8_t d[20] = { 0 };

	d[1] = prefix;
	d[2] = (uint8_t)(port >> 8);
	d[3] = (uint8_t)port;
	memcpy(d + 4, a.s6_addr, 16);
	opt(p, PCP_OPT_FILTER, 20, d);
}

static enum pcp_wire_status
decode(const struct pkt *p, struct pcp_request *r, enum pcp_result *err)
{
	enum pcp_wire_status st;
	uint8_t *copy = malloc(p->len ? p->len : 1);

	memcpy(copy, p->b, p->len);
	st = pcp_wire_decode(copy, p->len, r, err);
	free(copy);
	return st;
}

static void
expect_drop_at(int line, const struct pkt *p, const char *reason)
{
	struct pcp_request r;
	enum pcp_result err;

	tu_checks++;
	if (decode(p, &r, &err) != PCP_WIRE_DROP || r.reason == NULL ||
	    strcmp(r.reason, reason) != 0) {
		tu_failures++;
		fprintf(stderr, "line %d: expected DROP (%s), got \"%s\"\n", line, reason,
		    r.reason ? r.reason : "OK");
	}
}
#define expect_drop(p, reason)	expect_drop_at(__LINE__, p, reason)

static void
expect_error_at(int line, const struct pkt *p, enum pcp_result want, const char *reason)
{
	struct pcp_request r;
	enum pcp_result err = PCP_RES_SUCCESS;
	enum pcp_wire_status st = decode(p, &r, &err);

	tu_checks++;
	if (st != PCP_WIRE_ERROR || err != want || r.reason == NULL ||
	    strcmp(r.reason, reason) != 0) {
		tu_failures++;
		fprintf(stderr, "line %d: expected ERROR %s (%s), got status %d %s (%s)\n", line,
		    pcp_wire_result_name(want), reason, (int)st, pcp_wire_result_name(err),
		    r.reason ? r.reason : "-");
	}
}
#define expect_error(p, want, reason)	expect_error_at(__LINE__, p, want, reason)

static int
expect_ok_at(int line, const struct pkt *p, struct pcp_request *r)
{
	enum pcp_result err;

	tu_checks++;
	if (decode(p, r, &err) != PCP_WIRE_OK) {
		tu_failures++;
		fprintf(stderr, "line %d: expected OK, got %s (%s)\n", line,
		    pcp_wire_result_name(err), r->reason ? r->reason : "dropped");
		return 0;
	}
	return 1;
}
#define expect_ok(p, r)	expect_ok_at(__LINE__, p, r)

static int
addr_eq(const struct in6_addr *a, const char *s)
{
	struct in6_addr b = A(s);

	return memcmp(a, &b, sizeof(b)) == 0;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A MAP request written out octet by octet from RFC 6887 Figures 2 and 9, and its response (Figures 3, 10). */
static void
test_map_vector(void)
{
	static const uint8_t req[] = {
		/* Version = 2 | R=0, Opcode = 1 (MAP) | Reserved (16 bits) */
		0x02, 0x01, 0x00, 0x00,
		/* Requested Lifetime = 7200 */
		0x00, 0x00, 0x1c, 0x20,
		/* PCP Client's IP Address: ::ffff:192.0.2.33 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
		0xc0, 0x00, 0x02, 0x21,
		/* Mapping Nonce (96 bits) */
		0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		/* Protocol = 6 (TCP) | Reserved (24 bits) */
		0x06, 0x00, 0x00, 0x00,
		/* Internal Port = 8080 | Suggested External Port = 80 */
		0x1f, 0x90, 0x00, 0x50,
		/* Suggested External IP Address: ::ffff:0.0.0.0 (no preference, IPv4) */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x00,
		/* Option: THIRD_PARTY (1), reserved, length 16, ::ffff:192.0.2.50 */
		0x01, 0x00, 0x00, 0x10,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
		0xc0, 0x00, 0x02, 0x32,
		/* Option: PREFER_FAILURE (2), reserved, length 0 */
		0x02, 0x00, 0x00, 0x00,
		/* Option: FILTER (3), length 20: reserved, prefix 120, port 443, ::ffff:198.51.100.0 */
		0x03, 0x00, 0x00, 0x14,
		0x00, 0x78, 0x01, 0xbb,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
		0xc6, 0x33, 0x64, 0x00,
	};
	static const uint8_t want[] = {
		/* Version = 2 | R=1, Opcode = 1 | Reserved | Result Code = 0 */
		0x02, 0x81, 0x00, 0x00,
		/* Lifetime = 3600 */
		0x00, 0x00, 0x0e, 0x10,
		/* Epoch Time = 1234 */
		0x00, 0x00, 0x04, 0xd2,
		/* Reserved (96 bits) */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* nonce, protocol, internal port copied; assigned port 40000, 203.0.113.7 */
		0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x06, 0x00, 0x00, 0x00,
		0x1f, 0x90, 0x9c, 0x40,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
		0xcb, 0x00, 0x71, 0x07,
		/* the options echoed */
		0x01, 0x00, 0x00, 0x10,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
		0xc0, 0x00, 0x02, 0x32,
		0x02, 0x00, 0x00, 0x00,
		0x03, 0x00, 0x00, 0x14,
		0x00, 0x78, 0x01, 0xbb,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
		0xc6, 0x33, 0x64, 0x00,
	};
	static const uint8_t dead[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33,
		0x44, 0x55, 0x66, 0x77 };
	struct pcp_response resp;
	struct pcp_request r;
	struct pkt p;
	uint8_t out[PCP_WIRE_MAX_LEN];
	size_t n;

	memcpy(p.b, req, sizeof(req));
	p.len = sizeof(req);
	CHECK_EQ(p.len, 24 + 36 + 20 + 4 + 24);
	if (!expect_ok(&p, &r))
		return;
	CHECK_EQ(r.version, 2);
	CHECK_EQ(r.opcode, PCP_OP_MAP);
	CHECK_EQ(r.lifetime, 7200);
	CHECK(addr_eq(&r.client, "192.0.2.33"));
	CHECK(memcmp(r.nonce, dead, sizeof(dead)) == 0);
	CHECK_EQ(r.protocol, 6);
	CHECK_EQ(r.internal_port, 8080);
	CHECK_EQ(r.ext_port, 80);
	CHECK(addr_eq(&r.ext_addr, "0.0.0.0"));
	CHECK(r.has_third_party);
	CHECK(addr_eq(&r.third_party, "192.0.2.50"));
	CHECK(r.prefer_failure);
	CHECK_EQ(r.nfilter, 1);
	CHECK_EQ(r.filter[0].prefix_len, 120);
	CHECK_EQ(r.filter[0].port, 443);
	CHECK(addr_eq(&r.filter[0].addr, "198.51.100.0"));
	CHECK_EQ(r.skipped, 0);
	CHECK(r.reason == NULL);

	memset(&resp, 0, sizeof(resp));
	resp.result = PCP_RES_SUCCESS;
	resp.lifetime = 3600;
	resp.epoch = 1234;
	resp.ext_port = 40000;
	resp.ext_addr = A("203.0.113.7");
	n = pcp_wire_encode_response(&r, &resp, out, sizeof(out));
	CHECK_EQ(n, sizeof(want));
	CHECK(n == sizeof(want) && memcmp(out, want, n) == 0);
	/* one octet short of room: nothing is written past outlen */
	CHECK_EQ(pcp_wire_encode_response(&r, &resp, out, sizeof(want) - 1), 0);
}

/* A PEER request (Figure 11) and its response (Figure 12). */
static void
test_peer(void)
{
	struct pcp_response resp;
	struct pcp_request r;
	struct pkt p;
	uint8_t out[PCP_WIRE_MAX_LEN];
	size_t n;

	hdr(&p, 2, PCP_OP_PEER, 600);
	peer_data(&p, 17, 5060, 3478, "2001:db8::7");
	CHECK_EQ(p.len, 24 + 56);
	if (!expect_ok(&p, &r))
		return;
	CHECK_EQ(r.opcode, PCP_OP_PEER);
	CHECK_EQ(r.lifetime, 600);
	CHECK_EQ(r.protocol, 17);
	CHECK_EQ(r.internal_port, 5060);
	CHECK_EQ(r.ext_port, 0);
	CHECK_EQ(r.peer_port, 3478);
	CHECK(addr_eq(&r.peer_addr, "2001:db8::7"));
	CHECK(!r.has_third_party && !r.prefer_failure && r.nfilter == 0);

	memset(&resp, 0, sizeof(resp));
	resp.lifetime = 600;
	resp.epoch = 7;
	resp.ext_port = 61000;
	resp.ext_addr = A("203.0.113.7");
	n = pcp_wire_encode_response(&r, &resp, out, sizeof(out));
	CHECK_EQ(n, 24 + 56);
	CHECK_EQ(out[0], 2);
	CHECK_EQ(out[1], 0x82);
	CHECK_EQ(out[3], 0);
	CHECK_EQ(rd32(out + 4), 600);
	CHECK_EQ(rd32(out + 8), 7);
	CHECK(memcmp(out + 24, nonce, 12) == 0);
	CHECK_EQ(out[36], 17);
	CHECK_EQ(out[40] << 8 | out[41], 5060);
	CHECK_EQ(out[42] << 8 | out[43], 61000);
	CHECK(memcmp(out + 44, A("203.0.113.7").s6_addr, 16) == 0);
	CHECK_EQ(out[60] << 8 | out[61], 3478);
	CHECK(memcmp(out + 64, A("2001:db8::7").s6_addr, 16) == 0);

	/* THIRD_PARTY is valid with PEER */
	opt_third_party(&p, "192.0.2.77");
	if (expect_ok(&p, &r))
		CHECK(r.has_third_party && addr_eq(&r.third_party, "192.0.2.77"));

	/* §12.1: protocol, internal port and remote peer port must not be zero */
	hdr(&p, 2, PCP_OP_PEER, 600);
	peer_data(&p, 0, 5060, 3478, "2001:db8::7");
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "PEER with protocol 0");
	hdr(&p, 2, PCP_OP_PEER, 600);
	peer_data(&p, 17, 0, 3478, "2001:db8::7");
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "PEER with internal port 0");
	hdr(&p, 2, PCP_OP_PEER, 600);
	peer_data(&p, 17, 5060, 0, "2001:db8::7");
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "PEER with remote peer port 0");
}

static void
test_announce(void)
{
	struct pcp_response resp;
	struct pcp_request r;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct pkt p;
	uint8_t out[PCP_WIRE_MAX_LEN];
	static const uint8_t want[24] = { 0x02, 0x80, 0x00, 0x00, 0, 0, 0, 0, 0x00, 0x01, 0xe2, 0x40 };

	hdr(&p, 2, PCP_OP_ANNOUNCE, 0);
	if (expect_ok(&p, &r))
		CHECK_EQ(r.opcode, PCP_OP_ANNOUNCE);
	memset(&resp, 0, sizeof(resp));
	resp.epoch = 123456;
	CHECK_EQ(pcp_wire_encode_response(&r, &resp, out, sizeof(out)), 24);
	CHECK(memcmp(out, want, 24) == 0);
	/* an unknown optional option is skipped, not echoed */
	opt(&p, 200, 4, NULL);
	if (expect_ok(&p, &r))
		CHECK_EQ(r.skipped, 1);
	CHECK_EQ(pcp_wire_encode_response(&r, &resp, out, sizeof(out)), 24);

	/* unsolicited ANNOUNCE (§14.1.3) */
	memset(out, 0xee, sizeof(out));
	CHECK_EQ(pcp_wire_encode_announce(123456, out, sizeof(out)), 24);
	CHECK(memcmp(out, want, 24) == 0);
	CHECK_EQ(out[24], 0xee);
	CHECK_EQ(pcp_wire_encode_announce(1, out, 23), 0);
	CHECK_EQ(pcp_wire_announce_dest(AF_INET, &ss), sizeof(struct sockaddr_in));
	CHECK_EQ(sin->sin_family, AF_INET);
	CHECK_EQ(ntohs(sin->sin_port), 5350);
	CHECK_EQ(ntohl(sin->sin_addr.s_addr), 0xe0000001);
	CHECK_EQ(pcp_wire_announce_dest(AF_INET6, &ss), sizeof(struct sockaddr_in6));
	CHECK_EQ(sin6->sin6_family, AF_INET6);
	CHECK_EQ(ntohs(sin6->sin6_port), 5350);
	CHECK(addr_eq(&sin6->sin6_addr, "ff02::1"));
	CHECK_EQ(pcp_wire_announce_dest(AF_UNIX, &ss), 0);
}

/* §8.2 in its order, at every boundary length. */
static void
test_lengths(void)
{
	struct pcp_request r;
	struct pkt p;

	p.len = 0;
	expect_drop(&p, "shorter than 2 octets");
	p.b[0] = 2;
	p.len = 1;
	expect_drop(&p, "shorter than 2 octets");
	p.b[1] = PCP_OP_MAP;
	p.len = 2;
	expect_drop(&p, "shorter than 24 octets");
	hdr(&p, 2, PCP_OP_ANNOUNCE, 0);
	p.len = 23;
	expect_drop(&p, "shorter than 24 octets");
	p.len = 24;
	CHECK(expect_ok(&p, &r));
	p.len = 25;
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "not a multiple of 4 octets");
	p.len = 26;
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "not a multiple of 4 octets");
	p.len = 27;
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "not a multiple of 4 octets");

	/* exactly 1100 octets: a MAP filled by one optional option */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, 255, 1100 - 24 - 36 - 4, NULL);
	CHECK_EQ(p.len, 1100);
	if (expect_ok(&p, &r))
		CHECK_EQ(r.skipped, 1);
	p.b[p.len++] = 0;
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "longer than 1100 octets");
	p.len = 1104;
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "longer than 1100 octets");
	/* length is judged before the opcode */
	p.b[1] = 99;
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "longer than 1100 octets");

	/* opcode data truncated: MAP needs 36 octets, PEER 56 */
	hdr(&p, 2, PCP_OP_MAP, 60);
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "opcode data truncated");
	map_data(&p, 6, 80, 0, "0.0.0.0");
	p.len -= 4;
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "opcode data truncated");
	p.len += 4;
	CHECK(expect_ok(&p, &r));
	p.b[1] = PCP_OP_PEER;
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "opcode data truncated");
	p.len += 16;
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "opcode data truncated");
}

static void
test_header_errors(void)
{
	struct pcp_request r;
	struct pkt p;

	/* a response is dropped before anything else is looked at */
	hdr(&p, 2, 0x80 | PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	expect_drop(&p, "a response (R bit set)");
	p.b[0] = 1;
	expect_drop(&p, "a response (R bit set)");
	p.len = 2;
	expect_drop(&p, "a response (R bit set)");

	/* another version is answered, even in 2 octets */
	hdr(&p, 1, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	expect_error(&p, PCP_RES_UNSUPP_VERSION, "unsupported version");
	p.b[0] = 3;
	expect_error(&p, PCP_RES_UNSUPP_VERSION, "unsupported version");
	p.b[0] = 0;	/* NAT-PMP is routed away by the caller; here it is just another version */
	expect_error(&p, PCP_RES_UNSUPP_VERSION, "unsupported version");
	p.b[0] = 255;
	p.len = 2;
	expect_error(&p, PCP_RES_UNSUPP_VERSION, "unsupported version");

	/* opcodes other than 0, 1, 2 */
	hdr(&p, 2, 3, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	expect_error(&p, PCP_RES_UNSUPP_OPCODE, "unsupported opcode");
	p.b[1] = 127;
	expect_error(&p, PCP_RES_UNSUPP_OPCODE, "unsupported opcode");
	p.len = 24;
	expect_error(&p, PCP_RES_UNSUPP_OPCODE, "unsupported opcode");

	/* reserved fields are ignored on reception */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	p.b[2] = p.b[3] = 0xff;
	p.b[24 + 13] = p.b[24 + 14] = p.b[24 + 15] = 0xff;
	opt_filter(&p, 0, 0, "::");
	p.b[p.len - 24 + 1] = 0xff;	/* option header reserved */
	p.b[p.len - 20] = 0xff;		/* FILTER reserved */
	CHECK(expect_ok(&p, &r));
	hdr(&p, 2, PCP_OP_PEER, 60);
	peer_data(&p, 6, 80, 81, "192.0.2.9");
	p.b[24 + 38] = p.b[24 + 39] = 0xff;
	CHECK(expect_ok(&p, &r));

	/* MAP protocol 0 ("all protocols") with an internal port: malformed (§11.3, §15.1) */
	hdr(&p, 2, PCP_OP_MAP, 0);
	map_data(&p, 0, 1234, 0, "::");
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "MAP with protocol 0 and a port");
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 0, 1, 0, "::");
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "MAP with protocol 0 and a port");
	/* ... with internal port 0 it decodes (the server says whether it offers it) */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 0, 0, 0, "::");
	if (expect_ok(&p, &r))
		CHECK(r.protocol == 0 && r.internal_port == 0);
	/* MAP internal port 0 ("all ports") is legal */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 17, 0, 0, "::");
	if (expect_ok(&p, &r))
		CHECK_EQ(r.protocol, 17);
}

static void
test_options(void)
{
	struct pcp_request r;
	struct pkt p;
	uint8_t junk[20] = { 0 };
	int i;

	/* each option on MAP */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt_third_party(&p, "2001:db8::1");
	opt(&p, PCP_OPT_PREFER_FAILURE, 0, NULL);
	opt_filter(&p, 128, 0, "2001:db8::2");
	opt_filter(&p, 0, 0, "::");
	opt_filter(&p, 96, 1, "0.0.0.0");
	if (expect_ok(&p, &r)) {
		CHECK(r.has_third_party && addr_eq(&r.third_party, "2001:db8::1"));
		CHECK(r.prefer_failure);
		CHECK_EQ(r.nfilter, 3);
		CHECK_EQ(r.filter[0].prefix_len, 128);
		CHECK(addr_eq(&r.filter[0].addr, "2001:db8::2"));
		CHECK_EQ(r.filter[2].prefix_len, 96);
		CHECK_EQ(r.filter[2].port, 1);
	}

	/* an option that appears more often than allowed */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt_third_party(&p, "192.0.2.1");
	opt_third_party(&p, "192.0.2.1");
	expect_error(&p, PCP_RES_MALFORMED_OPTION, "THIRD_PARTY appears twice");
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, PCP_OPT_PREFER_FAILURE, 0, NULL);
	opt(&p, PCP_OPT_PREFER_FAILURE, 0, NULL);
	expect_error(&p, PCP_RES_MALFORMED_OPTION, "PREFER_FAILURE appears twice");

	/* as many FILTERs as fit in 1100 octets */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	for (i = 0; i < PCP_WIRE_FILTER_MAX; i++)
		opt_filter(&p, 128, (uint16_t)i, "2001:db8::3");
	CHECK(p.len <= PCP_WIRE_MAX_LEN && p.len + 24 > PCP_WIRE_MAX_LEN);
	if (expect_ok(&p, &r)) {
		CHECK_EQ(r.nfilter, PCP_WIRE_FILTER_MAX);
		CHECK_EQ(r.filter[PCP_WIRE_FILTER_MAX - 1].port, PCP_WIRE_FILTER_MAX - 1);
	}

	/* wrong length for the type */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, PCP_OPT_THIRD_PARTY, 12, junk);
	expect_error(&p, PCP_RES_MALFORMED_OPTION, "option length wrong for its type");
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, PCP_OPT_PREFER_FAILURE, 4, junk);
	expect_error(&p, PCP_RES_MALFORMED_OPTION, "option length wrong for its type");
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, PCP_OPT_FILTER, 17, junk);
	expect_error(&p, PCP_RES_MALFORMED_OPTION, "option length wrong for its type");

	/* a length running past the packet */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt_filter(&p, 0, 0, "::");
	p.len -= 4;
	expect_error(&p, PCP_RES_MALFORMED_OPTION, "option runs past the end of the packet");
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, 200, 0, NULL);
	p.b[p.len - 2] = 0xff;	/* length 65535 */
	p.b[p.len - 1] = 0xff;
	expect_error(&p, PCP_RES_MALFORMED_OPTION, "option runs past the end of the packet");
	/* its padding too: 5 octets of data need 8 */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, 200, 5, NULL);
	p.len -= 4;
	expect_error(&p, PCP_RES_MALFORMED_OPTION, "option runs past the end of the packet");

	/* unknown options: mandatory refused, optional skipped (padding honoured) */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, 128, 1, junk);
	opt(&p, 255, 6, junk);
	opt_third_party(&p, "192.0.2.8");
	if (expect_ok(&p, &r)) {
		CHECK_EQ(r.skipped, 2);
		CHECK(r.has_third_party && addr_eq(&r.third_party, "192.0.2.8"));
	}
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, 4, 4, junk);
	expect_error(&p, PCP_RES_UNSUPP_OPTION, "unknown mandatory-to-process option");
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, 0, 0, NULL);
	expect_error(&p, PCP_RES_UNSUPP_OPTION, "unknown mandatory-to-process option");
	hdr(&p, 2, PCP_OP_ANNOUNCE, 0);
	opt(&p, 127, 0, NULL);
	expect_error(&p, PCP_RES_UNSUPP_OPTION, "unknown mandatory-to-process option");

	/* processed in order: the first bad option decides */
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, 5, 0, NULL);
	opt(&p, PCP_OPT_THIRD_PARTY, 0, NULL);
	expect_error(&p, PCP_RES_UNSUPP_OPTION, "unknown mandatory-to-process option");
	hdr(&p, 2, PCP_OP_MAP, 60);
	map_data(&p, 6, 80, 0, "0.0.0.0");
	opt(&p, PCP_OPT_THIRD_PARTY, 0, NULL);
	opt(&p, 5, 0, NULL);
	expect_error(&p, PCP_RES_MALFORMED_OPTION, "option length wrong for its type");
}

/* Options outside their opcodes: MALFORMED_REQUEST (§12.1's rule for PREFER_FAILURE in PEER). */
static void
test_options_wrong_opcode(void)
{
	struct pkt p;

	hdr(&p, 2, PCP_OP_PEER, 60);
	peer_data(&p, 6, 80, 81, "192.0.2.9");
	opt(&p, PCP_OPT_PREFER_FAILURE, 0, NULL);
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "option not valid for the opcode");
	hdr(&p, 2, PCP_OP_PEER, 60);
	peer_data(&p, 6, 80, 81, "192.0.2.9");
	opt_filter(&p, 128, 0, "192.0.2.9");
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "option not valid for the opcode");
	hdr(&p, 2, PCP_OP_ANNOUNCE, 0);
	opt_third_party(&p, "192.0.2.1");
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "option not valid for the opcode");
	hdr(&p, 2, PCP_OP_ANNOUNCE, 0);
	opt(&p, PCP_OPT_PREFER_FAILURE, 0, NULL);
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "option not valid for the opcode");
	hdr(&p, 2, PCP_OP_ANNOUNCE, 0);
	opt_filter(&p, 0, 0, "::");
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "option not valid for the opcode");
	/* even with a wrong length: the opcode is judged first */
	hdr(&p, 2, PCP_OP_PEER, 60);
	peer_data(&p, 6, 80, 81, "192.0.2.9");
	opt(&p, PCP_OPT_PREFER_FAILURE, 8, NULL);
	expect_error(&p, PCP_RES_MALFORMED_REQUEST, "option not valid for the opcode");
}

static void
test_filter_prefix(void)
{
	static const struct {
		uint8_t		 prefix;
		const char	*addr;
		int		 ok;
	} cases[] = {
		{ 0, "192.0.2.0", 1 }, { 1, "192.0.2.0", 0 }, { 95, "192.0.2.0", 0 },
		{ 96, "0.0.0.0", 1 }, { 120, "192.0.2.0", 1 }, { 128, "192.0.2.1", 1 },
		{ 129, "192.0.2.1", 0 }, { 255, "192.0.2.1", 0 },
		{ 0, "::", 1 }, { 1, "2001:db8::", 1 }, { 64, "2001:db8::", 1 },
		{ 128, "2001:db8::1", 1 }, { 129, "2001:db8::1", 0 }, { 200, "::", 0 },
	};
	struct pcp_request r;
	struct pkt p;
	size_t i;

	for (i = 0; i < PG_NELEM(cases); i++) {
		hdr(&p, 2, PCP_OP_MAP, 60);
		map_data(&p, 6, 80, 0, "0.0.0.0");
		opt_filter(&p, cases[i].prefix, 0, cases[i].addr);
		if (cases[i].ok) {
			if (expect_ok(&p, &r))
				CHECK_EQ(r.filter[0].prefix_len, cases[i].prefix);
		} else
			expect_error(&p, PCP_RES_MALFORMED_OPTION, "FILTER prefix length out of range");
	}
}

/* Decode, encode the answer, clear the R bit: the request comes back. */
static void
roundtrip(const struct pkt *p, enum pcp_result res)
{
	struct pcp_response resp;
	struct pcp_request r, r2;
	enum pcp_result err;
	uint8_t out[PCP_WIRE_MAX_LEN];
	size_t n;

	if (!expect_ok(p, &r))
		return;
	memset(&resp, 0, sizeof(resp));
	resp.result = res;
	resp.lifetime = r.lifetime;
	resp.epoch = 99;
	resp.ext_port = r.ext_port;
	resp.ext_addr = r.ext_addr;
	n = pcp_wire_encode_response(&r, &resp, out, sizeof(out));
	CHECK(n >= 24 && n <= p->len && n % 4 == 0);
	CHECK_EQ(out[1], 0x80 | r.opcode);
	CHECK_EQ(out[3], res);
	CHECK_EQ(pcp_wire_decode(out, n, &r2, &err), PCP_WIRE_DROP);
	out[1] &= 0x7f;
	CHECK_EQ(pcp_wire_decode(out, n, &r2, &err), PCP_WIRE_OK);
	r2.client = r.client;
	r2.skipped = r.skipped;
	CHECK(memcmp(&r, &r2, sizeof(r)) == 0);
}

static void
test_roundtrip(void)
{
	struct pkt p;
	int i;

	hdr(&p, 2, PCP_OP_ANNOUNCE, 0);
	roundtrip(&p, PCP_RES_SUCCESS);
	hdr(&p, 2, PCP_OP_MAP, 3600);
	map_data(&p, 17, 4500, 4500, "198.51.100.1");
	roundtrip(&p, PCP_RES_SUCCESS);
	opt_third_party(&p, "192.0.2.9");
	opt(&p, 190, 3, NULL);
	opt(&p, PCP_OPT_PREFER_FAILURE, 0, NULL);
	for (i = 0; i < 5; i++)
		opt_filter(&p, (uint8_t)(120 + i), (uint16_t)(1000 + i), "203.0.113.0");
	roundtrip(&p, PCP_RES_SUCCESS);
	roundtrip(&p, PCP_RES_CANNOT_PROVIDE_EXTERNAL);
	hdr(&p, 2, PCP_OP_PEER, 100);
	peer_data(&p, 6, 22, 2222, "2001:db8::99");
	opt_third_party(&p, "2001:db8::5");
	roundtrip(&p, PCP_RES_SUCCESS);
	roundtrip(&p, PCP_RES_NO_RESOURCES);
}

/* An error decided by the server after decoding: the suggested fields and the options are copied. */
static void
test_server_error(void)
{
	struct pcp_response resp;
	struct pcp_request r;
	struct pkt p;
	uint8_t out[PCP_WIRE_MAX_LEN];
	size_t n;

	hdr(&p, 2, PCP_OP_MAP, 3600);
	map_data(&p, 6, 22, 2222, "198.51.100.1");
	opt(&p, PCP_OPT_PREFER_FAILURE, 0, NULL);
	if (!expect_ok(&p, &r))
		return;
	memset(&resp, 0, sizeof(resp));
	resp.result = PCP_RES_NO_RESOURCES;
	resp.lifetime = pcp_wire_error_lifetime(PCP_RES_NO_RESOURCES);
	resp.epoch = 5;
	resp.ext_port = 9999;			/* ignored on an error */
	resp.ext_addr = A("203.0.113.1");
	n = pcp_wire_encode_response(&r, &resp, out, sizeof(out));
	CHECK_EQ(n, 24 + 36 + 4);
	CHECK_EQ(out[3], PCP_RES_NO_RESOURCES);
	CHECK_EQ(rd32(out + 4), 30);
	CHECK_EQ(out[42] << 8 | out[43], 2222);
	CHECK(memcmp(out + 44, A("198.51.100.1").s6_addr, 16) == 0);
	CHECK_EQ(out[60], PCP_OPT_PREFER_FAILURE);

	/* a request with options outside its opcode cannot be encoded with them */
	r.opcode = PCP_OP_PEER;
	r.protocol = 6;
	r.peer_port = 1;
	CHECK_EQ(pcp_wire_encode_response(&r, &resp, out, sizeof(out)), 24 + 56);
	resp.result = (enum pcp_result)256;
	CHECK_EQ(pcp_wire_encode_response(&r, &resp, out, sizeof(out)), 0);
	resp.result = PCP_RES_NO_RESOURCES;
	r.opcode = 9;
	CHECK_EQ(pcp_wire_encode_response(&r, &resp, out, sizeof(out)), 0);
	r.opcode = PCP_OP_MAP;
	r.nfilter = PCP_WIRE_FILTER_MAX + 1;
	CHECK_EQ(pcp_wire_encode_response(&r, &resp, out, sizeof(out)), 0);
	/* the most options a struct can hold would not fit in 1100 octets */
	r.nfilter = PCP_WIRE_FILTER_MAX;
	r.has_third_party = 1;
	CHECK_EQ(pcp_wire_encode_response(&r, &resp, out, sizeof(out)), 0);
}

/* Error responses to requests the decoder refused (§7.2, §7.3, §8.2). */
static void
test_encode_error(void)
{
	struct pcp_request r;
	enum pcp_result err;
	struct pkt p;
	uint8_t out[1200];
	size_t n;

	/* an option error: the whole request is copied, the header set */
	hdr(&p, 2, PCP_OP_MAP, 3600);
	map_data(&p, 6, 22, 2222, "198.51.100.1");
	opt(&p, 7, 4, NULL);
	CHECK_EQ(decode(&p, &r, &err), PCP_WIRE_ERROR);
	CHECK_EQ(err, PCP_RES_UNSUPP_OPTION);
	n = pcp_wire_encode_error(p.b, p.len, err, pcp_wire_error_lifetime(err), 77, out, sizeof(out));
	CHECK_EQ(n, p.len);
	CHECK_EQ(out[0], 2);
	CHECK_EQ(out[1], 0x81);
	CHECK_EQ(out[2], 0);
	CHECK_EQ(out[3], PCP_RES_UNSUPP_OPTION);
	CHECK_EQ(rd32(out + 4), 1800);
	CHECK_EQ(rd32(out + 8), 77);
	CHECK(memcmp(out + 12, p.b + 12, 12) == 0);	/* last 96 bits of the client address */
	CHECK(memcmp(out + 24, p.b + 24, p.len - 24) == 0);
	CHECK_EQ(pcp_wire_encode_error(p.b, p.len, err, 0, 0, out, p.len - 1), 0);

	/* longer than 1100: cut to 1100 */
	hdr(&p, 2, PCP_OP_MAP, 3600);
	map_data(&p, 6, 22, 2222, "198.51.100.1");
	opt(&p, 255, 1104 - 24 - 36 - 4, NULL);
	CHECK_EQ(p.len, 1104);
	n = pcp_wire_encode_error(p.b, p.len, PCP_RES_MALFORMED_REQUEST, 1800, 1, out, sizeof(out));
	CHECK_EQ(n, 1100);
	CHECK(memcmp(out + 24, p.b + 24, 1100 - 24) == 0);
	CHECK_EQ(pcp_wire_encode_error(p.b, 1101, PCP_RES_MALFORMED_REQUEST, 1800, 1, out,
	    sizeof(out)), 1100);
	/* not a multiple of 4: cut down to one */
	CHECK_EQ(pcp_wire_encode_error(p.b, 25, PCP_RES_MALFORMED_REQUEST, 1800, 1, out,
	    sizeof(out)), 24);
	CHECK_EQ(pcp_wire_encode_error(p.b, 63, PCP_RES_MALFORMED_REQUEST, 1800, 1, out,
	    sizeof(out)), 60);

	/* another version: the version 2 header alone */
	hdr(&p, 1, PCP_OP_MAP, 3600);
	map_data(&p, 6, 22, 2222, "198.51.100.1");
	n = pcp_wire_encode_error(p.b, p.len, PCP_RES_UNSUPP_VERSION, 1800, 3, out, sizeof(out));
	CHECK_EQ(n, 24);
	CHECK_EQ(out[0], 2);
	CHECK_EQ(out[1], 0x81);
	CHECK_EQ(out[3], PCP_RES_UNSUPP_VERSION);
	CHECK(memcmp(out + 12, p.b + 12, 12) == 0);
	/* ... from 2 octets: no client address to copy */
	memset(out, 0xee, sizeof(out));
	n = pcp_wire_encode_error(p.b, 2, PCP_RES_UNSUPP_VERSION, 1800, 3, out, sizeof(out));
	CHECK_EQ(n, 24);
	CHECK_EQ(out[12], 0);
	CHECK_EQ(out[23], 0);
	CHECK_EQ(out[24], 0xee);
	/* ... from 16 octets: the 4 it has */
	n = pcp_wire_encode_error(p.b, 16, PCP_RES_UNSUPP_VERSION, 1800, 3, out, sizeof(out));
	CHECK_EQ(n, 24);
	CHECK(memcmp(out + 12, p.b + 12, 4) == 0);
	CHECK_EQ(out[16], 0);

	/* an unsupported opcode: copied, opcode kept */
	hdr(&p, 2, 42, 3600);
	map_data(&p, 6, 22, 2222, "198.51.100.1");
	n = pcp_wire_encode_error(p.b, p.len, PCP_RES_UNSUPP_OPCODE, 1800, 3, out, sizeof(out));
	CHECK_EQ(n, p.len);
	CHECK_EQ(out[1], 0x80 | 42);

	/* refused: no request, SUCCESS, a result beyond one octet, no room */
	CHECK_EQ(pcp_wire_encode_error(NULL, 24, PCP_RES_MALFORMED_REQUEST, 0, 0, out, sizeof(out)), 0);
	CHECK_EQ(pcp_wire_encode_error(p.b, 1, PCP_RES_UNSUPP_VERSION, 0, 0, out, sizeof(out)), 0);
	CHECK_EQ(pcp_wire_encode_error(p.b, p.len, PCP_RES_SUCCESS, 0, 0, out, sizeof(out)), 0);
	CHECK_EQ(pcp_wire_encode_error(p.b, p.len, (enum pcp_result)256, 0, 0, out, sizeof(out)), 0);
	CHECK_EQ(pcp_wire_encode_error(p.b, p.len, PCP_RES_UNSUPP_VERSION, 0, 0, out, 23), 0);
}

static void
test_results(void)
{
	static const char *const names[] = {
		"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "MALFORMED_REQUEST",
		"UNSUPP_OPCODE", "UNSUPP_OPTION", "MALFORMED_OPTION", "NETWORK_FAILURE",
		"NO_RESOURCES", "UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL",
		"ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
	};
	unsigned i;

	for (i = 0; i < PG_NELEM(names); i++)
		CHECK_STR(pcp_wire_result_name((enum pcp_result)i), names[i]);
	CHECK_STR(pcp_wire_result_name((enum pcp_result)14), "UNKNOWN");
	CHECK_EQ(pcp_wire_error_lifetime(PCP_RES_SUCCESS), 0);
	CHECK_EQ(pcp_wire_error_lifetime(PCP_RES_NETWORK_FAILURE), 30);
	CHECK_EQ(pcp_wire_error_lifetime(PCP_RES_NO_RESOURCES), 30);
	CHECK_EQ(pcp_wire_error_lifetime(PCP_RES_USER_EX_QUOTA), 30);
	CHECK_EQ(pcp_wire_error_lifetime(PCP_RES_CANNOT_PROVIDE_EXTERNAL), 30);
	CHECK_EQ(pcp_wire_error_lifetime(PCP_RES_MALFORMED_REQUEST), 1800);
	CHECK_EQ(pcp_wire_error_lifetime(PCP_RES_NOT_AUTHORIZED), 1800);
	CHECK_EQ(pcp_wire_error_lifetime(PCP_RES_ADDRESS_MISMATCH), 1800);
	CHECK_EQ(pcp_wire_error_lifetime(PCP_RES_EXCESSIVE_REMOTE_PEERS), 1800);
	CHECK_EQ(pcp_wire_error_lifetime((enum pcp_result)200), 1800);
	CHECK(PCP_WIRE_OPT_MANDATORY(0) && PCP_WIRE_OPT_MANDATORY(127));
	CHECK(!PCP_WIRE_OPT_MANDATORY(128) && !PCP_WIRE_OPT_MANDATORY(255));
}

int
main(void)
{
	test_map_vector();
	test_peer();
	test_announce();
	test_lengths();
	test_header_errors();
	test_options();
	test_options_wrong_opcode();
	test_filter_prefix();
	test_roundtrip();
	test_server_error();
	test_encode_error();
	test_results();
	return tu_done("test_pcp_wire");
}
