/*
 * ct.c - conntrack over ctnetlink, built with libmnl.
 *
 * PCP PEER: one IPCTNL_MSG_CT_GET for the original tuple; the answer's
 * reply tuple carries the translated source port as its destination port.
 *
 * Closed doors: a mapping or pinhole that closes leaves the conntrack
 * entries of the flows it let in behind, and conntrack keeps translating
 * and (through the admin's "ct state established accept") passing their
 * packets until its own timeout: for TCP, days. So after the kernel drops
 * the element, the backend ends those flows: one filtered dump
 * (IPCTNL_MSG_CT_GET, NLM_F_DUMP) per family and protocol among the doors
 * of a commit, each entry looked up among the doors (sorted by port, so a
 * flush of thousands costs a binary search per entry), then one
 * IPCTNL_MSG_CT_DELETE per doomed entry, by tuple and ID, sent many to a
 * message. The kernel filters the dump by family, protocol, the DNAT
 * status for IPv4 and, for a single door, its port (CTA_FILTER, Linux 5.8;
 * status, 5.19; Debian 12 runs 6.1); a kernel that refuses the filter is
 * asked again without it. What the kernel filters is only a shortcut: every entry is checked
 * here (ct_let_in). A dump walks the whole conntrack table in the kernel
 * (some 30 ms for 50,000 entries), so closes are ended in rounds
 * (ct_closer): the first at once, then at most one per max(100 ms, five
 * times the last round's duration), each for all doors closed meanwhile.
 *
 * Opened doors: an IPv4 mapping that opens on a port another LAN host's
 * outbound flow already leaves by (port-preserving masquerade kept its
 * source port, before the port was mapped) would lose that port to the
 * flow: conntrack matches the WAN peer's packets to the flow's reply tuple
 * before the DNAT rule sees them, so they go to the flow's sender. The
 * rules stop new such flows (fw_nft_rules.c, nft_rules_outbound); the
 * flows already open are ended here, by the same sweep and in the same
 * rounds: the entries whose reply tuple's destination port (where the
 * source was translated to) is one of the door's ports, SNATed and not
 * DNATed (a hairpin's flow leaves by a LAN interface), from another
 * endpoint than the mapping's own (ct_squats). The sender's next packet
 * makes a new entry, which the rules move to another port. A door that
 * only opens filters the dump by SNAT status and, alone, by the reply's
 * destination port (CTA_FILTER_REPLY_FLAGS); one dump serves closes and
 * opens of the same family and protocol together.
 *
 * Attributes are walked with mnl_attr_parse and checked
 * with mnl_attr_validate; the framing is checked before anything is read.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fw/ct.h"
#include "fw/item.h"
#include "log.h"
#include "mt_vocab.h"
#include "util.h"

/*
 * CTA_FILTER_ORIG_FLAGS bits (the kernel's nf_internals.h; not in the uapi
 * headers). No address bits: the kernel's IPv6 address filter keeps every
 * entry but the named address (ctnetlink_filter_match_tuple tests
 * !ipv6_addr_cmp, 5.8 to at least 6.18), and IPv4 entries of a mapping have
 * no one address to name (the DNAT rule takes any on the WAN interface).
 */
#define CT_FILTER_PROTO_NUM	(1u << 3)
#define CT_FILTER_PROTO_DPORT	(1u << 5)

#define CT_DUMP_BUF		65536
#define CT_DEL_BUF		32768
#define CT_DEL_MSG_MAX		160	/* one delete message, IPv6 with ID and zone */

struct ct_walk {
	uint16_t	 port;
	int		 found;
};

static void
ct_put_tuple(struct nlmsghdr *nlh, int family, int proto, const struct in6_addr *src,
    uint16_t sport, const struct in6_addr *dst, uint16_t dport)
{
	struct nlattr *t, *ip, *pr;
	uint32_t a;

	t = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (family == AF_INET6) {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, src);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, dst);
	} else {
		memcpy(&a, &src->s6_addr[12], 4);
		mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, a);
		memcpy(&a, &dst->s6_addr[12], 4);
		mnl_attr_put_u32(nlh, CTA_IP_V4_DST, a);
	}
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, (uint8_t)proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, t);
}

