/* pcp_server.h - PCP (RFC 6887) and NAT-PMP (RFC 6886) on UDP 5351: a front end of the table. */
#ifndef PG_PCP_SERVER_H
#define PG_PCP_SERVER_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "pcp/natpmp_wire.h"
#include "metric.h"
#include "pcp/pcp_wire.h"
#include "status.h"

struct pg_ctx;
struct pcp_srv;

#define PCP_SRV_BURST_FACTOR	3	/* a client may burst 3 s worth of pcp_rate_limit */
#define PCP_SRV_CLIENTS		1024	/* clients whose rate is tracked */

/* Request counters, by opcode and result, for portgatectl status. */
struct pcp_srv_stats {
	uint64_t	 pcp[PCP_OPCODE_COUNT][PCP_RESULT_COUNT];	/* [opcode][result] */
	uint64_t	 pcp_other;		/* unknown opcode or decode errors */
	uint64_t	 natpmp[NATPMP_OPCODE_COUNT][NATPMP_RESULT_COUNT];	/* [opcode][result] */
	uint64_t	 natpmp_other;
	uint64_t	 dropped;		/* off-LAN, WAN side, malformed beyond answer, rate */
	uint64_t	 announces;		/* unsolicited ANNOUNCE / public address datagrams */
};

/*
 * A request as it arrived: bytes, the sender, and the local address it was
 * sent to (the reply comes from there).
 */
struct pcp_srv_pkt {
	const uint8_t	*buf;
	size_t		 len;
	struct in6_addr	 src;		/* v4-mapped */
	uint16_t	 sport;
	struct in6_addr	 dst;
};

/* Open UDP 5351 on the LAN and announce the epoch; NULL after logging why. */
struct pcp_srv *pcp_srv_new(struct pg_ctx *);
/* Close. */
void pcp_srv_free(struct pcp_srv *);
/*
 * Handle one request (the socket-free core, also used by tests and the
 * fuzzer): the reply goes to out (at most outlen bytes); returns its length,
 * 0 if nothing is to be sent.
 */
size_t pcp_srv_handle(struct pcp_srv *, const struct pcp_srv_pkt *, uint8_t *out, size_t outlen);
/* Seconds since the mapping state began (the PCP and NAT-PMP epoch). */
uint32_t pcp_srv_epoch(const struct pcp_srv *);
/* The external address changed (or mappings were lost): restart the epoch and announce. */
void pcp_srv_reset_epoch(struct pcp_srv *);
/*
 * Status: pcp and natpmp (on or off; both off when s is NULL: the server is
 * not running), then pcp_epoch, peer_pins, pcp_requests OPCODE RESULT N and
 * natpmp_requests OPCODE RESULT N for the counts that are not 0,
 * pcp_malformed, natpmp_malformed, pcp_dropped and pcp_announces.
 */
void pcp_srv_status(const struct pcp_srv *, pg_status_emit *, void *);
/*
 * Metrics (metric.h; nothing when s is NULL): requests_total for protocols
 * pcp and natpmp by opcode and result (the non-zero ones), pcp_malformed_total
 * by protocol, pcp_dropped_total.
 */
void pcp_srv_metrics(const struct pcp_srv *, pg_metric_emit *, void *);

#endif
