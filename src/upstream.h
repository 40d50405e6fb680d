/*
 * upstream.h - the upstream PCP server, for the daemon: which one to ask
 * (upstream_pcp), whether it answers, what it says, on the one loop. For now
 * only that (an ANNOUNCE request at start-up, logged and in status); the
 * table's entries become its mappings in the next step.
 */
#ifndef PG_UPSTREAM_H
#define PG_UPSTREAM_H

#include "status.h"

struct pg_ctx;
struct upstream;

/* Look for the upstream server as upstream_pcp says and ask it; NULL when off (said why). */
struct upstream *upstream_new(struct pg_ctx *);
/* Stop asking (nothing is sent). */
void upstream_free(struct upstream *);
/*
 * Status: upstream_pcp (off, auto or the address), then, when looked for,
 * upstream_pcp_source and the client's fields (pcpc_status), or
 * upstream_pcp_state none and upstream_pcp_reason when nothing could be asked.
 */
void upstream_status(const struct upstream *, const struct pg_ctx *, pg_status_emit *, void *);

#endif