/* A ctnetlink request header: type, flags, sequence, family. */
static struct nlmsghdr *
ct_put_header(void *buf, int type, uint16_t flags, uint32_t seq, int family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | (uint16_t)type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

/* A socket to ctnetlink answering within timeout_ms; NULL if none. */
static struct mnl_socket *
ct_open(long timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct mnl_socket *nl;

	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		return NULL;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* ---- PCP PEER: how conntrack translated one outbound flow ---- */

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
	uint32_t seq = (uint32_t)time(NULL), portid;
	ssize_t n;
	int rc = -1;

	if (!util_addr_is_v4(src) || (nl = ct_open(200)) == NULL)
		return -1;
	portid = mnl_socket_get_portid(nl);
	nlh = ct_put_header(buf, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_ACK, seq, AF_INET);
	ct_put_tuple(nlh, AF_INET, proto, src, sport, dst, dport);
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

/* ---- reading a conntrack entry ---- */

struct ct_tb {
	const struct nlattr	**tb;
	int			  max;
};

/* Each attribute of a known type into its slot (the last of a type wins). */
static int
ct_tb_cb(const struct nlattr *attr, void *data)
{
	struct ct_tb *t = data;
	int type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

static int
ct_nested(const struct nlattr *nest, const struct nlattr **tb, int max)
{
	struct ct_tb t = { tb, max };

	memset(tb, 0, (size_t)(max + 1) * sizeof(*tb));
	if (nest == NULL || mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -1;
	return mnl_attr_parse_nested(nest, ct_tb_cb, &t) == MNL_CB_ERROR ? -1 : 0;
}

static int
ct_get_addr(const struct nlattr *a, int family, struct in6_addr *out)
{
	if (a == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (family == AF_INET6) {
		if (mnl_attr_validate2(a, MNL_TYPE_BINARY, 16) < 0)
			return -1;
		memcpy(out, mnl_attr_get_payload(a), 16);
		return 0;
	}
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -1;
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], mnl_attr_get_payload(a), 4);
	return 0;
}

static int
ct_get_port(const struct nlattr *a, uint16_t *port)
{
	if (a == NULL || mnl_attr_validate(a, MNL_TYPE_U16) < 0)
		return -1;
	*port = ntohs(mnl_attr_get_u16(a));
	return 0;
}

/* One tuple: addresses, protocol and ports, all required. */
static int
ct_tuple(const struct nlattr *nest, int family, struct in6_addr *src, struct in6_addr *dst,
    uint8_t *proto, uint16_t *sport, uint16_t *dport)
{
	const struct nlattr *t[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1], *pr[CTA_PROTO_MAX + 1];
	int s = family == AF_INET6 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC;
	int d = family == AF_INET6 ? CTA_IP_V6_DST : CTA_IP_V4_DST;

	if (ct_nested(nest, t, CTA_TUPLE_MAX) == -1 ||
	    ct_nested(t[CTA_TUPLE_IP], ip, CTA_IP_MAX) == -1 ||
	    ct_nested(t[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX) == -1)
		return -1;
	if (ct_get_addr(ip[s], family, src) == -1 || ct_get_addr(ip[d], family, dst) == -1 ||
	    pr[CTA_PROTO_NUM] == NULL || mnl_attr_validate(pr[CTA_PROTO_NUM], MNL_TYPE_U8) < 0)
		return -1;
	*proto = mnl_attr_get_u8(pr[CTA_PROTO_NUM]);
	if (*proto != IPPROTO_TCP && *proto != IPPROTO_UDP)
		return -1;
	return ct_get_port(pr[CTA_PROTO_SRC_PORT], sport) == -1 ||
	    ct_get_port(pr[CTA_PROTO_DST_PORT], dport) == -1 ? -1 : 0;
}

/* The optional status, ID and zone. */
static int
ct_extras(const struct nlattr **tb, struct ct_flow *f)
{
	if (tb[CTA_STATUS] == NULL || mnl_attr_validate(tb[CTA_STATUS], MNL_TYPE_U32) < 0)
		return -1;
	f->status = ntohl(mnl_attr_get_u32(tb[CTA_STATUS]));
	if (tb[CTA_ID] != NULL) {
		if (mnl_attr_validate(tb[CTA_ID], MNL_TYPE_U32) < 0)
			return -1;
		f->id = ntohl(mnl_attr_get_u32(tb[CTA_ID]));
		f->has_id = 1;
	}
	if (tb[CTA_ZONE] != NULL) {
		if (mnl_attr_validate(tb[CTA_ZONE], MNL_TYPE_U16) < 0)
			return -1;
		f->zone = ntohs(mnl_attr_get_u16(tb[CTA_ZONE]));
		f->has_zone = 1;
	}
	return 0;
}

int
ct_flow_parse(const struct nlmsghdr *nlh, struct ct_flow *f)
{
	const struct nlattr *tb[CTA_MAX + 1];
	const struct nfgenmsg *nfg;
	struct ct_tb t = { tb, CTA_MAX };
	struct in6_addr rdst;
	uint8_t rproto;

	memset(f, 0, sizeof(*f));
	memset(tb, 0, sizeof(tb));
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*nfg)))
		return -1;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != AF_INET && nfg->nfgen_family != AF_INET6)
		return -1;
	f->family = nfg->nfgen_family;
	if (mnl_attr_parse(nlh, sizeof(*nfg), ct_tb_cb, &t) == MNL_CB_ERROR ||
	    ct_tuple(tb[CTA_TUPLE_ORIG], f->family, &f->src, &f->dst, &f->proto, &f->sport,
	    &f->dport) == -1 ||
	    ct_tuple(tb[CTA_TUPLE_REPLY], f->family, &f->rsrc, &rdst, &rproto, &f->rsport,
	    &f->rdport) == -1 || rproto != f->proto)
		return -1;
	return ct_extras(tb, f);
}

