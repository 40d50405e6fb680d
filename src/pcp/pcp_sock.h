/* pcp_sock.h - UDP 5351 on the LAN for PCP and NAT-PMP: the sockets under pcp_server. */
#ifndef PG_PCP_SOCK_H
#define PG_PCP_SOCK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct pg_ctx;
struct pcp_sock;

#define PCP_SOCK_PORT		5351
#define PCP_SOCK_BUDGET		64	/* datagrams read per socket per loop turn */

/* Where an answer goes: the sender, from the local address it was sent to. */
struct pcp_dest {
	int			 family;	/* AF_INET, AF_INET6, or 0: no socket's */
	struct sockaddr_in	 to;
	struct sockaddr_in6	 to6;
	struct in_addr		 from;
	struct in6_addr		 from6;
	unsigned		 ifindex;	/* the interface to leave by; 0: the route's */
};

/* A datagram from a LAN host, as it is handed up. */
struct pcp_sock_dgram {
	const uint8_t		*buf;
	size_t			 len;
	struct in6_addr		 src;		/* v4-mapped */
	uint16_t		 sport;
	struct in6_addr		 dst;		/* the local address it was sent to */
	struct pcp_dest		 reply;		/* where an answer to it goes */
};

/* Called for each datagram that arrived on a LAN interface from a LAN host. */
typedef void pcp_sock_fn(void *arg, const struct pcp_sock_dgram *);

/*
 * Open UDP 5351 (IPv4, and IPv6 where the host has it) and watch it in
 * ctx's loop; datagrams go to fn, those not from a LAN host are counted in
 * *dropped. NULL after logging why.
 */
struct pcp_sock *pcp_sock_new(struct pg_ctx *, pcp_sock_fn *fn, void *arg, uint64_t *dropped);
/* Close. */
void pcp_sock_free(struct pcp_sock *);
/* 1 if the IPv6 socket is open. */
int pcp_sock_has6(const struct pcp_sock *);
/* Send buf to d (nothing for an empty one, or a d of no socket's). */
void pcp_sock_send(struct pcp_sock *, const struct pcp_dest *d, const uint8_t *buf, size_t len);

#endif
