/*
 * backend.h - the backend side of the firewall seam: the ops a backend
 * implements (fw_mem.c, fw_nft.c) and what fw.c hands it. Callers see
 * fw.h's verbs only; only fw.c and the backends include this.
 */
#ifndef PG_FW_BACKEND_H
#define PG_FW_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "fw/fw.h"

struct event_base;
struct netif;
struct pg_config;

/*
 * What a backend works with: fw.c fills it in (fw_new, fw_set_config,
 * fw_set_netif, fw_set_lost_cb) and hands it to every op; the backend keeps
 * its own state in priv. A backend never calls fw.c: fw.c calls it.
 */
struct fw_backend {
	const struct fw_ops	*ops;
	void			*priv;		/* the backend's own state (init) */
	unsigned		 caps;		/* FW_CAP_*: ops->caps to start with */
	const struct pg_config	*cfg;
	const struct netif	*netif;		/* LAN subnets (not owned) */
	struct event_base	*base;
	fw_lost_cb		*lost;		/* the state vanished: ask for a resync */
	void			*lost_arg;
};

struct fw_ops {
	const char *name;
	unsigned caps;		/* FW_CAP_*: what the backend can do */
	/* Create backend state; 0 or -1 with a logged reason. */
	int	(*init)(struct fw_backend *);
	/* Apply a batch of changes atomically where possible; call fail for each one refused. */
	int	(*commit)(struct fw_backend *, const struct fw_change *, size_t, fw_fail_cb *,
		    void *);
	/* Replace everything the backend holds with the iterator's mappings. */
	int	(*resync)(struct fw_backend *, fw_iter_cb *, void *);
	/* End the flows that closed doors let in (after commit or resync); NULL: none kept. */
	void	(*close)(struct fw_backend *, const struct fw_close *, size_t);
	/* End other endpoints' outbound flows on opened doors' ports (after commit or resync). */
	void	(*open)(struct fw_backend *, const struct fw_open *, size_t);
	/* A pinhole's packet and byte counters (summed over its elements); 0 or -1. */
	int	(*pin_counters)(struct fw_backend *, const struct fw_item *, uint64_t *pkts,
		    uint64_t *bytes);
	/*
	 * What the kernel holds for items[0..n) into out[] (struct fw_elem_info);
	 * dump 0: a few direct reads per item, 1: many elements to a read.
	 * 0, or -1 with errno. NULL: the backend cannot say (ENOTSUP).
	 */
	int	(*query)(struct fw_backend *, const struct fw_item *, size_t n, int dump,
		    struct fw_elem_info *out);
	/*
	 * What the WAN sent in through mappings as the backend counts it now, in
	 * all; it may start again lower when its state is rebuilt behind its back
	 * (fw.c keeps the total monotonic). 0 or -1. NULL: it does not count.
	 */
	int	(*inbound)(struct fw_backend *, uint64_t *pkts, uint64_t *bytes);
	/*
	 * Replace the LAN hosts whose PCP/NAT-PMP requests and trigger packets are
	 * honoured (each address from its own MAC only); 0 or -1. May be NULL.
	 */
	int	(*hosts)(struct fw_backend *, const struct fw_host *, size_t);
	/* Remember the trigger ports (they reach the kernel with the next resync); 0 or -1. */
	int	(*trig_ports)(struct fw_backend *, const struct fw_trig_port *, size_t);
	/*
	 * The external port an open outbound flow leaves by, as the kernel
	 * translated it (conntrack): the item is a MT_KIND_PEER's flow (proto,
	 * int_addr:int_port -> peer_addr:peer_port). 0 with *port, or -1 if no
	 * such flow is open. Flow state, not our rules: only the kernel has it.
	 */
	int	(*flow_port)(struct fw_backend *, const struct fw_item *, uint16_t *port);
	/* Release backend state (and kernel objects unless configured to keep them). */
	void	(*shutdown)(struct fw_backend *);
};

/* The in-memory backend ("none"). */
extern const struct fw_ops fw_mem_ops;
/* The nftables backend. */
extern const struct fw_ops fw_nft_ops;

/*
 * A struct fw begins with its struct fw_backend (fw.c checks it), so that
 * a backend's test hooks, which tests hand the struct fw, find the
 * backend's state without calling up into fw.c.
 */
#define FW_BACKEND(fw)		((struct fw_backend *)(void *)(fw))
#define FW_BACKEND_CONST(fw)	((const struct fw_backend *)(const void *)(fw))

#endif