/* ---- which flows a door let in, which sit on its ports ---- */

static uint8_t
ct_ipproto(int proto)
{
	return proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
}

/* As fw_nft puts it: a range (or a trigger's) keeps the port, a port maps to one. */
static int
ct_keeps_port(const struct fw_item *it)
{
	return it->ext_port_end != it->ext_port || it->source == MT_SRC_TRIGGER;
}

int
ct_let_in(const struct fw_item *it, const struct ct_flow *f)
{
	uint16_t to;

	if (it->proto >= MT_NPROTO || f->proto != ct_ipproto(it->proto))
		return 0;
	if (it->kind == MT_KIND_MAP) {
		if (f->family != AF_INET || !(f->status & IPS_DST_NAT) ||
		    f->dport < it->ext_port || f->dport > it->ext_port_end ||
		    memcmp(&f->rsrc, &it->int_addr, sizeof(f->rsrc)) != 0)
			return 0;
		to = ct_keeps_port(it) ? f->dport : it->int_port;
		if (f->rsport != to)
			return 0;
	} else if (it->kind == MT_KIND_PINHOLE) {
		if (f->family != AF_INET6 || f->dport != it->int_port ||
		    memcmp(&f->dst, &it->int_addr, sizeof(f->dst)) != 0)
			return 0;
	} else
		return 0;	/* a PEER pin's flow is the LAN host's own */
	return fw_item_allows(it, &f->src, f->sport);
}

