/* wanaddr.h - follow the WAN interface's IPv4 address over rtnetlink (when external_ip is unset). */
#ifndef PG_WANADDR_H
#define PG_WANADDR_H

#include <netinet/in.h>

struct event_base;
struct wanaddr;

/* Called when the address changed; have = 0 when the interface has none now. */
typedef void wanaddr_cb(void *arg, const struct in6_addr *addr, int have);

/* Watch ifname's addresses; the first reading is taken now. NULL after logging why. */
struct wanaddr *wanaddr_new(struct event_base *, const char *ifname, wanaddr_cb *, void *);
/* Stop watching. */
void wanaddr_free(struct wanaddr *);
/* The address read last (v4-mapped); 1 if there is one, 0 if not. */
int wanaddr_get(const struct wanaddr *, struct in6_addr *);
/* First IPv4 address of ifname now (getifaddrs); 1 if found. */
int wanaddr_read(const char *ifname, struct in6_addr *);

#endif
