/*
 * mtable.h - the mapping table: the single source of truth, with one lease clock.
 * Its API, implemented in layers (mtable.c lists them): mappings in mt_map.c,
 * PEER pins in mt_peer.c, pinholes in mt_pinhole.c, the rest in mt_core.c.
 * The table decides who may change an entry: front ends pass an actor
 * (struct mt_actor) and get MT_ERR_NOT_AUTHORIZED back; mt_core.c's
 * mtable_authorize holds the rules.
 */
#ifndef PG_MTABLE_H
#define PG_MTABLE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "heap.h"
#include "hmap.h"
#include "metric.h"
#include "mt_vocab.h"
#include "mt_wait.h"
#include "status.h"

struct fw;
struct netif;
struct fw_change;
struct fw_elem_info;
struct fw_item;
struct policy;

struct mt_client;

#define MT_MAX_PEERS	65536	/* pinned flows in all */
#define MT_MAX_PINHOLES	200000	/* IPv6 pinholes in all */
#define MT_PIN_UPNP_MAX	65535	/* UPnP UniqueIDs (ui2) are pinhole IDs 1..65535 */
#define MT_MAX_PFX_PINHOLES 8192 /* pinholes with a prefix remote (the kernel's interval set
				   costs far more per element than its hash sets) */

struct mt_entry {
	uint64_t	 id;
	uint8_t		 proto;
	uint8_t		 source;
	uint8_t		 kind;		/* enum mt_kind */
	uint8_t		 fixed;		/* enum mt_port_want, of the request that made it (an
					   upstream PCP server is asked the same way) */
	uint16_t	 ext_port, ext_port_end;
	uint16_t	 int_port, int_port_end;
	struct in6_addr	 ext_addr;
	struct in6_addr	 int_addr;
	struct mt_filter *filters;	/* who may reach it, nfilters of them; none = anyone */
	uint8_t		 nfilters;
	union {		/* what one kind has (a mapping neither: all zero); read only its own */
		struct {	/* MT_KIND_PEER */
			struct in6_addr	 peer_addr;	/* the remote end of the flow */
			uint16_t	 peer_port;
		};
		struct {	/* MT_KIND_PINHOLE */
			uint32_t	 pin_id;	/* its ID (UPnP's UniqueID for UPnP's) */
			struct mt_filter remote;	/* its remote (plen 0 any host, port 0 any) */
			uint64_t	 pin_pkts, pin_bytes;	/* kernel counters at the last re-add */
		};
	};
	uint64_t	 expires_ms;	/* lease clock time; 0 = permanent */
	const char	*desc;		/* its description ("": none; never NULL in the table) */
	const char	*owner;		/* owner token: PCP nonce, trigger rule ... ("": none;
					   never NULL in the table: mt_entry_set_owner) */
	/* private to the table */
	struct hnode	 int_node;	/* by internal endpoint; for a PEER pin, by flow */
	struct hnode	 own_node;
	struct heap_node lease;		/* in the lease heap (by expires_ms) */
	struct mt_client *client;
};

/*
 * Who asks for a change: a front end, on behalf of the LAN host that sent
 * the request. The table decides whether it may (mtable_authorize, in
 * mt_core.c, holds the rules); a NULL actor is the daemon itself (state
 * restore, triggers, static forwards, the admin's control socket), which
 * may change anything.
 */
struct mt_actor {
	uint8_t		 source;	/* enum mt_source: it changes its own source's only */
	struct in6_addr	 client;	/* the host that asks */
	const char	*owner;		/* its owner token (a PCP nonce), or NULL */
	int		 secure;	/* for its own address only (UPnP secure mode, NAT-PMP) */
};

