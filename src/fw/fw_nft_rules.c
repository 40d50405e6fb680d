/*
 * fw_nft_rules.c - the nftables backend's fixed rules, built with libnftnl
 * expressions: DNAT through the maps, the remote-filter drop, PEER SNAT,
 * trigger reporting and the IPv6 pinhole accepts. Their number never
 * depends on how many mappings or pinholes there are; the elements are
 * fw_nft_elem.c's, the batch they are built into fw_nft_batch.c's.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fw/fw.h"
#include "fw/fw_nft.h"
#include "fw/fw_nft_priv.h"
#include "log.h"
#include "util.h"

/* ---- rule expressions ---- */

static struct nftnl_expr *
ex(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e == NULL)
		fatal("fw_nft: expression %s", name);
	nftnl_rule_add_expr(r, e);
	return e;
}

static void
ex_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}

static void
ex_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ex(r, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void
ex_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

static void
ex_lookup(struct nftnl_rule *r, const struct nft_set_def *s, int with_data)
{
	struct nftnl_expr *e = ex(r, "lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (with_data)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, s->name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, s->id);
}

/* meta iifname / oifname (key) == ifname */
static void
ex_ifname(struct nftnl_rule *r, uint32_t key, const char *ifname)
{
	char name[IFNAMSIZ];

	memset(name, 0, sizeof(name));
	strncpy(name, ifname, sizeof(name) - 1);
	ex_meta(r, key, NFT_REG_1);
	ex_cmp(r, NFT_CMP_EQ, name, sizeof(name));
}

static void
ex_iifname(struct nftnl_rule *r, const char *ifname)
{
	ex_ifname(r, NFT_META_IIFNAME, ifname);
}

/* reg1 = l4proto . th dport (two 32-bit words) */
static void
ex_proto_dport(struct nftnl_rule *r)
{
	ex_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
}

/* reg1 = ip saddr/daddr . l4proto . th dport (three 32-bit words) */
static void
ex_addr_proto_dport(struct nftnl_rule *r, uint32_t addr_off)
{
	ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_off, 4, NFT_REG_1);
	ex_meta(r, NFT_META_L4PROTO, NFT_REG32_01);
	ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02);
}

static void
ex_dnat(struct nftnl_rule *r, int with_port)
{
	struct nftnl_expr *e = ex(r, "nat");

	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	if (with_port)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
}

static void
ex_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = ex(r, "immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain != NULL)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

static void
ex_dynset_add(struct nftnl_rule *r, const struct nft_set_def *s)
{
	struct nftnl_expr *e = ex(r, "dynset");

	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, s->name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, s->id);
}

static void
ex_log(struct nftnl_rule *r, const char *prefix, uint16_t group)
{
	struct nftnl_expr *e = ex(r, "log");

	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, 96);
}

/* limit rate NFT_NOTIFY_RATE/second burst NFT_NOTIFY_BURST packets */
static void
ex_limit(struct nftnl_rule *r)
{
	struct nftnl_expr *e = ex(r, "limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, NFT_NOTIFY_RATE);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, NFT_NOTIFY_BURST);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
}

/* ct KEY & mask != 0 (a ct state or status bit is set) */
static void
ex_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t mask)
{
	struct nftnl_expr *e = ex(r, "ct");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e = ex(r, "bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	ex_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

/* ct state new */
static void
ex_ct_new(struct nftnl_rule *r)
{
	ex_ct_bits(r, NFT_CT_STATE, 8);		/* NF_CT_STATE_BIT(IP_CT_NEW) */
}


static struct nftnl_rule *
nft_rule_new(struct fw_nft *n, uint16_t family, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r == NULL)
		fatal("fw_nft: rule");
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->be->cfg->nft_table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
	return r;
}

static void
nft_rule_emit(struct fw_nft *n, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh;
	char *p = nb_reserve(&n->buf, 4096);

	if (p == NULL)
		fatal("fw_nft: rule buffer");
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWRULE,
	    (uint16_t)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY), NLM_F_CREATE | NLM_F_APPEND,
	    n->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nb_commit(&n->buf, nlh);
	nftnl_rule_free(r);
}

