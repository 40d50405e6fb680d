/*
 * wanaddr.c - the WAN interface's address, followed over rtnetlink.
 *
 * A socket joined to RTNLGRP_IPV4_IFADDR wakes us when any IPv4 address
 * comes or goes; 100 ms later (a DHCP renewal often sends several
 * messages) the WAN interface's first IPv4 address is read again with
 * getifaddrs, and the owner is told only if it differs. The messages
 * themselves are not interpreted: what counts is the interface's state
 * after them.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "util.h"
#include "wanaddr.h"

#define WANADDR_SETTLE_MS	100

struct wanaddr {
	char			*ifname;
	struct mnl_socket	*nl;
	struct event		*ev;
	struct event		*settle;
	wanaddr_cb		*cb;
	void			*arg;
	struct in6_addr		 addr;
	int			 have;
};

int
wanaddr_read(const char *ifname, struct in6_addr *out)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (ifname == NULL || getifaddrs(&ifa) == -1)
		return 0;
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->s6_addr[10] = out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12], &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
		found = 1;
	}
	freeifaddrs(ifa);
	return found;
}

static void
wanaddr_settled(evutil_socket_t fd, short ev, void *arg)
{
	struct wanaddr *w = arg;
	struct in6_addr a;
	int have;

	(void)fd;
	(void)ev;
	memset(&a, 0, sizeof(a));
	have = wanaddr_read(w->ifname, &a);
	if (have == w->have && (!have || memcmp(&a, &w->addr, sizeof(a)) == 0))
		return;
	w->have = have;
	w->addr = a;
	w->cb(w->arg, &w->addr, have);
}

static void
wanaddr_readable(evutil_socket_t fd, short ev, void *arg)
{
	struct wanaddr *w = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct timeval tv = { 0, WANADDR_SETTLE_MS * 1000 };
	int n = 0;

	(void)ev;
	/* drain what is queued (ENOBUFS too: we re-read the interface anyway) */
	while (n++ < 64 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) != -1)
		;
	if (!evtimer_pending(w->settle, NULL))
		evtimer_add(w->settle, &tv);
}

struct wanaddr *
wanaddr_new(struct event_base *base, const char *ifname, wanaddr_cb *cb, void *arg)
{
	struct wanaddr *w = xcalloc(1, sizeof(*w));

	w->ifname = xstrdup(ifname);
	w->cb = cb;
	w->arg = arg;
	w->have = wanaddr_read(ifname, &w->addr);
	if ((w->nl = mnl_socket_open(NETLINK_ROUTE)) == NULL ||
	    mnl_socket_bind(w->nl, RTMGRP_IPV4_IFADDR, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("wanaddr: cannot watch the addresses of %s", ifname);
		wanaddr_free(w);
		return NULL;
	}
	w->ev = event_new(base, mnl_socket_get_fd(w->nl), EV_READ | EV_PERSIST, wanaddr_readable,
	    w);
	w->settle = evtimer_new(base, wanaddr_settled, w);
	if (w->ev == NULL || w->settle == NULL || event_add(w->ev, NULL) == -1) {
		log_warnx("wanaddr: cannot set up events");
		wanaddr_free(w);
		return NULL;
	}
	return w;
}

void
wanaddr_free(struct wanaddr *w)
{
	if (w == NULL)
		return;
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->settle != NULL)
		event_free(w->settle);
	if (w->nl != NULL)
		mnl_socket_close(w->nl);
	free(w->ifname);
	free(w);
}

int
wanaddr_get(const struct wanaddr *w, struct in6_addr *out)
{
	if (w->have)
		*out = w->addr;
	return w->have;
}