int
ct_squats(const struct fw_item *it, const struct ct_flow *f)
{
	if (it->kind != MT_KIND_MAP || it->proto >= MT_NPROTO ||
	    f->proto != ct_ipproto(it->proto) || f->family != AF_INET ||
	    (f->status & (IPS_SRC_NAT | IPS_DST_NAT)) != IPS_SRC_NAT ||
	    f->rdport < it->ext_port || f->rdport > it->ext_port_end)
		return 0;
	/* from the mapping's own endpoint: its DNAT leads the WAN peer there anyway */
	return memcmp(&f->src, &it->int_addr, sizeof(f->src)) != 0 ||
	    f->sport != (ct_keeps_port(it) ? f->rdport : it->int_port);
}

/* ---- the doors of one call, sorted for lookups ---- */

struct ct_door {
	const struct fw_item	*item;
	const struct fw_item	*still;		/* a close's narrower re-add, or NULL */
	uint8_t			 family, proto;
	uint8_t			 open;		/* opened (flows by its ports), not closed */
	uint16_t		 lo, hi;
	uint16_t		 maxhi;		/* the highest hi of its kind up to here */
};

struct ct_sweep {
	struct ct_door	*doors;
	size_t		 ndoors;
	struct ct_flow	*doomed;
	size_t		 ndoomed, cap;
	int		 full;		/* CT_END_MAX reached: the rest are left alone */
};

/* Doors sort by family, protocol (a dump's group), closed before opened, then ports. */
static int
ct_door_key(const struct ct_door *d, int family, int proto, int open, uint16_t port)
{
	if (d->family != family)
		return d->family < family ? -1 : 1;
	if (d->proto != proto)
		return d->proto < proto ? -1 : 1;
	if (d->open != open)
		return d->open < open ? -1 : 1;
	return d->lo < port ? -1 : d->lo > port;
}

static int
ct_door_cmp(const void *va, const void *vb)
{
	const struct ct_door *a = va, *b = vb;
	int c = ct_door_key(a, b->family, b->proto, b->open, b->lo);

	return c != 0 ? c : a->hi < b->hi ? -1 : a->hi > b->hi;
}

/*
 * A closed mapping (IPv4) or pinhole (IPv6): which flows it could have let
 * in; an opened mapping (IPv4): which ports flows could sit on.
 */
static void
ct_door_add(struct ct_sweep *sw, const struct fw_item *it, const struct fw_item *still,
    int open)
{
	struct ct_door *d;

	if (it->proto >= MT_NPROTO || (it->kind != MT_KIND_MAP &&
	    it->kind != MT_KIND_PINHOLE) || util_addr_is_v4(&it->int_addr) !=
	    (it->kind == MT_KIND_MAP) || (open && it->kind != MT_KIND_MAP))
		return;
	d = &sw->doors[sw->ndoors++];
	d->item = it;
	d->still = still;
	d->open = (uint8_t)open;
	d->family = it->kind == MT_KIND_MAP ? AF_INET : AF_INET6;
	d->proto = ct_ipproto(it->proto);
	d->lo = it->kind == MT_KIND_MAP ? it->ext_port : it->int_port;
	d->hi = it->kind == MT_KIND_MAP && it->ext_port_end > it->ext_port ?
	    it->ext_port_end : d->lo;
}

static int
ct_sweep_init(struct ct_sweep *sw, const struct fw_close *cl, size_t ncl,
    const struct fw_open *op, size_t nop)
{
	struct ct_door *d;
	size_t i;

	memset(sw, 0, sizeof(*sw));
	if (ncl + nop == 0)
		return 0;
	if ((sw->doors = reallocarray(NULL, ncl + nop, sizeof(*sw->doors))) == NULL)
		return -1;
	for (i = 0; i < ncl; i++)
		ct_door_add(sw, cl[i].item, cl[i].still, 0);
	for (i = 0; i < nop; i++)
		ct_door_add(sw, op[i].item, NULL, 1);
	qsort(sw->doors, sw->ndoors, sizeof(*sw->doors), ct_door_cmp);
	for (i = 0; i < sw->ndoors; i++) {
		d = &sw->doors[i];
		d->maxhi = d->hi;
		if (i > 0 && d[-1].family == d->family && d[-1].proto == d->proto &&
		    d[-1].open == d->open && d[-1].maxhi > d->maxhi)
			d->maxhi = d[-1].maxhi;
	}
	return 0;
}

