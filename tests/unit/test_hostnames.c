/* test_hostnames.c - lease files in (dnsmasq's, odhcpd's; real, hostile), names and MACs out. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hostnames.h"
#include "log.h"
#include "neigh.h"
#include "testutil.h"
#include "util.h"

static struct fake_clock fc = { 1000 };
static struct pg_clock clk;

static struct in6_addr
addr(const char *s)
{
	struct in6_addr a;

	memset(&a, 0, sizeof(a));
	if (util_parse_addr(s, &a) == -1)
		fprintf(stderr, "test: bad address %s\n", s);
	return a;
}

/* The name of ip, or "(none)". */
static const char *
name(const struct hostnames *hn, const char *ip)
{
	struct in6_addr a = addr(ip);
	const char *n = hostnames_name(hn, &a);

	return n != NULL ? n : "(none)";
}

/* The MAC of ip as text, or "(none)" (static buffer). */
static const char *
mac(const struct hostnames *hn, const char *ip)
{
	static char buf[18];
	struct in6_addr a = addr(ip);
	uint8_t m[6];

	if (!hostnames_mac(hn, &a, m))
		return "(none)";
	return hostnames_mac_str(m, buf, sizeof(buf));
}

static int
parse(struct hostnames *hn, enum hn_format f, const char *text)
{
	return hostnames_parse(hn, f, text, strlen(text));
}

/* dnsmasq's lease file as lease_update_file writes it: IPv4, the DUID line, then IPv6. */
static void
test_dnsmasq_real(struct hostnames *hn)
{
	static const char text[] =
	    "1893456000 02:00:00:00:00:0a 192.0.2.10 alice 01:02:00:00:00:00:0a\n"
	    "0 02:00:00:00:00:0b 192.0.2.11 * *\n"
	    "1893456000 00:16:3e:aa:bb:cc 192.0.2.12 bob-PC.home ff:56:50:4d:98:00:02:00:00\n"
	    "1893456000 06-00:16:3e:aa:bb:cd 192.0.2.13 tokenring *\n"
	    "duid 00:01:00:01:2c:5f:7c:0e:02:00:00:00:00:01\n"
	    "1893456000 1234567 2001:db8:1::10 alice6 00:01:00:01:2c:5f:7c:0e:02:00:00:00:00:0a\n"
	    "1893456000 T99 2001:db8:1::99 temp *\n";

	CHECK_EQ(parse(hn, HN_FMT_DNSMASQ, text), 6);
	CHECK_STR(name(hn, "192.0.2.10"), "alice");
	CHECK_STR(mac(hn, "192.0.2.10"), "02:00:00:00:00:0a");
	CHECK_STR(name(hn, "192.0.2.11"), "(none)");	/* '*': no name, an infinite lease */
	CHECK_STR(mac(hn, "192.0.2.11"), "02:00:00:00:00:0b");
	CHECK_STR(name(hn, "192.0.2.12"), "bob-PC.home");
	CHECK_STR(name(hn, "192.0.2.13"), "tokenring");
	CHECK_STR(mac(hn, "192.0.2.13"), "(none)");	/* not Ethernet */
	CHECK_STR(name(hn, "2001:db8:1::10"), "alice6");
	CHECK_STR(mac(hn, "2001:db8:1::10"), "(none)");	/* an IAID is no MAC */
	CHECK_STR(name(hn, "2001:db8:1::99"), "temp");
	CHECK_STR(name(hn, "192.0.2.99"), "(none)");
	CHECK_STR(name(hn, "::ffff:192.0.2.10"), "alice");	/* the same address, IPv4-mapped */
}

