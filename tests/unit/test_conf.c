/* test_conf.c - config parsing: every error path reports FILE:LINE. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "testutil.h"
#include "util.h"

static char lasterr[512];
static int nerr;

static void
collect(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	if (nerr++ == 0)	/* keep the first error */
		snprintf(lasterr, sizeof(lasterr), "%s:%u: %s", file, line, msg);
}

/* Parse text; expect failure with exactly one error whose text starts with want. */
static void
expect_error_len(const char *text, size_t len, const char *want)
{
	struct pg_config *c;

	nerr = 0;
	lasterr[0] = '\0';
	c = conf_parse("t.conf", text, len, collect, NULL);
	CHECK(c == NULL);
	CHECK(nerr >= 1);
	tu_checks++;
	if (strncmp(lasterr, want, strlen(want)) != 0) {
		tu_failures++;
		fprintf(stderr, "expected error \"%s...\", got \"%s\"\n", want, lasterr);
	}
	conf_free(c);
}

static void
expect_error(const char *text, const char *want)
{
	expect_error_len(text, strlen(text), want);
}

static const char base[] = "firewall = none\n";

static void
test_good(void)
{
	static const char text[] =
	    "# comment\n"
	    "wan_interface = eth0\n"
	    "lan_interface = br0\n"
	    "lan_interface = wlan0   # trailing comment\n"
	    "external_ip = 198.51.100.1\n"
	    "firewall = nftables\n"
	    "state_file = /var/lib/x/state\n"
	    "control_socket = /run/x.sock\n"
	    "allow 1024-65535 192.0.2.0/24 1024-65535\n"
	    "deny = 1-65535 0.0.0.0/0 1-65535\n"
	    "max_lease = 3600\n"
	    "max_mappings_per_client = 10\n"
	    "nft_table = pg_test\n"
	    "nft_keep_table = yes\n"
	    "trigger = irc-dcc tcp:6667 open tcp:1024-1034 idle 300\n"
	    "trigger = game udp:27000-27030 open udp:27000-27030,tcp:27014-27050 idle 120\n"
	    "upnp_igd_version = 1\n"
	    "dhcp_leases = dnsmasq:/var/lib/misc/dnsmasq.leases\n"
	    "dhcp_leases = odhcpd:/tmp/hosts/odhcpd\n";
	struct pg_config *c;

	nerr = 0;
	c = conf_parse("good.conf", text, sizeof(text) - 1, collect, NULL);
	CHECK(c != NULL);
	CHECK_EQ(nerr, 0);
	if (c == NULL)
		return;
	CHECK_STR(c->wan_interface, "eth0");
	CHECK_EQ(c->nlan, 2);
	CHECK_STR(c->lan_interface[1], "wlan0");
	CHECK(c->has_external_ip);
	CHECK_STR(c->firewall, "nftables");
	CHECK_EQ(c->policy.n, 2);
	CHECK_EQ(c->policy.rules[0].allow, 1);
	CHECK_EQ(c->policy.rules[1].allow, 0);
	CHECK_EQ(c->max_lease, 3600);
	CHECK_EQ(c->max_mappings_per_client, 10);
	CHECK_STR(c->nft_table, "pg_test");
	CHECK_EQ(c->nft_keep_table, 1);
	CHECK_EQ(c->ntriggers, 2);
	CHECK_STR(c->triggers[1].name, "game");
	CHECK_EQ(c->triggers[1].nopen, 2);
	CHECK_EQ(c->triggers[1].open[1].lo, 27014);
	CHECK_EQ(c->triggers[1].idle, 120);
	CHECK_EQ(c->triggers[0].idle, 300);
	CHECK_EQ(c->upnp_igd_version, CONF_IGD_V1);
	CHECK_STR(conf_igd_version_name(c->upnp_igd_version), "1");
	CHECK_EQ(c->ndhcp_leases, 2);
	CHECK_EQ(c->dhcp_leases[0].format, HN_FMT_DNSMASQ);
	CHECK_STR(c->dhcp_leases[0].path, "/var/lib/misc/dnsmasq.leases");
	CHECK_EQ(c->dhcp_leases[1].format, HN_FMT_ODHCPD);
	CHECK_STR(c->dhcp_leases[1].path, "/tmp/hosts/odhcpd");
	conf_free(c);
}

