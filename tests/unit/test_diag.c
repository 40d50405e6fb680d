/*
 * test_diag.c - the diagnosis (portgatectl check): what kind of address an
 * external address is; the steps and the verdict from facts alone; and
 * whole checks over the in-memory firewall (pretending to be the kernel),
 * with a real TCP connect to a socket of the test's on loopback, through
 * the control socket as portgatectl sends them.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "diag.h"
#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "ipclass.h"
#include "log.h"
#include "mtable.h"
#include "testutil.h"
#include "trigger/trigger.h"
#include "util.h"

#define CHECK_HAS(s, sub) do { tu_checks++; if (strstr((s), (sub)) == NULL) { tu_failures++; \
	fprintf(stderr, "%s:%d: CHECK_HAS failed: \"%s\" not in:\n%s\n", __FILE__, __LINE__, \
	(sub), (s)); } } while (0)

static struct pg_ctx ctx;
static struct fake_clock fc = { 1000 };

/* ---- address classes ---- */

static void
test_ipclass(void)
{
	static const struct {
		const char	*addr;
		enum ipclass	 class;
		const char	*block;
	} cases[] = {
		{ "8.8.8.8", IPCLASS_PUBLIC, NULL },
		{ "100.63.255.255", IPCLASS_PUBLIC, NULL },
		{ "100.64.0.1", IPCLASS_SHARED, "100.64.0.0/10" },
		{ "100.127.255.254", IPCLASS_SHARED, "100.64.0.0/10" },
		{ "100.128.0.0", IPCLASS_PUBLIC, NULL },
		{ "10.1.2.3", IPCLASS_PRIVATE, "10.0.0.0/8" },
		{ "172.16.0.1", IPCLASS_PRIVATE, "172.16.0.0/12" },
		{ "172.31.255.255", IPCLASS_PRIVATE, "172.16.0.0/12" },
		{ "172.32.0.0", IPCLASS_PUBLIC, NULL },
		{ "192.168.1.1", IPCLASS_PRIVATE, "192.168.0.0/16" },
		{ "192.0.2.1", IPCLASS_DOCUMENTATION, "192.0.2.0/24" },
		{ "198.51.100.1", IPCLASS_DOCUMENTATION, "198.51.100.0/24" },
		{ "203.0.113.9", IPCLASS_DOCUMENTATION, "203.0.113.0/24" },
		{ "198.18.0.1", IPCLASS_BENCHMARK, "198.18.0.0/15" },
		{ "198.19.255.255", IPCLASS_BENCHMARK, "198.18.0.0/15" },
		{ "169.254.7.7", IPCLASS_LINKLOCAL, "169.254.0.0/16" },
		{ "127.0.0.1", IPCLASS_LOOPBACK, "127.0.0.0/8" },
		{ "0.1.2.3", IPCLASS_RESERVED, "0.0.0.0/8" },
		{ "192.0.0.8", IPCLASS_RESERVED, "192.0.0.0/24" },
		{ "224.0.0.1", IPCLASS_MULTICAST, "224.0.0.0/4" },
		{ "240.0.0.1", IPCLASS_RESERVED, "240.0.0.0/4" },
		{ "255.255.255.255", IPCLASS_RESERVED, "240.0.0.0/4" },
		{ "2001:db8::1", IPCLASS_NOT_V4, NULL },
	};
	struct in6_addr a;
	const char *block;
	size_t i;

	for (i = 0; i < PG_NELEM(cases); i++) {
		CHECK_EQ(util_parse_addr(cases[i].addr, &a), 0);
		CHECK_EQ(ipclass_of(&a, &block), cases[i].class);
		if (cases[i].block == NULL)
			CHECK(block == NULL);
		else
			CHECK_STR(block, cases[i].block);
	}
	CHECK_STR(ipclass_name(IPCLASS_SHARED), "shared");
	CHECK_STR(ipclass_name(IPCLASS_PRIVATE), "private");
}

