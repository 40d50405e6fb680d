/*
 * test_ct.c - which conntrack entries a closed door dooms, read from ctnetlink
 * messages as a dump sends them: DNATed inbound flows of a mapping (single
 * port, range, trigger), a pinhole's, remote filters, a renewal with fewer
 * remotes; outbound flows and other hosts' are left alone; bad messages too.
 * And which an opened door dooms: other endpoints' outbound flows that leave
 * by its ports (SNAT), never its own endpoint's, a hairpin's or inbound ones.
 */
#include "config.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fw/ct.h"
#include "fw/fw.h"
#include "mtable.h"
#include "testutil.h"
#include "util.h"

struct flow {
	const char	*src, *dst, *rsrc, *rdst;
	uint16_t	 sport, dport, rsport, rdport;
	int		 proto;		/* IPPROTO_* */
	uint32_t	 status;
};

static char buf[1 << 22];
static size_t len;

static void
put_tuple(struct nlmsghdr *nlh, int type, int v6, const char *s, const char *d, int proto,
    uint16_t sp, uint16_t dp)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, (uint16_t)type), *n;
	struct in6_addr a, b;

	util_parse_addr(s, &a);
	util_parse_addr(d, &b);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (v6) {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, &a);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, &b);
	} else {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, &a.s6_addr[12]);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, &b.s6_addr[12]);
	}
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, (uint8_t)proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sp));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dp));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

/* Append one entry as the kernel dumps it (IPCTNL_MSG_CT_NEW) to buf. */
static struct nlmsghdr *
add_flow(const struct flow *f)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + len);
	struct nfgenmsg *nfg;
	int v6 = strchr(f->src, ':') != NULL;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = v6 ? AF_INET6 : AF_INET;
	put_tuple(nlh, CTA_TUPLE_ORIG, v6, f->src, f->dst, f->proto, f->sport, f->dport);
	put_tuple(nlh, CTA_TUPLE_REPLY, v6, f->rsrc, f->rdst, f->proto, f->rsport, f->rdport);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(f->status));
	mnl_attr_put_u32(nlh, CTA_ID, htonl(0x1234));
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	return nlh;
}

/* A WAN peer's flow to the gateway's port, DNATed to host:port. */
static struct flow
inbound(const char *peer, uint16_t sport, uint16_t ext, const char *host, uint16_t port,
    int proto)
{
	struct flow f = { peer, "198.51.100.1", host, peer, sport, ext, port, sport, proto,
	    IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_DST_NAT | IPS_DST_NAT_DONE };

	return f;
}

/* A LAN host's flow to a WAN peer, masqueraded to the gateway's port ext. */
static struct flow
outbound(const char *host, uint16_t sport, const char *peer, uint16_t dport, uint16_t ext,
    int proto)
{
	struct flow f = { host, peer, peer, "198.51.100.1", sport, dport, dport, ext, proto,
	    IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_SRC_NAT | IPS_SRC_NAT_DONE };

	return f;
}

/* How many of one flow's entries the doors doom. */
static size_t
doomed(const struct fw_close *cl, size_t n, const struct flow *f)
{
	len = 0;
	add_flow(f);
	return ct_doomed_in(cl, n, NULL, 0, buf, len);
}

/* How many of one flow's entries the opened doors doom. */
static size_t
squatted(const struct fw_open *op, size_t n, const struct flow *f)
{
	len = 0;
	add_flow(f);
	return ct_doomed_in(NULL, 0, op, n, buf, len);
}

static struct fw_item
map(int proto, uint16_t ext, uint16_t end, const char *host, uint16_t port)
{
	struct fw_item it;

	memset(&it, 0, sizeof(it));
	it.kind = MT_KIND_MAP;
	it.proto = (uint8_t)proto;
	it.source = MT_SRC_UPNP;
	it.ext_port = ext;
	it.ext_port_end = end ? end : ext;
	it.int_port = port;
	util_parse_addr(host, &it.int_addr);
	return it;
}

static void
filter(struct fw_item *it, const char *addr, unsigned plen, uint16_t port)
{
	struct mt_filter *f = &it->filters[it->nfilters++];

	util_parse_addr(addr, &f->addr);
	f->plen = (uint8_t)(util_addr_is_v4(&f->addr) ? 96 + plen : plen);
	f->port = port;
}

