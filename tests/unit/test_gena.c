/*
 * test_gena.c - GENA: the CALLBACK, TIMEOUT and status-line parsers, and
 * subscriptions delivering real NOTIFYs in a live libevent loop.
 *
 * The loop tests need two LAN hosts the test can listen on. They run in a
 * network namespace of the test's own (unshare(2); as root, or through a
 * user namespace): loopback up with 192.0.2.10/24, 192.0.2.11/24 and
 * 2001:db8::10/64 on it, the gateway's LAN 192.0.2.0/24 and 2001:db8::/64
 * given to netif_set. The subscriber is libmicrohttpd on port 5000 in a
 * thread of its own. The namespace ends with the process: nothing to tear
 * down, nothing leaves it. Without namespaces only the parser tests run
 * and the test exits 77.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <microhttpd.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "igd/gena.h"
#include "igd/igd.h"
#include "log.h"
#include "netif.h"
#include "testutil.h"
#include "util.h"

#define SINK_PORT	5000
#define REFUSE_PORT	5001	/* nothing listens */
#define MUTE_PORT	5002	/* listens, never accepts or answers */
#define SINK_MAX	128
#define NOTIFY_TMO_MS	300	/* the test's NOTIFY deadline */

/* ---- parsers ---- */

static void
cb_ok(const char *hdr, const char *addr, unsigned port, const char *path)
{
	struct gena_url u;
	struct in6_addr want;

	memset(&u, 0, sizeof(u));
	CHECK_EQ(gena_parse_callback(hdr, &u), 0);
	CHECK_EQ(util_parse_addr(addr, &want), 0);
	CHECK(memcmp(&u.addr, &want, sizeof(want)) == 0);
	CHECK_EQ(u.port, port);
	CHECK_STR(u.path, path);
}

static void
cb_bad(const char *hdr)
{
	struct gena_url u;
	int rc = gena_parse_callback(hdr, &u);

	CHECK_EQ(rc, -1);
	if (rc != -1)
		fprintf(stderr, "    accepted: \"%s\"\n", hdr);
}

static void
test_parse_callback(void)
{
	char big[600], want[GENA_PATH_MAX + 1];

	cb_ok("<http://192.0.2.10:5000/evt>", "192.0.2.10", 5000, "/evt");
	cb_ok("<http://192.0.2.10/evt>", "192.0.2.10", 80, "/evt");
	cb_ok("<HTTP://192.0.2.10:49152/upnp/event/WANIPConn1?x=1&y=%2F>", "192.0.2.10",
	    49152, "/upnp/event/WANIPConn1?x=1&y=%2F");
	cb_ok("<http://192.0.2.10:5000>", "192.0.2.10", 5000, "/");
	cb_ok("  <http://192.0.2.10:1/a>  ", "192.0.2.10", 1, "/a");
	cb_ok("<http://192.0.2.10:65535/a>", "192.0.2.10", 65535, "/a");
	cb_ok("<http://[2001:db8::10]:5000/v6>", "2001:db8::10", 5000, "/v6");
	cb_ok("<http://[2001:db8::10]/v6>", "2001:db8::10", 80, "/v6");
	/* several URLs: the first usable one */
	cb_ok("<http://192.0.2.10:5000/one><http://192.0.2.11:5000/two>", "192.0.2.10", 5000,
	    "/one");
	cb_ok("<https://192.0.2.10/s> <http://router.example/n>\t<http://192.0.2.11:8/ok>",
	    "192.0.2.11", 8, "/ok");
	cb_ok("<http://192.0.2.10/a b><http://192.0.2.10/c>", "192.0.2.10", 80, "/c");
	cb_ok("<><http://192.0.2.10/c>", "192.0.2.10", 80, "/c");
	/* nothing usable */
	cb_bad("");
	cb_bad("   ");
	cb_bad("http://192.0.2.10:5000/evt");
	cb_bad("<https://192.0.2.10:5000/evt>");
	cb_bad("<ftp://192.0.2.10/evt>");
	cb_bad("<http://router.example:5000/evt>");
	cb_bad("<http://localhost/evt>");
	cb_bad("<http://192.0.2.10.example/evt>");
	cb_bad("<http://user@192.0.2.10/evt>");
	cb_bad("<http://192.0.2/evt>");
	cb_bad("<http://192.0.2.256/evt>");
	cb_bad("<http://0x7f.0.0.1/evt>");
	cb_bad("<http://192.0.2.010/evt>");
	cb_bad("<http://3221225994/evt>");
	cb_bad("<http://2001:db8::10/evt>");		/* IPv6 without brackets */
	cb_bad("<http://[2001:db8::10/evt>");
	cb_bad("<http://2001:db8::10]/evt>");
	cb_bad("<http://[]/evt>");
	cb_bad("<http://[fe80::1%25eth0]/evt>");
	cb_bad("<http://[router.example]/evt>");
	cb_bad("<http://192.0.2.10:0/evt>");
	cb_bad("<http://192.0.2.10:65536/evt>");
	cb_bad("<http://192.0.2.10:99999999999999999999/evt>");
	cb_bad("<http://192.0.2.10:/evt>");
	cb_bad("<http://192.0.2.10:-1/evt>");
	cb_bad("<http://192.0.2.10:80a/evt>");
	cb_bad("<http://192.0.2.10evt>");
	cb_bad("<http://192.0.2.10/e vt>");
	cb_bad("<http://192.0.2.10/evt\r\nX-Injected: 1>");
	cb_bad("<http://192.0.2.10/evt>\r\n");
	cb_bad("<http://192.0.2.10/e\x01vt>");
	cb_bad("<http://192.0.2.10/e\x7fvt>");
	cb_bad("<http://192.0.2.10/\xc3\xa9>");
	cb_bad("<http://192.0.2.10/a\"b>");
	cb_bad("<http://192.0.2.10/a#frag>");
	cb_bad("<http://192.0.2.10/%zz>");
	cb_bad("<http://192.0.2.10/%4>");
	cb_bad("<http://192.0.2.10/evt");
	cb_bad("<http://192.0.2.10/evt> junk");
	cb_bad("<http://192.0.2.10/evt<http://192.0.2.10/x>");
	/* a path of GENA_PATH_MAX - 1 bytes fits, one more does not */
	memset(big, 'a', sizeof(big));
	memcpy(big, "<http://192.0.2.10/", 19);
	strcpy(big + 18 + GENA_PATH_MAX - 1, ">");
	snprintf(want, sizeof(want), "%.*s", GENA_PATH_MAX - 1, big + 18);
	cb_ok(big, "192.0.2.10", 80, want);
	big[18 + GENA_PATH_MAX - 1] = 'a';
	strcpy(big + 18 + GENA_PATH_MAX, ">");
	cb_bad(big);
}

