/*
 * import_mu.c - miniupnpd's configuration and lease file, read for portgate.
 *
 * The configuration: KEY=VALUE lines (and allow/deny rules, which are
 * portgate's own syntax already), each through a dispatch table: the key's
 * portgate equivalent, checked as portgated would check it, or a reason it
 * has none (portgate keeps its own nftables tables, STUN is replaced by the
 * upstream PCP client, model strings are not configurable ...). An unknown
 * key is said too. The uuid is kept, so control points see the same device.
 *
 * The lease file: see import_mu.h. Every field is checked (protocol, ports,
 * an IPv4 address, a number); the description is cut to portgate's length
 * on a character boundary, and one that is not text is dropped, said.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_mu.h"
#include "util.h"

#define IMU_LINE_MAX	1024
#define IMU_TEXT_MAX	256		/* a value carried over */
#define IMU_REMAINING_MAX 315360000	/* a timestamp below this (10 years) is time left */

struct imu_parse {
	const struct imu_hooks	*h;
	const char		*file;
	unsigned		 line;
	unsigned		 bad;
	int			 have_wan, have_lan;
};

static void imu_warn(struct imu_parse *, const char *, ...) __attribute__((format(printf, 2, 3)));

static void
imu_warn(struct imu_parse *p, const char *fmt, ...)
{
	char msg[IMU_LINE_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->bad++;
	if (p->h->warn != NULL)
		p->h->warn(p->h->arg, p->file, p->line, msg);
}

static void imu_out(struct imu_parse *, const char *, ...) __attribute__((format(printf, 2, 3)));

static void
imu_out(struct imu_parse *p, const char *fmt, ...)
{
	char text[IMU_LINE_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (p->h->line != NULL)
		p->h->line(p->h->arg, text);
}

/* A value carried over as a word: printable ASCII, no blank, no '#' (it would start a comment). */
static int
imu_word_ok(const char *v)
{
	size_t i;

	if (v[0] == '\0' || strlen(v) > IMU_TEXT_MAX)
		return 0;
	for (i = 0; v[i] != '\0'; i++)
		if (v[i] <= ' ' || v[i] > '~' || v[i] == '#')
			return 0;
	return 1;
}

/* An interface name: 1-15 bytes, as the kernel takes them. */
static int
imu_ifname_ok(const char *v)
{
	return imu_word_ok(v) && strlen(v) < 16 && strchr(v, '/') == NULL;
}

static int
imu_yes(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* ---- the keys ---- */

struct imu_key;
typedef void imu_key_fn(struct imu_parse *, const struct imu_key *, const char *);

struct imu_key {
	const char	*mu;		/* miniupnpd's key */
	imu_key_fn	*fn;
	const char	*pg;		/* portgate's key, or the reason there is none */
	unsigned long	 lo, hi;	/* a number's range */
};

static void
imu_k_ifname(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	if (!imu_ifname_ok(v)) {
		imu_warn(p, "%s: '%s' is not an interface name", k->mu, v);
		return;
	}
	p->have_wan = 1;
	imu_out(p, "%s = %s", k->pg, v);
}

static void
imu_k_addr(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	struct in6_addr a;

	if (util_parse_addr(v, &a) == -1 || !util_addr_is_v4(&a)) {
		imu_warn(p, "%s: '%s' is not an IPv4 address", k->mu, v);
		return;
	}
	imu_out(p, "%s = %s", k->pg, v);
}

/* listening_ip=IFNAME, or ADDR[/LEN] (then the interface that holds ADDR). */
static void
imu_k_listen(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	char addr[64], name[64];
	struct in6_addr a;
	const char *slash = strchr(v, '/');

	snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - v) : (int)strlen(v), v);
	if (util_parse_addr(addr, &a) == -1) {
		if (!imu_ifname_ok(v)) {
			imu_warn(p, "%s: '%s' is neither an interface nor an address", k->mu, v);
			return;
		}
		snprintf(name, sizeof(name), "%s", v);
	} else if (p->h->ifname == NULL || p->h->ifname(p->h->arg, &a, name, sizeof(name)) == -1 ||
	    !imu_ifname_ok(name)) {
		imu_warn(p, "%s: no interface here has %s: name the LAN interface yourself "
		    "(lan_interface)", k->mu, addr);
		return;
	}
	p->have_lan = 1;
	imu_out(p, "%s = %s", k->pg, name);
}

/* A yes/no value: 1 or 0, or -1 after naming what is wrong. */
static int
imu_bool_value(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	int b;

	if (imu_yes(v, &b) == -1) {
		imu_warn(p, "%s: '%s' is not yes or no", k->mu, v);
		return -1;
	}
	return b;
}

static void
imu_k_bool(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	int b = imu_bool_value(p, k, v);

	if (b != -1)
		imu_out(p, "%s = %s", k->pg, b ? "yes" : "no");
}

/* enable_natpmp, enable_pcp_pmp: miniupnpd's one switch for both protocols. */
static void
imu_k_natpmp(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	int b = imu_bool_value(p, k, v);

	if (b != -1) {
		imu_out(p, "pcp = %s", b ? "yes" : "no");
		imu_out(p, "natpmp = %s", b ? "yes" : "no");
	}
}

static void
imu_k_number(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	unsigned long n;

	if (util_parse_uint(v, k->lo, k->hi, &n) == -1) {
		imu_warn(p, "%s: '%s' is not a number from %lu to %lu (portgate's %s)", k->mu, v,
		    k->lo, k->hi, k->pg);
		return;
	}
	imu_out(p, "%s = %lu", k->pg, n);
}

/* http_port: 0 is miniupnpd's "any", which portgate has not (its SSDP says a fixed port). */
static void
imu_k_http_port(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	if (strcmp(v, "0") == 0) {
		imu_warn(p, "%s: 0 (any port) is not portgate's way: its UPnP port is fixed "
		    "(upnp_http_port, default 5000)", k->mu);
		return;
	}
	imu_k_number(p, k, v);
}

/* notify_interval: portgate's floor is 30 s. */
static void
imu_k_notify(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	unsigned long n;

	if (util_parse_uint(v, 1, 86400, &n) == 0 && n < 30) {
		imu_out(p, "%s = 30", k->pg);
		imu_warn(p, "%s: %lu s is below portgate's 30: 30 it is", k->mu, n);
		return;
	}
	imu_k_number(p, k, v);
}

static void
imu_k_text(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	const char *why = util_text_problem(v, strlen(v), 63);

	if (why != NULL || strchr(v, '#') != NULL) {
		imu_warn(p, "%s: %s", k->mu, why != NULL ? why : "a '#' would start a comment");
		return;
	}
	imu_out(p, "%s = %s", k->pg, v);
}

static void
imu_k_uuid(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	if (v[0] == '\0')
		return;		/* Debian's package leaves it empty until its postinst fills it */
	if (!util_uuid_ok(v)) {
		imu_warn(p, "%s: '%s' is not a UUID", k->mu, v);
		return;
	}
	imu_out(p, "%s = %s", k->pg, v);
}

/* No portgate equivalent: k->pg says why. */
static void
imu_k_none(struct imu_parse *p, const struct imu_key *k, const char *v)
{
	(void)v;
	imu_warn(p, "%s: not translated: %s", k->mu, k->pg);
}

static const struct imu_key imu_keys[] = {
	{ "ext_ifname", imu_k_ifname, "wan_interface", 0, 0 },
	{ "ext_ip", imu_k_addr, "external_ip", 0, 0 },
	{ "listening_ip", imu_k_listen, "lan_interface", 0, 0 },
	{ "http_port", imu_k_http_port, "upnp_http_port", 1, 65535 },
	{ "enable_upnp", imu_k_bool, "upnp", 0, 0 },
	{ "enable_natpmp", imu_k_natpmp, NULL, 0, 0 },
	{ "enable_pcp_pmp", imu_k_natpmp, NULL, 0, 0 },
	{ "secure_mode", imu_k_bool, "upnp_secure_mode", 0, 0 },
	{ "pcp_allow_thirdparty", imu_k_bool, "pcp_allow_third_party", 0, 0 },
	{ "min_lifetime", imu_k_number, "pcp_min_lifetime", 1, 86400 },
	{ "max_lifetime", imu_k_number, "max_lease", 0, 604800 },
	{ "notify_interval", imu_k_notify, "upnp_notify_interval", 30, 86400 },
	{ "friendly_name", imu_k_text, "friendly_name", 0, 0 },
	{ "uuid", imu_k_uuid, "uuid", 0, 0 },
	{ "lease_file", imu_k_none, "its leases come in with: portgatectl import-miniupnpd CONF "
	    "LEASEFILE; portgate keeps its state itself (state_file)", 0, 0 },
	{ "lease_file6", imu_k_none, "portgate keeps its IPv6 pinholes in its state file", 0, 0 },
	{ "https_port", imu_k_none, "portgate's UPnP is plain HTTP on the LAN (its admin server "
	    "has TLS: admin_tls_cert)", 0, 0 },
	{ "ext_perform_stun", imu_k_none, "portgate asks the upstream PCP server for the external "
	    "address and each port instead (upstream_pcp)", 0, 0 },
	{ "ext_stun_host", imu_k_none, "no STUN: see upstream_pcp", 0, 0 },
	{ "ext_stun_port", imu_k_none, "no STUN: see upstream_pcp", 0, 0 },
	{ "ext_allow_private_ipv4", imu_k_none, "portgate says what a private external address "
	    "means (status, portgatectl check) and works anyway", 0, 0 },
	{ "ipv6_listening_ip", imu_k_none, "portgate listens on every address of its "
	    "lan_interfaces", 0, 0 },
	{ "ipv6_disable", imu_k_none, "portgate serves IPv6 where the LAN has it", 0, 0 },
	{ "force_igd_desc_v1", imu_k_none, "see upnp_igd_version (auto gives IGD:1 to the "
	    "control points that need it)", 0, 0 },
	{ "upnp_table_name", imu_k_none, "portgate keeps its own nftables tables (nft_table)", 0, 0 },
	{ "upnp_nat_table_name", imu_k_none, "portgate keeps its own nftables tables (nft_table)",
	    0, 0 },
	{ "upnp_forward_chain", imu_k_none, "portgate keeps its own nftables chains", 0, 0 },
	{ "upnp_nat_chain", imu_k_none, "portgate keeps its own nftables chains", 0, 0 },
	{ "upnp_nat_postrouting_chain", imu_k_none, "portgate keeps its own nftables chains", 0, 0 },
	{ "upnp_nftables_family_split", imu_k_none, "portgate keeps its own nftables tables", 0, 0 },
	{ "clean_ruleset_threshold", imu_k_none, "portgate's leases end in the kernel itself "
	    "(element timeouts)", 0, 0 },
	{ "clean_ruleset_interval", imu_k_none, "portgate's leases end in the kernel itself "
	    "(element timeouts)", 0, 0 },
	{ "packet_log", imu_k_none, "not a portgate setting", 0, 0 },
	{ "anchor", imu_k_none, "pf only", 0, 0 },
	{ "queue", imu_k_none, "pf only", 0, 0 },
	{ "tag", imu_k_none, "pf only", 0, 0 },
	{ "quickrules", imu_k_none, "pf only", 0, 0 },
	{ "minissdpdsocket", imu_k_none, "portgate speaks SSDP itself", 0, 0 },
	{ "system_uptime", imu_k_none, "portgate reports its own", 0, 0 },
	{ "bitrate_up", imu_k_none, "not a portgate setting", 0, 0 },
	{ "bitrate_down", imu_k_none, "not a portgate setting", 0, 0 },
	{ "presentation_url", imu_k_none, "not a portgate setting (its panel is admin_listen's)",
	    0, 0 },
	{ "manufacturer_name", imu_k_none, "portgate describes itself", 0, 0 },
	{ "manufacturer_url", imu_k_none, "portgate describes itself", 0, 0 },
	{ "model_name", imu_k_none, "portgate describes itself", 0, 0 },
	{ "model_description", imu_k_none, "portgate describes itself", 0, 0 },
	{ "model_url", imu_k_none, "portgate describes itself", 0, 0 },
	{ "model_number", imu_k_none, "portgate describes itself", 0, 0 },
	{ "serial", imu_k_none, "portgate describes itself", 0, 0 },
};

/* allow|deny EXTPORTS ADDR[/LEN] INTPORTS: portgate's syntax already; a fourth word is not. */
static void
imu_rule(struct imu_parse *p, char *l)
{
	char *w[5], *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(l, " \t", &save); t != NULL && n < 5; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n != 4 || !imu_word_ok(w[1]) || !imu_word_ok(w[2]) || !imu_word_ok(w[3])) {
		imu_warn(p, "%s: not translated: portgate's rules are %s EXTPORTS ADDRESS[/LEN] "
		    "INTPORTS (a description pattern is not taken)", w[0], w[0]);
		return;
	}
	imu_out(p, "%s %s %s %s", w[0], w[1], w[2], w[3]);
}

