/*
 * hostnames.c - LAN hosts' names from the DHCP server's lease files.
 *
 * A mapping names an address; the admin knows machines. The DHCP server
 * that gave the address out wrote down the name the machine asked for, in
 * its lease file (dhcp_leases), and the neighbour table (neigh.c) knows the
 * MAC that holds the address now. This module reads the files into one
 * table per file, sorted by address, and answers "which name, which MAC"
 * for `portgatectl list` and the admin API. It never decides anything.
 *
 * The formats, as their writers write them:
 *   dnsmasq (lease_update_file): per line EXPIRES MAC ADDR NAME CLIENTID for
 *     IPv4, then a "duid ..." line and EXPIRES [T]IAID ADDR6 NAME CLIENTID for
 *     IPv6. EXPIRES is wall-clock seconds, 0 for an infinite lease (a value
 *     below a year is a lease length, from a build with HAVE_BROKEN_RTC:
 *     taken as not expiring); NAME is '*' for none; a MAC of another
 *     hardware type ("06-...") is no MAC.
 *   odhcpd (statefile): per lease "# IFACE DUID IAID NAME VALID ASSIGNED LEN
 *     ADDR/LEN ..." for DHCPv6 and "# IFACE MAC ipv4 NAME VALID ASSIGNED 32
 *     ADDR/32" for DHCPv4 (MAC as 12 hex digits in older versions); VALID is
 *     wall-clock seconds, -1 for infinite, 0 for expired; NAME is '-' for
 *     none and "broken\x20NAME" (newer versions: \xNN escapes) for a name
 *     odhcpd itself found invalid. Lines without '#' (older versions' hosts
 *     lines) are skipped; only /128 (/32) addresses are hosts, a delegated
 *     prefix is not.
 * A lease that has expired (by the wall clock, when read and when asked)
 * is no lease; where an address has two, the newest (the later expiry,
 * then the later line) wins.
 *
 * Everything from the file is bounded and checked before it is kept: the
 * first HN_FILE_MAX bytes are read, lines longer than HN_LINE_MAX are
 * skipped, at most HN_LEASES_MAX addresses per file, and a name is kept
 * only if it is a DNS name of letters, digits and '-' (labels of 1-63
 * bytes, not starting or ending with '-'; HN_NAME_MAX in all): anything
 * else (control characters, bytes that are not ASCII, spaces, quotes,
 * '<', '\') is no name. A name kept is
 * therefore safe as it is in text, JSON, HTML and logs; a rejected one is
 * only counted, never logged. A last line without its newline is one the
 * writer has not finished: it is skipped.
 *
 * Re-reading: every HN_POLL_S a timer stat()s each file, and reads it again
 * when its inode, size, mtime or ctime changed (dnsmasq rewrites its file
 * in place, odhcpd renames a new one over it). A file changed within the
 * last HN_SETTLE_S, or changed while it was being read, is read again at
 * the next look, so a read that caught the writer mid-write is soon
 * replaced. A read is a few milliseconds for the largest file allowed.
 * A file that disappears or cannot be read keeps its names for
 * HN_GONE_KEEP_S (a writer replacing it, a restart), then they are
 * forgotten; they come back when the file does.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hostnames.h"
#include "log.h"
#include "neigh.h"
#include "util.h"

#define HN_NONAME	UINT32_MAX
#define HN_WORDS_MAX	24		/* words looked at in a line: 8 fields, 16 addresses */
#define HN_SETTLE_S	2		/* changed this recently: read again at the next look */
#define HN_RTC_MAX	31536000	/* dnsmasq's EXPIRES below this is a lease length */
#define HN_LABEL_MAX	63

struct hn_lease {
	struct in6_addr	 addr;		/* IPv4-mapped or IPv6 */
	int64_t		 expires;	/* wall-clock seconds; 0: never */
	uint32_t	 name;		/* offset in the table's pool, or HN_NONAME */
	uint32_t	 seq;		/* its line: the later wins a tie */
	uint8_t		 mac[6];
	uint8_t		 has_mac;
};

struct hn_table {
	struct hn_lease	*l;		/* sorted by address, one per address */
	size_t		 n, cap;
	char		*pool;		/* the names, each NUL-terminated */
	size_t		 plen, pcap;
	unsigned	 bad_lines;	/* what the parse skipped */
	unsigned	 first_bad;	/* the line number of the first */
	unsigned	 long_lines;
	unsigned	 bad_names;
	unsigned	 over;		/* addresses beyond HN_LEASES_MAX */
};

