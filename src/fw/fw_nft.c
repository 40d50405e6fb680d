/*
 * fw_nft.c - the nftables backend, written with libnftnl + libmnl.
 *
 * portgated owns two tables of the same name (nft_table): family ip for
 * IPv4 NAT and family ip6 for IPv6 pinholes. The number of rules is fixed;
 * every mapping or pinhole is one element of a set or map, so adding the
 * 100,000th costs what the first did:
 *
 *   table ip:
 *   map dnat_port  { inet_proto . inet_service : ipv4_addr . inet_service; timeout }
 *   map dnat_range { inet_proto . inet_service : ipv4_addr; interval, timeout }
 *   chain prerouting (nat, dstnat):
 *     iifname WAN dnat ip to meta l4proto . th dport map @dnat_port
 *     iifname WAN dnat ip to meta l4proto . th dport map @dnat_range
 *
 *   table ip6 (sets with a timeout and a counter in every element):
 *   set pin_any      { ip6_addr . inet_proto . inet_service }
 *   set pin_port     { ... . inet_service }			(one remote port)
 *   set pin_host     { ... . ip6_addr }			(one remote host)
 *   set pin_hostport { ... . ip6_addr . inet_service }
 *   set pin_pfx      { ... . ip6_addr . inet_service; interval }	(prefixes)
 *   chain forward (filter, priority -1), one rule per set:
 *     iifname WAN ip6 daddr . meta l4proto . th dport [. ip6 saddr] [. th sport] @pin_X
 *       meta mark set meta mark | FW_NFT_PIN_MARK accept
 *
 * Why a second table rather than one inet table: the IPv4 NAT rules and sets
 * stay exactly as they are (no "meta nfproto" guard on every rule, no risk to
 * the IPv4 path), IPv6 has no NAT, and both tables are still created, deleted
 * and rebuilt in the same netlink batch and watched by the same monitor.
 * The admin's own forward chain (policy drop) lets pinhole traffic through
 * by accepting the mark (README; tests/lab/lab.sh lab_admin_fw6).
 *
 * Each element carries its lease's remaining time as a kernel timeout, so
 * ports and pinholes close on time even if the daemon dies. The trigger sets
 * are built here too; the fixed rules, including the forward chain that
 * reports trigger traffic (src/trigger/nflog.c), are fw_nft_rules.c's.
 *
 * Changes go to the kernel as one netlink batch per commit, one message per
 * element with its own sequence number, so a kernel refusal maps back to
 * the mapping or pinhole that caused it. nf_tables batches are
 * all-or-nothing: the refused messages are dropped and the rest is sent again.
 *
 * A rebuild (start-up, reload, trigger rule change, repair) is ONE batch:
 * delete both tables, create them with their sets, chains, rules and every
 * mapping and pinhole. The kernel applies it atomically, so packets to
 * existing mappings never see a half-built table.
 *
 * A mapping or pinhole that closes (fw.c says which deletes of a batch do)
 * leaves the conntrack entries of the flows it let in, which conntrack
 * keeps passing: after the batch, fw_nft_close has them ended (ct.c). A
 * mapping that opens (fw.c says which adds do) finds the outbound flows
 * other hosts already send out of its ports, which keep what the WAN peers
 * send there: fw_nft_open has them ended too.
 *
 * A second socket listens to nftables events. Every event from another
 * process that names our tables (a rule replaced, an element deleted, a set
 * flushed, a table deleted, nft flush ruleset) makes the daemon rebuild
 * them from the mapping table 100 ms later: what the table says is what
 * the kernel holds; nothing is read back from the kernel to decide. (A
 * pinhole's packet counters are read back, synchronously, for reporting
 * only: fw_nft_pin_counters.)
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "fw/ct.h"
#include "fw/fw.h"
#include "fw/fw_nft.h"
#include "fw/fw_nft_priv.h"
#include "log.h"
#include "mtable.h"
#include "netif.h"
#include "util.h"

/* ---- message buffer ---- */

char *
nb_reserve(struct nft_buf *b, size_t need)
{
	char *p;
	size_t cap;

	if (b->len + need > b->cap) {
		cap = b->cap ? b->cap : 65536;
		while (b->len + need > cap)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return NULL;
		b->p = p;
		b->cap = cap;
	}
	memset(b->p + b->len, 0, need);
	return b->p + b->len;
}

void
nb_commit(struct nft_buf *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int
nb_batch_begin(struct fw_nft *n)
{
	char *p;

	n->buf.len = 0;
	if ((p = nb_reserve(&n->buf, 256)) == NULL)
		return -1;
	nb_commit(&n->buf, nftnl_batch_begin(p, n->seq++));
	return 0;
}

static int
nb_batch_end(struct fw_nft *n)
{
	char *p;

	if ((p = nb_reserve(&n->buf, 256)) == NULL)
		return -1;
	nb_commit(&n->buf, nftnl_batch_end(p, n->seq++));
	return 0;
}

/* ---- sending and collecting errors ---- */

struct nft_err {
	uint32_t	seq;
	int		err;
};

struct nft_result {
	struct nft_err	*errs;
	size_t		 n, cap;
	int		 overflow;
};

static void
nft_result_add(struct nft_result *r, uint32_t seq, int err)
{
	struct nft_err *e;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		if ((e = reallocarray(r->errs, r->cap, sizeof(*e))) == NULL) {
			r->overflow = 1;
			return;
		}
		r->errs = e;
	}
	r->errs[r->n].seq = seq;
	r->errs[r->n].err = err;
	r->n++;
}

/*
 * Send the buffer (a batch) followed by a GETGEN request, then read until
 * the GETGEN answer: every error the batch produced comes before it.
 */
static int
nft_send(struct fw_nft *n, struct nft_result *res)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;
	uint32_t gen_seq;
	ssize_t len;
	int left;

	char gbuf[128];

	/* a batch is one message to nfnetlink: the GETGEN marker goes separately */
	if (mnl_socket_sendto(n->nl, n->buf.p, n->buf.len) < 0) {
		log_warn("fw_nft: sending %zu bytes to the kernel", n->buf.len);
		return -1;
	}
	gen_seq = n->seq++;
	memset(gbuf, 0, sizeof(gbuf));
	nlh = nftnl_nlmsg_build_hdr(gbuf, NFT_MSG_GETGEN, AF_UNSPEC, 0, gen_seq);
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0) {
		log_warn("fw_nft: sending to the kernel");
		return -1;
	}
	for (;;) {
		if ((len = mnl_socket_recvfrom(n->nl, rbuf, sizeof(rbuf))) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("fw_nft: reading the kernel's answer");
			return -1;
		}
		left = (int)len;
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, left);
		    nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				e = mnl_nlmsg_get_payload(nlh);
				if (e->error != 0)
					nft_result_add(res, nlh->nlmsg_seq, -e->error);
				if (nlh->nlmsg_seq == gen_seq && e->error != 0)
					return 0;
				continue;
			}
			if (nlh->nlmsg_seq == gen_seq)
				return 0;
		}
	}
}

/* ---- building objects ---- */

static void
nft_add_table(struct fw_nft *n, uint16_t family, int type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	char *p = nb_reserve(&n->buf, 512);

	if (t == NULL || p == NULL)
		fatal("fw_nft: table");
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, n->fw->cfg->nft_table);
	nlh = nftnl_nlmsg_build_hdr(p, (uint16_t)type, family, flags, n->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nb_commit(&n->buf, nlh);
	nftnl_table_free(t);
}


#define KEY_PROTO_PORT	TYPE_CONCAT2(TYPE_INET_PROTOCOL, TYPE_INET_SERVICE)
#define KEY_ADDR_PROTO_PORT(a) TYPE_CONCAT3(a, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE)
#define INTERVAL_CONCAT	(NFT_SET_INTERVAL | NFT_SET_CONCAT)