/* dhcp_leases = FORMAT:PATH: every wrong spelling says what is wrong, on its line. */
static void
test_dhcp_leases(void)
{
	expect_error("firewall = none\ndhcp_leases = /var/lib/misc/dnsmasq.leases\n",
	    "t.conf:2: dhcp_leases: '/var/lib/misc/dnsmasq.leases' is not FORMAT:PATH "
	    "(FORMAT dnsmasq or odhcpd)");
	expect_error("firewall = none\ndhcp_leases = isc:/var/lib/dhcp/dhcpd.leases\n",
	    "t.conf:2: dhcp_leases: 'isc' is not a lease file format (dnsmasq or odhcpd)");
	expect_error("firewall = none\ndhcp_leases = dnsmasq:leases\n",
	    "t.conf:2: dhcp_leases: 'leases' is not an absolute path");
	expect_error("firewall = none\ndhcp_leases = dnsmasq:\n",
	    "t.conf:2: dhcp_leases: '' is not an absolute path");
	expect_error("firewall = none\ndhcp_leases = dnsmasq:/a b\n",
	    "t.conf:2: dhcp_leases takes one value");
	expect_error("firewall = none\ndhcp_leases = dnsmasq:/a\ndhcp_leases = odhcpd:/a\n",
	    "t.conf:3: dhcp_leases: /a is listed twice");
	expect_error("firewall = none\ndhcp_leases = dnsmasq:/a\ndhcp_leases = dnsmasq:/b\n"
	    "dhcp_leases = dnsmasq:/c\ndhcp_leases = dnsmasq:/d\ndhcp_leases = odhcpd:/e\n",
	    "t.conf:6: too many dhcp_leases lines (at most 4)");
}

/* Debian's stock miniupnpd.conf permission rules, copied as they are. */
static void
test_miniupnpd_rules(void)
{
	static const char text[] =
	    "wan_interface = eth0\n"
	    "lan_interface = br-lan\n"
	    "firewall = none\n"
	    "allow 1024-65535 192.168.0.0/24 1024-65535\n"
	    "allow 1024-65535 192.168.1.0/24 1024-65535\n"
	    "allow 1024-65535 192.168.0.0/23 22\n"
	    "allow 1024-65535 192.168.0.0/21 1024-65535\n"
	    "allow 1024-65535 192.0.2.0/255.255.255.0 1024-65535\n"
	    "deny 0-65535 0.0.0.0/0 0-65535\n";
	struct pg_config *c;

	nerr = 0;
	c = conf_parse("miniupnpd.conf", text, sizeof(text) - 1, collect, NULL);
	CHECK(c != NULL);
	CHECK_EQ(nerr, 0);
	if (c == NULL)
		return;
	CHECK_EQ(c->policy.n, 6);
	CHECK_EQ(c->policy.rules[4].plen, 96 + 24);
	CHECK_EQ(c->policy.rules[5].allow, 0);
	CHECK_EQ(c->policy.rules[5].ext_lo, 1);
	CHECK_EQ(c->policy.rules[5].ext_hi, 65535);
	CHECK_EQ(c->policy.rules[5].int_lo, 1);
	CHECK_EQ(c->policy.rules[5].int_hi, 65535);
	conf_free(c);
	expect_error("firewall = none\ndeny 0-0 0.0.0.0/0 0-65535\n",
	    "t.conf:2: deny: bad external port range");
	expect_error("firewall = none\ndeny 1-65535 192.0.2.0/255.0.255.0 1-65535\n",
	    "t.conf:2: deny: bad address or prefix");
	expect_error("firewall = none\nallow 1024-65535 192.0.2.0/24 1024-65535 ^game$\n",
	    "t.conf:2: allow: description filters");
}