static void
ct_sweep_free(struct ct_sweep *sw)
{
	free(sw->doors);
	free(sw->doomed);
}

/*
 * 1 if a door of the kind (open) whose ports hold port dooms the flow: a
 * closed one let it in and no add of the batch lets it in still, or an
 * opened one's ports are where it sits.
 */
static int
ct_doomed_by(const struct ct_sweep *sw, const struct ct_flow *f, int open, uint16_t port)
{
	const struct ct_door *d;
	size_t lo = 0, hi = sw->ndoors, mid;

	/* the doors starting at or below the port; walk down while one could reach it */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (ct_door_key(&sw->doors[mid], f->family, f->proto, open, port) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo-- > 0) {
		d = &sw->doors[lo];
		if (d->family != f->family || d->proto != f->proto || d->open != open ||
		    d->maxhi < port)
			return 0;
		if (d->hi < port)
			continue;
		if (open ? ct_squats(d->item, f) :
		    ct_let_in(d->item, f) && (d->still == NULL || !ct_let_in(d->still, f)))
			return 1;
	}
	return 0;
}

/* Closed doors are looked up by the flow's destination port, opened ones by where it leaves. */
static int
ct_doomed(const struct ct_sweep *sw, const struct ct_flow *f)
{
	return ct_doomed_by(sw, f, 0, f->dport) ||
	    (f->family == AF_INET && ct_doomed_by(sw, f, 1, f->rdport));
}

static void
ct_sweep_flow(struct ct_sweep *sw, const struct ct_flow *f)
{
	struct ct_flow *p;
	size_t cap;

	if (sw->full || !ct_doomed(sw, f))
		return;
	if (sw->ndoomed == sw->cap) {
		cap = sw->cap ? sw->cap * 2 : 64;
		if (cap > CT_END_MAX)
			cap = CT_END_MAX;
		if (sw->ndoomed == cap ||
		    (p = reallocarray(sw->doomed, cap, sizeof(*p))) == NULL) {
			sw->full = 1;
			return;
		}
		sw->doomed = p;
		sw->cap = cap;
	}
	sw->doomed[sw->ndoomed++] = *f;
}

static int
ct_sweep_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_flow f;

	if (ct_flow_parse(nlh, &f) == 0)
		ct_sweep_flow(data, &f);
	return MNL_CB_OK;	/* an entry we cannot read is not ours to end */
}

size_t
ct_doomed_in(const struct fw_close *cl, size_t ncl, const struct fw_open *op, size_t nop,
    const void *buf, size_t len)
{
	struct ct_sweep sw;
	size_t doomed;

	if (ct_sweep_init(&sw, cl, ncl, op, nop) == -1)
		return 0;
	if (util_nl_frames_ok(buf, len))
		mnl_cb_run(buf, len, 0, 0, ct_sweep_cb, &sw);
	doomed = sw.ndoomed;
	ct_sweep_free(&sw);
	return doomed;
}

/* ---- asking the kernel ---- */

/* A filter tuple of type: the protocol and, if port is not 0, the destination port. */
static uint32_t
ct_put_filter_tuple(struct nlmsghdr *nlh, int type, uint8_t proto, uint16_t port)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, (uint16_t)type), *n;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	if (port != 0)
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(port));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
	return CT_FILTER_PROTO_NUM | (port != 0 ? CT_FILTER_PROTO_DPORT : 0);
}

/*
 * The dump request for one family and protocol (its doors g[0..n)), filtered
 * by protocol, by NAT status where the doors agree on it (closed: DNATed;
 * opened: SNATed, not DNATed) and, for one door of one port, by that port:
 * the original destination (closed) or the reply's destination (opened).
 */
