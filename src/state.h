/* state.h - the state file: mappings and run-time trigger rules across restarts. */
#ifndef PG_STATE_H
#define PG_STATE_H

#include <stddef.h>
#include <time.h>

#include "mtable.h"

struct trigger;

/* What else the daemon keeps across restarts. */
struct state_meta {
	char	 uuid[40];	/* the UPnP device UUID ("" = none yet) */
	time_t	 epoch_start;	/* wall clock when the mapping state began (PCP epoch); 0 = unknown */
	char	 upstream_key[33];	/* 32 hex digits: the upstream mappings' nonces come from
					   it, so a restart asks the same ("" = none yet) */
	int	 complete;	/* state_load: the file was read whole, no record lost */
};

/*
 * Write the table (and run-time trigger rules) to path as a snapshot with
 * an empty journal: PATH.tmp is created afresh (never following a
 * symlink), fsynced and renamed over path. 0, or -1 with err saying what
 * failed (nothing is logged: the caller decides how often to say it).
 */
int state_save(const char *path, const struct mtable *, const struct trigger *,
    const struct state_meta *, char *err, size_t errlen);
/*
 * Restore from path into the table (and trigger rules): the snapshot, then
 * the journal's records in order. A missing file is fine. A bad record is
 * skipped and logged as "PATH:LINE: what is wrong"; the others are
 * restored. A last journal record cut short (a crash while appending it)
 * is logged and ignored. A damaged file (not a state file, truncated, bad
 * records) is also copied aside to PATH.corrupt.YYYYMMDDTHHMMSS, never
 * overwriting an earlier copy. Reads formats 1 and 2. Returns the number
 * of mappings and pinholes restored.
 */
size_t state_load(const char *path, struct mtable *, struct trigger *, struct state_meta *);
/* Parse state text without applying it (fuzzing); 0 if every line is well-formed. */
int state_check(const char *text, size_t len, char *err, size_t errlen);

/*
 * Journal records, as state_journal appends them (and a replica could
 * receive them): one line, "j CHECK RECORD\n". Each returns the line's
 * length, or 0 if there is nothing to keep (PEER pins, MT_CHG_OTHER) or it
 * does not fit in len.
 */
/* The record of a table change, as the table's notification reports it. */
size_t state_record(const struct mtable *, enum mt_change, const struct mt_entry *, char *line,
    size_t len);
/* The record of how many PEER pins are held. */
size_t state_record_pins(size_t pins, char *line, size_t len);
/* Frame record text (no newline in it) as a journal line with its check. */
size_t state_frame(const char *text, char *line, size_t len);

#endif