/* What an external address means for inbound mappings: status' inbound_reachability. */
static void
test_ipclass_reach(void)
{
	static const struct {
		const char	*addr;		/* NULL: no external address */
		int		 upstream;
		const char	*name;
	} cases[] = {
		{ NULL, 0, "no_address" },
		{ NULL, 1, "no_address" },
		{ "8.8.8.8", 0, "public" },
		{ "100.64.0.1", 0, "behind_nat_no_upstream" },
		{ "100.127.255.254", 0, "behind_nat_no_upstream" },
		{ "10.1.2.3", 0, "behind_nat_no_upstream" },
		{ "172.16.0.1", 0, "behind_nat_no_upstream" },
		{ "192.168.1.1", 0, "behind_nat_no_upstream" },
		{ "100.128.0.0", 0, "public" },
		/* an upstream PCP server that maps for the gateway decides, whatever the class */
		{ "100.64.0.1", 1, "behind_nat_upstream_pcp" },
		{ "192.168.1.1", 1, "behind_nat_upstream_pcp" },
		{ "198.51.100.1", 1, "behind_nat_upstream_pcp" },
		{ "8.8.8.8", 1, "behind_nat_upstream_pcp" },
		{ "198.51.100.1", 0, "test_network" },
		{ "203.0.113.1", 0, "test_network" },
		{ "198.18.0.1", 0, "test_network" },
		{ "127.0.0.1", 0, "not_routable" },
		{ "169.254.7.7", 0, "not_routable" },
		{ "0.1.2.3", 0, "not_routable" },
		{ "224.0.0.1", 0, "not_routable" },
		{ "255.255.255.255", 0, "not_routable" },
		{ "2001:db8::1", 0, "not_routable" },
	};
	struct in6_addr a;
	size_t i;

	for (i = 0; i < PG_NELEM(cases); i++) {
		if (cases[i].addr != NULL)
			CHECK_EQ(util_parse_addr(cases[i].addr, &a), 0);
		CHECK_STR(ipclass_reach_name(ipclass_reach(cases[i].addr != NULL ? &a : NULL,
		    cases[i].upstream)), cases[i].name);
	}
	CHECK_STR(ipclass_reach_name((enum ipclass_reach)99), "unknown");
}

/* ---- the steps and the verdict, from facts ---- */

/* Facts of a healthy forward: tcp 8080 -> 192.0.2.10:80, in the kernel, packets came. */
static struct diag_facts
good_facts(void)
{
	struct diag_facts f;

	memset(&f, 0, sizeof(f));
	f.proto = MT_TCP;
	f.port = 8080;
	f.has_ext = 1;
	util_parse_addr("8.8.8.8", &f.ext);
	f.ext_class = ipclass_of(&f.ext, &f.ext_block);
	f.ext_block = "";
	f.has_entry = 1;
	f.source = MT_SRC_STATIC;
	f.ext_lo = f.ext_hi = 8080;
	util_parse_addr("192.0.2.10", &f.int_addr);
	f.int_port = 80;
	f.left_s = -1;
	f.fw_kernel = 1;
	f.kq = f.kq1 = 1;
	f.k0.elems = f.k0.found = 2;
	f.k0.counted = 1;
	f.k0.pkts = 3;
	f.k1 = f.k0;
	f.k1.pkts = 8;
	f.wait_ms = 2000;
	f.host = DIAG_HOST_ACCEPTS;
	f.hairpin = 1;
	return f;
}

static const struct diag_step *
step_of(const struct diag_report *r, enum diag_step_id id)
{
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		if (r->step[i].id == id)
			return &r->step[i];
	return NULL;
}

/* The sentence of a step ("" when the report does not have it). */
static const char *
text_of(const struct diag_report *r, enum diag_step_id id)
{
	const struct diag_step *s = step_of(r, id);

	return s ? s->text : "";
}

/* The level of a step, or -1 when the report does not have it. */
static int
level_of(const struct diag_report *r, enum diag_step_id id)
{
	const struct diag_step *s = step_of(r, id);

	return s ? (int)s->level : -1;
}

