/* test_natpmp_wire.c - the NAT-PMP (RFC 6886) codec: every opcode, length and error path. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcp/natpmp_wire.h"
#include "testutil.h"
#include "util.h"

static enum natpmp_wire_status
decode(const uint8_t *buf, size_t len, struct natpmp_request *r, enum natpmp_result *err)
{
	enum natpmp_wire_status st;
	uint8_t *copy = malloc(len ? len : 1);	/* exact size: ASan sees any over-read */

	memcpy(copy, buf, len);
	st = natpmp_wire_decode(copy, len, r, err);
	free(copy);
	return st;
}

static void
expect_drop_at(int line, const uint8_t *buf, size_t len, const char *reason)
{
	struct natpmp_request r;
	enum natpmp_result err;

	tu_checks++;
	if (decode(buf, len, &r, &err) != NATPMP_WIRE_DROP || r.reason == NULL ||
	    strcmp(r.reason, reason) != 0) {
		tu_failures++;
		fprintf(stderr, "line %d: expected DROP (%s), got \"%s\"\n", line, reason,
		    r.reason ? r.reason : "OK");
	}
}
#define expect_drop(b, l, reason)	expect_drop_at(__LINE__, b, l, reason)

static void
expect_error_at(int line, const uint8_t *buf, size_t len, enum natpmp_result want)
{
	struct natpmp_request r;
	enum natpmp_result err = NATPMP_RES_SUCCESS;

	tu_checks++;
	if (decode(buf, len, &r, &err) != NATPMP_WIRE_ERROR || err != want) {
		tu_failures++;
		fprintf(stderr, "line %d: expected ERROR %s, got %s (%s)\n", line,
		    natpmp_wire_result_name(want), natpmp_wire_result_name(err),
		    r.reason ? r.reason : "OK");
	}
}
#define expect_error(b, l, want)	expect_error_at(__LINE__, b, l, want)

/* RFC 6886 §3.2: public address request and response, octet by octet. */
static void
test_public_addr(void)
{
	static const uint8_t req[] = { 0x00, 0x00 };
	static const uint8_t want[] = {
		0x00, 0x80, 0x00, 0x00,		/* Vers 0 | OP 128 | Result 0 */
		0x00, 0x00, 0x0e, 0x10,		/* Seconds Since Start of Epoch 3600 */
		0xcb, 0x00, 0x71, 0x07,		/* 203.0.113.7 */
	};
	struct natpmp_response resp;
	struct natpmp_request r;
	enum natpmp_result err;
	uint8_t out[64], big[16] = { 0 };

	CHECK_EQ(decode(req, sizeof(req), &r, &err), NATPMP_WIRE_OK);
	CHECK_EQ(r.version, 0);
	CHECK_EQ(r.opcode, NATPMP_OP_PUBLIC_ADDR);
	CHECK(r.reason == NULL);
	memset(&resp, 0, sizeof(resp));
	resp.epoch = 3600;
	util_parse_addr("203.0.113.7", &resp.ext_addr);
	CHECK_EQ(natpmp_wire_encode_response(&r, &resp, out, sizeof(out)), 12);
	CHECK(memcmp(out, want, sizeof(want)) == 0);
	CHECK_EQ(natpmp_wire_encode_response(&r, &resp, out, 11), 0);
	/* no IPv4 public address: SUCCESS cannot be sent, an error carries 0.0.0.0 */
	util_parse_addr("2001:db8::1", &resp.ext_addr);
	CHECK_EQ(natpmp_wire_encode_response(&r, &resp, out, sizeof(out)), 0);
	resp.result = NATPMP_RES_NETWORK_FAILURE;
	CHECK_EQ(natpmp_wire_encode_response(&r, &resp, out, sizeof(out)), 12);
	CHECK_EQ(out[3], 3);
	CHECK(out[8] == 0 && out[9] == 0 && out[10] == 0 && out[11] == 0);
	/* exactly 2 octets */
	expect_drop(big, 3, "wrong length for the opcode");
	expect_drop(big, 12, "wrong length for the opcode");
}