/* What a requester wants of the external port, beyond the table (an upstream PCP server's). */
enum mt_port_want {
	MT_PORT_ANY,		/* the one asked, or any other upstream (told to the client) */
	MT_PORT_FIXED,		/* the one asked or none (AddPortMapping, PCP PREFER_FAILURE) */
	MT_PORT_FOLLOW,		/* any, the same here and upstream: the entry moves to the
				   upstream's port (AddAnyPortMapping) */
};

struct mt_request {
	const struct mt_actor *actor;	/* who asks (NULL: the daemon) */
	uint8_t		 proto;
	uint8_t		 source;
	uint16_t	 ext_port, ext_port_end;	/* end 0 = single port */
	uint16_t	 int_port;			/* 0 = same as ext_port */
	struct in6_addr	 ext_addr;
	struct in6_addr	 int_addr;
	uint32_t	 lease_s;			/* 0 = permanent */
	const char	*desc;
	const char	*owner;
	int		 replace_own;	/* the same source and host holding the port: update it */
	const struct mt_filter *filters;	/* remote peers allowed (single-port mappings) */
	size_t		 nfilters;
	int		 set_filters;	/* a renewal replaces the filters (else keeps them) */
	int		 fixed;		/* enum mt_port_want: a new entry keeps it in e->fixed */
};

struct mtable;

/* What a change notification is about. */
enum mt_change {
	MT_CHG_PUT,	/* the entry is new, or more than its lease changed: take it whole */
	MT_CHG_LEASE,	/* only its lease changed (a renewal) */
	MT_CHG_DEL,	/* it leaves the table (still readable until the callback returns) */
	MT_CHG_OTHER,	/* nothing an entry's record holds (the external address): entry NULL */
	MT_CHG_NEW,	/* the entry is new (a PUT whose entry was not in the table) */
	MT_CHG_EXPIRE,	/* its lease ran out: it leaves the table (a DEL the clock made) */
};

/* What a change is for a listener that keeps records: NEW is a PUT, EXPIRE a DEL. */
static inline enum mt_change
mt_change_record(enum mt_change what)
{
	return what == MT_CHG_NEW ? MT_CHG_PUT : what == MT_CHG_EXPIRE ? MT_CHG_DEL : what;
}

/*
 * Called after every change, with the entry it changed (schedule a commit,
 * journal it, re-arm the lease timer). It runs before the call that made
 * the change returns, so before any front end answers for it.
 */
typedef void mt_notify_cb(void *arg, enum mt_change, const struct mt_entry *);
/* Called for a change the firewall refused after the table rolled it back. */
typedef void mt_fail_cb(void *arg, uint64_t id, int proto, uint16_t port, int err);
/* Visitor for mtable_foreach_owner; return non-zero to stop. */
typedef int mt_visit_cb(void *arg, struct mt_entry *);

/* New empty table driving fw (may be NULL) and reading time from clk. */
struct mtable *mtable_new(struct fw *, const struct pg_clock *clk);
/* Free the table without touching the firewall. */
void mtable_free(struct mtable *);
/* Emit mappings, pinholes and source NAME N, one per source (status.h; PCP counts peer_pins). */
void mtable_status(const struct mtable *, pg_status_emit *emit, void *arg);
/* Metrics (metric.h): mappings and pinholes by source and proto, peer_pins (gauges). */
void mtable_metrics(const struct mtable *, pg_metric_emit *emit, void *arg);
/* Use these permission rules (not owned; NULL = allow all). */
void mtable_set_policy(struct mtable *, const struct policy *);
/* The key that max_mappings_per_client counts by, for an internal address. */
typedef void mt_host_key_cb(void *arg, const struct in6_addr *addr, struct in6_addr *key);
/* Count quotas per host (e.g. per MAC or /64) instead of per address. */
void mtable_set_host_key(struct mtable *, mt_host_key_cb *, void *);
/* Per-client cap for protocol-driven mappings (0 = none) and lease cap in seconds (0 = none). */
void mtable_set_limits(struct mtable *, unsigned max_per_client, uint32_t max_lease);
/* Check internal addresses against these LAN subnets (not owned; NULL = no check). */
void mtable_set_netif(struct mtable *, struct netif *);
/* 1 if addr may be an internal client; otherwise 0 with why filled. */
int mtable_client_ok(const struct mtable *, const struct in6_addr *, char *why, size_t len);
/* Register the change notification. */
void mtable_set_notify(struct mtable *, mt_notify_cb *, void *);

