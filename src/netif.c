/*
 * netif.c - which addresses are LAN hosts.
 *
 * Every front end (control socket, triggers, and the protocol front ends)
 * asks the mapping table to map to an internal client; the table asks this
 * module whether that address is acceptable, so the rule lives in one place.
 */
#include "config.h"

#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netif.h"
#include "util.h"

#define NETIF_REFRESH_MS	1000

static const char netif_not_lan[] = "not inside a LAN subnet";

struct netif {
	char			**names;
	size_t			  nnames;
	struct pg_clock		  clk;
	uint64_t		  refreshed_ms;
	int			  fixed;		/* set by netif_set: never re-read */
	struct netif_prefix	  lan[NETIF_MAX_PREFIX];
	size_t			  nlan;
	struct in6_addr		  local[NETIF_MAX_LOCAL];
	size_t			  nlocal;
};

struct netif *
netif_new(char *const *lan_ifs, size_t nlan, const struct pg_clock *clk)
{
	struct netif *n = xcalloc(1, sizeof(*n));
	size_t i;

	n->clk = *clk;
	n->names = xcalloc(nlan ? nlan : 1, sizeof(*n->names));
	for (i = 0; i < nlan; i++)
		n->names[i] = xstrdup(lan_ifs[i]);
	n->nnames = nlan;
	netif_refresh(n);
	return n;
}

void
netif_free(struct netif *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nnames; i++)
		free(n->names[i]);
	free(n->names);
	free(n);
}

static void
netif_sockaddr(const struct sockaddr *sa, struct in6_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		out->s6_addr[10] = out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12], &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else
		*out = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
}

/* Prefix length of a netmask in the 128-bit space. */
static unsigned
netif_plen(const struct sockaddr *mask)
{
	struct in6_addr m;
	unsigned plen = 0, i;

	netif_sockaddr(mask, &m);
	for (i = mask->sa_family == AF_INET ? 12 : 0; i < 16; i++)
		plen += (unsigned)__builtin_popcount(m.s6_addr[i]);
	return plen + (mask->sa_family == AF_INET ? 96 : 0);
}

static void
netif_mask(struct in6_addr *a, unsigned plen)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8) {
			plen -= 8;
			continue;
		}
		a->s6_addr[i] &= (uint8_t)(0xff << (8 - plen));
		plen = 0;
	}
}

static int
netif_is_lan(const struct netif *n, const char *name)
{
	size_t i;

	for (i = 0; i < n->nnames; i++)
		if (strcmp(n->names[i], name) == 0)
			return 1;
	return 0;
}

static void
netif_add_addr(struct netif *n, const struct ifaddrs *i)
{
	struct netif_prefix *p;

	if (n->nlocal < NETIF_MAX_LOCAL)
		netif_sockaddr(i->ifa_addr, &n->local[n->nlocal++]);
	if (!netif_is_lan(n, i->ifa_name) || i->ifa_netmask == NULL ||
	    n->nlan == NETIF_MAX_PREFIX)
		return;
	p = &n->lan[n->nlan];
	netif_sockaddr(i->ifa_addr, &p->addr);
	p->local = p->addr;
	p->ifindex = if_nametoindex(i->ifa_name);
	p->plen = netif_plen(i->ifa_netmask);
	if (IN6_IS_ADDR_LINKLOCAL(&p->addr))
		return;		/* fe80::/64 is on every link: not a LAN subnet */
	netif_mask(&p->addr, p->plen);
	snprintf(p->ifname, sizeof(p->ifname), "%s", i->ifa_name);
	n->nlan++;
}

size_t
netif_refresh(struct netif *n)
{
	struct ifaddrs *ifa, *i;

	if (n->fixed)
		return n->nlan;
	n->refreshed_ms = pg_clock_now(&n->clk);
	if (getifaddrs(&ifa) == -1) {
		log_warn("netif: getifaddrs");
		return n->nlan;
	}
	n->nlan = n->nlocal = 0;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		netif_add_addr(n, i);
	}
	freeifaddrs(ifa);
	return n->nlan;
}

void
netif_set(struct netif *n, const struct netif_prefix *p, size_t np,
    const struct in6_addr *local, size_t nlocal)
{
	n->fixed = 1;
	n->nlan = np < NETIF_MAX_PREFIX ? np : NETIF_MAX_PREFIX;
	memcpy(n->lan, p, n->nlan * sizeof(*p));
	n->nlocal = nlocal < NETIF_MAX_LOCAL ? nlocal : NETIF_MAX_LOCAL;
	memcpy(n->local, local, n->nlocal * sizeof(*local));
}

size_t
netif_lan_prefixes(const struct netif *n, const struct netif_prefix **out)
{
	*out = n->lan;
	return n->nlan;
}

