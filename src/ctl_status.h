/* ctl_status.h - `portgatectl status`: a table of the modules' status verbs. */
#ifndef PG_CTL_STATUS_H
#define PG_CTL_STATUS_H

#include "status.h"

struct pg_ctx;

/* A section of the status: one module's verb applied to the context. */
typedef void ctl_status_fn(const struct pg_ctx *, pg_status_emit *, void *);

/*
 * Every section in order, each field through emit: first own (the owner's
 * own fields: version, uptime ...; NULL: none), then the table's, the
 * triggers', the state file's, UPnP's, PCP's and the neighbour table's.
 */
void ctl_status(const struct pg_ctx *, ctl_status_fn *own, pg_status_emit *, void *);
/* The same, with section(arg, NAME) before each section ("daemon", "table", ...; NULL: none). */
void ctl_status_sections(const struct pg_ctx *, ctl_status_fn *own,
    void (*section)(void *, const char *), pg_status_emit *, void *);

#endif
