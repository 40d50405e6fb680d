/* state.h - the state file: mappings and run-time trigger rules across restarts. */
#ifndef PG_STATE_H
#define PG_STATE_H

#include <stddef.h>
#include <time.h>

struct mtable;
struct trigger;

/* What else the daemon keeps across restarts. */
struct state_meta {
	char	 uuid[40];	/* the UPnP device UUID ("" = none yet) */
	time_t	 epoch_start;	/* wall clock when the mapping state began (PCP epoch); 0 = unknown */
	int	 complete;	/* state_load: the file was read whole, no record lost */
};

/*
 * Write the table (and run-time trigger rules) to path: PATH.tmp is created
 * afresh (never following a symlink), fsynced and renamed over path.
 * 0, or -1 with err saying what failed (nothing is logged: the caller
 * decides how often to say it).
 */
int state_save(const char *path, const struct mtable *, const struct trigger *,
    const struct state_meta *, char *err, size_t errlen);
/*
 * Restore from path into the table (and trigger rules). A missing file is
 * fine. A bad record is skipped and logged as "PATH:LINE: what is wrong";
 * the others are restored. A damaged file (not a state file, truncated,
 * bad records) is also copied aside to PATH.corrupt.YYYYMMDDTHHMMSS, never
 * overwriting an earlier copy. Returns the number of mappings restored.
 */
size_t state_load(const char *path, struct mtable *, struct trigger *, struct state_meta *);
/* Parse state text without applying it (fuzzing); 0 if every line is well-formed. */
int state_check(const char *text, size_t len, char *err, size_t errlen);

#endif
