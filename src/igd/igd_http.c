/*
 * igd_http.c - the IGD's HTTP server.
 *
 * libmicrohttpd parses HTTP; it runs inside the daemon's one libevent loop
 * in external epoll mode (no MHD threads): each listener's epoll fd is a
 * libevent read event and MHD's next timeout a libevent timer, and both
 * call MHD_run(). One MHD daemon listens on each LAN address, IPv4 and
 * global IPv6, never on the WAN side (nor on a link-local address: the
 * client check refuses link-local clients, and LOCATION names the global
 * address). Every daemon has the same limits and the same admission: a
 * client inside a LAN prefix of its family (checked when the connection is
 * accepted, before it takes a slot, and again per request), and a Host
 * header naming one of our LAN addresses as an IP literal
 * ("[2001:db8:1::1]:5000" for IPv6).
 * Requests are routed by a table: description documents, SOAP control URLs
 * and GENA event URLs. The descriptions hold only relative URLs (no
 * URLBase), so a control point resolves them against the LOCATION it used,
 * IPv4 or IPv6.
 *
 * A control request that adds or changes a mapping is answered only once
 * the mapping is in the kernel: its connection is suspended, the reply held,
 * and the table's end-of-turn commit (one kernel batch for every request of
 * the loop turn) resumes it with the reply, or with 501 if the kernel refused.
 */
#include "config.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "daemon.h"
#include "igd/gena.h"
#include "igd/igd.h"
#include "igd/igd_act.h"
#include "igd/igd_desc.h"
#include "igd/igd_http.h"
#include "log.h"
#include "mtable.h"
#include "netif.h"
#include "upstream.h"
#include "util.h"

#define IGD_HTTP_MAX_LISTEN	NETIF_MAX_PREFIX
#define IGD_HTTP_RUNS		4	/* MHD runs per turn while it has work ready */

struct igd_listener {
	struct igd_http		*http;
	struct MHD_Daemon	*d;
	struct event		*io;
	struct event		*timer;
	struct in6_addr		 addr;
};

struct igd_req;

struct igd_http {
	struct igd		*igd;
	const char		*server;	/* SERVER of every reply */
	struct igd_req		*held;		/* suspended for their entries to land */
	struct igd_listener	 l[IGD_HTTP_MAX_LISTEN];
	size_t			 n;
	struct in6_addr		 addrs[IGD_HTTP_MAX_LISTEN];
	struct in6_addr		 failed[IGD_HTTP_MAX_LISTEN];	/* said once; tried again */
	size_t			 nfailed;
};

/*
 * One TCP connection: a deadline for its next whole request. MHD's idle
 * timeout restarts with every byte, so a client trickling header bytes
 * would hold its slot for ever (slowloris); at the deadline the socket is
 * shut down and MHD closes the connection at its next turn.
 */
struct igd_conn {
	struct igd_http	*http;
	struct event	*deadline;
	int		 fd;
};

/* One reply: status, body, extra headers (values copied). */
struct igd_reply {
	unsigned	 status;
	struct evbuffer	*body;
	const char	*ctype;
	const char	*hdr_name[4];
	char		 hdr_value[4][GENA_SID_MAX];
	size_t		 nhdr;
	struct igd_landing land;	/* entry set: held until it lands */
};

/*
 * One request in progress: the body as it arrives, or the SID of a new
 * subscription, or a reply held while its connection is suspended.
 */
struct igd_req {
	struct evbuffer	*body;
	char		 sid[GENA_SID_MAX];
	struct igd_http	*http;
	struct MHD_Connection *conn;
	struct in6_addr	 client;
	struct igd_reply held;		/* held.body != NULL: waiting or ready */
	int		 ready;		/* landed (or refused): send held at the next call */
	struct igd_req	*next, **prevp;	/* igd_http.held while waiting */
};

/* What a route gets: where it was asked, by whom, with what body. */
struct igd_route_arg {
	struct igd_http		*http;
	struct MHD_Connection	*conn;
	const char		*url;
	enum igd_svc		 svc;
	struct in6_addr		 client;
	struct evbuffer		*body;
	void			**con_cls;
};

