/*
 * test_pcp_client.c - the upstream PCP client on a fake clock: against a
 * fake server (the client's requests captured, answers made with the
 * server's codec), one on loopback over a real socket, and portgate's own
 * server core in the same process.
 */
#include "config.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "mtable.h"
#include "pcp/pcp_client.h"
#include "pcp/pcp_server.h"
#include "pcp/pcp_wire.h"
#include "testutil.h"
#include "util.h"

#define LOCAL		"198.51.100.1"
#define SERVER		"198.51.100.100"
#define EXT		"203.0.113.5"
#define NSENT_MAX	4096

static struct fake_clock fc = { 1000000 };
static struct pg_clock clk;
static unsigned char jit = 0x80;	/* the octets of every jitter draw */
static uint32_t nonce_ctr;

/* what the client sent, when */
static struct {
	uint8_t		 buf[PCP_WIRE_MAX_LEN];
	size_t		 len;
	uint64_t	 at;
} sent[NSENT_MAX];
static size_t nsent;

static unsigned events[PCPC_EV_EXT_ADDR + 1];

struct seen {
	int		 calls;
	struct pcpc_info last;
	struct pcpc	*c;
	int		 drop;		/* drop the mapping from its callback */
};

static struct in6_addr
A(const char *s)
{
	struct in6_addr a;

	if (util_parse_addr(s, &a) == -1)
		abort();
	return a;
}

/* 1 if a is the address s */
static int
is(const struct in6_addr *a, const char *s)
{
	struct in6_addr b = A(s);

	return memcmp(a, &b, sizeof(b)) == 0;
}

static void
fake_random(void *arg, void *buf, size_t len)
{
	uint8_t *b = buf;
	size_t i;

	(void)arg;
	if (len == 4) {
		memset(buf, jit, len);
		return;
	}
	nonce_ctr++;
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(i < 4 ? nonce_ctr >> (8 * i) : 0xa0 + i);
}

static void
cap_send(void *arg, const uint8_t *buf, size_t len)
{
	(void)arg;
	if (nsent == NSENT_MAX || len > PCP_WIRE_MAX_LEN)
		abort();
	memcpy(sent[nsent].buf, buf, len);
	sent[nsent].len = len;
	sent[nsent].at = fc.now;
	nsent++;
}

static void
ev_cb(void *arg, struct pcpc *c, enum pcpc_event ev)
{
	(void)arg;
	(void)c;
	events[ev]++;
}

static void
map_cb(void *arg, struct pcpc_map *m, const struct pcpc_info *info)
{
	struct seen *s = arg;

	s->calls++;
	s->last = *info;
	if (s->drop)
		pcpc_map_drop(s->c, m);
}

static void
reset(void)
{
	nsent = 0;
	memset(events, 0, sizeof(events));
	jit = 0x80;
}

static struct pcpc *
client(unsigned rate, unsigned max, uint32_t wait)
{
	struct pcpc_params p;

	reset();
	memset(&p, 0, sizeof(p));
	p.local = A(LOCAL);
	p.server[0] = A(SERVER);
	p.nserver = 1;
	p.max_mappings = max;
	p.rate = rate;
	p.max_wait_ms = wait;
	p.clock = &clk;
	p.event = ev_cb;
	p.send = cap_send;
	p.random = fake_random;
	return pcpc_new(NULL, &p);
}

static struct pcpc_req
req(uint8_t proto, uint16_t port, uint32_t lifetime)
{
	struct pcpc_req r;

	memset(&r, 0, sizeof(r));
	r.proto = proto;
	r.internal_port = port;
	r.lifetime = lifetime;
	return r;
}

static struct pcpc_map *
add(struct pcpc *c, uint16_t port, uint32_t lifetime, struct seen *s)
{
	struct pcpc_req r = req(6, port, lifetime);
	enum pcpc_err err;
	struct pcpc_map *m;

	memset(s, 0, sizeof(*s));
	s->c = c;
	m = pcpc_map_add(c, &r, map_cb, s, &err);
	CHECK(m != NULL);
	CHECK_EQ(err, PCPC_OK);
	return m;
}

/* Every due thing up to t, each at its time (as the timer would). */
static void
run_to(struct pcpc *c, uint64_t t)
{
	uint64_t next;
	int n = 0;

	while ((next = pcpc_next_ms(c)) != 0 && next <= t && n++ < 100000) {
		if (next > fc.now)
			fc.now = next;
		pcpc_run(c);
	}
	fc.now = t;
	pcpc_run(c);
}

/* The i-th request sent, decoded by the server's codec (it must be a valid request). */
static struct pcp_request
got(size_t i)
{
	struct pcp_request q;
	enum pcp_result err;

	memset(&q, 0, sizeof(q));
	CHECK(i < nsent);
	if (i < nsent)
		CHECK_EQ(pcp_wire_decode(sent[i].buf, sent[i].len, &q, &err), PCP_WIRE_OK);
	return q;
}

/* The server's answer to q. */
static size_t
answer(const struct pcp_request *q, enum pcp_result res, uint32_t lifetime, uint32_t epoch,
    const char *ext, uint16_t port, uint8_t *out)
{
	struct pcp_response r;

	memset(&r, 0, sizeof(r));
	r.result = res;
	r.lifetime = lifetime;
	r.epoch = epoch;
	r.ext_port = port;
	if (ext != NULL)
		r.ext_addr = A(ext);
	return pcp_wire_encode_response(q, &r, out, PCP_WIRE_MAX_LEN);
}

static void
deliver(struct pcpc *c, const uint8_t *buf, size_t len)
{
	struct in6_addr s = A(SERVER);

	pcpc_input(c, buf, len, &s, 5351, 0);
}

/* Answer the i-th request sent. */
static void
reply(struct pcpc *c, size_t i, enum pcp_result res, uint32_t lifetime, uint32_t epoch,
    const char *ext, uint16_t port)
{
	struct pcp_request q = got(i);
	uint8_t out[PCP_WIRE_MAX_LEN];

	deliver(c, out, answer(&q, res, lifetime, epoch, ext, port, out));
}

static void
announce(struct pcpc *c, uint32_t epoch, int multicast)
{
	struct in6_addr s = A(SERVER);
	uint8_t out[PCP_WIRE_HDR_LEN];

	pcpc_input(c, out, pcp_wire_encode_announce(epoch, out, sizeof(out)), &s, 5351, multicast);
}

