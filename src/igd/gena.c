/*
 * gena.c - GENA eventing (UDA 1.1 §4) for the IGD's three services.
 *
 * A subscription is made by a LAN host for itself only. CallStranger
 * (CVE-2020-12695) used UPnP devices that accept any CALLBACK URL to send
 * traffic to third parties or to scan networks behind the firewall; here
 * the CALLBACK must name, as an IP literal, the very address the SUBSCRIBE
 * came from, and that address must be a LAN host. A NOTIFY therefore only
 * ever goes to a host that asked for it, over a TCP connection it opened.
 *
 * Life of a subscription: SUBSCRIBE answers 200 with a random SID; the
 * initial event (SEQ 0, every evented variable) goes GENA_INITIAL_DELAY_MS
 * after the HTTP layer says the reply was sent (gena_reply_sent), or after
 * the SUBSCRIBE for a caller without that hook. Not at once: a control
 * point learns the SID from the reply, and GUPnP (GNOME's stack,
 * gupnp-event-dumper) drops with a 200 a NOTIFY whose SID it has not
 * learnt yet. Sent 0.1 ms after the reply, the initial event usually
 * overtook GUPnP's handling of it; on a libevent timer the loop goes on
 * meanwhile. gena_changed() only schedules: once per
 * loop iteration each service's variables are rendered and compared with
 * what was rendered last; where they differ every subscriber of that
 * service owes an event. An owed event goes out when the subscription has
 * no NOTIFY in flight and its moderation window (GENA_MODERATION_MS from
 * the start of the previous NOTIFY) has passed, rendered from the values
 * of that moment: changes inside the window coalesce, and "the latest
 * pending body" is simply the current state. SEQ is taken when a NOTIFY
 * starts and wraps from 4294967295 to 1.
 *
 * Delivery never blocks: a non-blocking connect through a bufferevent, a
 * deadline of GENA_NOTIFY_TIMEOUT_MS for connect, request and status line,
 * at most GENA_RESPONSE_MAX bytes read, then close. A 2xx counts as
 * delivered (stats->events_sent); GENA_NOTIFY_FAILS failures in a row
 * end the subscription. Expiry is a timer per subscription, and an owed
 * event is never sent past the TIMEOUT by the daemon's clock either.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "igd/gena.h"
#include "igd/igd.h"		/* struct igd_stats */
#include "igd/igd_service.h"
#include "log.h"
#include "neigh.h"
#include "netif.h"
#include "util.h"

#define GENA_LOG_WINDOW_MS	10000
#define GENA_LOG_BURST		10

struct gena_sub {
	TAILQ_ENTRY(gena_sub)	 entry;
	struct gena		*g;
	enum igd_svc		 svc;
	char			 sid[GENA_SID_MAX];
	struct in6_addr		 client;
	struct in6_addr		 host;		/* the client's host key: GENA_PER_CLIENT counts by it */
	struct gena_url		 cb;
	uint32_t		 seq;		/* SEQ of the next event */
	uint64_t		 expires_ms;	/* by the daemon's clock */
	uint64_t		 sent_ms;	/* start of the last NOTIFY: the moderation window */
	int			 sent_any;
	int			 owed;		/* an event is due: the initial one or a change */
	int			 held;		/* the initial event waits for gena_reply_sent */
	unsigned		 fails;		/* NOTIFYs failed in a row */
	struct event		*wait_ev;	/* initial delay, then the end of a window */
	struct event		*expire_ev;
	struct event		*deadline_ev;	/* of the NOTIFY in flight */
	struct bufferevent	*bev;		/* the NOTIFY in flight, or NULL */
};

struct gena_last {
	char		*props;		/* the properties rendered last, or NULL */
	size_t		 len;
};

