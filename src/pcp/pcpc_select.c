/*
 * pcpc_select.c - the upstream PCP servers to ask, and their order.
 *
 * RFC 6887 §8.1: a PCP server configured (in a configuration file, or by
 * DHCP) is the list, as one source; else the default routers are. RFC 7291
 * gives a DHCP option per server (each instance a list of one server's
 * addresses), which a DHCP client's hook writes here one line per instance.
 * RFC 7488 tries a server's addresses one at a time, in order, and keeps the
 * one that answers (pcp_client does); the servers are kept in the order the
 * option gave them. Only IPv4 is used: the mappings asked for upstream are
 * the gateway's IPv4 WAN address's.
 *
 * The default gateway comes from a route dump over rtnetlink (libmnl builds
 * and walks the messages): a unicast default route of the main table out of
 * the WAN interface, or a multipath one with a hop out of it, by metric; a
 * route with no gateway (a point-to-point link) stands for the link's peer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pcp/pcpc_select.h"
#include "util.h"

int
pcpc_select_addr_ok(const struct in6_addr *a)
{
	const uint8_t *b = &a->s6_addr[12];

	return util_addr_is_v4(a) && b[0] != 0 && b[0] != 127 && b[0] < 224;
}

static const char *const source_names[] = {
	[PCPC_SRC_CONFIG] = "config",
	[PCPC_SRC_FILE] = "file",
	[PCPC_SRC_GATEWAY] = "gateway",
};

const char *
pcpc_source_name(enum pcpc_source s)
{
	return (size_t)s < PG_NELEM(source_names) ? source_names[s] : "?";
}

/* ---- upstream_pcp_file ---- */

struct sel_parse {
	struct pcpc_server	*out;
	size_t			 max, n;
	unsigned		 line;
	pcpc_select_warn_fn	*warn;
	void			*arg;
};

/* A warning about word (NULL: the line) of the line being read. */
static void
sel_warn(struct sel_parse *sp, const char *word, const char *what)
{
	char msg[160];

	if (word != NULL)
		snprintf(msg, sizeof(msg), "'%.64s' %s", word, what);
	else
		snprintf(msg, sizeof(msg), "%s", what);
	if (sp->warn != NULL)
		sp->warn(sp->arg, sp->line, msg);
}

/* 1 if a is one of a server's already. */
static int
sel_known(const struct sel_parse *sp, const struct pcpc_server *cur, const struct in6_addr *a)
{
	size_t i, j;

	for (i = 0; i < sp->n; i++)
		for (j = 0; j < sp->out[i].naddr; j++)
			if (memcmp(&sp->out[i].addr[j], a, sizeof(*a)) == 0)
				return 1;
	for (j = 0; j < cur->naddr; j++)
		if (memcmp(&cur->addr[j], a, sizeof(*a)) == 0)
			return 1;
	return 0;
}

/* One word of a line: an address for cur, or a warning why not. */
static void
sel_word(struct sel_parse *sp, struct pcpc_server *cur, const char *w)
{
	struct in6_addr a;

	if (util_parse_addr(w, &a) == -1)
		sel_warn(sp, w, "is not an address: skipped");
	else if (!util_addr_is_v4(&a))
		sel_warn(sp, w, "is IPv6: skipped (the upstream mappings are IPv4's)");
	else if (!pcpc_select_addr_ok(&a))
		sel_warn(sp, w, "is not a unicast address a server may have: skipped");
	else if (sel_known(sp, cur, &a))
		sel_warn(sp, w, "is named twice: skipped");
	else if (cur->naddr == PCPC_SERVER_ADDRS)
		sel_warn(sp, w, "is past a server's first four addresses: skipped");
	else
		cur->addr[cur->naddr++] = a;
}

static void
sel_line(struct sel_parse *sp, char *line)
{
	struct pcpc_server cur;
	char *hash, *w, *save;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	memset(&cur, 0, sizeof(cur));
	cur.source = PCPC_SRC_FILE;
	cur.line = sp->line;
	for (w = strtok_r(line, " \t\r", &save); w != NULL; w = strtok_r(NULL, " \t\r", &save))
		sel_word(sp, &cur, w);
	if (cur.naddr == 0)
		return;
	if (sp->n == sp->max) {
		sel_warn(sp, NULL, "a server past the first eight: skipped");
		return;
	}
	sp->out[sp->n++] = cur;
}

