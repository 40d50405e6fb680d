/*
 * admin_live.h - the admin server's routes beyond the control verbs
 * (admin_live.c): each an admin_route_fn for admin.c's table, whose arg is
 * the struct admin_api.
 */
#ifndef PG_ADMIN_LIVE_H
#define PG_ADMIN_LIVE_H

#include "admin/admin_http.h"

#define ADMIN_SSE_MAX	16	/* event streams open at once, over all listeners */

/* GET / and /FILE: the panel's embedded files (web/). */
void admin_live_page(struct admin_req *);
/* GET /api/v1/events: Server-Sent Events, one JSON event each, id its number. */
void admin_live_events(struct admin_req *);
/* GET /metrics: the Prometheus text page. */
void admin_live_metrics(struct admin_req *);
/* GET /api/v1/history: the last hour, one sample a minute. */
void admin_live_history(struct admin_req *);
/* GET /api/v1/check?proto=&port=[&wait=]: the diagnosis as JSON. */
void admin_live_check(struct admin_req *);

#endif
