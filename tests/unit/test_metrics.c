/*
 * test_metrics.c - the Prometheus page: the modules' samples as the text
 * format wants them (one HELP and TYPE per family, escaped labels, counters'
 * _total, cumulative histogram buckets), and the history the panel charts.
 */
#include "config.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "event.h"
#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "history.h"
#include "metrics.h"
#include "mtable.h"
#include "pcp/pcp_server.h"
#include "state_health.h"
#include "testutil.h"
#include "trigger/trigger.h"
#include "util.h"

static struct fake_clock fc = { 5000000 };

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

/* The page as a string (static buffer). */
static const char *
page(struct pg_ctx *ctx)
{
	static char buf[65536];
	struct evbuffer *b = evbuffer_new();
	size_t len;

	metrics_format(ctx, b);
	len = evbuffer_get_length(b);
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	evbuffer_remove(b, buf, len);
	buf[len] = '\0';
	evbuffer_free(b);
	return buf;
}

#define CHECK_HAS(hay, needle) do { tu_checks++; if (strstr((hay), (needle)) == NULL) { \
	tu_failures++; fprintf(stderr, "%s:%d: \"%s\" not in:\n%s\n", __FILE__, __LINE__, \
	needle, hay); } } while (0)

/*
 * What promtool checks of the format, for every line: a sample's family had
 * its HELP and TYPE just before its first sample, no family comes twice,
 * counters end in _total, names are portgate_'s. 0 problems, or how many.
 */
static int
lint(const char *text)
{
	char seen[64][96], fam[96], name[96], type[16];
	const char *l, *nl;
	size_t nseen = 0, i, len;
	int bad = 0, help = 0;

	fam[0] = '\0';
	for (l = text; *l != '\0'; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL)
			return bad + 1;		/* the page ends with a newline */
		len = (size_t)(nl - l);
		if (strncmp(l, "# HELP ", 7) == 0) {
			help = sscanf(l + 7, "%95s", fam) == 1;
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			if (!help || sscanf(l + 7, "%95s %15s", name, type) != 2 ||
			    strcmp(name, fam) != 0)
				bad++;
			for (i = 0; i < nseen; i++)
				if (strcmp(seen[i], fam) == 0)
					bad++;
			if (nseen < 64)
				snprintf(seen[nseen++], sizeof(seen[0]), "%s", fam);
			if (strcmp(type, "counter") == 0 && (strlen(fam) < 6 ||
			    strcmp(fam + strlen(fam) - 6, "_total") != 0))
				bad++;
			help = 0;
			continue;
		}
		if (len == 0 || strncmp(l, "portgate_", 9) != 0 ||
		    strncmp(l, fam, strlen(fam)) != 0)
			bad++;		/* a sample outside its family */
	}
	if (bad)
		fprintf(stderr, "lint: %d problems in:\n%s", bad, text);
	return bad;
}

static struct mt_request
req(int proto, int source, uint16_t ext, const char *addr)
{
	struct mt_request q;

	memset(&q, 0, sizeof(q));
	q.proto = (uint8_t)proto;
	q.source = (uint8_t)source;
	q.ext_port = ext;
	q.int_port = ext;
	util_parse_addr(addr, &q.int_addr);
	q.lease_s = 600;
	q.desc = "t";
	return q;
}

