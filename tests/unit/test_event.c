/* test_event.c - the event bus: its ring, resuming, subscribers, and what it writes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "mtable.h"
#include "testutil.h"
#include "util.h"

static struct fake_clock wall = { 1234 };	/* 1970-01-01T00:00:01.234Z */

/* What a subscriber heard: the sequence numbers, as "1 2 3". */
struct heard {
	char		 log[512];
	size_t		 n;
	struct evbus	*bus;
	struct ev_sub	*self;		/* unsubscribed at its stop'th event */
	size_t		 stop;
	struct ev_sub	*other;		/* unsubscribed at its first event */
	struct heard	*late;		/* subscribed at its first event */
	ev_cb		*late_cb;
	int		 post_inside;	/* posts an event from its first callback */
};

static void
heard_cb(void *arg, const struct pg_event *ev)
{
	struct heard *h = arg;
	size_t len = strlen(h->log);
	struct pg_event inner;

	snprintf(h->log + len, sizeof(h->log) - len, "%s%llu", len ? " " : "",
	    (unsigned long long)event_seq(ev));
	h->n++;
	if (h->other != NULL) {
		evbus_unsubscribe(h->bus, h->other);
		h->other = NULL;
	}
	if (h->late != NULL) {
		h->late->self = evbus_subscribe(h->bus, h->late_cb, h->late);
		h->late = NULL;
	}
	if (h->post_inside) {
		h->post_inside = 0;
		ev_init(&inner, EV_WAN_CHANGED);
		evbus_post(h->bus, &inner);
	}
	if (h->self != NULL && h->n == h->stop) {
		evbus_unsubscribe(h->bus, h->self);
		h->self = NULL;
	}
}

static void
post(struct evbus *b, enum ev_type t)
{
	struct pg_event ev;

	ev_init(&ev, t);
	evbus_post(b, &ev);
}

static void
test_ring(void)
{
	struct pg_clock clk = tu_fake_clock(&wall);
	struct evbus *b = evbus_new(4, &clk);
	struct heard h;
	int i;

	CHECK(b != NULL);
	CHECK_EQ(evbus_first_seq(b), 0);
	CHECK_EQ(evbus_last_seq(b), 0);
	memset(&h, 0, sizeof(h));
	CHECK_EQ(evbus_replay(b, 0, heard_cb, &h), 0);
	for (i = 0; i < 3; i++)
		post(b, EV_MAPPING_ADDED);
	CHECK_EQ(evbus_first_seq(b), 1);
	CHECK_EQ(evbus_replay(b, 0, heard_cb, &h), 3);
	CHECK_STR(h.log, "1 2 3");
	/* past its size the ring keeps the newest: 7..10 of 10 */
	for (i = 0; i < 7; i++)
		post(b, EV_MAPPING_DELETED);
	CHECK_EQ(evbus_first_seq(b), 7);
	CHECK_EQ(evbus_last_seq(b), 10);
	memset(&h, 0, sizeof(h));
	CHECK_EQ(evbus_replay(b, 0, heard_cb, &h), 4);
	CHECK_STR(h.log, "7 8 9 10");
	/* resume after the last seen (SSE's Last-Event-ID) */
	memset(&h, 0, sizeof(h));
	CHECK_EQ(evbus_replay(b, 8, heard_cb, &h), 2);
	CHECK_STR(h.log, "9 10");
	memset(&h, 0, sizeof(h));
	CHECK_EQ(evbus_replay(b, 10, heard_cb, &h), 0);
	CHECK_EQ(evbus_replay(b, 99, heard_cb, &h), 0);	/* a number from a past run */
	/* one that fell behind the ring hears what is kept, and can tell it lost some */
	memset(&h, 0, sizeof(h));
	CHECK_EQ(evbus_replay(b, 2, heard_cb, &h), 4);
	CHECK_STR(h.log, "7 8 9 10");
	CHECK(evbus_first_seq(b) > 2 + 1);
	/* replay, then subscribe: nothing missed, nothing twice */
	memset(&h, 0, sizeof(h));
	evbus_replay(b, 9, heard_cb, &h);
	CHECK(evbus_subscribe(b, heard_cb, &h) != NULL);
	post(b, EV_MAPPING_RENEWED);
	CHECK_STR(h.log, "10 11");
	CHECK_EQ(evbus_subscribers(b), 1);
	evbus_free(b);
	evbus_free(NULL);
	evbus_post(NULL, NULL);		/* no bus: nothing, and no crash */
}

