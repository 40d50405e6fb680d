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
 * reports trigger traffic (src/trigger/nflog.c), are fw_nft_rules.c's,
 * what each mapping and pinhole becomes as elements fw_nft_elem.c's, and
 * the netlink batch they are all sent in fw_nft_batch.c's.
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
 * the kernel holds; nothing is read back from the kernel to decide. (What
 * the kernel holds for an item, its elements' timeouts and counters, is
 * read back, synchronously, for reporting only: fw_nft_query.c.)
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
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
#include "mt_vocab.h"
#include "netif.h"
#include "util.h"

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

static void nft_schedule_repair(struct fw_nft *);
static void nft_probe_refresh(struct fw_nft *);

/*
 * Into the open batch: the messages of change c, or none if there is no
 * memory for them: it is refused (ENOMEM, through cb), never the batch nor
 * the daemon. A delete that could not be sent leaves its element in the
 * kernel: a rebuild from the table, which no longer holds it, drops it.
 */
static int
nft_emit_or_refuse(struct fw_nft *n, const struct fw_change *c, fw_fail_cb *cb, void *arg)
{
	size_t len = n->buf.len;

	if (nft_emit_change(n, c) == 0)
		return 0;
	n->buf.len = len;	/* what it had emitted leaves the batch */
	if (c->op == FW_DEL) {
		log_warnx("fw_nft: out of memory for a delete; rebuilding the tables");
		nft_schedule_repair(n);
	}
	if (cb != NULL)
		cb(arg, c, ENOMEM);
	return -1;
}

/*
 * A lease renewal (mt_renew): the delete of a single-port mapping without
 * remote filters, then the add of the same door with a new lease. On a
 * kernel that re-times an element added again without NLM_F_EXCL
 * (nft_probe_refresh), the add alone does it: half the element messages,
 * nothing removed, the element's counters kept. A failed refresh is the
 * add's (its seq maps to it); the delete, still live, goes out on a retry.
 */
static int
nft_is_refresh(const struct fw_nft *n, const struct fw_change *del, const struct fw_change *add)
{
	const struct fw_item *a = &del->item, *b = &add->item;

	if (!n->refresh_ok || del->op != FW_DEL || add->op != FW_ADD)
		return 0;
	if (a->kind != MT_KIND_MAP || b->kind != MT_KIND_MAP || a->nfilters != 0 ||
	    b->nfilters != 0 || a->source == MT_SRC_TRIGGER || a->ext_port != a->ext_port_end)
		return 0;
	return b->timeout_ms != 0 && a->id == b->id && a->source == b->source &&
	    a->proto == b->proto && a->ext_port == b->ext_port &&
	    a->ext_port_end == b->ext_port_end && a->int_port == b->int_port &&
	    memcmp(&a->int_addr, &b->int_addr, sizeof(a->int_addr)) == 0;
}

/*
 * Send changes[live] as one batch; mark refused ones in err[], and drop
 * from live (told to cb) those that could not be put in it. 1 if all the
 * batch landed.
 */
