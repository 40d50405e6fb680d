/*
 * mtable.c - the mapping table: the single source of truth, with one lease
 * clock. It is built in layers, each file using only those below it:
 *
 *	mtable.c	creates the table and installs its kinds; its status verb
 *	mt_map.c	inbound mappings (MT_KIND_MAP)
 *	mt_peer.c	PEER pins (MT_KIND_PEER), which ask mt_map.c who holds a port
 *	mt_pinhole.c	IPv6 pinholes (MT_KIND_PINHOLE)
 *	mt_core.c	clients and quota, lease caps, the lease heap, the firewall
 *			queue, notification, entry IDs; delete, flush, expiry,
 *			commit and resync through each kind's struct mt_kind_ops
 *	leaves		mt_vocab.c (names and filters), fenwick.c, heap.c,
 *			portbits.c, hmap.c
 */
#include "config.h"

#include <stddef.h>

#include "mt_core.h"
#include "mt_kinds.h"
#include "metric.h"
#include "mtable.h"
#include "status.h"

/* The kinds, by enum mt_kind: what the core calls for an entry of each. */
static const struct mt_kind_ops *const mt_kinds[MT_NKIND] = {
	[MT_KIND_MAP] = &mt_map_kind,
	[MT_KIND_PEER] = &mt_peer_kind,
	[MT_KIND_PINHOLE] = &mt_pin_kind,
};

struct mtable *
mtable_new(struct fw *fw, const struct pg_clock *clk)
{
	struct mtable *mt = mt_core_new(fw, clk);
	size_t k;

	mt->kinds = mt_kinds;
	for (k = 0; k < MT_NKIND; k++)
		mt_kinds[k]->init(mt);
	return mt;
}

void
mtable_free(struct mtable *mt)
{
	size_t k;

	if (mt == NULL)
		return;
	for (k = 0; k < MT_NKIND; k++)
		mt->kinds[k]->free(mt);
	mt_core_free(mt);
}

void
mtable_status(const struct mtable *mt, pg_status_emit *emit, void *arg)
{
	int s;

	emit(arg, "mappings", "%zu", mtable_count(mt));
	emit(arg, "pinholes", "%zu", mtable_pinhole_count(mt));
	for (s = 0; s < MT_NSOURCE; s++)
		emit(arg, "source", "%s %zu", mt_source_name(s), mtable_count_source(mt, s));
}

/* Counts of a kind by source and protocol, as gauges. */
static void
mt_metrics_kind(const char *name, const size_t n[MT_NSOURCE][MT_NPROTO], pg_metric_emit *emit,
    void *arg)
{
	const char *labels[5] = { "source", NULL, "proto", NULL, NULL };
	int s, p;

	for (s = 0; s < MT_NSOURCE; s++)
		for (p = 0; p < MT_NPROTO; p++) {
			labels[1] = mt_source_name(s);
			labels[3] = mt_proto_name(p);
			emit(arg, name, labels, (double)n[s][p], NULL);
		}
}

void
mtable_metrics(const struct mtable *mt, pg_metric_emit *emit, void *arg)
{
	size_t maps[MT_NSOURCE][MT_NPROTO] = { { 0 } }, pins[MT_NSOURCE][MT_NPROTO] = { { 0 } };
	const struct mt_entry *e;

	for (e = mtable_next(mt, NULL); e != NULL; e = mtable_next(mt, e))
		if (e->source < MT_NSOURCE && e->proto < MT_NPROTO)
			maps[e->source][e->proto]++;
	for (e = mtable_pinhole_next(mt, NULL); e != NULL; e = mtable_pinhole_next(mt, e))
		if (e->source < MT_NSOURCE && e->proto < MT_NPROTO)
			pins[e->source][e->proto]++;
	mt_metrics_kind("mappings", maps, emit, arg);
	mt_metrics_kind("pinholes", pins, emit, arg);
	emit(arg, "peer_pins", NULL, (double)mtable_peer_count(mt), NULL);
}