static void
test_map(void)
{
	struct fw_item m = map(MT_UDP, 7400, 0, "192.0.2.10", 8400);
	struct fw_close c = { &m, NULL };
	struct flow f = inbound("198.51.100.100", 40000, 7400, "192.0.2.10", 8400, IPPROTO_UDP);
	struct flow g;
	struct ct_flow cf;

	CHECK_EQ(doomed(&c, 1, &f), 1);
	CHECK_EQ(ct_flow_parse((struct nlmsghdr *)buf, &cf), 0);
	CHECK_EQ(cf.family, AF_INET);
	CHECK_EQ(cf.sport, 40000);
	CHECK_EQ(cf.rsport, 8400);
	CHECK_EQ(cf.id, 0x1234);
	CHECK(util_addr_is_v4(&cf.rsrc));
	CHECK_EQ(ct_let_in(&m, &cf), 1);
	/* another protocol, port, host or internal port: not this door's */
	g = f;
	g.proto = IPPROTO_TCP;
	CHECK_EQ(doomed(&c, 1, &g), 0);
	g = f;
	g.dport = 7401;
	CHECK_EQ(doomed(&c, 1, &g), 0);
	g = f;
	g.rsrc = "192.0.2.11";
	CHECK_EQ(doomed(&c, 1, &g), 0);
	g = f;
	g.rsport = 7400;
	CHECK_EQ(doomed(&c, 1, &g), 0);
	/* not DNATed: conntrack did not let it in through a mapping */
	g = f;
	g.status &= ~(uint32_t)IPS_DST_NAT;
	CHECK_EQ(doomed(&c, 1, &g), 0);
	/* the LAN host's own flow to a WAN port of that number (masqueraded) */
	g = (struct flow){ "192.0.2.10", "198.51.100.100", "198.51.100.100", "198.51.100.1",
	    8400, 7400, 7400, 8400, IPPROTO_UDP, IPS_CONFIRMED | IPS_SRC_NAT | IPS_SRC_NAT_DONE };
	CHECK_EQ(doomed(&c, 1, &g), 0);
	/* a PEER pin closes no door: its flow is never doomed */
	m.kind = MT_KIND_PEER;
	CHECK_EQ(doomed(&c, 1, &f), 0);
}

static void
test_range(void)
{
	struct fw_item r = map(MT_TCP, 7100, 7110, "192.0.2.11", 7100);
	struct fw_item t = map(MT_UDP, 7510, 7512, "192.0.2.10", 7510);
	struct fw_close c[2] = { { &r, NULL }, { &t, NULL } };
	struct flow f = inbound("198.51.100.100", 40002, 7105, "192.0.2.11", 7105, IPPROTO_TCP);

	t.source = MT_SRC_TRIGGER;
	CHECK_EQ(doomed(c, 2, &f), 1);
	f.dport = f.rsport = 7110;
	CHECK_EQ(doomed(c, 2, &f), 1);
	f.dport = f.rsport = 7111;
	CHECK_EQ(doomed(c, 2, &f), 0);
	f.dport = f.rsport = 7099;
	CHECK_EQ(doomed(c, 2, &f), 0);
	/* a range keeps the port: DNATed to another one, it is not the range's */
	f.dport = 7105;
	f.rsport = 7100;
	CHECK_EQ(doomed(c, 2, &f), 0);
	f = inbound("198.51.100.100", 40011, 7511, "192.0.2.10", 7511, IPPROTO_UDP);
	CHECK_EQ(doomed(c, 2, &f), 1);
}

static void
test_filters(void)
{
	struct fw_item m = map(MT_UDP, 7500, 0, "192.0.2.10", 7500), n;
	struct fw_close c = { &m, NULL };
	struct flow f = inbound("198.51.100.100", 40000, 7500, "192.0.2.10", 7500, IPPROTO_UDP);

	filter(&m, "198.51.100.0", 24, 0);
	CHECK_EQ(doomed(&c, 1, &f), 1);
	f.src = f.rdst = "203.0.113.5";	/* the filters never let it in */
	CHECK_EQ(doomed(&c, 1, &f), 0);
	/* renewed with one host and port of the /24: the others' flows end, that one stays */
	n = m;
	n.nfilters = 0;
	filter(&n, "198.51.100.100", 32, 40000);
	c.still = &n;
	f.src = f.rdst = "198.51.100.100";
	CHECK_EQ(doomed(&c, 1, &f), 0);
	f.sport = f.rdport = 40001;
	CHECK_EQ(doomed(&c, 1, &f), 1);
	f.src = f.rdst = "198.51.100.7";
	f.sport = f.rdport = 40000;
	CHECK_EQ(doomed(&c, 1, &f), 1);
}

