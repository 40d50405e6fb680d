/*
 * admin_http.c - the admin HTTP server (admin_http.h).
 *
 * libmicrohttpd parses HTTP; as in igd_http.c it runs inside the daemon's
 * one libevent loop in external epoll mode: each listener's epoll fd is a
 * libevent read event and MHD's next timeout a libevent timer, and both
 * call MHD_run(). Its own MHD daemons, one per admin_listen address, with
 * TLS where configured.
 *
 * A request is admitted before anything else is looked at: the client
 * must be a LAN host (netif_client_ok), the gateway itself or loopback,
 * else 403 and the connection closes, whatever the socket it reached; the
 * Host header must name the listener's own address as an IP literal (or
 * "localhost" on a loopback listener), so a DNS-rebinding page cannot
 * reach the API by a name. Then the route table decides (404, 405), then
 * who asks: a session cookie, or the bearer token for GET and HEAD; a
 * state-changing request needs the session's X-CSRF-Token too (401, 403).
 * A route that takes a body gets it whole and parsed (admin_json.c): a
 * Content-Type of application/json (415), a Content-Length (411) of at
 * most ADMIN_HTTP_BODY_MAX (413), one flat object (400). Every answer
 * carries the security headers (admin_send). Errors are {"error": TEXT}.
 *
 * A handler may hold its answer (the connection is suspended, as UPnP's
 * replies wait for the kernel) or open a stream: the content reader hands
 * MHD what was written and suspends the connection when there is nothing;
 * meanwhile a libevent read event on the socket sees the client leave
 * (MHD does not watch a suspended connection), and a client that lets
 * ADMIN_STREAM_MAX bytes pile up is dropped.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "admin/admin_auth.h"
#include "admin/admin_http.h"
#include "admin/admin_json.h"
#include "daemon.h"
#include "log.h"
#include "netif.h"
#include "util.h"

#define ADMIN_HTTP_RUNS		4	/* MHD runs per turn while it has work ready */
#define ADMIN_REPLY_HDRS	8

struct admin_listener {
	struct admin_http	*http;
	struct MHD_Daemon	*d;
	struct event		*io;
	struct event		*timer;
	struct in6_addr		 addr;
	uint16_t		 port;
	int			 tls;
	char			*cert, *key;	/* kept while MHD runs */
};

struct admin_http {
	struct pg_ctx		*ctx;
	struct admin_auth	*auth;
	const struct admin_route *routes;
	size_t			 nroutes;
	void			*arg;
	struct admin_listener	 l[ADMIN_HTTP_MAX_LISTEN];
	size_t			 n;
	TAILQ_HEAD(, admin_req)	 waiting;	/* suspended: held answers, idle streams */
	uint64_t		 requests, refused, nstreams;
	struct log_limit	 loglim;
};

/* A connection's deadline for its next whole request (slowloris), as in igd_http.c. */
struct admin_conn {
	struct admin_http	*http;
	struct event		*deadline;
	int			 fd;
};

struct admin_stream {
	struct admin_req	*req;
	struct evbuffer		*buf;
	admin_stream_gone_fn	*gone;
	void			*arg;
	struct event		*watch;		/* the socket, while suspended: the client leaving */
	int			 ended;		/* admin_stream_end: close once sent */
	int			 dead;		/* dropped: close now */
};

struct admin_req {
	struct admin_listener	*l;
	struct MHD_Connection	*conn;
	const struct admin_route *route;
	char			*url;		/* a copy: the segments point into it */
	char			*seg[ADMIN_ROUTE_SEGS];
	struct in6_addr		 client;
	struct admin_session	*session;
	struct evbuffer		*in;		/* the body as it arrives */
	struct admin_json	*json;
	/* the answer */
	unsigned		 status;
	char			 ctype[64];
	struct evbuffer		*out;
	const char		*hdr_name[ADMIN_REPLY_HDRS];
	char			*hdr_value[ADMIN_REPLY_HDRS];
	size_t			 nhdr;
	int			 answered;
	int			 held;		/* admin_req_suspend: answered at resume */
	int			 ready;		/* resumed: the answer may go */
	int			 suspended;	/* MHD_suspend_connection in force */
	int			 dispatched;
	int			 sent;
	void			(*on_close)(void *);
	void			*close_arg;
	struct admin_stream	*stream;
	TAILQ_ENTRY(admin_req)	 entry;		/* admin_http.waiting while suspended */
};

