/* test_ctl.c - the control protocol: commands, replies, errors, batching. */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "log.h"
#include "mtable.h"
#include "testutil.h"
#include "trigger/trigger.h"
#include "util.h"

static struct pg_ctx ctx;
static struct fake_clock fc = { 1000 };

/* Run request lines and return the whole reply text (static buffer). */
static const char *
run(const char *const *req, size_t n)
{
	static char out[65536];
	struct evbuffer *b = evbuffer_new();
	char *lines[16];
	size_t i, len;

	for (i = 0; i < n; i++)
		lines[i] = strdup(req[i]);
	ctl_run_lines(ctx.ctl, lines, n, b);
	/* the loop turn ends: the table's commit sends the batch, and the replies come */
	event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	for (i = 0; i < n; i++)
		free(lines[i]);
	len = evbuffer_get_length(b);
	if (len >= sizeof(out))
		len = sizeof(out) - 1;
	evbuffer_remove(b, out, len);
	out[len] = '\0';
	evbuffer_free(b);
	return out;
}

static const char *
run1(const char *req)
{
	return run(&req, 1);
}

/* A file's text (static buffer; "" if unreadable). */
static const char *
file_text(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

#define CHECK_REPLY(req, want) CHECK_STR(run1(req), want)
#define CHECK_HAS(hay, needle) do { tu_checks++; if (strstr((hay), (needle)) == NULL) { \
	tu_failures++; fprintf(stderr, "%s:%d: \"%s\" not in reply:\n%s\n", __FILE__, \
	__LINE__, needle, hay); } } while (0)

/* No value can end a line or a reply: every reply is exactly its lines. */
static void
test_injection(void)
{
	struct ctl_batch *b;
	struct evbuffer *out;
	char buf[256];
	size_t len;

	/* an echoed argument with newlines stays on its line, encoded */
	CHECK_REPLY("forward add tcp%0Aok%20forged%0A|%20x 1 192.0.2.9",
	    "err bad protocol 'tcp%0Aok forged%0A| x' (tcp or udp)\n");
	CHECK_REPLY("forward add tcp 9500 192.0.2.10 --desc evil%0Aok%20forged%0A|%20extra",
	    "err bad description: contains a control character (at most 63 bytes of UTF-8 text)\n");
	CHECK_REPLY("forward add tcp 9500 192.0.2.10 --desc 100%25", "ok tcp 9500 -> 192.0.2.10:9500\n");
	CHECK_HAS(run1("list"), "static   never    web-box           100%25\n");	/* '%' encoded */
	CHECK_REPLY("forward del tcp 9500", "ok deleted tcp 9500\n");
	/* a NUL is an error, not the end of the request */
	out = evbuffer_new();
	b = ctl_batch_new(ctx.ctl);
	ctl_batch_run(b, "status\0junk", 11);
	ctl_batch_finish(b, out, NULL, NULL);
	event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	len = evbuffer_remove(out, buf, sizeof(buf) - 1);
	buf[len] = '\0';
	CHECK_STR(buf, "err request contains a NUL byte\n");
	evbuffer_free(out);
}

/* Descriptions: UTF-8 without controls, at most 63 bytes; JSON stays valid. */
static void
test_descriptions(void)
{
	char req[2048], desc[1100];
	size_t i;

	for (i = 0, desc[0] = '\0'; i < 150; i++)
		strcat(desc, "%C3%A9");
	snprintf(req, sizeof(req), "forward add tcp 9500 192.0.2.10 --desc %s", desc);
	CHECK_REPLY(req, "err bad description: too long (at most 63 bytes of UTF-8 text)\n");
	CHECK_REPLY("forward add tcp 9500 192.0.2.10 --desc %FF",
	    "err bad description: not valid UTF-8 (at most 63 bytes of UTF-8 text)\n");
	CHECK_REPLY("forward add tcp 9500 192.0.2.10 --desc %C0%AF",	/* overlong '/' */
	    "err bad description: not valid UTF-8 (at most 63 bytes of UTF-8 text)\n");
	/* 31 x e-acute = 62 bytes: accepted whole */
	for (i = 0, desc[0] = '\0'; i < 31; i++)
		strcat(desc, "%C3%A9");
	snprintf(req, sizeof(req), "forward add tcp 9500 192.0.2.10 --desc %s", desc);
	CHECK_REPLY(req, "ok tcp 9500 -> 192.0.2.10:9500\n");
	CHECK_HAS(run1("list --json"), "\"description\":\"\xc3\xa9\xc3\xa9");
	CHECK_REPLY("forward del tcp 9500", "ok deleted tcp 9500\n");
}

