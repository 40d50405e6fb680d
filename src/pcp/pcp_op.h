/* pcp_op.h - PCP's MAP and PEER and NAT-PMP's MAP as the table's calls, under pcp_server. */
#ifndef PG_PCP_OP_H
#define PG_PCP_OP_H

#include <netinet/in.h>

#include "mt_vocab.h"
#include "pcp/natpmp_wire.h"
#include "pcp/pcp_wire.h"

struct pg_ctx;
struct mt_entry;

/* One request being served: the context, and what its answer must wait for. */
struct pcp_op {
	struct pg_ctx		*ctx;
	const struct mt_entry	*landing;	/* a new or changed entry, not yet in the kernel */
};

/*
 * PCP MAP from src (RFC 6887 §11; from an IPv6 host, a pinhole): fills
 * resp's external address, port and lifetime, and returns the result.
 */
enum pcp_result pcp_op_map(struct pcp_op *, const struct in6_addr *src,
    const struct pcp_request *, struct pcp_response *resp);
/* PCP PEER from src (RFC 6887 §12; from an IPv6 host, a pinhole for that remote). */
enum pcp_result pcp_op_peer(struct pcp_op *, const struct in6_addr *src,
    const struct pcp_request *, struct pcp_response *resp);
/* NAT-PMP MAP (UDP or TCP) from client (RFC 6886 §3.3), lifetime 0 a delete. */
enum natpmp_result natpmp_op_map(struct pcp_op *, const struct natpmp_request *,
    const struct in6_addr *client, struct natpmp_response *resp);
/* The table's error as PCP's result code. */
enum pcp_result pcp_op_result_of(enum mt_err);
/* The table's error as NAT-PMP's result code. */
enum natpmp_result natpmp_op_result_of(enum mt_err);

#endif