/* odhcpd's statefile: "# " lines for DHCPv6 and DHCPv4, as old and new versions write them. */
static void
test_odhcpd_real(struct hostnames *hn)
{
	static const char text[] =
	    /* new (2025-): addresses after one space each, MAC as ether_ntoa */
	    "# br-lan 000100012c5f7c0e0200000000aa 9a2b3c4d alice6 1893456000 a1b2 128 "
	    "2001:db8:1::10/128 2001:db8:1::1a/128\n"
	    "# br-lan 000100012c5f7c0e0200000000aa 1 - -1 ff 56 2001:db8:100::/56\n"
	    "# br-lan 2:0:0:0:0:a ipv4 alice 1893456000 c000020a 32 192.0.2.10/32\n"
	    /* old: hosts lines first, the lease line with a trailing space, MAC as 12 hex digits */
	    "192.0.2.11\tbob.lan\tbob\n"
	    "# br-lan 0200000000bb ipv4 bob -1 c000020b 32 192.0.2.11/32 \n"
	    "192.0.2.99\tghost\n"
	    "# br-lan 0200000000cc ipv4 broken\\x20ca$h 1893456000 c000020c 32 192.0.2.12/32\n"
	    "# br-lan 0200000000dd ipv4 bad\\x0a\\x3cscript 1893456000 c000020d 32 192.0.2.13/32\n"
	    "# br-lan 00010001 5 old 0 0 128 2001:db8:1::50/128\n"
	    "# br-lan 00010001 6 gone 1000000000 0 128 2001:db8:1::51/128\n"
	    "# br-lan 00010001 7 mixed -1 0 128 192.0.2.60/32 2001:db8:1::60/128\n";

	CHECK_EQ(parse(hn, HN_FMT_ODHCPD, text), 7);
	CHECK_STR(name(hn, "2001:db8:1::10"), "alice6");
	CHECK_STR(name(hn, "2001:db8:1::1a"), "alice6");	/* every address of the lease */
	CHECK_STR(name(hn, "2001:db8:100::"), "(none)");	/* a delegated prefix is no host */
	CHECK_STR(name(hn, "192.0.2.10"), "alice");
	CHECK_STR(mac(hn, "192.0.2.10"), "02:00:00:00:00:0a");
	CHECK_STR(name(hn, "192.0.2.11"), "bob");
	CHECK_STR(mac(hn, "192.0.2.11"), "02:00:00:00:00:bb");
	CHECK_STR(name(hn, "192.0.2.99"), "(none)");	/* a hosts line is not a lease */
	CHECK_STR(name(hn, "192.0.2.12"), "(none)");	/* odhcpd's "broken" name */
	CHECK_STR(mac(hn, "192.0.2.12"), "02:00:00:00:00:cc");
	CHECK_STR(name(hn, "192.0.2.13"), "(none)");	/* an escaped newline and '<' */
	CHECK_STR(name(hn, "2001:db8:1::50"), "(none)");	/* valid 0: expired */
	CHECK_STR(name(hn, "2001:db8:1::51"), "(none)");	/* expired in 2001 */
	CHECK_STR(name(hn, "2001:db8:1::60"), "mixed");
	CHECK_STR(name(hn, "192.0.2.60"), "(none)");	/* an IPv4 address on a DHCPv6 line */
	CHECK_STR(mac(hn, "2001:db8:1::10"), "(none)");
}

/* Names that are no DNS name are no name; the rest of their lease stays. */
static void
test_hostile_names(struct hostnames *hn)
{
	static const char *const bad[] = {
		"\x1b[2J\x1b]0;owned\x07", "caf\xc3\xa9", "bad\xff\xfe", "$(reboot)", "`id`",
		"a;b", "a|b", "<img", "a&b", "\"x\"", "'x'", "a\\b", "my_host", "a..b", ".a", "a.",
		"-", "-rf", "a-.b", "x\x7f", "%s%n",
	};
	char text[4096], big[300];
	size_t i, n = 0;

	for (i = 0; i < PG_NELEM(bad); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "0 02:00:00:00:01:%02zx 192.0.2.%zu %s *\n", i, 100 + i, bad[i]);
	/* a label of 64, and a name of 254 (labels of 63 and a dot, four times, and one more) */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "0 02:00:00:00:02:01 192.0.2.201 "
	    "%.64s *\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	memset(big, 'b', sizeof(big));
	for (i = 63; i < 253; i += 64)
		big[i] = '.';
	big[253] = '\0';	/* 253 bytes: the longest name */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "0 02:00:00:00:02:02 192.0.2.202 %s *\n",
	    big);
	big[253] = 'b';
	big[254] = '\0';	/* 254 bytes: one too many */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "0 02:00:00:00:02:03 192.0.2.203 %s *\n",
	    big);
	snprintf(text + n, sizeof(text) - n, "0 02:00:00:00:02:04 192.0.2.204 %.63s *\n",
	    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	CHECK_EQ(parse(hn, HN_FMT_DNSMASQ, text), (int)PG_NELEM(bad) + 4);
	for (i = 0; i < PG_NELEM(bad); i++) {
		char ip[16];

		snprintf(ip, sizeof(ip), "192.0.2.%zu", 100 + i);
		CHECK_STR(name(hn, ip), "(none)");
		CHECK(strcmp(mac(hn, ip), "(none)") != 0);
	}
	CHECK_STR(name(hn, "192.0.2.201"), "(none)");
	big[253] = '\0';
	CHECK_STR(name(hn, "192.0.2.202"), big);
	CHECK_STR(name(hn, "192.0.2.203"), "(none)");
	CHECK_EQ(strlen(name(hn, "192.0.2.204")), 63);
}