static void
test_subscribers(void)
{
	struct evbus *b = evbus_new(8, NULL);
	struct heard a, c, d, late;

	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	memset(&late, 0, sizeof(late));
	a.bus = c.bus = d.bus = late.bus = b;
	/* a ends its own subscription at its second event */
	a.self = evbus_subscribe(b, heard_cb, &a);
	a.stop = 2;
	/* c ends d's at its first; d comes after c, so it hears nothing of that event on */
	c.self = evbus_subscribe(b, heard_cb, &c);
	d.self = evbus_subscribe(b, heard_cb, &d);
	c.other = d.self;
	d.self = NULL;
	/* a subscription made inside a callback starts with the next event */
	c.late = &late;
	c.late_cb = heard_cb;
	CHECK_EQ(evbus_subscribers(b), 3);
	post(b, EV_MAPPING_ADDED);
	post(b, EV_MAPPING_ADDED);
	post(b, EV_MAPPING_ADDED);
	CHECK_STR(a.log, "1 2");
	CHECK_STR(c.log, "1 2 3");
	CHECK_STR(d.log, "");
	CHECK_STR(late.log, "2 3");
	CHECK_EQ(evbus_subscribers(b), 2);
	/* a callback that posts: the inner event reaches everyone, in order, after */
	c.post_inside = 1;
	post(b, EV_MAPPING_DELETED);
	CHECK_STR(c.log, "1 2 3 4 5");
	CHECK_STR(late.log, "2 3 5 4");	/* the inner one came while c's callback ran */
	evbus_unsubscribe(b, late.self);
	evbus_unsubscribe(b, c.self);
	evbus_unsubscribe(b, NULL);
	CHECK_EQ(evbus_subscribers(b), 0);
	post(b, EV_MAPPING_ADDED);
	CHECK_STR(c.log, "1 2 3 4 5");
	evbus_free(b);
}

/* An event of a mapping with this description. */
static void
entry_event(struct pg_event *ev, enum ev_type t, const char *desc)
{
	struct mt_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = MT_KIND_MAP;
	e.proto = MT_TCP;
	e.source = MT_SRC_UPNP;
	e.ext_port = e.ext_port_end = 9000;
	e.int_port = e.int_port_end = 8000;
	util_parse_addr("192.0.2.10", &e.int_addr);
	e.desc = desc;
	e.owner = "";
	ev_init(ev, t);
	ev_set_entry(ev, &e, 3600);
}

/* 1 if s has no byte a JSON string may not hold raw, nor one a page could take for markup. */
static int
json_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == '<' || *s == '>' || *s == '&' ||
		    *s == 0x7f)
			return 0;
	return 1;
}