static const struct nft_set_def nft_sets[] = {
	{ .name = "dnat_port", .id = 1, .flags = NFT_SET_MAP | NFT_SET_TIMEOUT,
	    .key_type = KEY_PROTO_PORT, .key_len = 8,
	    .data_type = TYPE_CONCAT2(TYPE_IPADDR, TYPE_INET_SERVICE), .data_len = 8 },
	{ .name = "dnat_range", .id = 2, .flags = NFT_SET_MAP | NFT_SET_TIMEOUT | INTERVAL_CONCAT,
	    .key_type = KEY_PROTO_PORT, .key_len = 8,
	    .data_type = TYPE_IPADDR, .data_len = 4, .fields = { 1, 2 } },
	{ .name = "lan_ifs", .id = 3, .key_type = TYPE_IFNAME, .key_len = IFNAMSIZ,
	    .key_byteorder = NFT_UDATA_HOST_ENDIAN },
	/* LAN hosts: source address . MAC, from the neighbour table (nft_rules_hosts) */
	{ .name = "lan_hosts", .id = 21, .key_type = TYPE_CONCAT2(TYPE_IPADDR, TYPE_ETHERADDR),
	    .key_len = 12 },
	{ .name = "lan_hosts6", .id = 22, .family = NFPROTO_IPV6,
	    .key_type = TYPE_CONCAT2(TYPE_IP6ADDR, TYPE_ETHERADDR), .key_len = 24 },
	/* the daemon's own LAN-side service ports (UPnP HTTP, SSDP, PCP/NAT-PMP), per table */
	{ .name = "svc_ports", .id = 17, .key_type = KEY_PROTO_PORT, .key_len = 8 },
	{ .name = "lan_ifs6", .id = 18, .family = NFPROTO_IPV6, .key_type = TYPE_IFNAME,
	    .key_len = IFNAMSIZ, .key_byteorder = NFT_UDATA_HOST_ENDIAN },
	{ .name = "svc_ports6", .id = 19, .family = NFPROTO_IPV6, .key_type = KEY_PROTO_PORT,
	    .key_len = 8 },
	{ .name = "trig_ports", .id = 4, .flags = INTERVAL_CONCAT,
	    .key_type = KEY_PROTO_PORT, .key_len = 8, .fields = { 1, 2 } },
	{ .name = "trig_open", .id = 5, .flags = INTERVAL_CONCAT | NFT_SET_TIMEOUT,
	    .key_type = KEY_PROTO_PORT, .key_len = 8, .fields = { 1, 2 } },
	{ .name = "trig_seen", .id = 6, .flags = NFT_SET_EVAL | NFT_SET_TIMEOUT,
	    .key_type = KEY_ADDR_PROTO_PORT(TYPE_IPADDR), .key_len = 12,
	    .timeout = FW_NFT_NOTIFY_MS, .size = 65535 },
	{ .name = "trig_in_seen", .id = 7, .flags = NFT_SET_EVAL | NFT_SET_TIMEOUT,
	    .key_type = KEY_ADDR_PROTO_PORT(TYPE_IPADDR), .key_len = 12,
	    .timeout = FW_NFT_NOTIFY_MS, .size = 65535 },
	{ .name = "lan_nets", .id = 8, .flags = NFT_SET_INTERVAL, .key_type = TYPE_IPADDR,
	    .key_len = 4 },
	/* remote filters (PCP FILTER, UPnP NewRemoteHost): mappings that have them, and who */
	{ .name = "filt_ports", .id = 9, .flags = NFT_SET_TIMEOUT,
	    .key_type = KEY_PROTO_PORT, .key_len = 8 },
	{ .name = "filt_allow", .id = 10, .flags = INTERVAL_CONCAT | NFT_SET_TIMEOUT,
	    .key_type = TYPE_CONCAT4(TYPE_INET_PROTOCOL, TYPE_INET_SERVICE, TYPE_IPADDR,
	    TYPE_INET_SERVICE), .key_len = 16, .fields = { 1, 2, 4, 2 } },
	/*
	 * single-port mappings by their internal endpoint and external port: an outbound
	 * flow from exactly that endpoint may leave with that port (see nft_rules_outbound)
	 */
	{ .name = "inb_own", .id = 20, .flags = NFT_SET_TIMEOUT, .key_type = TYPE_CONCAT4(
	    TYPE_IPADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE, TYPE_INET_SERVICE),
	    .key_len = 16 },
	/* and ranges (forwards, triggers: ports kept) by their host: addr . proto . port range */
	{ .name = "inb_range", .id = 23, .flags = INTERVAL_CONCAT | NFT_SET_TIMEOUT,
	    .key_type = KEY_ADDR_PROTO_PORT(TYPE_IPADDR), .key_len = 12, .fields = { 4, 1, 2 } },
	/* PCP PEER: an outbound flow's 5-tuple -> the external address and port it leaves with */
	{ .name = "peer_snat", .id = 11, .flags = NFT_SET_MAP | NFT_SET_TIMEOUT,
	    .key_type = TYPE_CONCAT5(TYPE_IPADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE,
	    TYPE_IPADDR, TYPE_INET_SERVICE), .key_len = 20,
	    .data_type = TYPE_CONCAT2(TYPE_IPADDR, TYPE_INET_SERVICE), .data_len = 8 },
	/*
	 * table ip6: IPv6 pinholes, ip6 daddr . l4proto . dport [. ip6 saddr] [. th sport]
	 * (see nft_pin_elem), each element with its own counter
	 */
	{ .name = "pin_any", .id = 12, .family = NFPROTO_IPV6, .counter = 1,
	    .flags = NFT_SET_TIMEOUT, .key_type = KEY_ADDR_PROTO_PORT(TYPE_IP6ADDR),
	    .key_len = 24 },
	{ .name = "pin_port", .id = 13, .family = NFPROTO_IPV6, .counter = 1,
	    .flags = NFT_SET_TIMEOUT, .key_type = TYPE_CONCAT4(TYPE_IP6ADDR, TYPE_INET_PROTOCOL,
	    TYPE_INET_SERVICE, TYPE_INET_SERVICE), .key_len = 28 },
	{ .name = "pin_host", .id = 14, .family = NFPROTO_IPV6, .counter = 1,
	    .flags = NFT_SET_TIMEOUT, .key_type = TYPE_CONCAT4(TYPE_IP6ADDR, TYPE_INET_PROTOCOL,
	    TYPE_INET_SERVICE, TYPE_IP6ADDR), .key_len = 40 },
	{ .name = "pin_hostport", .id = 15, .family = NFPROTO_IPV6, .counter = 1,
	    .flags = NFT_SET_TIMEOUT, .key_type = TYPE_CONCAT5(TYPE_IP6ADDR, TYPE_INET_PROTOCOL,
	    TYPE_INET_SERVICE, TYPE_IP6ADDR, TYPE_INET_SERVICE), .key_len = 44 },
	{ .name = "pin_pfx", .id = 16, .family = NFPROTO_IPV6, .counter = 1,
	    .flags = INTERVAL_CONCAT | NFT_SET_TIMEOUT, .key_type = TYPE_CONCAT5(TYPE_IP6ADDR,
	    TYPE_INET_PROTOCOL, TYPE_INET_SERVICE, TYPE_IP6ADDR, TYPE_INET_SERVICE),
	    .key_len = 44, .fields = { 16, 1, 2, 16, 2 } },
};

const struct nft_set_def *
nft_set(const char *name)
{
	size_t i;

	for (i = 0; i < PG_NELEM(nft_sets); i++)
		if (strcmp(nft_sets[i].name, name) == 0)
			return &nft_sets[i];
	fatalx("fw_nft: no set %s", name);
}

/* The family a set lives in (the ip table's sets leave it 0). */
static uint32_t
nft_set_family(const struct nft_set_def *d)
{
	return d->family ? d->family : NFT_FAMILY;
}

/* The key byte order, as nft records it: without it "nft list" prints names as "". */
static void
nft_set_byteorder(struct nftnl_set *s, uint32_t order)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);

	if (u == NULL)
		return;
	if (nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, order))
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
		    nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

