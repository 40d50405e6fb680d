/*
 * item.h - the firewall's vocabulary, shared by fw.c, its backends and
 * conntrack (ct.c): a mapping as a backend sees it, a change of a batch,
 * the doors a batch closes and opens, trigger ports, verified LAN hosts;
 * and which remotes an item lets in. No state, no backend.
 */
#ifndef PG_FW_ITEM_H
#define PG_FW_ITEM_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "mt_vocab.h"

enum fw_op {
	FW_ADD,
	FW_DEL,
};

/* What a backend needs to know about one mapping (a copy, not a pointer). */
struct fw_item {
	uint64_t	 id;
	uint8_t		 proto;		/* MT_TCP / MT_UDP */
	uint8_t		 source;	/* MT_SRC_* */
	uint16_t	 ext_port;
	uint16_t	 ext_port_end;
	uint16_t	 int_port;
	struct in6_addr	 int_addr;
	uint64_t	 timeout_ms;	/* remaining lease at queue time, 0 = permanent */
	uint8_t		 nfilters;	/* remote peers allowed; none = anyone */
	struct mt_filter filters[MT_MAX_FILTERS];
	uint8_t		 kind;		/* MT_KIND_MAP, MT_KIND_PEER (an outbound flow's SNAT),
					   MT_KIND_PINHOLE (IPv6 inbound filter, see below) */
	struct in6_addr	 ext_addr;	/* MT_KIND_PEER: the address the flow leaves with */
	struct in6_addr	 peer_addr;
	uint16_t	 peer_port;
	/*
	 * MT_KIND_PINHOLE: let IPv6 traffic to int_addr (native IPv6) port int_port
	 * in from the WAN. nfilters == 0: from anyone; else from each filter's
	 * prefix (plen 0..128 in IPv6 space, 0 = any host) and port (0 = any).
	 * The kernel counts packets and bytes; an add starts its counters at
	 * pkts/bytes (a renewal re-adds the element and keeps its count).
	 */
	uint32_t	 pin_id;
	uint64_t	 pkts, bytes;
};

/* A trigger rule's trigger ports: the kernel reports traffic to them (fw_set_trigger_ports). */
struct fw_trig_port {
	uint8_t		proto;		/* MT_TCP / MT_UDP */
	uint16_t	lo, hi;
};

/* A LAN host whose source address the kernel honours from one link-layer address only. */
struct fw_host {
	struct in6_addr	 addr;		/* IPv4-mapped or IPv6 */
	uint8_t		 mac[6];
};

struct fw_change {
	enum fw_op	 op;
	struct fw_item	 item;
};

/*
 * A door that closed: the FW_DEL of a mapping or pinhole that the same batch
 * does not add back whole. The flows it let in are to end (conntrack). still:
 * the batch's add of the same door with fewer remotes, whose flows stay, or
 * NULL. Both point into the batch, valid for the backend's close call only.
 * A PEER pin never closes a door: its flow is the LAN host's own (README).
 */
struct fw_close {
	const struct fw_item	*item;
	const struct fw_item	*still;
};

/*
 * A door that opened: the FW_ADD of an IPv4 mapping whose door (protocol,
 * external ports, internal host and port) the kernel did not hold before
 * the batch and holds after it; a renewal (the same door deleted and added
 * back in the batch) opens nothing. Its external ports are its own from now
 * on: other endpoints' outbound flows that leave the WAN by one of them are
 * to end (conntrack), or the WAN peers' answers would follow them. item
 * points into the batch, valid for the backend's open call only.
 */
struct fw_open {
	const struct fw_item	*item;
};

/* 1 if the item lets the remote src:sport in (no filters: anyone). */
int fw_item_allows(const struct fw_item *, const struct in6_addr *src, uint16_t sport);
/* 1 if every remote old lets in, new lets in too. */
int fw_item_covers(const struct fw_item *new, const struct fw_item *old);

#endif