static int
nft_try_batch(struct fw_nft *n, const struct fw_change *c, size_t cnt, char *live,
    int *err, uint32_t *first_seq, fw_fail_cb *cb, void *arg)
{
	struct nft_result res = { NULL, 0, 0, 0 };
	size_t i;
	int idx, ok = 1, refresh = 0;

	if (nb_batch_begin(n) == -1)
		return -1;
	for (i = 0; i < cnt; i++) {
		first_seq[i] = n->seq;
		if (!live[i])
			continue;
		if (i + 1 < cnt && live[i + 1] && nft_is_refresh(n, &c[i], &c[i + 1])) {
			refresh = 1;	/* the add after it re-times the elements in place */
			continue;
		}
		n->emit_refresh = refresh;
		if (nft_emit_or_refuse(n, &c[i], cb, arg) == -1)
			live[i] = 0;
		n->emit_refresh = refresh = 0;
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
		if ((rc = nft_try_batch(n, c, cnt, live, err, first_seq, cb, arg)) != 0)
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
fw_nft_commit(struct fw_backend *be, const struct fw_change *c, size_t cnt, fw_fail_cb *cb,
    void *arg)
{
	struct fw_nft *n = be->priv;
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
	if (n->be->cfg->nlan == 0) {
		nftnl_set_free(s);
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->be->cfg->nft_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_set_u32(s, NFTNL_SET_ID, d->id);
	for (i = 0; i < n->be->cfg->nlan; i++) {
		memset(name, 0, sizeof(name));
		strncpy(name, n->be->cfg->lan_interface[i], sizeof(name) - 1);
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
	const struct pg_config *c = n->be->cfg;
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

/* The LAN subnets, for the trigger rule's ip saddr @lan_nets. */
static void
nft_emit_lan_nets(struct fw_nft *n)
{
	const struct netif_prefix *p;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	size_t i, cnt = n->be->netif ? netif_lan_prefixes(n->be->netif, &p) : 0, used = 0;
	char *buf;

	if ((s = nftnl_set_alloc()) == NULL || (buf = nb_reserve(&n->buf, 4096)) == NULL)
		fatal("fw_nft: lan_nets");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->be->cfg->nft_table);
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
	nft_emit_del_tables(n, 1);
	nft_add_table(n, NFT_FAMILY, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_add_table(n, NFT_FAMILY6, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_add_sets(n);
	nft_add_counter(n, NFT_INBOUND, n->inb_pkts, n->inb_bytes);
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
	nft_rules_count(n);
	nft_rules_trigger(n);
	nft_rules_pcp_fence(n);
	nft_rules_pin(n);
	nft_emit_lan_ifs(n, "lan_ifs");
	nft_emit_lan_ifs(n, "lan_ifs6");
	nft_emit_svc_ports(n);
	nft_emit_hosts(n, 0);
	nft_emit_lan_nets(n);
	nft_emit_trig_ports(n);
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
fw_nft_resync(struct fw_backend *be, fw_iter_cb *it, void *arg)
{
	struct fw_nft *n = be->priv;
	struct fw_change *c;
	size_t cnt, i;
	uint64_t inb[2];
	int rc = -1;

	if ((c = nft_collect(it, arg, &cnt)) == NULL)
		return -1;
	/* the new tables' inbound counter goes on from the old one's (or the last read) */
	(void)fw_nft_inbound(be, &inb[0], &inb[1]);
	if (nb_batch_begin(n) == 0) {
		nft_emit_skeleton(n);
		for (i = 0; i < cnt && rc == -1; i++)
			if (nft_resync_valid(&c[i].item) && nft_emit_change(n, &c[i]) == -1)
				rc = -2;
		rc = rc == -2 ? -1 : nft_send_all_or_nothing(n, "an atomic rebuild");
	}
	if (rc == -1) {
		log_warnx("fw_nft: rebuilding tables %s in steps", be->cfg->nft_table);
		if ((rc = nft_build_skeleton(n)) == 0)
			rc = fw_nft_commit(be, c, cnt, NULL, NULL);
	}
	free(c);
	if (rc == 0)
		nft_probe_refresh(n);
	n->rebuilds++;
	log_info("fw_nft: tables ip and ip6 %s built with %zu mappings and pinholes",
	    be->cfg->nft_table, cnt);
	return rc;
}

/* ---- ending the flows of closed doors, and those on opened doors' ports ---- */

/*
 * After a commit or a rebuild dropped their elements: the flows the closed
 * mappings and pinholes let in are still in conntrack, which keeps passing
 * them; the closer ends them (src/fw/ct.c, in rounds).
 */
static void
fw_nft_close(struct fw_backend *be, const struct fw_close *cl, size_t cnt)
{
	struct fw_nft *n = be->priv;

	ct_closer_add(n->closer, cl, cnt);
}

/*
 * After a commit or a rebuild added them: other hosts' outbound flows that
 * already leave by the new mappings' ports (the rules only stop new ones)
 * keep the WAN peers' packets to those ports; the closer ends them too.
 */
static void
fw_nft_open(struct fw_backend *be, const struct fw_open *op, size_t cnt)
{
	struct fw_nft *n = be->priv;

	ct_closer_open(n->closer, op, cnt);
}

/* ---- re-timing elements in place ---- */

/*
 * The probe's item: a TCP mapping of external port 0 to 0.0.0.0:0, which no
 * mapping can be (port 0 is refused at every edge) and no packet matches.
 */
static void
nft_probe_item(struct fw_change *c, enum fw_op op, uint64_t timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->item.kind = MT_KIND_MAP;
	c->item.proto = MT_TCP;
	c->item.source = MT_SRC_PCP;
	c->item.int_addr.s6_addr[10] = 0xff;
	c->item.int_addr.s6_addr[11] = 0xff;
	c->item.timeout_ms = timeout_ms;
}

static int
nft_probe_step(struct fw_nft *n, enum fw_op op, uint64_t timeout_ms, int refresh,
    const char *what)
{
	struct fw_change c;
	int rc;

	nft_probe_item(&c, op, timeout_ms);
	if (nb_batch_begin(n) == -1)
		return -1;
	n->emit_refresh = refresh;
	rc = nft_emit_change(n, &c);
	n->emit_refresh = 0;
	return rc == -1 ? -1 : nft_send_all_or_nothing(n, what);
}

/*
 * Whether this kernel gives an element added again (without NLM_F_EXCL) its
 * new timeout (Linux 6.10 and later do; older ones keep the old one and
 * answer success), so that nft_is_refresh may renew leases in place. Once,
 * after the first build: a mapping's elements with a short timeout, the
 * same again with a long one, read back, then removed.
 */
static void
nft_probe_refresh(struct fw_nft *n)
{
	struct fw_elem_info info;
	struct fw_change c;
	int got;

	if (n->refresh_probed)
		return;
	n->refresh_probed = 1;
	if (nft_probe_step(n, FW_ADD, NFT_PROBE_SHORT_MS, 0, "a probe element") == -1 ||
	    nft_probe_step(n, FW_ADD, NFT_PROBE_LONG_MS, 1, "a probe element's refresh") == -1)
		return;
	nft_probe_item(&c, FW_ADD, NFT_PROBE_LONG_MS);
	got = fw_nft_query(n->be, &c.item, 1, 0, &info) == 0 && info.elems > 0 &&
	    info.found == info.elems;
	nft_probe_step(n, FW_DEL, 0, 0, "removing the probe element");
	n->refresh_ok = got && info.timeout_ms > NFT_PROBE_SHORT_MS;
	log_info("fw_nft: lease renewals %s", n->refresh_ok ?
	    "re-time kernel elements in place" : "replace kernel elements (delete and add)");
}

/* An open flow's external port: conntrack's translation of it. */
static int
fw_nft_flow_port(struct fw_backend *be, const struct fw_item *it, uint16_t *port)
{
	(void)be;
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
		    n->be->cfg->nft_table);
	if (n->touched & NFT_TOUCHED_IP6)
		log_warnx("fw_nft: table ip6 %s was changed by someone else; repairing",
		    n->be->cfg->nft_table);
	n->touched = 0;
	if (n->be->lost != NULL)
		n->be->lost(n->be->lost_arg);
}

static void
nft_schedule_repair(struct fw_nft *n)
{
	struct timeval tv = { 0, NFT_REPAIR_DELAY_MS * 1000 };

	/* wait a little: a "nft -f" or a flush arrives as a burst of events */
	if (n->repair_ev != NULL && !evtimer_pending(n->repair_ev, NULL))
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
		return strcmp(mnl_attr_get_str(attr), n->be->cfg->nft_table) == 0 ? which : 0;
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
	n->mon_ev = event_new(n->be->base, mnl_socket_get_fd(n->mon), EV_READ | EV_PERSIST,
	    nft_mon_cb, n);
	n->repair_ev = evtimer_new(n->be->base, nft_repair_cb, n);
	if (n->mon_ev == NULL || n->repair_ev == NULL || event_add(n->mon_ev, NULL) == -1)
		return -1;
	return 0;
}

static int
fw_nft_init(struct fw_backend *be)
{
	struct fw_nft *n = xcalloc(1, sizeof(*n));
	int bufsz = NFT_SOCKBUF;

	be->priv = n;
	n->be = be;
	n->seq = (uint32_t)time(NULL);
	if ((n->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("fw_nft: cannot open a netfilter netlink socket (root needed)");
		return -1;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	if ((n->closer = ct_closer_new(be->base)) == NULL)
		return -1;
	setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
	setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	/* the first resync builds the table, replacing an earlier run's in one transaction */
	if (be->base != NULL && nft_open_monitor(n) == -1)
		return -1;
	return 0;
}

static void
fw_nft_shutdown(struct fw_backend *be)
{
	struct fw_nft *n = be->priv;
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
	if (n->nl != NULL && !be->cfg->nft_keep_table && nb_batch_begin(n) == 0) {
		nft_emit_del_tables(n, 1);	/* both or neither, even if one is gone */
		if (nb_batch_end(n) == 0 && nft_send(n, &res) == 0 && res.n == 0)
			log_info("fw_nft: tables ip and ip6 %s removed", be->cfg->nft_table);
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
	be->priv = NULL;
}

static int
fw_nft_trig_ports(struct fw_backend *be, const struct fw_trig_port *p, size_t cnt)
{
	struct fw_nft *n = be->priv;
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
fw_nft_hosts(struct fw_backend *be, const struct fw_host *h, size_t cnt)
{
	struct fw_nft *n = be->priv;
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
	.caps = FW_CAP_KERNEL | FW_CAP_NFLOG,
	.init = fw_nft_init,
	.commit = fw_nft_commit,
	.resync = fw_nft_resync,
	.close = fw_nft_close,
	.open = fw_nft_open,
	.pin_counters = fw_nft_pin_counters,
	.query = fw_nft_query,
	.inbound = fw_nft_inbound,
	.hosts = fw_nft_hosts,
	.trig_ports = fw_nft_trig_ports,
	.flow_port = fw_nft_flow_port,
	.shutdown = fw_nft_shutdown,
};