/* Targets that are never a LAN host are refused with the reason. */
static void
test_targets(void)
{
	size_t before = mtable_count(ctx.mt);

	CHECK_REPLY("forward add tcp 9500 0.0.0.0",
	    "err bad internal address: 0.0.0.0 is an unspecified (0.0.0.0/8) address\n");
	CHECK_REPLY("forward add tcp 9500 255.255.255.255",
	    "err bad internal address: 255.255.255.255 is the broadcast address\n");
	CHECK_REPLY("forward add tcp 9500 127.0.0.1",
	    "err bad internal address: 127.0.0.1 is a loopback address\n");
	CHECK_REPLY("forward add tcp 9500 224.0.0.1",
	    "err bad internal address: 224.0.0.1 is a multicast address\n");
	CHECK_EQ(mtable_count(ctx.mt), before);
}

/* The first word of each data line of a reply, space-separated (static buffer). */
static const char *
field_names(const char *reply)
{
	static char names[4096];
	const char *p = reply;
	size_t n = 0, w;

	names[0] = '\0';
	while ((p = strstr(p, "| ")) != NULL) {
		p += 2;
		w = strcspn(p, " \n");
		if (n + w + 2 < sizeof(names))
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%.*s", n ? " " : "",
			    (int)w, p);
		p += w;
	}
	return names;
}

/* status: every section's fields, in the order portgatectl has always printed them. */
static void
test_status_fields(void)
{
	const char *r = run1("status");
	char want[1024];

	/* (UDP 5351 may be taken on the machine running the test: then PCP is off) */
	snprintf(want, sizeof(want), "version uptime firewall external_ip external_ip_class "
	    "inbound_reachability mappings pinholes "
	    "source source source source source trigger_rules trigger_notifications "
	    "trigger_bad_sources state_file state_last_save state_last_error state_snapshot_bytes "
	    "state_journal_bytes upnp upnp_uuid upnp_igd_version ssdp_searches ssdp_replies "
	    "ssdp_dropped ssdp_notifies http_requests http_refused soap_requests soap_errors "
	    "upnp_subscriptions upnp_events_sent pcp natpmp%s upstream_pcp upstream_pcp_state "
	    "upstream_pcp_reason lan_hosts dhcp_leases dhcp_leases", ctx.pcp == NULL ? "" :
	    " pcp_epoch peer_pins pcp_malformed natpmp_malformed pcp_dropped pcp_announces");
	CHECK_STR(field_names(r), want);
	CHECK_HAS(r, "| version " PACKAGE_VERSION "\n");
	CHECK_HAS(r, "| external_ip none\n");
	CHECK_HAS(r, "| inbound_reachability no_address\n");
	CHECK_HAS(r, "| source upnp 0\n");
	CHECK_HAS(r, "| trigger_rules 0\n");
	CHECK_HAS(r, ctx.pcp != NULL ? "| pcp on\n| natpmp on\n" : "| pcp off\n| natpmp off\n");
	/* looked for (the default), nothing to ask: no wan_interface */
	CHECK_HAS(r, "| upstream_pcp auto\n| upstream_pcp_state none\n"
	    "| upstream_pcp_reason no wan_interface\n");
	CHECK_STR(run1("status now"), "err usage: status\n");
}

/* status shows the state file's health; a failing save is reported, then recovers. */
static void
test_state_health(void)
{
	const char *r;
	char *saved = ctx.cfg->state_file;

	ctx.cfg->state_file = (char *)"/nonexistent-dir/portgate/state";
	pg_save_now(&ctx);
	r = run1("status");
	CHECK_HAS(r, "| state_file /nonexistent-dir/portgate/state\n");
	CHECK_HAS(r, "| state_last_error cannot create /nonexistent-dir/portgate/state.tmp: "
	    "No such file or directory\n");
	ctx.cfg->state_file = saved;
	pg_save_now(&ctx);
	r = run1("status");
	CHECK_HAS(r, "| state_last_error none\n");
	CHECK_HAS(r, "| state_last_save 0\n");
}

/* A sink gathering data lines as "[TEXT]" (raw, not encoded). */
static void
gather(void *arg, const char *text, size_t len)
{
	evbuffer_add_printf(arg, "[%.*s]", (int)len, text);
}