/* A counter expression starting at pkts/bytes. */
static struct nftnl_expr *
nft_counter_new(uint64_t pkts, uint64_t bytes)
{
	struct nftnl_expr *e = nftnl_expr_alloc("counter");

	if (e == NULL)
		fatal("fw_nft: counter");
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, pkts);
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, bytes);
	return e;
}

static void
nft_add_set(struct fw_nft *n, const struct nft_set_def *d)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	uint8_t fl[NFT_REG32_COUNT];
	char *p = nb_reserve(&n->buf, 1024);
	size_t nf;

	if (s == NULL || p == NULL)
		fatal("fw_nft: set");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->fw->cfg->nft_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, d->id);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nft_set_family(d));
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, d->flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	if (d->data_len) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, d->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, d->data_len);
	}
	for (nf = 0; nf < PG_NELEM(d->fields) && d->fields[nf]; nf++)
		fl[nf] = d->fields[nf];
	if (nf > 0)
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fl, (uint32_t)nf);
	if (d->timeout)
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, d->timeout);
	if (d->size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, d->size);
	nft_set_byteorder(s, d->key_byteorder ? d->key_byteorder : NFT_UDATA_BIG_ENDIAN);
	if (d->counter)		/* the template of every element's own counter */
		nftnl_set_add_expr(s, nft_counter_new(0, 0));
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWSET, (uint16_t)nft_set_family(d), NLM_F_CREATE,
	    n->seq++);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nb_commit(&n->buf, nlh);
	nftnl_set_free(s);
}

static void
nft_add_chain(struct fw_nft *n, uint16_t family, const char *name, const char *type, int hook,
    int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	char *p = nb_reserve(&n->buf, 1024);

	if (c == NULL || p == NULL)
		fatal("fw_nft: chain");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, n->fw->cfg->nft_table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (type != NULL) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE, n->seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nb_commit(&n->buf, nlh);
	nftnl_chain_free(c);
}

/* ---- elements ---- */

#define NFT_KEY_MAX	44	/* pin_hostport, pin_pfx: 16 + 4 + 4 + 16 + 4 */

struct nft_elem {
	uint8_t		key[NFT_KEY_MAX];	/* concat fields, each padded to 32 bits */
	uint8_t		key_end[NFT_KEY_MAX];
	uint32_t	key_len;	/* 8 (0 says 8 too); 16 filt_allow, 20 peer_snat, 24-44 pin_* */
	uint8_t		data[8];
	uint32_t	data_len;
	int		has_end;
	uint64_t	timeout;
	uint64_t	pkts, bytes;	/* sets with counters: where the element's counter starts */
};

static void
nft_key_proto_port(uint8_t *k, int proto, uint16_t port)
{
	k[0] = proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	util_put16(k + 4, port);
}

static const char *
nft_item_elem(const struct fw_item *it, struct nft_elem *el)
{
	memset(el, 0, sizeof(*el));
	nft_key_proto_port(el->key, it->proto, it->ext_port);
	memcpy(el->data, &it->int_addr.s6_addr[12], 4);
	el->timeout = it->timeout_ms;
	if (it->ext_port_end != it->ext_port || it->source == MT_SRC_TRIGGER) {
		el->has_end = 1;
		nft_key_proto_port(el->key_end, it->proto, it->ext_port_end);
		el->data_len = 4;
		return "dnat_range";
	}
	util_put16(el->data + 4, it->int_port);
	el->data_len = 8;
	return "dnat_port";
}

static struct nftnl_set_elem *
nft_elem_alloc(const struct nft_elem *el, int with_data, int with_timeout, int with_counter)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (e == NULL)
		return NULL;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, el->key, el->key_len ? el->key_len : 8);
	if (el->has_end)
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, el->key_end,
		    el->key_len ? el->key_len : 8);
	if (with_data && el->data_len)
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, el->data, el->data_len);
	if (with_timeout && el->timeout)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, el->timeout);
	if (with_counter)
		nftnl_set_elem_add_expr(e, nft_counter_new(el->pkts, el->bytes));
	return e;
}

