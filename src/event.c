/*
 * event.c - the event bus: a ring of recent events, its subscribers, and
 * each event's JSON object and text line (event.h).
 *
 * The ring is one array allocated with the bus: posting copies the event
 * into the oldest slot and calls the subscribers in the order they came.
 * A subscription ended while events are being delivered (by its own
 * callback or another's) is only marked, and unlinked once the outermost
 * delivery returns, so no callback runs after its unsubscribe and none is
 * skipped.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "metric.h"
#include "mtable.h"
#include "mt_vocab.h"
#include "util.h"

#define EV_REFUSAL_KEYS	64	/* (protocol, reason) pairs counted apart; more are "other" */

struct ev_sub {
	struct ev_sub	*next;
	ev_cb		*cb;		/* NULL: unsubscribed during a delivery */
	void		*arg;
	uint64_t	 from;		/* the first sequence number it is to hear */
};

struct ev_refusals {
	char		 protocol[EV_WORD_MAX];
	char		 reason[EV_WORD_MAX];
	uint64_t	 n;
};

struct evbus {
	struct pg_event	*ring;
	size_t		 cap;
	size_t		 n;		/* kept */
	size_t		 head;		/* the oldest kept event's slot */
	uint64_t	 next_seq;
	struct pg_clock	 wall;
	int		 has_wall;
	struct ev_sub	*subs;
	size_t		 nsubs;
	int		 delivering;	/* depth of evbus_post's deliveries */
	int		 dead;		/* subscriptions marked during a delivery */
	uint64_t	 posted[EV_NTYPE];
	struct ev_refusals refusals[EV_REFUSAL_KEYS];
	size_t		 nrefusals;
};

static const char *const ev_type_names[EV_NTYPE] = {
	[EV_MAPPING_ADDED] = "mapping.added",
	[EV_MAPPING_RENEWED] = "mapping.renewed",
	[EV_MAPPING_DELETED] = "mapping.deleted",
	[EV_MAPPING_EXPIRED] = "mapping.expired",
	[EV_TRIGGER_ACTIVATED] = "trigger.activated",
	[EV_TRIGGER_CLOSED] = "trigger.closed",
	[EV_TRIGGER_REFUSED] = "trigger.refused",
	[EV_REQUEST_REFUSED] = "request.refused",
	[EV_FIREWALL_REPAIRED] = "firewall.repaired",
	[EV_WAN_CHANGED] = "wan.changed",
};

const char *
event_type_name(int type)
{
	return type >= 0 && type < EV_NTYPE ? ev_type_names[type] : "?";
}

const char *
event_type(const struct pg_event *ev)
{
	return event_type_name(ev->type);
}

uint64_t
event_seq(const struct pg_event *ev)
{
	return ev->seq;
}

/* ---- the bus ---- */

struct evbus *
evbus_new(size_t ring, const struct pg_clock *wall)
{
	struct evbus *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->cap = ring ? ring : EV_RING_DEFAULT;
	if ((b->ring = calloc(b->cap, sizeof(*b->ring))) == NULL) {
		free(b);
		return NULL;
	}
	b->next_seq = 1;
	if (wall != NULL) {
		b->wall = *wall;
		b->has_wall = 1;
	}
	return b;
}

void
evbus_free(struct evbus *b)
{
	struct ev_sub *s;

	if (b == NULL)
		return;
	while ((s = b->subs) != NULL) {
		b->subs = s->next;
		free(s);
	}
	free(b->ring);
	free(b);
}

