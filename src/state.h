/* state.h - the state file: mappings and run-time trigger rules across restarts. */
#ifndef PG_STATE_H
#define PG_STATE_H

#include <stddef.h>

struct mtable;
struct trigger;

/* Write the table (and run-time trigger rules) atomically to path; 0 or -1. */
int state_save(const char *path, const struct mtable *, const struct trigger *);
/*
 * Restore from path into the table (and trigger rules). A missing file is
 * fine; a corrupt or truncated one is moved to path.corrupt with a warning
 * and nothing is restored. Returns the number of mappings restored.
 */
size_t state_load(const char *path, struct mtable *, struct trigger *);
/* Parse state text without applying it (fuzzing); 0 if well-formed. */
int state_check(const char *text, size_t len, char *err, size_t errlen);

#endif
