/* neigh.h - the LAN's neighbour table (address -> link-layer address), followed over rtnetlink. */
#ifndef PG_NEIGH_H
#define PG_NEIGH_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct event_base;
struct pg_clock;
struct neigh;

#define NEIGH_MAX	4096	/* pairs followed; then forgotten ones make room, else new ones wait */

/* One LAN address and the link-layer (Ethernet) address that holds it. */
struct neigh_host {
	struct in6_addr	 addr;		/* IPv4-mapped or IPv6 */
	uint8_t		 mac[6];
	int		 ifindex;
	uint64_t	 gone_ms;	/* 0: in the kernel's table; else when it left it */
};

/* Called when the set of (address, MAC) pairs changed. */
typedef void neigh_cb(void *arg);

/* Follow the neighbours of these LAN interfaces; NULL (logged) if rtnetlink fails. */
struct neigh *neigh_new(struct event_base *, char *const *lan_ifs, size_t nlan,
    const struct pg_clock *, neigh_cb *, void *);
/* Stop following and free. */
void neigh_free(struct neigh *);
/* The MAC the LAN last showed for addr into mac; 1 if known, else 0. */
int neigh_lookup(const struct neigh *, const struct in6_addr *addr, uint8_t mac[6]);
/*
 * The key per-host limits count by (quotas, rate limits, subscriptions):
 * the MAC that holds addr where nb knows it, else for IPv6 the address's
 * /64 (a host may take any number of addresses in its prefix), else the
 * IPv4 address. nb may be NULL. MAC keys start ff:fe, a multicast prefix
 * no client address has, so they never equal an address key.
 */
void neigh_host_key(const struct neigh *, const struct in6_addr *addr, struct in6_addr *key);
/* Every known pair (current, and those gone less than NEIGH_KEEP_S ago); the count. */
size_t neigh_hosts(const struct neigh *, const struct neigh_host **);
/*
 * Ask the kernel to resolve addr on interface ifindex (an ARP request or
 * neighbour solicitation), because a packet came from it that no known
 * (address, MAC) pair covers: a new address of a host, or one the table
 * lost. The answer, if any, arrives as an ordinary neighbour event. At most
 * NEIGH_RESOLVE_RATE a second; 0, or -1 if not sent.
 */
int neigh_resolve(struct neigh *, int ifindex, const struct in6_addr *addr);
#define NEIGH_RESOLVE_RATE	20
/* Parse one rtnetlink neighbour message into the table (tests and fuzzing); 1 if it changed. */
int neigh_handle_msg(struct neigh *, const void *buf, size_t len);
/* A table fed only through neigh_handle_msg (tests): ifindex 0 counts as a LAN interface. */
struct neigh *neigh_new_detached(const struct pg_clock *);
/* Status: lan_hosts, the (address, MAC) pairs known (none when nb is NULL: no table). */
void neigh_status(const struct neigh *, pg_status_emit *, void *);

#endif