/* The admin server's keys: addresses of one host, paths, and what goes together. */
static void
test_admin_keys(void)
{
	static const char good[] = "firewall = none\n"
	    "admin_listen = 192.0.2.1:8443\n"
	    "admin_listen = [2001:db8:1::1]:8443\n"
	    "admin_listen = 127.0.0.1:5000\n"
	    "admin_tls_cert = /etc/pg/cert.pem\n"
	    "admin_tls_key = /etc/pg/key.pem\n"
	    "admin_password_file = /etc/pg/pw\n"
	    "admin_metrics_token_file = /etc/pg/token\n"
	    "admin_session_idle = 60\n";
	struct pg_config *c = conf_parse("t.conf", good, sizeof(good) - 1, collect, NULL);
	char a[INET6_ADDRSTRLEN];

	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_EQ(c->nadmin_listen, 3);
		CHECK_STR(util_addr_str(&c->admin_listen[0].addr, a, sizeof(a)), "192.0.2.1");
		CHECK_EQ(c->admin_listen[0].port, 8443);
		CHECK_EQ(c->admin_listen[0].line, 2);
		CHECK_STR(util_addr_str(&c->admin_listen[1].addr, a, sizeof(a)), "2001:db8:1::1");
		CHECK_EQ(c->admin_listen[2].port, 5000);	/* loopback: not the UPnP port's address */
		CHECK_STR(c->admin_tls_cert, "/etc/pg/cert.pem");
		CHECK_STR(c->admin_password_file, "/etc/pg/pw");
		CHECK_STR(c->admin_metrics_token_file, "/etc/pg/token");
		CHECK_EQ(c->admin_session_idle, 60);
	}
	conf_free(c);
	c = conf_parse("t.conf", base, strlen(base), collect, NULL);
	CHECK(c != NULL && c->nadmin_listen == 0 && c->admin_session_idle == 900 &&
	    c->admin_password_file == NULL);
	conf_free(c);
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = 192.0.2.1\n",
	    "t.conf:3: admin_listen: '192.0.2.1' is not ADDR:PORT or [IPv6]:PORT");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = 192.0.2.1:0\n",
	    "t.conf:3: admin_listen: '192.0.2.1:0' is not ADDR:PORT");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = 2001:db8::1:80\n",
	    "t.conf:3: admin_listen: an IPv6 address is written [ADDR]:PORT");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = [192.0.2.1]:80\n",
	    "t.conf:3: admin_listen: '192.0.2.1' is not an IPv4 or IPv6 address");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = gw.lan:80\n",
	    "t.conf:3: admin_listen: 'gw.lan' is not an IPv4 or IPv6 address");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = 0.0.0.0:80\n",
	    "t.conf:3: admin_listen: 0.0.0.0 is not the address of one interface");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = [::]:80\n",
	    "t.conf:3: admin_listen: :: is not the address of one interface");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = [fe80::1]:80\n",
	    "t.conf:3: admin_listen: fe80::1 is not the address of one interface");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = 224.0.0.1:80\n",
	    "t.conf:3: admin_listen: 224.0.0.1 is not the address of one interface");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = 192.0.2.1:80\n"
	    "admin_listen = 192.0.2.1:80\n", "t.conf:4: admin_listen: the same address twice (line 3)");
	expect_error("firewall = none\nadmin_password_file = /p\nadmin_listen = 192.0.2.1:5000\n",
	    "t.conf:3: admin_listen: port 5000 is upnp_http_port's");
	expect_error("firewall = none\nadmin_listen = 192.0.2.1:80\n",
	    "t.conf:0: admin_listen needs admin_password_file");
	expect_error("firewall = none\nadmin_tls_cert = /c\n",
	    "t.conf:0: admin_tls_cert and admin_tls_key go together");
	expect_error("firewall = none\nadmin_password_file = pw\n",
	    "t.conf:2: admin_password_file: 'pw' is not an absolute path");
	expect_error("firewall = none\nadmin_session_idle = 0\n",
	    "t.conf:2: admin_session_idle: '0' is not a number of seconds between 1 and 604800");
}

