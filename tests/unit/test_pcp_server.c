/* test_pcp_server.c - PCP and NAT-PMP through the table: the server core without a socket. */
#include "config.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "log.h"
#include "mtable.h"
#include "neigh.h"
#include "netif.h"
#include "pcp/pcp_server.h"
#include "pcp/natpmp_wire.h"
#include "pcp/pcp_wire.h"
#include "testutil.h"
#include "util.h"

#define A	"192.0.2.10"
#define B	"192.0.2.11"

static struct fake_clock fc = { 5000000 };
static uint8_t out[1100];
static size_t outlen;

static struct in6_addr
addr(const char *s)
{
	struct in6_addr a;

	CHECK_EQ(util_parse_addr(s, &a), 0);
	return a;
}

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

static struct pg_ctx *
lab_ctx(const char *text)
{
	struct pg_ctx *ctx = xcalloc(1, sizeof(*ctx));

	CHECK(tu_lab_ctx(ctx, text, tu_fake_clock(&fc), conf_err) != NULL);
	ctx->cfg->external_ip = addr("198.51.100.1");
	ctx->cfg->has_external_ip = 1;
	return ctx;
}

static void
lab_free(struct pg_ctx *ctx, struct pcp_srv *s)
{
	pcp_srv_free(s);
	tu_lab_ctx_free(ctx);
	free(ctx);
}

/* A MAP request: TCP unless proto says otherwise; options appended raw. */
static size_t
map_req(uint8_t *p, const char *client, uint8_t nonce, uint8_t proto, uint16_t in,
    uint16_t ext, uint32_t lifetime, const uint8_t *opts, size_t olen)
{
	struct in6_addr c = addr(client);
	uint32_t lt = htonl(lifetime);
	uint16_t i = htons(in), e = htons(ext);

	memset(p, 0, 60);
	p[0] = 2;
	p[1] = PCP_OP_MAP;
	memcpy(p + 4, &lt, 4);
	memcpy(p + 8, &c, 16);
	memset(p + 24, nonce, 12);
	p[36] = proto;
	memcpy(p + 40, &i, 2);
	memcpy(p + 42, &e, 2);
	if (olen > 0)
		memcpy(p + 60, opts, olen);
	return 60 + olen;
}

/* Send it from src; the result code (-1: no answer), the external port in *ext. */
static int
send_req(struct pcp_srv *s, const char *src, const uint8_t *buf, size_t len, uint16_t *ext,
    uint32_t *lifetime)
{
	struct pcp_srv_pkt p;
	uint16_t e;
	uint32_t l;

	memset(&p, 0, sizeof(p));
	p.buf = buf;
	p.len = len;
	p.src = addr(src);
	p.sport = 40000;
	p.dst = addr("192.0.2.1");
	if ((outlen = pcp_srv_handle(s, &p, out, sizeof(out))) == 0)
		return -1;
	if (outlen >= 60 && ext != NULL) {
		memcpy(&e, out + 42, 2);
		*ext = ntohs(e);
	}
	if (lifetime != NULL) {
		memcpy(&l, out + 4, 4);
		*lifetime = ntohl(l);
	}
	return out[3];
}

static int
map(struct pcp_srv *s, const char *src, const char *client, uint8_t nonce, uint16_t in,
    uint16_t ext, uint32_t lifetime, uint16_t *got)
{
	uint8_t req[200];
	size_t n = map_req(req, client, nonce, 6, in, ext, lifetime, NULL, 0);

	return send_req(s, src, req, n, got, NULL);
}

