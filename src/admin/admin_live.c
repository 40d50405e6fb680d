/*
 * admin_live.c - the admin server's routes that are not control verbs: the
 * panel's files, the live event stream (Server-Sent Events from the event
 * bus), the Prometheus page, the last hour's history, and the diagnosis.
 * Each is a thin caller of the module that owns the answer (admin_web,
 * event, metrics, history, diag).
 */
#include "config.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "admin/admin_api.h"
#include "admin/admin_auth.h"
#include "admin/admin_http.h"
#include "admin/admin_live.h"
#include "admin/admin_web.h"
#include "daemon.h"
#include "diag.h"
#include "event.h"
#include "history.h"
#include "log.h"
#include "metrics.h"
#include "mt_vocab.h"
#include "util.h"

/* ---- the page ---- */

void
admin_live_page(struct admin_req *rq)
{
	const char *seg = admin_req_seg(rq, 0);
	const struct admin_web_file *f;
	char path[64];

	snprintf(path, sizeof(path), "/%s", seg != NULL ? seg : "");
	f = admin_web_find(path);

	if (f == NULL) {
		admin_reply_error(rq, MHD_HTTP_NOT_FOUND, "no such page");
		return;
	}
	admin_reply_header(rq, "Cache-Control", "no-cache");
	admin_reply(rq, MHD_HTTP_OK, f->type, f->body, f->len);
}

/* ---- events ---- */

struct admin_sse {
	struct admin_api	*api;
	struct pg_ctx		*ctx;
	struct admin_auth	*auth;
	struct admin_stream	*stream;	/* NULL once the client went */
	struct ev_sub		*sub;
	/* what opened it: a session's ID, or the bearer token; the stream lasts as long */
	char			 sid[ADMIN_ID_HEX + 1];
	char			*token;
};

/* Whether what opened the stream still may read: a logout, an idle end, a new password
 * or a new token ends it at its next event. */
static int
admin_sse_allowed(const struct admin_sse *c)
{
	if (c->sid[0] != '\0')
		return admin_auth_session_alive(c->auth, c->sid);
	return c->token != NULL && admin_auth_bearer_ok(c->auth, c->token);
}

/* One event as an SSE message: its number as the id (Last-Event-ID resumes), its JSON. */
static void
admin_sse_event(void *arg, const struct pg_event *ev)
{
	struct admin_sse *c = arg;
	char json[EV_JSON_MAX], msg[EV_JSON_MAX + 48];
	size_t n;
	int len;

	if (c->stream == NULL)
		return;
	if (!admin_sse_allowed(c)) {
		admin_stream_end(c->stream);	/* its gone callback frees c */
		c->stream = NULL;
		return;
	}
	if ((n = event_json(ev, json, sizeof(json))) >= sizeof(json))
		return;
	len = snprintf(msg, sizeof(msg), "id: %llu\ndata: %s\n\n",
	    (unsigned long long)event_seq(ev), json);
	if (len < 0 || (size_t)len >= sizeof(msg))
		return;
	if (admin_stream_write(c->stream, msg, (size_t)len) == -1)
		c->stream = NULL;	/* dropped: its gone callback frees c */
}

static void
admin_sse_gone(void *arg)
{
	struct admin_sse *c = arg;
	if (c->sub != NULL)
		evbus_unsubscribe(c->ctx->events, c->sub);
	c->api->nstreams--;
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	explicit_bzero(c->sid, sizeof(c->sid));
	free(c);
}

/* Where a reconnecting client resumes: Last-Event-ID, or ?since=; 0 for none. */
static uint64_t
admin_sse_since(const struct admin_req *rq)
{
	const char *s = admin_req_header(rq, "Last-Event-ID");
	unsigned long long v;
	char *end;

	if (s == NULL)
		s = admin_req_query(rq, "since");
	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	v = strtoull(s, &end, 10);
	return *end == '\0' ? (uint64_t)v : 0;
}