/* Grant the mapping whose request is the last one sent (port ext_port, lifetime s). */
static void
grant_last(struct pcpc *c, uint16_t port, uint32_t lifetime, uint32_t epoch)
{
	reply(c, nsent - 1, PCP_RES_SUCCESS, lifetime, epoch, EXT, port);
}

static size_t
count_opcode(size_t from, uint8_t opcode)
{
	size_t i, n = 0;

	for (i = from; i < nsent; i++)
		if ((sent[i].buf[1] & 0x7f) == opcode)
			n++;
	return n;
}

/* ---- the tests ---- */

static void
test_grant(void)
{
	struct pcpc *c = client(0, 16, 0);
	struct pcpc_req r = req(17, 4000, 3600);
	struct pcp_request q;
	struct in6_addr a;
	struct seen s;
	struct pcpc_map *m;

	memset(&s, 0, sizeof(s));
	r.ext_port = 4000;
	r.flags = PCPC_F_PREFER_FAILURE;
	r.nfilter = 1;
	r.filter[0].prefix_len = 128;
	r.filter[0].port = 80;
	r.filter[0].addr = A("203.0.113.100");
	m = pcpc_map_add(c, &r, map_cb, &s, NULL);
	CHECK(m != NULL);
	CHECK_EQ(pcpc_map_info(m)->state, PCPC_PENDING);
	CHECK_EQ(nsent, 0);		/* sent when the loop runs */
	pcpc_run(c);
	CHECK_EQ(nsent, 1);
	q = got(0);
	CHECK_EQ(q.opcode, PCP_OP_MAP);
	CHECK_EQ(q.lifetime, 3600);
	CHECK(is(&q.client, LOCAL));
	CHECK_EQ(q.protocol, 17);
	CHECK_EQ(q.internal_port, 4000);
	CHECK_EQ(q.ext_port, 4000);
	CHECK(util_addr_is_v4(&q.ext_addr));	/* no preference, as ::ffff:0.0.0.0 */
	CHECK(q.prefer_failure);
	CHECK_EQ(q.nfilter, 1);
	CHECK_EQ(q.filter[0].port, 80);
	CHECK_EQ(s.calls, 0);
	grant_last(c, 4000, 3000, 100);
	CHECK_EQ(s.calls, 1);
	CHECK_EQ(s.last.state, PCPC_GRANTED);
	CHECK(s.last.changed & PCPC_CHG_STATE);
	CHECK_EQ(s.last.ext_port, 4000);
	CHECK(is(&s.last.ext_addr, EXT));
	CHECK_EQ(s.last.lifetime, 3000);
	CHECK_EQ(s.last.expires_ms, fc.now + 3000000);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_UP);
	CHECK_EQ(events[PCPC_EV_UP], 1);
	CHECK_EQ(events[PCPC_EV_EXT_ADDR], 1);
	CHECK(pcpc_ext_addr(c, &a) && is(&a, EXT));
	/* the same answer again (a retransmission's): nothing new */
	grant_last(c, 4000, 3000, 100);
	CHECK_EQ(s.calls, 1);
	CHECK_EQ(pcpc_stats(c)->granted, 1);
	pcpc_free(c);
}

/* Intervals between the sends of one request, from the first. */
static void
intervals(uint64_t *iv, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < nsent && i < n; i++)
		iv[i] = sent[i + 1].at - sent[i].at;
}

static void
test_retransmit(void)
{
	struct pcpc *c;
	uint64_t iv[40], lo, hi, prev;
	struct seen s;
	size_t i;
	int capped;

	/* RAND at -0.1, then at +0.1: the RFC's RT = (1 + RAND) * MIN(2 * RTprev, MRT) */
	c = client(0, 16, 60000);
	jit = 0x00;
	add(c, 1000, 600, &s);
	run_to(c, fc.now + 59000);
	CHECK_EQ(nsent, 5);
	intervals(iv, 4);
	CHECK_EQ(iv[0], 2700);
	CHECK_EQ(iv[1], 4860);
	CHECK_EQ(iv[2], 8748);
	CHECK_EQ(iv[3], 15746);
	for (i = 1; i < nsent; i++)	/* the same request: its nonce, nothing else changes */
		CHECK(sent[i].len == sent[0].len && memcmp(sent[i].buf, sent[0].buf,
		    sent[0].len) == 0);
	pcpc_free(c);
	c = client(0, 16, 60000);
	jit = 0xff;
	add(c, 1000, 600, &s);
	run_to(c, fc.now + 59000);
	CHECK_EQ(nsent, 4);
	intervals(iv, 3);
	CHECK_EQ(iv[0], 3300);
	CHECK_EQ(iv[1], 7260);
	CHECK_EQ(iv[2], 15972);
	pcpc_free(c);

	/* growth to MRT (1024 s), each step within the jitter's bounds, RAND drawn anew */
	c = client(0, 16, 20 * 3600 * 1000);
	add(c, 1000, 600, &s);
	for (i = 0; i < 40; i++) {
		jit = (unsigned char)(i * 37);
		run_to(c, pcpc_next_ms(c));
	}
	CHECK(nsent >= 30);
	intervals(iv, 40);
	CHECK(iv[0] >= 2700 && iv[0] <= 3300);
	capped = 0;
	for (i = 1, prev = iv[0]; i + 1 < nsent && i < 30; prev = iv[i], i++) {
		lo = (2 * prev < PCPC_MRT_MS ? 2 * prev : PCPC_MRT_MS) * 900 / 1000;
		hi = (2 * prev < PCPC_MRT_MS ? 2 * prev : PCPC_MRT_MS) * 1100 / 1000;
		CHECK(iv[i] >= lo && iv[i] <= hi);
		CHECK(iv[i] <= PCPC_MRT_MS * 1100 / 1000);
		if (iv[i] >= PCPC_MRT_MS * 900 / 1000)
			capped++;
	}
	CHECK(capped >= 10);
	CHECK_EQ(s.calls, 0);
	pcpc_free(c);
}