static void
ex_lookup_inv(struct nftnl_rule *r, const char *set)
{
	struct nftnl_expr *e = ex(r, "lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, nft_set(set)->id);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
}

/*
 * Where inbound traffic for a mapping comes from: the WAN interface, or
 * (hairpin = yes) a LAN host addressing one of the gateway's own addresses
 * outside the LAN subnets — the WAN address, whatever DHCP gave it, without
 * portgate tracking it:
 *   iifname @lan_ifs fib daddr type local ip daddr != @lan_nets
 * The LAN-side addresses (192.0.2.1:5000 and the like) are never hairpinned.
 */
static void
ex_inbound(struct nftnl_rule *r, struct fw_nft *n, int hairpin)
{
	struct nftnl_expr *e;
	uint32_t local = RTN_LOCAL;

	if (!hairpin) {
		ex_iifname(r, n->be->cfg->wan_interface);
		return;
	}
	ex_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	ex_lookup(r, nft_set("lan_ifs"), 0);
	e = ex(r, "fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	ex_cmp(r, NFT_CMP_EQ, &local, sizeof(local));
	ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	ex_lookup_inv(r, "lan_nets");
}

/*
 * prerouting: iifname WAN dnat ip to l4proto . dport map @dnat_port / @dnat_range,
 * and with hairpin the same for LAN hosts addressing the WAN address.
 */
void
nft_rules_dnat(struct fw_nft *n)
{
	struct nftnl_rule *r;
	int range, hp;

	for (hp = 0; hp <= n->be->cfg->hairpin; hp++)
		for (range = 0; range < 2; range++) {
			r = nft_rule_new(n, NFT_FAMILY, "prerouting");
			ex_inbound(r, n, hp);
			ex_proto_dport(r);
			ex_lookup(r, nft_set(range ? "dnat_range" : "dnat_port"), 1);
			ex_dnat(r, !range);
			nft_rule_emit(n, r);
		}
}

/* ct status dnat */
static void
ex_ct_dnat(struct nftnl_rule *r)
{
	ex_ct_bits(r, NFT_CT_STATUS, 0x20);	/* IPS_DST_NAT */
}

/*
 * postrouting (hairpin = yes): a hairpinned flow goes back out of a LAN
 * interface; it leaves with the gateway's LAN address, so the mapped host
 * answers through the gateway (which undoes both translations) rather than
 * straight to the LAN host, which would drop an answer from an address it
 * never spoke to. (iifname is not known at postrouting: the source decides.)
 *   ip saddr @lan_nets oifname @lan_ifs ct status dnat masquerade
 */
void
nft_rules_hairpin(struct fw_nft *n)
{
	struct nftnl_rule *r;

	if (!n->be->cfg->hairpin)
		return;
	r = nft_rule_new(n, NFT_FAMILY, "postrouting");
	ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	ex_lookup(r, nft_set("lan_nets"), 0);
	ex_meta(r, NFT_META_OIFNAME, NFT_REG_1);
	ex_lookup(r, nft_set("lan_ifs"), 0);
	ex_ct_dnat(r);
	ex(r, "masq");
	nft_rule_emit(n, r);
}

/*
 * filter_pre (filter, before dstnat): a mapping with remote filters drops
 * WAN packets from anyone else, before they are translated.
 *   iifname WAN l4proto . dport @filt_ports
 *     l4proto . dport . ip saddr . th sport != @filt_allow drop
 */
void
nft_rules_filter(struct fw_nft *n)
{
	struct nftnl_rule *r;
	int hp;

	/* a hairpinned LAN host is a remote peer like any other: filtered the same way */
	for (hp = 0; hp <= n->be->cfg->hairpin; hp++) {
		r = nft_rule_new(n, NFT_FAMILY, "filter_pre");
		ex_inbound(r, n, hp);
		ex_proto_dport(r);
		ex_lookup(r, nft_set("filt_ports"), 0);
		ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_02);
		ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, NFT_REG32_03);
		ex_lookup_inv(r, "filt_allow");
		ex(r, "counter");
		ex_verdict(r, NF_DROP, NULL);
		nft_rule_emit(n, r);
	}
}

static void
ex_snat(struct nftnl_rule *r)
{
	struct nftnl_expr *e = ex(r, "nat");

	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
}

/*
 * postrouting (nat, priority 99: before an admin's masquerade at srcnat):
 * a pinned outbound flow leaves with the external port PCP PEER reported.
 *   oifname WAN snat ip to ip saddr . l4proto . th sport . ip daddr . th dport map @peer_snat
 */