struct hn_source {
	struct hn_file	 file;		/* path NULL: fed by hostnames_parse only */
	struct hn_table	 t;
	struct stat	 seen;		/* the file as last read */
	int		 have_seen;
	int		 recheck;	/* read again at the next look, changed or not */
	uint64_t	 gone_ms;	/* 0: readable; else since when it is not */
	int		 said_big, said_full;
};

struct hostnames {
	struct event		*ev;
	const struct pg_clock	*clk;
	const struct neigh	*nb;
	struct hn_source	*src;
	size_t			 nsrc;	/* at least one (hostnames_parse's) */
	size_t			 nfiles;
};

static const char *const hn_format_names[] = {
	[HN_FMT_DNSMASQ] = "dnsmasq",
	[HN_FMT_ODHCPD] = "odhcpd",
};

int
hostnames_format_parse(const char *s)
{
	size_t i;

	for (i = 0; i < PG_NELEM(hn_format_names); i++)
		if (strcmp(s, hn_format_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
hostnames_format_name(enum hn_format f)
{
	return (size_t)f < PG_NELEM(hn_format_names) ? hn_format_names[f] : "?";
}

const char *
hostnames_mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* ---- one line ---- */

/*
 * A DNS name: labels of 1-63 letters, digits and '-' (not first or last:
 * a name never looks like an option), joined by '.', at most HN_NAME_MAX.
 */
static int
hn_name_ok(const char *s)
{
	size_t i, label = 0;
	unsigned char c;

	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (i >= HN_NAME_MAX)
			return 0;
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			if (++label > HN_LABEL_MAX)
				return 0;
		} else
			return 0;
	}
	return label > 0 && s[i - 1] != '-';
}

/* Split s in place at spaces and tabs into at most max words (more are not looked at). */
static size_t
hn_words(char *s, char **av, size_t max)
{
	size_t n = 0;

	while (n < max) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		av[n++] = s;
		s += strcspn(s, " \t");
		if (*s == '\0')
			break;
		*s++ = '\0';
	}
	return n;
}