static void
test_map(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\nmax_lease = 3600\npcp_min_lifetime = 60\n"
	    "max_mappings_per_client = 3\ndeny 22 0.0.0.0/0 1-65535\n");
	struct pcp_srv *s = pcp_srv_new(ctx);
	struct mt_entry *e;
	uint8_t req[200], opt[64];
	uint16_t got = 0;
	uint32_t life = 0;
	size_t n;

	CHECK(s != NULL);
	CHECK_EQ(map(s, A, A, 1, 8000, 9000, 600, &got), PCP_RES_SUCCESS);
	CHECK_EQ(got, 9000);
	e = mtable_lookup_ext(ctx->mt, MT_TCP, 9000);
	CHECK(e != NULL && e->source == MT_SRC_PCP && e->int_port == 8000);
	CHECK_STR(e->owner, "010101010101010101010101");
	/* a repeat, a refresh with another suggestion: the same mapping */
	CHECK_EQ(map(s, A, A, 1, 8000, 9555, 900, &got), PCP_RES_SUCCESS);
	CHECK_EQ(got, 9000);
	CHECK_EQ(mtable_count(ctx->mt), 1);
	/* lifetimes: raised to pcp_min_lifetime, cut to max_lease */
	n = map_req(req, A, 1, 6, 8000, 0, 5, NULL, 0);
	CHECK_EQ(send_req(s, A, req, n, NULL, &life), PCP_RES_SUCCESS);
	CHECK_EQ(life, 60);
	n = map_req(req, A, 1, 6, 8000, 0, 999999, NULL, 0);
	send_req(s, A, req, n, NULL, &life);
	CHECK_EQ(life, 3600);
	/* the nonce is the owner token */
	CHECK_EQ(map(s, A, A, 2, 8000, 9000, 600, NULL), PCP_RES_NOT_AUTHORIZED);
	CHECK_EQ(map(s, A, A, 2, 8000, 9000, 0, NULL), PCP_RES_NOT_AUTHORIZED);
	/* the header must name the sender */
	CHECK_EQ(map(s, A, B, 1, 8001, 9001, 600, NULL), PCP_RES_ADDRESS_MISMATCH);
	/* the suggested port is taken: another nearby, or CANNOT_PROVIDE_EXTERNAL */
	CHECK_EQ(map(s, B, B, 3, 8000, 9000, 600, &got), PCP_RES_SUCCESS);
	CHECK_EQ(got, 9001);
	memset(opt, 0, sizeof(opt));
	opt[0] = PCP_OPT_PREFER_FAILURE;
	n = map_req(req, B, 4, 6, 8002, 9000, 600, opt, 4);
	CHECK_EQ(send_req(s, B, req, n, NULL, &life), PCP_RES_CANNOT_PROVIDE_EXTERNAL);
	CHECK_EQ(life, PCP_WIRE_LIFETIME_SHORT);
	/* policy, quota, protocol */
	CHECK_EQ(map(s, A, A, 5, 22, 22, 600, NULL), PCP_RES_SUCCESS);	/* deny: another port */
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 22) == NULL);
	CHECK_EQ(map(s, A, A, 6, 8006, 9006, 600, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(map(s, A, A, 7, 8007, 9007, 600, NULL), PCP_RES_USER_EX_QUOTA);
	n = map_req(req, A, 8, 1, 8008, 9008, 600, NULL, 0);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_UNSUPP_PROTOCOL);
	CHECK_EQ(map(s, A, A, 8, 0, 9008, 600, NULL), PCP_RES_UNSUPP_PROTOCOL);
	/* protocol 0 ("all protocols") is not offered; with an internal port it is malformed */
	n = map_req(req, A, 8, 0, 0, 9008, 600, NULL, 0);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_UNSUPP_PROTOCOL);
	n = map_req(req, A, 8, 0, 8008, 9008, 600, NULL, 0);
	CHECK_EQ(send_req(s, A, req, n, NULL, &life), PCP_RES_MALFORMED_REQUEST);
	CHECK_EQ(life, PCP_WIRE_LIFETIME_LONG);
	CHECK(outlen == n && out[36] == 0 && out[40] == 8008 >> 8 && out[41] == (8008 & 255));
	n = map_req(req, A, 8, 0, 8008, 0, 0, NULL, 0);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_MALFORMED_REQUEST);
	/* delete with the right nonce; deleting nothing is a success too */
	CHECK_EQ(map(s, A, A, 1, 8000, 0, 0, NULL), PCP_RES_SUCCESS);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9000) == NULL);
	CHECK_EQ(map(s, A, A, 1, 8000, 0, 0, NULL), PCP_RES_SUCCESS);
	/* the kernel refuses: NETWORK_FAILURE, nothing left in the table */
	fw_mem_inject_failure(ctx->fw, MT_TCP, 9050, 17);
	CHECK_EQ(map(s, B, B, 9, 8050, 9050, 600, NULL), PCP_RES_NETWORK_FAILURE);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9050) == NULL);
	lab_free(ctx, s);
}

static size_t
filter_opt(uint8_t *o, unsigned plen, uint16_t port, const char *a)
{
	struct in6_addr x = addr(a);
	uint16_t pt = htons(port);

	memset(o, 0, 24);
	o[0] = PCP_OPT_FILTER;
	o[3] = 20;
	o[5] = (uint8_t)plen;
	memcpy(o + 6, &pt, 2);
	memcpy(o + 8, &x, 16);
	return 24;
}

static size_t
third_party_opt(uint8_t *o, const char *a)
{
	struct in6_addr x = addr(a);

	memset(o, 0, 20);
	o[0] = PCP_OPT_THIRD_PARTY;
	o[3] = 16;
	memcpy(o + 4, &x, 16);
	return 20;
}

static void
test_options(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\npcp_max_filters = 2\n");
	struct pcp_srv *s = pcp_srv_new(ctx);
	uint8_t req[400], opt[200];
	struct in6_addr b = addr(B);
	struct mt_entry *e;
	size_t n, o;

	o = filter_opt(opt, 96 + 24, 0, "198.51.100.0");
	n = map_req(req, A, 1, 6, 8000, 9000, 600, opt, o);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_SUCCESS);
	e = mtable_lookup_ext(ctx->mt, MT_TCP, 9000);
	CHECK(e != NULL && e->nfilters == 1 && e->filters[0].plen == 120);
	/* the filter reaches the firewall with the mapping */
	mtable_commit(ctx->mt, NULL, NULL);
	CHECK_EQ(fw_mem_lookup(ctx->fw, MT_TCP, 9000)->nfilters, 1);
	/* a refresh without FILTER keeps it; prefix length 0 clears it */
	n = map_req(req, A, 1, 6, 8000, 9000, 600, NULL, 0);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(mtable_lookup_ext(ctx->mt, MT_TCP, 9000)->nfilters, 1);
	o = filter_opt(opt, 0, 0, "::");
	n = map_req(req, A, 1, 6, 8000, 9000, 600, opt, o);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(mtable_lookup_ext(ctx->mt, MT_TCP, 9000)->nfilters, 0);
	/* more than pcp_max_filters */
	o = filter_opt(opt, 128, 0, "198.51.100.5");
	o += filter_opt(opt + o, 128, 0, "198.51.100.6");
	o += filter_opt(opt + o, 128, 0, "198.51.100.7");
	n = map_req(req, A, 1, 6, 8000, 9000, 600, opt, o);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_EXCESSIVE_REMOTE_PEERS);
	/* THIRD_PARTY (RFC 6887 §13.1): UNSUPP_OPTION unless configured */
	n = map_req(req, A, 2, 6, 8100, 9100, 600, opt, third_party_opt(opt, B));
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_UNSUPP_OPTION);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9100) == NULL);
	/* ... naming the sender itself: MALFORMED_REQUEST, allowed or not */
	n = map_req(req, A, 2, 6, 8100, 9100, 600, opt, third_party_opt(opt, A));
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_MALFORMED_REQUEST);
	ctx->cfg->pcp_allow_third_party = 1;
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_MALFORMED_REQUEST);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9100) == NULL);
	n = map_req(req, A, 2, 6, 8100, 9100, 600, opt, third_party_opt(opt, B));
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_SUCCESS);
	CHECK(memcmp(&mtable_lookup_ext(ctx->mt, MT_TCP, 9100)->int_addr, &b, sizeof(b)) == 0);
	n = map_req(req, A, 3, 6, 8101, 9101, 600, opt, third_party_opt(opt, "198.51.100.5"));
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);	/* not a LAN host */
	lab_free(ctx, s);
}