/* §3.3: mapping request and response, octet by octet. */
static void
test_mapping(void)
{
	static const uint8_t req[] = {
		0x00, 0x02, 0xff, 0xff,		/* Vers 0 | OP 2 (TCP) | Reserved (ignored) */
		0x1f, 0x90, 0x00, 0x50,		/* Internal Port 8080 | Suggested External Port 80 */
		0x00, 0x00, 0x1c, 0x20,		/* Requested Lifetime 7200 */
	};
	static const uint8_t want[] = {
		0x00, 0x82, 0x00, 0x00,		/* Vers 0 | OP 130 | Result 0 */
		0x00, 0x00, 0x00, 0x2a,		/* epoch 42 */
		0x1f, 0x90, 0x9c, 0x40,		/* Internal Port 8080 | Mapped External Port 40000 */
		0x00, 0x00, 0x0e, 0x10,		/* Port Mapping Lifetime 3600 */
	};
	struct natpmp_response resp;
	struct natpmp_request r;
	enum natpmp_result err;
	uint8_t buf[16], out[64];

	CHECK_EQ(decode(req, sizeof(req), &r, &err), NATPMP_WIRE_OK);
	CHECK_EQ(r.opcode, NATPMP_OP_MAP_TCP);
	CHECK_EQ(r.internal_port, 8080);
	CHECK_EQ(r.ext_port, 80);
	CHECK_EQ(r.lifetime, 7200);
	memset(&resp, 0, sizeof(resp));
	resp.epoch = 42;
	resp.ext_port = 40000;
	resp.lifetime = 3600;
	CHECK_EQ(natpmp_wire_encode_response(&r, &resp, out, sizeof(out)), 16);
	CHECK(memcmp(out, want, sizeof(want)) == 0);
	CHECK_EQ(natpmp_wire_encode_response(&r, &resp, out, 15), 0);
	resp.result = NATPMP_RES_NO_RESOURCES;
	CHECK_EQ(natpmp_wire_encode_response(&r, &resp, out, sizeof(out)), 16);
	CHECK_EQ(out[2] << 8 | out[3], 4);
	resp.result = (enum natpmp_result)70000;
	CHECK_EQ(natpmp_wire_encode_response(&r, &resp, out, sizeof(out)), 0);

	/* UDP; delete-all (internal port 0, lifetime 0) decodes as such */
	memset(buf, 0, sizeof(buf));
	buf[1] = NATPMP_OP_MAP_UDP;
	CHECK_EQ(decode(buf, 12, &r, &err), NATPMP_WIRE_OK);
	CHECK_EQ(r.opcode, NATPMP_OP_MAP_UDP);
	CHECK(r.internal_port == 0 && r.lifetime == 0);
	/* exactly 12 octets */
	expect_drop(buf, 2, "wrong length for the opcode");
	expect_drop(buf, 11, "wrong length for the opcode");
	expect_drop(buf, 13, "wrong length for the opcode");
	expect_drop(buf, 16, "wrong length for the opcode");
	/* an unknown opcode in a request cannot be encoded */
	r.opcode = 3;
	CHECK_EQ(natpmp_wire_encode_response(&r, &resp, out, sizeof(out)), 0);
}