/* One NEWSETELEM/DELSETELEM message carrying elems[0..n). */
static int
nft_emit_elems(struct fw_nft *n, const char *set, int del, const struct nft_elem *els,
    size_t cnt, int with_data)
{
	const struct nft_set_def *d = nft_set(set);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e;
	struct nlmsghdr *nlh;
	char *p;
	size_t i;

	if (s == NULL || (p = nb_reserve(&n->buf, 512 + cnt * 192)) == NULL) {
		nftnl_set_free(s);
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->fw->cfg->nft_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	for (i = 0; i < cnt; i++) {
		e = nft_elem_alloc(&els[i], with_data && !del, !del, d->counter && !del);
		if (e == NULL) {
			nftnl_set_free(s);
			return -1;
		}
		nftnl_set_elem_add(s, e);
	}
	nlh = nftnl_nlmsg_build_hdr(p, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
	    (uint16_t)nft_set_family(d), del ? 0 : NLM_F_CREATE | NLM_F_EXCL, n->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nb_commit(&n->buf, nlh);
	nftnl_set_free(s);
	return 0;
}

/* filt_allow's interval for one filter: (proto, port, first..last address, port or 0..65535). */
static void
nft_filter_elem(const struct fw_item *it, const struct mt_filter *f, struct nft_elem *el)
{
	uint32_t lo, hi, host = f->plen >= 128 ? 0 : (uint32_t)(0xffffffffu >> (f->plen - 96));

	memset(el, 0, sizeof(*el));
	el->key_len = 16;
	el->has_end = 1;
	el->timeout = it->timeout_ms;
	nft_key_proto_port(el->key, it->proto, it->ext_port);
	nft_key_proto_port(el->key_end, it->proto, it->ext_port);
	memcpy(&lo, &f->addr.s6_addr[12], 4);
	hi = htonl(ntohl(lo) | host);
	memcpy(el->key + 8, &lo, 4);
	memcpy(el->key_end + 8, &hi, 4);
	util_put16(el->key + 12, f->port);
	util_put16(el->key_end + 12, f->port ? f->port : 65535);
}

/* A mapping with remote filters: its port in filt_ports, each filter in filt_allow. */
static int
nft_emit_filters(struct fw_nft *n, const struct fw_change *c, const struct nft_elem *port)
{
	struct nft_elem el[MT_MAX_FILTERS], key;
	int del = c->op == FW_DEL;
	size_t i;

	memset(&key, 0, sizeof(key));
	memcpy(key.key, port->key, 8);
	key.timeout = port->timeout;
	if (nft_emit_elems(n, "filt_ports", del, &key, 1, 0) == -1)
		return -1;
	for (i = 0; i < c->item.nfilters && i < MT_MAX_FILTERS; i++)
		nft_filter_elem(&c->item, &c->item.filters[i], &el[i]);
	return nft_emit_elems(n, "filt_allow", del, el, i, 0);
}

/* An element keyed by the item's internal endpoint first: int addr . proto . int port (12 bytes). */
static void
nft_key_endpoint(struct nft_elem *el, const struct fw_item *it, uint32_t key_len)
{
	memset(el, 0, sizeof(*el));
	el->key_len = key_len;
	memcpy(el->key, &it->int_addr.s6_addr[12], 4);
	el->key[4] = it->proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	util_put16(el->key + 8, it->int_port);
}

/* A single-port mapping's inb_own element: int addr . proto . int port . ext port. */
static int
nft_emit_own(struct fw_nft *n, const struct fw_change *c)
{
	const struct fw_item *it = &c->item;
	struct nft_elem el;

	nft_key_endpoint(&el, it, 16);
	util_put16(el.key + 12, it->ext_port);
	el.timeout = it->timeout_ms;
	return nft_emit_elems(n, "inb_own", c->op == FW_DEL, &el, 1, 0);
}

/* A range's inb_range element: [int addr . proto . first port, int addr . proto . last]. */
static int
nft_emit_own_range(struct fw_nft *n, const struct fw_change *c)
{
	const struct fw_item *it = &c->item;
	struct nft_elem el;

	memset(&el, 0, sizeof(el));
	el.key_len = 12;
	el.has_end = 1;
	memcpy(el.key, &it->int_addr.s6_addr[12], 4);
	el.key[4] = it->proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	memcpy(el.key_end, el.key, 8);
	util_put16(el.key + 8, it->ext_port);
	util_put16(el.key_end + 8, it->ext_port_end);
	el.timeout = it->timeout_ms;
	return nft_emit_elems(n, "inb_range", c->op == FW_DEL, &el, 1, 0);
}

/* A PEER pin: (int addr . proto . int port . peer addr . peer port) -> ext addr . ext port. */
static int
nft_emit_peer(struct fw_nft *n, const struct fw_change *c)
{
	const struct fw_item *it = &c->item;
	struct nft_elem el;

	nft_key_endpoint(&el, it, 20);
	memcpy(el.key + 12, &it->peer_addr.s6_addr[12], 4);
	util_put16(el.key + 16, it->peer_port);
	memcpy(el.data, &it->ext_addr.s6_addr[12], 4);
	util_put16(el.data + 4, it->ext_port);
	el.data_len = 8;
	el.timeout = it->timeout_ms;
	return nft_emit_elems(n, "peer_snat", c->op == FW_DEL, &el, 1, 1);
}

/* ---- IPv6 pinholes ---- */

/* The first (lo) or last (hi) address of a prefix, into k (16 bytes). */
static void
nft_pfx_bound(uint8_t *k, const struct in6_addr *a, unsigned plen, int hi)
{
	unsigned i, bits;
	uint8_t host;

	for (i = 0; i < 16; i++) {
		bits = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
		host = (uint8_t)(0xffu >> bits);
		k[i] = hi ? (uint8_t)(a->s6_addr[i] | host) : (uint8_t)(a->s6_addr[i] & ~host);
	}
}

/*
 * One remote of a pinhole (f NULL: anyone) as an element; returns its set.
 * Keys: ip6 daddr (0) . l4proto (16) . dport (20) then pin_port: sport (24);
 * pin_host: saddr (24); pin_hostport, pin_pfx: saddr (24) . sport (40),
 * pin_pfx as the interval [first address . port or 0, last . port or 65535].
 */
static const char *
nft_pin_elem(const struct fw_item *it, const struct mt_filter *f, struct nft_elem *el)
{
	memset(el, 0, sizeof(*el));
	memcpy(el->key, it->int_addr.s6_addr, 16);
	el->key[16] = it->proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	util_put16(el->key + 20, it->int_port);
	el->timeout = it->timeout_ms;
	el->key_len = 24;
	if (f == NULL || (f->plen == 0 && f->port == 0))
		return "pin_any";
	if (f->plen == 0) {
		util_put16(el->key + 24, f->port);
		el->key_len = 28;
		return "pin_port";
	}
	memcpy(el->key_end, el->key, 24);
	nft_pfx_bound(el->key + 24, &f->addr, f->plen, 0);
	el->key_len = 40;
	if (f->plen >= 128 && f->port == 0)
		return "pin_host";
	util_put16(el->key + 40, f->port);
	el->key_len = 44;
	if (f->plen >= 128)
		return "pin_hostport";
	el->has_end = 1;
	nft_pfx_bound(el->key_end + 24, &f->addr, f->plen, 1);
	util_put16(el->key_end + 40, f->port ? f->port : 65535);
	return "pin_pfx";
}

/*
 * A pinhole's elements, one per remote (an identical remote twice gives one
 * element); the first carries the item's counts. Returns how many.
 */
static size_t
nft_pin_elems(const struct fw_item *it, struct nft_elem *el, const char **set)
{
	size_t i, j, cnt = 0, nf = it->nfilters < MT_MAX_FILTERS ? it->nfilters : MT_MAX_FILTERS;

	for (i = 0; i < (nf ? nf : 1); i++) {
		set[cnt] = nft_pin_elem(it, nf ? &it->filters[i] : NULL, &el[cnt]);
		for (j = 0; j < cnt; j++)
			if (set[j] == set[cnt] && memcmp(el[j].key, el[cnt].key, NFT_KEY_MAX) == 0 &&
			    memcmp(el[j].key_end, el[cnt].key_end, NFT_KEY_MAX) == 0)
				break;
		if (j == cnt)
			cnt++;
	}
	el[0].pkts = it->pkts;
	el[0].bytes = it->bytes;
	return cnt;
}

/* 1 if the kernel can hold the pinhole: a native IPv6 address, prefixes within 128 bits. */
static int
nft_pin_valid(const struct fw_item *it)
{
	size_t i;

	if (it->proto >= MT_NPROTO || it->nfilters > MT_MAX_FILTERS ||
	    util_addr_is_v4(&it->int_addr))
		return 0;
	for (i = 0; i < it->nfilters; i++)
		if (it->filters[i].plen > 128)
			return 0;
	return 1;
}

/* A pinhole: one message per element, into table ip6. */
static int
nft_emit_pin(struct fw_nft *n, const struct fw_change *c)
{
	struct nft_elem el[MT_MAX_FILTERS];
	const char *set[MT_MAX_FILTERS];
	size_t i, cnt = nft_pin_elems(&c->item, el, set);

	for (i = 0; i < cnt; i++)
		if (nft_emit_elems(n, set[i], c->op == FW_DEL, &el[i], 1, 0) == -1)
			return -1;
	return 0;
}

/* Messages for one change (a trigger range also updates trig_open, filters their sets). */
static int
nft_emit_change(struct fw_nft *n, const struct fw_change *c)
{
	struct nft_elem el;
	const char *set;
	int del = c->op == FW_DEL;

	if (c->item.kind == MT_KIND_PEER)
		return nft_emit_peer(n, c);
	if (c->item.kind == MT_KIND_PINHOLE)
		return nft_emit_pin(n, c);
	set = nft_item_elem(&c->item, &el);

	if (nft_emit_elems(n, set, del, &el, 1, 1) == -1)
		return -1;
	if ((strcmp(set, "dnat_port") == 0 ? nft_emit_own(n, c) : nft_emit_own_range(n, c)) == -1)
		return -1;
	if (c->item.nfilters > 0 && nft_emit_filters(n, c, &el) == -1)
		return -1;
	if (c->item.source != MT_SRC_TRIGGER)
		return 0;
	return nft_emit_elems(n, "trig_open", del, &el, 1, 0);
}

/* ---- commit ---- */

static int
nft_seq_index(const uint32_t *first_seq, size_t n, uint32_t seq)
{
	size_t lo = 0, hi = n;

	/* first_seq is increasing: find the change whose messages hold seq */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (first_seq[mid] <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? -1 : (int)(lo - 1);
}

/* Send changes[live] as one batch; mark refused ones in err[]. 1 if all landed. */
static int
nft_try_batch(struct fw_nft *n, const struct fw_change *c, size_t cnt, const char *live,
    int *err, uint32_t *first_seq)
{
	struct nft_result res = { NULL, 0, 0, 0 };
	size_t i;
	int idx, ok = 1;

	if (nb_batch_begin(n) == -1)
		return -1;
	for (i = 0; i < cnt; i++) {
		first_seq[i] = n->seq;
		if (live[i] && nft_emit_change(n, &c[i]) == -1)
			return -1;
	}
	if (nb_batch_end(n) == -1 || nft_send(n, &res) == -1) {
		free(res.errs);
		return -1;
	}
	for (i = 0; i < res.n; i++) {
		if ((idx = nft_seq_index(first_seq, cnt, res.errs[i].seq)) < 0 || !live[idx])
			continue;
		err[idx] = res.errs[i].err;
		ok = 0;
	}
	free(res.errs);
	if (res.overflow) {	/* errors went unrecorded: the outcome is unknown */
		log_warnx("fw_nft: lost track of the kernel's errors for a batch");
		return -1;
	}
	return ok;
}

static int
nft_commit_chunk(struct fw_nft *n, const struct fw_change *c, size_t cnt, fw_fail_cb *cb,
    void *arg)
{
	char *live = malloc(cnt);
	int *err = calloc(cnt, sizeof(*err)), rc = -1, attempt;
	uint32_t *first_seq = calloc(cnt, sizeof(*first_seq));
	size_t i;

	if (live == NULL || err == NULL || first_seq == NULL)
		goto out;
	for (i = 0; i < cnt; i++) {
		live[i] = c[i].item.kind != MT_KIND_PINHOLE || nft_pin_valid(&c[i].item);
		if (!live[i] && cb != NULL)
			cb(arg, &c[i], EINVAL);
	}
	for (attempt = 0; attempt < NFT_RETRIES; attempt++) {
		if ((rc = nft_try_batch(n, c, cnt, live, err, first_seq)) != 0)
			break;
		/* the kernel aborted the batch: drop what it refused, send the rest again */
		for (i = 0; i < cnt; i++)
			if (err[i] != 0 && live[i]) {
				live[i] = 0;
				if (cb != NULL)
					cb(arg, &c[i], err[i]);
			}
	}
	if (rc == 0)
		log_warnx("fw_nft: batch still refused after %d attempts", NFT_RETRIES);
	rc = rc == 1 ? 0 : -1;
out:
	free(live);
	free(err);
	free(first_seq);
	return rc;
}

static void nft_schedule_repair(struct fw_nft *);

/* A pinhole change with an element in pin_pfx (the kernel's interval set). */
static int
nft_change_is_pfx_del(const struct fw_change *c)
{
	size_t i;

	if (c->op != FW_DEL || c->item.kind != MT_KIND_PINHOLE)
		return 0;
	for (i = 0; i < c->item.nfilters && i < MT_MAX_FILTERS; i++)
		if (c->item.filters[i].plen > 0 && c->item.filters[i].plen < 128)
			return 1;
	return 0;
}

/*
 * Deleting many pin_pfx elements one by one costs the kernel minutes (its
 * interval set re-computes itself per element; 8,192 took 150 s), while a
 * rebuild without them takes well under a second: past NFT_PFX_DEL_MAX such
 * deletes in one commit, they are left out and the tables are rebuilt from
 * the mapping table, which no longer holds them.
 */
static size_t
nft_drop_pfx_dels(struct fw_nft *n, const struct fw_change *c, size_t cnt,
    struct fw_change **kept)
{
	size_t i, npfx = 0, k = 0;

	*kept = NULL;
	for (i = 0; i < cnt; i++)
		npfx += (size_t)nft_change_is_pfx_del(&c[i]);
	if (npfx <= NFT_PFX_DEL_MAX || (*kept = reallocarray(NULL, cnt, sizeof(**kept))) == NULL)
		return cnt;
	for (i = 0; i < cnt; i++)
		if (!nft_change_is_pfx_del(&c[i]))
			(*kept)[k++] = c[i];
	log_info("fw_nft: %zu prefix pinholes closed at once; rebuilding the tables instead",
	    npfx);
	nft_schedule_repair(n);
	return k;
}

static int
fw_nft_commit(struct fw *fw, const struct fw_change *c, size_t cnt, fw_fail_cb *cb, void *arg)
{
	struct fw_nft *n = fw->priv;
	struct fw_change *kept;
	size_t off, chunk;
	int rc = 0;

	cnt = nft_drop_pfx_dels(n, c, cnt, &kept);
	if (kept != NULL)
		c = kept;
	for (off = 0; off < cnt; off += chunk) {
		chunk = cnt - off < NFT_CHANGES_PER_BATCH ? cnt - off : NFT_CHANGES_PER_BATCH;
		if (nft_commit_chunk(n, c + off, chunk, cb, arg) == -1)
			rc = -1;
	}
	free(kept);
	return rc;
}

/* ---- building the table ---- */

/* The LAN interfaces, for the trigger rule's iifname @lan_ifs. */
/* The LAN interface names into one of the lan_ifs sets. */
static void
nft_emit_lan_ifs(struct fw_nft *n, const char *set)
{
	const struct nft_set_def *d = nft_set(set);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e;
	struct nlmsghdr *nlh;
	char *p = nb_reserve(&n->buf, 2048);
	char name[IFNAMSIZ];
	size_t i;

	if (s == NULL || p == NULL)
		fatal("fw_nft: %s", set);
	if (n->fw->cfg->nlan == 0) {
		nftnl_set_free(s);
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->fw->cfg->nft_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_set_u32(s, NFTNL_SET_ID, d->id);
	for (i = 0; i < n->fw->cfg->nlan; i++) {
		memset(name, 0, sizeof(name));
		strncpy(name, n->fw->cfg->lan_interface[i], sizeof(name) - 1);
		if ((e = nftnl_set_elem_alloc()) == NULL)
			fatal("fw_nft: lan_ifs element");
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, name, sizeof(name));
		nftnl_set_elem_add(s, e);
	}
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWSETELEM, (uint16_t)nft_set_family(d),
	    NLM_F_CREATE, n->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nb_commit(&n->buf, nlh);
	nftnl_set_free(s);
}

/*
 * The ports the daemon serves on the LAN side, which nothing from outside
 * the LAN may reach (see nft_rules_svc): UPnP's HTTP port and SSDP when the
 * IGD front end is on, 5351 when PCP or NAT-PMP is.
 */
static void
nft_emit_svc_ports(struct fw_nft *n)
{
	const struct pg_config *c = n->fw->cfg;
	struct nft_elem el[3];
	size_t cnt = 0, i;

	memset(el, 0, sizeof(el));
	if (c->upnp) {
		nft_key_proto_port(el[cnt++].key, MT_TCP, (uint16_t)c->upnp_http_port);
		nft_key_proto_port(el[cnt++].key, MT_UDP, 1900);
	}
	if (c->pcp || c->natpmp)
		nft_key_proto_port(el[cnt++].key, MT_UDP, 5351);
	for (i = 0; i < cnt; i++)
		el[i].key_len = 8;
	if (cnt == 0)
		return;
	nft_emit_elems(n, "svc_ports", 0, el, cnt, 0);
	nft_emit_elems(n, "svc_ports6", 0, el, cnt, 0);
}

/* One interval of lan_nets: the prefix's first address and (flagged) one past its last. */
static void
nft_lan_net_elems(struct nftnl_set *s, const struct netif_prefix *p)
{
	struct nftnl_set_elem *e;
	uint32_t lo, hi, host = p->plen >= 128 ? 0 : (uint32_t)(0xffffffffu >> (p->plen - 96));
	uint8_t k[4];

	memcpy(&lo, &p->addr.s6_addr[12], 4);
	lo = ntohl(lo);
	hi = lo + host + 1;	/* 0 after 255.255.255.255: no end element needed */
	if ((e = nftnl_set_elem_alloc()) == NULL)
		fatal("fw_nft: lan_nets element");
	memcpy(k, &p->addr.s6_addr[12], 4);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, k, 4);
	nftnl_set_elem_add(s, e);
	if (hi == 0)
		return;
	if ((e = nftnl_set_elem_alloc()) == NULL)
		fatal("fw_nft: lan_nets element");
	hi = htonl(hi);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &hi, 4);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(s, e);
}

/* A host's element of lan_hosts (address . MAC) or lan_hosts6 into el; its set. */
static const char *
nft_host_elem(const struct fw_host *h, struct nft_elem *el)
{
	int v6 = !util_addr_is_v4(&h->addr);

	memset(el, 0, sizeof(*el));
	el->key_len = v6 ? 24 : 12;
	memcpy(el->key, v6 ? h->addr.s6_addr : &h->addr.s6_addr[12], v6 ? 16 : 4);
	memcpy(el->key + (v6 ? 16 : 4), h->mac, 6);
	return v6 ? "lan_hosts6" : "lan_hosts";
}

/* Into the open batch: empty lan_hosts and lan_hosts6 and fill them from n->hosts. */
static void
nft_emit_hosts(struct fw_nft *n, int flush)
{
	static const char *const set[2] = { "lan_hosts", "lan_hosts6" };
	struct nft_elem el[NFT_ELEMS_PER_MSG];
	size_t i, cnt;
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		if (flush)
			nft_emit_elems(n, set[v6], 1, NULL, 0, 0);
		cnt = 0;
		for (i = 0; i < n->nhosts; i++) {
			if (util_addr_is_v4(&n->hosts[i].addr) == v6)
				continue;
			nft_host_elem(&n->hosts[i], &el[cnt]);
			if (++cnt == PG_NELEM(el)) {
				nft_emit_elems(n, set[v6], 0, el, cnt, 0);
				cnt = 0;
			}
		}
		if (cnt > 0)
			nft_emit_elems(n, set[v6], 0, el, cnt, 0);
	}
}

