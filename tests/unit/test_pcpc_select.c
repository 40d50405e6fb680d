/* test_pcpc_select.c - which upstream PCP servers: upstream_pcp_file, the default route, the order. */
#include "config.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pcp/pcpc_select.h"
#include "testutil.h"
#include "util.h"

static unsigned warned[64];	/* warnings by line */
static unsigned nwarn;

static int
is(const struct in6_addr *a, const char *s)
{
	struct in6_addr b;

	return util_parse_addr(s, &b) == 0 && memcmp(a, &b, sizeof(b)) == 0;
}

static void
warn(void *arg, unsigned line, const char *msg)
{
	(void)arg;
	(void)msg;
	nwarn++;
	if (line < PG_NELEM(warned))
		warned[line]++;
}

static size_t
parse(const char *text, struct pcpc_server *out, size_t max)
{
	memset(warned, 0, sizeof(warned));
	nwarn = 0;
	return pcpc_select_parse(text, strlen(text), out, max, warn, NULL);
}

static void
test_parse(void)
{
	static const char text[] =
	    "# written by the DHCP client's hook (RFC 7291)\n"		/* 1 */
	    "\n"							/* 2 */
	    "198.51.100.100\n"						/* 3 */
	    "  198.51.100.200 198.51.100.201\t# one server, two addresses\n"	/* 4 */
	    "2001:db8::1\n"						/* 5: IPv6: not used */
	    "::ffff:198.51.100.7\n"					/* 6: v4-mapped: used */
	    "nonsense 198.51.100.8\n"					/* 7: one bad word */
	    "0.0.0.0 224.0.0.1 127.0.0.1 255.255.255.255 240.0.0.1\n"	/* 8: none usable */
	    "198.51.100.100\n"						/* 9: twice */
	    "198.51.100.11 198.51.100.12 198.51.100.13 198.51.100.14 198.51.100.15\n" /* 10 */
	    "198.51.100.16\r\n";					/* 11: CRLF */
	struct pcpc_server s[PCPC_SELECT_MAX];
	char big[PCPC_SELECT_LINE_MAX + 16];
	char many[16 * 20];
	size_t n, i;

	n = parse(text, s, PG_NELEM(s));
	CHECK_EQ(n, 6);
	CHECK(is(&s[0].addr[0], "198.51.100.100") && s[0].naddr == 1);
	CHECK_EQ(s[0].line, 3);
	CHECK_EQ(s[0].source, PCPC_SRC_FILE);
	CHECK(is(&s[1].addr[0], "198.51.100.200") && is(&s[1].addr[1], "198.51.100.201"));
	CHECK_EQ(s[1].naddr, 2);
	CHECK(is(&s[2].addr[0], "198.51.100.7"));
	CHECK_EQ(s[2].line, 6);
	CHECK(is(&s[3].addr[0], "198.51.100.8"));
	CHECK_EQ(s[4].naddr, PCPC_SERVER_ADDRS);
	CHECK(is(&s[4].addr[3], "198.51.100.14"));
	CHECK(is(&s[5].addr[0], "198.51.100.16"));
	CHECK_EQ(warned[1] + warned[2] + warned[3] + warned[4] + warned[6] + warned[11], 0);
	CHECK_EQ(warned[5], 1);
	CHECK_EQ(warned[7], 1);
	CHECK_EQ(warned[8], 5);
	CHECK_EQ(warned[9], 1);
	CHECK_EQ(warned[10], 1);
	/* the first servers only; a line too long; no file at all */
	n = parse(text, s, 2);
	CHECK_EQ(n, 2);
	CHECK(nwarn > 8);
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(parse(big, s, PG_NELEM(s)), 0);
	CHECK_EQ(nwarn, 1);
	CHECK_EQ(parse("", s, PG_NELEM(s)), 0);
	CHECK_EQ(nwarn, 0);
	many[0] = '\0';
	for (i = 0; i < 12; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "198.51.100.%zu\n",
		    20 + i);
	CHECK_EQ(parse(many, s, PG_NELEM(s)), PCPC_SELECT_MAX);
	CHECK_EQ(nwarn, 12 - PCPC_SELECT_MAX);
	/* a NUL in a line: that line only */
	CHECK_EQ(pcpc_select_parse("198.51.100.1\n198.51\0.100.2\n198.51.100.3\n", 40, s, 8,
	    warn, NULL), 2);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		abort();
}

