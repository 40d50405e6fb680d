/*
 * diag.c - why can't the internet reach this port: portgatectl check and
 * the admin API's GET /api/v1/check, one check for both.
 *
 * A check gathers facts (struct diag_facts) in the order a packet from the
 * internet meets them: the external address (public, or the gateway is
 * itself behind another NAT), the entry holding the port (or the closest
 * ones), the kernel's element and its timeout, whether inbound packets hit
 * it (its counter, read again after a short wait), whether the internal
 * host answers (a TCP connect from the gateway; for UDP, which has no
 * handshake, the neighbour state), and what hairpin does for LAN hosts.
 * The wait and the connect run in the event loop: the check answers
 * later, through its callback. diag_conclude turns the facts into
 * sentences and one verdict, with nothing else to look at, so the steps
 * are tested without a network; diag_text and diag_json render them.
 *
 * It reads the table and the kernel; it changes nothing, and sends no
 * packet anywhere but to the internal host (and, for UDP, the neighbour
 * resolution the kernel does for it on the LAN).
 */
#include "config.h"

#include <netinet/in.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <linux/neighbour.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "diag.h"
#include "diag_probe.h"
#include "fw/fw.h"
#include "mtable.h"
#include "neigh.h"
#include "netif.h"
#include "trigger/trigger.h"
#include "upstream.h"
#include "util.h"

#define DIAG_NEAR	100	/* a mapped port this close to the one asked is a hint */
#define DIAG_PROBE_MIN	200	/* ms: the shortest connect timeout, whatever the wait */

struct diag {
	struct pg_ctx		*ctx;
	struct diag_report	 rep;		/* rep.facts is filled as the check goes */
	struct fw_item		 item;		/* the entry's, for reading the kernel again */
	struct event		*timer;		/* the wait */
	struct diag_tcp		*tcp;
	int			 kicked;	/* UDP: the kernel was asked to resolve the host */
	int			 waiting;	/* the timer, the connect */
	diag_done_cb		*done;
	void			*arg;
};

static const char *const diag_step_names[DIAG_NSTEPS] = {
	"address", "entry", "kernel", "traffic", "host", "hairpin",
};

static const char *const diag_level_names[] = { "ok", "warn", "fail" };

static const char *const diag_verdict_names[DIAG_NVERDICTS] = {
	[DIAG_REACHABLE] = "reachable",
	[DIAG_NO_ADDRESS] = "no_address",
	[DIAG_BEHIND_NAT] = "behind_nat",
	[DIAG_NOT_ROUTABLE] = "not_routable",
	[DIAG_NO_MAPPING] = "no_mapping",
	[DIAG_NO_FIREWALL] = "no_firewall",
	[DIAG_NOT_IN_KERNEL] = "not_in_kernel",
	[DIAG_HOST_NOT_LISTENING] = "host_not_listening",
	[DIAG_HOST_DOWN] = "host_down",
};

const char *
diag_step_name(enum diag_step_id id)
{
	return (unsigned)id < DIAG_NSTEPS ? diag_step_names[id] : "?";
}

const char *
diag_level_name(enum diag_level l)
{
	return (unsigned)l < PG_NELEM(diag_level_names) ? diag_level_names[l] : "?";
}

const char *
diag_verdict_name(enum diag_verdict v)
{
	return (unsigned)v < DIAG_NVERDICTS ? diag_verdict_names[v] : "?";
}

/* ---- the steps, from the facts ---- */

static void diag_step(struct diag_report *, enum diag_step_id, enum diag_level, const char *,
    ...) __attribute__((format(printf, 4, 5)));

static void
diag_step(struct diag_report *r, enum diag_step_id id, enum diag_level level,
    const char *fmt, ...)
{
	struct diag_step *s = &r->step[r->nsteps++];
	va_list ap;

	s->id = id;
	s->level = level;
	va_start(ap, fmt);
	vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
}

/* The first failing step's reason is the verdict (the steps come in path order). */
static void
diag_fail(struct diag_report *r, enum diag_verdict v)
{
	if (r->verdict == DIAG_REACHABLE)
		r->verdict = v;
}