static void
test_conclude(void)
{
	struct diag_facts f = good_facts();
	struct diag_report r;

	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_REACHABLE);
	CHECK_STR(r.verdict_text, "reachable");
	CHECK_EQ(r.nsteps, 6);
	CHECK_EQ(level_of(&r, DIAG_STEP_ADDRESS), DIAG_OK);
	CHECK_EQ(level_of(&r, DIAG_STEP_TRAFFIC), DIAG_OK);
	CHECK_HAS(text_of(&r, DIAG_STEP_TRAFFIC), "5 packets");
	CHECK_HAS(text_of(&r, DIAG_STEP_ENTRY), "tcp 8080 is held by 192.0.2.10:80");

	/* shared address space: behind another NAT, whatever else is wrong */
	f = good_facts();
	util_parse_addr("100.64.0.1", &f.ext);
	f.ext_class = ipclass_of(&f.ext, &f.ext_block);
	f.has_entry = 0;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_BEHIND_NAT);
	CHECK_STR(r.verdict_text,
	    "not reachable from the internet: gateway is behind another NAT (100.64.0.0/10)");
	CHECK_EQ(level_of(&r, DIAG_STEP_ADDRESS), DIAG_FAIL);
	CHECK_HAS(text_of(&r, DIAG_STEP_ADDRESS), "cannot reach this port through this "
	    "gateway alone");
	CHECK_EQ(level_of(&r, DIAG_STEP_ENTRY), DIAG_FAIL);	/* still said */
	CHECK_EQ(level_of(&r, DIAG_STEP_KERNEL), -1);

	/* shared, but an upstream PCP server maps the port: reachable at its address */
	f = good_facts();
	util_parse_addr("100.64.0.1", &f.ext);
	f.ext_class = ipclass_of(&f.ext, &f.ext_block);
	f.upstream = 1;
	util_parse_addr("100.64.0.254", &f.up_server);
	f.has_up_map = f.up_granted = 1;
	snprintf(f.up_state, sizeof(f.up_state), "granted");
	util_parse_addr("203.0.113.1", &f.up_ext);
	f.up_ext_port = 9080;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_REACHABLE);
	CHECK_EQ(level_of(&r, DIAG_STEP_ADDRESS), DIAG_OK);
	CHECK_HAS(text_of(&r, DIAG_STEP_ADDRESS), "PCP server 100.64.0.254 maps this port: the "
	    "internet reaches it at 203.0.113.1:9080");
	/* ... that has not mapped it (yet, or lost) */
	f.up_granted = 0;
	snprintf(f.up_state, sizeof(f.up_state), "lost");
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_BEHIND_NAT);
	CHECK_EQ(level_of(&r, DIAG_STEP_ADDRESS), DIAG_FAIL);
	CHECK_HAS(text_of(&r, DIAG_STEP_ADDRESS), "has not mapped this port (lost)");
	/* ... that was not asked for it */
	f.has_up_map = 0;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_BEHIND_NAT);
	CHECK_HAS(text_of(&r, DIAG_STEP_ADDRESS), "was not asked for this port");
	/* ... and no entry: the entry step says what is wrong */
	f.has_entry = 0;
	diag_conclude(&f, &r);
	CHECK_EQ(level_of(&r, DIAG_STEP_ADDRESS), DIAG_WARN);
	CHECK_EQ(r.verdict, DIAG_NO_MAPPING);

	/* a private one too */
	f = good_facts();
	util_parse_addr("192.168.1.20", &f.ext);
	f.ext_class = ipclass_of(&f.ext, &f.ext_block);
	diag_conclude(&f, &r);
	CHECK_STR(r.verdict_text,
	    "not reachable from the internet: gateway is behind another NAT (192.168.0.0/16)");

	/* a documentation address warns, and stays reachable (the lab) */
	f = good_facts();
	util_parse_addr("198.51.100.1", &f.ext);
	f.ext_class = ipclass_of(&f.ext, &f.ext_block);
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_REACHABLE);
	CHECK_EQ(level_of(&r, DIAG_STEP_ADDRESS), DIAG_WARN);

	/* link-local: nobody routes it */
	f = good_facts();
	util_parse_addr("169.254.1.1", &f.ext);
	f.ext_class = ipclass_of(&f.ext, &f.ext_block);
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_NOT_ROUTABLE);

	f = good_facts();
	f.has_ext = 0;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_NO_ADDRESS);
	CHECK_EQ(level_of(&r, DIAG_STEP_HAIRPIN), -1);

	/* the path order: no element in the kernel before a host that refuses */
	f = good_facts();
	f.k0.found = 0;
	f.host = DIAG_HOST_REFUSED;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_NOT_IN_KERNEL);
	CHECK_EQ(level_of(&r, DIAG_STEP_TRAFFIC), -1);	/* nothing to count */
	CHECK_EQ(level_of(&r, DIAG_STEP_HOST), DIAG_FAIL);

	f = good_facts();
	f.host = DIAG_HOST_REFUSED;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_HOST_NOT_LISTENING);
	CHECK_STR(r.verdict_text, "not reachable: host does not listen");

	f = good_facts();
	f.host = DIAG_HOST_TIMEOUT;
	f.probe_ms = 2000;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_HOST_DOWN);
	CHECK_HAS(text_of(&r, DIAG_STEP_HOST), "within 2.0 s");

	f = good_facts();
	f.fw_kernel = 0;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_NO_FIREWALL);
	CHECK_EQ(level_of(&r, DIAG_STEP_HAIRPIN), -1);

	/* no packet at all: a warning, not a reason */
	f = good_facts();
	f.k0.pkts = f.k1.pkts = 0;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_REACHABLE);
	CHECK_EQ(level_of(&r, DIAG_STEP_TRAFFIC), DIAG_WARN);

	/* renewed during the wait: the new element's count is what came in */
	f = good_facts();
	f.k0.pkts = 100;
	f.k1.pkts = 4;
	diag_conclude(&f, &r);
	CHECK_HAS(text_of(&r, DIAG_STEP_TRAFFIC), "4 packets");

	/* a backend that counts nothing: no traffic step */
	f = good_facts();
	f.k0.counted = 0;
	diag_conclude(&f, &r);
	CHECK_EQ(level_of(&r, DIAG_STEP_TRAFFIC), -1);

	/* UDP: the neighbour state */
	f = good_facts();
	f.proto = MT_UDP;
	f.host = DIAG_HOST_NEIGH;
	f.host_nud = 0x20;	/* NUD_FAILED */
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_HOST_DOWN);
	CHECK_HAS(text_of(&r, DIAG_STEP_HOST), "does not answer ARP (neighbour entry FAILED)");
	f.host_nud = 0x04;	/* NUD_STALE */
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_REACHABLE);
	CHECK_HAS(text_of(&r, DIAG_STEP_HOST), "STALE: seen before");
	f.host_nud = 0;
	diag_conclude(&f, &r);
	CHECK_EQ(level_of(&r, DIAG_STEP_HOST), DIAG_WARN);

	/* remote filters: reachable, but only from them */
	f = good_facts();
	snprintf(f.filters, sizeof(f.filters), "203.0.113.5");
	diag_conclude(&f, &r);
	CHECK_STR(r.verdict_text, "reachable only from 203.0.113.5");
	CHECK_EQ(level_of(&r, DIAG_STEP_ENTRY), DIAG_WARN);

	/* hairpin off: said, not a reason */
	f = good_facts();
	f.hairpin = 0;
	diag_conclude(&f, &r);
	CHECK_EQ(r.verdict, DIAG_REACHABLE);
	CHECK_EQ(level_of(&r, DIAG_STEP_HAIRPIN), DIAG_WARN);
	CHECK_HAS(text_of(&r, DIAG_STEP_HAIRPIN), "from the LAN, use 192.0.2.10:80");
}