static void
test_read(void)
{
	struct pcpc_server s[PCPC_SELECT_MAX];
	char path[512], *big;
	struct in6_addr cfg;

	snprintf(path, sizeof(path), "%s/upstream-pcp", tu_tmpdir());
	unlink(path);
	CHECK_EQ(pcpc_select_read(path, s, PG_NELEM(s)), 0);	/* none yet: no server */
	write_file(path, "198.51.100.100 198.51.100.101\n198.51.100.200\n");
	CHECK_EQ(pcpc_select_read(path, s, PG_NELEM(s)), 2);
	CHECK_EQ(s[0].naddr, 2);
	CHECK_EQ(pcpc_select_read(tu_tmpdir(), s, PG_NELEM(s)), 0);	/* a directory */
	big = calloc(1, PCPC_SELECT_FILE_MAX + 64);
	memset(big, '#', PCPC_SELECT_FILE_MAX + 32);
	write_file(path, big);
	free(big);
	CHECK_EQ(pcpc_select_read(path, s, PG_NELEM(s)), 0);
	/* the order: configured alone; else the file's */
	write_file(path, "198.51.100.200\n198.51.100.100\n");
	util_parse_addr("198.51.100.9", &cfg);
	CHECK_EQ(pcpc_select_servers(&cfg, path, "lo", s, PG_NELEM(s)), 1);
	CHECK(is(&s[0].addr[0], "198.51.100.9"));
	CHECK_EQ(s[0].source, PCPC_SRC_CONFIG);
	CHECK_EQ(pcpc_select_servers(NULL, path, "lo", s, PG_NELEM(s)), 2);
	CHECK(is(&s[0].addr[0], "198.51.100.200"));
	CHECK(is(&s[1].addr[0], "198.51.100.100"));
	CHECK_EQ(s[1].source, PCPC_SRC_FILE);
	/* no file, an interface with no default route (or none at all): nothing */
	unlink(path);
	CHECK_EQ(pcpc_select_servers(NULL, path, "lo", s, PG_NELEM(s)), 0);
	CHECK_EQ(pcpc_select_gateways("no-such-if0", NULL, 0), -1);
	CHECK_EQ(pcpc_select_servers(NULL, NULL, "no-such-if0", s, PG_NELEM(s)), 0);
	CHECK_STR(pcpc_source_name(PCPC_SRC_GATEWAY), "gateway");
}

/* ---- route messages, as the kernel sends them ---- */

struct rt {
	uint8_t		 family, dst_len, type, table;
	uint32_t	 oif, prio, table32;
	const char	*gw;
	unsigned	 nhops;
	uint32_t	 hop_if[2];
	const char	*hop_gw[2];
};

static struct nlmsghdr *
route_msg(char *buf, const struct rt *r)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtnexthop *nh;
	struct rtmsg *rt;
	struct nlattr *mp;
	struct in_addr a;
	unsigned i;

	nlh->nlmsg_type = RTM_NEWROUTE;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = r->family;
	rt->rtm_dst_len = r->dst_len;
	rt->rtm_type = r->type;
	rt->rtm_table = r->table;
	if (r->table32 != 0)
		mnl_attr_put_u32(nlh, RTA_TABLE, r->table32);
	if (r->oif != 0)
		mnl_attr_put_u32(nlh, RTA_OIF, r->oif);
	if (r->prio != 0)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->prio);
	if (r->gw != NULL && inet_pton(AF_INET, r->gw, &a) == 1)
		mnl_attr_put(nlh, RTA_GATEWAY, 4, &a);
	if (r->nhops > 0) {
		mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
		for (i = 0; i < r->nhops; i++) {
			nh = (struct rtnexthop *)mnl_nlmsg_get_payload_tail(nlh);
			memset(nh, 0, sizeof(*nh));
			nh->rtnh_ifindex = (int)r->hop_if[i];
			nlh->nlmsg_len += RTNH_LENGTH(0);
			if (inet_pton(AF_INET, r->hop_gw[i], &a) == 1)
				mnl_attr_put(nlh, RTA_GATEWAY, 4, &a);
			nh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) -
			    (char *)nh);
		}
		mnl_attr_nest_end(nlh, mp);
	}
	return nlh;
}

