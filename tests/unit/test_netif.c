/* test_netif.c - who may be an internal client, for every front end through the table. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mtable.h"
#include "netif.h"
#include "testutil.h"
#include "trigger/nflog.h"
#include "trigger/trigger.h"
#include "util.h"

static struct fake_clock fc = { 1000000 };

static struct in6_addr
addr(const char *s)
{
	struct in6_addr a;

	CHECK_EQ(util_parse_addr(s, &a), 0);
	return a;
}

/* The lab's gateway: br-lan 192.0.2.1/24, wan0 198.51.100.1/24. */
static struct netif *
lab_netif(void)
{
	struct pg_clock clk = tu_fake_clock(&fc);
	char *lan[1] = { (char *)"br-lan" };
	struct netif *n = netif_new(lan, 1, &clk);
	struct netif_prefix p;
	struct in6_addr local[2];

	memset(&p, 0, sizeof(p));
	p.addr = addr("192.0.2.0");
	p.plen = 96 + 24;
	strcpy(p.ifname, "br-lan");
	local[0] = addr("192.0.2.1");
	local[1] = addr("198.51.100.1");
	netif_set(n, &p, 1, local, 2);
	return n;
}

static void
expect(struct netif *n, const char *a, const char *why)
{
	struct in6_addr x = addr(a);
	char buf[160];
	int ok = netif_client_ok(n, &x, buf, sizeof(buf));

	if (why == NULL) {
		CHECK_EQ(ok, 1);
		return;
	}
	CHECK_EQ(ok, 0);
	CHECK_STR(buf, why);
}

static void
test_rules(void)
{
	struct netif *n = lab_netif();

	expect(n, "192.0.2.10", NULL);
	expect(n, "192.0.2.254", NULL);
	expect(n, "192.0.2.255", "192.0.2.255 is the broadcast address of br-lan 192.0.2.0/24");
	expect(n, "192.0.2.0", "192.0.2.0 is the network address of br-lan 192.0.2.0/24");
	expect(n, "192.0.2.1", "192.0.2.1 is an address of the gateway itself");
	expect(n, "198.51.100.1", "198.51.100.1 is an address of the gateway itself");
	expect(n, "198.51.100.200", "198.51.100.200 is not inside a LAN subnet");
	expect(n, "10.1.2.3", "10.1.2.3 is not inside a LAN subnet");
	expect(n, "0.0.0.0", "0.0.0.0 is an unspecified (0.0.0.0/8) address");
	expect(n, "127.0.0.1", "127.0.0.1 is a loopback address");
	expect(n, "224.0.0.1", "224.0.0.1 is a multicast address");
	expect(n, "255.255.255.255", "255.255.255.255 is the broadcast address");
	expect(n, "::1", "::1 is a loopback address");
	expect(n, "ff02::1", "ff02::1 is a multicast address");
	netif_free(n);
}

/* The lab's IPv6: br-lan 2001:db8:1::1/64 (and fe80::1), wan0 2001:db8:2::1/64 (and fe80::2). */
static void
test_v6(void)
{
	struct pg_clock clk = tu_fake_clock(&fc);
	char *lan[1] = { (char *)"br-lan" };
	struct netif *n = netif_new(lan, 1, &clk);
	struct netif_prefix p[2];
	struct in6_addr local[4], a;

	memset(p, 0, sizeof(p));
	p[0].addr = addr("192.0.2.0");
	p[0].plen = 96 + 24;
	p[0].local = addr("192.0.2.1");
	p[1].addr = addr("2001:db8:1::");
	p[1].plen = 64;
	p[1].local = addr("2001:db8:1::1");
	p[0].ifindex = p[1].ifindex = 7;
	strcpy(p[0].ifname, "br-lan");
	strcpy(p[1].ifname, "br-lan");
	local[0] = addr("fe80::1");
	local[1] = addr("2001:db8:2::1");
	local[2] = addr("fe80::2");
	local[3] = addr("198.51.100.1");
	netif_set(n, p, 2, local, 4);
	expect(n, "2001:db8:1::10", NULL);
	expect(n, "2001:db8:1::1", "2001:db8:1::1 is an address of the gateway itself");
	expect(n, "2001:db8:2::100", "2001:db8:2::100 is not inside a LAN subnet");
	expect(n, "2001:db8:2::1", "2001:db8:2::1 is an address of the gateway itself");
	expect(n, "fe80::10", "fe80::10 is a link-local address");
	expect(n, "::ffff:192.0.2.10", NULL);	/* v4-mapped is IPv4's */
	a = addr("2001:db8:1::10");
	CHECK_EQ(netif_local_for(n, &a, &a), 0);
	CHECK(memcmp(&a, &p[1].local, sizeof(a)) == 0);
	a = addr("2001:db8:1::1");
	CHECK_EQ(netif_is_lan_local(n, &a), 1);
	CHECK_EQ(netif_is_own(n, &a), 1);
	a = addr("fe80::2");
	CHECK_EQ(netif_is_lan_local(n, &a), 0);
	CHECK_EQ(netif_is_own(n, &a), 1);	/* link-local, and on the WAN side: still ours */
	a = addr("fe80::10");
	CHECK_EQ(netif_is_own(n, &a), 0);
	a = addr("2001:db8:2::1");
	CHECK_EQ(netif_is_lan_local(n, &a), 0);
	CHECK_EQ(netif_is_own(n, &a), 1);
	netif_free(n);
}

