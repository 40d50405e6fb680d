/*
 * mt_core.h - the mapping table's lower layer, which the parts of each kind
 * of entry sit on: clients and their quota, lease caps, the lease heap, the
 * firewall queue, change notification, entry IDs and who may change an entry
 * (mt_core.c). The kind parts (mt_map.c: mappings, mt_peer.c: PEER pins,
 * mt_pinhole.c: IPv6 pinholes) call the functions below; the core reaches a
 * kind only through the table of struct mt_kind_ops that mtable.c installs,
 * never by name. Nothing outside the table includes this.
 */
#ifndef PG_MT_CORE_H
#define PG_MT_CORE_H

#include "fw/fw.h"
#include "heap.h"
#include "hmap.h"
#include "mt_wait.h"
#include "mtable.h"

struct mt_client {
	struct hnode	 node;
	struct in6_addr	 addr;		/* the host key (mtable_set_host_key), not always an address */
	unsigned	 dynamic;	/* protocol-driven mappings counted for the quota */
	unsigned	 total;
};

/* What the core asks of one kind of entry: the generic delete, flush, commit and resync. */
struct mt_kind_ops {
	/* Create the kind's part of the table (start-up: failure is fatal). */
	void	(*init)(struct mtable *);
	/* Free every entry of the kind and its part, without touching the firewall. */
	void	(*free)(struct mtable *);
	/* Take e out of the kind's indexes (the core does the lease heap and the client). */
	void	(*unlink)(struct mtable *, struct mt_entry *);
	/* Delete every entry of a source (MT_NSOURCE: all) with mtable_del; how many. */
	size_t	(*flush)(struct mtable *, int source);
	/* The entry after e in the resync walk (NULL e = first), or NULL. */
	const struct mt_entry *(*iter)(const struct mtable *, const struct mt_entry *e);
	/* The entry a firewall item of this kind was made from, if it is still in the table. */
	struct mt_entry *(*find)(const struct mtable *, const struct fw_item *);
	/* The kind's own part of the item the firewall gets (NULL: nothing more). */
	void	(*fw_item)(const struct mt_entry *, struct fw_item *);
	/* e's kernel element is about to be replaced (NULL: nothing to keep). */
	void	(*save_counters)(struct mtable *, struct mt_entry *);
};

struct mt_map;		/* mt_map.c */
struct mt_peers;	/* mt_peer.c */
struct mt_pins;		/* mt_pinhole.c */

struct mtable {
	const struct mt_kind_ops *const *kinds;	/* MT_NKIND, by enum mt_kind (mtable.c) */
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
	mt_sched_cb		*sched;		/* NULL: every mtable_commit_entry commits at once */
	void			*sched_arg;
	struct mt_waiters	 waiters;	/* answers waiting for the next commit */
	struct hmap		 clients;
	struct heap		 heap;		/* the lease clock: entries by expiry */
	uint64_t		 next_id;

	/* each kind's own indexes, private to its file */
	struct mt_map		*map;
	struct mt_peers		*peers;
	struct mt_pins		*pins;
};

/* A table with no kinds yet: the core's state (mtable_new installs the kinds). */
struct mtable *mt_core_new(struct fw *, const struct pg_clock *);
/* Free the core's state and the table (the kinds' parts are freed first). */
void mt_core_free(struct mtable *);
/* Tell the owner the table changed: what, and which entry (NULL for MT_CHG_OTHER). */
void mt_notify(struct mtable *, enum mt_change, const struct mt_entry *);
/* What the firewall gets for an entry. */
void mt_fw_item(const struct mtable *, const struct mt_entry *, struct fw_item *);
/* Queue a firewall change for an entry. */
void mt_fw_queue(struct mtable *, enum fw_op, const struct mt_entry *);
/* The client record of an address, counted against the per-client quota for source. */
enum mt_err mt_client_claim(struct mtable *, const struct in6_addr *, int source,
    struct mt_client **);
/* A claimed client that got no entry after all (freed if it has none). */
void mt_client_unclaim(struct mtable *, struct mt_client *);
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
/* Lease e (in no heap) for lease_s seconds from now, 0 = permanent; 0, or -1 out of memory. */
int mt_lease_start(struct mtable *, struct mt_entry *, uint32_t lease_s);
/* Leave the lease heap. */
void mt_heap_remove(struct mtable *, struct mt_entry *);
/* MT_OK if actor may (mtable_authorize; a NULL actor always may), else MT_ERR_NOT_AUTHORIZED. */
static inline enum mt_err
mt_authorized(const struct mtable *mt, const struct mt_actor *a, const struct in6_addr *int_addr,
    const struct mt_entry *e)
{
	if (a == NULL)
		return MT_OK;
	return mtable_authorize(mt, a, int_addr, e) == MT_DENY_NONE ? MT_OK :
	    MT_ERR_NOT_AUTHORIZED;
}
/* Filters of a request, masked, without duplicates or subsets, widest first, into out[MT_MAX_FILTERS]; how many. */
size_t mt_filters_norm(struct mt_filter *out, const struct mt_filter *, size_t);
/* An entry's filters become a copy of f[0..n) (already normalized); -1 out of memory, e unchanged. */
int mt_entry_set_filters(struct mt_entry *, const struct mt_filter *f, size_t n);
/* Filters of a request into an entry (mt_filters_norm, then set); -1 out of memory, e unchanged. */
int mt_set_filters_from(struct mt_entry *, const struct mt_filter *, size_t);
/* A zeroed entry with no description and no owner token; NULL out of memory. */
struct mt_entry *mt_entry_new(void);
/*
 * An entry's owner token becomes s (NULL: none), cut to MT_OWNER_MAX on a character
 * boundary: 1 if that changed it, 0 if it was s already, -1 out of memory (unchanged).
 */
int mt_entry_set_owner(struct mt_entry *, const char *s);
/* Its description likewise, cut to MT_DESC_MAX. */
int mt_entry_set_desc(struct mt_entry *, const char *s);
/* Both (a new entry's): 1 if either changed, 0 if neither, -1 if either is out of memory. */
int mt_entry_set_strings(struct mt_entry *, const char *desc, const char *owner);
/* Whether f[0..n) (normalized: mt_filters_norm) are not the entry's filters. */
int mt_entry_filters_differ(const struct mt_entry *, const struct mt_filter *f, size_t n);
/* An entry that has left the table (or never joined it), with what it owns. */
void mt_entry_free(struct mt_entry *);
/* An internal endpoint's hash in map h (the mappings' and the pinholes' index by endpoint). */
uint32_t mt_endpoint_hash(const struct hmap *h, int proto, const struct in6_addr *a,
    uint16_t port);

#endif
