/*
 * mt_kinds.h - the mapping table's kinds of entry, each one's struct
 * mt_kind_ops (mt_core.h), by the file that implements it. Only mtable.c,
 * which installs them, and the kind files include this: the core reaches a
 * kind through mt->kinds alone.
 */
#ifndef PG_MT_KINDS_H
#define PG_MT_KINDS_H

#include "mt_core.h"

/* MT_KIND_MAP: inbound mappings (mt_map.c). */
extern const struct mt_kind_ops mt_map_kind;
/* MT_KIND_PEER: PEER pins (mt_peer.c). */
extern const struct mt_kind_ops mt_peer_kind;
/* MT_KIND_PINHOLE: IPv6 pinholes (mt_pinhole.c). */
extern const struct mt_kind_ops mt_pin_kind;

#endif