/* Behind another NAT whose PCP server maps the gateway's ports: whether it maps this one. */
static void
diag_step_upstream(const struct diag_facts *f, struct diag_report *r, const char *ext)
{
	char srv[INET6_ADDRSTRLEN], up[INET6_ADDRSTRLEN], behind[192];

	util_addr_str(&f->up_server, srv, sizeof(srv));
	snprintf(behind, sizeof(behind), "the external address %s is %s: the gateway is behind "
	    "another NAT, whose PCP server %s", ext, ipclass_what(f->ext_class), srv);
	if (f->has_up_map && f->up_granted)
		diag_step(r, DIAG_STEP_ADDRESS, DIAG_OK, "%s maps this port: the internet reaches "
		    "it at %s:%u", behind, util_addr_str(&f->up_ext, up, sizeof(up)),
		    f->up_ext_port);
	else if (f->has_up_map) {
		diag_step(r, DIAG_STEP_ADDRESS, DIAG_FAIL, "%s has not mapped this port (%s): the "
		    "internet does not reach it", behind, f->up_state);
		diag_fail(r, DIAG_BEHIND_NAT);
	} else if (!f->has_entry)
		diag_step(r, DIAG_STEP_ADDRESS, DIAG_WARN, "%s maps each inbound port the gateway "
		    "holds", behind);
	else {
		diag_step(r, DIAG_STEP_ADDRESS, DIAG_FAIL, "%s was not asked for this port "
		    "(upstream_max_mappings, or past a range's first %d ports)", behind,
		    UP_RANGE_MAX);
		diag_fail(r, DIAG_BEHIND_NAT);
	}
}

static void
diag_step_address(const struct diag_facts *f, struct diag_report *r)
{
	char a[INET6_ADDRSTRLEN];

	if (!f->has_ext) {
		diag_step(r, DIAG_STEP_ADDRESS, DIAG_FAIL, "the gateway has no external address "
		    "(its WAN interface has no IPv4 address, and external_ip is not set)");
		diag_fail(r, DIAG_NO_ADDRESS);
		return;
	}
	util_addr_str(&f->ext, a, sizeof(a));
	if (f->upstream && f->ext_class != IPCLASS_PUBLIC) {
		diag_step_upstream(f, r, a);
		return;
	}
	switch (f->ext_class) {
	case IPCLASS_PUBLIC:
		diag_step(r, DIAG_STEP_ADDRESS, DIAG_OK, "the external address %s is public", a);
		break;
	case IPCLASS_PRIVATE:
	case IPCLASS_SHARED:
		diag_step(r, DIAG_STEP_ADDRESS, DIAG_FAIL, "the external address %s is %s, in "
		    "%s: the gateway is itself behind another NAT, so the internet cannot reach "
		    "this port through this gateway alone (the NAT upstream must forward it too, "
		    "or the ISP must give the gateway a public address)", a,
		    ipclass_what(f->ext_class), f->ext_block);
		diag_fail(r, DIAG_BEHIND_NAT);
		break;
	case IPCLASS_DOCUMENTATION:
	case IPCLASS_BENCHMARK:
		diag_step(r, DIAG_STEP_ADDRESS, DIAG_WARN, "the external address %s is %s, in "
		    "%s: only a test network routes it, the internet does not", a,
		    ipclass_what(f->ext_class), f->ext_block);
		break;
	default:
		diag_step(r, DIAG_STEP_ADDRESS, DIAG_FAIL, "the external address %s is %s%s%s: "
		    "nobody routes it to the gateway", a, ipclass_what(f->ext_class),
		    f->ext_block[0] ? ", in " : "", f->ext_block);
		diag_fail(r, DIAG_NOT_ROUTABLE);
		break;
	}
}

static void
diag_step_entry(const struct diag_facts *f, struct diag_report *r)
{
	char a[INET6_ADDRSTRLEN], ports[32], lease[32], desc[MT_DESC_MAX + 8];
	const char *pr = mt_proto_name(f->proto);

	if (!f->has_entry) {
		diag_step(r, DIAG_STEP_ENTRY, DIAG_FAIL, "no mapping holds %s %u%s", pr, f->port,
		    f->nhints ? "; the closest:" : ", and none is near it");
		diag_fail(r, DIAG_NO_MAPPING);
		return;
	}
	if (f->ext_hi != f->ext_lo)
		snprintf(ports, sizeof(ports), "%u-%u (port %u)", f->ext_lo, f->ext_hi, f->port);
	else
		snprintf(ports, sizeof(ports), "%u", f->ext_lo);
	if (f->left_s < 0)
		snprintf(lease, sizeof(lease), "permanent");
	else
		snprintf(lease, sizeof(lease), "%ld s left", f->left_s);
	desc[0] = '\0';
	if (f->desc[0] != '\0')
		snprintf(desc, sizeof(desc), ", \"%s\"", f->desc);
	diag_step(r, DIAG_STEP_ENTRY, f->filters[0] ? DIAG_WARN : DIAG_OK,
	    "%s %s is held by %s:%u (%s, %s%s)%s%s", pr, ports,
	    util_addr_str(&f->int_addr, a, sizeof(a)), f->int_port, mt_source_name(f->source),
	    lease, desc, f->filters[0] ? "; only these remote peers may use it: " : "",
	    f->filters);
}

