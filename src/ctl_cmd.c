/* ctl_cmd.c - the control commands behind portgatectl. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctl_cmd.h"
#include "ctl_line.h"
#include "ctl_status.h"
#include "daemon.h"
#include "diag.h"
#include "hostnames.h"
#include "event.h"
#include "fw/fw.h"
#include "log.h"
#include "metrics.h"
#include "mtable.h"
#include "trigger/trigger.h"
#include "upstream.h"
#include "util.h"

#define CTL_LIST_COUNTED_MAX	32768	/* list --json: counters read for so many */

static void ctl_data(struct ctl_req *, const char *, ...) __attribute__((format(printf, 2, 3)));
static void ctl_fail(struct ctl_req *, const char *, ...) __attribute__((format(printf, 2, 3)));
static void ctl_done(struct ctl_req *, const char *, ...) __attribute__((format(printf, 2, 3)));
static void ctl_fail_as(struct ctl_req *, enum ctl_fail, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* One data line, to the request's sink (the socket encodes it: no value can end the reply). */
static void
ctl_data(struct ctl_req *r, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	r->out.data(r->out.arg, s, (size_t)n);
	free(s);
}

/* A data line built in an evbuffer (JSON rows). */
static void
ctl_data_buf(struct ctl_req *r, struct evbuffer *b)
{
	size_t len = evbuffer_get_length(b);

	r->out.data(r->out.arg, len ? (const char *)evbuffer_pullup(b, -1) : "", len);
	evbuffer_drain(b, len);
}

static void
ctl_vfail(struct ctl_req *r, enum ctl_fail kind, const char *fmt, va_list ap)
{
	vsnprintf(r->result, sizeof(r->result), fmt, ap);
	r->ok = 0;
	r->fail = kind;
}

/* A bad request: usage, a bad value. */
static void
ctl_fail(struct ctl_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vfail(r, CTL_FAIL_BAD, fmt, ap);
	va_end(ap);
}

/* A failure of another kind (enum ctl_fail). */
static void
ctl_fail_as(struct ctl_req *r, enum ctl_fail kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vfail(r, kind, fmt, ap);
	va_end(ap);
}

static void
ctl_done(struct ctl_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->result, sizeof(r->result), fmt, ap);
	va_end(ap);
	r->ok = 1;
}

struct ctl_command {
	const char	*word1;
	const char	*word2;		/* NULL: one-word command */
	const char	*args;		/* its usage after the words */
	void		(*fn)(struct ctl_req *, int, char **);
};

/* The command's usage, as its row in ctl_commands[] gives it. */
static void
ctl_usage(struct ctl_req *r)
{
	const struct ctl_command *c = r->cmd;

	ctl_fail(r, "usage: %s%s%s%s%s", c->word1, c->word2 ? " " : "", c->word2 ? c->word2 : "",
	    c->args[0] ? " " : "", c->args);
}

/* Pull "--name VALUE" / "--flag" options out of argv; returns remaining argc or -1. */
struct ctl_opt {
	const char	*name;
	int		 has_value;
	const char	*value;		/* set when present ("" for flags) */
};

static int
ctl_getopts(struct ctl_req *r, int argc, char **argv, struct ctl_opt *opts, size_t nopts)
{
	int i, out = 0;
	size_t j;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {	/* the rest are words, whatever they say */
			while (++i < argc)
				argv[out++] = argv[i];
			break;
		}
		if (strncmp(argv[i], "--", 2) != 0) {
			argv[out++] = argv[i];
			continue;
		}
		for (j = 0; j < nopts && strcmp(argv[i] + 2, opts[j].name) != 0; j++)
			;
		if (j == nopts) {
			ctl_fail(r, "unknown option %s", argv[i]);
			return -1;
		}
		if (!opts[j].has_value) {
			opts[j].value = "";
			continue;
		}
		if (i + 1 >= argc) {
			ctl_fail(r, "option %s needs a value", argv[i]);
			return -1;
		}
		opts[j].value = argv[++i];
	}
	return out;
}

static const char *
ctl_holder(const struct mt_entry *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	char ports[16];

	if (e->kind == MT_KIND_PINHOLE) {
		snprintf(buf, len, "%s [%s]:%u is held by pinhole %u (%s)", mt_proto_name(e->proto),
		    util_addr_str(&e->int_addr, a, sizeof(a)), e->int_port, e->pin_id,
		    mt_source_name(e->source));
		return buf;
	}
	if (e->ext_port_end != e->ext_port)
		snprintf(ports, sizeof(ports), "%u-%u", e->ext_port, e->ext_port_end);
	else
		snprintf(ports, sizeof(ports), "%u", e->ext_port);
	snprintf(buf, len, "%s %s is held by %s (%s)", mt_proto_name(e->proto), ports,
	    util_addr_str(&e->int_addr, a, sizeof(a)), mt_source_name(e->source));
	return buf;
}

/* Why an add failed, for the admin: the holder, what is wrong with the address, or the error. */
static void
ctl_fail_add(struct ctl_req *r, enum mt_err err, const struct mt_entry *conflict,
    const struct in6_addr *addr, const char *what, char **argv)
{
	char held[200], why[160];

	if (err == MT_ERR_CONFLICT && conflict != NULL)
		ctl_fail_as(r, CTL_FAIL_CONFLICT, "%s", ctl_holder(conflict, held, sizeof(held)));
	else if (err == MT_ERR_ADDR && !mtable_client_ok(r->ctx->mt, addr, why, sizeof(why)))
		ctl_fail(r, "bad internal address: %s", why);
	else
		ctl_fail_as(r, err == MT_ERR_CONFLICT || err == MT_ERR_NOPORT ? CTL_FAIL_CONFLICT :
		    err == MT_ERR_NOMEM ? CTL_FAIL_INTERNAL : err == MT_ERR_INVAL ||
		    err == MT_ERR_ADDR ? CTL_FAIL_BAD : CTL_FAIL_REFUSED, "%s%s %s: %s", what,
		    argv[0], argv[1], mt_strerror(err));
}

/* The reply waits until e is in the kernel (ctl_cmd_landed says how it went). */
static void
ctl_land(struct ctl_req *r, const struct mt_entry *e)
{
	r->landing = e;
	r->land_proto = e->proto;
	r->land_port = e->ext_port;
}

void
ctl_cmd_landed(struct ctl_req *r, int err)
{
	r->landing = NULL;
	if (err != 0)
		ctl_fail_as(r, CTL_FAIL_INTERNAL, "firewall refused %s %u: %s",
		    mt_proto_name(r->land_proto), r->land_port, strerror(err));
}

/* ---- status ---- */