typedef void igd_route_fn(const struct igd_route_arg *, struct igd_reply *);

static void route_desc(const struct igd_route_arg *, struct igd_reply *);
static void route_control(const struct igd_route_arg *, struct igd_reply *);
static void route_subscribe(const struct igd_route_arg *, struct igd_reply *);
static void route_unsubscribe(const struct igd_route_arg *, struct igd_reply *);

/* Control and event URLs, per service. */
static const struct {
	enum igd_svc	 svc;
	const char	*ctl;
	const char	*evt;
} igd_urls[IGD_NSVC] = {
	{ IGD_SVC_L3F, "/ctl/L3F", "/evt/L3F" },
	{ IGD_SVC_WANCFG, "/ctl/CmnIfCfg", "/evt/CmnIfCfg" },
	{ IGD_SVC_IPCONN, "/ctl/IPConn", "/evt/IPConn" },
	{ IGD_SVC_6FC, "/ctl/IP6FCtl", "/evt/IP6FCtl" },
};

/* Which URLs a method is for: 'd' description documents, 'c' control, 'e' events. */
static const struct {
	const char	*method;
	char		 kind;
	int		 body;		/* reads a request body */
	igd_route_fn	*fn;
} igd_routes[] = {
	{ "GET", 'd', 0, route_desc },
	{ "HEAD", 'd', 0, route_desc },
	{ "POST", 'c', 1, route_control },
	{ "SUBSCRIBE", 'e', 0, route_subscribe },
	{ "UNSUBSCRIBE", 'e', 0, route_unsubscribe },
};

/* ---- the Host header (DNS rebinding) ---- */

int
igd_http_host_ok(const struct igd *igd, const char *host)
{
	char buf[INET6_ADDRSTRLEN + 2];
	const char *port = NULL, *end;
	struct in6_addr a;
	size_t len;

	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL)
			return 0;
		len = (size_t)(end - host - 1);
		if (len >= sizeof(buf))
			return 0;
		memcpy(buf, host + 1, len);
		buf[len] = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return 0;
	} else {
		len = strcspn(host, ":");
		if (len >= sizeof(buf))
			return 0;
		memcpy(buf, host, len);
		buf[len] = '\0';
		if (host[len] == ':')
			port = host + len + 1;
	}
	if (port != NULL && (port[0] == '\0' || port[strspn(port, "0123456789")] != '\0' ||
	    strlen(port) > 5))
		return 0;
	if (util_parse_addr(buf, &a) == -1)
		return 0;
	return netif_is_lan_local(igd->ctx->netif, &a);
}

/* ---- routes ---- */

static void
igd_reply_header(struct igd_reply *r, const char *name, const char *value)
{
	if (r->nhdr < PG_NELEM(r->hdr_name)) {
		r->hdr_name[r->nhdr] = name;
		snprintf(r->hdr_value[r->nhdr], sizeof(r->hdr_value[r->nhdr]), "%s", value);
		r->nhdr++;
	}
}

static const char *
igd_header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The root description may depend on who asks (upnp_igd_version = auto): see igd.c. */
static void
route_desc(const struct igd_route_arg *a, struct igd_reply *r)
{
	if (igd_desc_render(a->http->igd, a->url, igd_header(a->conn,
	    MHD_HTTP_HEADER_USER_AGENT), r->body) == -1) {
		r->status = MHD_HTTP_NOT_FOUND;
		return;
	}
	if (igd_desc_by_agent(a->http->igd, a->url))
		igd_reply_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_USER_AGENT);
	r->ctype = "text/xml; charset=\"utf-8\"";
	r->status = MHD_HTTP_OK;
}

static void
route_control(const struct igd_route_arg *a, struct igd_reply *r)
{
	size_t len = evbuffer_get_length(a->body);

	r->ctype = "text/xml; charset=\"utf-8\"";
	r->status = (unsigned)igd_act_control(a->http->igd, a->svc, &a->client,
	    igd_header(a->conn, "SOAPACTION"), len ? (const char *)evbuffer_pullup(a->body, -1) :
	    "", len, r->body, &r->land);
}