static void admin_kick(struct admin_listener *);

/* ---- the answer ---- */

void
admin_reply(struct admin_req *rq, unsigned status, const char *ctype, const void *body,
    size_t len)
{
	rq->status = status;
	snprintf(rq->ctype, sizeof(rq->ctype), "%s", ctype != NULL ? ctype : "");
	evbuffer_drain(rq->out, evbuffer_get_length(rq->out));
	if (len > 0 && evbuffer_add(rq->out, body, len) == -1)
		rq->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	rq->answered = 1;
}

void
admin_reply_json(struct admin_req *rq, unsigned status, struct evbuffer *b)
{
	rq->status = status;
	snprintf(rq->ctype, sizeof(rq->ctype), "application/json");
	evbuffer_drain(rq->out, evbuffer_get_length(rq->out));
	evbuffer_add_buffer(rq->out, b);
	rq->answered = 1;
}

void
admin_reply_error(struct admin_req *rq, unsigned status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rq->status = status;
	snprintf(rq->ctype, sizeof(rq->ctype), "application/json");
	evbuffer_drain(rq->out, evbuffer_get_length(rq->out));
	evbuffer_add_printf(rq->out, "{\"error\":");
	util_json_str(rq->out, msg, strlen(msg));
	evbuffer_add_printf(rq->out, "}\n");
	rq->answered = 1;
}

void
admin_reply_header(struct admin_req *rq, const char *name, const char *value)
{
	if (rq->nhdr == ADMIN_REPLY_HDRS || (rq->hdr_value[rq->nhdr] = strdup(value)) == NULL)
		return;
	rq->hdr_name[rq->nhdr++] = name;
}

static int
admin_has_header(const struct admin_req *rq, const char *name)
{
	size_t i;

	for (i = 0; i < rq->nhdr; i++)
		if (strcasecmp(rq->hdr_name[i], name) == 0)
			return 1;
	return 0;
}

/*
 * What every answer carries: no framing, no inline script or style, no
 * sniffing, no referrer; the API's answers are not to be cached (a route
 * may say otherwise with its own Cache-Control).
 */
