/* test_ssdp.c - the SSDP parser, what each search is answered with, and the messages sent. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "igd/igd.h"
#include "igd/ssdp.h"
#include "log.h"
#include "netif.h"
#include "testutil.h"
#include "util.h"

#define ROOT	"4d696e69-5550-4e50-8000-0123456789a0"
#define WAN	"4d696e69-5550-4e50-8000-0123456789a1"
#define CONN	"4d696e69-5550-4e50-8000-0123456789a2"
#define URN_D	"urn:schemas-upnp-org:device:"
#define URN_S	"urn:schemas-upnp-org:service:"

static enum ssdp_perr
parse(const char *text, int multicast, struct ssdp_msg *m)
{
	return ssdp_parse(text, strlen(text), multicast, m);
}

/* A multicast search with the given MX line (or none) and ST. */
static enum ssdp_perr
search(const char *mxline, const char *st, struct ssdp_msg *m)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
	    "MAN: \"ssdp:discover\"\r\n%s%sST: %s\r\n\r\n", mxline ? mxline : "",
	    mxline ? "\r\n" : "", st);
	return parse(buf, 1, m);
}

static void
test_parse_good(void)
{
	struct ssdp_msg m;

	CHECK_EQ(search("MX: 2", "ssdp:all", &m), SSDP_OK);
	CHECK_EQ(m.kind, SSDP_MSEARCH);
	CHECK_STR(m.st, "ssdp:all");
	CHECK_EQ(m.mx, 2);
	CHECK_EQ(m.has_mx, 1);
	/* header names in any case, values trimmed, bare LF line ends */
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nhOsT: 239.255.255.250:1900\r\nmAn:\"ssdp:discover\"\r\n"
	    "mx:\t3 \r\nsT:   upnp:rootdevice  \r\n\r\n", 1, &m), SSDP_OK);
	CHECK_STR(m.st, "upnp:rootdevice");
	CHECK_EQ(m.mx, 3);
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\nMAN: \"ssdp:discover\"\nMX: 1\nST: ssdp:all\n\n", 1, &m),
	    SSDP_OK);
	CHECK_EQ(m.mx, 1);
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\nMX: 1\r\nST: ssdp:all\n\r\n",
	    1, &m), SSDP_OK);
	/* whatever follows the blank line is not read */
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n"
	    "\r\n\x01\x02junk", 1, &m), SSDP_OK);
	/* unknown headers are fine */
	CHECK_EQ(search("MX: 1\r\nUSER-AGENT: Windows/10 UPnP/1.1 x/1\r\nCPFN.UPNP.ORG: cp",
	    "ssdp:all", &m), SSDP_OK);
}

static void
test_parse_man(void)
{
	struct ssdp_msg m;

	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMX: 1\r\nST: ssdp:all\r\n\r\n", 1, &m), SSDP_ERR_MAN);
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: ssdp:discover\r\nMX: 1\r\nST: ssdp:all\r\n\r\n",
	    1, &m), SSDP_ERR_MAN);
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:alive\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n",
	    1, &m), SSDP_ERR_MAN);
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMAN: \"ssdp:discover\"\r\n"
	    "MX: 1\r\nST: ssdp:all\r\n\r\n", 1, &m), SSDP_ERR_MAN);
	/* unicast needs MAN too */
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n", 0, &m), SSDP_ERR_MAN);
}