static void
test_page(void)
{
	struct pg_ctx *ctx = xcalloc(1, sizeof(*ctx));
	struct mt_request q;
	struct mt_pin_req p;
	struct pcp_srv *s;
	struct pcp_srv_pkt pkt;
	uint8_t natpmp[12] = { 0, 2 }, out[64];
	const char *text;

	CHECK(tu_lab_ctx(ctx, "firewall = none\nnatpmp = no\n", tu_fake_clock(&fc), conf_err) !=
	    NULL);
	ctx->events = evbus_new(16, NULL);
	ctx->trig = trigger_new(ctx->mt);
	ctx->started = 1700000000;
	state_health_init(&ctx->state_health, "/nonexistent/state");
	s = ctx->pcp = pcp_srv_new(ctx);
	/* two UPnP TCP mappings, a static UDP one, a PCP pinhole */
	q = req(MT_TCP, MT_SRC_UPNP, 9000, "192.0.2.10");
	CHECK_EQ(mtable_add(ctx->mt, &q, NULL, NULL), MT_OK);
	q = req(MT_TCP, MT_SRC_UPNP, 9001, "192.0.2.11");
	CHECK_EQ(mtable_add(ctx->mt, &q, NULL, NULL), MT_OK);
	q = req(MT_UDP, MT_SRC_STATIC, 9002, "192.0.2.11");
	CHECK_EQ(mtable_add(ctx->mt, &q, NULL, NULL), MT_OK);
	memset(&p, 0, sizeof(p));
	p.proto = MT_UDP;
	p.source = MT_SRC_PCP;
	util_parse_addr("2001:db8:1::10", &p.int_addr);
	p.int_port = 8000;
	p.lease_s = 600;
	CHECK_EQ(mtable_pinhole_add(ctx->mt, &p, NULL, NULL), MT_OK);
	mtable_commit(ctx->mt, NULL, NULL);
	/* a NAT-PMP request while NAT-PMP is off: refused, and counted as such */
	memset(&pkt, 0, sizeof(pkt));
	util_parse_addr("192.0.2.10", &pkt.src);
	util_parse_addr("192.0.2.1", &pkt.dst);
	util_put16(natpmp + 4, 8100);
	util_put16(natpmp + 6, 9100);
	util_put32(natpmp + 8, 600);
	pkt.buf = natpmp;
	pkt.len = sizeof(natpmp);
	CHECK(pcp_srv_handle(s, &pkt, out, sizeof(out)) > 0);
	/* a refusal whose reason needs every escape the format has */
	evbus_refused(ctx->events, "test", NULL, "x", "a\"b\\c\nd", NULL);

	text = page(ctx);
	CHECK_EQ(lint(text), 0);
	CHECK_HAS(text, "# HELP portgate_mappings Mappings in the table, by source and protocol.\n"
	    "# TYPE portgate_mappings gauge\n");
	CHECK_HAS(text, "\nportgate_mappings{source=\"upnp\",proto=\"tcp\"} 2\n");
	CHECK_HAS(text, "\nportgate_mappings{source=\"static\",proto=\"udp\"} 1\n");
	CHECK_HAS(text, "\nportgate_mappings{source=\"pcp\",proto=\"tcp\"} 0\n");
	CHECK_HAS(text, "\nportgate_pinholes{source=\"pcp\",proto=\"udp\"} 1\n");
	CHECK_HAS(text, "\nportgate_build_info{version=\"" PACKAGE_VERSION "\"} 1\n");
	CHECK_HAS(text, "\nportgate_start_time_seconds 1700000000\n");
	CHECK_HAS(text, "\nportgate_requests_total{protocol=\"natpmp\",action=\"map_tcp\","
	    "result=\"not_authorized\"} 1\n");
	CHECK_HAS(text, "\nportgate_refusals_total{protocol=\"natpmp\","
	    "reason=\"not_authorized\"} 1\n");
	CHECK_HAS(text, "\nportgate_refusals_total{protocol=\"test\","
	    "reason=\"a\\\"b\\\\c\\nd\"} 1\n");
	CHECK_HAS(text, "\nportgate_events_total{type=\"request.refused\"} 2\n");
	/* one commit so far: every bucket counts it, cumulatively, +Inf last */
	CHECK_HAS(text, "# TYPE portgate_firewall_commit_duration_seconds histogram\n"
	    "portgate_firewall_commit_duration_seconds_bucket{le=\"5e-05\"} ");
	CHECK_HAS(text, "\nportgate_firewall_commit_duration_seconds_bucket{le=\"1\"} 1\n"
	    "portgate_firewall_commit_duration_seconds_bucket{le=\"+Inf\"} 1\n"
	    "portgate_firewall_commit_duration_seconds_sum ");
	CHECK_HAS(text, "\nportgate_firewall_commit_duration_seconds_count 1\n");
	CHECK_HAS(text, "\nportgate_firewall_commits_total 1\n");
	CHECK_HAS(text, "\nportgate_trigger_activations_total 0\n");
	CHECK_HAS(text, "\nportgate_state_saves_total 0\n");
	/* requests_total is one family though two modules have samples of it */
	CHECK(strstr(strstr(text, "# TYPE portgate_requests_total") + 1,
	    "# TYPE portgate_requests_total") == NULL);
	CHECK(metrics_help("mappings") != NULL);
	CHECK(metrics_help("nonsense") == NULL);
	/* the page without the optional parts (UPnP off, PCP off, no bus) still lints */
	pcp_srv_free(s);
	ctx->pcp = NULL;
	evbus_free(ctx->events);
	ctx->events = NULL;
	text = page(ctx);
	CHECK_EQ(lint(text), 0);
	CHECK(strstr(text, "portgate_requests_total") == NULL);
	trigger_free(ctx->trig);
	tu_lab_ctx_free(ctx);
	free(ctx);
}