struct gena {
	struct pg_ctx		*ctx;
	struct igd_stats	*stats;
	gena_vars_fn		*vars;
	void			*vars_arg;
	TAILQ_HEAD(, gena_sub)	 subs;
	size_t			 nsubs;
	size_t			 nsvc[IGD_NSVC];
	struct gena_last	 last[IGD_NSVC];
	struct event		*changed_ev;
	struct gena_hooks	 hooks;
	struct log_limit	 reqlog;	/* debug: refused requests, failed NOTIFYs */
	struct log_limit	 caplog;	/* 503s */
	struct log_limit	 droplog;	/* subscribers dropped for failing */
};

static void gena_kick(struct gena_sub *);
static void gena_deadline_cb(evutil_socket_t, short, void *);

static uint64_t
gena_now(const struct gena *g)
{
	return pg_clock_now(&g->ctx->clock);
}

static const char *
gena_svc_name(enum igd_svc svc, char *buf, size_t len)
{
	static const char pre[] = "urn:schemas-upnp-org:service:";
	char type[96];
	const char *p;

	/* "urn:schemas-upnp-org:service:NAME:V" -> "NAME" */
	igd_service_type(svc, igd_service_version(svc), type, sizeof(type));
	p = strrchr(type, ':');
	if (strncmp(type, pre, sizeof(pre) - 1) == 0 && p > type + sizeof(pre) - 1)
		snprintf(buf, len, "%.*s", (int)(p - type) - (int)(sizeof(pre) - 1),
		    type + sizeof(pre) - 1);
	else
		snprintf(buf, len, "%s", type);
	return buf;
}

/* ---- parsers ---- */

static int
gena_is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static int
gena_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 path and query characters: unreserved, sub-delims, ':', '@', '/', '?', '%'. */
static int
gena_path_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("-._~!$&'()*+,;=:@/?%", c) != NULL;
}

static int
gena_parse_path(const char *s, size_t len, char *out)
{
	size_t i;

	if (len == 0) {
		strcpy(out, "/");	/* RFC 3986 §6.2.3: an empty path is "/" */
		return 0;
	}
	if (s[0] != '/' || len >= GENA_PATH_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (!gena_path_char(s[i]))
			return -1;
		if (s[i] == '%' && (i + 2 >= len || !gena_hex(s[i + 1]) || !gena_hex(s[i + 2])))
			return -1;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* An IPv4 or [IPv6] literal at the start of s (len bytes); its length, or 0. */
static size_t
gena_parse_host(const char *s, size_t len, struct in6_addr *out)
{
	char buf[INET6_ADDRSTRLEN];
	struct in_addr a4;
	const char *close;
	size_t n;

	if (len > 0 && s[0] == '[') {
		if ((close = memchr(s, ']', len)) == NULL || (n = (size_t)(close - s - 1)) == 0 ||
		    n >= sizeof(buf))
			return 0;
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		return inet_pton(AF_INET6, buf, out) == 1 ? n + 2 : 0;
	}
	for (n = 0; n < len && ((s[n] >= '0' && s[n] <= '9') || s[n] == '.'); n++)
		;
	if (n == 0 || n >= INET_ADDRSTRLEN)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a4) != 1)
		return 0;
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &a4, 4);
	return n;
}

/* ":PORT" (1..65535) at the start of s; its length, 0 if absent (port 80), or -1. */
static int
gena_parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;
	size_t n;

	*port = 80;
	if (len == 0 || s[0] != ':')
		return 0;
	for (n = 1; n < len && s[n] >= '0' && s[n] <= '9'; n++) {
		v = v * 10 + (unsigned long)(s[n] - '0');
		if (v > 65535)
			return -1;
	}
	if (n == 1 || v == 0)
		return -1;
	*port = (uint16_t)v;
	return (int)n;
}

/* One URL between '<' and '>' (len bytes); 0 if usable. */
static int
gena_parse_url(const char *s, size_t len, struct gena_url *out)
{
	size_t n;
	int pn;

	if (len < 7 || strncasecmp(s, "http://", 7) != 0)
		return -1;
	s += 7;
	len -= 7;
	if ((n = gena_parse_host(s, len, &out->addr)) == 0)
		return -1;
	s += n;
	len -= n;
	if ((pn = gena_parse_port(s, len, &out->port)) == -1)
		return -1;
	s += pn;
	len -= (size_t)pn;
	return gena_parse_path(s, len, out->path);
}