static void
test_render(void)
{
	struct diag_facts f = good_facts();
	struct diag_report r;
	struct evbuffer *b = evbuffer_new();
	char *s;

	snprintf(f.desc, sizeof(f.desc), "a \"quoted\"\\ name");
	diag_conclude(&f, &r);
	diag_json(&r, b);
	evbuffer_add(b, "", 1);
	s = (char *)evbuffer_pullup(b, -1);
	CHECK_HAS(s, "{\"proto\":\"tcp\",\"port\":8080,\"verdict\":\"reachable\",\"reachable\":true,"
	    "\"summary\":\"reachable\",\"external_ip\":\"8.8.8.8\",\"address_class\":\"public\"");
	CHECK_HAS(s, "\"description\":\"a \\\"quoted\\\"\\\\ name\"");
	CHECK_HAS(s, "\"kernel\":{\"elements\":2,\"found\":2,\"timeout\":null,\"left\":null,"
	    "\"packets_before\":3,\"packets_after\":8");
	CHECK_HAS(s, "{\"step\":\"host\",\"status\":\"ok\",\"text\":\"192.0.2.10 accepts TCP");
	evbuffer_drain(b, evbuffer_get_length(b));
	diag_text(&r, b);
	evbuffer_add(b, "", 1);
	s = (char *)evbuffer_pullup(b, -1);
	CHECK_HAS(s, "entry    ok    tcp 8080 is held by 192.0.2.10:80 (static, permanent, "
	    "\"a \"quoted\"\\ name\")\n");
	CHECK_HAS(s, "\nverdict: reachable\n");
	evbuffer_free(b);
}

/* ---- whole checks, over the in-memory firewall ---- */

struct got {
	int			 n;
	struct diag_report	 rep;
};

static void
got_report(void *arg, const struct diag_report *rep)
{
	struct got *g = arg;

	g->n++;
	g->rep = *rep;
}

/* Run the loop until g has its report (at most 5 s). */
static void
wait_report(struct got *g)
{
	uint64_t end = util_mono_ms() + 5000;

	while (g->n == 0 && util_mono_ms() < end)
		event_base_loop(ctx.base, EVLOOP_ONCE);
}