static void
test_parse_timeout(void)
{
	CHECK_EQ(gena_parse_timeout(NULL), GENA_TIMEOUT_DEFAULT);
	CHECK_EQ(gena_parse_timeout("Second-300"), 300);
	CHECK_EQ(gena_parse_timeout("second-300"), 300);
	CHECK_EQ(gena_parse_timeout(" Second-300 "), 300);
	CHECK_EQ(gena_parse_timeout("Second-60"), 60);
	CHECK_EQ(gena_parse_timeout("Second-59"), GENA_TIMEOUT_MIN);
	CHECK_EQ(gena_parse_timeout("Second-0"), GENA_TIMEOUT_MIN);
	CHECK_EQ(gena_parse_timeout("Second-1800"), 1800);
	CHECK_EQ(gena_parse_timeout("Second-1801"), GENA_TIMEOUT_MAX);
	CHECK_EQ(gena_parse_timeout("Second-4294967296"), GENA_TIMEOUT_MAX);
	CHECK_EQ(gena_parse_timeout("Second-99999999999999999999999999"), GENA_TIMEOUT_MAX);
	CHECK_EQ(gena_parse_timeout("Second-0000000000000000000000300"), 300);
	CHECK_EQ(gena_parse_timeout("Second-infinite"), GENA_TIMEOUT_MAX);
	CHECK_EQ(gena_parse_timeout("Second-INFINITE"), GENA_TIMEOUT_MAX);
	CHECK_EQ(gena_parse_timeout(""), GENA_TIMEOUT_DEFAULT);
	CHECK_EQ(gena_parse_timeout("Second-"), GENA_TIMEOUT_DEFAULT);
	CHECK_EQ(gena_parse_timeout("Second--5"), GENA_TIMEOUT_DEFAULT);
	CHECK_EQ(gena_parse_timeout("Second-+5"), GENA_TIMEOUT_DEFAULT);
	CHECK_EQ(gena_parse_timeout("Second-300x"), GENA_TIMEOUT_DEFAULT);
	CHECK_EQ(gena_parse_timeout("Second-3 00"), GENA_TIMEOUT_DEFAULT);
	CHECK_EQ(gena_parse_timeout("Second-infinite5"), GENA_TIMEOUT_DEFAULT);
	CHECK_EQ(gena_parse_timeout("300"), GENA_TIMEOUT_DEFAULT);
	CHECK_EQ(gena_parse_timeout("Minute-5"), GENA_TIMEOUT_DEFAULT);
}

static void
test_parse_status(void)
{
	CHECK_EQ(gena_parse_status("HTTP/1.1 200 OK", 15), 200);
	CHECK_EQ(gena_parse_status("HTTP/1.0 204", 12), 204);
	CHECK_EQ(gena_parse_status("HTTP/1.1 412 Precondition Failed\r\n", 34), 412);
	CHECK_EQ(gena_parse_status("HTTP/1.1 200 OK", 12), 200);
	CHECK_EQ(gena_parse_status("HTTP/1.1 2000 OK", 16), -1);
	CHECK_EQ(gena_parse_status("HTTP/1.1 20", 11), -1);
	CHECK_EQ(gena_parse_status("HTTP/1.1 099 x", 14), -1);
	CHECK_EQ(gena_parse_status("HTTP/1.1 600 x", 14), -1);
	CHECK_EQ(gena_parse_status("http/1.1 200 OK", 15), -1);
	CHECK_EQ(gena_parse_status("ICY 200 OK", 10), -1);
	CHECK_EQ(gena_parse_status("", 0), -1);
}

/* ---- the namespace ---- */

