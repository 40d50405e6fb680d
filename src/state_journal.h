/*
 * state_journal.h - table changes appended to the state file between full
 * saves, so a change costs one short line however large the table is.
 */
#ifndef PG_STATE_JOURNAL_H
#define PG_STATE_JOURNAL_H

#include <stddef.h>

#include "mtable.h"
#include "status.h"

struct state_journal;

/* What the journal has cost so far. */
struct state_journal_stats {
	size_t	 snapshot_bytes;	/* the file as state_save left it */
	size_t	 bytes;			/* appended since */
	size_t	 records;
	size_t	 syncs;			/* fdatasyncs done */
};

/*
 * Append to path, which state_save has just written from the table (no
 * other file: a journal follows its own snapshot). NULL with err.
 */
struct state_journal *state_journal_open(const char *path, const struct mtable *, char *err,
    size_t errlen);
/*
 * Append the record of one table change: its line is in the file (the
 * kernel's page cache) when this returns, so a crash of the daemon after it
 * loses nothing; state_journal_sync makes it survive a power cut. 0, or -1
 * with err: the journal is then unusable (close it and save in full).
 */
int state_journal_append(struct state_journal *, const struct mtable *, enum mt_change,
    const struct mt_entry *, char *err, size_t errlen);
/* fdatasync what was appended since the last sync: 1 if there was some, 0 if not, -1 with err. */
int state_journal_sync(struct state_journal *, char *err, size_t errlen);
/* 1 once the journal has outgrown max(64 KiB, the snapshot): time for a state_save. */
int state_journal_full(const struct state_journal *);
/* Its costs so far. */
void state_journal_stats(const struct state_journal *, struct state_journal_stats *);
/* Status: state_snapshot_bytes and state_journal_bytes ("none" for both when NULL: none open). */
void state_journal_status(const struct state_journal *, pg_status_emit *, void *);
/* Close (NULL is fine); what was appended stays in the file. */
void state_journal_close(struct state_journal *);

#endif