static void
imu_conf_line(struct imu_parse *p, char *l)
{
	char *eq, *key, *v, *e;
	size_t i;

	while (*l == ' ' || *l == '\t')
		l++;
	for (e = l + strlen(l); e > l && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
		;
	*e = '\0';
	if (*l == '\0' || *l == '#')
		return;
	if (strncmp(l, "allow", 5) == 0 || strncmp(l, "deny", 4) == 0) {
		if (l[l[0] == 'a' ? 5 : 4] == ' ' || l[l[0] == 'a' ? 5 : 4] == '\t') {
			imu_rule(p, l);
			return;
		}
	}
	if ((eq = strchr(l, '=')) == NULL) {
		imu_warn(p, "not a KEY=VALUE line");
		return;
	}
	*eq = '\0';
	key = l;
	v = eq + 1;
	for (e = eq; e > key && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	for (i = 0; i < PG_NELEM(imu_keys); i++)
		if (strcmp(imu_keys[i].mu, key) == 0) {
			imu_keys[i].fn(p, &imu_keys[i], v);
			return;
		}
	imu_warn(p, "%.64s: not a miniupnpd key portgate knows: not translated", key);
}

/* Each line of text (NUL and overlong ones are refused) to fn. */
static void
imu_lines(struct imu_parse *p, const char *text, size_t len, void (*fn)(struct imu_parse *,
    char *))
{
	char l[IMU_LINE_MAX];
	size_t off = 0, n;
	const char *nl;

	while (off < len) {
		p->line++;
		nl = memchr(text + off, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		if (n >= sizeof(l))
			imu_warn(p, "line too long: skipped");
		else if (memchr(text + off, '\0', n) != NULL)
			imu_warn(p, "a NUL octet: skipped");
		else {
			memcpy(l, text + off, n);
			l[n] = '\0';
			fn(p, l);
		}
		off += n + 1;
	}
}

unsigned
imu_conf(const char *file, const char *text, size_t len, const struct imu_hooks *h)
{
	struct imu_parse p;

	memset(&p, 0, sizeof(p));
	p.h = h;
	p.file = file;
	imu_out(&p, "# portgated.conf from %s (portgatectl import-miniupnpd); see portgated.conf(5)",
	    file);
	imu_lines(&p, text, len, imu_conf_line);
	p.line = 0;
	if (!p.have_wan)
		imu_warn(&p, "no ext_ifname: set wan_interface");
	if (!p.have_lan)
		imu_warn(&p, "no listening_ip: set lan_interface");
	return p.bad;
}

/* ---- the lease file ---- */

struct imu_lease_parse {
	struct imu_parse	 p;
	time_t			 now;
};

/* The next ':'-separated field of *s (its end made NUL), or NULL. */
static char *
imu_field(char **s)
{
	char *f = *s, *c;

	if (f == NULL || (c = strchr(f, ':')) == NULL)
		return NULL;
	*c = '\0';
	*s = c + 1;
	return f;
}

static int
imu_all_digits(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return i > 0 && i <= 10;
}

/* The lease's time left from miniupnpd's TIMESTAMP; -1 if it has ended. */
static long
imu_left(time_t now, unsigned long ts)
{
	if (ts == 0)
		return 0;
	if (ts < IMU_REMAINING_MAX)		/* LEASEFILE_USE_REMAINING_TIME: time left */
		return (long)ts;
	if ((time_t)ts <= now)
		return -1;
	return (long)((time_t)ts - now);
}

static void
imu_lease_desc(struct imu_parse *p, struct imu_lease *le, const char *d)
{
	if (util_text_problem(d, strlen(d), (size_t)-1) != NULL) {
		imu_warn(p, "the description is not text: dropped");
		return;
	}
	util_utf8_copy(le->desc, sizeof(le->desc), d);
	if (strlen(d) >= sizeof(le->desc))
		imu_warn(p, "the description is longer than portgate's %zu bytes: cut",
		    sizeof(le->desc) - 1);
}

static void
imu_lease_line(struct imu_parse *p, char *l)
{
	struct imu_lease_parse *lp = (struct imu_lease_parse *)(void *)p;
	char *rest = l, *proto, *ep, *ia, *ip, *ts;
	const char *d;
	unsigned long e, i, t = 0;
	struct imu_lease le;
	long left;

	if (l[0] == '\0')
		return;
	/* lease_file6's lines: PROTO;ADDR;PORT;REMOTE;PORT;UID;TIMESTAMP;DESC */
	if (strchr(l, ';') != NULL && (strchr(l, ':') == NULL || strchr(l, ';') < strchr(l, ':'))) {
		imu_warn(p, "an IPv6 pinhole lease (lease_file6): not imported");
		return;
	}
	memset(&le, 0, sizeof(le));
	le.line = p->line;
	proto = imu_field(&rest);
	ep = imu_field(&rest);
	ia = imu_field(&rest);
	ip = imu_field(&rest);
	if (proto == NULL || ep == NULL || ia == NULL || ip == NULL) {
		imu_warn(p, "not PROTO:EXTPORT:ADDRESS:PORT:TIMESTAMP:DESCRIPTION");
		return;
	}
	/* TIMESTAMP:DESC, or (before timestamps) DESC alone */
	d = rest;
	if ((ts = strchr(rest, ':')) != NULL) {
		*ts = '\0';
		if (imu_all_digits(rest)) {
			t = strtoul(rest, NULL, 10);
			d = ts + 1;
		} else
			*ts = ':';
	} else if (imu_all_digits(rest)) {
		t = strtoul(rest, NULL, 10);
		d = "";
	}
	if (strcmp(proto, "TCP") == 0 || strcmp(proto, "tcp") == 0)
		le.proto = MT_TCP;
	else if (strcmp(proto, "UDP") == 0 || strcmp(proto, "udp") == 0)
		le.proto = MT_UDP;
	else {
		imu_warn(p, "'%.16s' is not TCP or UDP", proto);
		return;
	}
	if (util_parse_uint(ep, 1, 65535, &e) == -1 || util_parse_uint(ip, 1, 65535, &i) == -1) {
		imu_warn(p, "a port is not 1-65535");
		return;
	}
	if (util_parse_addr(ia, &le.int_addr) == -1 || !util_addr_is_v4(&le.int_addr)) {
		imu_warn(p, "'%.46s' is not an IPv4 address", ia);
		return;
	}
	le.ext_port = (uint16_t)e;
	le.int_port = (uint16_t)i;
	if ((left = imu_left(lp->now, t)) < 0) {
		imu_warn(p, "%s %lu -> %s:%lu ended already: not imported", proto, e, ia, i);
		return;
	}
	le.lease_s = (uint32_t)left;
	imu_lease_desc(p, &le, d);
	if (p->h->lease != NULL)
		p->h->lease(p->h->arg, &le);
}

unsigned
imu_leases(const char *file, const char *text, size_t len, time_t now,
    const struct imu_hooks *h)
{
	struct imu_lease_parse lp;

	memset(&lp, 0, sizeof(lp));
	lp.p.h = h;
	lp.p.file = file;
	lp.now = now;
	imu_lines(&lp.p, text, len, imu_lease_line);
	return lp.p.bad;
}