static void
test_errors(void)
{
	static const uint8_t v1[] = { 0x01, 0x00 };
	static const uint8_t want_version[] = { 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00 };
	uint8_t buf[1200], out[1200];
	size_t n;

	memset(buf, 0, sizeof(buf));
	expect_drop(buf, 0, "shorter than 2 octets");
	buf[0] = 0;
	expect_drop(buf, 1, "shorter than 2 octets");

	/* responses are ignored, whatever their version or length */
	buf[1] = 128;
	expect_drop(buf, 2, "a response (opcode >= 128)");
	buf[1] = 130;
	expect_drop(buf, 16, "a response (opcode >= 128)");
	buf[0] = 2;
	buf[1] = 0x81;	/* a PCP MAP response */
	expect_drop(buf, 60, "a response (opcode >= 128)");
	buf[1] = 255;
	expect_drop(buf, 2, "a response (opcode >= 128)");

	/* another version: the 8-octet "Unsupported Version" reply, OP = 0 (§3.5) */
	expect_error(v1, sizeof(v1), NATPMP_RES_UNSUPP_VERSION);
	buf[0] = 2;
	buf[1] = 1;
	expect_error(buf, 60, NATPMP_RES_UNSUPP_VERSION);
	memset(out, 0xee, sizeof(out));
	n = natpmp_wire_encode_error(v1, sizeof(v1), NATPMP_RES_UNSUPP_VERSION, 256, out, sizeof(out));
	CHECK_EQ(n, 8);
	CHECK(memcmp(out, want_version, 8) == 0);
	CHECK_EQ(out[8], 0xee);
	CHECK_EQ(natpmp_wire_encode_error(v1, sizeof(v1), NATPMP_RES_UNSUPP_VERSION, 0, out, 7), 0);

	/* an unknown opcode: the request echoed with the top bit set and result 5 */
	buf[0] = 0;
	buf[1] = 3;
	expect_error(buf, 2, NATPMP_RES_UNSUPP_OPCODE);
	n = natpmp_wire_encode_error(buf, 2, NATPMP_RES_UNSUPP_OPCODE, 9, out, sizeof(out));
	CHECK_EQ(n, 4);
	CHECK(out[0] == 0 && out[1] == 0x83 && out[2] == 0 && out[3] == 5);
	buf[1] = 127;
	memset(buf + 2, 0xab, 10);
	expect_error(buf, 12, NATPMP_RES_UNSUPP_OPCODE);
	n = natpmp_wire_encode_error(buf, 12, NATPMP_RES_UNSUPP_OPCODE, 9, out, sizeof(out));
	CHECK_EQ(n, 12);
	CHECK(out[1] == 0xff && out[2] == 0 && out[3] == 5);
	CHECK(memcmp(out + 4, buf + 4, 8) == 0);
	/* cut at NATPMP_WIRE_MAX_LEN */
	memset(buf + 2, 0xcd, sizeof(buf) - 2);
	expect_error(buf, sizeof(buf), NATPMP_RES_UNSUPP_OPCODE);
	n = natpmp_wire_encode_error(buf, sizeof(buf), NATPMP_RES_UNSUPP_OPCODE, 9, out, sizeof(out));
	CHECK_EQ(n, NATPMP_WIRE_MAX_LEN);
	CHECK_EQ(natpmp_wire_encode_error(buf, 12, NATPMP_RES_UNSUPP_OPCODE, 9, out, 11), 0);
	/* refused: no request, other results */
	CHECK_EQ(natpmp_wire_encode_error(NULL, 2, NATPMP_RES_UNSUPP_OPCODE, 0, out, sizeof(out)), 0);
	CHECK_EQ(natpmp_wire_encode_error(buf, 1, NATPMP_RES_UNSUPP_OPCODE, 0, out, sizeof(out)), 0);
	CHECK_EQ(natpmp_wire_encode_error(buf, 2, NATPMP_RES_NO_RESOURCES, 0, out, sizeof(out)), 0);
}

static void
test_announce(void)
{
	static const uint8_t want[] = {
		0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x05,
	};
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct in6_addr a;
	uint8_t out[64];

	util_parse_addr("198.51.100.5", &a);
	CHECK_EQ(natpmp_wire_encode_announce(0, &a, out, sizeof(out)), 12);
	CHECK(memcmp(out, want, sizeof(want)) == 0);
	util_parse_addr("2001:db8::5", &a);
	CHECK_EQ(natpmp_wire_encode_announce(0, &a, out, sizeof(out)), 0);
	CHECK_EQ(natpmp_wire_announce_dest(&ss), sizeof(struct sockaddr_in));
	CHECK_EQ(sin->sin_family, AF_INET);
	CHECK_EQ(ntohs(sin->sin_port), 5350);
	CHECK_EQ(ntohl(sin->sin_addr.s_addr), 0xe0000001);	/* 224.0.0.1 */
}

static void
test_results(void)
{
	static const char *const names[] = {
		"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "NETWORK_FAILURE",
		"NO_RESOURCES", "UNSUPP_OPCODE",
	};
	unsigned i;

	for (i = 0; i < PG_NELEM(names); i++)
		CHECK_STR(natpmp_wire_result_name((enum natpmp_result)i), names[i]);
	CHECK_STR(natpmp_wire_result_name((enum natpmp_result)6), "UNKNOWN");
}

int
main(void)
{
	test_public_addr();
	test_mapping();
	test_errors();
	test_announce();
	test_results();
	return tu_done("test_natpmp_wire");
}
