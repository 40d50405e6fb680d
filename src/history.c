/* history.c - the last hour in samples, for the panel's charts (history.h). */
#include "config.h"

#include <event2/buffer.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "mt_vocab.h"

void
history_init(struct history *h, unsigned interval_s)
{
	memset(h, 0, sizeof(*h));
	h->interval_s = interval_s ? interval_s : HISTORY_INTERVAL_S;
}

void
history_add(struct history *h, const struct history_sample *s)
{
	const struct history_sample *prev = h->n ? history_at(h, h->n - 1) : NULL;
	struct history_sample t = *s;

	t.has_packets = t.has_total && prev != NULL && prev->has_total &&
	    t.inbound_total >= prev->inbound_total;
	t.inbound_packets = t.has_packets ? t.inbound_total - prev->inbound_total : 0;
	if (h->n < HISTORY_SAMPLES)
		h->s[(h->head + h->n++) % HISTORY_SAMPLES] = t;
	else {
		h->s[h->head] = t;
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

const char *
history_time_str(const struct history_sample *s, char *buf, size_t len)
{
	time_t t = (time_t)s->time;
	struct tm tm;

	if (len == 0)
		return buf;
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
	return buf;
}

static void
history_sample_json(const struct history_sample *s, struct evbuffer *out)
{
	char when[32];
	int src;

	evbuffer_add_printf(out, "{\"time\":\"%s\",\"mappings\":{",
	    history_time_str(s, when, sizeof(when)));
	for (src = 0; src < MT_NSOURCE; src++)
		evbuffer_add_printf(out, "%s\"%s\":%u", src ? "," : "", mt_source_name(src),
		    s->mappings[src]);
	evbuffer_add_printf(out, "},\"pinholes\":%u,\"inbound_packets\":", s->pinholes);
	if (s->has_packets)
		evbuffer_add_printf(out, "%llu", (unsigned long long)s->inbound_packets);
	else
		evbuffer_add_printf(out, "null");
	if (s->has_total)
		evbuffer_add_printf(out, ",\"inbound_packets_total\":%llu}",
		    (unsigned long long)s->inbound_total);
	else
		evbuffer_add_printf(out, ",\"inbound_packets_total\":null}");
}

void
history_json(const struct history *h, struct evbuffer *out)
{
	size_t i;

	evbuffer_add_printf(out, "{\"interval_seconds\":%u,\"samples\":[", h->interval_s);
	for (i = 0; i < h->n; i++) {
		if (i > 0)
			evbuffer_add(out, ",", 1);
		history_sample_json(history_at(h, i), out);
	}
	evbuffer_add_printf(out, "]}");
}