void
admin_live_events(struct admin_req *rq)
{
	struct admin_api *api = admin_req_arg(rq);
	struct pg_ctx *ctx = admin_req_ctx(rq);
	static const char hello[] = "retry: 2000\n: portgate events\n\n";
	const char *auth_hdr;
	struct admin_sse *c;
	uint64_t since = admin_sse_since(rq);

	if (ctx->events == NULL) {
		admin_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "no event bus");
		return;
	}
	if (api->nstreams >= ADMIN_SSE_MAX) {
		admin_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "too many event streams open (at most %d)", ADMIN_SSE_MAX);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	c->api = api;
	c->ctx = ctx;
	c->auth = admin_req_auth(rq);
	if (admin_req_session(rq) != NULL)
		snprintf(c->sid, sizeof(c->sid), "%s", admin_session_id(admin_req_session(rq)));
	else if ((auth_hdr = admin_req_header(rq, "Authorization")) != NULL &&
	    strncasecmp(auth_hdr, "Bearer ", 7) == 0 &&
	    (c->token = strdup(auth_hdr + 7 + strspn(auth_hdr + 7, " "))) == NULL) {
		free(c);
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	if ((c->stream = admin_reply_stream(rq, "text/event-stream", admin_sse_gone, c)) == NULL) {
		free(c->token);
		free(c);
		return;
	}
	api->nstreams++;
	if (admin_stream_write(c->stream, hello, sizeof(hello) - 1) == -1) {
		c->stream = NULL;
		return;
	}
	/* the kept events after the last one it saw, then the new ones: none missed or doubled */
	if (since > 0)
		evbus_replay(ctx->events, since, admin_sse_event, c);
	if (c->stream != NULL && (c->sub = evbus_subscribe(ctx->events, admin_sse_event, c)) == NULL)
		admin_stream_end(c->stream);
}

/* ---- metrics, history ---- */

void
admin_live_metrics(struct admin_req *rq)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	metrics_format(admin_req_ctx(rq), b);
	admin_reply(rq, MHD_HTTP_OK, METRICS_CONTENT_TYPE, evbuffer_pullup(b, -1),
	    evbuffer_get_length(b));
	evbuffer_free(b);
}

void
admin_live_history(struct admin_req *rq)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	history_json(&admin_req_ctx(rq)->history, b);
	admin_reply_json(rq, MHD_HTTP_OK, b);
	evbuffer_free(b);
}

/* ---- the diagnosis ---- */

struct admin_check {
	struct admin_req	*rq;
	struct diag		*diag;		/* NULL once it answered */
};

static void
admin_check_done(void *arg, const struct diag_report *rep)
{
	struct admin_check *c = arg;
	struct evbuffer *b = evbuffer_new();

	c->diag = NULL;		/* it frees itself after this */
	if (b == NULL) {
		admin_reply_error(c->rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	} else {
		diag_json(rep, b);
		admin_reply_json(c->rq, MHD_HTTP_OK, b);
		evbuffer_free(b);
	}
	admin_req_resume(c->rq);
}

/* The request ended (answered, or its client went first: then the check stops). */
static void
admin_check_closed(void *arg)
{
	struct admin_check *c = arg;

	if (c->diag != NULL)
		diag_cancel(c->diag);
	free(c);
}

/* GET /api/v1/check?proto=tcp&port=N[&wait=SECONDS]: diag's report as JSON. */
void
admin_live_check(struct admin_req *rq)
{
	const char *proto_s = admin_req_query(rq, "proto"), *port_s = admin_req_query(rq, "port");
	const char *wait_s = admin_req_query(rq, "wait");
	unsigned long port, wait = DIAG_WAIT_MS / 1000;
	struct admin_check *c;
	int proto;

	if (proto_s == NULL || port_s == NULL || (proto = mt_proto_parse(proto_s)) < 0 ||
	    util_parse_uint(port_s, 1, 65535, &port) == -1) {
		admin_reply_error(rq, MHD_HTTP_BAD_REQUEST,
		    "check needs proto=tcp or udp and port=1-65535");
		return;
	}
	if (wait_s != NULL && util_parse_uint(wait_s, 1, DIAG_WAIT_MAX_MS / 1000, &wait) == -1) {
		admin_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad wait (1-%d seconds)",
		    DIAG_WAIT_MAX_MS / 1000);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	c->rq = rq;
	admin_req_suspend(rq, admin_check_closed, c);
	if ((c->diag = diag_start(admin_req_ctx(rq), proto, (uint16_t)port,
	    (uint32_t)wait * 1000, admin_check_done, c)) == NULL) {
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		admin_req_resume(rq);	/* the request's end frees c */
	}
}