/*
 * Whether actor may act for the host int_addr (a new entry for it), or on
 * entry e (int_addr NULL), or for every host (both NULL): MT_DENY_NONE, or
 * why not. The rules, one place for every front end: an entry is changed
 * only by its own source, and, when the actor holds an owner token, by the
 * holder of the entry's; a secure actor acts only for its own address.
 * The table's verbs below apply them to the request's actor themselves
 * (MT_ERR_NOT_AUTHORIZED); a front end asks first where its protocol must
 * answer before the change is tried, or tells the reasons apart.
 */
enum mt_deny mtable_authorize(const struct mtable *, const struct mt_actor *,
    const struct in6_addr *int_addr, const struct mt_entry *e);

/*
 * Add a mapping; on conflict *conflict names the holder. Re-adding one's own
 * mapping renews it. The request's actor must be allowed the host and, for a
 * renewal, the entry (else MT_ERR_NOT_AUTHORIZED, nothing changed).
 */
enum mt_err mtable_add(struct mtable *, const struct mt_request *, struct mt_entry **out,
    const struct mt_entry **conflict);
/* Extend (or shorten) a lease; 0 = permanent. */
enum mt_err mtable_renew(struct mtable *, struct mt_entry *, uint32_t lease_s);
/* The same for actor (NULL: the daemon), if it may change e; else MT_ERR_NOT_AUTHORIZED. */
enum mt_err mtable_renew_by(struct mtable *, const struct mt_actor *, struct mt_entry *,
    uint32_t lease_s);
/* Delete any entry (and its firewall state): the daemon's and the admin's. */
void mtable_del(struct mtable *, struct mt_entry *);
/* Delete e for actor (NULL: the daemon), if it may; else MT_ERR_NOT_AUTHORIZED, e kept. */
enum mt_err mtable_del_by(struct mtable *, const struct mt_actor *, struct mt_entry *);
/* Delete every mapping of a source (MT_NSOURCE = all); returns how many. */
size_t mtable_flush(struct mtable *, int source);

/* A PEER pin (an outbound flow leaving through ext_port), created or refreshed. */
struct mt_peer_req {
	const struct mt_actor *actor;	/* who asks (NULL: the daemon) */
	uint8_t		 proto;
	uint8_t		 source;
	struct in6_addr	 int_addr, peer_addr, ext_addr;
	uint16_t	 int_port, peer_port, ext_port;	/* ext_port 0: the table picks */
	uint32_t	 lease_s;
	const char	*owner;
};

/*
 * Pin a flow (or refresh its pin, moving it to the new port); quotas, caps
 * and allow/deny apply. req's ext_port 0 lets the table choose: the port an
 * open flow already leaves by (the firewall knows it), else the pin's, the
 * internal endpoint's mapping's or the internal port, moved up to a free
 * one. A port is free for the flow unless an inbound entry sends it to
 * another internal endpoint or another pin leaves by it towards the same
 * remote end: MT_ERR_CONFLICT (an open flow's port is never moved),
 * MT_ERR_NOPORT if none is free nearby. The actor must be allowed the flow's
 * pin, if it has one, before a port is looked for.
 */
enum mt_err mtable_peer(struct mtable *, const struct mt_peer_req *, struct mt_entry **out);
/* The pin of a flow, or NULL. */
struct mt_entry *mtable_lookup_peer(const struct mtable *, int proto, const struct in6_addr *,
    uint16_t int_port, const struct in6_addr *peer, uint16_t peer_port);