/* A decimal integer of at most 18 digits, '-' before it allowed; 0, or -1. */
static int
hn_int(const char *s, int64_t *v)
{
	int neg = s[0] == '-';
	size_t i, n = strlen(s);
	int64_t x = 0;

	if (n == (size_t)neg || n - (size_t)neg > 18)
		return -1;
	for (i = (size_t)neg; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = neg ? -x : x;
	return 0;
}

static int
hn_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* An Ethernet MAC: six octets of 1-2 hex digits joined by ':', or 12 hex digits; not zero. */
static int
hn_mac(const char *s, uint8_t mac[6])
{
	static const uint8_t zero[6];
	int i, hi, lo;

	if (strlen(s) == 12 && strchr(s, ':') == NULL) {
		for (i = 0; i < 6; i++) {
			if ((hi = hn_hex(s[2 * i])) < 0 || (lo = hn_hex(s[2 * i + 1])) < 0)
				return -1;
			mac[i] = (uint8_t)(hi << 4 | lo);
		}
	} else {
		for (i = 0; i < 6; i++) {
			if ((hi = hn_hex(*s++)) < 0)
				return -1;
			if ((lo = hn_hex(*s)) >= 0) {
				hi = hi << 4 | lo;
				s++;
			}
			mac[i] = (uint8_t)hi;
			if (*s != (i < 5 ? ':' : '\0'))
				return -1;
			s++;
		}
	}
	return memcmp(mac, zero, 6) == 0 ? -1 : 0;
}

/* The name as kept: its offset in the pool, or HN_NONAME for none or one that is no DNS name. */
static int
hn_name(struct hn_table *t, const char *s, const char *none, uint32_t *off)
{
	size_t len = strlen(s), cap;
	char *p;

	*off = HN_NONAME;
	if (strcmp(s, none) == 0)
		return 0;
	if (!hn_name_ok(s)) {
		t->bad_names++;
		return 0;
	}
	if (t->plen + len + 1 > t->pcap) {
		cap = t->pcap ? t->pcap * 2 : 4096;
		while (cap < t->plen + len + 1)
			cap *= 2;
		if ((p = realloc(t->pool, cap)) == NULL)
			return -1;
		t->pool = p;
		t->pcap = cap;
	}
	memcpy(t->pool + t->plen, s, len + 1);
	*off = (uint32_t)t->plen;
	t->plen += len + 1;
	return 0;
}

/* One address's lease; 0, or -1 if out of memory. Past HN_LEASES_MAX, only counted. */
static int
hn_add(struct hn_table *t, const struct in6_addr *a, int64_t expires, uint32_t name,
    const uint8_t *mac, uint32_t seq)
{
	struct hn_lease *l;
	size_t cap;

	if (t->n >= HN_LEASES_MAX) {
		t->over++;
		return 0;
	}
	if (t->n == t->cap) {
		cap = t->cap ? t->cap * 2 : 64;
		if ((l = reallocarray(t->l, cap, sizeof(*l))) == NULL)
			return -1;
		t->l = l;
		t->cap = cap;
	}
	l = &t->l[t->n++];
	memset(l, 0, sizeof(*l));
	l->addr = *a;
	l->expires = expires;
	l->name = name;
	l->seq = seq;
	if (mac != NULL) {
		memcpy(l->mac, mac, 6);
		l->has_mac = 1;
	}
	return 0;
}

/* A line the parsers return: taken (or nothing to take), not understood, out of memory. */
enum { HN_LINE_OK = 0, HN_LINE_BAD = 1, HN_LINE_NOMEM = -1 };

/* dnsmasq: EXPIRES MAC|[T]IAID ADDR NAME [CLIENTID]; "duid DUID". */
static int
hn_line_dnsmasq(struct hn_table *t, char *line, uint32_t seq, int64_t now)
{
	char *av[5];
	size_t n = hn_words(line, av, PG_NELEM(av));
	struct in6_addr a;
	uint8_t mac[6];
	int64_t exp;
	uint32_t name;
	int has_mac = 0;

	if (n == 0 || strcmp(av[0], "duid") == 0)
		return HN_LINE_OK;
	if (n < 4 || hn_int(av[0], &exp) == -1 || exp < 0 || util_parse_addr(av[2], &a) == -1)
		return HN_LINE_BAD;
	if (exp > 0 && exp < HN_RTC_MAX)
		exp = 0;
	if (exp != 0 && exp <= now)
		return HN_LINE_OK;
	if (util_addr_is_v4(&a))
		has_mac = hn_mac(av[1], mac) == 0;
	if (hn_name(t, av[3], "*", &name) == -1 ||
	    hn_add(t, &a, exp, name, has_mac ? mac : NULL, seq) == -1)
		return HN_LINE_NOMEM;
	return HN_LINE_OK;
}

/* The ADDR/LEN words of an odhcpd lease: each host address (/128, or /32 for ipv4) is a lease. */
static int
hn_odhcpd_addrs(struct hn_table *t, char **av, size_t n, int v4, int64_t exp, uint32_t name,
    const uint8_t *mac, uint32_t seq)
{
	struct in6_addr a;
	unsigned long plen;
	char *slash;
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		if ((slash = strchr(av[i], '/')) == NULL) {
			bad = 1;
			continue;
		}
		*slash++ = '\0';
		if (util_parse_uint(slash, 0, 128, &plen) == -1 ||
		    util_parse_addr(av[i], &a) == -1) {
			bad = 1;
			continue;
		}
		if (util_addr_is_v4(&a) != v4 || plen != (v4 ? 32 : 128))
			continue;	/* a delegated prefix, not a host */
		if (hn_add(t, &a, exp, name, mac, seq) == -1)
			return HN_LINE_NOMEM;
	}
	return bad ? HN_LINE_BAD : HN_LINE_OK;
}