struct in6_ifreq_compat {	/* struct in6_ifreq of <linux/ipv6.h> */
	struct in6_addr	 addr;
	uint32_t	 prefixlen;
	int		 ifindex;
};

static int
ns_add4(int fd, const char *label, const char *addr)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", label);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	if (ioctl(fd, SIOCSIFADDR, &ifr) == -1)
		return -1;
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	return ioctl(fd, SIOCSIFNETMASK, &ifr);
}

static int
ns_add6(const char *addr)
{
	struct in6_ifreq_compat r;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), rc;

	memset(&r, 0, sizeof(r));
	inet_pton(AF_INET6, addr, &r.addr);
	r.prefixlen = 64;
	r.ifindex = (int)if_nametoindex("lo");
	rc = fd == -1 ? -1 : ioctl(fd, SIOCSIFADDR, &r);
	if (fd != -1)
		close(fd);
	return rc;
}

/* A network namespace of our own with the test's addresses on loopback; 0 or -1. */
static int
ns_enter(void)
{
	struct ifreq ifr;
	int fd, rc;

	if (unshare(CLONE_NEWNET) == -1 && unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (rc == -1 || ioctl(fd, SIOCSIFFLAGS, &ifr) == -1 ||
	    ns_add4(fd, "lo:1", "192.0.2.10") == -1 || ns_add4(fd, "lo:2", "192.0.2.11") == -1) {
		perror("test_gena: namespace addresses");
		close(fd);
		return -1;
	}
	close(fd);
	if (ns_add6("2001:db8::10") == -1)
		perror("test_gena: 2001:db8::10 (IPv6 checks will fail)");
	return 0;
}

/* ---- the subscriber: libmicrohttpd in its own thread ---- */

struct note {
	char		 method[16], path[GENA_PATH_MAX], host[64], ctype[64];
	char		 nt[32], nts[32], sid[GENA_SID_MAX], seq[16], conn[16];
	char		 body[2048];
	size_t		 blen;
	uint64_t	 at_ms;
};

static struct {
	pthread_mutex_t	 mu;
	struct note	 notes[SINK_MAX];
	unsigned	 n;
} sink = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
hdr_copy(struct MHD_Connection *c, const char *name, char *out, size_t len)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, len, "%s", v != NULL ? v : "(none)");
}

static enum MHD_Result
sink_answer(struct MHD_Connection *c, struct note *nt)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok;

	nt->at_ms = util_mono_ms();
	pthread_mutex_lock(&sink.mu);
	if (sink.n < SINK_MAX)
		sink.notes[sink.n++] = *nt;
	pthread_mutex_unlock(&sink.mu);
	/* paths under /fail answer 500: a failure for the daemon */
	ok = MHD_queue_response(c, strncmp(nt->path, "/fail", 5) == 0 ? 500 : 200, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result
sink_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *data_len, void **con_cls)
{
	struct note *nt = *con_cls;

	(void)cls;
	(void)version;
	if (nt == NULL) {
		if ((nt = calloc(1, sizeof(*nt))) == NULL)
			return MHD_NO;
		snprintf(nt->method, sizeof(nt->method), "%s", method);
		snprintf(nt->path, sizeof(nt->path), "%s", url);
		hdr_copy(c, "HOST", nt->host, sizeof(nt->host));
		hdr_copy(c, "CONTENT-TYPE", nt->ctype, sizeof(nt->ctype));
		hdr_copy(c, "NT", nt->nt, sizeof(nt->nt));
		hdr_copy(c, "NTS", nt->nts, sizeof(nt->nts));
		hdr_copy(c, "SID", nt->sid, sizeof(nt->sid));
		hdr_copy(c, "SEQ", nt->seq, sizeof(nt->seq));
		hdr_copy(c, "CONNECTION", nt->conn, sizeof(nt->conn));
		*con_cls = nt;
		return MHD_YES;
	}
	if (*data_len > 0) {
		if (nt->blen + *data_len < sizeof(nt->body)) {
			memcpy(nt->body + nt->blen, data, *data_len);
			nt->blen += *data_len;
		}
		*data_len = 0;
		return MHD_YES;
	}
	return sink_answer(c, nt);
}

static void
sink_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	(void)cls;
	(void)c;
	(void)t;
	free(*con_cls);
	*con_cls = NULL;
}

static struct MHD_Daemon *
sink_start(void)
{
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_DUAL_STACK, SINK_PORT,
	    NULL, NULL, sink_handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, sink_done, NULL,
	    MHD_OPTION_END);
}

static unsigned
sink_count(void)
{
	unsigned n;

	pthread_mutex_lock(&sink.mu);
	n = sink.n;
	pthread_mutex_unlock(&sink.mu);
	return n;
}

/* A copy of the i-th NOTIFY received. */
static struct note
sink_get(unsigned i)
{
	struct note n;

	pthread_mutex_lock(&sink.mu);
	n = sink.notes[i < SINK_MAX ? i : SINK_MAX - 1];
	pthread_mutex_unlock(&sink.mu);
	n.body[n.blen < sizeof(n.body) ? n.blen : sizeof(n.body) - 1] = '\0';
	return n;
}