static void
test_pinhole(void)
{
	struct fw_item p;
	struct fw_close c = { &p, NULL };
	struct flow f = { "2001:db8:2::100", "2001:db8:1::10", "2001:db8:1::10", "2001:db8:2::100",
	    40060, 7600, 7600, 40060, IPPROTO_UDP, IPS_CONFIRMED | IPS_SEEN_REPLY };
	struct flow g;

	memset(&p, 0, sizeof(p));
	p.kind = MT_KIND_PINHOLE;
	p.proto = MT_UDP;
	p.int_port = 7600;
	util_parse_addr("2001:db8:1::10", &p.int_addr);
	CHECK_EQ(doomed(&c, 1, &f), 1);
	g = f;
	g.dst = g.rsrc = "2001:db8:1::11";
	CHECK_EQ(doomed(&c, 1, &g), 0);
	/* the host's own flow out of that port is not the pinhole's */
	g = (struct flow){ "2001:db8:1::10", "2001:db8:2::100", "2001:db8:2::100",
	    "2001:db8:1::10", 7600, 40060, 40060, 7600, IPPROTO_UDP, IPS_CONFIRMED };
	CHECK_EQ(doomed(&c, 1, &g), 0);
	/* a pinhole for one remote prefix */
	filter(&p, "2001:db8:2::", 64, 0);
	CHECK_EQ(doomed(&c, 1, &f), 1);
	g = f;
	g.src = g.rdst = "2001:db8:3::100";
	CHECK_EQ(doomed(&c, 1, &g), 0);
	/* an IPv4 entry is never a pinhole's, an IPv6 one never a mapping's */
	g = inbound("198.51.100.100", 40060, 7600, "192.0.2.10", 7600, IPPROTO_UDP);
	CHECK_EQ(doomed(&c, 1, &g), 0);
}

/* Thousands of doors, overlapping ranges among them: each entry is found among them. */
static void
test_many(void)
{
	static struct fw_item items[4000];
	static struct fw_close cl[4000];
	struct flow f;
	char host[32];
	size_t i, n = 0, want = 0, got;
	clock_t t0 = clock();

	for (i = 0; i < 3000; i++) {
		snprintf(host, sizeof(host), "192.0.2.%zu", 10 + i % 200);
		items[n] = map(i % 2 ? MT_UDP : MT_TCP, (uint16_t)(20000 + i), 0, host,
		    (uint16_t)(20000 + i));
		cl[n].item = &items[n];
		n++;
	}
	items[n] = map(MT_UDP, 10000, 30000, "192.0.2.250", 10000);	/* spans them all */
	cl[n].item = &items[n];
	n++;
	len = 0;
	for (i = 0; i < 3000; i++) {
		snprintf(host, sizeof(host), "192.0.2.%zu", 10 + i % 200);
		f = inbound("198.51.100.100", 40000, (uint16_t)(20000 + i), host,
		    (uint16_t)(20000 + i), i % 2 ? IPPROTO_UDP : IPPROTO_TCP);
		add_flow(&f);
		want++;
		/* and one flow DNATed by the wide range, inside the span of the small ones */
		f.rsrc = "192.0.2.250";
		add_flow(&f);
		want += i % 2;	/* UDP only: the range is UDP's */
	}
	got = ct_doomed_in(cl, n, NULL, 0, buf, len);
	CHECK_EQ(got, want);
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
}