static void
admin_security_headers(struct MHD_Response *resp, const struct admin_req *rq)
{
	MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'self'");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (!admin_has_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

static enum MHD_Result
admin_queue(struct admin_req *rq, struct MHD_Response *resp)
{
	enum MHD_Result ret;
	size_t i;

	admin_security_headers(resp, rq);
	if (rq->ctype[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rq->ctype);
	for (i = 0; i < rq->nhdr; i++)
		MHD_add_response_header(resp, rq->hdr_name[i], rq->hdr_value[i]);
	ret = MHD_queue_response(rq->conn, rq->status, resp);
	MHD_destroy_response(resp);
	rq->sent = 1;
	return ret;
}

static enum MHD_Result
admin_send(struct admin_req *rq)
{
	struct MHD_Response *resp;
	size_t len = evbuffer_get_length(rq->out);

	resp = MHD_create_response_from_buffer(len, len ? evbuffer_pullup(rq->out, -1) : NULL,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	return admin_queue(rq, resp);
}

/* ---- holding an answer ---- */

static void
admin_wait_add(struct admin_req *rq)
{
	rq->suspended = 1;
	TAILQ_INSERT_TAIL(&rq->l->http->waiting, rq, entry);
	MHD_suspend_connection(rq->conn);
}

static void
admin_wait_end(struct admin_req *rq)
{
	if (!rq->suspended)
		return;
	rq->suspended = 0;
	TAILQ_REMOVE(&rq->l->http->waiting, rq, entry);
	MHD_resume_connection(rq->conn);
	admin_kick(rq->l);
}

void
admin_req_suspend(struct admin_req *rq, void (*on_close)(void *), void *arg)
{
	rq->held = 1;
	rq->ready = 0;
	rq->on_close = on_close;
	rq->close_arg = arg;
}

void
admin_req_resume(struct admin_req *rq)
{
	rq->ready = 1;
	admin_wait_end(rq);	/* not suspended yet (resumed from the handler): sent at its return */
}

/* ---- streams ---- */

static void
admin_stream_wake(struct admin_stream *s)
{
	if (s->watch != NULL)
		event_del(s->watch);
	admin_wait_end(s->req);
}

/* The socket of a waiting stream is readable: the client left (or talks out of turn). */
static void
admin_stream_watch_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct admin_stream *s = arg;

	(void)fd;
	(void)ev;
	s->dead = 1;
	admin_stream_wake(s);
}

static ssize_t
admin_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct admin_stream *s = cls;
	size_t n = evbuffer_get_length(s->buf);
	const union MHD_ConnectionInfo *ci;

	(void)pos;
	if (s->dead)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n > 0)
		return (ssize_t)evbuffer_remove(s->buf, buf, n < max ? n : max);
	if (s->ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* nothing to send: wait for admin_stream_write, watching for the client to leave */
	if (s->watch == NULL) {
		ci = MHD_get_connection_info(s->req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (s->watch = event_new(s->req->l->http->ctx->base, ci->connect_fd,
		    EV_READ, admin_stream_watch_cb, s)) == NULL)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	event_add(s->watch, NULL);
	admin_wait_add(s->req);
	return 0;
}

struct admin_stream *
admin_reply_stream(struct admin_req *rq, const char *ctype, admin_stream_gone_fn *gone,
    void *arg)
{
	struct admin_stream *s;

	if ((s = calloc(1, sizeof(*s))) == NULL || (s->buf = evbuffer_new()) == NULL) {
		free(s);
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return NULL;
	}
	s->req = rq;
	s->gone = gone;
	s->arg = arg;
	rq->stream = s;
	rq->status = MHD_HTTP_OK;
	snprintf(rq->ctype, sizeof(rq->ctype), "%s", ctype);
	rq->answered = 1;
	return s;
}

int
admin_stream_write(struct admin_stream *s, const void *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;

	if (s->dead || s->ended)
		return -1;
	if (evbuffer_get_length(s->buf) + len > ADMIN_STREAM_MAX ||
	    evbuffer_add(s->buf, buf, len) == -1) {
		s->dead = 1;	/* it does not read: it goes, and its gone callback says so */
		if (log_limit_pass(&s->req->l->http->loglim, util_mono_ms()))
			log_debug("admin: a stream's client fell %d bytes behind; dropping it",
			    ADMIN_STREAM_MAX);
		/* MHD waits to write to a full socket and would not ask the reader: shut it */
		ci = MHD_get_connection_info(s->req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci != NULL)
			shutdown(ci->connect_fd, SHUT_RDWR);
		admin_stream_wake(s);
		return -1;
	}
	admin_stream_wake(s);
	return 0;
}

void
admin_stream_end(struct admin_stream *s)
{
	s->ended = 1;
	admin_stream_wake(s);
}

size_t
admin_stream_pending(const struct admin_stream *s)
{
	return evbuffer_get_length(s->buf);
}

static enum MHD_Result
admin_send_stream(struct admin_req *rq)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, admin_stream_read,
	    rq->stream, NULL);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	rq->l->http->nstreams++;
	return admin_queue(rq, resp);
}

static void
admin_stream_free(struct admin_stream *s)
{
	admin_stream_gone_fn *gone = s->gone;
	void *arg = s->arg;

	if (s->watch != NULL)
		event_free(s->watch);
	evbuffer_free(s->buf);
	free(s);
	if (gone != NULL)
		gone(arg);
}

/* ---- what a handler reads ---- */

void *
admin_req_arg(const struct admin_req *rq)
{
	return rq->l->http->arg;
}

struct pg_ctx *
admin_req_ctx(const struct admin_req *rq)
{
	return rq->l->http->ctx;
}

const char *
admin_req_seg(const struct admin_req *rq, size_t i)
{
	return i < ADMIN_ROUTE_SEGS ? rq->seg[i] : NULL;
}

const struct admin_json *
admin_req_body(const struct admin_req *rq)
{
	return rq->json;
}

const char *
admin_req_header(const struct admin_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *
admin_req_query(const struct admin_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const struct in6_addr *
admin_req_client(const struct admin_req *rq)
{
	return &rq->client;
}

int
admin_req_tls(const struct admin_req *rq)
{
	return rq->l->tls;
}

struct admin_session *
admin_req_session(const struct admin_req *rq)
{
	return rq->session;
}

struct admin_auth *
admin_req_auth(const struct admin_req *rq)
{
	return rq->l->http->auth;
}

/* ---- admission ---- */

static int
admin_sa_addr(const struct sockaddr *sa, struct in6_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		out->s6_addr[10] = out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12], &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
	} else if (sa->sa_family == AF_INET6)
		*out = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return -1;
	return 0;
}

