/*
 * pcpc_select.h - which upstream PCP servers to ask, in order (RFC 6887
 * §8.1, RFC 7291, RFC 7488): the configured one; else the servers a DHCP
 * client's hook wrote to upstream_pcp_file; else the WAN interface's IPv4
 * default gateway. A leaf: it reads a file and the routing table, nothing of
 * the daemon's.
 *
 * upstream_pcp_file holds one PCP server per line (one instance of the DHCP
 * PCP server option, OPTION_V4_PCP_SERVER or OPTION_V6_PCP_SERVER), its IPv4
 * addresses (or IPv4-mapped IPv6 ones, as DHCPv6 carries them) separated by
 * blanks, in the order the option gave them; '#' starts a comment, blank
 * lines are skipped. A line that cannot be used is skipped with a warning
 * naming it; a missing file is no server.
 */
#ifndef PG_PCPC_SELECT_H
#define PG_PCPC_SELECT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "pcp/pcp_client.h"

struct nlmsghdr;

#define PCPC_SELECT_MAX		8	/* servers taken from the file (or gateways) */
#define PCPC_SELECT_FILE_MAX	65536	/* a longer file is not read */
#define PCPC_SELECT_LINE_MAX	512

enum pcpc_source {
	PCPC_SRC_CONFIG,	/* upstream_pcp = ADDR */
	PCPC_SRC_FILE,		/* upstream_pcp_file: the DHCP option */
	PCPC_SRC_GATEWAY,	/* the WAN interface's default gateway */
};

/* One server: its addresses, tried in this order (RFC 7488 §3). */
struct pcpc_server {
	struct in6_addr	 addr[PCPC_SERVER_ADDRS];	/* v4-mapped */
	size_t		 naddr;
	enum pcpc_source source;
	unsigned	 line;		/* PCPC_SRC_FILE: where it was */
};

/* A default route's gateway and metric (its route's RTA_PRIORITY). */
struct pcpc_gateway {
	struct in6_addr	 addr;		/* v4-mapped; all zeros: a route with no gateway (ppp) */
	uint32_t	 metric;
};

/* A problem with line `line` of a file (0: the whole file). */
typedef void pcpc_select_warn_fn(void *arg, unsigned line, const char *msg);

/* Parse upstream_pcp_file's text: at most max servers into out, in order; problems to warn. */
size_t pcpc_select_parse(const char *text, size_t len, struct pcpc_server *out, size_t max,
    pcpc_select_warn_fn *warn, void *arg);
/* Read and parse the file (missing: 0, said at debug level); problems logged as PATH:LINE. */
size_t pcpc_select_read(const char *path, struct pcpc_server *out, size_t max);
/*
 * One message of an IPv4 route dump: a default unicast route of the main
 * table through ifindex (or a multipath one with a hop through it) adds its
 * gateway to gw (n of max, ordered by metric); 1 if it did.
 */
int pcpc_select_route(const struct nlmsghdr *, unsigned ifindex, struct pcpc_gateway *gw,
    size_t max, size_t *n);
/* The default gateways of ifname now (a dump over rtnetlink); their number, -1 on failure. */
int pcpc_select_gateways(const char *ifname, struct pcpc_gateway *gw, size_t max);
/*
 * The servers to ask, in order: configured (not NULL: that one alone);
 * else the file's, if it names any (RFC 6887 §8.1: one source of
 * configuration is the list); else each default gateway of ifname, by
 * metric (a point-to-point link's peer for a route with no gateway).
 */
size_t pcpc_select_servers(const struct in6_addr *configured, const char *file,
    const char *ifname, struct pcpc_server *out, size_t max);
/* "config", "file", "gateway". */
const char *pcpc_source_name(enum pcpc_source);
/* 1 if a is an address a PCP server may have: unicast IPv4, not 0/8, loopback or class E. */
int pcpc_select_addr_ok(const struct in6_addr *a);

#endif