static void
test_give_up(void)
{
	struct pcpc *c = client(0, 16, 30000);
	uint64_t t0 = fc.now, iv[12];
	struct seen s, s2;
	size_t i, n;

	add(c, 2000, 600, &s);
	run_to(c, t0 + 29999);
	CHECK_EQ(nsent, 4);		/* 0, 3, 9, 21 s; the next (45 s) is past 30 s */
	CHECK_EQ(s.calls, 0);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_PROBING);
	n = nsent;
	run_to(c, t0 + 30000);
	CHECK_EQ(s.calls, 1);
	CHECK_EQ(s.last.state, PCPC_LOST);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_NONE);
	CHECK_EQ(events[PCPC_EV_NONE], 1);
	CHECK_EQ(events[PCPC_EV_LOST], 0);
	CHECK_EQ(pcpc_stats(c)->given_up, 1);
	/* from now on ANNOUNCE requests with back-off, no MAP */
	run_to(c, t0 + 30000 + 3600 * 1000);
	CHECK_EQ(count_opcode(n, PCP_OP_MAP), 0);
	CHECK(nsent - n >= 8);
	for (i = n; i + 1 < nsent && i - n < 12; i++)
		iv[i - n] = sent[i + 1].at - sent[i].at;
	CHECK_EQ(sent[n].at, t0 + 30000);
	CHECK_EQ(iv[0], 3000);
	CHECK_EQ(iv[1], 6000);
	CHECK_EQ(iv[2], 12000);
	for (i = n + 1; i + 1 < nsent; i++)
		CHECK(sent[i + 1].at - sent[i].at <= PCPC_LOST_MAX_MS * 1100 / 1000);
	CHECK_EQ(sent[nsent - 1].at - sent[nsent - 2].at, PCPC_LOST_MAX_MS);
	/* a mapping asked for meanwhile waits: nothing is sent for it */
	n = nsent;
	CHECK_EQ(pcpc_map_info(add(c, 2001, 600, &s2))->state, PCPC_LOST);
	pcpc_run(c);
	CHECK_EQ(nsent, n);
	/* the server answers the ANNOUNCE: up, and every mapping asked for */
	reply(c, nsent - 1, PCP_RES_SUCCESS, 0, 50, NULL, 0);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_UP);
	CHECK_EQ(events[PCPC_EV_UP], 1);
	CHECK_EQ(s.last.state, PCPC_PENDING);
	pcpc_run(c);
	CHECK_EQ(count_opcode(n, PCP_OP_MAP), 2);
	CHECK_EQ(count_opcode(n, PCP_OP_ANNOUNCE), 0);
	CHECK_EQ(s2.last.state, PCPC_PENDING);
	pcpc_free(c);
}

static void
test_renewal(void)
{
	static const uint64_t at[] = { 300000, 450000, 525000, 562500, 581250, 590625, 595313,
	    599313 };
	struct pcpc *c = client(0, 16, 0);
	struct pcpc_map *m;
	uint64_t t0;
	struct seen s;
	size_t i, n;

	add(c, 3000, 600, &s);
	pcpc_run(c);
	t0 = fc.now;
	jit = 0x00;			/* each renewal at the start of its window */
	grant_last(c, 3000, 600, 1);
	CHECK_EQ(s.last.state, PCPC_GRANTED);
	n = nsent;
	run_to(c, t0 + 600000 - 1);
	CHECK_EQ(nsent - n, PG_NELEM(at));
	for (i = 0; i < PG_NELEM(at) && n + i < nsent; i++) {
		CHECK_EQ(sent[n + i].at - t0, at[i]);
		CHECK_EQ(got(n + i).lifetime, 600);
		CHECK_EQ(got(n + i).ext_port, 3000);	/* the port held, suggested */
	}
	CHECK_EQ(s.calls, 1);
	/* expired without an answer: the server is lost */
	run_to(c, t0 + 600000);
	CHECK_EQ(s.last.state, PCPC_LOST);
	CHECK_EQ(events[PCPC_EV_LOST], 1);
	pcpc_free(c);

	/* a renewal answered: the next one from the new grant, in 1/2..5/8 */
	c = client(0, 16, 0);
	add(c, 3000, 600, &s);
	pcpc_run(c);
	jit = 0xff;			/* at the end of its window */
	grant_last(c, 3000, 600, 1);
	t0 = fc.now;
	run_to(c, t0 + 374998);
	CHECK_EQ(nsent, 1);
	run_to(c, t0 + 374999);
	CHECK_EQ(nsent, 2);
	CHECK_EQ(sent[1].at - t0, 374999);
	jit = 0x00;
	grant_last(c, 3000, 1200, 376);
	CHECK_EQ(s.calls, 2);
	CHECK_EQ(s.last.lifetime, 1200);
	CHECK_EQ(s.last.changed, 0);
	t0 = fc.now;
	run_to(c, t0 + 599999);
	CHECK_EQ(nsent, 2);
	run_to(c, t0 + 600000);
	CHECK_EQ(nsent, 3);
	pcpc_free(c);

	/* a shorter lifetime asked for: a renewal now, and with it */
	c = client(0, 16, 0);
	m = add(c, 3000, 600, &s);
	pcpc_run(c);
	grant_last(c, 3000, 600, 1);
	fc.now += 1000;
	pcpc_map_refresh(c, m, 120);
	CHECK_EQ(nsent, 1);
	pcpc_run(c);
	CHECK_EQ(nsent, 2);
	CHECK_EQ(got(1).lifetime, 120);
	jit = 0x00;
	grant_last(c, 3000, 120, 2);
	CHECK_EQ(s.last.lifetime, 120);
	t0 = fc.now;
	run_to(c, t0 + 60000);
	CHECK_EQ(nsent, 3);
	CHECK_EQ(got(2).lifetime, 120);
	pcpc_free(c);

	/* bounded by the caller's own end: asked for no longer than is left of it */
	c = client(0, 16, 0);
	{
		struct pcpc_req r = req(6, 3001, 600);

		memset(&s, 0, sizeof(s));
		s.c = c;
		r.until_ms = fc.now + 100000;	/* 100 s left */
		m = pcpc_map_add(c, &r, map_cb, &s, NULL);
	}
	pcpc_run(c);
	CHECK_EQ(got(0).lifetime, 100);
	jit = 0x00;
	grant_last(c, 3001, 100, 3);
	t0 = fc.now;
	run_to(c, t0 + 50000);		/* the renewal at half: 50 s are left */
	CHECK_EQ(nsent, 2);
	CHECK_EQ(got(1).lifetime, 50);
	/* the lease moved (a renewal of the caller's): the bound with it */
	pcpc_map_until(m, fc.now + 300000);
	pcpc_map_refresh(c, m, 600);
	pcpc_run(c);
	CHECK_EQ(got(nsent - 1).lifetime, 300);
	pcpc_map_until(m, 0);		/* permanent now: the lifetime asked */
	pcpc_map_refresh(c, m, 600);
	pcpc_run(c);
	CHECK_EQ(got(nsent - 1).lifetime, 600);
	pcpc_free(c);
}