static int
admin_is_loopback(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LOOPBACK(a) || (util_addr_is_v4(a) && a->s6_addr[12] == 127);
}

/* A client the server talks to: a LAN host, the gateway itself, loopback. */
static int
admin_client_ok(struct admin_http *h, const struct in6_addr *a)
{
	return admin_is_loopback(a) || netif_is_own(h->ctx->netif, a) ||
	    netif_client_ok(h->ctx->netif, a, NULL, 0);
}

/*
 * The Host header: the listener's own address as an IP literal, with or
 * without a port ("[2001:db8:1::1]:8443"), or "localhost" on a loopback
 * listener. Any other name is refused: a DNS-rebinding page sends the
 * name it was loaded from.
 */
static int
admin_host_ok(const struct admin_listener *l, const char *host)
{
	char buf[INET6_ADDRSTRLEN + 2];
	const char *port = NULL, *end;
	struct in6_addr a;
	size_t len;

	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL || (len = (size_t)(end - host - 1)) >=
		    sizeof(buf))
			return 0;
		memcpy(buf, host + 1, len);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return 0;
	} else {
		if ((len = strcspn(host, ":")) >= sizeof(buf))
			return 0;
		memcpy(buf, host, len);
		if (host[len] == ':')
			port = host + len + 1;
	}
	buf[len] = '\0';
	if (port != NULL && (port[0] == '\0' || port[strspn(port, "0123456789")] != '\0' ||
	    strlen(port) > 5))
		return 0;
	if (strcasecmp(buf, "localhost") == 0)
		return admin_is_loopback(&l->addr);
	return host[0] == '[' ? !util_addr_is_v4(&l->addr) && util_parse_addr(buf, &a) == 0 &&
	    memcmp(&a, &l->addr, sizeof(a)) == 0 : util_addr_is_v4(&l->addr) &&
	    util_parse_addr(buf, &a) == 0 && memcmp(&a, &l->addr, sizeof(a)) == 0;
}

/* 0 if the request may be looked at; else its answer is set (403, and the connection closes). */
static int
admin_admit(struct admin_req *rq, const char *version)
{
	struct admin_http *h = rq->l->http;
	const union MHD_ConnectionInfo *ci;
	const char *host;
	char a[INET6_ADDRSTRLEN];

	ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || admin_sa_addr(ci->client_addr, &rq->client) == -1 ||
	    !admin_client_ok(h, &rq->client)) {
		h->refused++;
		if (log_limit_pass(&h->loglim, util_mono_ms()))
			log_debug("admin: request from %s refused: not a LAN host",
			    util_addr_str(&rq->client, a, sizeof(a)));
		admin_reply_error(rq, MHD_HTTP_FORBIDDEN, "the admin API answers LAN hosts only");
		admin_reply_header(rq, MHD_HTTP_HEADER_CONNECTION, "close");
		return -1;
	}
	host = admin_req_header(rq, MHD_HTTP_HEADER_HOST);
	if (host == NULL ? strcmp(version, MHD_HTTP_VERSION_1_0) != 0 : !admin_host_ok(rq->l,
	    host)) {
		h->refused++;
		if (log_limit_pass(&h->loglim, util_mono_ms()))
			log_debug("admin: request from %s refused: Host \"%.64s\"",
			    util_addr_str(&rq->client, a, sizeof(a)), host ? host : "");
		admin_reply_error(rq, MHD_HTTP_FORBIDDEN, "the Host header must name this "
		    "gateway's address (an IP literal)");
		return -1;
	}
	return 0;
}

/* ---- routes ---- */

/*
 * 1 if path matches pattern; each "*" segment of the pattern takes one
 * non-empty segment of path, whose start goes to seg[] (admin_cut ends it).
 */
static int
admin_match(const char *pattern, char *path, char **seg)
{
	const char *p = pattern;
	char *q = path;
	size_t nseg = 0, plen;

	for (;;) {
		if (*p != '/' || *q != '/')
			return *p == '\0' && *q == '\0';
		p++;
		q++;
		plen = strcspn(p, "/");
		if (plen == 1 && *p == '*') {
			if (*q == '\0' || *q == '/' || nseg == ADMIN_ROUTE_SEGS)
				return 0;
			seg[nseg++] = q;
			q += strcspn(q, "/");
		} else {
			if (strncmp(p, q, plen) != 0 || (q[plen] != '/' && q[plen] != '\0'))
				return 0;
			q += plen;
		}
		p += plen;
	}
}

