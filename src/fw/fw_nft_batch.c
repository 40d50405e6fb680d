/*
 * fw_nft_batch.c - the nftables backend's netlink batch: the message buffer
 * a batch is built in, sending it and collecting the kernel's errors by
 * sequence number, our sets' definitions, and the objects a batch carries
 * (tables, sets, the named counter, chains, elements). fw_nft.c, fw_nft_elem.c and
 * fw_nft_rules.c build on it; it calls none of them.
 */
#include "config.h"

#include <netinet/in.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fw/fw_nft_priv.h"
#include "log.h"
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

int
nb_batch_begin(struct fw_nft *n)
{
	char *p;

	n->buf.len = 0;
	if ((p = nb_reserve(&n->buf, 256)) == NULL)
		return -1;
	nb_commit(&n->buf, nftnl_batch_begin(p, n->seq++));
	return 0;
}

int
nb_batch_end(struct fw_nft *n)
{
	char *p;

	if ((p = nb_reserve(&n->buf, 256)) == NULL)
		return -1;
	nb_commit(&n->buf, nftnl_batch_end(p, n->seq++));
	return 0;
}

/* ---- sending and collecting errors ---- */

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
int
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

void
nft_add_table(struct fw_nft *n, uint16_t family, int type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	char *p = nb_reserve(&n->buf, 512);

	if (t == NULL || p == NULL)
		fatal("fw_nft: table");
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, n->be->cfg->nft_table);
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
	    .timeout = FW_NFLOG_NOTIFY_MS, .size = 65535 },
	{ .name = "trig_in_seen", .id = 7, .flags = NFT_SET_EVAL | NFT_SET_TIMEOUT,
	    .key_type = KEY_ADDR_PROTO_PORT(TYPE_IPADDR), .key_len = 12,
	    .timeout = FW_NFLOG_NOTIFY_MS, .size = 65535 },
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
	 * flow from exactly that endpoint may leave with that port (see nft_rules_outbound);
	 * each element counts what its mapping lets in from the WAN (nft_rules_count)
	 */
	{ .name = "inb_own", .id = 20, .flags = NFT_SET_TIMEOUT, .counter = 1,
	    .key_type = TYPE_CONCAT4(TYPE_IPADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE,
	    TYPE_INET_SERVICE), .key_len = 16 },
	/* and ranges (forwards, triggers: ports kept) by their host: addr . proto . port range */
	{ .name = "inb_range", .id = 23, .flags = INTERVAL_CONCAT | NFT_SET_TIMEOUT, .counter = 1,
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
uint32_t
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

/* A counter expression starting at pkts/bytes; NULL out of memory. */
static struct nftnl_expr *
nft_counter_new(uint64_t pkts, uint64_t bytes)
{
	struct nftnl_expr *e = nftnl_expr_alloc("counter");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, pkts);
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, bytes);
	return e;
}

static void
nft_add_set(struct fw_nft *n, const struct nft_set_def *d)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_expr *ctr;
	struct nlmsghdr *nlh;
	uint8_t fl[NFT_REG32_COUNT];
	char *p = nb_reserve(&n->buf, 1024);
	size_t nf;

	if (s == NULL || p == NULL)
		fatal("fw_nft: set");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->be->cfg->nft_table);
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
	if (d->counter) {	/* the template of every element's own counter */
		if ((ctr = nft_counter_new(0, 0)) == NULL)
			fatal("fw_nft: counter");
		nftnl_set_add_expr(s, ctr);
	}
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWSET, (uint16_t)nft_set_family(d), NLM_F_CREATE,
	    n->seq++);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nb_commit(&n->buf, nlh);
	nftnl_set_free(s);
}

void
nft_add_sets(struct fw_nft *n)
{
	size_t i;

	for (i = 0; i < PG_NELEM(nft_sets); i++)
		nft_add_set(n, &nft_sets[i]);
}

void
nft_add_counter(struct fw_nft *n, const char *name, uint64_t pkts, uint64_t bytes)
{
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct nlmsghdr *nlh;
	char *p = nb_reserve(&n->buf, 512);

	if (o == NULL || p == NULL)
		fatal("fw_nft: counter");
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, n->be->cfg->nft_table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, pkts);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, bytes);
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWOBJ, NFT_FAMILY, NLM_F_CREATE, n->seq++);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nb_commit(&n->buf, nlh);
	nftnl_obj_free(o);
}

void
nft_add_chain(struct fw_nft *n, uint16_t family, const char *name, const char *type, int hook,
    int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	char *p = nb_reserve(&n->buf, 1024);

	if (c == NULL || p == NULL)
		fatal("fw_nft: chain");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, n->be->cfg->nft_table);
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

struct nftnl_set_elem *
nft_elem_alloc(const struct nft_elem *el, int with_data, int with_timeout, int with_counter)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	struct nftnl_expr *ctr;

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
	if (with_counter) {
		if ((ctr = nft_counter_new(el->pkts, el->bytes)) == NULL) {
			nftnl_set_elem_free(e);
			return NULL;
		}
		nftnl_set_elem_add_expr(e, ctr);
	}
	return e;
}

/*
 * One NEWSETELEM/DELSETELEM message carrying elems[0..n). An add refuses an
 * element that exists (NLM_F_EXCL), except in a lease refresh (n->emit_refresh:
 * see nft_is_refresh), where the kernel gives the element its new timeout.
 */
int
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
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->be->cfg->nft_table);
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
	    (uint16_t)nft_set_family(d), del ? 0 : n->emit_refresh ? NLM_F_CREATE :
	    NLM_F_CREATE | NLM_F_EXCL, n->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nb_commit(&n->buf, nlh);
	nftnl_set_free(s);
	return 0;
}

/* Send the open batch; 0 if the kernel took all of it, else -1 (nothing applied). */
int
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
		    n->be->cfg->nft_table, res.n ? strerror(res.errs[0].err) : "unknown error");
	free(res.errs);
	return rc;
}