/* NOTIFYs for sid among those received from index from on. */
static unsigned
sink_count_sid(const char *sid, unsigned from)
{
	unsigned i, n = 0, all = sink_count();

	for (i = from; i < all; i++)
		if (strcmp(sink_get(i).sid, sid) == 0)
			n++;
	return n;
}

/* ---- the gateway under test ---- */

struct tvars {
	unsigned	 entries;
	unsigned	 sysid;
	const char	*link;
};

static struct {
	struct event_base	*base;
	struct pg_ctx		 ctx;
	struct igd		 igd;
	struct tvars		 vars;
	uint64_t		 offset_ms;	/* added to the daemon's clock: expiry */
} gw;

static uint64_t
gw_now(void *arg)
{
	return util_mono_ms() + *(uint64_t *)arg;
}

static void
prop(struct evbuffer *p, const char *name, const char *value)
{
	evbuffer_add_printf(p, "<e:property><%s>%s</%s></e:property>", name, value, name);
}

static void
gw_vars(void *arg, enum igd_svc svc, struct evbuffer *p)
{
	struct tvars *v = arg;
	char buf[32];

	switch (svc) {
	case IGD_SVC_IPCONN:
		prop(p, "PossibleConnectionTypes", "IP_Routed");
		prop(p, "ConnectionStatus", "Connected");
		prop(p, "ExternalIPAddress", "198.51.100.1");
		snprintf(buf, sizeof(buf), "%u", v->entries);
		prop(p, "PortMappingNumberOfEntries", buf);
		snprintf(buf, sizeof(buf), "%u", v->sysid);
		prop(p, "SystemUpdateID", buf);
		break;
	case IGD_SVC_WANCFG:
		prop(p, "PhysicalLinkStatus", v->link);
		prop(p, "EnabledForInternet", "1");
		break;
	default:
		prop(p, "DefaultConnectionService", "uuid:x:WANConnectionDevice:1,"
		    "urn:upnp-org:serviceId:WANIPConn1");
		break;
	}
}

static struct in6_addr
A(const char *s)
{
	struct in6_addr a;

	if (util_parse_addr(s, &a) != 0)
		abort();
	return a;
}

static void
gw_setup(void)
{
	struct gena_hooks h = { gw_vars, &gw.vars, NOTIFY_TMO_MS };
	struct netif_prefix p[2];
	struct in6_addr local[2] = { A("192.0.2.1"), A("2001:db8::1") };

	memset(&gw.ctx, 0, sizeof(gw.ctx));
	memset(&gw.igd, 0, sizeof(gw.igd));
	gw.offset_ms = 0;
	gw.vars.entries = 0;
	gw.vars.sysid = 1;
	gw.vars.link = "Up";
	gw.ctx.base = gw.base;
	gw.ctx.clock.now_ms = gw_now;
	gw.ctx.clock.arg = &gw.offset_ms;
	memset(p, 0, sizeof(p));
	p[0].addr = A("192.0.2.0");
	p[0].plen = 96 + 24;
	p[0].local = local[0];
	strcpy(p[0].ifname, "br-lan");
	p[1].addr = A("2001:db8::");
	p[1].plen = 64;
	p[1].local = local[1];
	strcpy(p[1].ifname, "br-lan");
	gw.ctx.netif = netif_new(NULL, 0, &gw.ctx.clock);
	netif_set(gw.ctx.netif, p, 2, local, 2);
	gw.igd.ctx = &gw.ctx;
	gw.ctx.igd = &gw.igd;
	gw.igd.gena = gena_new(&gw.ctx, &gw.igd.stats, NULL, NULL);	/* gw_vars by the hook */
	gena_set_hooks(gw.igd.gena, &h);
}

static void
gw_teardown(void)
{
	gena_free(gw.igd.gena);
	gw.igd.gena = NULL;
	netif_free(gw.ctx.netif);
	/* nothing of gena's may be left in the loop (freed bufferevents finalize in one turn) */
	event_base_loop(gw.base, EVLOOP_NONBLOCK);
	CHECK_EQ(event_base_get_num_events(gw.base, EVENT_BASE_COUNT_ADDED), 0);
	if (event_base_get_num_events(gw.base, EVENT_BASE_COUNT_ADDED) != 0)
		event_base_dump_events(gw.base, stderr);
}

/* Run the loop for ms milliseconds. */
static void
spin(unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	event_base_loopexit(gw.base, &tv);
	event_base_dispatch(gw.base);
}

/* Run the loop until n NOTIFYs were received in all, for at most max_ms. */
static int
spin_until(unsigned n, unsigned max_ms)
{
	uint64_t end = util_mono_ms() + max_ms;

	while (sink_count() < n && util_mono_ms() < end)
		spin(5);
	return sink_count() >= n;
}

static struct gena_reply
sub(enum igd_svc svc, const char *client, const char *cb, const char *nt, const char *sid,
    const char *tmo)
{
	struct gena_hdrs h = { cb, nt, sid, tmo, 0 };
	struct in6_addr c = A(client);
	struct gena_reply r;

	gena_subscribe(gw.igd.gena, svc, &c, &h, &r);
	return r;
}

static int
unsub(enum igd_svc svc, const char *client, const char *cb, const char *nt, const char *sid)
{
	struct gena_hdrs h = { cb, nt, sid, NULL, 0 };
	struct in6_addr c = A(client);

	return gena_unsubscribe(gw.igd.gena, svc, &c, &h);
}

