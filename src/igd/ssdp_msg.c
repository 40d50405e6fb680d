/*
 * ssdp_msg.c - SSDP's messages (UDA 1.1, section 1, and annex A): the
 * datagram parser, the answers to a search, the responses and NOTIFYs we
 * send, and the address checks a search must pass. Pure: no socket, no
 * timer, no state; ssdp.c receives, schedules and sends.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "daemon.h"
#include "igd/igd_service.h"
#include "igd/ssdp_msg.h"
#include "netif.h"
#include "util.h"

#define SSDP_MAX_AGE_MIN	1800		/* seconds (UDA 1.1 recommends at least 1800) */

/* ---- parsing ---- */

struct ssdp_pstate {
	struct ssdp_msg	*out;
	int		 multicast;
	int		 seen_man;
	int		 seen_mx;
	int		 seen_st;
};

typedef enum ssdp_perr ssdp_hdr_fn(struct ssdp_pstate *, const char *val, size_t vlen);

static enum ssdp_perr
ssdp_h_man(struct ssdp_pstate *ps, const char *val, size_t vlen)
{
	static const char want[] = "\"ssdp:discover\"";

	if (ps->seen_man++ || vlen != sizeof(want) - 1 || memcmp(val, want, vlen) != 0)
		return SSDP_ERR_MAN;
	return SSDP_OK;
}