static void ctl_status_line(void *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* One status field as the data line "NAME VALUE". */
static void
ctl_status_line(void *arg, const char *name, const char *fmt, ...)
{
	struct ctl_req *r = arg;
	va_list ap;
	char *v;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ctl_data(r, "%s %s", name, v);
	free(v);
}

static void
cmd_status(struct ctl_req *r, int argc, char **argv)
{
	(void)argv;
	if (argc != 0) {
		ctl_usage(r);
		return;
	}
	ctl_status(r->ctx, r->hooks != NULL ? r->hooks->status : NULL, ctl_status_line, r);
	ctl_done(r, "%s", "");
}

/* ---- list ---- */

/* The host holding addr as list shows it: its name, else its MAC, else "-". */
static const char *
list_host(const struct ctl_req *r, const struct in6_addr *a, char *buf, size_t len)
{
	const char *name = hostnames_name(r->ctx->hosts, a);
	uint8_t mac[6];

	if (name != NULL)
		return name;
	if (hostnames_mac(r->ctx->hosts, a, mac))
		return hostnames_mac_str(mac, buf, len);
	return "-";
}

/* The "host" (its name from the lease files) and "mac" fields of addr, null where unknown. */
static void
json_host(struct evbuffer *b, const struct pg_ctx *ctx, const struct in6_addr *a)
{
	const char *name = hostnames_name(ctx->hosts, a);
	uint8_t mac[6];
	char m[18];

	evbuffer_add_printf(b, ",\"host\":");
	if (name != NULL)
		util_json_str(b, name, strlen(name));
	else
		evbuffer_add_printf(b, "null");
	if (hostnames_mac(ctx->hosts, a, mac))
		evbuffer_add_printf(b, ",\"mac\":\"%s\"", hostnames_mac_str(mac, m, sizeof(m)));
	else
		evbuffer_add_printf(b, ",\"mac\":null");
}

/*
 * A mapping's "packets" and "bytes": what the kernel counted (k, its answer
 * in the list's dump) where the firewall is the kernel's and holds every
 * element of it; null where nothing counts it (firewall = none), the kernel
 * does not hold it, or the dump failed.
 */
static void
json_map_counters(struct evbuffer *b, const struct pg_ctx *ctx, const struct fw_elem_info *k)
{
	if (k != NULL && fw_in_kernel(ctx->fw) && k->counted && k->elems > 0 &&
	    k->found == k->elems)
		evbuffer_add_printf(b, ",\"packets\":%llu,\"bytes\":%llu",
		    (unsigned long long)k->pkts, (unsigned long long)k->bytes);
	else
		evbuffer_add_printf(b, ",\"packets\":null,\"bytes\":null");
}

/*
 * A mapping's upstream PCP mapping: "upstream_external_ip" and
 * "upstream_external_port" (null until granted) and "upstream_state"
 * (pending, granted, refused, lost; null when the upstream has none for it).
 */
static void
json_upstream(struct evbuffer *b, const struct pg_ctx *ctx, const struct mt_entry *e)
{
	char a[INET6_ADDRSTRLEN];
	struct up_view v;

	if (!upstream_view(ctx->up, e, &v)) {
		evbuffer_add_printf(b, ",\"upstream_external_ip\":null,"
		    "\"upstream_external_port\":null,\"upstream_state\":null");
		return;
	}
	if (v.state == PCPC_GRANTED)
		evbuffer_add_printf(b, ",\"upstream_external_ip\":\"%s\","
		    "\"upstream_external_port\":%u", util_addr_str(&v.ext_addr, a, sizeof(a)),
		    v.ext_port);
	else
		evbuffer_add_printf(b, ",\"upstream_external_ip\":null,"
		    "\"upstream_external_port\":null");
	evbuffer_add_printf(b, ",\"upstream_state\":\"%s\"", pcpc_state_name(v.state));
}

static void
list_json_entry(struct ctl_req *r, struct evbuffer *line, const struct mt_entry *e,
    const struct fw_elem_info *k, int first)
{
	char a[INET6_ADDRSTRLEN];
	long left = mtable_remaining(r->ctx->mt, e);
	char f[64];
	size_t i;

	evbuffer_add_printf(line, "%s{\"proto\":\"%s\",\"external_port\":%u,"
	    "\"external_port_end\":%u,\"internal_ip\":\"%s\",\"internal_port\":%u,"
	    "\"internal_port_end\":%u,\"source\":\"%s\",\"description\":", first ? "" : ",",
	    mt_proto_name(e->proto), e->ext_port, e->ext_port_end,
	    util_addr_str(&e->int_addr, a, sizeof(a)), e->int_port, e->int_port_end,
	    mt_source_name(e->source));
	util_json_str(line, e->desc, strlen(e->desc));
	if (left < 0)
		evbuffer_add_printf(line, ",\"expires_in\":null");
	else
		evbuffer_add_printf(line, ",\"expires_in\":%ld", left);
	if (e->nfilters == 1 && e->filters[0].port == 0 && e->filters[0].plen == 128)
		evbuffer_add_printf(line, ",\"remote_host\":\"%s\"",
		    util_addr_str(&e->filters[0].addr, a, sizeof(a)));
	else
		evbuffer_add_printf(line, ",\"remote_host\":null");
	evbuffer_add_printf(line, ",\"filters\":[");
	for (i = 0; i < e->nfilters; i++)
		evbuffer_add_printf(line, "%s\"%s\"", i ? "," : "",
		    mt_filter_str(&e->filters[i], f, sizeof(f)));
	evbuffer_add_printf(line, "]");
	json_map_counters(line, r->ctx, k);
	evbuffer_add_printf(line, ",\"owner\":");
	util_json_str(line, e->owner, strlen(e->owner));
	json_host(line, r->ctx, &e->int_addr);
	json_upstream(line, r->ctx, e);
	evbuffer_add_printf(line, ",\"kind\":\"mapping\"}");
	ctl_data_buf(r, line);
}

/* After the description: a PCP mapping's nonce (abbreviated) and any remote filters. */
static void
list_text_extra(const struct mt_entry *e, char *buf, size_t len)
{
	char f[64];
	size_t n = 0, i;

	buf[0] = '\0';
	if (e->source == MT_SRC_PCP && e->owner[0] != '\0')
		n += (size_t)snprintf(buf, len, "%snonce=%.8s..", e->desc[0] ? " " : "", e->owner);
	for (i = 0; i < e->nfilters && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : n || e->desc[0] ?
		    " from=" : "from=", mt_filter_str(&e->filters[i], f, sizeof(f)));
}

/* After that: " upstream=ADDR:PORT" where an upstream PCP server holds it, else its state. */
static void
list_text_upstream(const struct pg_ctx *ctx, const struct mt_entry *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t n = strlen(buf);
	struct up_view v;

	if (n >= len || !upstream_view(ctx->up, e, &v))
		return;
	if (v.state == PCPC_GRANTED)
		snprintf(buf + n, len - n, "%supstream=%s:%u", n || e->desc[0] ? " " : "",
		    util_addr_str(&v.ext_addr, a, sizeof(a)), v.ext_port);
	else
		snprintf(buf + n, len - n, "%supstream=%s", n || e->desc[0] ? " " : "",
		    pcpc_state_name(v.state));
}

static void
list_text_entry(struct ctl_req *r, const struct mt_entry *e)
{
	char a[INET6_ADDRSTRLEN], ext[16], in[64], exp[24], extra[MT_MAX_FILTERS * 64 + 32];
	char mac[18];
	long left = mtable_remaining(r->ctx->mt, e);

	util_addr_str(&e->int_addr, a, sizeof(a));
	if (e->ext_port_end != e->ext_port) {
		snprintf(ext, sizeof(ext), "%u-%u", e->ext_port, e->ext_port_end);
		snprintf(in, sizeof(in), "%s:%u-%u", a, e->int_port, e->int_port_end);
	} else {
		snprintf(ext, sizeof(ext), "%u", e->ext_port);
		snprintf(in, sizeof(in), "%s:%u", a, e->int_port);
	}
	if (left < 0)
		snprintf(exp, sizeof(exp), "never");
	else
		snprintf(exp, sizeof(exp), "%lds", left);
	list_text_extra(e, extra, sizeof(extra));
	list_text_upstream(r->ctx, e, extra, sizeof(extra));
	ctl_data(r, "%-5s %-12s %-28s %-8s %-8s %-17s %s%s", mt_proto_name(e->proto), ext, in,
	    mt_source_name(e->source), exp, list_host(r, &e->int_addr, mac, sizeof(mac)), e->desc,
	    extra);
}

/* A pinhole's remote: "*" for anyone, else ADDR/LEN[:PORT]. */
static const char *
pin_remote_str(const struct mt_entry *e, char *buf, size_t len)
{
	if (e->remote.plen == 0 && e->remote.port == 0)
		return "*";
	return mt_filter_str(&e->remote, buf, len);
}

static void
list_json_pinhole(struct ctl_req *r, struct evbuffer *line, const struct mt_entry *e,
    const struct fw_elem_info *k, int first)
{
	char a[INET6_ADDRSTRLEN], f[64];
	long left = mtable_remaining(r->ctx->mt, e);
	uint64_t pkts = 0, bytes = 0;
	size_t i;

	mtable_pinhole_counters_of(e, k, &pkts, &bytes);
	evbuffer_add_printf(line, "%s{\"kind\":\"pinhole\",\"id\":%u,\"proto\":\"%s\","
	    "\"internal_ip\":\"%s\",\"internal_port\":%u,\"source\":\"%s\",\"description\":",
	    first ? "" : ",", e->pin_id, mt_proto_name(e->proto),
	    util_addr_str(&e->int_addr, a, sizeof(a)), e->int_port, mt_source_name(e->source));
	util_json_str(line, e->desc, strlen(e->desc));
	if (left < 0)
		evbuffer_add_printf(line, ",\"expires_in\":null");
	else
		evbuffer_add_printf(line, ",\"expires_in\":%ld", left);
	if (e->remote.plen == 0 && e->remote.port == 0)
		evbuffer_add_printf(line, ",\"remote\":null");
	else
		evbuffer_add_printf(line, ",\"remote\":\"%s\"", pin_remote_str(e, f, sizeof(f)));
	evbuffer_add_printf(line, ",\"filters\":[");
	for (i = 0; i < e->nfilters; i++)
		evbuffer_add_printf(line, "%s\"%s\"", i ? "," : "",
		    mt_filter_str(&e->filters[i], f, sizeof(f)));
	evbuffer_add_printf(line, "],\"packets\":%llu,\"bytes\":%llu,\"owner\":",
	    (unsigned long long)pkts, (unsigned long long)bytes);
	util_json_str(line, e->owner, strlen(e->owner));
	json_host(line, r->ctx, &e->int_addr);
	evbuffer_add_printf(line, "}");
	ctl_data_buf(r, line);
}

static void
list_text_pinhole(struct ctl_req *r, const struct mt_entry *e)
{
	char a[INET6_ADDRSTRLEN], id[24], in[64], exp[24], rem[64], f[64];
	char extra[MT_MAX_FILTERS * 64 + 64], mac[18];
	long left = mtable_remaining(r->ctx->mt, e);
	uint64_t pkts = 0, bytes = 0;
	size_t i, n;

	(void)mtable_pinhole_counters(r->ctx->mt, e, &pkts, &bytes);
	snprintf(id, sizeof(id), "pinhole#%u", e->pin_id);
	snprintf(in, sizeof(in), "[%s]:%u", util_addr_str(&e->int_addr, a, sizeof(a)), e->int_port);
	if (left < 0)
		snprintf(exp, sizeof(exp), "never");
	else
		snprintf(exp, sizeof(exp), "%lds", left);
	n = (size_t)snprintf(extra, sizeof(extra), "%sfrom=", e->desc[0] ? " " : "");
	if (e->nfilters == 0)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s",
		    pin_remote_str(e, rem, sizeof(rem)));
	for (i = 0; i < e->nfilters && n < sizeof(extra); i++)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s%s", i ? "," : "",
		    mt_filter_str(&e->filters[i], f, sizeof(f)));
	if (n < sizeof(extra))
		snprintf(extra + n, sizeof(extra) - n, " pkts=%llu", (unsigned long long)pkts);
	ctl_data(r, "%-5s %-12s %-28s %-8s %-8s %-17s %s%s", mt_proto_name(e->proto), id, in,
	    mt_source_name(e->source), exp, list_host(r, &e->int_addr, mac, sizeof(mac)), e->desc,
	    extra);
}