/* What came in through mappings: a counter from the kernel's, monotonic; none without one. */
static void
test_inbound(void)
{
	struct pg_ctx *ctx = xcalloc(1, sizeof(*ctx));
	struct mt_request q;
	const char *text;
	uint64_t p = 0, b = 0;

	CHECK(tu_lab_ctx(ctx, "firewall = nftables\nwan_interface = wan0\nlan_interface = br-lan\n",
	    tu_fake_clock(&fc), conf_err) != NULL);	/* faked in memory */
	ctx->trig = trigger_new(ctx->mt);
	q = req(MT_TCP, MT_SRC_UPNP, 9000, "192.0.2.10");
	CHECK_EQ(mtable_add(ctx->mt, &q, NULL, NULL), MT_OK);
	mtable_commit(ctx->mt, NULL, NULL);
	text = page(ctx);
	CHECK_EQ(lint(text), 0);
	CHECK_HAS(text, "# HELP portgate_inbound_packets_total Packets the WAN sent in through "
	    "mappings");
	CHECK_HAS(text, "\n# TYPE portgate_inbound_packets_total counter\n"
	    "portgate_inbound_packets_total 0\n");
	CHECK_HAS(text, "\n# TYPE portgate_inbound_bytes_total counter\n"
	    "portgate_inbound_bytes_total 0\n");
	fw_mem_traffic(ctx->fw, MT_TCP, 9000, 10, 1000);
	fw_mem_traffic(ctx->fw, MT_TCP, 9999, 5, 500);	/* no mapping: nothing came in */
	CHECK_HAS(page(ctx), "\nportgate_inbound_packets_total 10\n");
	CHECK_EQ(fw_inbound(ctx->fw, &p, &b), 0);
	CHECK_EQ(p, 10);
	CHECK_EQ(b, 1000);
	/* the kernel's counter starts again (rules rebuilt behind us): the total does not */
	fw_mem_inbound_restart(ctx->fw);
	CHECK_HAS(page(ctx), "\nportgate_inbound_packets_total 10\n");
	fw_mem_traffic(ctx->fw, MT_TCP, 9000, 1, 40);
	CHECK_HAS(page(ctx), "\nportgate_inbound_packets_total 11\n");
	CHECK_HAS(page(ctx), "\nportgate_inbound_bytes_total 1040\n");
	trigger_free(ctx->trig);
	tu_lab_ctx_free(ctx);
	free(ctx);
	/* the in-memory firewall as itself ("none"): it counts nothing, so no such sample */
	ctx = xcalloc(1, sizeof(*ctx));
	CHECK(tu_lab_ctx(ctx, "firewall = none\n", tu_fake_clock(&fc), conf_err) != NULL);
	CHECK_EQ(fw_inbound(ctx->fw, &p, &b), -1);
	CHECK(strstr(page(ctx), "inbound_packets") == NULL);
	tu_lab_ctx_free(ctx);
	free(ctx);
}

