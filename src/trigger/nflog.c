/*
 * nflog.c - trigger detection from the kernel.
 *
 * Why NFLOG and not conntrack events: conntrack reports connections, not
 * traffic. A UDP game flow is one conntrack entry for as long as it runs,
 * so conntrack would tell us it started but not that it is still active,
 * and the idle timeout needs the latter. A firewall backend that can
 * (FW_CAP_NFLOG) logs trigger traffic to an NFLOG group instead, through a
 * timeout set consulted first: the kernel reports each (host, proto, port)
 * at most once per FW_NFLOG_NOTIFY_MS however busy the flow is, which is
 * often enough to keep an idle timer of a few seconds right and rare
 * enough that a 10,000 packet/s flow wakes the daemon about once a second.
 *
 * Messages are built and parsed with libmnl; the daemon binds the group
 * configured by nflog_group, asking for the first 96 bytes of each packet
 * (IPv4 header and ports).
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "daemon.h"
#include "fw/fw.h"
#include "log.h"
#include "mtable.h"
#include "neigh.h"
#include "trigger/nflog.h"
#include "trigger/trigger.h"
#include "util.h"

#define NFLOG_COPY_RANGE	96

struct trig_nflog {
	struct pg_ctx		*ctx;
	struct mnl_socket	*nl;
	struct event		*ev;
	uint64_t		 count;
};

static int
nflog_config(struct mnl_socket *nl, uint16_t group, uint8_t cmd, int with_mode)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nfulnl_msg_config_cmd c = { cmd };
	struct nfulnl_msg_config_mode m;
	ssize_t len;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	if (cmd != NFULNL_CFG_CMD_NONE)		/* the kernel refuses an explicit "none" */
		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(c), &c);
	if (with_mode) {
		memset(&m, 0, sizeof(m));
		m.copy_mode = NFULNL_COPY_PACKET;
		m.copy_range = htonl(NFLOG_COPY_RANGE);
		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(m), &m);
		/* deliver each notification at once (the default batches up to 100 or 1 s) */
		mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	}

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	if ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)len, 0, 0, NULL, NULL) < 0 ? -1 : 0;
}

int
trig_nflog_handle_packet(struct trigger *t, const char *prefix, const uint8_t *pkt, size_t len)
{
	struct in6_addr a;
	size_t ihl;
	int proto, outbound;
	uint16_t dport;

	if (prefix == NULL)
		return -1;
	if (strcmp(prefix, FW_NFLOG_PREFIX_OUT) == 0)
		outbound = 1;
	else if (strcmp(prefix, FW_NFLOG_PREFIX_IN) == 0)
		outbound = 0;
	else
		return -1;
	if (len < 20 || (pkt[0] >> 4) != 4)
		return -1;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < 20 || len < ihl + 4)
		return -1;
	if (pkt[9] == IPPROTO_TCP)
		proto = MT_TCP;
	else if (pkt[9] == IPPROTO_UDP)
		proto = MT_UDP;
	else
		return -1;
	dport = (uint16_t)(pkt[ihl + 2] << 8 | pkt[ihl + 3]);
	memset(&a, 0, sizeof(a));
	a.s6_addr[10] = a.s6_addr[11] = 0xff;
	memcpy(&a.s6_addr[12], pkt + (outbound ? 12 : 16), 4);
	if (outbound)
		trigger_outbound(t, proto, dport, &a);
	else
		trigger_inbound(t, proto, dport, &a);
	return 0;
}

static int
nflog_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NFULA_MAX) > 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

struct nflog_parse {
	struct trigger	*trig;
	struct neigh	*neigh;		/* NULL: unknown-source hints are ignored */
	size_t		 count;
};

/*
 * A PCP/NAT-PMP request the kernel dropped because no known (address, MAC)
 * pair covers its source (FW_NFLOG_PREFIX_UNKNOWN): have the address resolved
 * on its interface, so that the real holder answers and the client's
 * retransmission is honoured. (It shares this NFLOG group with triggers.)
 */
static void
nflog_unknown_source(struct nflog_parse *np, const struct nlattr *const *tb)
{
	const uint8_t *pkt = mnl_attr_get_payload(tb[NFULA_PAYLOAD]);
	size_t len = mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]);
	struct in6_addr a;

	if (np->neigh == NULL || tb[NFULA_IFINDEX_INDEV] == NULL ||
	    mnl_attr_validate(tb[NFULA_IFINDEX_INDEV], MNL_TYPE_U32) < 0 || len < 1)
		return;
	memset(&a, 0, sizeof(a));
	if ((pkt[0] >> 4) == 4 && len >= 20) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], pkt + 12, 4);
	} else if ((pkt[0] >> 4) == 6 && len >= 40)
		memcpy(&a, pkt + 8, 16);
	else
		return;
	neigh_resolve(np->neigh, (int)ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_INDEV])), &a);
}

static int
nflog_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nflog_parse *np = data;
	const struct nlattr *tb[NFULA_MAX + 1];
	char prefix[16];
	size_t plen;

	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nflog_attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (tb[NFULA_PREFIX] == NULL || tb[NFULA_PAYLOAD] == NULL)
		return MNL_CB_OK;
	plen = mnl_attr_get_payload_len(tb[NFULA_PREFIX]);
	if (plen == 0 || plen > sizeof(prefix))
		return MNL_CB_OK;
	memcpy(prefix, mnl_attr_get_payload(tb[NFULA_PREFIX]), plen);
	prefix[plen - 1] = '\0';
	if (strcmp(prefix, FW_NFLOG_PREFIX_UNKNOWN) == 0) {
		nflog_unknown_source(np, tb);
		return MNL_CB_OK;
	}
	np->count++;
	if (trig_nflog_handle_packet(np->trig, prefix, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
	    mnl_attr_get_payload_len(tb[NFULA_PAYLOAD])) == -1)
		log_debug("nflog: ignored a malformed notification");
	return MNL_CB_OK;
}