static void
test_parse_mx(void)
{
	struct ssdp_msg m;
	static const char *const bad[] = { "MX: 0", "MX: abc", "MX: -1", "MX:", "MX: 1.5",
	    "MX: +2", "MX: 2 3", "MX: 0x2", "MX: 00" };
	size_t i;

	CHECK_EQ(search(NULL, "ssdp:all", &m), SSDP_ERR_MX);
	for (i = 0; i < PG_NELEM(bad); i++)
		CHECK_EQ(search(bad[i], "ssdp:all", &m), SSDP_ERR_MX);
	CHECK_EQ(search("MX: 99", "ssdp:all", &m), SSDP_OK);
	CHECK_EQ(m.mx, 5);
	CHECK_EQ(search("MX: 5", "ssdp:all", &m), SSDP_OK);
	CHECK_EQ(m.mx, 5);
	CHECK_EQ(search("MX: 6", "ssdp:all", &m), SSDP_OK);
	CHECK_EQ(m.mx, 5);
	CHECK_EQ(search("MX: 99999999999999999999999999", "ssdp:all", &m), SSDP_OK);
	CHECK_EQ(m.mx, 5);
	CHECK_EQ(search("MX: 007", "ssdp:all", &m), SSDP_OK);
	CHECK_EQ(m.mx, 5);
	CHECK_EQ(search("MX:    4   ", "ssdp:all", &m), SSDP_OK);
	CHECK_EQ(m.mx, 4);
	CHECK_EQ(search("MX: 1\r\nMX: 2", "ssdp:all", &m), SSDP_ERR_MX);
	/* unicast: no MX needed, answered at once; a bad one is not an error */
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nHOST: 192.0.2.1:1900\r\nMAN: \"ssdp:discover\"\r\n"
	    "ST: ssdp:all\r\n\r\n", 0, &m), SSDP_OK);
	CHECK_EQ(m.has_mx, 0);
	CHECK_EQ(m.mx, 0);
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: abc\r\n"
	    "ST: ssdp:all\r\n\r\n", 0, &m), SSDP_OK);
	CHECK_EQ(m.has_mx, 0);
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: 3\r\n"
	    "ST: ssdp:all\r\n\r\n", 0, &m), SSDP_OK);
	CHECK_EQ(m.has_mx, 1);
	CHECK_EQ(m.mx, 3);
	/* the same datagram multicast is refused */
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\n\r\n", 1, &m),
	    SSDP_ERR_MX);
}

static void
test_parse_st(void)
{
	struct ssdp_msg m;
	char st[SSDP_ST_MAX + 1];

	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n\r\n", 1, &m),
	    SSDP_ERR_ST);
	CHECK_EQ(search("MX: 1", "", &m), SSDP_ERR_ST);
	CHECK_EQ(search("MX: 1", "ssdp: all", &m), SSDP_ERR_ST);
	CHECK_EQ(search("MX: 1", "urn:\xc3\xa9", &m), SSDP_ERR_ST);
	CHECK_EQ(search("MX: 1\r\nST: upnp:rootdevice", "ssdp:all", &m), SSDP_ERR_ST);
	memset(st, 'a', SSDP_ST_MAX);
	st[SSDP_ST_MAX] = '\0';
	CHECK_EQ(search("MX: 1", st, &m), SSDP_ERR_ST);		/* 256 bytes */
	st[SSDP_ST_MAX - 1] = '\0';
	CHECK_EQ(search("MX: 1", st, &m), SSDP_OK);		/* 255 bytes */
	CHECK_EQ(strlen(m.st), SSDP_ST_MAX - 1);
}