/* Cut path after each captured segment (the match said they end at '/' or the end). */
static void
admin_cut(char **seg, size_t n)
{
	size_t i;

	for (i = 0; i < n && seg[i] != NULL; i++)
		seg[i][strcspn(seg[i], "/")] = '\0';
}

/* 1 if the list ("GET, POST") names method already. */
static int
admin_allow_has(const char *allow, const char *method)
{
	size_t n = strlen(method);
	const char *p;

	for (p = allow; (p = strstr(p, method)) != NULL; p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* The route for the request, or -1 with the answer set (404, 405, 400). */
static int
admin_route(struct admin_req *rq, const char *method)
{
	const struct admin_http *h = rq->l->http;
	const char *m = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method;
	char *seg[ADMIN_ROUTE_SEGS], allow[128] = "";
	size_t i, j, n;
	const char *bad;

	for (i = 0; i < h->nroutes; i++) {
		memset(seg, 0, sizeof(seg));
		if (!admin_match(h->routes[i].path, rq->url, seg))
			continue;
		if (strcmp(h->routes[i].method, m) != 0) {
			/* once each: /metrics is a route and one of the page's "/ *" too */
			n = strlen(allow);
			if (!admin_allow_has(allow, h->routes[i].method))
				snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "",
				    h->routes[i].method);
			continue;
		}
		memcpy(rq->seg, seg, sizeof(seg));
		admin_cut(rq->seg, ADMIN_ROUTE_SEGS);
		for (j = 0; j < ADMIN_ROUTE_SEGS && rq->seg[j] != NULL; j++)
			if ((bad = util_text_problem(rq->seg[j], strlen(rq->seg[j]), 255)) != NULL) {
				admin_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad path: %s", bad);
				return -1;
			}
		rq->route = &h->routes[i];
		return (int)i;
	}
	if (allow[0] != '\0') {
		admin_reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed here (%s)",
		    method, allow);
		admin_reply_header(rq, MHD_HTTP_HEADER_ALLOW, allow);
	} else
		admin_reply_error(rq, MHD_HTTP_NOT_FOUND, "no such resource");
	return -1;
}

/* ---- who asks ---- */

static int
admin_safe_method(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static void
admin_unauthorized(struct admin_req *rq, const char *msg)
{
	admin_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "%s", msg);
	admin_reply_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"portgate\"");
}

/* The bearer token of an "Authorization: Bearer TOKEN" header, or NULL. */
static const char *
admin_bearer(const struct admin_req *rq)
{
	const char *v = admin_req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);

	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return NULL;
	return v + 7 + strspn(v + 7, " ");
}

/* 0 if the route's access allows the request; else its answer is set (401, 403). */
static int
admin_authorize(struct admin_req *rq, const char *method)
{
	struct admin_auth *auth = rq->l->http->auth;
	const char *cookie, *token;
	int expired = 0;

	cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, ADMIN_COOKIE);
	rq->session = cookie != NULL ? admin_auth_session(auth, cookie, &expired) : NULL;
	if (rq->route->access == ADMIN_OPEN)
		return 0;
	if (rq->session != NULL) {
		if (admin_safe_method(method) || admin_auth_csrf_ok(rq->session,
		    admin_req_header(rq, "X-CSRF-Token")))
			return 0;
		admin_reply_error(rq, MHD_HTTP_FORBIDDEN, "%s needs the session's X-CSRF-Token "
		    "header (GET /api/v1/session gives it)", method);
		return -1;
	}
	if ((token = admin_bearer(rq)) != NULL) {
		if (!admin_auth_bearer_ok(auth, token)) {
			admin_unauthorized(rq, "wrong bearer token");
			return -1;
		}
		if (rq->route->access == ADMIN_READ && admin_safe_method(method))
			return 0;
		admin_reply_error(rq, MHD_HTTP_FORBIDDEN, "the bearer token is read-only: "
		    "%s %s needs a session", method, rq->route->path);
		return -1;
	}
	admin_unauthorized(rq, expired ? "the session expired; log in again" :
	    cookie != NULL ? "no such session; log in again" : "log in first (POST /api/v1/login)");
	return -1;
}

