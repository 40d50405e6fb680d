/*
 * admin_api.h - the JSON API's routes under /api/v1/: each one a thin
 * caller of the control socket's verbs (ctl_cmd.c), run with words built
 * from the request (never a command line), whose output becomes the JSON
 * answer; and the session routes (login, logout, session).
 *
 * Each handler is an admin_route_fn for admin.c's route table; the
 * table's arg (admin_req_arg) is a struct admin_api.
 */
#ifndef PG_ADMIN_API_H
#define PG_ADMIN_API_H

#include "admin/admin_http.h"
#include "ctl_cmd.h"

struct admin_api {
	const struct ctl_hooks	*hooks;		/* the daemon's status fields */
	struct admin_http	*http;		/* for the status's admin section */
	size_t			 nstreams;	/* event streams open (admin_live.c) */
};

/* POST /api/v1/login {"password"}: a session cookie and {"csrf_token", "idle_timeout"}. */
void admin_api_login(struct admin_req *);
/* POST /api/v1/logout: the session ends. */
void admin_api_logout(struct admin_req *);
/* GET /api/v1/session: {"csrf_token", "idle_timeout"} again. */
void admin_api_session(struct admin_req *);
/* GET /api/v1/status: {"SECTION": {"FIELD": VALUE, ...}, ...} from the status verbs. */
void admin_api_status(struct admin_req *);
/* GET mappings, pinholes, forwards (static mappings), triggers: list --json's arrays. */
void admin_api_mappings(struct admin_req *);
void admin_api_pinholes(struct admin_req *);
void admin_api_forwards(struct admin_req *);
void admin_api_triggers(struct admin_req *);
/* POST forwards {proto, external_port[, external_port_end], internal_ip[, internal_port,
 * lease, description]}; DELETE forwards/PROTO/PORT (a static one). */
void admin_api_forward_add(struct admin_req *);
void admin_api_forward_del(struct admin_req *);
/* POST triggers {name, trigger, open[, idle]}; DELETE triggers/NAME; POST .../enable|disable. */
void admin_api_trigger_add(struct admin_req *);
void admin_api_trigger_del(struct admin_req *);
void admin_api_trigger_enable(struct admin_req *);
void admin_api_trigger_disable(struct admin_req *);
/* DELETE mappings/PROTO/PORT (any source); DELETE pinholes/ID; POST flush {source}. */
void admin_api_mapping_del(struct admin_req *);
void admin_api_pinhole_del(struct admin_req *);
void admin_api_flush(struct admin_req *);

#endif
