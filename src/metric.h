/*
 * metric.h - the one shape of a module's metrics verb, as status.h is of
 * its status verb.
 *
 * A module that counts something offers
 *	void X_metrics(const struct X *, pg_metric_emit *emit, void *arg);
 * which calls emit once per sample: the family's name without "portgate_"
 * ("requests_total"), its labels as NULL-terminated name, value pairs (NULL:
 * none), and its value; a histogram's sample passes its buckets instead
 * (value unused). The page (metrics.c) is a table of such verbs: it holds
 * each family's type and help, groups the samples and writes the Prometheus
 * text format; no module formats another's insides, nor its own samples.
 * Names follow Prometheus' conventions: base units (seconds), counters end
 * in _total.
 */
#ifndef PG_METRIC_H
#define PG_METRIC_H

#include <stddef.h>
#include <stdint.h>

#define PG_HIST_MAX	16	/* bucket bounds a histogram may have */

struct pg_hist {
	const double	*le;			/* upper bounds, ascending */
	size_t		 n;			/* how many, at most PG_HIST_MAX */
	uint64_t	 count[PG_HIST_MAX + 1];	/* per bucket, not cumulative; [n]: above */
	double		 sum;
};

typedef void pg_metric_emit(void *arg, const char *name, const char *const *labels,
    double value, const struct pg_hist *hist);

/* An empty histogram over these bounds (n at most PG_HIST_MAX; not copied). */
static inline void
pg_hist_init(struct pg_hist *h, const double *le, size_t n)
{
	size_t i;

	h->le = le;
	h->n = n > PG_HIST_MAX ? PG_HIST_MAX : n;
	for (i = 0; i <= PG_HIST_MAX; i++)
		h->count[i] = 0;
	h->sum = 0;
}

/* One observation. */
static inline void
pg_hist_observe(struct pg_hist *h, double v)
{
	size_t i;

	for (i = 0; i < h->n && v > h->le[i]; i++)
		;
	h->count[i]++;
	h->sum += v;
}

#endif