static void
test_json(void)
{
	struct pg_clock clk = tu_fake_clock(&wall);
	struct evbus *b = evbus_new(8, &clk);
	struct pg_event ev;
	char buf[EV_JSON_MAX], small[40];
	size_t n;

	entry_event(&ev, EV_MAPPING_ADDED, "<img src=x onerror=alert(1)>");
	evbus_post(b, &ev);
	n = event_json(&ev, buf, sizeof(buf));
	CHECK_EQ(n, strlen(buf));
	CHECK_STR(buf, "{\"seq\":1,\"time\":\"1970-01-01T00:00:01.234Z\","
	    "\"type\":\"mapping.added\",\"kind\":\"mapping\",\"proto\":\"tcp\","
	    "\"external_port\":9000,\"external_port_end\":9000,"
	    "\"internal_ip\":\"192.0.2.10\",\"internal_port\":8000,\"internal_port_end\":8000,"
	    "\"source\":\"upnp\",\"description\":\"\\u003cimg src=x onerror=alert(1)\\u003e\","
	    "\"expires_in\":3600}");
	CHECK_STR(event_type(&ev), "mapping.added");
	CHECK_EQ(event_seq(&ev), 1);
	/* quotes, backslashes, controls, DEL, a C1 control, invalid UTF-8, U+2028, & */
	entry_event(&ev, EV_MAPPING_DELETED, "");
	snprintf(ev.desc, sizeof(ev.desc), "%s", "a\"b\\c\n\t\x01\x7f\xc2\x85\xff&\xe2\x80\xa8z");
	evbus_post(b, &ev);
	event_json(&ev, buf, sizeof(buf));
	CHECK(strstr(buf, "\"description\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\\u0085\\ufffd"
	    "\\u0026\\u2028z\"") != NULL);
	CHECK(json_safe(buf));
	/* what a description from outside keeps: valid UTF-8, cut where it stops being so */
	ev_set_text(ev.desc, sizeof(ev.desc), "ok\xc3\xa9\xff<");
	CHECK_STR(ev.desc, "ok\xc3\xa9");
	/* a refusal's free text too */
	ev_init(&ev, EV_REQUEST_REFUSED);
	ev.has = EVF_REFUSAL | EVF_CLIENT;
	util_parse_addr("192.0.2.11", &ev.client);
	ev_set_text(ev.protocol, sizeof(ev.protocol), "upnp");
	ev_set_text(ev.action, sizeof(ev.action), "AddPortMapping");
	ev_set_text(ev.reason, sizeof(ev.reason), "not_authorized");
	ev_set_text(ev.detail, sizeof(ev.detail), "</script><script>x()</script>");
	evbus_post(b, &ev);
	event_json(&ev, buf, sizeof(buf));
	CHECK(strstr(buf, "\"type\":\"request.refused\",\"protocol\":\"upnp\",\"action\":"
	    "\"AddPortMapping\",\"client\":\"192.0.2.11\",\"reason\":\"not_authorized\","
	    "\"detail\":\"\\u003c/script\\u003e\\u003cscript\\u003ex()\\u003c/script\\u003e\"}")
	    != NULL);
	CHECK(json_safe(buf));
	/* the longest event fits EV_JSON_MAX; a buffer too small gets nothing half-written */
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_REQUEST_REFUSED;
	ev.has = 0xffff;
	memset(ev.desc, '<', sizeof(ev.desc) - 1);
	memset(ev.rule, '<', sizeof(ev.rule) - 1);
	memset(ev.protocol, '<', sizeof(ev.protocol) - 1);
	memset(ev.action, '<', sizeof(ev.action) - 1);
	memset(ev.reason, '<', sizeof(ev.reason) - 1);
	memset(ev.detail, '<', sizeof(ev.detail) - 1);
	ev.seq = UINT64_MAX;
	CHECK(event_json(&ev, buf, sizeof(buf)) < sizeof(buf));
	CHECK(event_text(&ev, buf, sizeof(buf)) < EV_TEXT_MAX);
	CHECK(event_json(&ev, small, sizeof(small)) >= sizeof(small));
	CHECK_STR(small, "");
	/* wan.changed names what is missing */
	ev_init(&ev, EV_WAN_CHANGED);
	ev.has = EVF_NEW;
	util_parse_addr("198.51.100.2", &ev.new_addr);
	evbus_post(b, &ev);
	event_json(&ev, buf, sizeof(buf));
	CHECK(strstr(buf, "\"old\":null,\"new\":\"198.51.100.2\"}") != NULL);
	evbus_free(b);
}

