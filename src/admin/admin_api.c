/*
 * admin_api.c - the JSON API's routes (admin_api.h).
 *
 * A route checks its body's members (names, types; admin_json.c checked
 * the text), builds the words of one control verb from them and from the
 * path's segments, and runs it as the control socket would
 * (ctl_cmd_run_argv): what decides is the verb, so the API and portgatectl
 * say the same and refuse the same. Options go first and "--" before the
 * words, so no value can pass for an option. A verb's data lines are the
 * answer (list --json's arrays), or its result is ({"ok": true,
 * "message": ...}); a failure is {"error": the CLI's message} with a
 * status for its kind (enum ctl_fail). A verb whose entry must reach the
 * kernel first (forward add) holds the answer until the table's commit
 * says how it went, as the socket's batches do.
 */
#include "config.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_api.h"
#include "admin/admin_auth.h"
#include "admin/admin_json.h"
#include "ctl_cmd.h"
#include "ctl_status.h"
#include "daemon.h"
#include "mtable.h"
#include "util.h"

#define API_ARGS	16
#define API_STATUS_FIELDS 128

/* One verb's run: its request, where its data lines gather, and the answer's shape. */
struct api_call {
	struct admin_req	*rq;
	struct ctl_req		 r;
	struct evbuffer		*data;
	unsigned		 ok_status;
	int			 json;		/* the data lines are the answer */
	int			 waiting;	/* for the table's commit */
};

/* A body member a route takes. */
struct api_member {
	const char		*name;
	enum admin_json_type	 type;
	int			 required;
};

static void
api_gather(void *arg, const char *text, size_t len)
{
	evbuffer_add(arg, text, len);
}

static unsigned
api_fail_status(enum ctl_fail f)
{
	switch (f) {
	case CTL_FAIL_MISSING:
		return MHD_HTTP_NOT_FOUND;
	case CTL_FAIL_CONFLICT:
		return MHD_HTTP_CONFLICT;
	case CTL_FAIL_REFUSED:
		return MHD_HTTP_FORBIDDEN;
	case CTL_FAIL_INTERNAL:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	case CTL_FAIL_BAD:
		break;
	}
	return MHD_HTTP_BAD_REQUEST;
}

/* {"ok": true, "message": TEXT} */
static void
api_reply_ok(struct admin_req *rq, unsigned status, const char *msg)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	evbuffer_add_printf(b, "{\"ok\":true,\"message\":");
	util_json_str(b, msg, strlen(msg));
	evbuffer_add_printf(b, "}\n");
	admin_reply_json(rq, status, b);
	evbuffer_free(b);
}

static void
api_answer(struct api_call *c)
{
	if (!c->r.ok)
		admin_reply_error(c->rq, api_fail_status(c->r.fail), "%s", c->r.result);
	else if (c->json) {
		evbuffer_add(c->data, "\n", 1);
		admin_reply_json(c->rq, MHD_HTTP_OK, c->data);
	} else
		api_reply_ok(c->rq, c->ok_status, c->r.result);
}

static void
api_call_free(struct api_call *c)
{
	if (c->waiting)
		mtable_commit_cancel(admin_req_ctx(c->rq)->mt, c);
	evbuffer_free(c->data);
	free(c);
}

/* The request ended (answered, or its connection went with the server). */
static void
api_call_closed(void *arg)
{
	api_call_free(arg);
}

static void
api_landed(void *arg, int err)
{
	struct api_call *c = arg;

	c->waiting = 0;
	ctl_cmd_landed(&c->r, err);
	api_answer(c);
	admin_req_resume(c->rq);
}

