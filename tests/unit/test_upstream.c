/*
 * test_upstream.c - the table's entries as upstream PCP mappings
 * (src/upstream.c): a home gateway's table and upstream client against a
 * carrier's PCP server core (portgate's own, with its own table), both in
 * this process on one fake clock. What the carrier's table holds is the
 * truth: entries become mappings there, fixed ports or nothing, ranges one
 * per port, deletions and renewals follow, a front end's wait hears the
 * carrier's answer, and the kept key makes a restarted gateway's nonces
 * the carrier's known ones.
 */
#include "config.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "event.h"
#include "log.h"
#include "mtable.h"
#include "pcp/pcp_client.h"
#include "pcp/pcp_server.h"
#include "pcp/pcp_wire.h"
#include "testutil.h"
#include "upstream.h"
#include "util.h"

#define HOME_WAN	"192.0.2.10"	/* the home gateway, a host on the carrier's LAN */
#define CARRIER		"192.0.2.1"	/* the carrier's PCP server */
#define CARRIER_EXT	"203.0.113.1"
#define HOST		"192.0.2.20"	/* a LAN host of the home gateway's */
#define NOUT		256

static struct fake_clock fc = { 5000000 };
static struct pg_clock clk;
static struct pg_ctx home, carrier, carrier2;
static struct pcp_srv *csrv, *csrv2;
static int mute2, mute1;	/* that carrier is gone: it answers nothing */
static struct {
	uint8_t	 buf[PCP_WIRE_MAX_LEN];
	size_t	 len;
	size_t	 to;		/* the client (server index) the answer is for */
} out[NOUT];
static size_t nout;
static unsigned saves, moves, renewed;

/* The two carriers, by the client's server index (the send hook's argument). */
static struct carrier_ref {
	size_t		 i;
	struct pcp_srv	**srv;
	const char	*addr;
	int		*mute;
} cref[2] = {
	{ 0, &csrv, "192.0.2.1", &mute1 },
	{ 1, &csrv2, "192.0.2.2", &mute2 },
};

#define A(s)	tu_addr(s)

/* A carrier answers at once; the answers reach the home gateway after its turn. */
static void
to_carrier(void *arg, const uint8_t *buf, size_t len)
{
	struct carrier_ref *c = arg;
	struct pcp_srv_pkt pkt;

	if (*c->mute || nout == NOUT)
		return;
	memset(&pkt, 0, sizeof(pkt));
	pkt.buf = buf;
	pkt.len = len;
	pkt.src = A(HOME_WAN);
	pkt.sport = 5351;
	pkt.dst = A(c->addr);
	out[nout].to = c->i;
	if ((out[nout].len = pcp_srv_handle(*c->srv, &pkt, out[nout].buf,
	    sizeof(out[nout].buf))) > 0)
		nout++;
}

/*
 * Turns of the home clients, each followed by the carriers' answers, 100 ms
 * apart (the clients pace their requests), until nothing is due within 2 s.
 */
static void
turn(void)
{
	struct pcpc *c;
	struct in6_addr s;
	uint64_t next;
	size_t i, k, n;
	int busy;

	for (k = 0; k < 100; k++) {
		nout = 0;
		for (i = 0; (c = upstream_client(home.up, i)) != NULL; i++)
			pcpc_run(c);
		n = nout;
		for (i = 0; i < n; i++) {
			s = A(cref[out[i].to].addr);
			pcpc_input(upstream_client(home.up, out[i].to), out[i].buf, out[i].len, &s,
			    5351, 0);
		}
		busy = n > 0;
		for (i = 0; (c = upstream_client(home.up, i)) != NULL; i++)
			if ((next = pcpc_next_ms(c)) != 0 && next <= fc.now + 2000)
				busy = 1;
		if (!busy)
			break;
		fc.now += 100;
	}
}

static void
notify(void *arg, enum mt_change what, const struct mt_entry *e)
{
	(void)arg;
	upstream_table_changed(home.up, what, e);
}

static void
save(struct pg_ctx *ctx)
{
	(void)ctx;
	saves++;
}

static void
moved(struct pg_ctx *ctx, int m)
{
	(void)ctx;
	moves += m;
}

static void
on_event(void *arg, const struct pg_event *ev)
{
	(void)arg;
	renewed += ev->type == EV_MAPPING_RENEWED;
}

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