static struct nlmsghdr *
ct_dump_request(void *buf, uint32_t seq, const struct ct_door *g, size_t n, int filtered)
{
	struct nlmsghdr *nlh = ct_put_header(buf, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP,
	    seq, g->family);
	uint16_t port = n == 1 && g->lo == g->hi ? g->lo : 0;
	uint32_t orig, reply = 0;
	size_t i, nopen = 0;
	struct nlattr *f;

	if (!filtered)
		return nlh;
	for (i = 0; i < n; i++)
		nopen += g[i].open;
	orig = ct_put_filter_tuple(nlh, CTA_TUPLE_ORIG, g->proto, g->open ? 0 : port);
	if (g->open && port != 0)
		reply = ct_put_filter_tuple(nlh, CTA_TUPLE_REPLY, g->proto, port);
	f = mnl_attr_nest_start(nlh, CTA_FILTER);
	mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, orig);
	if (reply != 0)
		mnl_attr_put_u32(nlh, CTA_FILTER_REPLY_FLAGS, reply);
	mnl_attr_nest_end(nlh, f);
	if (g->family == AF_INET && (nopen == 0 || nopen == n)) {
		mnl_attr_put_u32(nlh, CTA_STATUS, htonl(nopen ? IPS_SRC_NAT : IPS_DST_NAT));
		mnl_attr_put_u32(nlh, CTA_STATUS_MASK,
		    htonl(nopen ? IPS_SRC_NAT | IPS_DST_NAT : IPS_DST_NAT));
	}
	return nlh;
}

/* One dump into the sweep: 0 when it is complete, -1 with errno. */
static int
ct_dump(struct mnl_socket *nl, struct ct_sweep *sw, const struct ct_door *g, size_t ng,
    int filtered, char *buf)
{
	uint32_t seq = (uint32_t)time(NULL) ^ (uint32_t)(g - sw->doors), portid;
	struct nlmsghdr *nlh = ct_dump_request(buf, seq, g, ng, filtered);
	ssize_t n;
	int rc;

	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while ((n = mnl_socket_recvfrom(nl, buf, CT_DUMP_BUF)) > 0) {
		if (!util_nl_frames_ok(buf, (size_t)n)) {
			errno = EPROTO;
			return -1;
		}
		if ((rc = mnl_cb_run(buf, (size_t)n, seq, portid, ct_sweep_cb, sw)) <= MNL_CB_STOP)
			return rc == MNL_CB_STOP ? 0 : -1;
	}
	return -1;
}

/* Read the answers to cnt deletes from seq on; how many entries they ended. */
static long
ct_del_acks(struct mnl_socket *nl, uint32_t seq, size_t cnt, char *buf)
{
	const struct nlmsgerr *e;
	struct nlmsghdr *nlh;
	size_t acks = 0;
	long ended = 0;
	ssize_t n;
	int left;

	while (acks < cnt && (n = mnl_socket_recvfrom(nl, buf, CT_DEL_BUF)) > 0) {
		if (!util_nl_frames_ok(buf, (size_t)n))
			break;
		left = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		    nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq - seq >= cnt ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			acks++;
			ended += e->error == 0;		/* ENOENT: it ended meanwhile */
		}
	}
	return ended;
}