/* upstream_pcp, upstream_pcp_file, upstream_max_mappings: defaults, spellings, errors on their lines. */
static void
test_upstream_keys(void)
{
	static const char good[] = "firewall = none\n"
	    "wan_interface = wan0\n"
	    "upstream_pcp = 198.51.100.100\n"
	    "upstream_pcp_file = /run/portgate/upstream-pcp\n"
	    "upstream_max_mappings = 0\n";
	static const char off[] = "firewall = none\nupstream_pcp = off\n";
	struct pg_config *c = conf_parse("t.conf", base, strlen(base), collect, NULL);
	char a[INET6_ADDRSTRLEN];

	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_EQ(c->upstream_pcp, CONF_UPSTREAM_AUTO);	/* the default */
		CHECK(c->upstream_pcp_file == NULL);
		CHECK_EQ(c->upstream_max_mappings, 1024);
		CHECK_STR(conf_upstream_name(c, a, sizeof(a)), "auto");
	}
	conf_free(c);
	c = conf_parse("t.conf", good, sizeof(good) - 1, collect, NULL);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_EQ(c->upstream_pcp, CONF_UPSTREAM_ADDR);
		CHECK_STR(util_addr_str(&c->upstream_pcp_addr, a, sizeof(a)), "198.51.100.100");
		CHECK_STR(conf_upstream_name(c, a, sizeof(a)), "198.51.100.100");
		CHECK_STR(c->upstream_pcp_file, "/run/portgate/upstream-pcp");
		CHECK_EQ(c->upstream_max_mappings, 0);
	}
	conf_free(c);
	c = conf_parse("t.conf", off, strlen(off), collect, NULL);
	CHECK(c != NULL && c->upstream_pcp == CONF_UPSTREAM_OFF);
	if (c != NULL)
		CHECK_STR(conf_upstream_name(c, a, sizeof(a)), "off");
	conf_free(c);
	expect_error("firewall = none\nupstream_pcp = on\n",
	    "t.conf:2: upstream_pcp: 'on' is not off, auto or an IPv4 address");
	expect_error("firewall = none\nupstream_pcp = 2001:db8::1\n",
	    "t.conf:2: upstream_pcp: 2001:db8::1 is IPv6; the upstream mappings are IPv4's");
	expect_error("firewall = none\nupstream_pcp = 224.0.0.1\n",
	    "t.conf:2: upstream_pcp: 224.0.0.1 is not a unicast address a PCP server may have");
	expect_error("firewall = none\nupstream_pcp = 0.0.0.0\n",
	    "t.conf:2: upstream_pcp: 0.0.0.0 is not a unicast address");
	expect_error("firewall = none\nupstream_pcp = 127.0.0.1\n",
	    "t.conf:2: upstream_pcp: 127.0.0.1 is not a unicast address");
	expect_error("firewall = none\nupstream_pcp = auto off\n",
	    "t.conf:2: upstream_pcp takes one value");
	expect_error("firewall = none\n\nupstream_pcp = 198.51.100.100\n",
	    "t.conf:3: upstream_pcp names a server but there is no wan_interface");
	expect_error("firewall = none\nupstream_pcp_file = upstream\n",
	    "t.conf:2: upstream_pcp_file: 'upstream' is not an absolute path");
	expect_error("firewall = none\nupstream_max_mappings = 65536\n",
	    "t.conf:2: upstream_max_mappings: '65536' is not a number between 0 and 65535");
	expect_error("firewall = none\nupstream_pcp = auto\nupstream_pcp = off\n",
	    "t.conf:3: upstream_pcp given again (first on line 2)");
}