static void
test_delete(void)
{
	struct pcpc *c = client(0, 16, 30000);
	struct pcpc_map *m;
	struct pcp_request q;
	struct seen s;

	m = add(c, 4000, 600, &s);
	pcpc_run(c);
	grant_last(c, 4000, 600, 1);
	CHECK_EQ(pcpc_count(c), 1);
	pcpc_map_drop(c, m);
	CHECK_EQ(pcpc_count(c), 1);	/* until the server says */
	pcpc_run(c);
	CHECK_EQ(nsent, 2);
	q = got(1);
	CHECK_EQ(q.opcode, PCP_OP_MAP);
	CHECK_EQ(q.lifetime, 0);
	CHECK(memcmp(q.nonce, got(0).nonce, sizeof(q.nonce)) == 0);
	CHECK_EQ(q.internal_port, 4000);
	reply(c, 1, PCP_RES_SUCCESS, 0, 2, EXT, 4000);
	CHECK_EQ(pcpc_count(c), 0);
	CHECK_EQ(s.calls, 1);		/* the grant; nothing after the drop */

	/* a delete nobody answers is retransmitted, then given up */
	m = add(c, 4001, 600, &s);
	pcpc_run(c);
	grant_last(c, 4001, 600, 3);
	pcpc_map_drop(c, m);
	nsent = 0;
	run_to(c, fc.now + 29999);
	CHECK_EQ(nsent, 4);
	CHECK_EQ(got(3).lifetime, 0);
	CHECK_EQ(pcpc_count(c), 1);
	run_to(c, fc.now + 1);
	CHECK_EQ(pcpc_count(c), 0);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_UP);	/* a delete given up loses nothing */

	/* never sent: gone at once, nothing sent */
	m = add(c, 4002, 600, &s);
	nsent = 0;
	pcpc_map_drop(c, m);
	pcpc_run(c);
	CHECK_EQ(nsent, 0);
	CHECK_EQ(pcpc_count(c), 0);

	/* dropped from its own callback */
	m = add(c, 4003, 600, &s);
	s.drop = 1;
	pcpc_run(c);
	grant_last(c, 4003, 600, 3);
	CHECK_EQ(s.calls, 1);
	pcpc_run(c);
	CHECK_EQ(got(nsent - 1).lifetime, 0);
	pcpc_free(c);
}

/* Every answer that is not one: nothing believed, nothing told. */
static void
test_bad_answers(void)
{
	struct pcpc *c = client(0, 16, 0);
	uint8_t out[PCP_WIRE_MAX_LEN + 8];
	struct in6_addr other = A("198.51.100.99"), srv = A(SERVER);
	struct pcp_request q;
	struct seen s;
	uint64_t d;
	size_t n;

	add(c, 5000, 600, &s);
	pcpc_run(c);
	q = got(0);
	n = answer(&q, PCP_RES_SUCCESS, 600, 1, EXT, 5000, out);
	d = pcpc_stats(c)->dropped;
	/* from another address, from another port */
	pcpc_input(c, out, n, &other, 5351, 0);
	pcpc_input(c, out, n, &srv, 5350, 0);
	/* truncated; cut in its options; not a multiple of 4; too long */
	deliver(c, out, 40);
	deliver(c, out, 23);
	deliver(c, out, n - 2);
	memset(out + n, 0, 8);
	deliver(c, out, PCP_WIRE_MAX_LEN + 4);
	/* R bit clear; version 1; opcode PEER; a multicast MAP */
	out[1] = PCP_OP_MAP;
	deliver(c, out, n);
	out[1] = 0x80 | PCP_OP_MAP;
	out[0] = 1;
	deliver(c, out, n);
	out[0] = 2;
	out[1] = 0x80 | PCP_OP_PEER;
	deliver(c, out, n);
	out[1] = 0x80 | PCP_OP_MAP;
	pcpc_input(c, out, n, &srv, 5351, 1);
	/* another nonce, protocol, port */
	out[24] ^= 1;
	deliver(c, out, n);
	out[24] ^= 1;
	out[24 + 12] = 17;
	deliver(c, out, n);
	out[24 + 12] = 6;
	out[24 + 17] ^= 1;
	deliver(c, out, n);
	out[24 + 17] ^= 1;
	CHECK_EQ(pcpc_stats(c)->dropped - d, 13);
	/* grants no host can use: lifetime 0, port 0, addresses 0.0.0.0, multicast, loopback, IPv6 */
	deliver(c, out, answer(&q, PCP_RES_SUCCESS, 0, 1, EXT, 5000, out));
	deliver(c, out, answer(&q, PCP_RES_SUCCESS, 600, 1, EXT, 0, out));
	deliver(c, out, answer(&q, PCP_RES_SUCCESS, 600, 1, "0.0.0.0", 5000, out));
	deliver(c, out, answer(&q, PCP_RES_SUCCESS, 600, 1, "224.1.2.3", 5000, out));
	deliver(c, out, answer(&q, PCP_RES_SUCCESS, 600, 1, "127.0.0.1", 5000, out));
	deliver(c, out, answer(&q, PCP_RES_SUCCESS, 600, 1, "255.255.255.255", 5000, out));
	deliver(c, out, answer(&q, PCP_RES_SUCCESS, 600, 1, "2001:db8::1", 5000, out));
	CHECK_EQ(pcpc_stats(c)->dropped - d, 20);
	CHECK_EQ(s.calls, 0);
	CHECK_EQ(pcpc_stats(c)->answers, 0);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_PROBING);
	/* an error response of the header alone: no nonce, nothing to match */
	memset(out, 0, PCP_WIRE_HDR_LEN);
	out[0] = 2;
	out[1] = 0x80 | PCP_OP_MAP;
	out[3] = PCP_RES_NOT_AUTHORIZED;
	deliver(c, out, PCP_WIRE_HDR_LEN);
	CHECK_EQ(s.calls, 0);
	/* an unknown option in the answer is skipped; the grant is good */
	n = answer(&q, PCP_RES_SUCCESS, 600, 1, EXT, 5000, out);
	out[n] = 200;
	out[n + 1] = 0;
	out[n + 2] = 0;
	out[n + 3] = 0;
	deliver(c, out, n + 4);
	CHECK_EQ(s.calls, 1);
	CHECK_EQ(s.last.state, PCPC_GRANTED);
	pcpc_free(c);

	/* a lifetime past a week counts as a week */
	c = client(0, 16, 0);
	add(c, 5001, 600, &s);
	pcpc_run(c);
	grant_last(c, 5001, 0xffffffffu, 1);
	CHECK_EQ(s.last.lifetime, PCPC_LIFETIME_MAX);
	pcpc_free(c);
}