/* odhcpd: "# IFACE DUID|MAC IAID|ipv4 NAME VALID ASSIGNED LEN [ADDR/LEN ...]". */
static int
hn_line_odhcpd(struct hn_table *t, char *line, uint32_t seq, int64_t now)
{
	char *av[HN_WORDS_MAX];
	size_t n;
	uint8_t mac[6];
	int64_t exp;
	uint32_t name;
	int v4, has_mac;

	if (line[0] != '#')
		return HN_LINE_OK;	/* an older version's hosts line, or empty */
	if ((n = hn_words(line + 1, av, PG_NELEM(av))) == 0)
		return HN_LINE_OK;
	if (n < 7 || hn_int(av[4], &exp) == -1 || exp < -1)
		return HN_LINE_BAD;
	if (exp == 0 || (exp > 0 && exp <= now))
		return HN_LINE_OK;	/* expired */
	if (exp == -1)
		exp = 0;
	v4 = strcmp(av[2], "ipv4") == 0;
	has_mac = v4 && hn_mac(av[1], mac) == 0;
	if (hn_name(t, av[3], "-", &name) == -1)
		return HN_LINE_NOMEM;
	return hn_odhcpd_addrs(t, av + 7, n - 7, v4, exp, name, has_mac ? mac : NULL, seq);
}

/* The parsers, by format. */
static int (*const hn_parsers[])(struct hn_table *, char *, uint32_t, int64_t) = {
	[HN_FMT_DNSMASQ] = hn_line_dnsmasq,
	[HN_FMT_ODHCPD] = hn_line_odhcpd,
};

/* ---- a table ---- */

static void
hn_table_clear(struct hn_table *t)
{
	free(t->l);
	free(t->pool);
	memset(t, 0, sizeof(*t));
}

/* Newer: the later expiry (never is the latest), then the later line. */
static int
hn_newer(const struct hn_lease *a, const struct hn_lease *b)
{
	int64_t ea = a->expires ? a->expires : INT64_MAX, eb = b->expires ? b->expires : INT64_MAX;

	return ea != eb ? ea > eb : a->seq > b->seq;
}

/* By address, the newest first. */
static int
hn_cmp(const void *x, const void *y)
{
	const struct hn_lease *a = x, *b = y;
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	if (c != 0)
		return c;
	return hn_newer(a, b) ? -1 : hn_newer(b, a) ? 1 : 0;
}

static int
hn_key_cmp(const void *key, const void *elem)
{
	const struct hn_lease *l = elem;

	return memcmp(key, &l->addr, sizeof(l->addr));
}

/* Sorted by address, the newest lease of each address kept. */
static void
hn_table_finish(struct hn_table *t)
{
	size_t i, out = 0;

	if (t->n == 0)
		return;
	qsort(t->l, t->n, sizeof(*t->l), hn_cmp);
	for (i = 1; i < t->n; i++)
		if (memcmp(&t->l[i].addr, &t->l[out].addr, sizeof(t->l[i].addr)) != 0)
			t->l[++out] = t->l[i];
	t->n = out + 1;
}

/* Every complete line of text into t (empty); 0, or -1 if out of memory. */
static int
hn_table_parse(struct hn_table *t, enum hn_format fmt, const char *text, size_t len,
    int64_t now)
{
	char line[HN_LINE_MAX + 1];
	const char *p = text, *end = text + len, *nl;
	uint32_t lineno = 0;
	size_t n;
	int rc;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lineno++;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		rc = HN_LINE_BAD;
		if (n > HN_LINE_MAX)
			t->long_lines++;
		else if (memchr(p, '\0', n) == NULL) {
			memcpy(line, p, n);
			line[n] = '\0';
			rc = hn_parsers[fmt](t, line, lineno, now);
		}
		if (rc == HN_LINE_NOMEM)
			return -1;
		if (rc == HN_LINE_BAD && n <= HN_LINE_MAX && t->bad_lines++ == 0)
			t->first_bad = lineno;
		p = nl + 1;
	}
	hn_table_finish(t);
	return 0;
}

/* ---- lookups ---- */

/* The newest unexpired lease of a, from any file, or NULL. */
static const struct hn_lease *
hn_find(const struct hostnames *hn, const struct in6_addr *a)
{
	const struct hn_lease *best = NULL, *l;
	int64_t now = (int64_t)time(NULL);
	size_t i;

	if (hn == NULL)
		return NULL;
	for (i = 0; i < hn->nsrc; i++) {
		const struct hn_table *t = &hn->src[i].t;

		if (t->n == 0 || (l = bsearch(a, t->l, t->n, sizeof(*l), hn_key_cmp)) == NULL)
			continue;
		if (l->expires != 0 && l->expires <= now)
			continue;
		if (best == NULL || hn_newer(l, best))
			best = l;
	}
	return best;
}