static void
test_parse_framing(void)
{
	static const char nul[] = "M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n"
	    "ST: ssdp:a\0l\r\n\r\n";
	struct ssdp_msg m;
	char *big, line[700];
	size_t i;

	CHECK_EQ(ssdp_parse("", 0, 1, &m), SSDP_ERR_SHORT);
	CHECK_EQ(ssdp_parse("M", 1, 1, &m), SSDP_ERR_SHORT);
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n",
	    1, &m), SSDP_ERR_SHORT);				/* no blank line */
	CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all", 1,
	    &m), SSDP_ERR_SHORT);
	big = malloc(9000);
	memset(big, 'a', 9000);
	memcpy(big, "M-SEARCH * HTTP/1.1\r\n", 21);
	CHECK_EQ(ssdp_parse(big, 9000, 1, &m), SSDP_ERR_LONG);
	CHECK_EQ(ssdp_parse(big, SSDP_DGRAM_MAX + 1, 1, &m), SSDP_ERR_LONG);
	free(big);
	/* request lines */
	CHECK_EQ(parse("GET / HTTP/1.1\r\n\r\n", 1, &m), SSDP_ERR_START);
	CHECK_EQ(parse("M-SEARCH * HTTP/1.0\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n",
	    1, &m), SSDP_ERR_START);
	CHECK_EQ(parse("m-search * http/1.1\r\n\r\n", 1, &m), SSDP_ERR_START);
	CHECK_EQ(parse("M-SEARCH  * HTTP/1.1\r\n\r\n", 1, &m), SSDP_ERR_START);
	CHECK_EQ(parse("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n"
	    "NTS: ssdp:alive\r\n\r\n", 1, &m), SSDP_OK);
	CHECK_EQ(m.kind, SSDP_NOTIFY);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\n\r\n", 0, &m), SSDP_OK);
	CHECK_EQ(m.kind, SSDP_RESPONSE);
	CHECK_EQ(parse("HTTP/1.1 2000 OK\r\n\r\n", 0, &m), SSDP_ERR_START);
	/* header lines */
	CHECK_EQ(ssdp_parse(nul, sizeof(nul) - 1, 1, &m), SSDP_ERR_HEADER);
	CHECK_EQ(ssdp_parse(nul, sizeof(nul) - 1, 0, &m), SSDP_ERR_HEADER);
	CHECK_EQ(search("MX: 1\r\nX-A: b\x01" "c", "ssdp:all", &m), SSDP_ERR_HEADER);
	CHECK_EQ(search("MX: 1\r\nX-A: b\rc", "ssdp:all", &m), SSDP_ERR_HEADER);
	CHECK_EQ(search("MX: 1\r\nX-A: b\x7f", "ssdp:all", &m), SSDP_ERR_HEADER);
	CHECK_EQ(search("MX: 1\r\nX-A: tab\tinside", "ssdp:all", &m), SSDP_OK);
	CHECK_EQ(search("MX: 1\r\nno colon", "ssdp:all", &m), SSDP_ERR_HEADER);
	CHECK_EQ(search("MX: 1\r\n: empty name", "ssdp:all", &m), SSDP_ERR_HEADER);
	CHECK_EQ(search("MX: 1\r\nST : ssdp:all", "ssdp:all", &m), SSDP_ERR_HEADER);
	CHECK_EQ(search("MX: 1\r\n folded", "ssdp:all", &m), SSDP_ERR_HEADER);
	/* a line of 512 bytes is fine, 513 is not */
	memset(line, 'x', sizeof(line));
	memcpy(line, "MX: 1\r\nX-LONG: ", 15);
	line[7 + SSDP_LINE_MAX] = '\0';
	CHECK_EQ(search(line, "ssdp:all", &m), SSDP_OK);
	line[7 + SSDP_LINE_MAX] = 'x';
	line[7 + SSDP_LINE_MAX + 1] = '\0';
	CHECK_EQ(search(line, "ssdp:all", &m), SSDP_ERR_HEADER);
	/* 32 headers are fine (HOST, MAN, MX, ST and 28 more), 33 are not */
	strcpy(line, "MX: 1");
	for (i = 0; i < 28; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "\r\nX-%zu: y", i);
	CHECK_EQ(search(line, "ssdp:all", &m), SSDP_OK);
	strcat(line, "\r\nX-LAST: y");
	CHECK_EQ(search(line, "ssdp:all", &m), SSDP_ERR_HEADER);
	CHECK_STR(ssdp_perr_str(SSDP_ERR_MX), "missing or bad MX");
}

/* ---- answers ---- */

static struct pg_config cfg;
static struct pg_ctx ctx;
static struct igd igd;
static struct ssdp_params sp;
static struct fake_clock fc = { 1000000 };

static void
setup(void)
{
	cfg.upnp_http_port = 5000;
	cfg.upnp_notify_interval = 900;
	ctx.cfg = &cfg;
	igd.ctx = &ctx;
	strcpy(igd.udn[IGD_DEV_ROOT], ROOT);
	strcpy(igd.udn[IGD_DEV_WAN], WAN);
	strcpy(igd.udn[IGD_DEV_CONN], CONN);
	igd.boot_id = 1700000000;
	igd.config_id = 4242;
	/* what igd.c hands SSDP when it makes it */
	sp.ctx = igd.ctx;
	sp.udn = igd.udn;
	sp.boot_id = igd.boot_id;
	sp.config_id = igd.config_id;
	sp.server = igd_server_string(&igd);
	sp.stats = &igd.stats;
}

/* A search for st gets exactly one answer, with this USN. */
static void
one(const char *st, const char *usn)
{
	struct ssdp_ans a[SSDP_NANS];
	size_t n = ssdp_answers(&sp, st, a, SSDP_NANS);

	CHECK_EQ(n, 1);
	if (n != 1) {
		fprintf(stderr, "  (search for %s)\n", st);
		return;
	}
	CHECK_STR(a[0].st, strncmp(st, "uuid:", 5) == 0 ? usn : st);
	CHECK_STR(a[0].usn, usn);
}

static void
none(const char *st)
{
	struct ssdp_ans a[SSDP_NANS];

	CHECK_EQ(ssdp_answers(&sp, st, a, SSDP_NANS), 0);
}

