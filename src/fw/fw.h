/* fw.h - the firewall adapter interface: an output the mapping table drives. */
#ifndef PG_FW_H
#define PG_FW_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "fw/item.h"
#include "metric.h"

struct pg_config;
struct event_base;
struct netif;

/* Called once per change the backend could not apply. */
typedef void fw_fail_cb(void *arg, const struct fw_change *, int err);
/* Yields every current mapping for a resync; returns 0 when exhausted. */
typedef int fw_iter_cb(void *arg, struct fw_item *out);
/* Asks the owner to resync after the backend saw its state vanish. */
typedef void fw_lost_cb(void *arg);

/*
 * What a backend can do, for callers that must know (fw_has): they ask,
 * they never compare backend names.
 */
enum fw_cap {
	/* the kernel obeys it: packets see its mappings and pinholes, and its
	   state outlives the daemon (another instance's to protect) */
	FW_CAP_KERNEL	= 1 << 0,
	/* it reports traffic to the NFLOG group (nflog_group), FW_NFLOG_* below */
	FW_CAP_NFLOG	= 1 << 1,
};

/*
 * What a backend with FW_CAP_NFLOG reports to the NFLOG group, by prefix:
 * outbound traffic to a trigger port, a new inbound connection on a port a
 * trigger opened, and a PCP/NAT-PMP request from an address no verified
 * LAN host (fw_set_hosts) holds. It reports one (host, proto, port) of
 * trigger traffic at most once per FW_NFLOG_NOTIFY_MS.
 */
#define FW_NFLOG_PREFIX_OUT	"pgo"
#define FW_NFLOG_PREFIX_IN	"pgi"
#define FW_NFLOG_PREFIX_UNKNOWN	"pgu"
#define FW_NFLOG_NOTIFY_MS	1000

/* A firewall: one backend and the change queue in front of it (fw.c). */
struct fw;

/*
 * What the kernel holds for one item (fw_elem_query, fw_elem_dump): whether
 * it has the item's elements, how long they have left, and what came in
 * from the WAN through them. For reporting (diagnosis, lists) only: nothing
 * is decided from it (the table is the truth).
 */
struct fw_elem_info {
	unsigned	 elems;		/* elements the item is made of; 0: the backend cannot say */
	unsigned	 found;		/* of those, the ones the kernel holds */
	uint64_t	 timeout_ms;	/* the main element's timeout as set; 0: none (permanent) */
	uint64_t	 left_ms;	/* what is left of it (0 without a timeout) */
	int		 counted;	/* the backend counts the item's inbound packets */
	uint64_t	 pkts, bytes;	/* since its elements were last written (counted) */
};

/* 1 if a backend of this name exists. */
int fw_backend_valid(const char *name);
/* The backend a configuration names when it names none. */
const char *fw_backend_default(void);
/* The backend names, for an error message ("nftables, none"). */
const char *fw_backend_names(void);
/* 1 if the named backend keeps state in the kernel (another instance's to protect). */
int fw_backend_in_kernel(const char *name);
/* 1 if this firewall's backend is in the kernel (fw_has FW_CAP_KERNEL); 0 for NULL. */
int fw_in_kernel(const struct fw *);
/* 1 if this firewall's backend can do what cap says (enum fw_cap); 0 for NULL. */
int fw_has(const struct fw *, enum fw_cap);
/* Hand the trigger rules' ports to the backend; they are installed at the next resync. */
int fw_set_trigger_ports(struct fw *, const struct fw_trig_port *, size_t);
/* Create a firewall of the named backend ("none" or "nftables"); NULL if unknown. */
struct fw *fw_new(const char *backend, const struct pg_config *, struct event_base *);
/* Initialise the backend; 0 or -1. */
int fw_init(struct fw *);
/* The configuration the backend reads from now on (a reload's; not owned). */
void fw_set_config(struct fw *, const struct pg_config *);
/* The LAN subnets the backend reads from now on (not owned). */
void fw_set_netif(struct fw *, const struct netif *);
/* Queue a change for the next commit. */
int fw_queue(struct fw *, enum fw_op, const struct fw_item *);
/* Number of queued changes. */
size_t fw_pending(const struct fw *);
/* Send queued changes as one batch; failures are reported through cb. */
int fw_commit(struct fw *, fw_fail_cb *, void *);
/* Drop the queue and rebuild backend state from the iterator. */
int fw_resync(struct fw *, fw_iter_cb *, void *);
/* A pinhole's counters from the backend; 0, or -1 if it has none. */
int fw_pin_counters(struct fw *, const struct fw_item *, uint64_t *pkts, uint64_t *bytes);
/* What the kernel holds for one item (a few direct reads); 0, or -1 with errno. */
int fw_elem_query(struct fw *, const struct fw_item *, struct fw_elem_info *);
/*
 * The same for n items at once (the counters of a whole list), many
 * elements to a request: linear in the items, whatever else the kernel
 * holds; out[i] for items[i]; 0, or -1 with errno.
 */
int fw_elem_dump(struct fw *, const struct fw_item *items, size_t n, struct fw_elem_info *out);
/*
 * What the WAN has sent in through mappings, in all (the packets the
 * per-mapping counters count, whichever mappings come and go): a monotonic
 * total that no rebuild, repair or reset of the backend's own counter makes
 * go back. 0, or -1 with errno where nothing is counted (a backend not in
 * the kernel lets nothing in: ENOTSUP; the kernel did not answer).
 */
int fw_inbound(struct fw *, uint64_t *pkts, uint64_t *bytes);
/* Replace the verified LAN hosts (address and MAC pairs); 0, or -1 if the backend refused. */
int fw_set_hosts(struct fw *, const struct fw_host *, size_t);
/* The external port the open flow of a PEER item leaves by; 0, or -1 if none is open. */
int fw_flow_port(struct fw *, const struct fw_item *, uint16_t *port);
/* Register who to tell when the backend's state vanished. */
void fw_set_lost_cb(struct fw *, fw_lost_cb *, void *);
/*
 * Metrics (metric.h): firewall_commits_total, firewall_commit_duration_seconds
 * (a histogram of the backend's commit time) and firewall_repairs_total (its
 * state vanished and the owner was asked to rebuild it).
 */
void fw_metrics(const struct fw *, pg_metric_emit *, void *);
/* Metrics: inbound_packets_total and inbound_bytes_total (fw_inbound, read now); none if -1. */
void fw_inbound_metrics(struct fw *, pg_metric_emit *, void *);
/* Shut down and free. */
void fw_free(struct fw *);

#endif
