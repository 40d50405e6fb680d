/*
 * mtable_priv.h - the mapping table's insides, shared by the files of the
 * table module (mtable.c: mappings, PEER pins, the lease clock; mtable_pin.c:
 * IPv6 pinholes). Nothing outside the table includes this.
 */
#ifndef PG_MT_CORE_H
#define PG_MT_CORE_H

#include "fenwick.h"
#include "fw/fw.h"
#include "heap.h"
#include "portbits.h"
#include "mtable.h"

#define MT_NSLOTS	(MT_NPROTO * 65536)

struct mt_client {
	struct hnode	 node;
	struct in6_addr	 addr;		/* the host key (mtable_set_host_key), not always an address */
	unsigned	 dynamic;	/* protocol-driven mappings counted for the quota */
	unsigned	 total;
};

struct mtable {
	struct fw		*fw;
	mt_host_key_cb		*host_key;	/* NULL: each address is its own host */
	void			*host_key_arg;
	struct pg_clock		 clk;
	const struct policy	*policy;
	struct netif		*netif;
	unsigned		 max_per_client;
	uint32_t		 max_lease;
	mt_notify_cb		*notify;
	void			*notify_arg;

	struct mt_entry		**slots;	/* MT_NSLOTS: entry covering (proto, port) */
	struct fenwick		 fenwick;	/* MT_NSLOTS: 1 at the first slot of each entry */
	struct fenwick		 fenport;	/* MT_NSLOTS: its number of ports, at that slot */
	struct portbits		 ports[MT_NPROTO];	/* taken external ports */
	struct hmap		 by_int;
	struct hmap		 by_owner;
	struct hmap		 by_flow;	/* PEER pins, by 5-tuple */
	struct hmap		 by_out;	/* PEER pins, by what the WAN sees: unique */
	size_t			 npeers;
	struct hmap		 by_pinep;	/* pinholes, by (proto, internal address, port) */
	struct hmap		 by_pinid;	/* pinholes, by ID */
	size_t			 npins;
	size_t			 npfx;		/* pinholes with prefix remotes (interval elements) */
	uint32_t		 next_upnp_pin;	/* UPnP UniqueIDs rotate through 1..65535 */
	uint32_t		 next_pin;	/* other pinholes' IDs: 65536 and up */
	struct hmap		 clients;
	struct heap		 heap;		/* the lease clock: entries by expiry */
	size_t			 count;
	size_t			 per_source[MT_NSOURCE];
	uint64_t		 next_id;
};

/* Tell the owner the table changed: what, and which entry (NULL for MT_CHG_OTHER). */
void mt_notify(struct mtable *, enum mt_change, const struct mt_entry *);
/* What the firewall gets for an entry. */
void mt_fw_item(const struct mtable *, const struct mt_entry *, struct fw_item *);
/* Queue a firewall change for an entry. */
void mt_fw_queue(struct mtable *, enum fw_op, const struct mt_entry *);
/* The client record of an address, counted against the per-client quota for source. */
enum mt_err mt_client_claim(struct mtable *, const struct in6_addr *, int source,
    struct mt_client **);
/* The entry no longer counts for its client. */
void mt_client_put(struct mtable *, struct mt_entry *);
/* Lease after the caps for a source. */
uint32_t mt_cap_lease(const struct mtable *, int source, uint32_t lease);
/*
 * New lease; the kernel element is replaced (its DEL already queued unless
 * queue_del). what tells the subscriber whether more than the lease changed.
 */
enum mt_err mt_renew(struct mtable *, struct mt_entry *, uint32_t lease_s, int queue_del,
    enum mt_change what);
/* Leave the lease heap. */
void mt_heap_remove(struct mtable *, struct mt_entry *);
/* Filters of a request into an entry: masked, without duplicates or subsets, widest first. */
void mt_set_filters_from(struct mt_entry *, const struct mt_filter *, size_t);

/* mt_pinhole.c */
void mt_pin_init(struct mtable *);
void mt_pin_free(struct mtable *);
void mt_pin_unlink(struct mtable *, struct mt_entry *);
/* Read the kernel's counters into the entry before its element is replaced. */
void mt_pin_save_counters(struct mtable *, struct mt_entry *);
size_t mt_pin_flush(struct mtable *, int source);
/* The pinhole after e in the resync walk (NULL = first), or NULL. */
const struct mt_entry *mt_pin_iter(const struct mtable *, const struct mt_entry *);

#endif