static int
nft_host_cmp(const void *a, const void *b)
{
	const struct fw_host *x = a, *y = b;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	return c != 0 ? c : memcmp(x->mac, y->mac, sizeof(x->mac));
}

/*
 * Into the open batch: the pairs of one family in a[] that b[] lacks (both
 * sorted by nft_host_cmp), added (del 0) or deleted.
 */
static size_t
nft_emit_hosts_diff(struct fw_nft *n, const struct fw_host *a, size_t na,
    const struct fw_host *b, size_t nb, int v6, int del)
{
	struct nft_elem el[NFT_ELEMS_PER_MSG];
	const char *set = v6 ? "lan_hosts6" : "lan_hosts";
	size_t i, j = 0, cnt = 0, total = 0;
	int c = 1;

	for (i = 0; i < na; i++) {
		if (util_addr_is_v4(&a[i].addr) == v6)
			continue;
		while (j < nb && (c = nft_host_cmp(&b[j], &a[i])) < 0)
			j++;
		if (j < nb && c == 0)
			continue;
		nft_host_elem(&a[i], &el[cnt]);
		total++;
		if (++cnt == PG_NELEM(el)) {
			nft_emit_elems(n, set, del, el, cnt, 0);
			cnt = 0;
		}
	}
	if (cnt > 0)
		nft_emit_elems(n, set, del, el, cnt, 0);
	return total;
}