/* getifaddrs: an interface's IPv6 addresses are LAN prefixes of their own, link-local ones not. */
static void
test_read_lo(void)
{
	struct pg_clock clk = tu_fake_clock(&fc);
	char *lan[1] = { (char *)"lo" };
	struct netif *n = netif_new(lan, 1, &clk);
	const struct netif_prefix *p;
	struct in6_addr v4 = addr("127.0.0.1"), v6 = addr("::1");
	size_t i, np = netif_lan_prefixes(n, &p);
	int seen4 = 0, seen6 = 0;

	for (i = 0; i < np; i++) {
		CHECK_STR(p[i].ifname, "lo");
		CHECK(!IN6_IS_ADDR_LINKLOCAL(&p[i].addr));
		if (memcmp(&p[i].local, &v4, sizeof(v4)) == 0)
			seen4 = p[i].plen == 96 + 8;
		if (memcmp(&p[i].local, &v6, sizeof(v6)) == 0)
			seen6 = p[i].plen == 128 && p[i].ifindex == if_nametoindex("lo");
	}
	CHECK(seen4);
	if (!seen6)
		fprintf(stderr, "test_netif: no ::1 on lo (IPv6 off?): not checked\n");
	CHECK_EQ(netif_is_own(n, &v6), seen6);
	netif_free(n);
}

/* The table refuses for every source; a forged trigger source opens nothing. */
static void
test_table_and_trigger(void)
{
	struct pg_clock clk = tu_fake_clock(&fc);
	struct netif *n = lab_netif();
	struct mtable *mt = mtable_new(NULL, &clk);
	struct trigger *t = trigger_new(mt);
	struct trig_rule r;
	struct mt_request q;
	struct in6_addr forged = addr("198.51.100.200"), host = addr("192.0.2.10");
	char err[160];
	uint8_t pkt[40];
	int src;

	mtable_set_netif(mt, n);
	memset(&q, 0, sizeof(q));
	q.proto = MT_TCP;
	q.ext_port = 8080;
	q.int_addr = addr("192.0.2.255");
	for (src = 0; src < MT_NSOURCE; src++) {
		q.source = (uint8_t)src;
		CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_ERR_ADDR);
	}
	CHECK_EQ(trig_rule_parse(&r, "game tcp:7000 open tcp:7100-7110 idle 5", err, sizeof(err)), 0);
	CHECK_EQ(trigger_add_rule(t, &r, 0, err, sizeof(err)), 0);
	trigger_outbound(t, MT_TCP, 7000, &forged);
	CHECK_EQ(mtable_count(mt), 0);
	CHECK_EQ(trigger_bad_sources(t), 1);
	/* the same through the NFLOG decoder: an IPv4 SYN from the forged source */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[9] = 6;
	memcpy(pkt + 12, &forged.s6_addr[12], 4);
	memcpy(pkt + 16, &host.s6_addr[12], 4);
	pkt[22] = 7000 >> 8;
	pkt[23] = 7000 & 0xff;
	CHECK_EQ(trig_nflog_handle_packet(t, "pgo", pkt, sizeof(pkt)), 0);
	CHECK_EQ(mtable_count(mt), 0);
	CHECK_EQ(trigger_bad_sources(t), 2);
	/* a LAN host opens it */
	memcpy(pkt + 12, &host.s6_addr[12], 4);
	CHECK_EQ(trig_nflog_handle_packet(t, "pgo", pkt, sizeof(pkt)), 0);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 7105) != NULL);
	trigger_free(t);
	mtable_free(mt);
	netif_free(n);
}

int
main(void)
{
	log_setverbose(-2);
	test_rules();
	test_v6();
	test_read_lo();
	test_table_and_trigger();
	return tu_done("test_netif");
}
