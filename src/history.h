/*
 * history.h - the last hour of the gateway, one sample a minute, for the
 * panel's charts: mappings per source, pinholes, and inbound packets (a
 * field the kernel's counters will fill; until then absent, never a fake 0).
 * A bounded ring in the daemon's context; a leaf.
 */
#ifndef PG_HISTORY_H
#define PG_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "mt_vocab.h"

#define HISTORY_SAMPLES		60	/* kept: an hour */
#define HISTORY_INTERVAL_S	60	/* between samples */

struct evbuffer;

struct history_sample {
	int64_t		 time;			/* seconds since 1970 */
	uint32_t	 mappings[MT_NSOURCE];	/* by enum mt_source */
	uint32_t	 pinholes;
	int		 has_packets;		/* 0: inbound_packets is not known */
	uint64_t	 inbound_packets;	/* since the previous sample */
};

struct history {
	struct history_sample	 s[HISTORY_SAMPLES];
	size_t			 n;		/* kept */
	size_t			 head;		/* the oldest's slot */
};

/* An empty history. */
void history_init(struct history *);
/* Keep a sample (the oldest goes when the ring is full). */
void history_add(struct history *, const struct history_sample *);
/* Samples kept. */
size_t history_count(const struct history *);
/* The i-th sample, oldest first (i < history_count), or NULL. */
const struct history_sample *history_at(const struct history *, size_t i);
/*
 * The history as one JSON object: {"interval_seconds":60,"samples":[{"time":
 * "...Z","mappings":{"static":N,...},"pinholes":N,"inbound_packets":N|null},
 * ...]}, oldest first.
 */
void history_json(const struct history *, struct evbuffer *out);

#endif