/* Run the verb argv (argc words) for rq, and answer with what it says. */
static void
api_run(struct admin_req *rq, int argc, const char *const *argv, int json, unsigned ok_status)
{
	const struct admin_api *api = admin_req_arg(rq);
	struct api_call *c;

	if ((c = calloc(1, sizeof(*c))) == NULL || (c->data = evbuffer_new()) == NULL) {
		free(c);
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	c->rq = rq;
	c->json = json;
	c->ok_status = ok_status;
	c->r.ctx = admin_req_ctx(rq);
	c->r.hooks = api->hooks;
	c->r.out.data = api_gather;
	c->r.out.arg = c->data;
	ctl_cmd_run_argv(&c->r, argc, argv);
	if (c->r.landing == NULL) {
		api_answer(c);
		api_call_free(c);
		return;
	}
	/* the answer waits for the kernel; a table without a scheduler lands it at once */
	c->waiting = 1;
	admin_req_suspend(rq, api_call_closed, c);
	mtable_commit_entry(c->r.ctx->mt, c->r.landing, c, api_landed, c);
}

/* ---- bodies ---- */

static const char *
api_type_name(enum admin_json_type t)
{
	return t == ADMIN_JSON_STRING ? "a string" : t == ADMIN_JSON_INT ? "a whole number" :
	    "true or false";
}

/* 0 if the body has only members of m (with their types) and every required one; else 400. */
static int
api_check(struct admin_req *rq, const struct api_member *m, size_t n)
{
	const struct admin_json *j = admin_req_body(rq);
	const struct admin_json_field *f;
	char names[256];
	size_t i, k, off = 0;

	for (k = 0; k < n; k++)
		off += (size_t)snprintf(names + off, off < sizeof(names) ? sizeof(names) - off : 0,
		    "%s%s", k ? ", " : "", m[k].name);
	for (i = 0; i < j->n; i++) {
		for (k = 0; k < n && strcmp(j->f[i].name, m[k].name) != 0; k++)
			;
		if (k == n) {
			admin_reply_error(rq, MHD_HTTP_BAD_REQUEST, "unknown member '%s' (%s)",
			    j->f[i].name, names);
			return -1;
		}
		if (j->f[i].type != m[k].type) {
			admin_reply_error(rq, MHD_HTTP_BAD_REQUEST, "'%s' must be %s", m[k].name,
			    api_type_name(m[k].type));
			return -1;
		}
	}
	for (k = 0; k < n; k++)
		if (m[k].required && (f = admin_json_get(j, m[k].name)) == NULL) {
			admin_reply_error(rq, MHD_HTTP_BAD_REQUEST, "'%s' is required", m[k].name);
			return -1;
		}
	return 0;
}

static const char *
api_str(const struct admin_req *rq, const char *name)
{
	const struct admin_json_field *f = admin_json_get(admin_req_body(rq), name);

	return f != NULL ? f->str : NULL;
}

/* The integer member name as text into buf; NULL if absent. */
static const char *
api_num(const struct admin_req *rq, const char *name, char *buf, size_t len)
{
	const struct admin_json_field *f = admin_json_get(admin_req_body(rq), name);

	if (f == NULL)
		return NULL;
	snprintf(buf, len, "%" PRId64, f->num);
	return buf;
}

/* ---- sessions ---- */

static void
api_session_json(struct admin_req *rq, const struct admin_session *s, const char *cookie)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	evbuffer_add_printf(b, "{\"csrf_token\":\"%s\",\"idle_timeout\":%u}\n",
	    admin_session_csrf(s), admin_auth_idle(admin_req_auth(rq)));
	admin_reply_json(rq, MHD_HTTP_OK, b);
	evbuffer_free(b);
	if (cookie != NULL)
		admin_reply_header(rq, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

void
admin_api_login(struct admin_req *rq)
{
	static const struct api_member m[] = { { "password", ADMIN_JSON_STRING, 1 } };
	const struct admin_json_field *pw;
	struct admin_session *s;
	char cookie[160], retry[16];
	unsigned wait;

	if (api_check(rq, m, PG_NELEM(m)) == -1)
		return;
	pw = admin_json_get(admin_req_body(rq), "password");
	if (pw->len == 0 || pw->len > ADMIN_PASSWORD_MAX) {
		admin_reply_error(rq, MHD_HTTP_BAD_REQUEST, "'password' must have 1 to %d bytes",
		    ADMIN_PASSWORD_MAX);
		return;
	}
	switch (admin_auth_login(admin_req_auth(rq), admin_req_client(rq), pw->str, &s, &wait)) {
	case ADMIN_LOGIN_OK:
		snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
		    ADMIN_COOKIE, admin_session_id(s), admin_req_tls(rq) ? "; Secure" : "");
		api_session_json(rq, s, cookie);
		return;
	case ADMIN_LOGIN_WRONG:
		admin_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "wrong password");
		return;
	case ADMIN_LOGIN_LIMITED:
		snprintf(retry, sizeof(retry), "%u", wait);
		admin_reply_error(rq, MHD_HTTP_TOO_MANY_REQUESTS, "too many failed logins; try "
		    "again in %u s", wait);
		admin_reply_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, retry);
		return;
	case ADMIN_LOGIN_NOPASS:
		admin_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "no admin password is set "
		    "(portgatectl passwd sets one)");
		return;
	case ADMIN_LOGIN_ERROR:
		break;
	}
	admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot make a session");
}