void
nft_rules_peer(struct fw_nft *n)
{
	struct nftnl_rule *r = nft_rule_new(n, NFT_FAMILY, "postrouting");

	ex_ifname(r, NFT_META_OIFNAME, n->be->cfg->wan_interface);
	ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00);
	ex_meta(r, NFT_META_L4PROTO, NFT_REG32_01);
	ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, NFT_REG32_02);
	ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_03);
	ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_04);
	ex_lookup(r, nft_set("peer_snat"), 1);
	ex_snat(r);
	nft_rule_emit(n, r);
}

/*
 * forward: report trigger traffic, at most once per FW_NFLOG_NOTIFY_MS per
 * (host, proto, port): the *_seen sets are the kernel-side rate limit, and
 * a limit caps all notifications together, so forged sources cannot flood us.
 * Only sources inside a LAN subnet (@lan_nets) can trigger.
 *   iifname @lan_ifs ip saddr @lan_nets l4proto . dport @trig_ports jump trig_out
 *   ct state new iifname WAN l4proto . dport @trig_open jump trig_in
 *   trig_out: ip saddr . l4proto . dport @trig_seen return
 *             limit rate 100/second burst 50 packets
 *               add @trig_seen { ip saddr . l4proto . dport } log group G prefix "pgo"
 *   trig_in:  the same with ip daddr, @trig_in_seen and prefix "pgi"
 */
void
nft_rules_trigger(struct fw_nft *n)
{
	static const struct {
		const char *chain, *seen, *prefix;
		uint32_t addr_off;
	} sub[2] = {
		{ "trig_out", "trig_seen", FW_NFLOG_PREFIX_OUT, 12 },
		{ "trig_in", "trig_in_seen", FW_NFLOG_PREFIX_IN, 16 },
	};
	struct nftnl_rule *r;
	int i;

	r = nft_rule_new(n, NFT_FAMILY, "forward");
	ex_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	ex_lookup(r, nft_set("lan_ifs"), 0);
	ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	ex_lookup(r, nft_set("lan_nets"), 0);
	ex_proto_dport(r);
	ex_lookup(r, nft_set("trig_ports"), 0);
	ex_verdict(r, NFT_JUMP, "trig_out");
	nft_rule_emit(n, r);
	r = nft_rule_new(n, NFT_FAMILY, "forward");
	ex_ct_new(r);
	ex_iifname(r, n->be->cfg->wan_interface);
	ex_proto_dport(r);
	ex_lookup(r, nft_set("trig_open"), 0);
	ex_verdict(r, NFT_JUMP, "trig_in");
	nft_rule_emit(n, r);
	for (i = 0; i < 2; i++) {
		r = nft_rule_new(n, NFT_FAMILY, sub[i].chain);
		ex_addr_proto_dport(r, sub[i].addr_off);
		ex_lookup(r, nft_set(sub[i].seen), 0);
		ex_verdict(r, NFT_RETURN, NULL);
		nft_rule_emit(n, r);
		r = nft_rule_new(n, NFT_FAMILY, sub[i].chain);
		ex_limit(r);
		ex_addr_proto_dport(r, sub[i].addr_off);
		ex_dynset_add(r, nft_set(sub[i].seen));
		ex_log(r, sub[i].prefix, (uint16_t)n->be->cfg->nflog_group);
		nft_rule_emit(n, r);
	}
}

/* meta mark set meta mark | bit */
static void
ex_mark_or(struct nftnl_rule *r, uint32_t bit)
{
	struct nftnl_expr *e;
	uint32_t mask = ~bit;

	ex_meta(r, NFT_META_MARK, NFT_REG_1);
	e = ex(r, "bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_XOR, &bit, 4);
	e = ex(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
}

/*
 * table ip6, chain forward (filter, priority -1: just before the admin's
 * filter chains): one rule per pinhole set, the most specific first, so a
 * packet counts for one pinhole only.
 *   iifname WAN ip6 daddr . l4proto . th dport [. ip6 saddr] [. th sport] @pin_X
 *     meta mark set meta mark | FW_NFT_PIN_MARK accept
 * The element's counter counts what the lookup lets in; the admin's forward
 * chain (policy drop) accepts the mark.
 */
void
nft_rules_pin(struct fw_nft *n)
{
	static const struct {
		const char	*set;
		int		 saddr, sport;
	} pin[] = {
		{ "pin_hostport", 1, 1 },
		{ "pin_host", 1, 0 },
		{ "pin_pfx", 1, 1 },
		{ "pin_port", 0, 1 },
		{ "pin_any", 0, 0 },
	};
	struct nftnl_rule *r;
	uint32_t reg;
	size_t i;

	for (i = 0; i < PG_NELEM(pin); i++) {
		r = nft_rule_new(n, NFT_FAMILY6, "forward");
		ex_iifname(r, n->be->cfg->wan_interface);
		ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG32_00);
		ex_meta(r, NFT_META_L4PROTO, NFT_REG32_04);
		ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_05);
		reg = NFT_REG32_06;
		if (pin[i].saddr) {
			ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, reg);
			reg += 4;
		}
		if (pin[i].sport)
			ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, reg);
		ex_lookup(r, nft_set(pin[i].set), 0);
		ex_mark_or(r, FW_NFT_PIN_MARK);
		ex_verdict(r, NF_ACCEPT, NULL);
		nft_rule_emit(n, r);
	}
}

