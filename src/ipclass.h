/*
 * ipclass.h - what kind of IPv4 address an address is (public, private,
 * shared, reserved), and what that means for inbound mappings.
 */
#ifndef PG_IPCLASS_H
#define PG_IPCLASS_H

#include <netinet/in.h>

enum ipclass {
	IPCLASS_PUBLIC,		/* none of the below: the internet routes it */
	IPCLASS_PRIVATE,	/* RFC 1918: behind a NAT */
	IPCLASS_SHARED,		/* RFC 6598 100.64.0.0/10: behind a carrier-grade NAT */
	IPCLASS_DOCUMENTATION,	/* RFC 5737: test networks only */
	IPCLASS_BENCHMARK,	/* RFC 2544 198.18.0.0/15: test networks only */
	IPCLASS_LOOPBACK,
	IPCLASS_LINKLOCAL,	/* RFC 3927 169.254.0.0/16 */
	IPCLASS_RESERVED,	/* this network, IETF assignments, 6to4 relays, 240/4, broadcast */
	IPCLASS_MULTICAST,
	IPCLASS_NOT_V4,		/* not an IPv4(-mapped) address */
};

/* The class of addr (v4-mapped) and, if block is not NULL, its block ("100.64.0.0/10"). */
enum ipclass ipclass_of(const struct in6_addr *addr, const char **block);
/* Its name: "public", "private", "shared", "documentation", "benchmark", ... */
const char *ipclass_name(enum ipclass);
/* What it means, for a sentence: "a private address (RFC 1918)". */
const char *ipclass_what(enum ipclass);

/*
 * What the internet can do with the gateway's inbound mappings, as far as
 * the gateway knows (`portgatectl status`'s inbound_reachability): the
 * three cases of README's "Behind a carrier NAT" and the addresses nobody
 * outside a test network routes.
 */
enum ipclass_reach {
	IPCLASS_REACH_NO_ADDRESS,	/* the gateway has no external address */
	IPCLASS_REACH_PUBLIC,		/* a public address: the internet reaches its mappings */
	IPCLASS_REACH_UPSTREAM_PCP,	/* behind another NAT whose PCP server maps each port */
	IPCLASS_REACH_NO_UPSTREAM,	/* private or shared, no upstream PCP server: not reachable */
	IPCLASS_REACH_TEST_NETWORK,	/* documentation, benchmarking: only a test network's */
	IPCLASS_REACH_NOT_ROUTABLE,	/* loopback, link-local, reserved, multicast: nobody's */
};

/*
 * The case of the external address ext (NULL: the gateway has none);
 * upstream: an upstream PCP server maps the gateway's ports (issue 19's
 * client; nothing sets it yet), which decides whatever the class.
 */
enum ipclass_reach ipclass_reach(const struct in6_addr *ext, int upstream);
/* Its name: "public", "behind_nat_no_upstream", ... */
const char *ipclass_reach_name(enum ipclass_reach);

#endif