/* A decimal MX of at least 1, capped at SSDP_MX_MAX; -1 if it is not one. */
static int
ssdp_mx_value(const char *val, size_t vlen)
{
	unsigned v = 0;
	size_t i;

	if (vlen == 0)
		return -1;
	for (i = 0; i < vlen; i++) {
		if (val[i] < '0' || val[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(val[i] - '0');
		if (v > SSDP_MX_MAX)
			v = SSDP_MX_MAX + 1;	/* saturate: only "more than the cap" matters */
	}
	if (v == 0)
		return -1;
	return v > SSDP_MX_MAX ? SSDP_MX_MAX : (int)v;
}

/* A unicast search is answered at once (UDA 1.1): its MX is only recorded. */
static enum ssdp_perr
ssdp_h_mx(struct ssdp_pstate *ps, const char *val, size_t vlen)
{
	int mx = ssdp_mx_value(val, vlen);

	if (ps->seen_mx++)
		return ps->multicast ? SSDP_ERR_MX : SSDP_OK;
	if (mx == -1)
		return ps->multicast ? SSDP_ERR_MX : SSDP_OK;
	ps->out->mx = (unsigned)mx;
	ps->out->has_mx = 1;
	return SSDP_OK;
}

static enum ssdp_perr
ssdp_h_st(struct ssdp_pstate *ps, const char *val, size_t vlen)
{
	size_t i;

	if (ps->seen_st++ || vlen == 0 || vlen >= SSDP_ST_MAX)
		return SSDP_ERR_ST;
	for (i = 0; i < vlen; i++)
		if ((unsigned char)val[i] <= 0x20 || (unsigned char)val[i] >= 0x7f)
			return SSDP_ERR_ST;
	memcpy(ps->out->st, val, vlen);
	ps->out->st[vlen] = '\0';
	return SSDP_OK;
}

/* The headers an M-SEARCH is read for; the others are only checked for form. */
static const struct {
	const char	*name;
	ssdp_hdr_fn	*fn;
} ssdp_hdrs[] = {
	{ "MAN", ssdp_h_man },
	{ "MX", ssdp_h_mx },
	{ "ST", ssdp_h_st },
};

/* The next line from *off: its length without CRLF or LF; -1 if no LF is left. */
static int
ssdp_line(const char *buf, size_t len, size_t *off, const char **line, size_t *llen)
{
	const char *p = buf + *off, *nl = memchr(p, '\n', len - *off);

	if (nl == NULL)
		return -1;
	*line = p;
	*llen = (size_t)(nl - p);
	if (*llen > 0 && p[*llen - 1] == '\r')
		(*llen)--;
	*off = (size_t)(nl - buf) + 1;
	return 0;
}

static int
ssdp_has_ctl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return 1;
	return 0;
}

/* A response's status line: "HTTP/1.1 NNN" and an optional reason. */
static int
ssdp_is_status(const char *l, size_t len)
{
	static const char v[] = "HTTP/1.1 ";
	size_t n = sizeof(v) - 1, i;

	if (len < n + 3 || memcmp(l, v, n) != 0)
		return 0;
	for (i = n; i < n + 3; i++)
		if (l[i] < '0' || l[i] > '9')
			return 0;
	return len == n + 3 || l[n + 3] == ' ';
}

static enum ssdp_perr
ssdp_start_line(const char *l, size_t len, enum ssdp_kind *kind)
{
	static const struct {
		const char	*line;
		enum ssdp_kind	 kind;
	} starts[] = {
		{ "M-SEARCH * HTTP/1.1", SSDP_MSEARCH },
		{ "NOTIFY * HTTP/1.1", SSDP_NOTIFY },
	};
	size_t i;

	for (i = 0; i < PG_NELEM(starts); i++) {
		if (len == strlen(starts[i].line) && memcmp(l, starts[i].line, len) == 0) {
			*kind = starts[i].kind;
			return SSDP_OK;
		}
	}
	if (!ssdp_is_status(l, len))
		return SSDP_ERR_START;
	*kind = SSDP_RESPONSE;
	return SSDP_OK;
}

static int
ssdp_is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* One "Name: value" line: split, trimmed, and handed to its handler. */
static enum ssdp_perr
ssdp_header(struct ssdp_pstate *ps, const char *l, size_t len)
{
	const char *colon = memchr(l, ':', len), *v, *end = l + len;
	size_t nlen, i;

	if (len > SSDP_LINE_MAX || colon == NULL || colon == l || ssdp_has_ctl(l, len))
		return SSDP_ERR_HEADER;
	nlen = (size_t)(colon - l);
	for (i = 0; i < nlen; i++)
		if (!ssdp_is_tchar((unsigned char)l[i]))
			return SSDP_ERR_HEADER;	/* also a folded line or a space before ':' */
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (ps->out->kind != SSDP_MSEARCH)
		return SSDP_OK;
	for (i = 0; i < PG_NELEM(ssdp_hdrs); i++)
		if (strlen(ssdp_hdrs[i].name) == nlen && strncasecmp(l, ssdp_hdrs[i].name, nlen) == 0)
			return ssdp_hdrs[i].fn(ps, v, (size_t)(end - v));
	return SSDP_OK;
}

/* Once every header is read: what an M-SEARCH must have had. */
static enum ssdp_perr
ssdp_check_search(const struct ssdp_pstate *ps)
{
	if (!ps->seen_man)
		return SSDP_ERR_MAN;
	if (ps->multicast && !ps->out->has_mx)
		return SSDP_ERR_MX;
	if (!ps->seen_st)
		return SSDP_ERR_ST;
	return SSDP_OK;
}

enum ssdp_perr
ssdp_parse(const char *buf, size_t len, int multicast, struct ssdp_msg *out)
{
	struct ssdp_pstate ps;
	enum ssdp_perr e;
	const char *line;
	size_t off = 0, llen;
	unsigned nhdr = 0;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	ps.out = out;
	ps.multicast = multicast;
	if (len > SSDP_DGRAM_MAX)
		return SSDP_ERR_LONG;
	if (ssdp_line(buf, len, &off, &line, &llen) == -1)
		return SSDP_ERR_SHORT;
	if ((e = ssdp_start_line(line, llen, &out->kind)) != SSDP_OK)
		return e;
	for (;;) {
		if (ssdp_line(buf, len, &off, &line, &llen) == -1)
			return SSDP_ERR_SHORT;
		if (llen == 0)
			break;
		if (++nhdr > SSDP_HDRS_MAX)
			return SSDP_ERR_HEADER;
		if ((e = ssdp_header(&ps, line, llen)) != SSDP_OK)
			return e;
	}
	return out->kind == SSDP_MSEARCH ? ssdp_check_search(&ps) : SSDP_OK;
}

const char *
ssdp_perr_str(enum ssdp_perr e)
{
	static const char *const names[] = {
		[SSDP_OK] = "ok",
		[SSDP_ERR_SHORT] = "empty or truncated",
		[SSDP_ERR_LONG] = "too long",
		[SSDP_ERR_START] = "not an SSDP request line",
		[SSDP_ERR_HEADER] = "malformed header",
		[SSDP_ERR_MAN] = "no MAN: \"ssdp:discover\"",
		[SSDP_ERR_MX] = "missing or bad MX",
		[SSDP_ERR_ST] = "missing or bad ST",
	};

	return (size_t)e < PG_NELEM(names) && names[e] != NULL ? names[e] : "?";
}

/* ---- what we answer ---- */

static void
ssdp_ans_add(struct ssdp_ans *out, size_t max, size_t *n, const char *st, const char *udn)
{
	struct ssdp_ans *a;

	if (*n >= max)
		return;
	a = &out[(*n)++];
	snprintf(a->st, sizeof(a->st), "%s", st);
	if (strncmp(st, "uuid:", 5) == 0)
		snprintf(a->usn, sizeof(a->usn), "%s", st);
	else
		snprintf(a->usn, sizeof(a->usn), "uuid:%s::%s", udn, st);
}

size_t
ssdp_announce_set(const struct ssdp_params *p, struct ssdp_ans *out, size_t max)
{
	char t[SSDP_ST_MAX];
	size_t n = 0;
	int d, s, v, newest, top = igd_service_max_version(p->ctx->cfg->upnp_igd_version);

	ssdp_ans_add(out, max, &n, "upnp:rootdevice", p->udn[IGD_DEV_ROOT]);
	for (d = 0; d < IGD_NDEV; d++) {
		snprintf(t, sizeof(t), "uuid:%s", p->udn[d]);
		ssdp_ans_add(out, max, &n, t, p->udn[d]);
	}
	for (d = 0; d < IGD_NDEV; d++) {
		newest = igd_service_device_version((enum igd_dev)d) < top ?
		    igd_service_device_version((enum igd_dev)d) : top;
		for (v = newest; v >= 1; v--) {
			igd_service_device_type((enum igd_dev)d, v, t, sizeof(t));
			ssdp_ans_add(out, max, &n, t, p->udn[d]);
		}
	}
	for (s = 0; s < IGD_NSVC; s++) {
		for (v = igd_service_offered((enum igd_svc)s, top); v >= 1; v--) {
			igd_service_type((enum igd_svc)s, v, t, sizeof(t));
			ssdp_ans_add(out, max, &n, t, p->udn[igd_service_device((enum igd_svc)s)]);
		}
	}
	return n;
}

/*
 * A search names a type at a version up to ours exactly as we announce it
 * (UDA: the answer's ST carries the version searched for), a higher version
 * matches nothing. UUIDs are compared without regard to case (RFC 4122).
 */
static int
ssdp_st_matches(const char *ours, const char *st)
{
	if (strncasecmp(ours, "uuid:", 5) == 0)
		return strncasecmp(st, "uuid:", 5) == 0 && strcasecmp(ours + 5, st + 5) == 0;
	return strcmp(ours, st) == 0;
}

size_t
ssdp_answers(const struct ssdp_params *p, const char *st, struct ssdp_ans *out, size_t max)
{
	struct ssdp_ans all[SSDP_NANS];
	size_t n, i, k = 0;

	if (strcmp(st, "ssdp:all") == 0)
		return ssdp_announce_set(p, out, max);
	n = ssdp_announce_set(p, all, PG_NELEM(all));
	for (i = 0; i < n && k < max; i++)
		if (ssdp_st_matches(all[i].st, st))
			out[k++] = all[i];
	return k;
}

/* ---- the messages we send ---- */

struct ssdp_fields {
	const struct ssdp_ans	*ans;
	unsigned		 max_age;
	char			 date[40];
	char			 loc[128];
	const char		*server;
	const char		*host;
	uint32_t		 boot_id;
	uint32_t		 config_id;
};

typedef int ssdp_fmt_fn(const struct ssdp_fields *, char *buf, size_t len);

static int
ssdp_fmt_reply(const struct ssdp_fields *f, char *buf, size_t len)
{
	return snprintf(buf, len, "HTTP/1.1 200 OK\r\n"
	    "CACHE-CONTROL: max-age=%u\r\n"
	    "DATE: %s\r\n"
	    "EXT:\r\n"
	    "LOCATION: %s\r\n"
	    "SERVER: %s\r\n"
	    "ST: %s\r\n"
	    "USN: %s\r\n"
	    "BOOTID.UPNP.ORG: %u\r\n"
	    "CONFIGID.UPNP.ORG: %u\r\n"
	    "\r\n", f->max_age, f->date, f->loc, f->server, f->ans->st, f->ans->usn,
	    (unsigned)f->boot_id, (unsigned)f->config_id);
}

static int
ssdp_fmt_alive(const struct ssdp_fields *f, char *buf, size_t len)
{
	return snprintf(buf, len, "NOTIFY * HTTP/1.1\r\n"
	    "HOST: %s\r\n"
	    "CACHE-CONTROL: max-age=%u\r\n"
	    "LOCATION: %s\r\n"
	    "NT: %s\r\n"
	    "NTS: ssdp:alive\r\n"
	    "SERVER: %s\r\n"
	    "USN: %s\r\n"
	    "BOOTID.UPNP.ORG: %u\r\n"
	    "CONFIGID.UPNP.ORG: %u\r\n"
	    "\r\n", f->host, f->max_age, f->loc, f->ans->st, f->server, f->ans->usn,
	    (unsigned)f->boot_id, (unsigned)f->config_id);
}

static int
ssdp_fmt_byebye(const struct ssdp_fields *f, char *buf, size_t len)
{
	return snprintf(buf, len, "NOTIFY * HTTP/1.1\r\n"
	    "HOST: %s\r\n"
	    "NT: %s\r\n"
	    "NTS: ssdp:byebye\r\n"
	    "USN: %s\r\n"
	    "BOOTID.UPNP.ORG: %u\r\n"
	    "CONFIGID.UPNP.ORG: %u\r\n"
	    "\r\n", f->host, f->ans->st, f->ans->usn, (unsigned)f->boot_id,
	    (unsigned)f->config_id);
}

/* The groups, in the order of enum ssdp_group: HOST, and for IPv6 the scope of ff0X::c. */
static const struct {
	const char	*host;
	uint8_t		 scope;
} ssdp_groups[] = {
	[SSDP_GROUP_V4] = { "239.255.255.250:1900", 0 },
	[SSDP_GROUP_LINK] = { "[FF02::C]:1900", 0x02 },
	[SSDP_GROUP_SITE] = { "[FF05::C]:1900", 0x05 },
};

static ssdp_fmt_fn *const ssdp_fmts[] = {
	[SSDP_FMT_REPLY] = ssdp_fmt_reply,
	[SSDP_FMT_ALIVE] = ssdp_fmt_alive,
	[SSDP_FMT_BYEBYE] = ssdp_fmt_byebye,
};

size_t
ssdp_format(const struct ssdp_params *p, enum ssdp_fmt fmt, const struct ssdp_ans *ans,
    const struct in6_addr *local, enum ssdp_group group, time_t now, char *buf, size_t len)
{
	const struct pg_config *cfg = p->ctx->cfg;
	struct ssdp_fields f;
	struct tm tm;
	int n;

	memset(&f, 0, sizeof(f));
	f.ans = ans;
	f.max_age = cfg->upnp_notify_interval * 2 > SSDP_MAX_AGE_MIN ?
	    cfg->upnp_notify_interval * 2 : SSDP_MAX_AGE_MIN;
	if (gmtime_r(&now, &tm) != NULL)
		strftime(f.date, sizeof(f.date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	igd_service_location(local, cfg->upnp_http_port, f.loc, sizeof(f.loc));
	f.server = p->server;
	f.host = ssdp_groups[group].host;
	f.boot_id = p->boot_id;
	f.config_id = p->config_id;
	n = ssdp_fmts[fmt](&f, buf, len);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* ---- whom we answer ---- */

void
ssdp_group_addr(enum ssdp_group g, struct in6_addr *out)
{
	uint32_t g4 = htonl(SSDP_GROUP4);

	memset(out, 0, sizeof(*out));
	if (g == SSDP_GROUP_V4) {
		out->s6_addr[10] = out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12], &g4, sizeof(g4));
		return;
	}
	out->s6_addr[0] = 0xff;
	out->s6_addr[1] = ssdp_groups[g].scope;
	out->s6_addr[15] = 0x0c;
}

static int
ssdp_is_group(enum ssdp_group g, const struct in6_addr *a)
{
	struct in6_addr ga;

	ssdp_group_addr(g, &ga);
	return memcmp(&ga, a, sizeof(ga)) == 0;
}

/*
 * The source: a LAN host (netif_client_ok), as over IPv4. Over IPv6 also a
 * link-local one: fe80::/10 is never routed, so such a source is a host on
 * the link the datagram came in on, which the caller has checked is a LAN
 * interface; a search to ff02::c comes from one. Never one of the gateway's
 * own (a reply would go to a service of its own), nor a v4-mapped one.
 */
static const char *
ssdp_check_src(struct netif *nif, int v6, const struct in6_addr *src, char *why, size_t whylen)
{
	if (v6 && util_addr_is_v4(src))
		return "a v4-mapped source over IPv6";
	if (v6 && IN6_IS_ADDR_LINKLOCAL(src))
		return netif_is_own(nif, src) ? "an address of the gateway itself" : NULL;
	return netif_client_ok(nif, src, why, whylen) ? NULL : why;
}

/* Where a datagram was sent: 1 an SSDP group, 0 unicast to us, -1 anything else. */
static int
ssdp_dst_kind(const struct netif *nif, int v6, const struct in6_addr *dst)
{
	if (util_addr_is_v4(dst) == v6)
		return -1;	/* not the socket's family */
	if (!v6)
		return ssdp_is_group(SSDP_GROUP_V4, dst) ? 1 :
		    netif_is_lan_local(nif, dst) ? 0 : -1;
	if (ssdp_is_group(SSDP_GROUP_LINK, dst) || ssdp_is_group(SSDP_GROUP_SITE, dst))
		return 1;
	/* our link-local address on the LAN link it came in on counts as "to us" */
	if (netif_is_lan_local(nif, dst) || (IN6_IS_ADDR_LINKLOCAL(dst) && netif_is_own(nif, dst)))
		return 0;
	return -1;
}

const char *
ssdp_check_addrs(struct netif *nif, int v6, const struct in6_addr *src, uint16_t sport,
    const struct in6_addr *dst, int *mcast, char *why, size_t whylen)
{
	const char *bad;

	if ((bad = ssdp_check_src(nif, v6, src, why, whylen)) != NULL)
		return bad;
	if (sport == 0)
		return "source port 0";
	if ((*mcast = ssdp_dst_kind(nif, v6, dst)) == -1)
		return v6 ? "not sent to ff02::c, ff05::c or to us" :
		    "not sent to 239.255.255.250 or to us";
	return NULL;
}