static void
test_text(void)
{
	struct pg_clock clk = tu_fake_clock(&wall);
	struct evbus *b = evbus_new(8, &clk);
	struct pg_event ev;
	char buf[EV_TEXT_MAX];

	entry_event(&ev, EV_MAPPING_ADDED, "my game\x1b[2J");
	evbus_post(b, &ev);
	event_text(&ev, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:01.234Z #1 mapping.added tcp 9000 -> 192.0.2.10:8000 "
	    "upnp expires-in 3600s \"my game\\x1b[2J\"");
	evbus_refused(b, "pcp", NULL, "map", "not_authorized", "NOT_AUTHORIZED");
	ev_init(&ev, EV_TRIGGER_REFUSED);
	ev.has = EVF_RULE | EVF_HOST | EVF_HOLDER;
	ev_set_text(ev.rule, sizeof(ev.rule), "game");
	util_parse_addr("192.0.2.11", &ev.host);
	util_parse_addr("192.0.2.10", &ev.holder);
	evbus_post(b, &ev);
	event_text(&ev, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:01.234Z #3 trigger.refused game host 192.0.2.11 "
	    "held-by 192.0.2.10");
	evbus_free(b);
}

/* What evbus_metrics emitted, one "name{l=v,...} value" per line. */
static void
metric_cb(void *arg, const char *name, const char *const *labels, double v,
    const struct pg_hist *h)
{
	char *log = arg;
	size_t len = strlen(log), i;

	(void)h;
	len += (size_t)snprintf(log + len, 8192 - len, "%s{", name);
	for (i = 0; labels != NULL && labels[i] != NULL; i += 2)
		len += (size_t)snprintf(log + len, 8192 - len, "%s%s=%s", i ? "," : "", labels[i],
		    labels[i + 1]);
	snprintf(log + len, 8192 - len, "} %.0f\n", v);
}

static void
test_counts(void)
{
	struct evbus *b = evbus_new(2, NULL);
	char log[8192] = "", reason[8];
	struct in6_addr a;
	int i;

	util_parse_addr("192.0.2.10", &a);
	evbus_refused(b, "upnp", &a, "AddPortMapping", "conflict", NULL);
	evbus_refused(b, "upnp", &a, "AddPortMapping", "conflict", "again");
	evbus_refused(b, "pcp", &a, "map", "not_authorized", NULL);
	post(b, EV_MAPPING_ADDED);
	evbus_metrics(b, metric_cb, log);
	CHECK(strstr(log, "events_total{type=request.refused} 3\n") != NULL);
	CHECK(strstr(log, "events_total{type=mapping.added} 1\n") != NULL);
	CHECK(strstr(log, "events_total{type=wan.changed} 0\n") != NULL);
	CHECK(strstr(log, "refusals_total{protocol=upnp,reason=conflict} 2\n") != NULL);
	CHECK(strstr(log, "refusals_total{protocol=pcp,reason=not_authorized} 1\n") != NULL);
	CHECK(strstr(log, "event_subscribers{} 0\n") != NULL);
	evbus_free(b);
	/* past 63 kinds of refusal, the rest are counted together as other */
	b = evbus_new(2, NULL);
	for (i = 0; i < 70; i++) {
		snprintf(reason, sizeof(reason), "r%d", i);
		evbus_refused(b, "upnp", &a, "x", reason, NULL);
	}
	evbus_refused(b, "upnp", &a, "x", "r5", NULL);
	log[0] = '\0';
	evbus_metrics(b, metric_cb, log);
	CHECK(strstr(log, "refusals_total{protocol=upnp,reason=r62} 1\n") != NULL);
	CHECK(strstr(log, "refusals_total{protocol=upnp,reason=r5} 2\n") != NULL);
	CHECK(strstr(log, "reason=r63}") == NULL);
	CHECK(strstr(log, "refusals_total{protocol=other,reason=other} 7\n") != NULL);
	evbus_free(b);
}

int
main(void)
{
	test_ring();
	test_subscribers();
	test_json();
	test_text();
	test_counts();
	return tu_done("test_event");
}