/* "2 elements" / "its element" */
static const char *
diag_elems(unsigned n, char *buf, size_t len)
{
	if (n == 1)
		snprintf(buf, len, "its element");
	else
		snprintf(buf, len, "its %u elements", n);
	return buf;
}

static void
diag_step_kernel(const struct diag_facts *f, struct diag_report *r)
{
	const struct fw_elem_info *k = &f->k0;
	char el[32], t[80];

	if (!f->fw_kernel) {
		diag_step(r, DIAG_STEP_KERNEL, DIAG_FAIL, "firewall = none: the mapping lives in "
		    "memory only, the kernel forwards nothing");
		diag_fail(r, DIAG_NO_FIREWALL);
		return;
	}
	if (f->kq != 1 || k->elems == 0) {
		diag_step(r, DIAG_STEP_KERNEL, DIAG_WARN, "cannot read what the kernel holds "
		    "for it: %s", f->kq != 1 ? strerror(f->kq_err) : "the firewall cannot say");
		return;
	}
	if (k->timeout_ms == 0)
		snprintf(t, sizeof(t), "no timeout: permanent");
	else
		snprintf(t, sizeof(t), "timeout %llu s, %llu s left",
		    (unsigned long long)((k->timeout_ms + 999) / 1000),
		    (unsigned long long)((k->left_ms + 999) / 1000));
	diag_elems(k->elems, el, sizeof(el));
	if (k->found == k->elems) {
		diag_step(r, DIAG_STEP_KERNEL, DIAG_OK, "the kernel holds %s (%s)", el, t);
		return;
	}
	diag_step(r, DIAG_STEP_KERNEL, DIAG_FAIL, "the kernel holds %u of %s: the firewall lost "
	    "%s (portgated rebuilds its tables when another program changes them)", k->found, el,
	    k->found ? "some" : "them");
	diag_fail(r, DIAG_NOT_IN_KERNEL);
}