static void
test_epoch_and_rate(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\npcp_rate_limit = 10\n");
	struct pcp_srv *s;
	uint8_t req[24];
	struct in6_addr a = addr(A);
	int i, answered = 0;
	uint32_t epoch;

	/* a complete state file from 100 s ago: the epoch goes on */
	ctx->meta.complete = 1;
	ctx->meta.epoch_start = time(NULL) - 100;
	s = pcp_srv_new(ctx);
	CHECK(pcp_srv_epoch(s) >= 100 && pcp_srv_epoch(s) <= 101);
	fc.now += 5000;
	CHECK(pcp_srv_epoch(s) >= 105 && pcp_srv_epoch(s) <= 106);
	pcp_srv_reset_epoch(s);
	CHECK_EQ(pcp_srv_epoch(s), 0);
	pcp_srv_free(s);
	/* lost state: from 0 */
	ctx->meta.complete = 0;
	s = pcp_srv_new(ctx);
	CHECK_EQ(pcp_srv_epoch(s), 0);
	/* ANNOUNCE answers with it; a flood is cut to the burst */
	memset(req, 0, sizeof(req));
	req[0] = 2;
	memcpy(req + 8, &a, 16);
	fc.now += 2000;
	for (i = 0; i < 100; i++)
		answered += send_req(s, A, req, sizeof(req), NULL, NULL) == PCP_RES_SUCCESS;
	CHECK_EQ(answered, 30);
	memcpy(&epoch, out + 8, 4);
	CHECK_EQ(ntohl(epoch), 2);
	fc.now += 1000;
	CHECK_EQ(send_req(s, A, req, sizeof(req), NULL, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(send_req(s, B, req, sizeof(req), NULL, NULL), PCP_RES_ADDRESS_MISMATCH);
	lab_free(ctx, s);
}

/* The neighbour table learns that ip (IPv4) is held by mac. */
static void
neigh_put(struct neigh *nb, const char *ip, const uint8_t mac[6])
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;
	struct in_addr a;

	nlh->nlmsg_type = RTM_NEWNEIGH;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_state = NUD_REACHABLE;
	inet_pton(AF_INET, ip, &a);
	mnl_attr_put(nlh, NDA_DST, 4, &a);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	CHECK_EQ(neigh_handle_msg(nb, buf, nlh->nlmsg_len), 1);
}

/* The rate table's slot of a MAC host key, had it an unseeded FNV-1a (as it once did). */
static uint32_t
fnv_slot(const uint8_t mac[6])
{
	uint8_t key[16];
	uint32_t h = 2166136261u;
	size_t i;

	memset(key, 0, sizeof(key));
	key[0] = 0xff;
	key[1] = 0xfe;
	memcpy(key + 2, mac, 6);
	for (i = 0; i < sizeof(key); i++)
		h = (h ^ key[i]) * 16777619u;
	return h % PCP_SRV_CLIENTS;
}

/*
 * A LAN host that knows another's MAC (everyone on the LAN does) and the
 * rate table's hash cannot lock it out: 8 hosts (addresses with MACs it
 * chose) whose buckets fill the victim's probe window, each kept just under
 * its burst, once made the victim's requests dropped as if it were limited.
 */
static void
test_rate_targeted(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\npcp_rate_limit = 10\n");
	static const uint8_t victim[6] = { 0x02, 0, 0, 0, 0, 0x0a };
	uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0, 0, 0 }, req[24];
	struct in6_addr a;
	struct pcp_srv *s;
	char ip[INET_ADDRSTRLEN];
	uint32_t i, found = 0;

	ctx->neigh = neigh_new_detached(&ctx->clock);
	neigh_put(ctx->neigh, A, victim);
	s = pcp_srv_new(ctx);
	fc.now += 10000;
	for (i = 0; i < (1u << 20) && found < 8; i++) {
		mac[3] = (uint8_t)(i >> 16);
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		if (fnv_slot(mac) != fnv_slot(victim))
			continue;
		snprintf(ip, sizeof(ip), "192.0.2.%u", 100 + found++);
		neigh_put(ctx->neigh, ip, mac);
		memset(req, 0, sizeof(req));
		req[0] = 2;
		a = addr(ip);
		memcpy(req + 8, &a, 16);
		CHECK_EQ(send_req(s, ip, req, sizeof(req), NULL, NULL), PCP_RES_SUCCESS);
	}
	CHECK_EQ(found, 8);
	memset(req, 0, sizeof(req));
	req[0] = 2;
	a = addr(A);
	memcpy(req + 8, &a, 16);
	CHECK_EQ(send_req(s, A, req, sizeof(req), NULL, NULL), PCP_RES_SUCCESS);
	neigh_free(ctx->neigh);
	lab_free(ctx, s);
}

