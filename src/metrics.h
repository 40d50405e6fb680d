/*
 * metrics.h - the Prometheus page: `GET /metrics` and `portgatectl metrics`.
 * A table of the modules' metrics verbs (metric.h) applied to the context,
 * written in the text exposition format (version 0.0.4).
 */
#ifndef PG_METRICS_H
#define PG_METRICS_H

#include <stddef.h>

struct evbuffer;
struct pg_ctx;

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Every family (HELP, TYPE, its samples) appended to out. */
void metrics_format(struct pg_ctx *, struct evbuffer *out);
/* The help text of a family (its name without "portgate_"), or NULL if none is known. */
const char *metrics_help(const char *name);

#endif
