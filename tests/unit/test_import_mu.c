/*
 * test_import_mu.c - miniupnpd's configuration and lease file, read for
 * portgate (src/import_mu.c): a configuration as Debian's miniupnpd package
 * leaves it (its shipped file, with what its postinst appends), every key
 * portgate translates, the ones it names as not translated, hostile lines;
 * the lease file's formats, expired and hostile leases. The configuration
 * made is then parsed by portgated's own parser.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "import_mu.h"
#include "testutil.h"
#include "util.h"

static char out[16384];
static char warns[16384];
static unsigned nwarn;
static struct imu_lease leases[16];
static size_t nlease;

static void
on_line(void *arg, const char *text)
{
	(void)arg;
	strncat(out, text, sizeof(out) - strlen(out) - 2);
	strcat(out, "\n");
}

static void
on_warn(void *arg, const char *file, unsigned line, const char *msg)
{
	char l[1200];

	(void)arg;
	snprintf(l, sizeof(l), "%s:%u: %s\n", file, line, msg);
	strncat(warns, l, sizeof(warns) - strlen(warns) - 1);
	nwarn++;
}

/* 192.0.2.1 is br-lan's, nothing else is anyone's */
static int
on_ifname(void *arg, const struct in6_addr *a, char *name, size_t len)
{
	struct in6_addr lan = tu_addr("192.0.2.1");

	(void)arg;
	if (memcmp(a, &lan, sizeof(lan)) != 0)
		return -1;
	snprintf(name, len, "br-lan");
	return 0;
}

static void
on_lease(void *arg, const struct imu_lease *le)
{
	(void)arg;
	if (nlease < PG_NELEM(leases))
		leases[nlease++] = *le;
}

static const struct imu_hooks hooks = { on_line, on_warn, on_ifname, on_lease, NULL };

static void
reset(void)
{
	out[0] = warns[0] = '\0';
	nwarn = 0;
	nlease = 0;
}

static unsigned
conf(const char *text)
{
	reset();
	return imu_conf("mu.conf", text, strlen(text), &hooks);
}

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

/* Debian's shipped miniupnpd.conf keeps only these uncommented; its postinst appends the rest. */
static const char debian_conf[] =
    "# WAN network interface\n"
    "#ext_ifname=eth1\n"
    "#listening_ip=192.168.0.1/24\n"
    "#http_port=0\n"
    "#enable_natpmp=yes\n"
    "#secure_mode=yes\n"
    "system_uptime=yes\n"
    "#allow 1024-65535 192.168.0.0/24 1024-65535\n"
    "uuid=3b9d6a4e-1c2f-4e0a-9d53-2f6b1c0a7e02\n"
    "listening_ip=br-lan\n"
    "ext_ifname=wan0\n";

static void
test_debian(void)
{
	struct pg_config *c;
	char text[sizeof(out) + 256];
	unsigned bad = conf(debian_conf);

	CHECK_EQ(bad, 1);				/* system_uptime */
	CHECK(strstr(warns, "mu.conf:7: system_uptime: not translated") != NULL);
	CHECK(strstr(out, "wan_interface = wan0\n") != NULL);
	CHECK(strstr(out, "lan_interface = br-lan\n") != NULL);
	CHECK(strstr(out, "uuid = 3b9d6a4e-1c2f-4e0a-9d53-2f6b1c0a7e02\n") != NULL);	/* kept */
	CHECK(strstr(out, "#ext_ifname") == NULL);	/* comments stay miniupnpd's */
	/* portgated takes what was made */
	snprintf(text, sizeof(text), "%s", out);
	c = conf_parse("made.conf", text, strlen(text), conf_err, NULL);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_STR(c->wan_interface, "wan0");
		CHECK_STR(c->uuid, "3b9d6a4e-1c2f-4e0a-9d53-2f6b1c0a7e02");
		conf_free(c);
	}
}

