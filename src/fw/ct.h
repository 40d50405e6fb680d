/* ct.h - ask conntrack (ctnetlink, over libmnl) how an outbound flow is translated. */
#ifndef PG_CT_H
#define PG_CT_H

#include <netinet/in.h>
#include <stdint.h>

/*
 * The external port of the IPv4 flow src:sport -> dst:dport (proto
 * IPPROTO_TCP or IPPROTO_UDP) as conntrack translated it: 0 with *port
 * set, -1 if conntrack does not know the flow or cannot be asked.
 */
int ct_nat_port(int proto, const struct in6_addr *src, uint16_t sport,
    const struct in6_addr *dst, uint16_t dport, uint16_t *port);

#endif
