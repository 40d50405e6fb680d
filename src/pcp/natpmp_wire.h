/*
 * natpmp_wire.h - the NAT-PMP (RFC 6886) wire format: requests decoded,
 * responses encoded. Pure: no I/O, no state. NAT-PMP is version 0 of the
 * protocol on PCP's port; the caller routes by the first octet.
 */
#ifndef PG_NATPMP_WIRE_H
#define PG_NATPMP_WIRE_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define NATPMP_WIRE_VERSION		0
#define NATPMP_WIRE_SERVER_PORT		5351
#define NATPMP_WIRE_CLIENT_PORT		5350	/* announcements go here */
#define NATPMP_WIRE_RESPONSE		128	/* added to the opcode in a response */
#define NATPMP_WIRE_ADDR_REQ_LEN	2	/* public address request */
#define NATPMP_WIRE_MAP_REQ_LEN		12	/* mapping request */
#define NATPMP_WIRE_ADDR_RESP_LEN	12
#define NATPMP_WIRE_MAP_RESP_LEN	16
#define NATPMP_WIRE_VERSION_RESP_LEN	8	/* the "Unsupported Version" response (§3.5) */
#define NATPMP_WIRE_MAX_LEN		1100	/* an echoed unsupported-opcode request is cut here */

enum natpmp_opcode {
	NATPMP_OP_PUBLIC_ADDR = 0,
	NATPMP_OP_MAP_UDP = 1,
	NATPMP_OP_MAP_TCP = 2,
};
#define NATPMP_OPCODE_COUNT	(NATPMP_OP_MAP_TCP + 1)		/* opcodes served, 0 .. MAP_TCP */

enum natpmp_result {
	NATPMP_RES_SUCCESS = 0,
	NATPMP_RES_UNSUPP_VERSION = 1,
	NATPMP_RES_NOT_AUTHORIZED = 2,	/* "Not Authorized/Refused" */
	NATPMP_RES_NETWORK_FAILURE = 3,
	NATPMP_RES_NO_RESOURCES = 4,	/* "Out of resources" */
	NATPMP_RES_UNSUPP_OPCODE = 5,
};
#define NATPMP_RESULT_COUNT	(NATPMP_RES_UNSUPP_OPCODE + 1)	/* result codes 0 .. 5 */

/* What to do with a datagram. */
enum natpmp_wire_status {
	NATPMP_WIRE_OK,		/* a request: *out holds it */
	NATPMP_WIRE_ERROR,	/* answer with natpmp_wire_encode_error(*err) */
	NATPMP_WIRE_DROP,	/* silently dropped */
};

struct natpmp_request {
	uint8_t		 version;
	uint8_t		 opcode;
	/* mapping requests */
	uint16_t	 internal_port;	/* 0 with lifetime 0: delete all of this protocol (§3.4) */
	uint16_t	 ext_port;	/* suggested */
	uint32_t	 lifetime;	/* requested, seconds; 0 = delete */
	const char	*reason;	/* why a DROP or ERROR (a static string), for the debug log */
};

struct natpmp_response {
	enum natpmp_result result;
	uint32_t	 epoch;		/* seconds since start of epoch */
	struct in6_addr	 ext_addr;	/* public address reply: v4-mapped IPv4 */
	uint16_t	 ext_port;	/* mapping reply: mapped external port */
	uint32_t	 lifetime;	/* mapping reply: lifetime granted, seconds */
};

/* Decode a request of len octets into *out; on ERROR *err is the result code to answer. */
enum natpmp_wire_status natpmp_wire_decode(const uint8_t *buf, size_t len,
    struct natpmp_request *out, enum natpmp_result *err);
/* Encode the response to a decoded request (12 or 16 octets); returns its length, 0 on failure. */
size_t natpmp_wire_encode_response(const struct natpmp_request *, const struct natpmp_response *,
    uint8_t *out, size_t outlen);
/* Encode the error response to a request natpmp_wire_decode() refused; returns its length, 0 on failure. */
size_t natpmp_wire_encode_error(const uint8_t *req, size_t reqlen, enum natpmp_result err,
    uint32_t epoch, uint8_t *out, size_t outlen);
/* Encode the public address announcement sent when the address changes (§3.2.1); returns 12, 0 on failure. */
size_t natpmp_wire_encode_announce(uint32_t epoch, const struct in6_addr *ext, uint8_t *out,
    size_t outlen);
/* Fill *ss with where announcements go (224.0.0.1 port 5350); returns its length. */
socklen_t natpmp_wire_announce_dest(struct sockaddr_storage *ss);
/* A short name of a result code ("NO_RESOURCES"), or "UNKNOWN". */
const char *natpmp_wire_result_name(enum natpmp_result);

#endif