static size_t nflog_handle_buf(struct trigger *, struct neigh *, const void *, size_t);

static void
nflog_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct trig_nflog *n = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE * 2];
	struct sockaddr_nl from;
	socklen_t fromlen;
	ssize_t len;
	int i;

	(void)ev;
	for (i = 0; i < 64; i++) {	/* bounded: let other events run */
		fromlen = sizeof(from);
		len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
		    &fromlen);
		if (len > 0 && from.nl_pid != 0)
			continue;	/* only the kernel reports trigger traffic */
		if (len < 0) {
			if (errno == ENOBUFS)
				log_debug("nflog: notifications lost (socket buffer full)");
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno != ENOBUFS && errno != EINTR)
				return;
			continue;
		}
		if (len == 0)
			return;
		n->count += nflog_handle_buf(n->ctx->trig, n->ctx->neigh, buf, (size_t)len);
	}
}

static size_t
nflog_handle_buf(struct trigger *t, struct neigh *nb, const void *buf, size_t len)
{
	struct nflog_parse np = { t, nb, 0 };

	if (!util_nl_frames_ok(buf, len)) {
		log_debug("nflog: ignored a malformed netlink buffer");
		return 0;
	}
	mnl_cb_run(buf, len, 0, 0, nflog_msg_cb, &np);
	return np.count;
}

size_t
trig_nflog_handle_buf(struct trigger *t, const void *buf, size_t len)
{
	return nflog_handle_buf(t, NULL, buf, len);
}

struct trig_nflog *
trig_nflog_new(struct pg_ctx *ctx)
{
	struct trig_nflog *n = xcalloc(1, sizeof(*n));
	uint16_t group = (uint16_t)ctx->cfg->nflog_group;
	int bufsz = 4 * 1024 * 1024;

	n->ctx = ctx;
	if (!fw_has(ctx->fw, FW_CAP_NFLOG))
		return n;	/* no kernel, no trigger traffic to see */
	if ((n->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("nflog: cannot open a netlink socket");
		trig_nflog_free(n);
		return NULL;
	}
	setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	nflog_config(n->nl, 0, NFULNL_CFG_CMD_PF_UNBIND, 0);	/* old kernels need these */
	nflog_config(n->nl, 0, NFULNL_CFG_CMD_PF_BIND, 0);
	if (nflog_config(n->nl, group, NFULNL_CFG_CMD_BIND, 0) == -1 ||
	    nflog_config(n->nl, group, NFULNL_CFG_CMD_NONE, 1) == -1) {
		log_warn("nflog: cannot bind NFLOG group %u: another program (ulogd, another "
		    "portgated with another nft_table?) listens on it; set nflog_group to a free group",
		    group);
		trig_nflog_free(n);
		return NULL;
	}
	n->ev = event_new(ctx->base, mnl_socket_get_fd(n->nl), EV_READ | EV_PERSIST,
	    nflog_read_cb, n);
	if (n->ev == NULL || event_add(n->ev, NULL) == -1) {
		trig_nflog_free(n);
		return NULL;
	}
	log_info("nflog: listening for trigger traffic on NFLOG group %u", group);
	return n;
}

void
trig_nflog_free(struct trig_nflog *n)
{
	if (n == NULL)
		return;
	if (n->ev != NULL)
		event_free(n->ev);
	if (n->nl != NULL)
		mnl_socket_close(n->nl);
	free(n);
}

struct nflog_ports {
	struct fw_trig_port	*p;
	size_t			 n;
};

static int
nflog_collect(void *arg, const struct trig_rule *r)
{
	struct nflog_ports *c = arg;
	struct fw_trig_port *np = reallocarray(c->p, c->n + 1, sizeof(*np));

	if (np == NULL)
		return -1;
	c->p = np;
	c->p[c->n].proto = r->trigger.proto;
	c->p[c->n].lo = r->trigger.lo;
	c->p[c->n].hi = r->trigger.hi;
	c->n++;
	return 0;
}

void
trig_nflog_sync_rules(struct trig_nflog *n, struct fw *fw, const struct trigger *t)
{
	struct nflog_ports c = { NULL, 0 };

	(void)n;
	trigger_foreach_rule(t, nflog_collect, &c);
	if (fw_set_trigger_ports(fw, c.p, c.n) == -1)
		log_warnx("nflog: cannot hand trigger ports to the firewall");
	free(c.p);
}

uint64_t
trig_nflog_count(const struct trig_nflog *n)
{
	return n->count;
}

void
trig_nflog_status(const struct trig_nflog *n, pg_status_emit *emit, void *arg)
{
	const struct trigger *t = n != NULL ? n->ctx->trig : NULL;

	emit(arg, "trigger_notifications", "%llu", (unsigned long long)(n ? n->count : 0));
	emit(arg, "trigger_bad_sources", "%llu",
	    (unsigned long long)(t != NULL ? trigger_bad_sources(t) : 0));
}