static void
test_answers(void)
{
	one("upnp:rootdevice", "uuid:" ROOT "::upnp:rootdevice");
	one("uuid:" ROOT, "uuid:" ROOT);
	one("uuid:" WAN, "uuid:" WAN);
	one("uuid:" CONN, "uuid:" CONN);
	one("uuid:4D696E69-5550-4E50-8000-0123456789A2", "uuid:" CONN);	/* any case */
	none("uuid:4d696e69-5550-4e50-8000-0123456789a3");
	none("uuid:" ROOT "x");
	none("uuid:");
	/* devices: v1 of a type we have as v2 is answered too */
	one(URN_D "InternetGatewayDevice:1", "uuid:" ROOT "::" URN_D "InternetGatewayDevice:1");
	one(URN_D "InternetGatewayDevice:2", "uuid:" ROOT "::" URN_D "InternetGatewayDevice:2");
	none(URN_D "InternetGatewayDevice:3");
	one(URN_D "WANDevice:1", "uuid:" WAN "::" URN_D "WANDevice:1");
	one(URN_D "WANDevice:2", "uuid:" WAN "::" URN_D "WANDevice:2");
	none(URN_D "WANDevice:3");
	one(URN_D "WANConnectionDevice:1", "uuid:" CONN "::" URN_D "WANConnectionDevice:1");
	one(URN_D "WANConnectionDevice:2", "uuid:" CONN "::" URN_D "WANConnectionDevice:2");
	none(URN_D "WANConnectionDevice:3");
	/* services */
	one(URN_S "WANIPConnection:1", "uuid:" CONN "::" URN_S "WANIPConnection:1");
	one(URN_S "WANIPConnection:2", "uuid:" CONN "::" URN_S "WANIPConnection:2");
	none(URN_S "WANIPConnection:3");
	one(URN_S "WANCommonInterfaceConfig:1", "uuid:" WAN "::" URN_S "WANCommonInterfaceConfig:1");
	none(URN_S "WANCommonInterfaceConfig:2");
	one(URN_S "Layer3Forwarding:1", "uuid:" ROOT "::" URN_S "Layer3Forwarding:1");
	none(URN_S "Layer3Forwarding:2");
	/* not ours, or not spelled as a version */
	none(URN_S "WANPPPConnection:1");
	none(URN_D "InternetGatewayDevice:0");
	none(URN_D "InternetGatewayDevice:01");
	none(URN_D "InternetGatewayDevice");
	none("urn:schemas-upnp-org:device:internetgatewaydevice:1");
	none(URN_S "InternetGatewayDevice:1");
	none("ssdp:ALL");
	none("upnp:rootdevice:1");
}

static int
has(const struct ssdp_ans *a, size_t n, const char *st, const char *usn)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].st, st) == 0 && strcmp(a[i].usn, usn) == 0)
			return 1;
	fprintf(stderr, "  missing: %s %s\n", st, usn);
	return 0;
}

static void
test_all(void)
{
	struct ssdp_ans a[SSDP_NANS], b[SSDP_NANS];
	size_t n = ssdp_answers(&sp, "ssdp:all", a, SSDP_NANS), i;

	CHECK_EQ(n, 15);
	CHECK(has(a, n, "upnp:rootdevice", "uuid:" ROOT "::upnp:rootdevice"));
	CHECK(has(a, n, "uuid:" ROOT, "uuid:" ROOT));
	CHECK(has(a, n, "uuid:" WAN, "uuid:" WAN));
	CHECK(has(a, n, "uuid:" CONN, "uuid:" CONN));
	CHECK(has(a, n, URN_D "InternetGatewayDevice:2", "uuid:" ROOT "::" URN_D
	    "InternetGatewayDevice:2"));
	CHECK(has(a, n, URN_D "InternetGatewayDevice:1", "uuid:" ROOT "::" URN_D
	    "InternetGatewayDevice:1"));
	CHECK(has(a, n, URN_D "WANDevice:2", "uuid:" WAN "::" URN_D "WANDevice:2"));
	CHECK(has(a, n, URN_D "WANDevice:1", "uuid:" WAN "::" URN_D "WANDevice:1"));
	CHECK(has(a, n, URN_D "WANConnectionDevice:2", "uuid:" CONN "::" URN_D
	    "WANConnectionDevice:2"));
	CHECK(has(a, n, URN_D "WANConnectionDevice:1", "uuid:" CONN "::" URN_D
	    "WANConnectionDevice:1"));
	CHECK(has(a, n, URN_S "Layer3Forwarding:1", "uuid:" ROOT "::" URN_S "Layer3Forwarding:1"));
	CHECK(has(a, n, URN_S "WANCommonInterfaceConfig:1", "uuid:" WAN "::" URN_S
	    "WANCommonInterfaceConfig:1"));
	CHECK(has(a, n, URN_S "WANIPConnection:2", "uuid:" CONN "::" URN_S "WANIPConnection:2"));
	CHECK(has(a, n, URN_S "WANIPConnection:1", "uuid:" CONN "::" URN_S "WANIPConnection:1"));
	/* the NOTIFY set is the same; a short out array is not overrun */
	CHECK_EQ(ssdp_announce_set(&sp, b, SSDP_NANS), 15);
	for (i = 0; i < 15; i++)
		CHECK_STR(b[i].usn, a[i].usn);
	CHECK_EQ(ssdp_answers(&sp, "ssdp:all", b, 3), 3);
	CHECK_EQ(ssdp_answers(&sp, URN_S "WANIPConnection:1", b, 0), 0);
}