/* 0 if a JSON body may follow; else its answer is set (415, 411, 413). */
static int
admin_body_ok(struct admin_req *rq)
{
	const char *ct = admin_req_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl = admin_req_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	size_t n;
	unsigned long len;

	n = ct != NULL ? strcspn(ct, "; \t") : 0;
	if (ct == NULL || n != strlen("application/json") ||
	    strncasecmp(ct, "application/json", n) != 0) {
		admin_reply_error(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "the body must be JSON (Content-Type: application/json)");
		return -1;
	}
	if (cl == NULL) {
		admin_reply_error(rq, MHD_HTTP_LENGTH_REQUIRED, "a Content-Length is required");
		return -1;
	}
	if (util_parse_uint(cl, 0, ADMIN_HTTP_BODY_MAX, &len) == -1) {
		admin_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than %d bytes",
		    ADMIN_HTTP_BODY_MAX);
		return -1;
	}
	return 0;
}

/* ---- MHD glue ---- */

static void
admin_conn_arm(struct MHD_Connection *c, int on)
{
	const union MHD_ConnectionInfo *ci;
	struct timeval tv = { ADMIN_HTTP_REQUEST_S, 0 };
	struct admin_conn *ac;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (ac = ci->socket_context) == NULL)
		return;
	if (on)
		evtimer_add(ac->deadline, &tv);
	else
		evtimer_del(ac->deadline);
}

/* The whole request is in: the handler runs, and its answer goes, waits, or streams. */
static enum MHD_Result
admin_dispatch(struct admin_req *rq)
{
	char err[200];
	size_t len;

	rq->dispatched = 1;
	admin_conn_arm(rq->conn, 0);	/* no deadline for the answer (a stream may last) */
	if (rq->route->body) {
		len = evbuffer_get_length(rq->in);
		if ((rq->json = malloc(sizeof(*rq->json))) == NULL) {
			admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
			return admin_send(rq);
		}
		if (admin_json_parse(rq->json, len ? (const char *)evbuffer_pullup(rq->in, -1) : "",
		    len, err, sizeof(err)) == -1) {
			admin_reply_error(rq, MHD_HTTP_BAD_REQUEST, "malformed JSON body: %s", err);
			return admin_send(rq);
		}
	}
	rq->route->fn(rq);
	if (rq->stream != NULL)
		return admin_send_stream(rq);
	if (rq->held && !rq->ready) {
		admin_wait_add(rq);
		return MHD_YES;
	}
	if (!rq->answered)
		admin_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "the handler gave no answer");
	return admin_send(rq);
}

/* First call of a request: admit it, route it, authorize it; run it unless a body follows. */
static enum MHD_Result
admin_first_call(struct admin_listener *l, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, void **con_cls)
{
	struct admin_req *rq;

	l->http->requests++;
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return MHD_NO;
	*con_cls = rq;
	rq->l = l;
	rq->conn = c;
	if ((rq->out = evbuffer_new()) == NULL || (rq->url = strdup(url)) == NULL)
		return MHD_NO;
	if (admin_admit(rq, version) == -1 || admin_route(rq, method) == -1 ||
	    admin_authorize(rq, method) == -1 || (rq->route->body && admin_body_ok(rq) == -1))
		return admin_send(rq);	/* answered before the request is read: it closes */
	if ((rq->in = evbuffer_new()) == NULL)
		return MHD_NO;
	return MHD_YES;		/* run at the call that has it whole: the connection may stay */
}

static enum MHD_Result
admin_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct admin_req *rq = *con_cls;

	if (rq == NULL)
		return admin_first_call(cls, c, url, method, version, con_cls);
	if (rq->sent)
		return MHD_YES;
	if (rq->held)	/* resumed: the answer is set */
		return rq->ready ? admin_send(rq) : MHD_YES;
	if (rq->in == NULL || rq->dispatched)
		return MHD_NO;
	if (*upload_size != 0) {
		if (evbuffer_get_length(rq->in) + *upload_size > ADMIN_HTTP_BODY_MAX ||
		    (rq->route->body && evbuffer_add(rq->in, upload, *upload_size) == -1))
			return MHD_NO;	/* more than Content-Length promised: drop it */
		*upload_size = 0;	/* (a route without a body ignores one) */
		return MHD_YES;
	}
	return admin_dispatch(rq);
}

