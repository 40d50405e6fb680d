/* util.c - small helpers shared by every module. */
#include "config.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <libmnl/libmnl.h>

#include "log.h"
#include "util.h"

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		fatal("calloc");
	return p;
}

/*
 * A large zeroed array that is mostly never touched (direct-indexed port
 * slots, Fenwick trees): its own anonymous mapping, so the kernel gives a
 * page only when one is written. From the heap, calloc may have to clear
 * it (memory freed back to the heap's top is not known to be zero) and
 * every page would be resident from the start.
 */
void *
xzmap(size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("xzmap: %zu x %zu bytes", n, size);
	p = mmap(NULL, n * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap");
	return p;
}

void
xzunmap(void *p, size_t n, size_t size)
{
	if (p != NULL)
		munmap(p, n * size);
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

int
util_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
util_parse_portrange(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[32];
	char *dash;
	unsigned long a, b;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash++ = '\0';
	if (util_parse_uint(buf, 1, 65535, &a) == -1)
		return -1;
	b = a;
	if (dash != NULL && util_parse_uint(dash, 1, 65535, &b) == -1)
		return -1;
	if (b < a)
		return -1;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int
util_parse_addr(const char *s, struct in6_addr *out)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		memset(out, 0, sizeof(*out));
		out->s6_addr[10] = 0xff;
		out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12], &v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	return -1;
}

int
util_parse_endpoint6(const char *s, struct in6_addr *addr, uint16_t *port)
{
	char buf[INET6_ADDRSTRLEN + 2];
	const char *close;
	unsigned long p;
	size_t n;

	if (s[0] != '[' || (close = strchr(s, ']')) == NULL || close[1] != ':')
		return -1;
	n = (size_t)(close - s - 1);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s + 1, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, addr) != 1 || util_addr_is_v4(addr) ||
	    util_parse_uint(close + 2, 1, 65535, &p) == -1)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

int
util_addr_is_v4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

const char *
util_addr_str(const struct in6_addr *a, char *buf, size_t len)
{
	if (util_addr_is_v4(a))
		inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	return buf;
}

int
util_split(char *s, char **argv, int max)
{
	int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(s, " \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		argv[n++] = tok;
	}
	return n;
}

int
util_pct_encode(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == '%' || *p == 0x7f) {
			if (o + 3 >= len)
				return -1;
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			if (o + 1 >= len)
				return -1;
			out[o++] = (char)*p;
		}
	}
	if (o == 0) {		/* an empty argument travels as "%00"-free "%" marker */
		if (len < 3)
			return -1;
		out[o++] = '%';
		out[o++] = '-';
	}
	out[o] = '\0';
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
util_pct_decode(char *s)
{
	char *r = s, *w = s;
	int hi, lo;

	if (strcmp(s, "%-") == 0) {
		*s = '\0';
		return 0;
	}
	while (*r != '\0') {
		if (*r != '%') {
			*w++ = *r++;
			continue;
		}
		if ((hi = hexval(r[1])) < 0 || (lo = hexval(r[2])) < 0)
			return -1;
		if (hi == 0 && lo == 0)
			return -1;
		*w++ = (char)(hi << 4 | lo);
		r += 3;
	}
	*w = '\0';
	return 0;
}

size_t
util_utf8_next(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n, i;
	uint32_t c;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, c = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, c = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and beyond U+10FFFF are not UTF-8 */
	if (c < min[n] || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

const char *
util_text_problem(const char *s, size_t len, size_t max)
{
	uint32_t cp;
	size_t i, n;

	if (len > max)
		return "too long";
	for (i = 0; i < len; i += n) {
		if ((n = util_utf8_next(s + i, len - i, &cp)) == 0)
			return "not valid UTF-8";
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return "contains a control character";
	}
	return NULL;
}

void
util_utf8_copy(char *dst, size_t dstlen, const char *src)
{
	size_t len = strlen(src), i = 0, n;
	uint32_t cp;

	if (dstlen == 0)
		return;
	while (i < len && (n = util_utf8_next(src + i, len - i, &cp)) != 0 && i + n < dstlen)
		i += n;
	memcpy(dst, src, i);
	dst[i] = '\0';
}

int
util_nl_frames_ok(const void *buf, size_t len)
{
	struct nlmsghdr nlh;
	size_t off = 0, mlen;

	if (((uintptr_t)buf & (NLMSG_ALIGNTO - 1)) != 0)
		return 0;	/* libmnl reads headers in place */
	while (off < len) {
		if (len - off < sizeof(nlh))
			return 0;
		memcpy(&nlh, (const char *)buf + off, sizeof(nlh));
		mlen = nlh.nlmsg_len;
		if (mlen < sizeof(nlh) || mlen > len - off)
			return 0;
		mlen = NLMSG_ALIGN(mlen);
		off += mlen < len - off ? mlen : len - off;
	}
	return 1;
}

int
util_rtnl_dump(uint16_t type, uint8_t family, size_t hdrlen,
    int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct timeval tv = { 1, 0 };
	uint32_t seq = (uint32_t)time(NULL), portid;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint8_t *extra;
	int rc = MNL_CB_OK, rounds = 0;
	ssize_t n;

	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL)
		return MNL_CB_ERROR;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return MNL_CB_ERROR;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	extra = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	extra[0] = family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		rc = MNL_CB_ERROR;
	while (rc > MNL_CB_STOP && rounds++ < 4096) {
		if ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) <= 0 ||
		    !util_nl_frames_ok(buf, (size_t)n)) {
			rc = MNL_CB_ERROR;
			break;
		}
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, cb, arg);
	}
	mnl_socket_close(nl);
	return rc;
}

uint64_t
util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* s[0..len) as a JSON string: always valid JSON (invalid UTF-8 becomes U+FFFD). */
void
util_json_str(struct evbuffer *b, const char *s, size_t len)
{
	size_t i, n;
	uint32_t cp;

	evbuffer_add(b, "\"", 1);
	for (i = 0; i < len; i += n ? n : 1) {
		if ((n = util_utf8_next(s + i, len - i, &cp)) == 0)
			evbuffer_add_printf(b, "\\ufffd");
		else if (cp == '"' || cp == '\\')
			evbuffer_add_printf(b, "\\%c", (char)cp);
		else if (cp < 0x20 || cp == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", (unsigned)cp);
		else if (cp == 0x2028 || cp == 0x2029)	/* JSON allows them; JavaScript once did not */
			evbuffer_add_printf(b, "\\u%04x", (unsigned)cp);
		else
			evbuffer_add(b, s + i, n);
	}
	evbuffer_add(b, "\"", 1);
}

int
util_uuid_ok(const char *u)
{
	size_t i;

	if (strlen(u) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return 0;
		} else if (!((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f') ||
		    (u[i] >= 'A' && u[i] <= 'F')))
			return 0;
	}
	return 1;
}