static void
change(void)
{
	gw.vars.entries++;
	gw.vars.sysid++;
	gena_changed(gw.igd.gena);
}

static int
has(const struct note *n, const char *s)
{
	if (strstr(n->body, s) != NULL)
		return 1;
	fprintf(stderr, "    no \"%s\" in \"%s\"\n", s, n->body);
	return 0;
}

/* ---- loop tests ---- */

/*
 * How early a timer may fire as the test's clock sees it: libevent reads
 * CLOCK_MONOTONIC_COARSE (4 ms steps here) both when it arms a timer and
 * when it checks it, the test CLOCK_MONOTONIC in whole ms.
 */
#define GENA_TEST_SLACK_MS	10

static void
check_initial(const struct note *n, const char *sid, uint64_t subscribed_ms)
{
	CHECK_STR(n->method, "NOTIFY");
	CHECK_STR(n->path, "/evt/ip");
	CHECK_STR(n->host, "192.0.2.10:5000");
	CHECK_STR(n->ctype, "text/xml; charset=\"utf-8\"");
	CHECK_STR(n->nt, "upnp:event");
	CHECK_STR(n->nts, "upnp:propchange");
	CHECK_STR(n->conn, "close");
	CHECK_STR(n->sid, sid);
	CHECK_STR(n->seq, "0");
	CHECK(n->at_ms >= subscribed_ms + GENA_INITIAL_DELAY_MS - GENA_TEST_SLACK_MS);
	CHECK(strncmp(n->body, "<?xml version=\"1.0\"?>\n<e:propertyset "
	    "xmlns:e=\"urn:schemas-upnp-org:event-1-0\"><e:property>", 81) == 0);
	CHECK(has(n, "<e:property><PossibleConnectionTypes>IP_Routed</PossibleConnectionTypes>"
	    "</e:property>"));
	CHECK(has(n, "<ConnectionStatus>Connected</ConnectionStatus>"));
	CHECK(has(n, "<ExternalIPAddress>198.51.100.1</ExternalIPAddress>"));
	CHECK(has(n, "<PortMappingNumberOfEntries>0</PortMappingNumberOfEntries>"));
	CHECK(has(n, "<SystemUpdateID>1</SystemUpdateID>"));
	CHECK(strcmp(n->body + strlen(n->body) - 16, "</e:propertyset>") == 0);
}

/* Subscribe, initial event, a change, moderation, a change of nothing. */
static void
test_events(void)
{
	struct gena_reply r;
	struct note n;
	uint64_t t0;
	unsigned base;

	gw_setup();
	sink.n = 0;
	t0 = util_mono_ms();
	r = sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://192.0.2.10:5000/evt/ip>", "upnp:event",
	    NULL, "Second-300");
	CHECK_EQ(r.status, 200);
	CHECK(strncmp(r.sid, "uuid:", 5) == 0 && strlen(r.sid) == 41);
	CHECK_STR(r.timeout, "Second-300");
	CHECK_EQ(gena_count(gw.igd.gena), 1);
	CHECK_EQ(sink_count(), 0);	/* nothing before the HTTP reply can go */
	CHECK(spin_until(1, 2000));
	n = sink_get(0);
	check_initial(&n, r.sid, t0);

	/* a change: SEQ 1 with the new value */
	change();
	CHECK(spin_until(2, 2000));
	n = sink_get(1);
	CHECK_STR(n.seq, "1");
	CHECK(has(&n, "<PortMappingNumberOfEntries>1</PortMappingNumberOfEntries>"));
	t0 = n.at_ms;

	/* five changes within 100 ms of that event: one event, the newest values, after the window */
	for (base = 0; base < 5; base++) {
		change();
		spin(20);
	}
	spin(GENA_MODERATION_MS + 300);
	CHECK_EQ(sink_count(), 3);
	n = sink_get(2);
	CHECK_STR(n.seq, "2");
	CHECK(has(&n, "<PortMappingNumberOfEntries>6</PortMappingNumberOfEntries>"));
	CHECK(n.at_ms >= t0 + GENA_MODERATION_MS - 20);

	/* gena_changed with nothing changed sends nothing */
	gena_changed(gw.igd.gena);
	spin(GENA_MODERATION_MS + 100);
	CHECK_EQ(sink_count(), 3);
	CHECK_EQ(gw.igd.stats.events_sent, 3);
	gw_teardown();
}

