/*
 * ct.h - conntrack over ctnetlink (libmnl): how an outbound flow is
 * translated (PCP PEER), ending the flows a closed door let in, and ending
 * other endpoints' outbound flows on the ports of a door that opened.
 */
#ifndef PG_CT_H
#define PG_CT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct fw_close;
struct fw_item;
struct fw_open;
struct nlmsghdr;

/* At most this many flows end per call; the rest are left to conntrack's own timeouts. */
#define CT_END_MAX	65536

/* One conntrack entry as a dump reports it (IPv4 addresses v4-mapped). */
struct ct_flow {
	uint8_t		 family;	/* AF_INET, AF_INET6 */
	uint8_t		 proto;		/* IPPROTO_TCP, IPPROTO_UDP */
	struct in6_addr	 src, dst;	/* the original direction: who opened it, to where */
	uint16_t	 sport, dport;
	struct in6_addr	 rsrc;		/* the reply's source: where it was translated to (DNAT) */
	uint16_t	 rsport;
	uint16_t	 rdport;	/* the reply's destination port: the port it leaves by (SNAT) */
	uint32_t	 status;	/* IPS_* */
	uint32_t	 id;
	uint16_t	 zone;
	uint8_t		 has_id, has_zone;
};

/*
 * The external port of the IPv4 flow src:sport -> dst:dport (proto
 * IPPROTO_TCP or IPPROTO_UDP) as conntrack translated it: 0 with *port
 * set, -1 if conntrack does not know the flow or cannot be asked.
 */
int ct_nat_port(int proto, const struct in6_addr *src, uint16_t sport,
    const struct in6_addr *dst, uint16_t dport, uint16_t *port);
/* One ctnetlink message about a conntrack entry into f: 0, or -1 if not a TCP/UDP flow. */
int ct_flow_parse(const struct nlmsghdr *, struct ct_flow *);
/*
 * 1 if the mapping or pinhole it let the flow in: from the WAN to its
 * external port(s), DNATed to its internal host and port (a pinhole: to its
 * address and port), from a remote its filters allow.
 */
int ct_let_in(const struct fw_item *, const struct ct_flow *);
/*
 * 1 if the flow sits on the (IPv4) mapping's ports: it leaves the WAN
 * translated (SNAT, not a hairpin's DNAT) to one of its external ports, and
 * is not from its internal endpoint (host and port; a range's or trigger's:
 * host and the same port), which the mapping leads to anyway.
 */
int ct_squats(const struct fw_item *, const struct ct_flow *);
/*
 * End the flows the closed doors let in and those that sit on the opened
 * doors' ports: one conntrack dump per family and protocol among them,
 * then a delete per flow found (at most CT_END_MAX). Returns how many
 * ended, or -1 (errno set) if conntrack could not be asked.
 */
long ct_end_flows(const struct fw_close *, size_t, const struct fw_open *, size_t);
/* How many flows a buffer of ctnetlink messages holds that the doors doom (tests, fuzzing). */
size_t ct_doomed_in(const struct fw_close *, size_t, const struct fw_open *, size_t,
    const void *buf, size_t len);

/*
 * Ends closed and opened doors' flows in rounds, so that a stream of
 * closes and opens costs a bounded number of dumps: a round runs at once
 * when the last one is at least CT_GAP_MIN_MS and five times its own
 * duration ago, else when it is; what closes or opens meanwhile waits for
 * it (at most CT_PENDING_MAX doors).
 */
#define CT_GAP_MIN_MS	100
#define CT_PENDING_MAX	65536
struct ct_closer;
struct event_base;
/* A closer whose rounds run as events of base (NULL: each add runs one at once). */
struct ct_closer *ct_closer_new(struct event_base *);
/* Queue the flows of closed doors to end (the doors are copied). */
void ct_closer_add(struct ct_closer *, const struct fw_close *, size_t);
/* Queue the flows on opened doors' ports to end (the doors are copied). */
void ct_closer_open(struct ct_closer *, const struct fw_open *, size_t);
/* Run what is pending, then free. */
void ct_closer_free(struct ct_closer *);

#endif