static int64_t
ev_now(const struct evbus *b)
{
	struct timespec ts;

	if (b->has_wall)
		return (int64_t)pg_clock_now(&b->wall);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Unlink the subscriptions ended during a delivery. */
static void
ev_sweep(struct evbus *b)
{
	struct ev_sub **pp = &b->subs, *s;

	while ((s = *pp) != NULL) {
		if (s->cb == NULL) {
			*pp = s->next;
			free(s);
		} else
			pp = &s->next;
	}
	b->dead = 0;
}

/*
 * A refusal counted by (protocol, reason): the first EV_REFUSAL_KEYS - 1
 * pairs seen each have their own count, any later one the last slot's,
 * "other" (the words come from the front ends' vocabularies, so that is a
 * bound that should never be reached).
 */
static void
ev_count_refusal(struct evbus *b, const struct pg_event *ev)
{
	struct ev_refusals *r;
	size_t i;

	for (i = 0; i < b->nrefusals; i++) {
		r = &b->refusals[i];
		if (strcmp(r->protocol, ev->protocol) == 0 && strcmp(r->reason, ev->reason) == 0) {
			r->n++;
			return;
		}
	}
	if (b->nrefusals < EV_REFUSAL_KEYS - 1) {
		r = &b->refusals[b->nrefusals++];
		memcpy(r->protocol, ev->protocol, sizeof(r->protocol));
		memcpy(r->reason, ev->reason, sizeof(r->reason));
	} else {
		r = &b->refusals[EV_REFUSAL_KEYS - 1];
		if (b->nrefusals < EV_REFUSAL_KEYS) {
			b->nrefusals = EV_REFUSAL_KEYS;
			snprintf(r->protocol, sizeof(r->protocol), "other");
			snprintf(r->reason, sizeof(r->reason), "other");
		}
	}
	r->n++;
}

void
evbus_post(struct evbus *b, struct pg_event *ev)
{
	struct pg_event *slot;
	struct ev_sub *s;

	if (b == NULL)
		return;
	ev->seq = b->next_seq++;
	ev->time_ms = ev_now(b);
	if (ev->type < EV_NTYPE)
		b->posted[ev->type]++;
	if (ev->type == EV_REQUEST_REFUSED)
		ev_count_refusal(b, ev);
	if (b->n < b->cap)
		slot = &b->ring[(b->head + b->n++) % b->cap];
	else {
		slot = &b->ring[b->head];	/* the oldest goes */
		b->head = (b->head + 1) % b->cap;
	}
	*slot = *ev;
	b->delivering++;
	for (s = b->subs; s != NULL; s = s->next)
		if (s->cb != NULL && ev->seq >= s->from)
			s->cb(s->arg, ev);	/* ev, not slot: a nested post may reuse the slot */
	if (--b->delivering == 0 && b->dead)
		ev_sweep(b);
}

struct ev_sub *
evbus_subscribe(struct evbus *b, ev_cb *cb, void *arg)
{
	struct ev_sub *s, **pp;

	if (b == NULL || cb == NULL || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cb = cb;
	s->arg = arg;
	s->from = b->next_seq;
	for (pp = &b->subs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = s;
	b->nsubs++;
	return s;
}

void
evbus_unsubscribe(struct evbus *b, struct ev_sub *sub)
{
	struct ev_sub **pp;

	if (b == NULL || sub == NULL || sub->cb == NULL)
		return;
	b->nsubs--;
	if (b->delivering > 0) {
		sub->cb = NULL;
		b->dead = 1;
		return;
	}
	for (pp = &b->subs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == sub) {
			*pp = sub->next;
			free(sub);
			return;
		}
}

uint64_t
evbus_first_seq(const struct evbus *b)
{
	if (b == NULL || b->n == 0)
		return 0;
	return b->ring[b->head].seq;
}

uint64_t
evbus_last_seq(const struct evbus *b)
{
	return b != NULL ? b->next_seq - 1 : 0;
}

size_t
evbus_subscribers(const struct evbus *b)
{
	return b != NULL ? b->nsubs : 0;
}

size_t
evbus_replay(struct evbus *b, uint64_t after, ev_cb *cb, void *arg)
{
	struct pg_event ev;
	uint64_t seq, first, end;
	size_t n = 0;

	if (b == NULL)
		return 0;
	end = b->next_seq;	/* what a callback posts meanwhile is not replayed */
	for (seq = after + 1; seq < end; seq++) {
		if ((first = evbus_first_seq(b)) == 0)
			break;
		if (seq < first)
			seq = first;	/* gone from the ring (or pushed out meanwhile) */
		if (seq >= end)
			break;
		ev = b->ring[(b->head + (size_t)(seq - first)) % b->cap];
		cb(arg, &ev);
		n++;
	}
	return n;
}

void
evbus_metrics(const struct evbus *b, pg_metric_emit *emit, void *arg)
{
	const char *labels[5] = { NULL };
	size_t i;
	int t;

	if (b == NULL)
		return;
	labels[0] = "type";
	for (t = 0; t < EV_NTYPE; t++) {
		labels[1] = ev_type_names[t];
		emit(arg, "events_total", labels, (double)b->posted[t], NULL);
	}
	emit(arg, "event_subscribers", NULL, (double)b->nsubs, NULL);
	labels[0] = "protocol";
	labels[2] = "reason";
	for (i = 0; i < b->nrefusals; i++) {
		labels[1] = b->refusals[i].protocol;
		labels[3] = b->refusals[i].reason;
		emit(arg, "refusals_total", labels, (double)b->refusals[i].n, NULL);
	}
}

/* ---- building events ---- */

void
ev_init(struct pg_event *ev, enum ev_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = (uint8_t)type;
}

void
ev_set_text(char *field, size_t size, const char *text)
{
	util_utf8_copy(field, size, text != NULL ? text : "");
}

void
ev_set_entry(struct pg_event *ev, const struct mt_entry *e, long expires_in)
{
	ev->has |= EVF_ENTRY;
	ev->kind = e->kind;
	ev->proto = e->proto;
	ev->source = e->source;
	ev->ext_port = e->ext_port;
	ev->ext_port_end = e->ext_port_end;
	ev->int_port = e->int_port;
	ev->int_port_end = e->int_port_end;
	ev->int_addr = e->int_addr;
	ev->pin_id = e->kind == MT_KIND_PINHOLE ? e->pin_id : 0;
	ev->expires_in = expires_in;
	ev_set_text(ev->desc, sizeof(ev->desc), e->desc);
}

void
evbus_refused(struct evbus *b, const char *protocol, const struct in6_addr *client,
    const char *action, const char *reason, const char *detail)
{
	struct pg_event ev;

	if (b == NULL)
		return;
	ev_init(&ev, EV_REQUEST_REFUSED);
	ev.has = EVF_REFUSAL | (client != NULL ? EVF_CLIENT : 0);
	if (client != NULL)
		ev.client = *client;
	ev_set_text(ev.protocol, sizeof(ev.protocol), protocol);
	ev_set_text(ev.action, sizeof(ev.action), action);
	ev_set_text(ev.reason, sizeof(ev.reason), reason);
	ev_set_text(ev.detail, sizeof(ev.detail), detail);
	evbus_post(b, &ev);
}

/* ---- writing them: a bounded buffer that knows the length it would need ---- */

struct ev_out {
	char	*buf;
	size_t	 len;
	size_t	 off;		/* what was asked for, written or not */
	int	 over;		/* something did not fit: nothing more is written */
};

static void
ev_put(struct ev_out *o, const char *s, size_t n)
{
	if (!o->over && o->off + n < o->len)
		memcpy(o->buf + o->off, s, n);
	else
		o->over = 1;
	o->off += n;
}

static void ev_printf(struct ev_out *, const char *, ...) __attribute__((format(printf, 2, 3)));

static void
ev_printf(struct ev_out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		ev_put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* NUL-terminate; the length asked for (>= len: it did not fit, and buf is ""). */
static size_t
ev_finish(struct ev_out *o)
{
	if (o->len > 0)
		o->buf[o->over ? 0 : o->off] = '\0';
	return o->off;
}

/*
 * A JSON string of text from outside: always valid JSON, and safe inside a
 * web page. Invalid UTF-8 is U+FFFD; quotes and backslashes are escaped;
 * C0 and C1 controls, DEL, < > & and U+2028/2029 (line ends to JavaScript)
 * are \u escapes.
 */
static void
ev_json_str(struct ev_out *o, const char *s)
{
	size_t len = strlen(s), i, n;
	uint32_t cp;

	ev_put(o, "\"", 1);
	for (i = 0; i < len; i += n ? n : 1) {
		if ((n = util_utf8_next(s + i, len - i, &cp)) == 0)
			ev_put(o, "\\ufffd", 6);
		else if (cp == '"' || cp == '\\')
			ev_printf(o, "\\%c", (char)cp);
		else if (cp == '\n')
			ev_put(o, "\\n", 2);
		else if (cp == '\t')
			ev_put(o, "\\t", 2);
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == '<' || cp == '>' ||
		    cp == '&' || cp == 0x2028 || cp == 0x2029)
			ev_printf(o, "\\u%04x", (unsigned)cp);
		else
			ev_put(o, s + i, n);
	}
	ev_put(o, "\"", 1);
}

static void
ev_json_addr(struct ev_out *o, const char *key, const struct in6_addr *a)
{
	char s[INET6_ADDRSTRLEN];

	ev_printf(o, ",\"%s\":\"%s\"", key, util_addr_str(a, s, sizeof(s)));
}

static void
ev_json_text(struct ev_out *o, const char *key, const char *text)
{
	ev_printf(o, ",\"%s\":", key);
	ev_json_str(o, text);
}

/* "2024-05-01T12:00:00.123Z" */
static void
ev_time_str(int64_t ms, char *buf, size_t len)
{
	time_t t;
	struct tm tm;
	char day[24];

	if (ms < 0)
		ms = 0;
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S",
	    &tm) == 0)
		snprintf(day, sizeof(day), "1970-01-01T00:00:00");
	snprintf(buf, len, "%s.%03dZ", day, (int)(ms % 1000));
}

/* The names `portgatectl list --json` uses for an entry's fields. */
static void
ev_json_entry(struct ev_out *o, const struct pg_event *ev)
{
	ev_printf(o, ",\"kind\":\"%s\",\"proto\":\"%s\"",
	    ev->kind == MT_KIND_PINHOLE ? "pinhole" : "mapping", mt_proto_name(ev->proto));
	if (ev->kind == MT_KIND_PINHOLE)
		ev_printf(o, ",\"id\":%u", ev->pin_id);
	else
		ev_printf(o, ",\"external_port\":%u,\"external_port_end\":%u", ev->ext_port,
		    ev->ext_port_end);
	ev_json_addr(o, "internal_ip", &ev->int_addr);
	ev_printf(o, ",\"internal_port\":%u", ev->int_port);
	if (ev->kind != MT_KIND_PINHOLE)
		ev_printf(o, ",\"internal_port_end\":%u", ev->int_port_end);
	ev_printf(o, ",\"source\":\"%s\"", mt_source_name(ev->source));
	ev_json_text(o, "description", ev->desc);
	if (ev->expires_in < 0)
		ev_printf(o, ",\"expires_in\":null");
	else
		ev_printf(o, ",\"expires_in\":%ld", ev->expires_in);
}

size_t
event_json(const struct pg_event *ev, char *buf, size_t len)
{
	struct ev_out o = { buf, len, 0, 0 };
	char t[32];

	ev_time_str(ev->time_ms, t, sizeof(t));
	ev_printf(&o, "{\"seq\":%llu,\"time\":\"%s\",\"type\":\"%s\"",
	    (unsigned long long)ev->seq, t, event_type(ev));
	if (ev->has & EVF_ENTRY)
		ev_json_entry(&o, ev);
	if (ev->has & EVF_RULE)
		ev_json_text(&o, "rule", ev->rule);
	if (ev->has & EVF_HOST)
		ev_json_addr(&o, "host", &ev->host);
	if (ev->has & EVF_HOLDER)
		ev_json_addr(&o, "holder", &ev->holder);
	if (ev->has & EVF_REFUSAL) {
		ev_json_text(&o, "protocol", ev->protocol);
		ev_json_text(&o, "action", ev->action);
	}
	if (ev->has & EVF_CLIENT)
		ev_json_addr(&o, "client", &ev->client);
	if (ev->has & EVF_REFUSAL) {
		ev_json_text(&o, "reason", ev->reason);
		ev_json_text(&o, "detail", ev->detail);
	}
	if (ev->has & EVF_COUNTS)
		ev_printf(&o, ",\"mappings\":%u,\"pinholes\":%u", ev->mappings, ev->pinholes);
	if (ev->type == EV_WAN_CHANGED) {
		if (ev->has & EVF_OLD)
			ev_json_addr(&o, "old", &ev->old_addr);
		else
			ev_printf(&o, ",\"old\":null");
		if (ev->has & EVF_NEW)
			ev_json_addr(&o, "new", &ev->new_addr);
		else
			ev_printf(&o, ",\"new\":null");
	}
	ev_put(&o, "}", 1);
	return ev_finish(&o);
}

/* ---- the text line ---- */

/* Text from outside for a terminal: controls (C0, DEL, C1) as \xNN, invalid UTF-8 as \xNN. */
static void
ev_text_str(struct ev_out *o, const char *s)
{
	size_t len = strlen(s), i, n;
	uint32_t cp;

	for (i = 0; i < len; i += n ? n : 1) {
		if ((n = util_utf8_next(s + i, len - i, &cp)) == 0)
			ev_printf(o, "\\x%02x", (unsigned char)s[i]);
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == '\\')
			ev_printf(o, "\\x%02x", (unsigned)cp);
		else
			ev_put(o, s + i, n);
	}
}