/* Other services get their own variables, and only their own changes. */
static void
test_services(void)
{
	struct gena_reply ip, cfg, l3f;
	struct note n;
	unsigned i, got = 0;

	gw_setup();
	sink.n = 0;
	ip = sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://192.0.2.10:5000/evt/ip>", "upnp:event",
	    NULL, NULL);
	cfg = sub(IGD_SVC_WANCFG, "192.0.2.10", "<http://192.0.2.10:5000/evt/cfg>", "upnp:event",
	    NULL, NULL);
	l3f = sub(IGD_SVC_L3F, "192.0.2.11", "<http://192.0.2.11:5000/evt/l3f>", "upnp:event",
	    NULL, NULL);
	CHECK(ip.status == 200 && cfg.status == 200 && l3f.status == 200);
	CHECK_STR(ip.timeout, "Second-1800");
	CHECK(strcmp(ip.sid, cfg.sid) != 0 && strcmp(cfg.sid, l3f.sid) != 0);
	CHECK(spin_until(3, 2000));
	for (i = 0; i < 3; i++) {
		n = sink_get(i);
		CHECK_STR(n.seq, "0");
		if (strcmp(n.sid, cfg.sid) == 0) {
			got |= 1;
			CHECK_STR(n.path, "/evt/cfg");
			CHECK(has(&n, "<PhysicalLinkStatus>Up</PhysicalLinkStatus>"));
			CHECK(has(&n, "<EnabledForInternet>1</EnabledForInternet>"));
		} else if (strcmp(n.sid, l3f.sid) == 0) {
			got |= 2;
			CHECK_STR(n.host, "192.0.2.11:5000");
			CHECK(has(&n, "<DefaultConnectionService>uuid:x:WANConnectionDevice:1,"
			    "urn:upnp-org:serviceId:WANIPConn1</DefaultConnectionService>"));
		} else if (strcmp(n.sid, ip.sid) == 0)
			got |= 4;
	}
	CHECK_EQ(got, 7);
	/* the table changes: only WANIPConnection's subscriber hears of it */
	change();
	spin(GENA_MODERATION_MS + 200);
	CHECK_EQ(sink_count(), 4);
	CHECK_EQ(sink_count_sid(ip.sid, 3), 1);
	/* the link goes down: only WANCommonInterfaceConfig's */
	gw.vars.link = "Down";
	gena_changed(gw.igd.gena);
	spin(GENA_MODERATION_MS + 200);
	CHECK_EQ(sink_count(), 5);
	n = sink_get(4);
	CHECK_STR(n.sid, cfg.sid);
	CHECK_STR(n.seq, "1");
	CHECK(has(&n, "<PhysicalLinkStatus>Down</PhysicalLinkStatus>"));
	gw_teardown();
}

/* Several URLs, IPv6. */
static void
test_callbacks(void)
{
	struct gena_reply r, r6;
	struct note n;

	gw_setup();
	sink.n = 0;
	r = sub(IGD_SVC_IPCONN, "192.0.2.10", "<https://192.0.2.10/s><http://192.0.2.10:5000/2nd>"
	    "<http://192.0.2.10:5000/3rd>", "upnp:event", NULL, NULL);
	CHECK_EQ(r.status, 200);
	r6 = sub(IGD_SVC_IPCONN, "2001:db8::10", "<http://[2001:db8::10]:5000/v6>", "upnp:event",
	    NULL, NULL);
	CHECK_EQ(r6.status, 200);
	CHECK(spin_until(2, 2000));
	n = sink_get(0);
	if (strcmp(n.sid, r.sid) != 0)
		n = sink_get(1);
	CHECK_STR(n.path, "/2nd");
	n = sink_get(strcmp(sink_get(0).sid, r6.sid) == 0 ? 0 : 1);
	CHECK_STR(n.sid, r6.sid);
	CHECK_STR(n.path, "/v6");
	CHECK_STR(n.host, "[2001:db8::10]:5000");
	gw_teardown();
}

static void
test_refusals(void)
{
	const char *cb = "<http://192.0.2.10:5000/evt>", *ev = "upnp:event";
	struct gena_reply r;

	gw_setup();
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, NULL, NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", cb, NULL, NULL, NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", NULL, ev, NULL, NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", cb, "upnp:propchange", NULL, NULL).status, 412);
	/* CallStranger: a CALLBACK must name the subscriber itself */
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://192.0.2.11:5000/evt>", ev, NULL,
	    NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://198.51.100.100:80/evt>", ev, NULL,
	    NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://192.0.2.1:80/evt>", ev, NULL,
	    NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://127.0.0.1:5000/evt>", ev, NULL,
	    NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://host.example:5000/evt>", ev, NULL,
	    NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://[::ffff:192.0.2.10]:5000/e>", ev, NULL,
	    NULL).status, 200);	/* the same address, written as IPv6 */
	/* a subscriber that is not a LAN host, even naming itself */
	CHECK_EQ(sub(IGD_SVC_IPCONN, "198.51.100.100", "<http://198.51.100.100/evt>", ev, NULL,
	    NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.1", "<http://192.0.2.1/evt>", ev, NULL,
	    NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.255", "<http://192.0.2.255/evt>", ev, NULL,
	    NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "127.0.0.1", "<http://127.0.0.1/evt>", ev, NULL,
	    NULL).status, 412);
	/* SID with CALLBACK or NT */
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", cb, NULL, "uuid:x", NULL).status, 400);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", NULL, ev, "uuid:x", NULL).status, 400);
	r = sub(IGD_SVC_IPCONN, "192.0.2.10", cb, ev, "uuid:x", NULL);
	CHECK_EQ(r.status, 400);
	CHECK_STR(r.sid, "");
	CHECK_EQ(gena_count(gw.igd.gena), 1);
	gw_teardown();
}

