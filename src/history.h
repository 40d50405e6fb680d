/*
 * history.h - the last hour of the gateway, one sample a minute, for the
 * panel's charts: mappings per source, pinholes, and inbound packets: the
 * firewall's inbound total at each sample (fw_inbound: what the WAN sent in
 * through mappings, monotonic) and what it rose by since the sample before,
 * which the chart draws (absent where the firewall does not count, never a
 * fake 0). A bounded ring in the daemon's context; a leaf.
 */
#ifndef PG_HISTORY_H
#define PG_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "mt_vocab.h"

#define HISTORY_SAMPLES		60	/* kept: an hour */
#define HISTORY_INTERVAL_S	60	/* between samples (tests may make it shorter) */

struct evbuffer;

struct history_sample {
	int64_t		 time;			/* seconds since 1970 */
	uint32_t	 mappings[MT_NSOURCE];	/* by enum mt_source */
	uint32_t	 pinholes;
	int		 has_total;		/* 0: inbound_total is not known */
	uint64_t	 inbound_total;		/* inbound packets in all (fw_inbound) */
	/* history_add's, from inbound_total and the sample before's: */
	int		 has_packets;		/* 0: inbound_packets is not known */
	uint64_t	 inbound_packets;	/* since the previous sample */
};

struct history {
	struct history_sample	 s[HISTORY_SAMPLES];
	size_t			 n;		/* kept */
	size_t			 head;		/* the oldest's slot */
	unsigned		 interval_s;	/* between samples */
};

/* An empty history, a sample every interval_s seconds (0: HISTORY_INTERVAL_S). */
void history_init(struct history *, unsigned interval_s);
/*
 * Keep a sample (the oldest goes when the ring is full); its inbound_packets
 * is what inbound_total rose by since the last sample, where both know it.
 */
void history_add(struct history *, const struct history_sample *);
/* Samples kept. */
size_t history_count(const struct history *);
/* The i-th sample, oldest first (i < history_count), or NULL. */
const struct history_sample *history_at(const struct history *, size_t i);
/* A sample's time as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf ("" if it cannot be). */
const char *history_time_str(const struct history_sample *, char *buf, size_t len);
/*
 * The history as one JSON object: {"interval_seconds":60,"samples":[{"time":
 * "...Z","mappings":{"static":N,...},"pinholes":N,"inbound_packets":N|null,
 * "inbound_packets_total":N|null}, ...]}, oldest first.
 */
void history_json(const struct history *, struct evbuffer *out);

#endif