static void
test_keys(void)
{
	struct pg_config *c;
	char text[sizeof(out) + 256];
	unsigned bad;

	bad = conf("ext_ifname=eth0\n"
	    "ext_ip=198.51.100.7\n"
	    "listening_ip=192.0.2.1/24\n"
	    "http_port=5555\n"
	    "enable_upnp=yes\n"
	    "enable_natpmp=no\n"
	    "secure_mode=no\n"
	    "pcp_allow_thirdparty=yes\n"
	    "min_lifetime=300\n"
	    "max_lifetime=7200\n"
	    "notify_interval=60\n"
	    "friendly_name=My router\n"
	    "allow 1024-65535 192.0.2.0/24 1024-65535\n"
	    "deny 0-65535 0.0.0.0/0 0-65535\n");
	CHECK_EQ(bad, 0);
	CHECK(strstr(out, "wan_interface = eth0\nexternal_ip = 198.51.100.7\n"
	    "lan_interface = br-lan\nupnp_http_port = 5555\nupnp = yes\npcp = no\nnatpmp = no\n"
	    "upnp_secure_mode = no\npcp_allow_third_party = yes\npcp_min_lifetime = 300\n"
	    "max_lease = 7200\nupnp_notify_interval = 60\nfriendly_name = My router\n"
	    "allow 1024-65535 192.0.2.0/24 1024-65535\ndeny 0-65535 0.0.0.0/0 0-65535\n") != NULL);
	snprintf(text, sizeof(text), "%s", out);
	c = conf_parse("made.conf", text, strlen(text), conf_err, NULL);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_EQ(c->upnp_http_port, 5555);
		CHECK_EQ(c->pcp, 0);
		CHECK_EQ(c->upnp_secure_mode, 0);
		conf_free(c);
	}

	/* named, line by line */
	bad = conf("ext_ifname=eth0\nlistening_ip=br-lan\n"
	    "http_port=0\n"
	    "ext_perform_stun=yes\n"
	    "upnp_table_name=filter\n"
	    "clean_ruleset_interval=600\n"
	    "lease_file=/var/lib/miniupnpd/upnp.leases\n"
	    "model_name=Router\n"
	    "no_such_key=1\n"
	    "notify_interval=10\n"
	    "allow 1024-65535 192.0.2.0/24 1024-65535 ^game.*$\n");
	CHECK_EQ(bad, 9);
	CHECK(strstr(warns, "mu.conf:3: http_port: 0 (any port)") != NULL);
	CHECK(strstr(warns, "mu.conf:4: ext_perform_stun: not translated: portgate asks the "
	    "upstream PCP server") != NULL);
	CHECK(strstr(warns, "mu.conf:5: upnp_table_name: not translated") != NULL);
	CHECK(strstr(warns, "mu.conf:7: lease_file: not translated: its leases come in with") != NULL);
	CHECK(strstr(warns, "mu.conf:9: no_such_key: not a miniupnpd key portgate knows") != NULL);
	CHECK(strstr(out, "upnp_notify_interval = 30\n") != NULL);
	CHECK(strstr(warns, "mu.conf:11: allow: not translated") != NULL);
	CHECK(strstr(out, "^game") == NULL);

	/* no interfaces: said */
	bad = conf("secure_mode=yes\n");
	CHECK_EQ(bad, 2);
	CHECK(strstr(warns, "no ext_ifname: set wan_interface") != NULL);
	CHECK(strstr(warns, "no listening_ip: set lan_interface") != NULL);
	/* an address no interface here has */
	bad = conf("ext_ifname=eth0\nlistening_ip=10.9.9.9/24\n");
	CHECK(strstr(warns, "listening_ip: no interface here has 10.9.9.9") != NULL);
}

/* What must not come through: controls, a '#', bad names, bad values, long and NUL lines. */
static void
test_hostile(void)
{
	char big[3000];

	conf("ext_ifname=eth0 ; rm -rf /\nlistening_ip=br-lan\n"
	    "friendly_name=evil\x1b[2J\n"
	    "friendly_name=a # comment\n"
	    "uuid=not-a-uuid\n"
	    "ext_ip=300.1.1.1\n"
	    "min_lifetime=-5\n"
	    "enable_upnp=maybe\n"
	    "allow 1024-65535 192.0.2.0/24\n"
	    "garbage\n");
	CHECK(strstr(out, "rm -rf") == NULL);
	CHECK(strstr(out, "evil") == NULL);
	CHECK(strstr(out, "# comment") == NULL);
	CHECK(strstr(out, "not-a-uuid") == NULL);
	CHECK(strstr(out, "300.1.1.1") == NULL);
	CHECK(strstr(out, "-5") == NULL);
	CHECK(strstr(out, "maybe") == NULL);
	CHECK(strstr(warns, "mu.conf:10: not a KEY=VALUE line") != NULL);
	CHECK_EQ(nwarn, 10);		/* every line but listening_ip, and no ext_ifname */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	reset();
	imu_conf("mu.conf", big, strlen(big), &hooks);
	CHECK(strstr(warns, "line too long") != NULL);
	reset();
	imu_conf("mu.conf", "ext_ifname=e\0th0\n", 16, &hooks);
	CHECK(strstr(warns, "a NUL octet") != NULL);
}