static void
test_epoch(void)
{
	struct pcpc *c = client(0, 16, 0);
	struct pcpc_map *a, *b;
	struct seen sa, sb;
	size_t n;

	a = add(c, 6000, 600, &sa);
	pcpc_run(c);
	grant_last(c, 6000, 600, 1000);
	b = add(c, 6001, 600, &sb);
	pcpc_run(c);
	grant_last(c, 7001, 600, 1000);
	CHECK_EQ(sb.last.ext_port, 7001);
	/* consistent: 60 s on our clock, 60 s on the server's (a little slow even) */
	fc.now += 60000;
	pcpc_map_refresh(c, a, 600);
	pcpc_run(c);
	grant_last(c, 6000, 600, 1057);
	CHECK_EQ(events[PCPC_EV_RESTART], 0);
	/* backwards: the server restarted; b is asked for again, for the port it had */
	fc.now += 60000;
	pcpc_map_refresh(c, a, 600);
	pcpc_run(c);
	n = nsent;
	grant_last(c, 6000, 600, 5);
	CHECK_EQ(events[PCPC_EV_RESTART], 1);
	CHECK_EQ(pcpc_stats(c)->restarts, 1);
	CHECK_EQ(sb.last.state, PCPC_PENDING);
	CHECK_EQ(sa.last.state, PCPC_GRANTED);
	pcpc_run(c);
	CHECK_EQ(nsent - n, 1);
	CHECK_EQ(got(n).internal_port, 6001);
	CHECK_EQ(got(n).ext_port, 7001);
	grant_last(c, 7001, 600, 6);
	CHECK_EQ(sb.last.state, PCPC_GRANTED);
	CHECK_EQ(events[PCPC_EV_RESTART], 1);
	/* a jump forward out of step with our clock: 10 s here, 4000 s there */
	fc.now += 10000;
	pcpc_map_refresh(c, b, 600);
	pcpc_run(c);
	grant_last(c, 7001, 600, 4006);
	CHECK_EQ(events[PCPC_EV_RESTART], 2);
	CHECK_EQ(sa.last.state, PCPC_PENDING);
	pcpc_free(c);
}

static void
test_announce(void)
{
	struct pcpc *c = client(0, 16, 0);
	struct seen s[3];
	uint64_t t;
	size_t n, i;

	for (i = 0; i < 3; i++) {
		add(c, (uint16_t)(8000 + i), 3600, &s[i]);
		pcpc_run(c);
		grant_last(c, (uint16_t)(8000 + i), 3600, 1000);
	}
	fc.now += 100000;
	/* consistent with what we know: nothing to do */
	announce(c, 1100, 0);
	CHECK_EQ(events[PCPC_EV_RESTART], 0);
	/* epoch 0: restarted; every mapping asked for again 0-5 s later */
	n = nsent;
	t = fc.now;
	announce(c, 0, 0);
	CHECK_EQ(events[PCPC_EV_RESTART], 1);
	for (i = 0; i < 3; i++)
		CHECK_EQ(s[i].last.state, PCPC_PENDING);
	run_to(c, t + 2000);
	CHECK_EQ(nsent, n);
	run_to(c, t + PCPC_ANNOUNCE_SPREAD_MS);
	CHECK_EQ(count_opcode(n, PCP_OP_MAP), 3);
	for (i = n; i < nsent; i++)
		CHECK(sent[i].at > t && sent[i].at <= t + PCPC_ANNOUNCE_SPREAD_MS);
	/* the server's nine more announcements (250 ms doubling) agree: no more */
	for (i = 0; i < 9; i++) {
		fc.now = t + PCPC_ANNOUNCE_SPREAD_MS + (250u << i);
		announce(c, (PCPC_ANNOUNCE_SPREAD_MS + (250u << i)) / 1000, i % 2);
	}
	CHECK_EQ(events[PCPC_EV_RESTART], 1);
	/* another epoch 0 (multicast); within the hold time after it one is not believed */
	t = fc.now;
	announce(c, 0, 1);
	CHECK_EQ(events[PCPC_EV_RESTART], 2);
	fc.now = t + 10000;
	announce(c, 0, 1);
	CHECK_EQ(events[PCPC_EV_RESTART], 2);
	fc.now = t + PCPC_RESTART_HOLD_MS + 10000;
	announce(c, 0, 0);
	CHECK_EQ(events[PCPC_EV_RESTART], 3);
	CHECK(pcpc_stats(c)->announces >= 13);
	pcpc_free(c);
}

static void
test_ext_change(void)
{
	struct pcpc *c = client(0, 16, 0);
	struct pcpc_map *m;
	struct in6_addr a;
	struct seen s;

	m = add(c, 9000, 600, &s);
	pcpc_run(c);
	grant_last(c, 9000, 600, 1);
	CHECK_EQ(events[PCPC_EV_EXT_ADDR], 1);
	pcpc_map_refresh(c, m, 600);
	pcpc_run(c);
	reply(c, nsent - 1, PCP_RES_SUCCESS, 600, 1, "203.0.113.9", 9001);
	CHECK_EQ(s.calls, 2);
	CHECK(s.last.changed & PCPC_CHG_EXT);
	CHECK_EQ(s.last.ext_port, 9001);
	CHECK_EQ(events[PCPC_EV_EXT_ADDR], 2);
	CHECK(pcpc_ext_addr(c, &a) && is(&a, "203.0.113.9"));
	pcpc_free(c);
}

