/* fw.h - the firewall adapter interface: an output the mapping table drives. */
#ifndef PG_FW_H
#define PG_FW_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "fw/item.h"
#include "mtable.h"

struct pg_config;
struct event_base;
struct netif;

/* Called once per change the backend could not apply. */
typedef void fw_fail_cb(void *arg, const struct fw_change *, int err);
/* Yields every current mapping for a resync; returns 0 when exhausted. */
typedef int fw_iter_cb(void *arg, struct fw_item *out);
/* Asks the owner to resync after the backend saw its state vanish. */
typedef void fw_lost_cb(void *arg);

struct fw;

struct fw_ops {
	const char *name;
	/* Create backend state; 0 or -1 with a logged reason. */
	int	(*init)(struct fw *);
	/* Apply a batch of changes atomically where possible; call fail for each one refused. */
	int	(*commit)(struct fw *, const struct fw_change *, size_t, fw_fail_cb *, void *);
	/* Replace everything the backend holds with the iterator's mappings. */
	int	(*resync)(struct fw *, fw_iter_cb *, void *);
	/* End the flows that closed doors let in (after commit or resync); NULL: none kept. */
	void	(*close)(struct fw *, const struct fw_close *, size_t);
	/* End other endpoints' outbound flows on opened doors' ports (after commit or resync). */
	void	(*open)(struct fw *, const struct fw_open *, size_t);
	/* A pinhole's packet and byte counters (summed over its elements); 0 or -1. */
	int	(*pin_counters)(struct fw *, const struct fw_item *, uint64_t *pkts,
		    uint64_t *bytes);
	/*
	 * Replace the LAN hosts whose PCP/NAT-PMP requests and trigger packets are
	 * honoured (each address from its own MAC only); 0 or -1. May be NULL.
	 */
	int	(*hosts)(struct fw *, const struct fw_host *, size_t);
	/* Remember the trigger ports (they reach the kernel with the next resync); 0 or -1. */
	int	(*trig_ports)(struct fw *, const struct fw_trig_port *, size_t);
	/*
	 * The external port an open outbound flow leaves by, as the kernel
	 * translated it (conntrack): the item is a MT_KIND_PEER's flow (proto,
	 * int_addr:int_port -> peer_addr:peer_port). 0 with *port, or -1 if no
	 * such flow is open. Flow state, not our rules: only the kernel has it.
	 */
	int	(*flow_port)(struct fw *, const struct fw_item *, uint16_t *port);
	/* Release backend state (and kernel objects unless configured to keep them). */
	void	(*shutdown)(struct fw *);
};

struct fw {
	const struct fw_ops	*ops;
	int			 kernel;	/* the backend keeps state in the kernel */
	void			*priv;
	const struct pg_config	*cfg;
	const struct netif	*netif;		/* LAN subnets (not owned) */
	struct event_base	*base;
	fw_lost_cb		*lost;
	void			*lost_arg;
	struct fw_change	*queue;
	size_t			 nqueue;
	size_t			 cqueue;
	struct fw_change	*spare;
	size_t			 cspare;
	uint64_t		*refused;	/* IDs of the adds the current commit refused */
	size_t			 nrefused, crefused;
	uint64_t		 ncommits;
};

/* 1 if a backend of this name exists. */
int fw_backend_valid(const char *name);
/* The backend names, for an error message ("nftables, none"). */
const char *fw_backend_names(void);
/* 1 if the named backend keeps state in the kernel (another instance's to protect). */
int fw_backend_in_kernel(const char *name);
/* 1 if this firewall's backend is in the kernel (NFLOG, conntrack, pinholes); 0 for NULL. */
int fw_in_kernel(const struct fw *);
/* Hand the trigger rules' ports to the backend; they are installed at the next resync. */
int fw_set_trigger_ports(struct fw *, const struct fw_trig_port *, size_t);
/* Create a firewall of the named backend ("none" or "nftables"); NULL if unknown. */
struct fw *fw_new(const char *backend, const struct pg_config *, struct event_base *);
/* Initialise the backend; 0 or -1. */
int fw_init(struct fw *);
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
/* Replace the verified LAN hosts (address and MAC pairs); 0, or -1 if the backend refused. */
int fw_set_hosts(struct fw *, const struct fw_host *, size_t);
/* The external port the open flow of a PEER item leaves by; 0, or -1 if none is open. */
int fw_flow_port(struct fw *, const struct fw_item *, uint16_t *port);
/* The doors among c[0..n) that close (see struct fw_close), into *out (malloc'd); how many. */
size_t fw_closes(const struct fw_change *, size_t, const uint64_t *refused, size_t nrefused,
    struct fw_close **out);
/* The doors among c[0..n) that open (see struct fw_open), into *out (malloc'd); how many. */
size_t fw_opens(const struct fw_change *, size_t, const uint64_t *refused, size_t nrefused,
    struct fw_open **out);
/* Register who to tell when the backend's state vanished. */
void fw_set_lost_cb(struct fw *, fw_lost_cb *, void *);
/* Shut down and free. */
void fw_free(struct fw *);

/* The in-memory backend ("none"). */
extern const struct fw_ops fw_mem_ops;
/* The nftables backend. */
extern const struct fw_ops fw_nft_ops;

/* In-memory backend inspection (tests): mappings held. */
size_t fw_mem_count(const struct fw *);
/* In-memory backend inspection (tests): PEER pins held. */
size_t fw_mem_peer_count(const struct fw *);
/* In-memory backend inspection (tests): the item at proto/port, or NULL. */
const struct fw_item *fw_mem_lookup(const struct fw *, int proto, uint16_t port);
/* In-memory backend inspection (tests): pinholes held. */
size_t fw_mem_pin_count(const struct fw *);
/* In-memory backend inspection (tests): the pinhole with this ID, or NULL. */
const struct fw_item *fw_mem_pin_lookup(const struct fw *, uint32_t pin_id);
/* In-memory backend test hook: traffic through a pinhole (adds to its counters). */
void fw_mem_pin_traffic(struct fw *, uint32_t pin_id, uint64_t pkts, uint64_t bytes);
/* In-memory backend inspection (tests): doors closed so far, and the last (NULL: none). */
size_t fw_mem_close_count(const struct fw *);
const struct fw_item *fw_mem_last_close(const struct fw *, int *partial);
/* In-memory backend inspection (tests): doors opened so far, and the last (NULL: none). */
size_t fw_mem_open_count(const struct fw *);
const struct fw_item *fw_mem_last_open(const struct fw *);
/* In-memory backend test hook: behave as a kernel backend would for callers (fw_in_kernel). */
void fw_mem_pretend_kernel(struct fw *);
/* In-memory backend test hook: refuse the next add of proto/port with err. */
void fw_mem_inject_failure(struct fw *, int proto, uint16_t port, int err);
/* In-memory backend test hook: the PEER item's flow is open, leaving by ext_port (0: closed). */
void fw_mem_flow(struct fw *, const struct fw_item *, uint16_t ext_port);

#endif
