/*
 * ipclass.c - what kind of IPv4 address an address is, from the IANA
 * special-purpose registry (RFC 6890) as far as a gateway's external
 * address goes: the internet routes it (public), it is behind another NAT
 * (RFC 1918 private, RFC 6598 shared), it only exists in test networks
 * (documentation, benchmarking), or nobody routes it; and from that, what
 * the internet can do with the gateway's inbound mappings. A leaf: tables
 * and lookups.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ipclass.h"
#include "util.h"

static const struct {
	uint32_t	 net;		/* host order */
	unsigned	 plen;
	enum ipclass	 class;
	const char	*block;
} ipclass_blocks[] = {
	{ 0x00000000, 8, IPCLASS_RESERVED, "0.0.0.0/8" },
	{ 0x0a000000, 8, IPCLASS_PRIVATE, "10.0.0.0/8" },
	{ 0x64400000, 10, IPCLASS_SHARED, "100.64.0.0/10" },
	{ 0x7f000000, 8, IPCLASS_LOOPBACK, "127.0.0.0/8" },
	{ 0xa9fe0000, 16, IPCLASS_LINKLOCAL, "169.254.0.0/16" },
	{ 0xac100000, 12, IPCLASS_PRIVATE, "172.16.0.0/12" },
	{ 0xc0000000, 24, IPCLASS_RESERVED, "192.0.0.0/24" },
	{ 0xc0000200, 24, IPCLASS_DOCUMENTATION, "192.0.2.0/24" },
	{ 0xc0586300, 24, IPCLASS_RESERVED, "192.88.99.0/24" },
	{ 0xc0a80000, 16, IPCLASS_PRIVATE, "192.168.0.0/16" },
	{ 0xc6120000, 15, IPCLASS_BENCHMARK, "198.18.0.0/15" },
	{ 0xc6336400, 24, IPCLASS_DOCUMENTATION, "198.51.100.0/24" },
	{ 0xcb007100, 24, IPCLASS_DOCUMENTATION, "203.0.113.0/24" },
	{ 0xe0000000, 4, IPCLASS_MULTICAST, "224.0.0.0/4" },
	{ 0xf0000000, 4, IPCLASS_RESERVED, "240.0.0.0/4" },	/* and 255.255.255.255 */
};

static const struct {
	const char	*name, *what;
} ipclass_names[] = {
	[IPCLASS_PUBLIC] = { "public", "a public address" },
	[IPCLASS_PRIVATE] = { "private", "a private address (RFC 1918)" },
	[IPCLASS_SHARED] = { "shared", "shared address space (RFC 6598, carrier-grade NAT)" },
	[IPCLASS_DOCUMENTATION] = { "documentation", "a documentation address (RFC 5737)" },
	[IPCLASS_BENCHMARK] = { "benchmark", "a benchmarking address (RFC 2544)" },
	[IPCLASS_LOOPBACK] = { "loopback", "a loopback address" },
	[IPCLASS_LINKLOCAL] = { "link-local", "a link-local address (RFC 3927)" },
	[IPCLASS_RESERVED] = { "reserved", "a reserved address" },
	[IPCLASS_MULTICAST] = { "multicast", "a multicast address" },
	[IPCLASS_NOT_V4] = { "not-ipv4", "not an IPv4 address" },
};

enum ipclass
ipclass_of(const struct in6_addr *a, const char **block)
{
	uint32_t v, mask;
	size_t i;

	if (block != NULL)
		*block = NULL;
	if (!util_addr_is_v4(a))
		return IPCLASS_NOT_V4;
	memcpy(&v, &a->s6_addr[12], 4);
	v = ntohl(v);
	for (i = 0; i < PG_NELEM(ipclass_blocks); i++) {
		mask = ~0u << (32 - ipclass_blocks[i].plen);
		if ((v & mask) != ipclass_blocks[i].net)
			continue;
		if (block != NULL)
			*block = ipclass_blocks[i].block;
		return ipclass_blocks[i].class;
	}
	return IPCLASS_PUBLIC;
}

const char *
ipclass_name(enum ipclass c)
{
	return (unsigned)c < PG_NELEM(ipclass_names) ? ipclass_names[c].name : "unknown";
}

const char *
ipclass_what(enum ipclass c)
{
	return (unsigned)c < PG_NELEM(ipclass_names) ? ipclass_names[c].what : "unknown";
}

static const char *const ipclass_reach_names[] = {
	[IPCLASS_REACH_NO_ADDRESS] = "no_address",
	[IPCLASS_REACH_PUBLIC] = "public",
	[IPCLASS_REACH_UPSTREAM_PCP] = "behind_nat_upstream_pcp",
	[IPCLASS_REACH_NO_UPSTREAM] = "behind_nat_no_upstream",
	[IPCLASS_REACH_TEST_NETWORK] = "test_network",
	[IPCLASS_REACH_NOT_ROUTABLE] = "not_routable",
};

enum ipclass_reach
ipclass_reach(const struct in6_addr *ext, int upstream)
{
	if (ext == NULL)
		return IPCLASS_REACH_NO_ADDRESS;
	if (upstream)
		return IPCLASS_REACH_UPSTREAM_PCP;
	switch (ipclass_of(ext, NULL)) {
	case IPCLASS_PUBLIC:
		return IPCLASS_REACH_PUBLIC;
	case IPCLASS_PRIVATE:
	case IPCLASS_SHARED:
		return IPCLASS_REACH_NO_UPSTREAM;
	case IPCLASS_DOCUMENTATION:
	case IPCLASS_BENCHMARK:
		return IPCLASS_REACH_TEST_NETWORK;
	default:
		return IPCLASS_REACH_NOT_ROUTABLE;
	}
}

const char *
ipclass_reach_name(enum ipclass_reach r)
{
	return (unsigned)r < PG_NELEM(ipclass_reach_names) ? ipclass_reach_names[r] : "unknown";
}
