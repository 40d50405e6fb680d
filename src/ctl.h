/* ctl.h - the control socket: a small versioned line protocol for portgatectl. */
#ifndef PG_CTL_H
#define PG_CTL_H

#include <stddef.h>

struct pg_ctx;
struct ctl;
struct evbuffer;

#define CTL_PROTO_GREETING	"portgate-ctl 1"

/* Listen on the configured control socket (mode 0600); NULL after logging why. */
struct ctl *ctl_new(struct pg_ctx *);
/* Close the socket, its clients, and unlink it. */
void ctl_free(struct ctl *);
/*
 * Run one request line (percent-encoded words) and append the reply
 * ("| data" lines, then "ok TEXT" or "err TEXT") to out. Firewall changes
 * are committed before the reply is final. Used by the socket and tests.
 */
void ctl_run_lines(struct pg_ctx *, char **lines, size_t n, struct evbuffer *out);

#endif