static void
test_lost_and_back(void)
{
	struct pcpc *c = client(0, 16, 0);
	struct seen s;
	uint64_t t0;
	size_t n;

	add(c, 10000, 120, &s);
	pcpc_run(c);
	grant_last(c, 10000, 120, 5);
	t0 = fc.now;
	run_to(c, t0 + 120000);
	CHECK_EQ(s.last.state, PCPC_LOST);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_LOST);
	CHECK_EQ(events[PCPC_EV_LOST], 1);
	CHECK_EQ(sent[nsent - 1].buf[1], PCP_OP_ANNOUNCE);	/* asked at once */
	CHECK_EQ(sent[nsent - 1].at, t0 + 120000);
	n = nsent;
	run_to(c, t0 + 120000 + 50000);
	CHECK_EQ(count_opcode(n, PCP_OP_MAP), 0);
	CHECK_EQ(count_opcode(n, PCP_OP_ANNOUNCE), 4);	/* then 3, 9, 21, 45 s */
	/* back, with its state kept (epoch consistent): the mapping asked for again */
	n = nsent;
	announce(c, 5 + 170, 0);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_UP);
	CHECK_EQ(events[PCPC_EV_UP], 2);
	CHECK_EQ(s.last.state, PCPC_PENDING);
	run_to(c, fc.now);
	CHECK_EQ(count_opcode(n, PCP_OP_MAP), 1);
	grant_last(c, 10000, 120, 5 + 171);
	CHECK_EQ(s.last.state, PCPC_GRANTED);
	CHECK_EQ(events[PCPC_EV_RESTART], 0);
	/* no more ANNOUNCEs once up */
	n = nsent;
	run_to(c, fc.now + 55000);
	CHECK_EQ(count_opcode(n, PCP_OP_ANNOUNCE), 0);
	pcpc_free(c);
}

/*
 * A mapping dropped while the server is lost: its deletion is owed, sent
 * once the server answers again (it may still hold the mapping), and
 * forgotten where the server cannot hold it any more.
 */
static void
test_owed_delete(void)
{
	struct pcpc *c = client(0, 16, 0);
	struct pcpc_map *m, *m2;
	struct seen s, s2, s3;
	struct pcp_request q;
	size_t n, i;
	uint64_t t0;

	m = add(c, 11000, 600, &s);
	pcpc_run(c);
	grant_last(c, 11000, 600, 7);
	m2 = add(c, 11002, 60, &s3);
	pcpc_run(c);
	grant_last(c, 11002, 60, 7);
	t0 = fc.now;
	add(c, 11001, 600, &s2);	/* nobody answers it: the server is lost */
	run_to(c, t0 + 31000);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_LOST);
	CHECK_EQ(s.last.state, PCPC_LOST);
	n = nsent;
	pcpc_map_drop(c, m);
	run_to(c, fc.now + 1000);
	CHECK_EQ(count_opcode(n, PCP_OP_MAP), 0);	/* nobody to tell now */
	CHECK_EQ(pcpc_count(c), 3);			/* owed */
	/* past its lifetime upstream: nothing is owed for it */
	run_to(c, t0 + 61000);
	pcpc_map_drop(c, m2);
	CHECK_EQ(pcpc_count(c), 2);
	/* back, state kept: the deletion goes, and the parked one is asked for again */
	n = nsent;
	announce(c, 7 + 62, 0);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_UP);
	run_to(c, fc.now);
	CHECK_EQ(count_opcode(n, PCP_OP_MAP), 2);
	for (i = n; i < nsent; i++) {
		q = got(i);
		if (q.internal_port == 11000) {
			CHECK_EQ(q.lifetime, 0);
			reply(c, i, PCP_RES_SUCCESS, 0, 7 + 62, EXT, 11000);
		} else
			CHECK_EQ(q.internal_port, 11001);
	}
	CHECK_EQ(pcpc_count(c), 1);
	pcpc_free(c);
}

static void
test_pacing(void)
{
	struct pcpc *c = client(10, 64, 0);
	struct seen s[35];
	uint64_t t0 = fc.now, t;
	size_t i;

	for (i = 0; i < 35; i++)
		add(c, (uint16_t)(11000 + i), 600, &s[i]);
	pcpc_run(c);
	CHECK_EQ(nsent, 10);		/* the burst: one second's worth */
	for (t = 100; t <= 2500; t += 100) {
		run_to(c, t0 + t - 1);
		CHECK_EQ(nsent, 10 + t / 100 - 1);
		run_to(c, t0 + t);
		CHECK_EQ(nsent, 10 + t / 100);
	}
	CHECK_EQ(nsent, 35);
	CHECK(pcpc_stats(c)->paced >= 25);
	for (i = 0; i < 35; i++)
		CHECK_EQ(got(i).internal_port, 11000 + i);	/* in the order asked */
	pcpc_free(c);
}

static void
test_max(void)
{
	struct pcpc *c = client(0, 3, 0);
	struct pcpc_req r = req(6, 12003, 600);
	struct pcpc_map *m[3], *x;
	uint8_t n1[PCP_WIRE_NONCE_LEN], n2[PCP_WIRE_NONCE_LEN];
	enum pcpc_err err;
	struct seen s[4];
	size_t i;

	for (i = 0; i < 3; i++)
		m[i] = add(c, (uint16_t)(12000 + i), 600, &s[i]);
	CHECK(pcpc_map_add(c, &r, map_cb, &s[3], &err) == NULL);
	CHECK_EQ(err, PCPC_ERR_FULL);
	r.internal_port = 12000;
	CHECK(pcpc_map_add(c, &r, map_cb, &s[3], &err) == NULL);
	CHECK_EQ(err, PCPC_ERR_EXISTS);
	r.lifetime = 0;
	CHECK(pcpc_map_add(c, &r, map_cb, &s[3], &err) == NULL);
	CHECK_EQ(err, PCPC_ERR_INVALID);
	/* one granted and dropped: it counts until its delete is answered */
	pcpc_run(c);
	reply(c, 2, PCP_RES_SUCCESS, 600, 1, EXT, 12002);
	pcpc_map_nonce(m[2], n1);
	pcpc_map_drop(c, m[2]);
	pcpc_run(c);
	r = req(6, 12003, 600);
	CHECK(pcpc_map_add(c, &r, map_cb, &s[3], &err) == NULL);
	CHECK_EQ(err, PCPC_ERR_FULL);
	/* the same port asked for again while it is deleted: the same nonce */
	r.internal_port = 12002;
	x = pcpc_map_add(c, &r, map_cb, &s[3], &err);
	CHECK(x != NULL);
	pcpc_map_nonce(x, n2);
	CHECK(memcmp(n1, n2, sizeof(n1)) == 0);
	CHECK_EQ(pcpc_count(c), 3);
	pcpc_run(c);
	CHECK_EQ(got(nsent - 1).lifetime, 600);
	/* a nonce from an earlier run is used as given */
	pcpc_map_drop(c, m[0]);		/* never granted but sent: deleted */
	pcpc_run(c);
	reply(c, nsent - 1, PCP_RES_SUCCESS, 0, 1, EXT, 12000);
	CHECK_EQ(pcpc_count(c), 2);
	r = req(6, 12005, 600);
	r.has_nonce = 1;
	memset(r.nonce, 0x5a, sizeof(r.nonce));
	x = pcpc_map_add(c, &r, map_cb, &s[3], &err);
	CHECK(x != NULL);
	pcpc_run(c);
	CHECK(memcmp(got(nsent - 1).nonce, r.nonce, sizeof(r.nonce)) == 0);
	pcpc_free(c);
}