/* 1 if no pin but self leaves as (proto, ext port) towards peer:port. */
int mtable_peer_port_free(const struct mtable *, int proto, uint16_t ext,
    const struct in6_addr *peer, uint16_t peer_port, const struct mt_entry *self);
/* Pins leave from this address now (the WAN interface's moved): their kernel elements follow. */
void mtable_set_peer_addr(struct mtable *, const struct in6_addr *);
/* Number of pinned flows. */
size_t mtable_peer_count(const struct mtable *);

/*
 * IPv6 pinholes: inbound traffic to (proto, int_addr, int_port) from a remote
 * (an address, a prefix or any host; a port or any) is let through. They use
 * no external port; quotas, allow/deny and lease caps apply as for mappings.
 * (proto, int_addr, int_port, remote) is unique: re-adding one's own renews it.
 */
struct mt_pin_req {
	const struct mt_actor *actor;		/* who asks (NULL: the daemon) */
	uint8_t		 proto;
	uint8_t		 source;
	struct in6_addr	 int_addr;		/* a LAN host's IPv6 address */
	uint16_t	 int_port;
	struct mt_filter remote;		/* IPv6 prefix (plen 0..128, 0 = any), port 0 = any */
	const struct mt_filter *filters;	/* PCP FILTER (remote must be any): allowed peers */
	size_t		 nfilters;
	int		 set_filters;		/* a renewal replaces the filters */
	uint32_t	 lease_s;		/* 0 = permanent */
	const char	*desc;
	const char	*owner;
	uint32_t	 pin_id;		/* 0: the table picks; else this one (state file) */
};

/*
 * Open (or renew one's own) pinhole; on conflict *conflict names the holder.
 * The actor must be allowed the host and the pinhole on the key, if there
 * is one, before the request is looked at: MT_ERR_NOT_AUTHORIZED (for the
 * daemon, another's pinhole on the key is MT_ERR_CONFLICT).
 */
enum mt_err mtable_pinhole_add(struct mtable *, const struct mt_pin_req *, struct mt_entry **out,
    const struct mt_entry **conflict);
/* The pinhole with this ID, or NULL. */
struct mt_entry *mtable_pinhole_get(const struct mtable *, uint32_t pin_id);
/* The pinhole of (proto, address, port, remote), or NULL. */
struct mt_entry *mtable_pinhole_find(const struct mtable *, int proto, const struct in6_addr *,
    uint16_t port, const struct mt_filter *remote);
/* The pinhole after e in ID order (NULL e = first), or NULL. */
struct mt_entry *mtable_pinhole_next(const struct mtable *, const struct mt_entry *e);
/* 1 if a pinhole's remote (or FILTER) can be on the WAN side: see mt_pinhole.c. */
int mtable_pinhole_remote_ok(const struct mtable *, const struct mt_filter *);
/* Number of pinholes. */
size_t mtable_pinhole_count(const struct mtable *);
/* Packets and bytes the pinhole let in (the kernel's counters); 0 or -1. */
int mtable_pinhole_counters(const struct mtable *, const struct mt_entry *, uint64_t *pkts,
    uint64_t *bytes);
/*
 * The same from what the kernel said of the pinhole (k: its fw_elem_dump or
 * fw_elem_query answer; NULL: none): the kernel's counters where it holds
 * every element, else what the pinhole had counted when last re-added.
 */
void mtable_pinhole_counters_of(const struct mt_entry *, const struct fw_elem_info *k,
    uint64_t *pkts, uint64_t *bytes);

/* The mapping covering an external port, or NULL. */
struct mt_entry *mtable_lookup_ext(const struct mtable *, int proto, uint16_t port);
/* The mapping of an internal address and port, or NULL. */
struct mt_entry *mtable_lookup_int(const struct mtable *, int proto, const struct in6_addr *,
    uint16_t port);