static void
igd_gena_hdrs(struct MHD_Connection *c, struct gena_hdrs *g)
{
	g->callback = igd_header(c, "CALLBACK");
	g->nt = igd_header(c, "NT");
	g->sid = igd_header(c, "SID");
	g->timeout = igd_header(c, "TIMEOUT");
}

static void
route_subscribe(const struct igd_route_arg *a, struct igd_reply *r)
{
	struct gena_reply g;
	struct gena_hdrs hdrs;

	struct igd_req *rq;

	igd_gena_hdrs(a->conn, &hdrs);
	/* a new subscription's initial event waits for this reply to be sent (igd_completed) */
	rq = hdrs.sid == NULL ? calloc(1, sizeof(*rq)) : NULL;
	hdrs.reply_hook = rq != NULL;
	memset(&g, 0, sizeof(g));
	gena_subscribe(a->http->igd->gena, a->svc, &a->client, &hdrs, &g);
	r->status = (unsigned)g.status;
	if (g.status == MHD_HTTP_OK) {
		igd_reply_header(r, "SID", g.sid);
		igd_reply_header(r, "TIMEOUT", g.timeout);
	}
	if (rq != NULL) {
		snprintf(rq->sid, sizeof(rq->sid), "%s", g.status == MHD_HTTP_OK ? g.sid : "");
		*a->con_cls = rq;
	}
}

static void
route_unsubscribe(const struct igd_route_arg *a, struct igd_reply *r)
{
	struct gena_hdrs hdrs;

	igd_gena_hdrs(a->conn, &hdrs);
	r->status = (unsigned)gena_unsubscribe(a->http->igd->gena, a->svc, &a->client, &hdrs);
}

/* What url is: 'd' a description document, 'c' a control URL, 'e' an event URL; 0 none. */
static char
igd_url_kind(const char *url, int *svc)
{
	size_t i;

	*svc = 0;
	if (igd_desc_known(url))
		return 'd';
	for (i = 0; i < IGD_NSVC; i++) {
		*svc = (int)igd_urls[i].svc;
		if (strcmp(url, igd_urls[i].ctl) == 0)
			return 'c';
		if (strcmp(url, igd_urls[i].evt) == 0)
			return 'e';
	}
	return 0;
}

/* ---- MHD glue ---- */

static enum MHD_Result
igd_send(struct MHD_Connection *c, const struct igd_http *h, struct igd_reply *r)
{
	struct MHD_Response *resp;
	size_t len = evbuffer_get_length(r->body), i;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, len ? evbuffer_pullup(r->body, -1) : NULL,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "SERVER", h->server);
	if (r->ctype != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	for (i = 0; i < r->nhdr; i++)
		MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
igd_send_status(struct MHD_Connection *c, const struct igd_http *h, unsigned status)
{
	struct igd_reply r;
	enum MHD_Result ret;

	memset(&r, 0, sizeof(r));
	if ((r.body = evbuffer_new()) == NULL)
		return MHD_NO;
	r.status = status;
	ret = igd_send(c, h, &r);
	evbuffer_free(r.body);
	return ret;
}

/* The address of sa (v4-mapped for IPv4); -1 if it is neither family. */
static int
igd_sa_addr(const struct sockaddr *sa, struct in6_addr *out)
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
igd_client_addr(struct MHD_Connection *c, struct in6_addr *out)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return igd_sa_addr(ci != NULL ? ci->client_addr : NULL, out);
}

/*
 * MHD's accept policy, before a connection takes a slot: a peer that is
 * not a LAN host (the check igd_admit makes) is closed at once. A WAN host
 * that routes the LAN prefix via the gateway reaches the LAN address; were
 * it refused only at its request, its idle connections would hold the
 * IGD_HTTP_MAX_CONNS slots (33 addresses x IGD_HTTP_PER_IP) and LAN
 * clients would be turned away. Refused here, it holds neither a slot nor
 * a per-address one, and never reaches the request path.
 */