/* upnp_igd_version = 1: only version-1 types are announced and answered. */
static void
test_igd_v1(void)
{
	struct ssdp_ans a[SSDP_NANS];
	size_t n, i;

	cfg.upnp_igd_version = CONF_IGD_V1;
	n = ssdp_answers(&sp, "ssdp:all", a, SSDP_NANS);
	CHECK_EQ(n, 11);
	for (i = 0; i < n; i++)
		CHECK(strstr(a[i].st, ":2") == NULL);
	CHECK(has(a, n, URN_D "InternetGatewayDevice:1", "uuid:" ROOT "::" URN_D
	    "InternetGatewayDevice:1"));
	CHECK(has(a, n, URN_S "WANIPConnection:1", "uuid:" CONN "::" URN_S "WANIPConnection:1"));
	CHECK(has(a, n, URN_S "WANIPv6FirewallControl:1", "uuid:" CONN "::" URN_S
	    "WANIPv6FirewallControl:1"));
	CHECK_EQ(ssdp_announce_set(&sp, a, SSDP_NANS), 11);
	one(URN_D "InternetGatewayDevice:1", "uuid:" ROOT "::" URN_D "InternetGatewayDevice:1");
	one(URN_D "WANConnectionDevice:1", "uuid:" CONN "::" URN_D "WANConnectionDevice:1");
	none(URN_D "InternetGatewayDevice:2");
	none(URN_D "WANDevice:2");
	none(URN_S "WANIPConnection:2");
	one("upnp:rootdevice", "uuid:" ROOT "::upnp:rootdevice");
	cfg.upnp_igd_version = CONF_IGD_V2;
	CHECK_EQ(ssdp_answers(&sp, "ssdp:all", a, SSDP_NANS), 15);
	one(URN_D "InternetGatewayDevice:1", "uuid:" ROOT "::" URN_D "InternetGatewayDevice:1");
	cfg.upnp_igd_version = CONF_IGD_AUTO;
}

/* ---- messages ---- */

static struct in6_addr
addr(const char *s)
{
	struct in6_addr a;

	CHECK_EQ(util_parse_addr(s, &a), 0);
	return a;
}

static size_t
format(enum ssdp_fmt f, const char *st, char *buf, size_t len)
{
	struct ssdp_ans a[SSDP_NANS];
	struct in6_addr local = addr("192.0.2.1");

	CHECK_EQ(ssdp_answers(&sp, st, a, SSDP_NANS), 1);
	return ssdp_format(&sp, f, &a[0], &local, SSDP_GROUP_V4, 0, buf, len);
}

/* The same with an IPv6 LOCATION address, to group g. */
static size_t
format6(enum ssdp_fmt f, const char *st, enum ssdp_group g, char *buf, size_t len)
{
	struct ssdp_ans a[SSDP_NANS];
	struct in6_addr local = addr("2001:db8:1::1");

	CHECK_EQ(ssdp_answers(&sp, st, a, SSDP_NANS), 1);
	return ssdp_format(&sp, f, &a[0], &local, g, 0, buf, len);
}