/* What list shows: --source, --kind (mapping or pinhole); -1 after saying what is wrong. */
struct list_filter {
	int	 source;		/* MT_NSOURCE: every source */
	int	 mappings, pinholes;
};

static int
list_filter_parse(struct ctl_req *r, const struct ctl_opt *src, const struct ctl_opt *kind,
    struct list_filter *f)
{
	f->source = MT_NSOURCE;
	f->mappings = f->pinholes = 1;
	if (src->value != NULL && (f->source = mt_source_parse(src->value)) < 0) {
		ctl_fail(r, "unknown source '%s' (static, upnp, pcp, natpmp, trigger)", src->value);
		return -1;
	}
	if (kind->value != NULL) {
		f->mappings = strcmp(kind->value, "mapping") == 0;
		f->pinholes = strcmp(kind->value, "pinhole") == 0;
		if (!f->mappings && !f->pinholes) {
			ctl_fail(r, "unknown kind '%s' (mapping or pinhole)", kind->value);
			return -1;
		}
	}
	return 0;
}

static int
list_wants(const struct list_filter *f, const struct mt_entry *e)
{
	return f->source == MT_NSOURCE || e->source == f->source;
}

/* The entries list --json shows, in its order: mappings, then pinholes; NULL after the last. */
static const struct mt_entry *
list_next(const struct ctl_req *r, const struct list_filter *f, const struct mt_entry *e)
{
	const struct mtable *mt = r->ctx->mt;

	if (e == NULL || e->kind != MT_KIND_PINHOLE) {
		for (e = f->mappings ? mtable_next(mt, e) : NULL; e != NULL; e = mtable_next(mt, e))
			if (list_wants(f, e))
				return e;
		e = NULL;
	}
	for (e = f->pinholes ? mtable_pinhole_next(mt, e) : NULL; e != NULL;
	    e = mtable_pinhole_next(mt, e))
		if (list_wants(f, e))
			return e;
	return NULL;
}