size_t
pcpc_select_parse(const char *text, size_t len, struct pcpc_server *out, size_t max,
    pcpc_select_warn_fn *warn, void *arg)
{
	struct sel_parse sp = { out, max, 0, 0, warn, arg };
	char line[PCPC_SELECT_LINE_MAX];
	size_t off = 0, n;
	const char *nl;

	while (off < len) {
		sp.line++;
		nl = memchr(text + off, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		if (n >= sizeof(line))
			sel_warn(&sp, NULL, "line too long: skipped");
		else if (memchr(text + off, '\0', n) != NULL)
			sel_warn(&sp, NULL, "a NUL octet: skipped");
		else {
			memcpy(line, text + off, n);
			line[n] = '\0';
			sel_line(&sp, line);
		}
		off += n + 1;
	}
	return sp.n;
}

static void
sel_log(void *arg, unsigned line, const char *msg)
{
	const char *path = arg;

	if (line > 0)
		log_warnx("%s:%u: %s", path, line, msg);
	else
		log_warnx("%s: %s", path, msg);
}

size_t
pcpc_select_read(const char *path, struct pcpc_server *out, size_t max)
{
	char buf[PCPC_SELECT_FILE_MAX + 1];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			log_debug("pcpc: %s: none (no PCP server from DHCP)", path);
		else
			log_warn("pcpc: %s", path);
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		sel_log((void *)(uintptr_t)path, 0, "not a regular file");
		close(fd);
		return 0;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len > PCPC_SELECT_FILE_MAX) {
		sel_log((void *)(uintptr_t)path, 0, "longer than 64 KiB: not read");
		return 0;
	}
	return pcpc_select_parse(buf, len, out, max, sel_log, (void *)(uintptr_t)path);
}

/* ---- the default gateway ---- */

struct sel_attrs {
	const struct nlattr	*tb[RTA_MAX + 1];
};

static int
sel_attr(const struct nlattr *a, void *arg)
{
	struct sel_attrs *at = arg;
	uint16_t type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == RTA_OIF || type == RTA_PRIORITY || type == RTA_TABLE) &&
	    mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	if (type == RTA_GATEWAY && mnl_attr_get_payload_len(a) != 4)
		return MNL_CB_OK;
	at->tb[type] = a;
	return MNL_CB_OK;
}

/* Add a gateway (all zeros: none, the link's peer) in metric order, once. */
static int
sel_add_gw(const struct nlattr *gwa, uint32_t metric, struct pcpc_gateway *gw, size_t max,
    size_t *n)
{
	struct in6_addr a;
	size_t i;

	memset(&a, 0, sizeof(a));
	if (gwa != NULL) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], mnl_attr_get_payload(gwa), 4);
		if (!pcpc_select_addr_ok(&a))
			return 0;
	}
	for (i = 0; i < *n; i++)
		if (memcmp(&gw[i].addr, &a, sizeof(a)) == 0)
			return 0;
	if (*n == max)
		return 0;
	for (i = *n; i > 0 && gw[i - 1].metric > metric; i--)
		gw[i] = gw[i - 1];
	gw[i].addr = a;
	gw[i].metric = metric;
	(*n)++;
	return 1;
}

/* RTA_MULTIPATH: the hops out of ifindex. */
static int
sel_multipath(const struct nlattr *mp, unsigned ifindex, uint32_t metric,
    struct pcpc_gateway *gw, size_t max, size_t *n)
{
	const uint8_t *p = mnl_attr_get_payload(mp);
	size_t left = mnl_attr_get_payload_len(mp);
	const struct rtnexthop *nh;
	struct sel_attrs at;
	size_t step;
	int added = 0;

	while (left >= sizeof(*nh)) {
		nh = (const struct rtnexthop *)(const void *)p;
		if (nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > left)
			break;
		if ((unsigned)nh->rtnh_ifindex == ifindex) {
			memset(&at, 0, sizeof(at));
			if (nh->rtnh_len > RTNH_LENGTH(0))
				mnl_attr_parse_payload(RTNH_DATA(nh), nh->rtnh_len - RTNH_LENGTH(0),
				    sel_attr, &at);
			added |= sel_add_gw(at.tb[RTA_GATEWAY], metric, gw, max, n);
		}
		step = RTNH_ALIGN((size_t)nh->rtnh_len);
		if (step >= left)
			break;
		left -= step;
		p += step;
	}
	return added;
}

