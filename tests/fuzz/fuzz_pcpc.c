/*
 * fuzz_pcpc.c - the upstream PCP client's answer handling (pcp_client.c and
 * the response decoder under it). Each input is a script run against a
 * fresh client holding three mappings, one granted: chunks of
 *
 *	LEN (2 octets) FLAGS (1 octet) DATAGRAM (LEN octets)
 *
 * where FLAGS bit 0 sends the datagram as multicast, bit 1 from another
 * source, bit 2 drops the mapping its callback hears of next, bit 3 adds a
 * mapping, and bits 4-7 advance the clock by that many times 37 s before the
 * client's turn. Nonces are known (the client's random source is this file's),
 * so seeds can hold answers the client takes. The invariants below abort().
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pcp/pcp_client.h"
#include "pcp/pcp_wire.h"
#include "util.h"
#include "../unit/testutil.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define ASSERT(c)	do { if (!(c)) abort(); } while (0)
#define MAX_MAPS	6

static struct fake_clock fc;
static struct pg_clock clk;
static struct pcpc *cur;
static unsigned nonces;
static int drop_next;
static uint8_t last_req[PCP_WIRE_MAX_LEN];
static size_t last_len;

struct slot {
	struct pcpc_map	*m;
	int		 dropped;
};
static struct slot slots[MAX_MAPS + 2];

/* Nonce i is { i, 0x11, 0x22 .. }: seeds answer with it. Jitter: the middle. */
static void
fuzz_random(void *arg, void *buf, size_t len)
{
	uint8_t *b = buf;
	size_t i;

	(void)arg;
	if (len != PCP_WIRE_NONCE_LEN) {
		memset(buf, 0x80, len);
		return;
	}
	b[0] = (uint8_t)++nonces;
	for (i = 1; i < len; i++)
		b[i] = (uint8_t)(0x11 * i);
}

static void
fuzz_send(void *arg, const uint8_t *buf, size_t len)
{
	struct pcp_request q;
	enum pcp_result err;

	(void)arg;
	/* what the client sends is a request the server's decoder takes */
	ASSERT(len >= PCP_WIRE_HDR_LEN && len <= sizeof(last_req));
	ASSERT(pcp_wire_decode(buf, len, &q, &err) == PCP_WIRE_OK);
	ASSERT(q.opcode == PCP_OP_ANNOUNCE || q.opcode == PCP_OP_MAP);
	memcpy(last_req, buf, len);
	last_len = len;
}

static void
fuzz_event(void *arg, struct pcpc *c, enum pcpc_event ev)
{
	(void)arg;
	ASSERT(c == cur && ev <= PCPC_EV_EXT_ADDR);
}

static void
fuzz_map(void *arg, struct pcpc_map *m, const struct pcpc_info *info)
{
	struct slot *s = arg;

	ASSERT(s->m == m && !s->dropped);
	ASSERT(info->state <= PCPC_LOST);
	if (info->state == PCPC_GRANTED) {
		ASSERT(info->ext_port != 0 && info->lifetime > 0);
		ASSERT(info->lifetime <= PCPC_LIFETIME_MAX);
		ASSERT(util_addr_is_v4(&info->ext_addr) && info->ext_addr.s6_addr[12] != 0 &&
		    info->ext_addr.s6_addr[12] != 127 && info->ext_addr.s6_addr[12] < 224);
		ASSERT(info->expires_ms == fc.now + (uint64_t)info->lifetime * 1000);
	}
	if (drop_next) {
		drop_next = 0;
		s->dropped = 1;
		pcpc_map_drop(cur, m);
	}
}

static void
add_map(struct pcpc *c, size_t i, uint8_t proto, unsigned flags)
{
	struct pcpc_req r;

	memset(&r, 0, sizeof(r));
	r.proto = proto;
	r.internal_port = (uint16_t)(1000 + i);
	r.lifetime = 600;
	r.flags = flags;
	if (flags & PCPC_F_PREFER_FAILURE)
		r.ext_port = r.internal_port;
	slots[i].dropped = 0;
	slots[i].m = pcpc_map_add(c, &r, fuzz_map, &slots[i], NULL);
}