/*
 * What the kernel holds for every entry the list shows, in its order, with
 * ONE fw_elem_dump: the i-th entry's answer is the i-th; NULL where it is
 * not read (memory, the kernel's error: the counters are then unknown, the
 * list goes on). Reading costs some 10 us an entry, the loop waiting (a
 * second at 100,000): a list of more than CTL_LIST_COUNTED_MAX entries
 * does not read them (README: list a source, or check one port).
 */
static struct fw_elem_info *
list_counters(const struct ctl_req *r, const struct list_filter *f)
{
	const struct mt_entry *e;
	struct fw_item *items;
	struct fw_elem_info *k = NULL;
	size_t n = 0, i = 0;

	for (e = list_next(r, f, NULL); e != NULL; e = list_next(r, f, e))
		n++;
	if (n > CTL_LIST_COUNTED_MAX) {
		log_debug("ctl: list: %zu entries: the kernel's counters are not read", n);
		return NULL;
	}
	if (n == 0 || (items = reallocarray(NULL, n, sizeof(*items))) == NULL)
		return NULL;
	for (e = list_next(r, f, NULL); e != NULL && i < n; e = list_next(r, f, e))
		mtable_fw_item(r->ctx->mt, e, &items[i++]);
	if ((k = reallocarray(NULL, n, sizeof(*k))) != NULL &&
	    fw_elem_dump(r->ctx->fw, items, n, k) == -1) {
		log_debug("ctl: list: the kernel's counters: %s", strerror(errno));
		free(k);
		k = NULL;
	}
	free(items);
	return k;
}

static void
list_json(struct ctl_req *r, const struct list_filter *f)
{
	const struct mt_entry *e;
	struct evbuffer *line;
	struct fw_elem_info *k;
	size_t i = 0;

	if ((line = evbuffer_new()) == NULL) {
		ctl_fail_as(r, CTL_FAIL_INTERNAL, "out of memory");
		return;
	}
	k = list_counters(r, f);
	ctl_data(r, "[");
	for (e = list_next(r, f, NULL); e != NULL; e = list_next(r, f, e), i++) {
		if (e->kind == MT_KIND_PINHOLE)
			list_json_pinhole(r, line, e, k != NULL ? &k[i] : NULL, i == 0);
		else
			list_json_entry(r, line, e, k != NULL ? &k[i] : NULL, i == 0);
	}
	ctl_data(r, "]");
	free(k);
	evbuffer_free(line);
	ctl_done(r, "%s", "");
}

static void
cmd_list(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "json", 0, NULL }, { "source", 1, NULL },
	    { "kind", 1, NULL } };
	const struct mt_entry *e;
	struct list_filter f;

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 0) {
		ctl_usage(r);
		return;
	}
	if (list_filter_parse(r, &opts[1], &opts[2], &f) == -1)
		return;
	if (opts[0].value != NULL) {
		list_json(r, &f);
		return;
	}
	ctl_data(r, "%-5s %-12s %-28s %-8s %-8s %-17s %s", "PROTO", "EXTERNAL", "INTERNAL",
	    "SOURCE", "EXPIRES", "HOST", "DESCRIPTION");
	for (e = mtable_next(r->ctx->mt, NULL); f.mappings && e != NULL;
	    e = mtable_next(r->ctx->mt, e))
		if (list_wants(&f, e))
			list_text_entry(r, e);
	for (e = mtable_pinhole_next(r->ctx->mt, NULL); f.pinholes && e != NULL;
	    e = mtable_pinhole_next(r->ctx->mt, e))
		if (list_wants(&f, e))
			list_text_pinhole(r, e);
	ctl_done(r, "%s", "");
}

/* ---- forward ---- */

static int
ctl_parse_target(const char *s, struct in6_addr *a, uint16_t *port)
{
	char buf[64];
	char *colon;
	unsigned long p = 0;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon++ = '\0';
		if (util_parse_uint(colon, 1, 65535, &p) == -1)
			return -1;
	}
	if (util_parse_addr(buf, a) == -1)
		return -1;
	if (!util_addr_is_v4(a))
		return -2;
	*port = (uint16_t)p;
	return 0;
}

static int
ctl_parse_forward(struct ctl_req *r, char **argv, struct mt_request *q)
{
	int proto, rc;

	memset(q, 0, sizeof(*q));
	if ((proto = mt_proto_parse(argv[0])) < 0) {
		ctl_fail(r, "bad protocol '%s' (tcp or udp)", argv[0]);
		return -1;
	}
	q->proto = (uint8_t)proto;
	if (util_parse_portrange(argv[1], &q->ext_port, &q->ext_port_end) == -1) {
		ctl_fail(r, "bad external port '%s' (PORT or PORT-PORT, 1-65535)", argv[1]);
		return -1;
	}
	if ((rc = ctl_parse_target(argv[2], &q->int_addr, &q->int_port)) == -2 ||
	    (rc == -1 && strchr(argv[2], '[') != NULL) ||
	    (rc == -1 && strchr(argv[2], ':') != strrchr(argv[2], ':'))) {
		ctl_fail(r, "'%s' is IPv6: IPv6 has no NAT, so there is nothing to forward; open a "
		    "pinhole instead: pinhole add %s [IPv6]:PORT", argv[2], argv[0]);
		return -1;
	}
	if (rc == -1) {
		ctl_fail(r, "bad internal address '%s' (IPv4[:PORT])", argv[2]);
		return -1;
	}
	if (q->ext_port_end != q->ext_port && q->int_port != 0 && q->int_port != q->ext_port) {
		char a[INET6_ADDRSTRLEN];

		util_addr_str(&q->int_addr, a, sizeof(a));
		ctl_fail(r, "a range forward maps each port to the same port: use %s or %s:%u",
		    a, a, q->ext_port);
		return -1;
	}
	return 0;
}

