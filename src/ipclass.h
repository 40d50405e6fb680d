/* ipclass.h - what kind of IPv4 address an address is: public, private, shared, reserved. */
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

#endif