static void
test_format(void)
{
	char buf[SSDP_MSG_MAX], want[SSDP_MSG_MAX];
	struct ssdp_msg m;
	size_t n;

	n = format(SSDP_FMT_REPLY, URN_D "InternetGatewayDevice:1", buf, sizeof(buf));
	snprintf(want, sizeof(want), "HTTP/1.1 200 OK\r\n"
	    "CACHE-CONTROL: max-age=1800\r\n"
	    "DATE: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	    "EXT:\r\n"
	    "LOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n"
	    "SERVER: %s\r\n"
	    "ST: " URN_D "InternetGatewayDevice:1\r\n"
	    "USN: uuid:" ROOT "::" URN_D "InternetGatewayDevice:1\r\n"
	    "BOOTID.UPNP.ORG: 1700000000\r\n"
	    "CONFIGID.UPNP.ORG: 4242\r\n"
	    "\r\n", igd_server_string(&igd));
	CHECK_STR(buf, want);
	CHECK_EQ(n, strlen(want));
	CHECK_EQ(ssdp_parse(buf, n, 0, &m), SSDP_OK);
	CHECK_EQ(m.kind, SSDP_RESPONSE);
	format(SSDP_FMT_REPLY, URN_S "WANIPConnection:2", buf, sizeof(buf));
	CHECK(strstr(buf, "\r\nLOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n") != NULL);
	/* one LOCATION for every version: the HTTP server picks the description (igd.c) */
	format(SSDP_FMT_REPLY, URN_S "WANIPConnection:1", buf, sizeof(buf));
	CHECK(strstr(buf, "\r\nLOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n") != NULL);
	format(SSDP_FMT_REPLY, URN_S "Layer3Forwarding:1", buf, sizeof(buf));
	CHECK(strstr(buf, "\r\nLOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n") != NULL);
	/* alive */
	cfg.upnp_notify_interval = 1200;
	n = format(SSDP_FMT_ALIVE, "upnp:rootdevice", buf, sizeof(buf));
	snprintf(want, sizeof(want), "NOTIFY * HTTP/1.1\r\n"
	    "HOST: 239.255.255.250:1900\r\n"
	    "CACHE-CONTROL: max-age=2400\r\n"
	    "LOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n"
	    "NT: upnp:rootdevice\r\n"
	    "NTS: ssdp:alive\r\n"
	    "SERVER: %s\r\n"
	    "USN: uuid:" ROOT "::upnp:rootdevice\r\n"
	    "BOOTID.UPNP.ORG: 1700000000\r\n"
	    "CONFIGID.UPNP.ORG: 4242\r\n"
	    "\r\n", igd_server_string(&igd));
	CHECK_STR(buf, want);
	CHECK_EQ(ssdp_parse(buf, n, 1, &m), SSDP_OK);
	CHECK_EQ(m.kind, SSDP_NOTIFY);
	cfg.upnp_notify_interval = 900;
	/* byebye */
	format(SSDP_FMT_BYEBYE, "uuid:" WAN, buf, sizeof(buf));
	CHECK_STR(buf, "NOTIFY * HTTP/1.1\r\n"
	    "HOST: 239.255.255.250:1900\r\n"
	    "NT: uuid:" WAN "\r\n"
	    "NTS: ssdp:byebye\r\n"
	    "USN: uuid:" WAN "\r\n"
	    "BOOTID.UPNP.ORG: 1700000000\r\n"
	    "CONFIGID.UPNP.ORG: 4242\r\n"
	    "\r\n");
	/* too small a buffer: nothing */
	CHECK_EQ(format(SSDP_FMT_REPLY, "upnp:rootdevice", buf, 100), 0);
}