/* PROTO EXTPORT[-END] IP[:PORT] with --lease and --desc, for source: added, or said why not. */
static void
ctl_add_mapping(struct ctl_req *r, char **argv, int source, const char *lease_s,
    const char *desc)
{
	const struct mt_entry *conflict = NULL;
	struct mt_entry *e;
	struct mt_request q;
	unsigned long lease = 0;
	char a[INET6_ADDRSTRLEN];
	const char *bad;
	enum mt_err err;

	if (ctl_parse_forward(r, argv, &q) == -1)
		return;
	if (lease_s != NULL && util_parse_uint(lease_s, 0, 31536000, &lease) == -1) {
		ctl_fail(r, "bad lease '%s' (seconds, 0 = permanent)", lease_s);
		return;
	}
	q.source = (uint8_t)source;
	q.lease_s = (uint32_t)lease;
	q.desc = desc != NULL ? desc : "";
	if ((bad = util_text_problem(q.desc, strlen(q.desc), MT_DESC_MAX - 1)) != NULL) {
		ctl_fail(r, "bad description: %s (at most %d bytes of UTF-8 text)", bad,
		    MT_DESC_MAX - 1);
		return;
	}
	q.ext_addr = r->ctx->cfg->external_ip;
	if ((err = mtable_add(r->ctx->mt, &q, &e, &conflict)) != MT_OK) {
		ctl_fail_add(r, err, conflict, &q.int_addr, "", argv);
		return;
	}
	ctl_land(r, e);
	util_addr_str(&e->int_addr, a, sizeof(a));
	if (e->ext_port_end != e->ext_port)
		ctl_done(r, "%s %u-%u -> %s:%u-%u", mt_proto_name(e->proto), e->ext_port,
		    e->ext_port_end, a, e->int_port, e->int_port_end);
	else
		ctl_done(r, "%s %u -> %s:%u", mt_proto_name(e->proto), e->ext_port, a, e->int_port);
}

static void
cmd_forward_add(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "lease", 1, NULL }, { "desc", 1, NULL } };

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 3) {
		ctl_usage(r);
		return;
	}
	ctl_add_mapping(r, argv, MT_SRC_STATIC, opts[0].value, opts[1].value);
}

/*
 * A mapping of another source, in the daemon's name: a UPnP or NAT-PMP
 * client's, brought from elsewhere (portgatectl import-miniupnpd's leases),
 * so that client may renew and delete it as its own.
 */
static void
cmd_mapping_add(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "source", 1, NULL }, { "lease", 1, NULL },
	    { "desc", 1, NULL } };
	int source;

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 3 || opts[0].value == NULL) {
		ctl_usage(r);
		return;
	}
	source = mt_source_parse(opts[0].value);
	if (source != MT_SRC_STATIC && source != MT_SRC_UPNP && source != MT_SRC_NATPMP) {
		ctl_fail(r, "bad source '%s' (static, upnp or natpmp: a PCP mapping needs its "
		    "client's nonce, a trigger's its rule)", opts[0].value);
		return;
	}
	ctl_add_mapping(r, argv, source, opts[1].value, opts[2].value);
}

/* Delete the mapping starting at PROTO PORT (argv), of any source or of source only. */
static void
ctl_del_mapping(struct ctl_req *r, char **argv, int source)
{
	struct mt_entry *e;
	unsigned long port;
	int proto;

	if ((proto = mt_proto_parse(argv[0])) < 0 || util_parse_uint(argv[1], 1, 65535, &port)) {
		ctl_fail(r, "bad mapping '%s %s' (PROTO PORT)", argv[0], argv[1]);
		return;
	}
	if ((e = mtable_lookup_ext(r->ctx->mt, proto, (uint16_t)port)) == NULL ||
	    (source != MT_NSOURCE && e->source != source)) {
		ctl_fail_as(r, CTL_FAIL_MISSING, "no %s%smapping for %s %lu", source == MT_NSOURCE ?
		    "" : mt_source_name(source), source == MT_NSOURCE ? "" : " ", argv[0], port);
		return;
	}
	if (e->ext_port != port) {
		ctl_fail(r, "%s %lu is inside the range %u-%u; delete it by its first port %u",
		    argv[0], port, e->ext_port, e->ext_port_end, e->ext_port);
		return;
	}
	mtable_del(r->ctx->mt, e);
	ctl_done(r, "deleted %s %lu", argv[0], port);
}

static void
cmd_forward_del(struct ctl_req *r, int argc, char **argv)
{
	if (argc != 2) {
		ctl_usage(r);
		return;
	}
	ctl_del_mapping(r, argv, MT_NSOURCE);
}

static void
cmd_mapping_del(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "source", 1, NULL } };
	int source = MT_NSOURCE;

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 2) {
		ctl_usage(r);
		return;
	}
	if (opts[0].value && (source = mt_source_parse(opts[0].value)) < 0) {
		ctl_fail(r, "unknown source '%s' (static, upnp, pcp, natpmp, trigger)",
		    opts[0].value);
		return;
	}
	ctl_del_mapping(r, argv, source);
}

/* ---- pinhole ---- */

static int
ctl_parse_pinhole(struct ctl_req *r, char **argv, struct ctl_opt *opts, struct mt_pin_req *q)
{
	unsigned long lease = 0;
	const char *bad;
	int proto;

	memset(q, 0, sizeof(*q));
	if ((proto = mt_proto_parse(argv[0])) < 0) {
		ctl_fail(r, "bad protocol '%s' (tcp or udp)", argv[0]);
		return -1;
	}
	q->proto = (uint8_t)proto;
	if (util_parse_endpoint6(argv[1], &q->int_addr, &q->int_port) == -1) {
		ctl_fail(r, "bad endpoint '%s' ([IPv6]:PORT, e.g. [2001:db8:1::10]:8000)", argv[1]);
		return -1;
	}
	if (opts[0].value != NULL && (mt_filter_parse(opts[0].value, &q->remote) == -1 ||
	    util_addr_is_v4(&q->remote.addr))) {
		ctl_fail(r, "bad remote '%s' (IPv6[/LEN] or [IPv6[/LEN]]:PORT)", opts[0].value);
		return -1;
	}
	if (opts[1].value && util_parse_uint(opts[1].value, 0, 31536000, &lease) == -1) {
		ctl_fail(r, "bad lease '%s' (seconds, 0 = permanent)", opts[1].value);
		return -1;
	}
	q->lease_s = (uint32_t)lease;
	q->desc = opts[2].value ? opts[2].value : "";
	if ((bad = util_text_problem(q->desc, strlen(q->desc), MT_DESC_MAX - 1)) != NULL) {
		ctl_fail(r, "bad description: %s (at most %d bytes of UTF-8 text)", bad,
		    MT_DESC_MAX - 1);
		return -1;
	}
	q->source = MT_SRC_STATIC;
	return 0;
}