static void
test_refused(void)
{
	struct pcpc *c = client(0, 16, 0);
	struct pcpc_req r = req(6, 13000, 600);
	struct pcpc_map *m;
	struct seen s;
	size_t n;

	memset(&s, 0, sizeof(s));
	r.ext_port = 13000;
	r.flags = PCPC_F_PREFER_FAILURE;
	m = pcpc_map_add(c, &r, map_cb, &s, NULL);
	pcpc_run(c);
	reply(c, 0, PCP_RES_CANNOT_PROVIDE_EXTERNAL, 30, 1, NULL, 0);
	CHECK_EQ(s.calls, 1);
	CHECK_EQ(s.last.state, PCPC_REFUSED);
	CHECK_EQ(s.last.result, PCP_RES_CANNOT_PROVIDE_EXTERNAL);
	CHECK_EQ(s.last.lifetime, 30);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_UP);	/* an error is an answer */
	run_to(c, fc.now + 3600000);
	CHECK_EQ(nsent, 1);		/* not asked again: the caller decides */
	pcpc_map_drop(c, m);		/* nothing held: nothing to delete */
	pcpc_run(c);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(pcpc_count(c), 0);
	/* PREFER_FAILURE and another port granted: refused, and the drop deletes it */
	m = pcpc_map_add(c, &r, map_cb, &s, NULL);
	pcpc_run(c);
	grant_last(c, 13001, 600, 2);
	CHECK_EQ(s.last.state, PCPC_REFUSED);
	CHECK_EQ(s.last.result, PCP_RES_CANNOT_PROVIDE_EXTERNAL);
	pcpc_map_drop(c, m);
	pcpc_run(c);
	CHECK_EQ(got(nsent - 1).lifetime, 0);
	reply(c, nsent - 1, PCP_RES_SUCCESS, 0, 2, EXT, 13001);
	/* PCPC_F_RETRY: asked again when the error's lifetime is over */
	r = req(6, 13002, 600);
	r.flags = PCPC_F_RETRY;
	m = pcpc_map_add(c, &r, map_cb, &s, NULL);
	pcpc_run(c);
	n = nsent;
	reply(c, n - 1, PCP_RES_NO_RESOURCES, 60, 3, NULL, 0);
	CHECK_EQ(s.last.state, PCPC_REFUSED);
	run_to(c, fc.now + 59999);
	CHECK_EQ(nsent, n);
	run_to(c, fc.now + 1);
	CHECK_EQ(nsent, n + 1);
	CHECK_EQ(s.last.state, PCPC_PENDING);
	grant_last(c, 13002, 600, 63);
	CHECK_EQ(s.last.state, PCPC_GRANTED);
	/* a short-lived error on a renewal: still granted until it expires */
	pcpc_map_refresh(c, m, 600);
	pcpc_run(c);
	reply(c, nsent - 1, PCP_RES_NO_RESOURCES, 30, 63, NULL, 0);
	CHECK_EQ(s.last.state, PCPC_GRANTED);
	/* NOT_AUTHORIZED on a renewal: refused */
	pcpc_map_refresh(c, m, 600);
	pcpc_run(c);
	reply(c, nsent - 1, PCP_RES_NOT_AUTHORIZED, 1800, 63, NULL, 0);
	CHECK_EQ(s.last.state, PCPC_REFUSED);
	CHECK_EQ(s.last.result, PCP_RES_NOT_AUTHORIZED);
	pcpc_free(c);
}

static void
test_probe(void)
{
	struct pcpc *c = client(0, 16, 30000);
	struct pcp_request q;
	uint64_t t0 = fc.now;

	pcpc_probe(c);
	pcpc_run(c);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent[0].len, PCP_WIRE_HDR_LEN);
	q = got(0);
	CHECK_EQ(q.opcode, PCP_OP_ANNOUNCE);
	CHECK_EQ(q.lifetime, 0);
	CHECK(is(&q.client, LOCAL));
	reply(c, 0, PCP_RES_SUCCESS, 0, 77, NULL, 0);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_UP);
	CHECK_EQ(events[PCPC_EV_UP], 1);
	run_to(c, t0 + 3600000);
	CHECK_EQ(nsent, 1);		/* up: nothing more */
	pcpc_free(c);

	/* a server that does not do ANNOUNCE requests answers all the same */
	c = client(0, 16, 30000);
	pcpc_probe(c);
	pcpc_run(c);
	reply(c, 0, PCP_RES_UNSUPP_OPCODE, 1800, 77, NULL, 0);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_UP);
	/* unasked, an error says nothing */
	CHECK_EQ(pcpc_stats(c)->dropped, 0);
	reply(c, 0, PCP_RES_UNSUPP_OPCODE, 1800, 78, NULL, 0);
	CHECK_EQ(pcpc_stats(c)->dropped, 1);
	pcpc_free(c);

	/* nobody: NONE once max_wait is over */
	c = client(0, 16, 30000);
	t0 = fc.now;
	pcpc_probe(c);
	run_to(c, t0 + 29999);
	CHECK_EQ(nsent, 4);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_PROBING);
	run_to(c, t0 + 30000);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_NONE);
	CHECK_EQ(events[PCPC_EV_NONE], 1);
	pcpc_free(c);
}

/* ---- a fake server on loopback, through the client's real socket ---- */

static int
udp_on(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		abort();
	*port = ntohs(sin.sin_port);
	return fd;
}

static ssize_t
udp_recv(int fd, uint8_t *buf, size_t len, struct sockaddr_in *from)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	socklen_t flen = sizeof(*from);

	if (poll(&pfd, 1, 2000) != 1)
		return -1;
	return recvfrom(fd, buf, len, 0, (struct sockaddr *)from, &flen);
}

