/*
 * state_health.h - how saving the state file goes: saves can fail (a
 * read-only or missing directory) while the daemon runs, and
 * `portgatectl status` says so.
 */
#ifndef PG_STATE_HEALTH_H
#define PG_STATE_HEALTH_H

#include <limits.h>
#include <time.h>

#include <stdint.h>

#include "metric.h"
#include "status.h"

struct state_health {
	char		 file[PATH_MAX];	/* the file saved to, as last tried */
	time_t		 last_ok;	/* wall clock of the last good save or sync, 0 = never */
	int		 failing;
	char		 error[256];	/* the last failure, while failing */
	uint64_t	 saves;		/* full saves that worked */
	uint64_t	 failures;	/* saves and journal writes that failed */
};

/* Start the record of saving file: never saved, no error. */
void state_health_init(struct state_health *, const char *file);
/* A save or journal write of file failed with err; 1 if it worked until now (say so once). */
int state_health_failed(struct state_health *, const char *file, const char *err);
/* A full save of file worked at now; 1 if it was failing until now (say it recovered). */
int state_health_saved(struct state_health *, const char *file, time_t now);
/* The journal's lines reached the disk at now: a good save, unless a full one is failing. */
void state_health_synced(struct state_health *, time_t now);
/* state_file, state_last_save (seconds ago, or never), state_last_error (or none). */
void state_health_status(const struct state_health *, pg_status_emit *, void *);
/* Metrics (metric.h): state_saves_total, state_save_failures_total. */
void state_health_metrics(const struct state_health *, pg_metric_emit *, void *);

#endif