static void
test_routes(void)
{
	char buf[1024];
	struct pcpc_gateway gw[4];
	struct rt r;
	size_t n = 0;

	memset(gw, 0, sizeof(gw));
	/* default via 198.51.100.100 dev 5 metric 100 */
	memset(&r, 0, sizeof(r));
	r = (struct rt){ AF_INET, 0, RTN_UNICAST, RT_TABLE_MAIN, 5, 100, 0, "198.51.100.100",
	    0, { 0, 0 }, { NULL, NULL } };
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 1);
	CHECK_EQ(n, 1);
	CHECK(is(&gw[0].addr, "198.51.100.100"));
	/* the same again: once */
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 0);
	/* another interface; a prefix that is not the default; another table; IPv6; blackhole */
	r.oif = 6;
	r.gw = "198.51.100.50";
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 0);
	r.oif = 5;
	r.dst_len = 24;
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 0);
	r.dst_len = 0;
	r.table32 = 100;
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 0);
	r.table32 = 0;
	r.table = 100;
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 0);
	r.table = RT_TABLE_MAIN;
	r.family = AF_INET6;
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 0);
	r.family = AF_INET;
	r.type = RTN_BLACKHOLE;
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 0);
	r.type = RTN_UNICAST;
	/* a better metric goes first; a gateway no host can be is not taken */
	r.prio = 50;
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 1);
	CHECK_EQ(n, 2);
	CHECK(is(&gw[0].addr, "198.51.100.50"));
	CHECK(is(&gw[1].addr, "198.51.100.100"));
	r.gw = "224.0.0.9";
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 0);
	/* multipath: the hop out of our interface */
	r = (struct rt){ AF_INET, 0, RTN_UNICAST, RT_TABLE_MAIN, 0, 200, 0, NULL, 2, { 7, 5 },
	    { "203.0.113.1", "198.51.100.77" } };
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 1);
	CHECK_EQ(n, 3);
	CHECK(is(&gw[2].addr, "198.51.100.77"));
	/* a route with no gateway (ppp): stands for the link's peer */
	r = (struct rt){ AF_INET, 0, RTN_UNICAST, RT_TABLE_MAIN, 5, 300, 0, NULL, 0, { 0, 0 },
	    { NULL, NULL } };
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 1);
	CHECK_EQ(n, 4);
	CHECK(!util_addr_is_v4(&gw[3].addr));
	/* full */
	r.gw = "198.51.100.99";
	r.prio = 1;
	CHECK_EQ(pcpc_select_route(route_msg(buf, &r), 5, gw, 4, &n), 0);
	/* not a route message, one cut short */
	((struct nlmsghdr *)(void *)buf)->nlmsg_type = RTM_NEWLINK;
	CHECK_EQ(pcpc_select_route((struct nlmsghdr *)(void *)buf, 5, gw, 4, &n), 0);
	n = 0;
	route_msg(buf, &r)->nlmsg_len = NLMSG_LENGTH(4);
	CHECK_EQ(pcpc_select_route((struct nlmsghdr *)(void *)buf, 5, gw, 4, &n), 0);
}

int
main(void)
{
	log_init(1, -2);
	test_parse();
	test_read();
	test_routes();
	return tu_done("test_pcpc_select");
}