static const char *
history_text(const struct history *h)
{
	static char buf[32768];
	struct evbuffer *b = evbuffer_new();
	size_t len;

	history_json(h, b);
	len = evbuffer_get_length(b);
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	evbuffer_remove(b, buf, len);
	buf[len] = '\0';
	evbuffer_free(b);
	return buf;
}

static void
test_history(void)
{
	struct history h;
	struct history_sample s;
	int i;

	history_init(&h, 0);
	CHECK_STR(history_text(&h), "{\"interval_seconds\":60,\"samples\":[]}");
	memset(&s, 0, sizeof(s));
	s.time = 60;
	s.mappings[MT_SRC_UPNP] = 2;
	s.pinholes = 1;
	history_add(&h, &s);
	/* inbound packets unknown: null, not 0 */
	CHECK_STR(history_text(&h), "{\"interval_seconds\":60,\"samples\":[{\"time\":"
	    "\"1970-01-01T00:01:00Z\",\"mappings\":{\"static\":0,\"upnp\":2,\"pcp\":0,"
	    "\"natpmp\":0,\"trigger\":0},\"pinholes\":1,\"inbound_packets\":null,"
	    "\"inbound_packets_total\":null}]}");
	/* the first known total has nothing before it: its packets are not known yet */
	s.time = 120;
	s.has_total = 1;
	s.inbound_total = 1000;
	history_add(&h, &s);
	CHECK(strstr(history_text(&h), "\"inbound_packets\":null,"
	    "\"inbound_packets_total\":1000}]}") != NULL);
	/* an hour is kept: the 62nd sample pushes out the first two; each says what came since */
	for (i = 3; i <= HISTORY_SAMPLES + 2; i++) {
		s.time = 60 * i;
		s.inbound_total += (uint64_t)i;
		history_add(&h, &s);
	}
	CHECK_EQ(history_count(&h), HISTORY_SAMPLES);
	CHECK_EQ(history_at(&h, 0)->time, 180);
	CHECK_EQ(history_at(&h, 0)->inbound_packets, 3);	/* its predecessor went; it stays */
	CHECK_EQ(history_at(&h, HISTORY_SAMPLES - 1)->time, 60 * (HISTORY_SAMPLES + 2));
	CHECK(history_at(&h, HISTORY_SAMPLES) == NULL);
	CHECK(strstr(history_text(&h), "\"inbound_packets\":62,\"inbound_packets_total\":") !=
	    NULL);
	/* a sample the firewall could not answer: null, and the one after it too */
	s.time += 60;
	s.has_total = 0;
	history_add(&h, &s);
	CHECK(!history_at(&h, HISTORY_SAMPLES - 1)->has_packets);
	s.time += 60;
	s.has_total = 1;
	s.inbound_total += 5;
	history_add(&h, &s);
	CHECK(!history_at(&h, HISTORY_SAMPLES - 1)->has_packets);
	s.time += 60;
	s.inbound_total += 7;
	history_add(&h, &s);
	CHECK(history_at(&h, HISTORY_SAMPLES - 1)->has_packets);
	CHECK_EQ(history_at(&h, HISTORY_SAMPLES - 1)->inbound_packets, 7);
	history_init(&h, 2);
	CHECK_STR(history_text(&h), "{\"interval_seconds\":2,\"samples\":[]}");
}

int
main(void)
{
	test_page();
	test_inbound();
	test_history();
	return tu_done("test_metrics");
}