/* Run argv (no line encoding) into r; its data lines as "[TEXT]..." (static buffer). */
static const char *
run_argv(struct ctl_req *r, int argc, const char *const *words)
{
	static char out[8192];
	struct evbuffer *b = evbuffer_new();
	size_t len;

	memset(r, 0, sizeof(*r));
	r->ctx = &ctx;
	r->out.data = gather;
	r->out.arg = b;
	ctl_cmd_run_argv(r, argc, words);
	if (r->landing != NULL) {
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
		ctl_cmd_landed(r, 0);
	}
	len = evbuffer_remove(b, out, sizeof(out) - 1);
	out[len] = '\0';
	evbuffer_free(b);
	return out;
}

/* What the HTTP API runs: argv words, a sink, a failure kind; and the verbs it needs. */
static void
test_api_verbs(void)
{
	static const char *const add[] = { "forward", "add", "--desc", "-- x y", "--",
	    "tcp", "8300", "192.0.2.10:80" };
	static const char *const del_static[] = { "mapping", "del", "--source", "static", "--",
	    "tcp", "8300" };
	static const char *const list[] = { "list", "--json", "--kind", "mapping" };
	static const char *const opt_as_word[] = { "mapping", "del", "--", "--source", "1" };
	struct in6_addr host;
	struct ctl_req r;
	const char *out;

	out = run_argv(&r, 8, add);
	CHECK(r.ok);
	CHECK_STR(r.result, "tcp 8300 -> 192.0.2.10:80");
	CHECK_STR(out, "");
	out = run_argv(&r, 4, list);
	CHECK_HAS(out, "[[][{\"proto\":\"tcp\",\"external_port\":8300,");
	CHECK_HAS(out, "\"description\":\"-- x y\"");
	CHECK(strstr(out, "pinhole") == NULL);		/* --kind mapping: the config pinhole is not */
	/* words after "--" are words, even one that looks like an option */
	out = run_argv(&r, 5, opt_as_word);
	CHECK(!r.ok);
	CHECK_EQ(r.fail, CTL_FAIL_BAD);
	CHECK_STR(r.result, "bad mapping '--source 1' (PROTO PORT)");
	out = run_argv(&r, 7, del_static);
	CHECK(r.ok);
	CHECK_STR(r.result, "deleted tcp 8300");
	out = run_argv(&r, 7, del_static);
	CHECK_EQ(r.fail, CTL_FAIL_MISSING);
	CHECK_STR(r.result, "no static mapping for tcp 8300");
	(void)out;

	/* mapping del: any source, or only the one asked for */
	CHECK_REPLY("forward add tcp 8301 192.0.2.10", "ok tcp 8301 -> 192.0.2.10:8301\n");
	CHECK_REPLY("mapping del tcp 8301 --source upnp", "err no upnp mapping for tcp 8301\n");
	CHECK_REPLY("mapping del tcp 8301", "ok deleted tcp 8301\n");
	CHECK_REPLY("mapping del tcp 8301", "err no mapping for tcp 8301\n");
	CHECK_REPLY("mapping del tcp 1 --source x",
	    "err unknown source 'x' (static, upnp, pcp, natpmp, trigger)\n");
	CHECK_REPLY("mapping del tcp", "err usage: mapping del PROTO EXTPORT [--source SOURCE]\n");

	/* list's filters */
	CHECK_REPLY("forward add udp 8302 192.0.2.11", "ok udp 8302 -> 192.0.2.11:8302\n");
	CHECK_HAS(run1("pinhole add udp [2001:db8:1::11]:8399"), "ok pinhole ");
	CHECK_HAS(run1("list --kind pinhole"), "pinhole#");
	CHECK(strstr(run1("list --kind pinhole"), "8302") == NULL);
	CHECK(strstr(run1("list --kind mapping"), "pinhole#") == NULL);
	CHECK_HAS(run1("list --source static --kind mapping"), "8302");
	CHECK(strstr(run1("list --source upnp"), "8302") == NULL);
	CHECK_STR(run1("list --source upnp --json"), "| [\n| ]\nok\n");
	CHECK_REPLY("list --kind x", "err unknown kind 'x' (mapping or pinhole)\n");
	CHECK_REPLY("forward add udp 8302 192.0.2.12", "err udp 8302 is held by 192.0.2.11 (static)\n");
	run_argv(&r, 4, (const char *const[]){ "forward", "add", "udp", "8302", "192.0.2.12" });
	CHECK_EQ(r.fail, CTL_FAIL_BAD);		/* four words: usage */
	run_argv(&r, 5, (const char *const[]){ "forward", "add", "udp", "8302", "192.0.2.12" });
	CHECK_EQ(r.fail, CTL_FAIL_CONFLICT);
	CHECK_REPLY("mapping del udp 8302", "ok deleted udp 8302\n");
	CHECK_HAS(run1("flush --source static"), "and 1 pinholes");

	/* trigger enable / disable */
	CHECK_REPLY("trigger add chat tcp:6660 tcp:6661 --idle 60",
	    "ok trigger chat tcp:6660-6660 open tcp:6661-6661 idle 60\n");
	CHECK_REPLY("trigger add sp%20ace tcp:6670 tcp:6671",
	    "err bad trigger rule: 'sp ace' holds a space\n");
	CHECK_REPLY("trigger add x tcp:6670 tcp:6671%20idle%201",
	    "err bad trigger rule: 'tcp:6671 idle 1' holds a space\n");
	util_parse_addr("192.0.2.30", &host);
	trigger_outbound(ctx.trig, MT_TCP, 6660, &host);
	CHECK_HAS(run1("trigger list"), "[runtime] active 192.0.2.30 closes-in 60s");
	CHECK_REPLY("trigger disable chat", "ok trigger chat disabled\n");
	CHECK_HAS(run1("trigger list"), "| chat tcp:6660-6660 open tcp:6661-6661 idle 60 [runtime] "
	    "disabled\n");
	CHECK_HAS(run1("trigger list --json"), "\"active\":false,\"holder\":null");
	CHECK_HAS(run1("trigger list --json"), "\"refusals\":0,\"enabled\":false}");
	CHECK(strstr(run1("list"), "6661") == NULL);	/* its port closed at once */
	CHECK_HAS(file_text("/tmp/portgate-test-ctl.state"), "idle%2060 disabled\n");
	trigger_outbound(ctx.trig, MT_TCP, 6660, &host);
	CHECK(strstr(run1("list"), "6661") == NULL);	/* and its traffic opens nothing */
	CHECK_REPLY("trigger disable chat", "ok trigger chat disabled\n");
	CHECK_REPLY("trigger enable chat", "ok trigger chat enabled\n");
	CHECK(strstr(file_text("/tmp/portgate-test-ctl.state"), "disabled") == NULL);
	trigger_outbound(ctx.trig, MT_TCP, 6660, &host);
	CHECK_HAS(run1("list"), "6661");
	CHECK_REPLY("trigger enable nosuch", "err no trigger rule named nosuch\n");
	CHECK_REPLY("trigger disable", "err usage: trigger disable NAME\n");
	run_argv(&r, 3, (const char *const[]){ "trigger", "enable", "nosuch" });
	CHECK_EQ(r.fail, CTL_FAIL_MISSING);
	CHECK_REPLY("trigger del chat", "ok deleted trigger chat\n");
}