int
main(void)
{
	char buf[2048];

	test_good();
	test_dhcp_leases();
	test_miniupnpd_rules();
	test_admin_keys();
	test_upstream_keys();
	expect_error("firewall = none\nbogus = 1\n", "t.conf:2: unknown keyword 'bogus'");
	expect_error("firewall = iptables\n", "t.conf:1: firewall: 'iptables' is not one of");
	expect_error("firewall = none\nupnp_igd_version = 3\n",
	    "t.conf:2: upnp_igd_version: '3' is not one of: auto, 1, 2");
	expect_error("firewall = none\nupnp_igd_version = v2\n", "t.conf:2: upnp_igd_version:");
	expect_error("firewall = none\nwan_interface =\n", "t.conf:2: wan_interface: missing value");
	expect_error("firewall = none\nwan_interface = a b\n", "t.conf:2: wan_interface takes one value");
	/* the WAN as a LAN interface: UPnP, PCP and NAT-PMP would answer the WAN */
	expect_error("wan_interface = wan0\nlan_interface = br-lan\nlan_interface = wan0\n",
	    "t.conf:0: lan_interface: wan0 is the wan_interface");
	expect_error("lan_interface = eth0\nwan_interface = eth0\n",
	    "t.conf:0: lan_interface: eth0 is the wan_interface");
	expect_error("firewall = none\nexternal_ip = 999.1.1.1\n", "t.conf:2: external_ip:");
	expect_error("firewall = none\nstate_file = relative\n", "t.conf:2: state_file: 'relative' is not an absolute path");
	expect_error("firewall = none\ncontrol_socket = x\n", "t.conf:2: control_socket:");
	expect_error("firewall = none\n\nallow 1024-65535 192.0.2.0/33 1-2\n", "t.conf:3: allow: bad address");
	expect_error("firewall = none\ndeny 2-1 192.0.2.0/24 1-2\n", "t.conf:2: deny: bad external port range");
	expect_error("firewall = none\nallow 1-2 192.0.2.0/24 x\n", "t.conf:2: allow: bad internal port range");
	expect_error("firewall = none\nallow 1-2\n", "t.conf:2: allow: expected");
	expect_error("firewall = none\nmax_lease = -5\n", "t.conf:2: max_lease: '-5' is not a number");
	expect_error("firewall = none\nmax_mappings_per_client = 70000\n", "t.conf:2: max_mappings_per_client:");
	expect_error("firewall = none\nnft_table = 9bad\n", "t.conf:2: nft_table: '9bad' is not a valid table name");
	expect_error("firewall = none\nnft_keep_table = maybe\n", "t.conf:2: nft_keep_table: 'maybe' is not yes or no");
	expect_error("firewall = none\nnflog_group = x\n", "t.conf:2: nflog_group:");
	expect_error("firewall = none\ntrigger = x tcp:1 opn tcp:2\n", "t.conf:2: trigger: expected NAME");
	expect_error("firewall = none\ntrigger = x tcp:1 open tcp:2 idle 0\n", "t.conf:2: trigger: bad idle time");
	expect_error("firewall = none\ntrigger = x icmp:1 open tcp:2\n", "t.conf:2: trigger: bad trigger");
	expect_error("firewall = none\ntrigger = x tcp:1 open tcp:2-1\n", "t.conf:2: trigger: bad open range");
	expect_error("firewall = none\ntrigger = x tcp:1 open tcp:2-9,tcp:5\n", "t.conf:2: trigger: open range 'tcp:5' overlaps");
	expect_error("firewall = none\ntrigger = a tcp:1 open tcp:2\ntrigger = b tcp:1 open tcp:3\n", "t.conf:3: trigger: trigger ports of 'b' overlap rule 'a'");
	expect_error("firewall = none\ntrigger = a tcp:1 open tcp:2\ntrigger = a tcp:5 open tcp:3\n", "t.conf:3: trigger: a rule named 'a' already exists");
	expect_error("firewall = none\ntrigger = a tcp:1 open tcp:2-10\ntrigger = b tcp:5 open tcp:10\n", "t.conf:3: trigger: open ports of 'b' overlap");
	expect_error("firewall = none\npinhole = tcp 2001:db8:1::10:80\n", "t.conf:2: pinhole: bad endpoint '2001:db8:1::10:80' ([IPv6]:PORT)");
	expect_error("firewall = none\npinhole = tcp [192.0.2.10]:80\n", "t.conf:2: pinhole: bad endpoint");
	expect_error("firewall = none\npinhole = sctp [2001:db8:1::10]:80\n", "t.conf:2: pinhole: bad protocol 'sctp'");
	expect_error("firewall = none\npinhole = tcp [2001:db8:1::10]:80 remote\n", "t.conf:2: pinhole: 'remote' needs a value");
	expect_error("firewall = none\npinhole = tcp [2001:db8:1::10]:80 remote 198.51.100.1\n", "t.conf:2: pinhole: bad remote '198.51.100.1'");
	expect_error("firewall = none\npinhole = tcp [2001:db8:1::10]:80 from x\n", "t.conf:2: pinhole: unknown word 'from'");
	expect_error("firewall = none\npinhole = tcp [2001:db8:1::10]:80\npinhole = tcp [2001:db8:1::10]:80\n", "t.conf:3: pinhole: the same pinhole twice");
	expect_error("firewall = none\npinhole = tcp [2001:db8:1::10]:80 desc \x01\n", "t.conf:2: pinhole: bad description");
	expect_error("firewall = nftables\n", "t.conf:0: wan_interface is required");
	{
		static const char nul[] = "firewall = none\nwan_interface = eth0\0x\n";
		expect_error_len(nul, sizeof(nul) - 1, "t.conf:2: NUL byte");
	}
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, base, sizeof(base) - 1);
	buf[sizeof(buf) - 1] = '\0';
	expect_error(buf, "t.conf:2: line too long");
	/* a single-valued key given twice names both lines */
	expect_error("firewall = none\nmax_lease = 60\n\nmax_lease = 120\n",
	    "t.conf:4: max_lease given again (first on line 2)");
	expect_error("firewall = none\nlan_interface = br0\nlan_interface = br0\n",
	    "t.conf:3: lan_interface: br0 is listed twice");
	expect_error("firewall = none\nwan_interface = averyveryverylongname\n",
	    "t.conf:2: wan_interface: 'averyveryverylongname' is longer than 15 characters");
	expect_error("firewall = none\ncontrol_socket = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	    "t.conf:2: control_socket: path is too long for a unix socket");
	{
		struct pg_config *c;
		static const char ok[] = "firewall = none\nlan_interface = br0\nlan_interface = br1\n"
		    "allow 1-2 192.0.2.0/24 1-2\nallow 3-4 192.0.2.0/24 3-4\n";

		nerr = 0;
		c = conf_parse("t.conf", ok, sizeof(ok) - 1, collect, NULL);
		CHECK(c != NULL);
		CHECK_EQ(nerr, 0);
		conf_free(c);
	}
	/* a directory is a file error */
	nerr = 0;
	CHECK(conf_load(tu_tmpdir(), collect, NULL) == NULL);
	CHECK(strstr(lasterr, ":0: is a directory") != NULL);
	/* a file over 1 MiB is refused, never cut (a cut could turn "idle 300" into "idle 3") */
	{
		char path[512];
		FILE *f;
		size_t i;

		snprintf(path, sizeof(path), "%s/big.conf", tu_tmpdir());
		f = fopen(path, "w");
		fputs("firewall = none\n", f);
		for (i = 0; i < 20000; i++)
			fputs("# padding padding padding padding padding padding padding\n", f);
		fputs("trigger = x tcp:1 open tcp:2 idle 300\ndeny 1-65535 0.0.0.0/0 1-65535\n", f);
		fclose(f);
		nerr = 0;
		CHECK(conf_load(path, collect, NULL) == NULL);
		CHECK(strstr(lasterr, ":0: too large (") != NULL);
	}
	/* a missing file is reported with its name */
	nerr = 0;
	CHECK(conf_load("/nonexistent/portgate.conf", collect, NULL) == NULL);
	CHECK(strstr(lasterr, "/nonexistent/portgate.conf:0: cannot open") == lasterr);
	return tu_done("test_conf");
}