/*
 * table ip and ip6, chain input (filter, priority -1): nothing from outside
 * the LAN reaches the daemon's service ports, so a WAN host that routes the
 * LAN prefix through the gateway cannot even open a connection to the UPnP
 * server (and hold a slot), send SSDP searches or PCP requests.
 *   iifname != "lo" iifname != @lan_ifs l4proto . th dport @svc_ports counter drop
 */
void
nft_rules_svc(struct fw_nft *n)
{
	static const struct {
		uint16_t	 family;
		const char	*ifs, *ports;
	} fam[] = {
		{ NFT_FAMILY, "lan_ifs", "svc_ports" },
		{ NFT_FAMILY6, "lan_ifs6", "svc_ports6" },
	};
	struct nftnl_rule *r;
	char lo[IFNAMSIZ];
	size_t i;

	memset(lo, 0, sizeof(lo));
	strcpy(lo, "lo");
	for (i = 0; i < PG_NELEM(fam); i++) {
		r = nft_rule_new(n, fam[i].family, "input");
		ex_meta(r, NFT_META_IIFNAME, NFT_REG_1);
		ex_cmp(r, NFT_CMP_NEQ, lo, sizeof(lo));
		ex_lookup_inv(r, fam[i].ifs);
		ex_proto_dport(r);
		ex_lookup(r, nft_set(fam[i].ports), 0);
		ex(r, "counter");
		ex_verdict(r, NF_DROP, NULL);
		nft_rule_emit(n, r);
	}
}

static void
ex_oifname(struct nftnl_rule *r, const char *ifname)
{
	ex_ifname(r, NFT_META_OIFNAME, ifname);
}

/* reg = ct DIR KEY */
static void
ex_ct_dir(struct nftnl_rule *r, uint32_t key, uint8_t dir, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, dir);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
}

/*
 * forward: a LAN host's PCP or NAT-PMP request to a server beyond the
 * gateway (a carrier NAT's) is dropped. It would leave from the gateway's
 * WAN address, so that server would take it for the gateway's own and map
 * its ports to the gateway: its own services, or ports it gives other
 * hosts, opened to the internet behind its back. Through a NAT PCP cannot
 * work anyway (the client address is not the source, RFC 6887 §8.1); the
 * gateway is the LAN's PCP server and asks the upstream itself.
 *   iifname @lan_ifs oifname WAN meta l4proto udp th dport 5351 counter drop
 */
void
nft_rules_pcp_fence(struct fw_nft *n)
{
	struct nftnl_rule *r;
	uint8_t udp = IPPROTO_UDP;
	uint16_t port = htons(5351);

	r = nft_rule_new(n, NFT_FAMILY, "forward");
	ex_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	ex_lookup(r, nft_set("lan_ifs"), 0);
	ex_oifname(r, n->be->cfg->wan_interface);
	ex_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	ex_cmp(r, NFT_CMP_EQ, &udp, sizeof(udp));
	ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	ex_cmp(r, NFT_CMP_EQ, &port, sizeof(port));
	ex(r, "counter");
	ex_verdict(r, NF_DROP, NULL);
	nft_rule_emit(n, r);
}