int
gena_parse_callback(const char *hdr, struct gena_url *out)
{
	const char *p, *close;
	struct gena_url u;
	int found = 0;

	if (hdr == NULL)
		return -1;
	for (p = hdr; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return -1;
	/* the whole header must be well-formed: "<URL>" elements and blanks */
	for (p = hdr;;) {
		while (gena_is_ws(*p))
			p++;
		if (*p == '\0')
			return found ? 0 : -1;
		if (*p != '<' || (close = strchr(p + 1, '>')) == NULL ||
		    memchr(p + 1, '<', (size_t)(close - p - 1)) != NULL)
			return -1;
		if (!found && gena_parse_url(p + 1, (size_t)(close - p - 1), &u) == 0) {
			*out = u;
			found = 1;
		}
		p = close + 1;
	}
}

unsigned
gena_parse_timeout(const char *hdr)
{
	const char *p = hdr;
	unsigned long v = 0;
	size_t digits = 0;

	if (p == NULL)
		return GENA_TIMEOUT_DEFAULT;
	while (gena_is_ws(*p))
		p++;
	if (strncasecmp(p, "Second-", 7) != 0)
		return GENA_TIMEOUT_DEFAULT;
	p += 7;
	if (strncasecmp(p, "infinite", 8) == 0) {
		v = GENA_TIMEOUT_MAX;
		p += 8;
		digits = 1;
	} else {
		for (; *p >= '0' && *p <= '9' && v <= GENA_TIMEOUT_MAX; p++, digits++)
			v = v * 10 + (unsigned long)(*p - '0');
		while (*p >= '0' && *p <= '9')
			p++;	/* more digits: over the cap already */
	}
	while (gena_is_ws(*p))
		p++;
	if (digits == 0 || *p != '\0')
		return GENA_TIMEOUT_DEFAULT;
	if (v < GENA_TIMEOUT_MIN)
		return GENA_TIMEOUT_MIN;
	return v > GENA_TIMEOUT_MAX ? GENA_TIMEOUT_MAX : (unsigned)v;
}

int
gena_parse_status(const char *s, size_t len)
{
	int code;

	/* "HTTP/D.D SSS" then a space, CR, LF or the end */
	if (len < 12 || memcmp(s, "HTTP/", 5) != 0 || s[5] < '0' || s[5] > '9' ||
	    s[6] != '.' || s[7] < '0' || s[7] > '9' || s[8] != ' ')
		return -1;
	if (s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9')
		return -1;
	if (len > 12 && s[12] != ' ' && s[12] != '\r' && s[12] != '\n')
		return -1;
	code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return code;
}

/* ---- subscriptions ---- */

static void
gena_sub_free(struct gena_sub *s)
{
	struct gena *g = s->g;

	TAILQ_REMOVE(&g->subs, s, entry);
	g->nsubs--;
	if (--g->nsvc[s->svc] == 0) {
		/* the next first subscriber starts the comparison afresh */
		free(g->last[s->svc].props);
		g->last[s->svc].props = NULL;
		g->last[s->svc].len = 0;
	}
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	if (s->wait_ev != NULL)
		event_free(s->wait_ev);
	if (s->expire_ev != NULL)
		event_free(s->expire_ev);
	if (s->deadline_ev != NULL)
		event_free(s->deadline_ev);
	free(s);
}

static void
gena_expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gena_sub *s = arg;

	(void)fd;
	(void)what;
	log_debug("gena: subscription %s expired", s->sid);
	gena_sub_free(s);
}

static void
gena_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gena_kick(arg);
}

static struct gena_sub *
gena_find(struct gena *g, const char *sid)
{
	struct gena_sub *s;

	TAILQ_FOREACH(s, &g->subs, entry)
		if (strcmp(s->sid, sid) == 0)
			return s;
	return NULL;
}

