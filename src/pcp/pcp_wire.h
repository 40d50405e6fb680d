/*
 * pcp_wire.h - the PCP (RFC 6887) wire format: for the server, requests
 * decoded and responses encoded; for the upstream client (pcp_client),
 * requests encoded and responses decoded. Pure: no I/O, no state, no
 * allocation; every length is checked and nothing past len is read. The
 * logic (mapping table, sockets, address checks such as ADDRESS_MISMATCH,
 * a response's nonce) lives elsewhere.
 */
#ifndef PG_PCP_WIRE_H
#define PG_PCP_WIRE_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define PCP_WIRE_VERSION	2
#define PCP_WIRE_SERVER_PORT	5351
#define PCP_WIRE_CLIENT_PORT	5350	/* unsolicited ANNOUNCEs go here */
#define PCP_WIRE_MAX_LEN	1100	/* longest request or response (§7) */
#define PCP_WIRE_HDR_LEN	24	/* request and response common header */
#define PCP_WIRE_MAP_LEN	36	/* MAP opcode data (§11.1) */
#define PCP_WIRE_PEER_LEN	56	/* PEER opcode data (§12.1) */
#define PCP_WIRE_NONCE_LEN	12
/* Every FILTER a 1100-octet MAP request can carry: (1100 - 24 - 36) / 24. */
#define PCP_WIRE_FILTER_MAX	43
/* Option codes 0-127 must be processed (unknown: UNSUPP_OPTION), 128-255 may be skipped (§7.3). */
#define PCP_WIRE_OPT_MANDATORY(code)	((code) < 128)
/* Error lifetimes (§7.4: "short" and "long" lifetime errors). */
#define PCP_WIRE_LIFETIME_SHORT	30
#define PCP_WIRE_LIFETIME_LONG	1800

enum pcp_opcode {
	PCP_OP_ANNOUNCE = 0,
	PCP_OP_MAP = 1,
	PCP_OP_PEER = 2,
};
#define PCP_OPCODE_COUNT	(PCP_OP_PEER + 1)	/* opcodes served, 0 .. PEER */

enum pcp_option {
	PCP_OPT_THIRD_PARTY = 1,	/* MAP, PEER; 16 octets; at most once */
	PCP_OPT_PREFER_FAILURE = 2,	/* MAP; 0 octets; at most once */
	PCP_OPT_FILTER = 3,		/* MAP; 20 octets; as many as fit */
};

enum pcp_result {
	PCP_RES_SUCCESS = 0,
	PCP_RES_UNSUPP_VERSION = 1,
	PCP_RES_NOT_AUTHORIZED = 2,
	PCP_RES_MALFORMED_REQUEST = 3,
	PCP_RES_UNSUPP_OPCODE = 4,
	PCP_RES_UNSUPP_OPTION = 5,
	PCP_RES_MALFORMED_OPTION = 6,
	PCP_RES_NETWORK_FAILURE = 7,
	PCP_RES_NO_RESOURCES = 8,
	PCP_RES_UNSUPP_PROTOCOL = 9,
	PCP_RES_USER_EX_QUOTA = 10,
	PCP_RES_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_RES_ADDRESS_MISMATCH = 12,
	PCP_RES_EXCESSIVE_REMOTE_PEERS = 13,
};
#define PCP_RESULT_COUNT	(PCP_RES_EXCESSIVE_REMOTE_PEERS + 1)	/* result codes 0 .. 13 */

/* What to do with a datagram. */
enum pcp_wire_status {
	PCP_WIRE_OK,		/* a request (a response): *out holds it */
	PCP_WIRE_ERROR,		/* a request: answer with pcp_wire_encode_error(*err);
				 * a response: an error response of the header alone */
	PCP_WIRE_DROP,		/* silently dropped (§8.2, §8.3) */
};

struct pcp_filter {
	uint8_t		 prefix_len;	/* 0 = no filter; 96-128 for IPv4 */
	uint16_t	 port;		/* remote peer port, 0 = all */
	struct in6_addr	 addr;		/* remote peer, v4-mapped for IPv4 */
};