/* "s" unless n is 1 */
static const char *
diag_pl(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void
diag_step_traffic(const struct diag_facts *f, struct diag_report *r)
{
	const struct fw_elem_info *k = f->kq1 == 1 ? &f->k1 : &f->k0;
	uint64_t d = k->pkts >= f->k0.pkts ? k->pkts - f->k0.pkts : k->pkts;
	uint64_t db = k->bytes >= f->k0.bytes ? k->bytes - f->k0.bytes : k->bytes;
	double w = f->wait_ms / 1000.0;

	if (f->kq1 != 1) {
		diag_step(r, DIAG_STEP_TRAFFIC, DIAG_WARN, "%llu packet%s came in from the WAN "
		    "since its element was written; the counter could not be read again",
		    (unsigned long long)f->k0.pkts, diag_pl(f->k0.pkts));
		return;
	}
	if (k->found < k->elems) {
		diag_step(r, DIAG_STEP_TRAFFIC, DIAG_WARN, "its element left the kernel during "
		    "the check (deleted or expired)");
		return;
	}
	if (d > 0)
		diag_step(r, DIAG_STEP_TRAFFIC, DIAG_OK, "%llu packet%s (%llu bytes) came in from "
		    "the WAN during the %.1f s check (%llu since its element was written)",
		    (unsigned long long)d, diag_pl(d), (unsigned long long)db, w,
		    (unsigned long long)k->pkts);
	else if (k->pkts > 0)
		diag_step(r, DIAG_STEP_TRAFFIC, DIAG_OK, "no packet came in during the %.1f s "
		    "check; %llu came in from the WAN since its element was written", w,
		    (unsigned long long)k->pkts);
	else
		diag_step(r, DIAG_STEP_TRAFFIC, DIAG_WARN, "no packet from the WAN has reached "
		    "it since its element was written: no one has tried, or something before "
		    "the gateway (another NAT, the ISP's filter) stops them");
}

static void
diag_step_udp_host(const struct diag_facts *f, struct diag_report *r, const char *a)
{
	const char *nud = diag_nud_name(f->host_nud);

	if (f->host_nud == -1)
		diag_step(r, DIAG_STEP_HOST, DIAG_WARN, "cannot read the gateway's neighbour "
		    "table for %s", a);
	else if (f->host_nud == 0)
		diag_step(r, DIAG_STEP_HOST, DIAG_WARN, "the gateway has no neighbour entry for "
		    "%s: it has not heard from it lately", a);
	else if (f->host_nud & (NUD_INCOMPLETE | NUD_FAILED)) {
		diag_step(r, DIAG_STEP_HOST, DIAG_FAIL, "%s does not answer ARP (neighbour entry "
		    "%s): it is off or not on the LAN", a, nud);
		diag_fail(r, DIAG_HOST_DOWN);
	} else
		diag_step(r, DIAG_STEP_HOST, DIAG_OK, "%s is on the LAN (neighbour entry %s%s); "
		    "whether something listens on UDP %u only its application can tell", a, nud,
		    f->host_nud & NUD_REACHABLE ? "" : ": seen before, not confirmed just now",
		    f->int_port);
}

static void
diag_step_host(const struct diag_facts *f, struct diag_report *r)
{
	char a[INET6_ADDRSTRLEN];
	double t = f->probe_ms / 1000.0;

	util_addr_str(&f->int_addr, a, sizeof(a));
	switch (f->host) {
	case DIAG_HOST_ACCEPTS:
		diag_step(r, DIAG_STEP_HOST, DIAG_OK, "%s accepts TCP connections on port %u "
		    "(tried from the gateway)", a, f->int_port);
		break;
	case DIAG_HOST_REFUSED:
		diag_step(r, DIAG_STEP_HOST, DIAG_FAIL, "%s refuses TCP connections on port %u: "
		    "nothing listens there", a, f->int_port);
		diag_fail(r, DIAG_HOST_NOT_LISTENING);
		break;
	case DIAG_HOST_TIMEOUT:
		diag_step(r, DIAG_STEP_HOST, DIAG_FAIL, "%s does not answer on TCP port %u within "
		    "%.1f s: it is off, or its own firewall drops the connection", a, f->int_port, t);
		diag_fail(r, DIAG_HOST_DOWN);
		break;
	case DIAG_HOST_UNREACH:
		diag_step(r, DIAG_STEP_HOST, DIAG_FAIL, "%s is unreachable from the gateway (%s): "
		    "it is off or not on the LAN", a, strerror(f->host_err));
		diag_fail(r, DIAG_HOST_DOWN);
		break;
	case DIAG_HOST_NEIGH:
		diag_step_udp_host(f, r, a);
		break;
	default:
		diag_step(r, DIAG_STEP_HOST, DIAG_WARN, "cannot try %s: %s", a,
		    f->host_err ? strerror(f->host_err) : "not tried");
		break;
	}
}

static void
diag_step_hairpin(const struct diag_facts *f, struct diag_report *r)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	util_addr_str(&f->ext, a, sizeof(a));
	if (f->hairpin && f->has_entry)
		diag_step(r, DIAG_STEP_HAIRPIN, DIAG_OK, "LAN hosts can use %s:%u too (hairpin = "
		    "yes: the gateway reflects it to the mapped host)", a, f->port);
	else if (f->hairpin)
		diag_step(r, DIAG_STEP_HAIRPIN, DIAG_OK, "once a mapping holds %s %u, LAN hosts "
		    "can use %s:%u too (hairpin = yes)", mt_proto_name(f->proto), f->port, a,
		    f->port);
	else if (f->has_entry)
		diag_step(r, DIAG_STEP_HAIRPIN, DIAG_WARN, "LAN hosts cannot use %s:%u (hairpin = "
		    "no): from the LAN, use %s:%u", a, f->port,
		    util_addr_str(&f->int_addr, b, sizeof(b)), f->int_port);
	else
		diag_step(r, DIAG_STEP_HAIRPIN, DIAG_WARN, "LAN hosts cannot use the external "
		    "address %s (hairpin = no)", a);
}

static void
diag_verdict_text(const struct diag_facts *f, struct diag_report *r)
{
	char a[INET6_ADDRSTRLEN];
	char *t = r->verdict_text;
	size_t len = sizeof(r->verdict_text);

	switch (r->verdict) {
	case DIAG_REACHABLE:
		snprintf(t, len, "reachable%s%.300s", f->filters[0] ? " only from " : "", f->filters);
		break;
	case DIAG_NO_ADDRESS:
		snprintf(t, len, "not reachable: the gateway has no external address");
		break;
	case DIAG_BEHIND_NAT:
		snprintf(t, len, "not reachable from the internet: gateway is behind another NAT "
		    "(%s)", f->ext_block);
		break;
	case DIAG_NOT_ROUTABLE:
		snprintf(t, len, "not reachable from the internet: the external address %s is %s",
		    util_addr_str(&f->ext, a, sizeof(a)), ipclass_name(f->ext_class));
		break;
	case DIAG_NO_MAPPING:
		snprintf(t, len, "not reachable: no mapping");
		break;
	case DIAG_NO_FIREWALL:
		snprintf(t, len, "not reachable: firewall = none forwards nothing");
		break;
	case DIAG_NOT_IN_KERNEL:
		snprintf(t, len, "not reachable: the kernel does not hold the mapping");
		break;
	case DIAG_HOST_NOT_LISTENING:
		snprintf(t, len, "not reachable: host does not listen");
		break;
	default:
		snprintf(t, len, "not reachable: host does not answer");
		break;
	}
}