static size_t
gena_client_subs(const struct gena *g, const struct in6_addr *client)
{
	const struct gena_sub *s;
	struct in6_addr host;
	size_t n = 0;

	/* per host, not per address: one host with 32 addresses is still one host */
	neigh_host_key(g->ctx->neigh, client, &host);
	TAILQ_FOREACH(s, &g->subs, entry)
		if (memcmp(&s->host, &host, sizeof(host)) == 0)
			n++;
	return n;
}

/* "uuid:" and a random (version 4) UUID; -1 if the kernel has no randomness yet. */
static int
gena_make_sid(struct gena *g, char *out, size_t len)
{
	uint8_t b[16];
	int tries;

	/* 122 random bits: a second try is already a broken generator */
	for (tries = 0; tries < 4; tries++) {
		if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b))
			return -1;
		b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
		b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
		snprintf(out, len, "uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
		    b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
		if (gena_find(g, out) == NULL)
			return 0;
	}
	return -1;
}

static void
gena_arm(struct event *ev, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	evtimer_add(ev, &tv);
}

static void
gena_set_timeout(struct gena_sub *s, unsigned secs, struct gena_reply *r)
{
	s->expires_ms = gena_now(s->g) + (uint64_t)secs * 1000;
	gena_arm(s->expire_ev, (uint64_t)secs * 1000);
	r->status = 200;
	snprintf(r->sid, sizeof(r->sid), "%s", s->sid);
	snprintf(r->timeout, sizeof(r->timeout), "Second-%u", secs);
}

/* A refused request: its status, and a debug line within the log budget. */
static int
gena_refuse(struct gena *g, int status, const char *verb, enum igd_svc svc,
    const struct in6_addr *client, const char *why)
{
	char a[INET6_ADDRSTRLEN], n[64];

	if (log_limit_pass(&g->reqlog, gena_now(g)))
		log_debug("gena: %s %s from %s: %d, %s", verb, gena_svc_name(svc, n, sizeof(n)),
		    util_addr_str(client, a, sizeof(a)), status, why);
	return status;
}

static int
gena_full(struct gena *g, enum igd_svc svc, const struct in6_addr *client)
{
	char a[INET6_ADDRSTRLEN], n[64];
	const char *who;
	unsigned cap;

	if (gena_client_subs(g, client) >= GENA_PER_CLIENT) {
		who = "this host";
		cap = GENA_PER_CLIENT;
	} else if (g->nsubs >= GENA_MAX_SUBS) {
		who = "the gateway";
		cap = GENA_MAX_SUBS;
	} else
		return 0;
	if (log_limit_pass(&g->caplog, gena_now(g)))
		log_info("gena: SUBSCRIBE %s from %s refused (503): %s holds %u subscriptions "
		    "already", gena_svc_name(svc, n, sizeof(n)), util_addr_str(client, a, sizeof(a)),
		    who, cap);
	return 1;
}

static struct gena_sub *
gena_sub_new(struct gena *g, enum igd_svc svc, const struct in6_addr *client,
    const struct gena_url *cb)
{
	struct event_base *base = g->ctx->base;
	char sid[GENA_SID_MAX];
	struct gena_sub *s;

	if (gena_make_sid(g, sid, sizeof(sid)) == -1 || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->sid, sid, sizeof(sid));
	s->g = g;
	s->svc = svc;
	s->client = *client;
	neigh_host_key(g->ctx->neigh, client, &s->host);
	s->cb = *cb;
	s->owed = 1;
	s->wait_ev = evtimer_new(base, gena_wait_cb, s);
	s->expire_ev = evtimer_new(base, gena_expire_cb, s);
	s->deadline_ev = evtimer_new(base, gena_deadline_cb, s);
	TAILQ_INSERT_TAIL(&g->subs, s, entry);
	g->nsubs++;
	g->nsvc[svc]++;
	if (s->wait_ev == NULL || s->expire_ev == NULL || s->deadline_ev == NULL) {
		gena_sub_free(s);
		return NULL;
	}
	return s;
}