/* Delete the doomed entries, many to a message; how many ended. */
static long
ct_delete(struct mnl_socket *nl, const struct ct_sweep *sw, char *buf)
{
	const struct ct_flow *f;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL) << 16, first;
	size_t i = 0, len, cnt;
	long ended = 0;

	while (i < sw->ndoomed) {
		first = seq;
		for (len = 0, cnt = 0; i < sw->ndoomed && len + CT_DEL_MSG_MAX <= CT_DEL_BUF;
		    i++, cnt++) {
			f = &sw->doomed[i];
			nlh = ct_put_header(buf + len, IPCTNL_MSG_CT_DELETE,
			    NLM_F_REQUEST | NLM_F_ACK, seq++, f->family);
			ct_put_tuple(nlh, f->family, f->proto, &f->src, f->sport, &f->dst,
			    f->dport);
			if (f->has_id)
				mnl_attr_put_u32(nlh, CTA_ID, htonl(f->id));
			if (f->has_zone)
				mnl_attr_put_u16(nlh, CTA_ZONE, htons(f->zone));
			len += NLMSG_ALIGN(nlh->nlmsg_len);
		}
		if (mnl_socket_sendto(nl, buf, len) < 0)
			return ended > 0 ? ended : -1;
		ended += ct_del_acks(nl, first, cnt, buf);
	}
	return ended;
}

/* Dump each family and protocol among the doors (its group) into the sweep. */
static int
ct_dump_all(struct mnl_socket *nl, struct ct_sweep *sw, char *buf)
{
	const struct ct_door *g;
	size_t i, j;

	for (i = 0; i < sw->ndoors; i = j) {
		g = &sw->doors[i];
		for (j = i + 1; j < sw->ndoors && sw->doors[j].family == g->family &&
		    sw->doors[j].proto == g->proto; j++)
			;
		if (ct_dump(nl, sw, g, j - i, 1, buf) == 0)
			continue;
		/* a kernel that cannot filter (EINVAL, EOPNOTSUPP): the whole family, checked here */
		if (errno != EINVAL && errno != EOPNOTSUPP)
			return -1;
		log_debug("conntrack: a filtered dump refused (%s); dumping all", strerror(errno));
		if (ct_dump(nl, sw, g, j - i, 0, buf) == -1)
			return -1;
	}
	return 0;
}

long
ct_end_flows(const struct fw_close *cl, size_t ncl, const struct fw_open *op, size_t nop)
{
	struct ct_sweep sw;
	struct mnl_socket *nl = NULL;
	char *buf = NULL;
	long ended = -1;
	int saved;

	if (ct_sweep_init(&sw, cl, ncl, op, nop) == -1)
		return -1;
	if (sw.ndoors == 0) {
		ct_sweep_free(&sw);
		return 0;
	}
	if ((buf = malloc(CT_DUMP_BUF)) != NULL && (nl = ct_open(1000)) != NULL &&
	    ct_dump_all(nl, &sw, buf) == 0)
		ended = sw.ndoomed ? ct_delete(nl, &sw, buf) : 0;
	saved = errno;
	if (sw.full)
		log_warnx("conntrack: more than %d flows of closed or opened mappings at once; the "
		    "rest are left to conntrack's own timeouts", CT_END_MAX);
	if (nl != NULL)
		mnl_socket_close(nl);
	free(buf);
	ct_sweep_free(&sw);
	errno = saved;
	return ended;
}

/* ---- rounds: many closes, few dumps ---- */

struct ct_pending {
	struct fw_item	 item, still;
	uint8_t		 has_still;
	uint8_t		 open;		/* an opened door, not a closed one */
};

struct ct_closer {
	struct event		*ev;		/* the next round; NULL without an event base */
	struct ct_pending	*p;
	size_t			 n, cap;
	uint64_t		 next_ms;	/* no round before this (monotonic) */
	uint64_t		 failures;
};

