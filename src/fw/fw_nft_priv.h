/*
 * fw_nft_priv.h - what the nftables backend's two files share: fw_nft.c
 * (tables, sets, elements, batches, counters, the monitor) and
 * fw_nft_rules.c (the fixed rules). Nothing else includes it.
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
	struct fw		*fw;
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	struct mnl_socket	*mon;
	struct mnl_socket	*query;		/* pinhole counter reads, opened at first use */
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
};

#define NFT_PFX_DEL_MAX		256	/* pin_pfx deletes in one commit before a rebuild wins */
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

/* Room for need more bytes at the end of the batch buffer (NULL: out of memory). */
char *nb_reserve(struct nft_buf *, size_t need);
/* The message just built at the end of the buffer is part of the batch. */
void nb_commit(struct nft_buf *, struct nlmsghdr *);
/* The definition of one of our sets (a broken invariant if there is none). */
const struct nft_set_def *nft_set(const char *name);

/* The fixed rules, appended to the batch being built (fw_nft_rules.c). */
void nft_rules_dnat(struct fw_nft *);
void nft_rules_filter(struct fw_nft *);
void nft_rules_peer(struct fw_nft *);
void nft_rules_trigger(struct fw_nft *);
void nft_rules_pin(struct fw_nft *);
void nft_rules_svc(struct fw_nft *);
void nft_rules_hairpin(struct fw_nft *);
void nft_rules_outbound(struct fw_nft *);
void nft_rules_hosts(struct fw_nft *);

#endif