static int
diag_counting(const struct diag_facts *f)
{
	return f->has_entry && f->fw_kernel && f->kq == 1 && f->k0.counted && f->k0.elems > 0 &&
	    f->k0.found == f->k0.elems;
}

void
diag_conclude(const struct diag_facts *f, struct diag_report *r)
{
	memset(r, 0, sizeof(*r));
	r->facts = *f;
	r->verdict = DIAG_REACHABLE;
	diag_step_address(f, r);
	diag_step_entry(f, r);
	if (f->has_entry)
		diag_step_kernel(f, r);
	if (diag_counting(f))
		diag_step_traffic(f, r);
	if (f->has_entry && f->fw_kernel)
		diag_step_host(f, r);
	if (f->fw_kernel && f->has_ext)
		diag_step_hairpin(f, r);
	diag_verdict_text(f, r);
}

/* ---- renderings ---- */

void
diag_text(const struct diag_report *r, struct evbuffer *b)
{
	const struct diag_facts *f = &r->facts;
	size_t i, h;

	for (i = 0; i < r->nsteps; i++) {
		evbuffer_add_printf(b, "%-8s %-5s %s\n", diag_step_name(r->step[i].id),
		    diag_level_name(r->step[i].level), r->step[i].text);
		if (r->step[i].id != DIAG_STEP_ENTRY || f->has_entry)
			continue;
		for (h = 0; h < f->nhints; h++)
			evbuffer_add_printf(b, "%-8s %-5s - %s\n", "", "", f->hints[h]);
	}
	evbuffer_add_printf(b, "verdict: %s\n", r->verdict_text);
}

static void
diag_json_entry(const struct diag_facts *f, struct evbuffer *b)
{
	char a[INET6_ADDRSTRLEN];

	if (!f->has_entry) {
		evbuffer_add_printf(b, ",\"entry\":null");
		return;
	}
	evbuffer_add_printf(b, ",\"entry\":{\"source\":\"%s\",\"external_port\":%u,"
	    "\"external_port_end\":%u,\"internal_ip\":\"%s\",\"internal_port\":%u,"
	    "\"description\":", mt_source_name(f->source), f->ext_lo, f->ext_hi,
	    util_addr_str(&f->int_addr, a, sizeof(a)), f->int_port);
	util_json_str(b, f->desc, strlen(f->desc));
	if (f->left_s < 0)
		evbuffer_add_printf(b, ",\"expires_in\":null}");
	else
		evbuffer_add_printf(b, ",\"expires_in\":%ld}", f->left_s);
}

static void
diag_json_kernel(const struct diag_facts *f, struct evbuffer *b)
{
	const struct fw_elem_info *k = &f->k0, *k1 = f->kq1 == 1 ? &f->k1 : &f->k0;

	if (!f->has_entry || !f->fw_kernel || f->kq != 1 || k->elems == 0) {
		evbuffer_add_printf(b, ",\"kernel\":null");
		return;
	}
	evbuffer_add_printf(b, ",\"kernel\":{\"elements\":%u,\"found\":%u,\"timeout\":",
	    k->elems, k->found);
	if (k->timeout_ms == 0)
		evbuffer_add_printf(b, "null,\"left\":null");
	else
		evbuffer_add_printf(b, "%llu,\"left\":%llu",
		    (unsigned long long)((k->timeout_ms + 999) / 1000),
		    (unsigned long long)((k->left_ms + 999) / 1000));
	if (k->counted)
		evbuffer_add_printf(b, ",\"packets_before\":%llu,\"packets_after\":%llu,"
		    "\"bytes_after\":%llu,\"wait_ms\":%u}", (unsigned long long)k->pkts,
		    (unsigned long long)k1->pkts, (unsigned long long)k1->bytes, f->wait_ms);
	else
		evbuffer_add_printf(b, ",\"packets_before\":null,\"packets_after\":null,"
		    "\"bytes_after\":null,\"wait_ms\":%u}", f->wait_ms);
}