static struct upstream *
start_upstream(void)
{
	static const struct in6_addr *lp;
	static struct in6_addr local;
	struct up_hooks h;

	local = A(HOME_WAN);
	lp = &local;
	memset(&h, 0, sizeof(h));
	h.public_moved = moved;
	h.save = save;
	h.send = to_carrier;
	h.send_arg[0] = &cref[0];
	h.send_arg[1] = &cref[1];
	h.local = lp;
	home.up = upstream_new(&home, &h);
	turn();			/* the ANNOUNCE probe, answered; then the address probe */
	return home.up;
}

/* A home entry: a static forward (fixed 0) or a UPnP-like fixed request (fixed 1). */
static struct mt_entry *
home_add(uint16_t port, uint16_t end, int source, int fixed, uint32_t lease)
{
	struct mt_request r;
	struct mt_entry *e = NULL;

	memset(&r, 0, sizeof(r));
	r.proto = MT_TCP;
	r.source = (uint8_t)source;
	r.ext_port = port;
	r.ext_port_end = end;
	r.int_port = port;
	r.int_addr = A(HOST);
	r.ext_addr = A(HOME_WAN);
	r.lease_s = lease;
	r.desc = "t";
	r.owner = source == MT_SRC_TRIGGER ? "game" : NULL;
	r.fixed = fixed;
	CHECK_EQ(mtable_add(home.mt, &r, &e, NULL), MT_OK);
	return e;
}

/* The carrier's mapping of (tcp, its external port), or NULL. */
static struct mt_entry *
carrier_at(uint16_t port)
{
	return mtable_lookup_ext(carrier.mt, MT_TCP, port);
}

/* The carrier's PCP mapping of the home gateway's port (its internal port), or NULL. */
static struct mt_entry *
carrier_for(uint16_t home_port)
{
	struct in6_addr h = A(HOME_WAN);

	return mtable_lookup_int_source(carrier.mt, MT_TCP, &h, home_port, MT_SRC_PCP);
}

struct waited {
	int			calls;
	struct up_landing	l;
};

static void
waited_cb(void *arg, const struct up_landing *l)
{
	struct waited *w = arg;

	w->calls++;
	w->l = *l;
}

/* A front end's wait for e (w the owner), then the turns that answer it. */
static void
await_answer(const struct mt_entry *e, struct waited *w)
{
	memset(w, 0, sizeof(*w));
	upstream_await(home.up, e->id, w, waited_cb, w);
	turn();
	CHECK_EQ(w->calls, 1);
}

static void
test_start(void)
{
	struct in6_addr a;

	CHECK(start_upstream() != NULL);
	CHECK(upstream_up(home.up));
	CHECK_EQ(saves, 1);			/* a new key, kept at once */
	CHECK_EQ(strlen(home.meta.upstream_key), 32);
	CHECK(upstream_ext_addr(home.up, &a));	/* the address probe learnt it ... */
	CHECK(memcmp(&a, &carrier.cfg->external_ip, sizeof(a)) == 0);
	CHECK_EQ(mtable_count(carrier.mt), 0);	/* ... and left nothing behind */
	CHECK(upstream_public_addr(&home, &a));
	CHECK(memcmp(&a, &carrier.cfg->external_ip, sizeof(a)) == 0);
}

static void
test_entries(void)
{
	struct mt_entry *e, *c;
	struct up_view v;
	struct waited w;
	long left;

	/* a static forward: the same port upstream, permanent there too (renewed) */
	renewed = 0;
	e = home_add(8080, 0, MT_SRC_STATIC, 0, 0);
	turn();
	CHECK_EQ(renewed, 1);		/* granted: watchers and the panel hear of it */
	c = carrier_for(8080);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_EQ(c->ext_port, 8080);
		CHECK_EQ(mtable_remaining(carrier.mt, c) > 3600, 1);
	}
	CHECK(upstream_view(home.up, e, &v));
	CHECK_EQ(v.state, PCPC_GRANTED);
	CHECK_EQ(v.ext_port, 8080);
	CHECK(memcmp(&v.ext_addr, &carrier.cfg->external_ip, sizeof(v.ext_addr)) == 0);
	CHECK_EQ(v.asked, 1);
	/* a front end waiting for a granted entry hears at once */
	memset(&w, 0, sizeof(w));
	upstream_await(home.up, e->id, &w, waited_cb, &w);
	CHECK_EQ(w.calls, 1);
	CHECK_EQ(w.l.has_view, 1);
	CHECK_EQ(w.l.refused, 0);
	/* deleted at home: deleted at the carrier */
	mtable_del(home.mt, e);
	turn();
	CHECK(carrier_for(8080) == NULL);

	/* a lease: the upstream's lifetime is what is left of it, and follows a renewal */
	e = home_add(8081, 0, MT_SRC_NATPMP, 0, 120);
	turn();
	c = carrier_for(8081);
	CHECK(c != NULL);
	left = c != NULL ? mtable_remaining(carrier.mt, c) : -1;
	CHECK(left >= 110 && left <= 120);
	CHECK_EQ(mtable_renew(home.mt, e, 600), MT_OK);
	turn();
	left = c != NULL ? mtable_remaining(carrier.mt, c) : -1;
	CHECK(left >= 590 && left <= 600);
	/* expired at home: gone at the carrier */
	fc.now += 601000;
	mtable_expire(home.mt);
	turn();
	CHECK(carrier_for(8081) == NULL);
}