/* The LAN subnets, for the trigger rule's ip saddr @lan_nets. */
static void
nft_emit_lan_nets(struct fw_nft *n)
{
	const struct netif_prefix *p;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	size_t i, cnt = n->fw->netif ? netif_lan_prefixes(n->fw->netif, &p) : 0, used = 0;
	char *buf;

	if ((s = nftnl_set_alloc()) == NULL || (buf = nb_reserve(&n->buf, 4096)) == NULL)
		fatal("fw_nft: lan_nets");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->fw->cfg->nft_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "lan_nets");
	nftnl_set_set_u32(s, NFTNL_SET_ID, nft_set("lan_nets")->id);
	for (i = 0; i < cnt; i++) {
		if (!util_addr_is_v4(&p[i].addr) || p[i].plen < 96)
			continue;
		nft_lan_net_elems(s, &p[i]);
		used++;
	}
	if (used > 0) {
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFT_FAMILY, NLM_F_CREATE,
		    n->seq++);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nb_commit(&n->buf, nlh);
	}
	nftnl_set_free(s);
}

static void
nft_emit_trig_ports(struct fw_nft *n)
{
	struct nft_elem el;
	size_t i;

	for (i = 0; i < n->ntrig; i++) {
		memset(&el, 0, sizeof(el));
		el.has_end = 1;
		nft_key_proto_port(el.key, n->trig[i].proto, n->trig[i].lo);
		nft_key_proto_port(el.key_end, n->trig[i].proto, n->trig[i].hi);
		nft_emit_elems(n, "trig_ports", 0, &el, 1, 0);
	}
}

/* Into the open batch: delete the ip and ip6 tables (creating them first so it cannot fail). */
static void
nft_emit_del_tables(struct fw_nft *n, int create)
{
	static const uint16_t fam[] = { NFT_FAMILY, NFT_FAMILY6 };
	size_t i;

	for (i = 0; i < PG_NELEM(fam); i++) {
		if (create)
			nft_add_table(n, fam[i], NFT_MSG_NEWTABLE, NLM_F_CREATE);
		nft_add_table(n, fam[i], NFT_MSG_DELTABLE, 0);
	}
}