/* A fresh client: mapping 0 granted, 1 and 2 asked for; the server's epoch 100. */
static struct pcpc *
fresh(void)
{
	struct pcp_response resp;
	struct pcpc_params p;
	struct pcp_request q;
	enum pcp_result err;
	struct in6_addr srv;
	uint8_t out[PCP_WIRE_MAX_LEN];
	struct pcpc *c;
	size_t n;

	memset(&p, 0, sizeof(p));
	util_parse_addr("198.51.100.1", &p.local);
	util_parse_addr("198.51.100.100", &p.server[0]);
	util_parse_addr("198.51.100.101", &p.server[1]);
	p.nserver = 2;
	p.max_mappings = MAX_MAPS;
	p.rate = 5;
	p.clock = &clk;
	p.event = fuzz_event;
	p.send = fuzz_send;
	p.random = fuzz_random;
	nonces = 0;
	fc.now = 1000000;
	memset(slots, 0, sizeof(slots));
	if ((c = cur = pcpc_new(NULL, &p)) == NULL)
		abort();
	add_map(c, 0, 6, PCPC_F_RETRY);
	pcpc_run(c);
	ASSERT(pcp_wire_decode(last_req, last_len, &q, &err) == PCP_WIRE_OK);
	memset(&resp, 0, sizeof(resp));
	resp.lifetime = 600;
	resp.epoch = 100;
	resp.ext_port = 1000;
	util_parse_addr("203.0.113.5", &resp.ext_addr);
	n = pcp_wire_encode_response(&q, &resp, out, sizeof(out));
	srv = p.server[0];
	pcpc_input(c, out, n, &srv, PCP_WIRE_SERVER_PORT, 0);
	ASSERT(pcpc_map_info(slots[0].m)->state == PCPC_GRANTED);
	add_map(c, 1, 17, 0);
	add_map(c, 2, 6, PCPC_F_PREFER_FAILURE);
	pcpc_run(c);
	return c;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	clk = tu_fake_clock(&fc);
	return 0;
}

static void
check(struct pcpc *c)
{
	const struct pcpc_stats *st = pcpc_stats(c);
	struct in6_addr a;
	size_t i;

	ASSERT(pcpc_count(c) <= MAX_MAPS);
	ASSERT(pcpc_server_state(c) <= PCPC_SRV_LOST);
	ASSERT(st->granted <= st->answers && st->refused <= st->answers);
	if (pcpc_ext_addr(c, &a))
		ASSERT(util_addr_is_v4(&a));
	for (i = 0; i < MAX_MAPS; i++)
		if (slots[i].m != NULL && !slots[i].dropped)
			ASSERT(pcpc_map_info(slots[i].m)->state <= PCPC_LOST);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pcpc *c = fresh();
	struct in6_addr srv, other;
	size_t off = 0, n, nadd = 3;
	uint8_t flags;
	int k = 0;

	util_parse_addr("198.51.100.100", &srv);
	util_parse_addr("198.51.100.7", &other);
	while (off + 3 <= len && k++ < 64) {
		n = (size_t)data[off] << 8 | data[off + 1];
		flags = data[off + 2];
		off += 3;
		if (n > len - off)
			n = len - off;
		fc.now += (uint64_t)(flags >> 4) * 37000;
		pcpc_run(c);
		drop_next = (flags & 4) != 0;
		if ((flags & 8) && nadd < MAX_MAPS + 2) {
			add_map(c, nadd, nadd % 2 ? 17 : 6, nadd % 3 ? PCPC_F_RETRY : 0);
			nadd++;
		}
		pcpc_input(c, data + off, n, (flags & 2) ? &other : &srv,
		    PCP_WIRE_SERVER_PORT, flags & 1);
		off += n;
		check(c);
	}
	/* and the rest of its life: an hour, its timers at their times */
	for (k = 0; k < 2000 && pcpc_next_ms(c) != 0 && pcpc_next_ms(c) < 1000000 + 3600000;
	    k++) {
		if (pcpc_next_ms(c) > fc.now)
			fc.now = pcpc_next_ms(c);
		pcpc_run(c);
		check(c);
	}
	pcpc_free(c);
	cur = NULL;
	return 0;
}