/* Expired leases are none; the newest of two for one address wins. */
static void
test_expiry_and_duplicates(struct hostnames *hn)
{
	char text[1024];
	long long now = (long long)time(NULL);

	snprintf(text, sizeof(text),
	    "1000000000 02:00:00:00:00:01 192.0.2.20 old *\n"		/* 2001 */
	    "%lld 02:00:00:00:00:02 192.0.2.21 soon *\n"		/* expired a second ago */
	    "86400 02:00:00:00:00:03 192.0.2.22 rtc *\n"		/* HAVE_BROKEN_RTC */
	    "%lld 02:00:00:00:00:04 192.0.2.30 newer *\n"
	    "%lld 02:00:00:00:00:05 192.0.2.30 older *\n"
	    "%lld 02:00:00:00:00:06 192.0.2.31 first *\n"
	    "%lld 02:00:00:00:00:07 192.0.2.31 second *\n"		/* a tie: the later line */
	    "0 02:00:00:00:00:08 192.0.2.32 forever *\n"
	    "%lld 02:00:00:00:00:09 192.0.2.32 later *\n",
	    now - 1, now + 7200, now + 3600, now + 3600, now + 3600, now + 999999);
	CHECK_EQ(parse(hn, HN_FMT_DNSMASQ, text), 4);
	CHECK_STR(name(hn, "192.0.2.20"), "(none)");
	CHECK_STR(mac(hn, "192.0.2.20"), "(none)");
	CHECK_STR(name(hn, "192.0.2.21"), "(none)");
	CHECK_STR(name(hn, "192.0.2.22"), "rtc");
	CHECK_STR(name(hn, "192.0.2.30"), "newer");
	CHECK_STR(mac(hn, "192.0.2.30"), "02:00:00:00:00:04");
	CHECK_STR(name(hn, "192.0.2.31"), "second");
	CHECK_STR(name(hn, "192.0.2.32"), "forever");	/* infinite is newest */
	/* a lease that expires while the file stays as it is: gone when asked */
	snprintf(text, sizeof(text), "%lld 02:00:00:00:00:0a 192.0.2.40 brief *\n", now + 2);
	CHECK_EQ(parse(hn, HN_FMT_DNSMASQ, text), 1);
	CHECK_STR(name(hn, "192.0.2.40"), "brief");
	sleep(3);
	CHECK_STR(name(hn, "192.0.2.40"), "(none)");
	CHECK_STR(mac(hn, "192.0.2.40"), "(none)");
}