/* Into the open batch: replace both tables with ones holding sets, chains, rules, no mappings. */
static void
nft_emit_skeleton(struct fw_nft *n)
{
	size_t i;

	nft_emit_del_tables(n, 1);
	nft_add_table(n, NFT_FAMILY, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_add_table(n, NFT_FAMILY6, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	for (i = 0; i < PG_NELEM(nft_sets); i++)
		nft_add_set(n, &nft_sets[i]);
	nft_add_chain(n, NFT_FAMILY, "filter_pre", "filter", NF_INET_PRE_ROUTING, -150);
	nft_add_chain(n, NFT_FAMILY, "prerouting", "nat", NF_INET_PRE_ROUTING, -100);
	nft_add_chain(n, NFT_FAMILY, "postrouting", "nat", NF_INET_POST_ROUTING, 99);
	nft_add_chain(n, NFT_FAMILY, "forward", "filter", NF_INET_FORWARD, 0);
	nft_add_chain(n, NFT_FAMILY, "post_filter", "filter", NF_INET_POST_ROUTING, 101);
	nft_add_chain(n, NFT_FAMILY, "trig_out", NULL, 0, 0);
	nft_add_chain(n, NFT_FAMILY, "trig_in", NULL, 0, 0);
	nft_add_chain(n, NFT_FAMILY6, "forward", "filter", NF_INET_FORWARD, -1);
	nft_add_chain(n, NFT_FAMILY, "input", "filter", NF_INET_LOCAL_IN, -1);
	nft_add_chain(n, NFT_FAMILY6, "input", "filter", NF_INET_LOCAL_IN, -1);
	nft_rules_svc(n);
	nft_rules_hosts(n);
	nft_rules_filter(n);
	nft_rules_dnat(n);
	nft_rules_peer(n);
	nft_rules_outbound(n);
	nft_rules_hairpin(n);
	nft_rules_trigger(n);
	nft_rules_pin(n);
	nft_emit_lan_ifs(n, "lan_ifs");
	nft_emit_lan_ifs(n, "lan_ifs6");
	nft_emit_svc_ports(n);
	nft_emit_hosts(n, 0);
	nft_emit_lan_nets(n);
	nft_emit_trig_ports(n);
}

/* Send the open batch; 0 if the kernel took all of it, else -1 (nothing applied). */
static int
nft_send_all_or_nothing(struct fw_nft *n, const char *what)
{
	struct nft_result res = { NULL, 0, 0, 0 };
	int rc;

	if (nb_batch_end(n) == -1 || nft_send(n, &res) == -1) {
		free(res.errs);
		return -1;
	}
	rc = res.n == 0 && !res.overflow ? 0 : -1;
	if (rc == -1)
		log_warnx("fw_nft: the kernel refused %s of tables %s: %s", what,
		    n->fw->cfg->nft_table, res.n ? strerror(res.errs[0].err) : "unknown error");
	free(res.errs);
	return rc;
}

/* One batch: replace the table with an empty one holding sets, chains and rules. */
static int
nft_build_skeleton(struct fw_nft *n)
{
	if (nb_batch_begin(n) == -1)
		return -1;
	nft_emit_skeleton(n);
	return nft_send_all_or_nothing(n, "the skeleton");
}

/* Every mapping the iterator yields, as an array of adds; NULL on allocation failure. */
static struct fw_change *
nft_collect(fw_iter_cb *it, void *arg, size_t *cnt)
{
	struct fw_change *c = NULL, *nc;
	size_t cap = 0;

	*cnt = 0;
	for (;;) {
		if (*cnt == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((nc = reallocarray(c, cap, sizeof(*c))) == NULL) {
				free(c);
				return NULL;
			}
			c = nc;
		}
		c[*cnt].op = FW_ADD;
		if (!it(arg, &c[*cnt].item))
			return c;
		(*cnt)++;
	}
}

/* 0 (logged) for an item the kernel cannot hold, which a rebuild leaves out. */
static int
nft_resync_valid(const struct fw_item *it)
{
	if (it->kind != MT_KIND_PINHOLE || nft_pin_valid(it))
		return 1;
	log_warnx("fw_nft: pinhole %u is not a native IPv6 one; left out", (unsigned)it->pin_id);
	return 0;
}

/*
 * Rebuild both tables with every mapping and pinhole as ONE transaction:
 * the kernel swaps the old tables for the new ones atomically, so no packet to an
 * existing mapping is refused during a reload, a trigger rule change or a
 * repair. If the kernel refuses the whole (the old table then stays as it
 * was), fall back to the skeleton followed by element batches, which
 * drops only the elements the kernel refuses.
 */
static int
fw_nft_resync(struct fw *fw, fw_iter_cb *it, void *arg)
{
	struct fw_nft *n = fw->priv;
	struct fw_change *c;
	size_t cnt, i;
	int rc = -1;

	if ((c = nft_collect(it, arg, &cnt)) == NULL)
		return -1;
	if (nb_batch_begin(n) == 0) {
		nft_emit_skeleton(n);
		for (i = 0; i < cnt && rc == -1; i++)
			if (nft_resync_valid(&c[i].item) && nft_emit_change(n, &c[i]) == -1)
				rc = -2;
		rc = rc == -2 ? -1 : nft_send_all_or_nothing(n, "an atomic rebuild");
	}
	if (rc == -1) {
		log_warnx("fw_nft: rebuilding tables %s in steps", fw->cfg->nft_table);
		if ((rc = nft_build_skeleton(n)) == 0)
			rc = fw_nft_commit(fw, c, cnt, NULL, NULL);
	}
	free(c);
	n->rebuilds++;
	log_info("fw_nft: tables ip and ip6 %s built with %zu mappings and pinholes",
	    fw->cfg->nft_table, cnt);
	return rc;
}

/* ---- ending the flows of closed doors, and those on opened doors' ports ---- */

/*
 * After a commit or a rebuild dropped their elements: the flows the closed
 * mappings and pinholes let in are still in conntrack, which keeps passing
 * them; the closer ends them (src/fw/ct.c, in rounds).
 */
static void
fw_nft_close(struct fw *fw, const struct fw_close *cl, size_t cnt)
{
	struct fw_nft *n = fw->priv;

	ct_closer_add(n->closer, cl, cnt);
}

/*
 * After a commit or a rebuild added them: other hosts' outbound flows that
 * already leave by the new mappings' ports (the rules only stop new ones)
 * keep the WAN peers' packets to those ports; the closer ends them too.
 */
static void
fw_nft_open(struct fw *fw, const struct fw_open *op, size_t cnt)
{
	struct fw_nft *n = fw->priv;

	ct_closer_open(n->closer, op, cnt);
}

/* ---- reading a pinhole's counters ---- */

struct nft_ctr_sum {
	uint64_t	pkts, bytes;
	int		elems;		/* elements the kernel sent for the current request */
};

static int
nft_ctr_expr_cb(struct nftnl_expr *e, void *arg)
{
	struct nft_ctr_sum *sum = arg;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (name != NULL && strcmp(name, "counter") == 0) {
		sum->pkts += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		sum->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static int
nft_ctr_elem_cb(struct nftnl_set_elem *e, void *arg)
{
	struct nft_ctr_sum *sum = arg;

	sum->elems++;
	return nftnl_set_elem_expr_foreach(e, nft_ctr_expr_cb, arg);
}

/* One answer to request seq into sum: 1 when it is complete, 0 for more, -1 with errno. */
static int
nft_ctr_msg(const struct nlmsghdr *nlh, uint32_t seq, struct nft_ctr_sum *sum)
{
	const struct nlmsgerr *e;
	struct nftnl_set *s;

	if (nlh->nlmsg_seq != seq)
		return 0;	/* an answer to an earlier request that timed out */
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		e = mnl_nlmsg_get_payload(nlh);
		errno = e->error ? -e->error : ENOENT;
		return e->error == 0 && sum->elems > 0 ? 1 : -1;
	}
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
		return 0;
	if ((s = nftnl_set_alloc()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0)
		nftnl_set_elem_foreach(s, nft_ctr_elem_cb, sum);
	nftnl_set_free(s);
	return 0;
}

/* Add one element's counter to sum (a GETSETELEM request); 0 or -1 with errno. */
static int
nft_get_counter(struct fw_nft *n, const char *set, const struct nft_elem *el,
    struct nft_ctr_sum *sum)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nft_elem_alloc(el, 0, 0, 0);
	struct nlmsghdr *nlh;
	uint32_t seq = n->seq++;
	ssize_t len;
	int left, rc = 0;

	if (s == NULL || e == NULL) {
		nftnl_set_free(s);
		nftnl_set_elem_free(e);
		errno = ENOMEM;
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->fw->cfg->nft_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_elem_add(s, e);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFT_FAMILY6, NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (mnl_socket_sendto(n->query, nlh, nlh->nlmsg_len) < 0)
		return -1;
	sum->elems = 0;
	while (rc == 0) {
		if ((len = mnl_socket_recvfrom(n->query, buf, sizeof(buf))) < 0) {
			if (errno == EINTR)
				continue;
			return -1;	/* EAGAIN: no answer within the socket's timeout */
		}
		left = (int)len;
		for (nlh = (struct nlmsghdr *)buf; rc == 0 && mnl_nlmsg_ok(nlh, left);
		    nlh = mnl_nlmsg_next(nlh, &left))
			rc = nft_ctr_msg(nlh, seq, sum);
	}
	return rc == 1 ? 0 : -1;
}

static int
nft_query_open(struct fw_nft *n)
{
	struct timeval tv = { 1, 0 };

	if (n->query != NULL)
		return 0;
	if ((n->query = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		return -1;
	if (mnl_socket_bind(n->query, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(n->query);
		n->query = NULL;
		return -1;
	}
	setsockopt(mnl_socket_get_fd(n->query), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

/* A pinhole's counters: the sum of its elements'; ENOENT if one is missing. */
static int
fw_nft_pin_counters(struct fw *fw, const struct fw_item *it, uint64_t *pkts, uint64_t *bytes)
{
	struct fw_nft *n = fw->priv;
	struct nft_elem el[MT_MAX_FILTERS];
	const char *set[MT_MAX_FILTERS];
	struct nft_ctr_sum sum = { 0, 0, 0 };
	size_t i, cnt;

	if (it->kind != MT_KIND_PINHOLE || !nft_pin_valid(it)) {
		errno = EINVAL;
		return -1;
	}
	if (nft_query_open(n) == -1)
		return -1;
	cnt = nft_pin_elems(it, el, set);
	for (i = 0; i < cnt; i++)
		if (nft_get_counter(n, set[i], &el[i], &sum) == -1)
			return -1;
	*pkts = sum.pkts;
	*bytes = sum.bytes;
	return 0;
}

/* An open flow's external port: conntrack's translation of it. */
static int
fw_nft_flow_port(struct fw *fw, const struct fw_item *it, uint16_t *port)
{
	(void)fw;
	return ct_nat_port(it->proto == MT_TCP ? IPPROTO_TCP : IPPROTO_UDP, &it->int_addr,
	    it->int_port, &it->peer_addr, it->peer_port, port);
}

/* ---- watching for anyone else changing our table ---- */

static void
nft_repair_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fw_nft *n = arg;

	(void)fd;
	(void)ev;
	if (n->touched & NFT_TOUCHED_IP)
		log_warnx("fw_nft: table ip %s was changed by someone else; repairing",
		    n->fw->cfg->nft_table);
	if (n->touched & NFT_TOUCHED_IP6)
		log_warnx("fw_nft: table ip6 %s was changed by someone else; repairing",
		    n->fw->cfg->nft_table);
	n->touched = 0;
	if (n->fw->lost != NULL)
		n->fw->lost(n->fw->lost_arg);
}

static void
nft_schedule_repair(struct fw_nft *n)
{
	struct timeval tv = { 0, NFT_REPAIR_DELAY_MS * 1000 };

	/* wait a little: a "nft -f" or a flush arrives as a burst of events */
	if (!evtimer_pending(n->repair_ev, NULL))
		evtimer_add(n->repair_ev, &tv);
}

/*
 * Which of our tables (NFT_TOUCHED_*) an nftables event from someone else
 * touches, 0 if neither. Every object message (table, chain, rule, set,
 * element, ...) carries the table name as attribute 1 (NFTA_TABLE_NAME,
 * NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, ...).
 */
static int
nft_event_is_ours(const struct fw_nft *n, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *nfg;
	const struct nlattr *attr;
	int type = NFNL_MSG_TYPE(nlh->nlmsg_type), which;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES || type == NFT_MSG_NEWGEN ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*nfg)))
		return 0;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family == NFT_FAMILY)
		which = NFT_TOUCHED_IP;
	else if (nfg->nfgen_family == NFT_FAMILY6)
		which = NFT_TOUCHED_IP6;
	else
		return 0;
	mnl_attr_for_each(attr, nlh, sizeof(*nfg)) {
		if (mnl_attr_get_type(attr) != 1)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return which;	/* cannot tell: check */
		return strcmp(mnl_attr_get_str(attr), n->fw->cfg->nft_table) == 0 ? which : 0;
	}
	return 0;
}

static void
nft_mon_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fw_nft *n = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct nlmsghdr *nlh;
	ssize_t len;
	struct sockaddr_nl from;
	socklen_t fromlen;
	int left, touched = 0, i;

	(void)fd;
	(void)ev;
	for (i = 0; i < 64; i++) {	/* bounded: let other events run */
		fromlen = sizeof(from);
		if ((len = recvfrom(mnl_socket_get_fd(n->mon), buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fromlen)) <= 0) {
			if (len < 0 && errno == ENOBUFS) {	/* lost events: repair, don't guess */
				touched = NFT_TOUCHED_IP | NFT_TOUCHED_IP6;
				continue;
			}
			if (len < 0 && errno == EINTR)
				continue;
			break;
		}
		if (from.nl_pid != 0 || !util_nl_frames_ok(buf, (size_t)len)) {
			/* not the kernel's, or garbled: check by repairing */
			touched = NFT_TOUCHED_IP | NFT_TOUCHED_IP6;
			continue;
		}
		left = (int)len;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		    nlh = mnl_nlmsg_next(nlh, &left))
			if (nlh->nlmsg_pid != n->portid)
				touched |= nft_event_is_ours(n, nlh);
	}
	if (touched) {
		n->touched |= touched;
		nft_schedule_repair(n);
	}
}

static int
nft_open_monitor(struct fw_nft *n)
{
	int bufsz = NFT_SOCKBUF;

	if ((n->mon = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(n->mon, 1 << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
		log_warn("fw_nft: cannot listen to nftables events");
		return -1;
	}
	setsockopt(mnl_socket_get_fd(n->mon), SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	n->mon_ev = event_new(n->fw->base, mnl_socket_get_fd(n->mon), EV_READ | EV_PERSIST,
	    nft_mon_cb, n);
	n->repair_ev = evtimer_new(n->fw->base, nft_repair_cb, n);
	if (n->mon_ev == NULL || n->repair_ev == NULL || event_add(n->mon_ev, NULL) == -1)
		return -1;
	return 0;
}

static int
fw_nft_init(struct fw *fw)
{
	struct fw_nft *n = xcalloc(1, sizeof(*n));
	int bufsz = NFT_SOCKBUF;

	fw->priv = n;
	n->fw = fw;
	n->seq = (uint32_t)time(NULL);
	if ((n->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("fw_nft: cannot open a netfilter netlink socket (root needed)");
		return -1;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	if ((n->closer = ct_closer_new(fw->base)) == NULL)
		return -1;
	setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
	setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	/* the first resync builds the table, replacing an earlier run's in one transaction */
	if (fw->base != NULL && nft_open_monitor(n) == -1)
		return -1;
	return 0;
}

static void
fw_nft_shutdown(struct fw *fw)
{
	struct fw_nft *n = fw->priv;
	struct nft_result res = { NULL, 0, 0, 0 };

	if (n == NULL)
		return;
	if (n->mon_ev)
		event_free(n->mon_ev);
	if (n->repair_ev)
		event_free(n->repair_ev);
	if (n->mon)
		mnl_socket_close(n->mon);
	ct_closer_free(n->closer);	/* what closed before the end still ends */
	if (n->nl != NULL && !fw->cfg->nft_keep_table && nb_batch_begin(n) == 0) {
		nft_emit_del_tables(n, 1);	/* both or neither, even if one is gone */
		if (nb_batch_end(n) == 0 && nft_send(n, &res) == 0 && res.n == 0)
			log_info("fw_nft: tables ip and ip6 %s removed", fw->cfg->nft_table);
		free(res.errs);
	}
	if (n->nl)
		mnl_socket_close(n->nl);
	if (n->query)
		mnl_socket_close(n->query);
	free(n->buf.p);
	free(n->trig);
	free(n->hosts);
	free(n);
	fw->priv = NULL;
}

static int
fw_nft_trig_ports(struct fw *fw, const struct fw_trig_port *p, size_t cnt)
{
	struct fw_nft *n = fw->priv;
	struct fw_trig_port *np = NULL;

	if (n == NULL)
		return 0;
	if (cnt > 0 && (np = reallocarray(NULL, cnt, sizeof(*np))) == NULL)
		return -1;
	if (cnt > 0)
		memcpy(np, p, cnt * sizeof(*np));
	free(n->trig);
	n->trig = np;
	n->ntrig = cnt;
	return 0;
}

/*
 * Keep the verified LAN hosts and bring the kernel's sets to them in one
 * batch: only the pairs that changed, so that a host changing its MAC (or
 * taking a new address) costs two elements, not the whole set twice over
 * (a LAN host doing that thousands of times a second would otherwise flood
 * the event monitor into repairs). If the kernel's sets are not what we
 * thought, they are replaced whole.
 */
static int
fw_nft_hosts(struct fw *fw, const struct fw_host *h, size_t cnt)
{
	struct fw_nft *n = fw->priv;
	struct fw_host *nh = NULL, *old = n->hosts;
	size_t nold = n->nhosts, changed = 0;
	int v6;

	if (cnt > 0 && (nh = reallocarray(NULL, cnt, sizeof(*nh))) == NULL)
		return -1;
	if (cnt > 0) {
		memcpy(nh, h, cnt * sizeof(*nh));
		qsort(nh, cnt, sizeof(*nh), nft_host_cmp);
	}
	n->hosts = nh;
	n->nhosts = cnt;
	if (n->nl == NULL || nb_batch_begin(n) == -1) {
		free(old);
		return -1;
	}
	for (v6 = 0; v6 < 2; v6++) {
		changed += nft_emit_hosts_diff(n, old, nold, nh, cnt, v6, 1);
		changed += nft_emit_hosts_diff(n, nh, cnt, old, nold, v6, 0);
	}
	free(old);
	if (nft_send_all_or_nothing(n, "an update of the LAN hosts") == 0)
		return 0;
	if (changed == 0 || nb_batch_begin(n) == -1)
		return -1;
	nft_emit_hosts(n, 1);
	return nft_send_all_or_nothing(n, "a replacement of the LAN hosts");
}

const struct fw_ops fw_nft_ops = {
	.name = "nftables",
	.init = fw_nft_init,
	.commit = fw_nft_commit,
	.resync = fw_nft_resync,
	.close = fw_nft_close,
	.open = fw_nft_open,
	.pin_counters = fw_nft_pin_counters,
	.hosts = fw_nft_hosts,
	.trig_ports = fw_nft_trig_ports,
	.flow_port = fw_nft_flow_port,
	.shutdown = fw_nft_shutdown,
};