/* Let the client read what arrived. */
static void
pump(struct event_base *base)
{
	int i;

	for (i = 0; i < 5; i++) {
		usleep(2000);
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
}

static void
test_loopback(void)
{
	struct event_base *base = event_base_new();
	uint8_t buf[PCP_WIRE_MAX_LEN], out[PCP_WIRE_MAX_LEN];
	struct sockaddr_in from;
	struct pcpc_params p;
	struct pcp_request q;
	enum pcp_result err;
	struct pcpc_req r = req(6, 14000, 600);
	uint16_t port, port2;
	int srv = udp_on(&port), other = udp_on(&port2);
	struct seen s;
	struct pcpc *c;
	ssize_t n;
	size_t an;

	reset();
	memset(&p, 0, sizeof(p));
	p.local = A("127.0.0.1");
	p.server[0] = A("127.0.0.1");
	p.nserver = 1;
	p.server_port = port;
	p.max_mappings = 4;
	p.clock = &clk;
	p.event = ev_cb;
	c = pcpc_new(base, &p);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	memset(&s, 0, sizeof(s));
	CHECK(pcpc_map_add(c, &r, map_cb, &s, NULL) != NULL);
	pcpc_run(c);
	n = udp_recv(srv, buf, sizeof(buf), &from);
	CHECK_EQ(n, PCP_WIRE_HDR_LEN + PCP_WIRE_MAP_LEN);
	CHECK_EQ(pcp_wire_decode(buf, (size_t)n, &q, &err), PCP_WIRE_OK);
	CHECK(memcmp(&q.client, &p.local, sizeof(q.client)) == 0);	/* bound: it says so */
	CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	an = answer(&q, PCP_RES_SUCCESS, 600, 9, EXT, 14000, out);
	/* from another port: the connected socket does not even take it */
	sendto(other, out, an, 0, (struct sockaddr *)&from, sizeof(from));
	pump(base);
	CHECK_EQ(s.calls, 0);
	/* from the server, another nonce: dropped */
	out[24] ^= 0x55;
	sendto(srv, out, an, 0, (struct sockaddr *)&from, sizeof(from));
	pump(base);
	CHECK_EQ(s.calls, 0);
	CHECK_EQ(pcpc_stats(c)->dropped, 1);
	out[24] ^= 0x55;
	sendto(srv, out, an, 0, (struct sockaddr *)&from, sizeof(from));
	pump(base);
	CHECK_EQ(s.calls, 1);
	CHECK_EQ(s.last.state, PCPC_GRANTED);
	CHECK_EQ(s.last.ext_port, 14000);
	pcpc_free(c);
	close(srv);
	close(other);
	event_base_free(base);
}

/* ---- against portgate's own server (the carrier's, in this process) ---- */

static struct pcp_srv *isrv;
static struct pg_ctx ictx;

/* The server answers at once; the answers reach the client when its turn is over. */
static void
to_server(void *arg, const uint8_t *buf, size_t len)
{
	struct pcp_srv_pkt pkt;

	(void)arg;
	memset(&pkt, 0, sizeof(pkt));
	pkt.buf = buf;
	pkt.len = len;
	pkt.src = A("192.0.2.10");
	pkt.sport = 40000;
	pkt.dst = A("192.0.2.1");
	if (nsent < NSENT_MAX)
		sent[nsent].len = pcp_srv_handle(isrv, &pkt, sent[nsent].buf, PCP_WIRE_MAX_LEN);
	if (sent[nsent].len > 0)
		nsent++;
}

/* A turn of the client, then the server's answers to it. */
static void
iturn(struct pcpc *c)
{
	struct in6_addr s = A("192.0.2.1");
	size_t i;

	nsent = 0;
	pcpc_run(c);
	for (i = 0; i < nsent; i++)
		pcpc_input(c, sent[i].buf, sent[i].len, &s, 5351, 0);
}

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

static void
test_interop(void)
{
	struct pcpc *c;
	struct pcpc_params p;
	struct pcpc_req r = req(6, 15000, 600);
	struct pcpc_map *m;
	struct seen s;

	reset();
	CHECK(tu_lab_ctx(&ictx, "firewall = none\npcp_rate_limit = 0\n", clk, conf_err) != NULL);
	ictx.cfg->external_ip = A("203.0.113.1");
	ictx.cfg->has_external_ip = 1;
	CHECK((isrv = pcp_srv_new(&ictx)) != NULL);
	memset(&p, 0, sizeof(p));
	p.local = A("192.0.2.10");
	p.server[0] = A("192.0.2.1");
	p.nserver = 1;
	p.max_mappings = 4;
	p.clock = &clk;
	p.event = ev_cb;
	p.send = to_server;
	c = pcpc_new(NULL, &p);
	CHECK(c != NULL);
	/* the probe: answered, and nothing left in the server's table */
	pcpc_probe(c);
	iturn(c);
	CHECK_EQ(pcpc_server_state(c), PCPC_SRV_UP);
	CHECK_EQ(mtable_count(ictx.mt), 0);
	/* a mapping: in the server's table; a fixed port with PREFER_FAILURE */
	memset(&s, 0, sizeof(s));
	r.ext_port = 15000;
	r.flags = PCPC_F_PREFER_FAILURE;
	m = pcpc_map_add(c, &r, map_cb, &s, NULL);
	iturn(c);
	CHECK_EQ(s.last.state, PCPC_GRANTED);
	CHECK_EQ(s.last.ext_port, 15000);
	CHECK(memcmp(&s.last.ext_addr, &ictx.cfg->external_ip, sizeof(s.last.ext_addr)) == 0);
	CHECK_EQ(mtable_count(ictx.mt), 1);
	/* renewed, then deleted: gone from the server's table */
	fc.now += 400000;
	iturn(c);
	CHECK_EQ(s.calls, 2);
	CHECK_EQ(s.last.state, PCPC_GRANTED);
	pcpc_map_drop(c, m);
	iturn(c);
	CHECK_EQ(mtable_count(ictx.mt), 0);
	CHECK_EQ(pcpc_count(c), 0);
	pcpc_free(c);
	pcp_srv_free(isrv);
	tu_lab_ctx_free(&ictx);
}

int
main(void)
{
	log_init(1, -2);
	clk = tu_fake_clock(&fc);
	test_grant();
	test_retransmit();
	test_give_up();
	test_renewal();
	test_delete();
	test_bad_answers();
	test_epoch();
	test_announce();
	test_ext_change();
	test_lost_and_back();
	test_owed_delete();
	test_pacing();
	test_max();
	test_refused();
	test_probe();
	test_loopback();
	test_interop();
	return tu_done("test_pcp_client");
}