void
admin_api_logout(struct admin_req *rq)
{
	char cookie[128];

	admin_auth_logout(admin_req_auth(rq), admin_req_session(rq));
	snprintf(cookie, sizeof(cookie), "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
	    ADMIN_COOKIE, admin_req_tls(rq) ? "; Secure" : "");
	api_reply_ok(rq, MHD_HTTP_OK, "logged out");
	admin_reply_header(rq, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

void
admin_api_session(struct admin_req *rq)
{
	api_session_json(rq, admin_req_session(rq), NULL);
}

/* ---- status ---- */

/*
 * The status verbs' fields, a section at a time: a field given once is
 * "NAME": VALUE, one given more often ("source static 2", "source upnp 0")
 * "NAME": [VALUE, ...]; a value that is a whole number is a JSON number.
 */
struct api_status {
	struct evbuffer	*out;
	int		 sections;
	char		*name[API_STATUS_FIELDS];
	char		*value[API_STATUS_FIELDS];
	size_t		 n;
};

static void
api_status_value(struct evbuffer *b, const char *v)
{
	size_t len = strlen(v), d = v[0] == '-';

	if (len > d && len - d <= 18 && strspn(v + d, "0123456789") == len - d &&
	    (v[d] != '0' || len - d == 1))
		evbuffer_add(b, v, len);
	else
		util_json_str(b, v, len);
}

/* The section's fields as one object; they are forgotten. */
static void
api_status_flush(struct api_status *st)
{
	size_t i, j, count;

	evbuffer_add_printf(st->out, "{");
	for (i = 0; i < st->n; i++) {
		for (j = 0; j < i && strcmp(st->name[j], st->name[i]) != 0; j++)
			;
		if (j < i)
			continue;	/* shown with its first */
		for (count = 0, j = i; j < st->n; j++)
			count += strcmp(st->name[j], st->name[i]) == 0;
		evbuffer_add_printf(st->out, "%s", i ? "," : "");
		util_json_str(st->out, st->name[i], strlen(st->name[i]));
		evbuffer_add_printf(st->out, ":%s", count > 1 ? "[" : "");
		for (count = 0, j = i; j < st->n; j++)
			if (strcmp(st->name[j], st->name[i]) == 0) {
				evbuffer_add_printf(st->out, "%s", count++ ? "," : "");
				api_status_value(st->out, st->value[j]);
			}
		evbuffer_add_printf(st->out, "%s", count > 1 ? "]" : "");
	}
	evbuffer_add_printf(st->out, "}");
	for (i = 0; i < st->n; i++) {
		free(st->name[i]);
		free(st->value[i]);
	}
	st->n = 0;
}

static void
api_status_section(void *arg, const char *name)
{
	struct api_status *st = arg;

	if (st->sections++ > 0)
		api_status_flush(st);
	evbuffer_add_printf(st->out, "%s", st->sections > 1 ? "," : "");
	util_json_str(st->out, name, strlen(name));
	evbuffer_add_printf(st->out, ":");
}

static void api_status_field(void *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
api_status_field(void *arg, const char *name, const char *fmt, ...)
{
	struct api_status *st = arg;
	va_list ap;
	char *v;
	int n;

	if (st->n == API_STATUS_FIELDS)
		return;
	va_start(ap, fmt);
	n = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((st->name[st->n] = strdup(name)) == NULL) {
		free(v);
		return;
	}
	st->value[st->n++] = v;
}

void
admin_api_status(struct admin_req *rq)
{
	const struct admin_api *api = admin_req_arg(rq);
	struct api_status st;

	memset(&st, 0, sizeof(st));
	if ((st.out = evbuffer_new()) == NULL) {
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	evbuffer_add_printf(st.out, "{");
	ctl_status_sections(admin_req_ctx(rq), api->hooks != NULL ? api->hooks->status : NULL,
	    api_status_section, api_status_field, &st);
	api_status_section(&st, "admin");
	if (api->http != NULL)
		admin_http_status(api->http, api_status_field, &st);
	admin_auth_status(admin_req_auth(rq), api_status_field, &st);
	api_status_flush(&st);
	evbuffer_add_printf(st.out, "}\n");
	admin_reply_json(rq, MHD_HTTP_OK, st.out);
	evbuffer_free(st.out);
}

/* ---- lists ---- */

#define API_RUN(rq, json, status, ...) do { \
	const char *_argv[] = { __VA_ARGS__ }; \
	api_run((rq), (int)PG_NELEM(_argv), _argv, (json), (status)); \
} while (0)

void
admin_api_mappings(struct admin_req *rq)
{
	API_RUN(rq, 1, MHD_HTTP_OK, "list", "--json", "--kind", "mapping");
}

void
admin_api_pinholes(struct admin_req *rq)
{
	API_RUN(rq, 1, MHD_HTTP_OK, "list", "--json", "--kind", "pinhole");
}

void
admin_api_forwards(struct admin_req *rq)
{
	API_RUN(rq, 1, MHD_HTTP_OK, "list", "--json", "--kind", "mapping", "--source", "static");
}

void
admin_api_triggers(struct admin_req *rq)
{
	API_RUN(rq, 1, MHD_HTTP_OK, "trigger", "list", "--json");
}

/* ---- writes ---- */

/* Words: the fixed ones, then options (NULL values left out), "--", then the operands. */
struct api_argv {
	const char	*v[API_ARGS];
	int		 n;
};

static void
api_push(struct api_argv *a, const char *w)
{
	if (a->n < API_ARGS)
		a->v[a->n++] = w;
}

static void
api_opt(struct api_argv *a, const char *opt, const char *value)
{
	if (value != NULL) {
		api_push(a, opt);
		api_push(a, value);
	}
}

void
admin_api_forward_add(struct admin_req *rq)
{
	static const struct api_member m[] = {
		{ "proto", ADMIN_JSON_STRING, 1 }, { "external_port", ADMIN_JSON_INT, 1 },
		{ "external_port_end", ADMIN_JSON_INT, 0 }, { "internal_ip", ADMIN_JSON_STRING, 1 },
		{ "internal_port", ADMIN_JSON_INT, 0 }, { "lease", ADMIN_JSON_INT, 0 },
		{ "description", ADMIN_JSON_STRING, 0 },
	};
	char ext[48], end[24], target[128], lease[24], port[24];
	const char *e, *p, *ip;
	struct api_argv a = { { NULL }, 0 };

	if (api_check(rq, m, PG_NELEM(m)) == -1)
		return;
	api_num(rq, "external_port", ext, sizeof(ext));
	if ((e = api_num(rq, "external_port_end", end, sizeof(end))) != NULL)
		snprintf(ext + strlen(ext), sizeof(ext) - strlen(ext), "-%s", e);
	if ((ip = api_str(rq, "internal_ip")) != NULL && strchr(ip, ':') != NULL) {
		/* the command line's IP:PORT is two members here: a ':' is no part of an address */
		admin_reply_error(rq, MHD_HTTP_BAD_REQUEST, "internal_ip: '%s' is not an IPv4 "
		    "address (the port goes in internal_port)", ip);
		return;
	}
	p = api_num(rq, "internal_port", port, sizeof(port));
	snprintf(target, sizeof(target), "%s%s%s", api_str(rq, "internal_ip"), p ? ":" : "",
	    p ? p : "");
	api_push(&a, "forward");
	api_push(&a, "add");
	api_opt(&a, "--lease", api_num(rq, "lease", lease, sizeof(lease)));
	api_opt(&a, "--desc", api_str(rq, "description"));
	api_push(&a, "--");
	api_push(&a, api_str(rq, "proto"));
	api_push(&a, ext);
	api_push(&a, target);
	api_run(rq, a.n, a.v, 0, MHD_HTTP_CREATED);
}

void
admin_api_forward_del(struct admin_req *rq)
{
	API_RUN(rq, 0, MHD_HTTP_OK, "mapping", "del", "--source", "static", "--",
	    admin_req_seg(rq, 0), admin_req_seg(rq, 1));
}

void
admin_api_mapping_del(struct admin_req *rq)
{
	API_RUN(rq, 0, MHD_HTTP_OK, "mapping", "del", "--",
	    admin_req_seg(rq, 0), admin_req_seg(rq, 1));
}

void
admin_api_pinhole_del(struct admin_req *rq)
{
	API_RUN(rq, 0, MHD_HTTP_OK, "pinhole", "del", admin_req_seg(rq, 0));
}

void
admin_api_trigger_add(struct admin_req *rq)
{
	static const struct api_member m[] = {
		{ "name", ADMIN_JSON_STRING, 1 }, { "trigger", ADMIN_JSON_STRING, 1 },
		{ "open", ADMIN_JSON_STRING, 1 }, { "idle", ADMIN_JSON_INT, 0 },
	};
	struct api_argv a = { { NULL }, 0 };
	char idle[24];

	if (api_check(rq, m, PG_NELEM(m)) == -1)
		return;
	api_push(&a, "trigger");
	api_push(&a, "add");
	api_opt(&a, "--idle", api_num(rq, "idle", idle, sizeof(idle)));
	api_push(&a, "--");
	api_push(&a, api_str(rq, "name"));
	api_push(&a, api_str(rq, "trigger"));
	api_push(&a, api_str(rq, "open"));
	api_run(rq, a.n, a.v, 0, MHD_HTTP_CREATED);
}

void
admin_api_trigger_del(struct admin_req *rq)
{
	API_RUN(rq, 0, MHD_HTTP_OK, "trigger", "del", admin_req_seg(rq, 0));
}

void
admin_api_trigger_enable(struct admin_req *rq)
{
	API_RUN(rq, 0, MHD_HTTP_OK, "trigger", "enable", admin_req_seg(rq, 0));
}

void
admin_api_trigger_disable(struct admin_req *rq)
{
	API_RUN(rq, 0, MHD_HTTP_OK, "trigger", "disable",
	    admin_req_seg(rq, 0));
}

/* {"source": SOURCE}, or "all" for every source (flush without --source). */
void
admin_api_flush(struct admin_req *rq)
{
	static const struct api_member m[] = { { "source", ADMIN_JSON_STRING, 1 } };
	const char *src;

	if (api_check(rq, m, PG_NELEM(m)) == -1)
		return;
	src = api_str(rq, "source");
	if (strcmp(src, "all") == 0)
		API_RUN(rq, 0, MHD_HTTP_OK, "flush");
	else
		API_RUN(rq, 0, MHD_HTTP_OK, "flush", "--source", src);
}
