/* state_health.c - how saving the state file goes (see state_health.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "state_health.h"

static void
state_health_file(struct state_health *h, const char *file)
{
	snprintf(h->file, sizeof(h->file), "%s", file);
}

void
state_health_init(struct state_health *h, const char *file)
{
	memset(h, 0, sizeof(*h));
	state_health_file(h, file);
}

int
state_health_failed(struct state_health *h, const char *file, const char *err)
{
	int was_ok = !h->failing;

	state_health_file(h, file);
	h->failures++;
	h->failing = 1;
	snprintf(h->error, sizeof(h->error), "%s", err);
	return was_ok;
}

int
state_health_saved(struct state_health *h, const char *file, time_t now)
{
	int was_failing = h->failing;

	state_health_file(h, file);
	h->saves++;
	h->failing = 0;
	h->last_ok = now;
	return was_failing;
}

void
state_health_synced(struct state_health *h, time_t now)
{
	if (!h->failing)
		h->last_ok = now;
}

void
state_health_status(const struct state_health *h, pg_status_emit *emit, void *arg)
{
	emit(arg, "state_file", "%s", h->file);
	if (h->last_ok == 0)
		emit(arg, "state_last_save", "never");
	else
		emit(arg, "state_last_save", "%lld", (long long)(time(NULL) - h->last_ok));
	emit(arg, "state_last_error", "%s", h->failing ? h->error : "none");
}

void
state_health_metrics(const struct state_health *h, pg_metric_emit *emit, void *arg)
{
	emit(arg, "state_saves_total", NULL, (double)h->saves, NULL);
	emit(arg, "state_save_failures_total", NULL, (double)h->failures, NULL);
}