static void
test_fixed(void)
{
	struct mt_request r;
	struct mt_entry *e, *held = NULL;
	struct waited w;
	struct up_view v;

	/* the carrier holds 9000 for someone else */
	memset(&r, 0, sizeof(r));
	r.proto = MT_TCP;
	r.source = MT_SRC_STATIC;
	r.ext_port = 9000;
	r.int_port = 22;
	r.int_addr = A("192.0.2.30");
	r.ext_addr = carrier.cfg->external_ip;
	CHECK_EQ(mtable_add(carrier.mt, &r, &held, NULL), MT_OK);

	/* a fixed request (UPnP AddPortMapping): refused, and deleted at home */
	e = home_add(9000, 0, MT_SRC_UPNP, MT_PORT_FIXED, 3600);
	memset(&w, 0, sizeof(w));
	upstream_await(home.up, e->id, &w, waited_cb, &w);
	CHECK_EQ(w.calls, 0);			/* pending: it waits */
	turn();
	CHECK_EQ(w.calls, 1);
	CHECK_EQ(w.l.refused, 1);
	CHECK_EQ(w.l.view.result, PCP_RES_CANNOT_PROVIDE_EXTERNAL);
	CHECK(mtable_lookup_ext(home.mt, MT_TCP, 9000) == NULL);	/* nothing left at home */
	CHECK(carrier_for(9000) == NULL);				/* nor there */
	CHECK(carrier_at(9000) == held);

	/* not fixed (a NAT-PMP request): another port upstream, which the client is told */
	e = home_add(9000, 0, MT_SRC_NATPMP, MT_PORT_ANY, 3600);
	await_answer(e, &w);
	CHECK_EQ(w.l.refused, 0);
	CHECK_EQ(w.l.view.state, PCPC_GRANTED);
	CHECK(w.l.view.ext_port != 9000);
	CHECK(carrier_for(9000) != NULL);
	CHECK(upstream_view(home.up, e, &v) && v.ext_port == w.l.view.ext_port);
	mtable_del(home.mt, e);
	turn();
	CHECK(carrier_for(9000) == NULL);

	/*
	 * any port, the same on both tiers (AddAnyPortMapping): given another
	 * port upstream, the entry moves to it here too, asked for again there
	 */
	e = home_add(9000, 0, MT_SRC_UPNP, MT_PORT_FOLLOW, 3600);
	await_answer(e, &w);
	CHECK_EQ(w.l.refused, 0);
	CHECK_EQ(w.l.view.state, PCPC_GRANTED);
	{
		uint16_t q = w.l.view.ext_port;
		struct mt_entry *ne = mtable_lookup_ext(home.mt, MT_TCP, q);

		CHECK(q != 9000);
		CHECK(mtable_lookup_ext(home.mt, MT_TCP, 9000) == NULL);	/* moved here */
		CHECK(ne != NULL && ne->int_port == 9000 && ne->source == MT_SRC_UPNP);
		CHECK(carrier_for(9000) == NULL);			/* and there */
		CHECK(carrier_for(q) != NULL && carrier_for(q)->ext_port == q);
		CHECK(carrier_at(9000) == held);
		if (ne != NULL) {
			CHECK(upstream_view(home.up, ne, &v) && v.ext_port == q);
			mtable_del(home.mt, ne);
		}
		turn();
		CHECK(carrier_for(q) == NULL);
	}
	mtable_del(carrier.mt, held);

	/* a waiter whose owner goes away is never called */
	e = home_add(9001, 0, MT_SRC_UPNP, MT_PORT_FIXED, 3600);
	memset(&w, 0, sizeof(w));
	upstream_await(home.up, e->id, &w, waited_cb, &w);
	upstream_await_cancel(home.up, &w);
	turn();
	CHECK_EQ(w.calls, 0);
	CHECK(carrier_for(9001) != NULL);	/* granted all the same */
	mtable_del(home.mt, e);
	turn();
}