/* A decoded request; addresses are v4-mapped for IPv4, as on the wire (§5). */
struct pcp_request {
	uint8_t		 version;
	uint8_t		 opcode;
	uint32_t	 lifetime;	/* requested, seconds; 0 = delete */
	struct in6_addr	 client;	/* PCP Client's IP Address field */
	/* MAP and PEER */
	uint8_t		 nonce[PCP_WIRE_NONCE_LEN];
	uint8_t		 protocol;	/* IANA number; MAP: 0 = all */
	uint16_t	 internal_port;	/* MAP: 0 = all (and must be, when protocol is 0) */
	uint16_t	 ext_port;	/* suggested, 0 = no preference */
	struct in6_addr	 ext_addr;	/* suggested, all-zeros = no preference */
	/* PEER */
	uint16_t	 peer_port;
	struct in6_addr	 peer_addr;
	/* options */
	int		 has_third_party;
	struct in6_addr	 third_party;	/* THIRD_PARTY internal address */
	int		 prefer_failure;
	unsigned	 nfilter;	/* compare with the configured maximum: EXCESSIVE_REMOTE_PEERS */
	struct pcp_filter filter[PCP_WIRE_FILTER_MAX];
	unsigned	 skipped;	/* optional-to-process options not understood, ignored */
	const char	*reason;	/* why a DROP or ERROR (a static string), for the debug log */
};

/* The server's answer to a decoded request. */
struct pcp_response {
	enum pcp_result	 result;
	uint32_t	 lifetime;	/* mapping lifetime, or pcp_wire_error_lifetime() */
	uint32_t	 epoch;		/* seconds since the server's epoch began (§8.5) */
	uint16_t	 ext_port;	/* assigned external port (MAP, PEER; SUCCESS only) */
	struct in6_addr	 ext_addr;	/* assigned external address (MAP, PEER; SUCCESS only) */
};

/* Decode a request of len octets into *out; on ERROR *err is the result code to answer. */
enum pcp_wire_status pcp_wire_decode(const uint8_t *buf, size_t len, struct pcp_request *out,
    enum pcp_result *err);
/*
 * Decode a response of len octets (§8.3): OK with the request's fields it
 * echoes in *q (opcode, nonce, protocol, internal port, options) and the
 * answer in *resp (result, lifetime, epoch, external port and address);
 * ERROR for an error response of the header alone (*resp holds the header);
 * DROP otherwise, q->reason saying why. Nothing but the layout is checked:
 * whether the answer is to a request of ours is the caller's to say.
 */
enum pcp_wire_status pcp_wire_decode_response(const uint8_t *buf, size_t len,
    struct pcp_request *q, struct pcp_response *resp);
/* Encode a request (opcode, lifetime, client address, the opcode's fields, options); its length, 0 on failure. */
size_t pcp_wire_encode_request(const struct pcp_request *, uint8_t *out, size_t outlen);
/* Encode the response to a decoded request into out; returns its length (<= 1100), 0 if out is too small. */
size_t pcp_wire_encode_response(const struct pcp_request *, const struct pcp_response *,
    uint8_t *out, size_t outlen);
/* Encode the error response to a request pcp_wire_decode() refused; returns its length, 0 on failure. */
size_t pcp_wire_encode_error(const uint8_t *req, size_t reqlen, enum pcp_result err,
    uint32_t lifetime, uint32_t epoch, uint8_t *out, size_t outlen);
/* Encode an unsolicited ANNOUNCE response (§14.1.3); returns its length (24), 0 if out is too small. */
size_t pcp_wire_encode_announce(uint32_t epoch, uint8_t *out, size_t outlen);
/* Fill *ss with where unsolicited ANNOUNCEs go (224.0.0.1 or ff02::1, port 5350); 0 for another family. */
socklen_t pcp_wire_announce_dest(int family, struct sockaddr_storage *ss);
/* The lifetime of an error response: 30 s for transient errors, 1800 s for the others; 0 for SUCCESS. */
uint32_t pcp_wire_error_lifetime(enum pcp_result);
/* The RFC's name of a result code ("NO_RESOURCES"), or "UNKNOWN". */
const char *pcp_wire_result_name(enum pcp_result);

#endif
