/* ctl.h - the control socket: a small versioned line protocol for portgatectl. */
#ifndef PG_CTL_H
#define PG_CTL_H

#include <stddef.h>

#include "ctl_cmd.h"
#include "ctl_line.h"

struct pg_ctx;
struct ctl;
struct ctl_batch;
struct evbuffer;

#define CTL_MAX_CONNS		32	/* clients at once */
#define CTL_WRITE_SECONDS	30	/* a client that reads nothing is closed */

/*
 * Listen on the configured control socket (mode 0600), the commands served
 * with the owner's hooks (copied; NULL: none); NULL after logging why.
 */
struct ctl *ctl_new(struct pg_ctx *, const struct ctl_hooks *);
/* Close the socket, its clients, and unlink it. */
void ctl_free(struct ctl *);

/*
 * Start a batch of requests: their firewall changes go to the kernel in the
 * table's one commit of the loop turn, and the replies wait for it.
 */
struct ctl_batch *ctl_batch_new(struct ctl *);
/* Run one request line (len bytes, may hold a NUL: refused); returns reply bytes so far. */
size_t ctl_batch_run(struct ctl_batch *, const char *line, size_t len);
/* Number of requests in the batch. */
size_t ctl_batch_count(const struct ctl_batch *);
/*
 * Append every reply to out in order once the batch's entries have landed
 * (at once with a table that commits at once), then free the batch and
 * call done(arg) if set. out must live until then.
 */
void ctl_batch_finish(struct ctl_batch *, struct evbuffer *out, void (*done)(void *),
    void *arg);
/* Drop a batch whose replies are no longer wanted (its connection went). */
void ctl_batch_free(struct ctl_batch *);
/*
 * Run request lines as one batch and append the replies ("| data" lines,
 * then "ok TEXT" or "err TEXT", the text percent-encoded) to out.
 */
void ctl_run_lines(struct ctl *, char **lines, size_t n, struct evbuffer *out);

#endif