static void
test_renew_unsubscribe(void)
{
	const char *cb = "<http://192.0.2.10:5000/evt>", *ev = "upnp:event";
	struct gena_reply r, rn;
	unsigned before;

	gw_setup();
	sink.n = 0;
	r = sub(IGD_SVC_IPCONN, "192.0.2.10", cb, ev, NULL, "Second-100");
	CHECK_EQ(r.status, 200);
	rn = sub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, r.sid, "Second-infinite");
	CHECK_EQ(rn.status, 200);
	CHECK_STR(rn.sid, r.sid);
	CHECK_STR(rn.timeout, "Second-1800");
	rn = sub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, r.sid, NULL);
	CHECK_STR(rn.timeout, "Second-1800");
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL,
	    "uuid:00000000-0000-4000-8000-000000000000", NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, "", NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_WANCFG, "192.0.2.10", NULL, NULL, r.sid, NULL).status, 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.11", NULL, NULL, r.sid, NULL).status, 412);
	CHECK(spin_until(1, 2000));
	CHECK_EQ(sink_count(), 1);	/* a renewal sends no initial event */

	CHECK_EQ(unsub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, NULL), 412);
	CHECK_EQ(unsub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, ""), 412);
	CHECK_EQ(unsub(IGD_SVC_IPCONN, "192.0.2.10", cb, NULL, r.sid), 400);
	CHECK_EQ(unsub(IGD_SVC_IPCONN, "192.0.2.10", NULL, ev, r.sid), 400);
	CHECK_EQ(unsub(IGD_SVC_IPCONN, "192.0.2.11", NULL, NULL, r.sid), 412);
	CHECK_EQ(unsub(IGD_SVC_WANCFG, "192.0.2.10", NULL, NULL, r.sid), 412);
	CHECK_EQ(unsub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, "uuid:nope"), 412);
	CHECK_EQ(gena_count(gw.igd.gena), 1);
	CHECK_EQ(unsub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, r.sid), 200);
	CHECK_EQ(gena_count(gw.igd.gena), 0);
	CHECK_EQ(unsub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, r.sid), 412);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, r.sid, NULL).status, 412);
	before = sink_count();
	change();
	spin(GENA_MODERATION_MS + 200);
	CHECK_EQ(sink_count(), before);
	gw_teardown();
}

/*
 * The HTTP layer's hook: nothing before the SUBSCRIBE reply is out, and
 * then not at once either. GUPnP (gupnp-event-dumper) drops a NOTIFY that
 * comes before it has read the reply and learnt the SID; it came 0.1 ms
 * after the reply when the initial event went at gena_reply_sent.
 */
static void
test_initial_after_reply(void)
{
	struct gena_hdrs h = { "<http://192.0.2.10:5000/evt/ip>", "upnp:event", NULL, NULL, 1 };
	struct in6_addr c = A("192.0.2.10");
	struct gena_reply r;
	struct note n;
	uint64_t sent;

	gw_setup();
	sink.n = 0;
	gena_subscribe(gw.igd.gena, IGD_SVC_IPCONN, &c, &h, &r);
	CHECK_EQ(r.status, 200);
	spin(GENA_INITIAL_DELAY_MS + 100);
	CHECK_EQ(sink_count(), 0);	/* the reply has not been sent yet */
	change();
	spin(GENA_MODERATION_MS);
	CHECK_EQ(sink_count(), 0);	/* nor for a change meanwhile */
	sent = util_mono_ms();
	gena_reply_sent(gw.igd.gena, r.sid);
	spin(GENA_INITIAL_DELAY_MS / 2);
	CHECK_EQ(sink_count(), 0);	/* not yet: the control point reads the reply first */
	CHECK(spin_until(1, 2000));
	n = sink_get(0);
	CHECK_STR(n.seq, "0");
	CHECK(n.at_ms >= sent + GENA_INITIAL_DELAY_MS - GENA_TEST_SLACK_MS);
	CHECK(has(&n, "<PortMappingNumberOfEntries>1</PortMappingNumberOfEntries>"));
	/* a second "sent" (another request on the connection) sends nothing more */
	gena_reply_sent(gw.igd.gena, r.sid);
	spin(GENA_INITIAL_DELAY_MS + 100);
	CHECK_EQ(sink_count(), 1);
	gw_teardown();
}

/* Unsubscribing while the initial event is still waiting sends nothing. */
static void
test_unsubscribe_early(void)
{
	struct gena_reply r;

	gw_setup();
	sink.n = 0;
	r = sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://192.0.2.10:5000/evt>", "upnp:event", NULL,
	    NULL);
	CHECK_EQ(unsub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, r.sid), 200);
	spin(GENA_INITIAL_DELAY_MS + 200);
	CHECK_EQ(sink_count(), 0);
	gw_teardown();
}