static int
gena_subscribe_new(struct gena *g, enum igd_svc svc, const struct in6_addr *client,
    const struct gena_hdrs *h, struct gena_reply *r)
{
	char why[160], a[INET6_ADDRSTRLEN];
	struct gena_url cb;
	struct gena_sub *s;

	if (h->callback == NULL || h->nt == NULL)
		return gena_refuse(g, 412, "SUBSCRIBE", svc, client, "no CALLBACK or NT");
	if (strcmp(h->nt, "upnp:event") != 0)
		return gena_refuse(g, 412, "SUBSCRIBE", svc, client, "NT is not upnp:event");
	if (!netif_client_ok(g->ctx->netif, client, why, sizeof(why)))
		return gena_refuse(g, 412, "SUBSCRIBE", svc, client, why);
	if (gena_parse_callback(h->callback, &cb) == -1)
		return gena_refuse(g, 412, "SUBSCRIBE", svc, client,
		    "no http://IP-literal/path URL in CALLBACK");
	if (memcmp(&cb.addr, client, sizeof(cb.addr)) != 0) {
		snprintf(why, sizeof(why), "CALLBACK names %s, not the subscriber",
		    util_addr_str(&cb.addr, a, sizeof(a)));
		return gena_refuse(g, 412, "SUBSCRIBE", svc, client, why);
	}
	if (gena_full(g, svc, client))
		return 503;
	if ((s = gena_sub_new(g, svc, client, &cb)) == NULL)
		return gena_refuse(g, 503, "SUBSCRIBE", svc, client,
		    "no memory or no randomness for a SID");
	gena_set_timeout(s, gena_parse_timeout(h->timeout), r);
	/* UDA: the initial event comes after the reply; the HTTP layer says when that is */
	if ((s->held = h->reply_hook) == 0)
		gena_arm(s->wait_ev, GENA_INITIAL_DELAY_MS);
	log_debug("gena: %s subscribed %s to %s, port %u, %s", s->sid,
	    util_addr_str(client, a, sizeof(a)), gena_svc_name(svc, why, sizeof(why)),
	    cb.port, r->timeout);
	return 200;
}

void
gena_reply_sent(struct gena *g, const char *sid)
{
	struct gena_sub *s;

	if (g == NULL || (s = gena_find(g, sid)) == NULL || !s->held)
		return;
	s->held = 0;
	/* time for the control point to read the reply and learn the SID first */
	gena_arm(s->wait_ev, GENA_INITIAL_DELAY_MS);
}

/* The subscription sid of svc held by client and not expired, or NULL. */
static struct gena_sub *
gena_owned(struct gena *g, enum igd_svc svc, const struct in6_addr *client, const char *sid)
{
	struct gena_sub *s = gena_find(g, sid);

	if (s == NULL || s->svc != svc || memcmp(&s->client, client, sizeof(*client)) != 0)
		return NULL;
	if (gena_now(g) >= s->expires_ms) {
		gena_sub_free(s);
		return NULL;
	}
	return s;
}

static int
gena_renew(struct gena *g, enum igd_svc svc, const struct in6_addr *client,
    const struct gena_hdrs *h, struct gena_reply *r)
{
	struct gena_sub *s;

	if ((s = gena_owned(g, svc, client, h->sid)) == NULL)
		return gena_refuse(g, 412, "renewal", svc, client,
		    "no such subscription of this host");
	gena_set_timeout(s, gena_parse_timeout(h->timeout), r);
	return 200;
}

void
gena_subscribe(struct gena *g, enum igd_svc svc, const struct in6_addr *client,
    const struct gena_hdrs *h, struct gena_reply *r)
{
	memset(r, 0, sizeof(*r));
	if (g == NULL || (unsigned)svc >= IGD_NSVC) {
		r->status = 503;
		return;
	}
	if (h->sid == NULL)
		r->status = gena_subscribe_new(g, svc, client, h, r);
	else if (h->callback != NULL || h->nt != NULL)
		r->status = gena_refuse(g, 400, "SUBSCRIBE", svc, client,
		    "SID with CALLBACK or NT");
	else
		r->status = gena_renew(g, svc, client, h, r);
	if (r->status != 200)
		r->sid[0] = r->timeout[0] = '\0';
}