static enum MHD_Result
igd_accept_policy(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct igd_http *h = cls;
	char why[160];
	struct in6_addr a;

	(void)len;
	if (igd_sa_addr(sa, &a) == 0 && netif_client_ok(h->igd->ctx->netif, &a, why,
	    sizeof(why)))
		return MHD_YES;
	h->igd->stats.http_refused++;
	if (log_limit_pass(&h->igd->log_limit, util_mono_ms()))
		log_debug("upnp: HTTP connection refused: %s", sa != NULL &&
		    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) ? why :
		    "not an IP peer");
	return MHD_NO;
}

/* Off-LAN clients and foreign Host names are refused before anything else: 403. */
static int
igd_admit(struct igd_http *h, struct MHD_Connection *c, const char *version,
    struct in6_addr *client)
{
	const char *host = igd_header(c, MHD_HTTP_HEADER_HOST);
	char a[INET6_ADDRSTRLEN];

	if (igd_client_addr(c, client) == -1 ||
	    !netif_client_ok(h->igd->ctx->netif, client, NULL, 0))
		goto refuse;
	if (host == NULL ? strcmp(version, MHD_HTTP_VERSION_1_0) != 0 :
	    !igd_http_host_ok(h->igd, host))
		goto refuse;
	return 1;
refuse:
	h->igd->stats.http_refused++;
	if (log_limit_pass(&h->igd->log_limit, util_mono_ms()))
		log_debug("upnp: HTTP request from %s refused (not a LAN host, or Host \"%.64s\")",
		    util_addr_str(client, a, sizeof(a)), host ? host : "");
	return 0;
}

/* The route for method and url; -1 with *status 404 or 405 if none. */
static int
igd_find_route(const char *method, const char *url, int *svc, unsigned *status)
{
	char kind = igd_url_kind(url, svc);
	size_t i;

	*status = kind == 0 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED;
	for (i = 0; kind != 0 && i < PG_NELEM(igd_routes); i++)
		if (igd_routes[i].kind == kind && strcmp(igd_routes[i].method, method) == 0)
			return (int)i;
	return -1;
}

/* ---- replies held until their entry is in the kernel ---- */

/* MHD runs resumed connections at its next turn: give every listener one now. */
static void
igd_http_kick(struct igd_http *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->l[i].timer != NULL)
			event_active(h->l[i].timer, EV_TIMEOUT, 0);
}

static void
igd_unhold(struct igd_req *rq)
{
	if (rq->prevp == NULL)
		return;
	if ((*rq->prevp = rq->next) != NULL)
		rq->next->prevp = rq->prevp;
	rq->next = NULL;
	rq->prevp = NULL;
}

/* The held reply goes out at the connection's next call. */
static void
igd_release(struct igd_req *rq)
{
	igd_unhold(rq);
	rq->ready = 1;
	MHD_resume_connection(rq->conn);
	igd_http_kick(rq->http);
}

/* The upstream PCP server's answer for the entry (or none to wait for): the reply follows it. */
static void
igd_upstream_landed(void *arg, const struct up_landing *l)
{
	struct igd_req *rq = arg;
	struct igd_http *h = rq->http;

	rq->held.status = (unsigned)igd_act_upstream(h->igd, &rq->client, &rq->held.land, l,
	    (int)rq->held.status, rq->held.body);
	igd_release(rq);
}

static void
igd_landed(void *arg, int err)
{
	struct igd_req *rq = arg;
	struct igd_http *h = rq->http;

	if (err == 0) {		/* in the kernel: then what the upstream says, if it is asked */
		upstream_await(h->igd->ctx->up, rq->held.land.id, h, igd_upstream_landed, rq);
		return;
	}
	rq->held.status = (unsigned)igd_act_refused(h->igd, &rq->client, &rq->held.land,
	    err, rq->held.body);
	igd_release(rq);
}