/* The pool a lease lives in. */
static const char *
hn_pool_of(const struct hostnames *hn, const struct hn_lease *l)
{
	size_t i;

	for (i = 0; i < hn->nsrc; i++) {
		const struct hn_table *t = &hn->src[i].t;

		if (t->n > 0 && l >= t->l && l < t->l + t->n)
			return t->pool;
	}
	return NULL;
}

const char *
hostnames_name(const struct hostnames *hn, const struct in6_addr *a)
{
	const struct hn_lease *l = hn_find(hn, a);
	const char *pool;

	if (l == NULL || l->name == HN_NONAME || (pool = hn_pool_of(hn, l)) == NULL)
		return NULL;
	return pool + l->name;
}

int
hostnames_mac(const struct hostnames *hn, const struct in6_addr *a, uint8_t mac[6])
{
	const struct hn_lease *l;

	if (hn == NULL)
		return 0;
	if (neigh_lookup(hn->nb, a, mac))
		return 1;
	if ((l = hn_find(hn, a)) == NULL || !l->has_mac)
		return 0;
	memcpy(mac, l->mac, 6);
	return 1;
}

void
hostnames_set_neigh(struct hostnames *hn, const struct neigh *nb)
{
	if (hn != NULL)
		hn->nb = nb;
}

/* ---- the files ---- */

static int
hn_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The file cannot be read: said once; its names go after HN_GONE_KEEP_S. */
static void
hn_unreadable(struct hostnames *hn, struct hn_source *s, const char *why)
{
	uint64_t now = pg_clock_now(hn->clk);

	s->have_seen = 0;
	if (s->gone_ms == 0) {
		s->gone_ms = now ? now : 1;
		if (s->t.n > 0)
			log_warnx("hostnames: %s: %s; its %zu names are forgotten in %d s "
			    "unless it comes back", s->file.path, why, s->t.n, HN_GONE_KEEP_S);
		else
			log_warnx("hostnames: %s: %s; it is read once it can be", s->file.path,
			    why);
		return;
	}
	if (s->t.n > 0 && now - s->gone_ms >= HN_GONE_KEEP_S * 1000ull) {
		log_info("hostnames: %s: still unreadable; its names are forgotten", s->file.path);
		hn_table_clear(&s->t);
	}
}

/* What a read skipped: the debug log, counts only (never a name or a line's bytes). */
static void
hn_report(struct hn_source *s, const struct stat *st)
{
	const struct hn_table *t = &s->t;

	if (st->st_size > HN_FILE_MAX && !s->said_big)
		log_warnx("hostnames: %s: larger than %d bytes; the rest is not read",
		    s->file.path, HN_FILE_MAX);
	s->said_big = st->st_size > HN_FILE_MAX;
	if (t->over > 0 && !s->said_full)
		log_warnx("hostnames: %s: more than %d addresses; the rest are not read",
		    s->file.path, HN_LEASES_MAX);
	s->said_full = t->over > 0;
	log_debug("hostnames: %s: %zu addresses", s->file.path, t->n);
	if (t->bad_lines > 0 || t->long_lines > 0 || t->bad_names > 0)
		log_debug("hostnames: %s: skipped %u lines not understood (the first: line %u), "
		    "%u longer than %d bytes; %u names are no host names", s->file.path,
		    t->bad_lines, t->first_bad, t->long_lines, HN_LINE_MAX, t->bad_names);
}