void
diag_json(const struct diag_report *r, struct evbuffer *b)
{
	const struct diag_facts *f = &r->facts;
	char a[INET6_ADDRSTRLEN];
	size_t i;

	evbuffer_add_printf(b, "{\"proto\":\"%s\",\"port\":%u,\"verdict\":\"%s\","
	    "\"reachable\":%s,\"summary\":", mt_proto_name(f->proto), f->port,
	    diag_verdict_name(r->verdict), r->verdict == DIAG_REACHABLE ? "true" : "false");
	util_json_str(b, r->verdict_text, strlen(r->verdict_text));
	if (f->has_ext)
		evbuffer_add_printf(b, ",\"external_ip\":\"%s\",\"address_class\":\"%s\"",
		    util_addr_str(&f->ext, a, sizeof(a)), ipclass_name(f->ext_class));
	else
		evbuffer_add_printf(b, ",\"external_ip\":null,\"address_class\":null");
	diag_json_entry(f, b);
	diag_json_kernel(f, b);
	evbuffer_add_printf(b, ",\"closest\":[");
	for (i = 0; i < f->nhints; i++) {
		evbuffer_add_printf(b, "%s", i ? "," : "");
		util_json_str(b, f->hints[i], strlen(f->hints[i]));
	}
	evbuffer_add_printf(b, "],\"steps\":[");
	for (i = 0; i < r->nsteps; i++) {
		evbuffer_add_printf(b, "%s{\"step\":\"%s\",\"status\":\"%s\",\"text\":",
		    i ? "," : "", diag_step_name(r->step[i].id), diag_level_name(r->step[i].level));
		util_json_str(b, r->step[i].text, strlen(r->step[i].text));
		evbuffer_add_printf(b, "}");
	}
	evbuffer_add_printf(b, "]}");
}

/* ---- gathering the facts ---- */

