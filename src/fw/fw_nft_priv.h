/*
 * fw_nft_priv.h - what the nftables backend's files share, in layers:
 * fw_nft_batch.c (the netlink batch: buffer, sending, our sets, tables,
 * chains and elements as messages) at the bottom; fw_nft_elem.c (what a
 * change becomes as elements) and fw_nft_rules.c (the fixed rules) on it;
 * fw_nft_query.c (reading elements back: timeouts, counters) on fw_nft_batch.c
 * and fw_nft_elem.c;
 * fw_nft.c (the backend's ops: commit, rebuild, the monitor) on top. No
 * file calls one above it. Nothing outside src/fw/ includes it.
 */
#ifndef PG_FW_NFT_PRIV_H
#define PG_FW_NFT_PRIV_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>

#include "fw/backend.h"
#include "fw/fw.h"
#include "fw/fw_nft.h"

struct ct_closer;
struct event;

#define NFT_FAMILY		NFPROTO_IPV4	/* the NAT table */
#define NFT_FAMILY6		NFPROTO_IPV6	/* the pinhole table */
#define NFT_RETRIES		4
#define NFT_ELEMS_PER_MSG	256
#define NFT_CHANGES_PER_BATCH	8192
#define NFT_SOCKBUF		(32 * 1024 * 1024)
#define NFT_REPAIR_DELAY_MS	100
/* global cap on trigger notifications (each direction), whatever the sources */
#define NFT_NOTIFY_RATE		100
#define NFT_NOTIFY_BURST	50

/* nft's byte order ids in set user data, so that "nft list" prints keys right */
#define NFT_UDATA_HOST_ENDIAN	1
#define NFT_UDATA_BIG_ENDIAN	2

/* nft's data type ids, so that "nft list" prints our sets readably */
#define TYPE_IPADDR		7
#define TYPE_IP6ADDR		8
#define TYPE_ETHERADDR		9
#define TYPE_INET_PROTOCOL	12
#define TYPE_INET_SERVICE	13
#define TYPE_IFNAME		41
#define TYPE_CONCAT2(a, b)	((a) << 6 | (b))
#define TYPE_CONCAT3(a, b, c)	(((a) << 12) | ((b) << 6) | (c))
#define TYPE_CONCAT4(a, b, c, d) (((a) << 18) | ((b) << 12) | ((c) << 6) | (d))
#define TYPE_CONCAT5(a, b, c, d, e) (((uint32_t)(a) << 24) | ((b) << 18) | ((c) << 12) | \
	((d) << 6) | (e))

struct nft_buf {
	char	*p;
	size_t	 len, cap;
};

struct fw_nft {
	struct fw_backend	*be;		/* what fw.c hands the backend (priv: this) */
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	struct mnl_socket	*mon;
	struct mnl_socket	*query;		/* reads (fw_nft_query.c), opened at first use */
	size_t			 qbatch;	/* elements it asks for in one request */
	uint32_t		 mon_portid;
	struct event		*mon_ev;
	struct event		*repair_ev;
	struct nft_buf		 buf;
	struct fw_trig_port	*trig;		/* trigger ports, kept for rebuilds */
	size_t			 ntrig;
	struct fw_host		*hosts;		/* verified LAN hosts, kept for rebuilds */
	size_t			 nhosts;
	uint64_t		 rebuilds;
	struct ct_closer	*closer;	/* ends closed and opened doors' flows (ct.c) */
	int			 touched;	/* NFT_TOUCHED_*: tables changed before a repair */
	int			 refresh_ok;	/* the kernel re-times an element added again */
	int			 refresh_probed;
	int			 emit_refresh;	/* nft_emit_elems adds without NLM_F_EXCL */
	uint64_t		 inb_pkts, inb_bytes;	/* NFT_INBOUND as last read: where a
							   rebuild starts it again */
};

#define NFT_PROBE_SHORT_MS	5000	/* nft_probe_refresh: the first timeout, then */
#define NFT_PROBE_LONG_MS	3600000	/* the refresh's */
#define NFT_PFX_DEL_MAX		256	/* pin_pfx deletes in one commit before a rebuild wins */
#define NFT_INBOUND		"inbound"	/* counter: what all mappings let in (ip) */
#define NFT_TOUCHED_IP		1
#define NFT_TOUCHED_IP6		2

struct nft_set_def {
	const char	*name;
	uint32_t	 id;		/* unique over both tables: a batch refers to new sets by ID */
	uint8_t		 family;	/* NFPROTO_IPV4 (0: the ip table) or NFPROTO_IPV6 */
	uint8_t		 counter;	/* a counter in every element */
	uint32_t	 flags;
	uint32_t	 key_type, key_len;
	uint32_t	 data_type, data_len;	/* 0 = plain set */
	uint8_t		 fields[5];		/* concat field lengths in bytes, 0-terminated */
	uint64_t	 timeout;		/* default timeout (dynamic sets) */
	uint32_t	 size;
	uint32_t	 key_byteorder;		/* NFT_UDATA_* (0: big endian) */
};