int
gena_unsubscribe(struct gena *g, enum igd_svc svc, const struct in6_addr *client,
    const struct gena_hdrs *h)
{
	struct gena_sub *s;

	if (g == NULL || (unsigned)svc >= IGD_NSVC)
		return 412;
	if (h->callback != NULL || h->nt != NULL)
		return gena_refuse(g, 400, "UNSUBSCRIBE", svc, client, "CALLBACK or NT present");
	if (h->sid == NULL || h->sid[0] == '\0')
		return gena_refuse(g, 412, "UNSUBSCRIBE", svc, client, "no SID");
	if ((s = gena_owned(g, svc, client, h->sid)) == NULL)
		return gena_refuse(g, 412, "UNSUBSCRIBE", svc, client,
		    "no such subscription of this host");
	log_debug("gena: %s unsubscribed", s->sid);
	gena_sub_free(s);
	return 200;
}

/* ---- NOTIFY delivery ---- */

static void
gena_render(struct gena *g, enum igd_svc svc, struct evbuffer *props)
{
	if (g->hooks.vars != NULL)
		g->hooks.vars(g->hooks.arg, svc, props);
	else if (g->vars != NULL)
		g->vars(g->vars_arg, svc, props);
}

/* Remember b (properties of svc) as rendered last; 1 if that differs from before. */
static int
gena_last_set(struct gena *g, enum igd_svc svc, struct evbuffer *b)
{
	struct gena_last *l = &g->last[svc];
	size_t len = evbuffer_get_length(b);
	char *p;

	if (l->props != NULL && l->len == len &&
	    (len == 0 || memcmp(l->props, evbuffer_pullup(b, -1), len) == 0))
		return 0;
	if ((p = malloc(len + 1)) != NULL) {
		evbuffer_copyout(b, p, len);
		free(l->props);
		l->props = p;
		l->len = len;
	}
	return 1;
}

/* Render svc; 1 if it differs from what was rendered last. */
static int
gena_svc_changed(struct gena *g, enum igd_svc svc)
{
	struct evbuffer *b = evbuffer_new();
	int changed;

	if (b == NULL)
		return 1;
	gena_render(g, svc, b);
	changed = gena_last_set(g, svc, b);
	evbuffer_free(b);
	return changed;
}

/* The whole NOTIFY request for s with sequence number seq; 0 or -1 (no memory). */
static int
gena_request(struct gena_sub *s, uint32_t seq, struct evbuffer *req)
{
	static const char head[] = "<?xml version=\"1.0\"?>\n"
	    "<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">";
	static const char tail[] = "</e:propertyset>";
	struct evbuffer *body = evbuffer_new(), *props = evbuffer_new();
	struct gena *g = s->g;
	char a[INET6_ADDRSTRLEN];
	int rc = -1;

	if (body == NULL || props == NULL)
		goto done;
	gena_render(g, s->svc, props);
	/* the first subscriber's initial event is the base of the comparison */
	if (g->last[s->svc].props == NULL)
		gena_last_set(g, s->svc, props);
	evbuffer_add(body, head, sizeof(head) - 1);
	evbuffer_add_buffer(body, props);
	evbuffer_add(body, tail, sizeof(tail) - 1);
	util_addr_str(&s->cb.addr, a, sizeof(a));
	if (evbuffer_add_printf(req, "NOTIFY %s HTTP/1.1\r\nHOST: %s%s%s:%u\r\n"
	    "CONTENT-TYPE: text/xml; charset=\"utf-8\"\r\nCONTENT-LENGTH: %zu\r\n"
	    "NT: upnp:event\r\nNTS: upnp:propchange\r\nSID: %s\r\nSEQ: %lu\r\n"
	    "CONNECTION: close\r\n\r\n", s->cb.path, util_addr_is_v4(&s->cb.addr) ? "" : "[",
	    a, util_addr_is_v4(&s->cb.addr) ? "" : "]", s->cb.port, evbuffer_get_length(body),
	    s->sid, (unsigned long)seq) > 0 && evbuffer_add_buffer(req, body) == 0)
		rc = 0;
done:
	if (body != NULL)
		evbuffer_free(body);
	if (props != NULL)
		evbuffer_free(props);
	return rc;
}