/* Addresses that are never a host: why, or NULL. */
static const char *
netif_never(const struct in6_addr *a)
{
	const uint8_t *b = &a->s6_addr[12];

	if (!util_addr_is_v4(a)) {
		if (IN6_IS_ADDR_UNSPECIFIED(a))
			return "the unspecified address";
		if (IN6_IS_ADDR_LOOPBACK(a))
			return "a loopback address";
		if (IN6_IS_ADDR_MULTICAST(a))
			return "a multicast address";
		if (IN6_IS_ADDR_LINKLOCAL(a))
			return "a link-local address";
		return NULL;
	}
	if (b[0] == 0)
		return "an unspecified (0.0.0.0/8) address";
	if (b[0] == 127)
		return "a loopback address";
	if (b[0] >= 224 && b[0] <= 239)
		return "a multicast address";
	if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
		return "the broadcast address";
	if (b[0] >= 240)
		return "a reserved (240.0.0.0/4) address";
	return NULL;
}

static int
netif_in_prefix(const struct netif_prefix *p, const struct in6_addr *a)
{
	struct in6_addr m = *a;

	netif_mask(&m, p->plen);
	return memcmp(&m, &p->addr, sizeof(m)) == 0;
}

int
netif_local_for(const struct netif *n, const struct in6_addr *peer, struct in6_addr *out)
{
	size_t i;

	for (i = 0; i < n->nlan; i++) {
		if (!netif_in_prefix(&n->lan[i], peer))
			continue;
		*out = n->lan[i].local;
		return 0;
	}
	return -1;
}

int
netif_is_lan_local(const struct netif *n, const struct in6_addr *a)
{
	size_t i;

	for (i = 0; i < n->nlan; i++)
		if (memcmp(&n->lan[i].local, a, sizeof(*a)) == 0)
			return 1;
	return 0;
}

int
netif_is_own(const struct netif *n, const struct in6_addr *a)
{
	size_t i;

	for (i = 0; i < n->nlocal; i++)
		if (memcmp(&n->local[i], a, sizeof(*a)) == 0)
			return 1;
	return netif_is_lan_local(n, a);
}

/* Inside a LAN prefix but its network or broadcast address: why, or NULL. */
static const char *
netif_edge(const struct netif_prefix *p, const struct in6_addr *a)
{
	struct in6_addr bcast = p->addr;
	unsigned i, bit;

	if (!util_addr_is_v4(a) || p->plen >= 127)
		return NULL;	/* /31 and /32 have no network or broadcast address */
	if (memcmp(a, &p->addr, sizeof(*a)) == 0)
		return "the network address";
	for (bit = p->plen; bit < 128; bit++) {
		i = bit / 8;
		bcast.s6_addr[i] |= (uint8_t)(0x80 >> (bit % 8));
	}
	if (memcmp(a, &bcast, sizeof(*a)) == 0)
		return "the broadcast address";
	return NULL;
}

static const char *
netif_check(const struct netif *n, const struct in6_addr *a, const struct netif_prefix **in)
{
	const char *why;
	size_t i;

	*in = NULL;
	if ((why = netif_never(a)) != NULL)
		return why;
	if (netif_is_own(n, a))
		return "an address of the gateway itself";
	if (n->nnames == 0 && !n->fixed)
		return NULL;	/* no LAN interface configured (firewall = none) */
	for (i = 0; i < n->nlan; i++) {
		if (!netif_in_prefix(&n->lan[i], a))
			continue;
		*in = &n->lan[i];
		return netif_edge(&n->lan[i], a);
	}
	return netif_not_lan;
}

int
netif_client_ok(struct netif *n, const struct in6_addr *a, char *why, size_t whylen)
{
	const struct netif_prefix *in;
	const char *w;
	char abuf[INET6_ADDRSTRLEN], pbuf[INET6_ADDRSTRLEN];

	if ((w = netif_check(n, a, &in)) != NULL && !n->fixed &&
	    pg_clock_now(&n->clk) - n->refreshed_ms >= NETIF_REFRESH_MS) {
		netif_refresh(n);	/* an address may have been added since */
		w = netif_check(n, a, &in);
	}
	if (w == NULL)
		return 1;
	if (why == NULL)
		return 0;
	util_addr_str(a, abuf, sizeof(abuf));
	if (in != NULL)
		snprintf(why, whylen, "%s is %s of %s %s/%u", abuf, w, in->ifname,
		    util_addr_str(&in->addr, pbuf, sizeof(pbuf)),
		    util_addr_is_v4(a) ? in->plen - 96 : in->plen);
	else if (w == netif_not_lan && n->nlan == 0)
		snprintf(why, whylen, "%s is not a LAN host: no lan_interface has an address", abuf);
	else
		snprintf(why, whylen, "%s is %s", abuf, w);
	return 0;
}