/* Lines that are not leases, too long, cut, with CR or NUL: skipped, the others taken. */
static void
test_malformed(struct hostnames *hn)
{
	static const char text[] =
	    "0 02:00:00:00:00:01 192.0.2.10 one *\r\n"			/* CRLF */
	    "0 02:00:00:00:00:02 192.0.2.11\n"				/* too few fields */
	    "soon 02:00:00:00:00:03 192.0.2.12 three *\n"
	    "-5 02:00:00:00:00:04 192.0.2.13 four *\n"
	    "0 02:00:00:00:00:05 192.0.2.300 five *\n"
	    "99999999999999999999 02:00:00:00:00:06 192.0.2.14 six *\n"
	    "0 02:00:00:00:00:07 192.0.2.15 se\0ven *\n"			/* NUL */
	    "\n"
	    "   \t  \n"
	    "0\t02:00:00:00:00:08\t192.0.2.16\teight\t*\n"		/* tabs */
	    "0 2:0:0:0:0 192.0.2.17 nine *\n"				/* a short MAC */
	    "0 02:00:00:00:00:00:0a 192.0.2.18 ten *\n"		/* a long one */
	    "0 00:00:00:00:00:00 192.0.2.19 eleven *\n"		/* zero */
	    "0 02:00:00:00:00:0c 192.0.2.20 twelve";			/* cut: no newline */
	char *huge;
	size_t n = 0;

	CHECK_EQ(hostnames_parse(hn, HN_FMT_DNSMASQ, text, sizeof(text) - 1), 5);
	CHECK_STR(name(hn, "192.0.2.10"), "one");
	CHECK_STR(mac(hn, "192.0.2.10"), "02:00:00:00:00:01");
	CHECK_STR(name(hn, "192.0.2.11"), "(none)");
	CHECK_STR(name(hn, "192.0.2.12"), "(none)");
	CHECK_STR(name(hn, "192.0.2.13"), "(none)");
	CHECK_STR(name(hn, "192.0.2.14"), "(none)");
	CHECK_STR(name(hn, "192.0.2.15"), "(none)");
	CHECK_STR(name(hn, "192.0.2.16"), "eight");
	CHECK_STR(name(hn, "192.0.2.17"), "nine");
	CHECK_STR(mac(hn, "192.0.2.17"), "(none)");
	CHECK_STR(mac(hn, "192.0.2.18"), "(none)");
	CHECK_STR(mac(hn, "192.0.2.19"), "(none)");
	CHECK_STR(name(hn, "192.0.2.20"), "(none)");	/* the writer is not done with it */

	/* a 100 kB line, then a good one; a line of HN_LINE_MAX is still read */
	huge = malloc(200000);
	memset(huge, 'x', 100000);
	n = 100000;
	n += (size_t)sprintf(huge + n, "\n0 02:00:00:00:00:0d 192.0.2.21 after *\n");
	n += (size_t)sprintf(huge + n, "0 02:00:00:00:00:0e 192.0.2.22 maxline *");
	memset(huge + n, ' ', HN_LINE_MAX - 40);
	n += HN_LINE_MAX - 40;
	huge[n++] = '\n';
	n += (size_t)sprintf(huge + n, "0 02:00:00:00:00:0f 192.0.2.23 overline *");
	memset(huge + n, ' ', HN_LINE_MAX);
	n += HN_LINE_MAX;
	huge[n++] = '\n';
	CHECK_EQ(hostnames_parse(hn, HN_FMT_DNSMASQ, huge, n), 2);
	CHECK_STR(name(hn, "192.0.2.21"), "after");
	CHECK_STR(name(hn, "192.0.2.22"), "maxline");
	CHECK_STR(name(hn, "192.0.2.23"), "(none)");
	/* odhcpd: short lines, bad numbers and addresses */
	CHECK_EQ(parse(hn, HN_FMT_ODHCPD, "#\n# br-lan x\n# a b ipv4 n x c 32 192.0.2.1/32\n"
	    "# a b ipv4 n -2 c 32 192.0.2.2/32\n# a b ipv4 n -1 c 32 192.0.2.3\n"
	    "# a b ipv4 n -1 c 32 192.0.2.4/x 192.0.2.5/32 nonsense/32\n"), 1);
	CHECK_STR(name(hn, "192.0.2.5"), "n");
	free(huge);
}

/* At most HN_LEASES_MAX addresses per file: the rest are not read. */
static void
test_bounds(struct hostnames *hn)
{
	size_t cap = (HN_LEASES_MAX + 100) * 64, n = 0, i;
	char *text = malloc(cap);

	for (i = 0; i < HN_LEASES_MAX + 100; i++)
		n += (size_t)snprintf(text + n, cap - n, "0 02:00:00:%02zx:%02zx:%02zx "
		    "2001:db8:1::%zx h%zu *\n", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff,
		    i + 1, i);
	CHECK_EQ(hostnames_parse(hn, HN_FMT_DNSMASQ, text, n), HN_LEASES_MAX);
	CHECK_STR(name(hn, "2001:db8:1::1"), "h0");
	CHECK_STR(name(hn, "2001:db8:1::4000"), "h16383");
	CHECK_STR(name(hn, "2001:db8:1::4001"), "(none)");
	free(text);
}

