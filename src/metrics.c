/*
 * metrics.c - the Prometheus page as a table: one row per module, each its
 * metrics verb (metric.h) applied to the context, and the catalogue of
 * families (name, type, help) those verbs emit. The samples are gathered
 * first, then written family by family in the catalogue's order, so that
 * families several modules share (requests_total: UPnP's, PCP's) come out
 * as one, each with its HELP and TYPE once. Label values are escaped as the
 * text format says (backslash, double quote, newline; invalid UTF-8 is
 * U+FFFD).
 */
#include "config.h"

#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "event.h"
#include "fw/fw.h"
#include "igd/igd.h"
#include "log.h"
#include "metric.h"
#include "metrics.h"
#include "mtable.h"
#include "pcp/pcp_server.h"
#include "state_health.h"
#include "trigger/trigger.h"
#include "util.h"

#define METRICS_PREFIX	"portgate_"
#define METRICS_LABELS	8	/* label pairs a sample may have */

static const struct metrics_family {
	const char	*name;
	const char	*type;
	const char	*help;
} metrics_families[] = {
	{ "build_info", "gauge", "portgated's version (label version); the value is 1." },
	{ "start_time_seconds", "gauge", "When portgated started, in seconds since 1970." },
	{ "external_address_changes_total", "counter",
	    "Times the external address changed (the WAN interface's, or external_ip at a "
	    "reload)." },
	{ "mappings", "gauge", "Mappings in the table, by source and protocol." },
	{ "pinholes", "gauge", "IPv6 pinholes in the table, by source and protocol." },
	{ "peer_pins", "gauge", "PCP PEER flows pinned to an external port." },
	{ "requests_total", "counter",
	    "Requests answered, by protocol, action (UPnP action, PCP or NAT-PMP opcode) and "
	    "result." },
	{ "refusals_total", "counter",
	    "Requests refused (the request.refused events), by protocol and reason." },
	{ "pcp_malformed_total", "counter",
	    "PCP and NAT-PMP requests answered with an error before any opcode ran, by "
	    "protocol." },
	{ "pcp_dropped_total", "counter",
	    "PCP and NAT-PMP datagrams dropped unanswered (off-LAN, malformed, over the rate "
	    "limit)." },
	{ "trigger_rules", "gauge", "Port-triggering rules in force." },
	{ "trigger_activations_total", "counter",
	    "Times a LAN host's traffic opened a trigger rule's ports." },
	{ "trigger_refusals_total", "counter",
	    "Times a LAN host's trigger traffic was refused: another host held the ports." },
	{ "firewall_commits_total", "counter", "Batches of changes sent to the kernel." },
	{ "firewall_commit_duration_seconds", "histogram",
	    "How long the kernel took to take a batch of changes, in seconds." },
	{ "firewall_repairs_total", "counter",
	    "Times the kernel's rules vanished or were edited behind portgated's back and were "
	    "rebuilt from the table." },
	{ "inbound_packets_total", "counter",
	    "Packets the WAN sent in through mappings (flows the WAN started, every mapping "
	    "whatever came and went), as the kernel counts them." },
	{ "inbound_bytes_total", "counter",
	    "Bytes of those packets (inbound_packets_total), as the kernel counts them." },
	{ "state_saves_total", "counter", "Full saves of the state file that worked." },
	{ "state_save_failures_total", "counter",
	    "Saves of the state file (full or journal) that failed." },
	{ "gena_subscriptions", "gauge", "UPnP event (GENA) subscriptions in force." },
	{ "gena_events_sent_total", "counter", "UPnP event messages sent to subscribers." },
	{ "ssdp_searches_total", "counter", "SSDP M-SEARCH requests accepted from LAN hosts." },
	{ "ssdp_replies_total", "counter", "SSDP answers sent to searches." },
	{ "ssdp_dropped_total", "counter",
	    "SSDP datagrams dropped (malformed, off-LAN, over the rate limits)." },
	{ "upnp_http_requests_total", "counter", "HTTP requests to the UPnP server." },
	{ "upnp_http_refused_total", "counter",
	    "HTTP requests or connections the UPnP server refused (off-LAN, forbidden, cut "
	    "short)." },
	{ "events_total", "counter", "Events posted on the event bus, by type." },
	{ "event_subscribers", "gauge",
	    "Subscribers of the event bus (portgatectl watch, the API's event streams)." },
};

struct metrics_sample {
	size_t		 family;	/* index in metrics_families[] */
	char		*labels;	/* "a=\"x\",b=\"y\"" (malloc'ed, "" for none) */
	double		 value;
	int		 has_hist;
	struct pg_hist	 hist;
};