/* Suspend the connection with its reply until the table's commit says the entry landed. */
static enum MHD_Result
igd_hold(struct igd_http *h, struct MHD_Connection *c, struct igd_req *rq,
    const struct in6_addr *client, struct igd_reply *r)
{
	const struct mt_entry *e = r->land.entry;

	rq->http = h;
	rq->conn = c;
	rq->client = *client;
	rq->held = *r;
	rq->held.land.entry = NULL;
	rq->ready = 0;
	if ((rq->next = h->held) != NULL)
		rq->next->prevp = &rq->next;
	rq->prevp = &h->held;
	h->held = rq;
	MHD_suspend_connection(c);
	mtable_commit_entry(h->igd->ctx->mt, e, h, igd_landed, rq);
	return MHD_YES;
}

/* The call after the resume: the held reply goes out. */
static enum MHD_Result
igd_send_held(struct igd_http *h, struct MHD_Connection *c, struct igd_req *rq)
{
	enum MHD_Result ret = igd_send(c, h, &rq->held);

	evbuffer_free(rq->held.body);
	rq->held.body = NULL;
	rq->ready = 0;
	return ret;
}

static enum MHD_Result
igd_dispatch(struct igd_http *h, struct MHD_Connection *c, int route, int svc,
    const char *url, const struct in6_addr *client, struct evbuffer *body, void **con_cls)
{
	struct igd_route_arg a;
	struct igd_reply r;
	enum MHD_Result ret;

	memset(&r, 0, sizeof(r));
	if ((r.body = evbuffer_new()) == NULL)
		return MHD_NO;
	a.http = h;
	a.conn = c;
	a.url = url;
	a.svc = (enum igd_svc)svc;
	a.client = *client;
	a.body = body;
	a.con_cls = con_cls;
	igd_routes[route].fn(&a, &r);
	if (r.land.entry != NULL && *con_cls != NULL)
		return igd_hold(h, c, *con_cls, client, &r);
	ret = igd_send(c, h, &r);
	evbuffer_free(r.body);
	return ret;
}

/* A body that is announced too big, or has no length at all, is refused unread. */
static unsigned
igd_body_problem(struct MHD_Connection *c)
{
	const char *cl = igd_header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long n;

	if (cl == NULL)
		return MHD_HTTP_LENGTH_REQUIRED;
	if (util_parse_uint(cl, 0, IGD_HTTP_BODY_MAX, &n) == -1)
		return MHD_HTTP_CONTENT_TOO_LARGE;
	return 0;
}

/* First call of a request: admit it, route it, and answer at once unless a body follows. */
static enum MHD_Result
igd_first_call(struct igd_http *h, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, void **con_cls)
{
	struct in6_addr client;
	struct igd_req *rq;
	unsigned status;
	int route, svc = 0;

	h->igd->stats.http_requests++;
	if (!igd_admit(h, c, version, &client))
		return igd_send_status(c, h, MHD_HTTP_FORBIDDEN);
	if ((route = igd_find_route(method, url, &svc, &status)) == -1)
		return igd_send_status(c, h, status);
	if (!igd_routes[route].body)
		return igd_dispatch(h, c, route, svc, url, &client, NULL, con_cls);
	if ((status = igd_body_problem(c)) != 0)
		return igd_send_status(c, h, status);
	if ((rq = calloc(1, sizeof(*rq))) == NULL || (rq->body = evbuffer_new()) == NULL) {
		free(rq);
		return MHD_NO;
	}
	*con_cls = rq;
	return MHD_YES;
}