static void
test_caps(void)
{
	char cb[64], client[32];
	unsigned i, ok = 0;

	gw_setup();
	for (i = 0; i < GENA_PER_CLIENT; i++)
		ok += sub(IGD_SVC_IPCONN, "192.0.2.11", "<http://192.0.2.11:5000/cap>", "upnp:event",
		    NULL, NULL).status == 200;
	CHECK_EQ(ok, GENA_PER_CLIENT);
	CHECK_EQ(sub(IGD_SVC_WANCFG, "192.0.2.11", "<http://192.0.2.11:5000/cap>", "upnp:event",
	    NULL, NULL).status, 503);
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://192.0.2.10:5000/cap>", "upnp:event",
	    NULL, NULL).status, 200);
	/* the gateway's cap: more hosts (their NOTIFYs fail, quickly) */
	for (i = 100; gena_count(gw.igd.gena) < GENA_MAX_SUBS && i < 200; i++) {
		snprintf(client, sizeof(client), "192.0.2.%u", i);
		snprintf(cb, sizeof(cb), "<http://%s:%u/cap>", client, REFUSE_PORT);
		while (sub(IGD_SVC_L3F, client, cb, "upnp:event", NULL, NULL).status == 200)
			;
	}
	CHECK_EQ(gena_count(gw.igd.gena), GENA_MAX_SUBS);
	CHECK_EQ(sub(IGD_SVC_L3F, "192.0.2.250", "<http://192.0.2.250/cap>", "upnp:event", NULL,
	    NULL).status, 503);
	spin(GENA_INITIAL_DELAY_MS + 50);	/* 256 NOTIFYs start at once */
	gw_teardown();
}

/* A subscriber whose NOTIFYs fail GENA_NOTIFY_FAILS times in a row is dropped. */
static void
check_dropped(const char *cb, const char *what)
{
	struct gena_reply r;
	unsigned changes = 0;

	gw_setup();
	r = sub(IGD_SVC_IPCONN, "192.0.2.10", cb, "upnp:event", NULL, NULL);
	CHECK_EQ(r.status, 200);
	spin(GENA_INITIAL_DELAY_MS + NOTIFY_TMO_MS + 100);	/* the initial event fails */
	while (gena_count(gw.igd.gena) == 1 && changes < 5) {
		change();
		changes++;
		spin(GENA_MODERATION_MS + NOTIFY_TMO_MS + 100);
	}
	CHECK_EQ(gena_count(gw.igd.gena), 0);
	CHECK_EQ(changes, GENA_NOTIFY_FAILS - 1);
	if (changes != GENA_NOTIFY_FAILS - 1)
		fprintf(stderr, "    (%s)\n", what);
	CHECK_EQ(gw.igd.stats.events_sent, 0);
	gw_teardown();
}

static void
test_failures(void)
{
	struct sockaddr_in sin;
	char cb[64];
	int fd;

	snprintf(cb, sizeof(cb), "<http://192.0.2.10:%u/x>", REFUSE_PORT);
	check_dropped(cb, "connection refused");
	check_dropped("<http://192.0.2.10:5000/fail>", "500 answers");
	/* a host that accepts connections and never answers */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(MUTE_PORT);
	inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	CHECK(fd != -1 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(fd, 16) == 0);
	snprintf(cb, sizeof(cb), "<http://192.0.2.10:%u/x>", MUTE_PORT);
	check_dropped(cb, "never answers");
	/* freed with a NOTIFY in flight */
	gw_setup();
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", cb, "upnp:event", NULL, NULL).status, 200);
	spin(GENA_INITIAL_DELAY_MS + 50);
	gw_teardown();
	close(fd);
}

/* A subscription past its TIMEOUT gets nothing and cannot be renewed. */
static void
test_expiry(void)
{
	struct gena_reply r;

	gw_setup();
	sink.n = 0;
	r = sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://192.0.2.10:5000/evt>", "upnp:event", NULL,
	    "Second-60");
	CHECK_STR(r.timeout, "Second-60");
	CHECK(spin_until(1, 2000));
	gw.offset_ms = 59 * 1000;
	change();
	CHECK(spin_until(2, 2000));	/* not yet */
	gw.offset_ms = 60 * 1000 + 1;
	change();
	spin(GENA_MODERATION_MS + 200);
	CHECK_EQ(sink_count(), 2);
	CHECK_EQ(gena_count(gw.igd.gena), 0);
	/* and a renewal past the TIMEOUT is refused */
	r = sub(IGD_SVC_IPCONN, "192.0.2.10", "<http://192.0.2.10:5000/evt>", "upnp:event", NULL,
	    "Second-60");
	gw.offset_ms += 61 * 1000;
	CHECK_EQ(sub(IGD_SVC_IPCONN, "192.0.2.10", NULL, NULL, r.sid, NULL).status, 412);
	CHECK_EQ(gena_count(gw.igd.gena), 0);
	gw_teardown();
}

int
main(void)
{
	struct MHD_Daemon *d;

	log_setverbose(getenv("GENA_VERBOSE") ? 1 : -2);
	test_parse_callback();
	test_parse_timeout();
	test_parse_status();
	if (ns_enter() == -1) {
		printf("SKIP: no network namespace for the loop tests (%s)\n", strerror(errno));
		return tu_failures ? tu_done("test_gena") : 77;
	}
	if ((d = sink_start()) == NULL || (gw.base = event_base_new()) == NULL) {
		fprintf(stderr, "test_gena: cannot start the subscriber or the loop\n");
		return 1;
	}
	test_events();
	test_services();
	test_callbacks();
	test_refusals();
	test_renew_unsubscribe();
	test_initial_after_reply();
	test_unsubscribe_early();
	test_caps();
	test_failures();
	test_expiry();
	MHD_stop_daemon(d);
	event_base_free(gw.base);
	return tu_done("test_gena");
}