static unsigned
lease(const char *text, time_t now)
{
	reset();
	return imu_leases("mu.leases", text, strlen(text), now, &hooks);
}

static void
test_leases(void)
{
	struct in6_addr a = tu_addr("192.0.2.10");
	time_t now = 1800000000;
	unsigned bad;

	bad = lease("TCP:9000:192.0.2.10:8000:1800003600:my game\n"	/* ends in an hour */
	    "UDP:9001:192.0.2.10:8001:0:forever\n"			/* no end */
	    "TCP:9002:192.0.2.10:8002:600:left:600 s, with colons\n"	/* time left */
	    "TCP:9003:192.0.2.10:8003:old format, no timestamp\n"	/* before timestamps */
	    "TCP:9004:192.0.2.10:8004:1799999999:ended\n", now);	/* ended */
	CHECK_EQ(bad, 1);
	CHECK(strstr(warns, "mu.leases:5: TCP 9004 -> 192.0.2.10:8004 ended already") != NULL);
	CHECK_EQ(nlease, 4);
	CHECK_EQ(leases[0].proto, MT_TCP);
	CHECK_EQ(leases[0].ext_port, 9000);
	CHECK_EQ(leases[0].int_port, 8000);
	CHECK(memcmp(&leases[0].int_addr, &a, sizeof(a)) == 0);
	CHECK_EQ(leases[0].lease_s, 3600);
	CHECK_STR(leases[0].desc, "my game");
	CHECK_EQ(leases[0].line, 1);
	CHECK_EQ(leases[1].proto, MT_UDP);
	CHECK_EQ(leases[1].lease_s, 0);
	CHECK_STR(leases[1].desc, "forever");
	CHECK_EQ(leases[2].lease_s, 600);
	CHECK_STR(leases[2].desc, "left:600 s, with colons");
	CHECK_EQ(leases[3].lease_s, 0);
	CHECK_STR(leases[3].desc, "old format, no timestamp");

	/* hostile: each field checked, a description that is not text dropped, a long one cut */
	bad = lease("ICMP:9000:192.0.2.10:8000:0:x\n"
	    "TCP:0:192.0.2.10:8000:0:x\n"
	    "TCP:70000:192.0.2.10:8000:0:x\n"
	    "TCP:9000:192.0.2.999:8000:0:x\n"
	    "TCP:9000:2001:db8::1:8000:0:x\n"
	    "TCP:9000\n"
	    "UDP;2001:db8:1::10;8000;;0;1;1800003600;pinhole\n"
	    "TCP:9005:192.0.2.10:8005:0:bad\x1b[2Jdesc\n"
	    "TCP:9006:192.0.2.10:8006:0:"
	    "0123456789012345678901234567890123456789012345678901234567890123456789\n", now);
	CHECK_EQ(nlease, 2);
	CHECK_EQ(leases[0].ext_port, 9005);
	CHECK_STR(leases[0].desc, "");
	CHECK(strstr(warns, "mu.leases:8: the description is not text: dropped") != NULL);
	CHECK_EQ(strlen(leases[1].desc), MT_DESC_MAX - 1);
	CHECK(strstr(warns, "mu.leases:1: 'ICMP' is not TCP or UDP") != NULL);
	CHECK(strstr(warns, "mu.leases:2: a port is not 1-65535") != NULL);
	CHECK(strstr(warns, "mu.leases:4: '192.0.2.999' is not an IPv4 address") != NULL);
	CHECK(strstr(warns, "mu.leases:6: not PROTO:EXTPORT") != NULL);
	CHECK(strstr(warns, "mu.leases:7: an IPv6 pinhole lease (lease_file6): not imported") != NULL);
	CHECK_EQ(bad, 9);
}

int
main(void)
{
	test_debian();
	test_keys();
	test_hostile();
	test_leases();
	return tu_done("test_import_mu");
}