/* The NOTIFY in flight ended: delivered (ok) or failed for why. */
static void
gena_notify_done(struct gena_sub *s, int ok, const char *why)
{
	struct gena *g = s->g;
	char a[INET6_ADDRSTRLEN];

	if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->bev = NULL;
	evtimer_del(s->deadline_ev);
	if (ok) {
		s->fails = 0;
		g->stats->events_sent++;
		gena_kick(s);
		return;
	}
	util_addr_str(&s->cb.addr, a, sizeof(a));
	if (++s->fails < GENA_NOTIFY_FAILS) {
		if (log_limit_pass(&g->reqlog, gena_now(g)))
			log_debug("gena: NOTIFY %s to %s port %u: %s", s->sid, a, s->cb.port, why);
		gena_kick(s);
		return;
	}
	if (log_limit_pass(&g->droplog, gena_now(g)))
		log_info("gena: dropping subscription %s of %s: %u NOTIFYs failed, the last: %s",
		    s->sid, a, s->fails, why);
	gena_sub_free(s);
}

/* Whatever the response holds once a line ends, the peer closes or the bound is reached. */
static void
gena_notify_status(struct gena_sub *s, int eof)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer_ptr eol;
	char line[GENA_RESPONSE_MAX];
	size_t len = evbuffer_get_length(in);
	int code;

	eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_CRLF);
	if (eol.pos < 0 && !eof && len < GENA_RESPONSE_MAX)
		return;		/* wait for more */
	if (eol.pos >= 0)
		len = (size_t)eol.pos;
	if (len >= sizeof(line)) {
		gena_notify_done(s, 0, "no status line in the first 1024 bytes");
		return;
	}
	evbuffer_copyout(in, line, len);
	if ((code = gena_parse_status(line, len)) == -1)
		snprintf(line, sizeof(line), "%s", len ? "not an HTTP response" :
		    "closed without a response");
	else if (code < 200 || code > 299)
		snprintf(line, sizeof(line), "status %d", code);
	else
		line[0] = '\0';
	gena_notify_done(s, line[0] == '\0', line);
}

static void
gena_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	gena_notify_status(arg, 0);
}

static void
gena_event_cb(struct bufferevent *bev, short what, void *arg)
{
	char why[128];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF) {
		gena_notify_status(arg, 1);
		return;
	}
	snprintf(why, sizeof(why), "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	gena_notify_done(arg, 0, why);
}

static void
gena_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gena_notify_done(arg, 0, "timed out");
}

static socklen_t
gena_sockaddr(const struct gena_url *u, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (util_addr_is_v4(&u->addr)) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(u->port);
		memcpy(&sin->sin_addr, &u->addr.s6_addr[12], 4);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(u->port);
	sin6->sin6_addr = u->addr;
	return sizeof(*sin6);
}