/* A PEER request from client for proto (6, 17) from port in to peer:pport. */
static size_t
peer_req_from(uint8_t *p, const char *client, uint8_t proto, uint8_t nonce, uint16_t in,
    const char *peer, uint16_t pport, uint32_t lifetime)
{
	struct in6_addr pa = addr(peer);
	uint16_t pp = htons(pport);
	size_t n = map_req(p, client, nonce, proto, in, 0, lifetime, NULL, 0);

	p[1] = PCP_OP_PEER;
	memset(p + n, 0, 20);
	memcpy(p + n, &pp, 2);
	memcpy(p + n + 4, &pa, 16);
	return n + 20;
}

static size_t
peer_req(uint8_t *p, uint8_t nonce, uint16_t in, const char *peer, uint16_t pport,
    uint32_t lifetime)
{
	return peer_req_from(p, A, 6, nonce, in, peer, pport, lifetime);
}

/* No port the rules allow is free: NO_RESOURCES, a transient error. */
static void
test_no_resources(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\nallow 9000-9001 192.0.2.0/24 1-65535\n"
	    "deny 1-65535 0.0.0.0/0 1-65535\n");
	struct pcp_srv *s = pcp_srv_new(ctx);
	uint8_t req[100];
	uint16_t got = 0;
	uint32_t life = 0;
	size_t n;

	CHECK_EQ(map(s, A, A, 1, 8000, 9000, 600, &got), PCP_RES_SUCCESS);
	CHECK_EQ(map(s, B, B, 2, 8000, 9000, 600, &got), PCP_RES_SUCCESS);
	CHECK_EQ(got, 9001);
	n = map_req(req, A, 3, 6, 8001, 9000, 600, NULL, 0);
	CHECK_EQ(send_req(s, A, req, n, NULL, &life), PCP_RES_NO_RESOURCES);
	CHECK_EQ(life, PCP_WIRE_LIFETIME_SHORT);
	lab_free(ctx, s);
}

/* PEER: a pin per flow, owned by its nonce; a MAP's port wins. */
static void
test_peer(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\n");
	struct pcp_srv *s = pcp_srv_new(ctx);
	struct in6_addr b = addr(B), peer = addr("198.51.100.100");
	uint8_t req[200];
	uint16_t got = 0;
	size_t n;

	n = peer_req(req, 1, 40000, "198.51.100.100", 7000, 600);
	CHECK_EQ(send_req(s, A, req, n, &got, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(got, 40000);
	CHECK_EQ(mtable_peer_count(ctx->mt), 1);
	CHECK_EQ(mtable_count(ctx->mt), 0);		/* a pin is not an inbound mapping */
	mtable_commit(ctx->mt, NULL, NULL);
	CHECK_EQ(fw_mem_peer_count(ctx->fw), 1);
	CHECK_EQ(send_req(s, A, req, n, &got, NULL), PCP_RES_SUCCESS);	/* refresh */
	CHECK_EQ(mtable_peer_count(ctx->mt), 1);
	n = peer_req(req, 2, 40000, "198.51.100.100", 7000, 600);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	/* with a MAP on the internal endpoint, the MAP's external port */
	CHECK_EQ(map(s, A, A, 3, 8010, 9310, 600, NULL), PCP_RES_SUCCESS);
	n = peer_req(req, 3, 8010, "198.51.100.100", 7001, 600);
	CHECK_EQ(send_req(s, A, req, n, &got, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(got, 9310);
	/* lifetime 0 releases; a flush takes pins too */
	n = peer_req(req, 1, 40000, "198.51.100.100", 7000, 0);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(mtable_peer_count(ctx->mt), 1);
	CHECK_EQ(mtable_flush(ctx->mt, MT_SRC_PCP), 2);
	CHECK_EQ(mtable_peer_count(ctx->mt), 0);
	mtable_commit(ctx->mt, NULL, NULL);
	CHECK_EQ(fw_mem_peer_count(ctx->fw), 0);
	/* THIRD_PARTY as for MAP: the sender's own address is malformed, allowed or not */
	n = peer_req(req, 4, 40100, "198.51.100.100", 7000, 600);
	n += third_party_opt(req + n, B);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_UNSUPP_OPTION);
	n = peer_req(req, 4, 40100, "198.51.100.100", 7000, 600);
	n += third_party_opt(req + n, A);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_MALFORMED_REQUEST);
	ctx->cfg->pcp_allow_third_party = 1;
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_MALFORMED_REQUEST);
	CHECK_EQ(mtable_peer_count(ctx->mt), 0);
	n = peer_req(req, 4, 40100, "198.51.100.100", 7000, 600);
	n += third_party_opt(req + n, B);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_SUCCESS);
	CHECK(mtable_lookup_peer(ctx->mt, MT_TCP, &b, 40100, &peer, 7000) != NULL);
	lab_free(ctx, s);
}