/*
 * An external port held by an inbound entry is never the source port of
 * another flow leaving the WAN, or the WAN peer's answers to that flow would
 * go to its sender instead of the mapped host (and a LAN host could take
 * another's mapped port just by sending from it: port-preserving masquerade
 * keeps the source port when it can). A flow from exactly a single-port
 * mapping's internal endpoint may use that mapping's port (@inb_own: it
 * leads to the same place), and a flow from a range's host (a range
 * forward or trigger keeps ports) any port of its range (@inb_range:
 * ip saddr . l4proto . th sport, and for the second rule ct original saddr
 * . l4proto . ct reply proto-dst). Two rules per DNAT set:
 *
 * postrouting (nat, priority srcnat - 1, after the PEER pins): a flow whose
 * source port is mapped leaves with a random port instead of its own
 *   oifname WAN l4proto . th sport @dnat_X
 *     ip saddr . l4proto . th sport . th sport != @inb_own masquerade random,fully-random
 * post_filter (filter, priority srcnat + 1, after every SNAT, ours or the
 * admin's): whatever port a new flow ended up with (a random one, or one an
 * admin's masquerade picked), if it is mapped and not the flow's own, the
 * packet is dropped; the sender's retransmission gets a new random port.
 *   oifname WAN ct state new l4proto . ct reply proto-dst @dnat_X
 *     ct original saddr . l4proto . ct original proto-src . ct reply proto-dst
 *       != @inb_own counter drop
 */
void
nft_rules_outbound(struct fw_nft *n)
{
	static const struct {
		const char	*dnat, *own;
	} set[] = {
		{ "dnat_port", "inb_own" },
		{ "dnat_range", "inb_range" },
	};
	const char *wan = n->be->cfg->wan_interface;
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	size_t i;
	int single;

	for (i = 0; i < PG_NELEM(set); i++) {
		single = strcmp(set[i].own, "inb_own") == 0;
		r = nft_rule_new(n, NFT_FAMILY, "postrouting");
		ex_oifname(r, wan);
		ex_meta(r, NFT_META_L4PROTO, NFT_REG_1);
		ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, NFT_REG32_01);
		ex_lookup(r, nft_set(set[i].dnat), 0);
		ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00);
		ex_meta(r, NFT_META_L4PROTO, NFT_REG32_01);
		ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, NFT_REG32_02);
		if (single)
			ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, NFT_REG32_03);
		ex_lookup_inv(r, set[i].own);
		e = ex(r, "masq");
		nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_FLAGS,
		    NF_NAT_RANGE_PROTO_RANDOM | NF_NAT_RANGE_PROTO_RANDOM_FULLY);
		nft_rule_emit(n, r);

		r = nft_rule_new(n, NFT_FAMILY, "post_filter");
		ex_oifname(r, wan);
		ex_ct_new(r);
		ex_meta(r, NFT_META_L4PROTO, NFT_REG_1);
		ex_ct_dir(r, NFT_CT_PROTO_DST, IP_CT_DIR_REPLY, NFT_REG32_01);
		ex_lookup(r, nft_set(set[i].dnat), 0);
		ex_ct_dir(r, NFT_CT_SRC_IP, IP_CT_DIR_ORIGINAL, NFT_REG32_00);
		ex_meta(r, NFT_META_L4PROTO, NFT_REG32_01);
		if (single) {
			ex_ct_dir(r, NFT_CT_PROTO_SRC, IP_CT_DIR_ORIGINAL, NFT_REG32_02);
			ex_ct_dir(r, NFT_CT_PROTO_DST, IP_CT_DIR_REPLY, NFT_REG32_03);
		} else
			ex_ct_dir(r, NFT_CT_PROTO_DST, IP_CT_DIR_REPLY, NFT_REG32_02);
		ex_lookup_inv(r, set[i].own);
		ex(r, "counter");
		ex_verdict(r, NF_DROP, NULL);
		nft_rule_emit(n, r);
	}
}

/* counter name NAME: count into one of the table's named counters */
static void
ex_counter_ref(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = ex(r, "objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
}

/*
 * forward: count what each mapping lets in from the WAN, in its inb_own or
 * inb_range element (those sets give every element a counter): a packet the
 * DNAT rules translated, by its internal endpoint and the external port it
 * was sent to (which tells a range from a single-port mapping to a port of
 * the same host). A lookup without a verdict: the packet goes on as before.
 * The outbound rules look these sets up inverted, which counts nothing.
 * Both rules count into the named counter NFT_INBOUND too: what every
 * mapping let in, in all, whatever mappings came and went (fw_inbound).
 *   iifname WAN ct status dnat ip daddr . l4proto . th dport . ct original proto-dst @inb_own
 *     counter name "inbound"
 *   iifname WAN ct status dnat ip daddr . l4proto . ct original proto-dst @inb_range
 *     counter name "inbound"
 */
void
nft_rules_count(struct fw_nft *n)
{
	struct nftnl_rule *r;
	int range;

	for (range = 0; range < 2; range++) {
		r = nft_rule_new(n, NFT_FAMILY, "forward");
		ex_iifname(r, n->be->cfg->wan_interface);
		ex_ct_dnat(r);
		ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_00);
		ex_meta(r, NFT_META_L4PROTO, NFT_REG32_01);
		if (!range)
			ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02);
		ex_ct_dir(r, NFT_CT_PROTO_DST, IP_CT_DIR_ORIGINAL,
		    range ? NFT_REG32_02 : NFT_REG32_03);
		ex_lookup(r, nft_set(range ? "inb_range" : "inb_own"), 0);
		ex_counter_ref(r, NFT_INBOUND);
		nft_rule_emit(n, r);
	}
}

