/* test_neigh.c - the LAN neighbour table: messages in, (address, MAC) pairs out. */
#include "config.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "neigh.h"
#include "testutil.h"

static char buf[512];

/* One RTM_NEWNEIGH/RTM_DELNEIGH into buf; its length. */
static size_t
msg(int type, const char *ip, const char *mac, uint16_t state)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;
	uint8_t a[16], m[6];
	int v6 = strchr(ip, ':') != NULL;

	nlh->nlmsg_type = (uint16_t)type;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = v6 ? AF_INET6 : AF_INET;
	nd->ndm_state = state;
	inet_pton(v6 ? AF_INET6 : AF_INET, ip, a);
	mnl_attr_put(nlh, NDA_DST, v6 ? 16 : 4, a);
	if (mac != NULL) {
		sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
		mnl_attr_put(nlh, NDA_LLADDR, 6, m);
	}
	return nlh->nlmsg_len;
}

static char status_text[64];

static void status_line(void *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
status_line(void *arg, const char *name, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(status_text, sizeof(status_text), "%s ", name);
	va_list ap;

	(void)arg;
	va_start(ap, fmt);
	vsnprintf(status_text + n, sizeof(status_text) - n, fmt, ap);
	va_end(ap);
}

static int
has(struct neigh *nb, const char *ip, const char *mac)
{
	struct in6_addr a;
	uint8_t m[6];
	char s[20];

	memset(&a, 0, sizeof(a));
	if (strchr(ip, ':') != NULL)
		inet_pton(AF_INET6, ip, &a);
	else {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		inet_pton(AF_INET, ip, &a.s6_addr[12]);
	}
	if (!neigh_lookup(nb, &a, m))
		return 0;
	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return mac == NULL || strcmp(s, mac) == 0;
}

int
main(void)
{
	struct fake_clock fc = { 1000 };
	struct pg_clock clk = tu_fake_clock(&fc);
	struct neigh *nb = neigh_new_detached(&clk);
	const struct neigh_host *h;
	size_t len;

	len = msg(RTM_NEWNEIGH, "192.0.2.10", "02:00:00:00:00:0a", NUD_REACHABLE);
	CHECK_EQ(neigh_handle_msg(nb, buf, len), 1);
	CHECK(has(nb, "192.0.2.10", "02:00:00:00:00:0a"));
	/* the same pair again (a state change): nothing to tell the firewall */
	len = msg(RTM_NEWNEIGH, "192.0.2.10", "02:00:00:00:00:0a", NUD_STALE);
	CHECK_EQ(neigh_handle_msg(nb, buf, len), 0);
	/* a new MAC for the address replaces the old one at once */
	len = msg(RTM_NEWNEIGH, "192.0.2.10", "02:00:00:00:00:0b", NUD_STALE);
	CHECK_EQ(neigh_handle_msg(nb, buf, len), 1);
	CHECK(has(nb, "192.0.2.10", "02:00:00:00:00:0b"));
	CHECK_EQ(neigh_hosts(nb, &h), 1);
	/* IPv6 */
	len = msg(RTM_NEWNEIGH, "2001:db8:1::10", "02:00:00:00:00:0a", NUD_REACHABLE);
	CHECK_EQ(neigh_handle_msg(nb, buf, len), 1);
	CHECK(has(nb, "2001:db8:1::10", "02:00:00:00:00:0a"));
	/* never taken: multicast or zero MACs, entries without one */
	len = msg(RTM_NEWNEIGH, "192.0.2.20", "01:00:5e:00:00:01", NUD_REACHABLE);
	CHECK_EQ(neigh_handle_msg(nb, buf, len), 0);
	len = msg(RTM_NEWNEIGH, "192.0.2.21", "00:00:00:00:00:00", NUD_REACHABLE);
	CHECK_EQ(neigh_handle_msg(nb, buf, len), 0);
	len = msg(RTM_NEWNEIGH, "192.0.2.22", NULL, NUD_INCOMPLETE);
	CHECK_EQ(neigh_handle_msg(nb, buf, len), 0);
	CHECK(!has(nb, "192.0.2.20", NULL));
	CHECK(!has(nb, "192.0.2.22", NULL));
	/* the kernel forgets a quiet host: the pair stays for an hour, then goes */
	len = msg(RTM_DELNEIGH, "192.0.2.10", "02:00:00:00:00:0b", NUD_STALE);
	CHECK_EQ(neigh_handle_msg(nb, buf, len), 0);
	CHECK(has(nb, "192.0.2.10", "02:00:00:00:00:0b"));
	fc.now += 3599 * 1000ull;
	CHECK_EQ(neigh_handle_msg(nb, buf, 0), 0);
	CHECK(has(nb, "192.0.2.10", NULL));
	fc.now += 2 * 1000ull;
	CHECK_EQ(neigh_handle_msg(nb, buf, 0), 1);
	CHECK(!has(nb, "192.0.2.10", NULL));
	CHECK(has(nb, "2001:db8:1::10", NULL));
	/* per-host keys: the MAC where known (both families alike), else /64 or the address */
	{
		struct in6_addr a1, a2, k1, k2;

		inet_pton(AF_INET6, "2001:db8:1::10", &a1);
		inet_pton(AF_INET6, "2001:db8:1::99", &a2);
		neigh_host_key(nb, &a1, &k1);
		neigh_host_key(nb, &a2, &k2);
		CHECK(memcmp(&k1, &k2, sizeof(k1)) != 0);	/* ::10 by its MAC, ::99 by its /64 */
		CHECK_EQ(k1.s6_addr[0], 0xff);
		len = msg(RTM_NEWNEIGH, "192.0.2.40", "02:00:00:00:00:0a", NUD_REACHABLE);
		neigh_handle_msg(nb, buf, len);
		memset(&a2, 0, sizeof(a2));
		a2.s6_addr[10] = a2.s6_addr[11] = 0xff;
		inet_pton(AF_INET, "192.0.2.40", &a2.s6_addr[12]);
		neigh_host_key(nb, &a2, &k2);
		CHECK(memcmp(&k1, &k2, sizeof(k1)) == 0);	/* one host, two families, one key */
		inet_pton(AF_INET6, "2001:db8:1::98", &a1);
		inet_pton(AF_INET6, "2001:db8:1::99", &a2);
		neigh_host_key(NULL, &a1, &k1);
		neigh_host_key(NULL, &a2, &k2);
		CHECK(memcmp(&k1, &k2, sizeof(k1)) == 0);	/* unknown: one /64 */
	}
	/*
	 * A full table (a host inventing addresses: the kernel holds ~1024 at a
	 * time, so the mirror fills with forgotten ones): the pair forgotten
	 * longest ago makes room for a new host; current pairs are never dropped.
	 */
	{
		struct neigh *full = neigh_new_detached(&clk);
		char ip[48], mac[20];
		int i;

		for (i = 0; i < NEIGH_MAX; i++) {
			snprintf(ip, sizeof(ip), "2001:db8:1::1:%x", i);
			snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x", i >> 8, i & 0xff);
			len = msg(RTM_NEWNEIGH, ip, mac, NUD_STALE);
			neigh_handle_msg(full, buf, len);
		}
		CHECK_EQ(neigh_hosts(full, &h), NEIGH_MAX);
		len = msg(RTM_NEWNEIGH, "2001:db8:1::abcd", "02:00:00:00:ab:cd", NUD_REACHABLE);
		CHECK_EQ(neigh_handle_msg(full, buf, len), 0);	/* all current: no room */
		CHECK(!has(full, "2001:db8:1::abcd", NULL));
		len = msg(RTM_DELNEIGH, "2001:db8:1::1:0", NULL, NUD_STALE);
		neigh_handle_msg(full, buf, len);
		fc.now += 1000;
		for (i = 1; i < 4; i++) {
			snprintf(ip, sizeof(ip), "2001:db8:1::1:%x", i);
			len = msg(RTM_DELNEIGH, ip, NULL, NUD_STALE);
			neigh_handle_msg(full, buf, len);
		}
		len = msg(RTM_NEWNEIGH, "2001:db8:1::abcd", "02:00:00:00:ab:cd", NUD_REACHABLE);
		CHECK_EQ(neigh_handle_msg(full, buf, len), 1);
		CHECK(has(full, "2001:db8:1::abcd", "02:00:00:00:ab:cd"));
		CHECK(!has(full, "2001:db8:1::1:0", NULL));	/* forgotten longest ago */
		CHECK(has(full, "2001:db8:1::1:1", NULL));
		CHECK(has(full, "2001:db8:1::1:ff", NULL));	/* current: kept */
		CHECK_EQ(neigh_hosts(full, &h), NEIGH_MAX);
		neigh_free(full);
	}
	/* a truncated message changes nothing */
	len = msg(RTM_NEWNEIGH, "192.0.2.30", "02:00:00:00:00:30", NUD_REACHABLE);
	CHECK_EQ(neigh_handle_msg(nb, buf, len - 8), 0);
	CHECK(!has(nb, "192.0.2.30", NULL));
	/* its status: the pairs it knows */
	neigh_status(nb, status_line, NULL);
	CHECK_EQ(neigh_hosts(nb, &h), 2);
	CHECK_STR(status_text, "lan_hosts 2");
	neigh_status(NULL, status_line, NULL);
	CHECK_STR(status_text, "lan_hosts none");
	neigh_free(nb);
	return tu_done("test_neigh");
}