/* Open the connection and queue the request; -1 with errno if that failed at once. */
static int
gena_connect(struct gena_sub *s, struct evbuffer *req)
{
	struct sockaddr_storage ss;
	socklen_t sl = gena_sockaddr(&s->cb, &ss);
	int fd;

	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	s->bev = bufferevent_socket_new(s->g->ctx->base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	bufferevent_setcb(s->bev, gena_read_cb, NULL, gena_event_cb, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, GENA_RESPONSE_MAX);
	if (bufferevent_write_buffer(s->bev, req) == -1 ||
	    bufferevent_enable(s->bev, EV_READ | EV_WRITE) == -1 ||
	    bufferevent_socket_connect(s->bev, (struct sockaddr *)&ss, (int)sl) == -1)
		return -1;
	return 0;
}

static void
gena_notify_start(struct gena_sub *s)
{
	struct gena *g = s->g;
	struct evbuffer *req = evbuffer_new();
	uint32_t seq = s->seq;
	uint64_t tmo = g->hooks.notify_timeout_ms ? g->hooks.notify_timeout_ms :
	    GENA_NOTIFY_TIMEOUT_MS;
	char why[128];

	s->owed = 0;
	s->sent_any = 1;
	s->sent_ms = gena_now(g);
	s->seq = seq == UINT32_MAX ? 1 : seq + 1;
	gena_arm(s->deadline_ev, tmo);
	if (req == NULL || gena_request(s, seq, req) == -1)
		snprintf(why, sizeof(why), "no memory");
	else if (gena_connect(s, req) == -1)
		snprintf(why, sizeof(why), "%s", strerror(errno));
	else
		why[0] = '\0';
	if (req != NULL)
		evbuffer_free(req);
	if (why[0] != '\0')
		gena_notify_done(s, 0, why);	/* may free s */
}

/* Send the event s owes if nothing is in flight and its window has passed. */
static void
gena_kick(struct gena_sub *s)
{
	uint64_t now = gena_now(s->g);

	if (!s->owed || s->held || s->bev != NULL || evtimer_pending(s->wait_ev, NULL))
		return;
	if (now >= s->expires_ms) {
		log_debug("gena: subscription %s expired", s->sid);
		gena_sub_free(s);
		return;
	}
	if (s->sent_any && now - s->sent_ms < GENA_MODERATION_MS) {
		gena_arm(s->wait_ev, GENA_MODERATION_MS - (now - s->sent_ms));
		return;
	}
	gena_notify_start(s);
}

/* ---- changes ---- */


static void
gena_changed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gena *g = arg;
	struct gena_sub *s, *next;
	int changed[IGD_NSVC];
	unsigned svc;

	(void)fd;
	(void)what;
	for (svc = 0; svc < IGD_NSVC; svc++)
		changed[svc] = g->nsvc[svc] > 0 && gena_svc_changed(g, (enum igd_svc)svc);
	for (s = TAILQ_FIRST(&g->subs); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);	/* gena_kick may free s, never another */
		if (!changed[s->svc])
			continue;
		s->owed = 1;
		gena_kick(s);
	}
}

void
gena_changed(struct gena *g)
{
	if (g != NULL)
		event_active(g->changed_ev, EV_TIMEOUT, 1);
}

/* ---- life cycle ---- */

struct gena *
gena_new(struct pg_ctx *ctx, struct igd_stats *stats, gena_vars_fn *vars, void *arg)
{
	struct gena *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->ctx = ctx;
	g->stats = stats;
	g->vars = vars;
	g->vars_arg = arg;
	TAILQ_INIT(&g->subs);
	log_limit_init(&g->reqlog, GENA_LOG_WINDOW_MS, GENA_LOG_BURST);
	log_limit_init(&g->caplog, GENA_LOG_WINDOW_MS, GENA_LOG_BURST);
	log_limit_init(&g->droplog, GENA_LOG_WINDOW_MS, GENA_LOG_BURST);
	if ((g->changed_ev = event_new(ctx->base, -1, 0, gena_changed_cb, g)) == NULL) {
		log_warnx("gena: no memory");
		free(g);
		return NULL;
	}
	return g;
}

void
gena_free(struct gena *g)
{
	unsigned svc;

	if (g == NULL)
		return;
	while (!TAILQ_EMPTY(&g->subs))
		gena_sub_free(TAILQ_FIRST(&g->subs));
	for (svc = 0; svc < IGD_NSVC; svc++)
		free(g->last[svc].props);
	event_free(g->changed_ev);
	free(g);
}

void
gena_set_hooks(struct gena *g, const struct gena_hooks *h)
{
	g->hooks = *h;
}

size_t
gena_count(const struct gena *g)
{
	return g != NULL ? g->nsubs : 0;
}
