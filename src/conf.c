/* conf.c - configuration parsing through a keyword table. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "fw/fw.h"
#include "log.h"
#include "mt_vocab.h"
#include "pcp/pcpc_select.h"
#include "util.h"

#define CONF_LINE_MAX	1024
#define CONF_FILE_MAX	(1024 * 1024)
#define CONF_MAX_KEYWORDS	64	/* room in conf_parser.seen; checked below */
#define CONF_PATH_MAX	4000

struct conf_parser {
	struct pg_config	*cfg;
	const char		*file;
	unsigned		 line;
	unsigned		 nerr;
	conf_err_cb		*cb;
	void			*arg;
	unsigned		 seen[CONF_MAX_KEYWORDS];	/* line where each key was first given */
};

static void conf_error(struct conf_parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
conf_error(struct conf_parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->nerr++;
	if (p->cb != NULL)
		p->cb(p->arg, p->file, p->line, msg);
}

void
conf_err_log(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	if (line > 0)
		log_warnx("%s:%u: %s", file, line, msg);
	else
		log_warnx("%s: %s", file, msg);
}

static int
conf_set_string(struct conf_parser *p, char **dst, char *val)
{
	(void)p;
	free(*dst);
	*dst = xstrdup(val);
	return 0;
}

static int
conf_single_word(struct conf_parser *p, const char *key, char *val)
{
	if (val[0] == '\0' || strpbrk(val, " \t") != NULL) {
		conf_error(p, "%s takes one value", key);
		return -1;
	}
	return 0;
}

static int
conf_ifname(struct conf_parser *p, const char *key, char *val)
{
	if (conf_single_word(p, key, val) == -1)
		return -1;
	if (strlen(val) >= IF_NAMESIZE) {
		conf_error(p, "%s: '%s' is longer than %d characters, the limit for interface names",
		    key, val, IF_NAMESIZE - 1);
		return -1;
	}
	return 0;
}

static int
kw_wan(struct conf_parser *p, const char *key, char *val)
{
	if (conf_ifname(p, key, val) == -1)
		return -1;
	return conf_set_string(p, &p->cfg->wan_interface, val);
}

static int
kw_lan(struct conf_parser *p, const char *key, char *val)
{
	size_t i;

	if (conf_ifname(p, key, val) == -1)
		return -1;
	for (i = 0; i < p->cfg->nlan; i++)
		if (strcmp(p->cfg->lan_interface[i], val) == 0) {
			conf_error(p, "%s: %s is listed twice", key, val);
			return -1;
		}
	if (p->cfg->nlan == CONF_MAX_LAN) {
		conf_error(p, "too many lan_interface lines (at most %d)", CONF_MAX_LAN);
		return -1;
	}
	p->cfg->lan_interface[p->cfg->nlan++] = xstrdup(val);
	return 0;
}

static int
kw_external_ip(struct conf_parser *p, const char *key, char *val)
{
	if (conf_single_word(p, key, val) == -1)
		return -1;
	if (util_parse_addr(val, &p->cfg->external_ip) == -1 ||
	    !util_addr_is_v4(&p->cfg->external_ip)) {
		conf_error(p, "external_ip: '%s' is not an IPv4 address", val);
		return -1;
	}
	p->cfg->has_external_ip = 1;
	p->cfg->external_ip_fixed = 1;
	return 0;
}

static int
kw_firewall(struct conf_parser *p, const char *key, char *val)
{
	if (!fw_backend_valid(val)) {
		conf_error(p, "%s: '%s' is not one of: %s", key, val, fw_backend_names());
		return -1;
	}
	return conf_set_string(p, &p->cfg->firewall, val);
}

static int
kw_path(struct conf_parser *p, const char *key, char *val)
{
	char **dst = strcmp(key, "state_file") == 0 ? &p->cfg->state_file :
	    &p->cfg->control_socket;
	struct sockaddr_un sun;

	if (conf_single_word(p, key, val) == -1)
		return -1;
	if (val[0] != '/') {
		conf_error(p, "%s: '%s' is not an absolute path", key, val);
		return -1;
	}
	if (dst == &p->cfg->control_socket && strlen(val) >= sizeof(sun.sun_path)) {
		conf_error(p, "%s: path is too long for a unix socket (%zu bytes, at most %zu)", key,
		    strlen(val), sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (strlen(val) > CONF_PATH_MAX) {
		conf_error(p, "%s: path is too long (at most %d bytes)", key, CONF_PATH_MAX);
		return -1;
	}
	return conf_set_string(p, dst, val);
}

static int
kw_policy(struct conf_parser *p, const char *key, char *val)
{
	struct policy_rule r;
	char err[128];

	if (policy_parse_rule(&r, strcmp(key, "allow") == 0, val, err, sizeof(err)) == -1) {
		conf_error(p, "%s: %s", key, err);
		return -1;
	}
	policy_append(&p->cfg->policy, &r);
	return 0;
}

static int
kw_uint(struct conf_parser *p, const char *key, char *val, unsigned long max,
    unsigned long *out)
{
	if (util_parse_uint(val, 0, max, out) == -1) {
		conf_error(p, "%s: '%s' is not a number between 0 and %lu", key, val, max);
		return -1;
	}
	return 0;
}

static int
kw_max_lease(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (kw_uint(p, key, val, 31536000, &v) == -1)
		return -1;
	p->cfg->max_lease = (uint32_t)v;
	return 0;
}

static int
kw_max_per_client(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (kw_uint(p, key, val, 65535, &v) == -1)
		return -1;
	p->cfg->max_mappings_per_client = (unsigned)v;
	return 0;
}

static int
kw_nft_table(struct conf_parser *p, const char *key, char *val)
{
	size_t i;

	if (conf_single_word(p, key, val) == -1)
		return -1;
	for (i = 0; val[i] != '\0'; i++) {
		if (!(val[i] == '_' || (val[i] >= 'a' && val[i] <= 'z') ||
		    (val[i] >= 'A' && val[i] <= 'Z') || (i > 0 && val[i] >= '0' && val[i] <= '9')) ||
		    i >= 64) {
			conf_error(p, "%s: '%s' is not a valid table name", key, val);
			return -1;
		}
	}
	return conf_set_string(p, &p->cfg->nft_table, val);
}

static int
kw_bool(struct conf_parser *p, const char *key, char *val, int *out)
{
	if (strcmp(val, "yes") == 0 || strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
		*out = 1;
	else if (strcmp(val, "no") == 0 || strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
		*out = 0;
	else {
		conf_error(p, "%s: '%s' is not yes or no", key, val);
		return -1;
	}
	return 0;
}

static int
kw_nft_keep(struct conf_parser *p, const char *key, char *val)
{
	return kw_bool(p, key, val, strcmp(key, "hairpin") == 0 ? &p->cfg->hairpin :
	    &p->cfg->nft_keep_table);
}

static int
kw_nflog_group(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (kw_uint(p, key, val, 65535, &v) == -1)
		return -1;
	p->cfg->nflog_group = (unsigned)v;
	return 0;
}

static int
kw_idle_timeout(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (util_parse_uint(val, 1, 86400, &v) == -1) {
		conf_error(p, "%s: '%s' is not a number of seconds between 1 and 86400", key, val);
		return -1;
	}
	p->cfg->control_idle_timeout = (unsigned)v;
	return 0;
}

int
conf_pinhole_parse(struct conf_pinhole *ph, char *spec, char *err, size_t errlen)
{
	char *av[4], *desc;
	const char *bad;
	int v, n, i;

	memset(ph, 0, sizeof(*ph));
	/* PROTO, ENDPOINT, then "remote X" and "desc TEXT..." (the rest of the line) */
	if ((desc = strstr(spec, " desc ")) != NULL || (desc = strstr(spec, "\tdesc ")) != NULL) {
		*desc = '\0';
		desc += 6;
		desc += strspn(desc, " \t");
		if ((bad = util_text_problem(desc, strlen(desc), MT_DESC_MAX - 1)) != NULL) {
			snprintf(err, errlen, "bad description: %s", bad);
			return -1;
		}
		snprintf(ph->desc, sizeof(ph->desc), "%s", desc);
	}
	if ((n = util_split(spec, av, 4)) < 2) {
		snprintf(err, errlen, "expected PROTO [IPv6]:PORT [remote ADDR[/LEN][:PORT]] "
		    "[desc TEXT]");
		return -1;
	}
	if ((v = mt_proto_parse(av[0])) < 0) {
		snprintf(err, errlen, "bad protocol '%.16s' (tcp or udp)", av[0]);
		return -1;
	}
	ph->proto = (uint8_t)v;
	if (util_parse_endpoint6(av[1], &ph->addr, &ph->port) == -1) {
		snprintf(err, errlen, "bad endpoint '%.64s' ([IPv6]:PORT)", av[1]);
		return -1;
	}
	for (i = 2; i < n; i += 2) {
		if (i + 1 >= n) {
			snprintf(err, errlen, "'%.16s' needs a value", av[i]);
			return -1;
		}
		if (strcmp(av[i], "remote") == 0) {
			if (mt_filter_parse(av[i + 1], &ph->remote) == -1 ||
			    util_addr_is_v4(&ph->remote.addr)) {
				snprintf(err, errlen, "bad remote '%.64s' (IPv6[/LEN], "
				    "[IPv6[/LEN]]:PORT)", av[i + 1]);
				return -1;
			}
		} else {
			snprintf(err, errlen, "unknown word '%.16s' (remote, desc)", av[i]);
			return -1;
		}
	}
	return 0;
}

static int
kw_pinhole(struct conf_parser *p, const char *key, char *val)
{
	struct conf_pinhole ph, *n;
	char err[160];
	size_t i;

	if (conf_pinhole_parse(&ph, val, err, sizeof(err)) == -1) {
		conf_error(p, "%s: %s", key, err);
		return -1;
	}
	for (i = 0; i < p->cfg->npinholes; i++) {
		const struct conf_pinhole *o = &p->cfg->pinholes[i];

		if (o->proto == ph.proto && o->port == ph.port &&
		    memcmp(&o->addr, &ph.addr, sizeof(ph.addr)) == 0 &&
		    memcmp(&o->remote, &ph.remote, sizeof(ph.remote)) == 0) {
			conf_error(p, "%s: the same pinhole twice", key);
			return -1;
		}
	}
	if (p->cfg->npinholes >= CONF_MAX_PINHOLES) {
		conf_error(p, "%s: more than %d pinholes", key, CONF_MAX_PINHOLES);
		return -1;
	}
	n = reallocarray(p->cfg->pinholes, p->cfg->npinholes + 1, sizeof(*n));
	if (n == NULL)
		fatal("conf: pinhole");
	p->cfg->pinholes = n;
	p->cfg->pinholes[p->cfg->npinholes++] = ph;
	return 0;
}

static int
kw_trigger(struct conf_parser *p, const char *key, char *val)
{
	struct trig_rule r, *n;
	char err[160];
	size_t i;

	if (trig_rule_parse(&r, val, err, sizeof(err)) == -1) {
		conf_error(p, "%s: %s", key, err);
		return -1;
	}
	for (i = 0; i < p->cfg->ntriggers; i++) {
		if (trig_rule_overlap(&p->cfg->triggers[i], &r, err, sizeof(err))) {
			conf_error(p, "%s: %s", key, err);
			return -1;
		}
	}
	n = reallocarray(p->cfg->triggers, p->cfg->ntriggers + 1, sizeof(*n));
	if (n == NULL)
		fatal("conf: trigger");
	p->cfg->triggers = n;
	p->cfg->triggers[p->cfg->ntriggers++] = r;
	return 0;
}

static int
kw_upnp_bool(struct conf_parser *p, const char *key, char *val)
{
	return kw_bool(p, key, val, strcmp(key, "upnp") == 0 ? &p->cfg->upnp :
	    strcmp(key, "upnp_pinholes") == 0 ? &p->cfg->upnp_pinholes : &p->cfg->upnp_secure_mode);
}

static int
kw_pcp_bool(struct conf_parser *p, const char *key, char *val)
{
	int *dst = strcmp(key, "pcp") == 0 ? &p->cfg->pcp : strcmp(key, "natpmp") == 0 ?
	    &p->cfg->natpmp : strcmp(key, "pcp_pinholes") == 0 ? &p->cfg->pcp_pinholes :
	    &p->cfg->pcp_allow_third_party;

	return kw_bool(p, key, val, dst);
}

static int
kw_pcp_min_lifetime(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (util_parse_uint(val, 1, 86400, &v) == -1) {
		conf_error(p, "%s: '%s' is not a number of seconds between 1 and 86400", key, val);
		return -1;
	}
	p->cfg->pcp_min_lifetime = (uint32_t)v;
	return 0;
}

static int
kw_pcp_max_filters(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (kw_uint(p, key, val, MT_MAX_FILTERS, &v) == -1)
		return -1;
	p->cfg->pcp_max_filters = (unsigned)v;
	return 0;
}

static int
kw_pcp_rate(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (kw_uint(p, key, val, 100000, &v) == -1)
		return -1;
	p->cfg->pcp_rate_limit = (unsigned)v;
	return 0;
}

/* upstream_pcp = off | auto | ADDR (an IPv4 server: the upstream mappings are IPv4's) */
static int
kw_upstream_pcp(struct conf_parser *p, const char *key, char *val)
{
	struct in6_addr a;

	if (conf_single_word(p, key, val) == -1)
		return -1;
	if (strcmp(val, "off") == 0 || strcmp(val, "auto") == 0) {
		p->cfg->upstream_pcp = val[0] == 'o' ? CONF_UPSTREAM_OFF : CONF_UPSTREAM_AUTO;
		return 0;
	}
	if (util_parse_addr(val, &a) == -1) {
		conf_error(p, "%s: '%s' is not off, auto or an IPv4 address", key, val);
		return -1;
	}
	if (!util_addr_is_v4(&a)) {
		conf_error(p, "%s: %s is IPv6; the upstream mappings are IPv4's: name an IPv4 "
		    "server", key, val);
		return -1;
	}
	if (!pcpc_select_addr_ok(&a)) {
		conf_error(p, "%s: %s is not a unicast address a PCP server may have", key, val);
		return -1;
	}
	p->cfg->upstream_pcp = CONF_UPSTREAM_ADDR;
	p->cfg->upstream_pcp_addr = a;
	return 0;
}

static int
kw_upstream_file(struct conf_parser *p, const char *key, char *val)
{
	if (conf_single_word(p, key, val) == -1)
		return -1;
	if (val[0] != '/' || strlen(val) > CONF_PATH_MAX) {
		conf_error(p, "%s: '%.64s' is not an absolute path of at most %d bytes", key, val,
		    CONF_PATH_MAX);
		return -1;
	}
	return conf_set_string(p, &p->cfg->upstream_pcp_file, val);
}

static int
kw_upstream_max(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (kw_uint(p, key, val, 65535, &v) == -1)
		return -1;
	p->cfg->upstream_max_mappings = (unsigned)v;
	return 0;
}

const char *
conf_upstream_name(const struct pg_config *c, char *buf, size_t len)
{
	if (c->upstream_pcp == CONF_UPSTREAM_OFF)
		return "off";
	if (c->upstream_pcp == CONF_UPSTREAM_AUTO)
		return "auto";
	return util_addr_str(&c->upstream_pcp_addr, buf, len);
}

static int
kw_upnp_port(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (util_parse_uint(val, 1, 65535, &v) == -1) {
		conf_error(p, "%s: '%s' is not a port between 1 and 65535", key, val);
		return -1;
	}
	if (v == 1900 || v == 5351) {
		conf_error(p, "%s: %lu is taken by SSDP or PCP", key, v);
		return -1;
	}
	p->cfg->upnp_http_port = (unsigned)v;
	return 0;
}

static int
kw_notify_interval(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (util_parse_uint(val, 30, 86400, &v) == -1) {
		conf_error(p, "%s: '%s' is not a number of seconds between 30 and 86400", key, val);
		return -1;
	}
	p->cfg->upnp_notify_interval = (unsigned)v;
	return 0;
}

static const char *const conf_igd_versions[] = {
	[CONF_IGD_AUTO] = "auto",
	[CONF_IGD_V1] = "1",
	[CONF_IGD_V2] = "2",
};

const char *
conf_igd_version_name(enum conf_igd_version v)
{
	return (size_t)v < PG_NELEM(conf_igd_versions) ? conf_igd_versions[v] : "?";
}

static int
kw_igd_version(struct conf_parser *p, const char *key, char *val)
{
	size_t i;

	for (i = 0; i < PG_NELEM(conf_igd_versions); i++) {
		if (strcmp(val, conf_igd_versions[i]) == 0) {
			p->cfg->upnp_igd_version = (enum conf_igd_version)i;
			return 0;
		}
	}
	conf_error(p, "%s: '%s' is not one of: auto, 1, 2", key, val);
	return -1;
}

/* user, group: a system account's name (whether it exists is the daemon's start-up check). */
static int
kw_account(struct conf_parser *p, const char *key, char *val)
{
	int user = strcmp(key, "user") == 0;
	size_t i, n = strlen(val);

	if (conf_single_word(p, key, val) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (!((val[i] >= 'a' && val[i] <= 'z') || val[i] == '_' ||
		    (i > 0 && ((val[i] >= '0' && val[i] <= '9') || val[i] == '-'))))
			break;
	if (n == 0 || n > 32 || i < n) {
		conf_error(p, "%s: '%s' is not an account name (a-z, 0-9, _ and -, at most 32, "
		    "not starting with a digit or -)", key, val);
		return -1;
	}
	if (user)
		p->cfg->user_line = p->line;
	else
		p->cfg->group_line = p->line;
	return conf_set_string(p, user ? &p->cfg->user : &p->cfg->group, val);
}

static int
kw_uuid(struct conf_parser *p, const char *key, char *val)
{
	if (conf_single_word(p, key, val) == -1)
		return -1;
	if (!util_uuid_ok(val)) {
		conf_error(p, "%s: '%s' is not a UUID (8-4-4-4-12 hex digits)", key, val);
		return -1;
	}
	return conf_set_string(p, &p->cfg->uuid, val);
}

static int
kw_friendly_name(struct conf_parser *p, const char *key, char *val)
{
	const char *why = util_text_problem(val, strlen(val), CONF_FRIENDLY_MAX - 1);

	if (why != NULL) {
		conf_error(p, "%s: %s", key, why);
		return -1;
	}
	return conf_set_string(p, &p->cfg->friendly_name, val);
}

/* dhcp_leases = FORMAT:PATH: a DHCP server's lease file, for host names. */
static int
kw_dhcp_leases(struct conf_parser *p, const char *key, char *val)
{
	struct hn_file *f;
	char *path;
	size_t i;
	int fmt;

	if (conf_single_word(p, key, val) == -1)
		return -1;
	if ((path = strchr(val, ':')) == NULL) {
		conf_error(p, "%s: '%s' is not FORMAT:PATH (FORMAT dnsmasq or odhcpd)", key, val);
		return -1;
	}
	*path++ = '\0';
	if ((fmt = hostnames_format_parse(val)) < 0) {
		conf_error(p, "%s: '%s' is not a lease file format (dnsmasq or odhcpd)", key, val);
		return -1;
	}
	if (path[0] != '/') {
		conf_error(p, "%s: '%s' is not an absolute path", key, path);
		return -1;
	}
	if (strlen(path) > CONF_PATH_MAX) {
		conf_error(p, "%s: path is too long (at most %d bytes)", key, CONF_PATH_MAX);
		return -1;
	}
	for (i = 0; i < p->cfg->ndhcp_leases; i++)
		if (strcmp(p->cfg->dhcp_leases[i].path, path) == 0) {
			conf_error(p, "%s: %s is listed twice", key, path);
			return -1;
		}
	if (p->cfg->ndhcp_leases == HN_FILES_MAX) {
		conf_error(p, "too many dhcp_leases lines (at most %d)", HN_FILES_MAX);
		return -1;
	}
	f = &p->cfg->dhcp_leases[p->cfg->ndhcp_leases++];
	f->format = (enum hn_format)fmt;
	f->path = xstrdup(path);
	return 0;
}

/* ADDR:PORT or [IPv6]:PORT: a unicast address of one host (the check at start says whose). */
static int
kw_admin_listen(struct conf_parser *p, const char *key, char *val)
{
	struct conf_listen *l = &p->cfg->admin_listen[p->cfg->nadmin_listen];
	char *colon = strrchr(val, ':'), *addr = val;
	unsigned long port;
	size_t i, alen;

	if (p->cfg->nadmin_listen == CONF_MAX_ADMIN_LISTEN) {
		conf_error(p, "%s: more than %d addresses", key, CONF_MAX_ADMIN_LISTEN);
		return -1;
	}
	if (conf_single_word(p, key, val) == -1)
		return -1;
	if (colon == NULL || util_parse_uint(colon + 1, 1, 65535, &port) == -1) {
		conf_error(p, "%s: '%s' is not ADDR:PORT or [IPv6]:PORT (port 1-65535)", key, val);
		return -1;
	}
	*colon = '\0';
	alen = strlen(addr);
	if (addr[0] == '[' && alen > 2 && addr[alen - 1] == ']') {
		addr[alen - 1] = '\0';
		addr++;
	} else if (strchr(addr, ':') != NULL || addr[0] == '[') {
		conf_error(p, "%s: an IPv6 address is written [ADDR]:PORT", key);
		return -1;
	}
	memset(l, 0, sizeof(*l));
	if (util_parse_addr(addr, &l->addr) == -1 || (val[0] == '[') == util_addr_is_v4(&l->addr)) {
		conf_error(p, "%s: '%s' is not an IPv4 or IPv6 address", key, addr);
		return -1;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&l->addr) || (util_addr_is_v4(&l->addr) &&
	    l->addr.s6_addr[12] == 0) || IN6_IS_ADDR_MULTICAST(&l->addr) ||
	    (util_addr_is_v4(&l->addr) && l->addr.s6_addr[12] >= 224) ||
	    IN6_IS_ADDR_LINKLOCAL(&l->addr)) {
		conf_error(p, "%s: %s is not the address of one interface (a wildcard, multicast "
		    "or link-local address); name a LAN or loopback address", key, addr);
		return -1;
	}
	l->port = (uint16_t)port;
	l->line = p->line;
	for (i = 0; i < p->cfg->nadmin_listen; i++)
		if (memcmp(&p->cfg->admin_listen[i].addr, &l->addr, sizeof(l->addr)) == 0 &&
		    p->cfg->admin_listen[i].port == l->port) {
			conf_error(p, "%s: the same address twice (line %u)", key,
			    p->cfg->admin_listen[i].line);
			return -1;
		}
	p->cfg->nadmin_listen++;
	return 0;
}

static int
kw_admin_path(struct conf_parser *p, const char *key, char *val)
{
	char **dst = strcmp(key, "admin_tls_cert") == 0 ? &p->cfg->admin_tls_cert :
	    strcmp(key, "admin_tls_key") == 0 ? &p->cfg->admin_tls_key :
	    strcmp(key, "admin_password_file") == 0 ? &p->cfg->admin_password_file :
	    &p->cfg->admin_metrics_token_file;

	if (conf_single_word(p, key, val) == -1)
		return -1;
	if (val[0] != '/' || strlen(val) > CONF_PATH_MAX) {
		conf_error(p, "%s: '%.64s' is not an absolute path of at most %d bytes", key, val,
		    CONF_PATH_MAX);
		return -1;
	}
	return conf_set_string(p, dst, val);
}

static int
kw_admin_idle(struct conf_parser *p, const char *key, char *val)
{
	unsigned long v;

	if (util_parse_uint(val, 1, 604800, &v) == -1) {
		conf_error(p, "%s: '%s' is not a number of seconds between 1 and 604800", key, val);
		return -1;
	}
	p->cfg->admin_session_idle = (unsigned)v;
	return 0;
}

static const struct {
	const char	*key;
	int		(*fn)(struct conf_parser *, const char *, char *);
	int		 repeat;	/* may be given more than once */
} conf_keywords[] = {
	{ "wan_interface", kw_wan, 0 },
	{ "lan_interface", kw_lan, 1 },
	{ "external_ip", kw_external_ip, 0 },
	{ "firewall", kw_firewall, 0 },
	{ "state_file", kw_path, 0 },
	{ "control_socket", kw_path, 0 },
	{ "allow", kw_policy, 1 },
	{ "deny", kw_policy, 1 },
	{ "max_lease", kw_max_lease, 0 },
	{ "max_mappings_per_client", kw_max_per_client, 0 },
	{ "nft_table", kw_nft_table, 0 },
	{ "nft_keep_table", kw_nft_keep, 0 },
	{ "hairpin", kw_nft_keep, 0 },
	{ "nflog_group", kw_nflog_group, 0 },
	{ "trigger", kw_trigger, 1 },
	{ "pinhole", kw_pinhole, 1 },
	{ "control_idle_timeout", kw_idle_timeout, 0 },
	{ "upnp", kw_upnp_bool, 0 },
	{ "upnp_http_port", kw_upnp_port, 0 },
	{ "upnp_notify_interval", kw_notify_interval, 0 },
	{ "upnp_secure_mode", kw_upnp_bool, 0 },
	{ "upnp_pinholes", kw_upnp_bool, 0 },
	{ "upnp_igd_version", kw_igd_version, 0 },
	{ "friendly_name", kw_friendly_name, 0 },
	{ "uuid", kw_uuid, 0 },
	{ "pcp", kw_pcp_bool, 0 },
	{ "natpmp", kw_pcp_bool, 0 },
	{ "pcp_min_lifetime", kw_pcp_min_lifetime, 0 },
	{ "pcp_allow_third_party", kw_pcp_bool, 0 },
	{ "pcp_pinholes", kw_pcp_bool, 0 },
	{ "pcp_max_filters", kw_pcp_max_filters, 0 },
	{ "pcp_rate_limit", kw_pcp_rate, 0 },
	{ "upstream_pcp", kw_upstream_pcp, 0 },
	{ "upstream_pcp_file", kw_upstream_file, 0 },
	{ "upstream_max_mappings", kw_upstream_max, 0 },
	{ "dhcp_leases", kw_dhcp_leases, 1 },
	{ "admin_listen", kw_admin_listen, 1 },
	{ "admin_tls_cert", kw_admin_path, 0 },
	{ "admin_tls_key", kw_admin_path, 0 },
	{ "admin_password_file", kw_admin_path, 0 },
	{ "admin_metrics_token_file", kw_admin_path, 0 },
	{ "admin_session_idle", kw_admin_idle, 0 },
	{ "user", kw_account, 0 },
	{ "group", kw_account, 0 },
};
_Static_assert(PG_NELEM(conf_keywords) <= CONF_MAX_KEYWORDS, "conf_parser.seen is too small");

static char *
conf_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static void
conf_line(struct conf_parser *p, char *line)
{
	char *hash, *key, *val;
	size_t i, klen;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	line = conf_trim(line);
	if (*line == '\0')
		return;
	klen = strcspn(line, " \t=");
	key = line;
	val = line + klen;
	val += strspn(val, " \t");
	if (*val == '=')
		val++;
	key[klen] = '\0';
	val = conf_trim(val);
	for (i = 0; i < PG_NELEM(conf_keywords); i++) {
		if (strcmp(conf_keywords[i].key, key) != 0)
			continue;
		if (!conf_keywords[i].repeat && p->seen[i] != 0)
			conf_error(p, "%s given again (first on line %u)", key, p->seen[i]);
		else if (*val == '\0')
			conf_error(p, "%s: missing value", key);
		else
			conf_keywords[i].fn(p, key, val);
		if (p->seen[i] == 0)
			p->seen[i] = p->line;
		return;
	}
	conf_error(p, "unknown keyword '%s'", key);
}

static void
conf_defaults(struct pg_config *c)
{
	c->firewall = xstrdup(fw_backend_default());
	c->state_file = xstrdup("/var/lib/portgate/state");
	c->control_socket = xstrdup("/run/portgate/portgated.sock");
	c->nft_table = xstrdup("portgate");
	c->max_lease = 86400;
	c->max_mappings_per_client = 128;
	c->nflog_group = 7339;
	c->hairpin = 1;
	c->control_idle_timeout = 60;
	c->upnp = 1;
	c->upnp_http_port = 5000;
	c->upnp_notify_interval = 900;
	c->upnp_secure_mode = 1;
	c->upnp_pinholes = 1;
	c->upnp_igd_version = CONF_IGD_AUTO;
	c->pcp_pinholes = 1;
	c->friendly_name = xstrdup("portgate Internet Gateway");
	c->pcp = 1;
	c->natpmp = 1;
	c->pcp_min_lifetime = 120;
	c->pcp_max_filters = 4;
	c->pcp_rate_limit = 20;
	c->upstream_pcp = CONF_UPSTREAM_AUTO;
	c->upstream_max_mappings = 1024;
	c->admin_session_idle = 900;
}

/* The admin server's keys together: TLS needs both files, a server needs a way in. */
static void
conf_check_admin(struct conf_parser *p)
{
	const struct pg_config *c = p->cfg;
	size_t i;

	if ((c->admin_tls_cert == NULL) != (c->admin_tls_key == NULL))
		conf_error(p, "admin_tls_cert and admin_tls_key go together: set both or neither");
	if (c->nadmin_listen > 0 && c->admin_password_file == NULL &&
	    c->admin_metrics_token_file == NULL)
		conf_error(p, "admin_listen needs admin_password_file (or at least "
		    "admin_metrics_token_file): nobody could use the admin server");
	for (i = 0; i < c->nadmin_listen; i++)
		if (c->upnp && c->admin_listen[i].port == c->upnp_http_port &&
		    !IN6_IS_ADDR_LOOPBACK(&c->admin_listen[i].addr) &&
		    !(util_addr_is_v4(&c->admin_listen[i].addr) &&
		    c->admin_listen[i].addr.s6_addr[12] == 127)) {
			p->line = c->admin_listen[i].line;
			conf_error(p, "admin_listen: port %u is upnp_http_port's (the UPnP server "
			    "listens there on every LAN address)", c->upnp_http_port);
			p->line = 0;
		}
}

/* The line a key was first given on (0: not given). */
static unsigned
conf_seen(const struct conf_parser *p, const char *key)
{
	size_t i;

	for (i = 0; i < PG_NELEM(conf_keywords); i++)
		if (strcmp(conf_keywords[i].key, key) == 0)
			return p->seen[i];
	return 0;
}

static void
conf_check(struct conf_parser *p)
{
	size_t i;

	p->line = 0;
	/* the WAN as a LAN interface would open the service ports and the table to the WAN */
	for (i = 0; p->cfg->wan_interface != NULL && i < p->cfg->nlan; i++)
		if (strcmp(p->cfg->lan_interface[i], p->cfg->wan_interface) == 0)
			conf_error(p, "lan_interface: %s is the wan_interface; a LAN interface "
			    "must not be the WAN one", p->cfg->wan_interface);
	conf_check_admin(p);
	/* the upstream mappings are the WAN address's: with none to name, nothing to ask for */
	if (p->cfg->upstream_pcp == CONF_UPSTREAM_ADDR && p->cfg->wan_interface == NULL) {
		p->line = conf_seen(p, "upstream_pcp");
		conf_error(p, "upstream_pcp names a server but there is no wan_interface: the "
		    "upstream mappings are for its address");
		p->line = 0;
	}
	if (fw_backend_in_kernel(p->cfg->firewall)) {
		if (p->cfg->wan_interface == NULL)
			conf_error(p, "wan_interface is required with firewall = %s",
			    p->cfg->firewall);
		if (p->cfg->nlan == 0)
			conf_error(p, "at least one lan_interface is required with firewall = %s",
			    p->cfg->firewall);
	}
}

struct pg_config *
conf_parse(const char *name, const char *text, size_t len, conf_err_cb *cb, void *arg)
{
	struct conf_parser p;
	char line[CONF_LINE_MAX];
	size_t off = 0, n;
	const char *nl;

	memset(&p, 0, sizeof(p));
	p.cfg = xcalloc(1, sizeof(*p.cfg));
	p.cfg->path = xstrdup(name);
	p.file = name;
	p.cb = cb;
	p.arg = arg;
	conf_defaults(p.cfg);
	while (off < len) {
		p.line++;
		nl = memchr(text + off, '\n', len - off);
		n = nl ? (size_t)(nl - (text + off)) : len - off;
		if (n >= sizeof(line))
			conf_error(&p, "line too long (max %d)", CONF_LINE_MAX - 1);
		else if (memchr(text + off, '\0', n) != NULL)
			conf_error(&p, "NUL byte in line");
		else {
			memcpy(line, text + off, n);
			line[n] = '\0';
			conf_line(&p, line);
		}
		off += n + 1;
	}
	conf_check(&p);
	if (p.nerr > 0) {
		conf_free(p.cfg);
		return NULL;
	}
	return p.cfg;
}

/* The whole file, or NULL after reporting why (never a silently cut file). */
static char *
conf_read(const char *path, size_t *len, conf_err_cb *cb, void *arg)
{
	char msg[256], *buf;
	struct stat st;
	ssize_t n;
	int fd;

	msg[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
	else if (fstat(fd, &st) == -1)
		snprintf(msg, sizeof(msg), "cannot stat: %s", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		snprintf(msg, sizeof(msg), "is a directory, not a configuration file");
	else if (!S_ISREG(st.st_mode))
		snprintf(msg, sizeof(msg), "is not a regular file");
	else if (st.st_size > CONF_FILE_MAX)
		snprintf(msg, sizeof(msg), "too large (%lld bytes, at most %d)",
		    (long long)st.st_size, CONF_FILE_MAX);
	if (msg[0] == '\0') {
		buf = xcalloc(1, CONF_FILE_MAX + 2);
		*len = 0;
		while ((n = read(fd, buf + *len, CONF_FILE_MAX + 1 - *len)) > 0)
			*len += (size_t)n;
		if (n == -1)
			snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno));
		else if (*len > CONF_FILE_MAX)	/* grew while we read it */
			snprintf(msg, sizeof(msg), "too large (more than %d bytes)", CONF_FILE_MAX);
		else {
			close(fd);
			return buf;
		}
		free(buf);
	}
	if (fd != -1)
		close(fd);
	if (cb != NULL)
		cb(arg, path, 0, msg);
	return NULL;
}

struct pg_config *
conf_load(const char *path, conf_err_cb *cb, void *arg)
{
	struct pg_config *c;
	size_t len;
	char *buf;

	if ((buf = conf_read(path, &len, cb, arg)) == NULL)
		return NULL;
	c = conf_parse(path, buf, len, cb, arg);
	free(buf);
	return c;
}

void
conf_free(struct pg_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->wan_interface);
	for (i = 0; i < c->nlan; i++)
		free(c->lan_interface[i]);
	free(c->firewall);
	free(c->state_file);
	free(c->control_socket);
	free(c->nft_table);
	free(c->friendly_name);
	for (i = 0; i < c->ndhcp_leases; i++)
		free(c->dhcp_leases[i].path);
	free(c->admin_tls_cert);
	free(c->admin_tls_key);
	free(c->admin_password_file);
	free(c->admin_metrics_token_file);
	free(c->upstream_pcp_file);
	free(c->uuid);
	free(c->user);
	free(c->group);
	policy_clear(&c->policy);
	free(c->triggers);
	free(c->pinholes);
	free(c);
}