/* Over IPv6: a bracketed LOCATION, HOST the group sent to. */
static void
test_format6(void)
{
	char buf[SSDP_MSG_MAX], want[SSDP_MSG_MAX];
	struct ssdp_msg m;
	size_t n;

	n = format6(SSDP_FMT_REPLY, URN_D "InternetGatewayDevice:1", SSDP_GROUP_V4, buf,
	    sizeof(buf));
	snprintf(want, sizeof(want), "HTTP/1.1 200 OK\r\n"
	    "CACHE-CONTROL: max-age=1800\r\n"
	    "DATE: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	    "EXT:\r\n"
	    "LOCATION: http://[2001:db8:1::1]:5000/rootDesc.xml\r\n"
	    "SERVER: %s\r\n"
	    "ST: " URN_D "InternetGatewayDevice:1\r\n"
	    "USN: uuid:" ROOT "::" URN_D "InternetGatewayDevice:1\r\n"
	    "BOOTID.UPNP.ORG: 1700000000\r\n"
	    "CONFIGID.UPNP.ORG: 4242\r\n"
	    "\r\n", igd_server_string(&igd));
	CHECK_STR(buf, want);
	CHECK_EQ(ssdp_parse(buf, n, 0, &m), SSDP_OK);
	CHECK_EQ(m.kind, SSDP_RESPONSE);
	format6(SSDP_FMT_REPLY, URN_S "WANIPConnection:1", SSDP_GROUP_V4, buf, sizeof(buf));
	CHECK(strstr(buf, "\r\nLOCATION: http://[2001:db8:1::1]:5000/rootDesc.xml\r\n") != NULL);
	CHECK(strstr(buf, "\r\nST: " URN_S "WANIPConnection:1\r\n") != NULL);
	format6(SSDP_FMT_REPLY, URN_D "InternetGatewayDevice:2", SSDP_GROUP_V4, buf, sizeof(buf));
	CHECK(strstr(buf, "\r\nLOCATION: http://[2001:db8:1::1]:5000/rootDesc.xml\r\n") != NULL);
	/* NOTIFYs: the same NT, USN and IDs as over IPv4 */
	n = format6(SSDP_FMT_ALIVE, URN_D "InternetGatewayDevice:1", SSDP_GROUP_LINK, buf,
	    sizeof(buf));
	snprintf(want, sizeof(want), "NOTIFY * HTTP/1.1\r\n"
	    "HOST: [FF02::C]:1900\r\n"
	    "CACHE-CONTROL: max-age=1800\r\n"
	    "LOCATION: http://[2001:db8:1::1]:5000/rootDesc.xml\r\n"
	    "NT: " URN_D "InternetGatewayDevice:1\r\n"
	    "NTS: ssdp:alive\r\n"
	    "SERVER: %s\r\n"
	    "USN: uuid:" ROOT "::" URN_D "InternetGatewayDevice:1\r\n"
	    "BOOTID.UPNP.ORG: 1700000000\r\n"
	    "CONFIGID.UPNP.ORG: 4242\r\n"
	    "\r\n", igd_server_string(&igd));
	CHECK_STR(buf, want);
	CHECK_EQ(ssdp_parse(buf, n, 1, &m), SSDP_OK);
	CHECK_EQ(m.kind, SSDP_NOTIFY);
	format6(SSDP_FMT_ALIVE, "upnp:rootdevice", SSDP_GROUP_SITE, buf, sizeof(buf));
	CHECK(strncmp(buf, "NOTIFY * HTTP/1.1\r\nHOST: [FF05::C]:1900\r\n", 39) == 0);
	format6(SSDP_FMT_BYEBYE, "uuid:" WAN, SSDP_GROUP_SITE, buf, sizeof(buf));
	CHECK_STR(buf, "NOTIFY * HTTP/1.1\r\n"
	    "HOST: [FF05::C]:1900\r\n"
	    "NT: uuid:" WAN "\r\n"
	    "NTS: ssdp:byebye\r\n"
	    "USN: uuid:" WAN "\r\n"
	    "BOOTID.UPNP.ORG: 1700000000\r\n"
	    "CONFIGID.UPNP.ORG: 4242\r\n"
	    "\r\n");
	/* the longest IPv6 address still fits */
	{
		struct ssdp_ans a[SSDP_NANS];
		struct in6_addr l = addr("2001:db8:1111:2222:3333:4444:5555:6666");

		CHECK_EQ(ssdp_answers(&sp, URN_S "WANIPConnection:1", a, SSDP_NANS), 1);
		CHECK(ssdp_format(&sp, SSDP_FMT_ALIVE, &a[0], &l, SSDP_GROUP_SITE, 0, buf,
		    sizeof(buf)) > 0);
		CHECK(strstr(buf, "LOCATION: http://[2001:db8:1111:2222:3333:4444:5555:6666]:5000/"
		    "rootDesc.xml\r\n") != NULL);
	}
}

/* The lab's LAN: br-lan 192.0.2.1/24 and 2001:db8:1::1/64 (fe80::1); wan0 2001:db8:2::1. */
static struct netif *
lab_netif(void)
{
	struct pg_clock clk = tu_fake_clock(&fc);
	char *lan[1] = { (char *)"br-lan" };
	struct netif *n = netif_new(lan, 1, &clk);
	struct netif_prefix p[2];
	struct in6_addr local[5];

	memset(p, 0, sizeof(p));
	p[0].addr = addr("192.0.2.0");
	p[0].plen = 96 + 24;
	p[0].local = addr("192.0.2.1");
	p[1].addr = addr("2001:db8:1::");
	p[1].plen = 64;
	p[1].local = addr("2001:db8:1::1");
	p[0].ifindex = p[1].ifindex = 3;
	strcpy(p[0].ifname, "br-lan");
	strcpy(p[1].ifname, "br-lan");
	local[0] = p[0].local;
	local[1] = p[1].local;
	local[2] = addr("fe80::1");
	local[3] = addr("198.51.100.1");
	local[4] = addr("2001:db8:2::1");
	netif_set(n, p, 2, local, 5);
	return n;
}