/* ---- the batch (fw_nft_batch.c) ---- */

struct nft_err {
	uint32_t	seq;
	int		err;
};

struct nft_result {
	struct nft_err	*errs;
	size_t		 n, cap;
	int		 overflow;
};

/* Room for need more bytes at the end of the batch buffer (NULL: out of memory). */
char *nb_reserve(struct nft_buf *, size_t need);
/* The message just built at the end of the buffer is part of the batch. */
void nb_commit(struct nft_buf *, struct nlmsghdr *);
/* Start a batch in the buffer (emptied); 0, or -1 out of memory. */
int nb_batch_begin(struct fw_nft *);
/* End the batch in the buffer; 0, or -1 out of memory. */
int nb_batch_end(struct fw_nft *);
/* Send the buffer and read the kernel's errors into res; 0, or -1 if it could not be asked. */
int nft_send(struct fw_nft *, struct nft_result *res);
/* End and send the open batch; 0 if the kernel took all of it, else -1 (nothing applied). */
int nft_send_all_or_nothing(struct fw_nft *, const char *what);
/* The definition of one of our sets (a broken invariant if there is none). */
const struct nft_set_def *nft_set(const char *name);
/* The family a set lives in. */
uint32_t nft_set_family(const struct nft_set_def *);
/* Into the open batch: a table message (NEWTABLE / DELTABLE) of one family. */
void nft_add_table(struct fw_nft *, uint16_t family, int type, uint16_t flags);
/* Into the open batch: every one of our sets, empty. */
void nft_add_sets(struct fw_nft *);
/* Into the open batch: a named counter in the ip table, its count starting at pkts, bytes. */
void nft_add_counter(struct fw_nft *, const char *name, uint64_t pkts, uint64_t bytes);
/* Into the open batch: a chain (type NULL: a regular chain, no hook). */
void nft_add_chain(struct fw_nft *, uint16_t family, const char *name, const char *type,
    int hook, int prio);

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

/* A libnftnl element of el; NULL out of memory. */
struct nftnl_set_elem *nft_elem_alloc(const struct nft_elem *, int with_data, int with_timeout,
    int with_counter);
/* Into the open batch: one NEWSETELEM/DELSETELEM message carrying els[0..cnt); 0 or -1. */
int nft_emit_elems(struct fw_nft *, const char *set, int del, const struct nft_elem *els,
    size_t cnt, int with_data);

/* ---- the elements of a change (fw_nft_elem.c) ---- */

/* A proto . port key (two 32-bit words) at k. */
void nft_key_proto_port(uint8_t *k, int proto, uint16_t port);
/* Into the open batch: the messages of one change; 0, or -1 out of memory. */
int nft_emit_change(struct fw_nft *, const struct fw_change *);
/* 1 if the kernel can hold the pinhole: a native IPv6 address, prefixes within 128 bits. */
int nft_pin_valid(const struct fw_item *);
/* A pinhole's elements (one per distinct remote) and their sets; how many. */
size_t nft_pin_elems(const struct fw_item *, struct nft_elem *el, const char **set);
/* Into the open batch: empty (flush) lan_hosts and lan_hosts6 and fill them from n->hosts. */
void nft_emit_hosts(struct fw_nft *, int flush);
/* The order of verified hosts: address, then MAC. */
int nft_host_cmp(const void *, const void *);
/* Into the open batch: the pairs of one family in a[] that b[] lacks, added or deleted. */
size_t nft_emit_hosts_diff(struct fw_nft *, const struct fw_host *a, size_t na,
    const struct fw_host *b, size_t nb, int v6, int del);

/* ---- reading back what the kernel holds (fw_nft_query.c) ---- */

/* The backend's query op: what the kernel holds for items (dump: many to a request). */
int fw_nft_query(struct fw_backend *, const struct fw_item *, size_t, int dump,
    struct fw_elem_info *);
/* The backend's inbound op: the NFT_INBOUND counter (kept in n->inb_*); 0, or -1 with errno. */
int fw_nft_inbound(struct fw_backend *, uint64_t *pkts, uint64_t *bytes);
/* The backend's pin_counters op: a pinhole's counters, summed over its elements. */
int fw_nft_pin_counters(struct fw_backend *, const struct fw_item *, uint64_t *pkts,
    uint64_t *bytes);

/* ---- the fixed rules (fw_nft_rules.c) ---- */

/* Each appended to the batch being built. */
void nft_rules_dnat(struct fw_nft *);
void nft_rules_filter(struct fw_nft *);
void nft_rules_peer(struct fw_nft *);
void nft_rules_trigger(struct fw_nft *);
void nft_rules_pcp_fence(struct fw_nft *);
void nft_rules_pin(struct fw_nft *);
void nft_rules_svc(struct fw_nft *);
void nft_rules_hairpin(struct fw_nft *);
void nft_rules_outbound(struct fw_nft *);
void nft_rules_hosts(struct fw_nft *);
void nft_rules_count(struct fw_nft *);

#endif