static void
ev_text_entry(struct ev_out *o, const struct pg_event *ev)
{
	char a[INET6_ADDRSTRLEN];

	util_addr_str(&ev->int_addr, a, sizeof(a));
	if (ev->kind == MT_KIND_PINHOLE)
		ev_printf(o, " %s pinhole#%u [%s]:%u", mt_proto_name(ev->proto), ev->pin_id, a,
		    ev->int_port);
	else if (ev->ext_port_end != ev->ext_port)
		ev_printf(o, " %s %u-%u -> %s:%u-%u", mt_proto_name(ev->proto), ev->ext_port,
		    ev->ext_port_end, a, ev->int_port, ev->int_port_end);
	else
		ev_printf(o, " %s %u -> %s:%u", mt_proto_name(ev->proto), ev->ext_port, a,
		    ev->int_port);
	ev_printf(o, " %s", mt_source_name(ev->source));
	if (ev->type == EV_MAPPING_ADDED || ev->type == EV_MAPPING_RENEWED) {
		if (ev->expires_in < 0)
			ev_printf(o, " permanent");
		else
			ev_printf(o, " expires-in %lds", ev->expires_in);
	}
	if (ev->desc[0] != '\0') {
		ev_put(o, " \"", 2);
		ev_text_str(o, ev->desc);
		ev_put(o, "\"", 1);
	}
}

