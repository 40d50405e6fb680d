/*
 * neigh.c - the LAN's neighbour table, followed over rtnetlink.
 *
 * UDP cannot prove who sent a datagram, but the gateway knows which
 * link-layer address each LAN address answers from: its own neighbour
 * (ARP / NDP) table. This module mirrors that table for the LAN interfaces
 * — a dump at start and after a lost event, then RTM_NEWNEIGH/RTM_DELNEIGH
 * messages as they come — so that the firewall can honour a PCP/NAT-PMP
 * request or trigger packet only from the MAC that holds its source address
 * (`ip saddr . ether saddr @lan_hosts`), and so that limits can count per
 * host rather than per address.
 *
 * An entry the kernel drops (garbage collection of a quiet host, whose own
 * ARP cache may still hold the gateway) is kept for NEIGH_KEEP_S more, so
 * a host that stays quiet does not lose its PCP renewals; a new MAC for an
 * address replaces the old one at once. Multicast, broadcast and all-zero
 * link-layer addresses, and entries without one (INCOMPLETE, FAILED), are
 * never taken.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "neigh.h"
#include "util.h"

#define NEIGH_KEEP_S	3600	/* a pair the kernel forgot stays valid this long */
#define NEIGH_PRUNE_S	60

struct neigh {
	struct mnl_socket	*nl;
	struct event		*ev;
	struct event		*prune_ev;
	char			**lan;
	size_t			 nlan;
	int			 detached;
	const struct pg_clock	*clk;
	neigh_cb		*cb;
	void			*arg;
	struct neigh_host	*h;
	size_t			 n, cap;
	int			 warned_full;
	int			 dumping;	/* entries not seen in the dump are gone */
	int			 lost;		/* events were dropped: dump once drained */
	uint64_t		 resolve_at;	/* start of the current second of resolves */
	unsigned		 resolves;	/* sent in it */
	uint8_t			*seen;		/* per entry, during a dump */
};

static int
neigh_is_lan(const struct neigh *nb, int ifindex)
{
	char name[IF_NAMESIZE];
	size_t i;

	if (nb->detached)
		return ifindex == 0;
	if (if_indextoname((unsigned)ifindex, name) == NULL)
		return 0;
	for (i = 0; i < nb->nlan; i++)
		if (strcmp(nb->lan[i], name) == 0)
			return 1;
	return 0;
}

static struct neigh_host *
neigh_find(const struct neigh *nb, const struct in6_addr *a)
{
	size_t i;

	for (i = 0; i < nb->n; i++)
		if (memcmp(&nb->h[i].addr, a, sizeof(*a)) == 0)
			return &nb->h[i];
	return NULL;
}

/* A unicast link-layer address: not multicast or broadcast (bit 0 of the first octet), not zero. */
static int
neigh_mac_ok(const uint8_t *m)
{
	static const uint8_t zero[6];

	return (m[0] & 1) == 0 && memcmp(m, zero, 6) != 0;
}

/*
 * A slot for a new pair: a new one, or with NEIGH_MAX pairs held the one
 * the kernel forgot longest ago (the kernel holds far fewer than NEIGH_MAX
 * at a time, so only forgotten pairs fill the table: a host inventing
 * addresses must not lock new hosts out for the hour they are kept).
 * NULL if every pair is current or memory is short.
 */
static struct neigh_host *
neigh_slot(struct neigh *nb)
{
	struct neigh_host *old = NULL, *nh;
	size_t i;

	if (nb->n >= NEIGH_MAX) {
		for (i = 0; i < nb->n; i++)
			if (nb->h[i].gone_ms != 0 && (old == NULL || nb->h[i].gone_ms < old->gone_ms))
				old = &nb->h[i];
		if (!nb->warned_full)
			log_warnx("neigh: more than %d LAN neighbours; %s", NEIGH_MAX, old != NULL ?
			    "those the kernel forgot longest ago make room for new ones" :
			    "the rest are not followed (their PCP/NAT-PMP requests and trigger "
			    "packets are not honoured)");
		nb->warned_full = 1;
		return old;
	}
	if (nb->n == nb->cap) {
		size_t cap = nb->cap ? nb->cap * 2 : 64;

		if ((nh = reallocarray(nb->h, cap, sizeof(*nh))) == NULL)
			return NULL;
		nb->h = nh;
		if ((nh = reallocarray(nb->seen, cap, 1)) == NULL)
			return NULL;
		nb->seen = (uint8_t *)nh;
		nb->cap = cap;
	}
	return &nb->h[nb->n++];
}