static void
cmd_pinhole_add(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "remote", 1, NULL }, { "lease", 1, NULL },
	    { "desc", 1, NULL } };
	const struct mt_entry *conflict = NULL;
	struct mt_entry *e;
	struct mt_pin_req q;
	char a[INET6_ADDRSTRLEN], rem[64];
	enum mt_err err;

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 2) {
		ctl_usage(r);
		return;
	}
	if (ctl_parse_pinhole(r, argv, opts, &q) == -1)
		return;
	if ((err = mtable_pinhole_add(r->ctx->mt, &q, &e, &conflict)) != MT_OK) {
		ctl_fail_add(r, err, conflict, &q.int_addr, "pinhole ", argv);
		return;
	}
	ctl_land(r, e);
	ctl_done(r, "pinhole %u: %s [%s]:%u from %s", e->pin_id, mt_proto_name(e->proto),
	    util_addr_str(&e->int_addr, a, sizeof(a)), e->int_port,
	    pin_remote_str(e, rem, sizeof(rem)));
}

static void
cmd_pinhole_del(struct ctl_req *r, int argc, char **argv)
{
	struct mt_entry *e;
	unsigned long id;

	if (argc != 1) {
		ctl_usage(r);
		return;
	}
	if (util_parse_uint(argv[0], 1, UINT32_MAX, &id) == -1) {
		ctl_fail(r, "bad pinhole ID '%s' (the number after pinhole# in list)", argv[0]);
		return;
	}
	if ((e = mtable_pinhole_get(r->ctx->mt, (uint32_t)id)) == NULL) {
		ctl_fail_as(r, CTL_FAIL_MISSING, "no pinhole %lu", id);
		return;
	}
	mtable_del(r->ctx->mt, e);
	ctl_done(r, "deleted pinhole %lu", id);
}

static void
cmd_flush(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "source", 1, NULL } };
	int source = MT_NSOURCE;
	size_t n, pins;

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 0) {
		ctl_usage(r);
		return;
	}
	if (opts[0].value && (source = mt_source_parse(opts[0].value)) < 0) {
		ctl_fail(r, "unknown source '%s' (static, upnp, pcp, natpmp, trigger)",
		    opts[0].value);
		return;
	}
	pins = mtable_pinhole_count(r->ctx->mt);
	n = mtable_flush(r->ctx->mt, source);
	pins -= mtable_pinhole_count(r->ctx->mt);
	if (pins > 0)
		ctl_done(r, "flushed %zu mappings and %zu pinholes", n - pins, pins);
	else
		ctl_done(r, "flushed %zu mappings", n);
}

/* ---- trigger ---- */

static void
cmd_trigger_add(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "idle", 1, NULL } };
	const char *idle;
	struct trig_rule rule;
	char text[512], err[200];
	int i;

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 3) {
		ctl_usage(r);
		return;
	}
	idle = opts[0].value ? opts[0].value : "300";
	/* the words become one rule text: none may carry a word of its own */
	for (i = 0; i < 4; i++)
		if (strpbrk(i < 3 ? argv[i] : idle, " \t") != NULL) {
			ctl_fail(r, "bad trigger rule: '%s' holds a space", i < 3 ? argv[i] : idle);
			return;
		}
	snprintf(text, sizeof(text), "%s %s open %s idle %s", argv[0], argv[1], argv[2], idle);
	if (trig_rule_parse(&rule, text, err, sizeof(err)) == -1) {
		ctl_fail(r, "%s", err);
		return;
	}
	if (trigger_add_rule(r->ctx->trig, &rule, 1, err, sizeof(err)) == -1) {
		ctl_fail_as(r, CTL_FAIL_CONFLICT, "%s", err);
		return;
	}
	/* the trigger module tells its listener (the daemon: firewall sets, state file) */
	trig_rule_format(&rule, text, sizeof(text));
	ctl_done(r, "trigger %s", text);
}

static void
cmd_trigger_del(struct ctl_req *r, int argc, char **argv)
{
	char err[200];

	if (argc != 1) {
		ctl_usage(r);
		return;
	}
	switch (trigger_del_rule(r->ctx->trig, argv[0], err, sizeof(err))) {
	case 0:
		ctl_done(r, "deleted trigger %s", argv[0]);
		return;
	case -1:
		ctl_fail_as(r, CTL_FAIL_MISSING, "%s", err);
		return;
	default:
		ctl_fail_as(r, CTL_FAIL_REFUSED, "%s", err);
		return;
	}
}

/* trigger enable NAME / trigger disable NAME: which one is the command's second word. */
static void
cmd_trigger_enable(struct ctl_req *r, int argc, char **argv)
{
	int on = strcmp(r->cmd->word2, "enable") == 0;
	char err[200];

	if (argc != 1) {
		ctl_usage(r);
		return;
	}
	if (trigger_set_enabled(r->ctx->trig, argv[0], on, err, sizeof(err)) == -1) {
		ctl_fail_as(r, CTL_FAIL_MISSING, "%s", err);
		return;
	}
	ctl_done(r, "trigger %s %s", argv[0], on ? "enabled" : "disabled");
}

struct trig_list_ctx {
	struct ctl_req	*r;
	struct evbuffer	*line;
	int		 json;
	int		 first;
};

static void
trig_list_json(struct trig_list_ctx *t, const struct trig_rule *rule,
    const struct trig_status *st)
{
	char a[INET6_ADDRSTRLEN];
	size_t i;

	evbuffer_add_printf(t->line, "%s{\"name\":", t->first ? "" : ",");
	util_json_str(t->line, rule->name, strlen(rule->name));
	evbuffer_add_printf(t->line, ",\"trigger\":\"%s:%u-%u\",\"open\":[",
	    mt_proto_name(rule->trigger.proto), rule->trigger.lo, rule->trigger.hi);
	for (i = 0; i < rule->nopen; i++)
		evbuffer_add_printf(t->line, "%s\"%s:%u-%u\"", i ? "," : "",
		    mt_proto_name(rule->open[i].proto), rule->open[i].lo, rule->open[i].hi);
	evbuffer_add_printf(t->line, "],\"idle\":%u,\"origin\":\"%s\",\"active\":%s",
	    rule->idle, st->runtime ? "runtime" : "config", st->active ? "true" : "false");
	if (st->active) {
		evbuffer_add_printf(t->line, ",\"holder\":\"%s\",\"closes_in\":%ld",
		    util_addr_str(&st->holder, a, sizeof(a)), st->closes_in);
		json_host(t->line, t->r->ctx, &st->holder);
	} else
		evbuffer_add_printf(t->line, ",\"holder\":null,\"closes_in\":null,\"host\":null,"
		    "\"mac\":null");
	if (st->has_refused)
		evbuffer_add_printf(t->line, ",\"last_refused\":\"%s\",\"refused_ago\":%ld",
		    util_addr_str(&st->last_refused, a, sizeof(a)), st->refused_ago);
	else
		evbuffer_add_printf(t->line, ",\"last_refused\":null,\"refused_ago\":null");
	evbuffer_add_printf(t->line, ",\"refusals\":%u,\"enabled\":%s}", st->refusals,
	    st->disabled ? "false" : "true");
	ctl_data_buf(t->r, t->line);
}