static void
test_range(void)
{
	struct mt_entry *e;
	struct up_view v;
	unsigned i, n = 0;

	/* a trigger's 20 ports: one MAP each, the first UP_RANGE_MAX */
	e = home_add(7100, 7119, MT_SRC_TRIGGER, 0, 30);
	turn();
	for (i = 7100; i <= 7119; i++)
		n += carrier_for((uint16_t)i) != NULL;
	CHECK_EQ(n, UP_RANGE_MAX);
	CHECK(carrier_for(7100) != NULL && carrier_for(7100 + UP_RANGE_MAX) == NULL);
	CHECK(upstream_view(home.up, e, &v));
	CHECK_EQ(v.asked, UP_RANGE_MAX);
	CHECK_EQ(v.state, PCPC_GRANTED);
	mtable_del(home.mt, e);
	turn();
	CHECK_EQ(mtable_count(carrier.mt), 0);
}

/* The carrier's external address moves: the daemon hears it (UPnP events, a PCP epoch). */
static void
test_ext_moved(void)
{
	struct in6_addr a, was = carrier.cfg->external_ip;
	struct mt_entry *e;
	unsigned before = moves;

	e = home_add(8096, 0, MT_SRC_STATIC, MT_PORT_ANY, 600);
	turn();
	carrier.cfg->external_ip = A("203.0.113.9");
	CHECK_EQ(mtable_renew(home.mt, e, 900), MT_OK);	/* its renewal brings the new address */
	turn();
	CHECK_EQ(moves, before + 1);
	CHECK(upstream_ext_addr(home.up, &a) && memcmp(&a, &carrier.cfg->external_ip,
	    sizeof(a)) == 0);
	CHECK(upstream_public_addr(&home, &a) && memcmp(&a, &carrier.cfg->external_ip,
	    sizeof(a)) == 0);
	carrier.cfg->external_ip = was;
	mtable_del(home.mt, e);
	turn();
}

/*
 * Restarted (the client anew, the key from the state file): the carrier
 * still holds the mapping by its nonce, and renews it; another key's nonce
 * is a stranger's, which the carrier refuses.
 */
static void
test_restart(void)
{
	struct mt_entry *e, *c;
	struct up_view v;
	char key[sizeof(home.meta.upstream_key)];

	e = home_add(8082, 0, MT_SRC_STATIC, 0, 0);
	turn();
	CHECK(carrier_for(8082) != NULL);
	upstream_free(home.up);			/* nothing sent: the carrier keeps it */
	home.up = NULL;
	CHECK(carrier_for(8082) != NULL);
	CHECK(start_upstream() != NULL);
	CHECK_EQ(saves, 1);			/* the key was there */
	turn();
	c = carrier_for(8082);
	CHECK(c != NULL);
	CHECK(upstream_view(home.up, e, &v) && v.state == PCPC_GRANTED);
	CHECK_EQ(mtable_count(carrier.mt), 1);	/* renewed, not a second one */

	/* a lost key: the carrier does not know the new nonce */
	memcpy(key, home.meta.upstream_key, sizeof(key));
	upstream_free(home.up);
	home.up = NULL;
	home.meta.upstream_key[0] = '\0';
	CHECK(start_upstream() != NULL);
	CHECK_EQ(saves, 2);
	turn();
	CHECK(upstream_view(home.up, e, &v));
	CHECK_EQ(v.state, PCPC_REFUSED);
	CHECK_EQ(v.result, PCP_RES_NOT_AUTHORIZED);
	CHECK(mtable_lookup_ext(home.mt, MT_TCP, 8082) == e);	/* no one waited: kept here */
	mtable_del(home.mt, e);
	(void)key;
}

/* Status lines, for the checks. */
static char status_text[4096];

static void
status_emit(void *arg, const char *key, const char *fmt, ...)
{
	size_t n = strlen(status_text);
	va_list ap;

	(void)arg;
	snprintf(status_text + n, sizeof(status_text) - n, "%s ", key);
	n = strlen(status_text);
	va_start(ap, fmt);
	vsnprintf(status_text + n, sizeof(status_text) - n, fmt, ap);
	va_end(ap);
	n = strlen(status_text);
	snprintf(status_text + n, sizeof(status_text) - n, "\n");
}

/*
 * Two servers (the DHCP option's file names both; RFC 7488): every entry is
 * a mapping at each; clients are told the first's; when it goes, the
 * second's.
 */