/* Take (addr, mac) as current; 1 if the set of pairs changed. */
static int
neigh_set(struct neigh *nb, const struct in6_addr *a, const uint8_t *mac, int ifindex)
{
	struct neigh_host *h = neigh_find(nb, a);

	if (h != NULL) {
		if (nb->dumping)
			nb->seen[h - nb->h] = 1;
		h->gone_ms = 0;
		h->ifindex = ifindex;
		if (memcmp(h->mac, mac, 6) == 0)
			return 0;
		memcpy(h->mac, mac, 6);
		return 1;
	}
	if ((h = neigh_slot(nb)) == NULL)
		return 0;
	memset(h, 0, sizeof(*h));
	h->addr = *a;
	memcpy(h->mac, mac, 6);
	h->ifindex = ifindex;
	nb->seen[h - nb->h] = 1;
	return 1;
}

/* Now, never 0 (0 says "not gone"). */
static uint64_t
neigh_now_nz(const struct neigh *nb)
{
	uint64_t now = pg_clock_now(nb->clk);

	return now ? now : 1;
}

/* The kernel no longer has addr: keep the pair for NEIGH_KEEP_S. */
static void
neigh_gone(struct neigh *nb, const struct in6_addr *a)
{
	struct neigh_host *h = neigh_find(nb, a);

	if (h != NULL && h->gone_ms == 0)
		h->gone_ms = neigh_now_nz(nb);
}

/* Forget pairs gone longer than NEIGH_KEEP_S; 1 if any was. */
static int
neigh_prune(struct neigh *nb)
{
	uint64_t now = pg_clock_now(nb->clk);
	size_t i = 0;
	int changed = 0;

	while (i < nb->n) {
		if (nb->h[i].gone_ms != 0 && now >= nb->h[i].gone_ms &&
		    now - nb->h[i].gone_ms > NEIGH_KEEP_S * 1000ull) {
			nb->h[i] = nb->h[--nb->n];
			nb->seen[i] = nb->seen[nb->n];
			changed = 1;
		} else
			i++;
	}
	return changed;
}

static int
neigh_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NDA_MAX) < 0)
		return MNL_CB_OK;
	if (type == NDA_DST || type == NDA_LLADDR) {
		if (mnl_attr_validate(attr, MNL_TYPE_BINARY) < 0)
			return MNL_CB_OK;
		tb[type] = attr;
	}
	return MNL_CB_OK;
}

/* One RTM_NEWNEIGH / RTM_DELNEIGH; 1 if the set of pairs changed. */
static int
neigh_msg(struct neigh *nb, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NDA_MAX + 1];
	const struct ndmsg *nd;
	struct in6_addr a;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH)
		return 0;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nd)))
		return 0;
	nd = mnl_nlmsg_get_payload(nlh);
	if ((nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6) ||
	    !neigh_is_lan(nb, nd->ndm_ifindex))
		return 0;
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*nd), neigh_attr_cb, tb) < 0 || tb[NDA_DST] == NULL)
		return 0;
	alen = nd->ndm_family == AF_INET ? 4 : 16;
	if (mnl_attr_get_payload_len(tb[NDA_DST]) != alen)
		return 0;
	memset(&a, 0, sizeof(a));
	if (alen == 4) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], mnl_attr_get_payload(tb[NDA_DST]), 4);
	} else
		memcpy(&a, mnl_attr_get_payload(tb[NDA_DST]), 16);
	if (nlh->nlmsg_type == RTM_DELNEIGH ||
	    (nd->ndm_state & (NUD_INCOMPLETE | NUD_FAILED)) != 0) {
		neigh_gone(nb, &a);
		return 0;
	}
	if ((nd->ndm_state & NUD_NOARP) != 0 && (nd->ndm_state & NUD_PERMANENT) == 0)
		return 0;
	if (tb[NDA_LLADDR] == NULL || mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6 ||
	    !neigh_mac_ok(mnl_attr_get_payload(tb[NDA_LLADDR])))
		return 0;
	return neigh_set(nb, &a, mnl_attr_get_payload(tb[NDA_LLADDR]), nd->ndm_ifindex);
}