static void diag_hint(struct diag_facts *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
diag_hint(struct diag_facts *f, const char *fmt, ...)
{
	va_list ap;

	if (f->nhints >= DIAG_HINTS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(f->hints[f->nhints++], sizeof(f->hints[0]), fmt, ap);
	va_end(ap);
}

/* "tcp 8081 -> 192.0.2.10:8081 (upnp)" for entry e at external port p. */
static const char *
diag_entry_str(const struct mt_entry *e, uint16_t p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s %u -> %s:%u (%s)", mt_proto_name(e->proto), p,
	    util_addr_str(&e->int_addr, a, sizeof(a)), (unsigned)(e->int_port + (p - e->ext_port)),
	    mt_source_name(e->source));
	return buf;
}

/* The mapped ports just below and above the port, if they are near. */
static void
diag_hint_near(struct diag_facts *f, const struct mtable *mt)
{
	size_t rank = mtable_port_rank(mt, f->proto, f->port);
	const struct mt_entry *e;
	char s[128];
	uint16_t p;

	if (rank > 0 && (e = mtable_port_at(mt, rank - 1, &p)) != NULL && e->proto == f->proto &&
	    f->port - p <= DIAG_NEAR)
		diag_hint(f, "nearby: %s", diag_entry_str(e, p, s, sizeof(s)));
	if ((e = mtable_port_at(mt, rank, &p)) != NULL && e->proto == f->proto &&
	    p - f->port <= DIAG_NEAR)
		diag_hint(f, "nearby: %s", diag_entry_str(e, p, s, sizeof(s)));
}

struct diag_trig {
	struct diag_facts	*f;
};

/* "5000" or "8000-8010" */
static const char *
diag_ports(const struct trig_range *r, char *buf, size_t len)
{
	if (r->lo == r->hi)
		snprintf(buf, len, "%u", r->lo);
	else
		snprintf(buf, len, "%u-%u", r->lo, r->hi);
	return buf;
}

static void
diag_hint_trig(void *arg, const struct trig_rule *rule, const struct trig_status *st)
{
	struct diag_facts *f = ((struct diag_trig *)arg)->f;
	char a[INET6_ADDRSTRLEN], o[16], t[16];
	size_t i;

	for (i = 0; i < rule->nopen; i++) {
		if (rule->open[i].proto != f->proto || f->port < rule->open[i].lo ||
		    f->port > rule->open[i].hi)
			continue;
		diag_hint(f, "trigger rule %s opens %s %s when a LAN host sends to %s %s (%s%s)",
		    rule->name, mt_proto_name(f->proto), diag_ports(&rule->open[i], o, sizeof(o)),
		    mt_proto_name(rule->trigger.proto), diag_ports(&rule->trigger, t, sizeof(t)),
		    st->active ? "active for " : "not active now",
		    st->active ? util_addr_str(&st->holder, a, sizeof(a)) : "");
		return;
	}
}

/* Entries that lead to the port as an internal one: mappings and IPv6 pinholes. */
static void
diag_hint_internal(struct diag_facts *f, const struct mtable *mt)
{
	const struct mt_entry *e;
	char s[128], a[INET6_ADDRSTRLEN];
	int n = 0;

	for (e = mtable_next(mt, NULL); e != NULL && n < 2; e = mtable_next(mt, e))
		if (e->proto == f->proto && e->ext_port == e->ext_port_end &&
		    e->int_port == f->port) {
			diag_hint(f, "forwarded from another external port: %s",
			    diag_entry_str(e, e->ext_port, s, sizeof(s)));
			n++;
		}
	for (e = mtable_pinhole_next(mt, NULL); e != NULL && n < 3; e = mtable_pinhole_next(mt, e))
		if (e->proto == f->proto && e->int_port == f->port) {
			diag_hint(f, "an IPv6 pinhole lets %s port %u in to [%s] (%s): IPv6 clients "
			    "reach it there, without NAT", mt_proto_name(f->proto), f->port,
			    util_addr_str(&e->int_addr, a, sizeof(a)), mt_source_name(e->source));
			n++;
		}
}

/* No entry holds the port: what is closest to it. */
static void
diag_gather_hints(struct diag *d)
{
	struct diag_facts *f = &d->rep.facts;
	const struct mtable *mt = d->ctx->mt;
	const struct mt_entry *e;
	struct diag_trig t = { f };
	char s[128];

	if ((e = mtable_lookup_ext(mt, f->proto == MT_TCP ? MT_UDP : MT_TCP, f->port)) != NULL)
		diag_hint(f, "the other protocol: %s", diag_entry_str(e, f->port, s, sizeof(s)));
	diag_hint_near(f, mt);
	if (d->ctx->trig != NULL)
		trigger_foreach_status(d->ctx->trig, diag_hint_trig, &t);
	diag_hint_internal(f, mt);
}

/* The entry's upstream mapping, for the port checked (a range's ports follow its first). */
static void
diag_gather_upstream(struct diag *d, const struct mt_entry *e)
{
	struct diag_facts *f = &d->rep.facts;
	unsigned off = (unsigned)(f->port - e->ext_port);
	struct up_view v;

	if (!upstream_view(d->ctx->up, e, &v) || off >= v.asked)
		return;
	f->has_up_map = 1;
	f->up_granted = v.state == PCPC_GRANTED;
	snprintf(f->up_state, sizeof(f->up_state), "%s", pcpc_state_name(v.state));
	f->up_ext = v.ext_addr;
	f->up_ext_port = (uint16_t)(v.ext_port + off);
}

static void
diag_gather_entry(struct diag *d)
{
	struct diag_facts *f = &d->rep.facts;
	const struct mt_entry *e = mtable_lookup_ext(d->ctx->mt, f->proto, f->port);
	size_t i, n = 0;
	char s[48];

	if (e == NULL) {
		diag_gather_hints(d);
		return;
	}
	f->has_entry = 1;
	f->source = e->source;
	f->ext_lo = e->ext_port;
	f->ext_hi = e->ext_port_end;
	f->int_addr = e->int_addr;
	f->int_port = (uint16_t)(e->int_port + (f->port - e->ext_port));
	f->left_s = mtable_remaining(d->ctx->mt, e);
	snprintf(f->desc, sizeof(f->desc), "%s", e->desc);
	for (i = 0; i < e->nfilters && n < sizeof(f->filters); i++)
		n += (size_t)snprintf(f->filters + n, sizeof(f->filters) - n, "%s%s", i ? "," : "",
		    mt_filter_str(&e->filters[i], s, sizeof(s)));
	mtable_fw_item(d->ctx->mt, e, &d->item);
	diag_gather_upstream(d, e);
}

static void
diag_gather_address(struct diag *d)
{
	struct diag_facts *f = &d->rep.facts;
	const struct pg_config *cfg = d->ctx->cfg;

	f->has_ext = cfg->has_external_ip;
	f->ext = cfg->external_ip;
	f->ext_class = f->has_ext ? ipclass_of(&f->ext, &f->ext_block) : IPCLASS_NOT_V4;
	if (f->ext_block == NULL)
		f->ext_block = "";
	f->hairpin = cfg->hairpin;
	f->upstream = upstream_server(d->ctx->up, &f->up_server);
}

/* ---- the wait and the probes ---- */

static void
diag_finish(struct diag *d)
{
	struct diag_report rep;

	diag_conclude(&d->rep.facts, &rep);
	d->done(d->arg, &rep);
	diag_cancel(d);
}

static void
diag_tcp_done(void *arg, int err)
{
	struct diag *d = arg;
	struct diag_facts *f = &d->rep.facts;

	f->host_err = err;
	if (err == 0)
		f->host = DIAG_HOST_ACCEPTS;
	else if (err == ECONNREFUSED)
		f->host = DIAG_HOST_REFUSED;
	else if (err == ETIMEDOUT)
		f->host = DIAG_HOST_TIMEOUT;
	else if (err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN)
		f->host = DIAG_HOST_UNREACH;
	else
		f->host = DIAG_HOST_ERROR;
	diag_tcp_free(d->tcp);
	d->tcp = NULL;
	if (--d->waiting == 0)
		diag_finish(d);
}

/* The wait is over: the counter and (UDP) the neighbour state again. */
static void
diag_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct diag *d = arg;
	struct diag_facts *f = &d->rep.facts;

	(void)fd;
	(void)ev;
	if (diag_counting(f))
		f->kq1 = fw_elem_query(d->ctx->fw, &d->item, &f->k1) == 0 ? 1 : -1;
	if (d->kicked)
		f->host_nud = diag_neigh_state(&f->int_addr);
	if (--d->waiting == 0)
		diag_finish(d);
}

