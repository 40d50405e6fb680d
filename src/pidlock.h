/* pidlock.h - one portgated per nftables table (per network namespace) and per state file. */
#ifndef PG_PIDLOCK_H
#define PG_PIDLOCK_H

#include <stddef.h>

struct pidlock;

/*
 * Take both locks before anything is touched: the table lock is flock(2) on
 * PG_RUNDIR/table-ip-TABLE.netns-INODE.lock (per network namespace, like
 * nftables itself; PG_RUNDIR is root-only, so no other user can hold it);
 * the state lock is flock(2) on STATE_FILE.lock. Both hold our pid and are
 * released with the process. NULL with why filled (e.g.
 * "another portgated (pid 42) owns table ip portgate") if either is held.
 * A state lock that cannot be created (missing directory) is only logged.
 * table NULL: no kernel state to protect (firewall = none).
 */
struct pidlock *pidlock_take(const char *table, const char *state_file,
    char *why, size_t whylen);
/* Release both. */
void pidlock_release(struct pidlock *);

#endif