int
neigh_handle_msg(struct neigh *nb, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int changed = 0, left = len > INT32_MAX ? 0 : (int)len;

	/* framing first: a length libmnl's walk would wrap (0xfffffffd) must not loop */
	if (len > 0 && !util_nl_frames_ok(buf, len))
		return neigh_prune(nb);
	while (mnl_nlmsg_ok(nlh, left)) {
		changed |= neigh_msg(nb, nlh);
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	return changed | neigh_prune(nb);
}

/* A full dump on its own socket, synchronously; entries not in it are gone. 1 if changed. */
static int
neigh_dump(struct neigh *nb)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	uint32_t seq = (uint32_t)time(NULL);
	const struct nlmsghdr *m;
	ssize_t len;
	size_t i;
	int changed = 0, done = 0, rounds = 0, left;

	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("neigh: cannot read the neighbour table");
		if (nl != NULL)
			mnl_socket_close(nl);
		return 0;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_UNSPEC;
	if (nb->n > 0)
		memset(nb->seen, 0, nb->n);
	nb->dumping = 1;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		done = -1;
	while (!done && rounds++ < 4096 && (len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		if (!util_nl_frames_ok(buf, (size_t)len))
			break;
		left = (int)len;
		for (m = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(m, left);
		    m = mnl_nlmsg_next(m, &left)) {
			if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			changed |= neigh_msg(nb, m);
		}
	}
	nb->dumping = 0;
	mnl_socket_close(nl);
	if (done != 1)
		return changed;
	for (i = 0; i < nb->n; i++)
		if (!nb->seen[i] && nb->h[i].gone_ms == 0)
			nb->h[i].gone_ms = neigh_now_nz(nb);
	return changed | neigh_prune(nb);
}

/*
 * Events were dropped (ENOBUFS): the table is read again, once what is
 * still queued has been read (those events are older than a dump, and
 * would undo it), which may take more than one call.
 */
static void
neigh_readable(evutil_socket_t fd, short ev, void *arg)
{
	struct neigh *nb = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t len;
	int changed = 0, n = 0, drained = 0;

	(void)ev;
	while (n++ < 64) {
		if ((len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) == -1) {
			if (errno == ENOBUFS) {
				nb->lost = 1;
				continue;
			}
			drained = errno == EAGAIN || errno == EWOULDBLOCK;
			break;
		}
		changed |= neigh_handle_msg(nb, buf, (size_t)len);
	}
	if (nb->lost && drained) {
		nb->lost = 0;
		changed |= neigh_dump(nb);
	}
	if (changed)
		nb->cb(nb->arg);
}

static void
neigh_prune_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct neigh *nb = arg;

	(void)fd;
	(void)ev;
	if (neigh_prune(nb))
		nb->cb(nb->arg);
}

static struct neigh *
neigh_alloc(const struct pg_clock *clk)
{
	struct neigh *nb = xcalloc(1, sizeof(*nb));

	nb->clk = clk;
	return nb;
}

struct neigh *
neigh_new_detached(const struct pg_clock *clk)
{
	struct neigh *nb = neigh_alloc(clk);

	nb->detached = 1;
	return nb;
}

