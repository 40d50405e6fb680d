/*
 * bench_state.c - what the state file costs per change at 0, 1,000 and
 * 20,000 pinholes (the 1.76 MB table): the journal's bytes for a
 * renewal, an add and a delete; the time of one append + fdatasync (a
 * change alone in its event-loop iteration, the worst case); the
 * compaction (a full snapshot) in bytes and ms; and the bytes written per
 * renewal over a long run, compactions included, against a full rewrite
 * per change before the journal. Prints figures; asserts nothing.
 *
 *   bench_state [DIR]    (default: a new directory under $TMPDIR or /tmp;
 *                         give the state file's own filesystem, e.g. the
 *                         router's flash, for its fdatasync figure)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mtable.h"
#include "state.h"
#include "state_journal.h"
#include "util.h"

#define SYNC_OPS	200	/* appends timed with their fdatasync */
#define RUN_OPS		100000	/* renewals in the long run */

static uint64_t fake_ms = 1000;

static uint64_t
now_ms(void *arg)
{
	(void)arg;
	return fake_ms;
}

static double
secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bench {
	const char		*path;
	struct mtable		*mt;
	struct state_journal	*j;
	size_t			 written;	/* journal bytes and snapshots, all of them */
	size_t			 compactions;
	double			 compact_s;
};

static size_t
journal_bytes(const struct bench *b)
{
	struct state_journal_stats st;

	state_journal_stats(b->j, &st);
	return st.bytes;
}

/* A full save and a new journal on it, as pg_save_now. */
static void
compact(struct bench *b)
{
	struct state_journal_stats st;
	char err[256];
	double t0 = secs();

	if (b->j != NULL)
		b->written += journal_bytes(b);
	if (state_save(b->path, b->mt, NULL, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_state: %s\n", err);
		exit(1);
	}
	state_journal_close(b->j);
	if ((b->j = state_journal_open(b->path, b->mt, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_state: %s\n", err);
		exit(1);
	}
	b->compact_s += secs() - t0;
	b->compactions++;
	state_journal_stats(b->j, &st);
	b->written += st.snapshot_bytes;
}

/* The daemon's wiring: each change is appended as the table reports it. */
static void
changed(void *arg, enum mt_change what, const struct mt_entry *e)
{
	struct bench *b = arg;
	char err[256];

	if (state_journal_append(b->j, b->mt, what, e, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_state: %s\n", err);
		exit(1);
	}
}

static struct mt_entry *
pinhole(struct mtable *mt, size_t i)
{
	struct mt_pin_req q;
	struct mt_entry *e = NULL;
	char a[64];

	memset(&q, 0, sizeof(q));
	q.proto = MT_TCP;
	q.source = MT_SRC_PCP;
	snprintf(a, sizeof(a), "2001:db8:1::%zx", 0x1000 + i / 1000);
	util_parse_addr(a, &q.int_addr);
	q.int_port = (uint16_t)(1000 + i % 1000);
	q.lease_s = 3600;
	q.desc = "bench pinhole";
	q.owner = "00112233445566778899aabb";
	mtable_pinhole_add(mt, &q, &e, NULL);
	return e;
}

/* One table size; the amortised bytes per renewal. */
static double
bench(const char *path, size_t n, size_t *snapshot)
{
	struct pg_clock clk = { now_ms, NULL };
	struct bench b = { path, mtable_new(NULL, &clk), NULL, 0, 0, 0 };
	struct state_journal_stats st;
	size_t i, b0, renew, add, del, snap;
	struct mt_entry *e;
	char err[256];
	double t0, t_sync;

	for (i = 0; i < n; i++)
		pinhole(b.mt, i);
	e = pinhole(b.mt, 500000);
	compact(&b);
	snap = b.written;
	b.compactions = 0;
	b.compact_s = 0;
	mtable_set_notify(b.mt, changed, &b);
	b0 = journal_bytes(&b);
	mtable_renew(b.mt, e, 3600);
	renew = journal_bytes(&b) - b0;
	b0 = journal_bytes(&b);
	e = pinhole(b.mt, 500001);
	add = journal_bytes(&b) - b0;
	b0 = journal_bytes(&b);
	mtable_del(b.mt, e);
	del = journal_bytes(&b) - b0;
	e = mtable_pinhole_next(b.mt, NULL);
	t0 = secs();
	for (i = 0; i < SYNC_OPS; i++) {
		mtable_renew(b.mt, e, 3600);
		state_journal_sync(b.j, err, sizeof(err));
	}
	t_sync = (secs() - t0) / SYNC_OPS;
	/* the long run: compaction cost spread over the renewals that filled the journal */
	compact(&b);
	b.written = 0;
	b.compactions = 0;
	b.compact_s = 0;
	for (i = 0; i < RUN_OPS; i++) {
		fake_ms += 10;
		mtable_renew(b.mt, e, 3600);
		if (state_journal_full(b.j))
			compact(&b);
	}
	b.written += journal_bytes(&b);
	state_journal_stats(b.j, &st);
	printf("%8zu %10zu %8.1f %6zu %6zu %6zu %10.0f %11.1f %9zu %10zu\n", n, snap,
	    b.compactions ? b.compact_s / (double)b.compactions * 1e3 : 0.0, renew, add, del,
	    t_sync * 1e6, (double)b.written / RUN_OPS, b.compactions, snap);
	state_journal_close(b.j);
	mtable_free(b.mt);
	*snapshot = snap;
	return (double)b.written / RUN_OPS;
}

int
main(int argc, char **argv)
{
	char dir[256], path[300];
	const char *tmp = getenv("TMPDIR");
	size_t snap;
	double per;

	log_setverbose(-2);
	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else {
		snprintf(dir, sizeof(dir), "%s/portgate-bench-state-XXXXXX", tmp ? tmp : "/tmp");
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	printf("state file (%s): bytes per change, journal and compaction; pinholes of PCP "
	    "clients\n", dir);
	printf("%8s %10s %8s %6s %6s %6s %10s %11s %9s %10s\n", "entries", "snapshot", "compact",
	    "renew", "add", "delete", "append+", "B/renewal", "compac-", "before:");
	printf("%8s %10s %8s %6s %6s %6s %10s %11s %9s %10s\n", "", "bytes", "ms", "B", "B", "B",
	    "fsync us", "amortised", "tions", "B/change");
	bench(path, 0, &snap);
	bench(path, 1000, &snap);
	per = bench(path, 20000, &snap);
	printf("(amortised: over %d renewals, the journal and every compaction it caused; "
	    "before: the whole file, rewritten after each change)\n", RUN_OPS);
	printf("20,000 entries, a client renewing five mappings a second: %.1f MB/s written "
	    "before, %.0f bytes/s now\n", 5.0 * (double)snap / 1e6, 5.0 * per);
	unlink(path);
	if (argc <= 1)
		rmdir(dir);
	return 0;
}