static char nlbuf[512];

/* One RTM_NEWNEIGH into nlbuf; its length. */
static size_t
neigh_msg(const char *ip, const char *m)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nlbuf);
	struct ndmsg *nd;
	uint8_t a[4], mm[6];

	nlh->nlmsg_type = RTM_NEWNEIGH;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_state = NUD_REACHABLE;
	inet_pton(AF_INET, ip, a);
	mnl_attr_put(nlh, NDA_DST, 4, a);
	sscanf(m, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mm[0], &mm[1], &mm[2], &mm[3], &mm[4], &mm[5]);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mm);
	return nlh->nlmsg_len;
}

/* The neighbour table's MAC comes first: it is who holds the address now. */
static void
test_neigh_first(struct hostnames *hn)
{
	struct neigh *nb = neigh_new_detached(&clk);

	CHECK_EQ(parse(hn, HN_FMT_DNSMASQ, "0 02:00:00:00:00:0a 192.0.2.10 alice *\n"), 1);
	hostnames_set_neigh(hn, nb);
	CHECK_STR(mac(hn, "192.0.2.10"), "02:00:00:00:00:0a");
	neigh_handle_msg(nb, nlbuf, neigh_msg("192.0.2.10", "02:00:00:00:99:99"));
	neigh_handle_msg(nb, nlbuf, neigh_msg("192.0.2.77", "02:00:00:00:77:77"));
	CHECK_STR(mac(hn, "192.0.2.10"), "02:00:00:00:99:99");
	CHECK_STR(mac(hn, "192.0.2.77"), "02:00:00:00:77:77");	/* no lease: the MAC still */
	CHECK_STR(name(hn, "192.0.2.77"), "(none)");
	hostnames_set_neigh(hn, NULL);
	neigh_free(nb);
	CHECK_STR(mac(hn, "192.0.2.10"), "02:00:00:00:00:0a");
	CHECK(hostnames_name(NULL, NULL) == NULL);
	CHECK_EQ(hostnames_mac(NULL, NULL, NULL), 0);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* Set a file's mtime some seconds in the past (a file nobody is writing). */
static void
age(const char *path, long secs)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= secs;
	ts[1] = ts[0];
	CHECK_EQ(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static char status_text[1024];

static void status_line(void *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
status_line(void *arg, const char *key, const char *fmt, ...)
{
	size_t n = strlen(status_text);
	va_list ap;

	(void)arg;
	n += (size_t)snprintf(status_text + n, sizeof(status_text) - n, "%s ", key);
	va_start(ap, fmt);
	n += (size_t)vsnprintf(status_text + n, sizeof(status_text) - n, fmt, ap);
	va_end(ap);
	snprintf(status_text + n, sizeof(status_text) - n, "\n");
}

static const char *
status(const struct hostnames *hn)
{
	status_text[0] = '\0';
	hostnames_status(hn, status_line, NULL);
	return status_text;
}

/* The files: read at once, again when changed (in place, renamed over), kept a while when gone. */
static void
test_files(void)
{
	const char *dir = tu_tmpdir();
	char dpath[512], opath[512], tmp[512];
	struct hn_file files[2];
	struct hostnames *hn;

	snprintf(dpath, sizeof(dpath), "%s/dnsmasq.leases", dir);
	snprintf(opath, sizeof(opath), "%s/odhcpd", dir);
	snprintf(tmp, sizeof(tmp), "%s/.odhcpd", dir);
	files[0].format = HN_FMT_DNSMASQ;
	files[0].path = dpath;
	files[1].format = HN_FMT_ODHCPD;
	files[1].path = opath;
	write_file(dpath, "0 02:00:00:00:00:0a 192.0.2.10 alice *\n");
	age(dpath, 100);
	hn = hostnames_new(NULL, files, 2, &clk);	/* odhcpd's is not there yet */
	CHECK_STR(name(hn, "192.0.2.10"), "alice");
	CHECK(strncmp(status(hn), "dhcp_leases dnsmasq:", 20) == 0);
	CHECK(strstr(status_text, "/dnsmasq.leases 1\ndhcp_leases odhcpd:") != NULL);
	CHECK(strstr(status_text, "/odhcpd 0 unreadable\n") != NULL);
	/* rewritten in place, as dnsmasq does, to the same size: its mtime says */
	write_file(dpath, "0 02:00:00:00:00:0a 192.0.2.10 alicf *\n");
	age(dpath, 50);
	hostnames_poll(hn);
	CHECK_STR(name(hn, "192.0.2.10"), "alicf");
	/* odhcpd's appears, renamed over as odhcpd does */
	write_file(tmp, "# br-lan 0200000000bb ipv4 bob -1 c000020b 32 192.0.2.11/32\n");
	CHECK_EQ(rename(tmp, opath), 0);
	hostnames_poll(hn);
	CHECK_STR(name(hn, "192.0.2.11"), "bob");
	write_file(tmp, "# br-lan 0200000000bb ipv4 robert -1 c000020b 32 192.0.2.11/32\n");
	CHECK_EQ(rename(tmp, opath), 0);
	hostnames_poll(hn);
	CHECK_STR(name(hn, "192.0.2.11"), "robert");
	/* gone: the names stay HN_GONE_KEEP_S, then go; they come back with the file */
	unlink(dpath);
	hostnames_poll(hn);
	CHECK_STR(name(hn, "192.0.2.10"), "alicf");
	fc.now += (HN_GONE_KEEP_S - 1) * 1000;
	hostnames_poll(hn);
	CHECK_STR(name(hn, "192.0.2.10"), "alicf");
	CHECK(strstr(status(hn), "/dnsmasq.leases 1 unreadable\n") != NULL);
	fc.now += 2000;
	hostnames_poll(hn);
	CHECK_STR(name(hn, "192.0.2.10"), "(none)");
	CHECK_STR(name(hn, "192.0.2.11"), "robert");	/* the other file is another matter */
	write_file(dpath, "0 02:00:00:00:00:0a 192.0.2.10 alice *\n");
	hostnames_poll(hn);
	CHECK_STR(name(hn, "192.0.2.10"), "alice");
	/* a FIFO in its place is not opened (it would block the loop) */
	unlink(dpath);
	CHECK_EQ(mkfifo(dpath, 0600), 0);
	hostnames_poll(hn);
	CHECK_STR(name(hn, "192.0.2.10"), "alice");
	unlink(dpath);
	hostnames_free(hn);

	/* larger than HN_FILE_MAX: its first HN_FILE_MAX bytes are read */
	{
		FILE *f = fopen(dpath, "w");
		size_t n;

		CHECK(f != NULL);
		fputs("0 02:00:00:00:00:0a 192.0.2.10 first *\n", f);
		for (n = 0; n < HN_FILE_MAX / 64 + 10; n++)
			fprintf(f, "# %61zu\n", n);
		fputs("0 02:00:00:00:00:0b 192.0.2.11 last *\n", f);
		fclose(f);
		hn = hostnames_new(NULL, files, 1, &clk);
		CHECK_STR(name(hn, "192.0.2.10"), "first");
		CHECK_STR(name(hn, "192.0.2.11"), "(none)");
		hostnames_free(hn);
		unlink(dpath);
	}
	unlink(opath);
	rmdir(dir);
}

int
main(void)
{
	struct hostnames *hn;

	log_setverbose(-2);
	clk = tu_fake_clock(&fc);
	hn = hostnames_new(NULL, NULL, 0, &clk);
	CHECK_STR(status(hn), "dhcp_leases none\n");
	CHECK_EQ(hostnames_format_parse("dnsmasq"), HN_FMT_DNSMASQ);
	CHECK_EQ(hostnames_format_parse("odhcpd"), HN_FMT_ODHCPD);
	CHECK_EQ(hostnames_format_parse("isc"), -1);
	CHECK_STR(hostnames_format_name(HN_FMT_ODHCPD), "odhcpd");
	test_dnsmasq_real(hn);
	test_odhcpd_real(hn);
	test_hostile_names(hn);
	test_expiry_and_duplicates(hn);
	test_malformed(hn);
	test_bounds(hn);
	test_neigh_first(hn);
	hostnames_free(hn);
	test_files();
	return tu_done("test_hostnames");
}