/* A TCP socket listening on 127.0.0.1 (port in *port), or a closed port (listen 0). */
static int
tcp_socket(int listening, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1 ||
	    (listening && listen(fd, 4) == -1))
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
add_forward(int proto, uint16_t ext, const char *addr, uint16_t port)
{
	struct mt_request q;
	struct mt_entry *e;

	memset(&q, 0, sizeof(q));
	q.proto = (uint8_t)proto;
	q.source = MT_SRC_STATIC;
	q.ext_port = ext;
	q.int_port = port;
	q.desc = "";
	util_parse_addr(addr, &q.int_addr);
	CHECK_EQ(mtable_add(ctx.mt, &q, &e, NULL), MT_OK);
	mtable_commit(ctx.mt, NULL, NULL);
}

static void
test_checks(void)
{
	struct got g = { 0 };
	struct diag *d;
	struct fw_item it;
	struct trig_rule rule;
	char err[200];
	uint16_t lport, cport;
	int lfd = tcp_socket(1, &lport), cfd = tcp_socket(0, &cport);

	CHECK(lfd != -1 && cfd != -1);
	close(cfd);	/* nothing listens there now */

	/* a working forward: the host accepts, and packets come in during the wait */
	add_forward(MT_TCP, 8080, "127.0.0.1", lport);
	CHECK((d = diag_start(&ctx, MT_TCP, 8080, 300, got_report, &g)) != NULL);
	CHECK_EQ(g.n, 0);		/* never before diag_start returns */
	fw_mem_traffic(ctx.fw, MT_TCP, 8080, 7, 420);
	wait_report(&g);
	CHECK_EQ(g.n, 1);
	CHECK_EQ(g.rep.verdict, DIAG_REACHABLE);
	CHECK_EQ(g.rep.facts.host, DIAG_HOST_ACCEPTS);
	CHECK_EQ(g.rep.facts.k0.found, 1);
	CHECK_EQ(g.rep.facts.k1.pkts, 7);
	CHECK_EQ(level_of(&g.rep, DIAG_STEP_TRAFFIC), DIAG_OK);
	CHECK_HAS(text_of(&g.rep, DIAG_STEP_TRAFFIC), "7 packets (420 bytes)");
	CHECK_EQ(level_of(&g.rep, DIAG_STEP_ADDRESS), DIAG_WARN);	/* 198.51.100.1 */

	/* a mapping whose host does not listen */
	add_forward(MT_TCP, 8081, "127.0.0.1", cport);
	g.n = 0;
	diag_start(&ctx, MT_TCP, 8081, 300, got_report, &g);
	wait_report(&g);
	CHECK_EQ(g.rep.verdict, DIAG_HOST_NOT_LISTENING);
	CHECK_EQ(level_of(&g.rep, DIAG_STEP_TRAFFIC), DIAG_WARN);	/* nothing came */

	/* no mapping: the closest ones */
	add_forward(MT_UDP, 9000, "192.0.2.10", 9000);
	add_forward(MT_TCP, 9010, "192.0.2.10", 9010);
	add_forward(MT_TCP, 2222, "192.0.2.10", 9000);
	CHECK_EQ(trig_rule_parse(&rule, "game udp:5000 open tcp:8990-9005", err, sizeof(err)), 0);
	CHECK_EQ(trigger_add_rule(ctx.trig, &rule, 1, err, sizeof(err)), 0);
	g.n = 0;
	diag_start(&ctx, MT_TCP, 9000, 300, got_report, &g);
	wait_report(&g);
	CHECK_EQ(g.rep.verdict, DIAG_NO_MAPPING);
	CHECK_EQ(g.rep.facts.nhints, 4);
	CHECK_STR(g.rep.facts.hints[0], "the other protocol: udp 9000 -> 192.0.2.10:9000 (static)");
	CHECK_STR(g.rep.facts.hints[1], "nearby: tcp 9010 -> 192.0.2.10:9010 (static)");
	CHECK_STR(g.rep.facts.hints[2], "trigger rule game opens tcp 8990-9005 when a LAN host "
	    "sends to udp 5000 (not active now)");
	CHECK_STR(g.rep.facts.hints[3], "forwarded from another external port: tcp 2222 -> "
	    "192.0.2.10:9000 (static)");
	CHECK_EQ(level_of(&g.rep, DIAG_STEP_KERNEL), -1);

	/* the firewall lost the element behind the table's back */
	mtable_fw_item(ctx.mt, mtable_lookup_ext(ctx.mt, MT_TCP, 8080), &it);
	fw_queue(ctx.fw, FW_DEL, &it);
	fw_commit(ctx.fw, NULL, NULL);
	g.n = 0;
	diag_start(&ctx, MT_TCP, 8080, 300, got_report, &g);
	wait_report(&g);
	CHECK_EQ(g.rep.verdict, DIAG_NOT_IN_KERNEL);
	CHECK_EQ(g.rep.facts.k0.found, 0);

	/* cancelled: its callback never comes */
	g.n = 0;
	d = diag_start(&ctx, MT_TCP, 8081, 300, got_report, &g);
	diag_cancel(d);
	event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	usleep(350 * 1000);
	event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	CHECK_EQ(g.n, 0);

	CHECK(diag_start(&ctx, MT_NPROTO, 80, 0, got_report, &g) == NULL);
	CHECK(diag_start(&ctx, MT_TCP, 0, 0, got_report, &g) == NULL);
	close(lfd);
}