/* Let the loop run for ms milliseconds (the history's timer: a sample a second here). */
static void
run_for(long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(ctx.base, &tv);
	event_base_dispatch(ctx.base);
}

/*
 * The kernel's counters where the admin sees them: list --json's packets and
 * bytes, portgate_inbound_packets_total, the history's inbound packets. Last:
 * it makes the in-memory firewall pretend to be the kernel's.
 */
static void
test_counters(void)
{
	const struct mt_entry *e;
	struct fw_item it;
	const char *r;

	/* firewall = none counts nothing: null, not a made-up 0 */
	CHECK_REPLY("forward add tcp 8500 192.0.2.10:80 --desc ctr",
	    "ok tcp 8500 -> 192.0.2.10:80\n");
	CHECK_REPLY("forward add udp 8501 192.0.2.11 --desc ctr2",
	    "ok udp 8501 -> 192.0.2.11:8501\n");
	CHECK_HAS(run1("pinhole add udp [2001:db8:1::11]:8599 --desc ctr3"), "ok pinhole ");
	fw_mem_traffic(ctx.fw, MT_TCP, 8500, 3, 180);
	r = run1("list --json");
	CHECK_HAS(r, "\"description\":\"ctr\",\"expires_in\":null,\"remote_host\":null,"
	    "\"filters\":[],\"packets\":null,\"bytes\":null,\"owner\":\"\",");
	/* a pinhole's count is what UPnP's GetPinholePackets says, whatever the backend */
	CHECK_HAS(r, "\"description\":\"ctr3\",\"expires_in\":null,\"remote\":null,"
	    "\"filters\":[],\"packets\":0,\"bytes\":0,");
	CHECK(strstr(run1("metrics"), "portgate_inbound_packets_total") == NULL);
	CHECK_HAS(run1("history --json"),
	    "\"inbound_packets\":null,\"inbound_packets_total\":null}");

	/* the kernel's: each mapping's own count, one read for the whole list */
	fw_mem_pretend_kernel(ctx.fw);
	r = run1("list --json");
	CHECK_HAS(r, "\"description\":\"ctr\",\"expires_in\":null,\"remote_host\":null,"
	    "\"filters\":[],\"packets\":3,\"bytes\":180,\"owner\":\"\",");
	CHECK_HAS(r, "\"description\":\"ctr2\",\"expires_in\":null,\"remote_host\":null,"
	    "\"filters\":[],\"packets\":0,\"bytes\":0,\"owner\":\"\",");
	CHECK_HAS(run1("list --json --source static --kind mapping"),
	    "\"packets\":3,\"bytes\":180,");
	/* a pinhole's, read in the same dump: what mtable_pinhole_counters (UPnP's) says */
	for (e = mtable_pinhole_next(ctx.mt, NULL); e != NULL && strcmp(e->desc, "ctr3") != 0;
	    e = mtable_pinhole_next(ctx.mt, e))
		;
	CHECK(e != NULL);
	if (e != NULL) {
		uint64_t p = 0, b = 0;

		fw_mem_pin_traffic(ctx.fw, e->pin_id, 6, 600);
		CHECK_EQ(mtable_pinhole_counters(ctx.mt, e, &p, &b), 0);
		CHECK_EQ(p, 6);
		CHECK_HAS(run1("list --json"), "\"description\":\"ctr3\",\"expires_in\":null,"
		    "\"remote\":null,\"filters\":[],\"packets\":6,\"bytes\":600,");
	}
	r = run1("metrics");
	CHECK_HAS(r, "| # TYPE portgate_inbound_packets_total counter\n"
	    "| portgate_inbound_packets_total 3\n");
	CHECK_HAS(r, "| portgate_inbound_bytes_total 180\n");
	/* an element the kernel does not hold (gone behind the table's back): not known */
	CHECK((e = mtable_lookup_ext(ctx.mt, MT_UDP, 8501)) != NULL);
	mtable_fw_item(ctx.mt, e, &it);
	fw_queue(ctx.fw, FW_DEL, &it);
	CHECK_EQ(fw_commit(ctx.fw, NULL, NULL), 0);
	CHECK_HAS(run1("list --json"), "\"description\":\"ctr2\",\"expires_in\":null,"
	    "\"remote_host\":null,\"filters\":[],\"packets\":null,\"bytes\":null,");
	fw_queue(ctx.fw, FW_ADD, &it);
	CHECK_EQ(fw_commit(ctx.fw, NULL, NULL), 0);

	/* the total goes on when mappings go, and when the kernel's counter starts again */
	CHECK_REPLY("forward del tcp 8500", "ok deleted tcp 8500\n");
	CHECK_HAS(run1("metrics"), "| portgate_inbound_packets_total 3\n");
	fw_mem_inbound_restart(ctx.fw);
	fw_mem_traffic(ctx.fw, MT_UDP, 8501, 2, 100);
	CHECK_HAS(run1("metrics"), "| portgate_inbound_packets_total 5\n");
	CHECK_HAS(run1("list --json"), "\"packets\":2,\"bytes\":100,");

	/* the history: a sample a second here (PORTGATE_TEST_HISTORY_INTERVAL), what came since */
	run_for(1100);
	CHECK_HAS(run1("history --json"),
	    "\"inbound_packets\":null,\"inbound_packets_total\":5}]}");
	fw_mem_traffic(ctx.fw, MT_UDP, 8501, 4, 200);
	run_for(1000);
	r = run1("history --json");
	CHECK_HAS(r, "{\"interval_seconds\":1,\"samples\":[{\"time\":\"");
	CHECK_HAS(r, "\"inbound_packets\":4,\"inbound_packets_total\":9}]}");
	r = run1("history");
	CHECK_HAS(r, "| TIME                 STATIC   UPNP    PCP NATPMP TRIGGER PINHOLES "
	    "INBOUND\n");
	CHECK_HAS(r, "      1      0      0      0       0        1 -\n");
	CHECK_HAS(r, "      1      0      0      0       0        1 4\nok\n");
	CHECK_REPLY("history now", "err usage: history [--json]\n");
	CHECK_REPLY("forward del udp 8501", "ok deleted udp 8501\n");
	CHECK_HAS(run1("flush --source static"), "and 1 pinholes");
}

