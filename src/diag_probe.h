/*
 * diag_probe.h - the diagnosis's probes of an internal host: a TCP connect
 * from the gateway (non-blocking, in the event loop) and the kernel's
 * neighbour state of an address.
 */
#ifndef PG_DIAG_PROBE_H
#define PG_DIAG_PROBE_H

#include <netinet/in.h>
#include <stdint.h>

struct event_base;
struct diag_tcp;

/* How the connect ended: 0 connected, else ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH ... */
typedef void diag_tcp_cb(void *arg, int err);

/*
 * Connect to addr:port (IPv4-mapped) within timeout_ms, then close; cb runs
 * once, from the loop (never before this returns). NULL if it cannot start.
 */
struct diag_tcp *diag_tcp_start(struct event_base *, const struct in6_addr *addr,
    uint16_t port, uint32_t timeout_ms, diag_tcp_cb *cb, void *arg);
/* Stop (cb is not called) and free. */
void diag_tcp_free(struct diag_tcp *);
/* The kernel's neighbour state (NUD_*) of an IPv4 address; 0 if no entry, -1 if unreadable. */
int diag_neigh_state(const struct in6_addr *addr);
/* The name of a neighbour state: "REACHABLE", "STALE", ... */
const char *diag_nud_name(int nud);

#endif