static void
ev_text_addr(struct ev_out *o, const char *word, const struct in6_addr *a)
{
	char s[INET6_ADDRSTRLEN];

	ev_printf(o, " %s %s", word, util_addr_str(a, s, sizeof(s)));
}

static void
ev_text_addr_only(struct ev_out *o, const struct in6_addr *a)
{
	char s[INET6_ADDRSTRLEN];

	ev_printf(o, "%s", a != NULL ? util_addr_str(a, s, sizeof(s)) : "none");
}

size_t
event_text(const struct pg_event *ev, char *buf, size_t len)
{
	struct ev_out o = { buf, len, 0, 0 };
	char t[32];

	ev_time_str(ev->time_ms, t, sizeof(t));
	ev_printf(&o, "%s #%llu %s", t, (unsigned long long)ev->seq, event_type(ev));
	if (ev->has & EVF_RULE) {
		ev_put(&o, " ", 1);
		ev_text_str(&o, ev->rule);
	}
	if (ev->has & EVF_REFUSAL) {
		ev_put(&o, " ", 1);
		ev_text_str(&o, ev->protocol);
		ev_put(&o, " ", 1);
		ev_text_str(&o, ev->action);
	}
	if (ev->has & EVF_CLIENT)
		ev_text_addr(&o, "from", &ev->client);
	if (ev->has & EVF_HOST)
		ev_text_addr(&o, "host", &ev->host);
	if (ev->has & EVF_HOLDER)
		ev_text_addr(&o, "held-by", &ev->holder);
	if (ev->has & EVF_ENTRY)
		ev_text_entry(&o, ev);
	if (ev->has & EVF_REFUSAL) {
		ev_put(&o, ": ", 2);
		ev_text_str(&o, ev->reason);
		if (ev->detail[0] != '\0') {
			ev_put(&o, " (", 2);
			ev_text_str(&o, ev->detail);
			ev_put(&o, ")", 1);
		}
	}
	if (ev->has & EVF_COUNTS)
		ev_printf(&o, " restored %u mappings, %u pinholes", ev->mappings, ev->pinholes);
	if (ev->type == EV_WAN_CHANGED) {
		ev_put(&o, " ", 1);
		ev_text_addr_only(&o, ev->has & EVF_OLD ? &ev->old_addr : NULL);
		ev_put(&o, " -> ", 4);
		ev_text_addr_only(&o, ev->has & EVF_NEW ? &ev->new_addr : NULL);
	}
	return ev_finish(&o);
}