/* PEER's port: never one another host's mapping holds; an open flow's own port as it is. */
static void
test_peer_ports(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\n");
	struct pcp_srv *s = pcp_srv_new(ctx);
	struct fw_item flow;
	uint8_t req[200];
	uint16_t got = 0;
	uint32_t life = 0;
	size_t n;

	/* A maps UDP 9000; B's PEER from its own port 9000 does not get 9000 */
	n = map_req(req, A, 1, 17, 9000, 9000, 600, NULL, 0);
	CHECK_EQ(send_req(s, A, req, n, &got, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(got, 9000);
	n = peer_req_from(req, B, 17, 2, 9000, "198.51.100.100", 7000, 600);
	CHECK_EQ(send_req(s, B, req, n, &got, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(got, 9001);
	CHECK_EQ(mtable_lookup_ext(ctx->mt, MT_UDP, 9000)->int_addr.s6_addr[15], 10);
	/* A's own PEER from 9000 leaves by its mapping's port */
	n = peer_req_from(req, A, 17, 3, 9000, "198.51.100.100", 7000, 600);
	CHECK_EQ(send_req(s, A, req, n, &got, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(got, 9000);
	/* an open flow leaves by the port the kernel gave it: that is the answer */
	memset(&flow, 0, sizeof(flow));
	flow.kind = MT_KIND_PEER;
	flow.proto = MT_UDP;
	flow.int_addr = addr(A);
	flow.int_port = 5000;
	flow.peer_addr = addr("198.51.100.100");
	flow.peer_port = 7000;
	fw_mem_flow(ctx->fw, &flow, 47123);
	n = peer_req_from(req, A, 17, 4, 5000, "198.51.100.100", 7000, 600);
	CHECK_EQ(send_req(s, A, req, n, &got, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(got, 47123);
	/* B's open flow already on A's mapped port: not blessed with a pin */
	flow.int_addr = addr(B);
	flow.int_port = 6000;
	fw_mem_flow(ctx->fw, &flow, 9000);
	n = peer_req_from(req, B, 17, 5, 6000, "198.51.100.100", 7000, 600);
	CHECK_EQ(send_req(s, B, req, n, NULL, &life), PCP_RES_CANNOT_PROVIDE_EXTERNAL);
	CHECK_EQ(life, PCP_WIRE_LIFETIME_SHORT);
	CHECK_EQ(mtable_peer_count(ctx->mt), 3);
	lab_free(ctx, s);
}

/* NAT-PMP: public address, map, refresh, delete one, delete all. */
static void
test_natpmp(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\n");
	struct pcp_srv *s = pcp_srv_new(ctx);
	uint8_t req[12] = { 0, 2, 0, 0, 0x1f, 0x40, 0x23, 0x28, 0, 0, 0x0e, 0x10 };
	uint8_t pub[2] = { 0, 0 };
	struct pcp_srv_pkt p;

	memset(&p, 0, sizeof(p));
	p.src = addr(A);
	p.dst = addr("192.0.2.1");
	p.buf = pub;
	p.len = 2;
	CHECK_EQ(pcp_srv_handle(s, &p, out, sizeof(out)), 12);
	CHECK(out[1] == 128 && out[3] == 0 && memcmp(out + 8, "\xc6\x33\x64\x01", 4) == 0);
	p.buf = req;
	p.len = 12;
	CHECK_EQ(pcp_srv_handle(s, &p, out, sizeof(out)), 16);
	CHECK(out[1] == 130 && out[3] == 0 && out[10] == 0x23 && out[11] == 0x28);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9000) != NULL &&
	    mtable_lookup_ext(ctx->mt, MT_TCP, 9000)->source == MT_SRC_NATPMP);
	req[6] = 0x30;			/* a refresh suggesting another port keeps 9000 */
	CHECK_EQ(pcp_srv_handle(s, &p, out, sizeof(out)), 16);
	CHECK(out[10] == 0x23 && out[11] == 0x28);
	CHECK_EQ(mtable_count(ctx->mt), 1);
	req[4] = 0x1f;
	req[5] = 0x41;			/* a second mapping, then delete all with port 0 */
	pcp_srv_handle(s, &p, out, sizeof(out));
	CHECK_EQ(mtable_count(ctx->mt), 2);
	memset(req + 4, 0, 8);
	CHECK_EQ(pcp_srv_handle(s, &p, out, sizeof(out)), 16);
	CHECK_EQ(out[3], 0);
	CHECK_EQ(mtable_count(ctx->mt), 0);
	/* a lifetime under pcp_min_lifetime (120) is raised, as for PCP */
	req[4] = 0x1f;
	req[5] = 0x42;
	req[6] = 0x23;
	req[7] = 0x29;
	req[11] = 1;
	CHECK_EQ(pcp_srv_handle(s, &p, out, sizeof(out)), 16);
	CHECK(out[3] == 0 && out[12] == 0 && out[13] == 0 && out[14] == 0 && out[15] == 120);
	CHECK_EQ(mtable_remaining(ctx->mt, mtable_lookup_ext(ctx->mt, MT_TCP, 9001)), 120);
	lab_free(ctx, s);
}

/* From an IPv6 host, MAP and PEER open pinholes: no NAT, the answer is the host's own. */
static void
test_pinholes(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\npcp_min_lifetime = 1\n");
	struct pcp_srv *s = pcp_srv_new(ctx);
	uint8_t req[200], opt[24];
	struct in6_addr a6 = addr("2001:db8:1::10"), peer = addr("2001:db8:2::100");
	struct mt_filter any;
	struct mt_entry *e;
	uint16_t ext = 0, pp = htons(40000);
	uint32_t life = 0;
	size_t n;

	memset(&any, 0, sizeof(any));
	n = map_req(req, "2001:db8:1::10", 1, 6, 8000, 0, 600, opt,
	    filter_opt(opt, 128, 0, "2001:db8:2::100"));
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, &ext, &life), PCP_RES_SUCCESS);
	CHECK_EQ(ext, 8000);
	CHECK(memcmp(out + 44, &a6, 16) == 0);		/* assigned external address: its own */
	CHECK_EQ(life, 600);
	CHECK((e = mtable_pinhole_find(ctx->mt, MT_TCP, &a6, 8000, &any)) != NULL);
	CHECK_EQ(e->nfilters, 1);
	CHECK_EQ(mtable_count(ctx->mt), 0);		/* no external port taken */
	/* another nonce may not touch it, nor may another host's address */
	n = map_req(req, "2001:db8:1::10", 2, 6, 8000, 0, 0, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	n = map_req(req, "2001:db8:1::11", 1, 6, 8000, 0, 600, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_ADDRESS_MISMATCH);
	n = map_req(req, "2001:db8:1::1", 1, 6, 8000, 0, 600, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::1", req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	/* a v4 FILTER for an IPv6 mapping is malformed */
	n = map_req(req, "2001:db8:1::10", 1, 6, 8000, 0, 600, opt,
	    filter_opt(opt, 128, 0, "198.51.100.100"));
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_MALFORMED_OPTION);
	/* lifetime 0 closes it */
	n = map_req(req, "2001:db8:1::10", 1, 6, 8000, 0, 0, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, &life), PCP_RES_SUCCESS);
	CHECK_EQ(life, 0);
	CHECK_EQ(mtable_pinhole_count(ctx->mt), 0);
	/* PEER: a pinhole for that one remote */
	n = map_req(req, "2001:db8:1::10", 3, 17, 5060, 0, 120, NULL, 0);
	req[1] = PCP_OP_PEER;
	memset(req + n, 0, 20);
	memcpy(req + n, &pp, 2);
	memcpy(req + n + 4, &peer, 16);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n + 20, &ext, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(ext, 5060);
	any.addr = peer;
	any.plen = 128;
	any.port = 40000;
	CHECK(mtable_pinhole_find(ctx->mt, MT_UDP, &a6, 5060, &any) != NULL);
	/* ... never towards the LAN */
	peer = addr("2001:db8:1::11");
	memcpy(req + n + 4, &peer, 16);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n + 20, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	/* without an IPv4 external address, IPv6 MAPs still work (no NAT involved) */
	ctx->cfg->has_external_ip = 0;
	n = map_req(req, "2001:db8:1::10", 1, 6, 8000, 0, 600, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_SUCCESS);
	n = map_req(req, "::ffff:192.0.2.10", 1, 6, 8000, 0, 600, NULL, 0);
	CHECK_EQ(send_req(s, "192.0.2.10", req, n, NULL, NULL), PCP_RES_NETWORK_FAILURE);
	ctx->cfg->has_external_ip = 1;
	/* pcp_pinholes = no */
	ctx->cfg->pcp_pinholes = 0;
	n = map_req(req, "2001:db8:1::10", 1, 6, 8001, 0, 600, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	lab_free(ctx, s);
}

/* An entry of another source, as the table's own callers make it. */
static struct mt_entry *
add_source(struct pg_ctx *ctx, int source, const char *client, uint16_t in, uint16_t ext)
{
	struct mt_request q;
	struct mt_pin_req pq;
	struct mt_entry *e = NULL;

	if (ext == 0) {		/* a pinhole, remote any */
		memset(&pq, 0, sizeof(pq));
		pq.proto = MT_TCP;
		pq.source = (uint8_t)source;
		pq.int_addr = addr(client);
		pq.int_port = in;
		pq.lease_s = 600;
		CHECK_EQ(mtable_pinhole_add(ctx->mt, &pq, &e, NULL), MT_OK);
		return e;
	}
	memset(&q, 0, sizeof(q));
	q.proto = MT_TCP;
	q.source = (uint8_t)source;
	q.ext_port = ext;
	q.int_port = in;
	q.int_addr = addr(client);
	q.lease_s = 600;
	CHECK_EQ(mtable_add(ctx->mt, &q, &e, NULL), MT_OK);
	return e;
}

/* A NAT-PMP TCP mapping request from src; the result code. */
static int
natpmp_map(struct pcp_srv *s, const char *src, uint16_t in, uint16_t ext, uint32_t lifetime)
{
	uint8_t req[12] = { 0, 2 };
	struct pcp_srv_pkt p;

	util_put16(req + 4, in);
	util_put16(req + 6, ext);
	util_put32(req + 8, lifetime);
	memset(&p, 0, sizeof(p));
	p.src = addr(src);
	p.dst = addr("192.0.2.1");
	p.buf = req;
	p.len = sizeof(req);
	CHECK_EQ(pcp_srv_handle(s, &p, out, sizeof(out)), 16);
	return out[3];
}

/*
 * Who may change what: a PCP client the entries of its nonce (and of PCP),
 * whatever it asks and in whichever order the checks run; a NAT-PMP client
 * its own address's NAT-PMP mappings.
 */
static void
test_who_may(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\npcp_min_lifetime = 1\n");
	struct pcp_srv *s = pcp_srv_new(ctx);
	struct in6_addr a6 = addr("2001:db8:1::10");
	struct mt_entry *up, *pin, *nat;
	struct mt_filter any;
	uint8_t req[200], opt[24];
	uint16_t got = 0;
	size_t n;

	/* a UPnP mapping of the same internal endpoint is not PCP's: PCP makes its own */
	up = add_source(ctx, MT_SRC_UPNP, A, 8000, 9000);
	CHECK_EQ(map(s, A, A, 1, 8000, 9000, 600, &got), PCP_RES_SUCCESS);
	CHECK_EQ(got, 9001);
	CHECK_EQ(map(s, A, A, 1, 8000, 0, 0, NULL), PCP_RES_SUCCESS);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9001) == NULL);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9000) == up && up->source == MT_SRC_UPNP);
	/* PEER: another nonce may not release the pin either */
	n = peer_req(req, 1, 40000, "198.51.100.100", 7000, 600);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_SUCCESS);
	n = peer_req(req, 2, 40000, "198.51.100.100", 7000, 0);
	CHECK_EQ(send_req(s, A, req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	CHECK_EQ(mtable_peer_count(ctx->mt), 1);
	/* pinholes: another nonce's, refreshed or with a FILTER the table would refuse */
	n = map_req(req, "2001:db8:1::10", 1, 6, 8000, 0, 600, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_SUCCESS);
	memset(&any, 0, sizeof(any));
	CHECK((pin = mtable_pinhole_find(ctx->mt, MT_TCP, &a6, 8000, &any)) != NULL);
	n = map_req(req, "2001:db8:1::10", 2, 6, 8000, 0, 900, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	n = map_req(req, "2001:db8:1::10", 2, 6, 8000, 0, 900, opt,
	    filter_opt(opt, 128, 0, "2001:db8:1::20"));
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	n = map_req(req, "2001:db8:1::10", 1, 6, 8000, 0, 900, opt,
	    filter_opt(opt, 128, 0, "2001:db8:1::20"));
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_MALFORMED_REQUEST);
	CHECK_EQ(mtable_remaining(ctx->mt, pin), 600);
	CHECK_STR(pin->owner, "010101010101010101010101");
	/* ... and a UPnP pinhole on the key is not PCP's, to refresh or to close */
	pin = add_source(ctx, MT_SRC_UPNP, "2001:db8:1::10", 8001, 0);
	n = map_req(req, "2001:db8:1::10", 1, 6, 8001, 0, 900, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	n = map_req(req, "2001:db8:1::10", 1, 6, 8001, 0, 0, NULL, 0);
	CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_NOT_AUTHORIZED);
	CHECK(mtable_pinhole_find(ctx->mt, MT_TCP, &a6, 8001, &any) == pin);
	CHECK_EQ(mtable_remaining(ctx->mt, pin), 600);
	/* NAT-PMP: deleting one or all takes the sender's own NAT-PMP mappings only */
	CHECK_EQ(natpmp_map(s, A, 8100, 9100, 600), 0);
	CHECK_EQ(natpmp_map(s, A, 8101, 9101, 600), 0);
	nat = add_source(ctx, MT_SRC_NATPMP, B, 8100, 9102);
	CHECK_EQ(map(s, A, A, 3, 8102, 9103, 600, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(natpmp_map(s, A, 8102, 0, 0), 0);		/* PCP's: not NAT-PMP's */
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9103) != NULL);
	CHECK_EQ(natpmp_map(s, B, 8101, 0, 0), 0);		/* A's: not B's */
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9101) != NULL);
	CHECK_EQ(natpmp_map(s, A, 0, 0, 0), 0);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9100) == NULL);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9101) == NULL);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9102) == nat);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9103) != NULL);
	CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9000) == up);
	lab_free(ctx, s);
}