/* The mapping of this source for an internal address and port, or NULL. */
struct mt_entry *mtable_lookup_int_source(const struct mtable *, int proto,
    const struct in6_addr *, uint16_t port, int source);
/* Visit every mapping with this source and owner token. */
int mtable_foreach_owner(const struct mtable *, int source, const char *owner, mt_visit_cb *, void *);
/* Find a free external port near suggested that policy allows; MT_OK with *out set. */
enum mt_err mtable_find_free(const struct mtable *, int proto, int source, uint16_t suggested,
    const struct in6_addr *int_addr, uint16_t int_port, uint16_t *out);
/* 1 when policy allows this mapping for this source. */
int mtable_permitted(const struct mtable *, int source, uint16_t ext_lo, uint16_t ext_hi,
    const struct in6_addr *, uint16_t int_lo, uint16_t int_hi);

/* Number of mappings, all or of one source. */
size_t mtable_count(const struct mtable *);
size_t mtable_count_source(const struct mtable *, int source);
/* Protocol-driven mappings held by one internal address. */
unsigned mtable_client_count(const struct mtable *, const struct in6_addr *);
/* The index-th mapping in (proto, external port) order, or NULL. */
struct mt_entry *mtable_at(const struct mtable *, size_t index);
/* The mapping after e in that order (NULL e = first), or NULL. */
struct mt_entry *mtable_next(const struct mtable *, const struct mt_entry *e);
/* Mapped external ports, a range counting each of its ports (UPnP lists port by port). */
size_t mtable_port_count(const struct mtable *);
/* The index-th mapped (proto, port) in that order: its mapping, with *port set; or NULL. */
struct mt_entry *mtable_port_at(const struct mtable *, size_t index, uint16_t *port);
/* How many mapped ports come before (proto, port) in that order. */
size_t mtable_port_rank(const struct mtable *, int proto, uint16_t port);

/* The external address moved: every mapping now has this one (a rare event: O(n)). */
void mtable_set_ext_addr(struct mtable *, const struct in6_addr *);
/* Current lease clock time in ms. */
uint64_t mtable_now(const struct mtable *);
/* Seconds left on a lease (0 permanent mappings have none: returns -1). */
long mtable_remaining(const struct mtable *, const struct mt_entry *);
/* Expire every lease due by now; returns how many. */
size_t mtable_expire(struct mtable *);
/* Lease clock time of the next expiry, 0 if none. */
uint64_t mtable_next_expiry(const struct mtable *);

/*
 * Send queued firewall changes; refused adds are rolled back and reported to
 * cb; then every waiter of mtable_commit_entry hears whether its entry landed.
 * The table's owner calls it (once per loop turn that changed the table).
 */
int mtable_commit(struct mtable *, mt_fail_cb *, void *);
/* Ask the owner for an mtable_commit soon: at the end of this loop turn. */
typedef void mt_sched_cb(void *arg);
/* How commits are scheduled; without a scheduler mtable_commit_entry commits at once. */
void mtable_set_commit_sched(struct mtable *, mt_sched_cb *, void *);
/*
 * The one way a front end hears that its new or changed entry e reached the
 * kernel: cb(arg, ok) runs after the commit that takes e's change (at once
 * without a scheduler, or when memory is short) with err 0, or the kernel's
 * errno if it refused the change (the table rolled it back). owner names the caller for
 * mtable_commit_cancel.
 */
void mtable_commit_entry(struct mtable *, const struct mt_entry *e, const void *owner,
    mt_landed_cb *cb, void *arg);
/* Forget owner's waiting callbacks (the owner is going away). */
void mtable_commit_cancel(struct mtable *, const void *owner);
/* e as the firewall gets it (fw.h's item): what fw_elem_query asks the kernel about. */
void mtable_fw_item(const struct mtable *, const struct mt_entry *e, struct fw_item *out);
/* Rebuild the firewall from the table (after a flush or at start-up). */
int mtable_resync(struct mtable *);

#endif
