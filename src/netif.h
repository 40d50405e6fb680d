/* netif.h - the gateway's LAN subnets and own addresses: who may be an internal client. */
#ifndef PG_NETIF_H
#define PG_NETIF_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define NETIF_MAX_PREFIX	32
#define NETIF_MAX_LOCAL		64

struct netif_prefix {
	struct in6_addr	 addr;		/* network address, v4-mapped for IPv4 */
	unsigned	 plen;		/* in the 128-bit (v4-mapped) space */
	struct in6_addr	 local;		/* the gateway's own address in it */
	unsigned	 ifindex;
	char		 ifname[IF_NAMESIZE];
};

struct netif;

/* Addresses of the named LAN interfaces (NULL/0: none configured), read with getifaddrs. */
struct netif *netif_new(char *const *lan_ifs, size_t nlan, const struct pg_clock *);
/* Free. */
void netif_free(struct netif *);
/* Re-read the interfaces' addresses now; returns the number of LAN prefixes. */
size_t netif_refresh(struct netif *);
/* Replace what was read with fixed prefixes and local addresses (tests, fuzzing). */
void netif_set(struct netif *, const struct netif_prefix *, size_t,
    const struct in6_addr *local, size_t nlocal);
/*
 * 1 if addr may be an internal client: a unicast host address inside a LAN
 * subnet (any unicast address when no LAN interface is configured), never
 * the gateway itself, loopback, multicast, broadcast or unspecified.
 * Otherwise 0 and why (if not NULL) says what is wrong. A miss re-reads the
 * interfaces at most once a second, so an address added later is seen.
 */
int netif_client_ok(struct netif *, const struct in6_addr *addr, char *why, size_t whylen);
/* The gateway's own address on the LAN prefix holding peer; 0, or -1 if none holds it. */
int netif_local_for(const struct netif *, const struct in6_addr *peer, struct in6_addr *out);
/* 1 if addr is the gateway's own address on a LAN interface. */
int netif_is_lan_local(const struct netif *, const struct in6_addr *addr);
/* 1 if addr is any address of the gateway's, on any interface, link-local ones included. */
int netif_is_own(const struct netif *, const struct in6_addr *addr);
/* The LAN prefixes read last (for the firewall's LAN set). */
size_t netif_lan_prefixes(const struct netif *, const struct netif_prefix **);

#endif