/* An opened port: the flows other endpoints send out of it end, its own endpoint's stay. */
static void
test_open(void)
{
	struct fw_item m = map(MT_UDP, 7400, 0, "192.0.2.10", 8400);
	struct fw_open o = { &m };
	struct flow f = outbound("192.0.2.11", 7400, "198.51.100.100", 3478, 7400, IPPROTO_UDP);
	struct flow g;
	struct ct_flow cf;

	CHECK_EQ(squatted(&o, 1, &f), 1);
	CHECK_EQ(ct_flow_parse((struct nlmsghdr *)buf, &cf), 0);
	CHECK_EQ(cf.rdport, 7400);
	CHECK_EQ(cf.sport, 7400);
	CHECK_EQ(ct_squats(&m, &cf), 1);
	CHECK_EQ(ct_let_in(&m, &cf), 0);	/* not a flow the mapping let in */
	/* the closed door of the same mapping does not doom it */
	{
		struct fw_close c = { &m, NULL };

		CHECK_EQ(doomed(&c, 1, &f), 0);
	}
	/* another source port of B's, leaving by the mapped one: still B's, still on it */
	g = f;
	g.sport = 5000;
	CHECK_EQ(squatted(&o, 1, &g), 1);
	/* leaving by another port (masquerade moved it): not on the mapping's */
	g = f;
	g.rdport = 7401;
	CHECK_EQ(squatted(&o, 1, &g), 0);
	/* the mapping's own endpoint, A:8400, leaving by 7400: the mapping leads there anyway */
	g = outbound("192.0.2.10", 8400, "198.51.100.100", 3478, 7400, IPPROTO_UDP);
	CHECK_EQ(squatted(&o, 1, &g), 0);
	/* A from another port, 7400: the mapping leads to 8400, not there */
	g.sport = 7400;
	CHECK_EQ(squatted(&o, 1, &g), 1);
	/* another protocol */
	g = f;
	g.proto = IPPROTO_TCP;
	CHECK_EQ(squatted(&o, 1, &g), 0);
	/* not translated: the gateway's own flow from 198.51.100.1:7400 */
	g = (struct flow){ "198.51.100.1", "198.51.100.100", "198.51.100.100", "198.51.100.1",
	    7400, 3478, 3478, 7400, IPPROTO_UDP, IPS_CONFIRMED | IPS_SEEN_REPLY };
	CHECK_EQ(squatted(&o, 1, &g), 0);
	/* a hairpin: B to the WAN address's 8080, DNATed to A:80, masqueraded to 192.0.2.1:7400 */
	g = (struct flow){ "192.0.2.11", "198.51.100.1", "192.0.2.10", "192.0.2.1", 7400, 8080, 80,
	    7400, IPPROTO_UDP, IPS_CONFIRMED | IPS_SRC_NAT | IPS_DST_NAT | IPS_SRC_NAT_DONE |
	    IPS_DST_NAT_DONE };
	CHECK_EQ(squatted(&o, 1, &g), 0);
	/* a WAN peer's flow in through the mapping: not an outbound one */
	g = inbound("198.51.100.100", 7400, 7400, "192.0.2.10", 8400, IPPROTO_UDP);
	CHECK_EQ(squatted(&o, 1, &g), 0);
	/* IPv6 has no NAT: nothing to sit on */
	g = (struct flow){ "2001:db8:1::11", "2001:db8:2::100", "2001:db8:2::100", "2001:db8:1::11",
	    7400, 3478, 3478, 7400, IPPROTO_UDP, IPS_CONFIRMED | IPS_SRC_NAT };
	CHECK_EQ(squatted(&o, 1, &g), 0);
	/* TCP the same as UDP */
	m.proto = MT_TCP;
	g = f;
	g.proto = IPPROTO_TCP;
	CHECK_EQ(squatted(&o, 1, &g), 1);
	/* a PEER pin or a pinhole opens no ports of the WAN address */
	m.kind = MT_KIND_PEER;
	CHECK_EQ(squatted(&o, 1, &g), 0);
	m.kind = MT_KIND_PINHOLE;
	CHECK_EQ(squatted(&o, 1, &g), 0);
}

/* A range or a trigger keeps the port: its own host from the same port stays, others end. */
static void
test_open_range(void)
{
	struct fw_item r = map(MT_TCP, 7100, 7110, "192.0.2.11", 7100);
	struct fw_item t = map(MT_UDP, 7510, 7510, "192.0.2.10", 7510);
	struct fw_open o[2] = { { &r }, { &t } };
	struct flow f = outbound("192.0.2.12", 7105, "198.51.100.100", 443, 7105, IPPROTO_TCP);

	t.source = MT_SRC_TRIGGER;	/* one port, but a trigger's: it keeps the port too */
	CHECK_EQ(squatted(o, 2, &f), 1);
	f.rdport = 7110;
	CHECK_EQ(squatted(o, 2, &f), 1);
	f.rdport = 7111;
	CHECK_EQ(squatted(o, 2, &f), 0);
	f.rdport = 7099;
	CHECK_EQ(squatted(o, 2, &f), 0);
	/* the range's host: from the same port, its own; from another, not */
	f = outbound("192.0.2.11", 7105, "198.51.100.100", 443, 7105, IPPROTO_TCP);
	CHECK_EQ(squatted(o, 2, &f), 0);
	f.sport = 7100;
	CHECK_EQ(squatted(o, 2, &f), 1);
	f = outbound("192.0.2.10", 7510, "198.51.100.100", 3478, 7510, IPPROTO_UDP);
	CHECK_EQ(squatted(o, 2, &f), 0);
	f.src = "192.0.2.11";
	CHECK_EQ(squatted(o, 2, &f), 1);
}