/* What ssdp_check_addrs says of a datagram src:port -> dst (NULL: answered, *mcast set). */
static void
screen(struct netif *n, int v6, const char *src, uint16_t port, const char *dst, int mcast,
    const char *why)
{
	struct in6_addr s6 = addr(src), d6 = addr(dst);
	char buf[160];
	const char *got;
	int mc = -2;

	got = ssdp_check_addrs(n, v6, &s6, port, &d6, &mc, buf, sizeof(buf));
	if (why == NULL) {
		CHECK(got == NULL);
		CHECK_EQ(mc, mcast);
		if (got != NULL)
			fprintf(stderr, "  %s -> %s: %s\n", src, dst, got);
		return;
	}
	CHECK_STR(got, why);
}

static void
test_screen6(void)
{
	struct netif *n = lab_netif();

	/* searches from the LAN: a global source (ff05::c), a link-local one (ff02::c), unicast */
	screen(n, 1, "2001:db8:1::10", 40000, "ff05::c", 1, NULL);
	screen(n, 1, "2001:db8:1::10", 40000, "ff02::c", 1, NULL);
	screen(n, 1, "fe80::10", 40000, "ff02::c", 1, NULL);
	screen(n, 1, "2001:db8:1::10", 40000, "2001:db8:1::1", 0, NULL);
	screen(n, 1, "fe80::10", 40000, "fe80::1", 0, NULL);
	/* not from a LAN host */
	screen(n, 1, "2001:db8:2::100", 40000, "ff05::c", 0,
	    "2001:db8:2::100 is not inside a LAN subnet");
	screen(n, 1, "2001:db8:9::10", 40000, "ff02::c", 0,
	    "2001:db8:9::10 is not inside a LAN subnet");
	screen(n, 1, "2001:db8:1::1", 40000, "ff02::c", 0,
	    "2001:db8:1::1 is an address of the gateway itself");
	screen(n, 1, "2001:db8:2::1", 40000, "ff02::c", 0,
	    "2001:db8:2::1 is an address of the gateway itself");
	screen(n, 1, "fe80::1", 53, "ff02::c", 0, "an address of the gateway itself");
	screen(n, 1, "ff02::1", 40000, "ff02::c", 0, "ff02::1 is a multicast address");
	screen(n, 1, "::1", 40000, "ff02::c", 0, "::1 is a loopback address");
	screen(n, 1, "::", 40000, "ff02::c", 0, ":: is the unspecified address");
	screen(n, 1, "::ffff:192.0.2.10", 40000, "ff02::c", 0, "a v4-mapped source over IPv6");
	screen(n, 1, "2001:db8:1::10", 0, "ff02::c", 0, "source port 0");
	/* not sent to a group or to us */
	screen(n, 1, "2001:db8:1::10", 40000, "2001:db8:2::1", 0,
	    "not sent to ff02::c, ff05::c or to us");
	screen(n, 1, "2001:db8:1::10", 40000, "ff02::1", 0, "not sent to ff02::c, ff05::c or to us");
	screen(n, 1, "2001:db8:1::10", 40000, "ff0e::c", 0, "not sent to ff02::c, ff05::c or to us");
	screen(n, 1, "fe80::10", 40000, "fe80::99", 0, "not sent to ff02::c, ff05::c or to us");
	/* IPv4 as it was */
	screen(n, 0, "192.0.2.10", 40000, "239.255.255.250", 1, NULL);
	screen(n, 0, "192.0.2.10", 40000, "192.0.2.1", 0, NULL);
	screen(n, 0, "198.51.100.77", 40000, "239.255.255.250", 0,
	    "198.51.100.77 is not inside a LAN subnet");
	screen(n, 0, "192.0.2.10", 40000, "198.51.100.1", 0, "not sent to 239.255.255.250 or to us");
	screen(n, 0, "192.0.2.10", 40000, "2001:db8:1::1", 0, "not sent to 239.255.255.250 or to us");
	netif_free(n);
}

int
main(void)
{
	log_init(1, -2);
	setup();
	test_parse_good();
	test_parse_man();
	test_parse_mx();
	test_parse_st();
	test_parse_framing();
	test_answers();
	test_all();
	test_igd_v1();
	test_format();
	test_format6();
	test_screen6();
	return tu_done("test_ssdp");
}