/* ---- through the control socket ---- */

/* 1 once the reply in b (not NUL-terminated) has its last line: ok or err. */
static int
reply_done(struct evbuffer *b)
{
	size_t len = evbuffer_get_length(b);
	const char *p = (const char *)evbuffer_pullup(b, -1);

	return len > 0 && (memmem(p, len, "\nok", 3) != NULL || memmem(p, len, "\nerr", 4) != NULL ||
	    (len >= 3 && memcmp(p, "err", 3) == 0));
}

/* Run request lines through the control socket's batch; the whole reply (static buffer). */
static const char *
run1(const char *req)
{
	static char out[16384];
	struct evbuffer *b = evbuffer_new();
	char *line = strdup(req);
	uint64_t end = util_mono_ms() + 5000;
	size_t len;

	ctl_run_lines(ctx.ctl, &line, 1, b);
	while (util_mono_ms() < end && !reply_done(b))
		event_base_loop(ctx.base, EVLOOP_ONCE);
	free(line);
	len = evbuffer_get_length(b);
	if (len >= sizeof(out))
		len = sizeof(out) - 1;
	evbuffer_remove(b, out, len);
	out[len] = '\0';
	evbuffer_free(b);
	return out;
}

static void
test_ctl_check(void)
{
	const char *r;

	r = run1("check tcp 8081 --wait 1");
	CHECK_HAS(r, "| entry    ok    tcp 8081 is held by 127.0.0.1:");
	CHECK_HAS(r, "| verdict: not reachable: host does not listen\n"
	    "err not reachable: host does not listen\n");
	r = run1("check udp 4444 --json --wait 1");
	CHECK_HAS(r, "| {\"proto\":\"udp\",\"port\":4444,\"verdict\":\"no_mapping\","
	    "\"reachable\":false,");
	CHECK_HAS(r, "}\nerr not reachable: no mapping\n");
	CHECK_HAS(run1("check tcp"), "err usage: check PROTO PORT [--json] [--wait SECONDS]\n");
	CHECK_HAS(run1("check sctp 80"), "err bad port 'sctp 80' (PROTO PORT: tcp or udp, "
	    "1-65535)\n");
	CHECK_HAS(run1("check tcp 80 --wait 11"), "err bad wait '11' (1-10 seconds)\n");
}

int
main(void)
{
	static const char conf[] = "firewall = none\n"
	    "external_ip = 198.51.100.1\n"
	    "state_file = /tmp/portgate-test-diag.state\n"
	    "control_socket = /tmp/portgate-test-diag.sock\n";

	log_setverbose(-2);
	test_ipclass();
	test_ipclass_reach();
	test_conclude();
	test_render();

	unlink("/tmp/portgate-test-diag.state");
	ctx.cfg = conf_parse("test", conf, sizeof(conf) - 1, NULL, NULL);
	ctx.base = event_base_new();
	ctx.clock = tu_fake_clock(&fc);
	CHECK(ctx.cfg != NULL);
	CHECK_EQ(pg_start(&ctx), 0);
	fw_mem_pretend_kernel(ctx.fw);		/* the in-memory firewall plays the kernel */
	mtable_set_netif(ctx.mt, NULL);		/* internal hosts on loopback: the test's sockets */
	test_checks();
	test_ctl_check();
	pg_stop(&ctx);
	event_base_free(ctx.base);
	conf_free(ctx.cfg);
	unlink("/tmp/portgate-test-diag.state");
	return tu_done("test_diag");
}