/* Closes and opens in one sweep, among thousands: each flow found by its own kind of door. */
static void
test_open_many(void)
{
	static struct fw_item items[6001];
	static struct fw_close cl[3000];
	static struct fw_open op[3001];
	struct flow f;
	char host[32];
	size_t i, want = 0;
	clock_t t0 = clock();

	for (i = 0; i < 3000; i++) {
		snprintf(host, sizeof(host), "192.0.2.%zu", 10 + i % 200);
		items[i] = map(MT_UDP, (uint16_t)(20000 + i), 0, host, (uint16_t)(20000 + i));
		cl[i].item = &items[i];
		items[3000 + i] = map(MT_UDP, (uint16_t)(30000 + i), 0, host, (uint16_t)(30000 + i));
		op[i].item = &items[3000 + i];
	}
	items[6000] = map(MT_TCP, 40000, 50000, "192.0.2.250", 40000);	/* spans the others */
	op[3000].item = &items[6000];
	len = 0;
	for (i = 0; i < 3000; i++) {
		snprintf(host, sizeof(host), "192.0.2.%zu", 10 + i % 200);
		/* let in by a closed door; on an opened door's port from another host; its own */
		f = inbound("198.51.100.100", 40000, (uint16_t)(20000 + i), host,
		    (uint16_t)(20000 + i), IPPROTO_UDP);
		add_flow(&f);
		f = outbound("192.0.2.251", (uint16_t)(30000 + i), "198.51.100.100", 3478,
		    (uint16_t)(30000 + i), IPPROTO_UDP);
		add_flow(&f);
		f.src = host;
		add_flow(&f);
		f = outbound("192.0.2.251", 5000, "198.51.100.100", 443, (uint16_t)(40000 + i),
		    IPPROTO_TCP);
		add_flow(&f);
		want += 3;
	}
	CHECK_EQ(ct_doomed_in(cl, 3000, op, 3001, buf, len), want);
	CHECK_EQ(ct_doomed_in(cl, 3000, NULL, 0, buf, len), 3000);
	CHECK_EQ(ct_doomed_in(NULL, 0, op, 3001, buf, len), 6000);
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
}

/* Messages a dump could not have sent, cut short or lying: nothing doomed, nothing read. */
static void
test_bad(void)
{
	struct fw_item m = map(MT_UDP, 7400, 0, "192.0.2.10", 7400);
	struct fw_close c = { &m, NULL };
	struct flow f = inbound("198.51.100.100", 40000, 7400, "192.0.2.10", 7400, IPPROTO_UDP);
	struct nlmsghdr *nlh;
	struct nlattr *a;
	struct ct_flow cf;
	size_t i, full;

	len = 0;
	nlh = add_flow(&f);
	full = len;
	for (i = 0; i < full; i++)	/* every length cut short */
		CHECK_EQ(ct_doomed_in(&c, 1, NULL, 0, buf, i), 0);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	CHECK_EQ(ct_flow_parse(nlh, &cf), -1);
	len = 0;
	nlh = add_flow(&f);
	((struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family = AF_INET6;
	CHECK_EQ(ct_doomed_in(&c, 1, NULL, 0, buf, len), 0);	/* IPv4 addresses in an IPv6 entry */
	/* an attribute claiming more than the message holds */
	len = 0;
	nlh = add_flow(&f);
	a = (struct nlattr *)((char *)mnl_nlmsg_get_payload(nlh) + sizeof(struct nfgenmsg));
	a->nla_len = 0xfff0;
	CHECK_EQ(ct_doomed_in(&c, 1, NULL, 0, buf, len), 0);
	/* a message length past the buffer */
	len = 0;
	nlh = add_flow(&f);
	nlh->nlmsg_len = 0xffffffff;
	CHECK_EQ(ct_doomed_in(&c, 1, NULL, 0, buf, len), 0);
	/* ICMP is no door's */
	f.proto = IPPROTO_ICMP;
	CHECK_EQ(doomed(&c, 1, &f), 0);
}

int
main(void)
{
	test_map();
	test_range();
	test_filters();
	test_pinhole();
	test_many();
	test_open();
	test_open_range();
	test_open_many();
	test_bad();
	return tu_done("test_ct");
}
