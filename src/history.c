/* history.c - the last hour in samples, for the panel's charts (history.h). */
#include "config.h"

#include <event2/buffer.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "mt_vocab.h"

void
history_init(struct history *h)
{
	memset(h, 0, sizeof(*h));
}

void
history_add(struct history *h, const struct history_sample *s)
{
	if (h->n < HISTORY_SAMPLES)
		h->s[(h->head + h->n++) % HISTORY_SAMPLES] = *s;
	else {
		h->s[h->head] = *s;
		h->head = (h->head + 1) % HISTORY_SAMPLES;
	}
}

size_t
history_count(const struct history *h)
{
	return h->n;
}

const struct history_sample *
history_at(const struct history *h, size_t i)
{
	if (i >= h->n)
		return NULL;
	return &h->s[(h->head + i) % HISTORY_SAMPLES];
}

static void
history_sample_json(const struct history_sample *s, struct evbuffer *out)
{
	time_t t = (time_t)s->time;
	struct tm tm;
	char when[32];
	int src;

	if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
	    &tm) == 0)
		when[0] = '\0';
	evbuffer_add_printf(out, "{\"time\":\"%s\",\"mappings\":{", when);
	for (src = 0; src < MT_NSOURCE; src++)
		evbuffer_add_printf(out, "%s\"%s\":%u", src ? "," : "", mt_source_name(src),
		    s->mappings[src]);
	evbuffer_add_printf(out, "},\"pinholes\":%u,\"inbound_packets\":", s->pinholes);
	if (s->has_packets)
		evbuffer_add_printf(out, "%llu}", (unsigned long long)s->inbound_packets);
	else
		evbuffer_add_printf(out, "null}");
}

void
history_json(const struct history *h, struct evbuffer *out)
{
	size_t i;

	evbuffer_add_printf(out, "{\"interval_seconds\":%d,\"samples\":[", HISTORY_INTERVAL_S);
	for (i = 0; i < h->n; i++) {
		if (i > 0)
			evbuffer_add(out, ",", 1);
		history_sample_json(history_at(h, i), out);
	}
	evbuffer_add_printf(out, "]}");
}