/* meta iiftype ether: the check below needs an Ethernet header to read */
static void
ex_iif_ether(struct nftnl_rule *r)
{
	uint16_t ether = ARPHRD_ETHER;

	ex_meta(r, NFT_META_IIFTYPE, NFT_REG_1);
	ex_cmp(r, NFT_CMP_EQ, &ether, sizeof(ether));
}

/* reg1 = ip[6] saddr . ether saddr; then lookup != @set */
static void
ex_not_lan_host(struct nftnl_rule *r, int v6)
{
	ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4, NFT_REG32_00);
	ex_payload(r, NFT_PAYLOAD_LL_HEADER, 6, 6, v6 ? NFT_REG32_04 : NFT_REG32_01);
	ex_lookup_inv(r, v6 ? "lan_hosts6" : "lan_hosts");
}

/*
 * Forged LAN sources. UDP cannot prove its source, but the gateway knows
 * which MAC holds each LAN address (its neighbour table, mirrored into
 * @lan_hosts by the daemon): a PCP/NAT-PMP request, or a packet on a
 * trigger port, whose source address is not held by the frame's sender is
 * dropped (requests) or not reported (triggers). Interfaces without
 * Ethernet headers cannot be checked and are not.
 *   input:   iifname @lan_ifs meta iiftype ether udp dport 5351
 *              ip saddr . ether saddr != @lan_hosts limit rate 100/second
 *                log group G prefix "pgu"                          (and ip6)
 *            the same ... counter drop
 * The log tells the daemon to have the kernel resolve the address (a new
 * IPv6 address of a host, a pair it lost): the real holder answers, the
 * pair is added, and the client's retransmission is honoured.
 *   forward: iifname @lan_ifs meta iiftype ether
 *              ip saddr . ether saddr != @lan_hosts l4proto . dport @trig_ports return
 * (return: the packet is forwarded as any other, it just triggers nothing).
 */
void
nft_rules_hosts(struct fw_nft *n)
{
	struct nftnl_rule *r;
	uint16_t pcp = htons(5351);
	uint8_t udp = IPPROTO_UDP;
	int v6;

	int log;

	for (v6 = 0; v6 < 2; v6++)
		for (log = 1; log >= 0; log--) {
			r = nft_rule_new(n, v6 ? NFT_FAMILY6 : NFT_FAMILY, "input");
			ex_meta(r, NFT_META_IIFNAME, NFT_REG_1);
			ex_lookup(r, nft_set(v6 ? "lan_ifs6" : "lan_ifs"), 0);
			ex_iif_ether(r);
			ex_meta(r, NFT_META_L4PROTO, NFT_REG_1);
			ex_cmp(r, NFT_CMP_EQ, &udp, sizeof(udp));
			ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
			ex_cmp(r, NFT_CMP_EQ, &pcp, sizeof(pcp));
			ex_not_lan_host(r, v6);
			if (log) {	/* the daemon resolves the address: a retransmission passes */
				ex_limit(r);
				ex_log(r, FW_NFLOG_PREFIX_UNKNOWN,
				    (uint16_t)n->be->cfg->nflog_group);
			} else {
				ex(r, "counter");
				ex_verdict(r, NF_DROP, NULL);
			}
			nft_rule_emit(n, r);
		}
	r = nft_rule_new(n, NFT_FAMILY, "forward");
	ex_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	ex_lookup(r, nft_set("lan_ifs"), 0);
	ex_iif_ether(r);
	ex_not_lan_host(r, 0);
	ex_proto_dport(r);
	ex_lookup(r, nft_set("trig_ports"), 0);
	ex(r, "counter");
	ex_verdict(r, NFT_RETURN, NULL);
	nft_rule_emit(n, r);
}