static enum MHD_Result
igd_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct igd_http *h = cls;
	struct igd_req *rq = *con_cls;
	struct in6_addr client;
	unsigned status;
	int route, svc = 0;

	if (rq == NULL)
		return igd_first_call(h, c, url, method, version, con_cls);
	if (rq->held.body != NULL)	/* resumed: the entry landed, or was refused */
		return rq->ready ? igd_send_held(h, c, rq) : MHD_YES;
	if (rq->body == NULL)		/* answered at the first call (a SUBSCRIBE) */
		return MHD_NO;
	if (*upload_size != 0) {
		if (evbuffer_get_length(rq->body) + *upload_size > IGD_HTTP_BODY_MAX ||
		    evbuffer_add(rq->body, upload, *upload_size) == -1)
			return MHD_NO;	/* more than Content-Length promised: drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	route = igd_find_route(method, url, &svc, &status);
	if (route == -1 || igd_client_addr(c, &client) == -1)
		return MHD_NO;
	return igd_dispatch(h, c, route, svc, url, &client, rq->body, con_cls);
}

static void
igd_conn_arm(struct igd_conn *ic)
{
	struct timeval tv = { IGD_HTTP_REQUEST_S, 0 };

	evtimer_add(ic->deadline, &tv);
}

static void
igd_conn_expired(evutil_socket_t fd, short ev, void *arg)
{
	struct igd_conn *ic = arg;

	(void)fd;
	(void)ev;
	ic->http->igd->stats.http_refused++;
	if (log_limit_pass(&ic->http->igd->log_limit, util_mono_ms()))
		log_debug("upnp: HTTP connection closed: no whole request within %d s",
		    IGD_HTTP_REQUEST_S);
	shutdown(ic->fd, SHUT_RDWR);
}

static void
igd_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct igd_http *h = cls;
	struct igd_conn *ic = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (ic != NULL) {
			event_free(ic->deadline);
			free(ic);
		}
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || (ic = calloc(1, sizeof(*ic))) == NULL)
		return;
	ic->http = h;
	ic->fd = ci->connect_fd;
	if ((ic->deadline = evtimer_new(h->igd->ctx->base, igd_conn_expired, ic)) == NULL) {
		free(ic);
		return;
	}
	igd_conn_arm(ic);
	*socket_context = ic;
}

/* A request is done: the connection's next one has its own deadline. */
static void
igd_conn_rearm(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci != NULL && ci->socket_context != NULL)
		igd_conn_arm(ci->socket_context);
}

static void
igd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct igd_http *h = cls;
	struct igd_req *rq = *con_cls;

	(void)toe;
	igd_conn_rearm(c);
	if (rq == NULL)
		return;
	if (rq->sid[0] != '\0')	/* sent, or the connection failed: either way it may go */
		gena_reply_sent(h->igd->gena, rq->sid);
	igd_unhold(rq);
	if (rq->held.body != NULL)
		evbuffer_free(rq->held.body);
	if (rq->body != NULL)
		evbuffer_free(rq->body);
	free(rq);
	*con_cls = NULL;
}

static void igd_mhd_log(void *, const char *, va_list) __attribute__((format(printf, 2, 0)));

static void
igd_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	struct igd_http *h = cls;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (log_limit_pass(&h->igd->log_limit, util_mono_ms()))	/* clients can make MHD talk */
		log_debug("upnp: http: %s", msg);
}

/* ---- the loop ---- */

static void
igd_listener_arm(struct igd_listener *l)
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

/*
 * MHD's turn, run again while it has work it can do at once: a resumed
 * connection's reply is queued in one run and written and closed in the
 * next, and that close should not wait behind the rest of the loop turn
 * (the journal's fdatasync, a conntrack sweep).
 */
static void
igd_listener_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct igd_listener *l = arg;
	MHD_UNSIGNED_LONG_LONG ms;
	int again = IGD_HTTP_RUNS;

	(void)fd;
	(void)ev;
	do
		MHD_run(l->d);
	while (--again > 0 && MHD_get_timeout(l->d, &ms) == MHD_YES && ms == 0);
	igd_listener_arm(l);
}

/* addr (v4-mapped for IPv4) and port as the sockaddr a listener binds. */
static void
igd_listen_addr(const struct in6_addr *addr, uint16_t port, struct sockaddr_storage *ss)
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