static void
test_two_servers(const char *dir)
{
	char path[256];
	struct mt_entry *e;
	struct up_view v;
	struct in6_addr a;
	FILE *f;
	int i;

	upstream_free(home.up);
	home.up = NULL;
	snprintf(path, sizeof(path), "%s/pcp-servers", dir);
	CHECK((f = fopen(path, "w")) != NULL);
	if (f == NULL)
		return;
	fprintf(f, "192.0.2.1\n192.0.2.2\n");
	fclose(f);
	home.cfg->upstream_pcp = CONF_UPSTREAM_AUTO;
	free(home.cfg->upstream_pcp_file);
	home.cfg->upstream_pcp_file = strdup(path);
	CHECK(start_upstream() != NULL);
	CHECK(upstream_client(home.up, 1) != NULL);
	CHECK(upstream_client(home.up, 2) == NULL);
	CHECK(upstream_up(home.up));
	CHECK(upstream_ext_addr(home.up, &a) && memcmp(&a, &carrier.cfg->external_ip,
	    sizeof(a)) == 0);
	e = home_add(8090, 0, MT_SRC_STATIC, 0, 0);
	turn();
	CHECK(carrier_for(8090) != NULL);
	a = A(HOME_WAN);
	CHECK(mtable_lookup_int_source(carrier2.mt, MT_TCP, &a, 8090, MT_SRC_PCP) != NULL);
	CHECK(upstream_view(home.up, e, &v) && memcmp(&v.ext_addr, &carrier.cfg->external_ip,
	    sizeof(a)) == 0);
	status_text[0] = '\0';
	upstream_status(home.up, &home, status_emit, NULL);
	CHECK(strstr(status_text, "upstream_pcp_servers 2\n") != NULL);
	CHECK(strstr(status_text, "upstream_pcp_other 192.0.2.2 up 203.0.113.2\n") != NULL);

	/* the first goes silent: once a request goes unanswered, the second is the primary */
	mute1 = 1;
	e = home_add(8091, 0, MT_SRC_STATIC, 0, 0);
	for (i = 0; i < 40; i++) {
		fc.now += 1000;
		turn();
	}
	CHECK_EQ(pcpc_server_state(upstream_client(home.up, 0)), PCPC_SRV_LOST);
	CHECK(upstream_up(home.up));
	CHECK(upstream_ext_addr(home.up, &a) && memcmp(&a, &carrier2.cfg->external_ip,
	    sizeof(a)) == 0);
	CHECK(upstream_view(home.up, e, &v) && v.state == PCPC_GRANTED &&
	    memcmp(&v.ext_addr, &carrier2.cfg->external_ip, sizeof(a)) == 0);
	mute1 = 0;
	mtable_flush(home.mt, MT_NSOURCE);
	turn();
	a = A(HOME_WAN);
	CHECK(mtable_lookup_int_source(carrier2.mt, MT_TCP, &a, 8090, MT_SRC_PCP) == NULL);
}

int
main(void)
{
	log_init(1, -2);
	clk = tu_fake_clock(&fc);
	CHECK(tu_lab_ctx(&carrier, "firewall = none\npcp_rate_limit = 0\nmax_lease = 0\n", clk,
	    conf_err) != NULL);
	carrier.cfg->external_ip = A(CARRIER_EXT);
	carrier.cfg->has_external_ip = 1;
	CHECK((csrv = pcp_srv_new(&carrier)) != NULL);
	CHECK(tu_lab_ctx(&home, "firewall = none\nwan_interface = wan0\nupstream_pcp = "
	    CARRIER "\n", clk, conf_err) != NULL);
	CHECK(tu_lab_ctx(&carrier2, "firewall = none\npcp_rate_limit = 0\nmax_lease = 0\n", clk,
	    conf_err) != NULL);
	carrier2.cfg->external_ip = A("203.0.113.2");
	carrier2.cfg->has_external_ip = 1;
	CHECK((csrv2 = pcp_srv_new(&carrier2)) != NULL);
	home.base = event_base_new();
	home.events = evbus_new(0, NULL);
	CHECK(evbus_subscribe(home.events, on_event, NULL) != NULL);
	mtable_set_notify(home.mt, notify, NULL);
	test_start();
	test_entries();
	test_fixed();
	test_range();
	test_ext_moved();
	test_restart();
	test_two_servers(tu_tmpdir());
	upstream_free(home.up);
	home.up = NULL;
	event_base_free(home.base);
	evbus_free(home.events);
	tu_lab_ctx_free(&home);
	pcp_srv_free(csrv);
	tu_lab_ctx_free(&carrier);
	pcp_srv_free(csrv2);
	tu_lab_ctx_free(&carrier2);
	return tu_done("test_upstream");
}
