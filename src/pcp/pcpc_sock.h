/*
 * pcpc_sock.h - the upstream PCP client's sockets: one bound to the WAN
 * address and connected to the server (only its answers arrive), one on
 * 224.0.0.1:5350 for the ANNOUNCEs that come in on the WAN interface.
 */
#ifndef PG_PCPC_SOCK_H
#define PG_PCPC_SOCK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct pcpc_sock;

#define PCPC_SOCK_BUDGET	64	/* datagrams read per socket per loop turn */

/* A datagram from src:sport (v4-mapped); multicast 1 when it came to 224.0.0.1:5350 on the WAN. */
typedef void pcpc_sock_fn(void *arg, const uint8_t *buf, size_t len, const struct in6_addr *src,
    uint16_t sport, int multicast);

/*
 * Open the socket bound to local (v4-mapped) and, with an ifindex, the
 * multicast one (optional: without it, debug says why), watched in base's
 * loop; datagrams go to fn, those refused here are counted in *dropped.
 * NULL after logging why.
 */
struct pcpc_sock *pcpc_sock_new(struct event_base *, const struct in6_addr *local,
    unsigned ifindex, pcpc_sock_fn *fn, void *arg, uint64_t *dropped);
/* Close. */
void pcpc_sock_free(struct pcpc_sock *);
/* Talk to this server (v4-mapped) from now on: only its answers arrive; 0, or -1 after logging why. */
int pcpc_sock_connect(struct pcpc_sock *, const struct in6_addr *server, uint16_t port);
/* Send buf to the server; 0, or -1 with errno set. */
int pcpc_sock_send(struct pcpc_sock *, const uint8_t *buf, size_t len);

#endif