/* What a status verb emitted, as "NAME VALUE" lines (static buffer). */
static char status_text[4096];

static void status_line(void *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
status_line(void *arg, const char *name, const char *fmt, ...)
{
	size_t n = strlen(status_text);
	va_list ap;

	(void)arg;
	n += (size_t)snprintf(status_text + n, sizeof(status_text) - n, "%s ", name);
	va_start(ap, fmt);
	n += (size_t)vsnprintf(status_text + n, sizeof(status_text) - n, fmt, ap);
	va_end(ap);
	snprintf(status_text + n, sizeof(status_text) - n, "\n");
}

/* The server's status verb: on/off, the epoch, and the requests by opcode and result. */
static void
test_status(void)
{
	struct pg_ctx *ctx = lab_ctx("firewall = none\nnatpmp = no\n");
	struct pcp_srv *s = pcp_srv_new(ctx);
	uint8_t pub[2] = { 0, 0 }, junk[3] = { 2, 1, 0 }, req[60];
	struct pcp_srv_pkt p;

	status_text[0] = '\0';
	pcp_srv_status(NULL, status_line, NULL);
	CHECK_STR(status_text, "pcp off\nnatpmp off\n");
	CHECK_EQ(map(s, A, A, 1, 8000, 9000, 600, NULL), PCP_RES_SUCCESS);
	CHECK_EQ(map(s, A, A, 2, 8000, 9000, 600, NULL), PCP_RES_NOT_AUTHORIZED);
	CHECK_EQ(map(s, A, A, 3, 8001, 9001, 600, NULL), PCP_RES_SUCCESS);
	memset(&p, 0, sizeof(p));
	p.src = addr(A);
	p.dst = addr("192.0.2.1");
	p.buf = pub;
	p.len = 2;
	pcp_srv_handle(s, &p, out, sizeof(out));	/* NAT-PMP is off: NOT_AUTHORIZED */
	p.buf = junk;
	p.len = 3;
	pcp_srv_handle(s, &p, out, sizeof(out));	/* too short: dropped */
	map_req(req, A, 4, 6, 8002, 9002, 600, NULL, 0);
	req[1] = 9;					/* no such opcode */
	CHECK_EQ(send_req(s, A, req, sizeof(req), NULL, NULL), PCP_RES_UNSUPP_OPCODE);
	status_text[0] = '\0';
	pcp_srv_status(s, status_line, NULL);
	CHECK_STR(status_text, "pcp on\nnatpmp off\npcp_epoch 0\npeer_pins 0\n"
	    "pcp_requests map SUCCESS 2\npcp_requests map NOT_AUTHORIZED 1\n"
	    "natpmp_requests public_address NOT_AUTHORIZED 1\n"
	    "pcp_malformed 1\nnatpmp_malformed 0\npcp_dropped 1\npcp_announces 0\n");
	lab_free(ctx, s);
}

/* A scheduler that commits at once: the answer goes through the waiting path (pcp_answer). */
static void
commit_now(void *arg)
{
	mtable_commit(arg, NULL, NULL);
}

/*
 * Answers that wait for the loop turn's commit (the daemon's scheduler) are
 * the bytes a table committing at once gives: a create, a refresh, a
 * refusal by the kernel (NETWORK_FAILURE, nothing left; NAT-PMP's with the
 * port asked for and lifetime 0, as before answers waited), a pinhole.
 */
static void
test_waiting_answers(void)
{
	static const char conf[] = "firewall = none\nmax_lease = 3600\npcp_min_lifetime = 60\n"
	    "pcp_pinholes = yes\n";
	uint8_t got[2][8][1100];
	size_t len[2][8];
	int mode, k;

	for (mode = 0; mode < 2; mode++) {
		struct pg_ctx *ctx = lab_ctx(conf);
		struct pcp_srv *s = pcp_srv_new(ctx);
		uint8_t req[200];
		size_t n;

		if (mode == 1)
			mtable_set_commit_sched(ctx->mt, commit_now, ctx->mt);
		k = 0;
		CHECK_EQ(map(s, A, A, 1, 8000, 9000, 600, NULL), PCP_RES_SUCCESS);
		memcpy(got[mode][k], out, outlen), len[mode][k++] = outlen;
		CHECK_EQ(map(s, A, A, 1, 8000, 9000, 900, NULL), PCP_RES_SUCCESS);	/* refresh */
		memcpy(got[mode][k], out, outlen), len[mode][k++] = outlen;
		fw_mem_inject_failure(ctx->fw, MT_TCP, 9051, 17);
		CHECK_EQ(map(s, B, B, 9, 8051, 9051, 600, NULL), PCP_RES_NETWORK_FAILURE);
		memcpy(got[mode][k], out, outlen), len[mode][k++] = outlen;
		CHECK(mtable_lookup_ext(ctx->mt, MT_TCP, 9051) == NULL);
		fw_mem_inject_failure(ctx->fw, MT_TCP, 9052, 17);
		CHECK_EQ(natpmp_map(s, A, 8052, 9052, 600), NATPMP_RES_NETWORK_FAILURE);
		CHECK(out[10] == 9052 >> 8 && out[11] == (9052 & 255));	/* the port asked for */
		CHECK(out[12] == 0 && out[13] == 0 && out[14] == 0 && out[15] == 0);	/* lifetime 0 */
		memcpy(got[mode][k], out, 16), len[mode][k++] = 16;
		CHECK_EQ(natpmp_map(s, A, 8053, 9053, 600), NATPMP_RES_SUCCESS);
		memcpy(got[mode][k], out, 16), len[mode][k++] = 16;
		n = map_req(req, "2001:db8:1::10", 3, 6, 8054, 0, 600, NULL, 0);
		CHECK_EQ(send_req(s, "2001:db8:1::10", req, n, NULL, NULL), PCP_RES_SUCCESS);
		memcpy(got[mode][k], out, outlen), len[mode][k++] = outlen;
		CHECK_EQ(mtable_count(ctx->mt), 2);
		lab_free(ctx, s);
	}
	for (k = 0; k < 6; k++) {
		CHECK_EQ(len[0][k], len[1][k]);
		CHECK(memcmp(got[0][k], got[1][k], len[0][k]) == 0);
	}
}

int
main(void)
{
	log_init(1, -2);
	test_map();
	test_options();
	test_epoch_and_rate();
	test_rate_targeted();
	test_no_resources();
	test_peer();
	test_peer_ports();
	test_natpmp();
	test_pinholes();
	test_who_may();
	test_status();
	test_waiting_answers();
	return tu_done("test_pcp_server");
}
