/*
 * ct.c - conntrack lookups for PCP PEER.
 *
 * One IPCTNL_MSG_CT_GET for the original tuple, built with libmnl; the
 * answer's reply tuple carries the translated source port as its
 * destination port. Attributes are walked with mnl_attr_parse and checked
 * with mnl_attr_validate; the framing is checked before anything is read.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fw/ct.h"
#include "util.h"

struct ct_walk {
	uint16_t	 port;
	int		 found;
};

static void
ct_put_tuple(struct nlmsghdr *nlh, int proto, const struct in6_addr *src, uint16_t sport,
    const struct in6_addr *dst, uint16_t dport)
{
	struct nlattr *t, *ip, *pr;
	uint32_t a;

	t = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	memcpy(&a, &src->s6_addr[12], 4);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, a);
	memcpy(&a, &dst->s6_addr[12], 4);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, a);
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, (uint8_t)proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, t);
}

/*
 * The answer's CTA_TUPLE_REPLY > CTA_TUPLE_PROTO > CTA_PROTO_DST_PORT: where
 * the flow's replies come back to, its external port. One callback per
 * level: the attribute types are small numbers that repeat from one level
 * to the next (CTA_TUPLE_REPLY, CTA_TUPLE_PROTO and CTA_PROTO_SRC_PORT are
 * all 2), so a level is known by where the walk is, not by a type.
 */
static int
ct_proto_cb(const struct nlattr *attr, void *data)
{
	struct ct_walk *w = data;

	if (mnl_attr_get_type(attr) != CTA_PROTO_DST_PORT)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
		return MNL_CB_ERROR;
	w->port = ntohs(mnl_attr_get_u16(attr));
	w->found = 1;
	return MNL_CB_STOP;
}

/* Into attr with cb if it is the nest of this type; the walk stops there. */
static int
ct_nest(const struct nlattr *attr, int type, mnl_attr_cb_t cb, void *data)
{
	if (mnl_attr_get_type(attr) != type)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
		return MNL_CB_ERROR;
	return mnl_attr_parse_nested(attr, cb, data) == MNL_CB_ERROR ? MNL_CB_ERROR : MNL_CB_STOP;
}

static int
ct_tuple_cb(const struct nlattr *attr, void *data)
{
	return ct_nest(attr, CTA_TUPLE_PROTO, ct_proto_cb, data);
}

static int
ct_attr_cb(const struct nlattr *attr, void *data)
{
	return ct_nest(attr, CTA_TUPLE_REPLY, ct_tuple_cb, data);
}

static int
ct_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), ct_attr_cb, data) == MNL_CB_ERROR ?
	    MNL_CB_ERROR : MNL_CB_OK;
}

int
ct_nat_port(int proto, const struct in6_addr *src, uint16_t sport, const struct in6_addr *dst,
    uint16_t dport, uint16_t *port)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ct_walk w = { 0, 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct timeval tv = { 0, 200000 };
	uint32_t seq = (uint32_t)time(NULL), portid;
	ssize_t n;
	int rc = -1;

	if (!util_addr_is_v4(src) || (nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		return -1;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	ct_put_tuple(nlh, proto, src, sport, dst, dport);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		if (!util_nl_frames_ok(buf, (size_t)n) ||
		    mnl_cb_run(buf, (size_t)n, seq, portid, ct_msg_cb, &w) <= MNL_CB_STOP)
			break;
	}
	if (w.found) {
		*port = w.port;
		rc = 0;
	}
out:
	mnl_socket_close(nl);
	return rc;
}