struct neigh *
neigh_new(struct event_base *base, char *const *lan_ifs, size_t nlan, const struct pg_clock *clk,
    neigh_cb *cb, void *arg)
{
	struct neigh *nb = neigh_alloc(clk);
	struct timeval tv = { NEIGH_PRUNE_S, 0 };
	size_t i;

	nb->cb = cb;
	nb->arg = arg;
	nb->lan = xcalloc(nlan ? nlan : 1, sizeof(*nb->lan));
	for (i = 0; i < nlan; i++)
		nb->lan[i] = xstrdup(lan_ifs[i]);
	nb->nlan = nlan;
	if ((nb->nl = mnl_socket_open(NETLINK_ROUTE)) == NULL ||
	    mnl_socket_bind(nb->nl, RTMGRP_NEIGH, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("neigh: cannot follow the neighbour table");
		neigh_free(nb);
		return NULL;
	}
	nb->ev = event_new(base, mnl_socket_get_fd(nb->nl), EV_READ | EV_PERSIST, neigh_readable,
	    nb);
	nb->prune_ev = event_new(base, -1, EV_PERSIST, neigh_prune_cb, nb);
	if (nb->ev == NULL || nb->prune_ev == NULL || event_add(nb->ev, NULL) == -1 ||
	    event_add(nb->prune_ev, &tv) == -1) {
		log_warnx("neigh: cannot set up events");
		neigh_free(nb);
		return NULL;
	}
	neigh_dump(nb);
	return nb;
}

void
neigh_free(struct neigh *nb)
{
	size_t i;

	if (nb == NULL)
		return;
	if (nb->ev != NULL)
		event_free(nb->ev);
	if (nb->prune_ev != NULL)
		event_free(nb->prune_ev);
	if (nb->nl != NULL)
		mnl_socket_close(nb->nl);
	for (i = 0; i < nb->nlan; i++)
		free(nb->lan[i]);
	free(nb->lan);
	free(nb->h);
	free(nb->seen);
	free(nb);
}

int
neigh_lookup(const struct neigh *nb, const struct in6_addr *a, uint8_t mac[6])
{
	const struct neigh_host *h = nb != NULL ? neigh_find(nb, a) : NULL;

	if (h == NULL)
		return 0;
	memcpy(mac, h->mac, 6);
	return 1;
}

int
neigh_resolve(struct neigh *nb, int ifindex, const struct in6_addr *a)
{
	char buf[256];
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	uint64_t now;
	int v4 = util_addr_is_v4(a);

	if (nb == NULL || nb->nl == NULL || ifindex <= 0 || !neigh_is_lan(nb, ifindex))
		return -1;
	now = pg_clock_now(nb->clk);
	if (now - nb->resolve_at >= 1000) {
		nb->resolve_at = now;
		nb->resolves = 0;
	}
	if (nb->resolves >= NEIGH_RESOLVE_RATE)
		return -1;
	nb->resolves++;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = v4 ? AF_INET : AF_INET6;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_NONE;
	nd->ndm_flags = NTF_USE;	/* "use" the entry: the kernel resolves it */
	mnl_attr_put(nlh, NDA_DST, v4 ? 4 : 16, v4 ? &a->s6_addr[12] : a->s6_addr);
	if (mnl_socket_sendto(nb->nl, nlh, nlh->nlmsg_len) < 0) {
		log_debug("neigh: resolve: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
neigh_host_key(const struct neigh *nb, const struct in6_addr *a, struct in6_addr *key)
{
	uint8_t mac[6];

	memset(key, 0, sizeof(*key));
	if (neigh_lookup(nb, a, mac)) {
		key->s6_addr[0] = 0xff;
		key->s6_addr[1] = 0xfe;
		memcpy(&key->s6_addr[2], mac, 6);
	} else if (util_addr_is_v4(a))
		*key = *a;
	else
		memcpy(key->s6_addr, a->s6_addr, 8);
}

size_t
neigh_hosts(const struct neigh *nb, const struct neigh_host **out)
{
	*out = nb->h;
	return nb->n;
}

void
neigh_status(const struct neigh *nb, pg_status_emit *emit, void *arg)
{
	if (nb == NULL)
		emit(arg, "lan_hosts", "none");
	else
		emit(arg, "lan_hosts", "%zu", nb->n);
}