/* UDP: the neighbour state now; a host the kernel has not resolved is resolved during the wait. */
static void
diag_udp_host(struct diag *d)
{
	struct diag_facts *f = &d->rep.facts;
	const struct netif_prefix *p;
	size_t i, n;
	struct in6_addr net;

	f->host = DIAG_HOST_NEIGH;
	f->host_nud = diag_neigh_state(&f->int_addr);
	if (f->host_nud == -1 || (f->host_nud & (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP)) ||
	    d->ctx->neigh == NULL || d->ctx->netif == NULL)
		return;
	n = netif_lan_prefixes(d->ctx->netif, &p);
	for (i = 0; i < n; i++) {
		net = f->int_addr;
		mt_mask(&net, p[i].plen);
		if (memcmp(&net, &p[i].addr, sizeof(net)) == 0 && p[i].ifindex != 0) {
			d->kicked = neigh_resolve(d->ctx->neigh, (int)p[i].ifindex,
			    &f->int_addr) == 0;
			return;
		}
	}
}

/* The internal host: a TCP connect in the loop, or the neighbour state. */
static void
diag_probe_host(struct diag *d)
{
	struct diag_facts *f = &d->rep.facts;

	if (f->proto == MT_UDP) {
		diag_udp_host(d);
		return;
	}
	f->probe_ms = f->wait_ms < DIAG_PROBE_MIN ? DIAG_PROBE_MIN : f->wait_ms;
	d->tcp = diag_tcp_start(d->ctx->base, &f->int_addr, f->int_port, f->probe_ms,
	    diag_tcp_done, d);
	if (d->tcp == NULL) {
		f->host = DIAG_HOST_ERROR;
		f->host_err = errno ? errno : ENOMEM;
	} else
		d->waiting++;
}

struct diag *
diag_start(struct pg_ctx *ctx, int proto, uint16_t port, uint32_t wait_ms, diag_done_cb *done,
    void *arg)
{
	struct diag *d;
	struct diag_facts *f;
	struct timeval tv = { 0, 0 };

	if (proto < 0 || proto >= MT_NPROTO || port == 0 || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->ctx = ctx;
	d->done = done;
	d->arg = arg;
	f = &d->rep.facts;
	f->proto = (uint8_t)proto;
	f->port = port;
	f->wait_ms = wait_ms == 0 ? DIAG_WAIT_MS : wait_ms > DIAG_WAIT_MAX_MS ?
	    DIAG_WAIT_MAX_MS : wait_ms;
	diag_gather_address(d);
	diag_gather_entry(d);
	f->fw_kernel = fw_in_kernel(ctx->fw);
	if (f->has_entry && f->fw_kernel) {
		f->kq = fw_elem_query(ctx->fw, &d->item, &f->k0) == 0 ? 1 : -1;
		f->kq_err = f->kq == 1 ? 0 : errno;
	}
	/* without the kernel nothing is forwarded, whatever the host says: no probe */
	if (f->has_entry && f->fw_kernel)
		diag_probe_host(d);
	if (diag_counting(f) || d->kicked) {
		tv.tv_sec = f->wait_ms / 1000;
		tv.tv_usec = (f->wait_ms % 1000) * 1000;
	}
	/* the answer comes from the loop, even when there is nothing to wait for */
	if ((d->timer = evtimer_new(ctx->base, diag_timer_cb, d)) == NULL ||
	    evtimer_add(d->timer, &tv) == -1) {
		diag_cancel(d);
		return NULL;
	}
	d->waiting++;
	return d;
}

void
diag_cancel(struct diag *d)
{
	if (d == NULL)
		return;
	if (d->timer != NULL)
		event_free(d->timer);
	diag_tcp_free(d->tcp);
	free(d);
}