static void
trig_list_cb(void *arg, const struct trig_rule *rule, const struct trig_status *st)
{
	struct trig_list_ctx *t = arg;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], spec[512], state[96], refused[96];

	if (t->json) {
		trig_list_json(t, rule, st);
		t->first = 0;
		return;
	}
	trig_rule_format(rule, spec, sizeof(spec));
	if (st->active)
		snprintf(state, sizeof(state), "active %s closes-in %lds",
		    util_addr_str(&st->holder, a, sizeof(a)), st->closes_in);
	else
		snprintf(state, sizeof(state), "%s", st->disabled ? "disabled" : "idle");
	if (st->has_refused)
		snprintf(refused, sizeof(refused), " refused %s %lds ago (%u)",
		    util_addr_str(&st->last_refused, b, sizeof(b)), st->refused_ago, st->refusals);
	else
		refused[0] = '\0';
	ctl_data(t->r, "%s [%s] %s%s", spec,
	    st->runtime ? "runtime" : "config", state, refused);
}

static void
cmd_trigger_list(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "json", 0, NULL } };
	struct trig_list_ctx t = { r, NULL, 0, 1 };

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 0) {
		ctl_usage(r);
		return;
	}
	t.json = opts[0].value != NULL;
	if ((t.line = evbuffer_new()) == NULL) {
		ctl_fail_as(r, CTL_FAIL_INTERNAL, "out of memory");
		return;
	}
	if (t.json)
		ctl_data(r, "[");
	trigger_foreach_status(r->ctx->trig, trig_list_cb, &t);
	if (t.json)
		ctl_data(r, "]");
	evbuffer_free(t.line);
	ctl_done(r, "%s", "");
}

/* ---- check: a reply worked out later ---- */

struct ctl_later {
	struct diag	*diag;		/* NULL once it answered */
	struct evbuffer	*data;		/* the reply's data lines */
	int		 ready;
	int		 ok;
	char		 result[512];
	int		 json;
	void		(*done)(void *);
	void		*done_arg;
};

void
ctl_later_wait(struct ctl_later *l, void (*done)(void *), void *arg)
{
	l->done = done;
	l->done_arg = arg;
	if (l->ready)
		done(arg);
}

void
ctl_later_take(struct ctl_later *l, struct ctl_req *r)
{
	evbuffer_add_buffer(r->data, l->data);
	r->ok = l->ok;
	snprintf(r->result, sizeof(r->result), "%s", l->result);
	ctl_later_free(l);
}

void
ctl_later_free(struct ctl_later *l)
{
	if (l == NULL)
		return;
	diag_cancel(l->diag);
	evbuffer_free(l->data);
	free(l);
}

/* The report as data lines (each text line, or one JSON line); ok only if reachable. */
static void
check_done(void *arg, const struct diag_report *rep)
{
	struct ctl_later *l = arg;
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *p, *nl;

	l->diag = NULL;		/* it frees itself after this */
	l->ready = 1;
	l->ok = rep->verdict == DIAG_REACHABLE;
	snprintf(l->result, sizeof(l->result), "%s", l->ok ? "" : rep->verdict_text);
	if (b == NULL) {
		l->ok = 0;
		snprintf(l->result, sizeof(l->result), "out of memory");
	} else {
		if (l->json)
			diag_json(rep, b);
		else
			diag_text(rep, b);
		len = evbuffer_get_length(b);
		p = (char *)evbuffer_pullup(b, -1);
		while (len > 0) {
			nl = memchr(p, '\n', len);
			ctl_line_put_data(l->data, p, nl ? (size_t)(nl - p) : len);
			len -= nl ? (size_t)(nl - p) + 1 : len;
			p = nl ? nl + 1 : p;
		}
		evbuffer_free(b);
	}
	if (l->done != NULL)
		l->done(l->done_arg);
}

static void
cmd_check(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "json", 0, NULL }, { "wait", 1, NULL } };
	unsigned long port, wait = DIAG_WAIT_MS / 1000;
	struct ctl_later *l;
	int proto;

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 2) {
		ctl_usage(r);
		return;
	}
	if ((proto = mt_proto_parse(argv[0])) < 0 || util_parse_uint(argv[1], 1, 65535, &port)) {
		ctl_fail(r, "bad port '%s %s' (PROTO PORT: tcp or udp, 1-65535)", argv[0], argv[1]);
		return;
	}
	if (opts[1].value != NULL &&
	    util_parse_uint(opts[1].value, 1, DIAG_WAIT_MAX_MS / 1000, &wait) == -1) {
		ctl_fail(r, "bad wait '%s' (1-%d seconds)", opts[1].value, DIAG_WAIT_MAX_MS / 1000);
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL || (l->data = evbuffer_new()) == NULL) {
		free(l);
		ctl_fail(r, "out of memory");
		return;
	}
	l->json = opts[0].value != NULL;
	if ((l->diag = diag_start(r->ctx, proto, (uint16_t)port, (uint32_t)wait * 1000,
	    check_done, l)) == NULL) {
		ctl_later_free(l);
		ctl_fail(r, "out of memory");
		return;
	}
	r->later = l;	/* ctl.c waits for check_done */
}

/* ---- watch, metrics ---- */

/*
 * The reply says the stream begins; then every event comes as a data line
 * (ctl.c subscribes the connection once the reply is out), first, with
 * --since SEQ, the kept ones after SEQ.
 */
static void
cmd_watch(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "json", 0, NULL }, { "since", 1, NULL } };
	unsigned long long since = 0;
	char *end;

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 0) {
		ctl_usage(r);
		return;
	}
	if (opts[1].value != NULL) {
		errno = 0;
		since = strtoull(opts[1].value, &end, 10);
		if (opts[1].value[0] < '0' || opts[1].value[0] > '9' || *end != '\0' ||
		    errno != 0) {
			ctl_fail(r, "bad sequence number '%s' (the #N of an event)", opts[1].value);
			return;
		}
	}
	if (r->ctx->events == NULL) {
		ctl_fail(r, "no event bus");
		return;
	}
	if (r->watchers >= CTL_MAX_WATCHERS) {
		ctl_fail(r, "too many watchers (at most %d)", CTL_MAX_WATCHERS);
		return;
	}
	r->watch = opts[0].value != NULL ? CTL_WATCH_JSON : CTL_WATCH_TEXT;
	r->watch_replay = opts[1].value != NULL;
	r->watch_since = since;
	if (r->watch_replay)
		ctl_done(r, "watching events after #%llu (the oldest kept is #%llu)", since,
		    (unsigned long long)evbus_first_seq(r->ctx->events));
	else
		ctl_done(r, "watching events after #%llu",
		    (unsigned long long)evbus_last_seq(r->ctx->events));
}

