/*
 * fw_mem.h - the in-memory backend's test hooks: look at the state a kernel
 * would hold, inject refusals, fake traffic and flows. Only tests include
 * it; they hand in a struct fw made with fw_new("none", ...).
 */
#ifndef PG_FW_MEM_H
#define PG_FW_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "fw/fw.h"

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
/*
 * In-memory backend test hook: traffic from the WAN through the mapping at
 * proto/port (its counters and the inbound total, fw_inbound, count it).
 */
void fw_mem_traffic(struct fw *, int proto, uint16_t port, uint64_t pkts, uint64_t bytes);
/* In-memory backend test hook: the inbound counter starts again at 0 (rules rebuilt outside). */
void fw_mem_inbound_restart(struct fw *);
/* In-memory backend inspection (tests): doors closed so far, and the last (NULL: none). */
size_t fw_mem_close_count(const struct fw *);
const struct fw_item *fw_mem_last_close(const struct fw *, int *partial);
/* In-memory backend inspection (tests): doors opened so far, and the last (NULL: none). */
size_t fw_mem_open_count(const struct fw *);
const struct fw_item *fw_mem_last_open(const struct fw *);
/*
 * In-memory backend test hook: behave as a kernel backend would for callers
 * (fw_has FW_CAP_KERNEL, fw_in_kernel); before or after fw_init.
 */
void fw_mem_pretend_kernel(struct fw *);
/* In-memory backend test hook: refuse the next add of proto/port with err. */
void fw_mem_inject_failure(struct fw *, int proto, uint16_t port, int err);
/* In-memory backend test hook: the PEER item's flow is open, leaving by ext_port (0: closed). */
void fw_mem_flow(struct fw *, const struct fw_item *, uint16_t ext_port);

#endif