/* One MHD daemon on addr: the same limits and handlers for IPv4 and IPv6; quiet: no warning. */
static int
igd_listener_open(struct igd_http *h, struct igd_listener *l, const struct in6_addr *addr,
    int quiet)
{
	const union MHD_DaemonInfo *di;
	struct sockaddr_storage ss;
	char a[INET6_ADDRSTRLEN];
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

	if (!util_addr_is_v4(addr))
		flags |= MHD_USE_IPv6;
	igd_listen_addr(addr, (uint16_t)h->igd->ctx->cfg->upnp_http_port, &ss);
	l->http = h;
	l->addr = *addr;
	l->d = MHD_start_daemon(flags,
	    (uint16_t)h->igd->ctx->cfg->upnp_http_port, igd_accept_policy, h, igd_access, h,
	    MHD_OPTION_EXTERNAL_LOGGER, igd_mhd_log, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)IGD_HTTP_MAX_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)IGD_HTTP_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IGD_HTTP_IDLE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)IGD_HTTP_MEM,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_NOTIFY_COMPLETED, igd_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, igd_conn_notify, h,
	    MHD_OPTION_END);
	util_addr_str(addr, a, sizeof(a));
	if (l->d == NULL) {
		if (!quiet)
			log_warn("upnp: cannot listen on %s port %u (trying again every %d s)", a,
			    h->igd->ctx->cfg->upnp_http_port, IGD_RESCAN_S);
		return -1;
	}
	di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	l->io = event_new(h->igd->ctx->base, di->epoll_fd, EV_READ | EV_PERSIST, igd_listener_cb, l);
	l->timer = evtimer_new(h->igd->ctx->base, igd_listener_cb, l);
	if (l->io == NULL || l->timer == NULL || event_add(l->io, NULL) == -1)
		return -1;
	igd_listener_arm(l);
	log_info("upnp: HTTP on %s port %u", a, h->igd->ctx->cfg->upnp_http_port);
	return 0;
}

static void
igd_listener_close(struct igd_listener *l)
{
	if (l->io != NULL)
		event_free(l->io);
	if (l->timer != NULL)
		event_free(l->timer);
	if (l->d != NULL)
		MHD_stop_daemon(l->d);
	memset(l, 0, sizeof(*l));
}

/* 1 if a is one of the n addresses of set. */
static int
igd_addr_in(const struct in6_addr *set, size_t n, const struct in6_addr *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(&set[i], a, sizeof(*a)) == 0)
			return 1;
	return 0;
}

void
igd_http_sync(struct igd_http *h)
{
	const struct netif_prefix *p;
	size_t n, i;
	int again;

	if (h == NULL)
		return;
	n = netif_lan_prefixes(h->igd->ctx->netif, &p);
	for (i = 0; i < n && h->n < IGD_HTTP_MAX_LISTEN; i++) {
		/* netif has no link-local prefixes: an IPv6 one is global (or ULA) */
		if (IN6_IS_ADDR_LINKLOCAL(&p[i].local) || igd_addr_in(h->addrs, h->n, &p[i].local))
			continue;
		again = igd_addr_in(h->failed, h->nfailed, &p[i].local);
		if (igd_listener_open(h, &h->l[h->n], &p[i].local, again) == 0) {
			h->addrs[h->n++] = p[i].local;
			continue;
		}
		igd_listener_close(&h->l[h->n]);
		if (!again && h->nfailed < PG_NELEM(h->failed))
			h->failed[h->nfailed++] = p[i].local;
	}
}

struct igd_http *
igd_http_new(struct igd *igd, const char *server)
{
	struct igd_http *h = xcalloc(1, sizeof(*h));
	size_t i;

	h->igd = igd;
	h->server = server;
	igd_http_sync(h);
	for (i = 0; i < h->n && !util_addr_is_v4(&h->addrs[i]); i++)
		;
	if (i == h->n)
		log_warnx("upnp: no LAN IPv4 address to listen on; UPnP control is off%s",
		    h->n ? " over IPv4" : "");
	return h;
}

void
igd_http_free(struct igd_http *h)
{
	struct igd_req *rq;
	size_t i;

	if (h == NULL)
		return;
	/* replies still held are not sent: their connections close with the listeners */
	mtable_commit_cancel(h->igd->ctx->mt, h);
	upstream_await_cancel(h->igd->ctx->up, h);
	while ((rq = h->held) != NULL) {
		igd_unhold(rq);
		MHD_resume_connection(rq->conn);
	}
	for (i = 0; i < h->n; i++)
		igd_listener_close(&h->l[i]);
	free(h);
}

size_t
igd_http_addrs(const struct igd_http *h, const struct in6_addr **out)
{
	*out = h->addrs;
	return h->n;
}