/* ---- history ---- */

/* A sample as history's line: its time, mappings per source, pinholes, inbound packets. */
static void
history_line(struct ctl_req *r, const struct history_sample *s)
{
	char when[32], in[24];

	if (s->has_packets)
		snprintf(in, sizeof(in), "%llu", (unsigned long long)s->inbound_packets);
	else
		snprintf(in, sizeof(in), "-");
	ctl_data(r, "%-20s %6u %6u %6u %6u %7u %8u %s", history_time_str(s, when, sizeof(when)),
	    s->mappings[MT_SRC_STATIC], s->mappings[MT_SRC_UPNP], s->mappings[MT_SRC_PCP],
	    s->mappings[MT_SRC_NATPMP], s->mappings[MT_SRC_TRIGGER], s->pinholes, in);
}

/* The last hour, a sample a line (oldest first), or history.h's JSON object. */
static void
cmd_history(struct ctl_req *r, int argc, char **argv)
{
	struct ctl_opt opts[] = { { "json", 0, NULL } };
	const struct history *h = &r->ctx->history;
	struct evbuffer *b;
	size_t i;

	if ((argc = ctl_getopts(r, argc, argv, opts, PG_NELEM(opts))) == -1)
		return;
	if (argc != 0) {
		ctl_usage(r);
		return;
	}
	if (opts[0].value != NULL) {
		if ((b = evbuffer_new()) == NULL) {
			ctl_fail_as(r, CTL_FAIL_INTERNAL, "out of memory");
			return;
		}
		history_json(h, b);
		ctl_data_buf(r, b);
		evbuffer_free(b);
		ctl_done(r, "%s", "");
		return;
	}
	ctl_data(r, "%-20s %6s %6s %6s %6s %7s %8s %s", "TIME", "STATIC", "UPNP", "PCP", "NATPMP",
	    "TRIGGER", "PINHOLES", "INBOUND");
	for (i = 0; i < history_count(h); i++)
		history_line(r, history_at(h, i));
	ctl_done(r, "%s", "");
}

/* The Prometheus page, a data line per line. */
static void
cmd_metrics(struct ctl_req *r, int argc, char **argv)
{
	struct evbuffer *b;
	char *line;
	size_t len;

	(void)argv;
	if (argc != 0) {
		ctl_usage(r);
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		ctl_fail(r, "out of memory");
		return;
	}
	metrics_format(r->ctx, b);
	while ((line = evbuffer_readln(b, &len, EVBUFFER_EOL_LF)) != NULL) {
		ctl_line_put_data(r->data, line, len);
		free(line);
	}
	evbuffer_free(b);
	ctl_done(r, "%s", "");
}

/*
 * The commands: one row each, the only place a command is described (its
 * words, its usage, its handler); man/portgatectl.8 and README's table
 * follow it (tests/integ/man_check.sh checks them).
 */
static const struct ctl_command ctl_commands[] = {
	{ "status", NULL, "", cmd_status },
	{ "list", NULL, "[--json] [--source SOURCE] [--kind mapping|pinhole]", cmd_list },
	{ "forward", "add", "PROTO EXTPORT[-END] IP[:PORT] [--lease SECONDS] [--desc TEXT]",
	    cmd_forward_add },
	{ "forward", "del", "PROTO EXTPORT", cmd_forward_del },
	{ "mapping", "add", "PROTO EXTPORT[-END] IP[:PORT] --source SOURCE [--lease SECONDS] "
	    "[--desc TEXT]", cmd_mapping_add },
	{ "mapping", "del", "PROTO EXTPORT [--source SOURCE]", cmd_mapping_del },
	{ "flush", NULL, "[--source SOURCE]", cmd_flush },
	{ "trigger", "add", "NAME PROTO:PORTS PROTO:PORTS[,...] [--idle SECONDS]",
	    cmd_trigger_add },
	{ "trigger", "del", "NAME", cmd_trigger_del },
	{ "trigger", "list", "[--json]", cmd_trigger_list },
	{ "trigger", "enable", "NAME", cmd_trigger_enable },
	{ "trigger", "disable", "NAME", cmd_trigger_enable },
	{ "pinhole", "add", "PROTO [IPv6]:PORT [--remote ADDR[/LEN][:PORT]] [--lease SECONDS] "
	    "[--desc TEXT]", cmd_pinhole_add },
	{ "pinhole", "del", "ID", cmd_pinhole_del },
	{ "check", NULL, "PROTO PORT [--json] [--wait SECONDS]", cmd_check },
	{ "watch", NULL, "[--json] [--since SEQ]", cmd_watch },
	{ "metrics", NULL, "", cmd_metrics },
	{ "history", NULL, "[--json]", cmd_history },
};

void
ctl_cmd_run(struct ctl_req *r, char *line)
{
	char *argv[CTL_ARGS_MAX + 1];
	int argc;

	if ((argc = ctl_line_words(line, argv, CTL_ARGS_MAX)) <= 0) {
		ctl_fail(r, argc == 0 ? "empty request" : argc == -1 ? "too many arguments" :
		    "malformed request encoding");
		return;
	}
	ctl_cmd_run_argv(r, argc, (const char *const *)argv);
}

void
ctl_cmd_run_argv(struct ctl_req *r, int argc, const char *const *words)
{
	char *argv[CTL_ARGS_MAX + 1];	/* the options' parser reorders the array, not the words */
	int skip, i;
	size_t c;

	if (argc <= 0 || argc > CTL_ARGS_MAX) {
		ctl_fail(r, argc <= 0 ? "empty request" : "too many arguments");
		return;
	}
	for (i = 0; i < argc; i++)
		argv[i] = (char *)(uintptr_t)words[i];
	argv[argc] = NULL;
	for (c = 0; c < PG_NELEM(ctl_commands); c++) {
		if (strcmp(argv[0], ctl_commands[c].word1) != 0)
			continue;
		if (ctl_commands[c].word2 != NULL &&
		    (argc < 2 || strcmp(argv[1], ctl_commands[c].word2) != 0))
			continue;
		skip = ctl_commands[c].word2 ? 2 : 1;
		r->cmd = &ctl_commands[c];
		ctl_commands[c].fn(r, argc - skip, argv + skip);
		return;
	}
	ctl_fail(r, "unknown command '%s'", argv[0]);
}
