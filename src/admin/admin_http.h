/*
 * admin_http.h - the admin HTTP server: libmicrohttpd in the daemon's one
 * libevent loop (as the UPnP server, a daemon instance of its own), with
 * its admission (LAN and loopback clients, the Host header), its
 * authentication (admin_auth.h) and a route table handed in at creation.
 *
 * A route is one row: method, path ("*" matches one segment), who may
 * call it, whether it takes a JSON object body, and its handler. A
 * handler reads the request through admin_req_*() and answers through
 * admin_reply*(); it may instead hold the answer (admin_req_suspend, then
 * admin_req_resume from the loop) or open a stream (admin_reply_stream).
 */
#ifndef PG_ADMIN_HTTP_H
#define PG_ADMIN_HTTP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct pg_ctx;
struct admin_auth;
struct admin_http;
struct admin_req;
struct admin_stream;
struct admin_json;
struct admin_session;
struct evbuffer;

#define ADMIN_HTTP_MAX_CONNS	64	/* connections at once, per listener */
#define ADMIN_HTTP_PER_IP	16	/* from one address (a browser opens 6, and streams) */
#define ADMIN_HTTP_IDLE_S	30	/* an idle keep-alive connection is closed */
#define ADMIN_HTTP_REQUEST_S	10	/* a request must arrive whole within this */
#define ADMIN_HTTP_MEM		32768	/* per-connection header memory (cookies) */
#define ADMIN_HTTP_BODY_MAX	8192	/* a request body: more is 413 */
#define ADMIN_STREAM_MAX	(256 * 1024)	/* a stream's unsent bytes: more drops the client */
#define ADMIN_HTTP_MAX_LISTEN	8
#define ADMIN_ROUTE_SEGS	4	/* "*" segments of a path */
#define ADMIN_COOKIE		"portgate_session"

/* Who may call a route. State-changing methods (not GET or HEAD) need a session's CSRF token. */
enum admin_access {
	ADMIN_OPEN,		/* anyone the server admits: the login, the page's files */
	ADMIN_READ,		/* a session, or the bearer token (GET and HEAD only) */
	ADMIN_SESSION,		/* a session only */
};

typedef void admin_route_fn(struct admin_req *);

struct admin_route {
	const char		*method;	/* "GET", "POST", "DELETE", ... */
	const char		*path;		/* "/api/v1/forwards/ * / *" without the spaces */
	enum admin_access	 access;
	int			 body;		/* 1: a JSON object body (Content-Type application/json) */
	admin_route_fn		*fn;
};

/* One listener's address and, for TLS, the PEM texts (copied). */
struct admin_listen {
	struct in6_addr	 addr;		/* v4-mapped for IPv4 */
	uint16_t	 port;
	const char	*cert_pem;	/* NULL: plain HTTP */
	const char	*key_pem;
};

/*
 * A server (no listener yet) serving routes (kept, not copied) with the
 * sessions and token of auth (kept); each handler gets arg through
 * admin_req_arg.
 */
struct admin_http *admin_http_new(struct pg_ctx *, struct admin_auth *,
    const struct admin_route *routes, size_t nroutes, void *arg);
/* Listen as l says; 0, or -1 after logging why. */
int admin_http_listen(struct admin_http *, const struct admin_listen *l);
/* Close every listener and connection: streams' gone callbacks run, held answers are not sent. */
void admin_http_free(struct admin_http *);
/* Status: admin_requests, admin_refused, admin_streams. */
void admin_http_status(const struct admin_http *, pg_status_emit *, void *);

/* ---- what a handler reads ---- */

/* The arg given to admin_http_new. */
void *admin_req_arg(const struct admin_req *);
/* The daemon's context. */
struct pg_ctx *admin_req_ctx(const struct admin_req *);
/* The i-th "*" segment of the path (decoded; UTF-8 text without controls), or NULL. */
const char *admin_req_seg(const struct admin_req *, size_t i);
/* The JSON object body of a route that takes one (never NULL there), else NULL. */
const struct admin_json *admin_req_body(const struct admin_req *);
/* A request header, or NULL. */
const char *admin_req_header(const struct admin_req *, const char *name);
/* A query argument ("?name=value"), or NULL. */
const char *admin_req_query(const struct admin_req *, const char *name);
/* The client's address (v4-mapped for IPv4). */
const struct in6_addr *admin_req_client(const struct admin_req *);
/* 1 if the request came over TLS. */
int admin_req_tls(const struct admin_req *);
/* The session the request was made in, or NULL (the bearer token, or an open route). */
struct admin_session *admin_req_session(const struct admin_req *);
/* The server's sessions and token. */
struct admin_auth *admin_req_auth(const struct admin_req *);

/* ---- how a handler answers ---- */

/* The answer: status, Content-Type, body (len bytes, copied). */
void admin_reply(struct admin_req *, unsigned status, const char *ctype, const void *body,
    size_t len);
/* A JSON answer: the body is taken from b (drained). */
void admin_reply_json(struct admin_req *, unsigned status, struct evbuffer *b);
/* {"error": "TEXT"} with status. */
void admin_reply_error(struct admin_req *, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One more header on the answer (name kept, value copied; at most 8). */
void admin_reply_header(struct admin_req *, const char *name, const char *value);
/*
 * Hold the answer: the connection waits when the handler returns, and the
 * answer set later goes out at admin_req_resume (from the loop, or from the
 * handler itself). on_close(arg) runs when the request ends however it
 * ends (the client gone, the server stopped): drop what refers to req.
 */
void admin_req_suspend(struct admin_req *, void (*on_close)(void *), void *arg);
void admin_req_resume(struct admin_req *);

/* ---- streams (Server-Sent Events and the like) ---- */

typedef void admin_stream_gone_fn(void *arg);

/*
 * Answer with a stream of ctype (status 200, no length; chunked for
 * HTTP/1.1): bytes written with admin_stream_write go out as they come.
 * gone(arg) runs once when the stream ends for any reason (the client
 * left, fell ADMIN_STREAM_MAX bytes behind, admin_stream_end, the server
 * stopped), from the loop or admin_http_free, never from within
 * admin_stream_write or admin_stream_end; the stream is already freed
 * then: forget it. NULL if there is no memory (the request then gets 500).
 */
struct admin_stream *admin_reply_stream(struct admin_req *, const char *ctype,
    admin_stream_gone_fn *gone, void *arg);
/* Append len bytes; 0, or -1 if the stream is ending (the client was dropped). */
int admin_stream_write(struct admin_stream *, const void *buf, size_t len);
/* End the stream once what was written is sent (gone runs then). */
void admin_stream_end(struct admin_stream *);
/* Bytes written and not sent yet. */
size_t admin_stream_pending(const struct admin_stream *);

#endif