/* The first HN_FILE_MAX bytes of an open regular file (malloc'd), or NULL with errno. */
static char *
hn_slurp(int fd, const struct stat *st, size_t *len)
{
	size_t cap = st->st_size < HN_FILE_MAX ? (size_t)st->st_size : HN_FILE_MAX;
	char *buf = malloc(cap + 1);
	ssize_t r = 0;

	*len = 0;
	if (buf == NULL)
		return NULL;
	while (*len < cap && ((r = read(fd, buf + *len, cap - *len)) > 0 || (r == -1 &&
	    errno == EINTR)))
		if (r > 0)
			*len += (size_t)r;
	if (r == -1) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Read s's file again into a new table; the old one stays if that fails. */
static void
hn_load(struct hostnames *hn, struct hn_source *s)
{
	struct stat st, after;
	struct hn_table t;
	size_t len;
	char *buf;
	int fd, was_gone = s->gone_ms != 0, first = !s->have_seen;

	if ((fd = open(s->file.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) == -1) {
		hn_unreadable(hn, s, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		hn_unreadable(hn, s, "not a regular file");
		return;
	}
	if ((buf = hn_slurp(fd, &st, &len)) == NULL || fstat(fd, &after) == -1) {
		hn_unreadable(hn, s, strerror(errno));
		close(fd);
		free(buf);
		return;
	}
	close(fd);
	memset(&t, 0, sizeof(t));
	if (hn_table_parse(&t, s->file.format, buf, len, (int64_t)time(NULL)) == -1) {
		log_warnx("hostnames: %s: out of memory; trying again", s->file.path);
		hn_table_clear(&t);
		free(buf);
		s->recheck = 1;
		return;
	}
	free(buf);
	hn_table_clear(&s->t);
	s->t = t;
	s->seen = st;
	s->have_seen = 1;
	s->gone_ms = 0;
	s->recheck = !hn_same(&st, &after) || st.st_mtim.tv_sec >= time(NULL) - HN_SETTLE_S;
	if (first || was_gone)
		log_info("hostnames: %s: %zu addresses", s->file.path, t.n);
	hn_report(s, &st);
}

void
hostnames_poll(struct hostnames *hn)
{
	struct hn_source *s;
	struct stat st;
	size_t i;

	for (i = 0; i < hn->nfiles; i++) {
		s = &hn->src[i];
		if (stat(s->file.path, &st) == -1)
			hn_unreadable(hn, s, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			hn_unreadable(hn, s, "not a regular file");
		else if (!s->have_seen || s->recheck || !hn_same(&st, &s->seen))
			hn_load(hn, s);
	}
}

static void
hn_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	hostnames_poll(arg);
}

struct hostnames *
hostnames_new(struct event_base *base, const struct hn_file *files, size_t n,
    const struct pg_clock *clk)
{
	struct hostnames *hn = xcalloc(1, sizeof(*hn));
	struct timeval tv = { HN_POLL_S, 0 };
	size_t i;

	hn->clk = clk;
	hn->nfiles = n;
	hn->nsrc = n ? n : 1;
	hn->src = xcalloc(hn->nsrc, sizeof(*hn->src));
	for (i = 0; i < n; i++) {
		hn->src[i].file.format = files[i].format;
		hn->src[i].file.path = xstrdup(files[i].path);
	}
	hostnames_poll(hn);
	if (base != NULL && n > 0 && ((hn->ev = event_new(base, -1, EV_PERSIST, hn_timer,
	    hn)) == NULL || event_add(hn->ev, &tv) == -1))
		log_warnx("hostnames: cannot set up the timer; lease files are read only at "
		    "start and reload");
	return hn;
}

void
hostnames_free(struct hostnames *hn)
{
	size_t i;

	if (hn == NULL)
		return;
	if (hn->ev != NULL)
		event_free(hn->ev);
	for (i = 0; i < hn->nsrc; i++) {
		free(hn->src[i].file.path);
		hn_table_clear(&hn->src[i].t);
	}
	free(hn->src);
	free(hn);
}

int
hostnames_parse(struct hostnames *hn, enum hn_format fmt, const char *text, size_t len)
{
	struct hn_table t;

	memset(&t, 0, sizeof(t));
	if ((size_t)fmt >= PG_NELEM(hn_parsers) ||
	    hn_table_parse(&t, fmt, text, len, (int64_t)time(NULL)) == -1) {
		hn_table_clear(&t);
		return -1;
	}
	hn_table_clear(&hn->src[0].t);
	hn->src[0].t = t;
	return (int)t.n;
}

void
hostnames_status(const struct hostnames *hn, pg_status_emit *emit, void *arg)
{
	const struct hn_source *s;
	size_t i;

	if (hn == NULL || hn->nfiles == 0) {
		emit(arg, "dhcp_leases", "none");
		return;
	}
	for (i = 0; i < hn->nfiles; i++) {
		s = &hn->src[i];
		emit(arg, "dhcp_leases", "%s:%s %zu%s", hostnames_format_name(s->file.format),
		    s->file.path, s->t.n, s->gone_ms != 0 ? " unreadable" : "");
	}
}