static void
admin_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct admin_req *rq = *con_cls;
	size_t i;

	(void)cls;
	(void)toe;
	admin_conn_arm(c, 1);
	if (rq == NULL)
		return;
	*con_cls = NULL;
	if (rq->suspended) {	/* cannot be (MHD resumes first), but never leave it listed */
		rq->suspended = 0;
		TAILQ_REMOVE(&rq->l->http->waiting, rq, entry);
	}
	if (rq->on_close != NULL)
		rq->on_close(rq->close_arg);
	if (rq->stream != NULL)
		admin_stream_free(rq->stream);
	for (i = 0; i < rq->nhdr; i++)
		free(rq->hdr_value[i]);
	if (rq->in != NULL)
		evbuffer_free(rq->in);
	if (rq->out != NULL)
		evbuffer_free(rq->out);
	free(rq->json);
	free(rq->url);
	free(rq);
}

static void
admin_conn_expired(evutil_socket_t fd, short ev, void *arg)
{
	struct admin_conn *ac = arg;

	(void)fd;
	(void)ev;
	ac->http->refused++;
	if (log_limit_pass(&ac->http->loglim, util_mono_ms()))
		log_debug("admin: HTTP connection closed: no whole request within %d s",
		    ADMIN_HTTP_REQUEST_S);
	shutdown(ac->fd, SHUT_RDWR);
}

static void
admin_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct admin_http *h = cls;
	struct admin_conn *ac = *socket_context;
	const union MHD_ConnectionInfo *ci;
	struct timeval tv = { ADMIN_HTTP_REQUEST_S, 0 };

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (ac != NULL) {
			event_free(ac->deadline);
			free(ac);
		}
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || (ac = calloc(1, sizeof(*ac))) == NULL)
		return;
	ac->http = h;
	ac->fd = ci->connect_fd;
	if ((ac->deadline = evtimer_new(h->ctx->base, admin_conn_expired, ac)) == NULL) {
		free(ac);
		return;
	}
	evtimer_add(ac->deadline, &tv);
	*socket_context = ac;
}

static void admin_mhd_log(void *, const char *, va_list) __attribute__((format(printf, 2, 0)));

static void
admin_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct admin_http *h = cls;
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (log_limit_pass(&h->loglim, util_mono_ms()))	/* clients can make MHD talk */
		log_debug("admin: http: %s", msg);
}

/* ---- the loop ---- */

static void
admin_listener_arm(struct admin_listener *l)
{
	MHD_UNSIGNED_LONG_LONG ms;
	struct timeval tv;

	if (MHD_get_timeout(l->d, &ms) != MHD_YES) {
		evtimer_del(l->timer);
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(l->timer, &tv);
}

/* MHD's turn, again while it has work it can do at once (as igd_http.c's). */
static void
admin_listener_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct admin_listener *l = arg;
	MHD_UNSIGNED_LONG_LONG ms;
	int again = ADMIN_HTTP_RUNS;

	(void)fd;
	(void)ev;
	do
		MHD_run(l->d);
	while (--again > 0 && MHD_get_timeout(l->d, &ms) == MHD_YES && ms == 0);
	admin_listener_arm(l);
}

/* MHD runs resumed connections at its next turn: give the listener one now. */
static void
admin_kick(struct admin_listener *l)
{
	if (l->timer != NULL)
		event_active(l->timer, EV_TIMEOUT, 0);
}

static void
admin_listen_addr(const struct in6_addr *addr, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (util_addr_is_v4(addr)) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, &addr->s6_addr[12], 4);
		return;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = *addr;
}

#define ADMIN_MHD_OPTIONS(h, ss) \
	MHD_OPTION_EXTERNAL_LOGGER, admin_mhd_log, (h), \
	MHD_OPTION_SOCK_ADDR, (struct sockaddr *)(ss), \
	MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_HTTP_MAX_CONNS, \
	MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)ADMIN_HTTP_PER_IP, \
	MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ADMIN_HTTP_IDLE_S, \
	MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ADMIN_HTTP_MEM, \
	MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, \
	MHD_OPTION_NOTIFY_COMPLETED, admin_completed, (h), \
	MHD_OPTION_NOTIFY_CONNECTION, admin_conn_notify, (h)

