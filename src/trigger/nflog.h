/* nflog.h - trigger detection: kernel NFLOG notifications of LAN trigger traffic. */
#ifndef PG_NFLOG_H
#define PG_NFLOG_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct pg_ctx;
struct fw;
struct trigger;
struct trig_nflog;

/* Listen for trigger notifications (nothing to listen to with firewall = none). */
struct trig_nflog *trig_nflog_new(struct pg_ctx *);
/* Stop listening. */
void trig_nflog_free(struct trig_nflog *);
/* Push the trigger rules' ports into the firewall's trigger sets. */
void trig_nflog_sync_rules(struct trig_nflog *, struct fw *, const struct trigger *);
/* Decode one NFLOG packet payload (an IPv4 header and more) and act on it; 0 if used. */
int trig_nflog_handle_packet(struct trigger *, const char *prefix, const uint8_t *pkt, size_t len);
/* Decode a buffer of NFLOG netlink messages as read from the socket; returns how many were used. */
size_t trig_nflog_handle_buf(struct trigger *, const void *buf, size_t len);
/* Notifications received so far. */
uint64_t trig_nflog_count(const struct trig_nflog *);
/*
 * Status: trigger_notifications (reports from the kernel), then
 * trigger_bad_sources (of those, ignored by the trigger rules because the
 * source was not a LAN host).
 */
void trig_nflog_status(const struct trig_nflog *, pg_status_emit *, void *);

#endif