static void
ct_closer_run(struct ct_closer *c)
{
	struct fw_close *cl;
	struct fw_open *op;
	uint64_t t0 = util_mono_ms(), took;
	size_t i, ncl = 0, nop = 0, n = c->n;
	long ended;

	if (n == 0)
		return;
	cl = reallocarray(NULL, n, sizeof(*cl));
	op = reallocarray(NULL, n, sizeof(*op));
	if (cl == NULL || op == NULL) {
		log_warnx("conntrack: out of memory: the flows of %zu closed or opened mappings "
		    "are left to conntrack's own timeouts", n);
		free(cl);
		free(op);
		c->n = 0;
		return;
	}
	for (i = 0; i < n; i++) {
		if (c->p[i].open) {
			op[nop++].item = &c->p[i].item;
			continue;
		}
		cl[ncl].item = &c->p[i].item;
		cl[ncl++].still = c->p[i].has_still ? &c->p[i].still : NULL;
	}
	ended = ct_end_flows(cl, ncl, op, nop);
	free(cl);
	free(op);
	c->n = 0;
	took = util_mono_ms() - t0;
	c->next_ms = util_mono_ms() + (took * 5 > CT_GAP_MIN_MS ? took * 5 : CT_GAP_MIN_MS);
	if (ended >= 0)
		log_debug("conntrack: %ld flows ended (doors closed: %zu, opened: %zu; %llu ms)",
		    ended, ncl, nop, (unsigned long long)took);
	else if (c->failures++ == 0)
		log_warn("conntrack: cannot end flows (those of closed mappings end on "
		    "conntrack's own timeouts, other hosts' on newly mapped ports keep them)");
	else
		log_debug("conntrack: cannot end the flows of %zu closed and %zu opened mappings",
		    ncl, nop);
}

static void
ct_closer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	ct_closer_run(arg);
}

struct ct_closer *
ct_closer_new(struct event_base *base)
{
	struct ct_closer *c = xcalloc(1, sizeof(*c));

	if (base != NULL && (c->ev = evtimer_new(base, ct_closer_cb, c)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

/* Room for n more doors; 0, or -1 when full (the caller runs a round first). */
static int
ct_closer_room(struct ct_closer *c, size_t n)
{
	struct ct_pending *p;
	size_t cap = c->cap ? c->cap : 16;

	if (c->n + n > CT_PENDING_MAX)
		return -1;
	while (cap < c->n + n)
		cap *= 2;
	if (cap > c->cap) {
		if ((p = reallocarray(c->p, cap, sizeof(*p))) == NULL)
			return -1;
		c->p = p;
		c->cap = cap;
	}
	return 0;
}

/* One door into the next round; 0, or -1 if there is no room even after a round. */
static int
ct_closer_queue(struct ct_closer *c, const struct fw_item *it, const struct fw_item *still,
    int open)
{
	struct ct_pending *p;

	if (ct_closer_room(c, 1) == -1) {
		ct_closer_run(c);	/* bounded memory: this round runs now */
		if (ct_closer_room(c, 1) == -1)
			return -1;
	}
	p = &c->p[c->n++];
	p->item = *it;
	p->has_still = still != NULL;
	if (still != NULL)
		p->still = *still;
	p->open = (uint8_t)open;
	return 0;
}

/* The next round: at once, or when the gap since the last one allows. */
static void
ct_closer_arm(struct ct_closer *c)
{
	struct timeval tv = { 0, 0 };
	uint64_t now = util_mono_ms();

	if (c->ev == NULL) {
		ct_closer_run(c);
		return;
	}
	if (evtimer_pending(c->ev, NULL))
		return;		/* joins the round already due */
	if (c->next_ms > now) {
		tv.tv_sec = (time_t)((c->next_ms - now) / 1000);
		tv.tv_usec = (suseconds_t)((c->next_ms - now) % 1000) * 1000;
	}
	evtimer_add(c->ev, &tv);
}

void
ct_closer_add(struct ct_closer *c, const struct fw_close *cl, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ct_closer_queue(c, cl[i].item, cl[i].still, 0) == -1)
			return;
	ct_closer_arm(c);
}

void
ct_closer_open(struct ct_closer *c, const struct fw_open *op, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ct_closer_queue(c, op[i].item, NULL, 1) == -1)
			return;
	ct_closer_arm(c);
}

void
ct_closer_free(struct ct_closer *c)
{
	if (c == NULL)
		return;
	ct_closer_run(c);
	if (c->ev != NULL)
		event_free(c->ev);
	free(c->p);
	free(c);
}