struct metrics_run {
	struct metrics_sample *s;
	size_t		 n, cap;
	int		 failed;	/* out of memory: the page says so */
};

const char *
metrics_help(const char *name)
{
	size_t i;

	for (i = 0; i < PG_NELEM(metrics_families); i++)
		if (strcmp(metrics_families[i].name, name) == 0)
			return metrics_families[i].help;
	return NULL;
}

static int
metrics_family_of(const char *name, size_t *out)
{
	size_t i;

	for (i = 0; i < PG_NELEM(metrics_families); i++)
		if (strcmp(metrics_families[i].name, name) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

/* A label value as the text format quotes it (valid UTF-8 always). */
static void
metrics_label_value(struct evbuffer *b, const char *s)
{
	size_t len = strlen(s), i, n;
	uint32_t cp;

	for (i = 0; i < len; i += n ? n : 1) {
		if ((n = util_utf8_next(s + i, len - i, &cp)) == 0)
			evbuffer_add(b, "\xef\xbf\xbd", 3);
		else if (cp == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (cp == '"')
			evbuffer_add(b, "\\\"", 2);
		else if (cp == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s + i, n);
	}
}

/* 1 if s is a valid label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting "__". */
static int
metrics_label_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9') || strncmp(s, "__", 2) == 0)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* The labels' text, malloc'ed ("" for none); NULL if out of memory or a name is bad. */
static char *
metrics_labels(const char *const *labels)
{
	struct evbuffer *b;
	size_t i, len;
	char *s;

	if ((b = evbuffer_new()) == NULL)
		return NULL;
	for (i = 0; labels != NULL && labels[i] != NULL && labels[i + 1] != NULL &&
	    i < 2 * METRICS_LABELS; i += 2) {
		if (!metrics_label_name_ok(labels[i])) {
			evbuffer_free(b);
			return NULL;
		}
		evbuffer_add_printf(b, "%s%s=\"", i ? "," : "", labels[i]);
		metrics_label_value(b, labels[i + 1]);
		evbuffer_add(b, "\"", 1);
	}
	len = evbuffer_get_length(b);
	if ((s = malloc(len + 1)) != NULL) {
		evbuffer_remove(b, s, len);
		s[len] = '\0';
	}
	evbuffer_free(b);
	return s;
}

static void
metrics_emit(void *arg, const char *name, const char *const *labels, double value,
    const struct pg_hist *hist)
{
	struct metrics_run *run = arg;
	struct metrics_sample *s;
	size_t f, cap;

	if (metrics_family_of(name, &f) == -1) {
		log_debug("metrics: no family %s: sample left out", name);
		return;
	}
	if (run->n == run->cap) {
		cap = run->cap ? run->cap * 2 : 64;
		if ((s = reallocarray(run->s, cap, sizeof(*s))) == NULL) {
			run->failed = 1;
			return;
		}
		run->s = s;
		run->cap = cap;
	}
	s = &run->s[run->n];
	memset(s, 0, sizeof(*s));
	s->family = f;
	s->value = value;
	if (hist != NULL) {
		s->has_hist = 1;
		s->hist = *hist;
	}
	if ((s->labels = metrics_labels(labels)) == NULL) {
		log_debug("metrics: %s: labels left out", name);
		run->failed = 1;
		return;
	}
	run->n++;
}

/* ---- the rows: each module's verb on the context ---- */

/* The daemon's own: read from the context, as ctl_status reads its state file's health. */
static void
metrics_daemon(const struct pg_ctx *ctx, pg_metric_emit *emit, void *arg)
{
	const char *version[] = { "version", PACKAGE_VERSION, NULL };

	emit(arg, "build_info", version, 1, NULL);
	emit(arg, "start_time_seconds", NULL, (double)ctx->started, NULL);
	emit(arg, "external_address_changes_total", NULL, (double)ctx->ext_addr_changes, NULL);
}

static void
metrics_table(const struct pg_ctx *ctx, pg_metric_emit *emit, void *arg)
{
	mtable_metrics(ctx->mt, emit, arg);
}

static void
metrics_trigger(const struct pg_ctx *ctx, pg_metric_emit *emit, void *arg)
{
	trigger_metrics(ctx->trig, emit, arg);
}

/* The firewall's own, and what came in through it (read from the kernel now). */
static void
metrics_firewall(const struct pg_ctx *ctx, pg_metric_emit *emit, void *arg)
{
	fw_metrics(ctx->fw, emit, arg);
	fw_inbound_metrics(ctx->fw, emit, arg);
}

static void
metrics_state(const struct pg_ctx *ctx, pg_metric_emit *emit, void *arg)
{
	state_health_metrics(&ctx->state_health, emit, arg);
}

static void
metrics_upnp(const struct pg_ctx *ctx, pg_metric_emit *emit, void *arg)
{
	igd_metrics(ctx->igd, emit, arg);
}

static void
metrics_pcp(const struct pg_ctx *ctx, pg_metric_emit *emit, void *arg)
{
	pcp_srv_metrics(ctx->pcp, emit, arg);
}

static void
metrics_events(const struct pg_ctx *ctx, pg_metric_emit *emit, void *arg)
{
	evbus_metrics(ctx->events, emit, arg);
}

static const struct {
	const char	*name;
	void		(*fn)(const struct pg_ctx *, pg_metric_emit *, void *);
} metrics_rows[] = {
	{ "daemon", metrics_daemon },
	{ "table", metrics_table },
	{ "trigger", metrics_trigger },
	{ "firewall", metrics_firewall },
	{ "state", metrics_state },
	{ "upnp", metrics_upnp },
	{ "pcp", metrics_pcp },
	{ "events", metrics_events },
};

/* ---- writing ---- */

static void
metrics_value(struct evbuffer *out, double v)
{
	if (isnan(v))
		evbuffer_add_printf(out, "NaN");
	else if (isinf(v))
		evbuffer_add_printf(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		evbuffer_add_printf(out, "%.0f", v);
	else
		evbuffer_add_printf(out, "%.17g", v);
}

static void
metrics_help_line(struct evbuffer *out, const struct metrics_family *f)
{
	const char *p;

	evbuffer_add_printf(out, "# HELP " METRICS_PREFIX "%s ", f->name);
	for (p = f->help; *p != '\0'; p++) {
		if (*p == '\\')
			evbuffer_add(out, "\\\\", 2);
		else if (*p == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, p, 1);
	}
	evbuffer_add_printf(out, "\n# TYPE " METRICS_PREFIX "%s %s\n", f->name, f->type);
}

/* name_bucket (cumulative, le ascending, +Inf last), name_sum, name_count. */
static void
metrics_hist(struct evbuffer *out, const char *name, const struct metrics_sample *s)
{
	const struct pg_hist *h = &s->hist;
	const char *sep = s->labels[0] != '\0' ? "," : "";
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i <= h->n; i++) {
		cum += h->count[i];
		evbuffer_add_printf(out, METRICS_PREFIX "%s_bucket{%s%sle=\"", name, s->labels,
		    sep);
		if (i < h->n)
			evbuffer_add_printf(out, "%g", h->le[i]);
		else
			evbuffer_add_printf(out, "+Inf");
		evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	evbuffer_add_printf(out, METRICS_PREFIX "%s_sum%s%s%s ", name, s->labels[0] ? "{" : "",
	    s->labels, s->labels[0] ? "}" : "");
	metrics_value(out, h->sum);
	evbuffer_add_printf(out, "\n" METRICS_PREFIX "%s_count%s%s%s %llu\n", name,
	    s->labels[0] ? "{" : "", s->labels, s->labels[0] ? "}" : "",
	    (unsigned long long)cum);
}

static void
metrics_sample_line(struct evbuffer *out, const char *name, const struct metrics_sample *s)
{
	if (s->has_hist) {
		metrics_hist(out, name, s);
		return;
	}
	evbuffer_add_printf(out, METRICS_PREFIX "%s%s%s%s ", name, s->labels[0] ? "{" : "",
	    s->labels, s->labels[0] ? "}" : "");
	metrics_value(out, s->value);
	evbuffer_add(out, "\n", 1);
}

void
metrics_format(struct pg_ctx *ctx, struct evbuffer *out)
{
	struct metrics_run run;
	size_t f, i;
	int seen;

	memset(&run, 0, sizeof(run));
	for (i = 0; i < PG_NELEM(metrics_rows); i++)
		metrics_rows[i].fn(ctx, metrics_emit, &run);
	for (f = 0; f < PG_NELEM(metrics_families); f++) {
		seen = 0;
		for (i = 0; i < run.n; i++) {
			if (run.s[i].family != f)
				continue;
			if (!seen)
				metrics_help_line(out, &metrics_families[f]);
			seen = 1;
			metrics_sample_line(out, metrics_families[f].name, &run.s[i]);
		}
	}
	if (run.failed)
		log_warnx("metrics: out of memory: some samples are left out");
	for (i = 0; i < run.n; i++)
		free(run.s[i].labels);
	free(run.s);
}