int
pcpc_select_route(const struct nlmsghdr *nlh, unsigned ifindex, struct pcpc_gateway *gw,
    size_t max, size_t *n)
{
	const struct rtmsg *rt;
	struct sel_attrs at;
	uint32_t table, metric;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)))
		return 0;
	rt = mnl_nlmsg_get_payload(nlh);
	if (rt->rtm_family != AF_INET || rt->rtm_dst_len != 0 || rt->rtm_type != RTN_UNICAST)
		return 0;
	memset(&at, 0, sizeof(at));
	if (mnl_attr_parse(nlh, sizeof(*rt), sel_attr, &at) < 0)
		return 0;
	table = at.tb[RTA_TABLE] != NULL ? mnl_attr_get_u32(at.tb[RTA_TABLE]) : rt->rtm_table;
	if (table != RT_TABLE_MAIN)
		return 0;
	metric = at.tb[RTA_PRIORITY] != NULL ? mnl_attr_get_u32(at.tb[RTA_PRIORITY]) : 0;
	if (at.tb[RTA_MULTIPATH] != NULL)
		return sel_multipath(at.tb[RTA_MULTIPATH], ifindex, metric, gw, max, n);
	if (at.tb[RTA_OIF] == NULL || mnl_attr_get_u32(at.tb[RTA_OIF]) != ifindex)
		return 0;
	return sel_add_gw(at.tb[RTA_GATEWAY], metric, gw, max, n);
}

struct sel_dump {
	unsigned		 ifindex;
	struct pcpc_gateway	*gw;
	size_t			 max, n;
};

static int
sel_dump_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct sel_dump *d = arg;

	(void)pcpc_select_route(nlh, d->ifindex, d->gw, d->max, &d->n);
	return MNL_CB_OK;
}

int
pcpc_select_gateways(const char *ifname, struct pcpc_gateway *gw, size_t max)
{
	struct sel_dump d = { if_nametoindex(ifname), gw, max, 0 };

	if (d.ifindex == 0 ||
	    util_rtnl_dump(RTM_GETROUTE, AF_INET, sizeof(struct rtmsg), sel_dump_msg, &d) ==
	    MNL_CB_ERROR)
		return -1;
	return (int)d.n;
}

/* A point-to-point link's peer (a default route with no gateway), 1 if found. */
static int
sel_peer(const char *ifname, struct in6_addr *out)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa) == -1)
		return 0;
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    !(i->ifa_flags & IFF_POINTOPOINT) || i->ifa_dstaddr == NULL ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->s6_addr[10] = out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12],
		    &((struct sockaddr_in *)(void *)i->ifa_dstaddr)->sin_addr, 4);
		found = pcpc_select_addr_ok(out);
	}
	freeifaddrs(ifa);
	return found;
}

size_t
pcpc_select_servers(const struct in6_addr *configured, const char *file, const char *ifname,
    struct pcpc_server *out, size_t max)
{
	struct pcpc_gateway gw[PCPC_SELECT_MAX];
	size_t n = 0;
	int i, ngw;

	if (max == 0)
		return 0;
	memset(out, 0, max * sizeof(*out));
	if (configured != NULL) {
		out[0].addr[0] = *configured;
		out[0].naddr = 1;
		out[0].source = PCPC_SRC_CONFIG;
		return 1;
	}
	if (file != NULL && (n = pcpc_select_read(file, out, max)) > 0)
		return n;
	if (ifname == NULL || (ngw = pcpc_select_gateways(ifname, gw, PG_NELEM(gw))) <= 0)
		return 0;
	for (i = 0; i < ngw && n < max; i++) {
		out[n].source = PCPC_SRC_GATEWAY;
		if (util_addr_is_v4(&gw[i].addr))
			out[n].addr[0] = gw[i].addr;
		else if (!sel_peer(ifname, &out[n].addr[0]))
			continue;
		out[n++].naddr = 1;
	}
	return n;
}