int
main(void)
{
	static const char conf[] = "firewall = none\n"
	    "state_file = /tmp/portgate-test-ctl.state\n"
	    "control_socket = /tmp/portgate-test-ctl.sock\n"
	    "allow 1024-65535 192.0.2.0/24 1-65535\n"
	    "pinhole = udp [2001:db8:1::11]:53 remote [2001:db8:2::/48]:53 desc dns for the peer\n"
	    "dhcp_leases = dnsmasq:/tmp/portgate-test-ctl.leases\n"
	    "dhcp_leases = odhcpd:/tmp/portgate-test-ctl.odhcpd\n";
	const char *r;
	FILE *f;

	log_setverbose(-2);
	setenv("PORTGATE_TEST_HISTORY_INTERVAL", "1", 1);
	unlink("/tmp/portgate-test-ctl.state");
	/* the hosts' names: dnsmasq's file for IPv4, odhcpd's for IPv6 */
	if ((f = fopen("/tmp/portgate-test-ctl.leases", "w")) != NULL) {
		fprintf(f, "%lld 02:00:00:00:00:0a 192.0.2.10 web-box 01:02:00:00:00:00:0a\n"
		    "0 02:00:00:00:00:14 192.0.2.20 * *\n", (long long)time(NULL) + 3600);
		fclose(f);
	}
	if ((f = fopen("/tmp/portgate-test-ctl.odhcpd", "w")) != NULL) {
		fprintf(f, "# br-lan 000300010200000000aa 1 v6-box -1 10 128 2001:db8:1::10/128\n"
		    "# br-lan 000300010200000000bb 1 - -1 11 128 2001:db8:1::11/128\n");
		fclose(f);
	}
	ctx.cfg = conf_parse("test", conf, sizeof(conf) - 1, NULL, NULL);
	ctx.base = event_base_new();
	ctx.clock = tu_fake_clock(&fc);
	CHECK(ctx.cfg != NULL);
	CHECK_EQ(pg_start(&ctx), 0);

	CHECK_REPLY("forward add tcp 8080 192.0.2.10:80 --desc web%20server",
	    "ok tcp 8080 -> 192.0.2.10:80\n");
	CHECK_REPLY("forward add udp 7000-7010 192.0.2.10 --lease 60",
	    "ok udp 7000-7010 -> 192.0.2.10:7000-7010\n");
	CHECK_REPLY("forward add tcp 8080 192.0.2.11:80",
	    "err tcp 8080 is held by 192.0.2.10 (static)\n");
	CHECK_REPLY("forward add udp 7005 192.0.2.11",
	    "err udp 7000-7010 is held by 192.0.2.10 (static)\n");
	CHECK_REPLY("forward add icmp 1 192.0.2.11", "err bad protocol 'icmp' (tcp or udp)\n");
	CHECK_REPLY("forward add tcp 0 192.0.2.11",
	    "err bad external port '0' (PORT or PORT-PORT, 1-65535)\n");
	CHECK_REPLY("forward add tcp 10 nothost", "err bad internal address 'nothost' (IPv4[:PORT])\n");
	CHECK_REPLY("forward add tcp 10-20 192.0.2.9:30",
	    "err a range forward maps each port to the same port: use 192.0.2.9 or 192.0.2.9:10\n");
	CHECK_REPLY("forward add tcp 10 192.0.2.9 --lease", "err option --lease needs a value\n");
	CHECK_REPLY("forward add tcp 10 192.0.2.9 --bogus 1", "err unknown option --bogus\n");
	CHECK_REPLY("forward add tcp 10 192.0.2.9 --lease x",
	    "err bad lease 'x' (seconds, 0 = permanent)\n");
	CHECK_REPLY("forward add tcp", "err usage: forward add PROTO EXTPORT[-END] IP[:PORT] "
	    "[--lease SECONDS] [--desc TEXT]\n");

	r = run1("list");
	CHECK_HAS(r, "| PROTO EXTERNAL");
	CHECK_HAS(r, "| PROTO EXTERNAL     INTERNAL                     SOURCE   EXPIRES  HOST"
	    "              DESCRIPTION\n");
	CHECK_HAS(r, "| tcp   8080         192.0.2.10:80");
	/* the host's name from the lease file, in its column before the description */
	CHECK_HAS(r, "static   never    web-box           web server\n");
	CHECK_HAS(r, "udp   7000-7010    192.0.2.10:7000-7010         static   60s      web-box");
	r = run1("list --json");
	CHECK_HAS(r, "{\"proto\":\"tcp\",\"external_port\":8080,\"external_port_end\":8080,"
	    "\"internal_ip\":\"192.0.2.10\",\"internal_port\":80,\"internal_port_end\":80,"
	    "\"source\":\"static\",\"description\":\"web server\",\"expires_in\":null");
	CHECK_HAS(r, "\"owner\":\"\",\"host\":\"web-box\",\"mac\":\"02:00:00:00:00:0a\","
	    "\"upstream_external_ip\":null,\"upstream_external_port\":null,"
	    "\"upstream_state\":null,\"kind\":\"mapping\"}");	/* no upstream server */
	CHECK_HAS(r, "\"external_port\":7000,\"external_port_end\":7010");
	CHECK_HAS(r, "\"expires_in\":60");
	r = run1("status");
	CHECK_HAS(r, "| mappings 2\n");
	CHECK_HAS(r, "| source static 2\n");
	CHECK_HAS(r, "| firewall none\n");

	/* IPv6 pinholes */
	CHECK_REPLY("forward add tcp 8081 [2001:db8:1::10]:80", "err '[2001:db8:1::10]:80' is IPv6: "
	    "IPv6 has no NAT, so there is nothing to forward; open a pinhole instead: "
	    "pinhole add tcp [IPv6]:PORT\n");
	CHECK_REPLY("forward add tcp 8081 2001:db8:1::10", "err '2001:db8:1::10' is IPv6: "
	    "IPv6 has no NAT, so there is nothing to forward; open a pinhole instead: "
	    "pinhole add tcp [IPv6]:PORT\n");
	CHECK_REPLY("pinhole add tcp [2001:db8:1::10]:8000 --remote 2001:db8:2::100 --desc game",
	    "ok pinhole 65537: tcp [2001:db8:1::10]:8000 from 2001:db8:2::100/128\n");
	CHECK_REPLY("pinhole add tcp [2001:db8:1::10]:8000 --remote 2001:db8:2::100 --lease 60 "
	    "--desc game",
	    "ok pinhole 65537: tcp [2001:db8:1::10]:8000 from 2001:db8:2::100/128\n");
	CHECK_REPLY("pinhole add tcp [2001:db8:1::10]:8001 --remote [2001:db8:2::/64]:99",
	    "ok pinhole 65538: tcp [2001:db8:1::10]:8001 from [2001:db8:2::/64]:99\n");
	CHECK_REPLY("pinhole add tcp [2001:db8:1::10]:8001 --remote 2001:db8:2::/56",
	    "err tcp [2001:db8:1::10]:8001 is held by pinhole 65538 (static)\n");
	CHECK_REPLY("pinhole add tcp 2001:db8:1::10:8001", "err bad endpoint "
	    "'2001:db8:1::10:8001' ([IPv6]:PORT, e.g. [2001:db8:1::10]:8000)\n");
	CHECK_REPLY("pinhole add tcp [2001:db8:1::10]:8001 --remote 198.51.100.1",
	    "err bad remote '198.51.100.1' (IPv6[/LEN] or [IPv6[/LEN]]:PORT)\n");
	CHECK_REPLY("pinhole add tcp [::1]:8001", "err bad internal address: ::1 is a loopback address\n");
	CHECK_REPLY("pinhole add tcp", "err usage: pinhole add PROTO [IPv6]:PORT "
	    "[--remote ADDR[/LEN][:PORT]] [--lease SECONDS] [--desc TEXT]\n");
	r = run1("list");
	CHECK_HAS(r, "| tcp   pinhole#65537 [2001:db8:1::10]:8000        static   60s      v6-box"
	    "            game from=2001:db8:2::100/128 pkts=0\n");
	/* a lease without a name, and no MAC known */
	CHECK_HAS(r, "| udp   pinhole#65536 [2001:db8:1::11]:53          static   never    -      "
	    "           dns for the peer from=[2001:db8:2::/48]:53 pkts=0\n");
	r = run1("list --json");
	CHECK_HAS(r, "{\"kind\":\"pinhole\",\"id\":65537,\"proto\":\"tcp\","
	    "\"internal_ip\":\"2001:db8:1::10\",\"internal_port\":8000,\"source\":\"static\","
	    "\"description\":\"game\",\"expires_in\":60,\"remote\":\"2001:db8:2::100/128\","
	    "\"filters\":[],\"packets\":0,\"bytes\":0,\"owner\":\"\",\"host\":\"v6-box\","
	    "\"mac\":null}");
	CHECK_HAS(r, "\"id\":65536,");
	CHECK_HAS(r, "\"owner\":\"config\",\"host\":null,\"mac\":null}");
	CHECK_HAS(run1("status"), "| pinholes 3\n");
	CHECK_REPLY("pinhole del 65538", "ok deleted pinhole 65538\n");
	CHECK_REPLY("pinhole del 65538", "err no pinhole 65538\n");
	CHECK_REPLY("pinhole del x", "err bad pinhole ID 'x' (the number after pinhole# in list)\n");
	CHECK_REPLY("pinhole del 65537", "ok deleted pinhole 65537\n");

	CHECK_REPLY("forward del tcp 8080", "ok deleted tcp 8080\n");
	CHECK_REPLY("forward del tcp 8080", "err no mapping for tcp 8080\n");
	CHECK_REPLY("forward del udp 7003",
	    "err udp 7003 is inside the range 7000-7010; delete it by its first port 7000\n");
	CHECK_REPLY("flush --source pcp", "ok flushed 0 mappings\n");
	CHECK_REPLY("flush --source nobody",
	    "err unknown source 'nobody' (static, upnp, pcp, natpmp, trigger)\n");
	CHECK_REPLY("flush --source static", "ok flushed 1 mappings and 1 pinholes\n");
	CHECK_REPLY("bogus", "err unknown command 'bogus'\n");
	CHECK_REPLY("forward bogus", "err unknown command 'forward'\n");
	CHECK_REPLY("list %zz", "err malformed request encoding\n");
	CHECK_REPLY("", "err empty request\n");

	/* a batch: one refused by the firewall, the others land */
	fw_mem_inject_failure(ctx.fw, MT_TCP, 9001, EPERM);
	{
		static const char *const batch[] = {
			"forward add tcp 9000 192.0.2.20",
			"forward add tcp 9001 192.0.2.20",
			"forward add tcp 9002 192.0.2.20",
		};
		r = run(batch, 3);
		CHECK_STR(r, "ok tcp 9000 -> 192.0.2.20:9000\n"
		    "err firewall refused tcp 9001: Operation not permitted\n"
		    "ok tcp 9002 -> 192.0.2.20:9002\n");
	}
	CHECK_EQ(mtable_count(ctx.mt), 2);
	CHECK_EQ(fw_mem_count(ctx.fw), 2);
	/* no name in its lease ('*'): the MAC the lease names */
	CHECK_HAS(run1("list"), "| tcp   9000         192.0.2.20:9000              static   never    "
	    "02:00:00:00:00:14 \n");
	CHECK_HAS(run1("list --json"), "\"internal_ip\":\"192.0.2.20\",\"internal_port\":9002,");
	CHECK_HAS(run1("list --json"), "\"host\":null,\"mac\":\"02:00:00:00:00:14\"");

	/* triggers */
	CHECK_REPLY("trigger add game tcp:7000 tcp:7100-7110,udp:7100-7110 --idle 5",
	    "ok trigger game tcp:7000-7000 open tcp:7100-7110,udp:7100-7110 idle 5\n");
	CHECK_REPLY("trigger add game2 tcp:7000 tcp:8100", "err trigger ports of 'game2' overlap rule 'game'\n");
	CHECK_REPLY("trigger add bad tcp:1 tcp", "err bad open range 'tcp' (want PROTO:PORT[-PORT])\n");
	/* the daemon hears of the new rule and saves the state file at once */
	CHECK_HAS(file_text("/tmp/portgate-test-ctl.state"),
	    "trigger game%20tcp:7000-7000%20open%20tcp:7100-7110,udp:7100-7110%20idle%205\n");
	r = run1("trigger list");
	CHECK_HAS(r, "| game tcp:7000-7000 open tcp:7100-7110,udp:7100-7110 idle 5 [runtime] idle\n");
	r = run1("trigger list --json");
	CHECK_HAS(r, "{\"name\":\"game\",\"trigger\":\"tcp:7000-7000\",\"open\":[\"tcp:7100-7110\","
	    "\"udp:7100-7110\"],\"idle\":5,\"origin\":\"runtime\",\"active\":false,\"holder\":null,"
	    "\"closes_in\":null,\"host\":null,\"mac\":null,");
	CHECK_REPLY("trigger del game", "ok deleted trigger game\n");
	CHECK(strstr(file_text("/tmp/portgate-test-ctl.state"), "trigger game") == NULL);
	CHECK_REPLY("trigger del game", "err no trigger rule named game\n");

	test_api_verbs();
	test_injection();
	test_descriptions();
	test_targets();
	test_state_health();
	test_status_fields();
	test_counters();

	pg_stop(&ctx);
	conf_free(ctx.cfg);
	event_base_free(ctx.base);
	unlink("/tmp/portgate-test-ctl.state");
	unlink("/tmp/portgate-test-ctl.leases");
	unlink("/tmp/portgate-test-ctl.odhcpd");
	return tu_done("test_ctl");
}