static struct MHD_Daemon *
admin_mhd_start(struct admin_http *h, struct admin_listener *l)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	struct sockaddr_storage ss;

	if (!util_addr_is_v4(&l->addr))
		flags |= MHD_USE_IPv6;
	admin_listen_addr(&l->addr, l->port, &ss);
	if (!l->tls)
		return MHD_start_daemon(flags, l->port, NULL, NULL, admin_access, l,
		    ADMIN_MHD_OPTIONS(h, &ss), MHD_OPTION_END);
	return MHD_start_daemon(flags | MHD_USE_TLS, l->port, NULL, NULL, admin_access, l,
	    ADMIN_MHD_OPTIONS(h, &ss), MHD_OPTION_HTTPS_MEM_KEY, l->key,
	    MHD_OPTION_HTTPS_MEM_CERT, l->cert, MHD_OPTION_END);
}

static void
admin_listener_close(struct admin_listener *l)
{
	if (l->io != NULL)
		event_free(l->io);
	if (l->timer != NULL)
		event_free(l->timer);
	if (l->d != NULL)
		MHD_stop_daemon(l->d);
	free(l->cert);
	if (l->key != NULL)
		explicit_bzero(l->key, strlen(l->key));
	free(l->key);
	memset(l, 0, sizeof(*l));
}

int
admin_http_listen(struct admin_http *h, const struct admin_listen *cf)
{
	struct admin_listener *l = &h->l[h->n];
	const union MHD_DaemonInfo *di;
	char a[INET6_ADDRSTRLEN];

	util_addr_str(&cf->addr, a, sizeof(a));
	if (h->n == ADMIN_HTTP_MAX_LISTEN) {
		log_warnx("admin: more than %d listeners", ADMIN_HTTP_MAX_LISTEN);
		return -1;
	}
	if (cf->cert_pem != NULL && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		log_warnx("admin: admin_tls_cert is set, but this libmicrohttpd has no TLS");
		return -1;
	}
	l->http = h;
	l->addr = cf->addr;
	l->port = cf->port;
	l->tls = cf->cert_pem != NULL;
	if (l->tls && ((l->cert = strdup(cf->cert_pem)) == NULL ||
	    (l->key = strdup(cf->key_pem)) == NULL)) {
		admin_listener_close(l);
		return -1;
	}
	if ((l->d = admin_mhd_start(h, l)) == NULL) {
		log_warn("admin: cannot listen on %s port %u%s", a, cf->port, l->tls ?
		    " (or the TLS certificate and key are not a usable PEM pair)" : "");
		admin_listener_close(l);
		return -1;
	}
	di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	l->io = event_new(h->ctx->base, di->epoll_fd, EV_READ | EV_PERSIST, admin_listener_cb, l);
	l->timer = evtimer_new(h->ctx->base, admin_listener_cb, l);
	if (l->io == NULL || l->timer == NULL || event_add(l->io, NULL) == -1) {
		admin_listener_close(l);
		return -1;
	}
	admin_listener_arm(l);
	h->n++;
	log_info("admin: HTTP%s on %s%s%s port %u", l->tls ? "S" : "",
	    util_addr_is_v4(&l->addr) ? "" : "[", a, util_addr_is_v4(&l->addr) ? "" : "]",
	    cf->port);
	return 0;
}

struct admin_http *
admin_http_new(struct pg_ctx *ctx, struct admin_auth *auth, const struct admin_route *routes,
    size_t nroutes, void *arg)
{
	struct admin_http *h = xcalloc(1, sizeof(*h));

	h->ctx = ctx;
	h->auth = auth;
	h->routes = routes;
	h->nroutes = nroutes;
	h->arg = arg;
	TAILQ_INIT(&h->waiting);
	log_limit_init(&h->loglim, 10000, 10);
	return h;
}

void
admin_http_free(struct admin_http *h)
{
	struct admin_req *rq;
	size_t i;

	if (h == NULL)
		return;
	/* MHD may not stop with suspended connections: resume them, then it closes them */
	while ((rq = TAILQ_FIRST(&h->waiting)) != NULL) {
		if (rq->stream != NULL) {
			rq->stream->dead = 1;
			if (rq->stream->watch != NULL)
				event_del(rq->stream->watch);
		}
		admin_wait_end(rq);
	}
	for (i = 0; i < h->n; i++)
		admin_listener_close(&h->l[i]);
	free(h);
}

void
admin_http_status(const struct admin_http *h, pg_status_emit *emit, void *arg)
{
	emit(arg, "admin_listeners", "%zu", h->n);
	emit(arg, "admin_requests", "%llu", (unsigned long long)h->requests);
	emit(arg, "admin_refused", "%llu", (unsigned long long)h->refused);
	emit(arg, "admin_streams", "%llu", (unsigned long long)h->nstreams);
}
