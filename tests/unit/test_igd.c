/* test_igd.c - UPnP control through the mapping table: every error code, every bad input. */
#include "config.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "igd/igd.h"
#include "igd/igd_act.h"
#include "igd/igd_desc.h"
#include "igd/igd_http.h"
#include "log.h"
#include "mtable.h"
#include "netif.h"
#include "testutil.h"
#include "util.h"

#define A	"192.0.2.10"
#define B	"192.0.2.11"
#define IPC1	"urn:schemas-upnp-org:service:WANIPConnection:1"
#define IPC2	"urn:schemas-upnp-org:service:WANIPConnection:2"

static struct fake_clock fc = { 1000000 };
static struct evbuffer *out;

static struct in6_addr
addr(const char *s)
{
	struct in6_addr a;

	CHECK_EQ(util_parse_addr(s, &a), 0);
	return a;
}

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

/* A daemon context as pg_start would make it, without sockets: br-lan 192.0.2.1/24. */
static struct igd *
lab_igd(const char *conftext)
{
	struct pg_ctx *ctx = xcalloc(1, sizeof(*ctx));
	struct igd *igd = xcalloc(1, sizeof(*igd));
	size_t i;

	CHECK(tu_lab_ctx(ctx, conftext, tu_fake_clock(&fc), conf_err) != NULL);
	igd->ctx = ctx;
	for (i = 0; i < IGD_NDEV; i++)
		snprintf(igd->udn[i], sizeof(igd->udn[i]), "0d3f5e2a-1111-4222-8333-44445555666%zu", i);
	log_limit_init(&igd->log_limit, 1000, 10);
	return igd;
}

static void
lab_free(struct igd *igd)
{
	tu_lab_ctx_free(igd->ctx);
	free(igd->ctx);
	free(igd);
}

/* Send a raw body with a SOAPAction; the reply is in out. */
static int
raw(struct igd *igd, const char *client, enum igd_svc svc, const char *action, const char *body)
{
	struct in6_addr c = addr(client);

	evbuffer_drain(out, evbuffer_get_length(out));
	return igd_act_control(igd, svc, &c, action, body, strlen(body), out, NULL);
}

/* Call action of service type `type` with XML args; returns the HTTP status. */
static int
call(struct igd *igd, const char *client, const char *type, const char *action,
    const char *args)
{
	char body[8192], sa[256];

	snprintf(body, sizeof(body), "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s="
	    "\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle="
	    "\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:%s xmlns:u=\"%s\">%s"
	    "</u:%s></s:Body></s:Envelope>\r\n", action, type, args, action);
	snprintf(sa, sizeof(sa), "\"%s#%s\"", type, action);
	return raw(igd, client, strstr(type, "WANIPConnection") ? IGD_SVC_IPCONN :
	    strstr(type, "WANIPv6FirewallControl") ? IGD_SVC_6FC :
	    strstr(type, "WANCommon") ? IGD_SVC_WANCFG : IGD_SVC_L3F, sa, body);
}

static const char *
reply(void)
{
	evbuffer_add(out, "", 1);
	evbuffer_drain(out, 0);
	return (const char *)evbuffer_pullup(out, -1);
}

/* The UPnP error code of the last reply, 0 for a success. */
static int
code(void)
{
	const char *r = reply(), *p = strstr(r, "<errorCode>");

	return p ? atoi(p + 11) : 0;
}

static int
has(const char *s)
{
	return strstr(reply(), s) != NULL;
}

static char args[4096];

/* AddPortMapping / AddAnyPortMapping arguments. */
static const char *
map_args(const char *remote, const char *ext, const char *proto, const char *in,
    const char *client, const char *lease, const char *desc)
{
	snprintf(args, sizeof(args), "<NewRemoteHost>%s</NewRemoteHost><NewExternalPort>%s"
	    "</NewExternalPort><NewProtocol>%s</NewProtocol><NewInternalPort>%s</NewInternalPort>"
	    "<NewInternalClient>%s</NewInternalClient><NewEnabled>1</NewEnabled>"
	    "<NewPortMappingDescription>%s</NewPortMappingDescription><NewLeaseDuration>%s"
	    "</NewLeaseDuration>", remote, ext, proto, in, client, desc, lease);
	return args;
}

static int
add(struct igd *igd, const char *type, const char *client, const char *ext, const char *proto,
    const char *in, const char *target, const char *lease)
{
	call(igd, client, type, "AddPortMapping", map_args("", ext, proto, in, target, lease, "t"));
	return code();
}

static const char *
del_args(const char *ext, const char *proto)
{
	snprintf(args, sizeof(args), "<NewRemoteHost></NewRemoteHost><NewExternalPort>%s"
	    "</NewExternalPort><NewProtocol>%s</NewProtocol>", ext, proto);
	return args;
}

static const char *
range_args(const char *lo, const char *hi, const char *proto, const char *manage,
    const char *n)
{
	snprintf(args, sizeof(args), "<NewStartPort>%s</NewStartPort><NewEndPort>%s</NewEndPort>"
	    "<NewProtocol>%s</NewProtocol><NewManage>%s</NewManage>%s%s%s", lo, hi, proto, manage,
	    n ? "<NewNumberOfPorts>" : "", n ? n : "", n ? "</NewNumberOfPorts>" : "");
	return args;
}

static void
test_add_and_errors(void)
{
	struct igd *igd = lab_igd("firewall = none\nmax_lease = 3600\n");
	struct mtable *mt = igd->ctx->mt;
	struct mt_entry *e;

	CHECK_EQ(add(igd, IPC2, A, "9000", "TCP", "8000", A, "0"), 0);
	CHECK(has("<u:AddPortMappingResponse xmlns:u=\"" IPC2 "\">"));
	e = mtable_lookup_ext(mt, MT_TCP, 9000);
	CHECK(e != NULL && e->source == MT_SRC_UPNP && e->int_port == 8000);
	CHECK_EQ(mtable_remaining(mt, e), 3600);		/* lease 0: max_lease */
	CHECK_EQ(add(igd, IPC1, A, "9000", "TCP", "8000", A, "100"), 0);	/* renewal */
	CHECK_EQ(mtable_remaining(mt, e), 100);
	CHECK_EQ(add(igd, IPC2, A, "9000", "TCP", "8001", A, "100"), 0);	/* re-pointed */
	CHECK_EQ(mtable_lookup_ext(mt, MT_TCP, 9000)->int_port, 8001);
	CHECK_EQ(mtable_count(mt), 1);
	CHECK_EQ(add(igd, IPC2, A, "9001", "UDP", "9001", A, "999999"), 402);	/* v2 range */
	CHECK_EQ(add(igd, IPC1, A, "9001", "UDP", "9001", A, "999999"), 0);	/* v1: capped */
	CHECK_EQ(mtable_remaining(mt, mtable_lookup_ext(mt, MT_UDP, 9001)), 3600);

	/* 718: another host's UPnP mapping; 606: for another host in secure mode */
	CHECK_EQ(add(igd, IPC2, B, "9000", "TCP", "80", B, "0"), 718);
	CHECK_EQ(add(igd, IPC2, B, "9002", "TCP", "80", A, "0"), 606);
	/* 402: bad arguments of every kind */
	CHECK_EQ(add(igd, IPC2, A, "9003", "ICMP", "80", A, "0"), 402);
	CHECK_EQ(add(igd, IPC2, A, "9003", "TCP", "80", A, "-1"), 402);
	CHECK_EQ(add(igd, IPC2, A, "9003", "TCP", "80", A, "ten"), 402);
	CHECK_EQ(add(igd, IPC2, A, "65536", "TCP", "80", A, "0"), 402);
	CHECK_EQ(add(igd, IPC2, A, "9003", "TCP", "0", A, "0"), 402);
	CHECK_EQ(add(igd, IPC2, A, "9003", "TCP", "65536", A, "0"), 402);
	CHECK_EQ(add(igd, IPC2, A, "9003", "TCP", "80", "192.0.2.300", "0"), 402);
	CHECK_EQ(add(igd, IPC2, A, "9003", "TCP", "80", "2001:db8::1", "0"), 402);
	call(igd, A, IPC2, "AddPortMapping", "<NewExternalPort>9003</NewExternalPort>");
	CHECK_EQ(code(), 402);					/* missing arguments */
	call(igd, A, IPC2, "AddPortMapping", map_args("", "9003", "TCP", "80", A, "0",
	    "bell\x07"));
	CHECK_EQ(code(), 401);					/* not even XML 1.0 */
	call(igd, A, IPC2, "AddPortMapping", map_args("", "9003", "TCP", "80", A, "0",
	    "tab\there"));
	CHECK_EQ(code(), 402);					/* a control character */
	call(igd, A, IPC2, "AddPortMapping", map_args("", "9003", "TCP", "80", A, "0",
	    "d</NewPortMappingDescription><NewPortMappingDescription>x"));
	CHECK_EQ(code(), 402);					/* duplicate argument */
	/* 716; a remote host that is not an address */
	CHECK_EQ(add(igd, IPC2, A, "0", "TCP", "80", A, "0"), 716);
	call(igd, A, IPC2, "AddPortMapping", map_args("peer.example", "9003", "TCP", "80", A,
	    "0", "t"));
	CHECK_EQ(code(), 402);
	CHECK_EQ(mtable_count(mt), 2);				/* nothing was added by the errors */
	/* NewRemoteHost: a filter of the entry, down to the firewall */
	call(igd, A, IPC2, "AddPortMapping", map_args("198.51.100.7", "9003", "TCP", "80", A,
	    "0", "t"));
	CHECK_EQ(code(), 0);
	e = mtable_lookup_ext(mt, MT_TCP, 9003);
	CHECK(e != NULL && e->nfilters == 1 && e->filters[0].plen == 128 &&
	    e->filters[0].port == 0);
	mtable_commit(mt, NULL, NULL);
	CHECK(fw_mem_lookup(igd->ctx->fw, MT_TCP, 9003) != NULL &&
	    fw_mem_lookup(igd->ctx->fw, MT_TCP, 9003)->nfilters == 1);
	call(igd, A, IPC2, "GetSpecificPortMappingEntry", "<NewRemoteHost>198.51.100.8"
	    "</NewRemoteHost><NewExternalPort>9003</NewExternalPort><NewProtocol>TCP</NewProtocol>");
	CHECK_EQ(code(), 714);					/* another remote host's */
	call(igd, A, IPC1, "GetGenericPortMappingEntry",
	    "<NewPortMappingIndex>1</NewPortMappingIndex>");
	CHECK(has("<NewRemoteHost>198.51.100.7</NewRemoteHost><NewExternalPort>9003<"));
	/* the wildcard again: the filter goes */
	CHECK_EQ(add(igd, IPC2, A, "9003", "TCP", "80", A, "0"), 0);
	CHECK_EQ(mtable_lookup_ext(mt, MT_TCP, 9003)->nfilters, 0);
	call(igd, A, IPC2, "DeletePortMapping", del_args("9003", "TCP"));
	CHECK_EQ(code(), 0);
	/* the kernel refuses: the client hears 501 and the table holds nothing there */
	fw_mem_inject_failure(igd->ctx->fw, MT_TCP, 9050, 17);
	CHECK_EQ(add(igd, IPC2, A, "9050", "TCP", "80", A, "0"), 501);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9050) == NULL);
	lab_free(igd);
}

static void
test_other_sources(void)
{
	struct igd *igd = lab_igd("firewall = none\nmax_mappings_per_client = 2\n"
	    "deny 22 0.0.0.0/0 1-65535\n");
	struct mtable *mt = igd->ctx->mt;
	struct mt_request q;

	memset(&q, 0, sizeof(q));
	q.proto = MT_TCP;
	q.source = MT_SRC_STATIC;
	q.ext_port = 7100;
	q.ext_port_end = 7110;
	q.int_addr = addr(B);
	q.desc = "game";
	CHECK_EQ(mtable_add(mt, &q, NULL, NULL), MT_OK);
	/* held by a static forward: 729 for v2, the 718 that v1 knows for v1 */
	CHECK_EQ(add(igd, IPC2, A, "7105", "TCP", "80", A, "0"), 729);
	CHECK_EQ(add(igd, IPC1, A, "7105", "TCP", "80", A, "0"), 718);
	/* deny rule: 606; quota: 728 */
	CHECK_EQ(add(igd, IPC2, A, "22", "TCP", "22", A, "0"), 606);
	CHECK_EQ(add(igd, IPC2, A, "9000", "TCP", "80", A, "0"), 0);
	CHECK_EQ(add(igd, IPC2, A, "9001", "TCP", "80", A, "0"), 0);
	CHECK_EQ(add(igd, IPC2, A, "9002", "TCP", "80", A, "0"), 728);
	/* a UPnP client cannot delete a static forward */
	call(igd, A, IPC2, "DeletePortMapping", del_args("7100", "TCP"));
	CHECK_EQ(code(), 606);
	/* ranges are listed port by port: 11 + 2 ports */
	call(igd, A, IPC2, "GetSpecificPortMappingEntry", del_args("7107", "TCP"));
	CHECK_EQ(code(), 0);
	CHECK(has("<NewInternalPort>7107</NewInternalPort>"));
	CHECK(has("<NewInternalClient>" B "</NewInternalClient>"));
	CHECK(has("<NewPortMappingDescription>portgate static: game<"));
	CHECK_EQ(mtable_port_count(mt), 13);
	call(igd, A, IPC1, "GetGenericPortMappingEntry",
	    "<NewPortMappingIndex>3</NewPortMappingIndex>");
	CHECK(has("<NewExternalPort>7103</NewExternalPort>"));
	call(igd, A, IPC1, "GetGenericPortMappingEntry",
	    "<NewPortMappingIndex>11</NewPortMappingIndex>");
	CHECK(has("<NewExternalPort>9000</NewExternalPort>"));
	call(igd, A, IPC1, "GetGenericPortMappingEntry",
	    "<NewPortMappingIndex>13</NewPortMappingIndex>");
	CHECK_EQ(code(), 713);
	lab_free(igd);
}

static void
test_delete_and_v2(void)
{
	struct igd *igd = lab_igd("firewall = none\nupnp_secure_mode = yes\n");
	struct mtable *mt = igd->ctx->mt;

	CHECK_EQ(add(igd, IPC2, A, "9000", "TCP", "80", A, "0"), 0);
	CHECK_EQ(add(igd, IPC2, B, "9001", "TCP", "80", B, "0"), 0);
	call(igd, A, IPC2, "DeletePortMapping", del_args("9001", "TCP"));
	CHECK_EQ(code(), 606);					/* another host's, secure mode */
	call(igd, A, IPC2, "DeletePortMapping", del_args("9005", "TCP"));
	CHECK_EQ(code(), 714);
	call(igd, A, IPC2, "GetSpecificPortMappingEntry", del_args("9005", "TCP"));
	CHECK_EQ(code(), 714);
	/* AddAnyPortMapping: the table's free port near the one asked for */
	call(igd, A, IPC2, "AddAnyPortMapping", map_args("", "9001", "TCP", "81", A, "0", "any"));
	CHECK_EQ(code(), 0);
	CHECK(has("<NewReservedPort>9002</NewReservedPort>"));
	call(igd, A, IPC1, "AddAnyPortMapping", map_args("", "9001", "TCP", "81", A, "0", "any"));
	CHECK_EQ(code(), 401);					/* not in WANIPConnection:1 */
	/* GetListOfPortMappings: NewManage 0 lists one's own */
	call(igd, A, IPC2, "GetListOfPortMappings", range_args("1", "65535", "TCP", "0", "0"));
	CHECK(has("<NewPortListing><![CDATA[<p:PortMappingList"));
	CHECK(has("<p:NewExternalPort>9000<") && has("<p:NewExternalPort>9002<"));
	CHECK(!has("<p:NewExternalPort>9001<"));
	call(igd, A, IPC2, "GetListOfPortMappings", range_args("1", "65535", "TCP", "1", "0"));
	CHECK(has("<p:NewExternalPort>9001<"));
	call(igd, A, IPC2, "GetListOfPortMappings", range_args("1", "65535", "UDP", "1", "0"));
	CHECK_EQ(code(), 730);
	call(igd, A, IPC2, "GetListOfPortMappings", range_args("9", "8", "TCP", "1", "0"));
	CHECK_EQ(code(), 733);
	call(igd, A, IPC2, "DeletePortMappingRange", range_args("9", "8", "TCP", "0", NULL));
	CHECK_EQ(code(), 733);
	call(igd, A, IPC2, "DeletePortMappingRange", range_args("1", "8999", "TCP", "0", NULL));
	CHECK_EQ(code(), 730);
	call(igd, A, IPC2, "DeletePortMappingRange", range_args("1", "65535", "TCP", "1", NULL));
	CHECK_EQ(code(), 606);					/* NewManage in secure mode */
	call(igd, A, IPC2, "DeletePortMappingRange", range_args("1", "65535", "TCP", "0", NULL));
	CHECK_EQ(code(), 0);
	CHECK_EQ(mtable_count(mt), 1);				/* B's stays */
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9001) != NULL);
	lab_free(igd);
}

/* AddPortMapping's arguments with NewEnabled as given. */
static const char *
map_args_enabled(const char *ext, const char *in, const char *client, const char *enabled)
{
	map_args("", ext, "TCP", in, client, "0", "t");
	memcpy(strstr(args, "<NewEnabled>1<") + 12, enabled, 1);
	return args;
}

/* A mapping of another source, as the table's own callers make it. */
static void
add_source(struct igd *igd, int source, uint16_t ext, const char *client, const char *owner)
{
	struct mt_request q;

	memset(&q, 0, sizeof(q));
	q.proto = MT_TCP;
	q.source = (uint8_t)source;
	q.ext_port = ext;
	q.int_addr = addr(client);
	q.lease_s = 600;
	q.owner = owner;
	CHECK_EQ(mtable_add(igd->ctx->mt, &q, NULL, NULL), MT_OK);
}

/*
 * Who may change what, as a control point hears it: secure mode's 606 comes
 * before every later check, a UPnP client touches UPnP's mappings only, and
 * without secure mode (or with NewManage) any host's.
 */
static void
test_who_may(void)
{
	struct igd *igd = lab_igd("firewall = none\nupnp_secure_mode = yes\n");
	struct mtable *mt = igd->ctx->mt;

	/* secure mode: for another host is 606, before 716 and before NewEnabled */
	CHECK_EQ(add(igd, IPC2, A, "0", "TCP", "80", B, "0"), 606);
	call(igd, A, IPC2, "AddPortMapping", map_args_enabled("9000", "80", B, "0"));
	CHECK_EQ(code(), 606);
	call(igd, A, IPC2, "AddAnyPortMapping", map_args_enabled("9000", "80", B, "0"));
	CHECK_EQ(code(), 606);
	call(igd, A, IPC2, "AddAnyPortMapping", map_args_enabled("9000", "80", A, "0"));
	CHECK_EQ(code(), 402);
	/* NewEnabled 0 removes the caller's own UPnP mapping there, nothing else */
	add_source(igd, MT_SRC_PCP, 9100, A, "0101");
	call(igd, A, IPC2, "AddPortMapping", map_args_enabled("9100", "9100", A, "0"));
	CHECK_EQ(code(), 0);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9100) != NULL);
	CHECK_EQ(add(igd, IPC2, A, "9101", "TCP", "80", A, "0"), 0);
	call(igd, A, IPC2, "AddPortMapping", map_args_enabled("9101", "81", A, "0"));
	CHECK_EQ(code(), 0);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9101) == NULL);
	/* another source's mapping is not UPnP's to delete, the caller's own is */
	call(igd, A, IPC2, "DeletePortMapping", del_args("9100", "TCP"));
	CHECK_EQ(code(), 606);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9100) != NULL);
	/* ranges: NewManage 0 takes the caller's own UPnP mappings only */
	CHECK_EQ(add(igd, IPC2, A, "9102", "TCP", "80", A, "0"), 0);
	CHECK_EQ(add(igd, IPC2, B, "9103", "TCP", "80", B, "0"), 0);
	call(igd, A, IPC2, "DeletePortMappingRange", range_args("9100", "9199", "TCP", "0", NULL));
	CHECK_EQ(code(), 0);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9102) == NULL);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9103) != NULL);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9100) != NULL);
	call(igd, A, IPC2, "DeletePortMappingRange", range_args("9100", "9199", "TCP", "0", NULL));
	CHECK_EQ(code(), 730);
	lab_free(igd);

	/* secure mode off: another host's UPnP mappings, never another source's */
	igd = lab_igd("firewall = none\nupnp_secure_mode = no\n");
	mt = igd->ctx->mt;
	CHECK_EQ(add(igd, IPC2, A, "9000", "TCP", "80", B, "0"), 0);
	CHECK_EQ(add(igd, IPC2, B, "9001", "TCP", "80", B, "0"), 0);
	CHECK_EQ(add(igd, IPC2, B, "9002", "TCP", "80", B, "0"), 0);
	add_source(igd, MT_SRC_PCP, 9003, B, "0202");
	add_source(igd, MT_SRC_NATPMP, 9004, B, NULL);
	call(igd, A, IPC2, "DeletePortMapping", del_args("9001", "TCP"));
	CHECK_EQ(code(), 0);
	call(igd, A, IPC2, "DeletePortMapping", del_args("9004", "TCP"));
	CHECK_EQ(code(), 606);
	/* NewManage 0: none of A's; NewManage 1: every UPnP mapping, nothing else */
	call(igd, A, IPC2, "DeletePortMappingRange", range_args("9000", "9099", "TCP", "0", NULL));
	CHECK_EQ(code(), 730);
	CHECK_EQ(mtable_count(mt), 4);
	call(igd, A, IPC2, "DeletePortMappingRange", range_args("9000", "9099", "TCP", "1", NULL));
	CHECK_EQ(code(), 0);
	CHECK_EQ(mtable_count(mt), 2);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9003) != NULL && mtable_lookup_ext(mt, MT_TCP, 9004));
	call(igd, A, IPC2, "DeletePortMappingRange", range_args("9000", "9099", "TCP", "1", NULL));
	CHECK_EQ(code(), 730);
	lab_free(igd);
}

static void
test_bad_requests(void)
{
	struct igd *igd = lab_igd("firewall = none\n");
	char big[20000];
	int i;

	static const char env[] = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/"
	    "envelope/\"><s:Body><u:GetExternalIPAddress xmlns:u=\"" IPC1 "\"/></s:Body>"
	    "</s:Envelope>";
	static const char sa[] = "\"" IPC1 "#GetExternalIPAddress\"";

	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, sa, env), 200);
	CHECK(has("<NewExternalIPAddress></NewExternalIPAddress>"));
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, IPC1 "#GetExternalIPAddress", env), 200); /* no quotes */
	/* wrong SOAPAction, missing, another service, wrong version */
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, "\"" IPC1 "#GetStatusInfo\"", env), 500);
	CHECK_EQ(code(), 401);
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, NULL, env), 500);
	CHECK_EQ(raw(igd, A, IGD_SVC_WANCFG, sa, env), 500);
	CHECK_EQ(code(), 401);
	call(igd, A, "urn:schemas-upnp-org:service:WANIPConnection:3", "GetExternalIPAddress", "");
	CHECK_EQ(code(), 401);
	call(igd, A, IPC1, "NoSuchAction", "");
	CHECK_EQ(code(), 401);
	/* wrong envelope namespace, no Body, truncated, not XML */
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, sa, "<s:Envelope xmlns:s=\"urn:x\"><s:Body>"
	    "<u:GetExternalIPAddress xmlns:u=\"" IPC1 "\"/></s:Body></s:Envelope>"), 500);
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, sa, "<s:Envelope xmlns:s=\"http://schemas."
	    "xmlsoap.org/soap/envelope/\"></s:Envelope>"), 500);
	CHECK_EQ(code(), 401);
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, sa, "<s:Envelope xmlns:s=\"http://schemas."
	    "xmlsoap.org/soap/envelope/\"><s:Body><u:GetExt"), 500);
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, sa, "GET / HTTP/1.0"), 500);
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, sa, ""), 500);
	/* DOCTYPE with entities (billion laughs, external entity) */
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, sa, "<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY a "
	    "\"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>" "<s:Envelope xmlns:s=\"http"
	    "://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:GetExternalIPAddress xmlns:u=\""
	    IPC1 "\">&b;</u:GetExternalIPAddress></s:Body></s:Envelope>"), 500);
	CHECK_EQ(code(), 401);
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, sa, "<!DOCTYPE s SYSTEM \"http://198.51.100.9/x."
	    "dtd\"><s:Envelope/>"), 500);
	/* deep nesting */
	strcpy(big, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
	    "<u:GetExternalIPAddress xmlns:u=\"" IPC1 "\">");
	for (i = 0; i < 500; i++)
		strcat(big, "<a>");
	CHECK_EQ(raw(igd, A, IGD_SVC_IPCONN, sa, big), 500);
	/* a huge argument, and non-ASCII (valid UTF-8 is kept, cut on a character boundary) */
	memset(big, 0, sizeof(big));
	memset(big, 'x', 1100);
	call(igd, A, IPC2, "AddPortMapping", map_args("", "9003", "TCP", "80", A, "0", big));
	CHECK_EQ(code(), 402);
	call(igd, A, IPC2, "AddPortMapping", map_args("", "9003", "TCP", "80", A, "0",
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"));
	CHECK_EQ(code(), 0);
	CHECK_EQ(strlen(mtable_lookup_ext(igd->ctx->mt, MT_TCP, 9003)->desc), 62);
	/* ForceTermination is refused; the others answer */
	call(igd, A, IPC1, "ForceTermination", "");
	CHECK_EQ(code(), 606);
	call(igd, A, IPC1, "GetStatusInfo", "");
	CHECK(has("<NewConnectionStatus>Disconnected</NewConnectionStatus>"));
	call(igd, A, IPC1, "SetConnectionType", "<NewConnectionType>IP_Bridged</NewConnectionType>");
	CHECK_EQ(code(), 402);
	call(igd, A, "urn:schemas-upnp-org:service:Layer3Forwarding:1",
	    "GetDefaultConnectionService", "");
	CHECK(has("uuid:0d3f5e2a-1111-4222-8333-444455556662:WANConnectionDevice:2,"));
	lab_free(igd);
}

static void
test_desc_and_host(void)
{
	struct igd *igd = lab_igd("firewall = none\nfriendly_name = Tom's <Router> & co\n");

	evbuffer_drain(out, evbuffer_get_length(out));

	CHECK_EQ(igd_desc_render(igd, "/rootDesc.xml", NULL, out), 0);
	CHECK(has("<friendlyName>Tom&apos;s &lt;Router&gt; &amp; co</friendlyName>"));
	CHECK(has("InternetGatewayDevice:2<") && has("/WANIPCn2.xml<"));
	CHECK(has("<UDN>uuid:0d3f5e2a-1111-4222-8333-444455556660</UDN>"));
	evbuffer_drain(out, evbuffer_get_length(out));
	CHECK_EQ(igd_desc_render(igd, "/rootDesc1.xml", NULL, out), 0);
	CHECK(has("InternetGatewayDevice:1<") && has("WANIPConnection:1<") && !has(":2<"));
	CHECK_EQ(igd_desc_render(igd, "/etc/passwd", NULL, out), -1);
	/* DNS rebinding: only the gateway's LAN address as a literal */
	CHECK_EQ(igd_http_host_ok(igd, "192.0.2.1:5000"), 1);
	CHECK_EQ(igd_http_host_ok(igd, "192.0.2.1"), 1);
	CHECK_EQ(igd_http_host_ok(igd, "router.example:5000"), 0);
	CHECK_EQ(igd_http_host_ok(igd, "198.51.100.1:5000"), 0);	/* WAN address */
	CHECK_EQ(igd_http_host_ok(igd, "192.0.2.1:50x0"), 0);
	CHECK_EQ(igd_http_host_ok(igd, "192.0.2.1:"), 0);
	CHECK_EQ(igd_http_host_ok(igd, "[192.0.2.1]"), 1);
	CHECK_EQ(igd_http_host_ok(igd, ""), 0);
	lab_free(igd);
}

/* The root description at /rootDesc.xml for User-Agent ua: 1 or 2 by the device type it names. */
static int
root_v(struct igd *igd, const char *ua)
{
	evbuffer_drain(out, evbuffer_get_length(out));
	CHECK_EQ(igd_desc_render(igd, "/rootDesc.xml", ua, out), 0);
	if (has("device:InternetGatewayDevice:1<") && has("WANIPConnection:1<") &&
	    has("/WANIPCn1.xml<") && !has(":2<"))
		return 1;
	return has("device:InternetGatewayDevice:2<") && has("WANIPConnection:2<") ? 2 : 0;
}

/* upnp_igd_version: one LOCATION, whose description depends on the mode (and the client). */
static void
test_igd_version(void)
{
	static const char *const v1[] = {
		"Microsoft-Windows/10.0 UPnP/1.0",
		"Microsoft-Windows/6.1 UPnP/1.0",
		"Mozilla/4.0 (compatible; UPnP/1.0; Windows NT/5.1)",
		"Mozilla/4.0 (compatible; UPnP/1.0; Windows 9x)",
		"Xbox/2.0.4552.0 UPnP/1.0 Xbox/2.0.4552.0",
		"microsoft-windows/10.0 upnp/1.0",
	};
	static const char *const v2[] = {
		"Debian/12 UPnP/1.1 MiniUPnPc/2.2.4", "Python-urllib/3.11", "curl/7.88.1",
		"Linux/6.1 UPnP/1.0 GUPnP/1.6.3", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
		"Microsoft-Windows", "", "Xbox",
	};
	struct igd *igd = lab_igd("firewall = none\n");
	size_t i;

	for (i = 0; i < PG_NELEM(v1); i++) {
		CHECK_EQ(igd_desc_v1_agent(v1[i]), 1);
		CHECK_EQ(root_v(igd, v1[i]), 1);
	}
	for (i = 0; i < PG_NELEM(v2); i++) {
		CHECK_EQ(igd_desc_v1_agent(v2[i]), 0);
		CHECK_EQ(root_v(igd, v2[i]), 2);
	}
	CHECK_EQ(root_v(igd, NULL), 2);
	CHECK_EQ(igd_desc_by_agent(igd, "/rootDesc.xml"), 1);
	CHECK_EQ(igd_desc_by_agent(igd, "/rootDesc1.xml"), 0);
	CHECK_EQ(igd_service_max_version(igd->ctx->cfg->upnp_igd_version), 2);
	/* a v1 SOAPAction still works beside v2 on the same control URL */
	CHECK_EQ(call(igd, A, IPC1, "GetExternalIPAddress", ""), 200);
	CHECK_EQ(call(igd, A, IPC2, "GetListOfPortMappings", range_args("1", "65535", "TCP",
	    "1", "10")), 500);
	CHECK_EQ(code(), 730);		/* nothing to list, but the action exists */
	lab_free(igd);

	igd = lab_igd("firewall = none\nupnp_igd_version = 2\n");
	CHECK_EQ(root_v(igd, "Microsoft-Windows/10.0 UPnP/1.0"), 2);
	CHECK_EQ(igd_desc_by_agent(igd, "/rootDesc.xml"), 0);
	evbuffer_drain(out, evbuffer_get_length(out));
	CHECK_EQ(igd_desc_render(igd, "/rootDesc1.xml", NULL, out), 0);
	CHECK(has("InternetGatewayDevice:1<"));
	lab_free(igd);

	/* IGD:1 only: v1 for everyone, and no v2 SOAPAction */
	igd = lab_igd("firewall = none\nupnp_igd_version = 1\n");
	CHECK_EQ(root_v(igd, "Debian/12 UPnP/1.1 MiniUPnPc/2.2.4"), 1);
	CHECK_EQ(root_v(igd, NULL), 1);
	CHECK_EQ(igd_service_max_version(igd->ctx->cfg->upnp_igd_version), 1);
	CHECK_EQ(igd_service_offered(IGD_SVC_IPCONN,
	    igd_service_max_version(igd->ctx->cfg->upnp_igd_version)), 1);
	CHECK_EQ(igd_service_offered(IGD_SVC_6FC,
	    igd_service_max_version(igd->ctx->cfg->upnp_igd_version)), 1);
	CHECK_EQ(call(igd, A, IPC1, "GetExternalIPAddress", ""), 200);
	CHECK_EQ(call(igd, A, IPC2, "GetExternalIPAddress", ""), 500);
	CHECK_EQ(code(), 401);
	CHECK_EQ(call(igd, A, IPC2, "AddAnyPortMapping", map_args("", "9000", "TCP", "9000", A,
	    "60", "t")), 500);
	CHECK_EQ(code(), 401);
	call(igd, A, "urn:schemas-upnp-org:service:Layer3Forwarding:1",
	    "GetDefaultConnectionService", "");
	CHECK(has("uuid:0d3f5e2a-1111-4222-8333-444455556662:WANConnectionDevice:1,"));
	lab_free(igd);
}

#define FC "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1"
#define A6 "2001:db8:1::10"
#define B6 "2001:db8:1::11"

static const char *
pin_args(const char *remote, const char *rport, const char *client, const char *port,
    const char *proto, const char *lease)
{
	snprintf(args, sizeof(args), "<RemoteHost>%s</RemoteHost><RemotePort>%s</RemotePort>"
	    "<InternalClient>%s</InternalClient><InternalPort>%s</InternalPort>"
	    "<Protocol>%s</Protocol><LeaseTime>%s</LeaseTime>", remote, rport, client, port,
	    proto, lease);
	return args;
}

static const char *
id_args(const char *id, const char *lease)
{
	snprintf(args, sizeof(args), "<UniqueID>%s</UniqueID>%s%s%s", id,
	    lease ? "<NewLeaseTime>" : "", lease ? lease : "", lease ? "</NewLeaseTime>" : "");
	return args;
}

static int
pin_add(struct igd *igd, const char *client, const char *remote, const char *port,
    const char *proto, const char *lease)
{
	call(igd, client, FC, "AddPinhole", pin_args(remote, "0", client, port, proto, lease));
	return code();
}

/* WANIPv6FirewallControl: every action and error code, through a real table. */
static void
test_pinholes(void)
{
	struct igd *igd = lab_igd("firewall = nftables\nwan_interface = wan0\nlan_interface = br-lan\n");
	struct mtable *mt = igd->ctx->mt;
	struct mt_pin_req pq;
	struct mt_entry *e;

	CHECK_EQ(call(igd, A6, FC, "GetFirewallStatus", ""), 200);
	CHECK(has("<FirewallEnabled>1</FirewallEnabled>"));
	CHECK(has("<InboundPinholeAllowed>1</InboundPinholeAllowed>"));
	CHECK_EQ(pin_add(igd, A6, "", "8000", "6", "3600"), 0);
	CHECK(has("<UniqueID>1</UniqueID>"));
	CHECK((e = mtable_pinhole_get(mt, 1)) != NULL);
	CHECK_EQ(e->source, MT_SRC_UPNP);
	CHECK_EQ(mtable_remaining(mt, e), 3600);
	CHECK_EQ(fw_mem_pin_count(igd->ctx->fw), 1);	/* committed before the answer */
	/* the same again: the same UniqueID */
	CHECK_EQ(pin_add(igd, A6, "", "8000", "6", "600"), 0);
	CHECK(has("<UniqueID>1</UniqueID>"));
	/* a remote host makes another pinhole */
	CHECK_EQ(pin_add(igd, A6, "2001:db8:2::100", "8000", "6", "600"), 0);
	CHECK(has("<UniqueID>2</UniqueID>"));
	/* errors */
	call(igd, A6, FC, "AddPinhole", pin_args("", "0", B6, "8000", "6", "60"));
	CHECK_EQ(code(), 606);					/* another host's address */
	call(igd, A6, FC, "AddPinhole", pin_args("", "0", "2001:db8:1::1", "8000", "6", "60"));
	CHECK_EQ(code(), 606);					/* the gateway's */
	call(igd, A6, FC, "AddPinhole", pin_args("", "0", "", "8000", "6", "60"));
	CHECK_EQ(code(), 708);
	CHECK_EQ(pin_add(igd, A6, "", "0", "6", "60"), 706);
	CHECK_EQ(pin_add(igd, A6, "", "8000", "65535", "60"), 707);
	CHECK_EQ(pin_add(igd, A6, "", "8000", "1", "60"), 705);
	CHECK_EQ(pin_add(igd, A6, "", "8000", "6", "0"), 402);
	CHECK_EQ(pin_add(igd, A6, "", "8000", "6", "86401"), 402);
	CHECK_EQ(pin_add(igd, A6, "198.51.100.7", "8000", "6", "60"), 402);
	CHECK_EQ(pin_add(igd, A6, B6, "8000", "6", "60"), 402);		/* a LAN remote */
	CHECK_EQ(pin_add(igd, A6, "ff02::1", "8000", "6", "60"), 402);
	CHECK_EQ(pin_add(igd, A6, "fe80::1", "8000", "6", "60"), 402);
	CHECK_EQ(pin_add(igd, A6, "2001:db8:2::100 junk", "8000", "6", "60"), 402);
	CHECK_EQ(pin_add(igd, A6, " 2001:db8:2::100 ", "8000", "6", "60"), 0);
	CHECK_EQ(pin_add(igd, A6, "", "8000", "TCP", "60"), 402);
	call(igd, A6, FC, "AddPinhole", pin_args("", "0", "192.0.2.10", "8000", "6", "60"));
	CHECK_EQ(code(), 402);
	/* a pinhole of another source on the same key is not the caller's */
	memset(&pq, 0, sizeof(pq));
	pq.proto = MT_TCP;
	pq.source = MT_SRC_PCP;
	pq.int_addr = addr(A6);
	pq.int_port = 8100;
	pq.lease_s = 600;
	pq.owner = "0303";
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &e, NULL), MT_OK);
	CHECK_EQ(pin_add(igd, A6, "", "8100", "6", "60"), 606);
	CHECK_EQ(e->source, MT_SRC_PCP);
	CHECK_EQ(mtable_remaining(mt, e), 600);
	e = mtable_pinhole_get(mt, 1);
	/* packets: the kernel's counter, another host's in secure mode 606 */
	call(igd, B6, FC, "GetPinholePackets", id_args("1", NULL));
	CHECK_EQ(code(), 606);
	call(igd, B6, FC, "CheckPinholeWorking", id_args("1", NULL));
	CHECK_EQ(code(), 606);
	call(igd, A6, FC, "CheckPinholeWorking", id_args("1", NULL));
	CHECK_EQ(code(), 709);
	fw_mem_pin_traffic(igd->ctx->fw, 1, 7, 700);
	call(igd, A6, FC, "GetPinholePackets", id_args("1", NULL));
	CHECK(has("<PinholePackets>7</PinholePackets>"));
	call(igd, A6, FC, "CheckPinholeWorking", id_args("1", NULL));
	CHECK(has("<IsWorking>1</IsWorking>"));
	/* update keeps the count; another host may not touch it */
	call(igd, A6, FC, "UpdatePinhole", id_args("1", "86401"));
	CHECK_EQ(code(), 402);
	call(igd, A6, FC, "UpdatePinhole", id_args("1", "86400"));
	CHECK_EQ(code(), 0);
	CHECK_EQ(mtable_remaining(mt, e), 86400);
	call(igd, A6, FC, "GetPinholePackets", id_args("1", NULL));
	CHECK(has("<PinholePackets>7</PinholePackets>"));
	call(igd, B6, FC, "UpdatePinhole", id_args("1", "60"));
	CHECK_EQ(code(), 606);
	call(igd, B6, FC, "DeletePinhole", id_args("1", NULL));
	CHECK_EQ(code(), 606);
	call(igd, A6, FC, "DeletePinhole", id_args("9", NULL));
	CHECK_EQ(code(), 704);
	call(igd, A6, FC, "GetPinholePackets", id_args("70000", NULL));
	CHECK_EQ(code(), 402);
	call(igd, A6, FC, "DeletePinhole", id_args("1", NULL));
	CHECK_EQ(code(), 0);
	CHECK(mtable_pinhole_get(mt, 1) == NULL);
	call(igd, A6, FC, "DeletePinhole", id_args("1", NULL));
	CHECK_EQ(code(), 704);
	/* a pinhole of another source is not UPnP's to name */
	CHECK_EQ(call(igd, A6, FC, "GetOutboundPinholeTimeout",
	    pin_args("", "0", A6, "8000", "17", "60")), 200);
	CHECK(has("<OutboundPinholeTimeout>"));
	lab_free(igd);
	/* 702 and 703 */
	igd = lab_igd("firewall = none\n");
	CHECK_EQ(pin_add(igd, A6, "", "8000", "6", "60"), 702);
	call(igd, A6, FC, "GetFirewallStatus", "");
	CHECK(has("<FirewallEnabled>0</FirewallEnabled>"));
	lab_free(igd);
	igd = lab_igd("firewall = nftables\nwan_interface = wan0\nlan_interface = br-lan\nupnp_pinholes = no\n");
	CHECK_EQ(pin_add(igd, A6, "", "8000", "6", "60"), 703);
	call(igd, A6, FC, "GetFirewallStatus", "");
	CHECK(has("<InboundPinholeAllowed>0</InboundPinholeAllowed>"));
	lab_free(igd);
	/* secure mode off: a pinhole for another LAN host */
	igd = lab_igd("firewall = nftables\nwan_interface = wan0\nlan_interface = br-lan\nupnp_secure_mode = no\n");
	call(igd, A6, FC, "AddPinhole", pin_args("", "0", B6, "8000", "6", "60"));
	CHECK_EQ(code(), 0);
	CHECK(has("<UniqueID>1</UniqueID>"));
	call(igd, B6, FC, "UpdatePinhole", id_args("1", "120"));
	CHECK_EQ(code(), 0);
	call(igd, A6, FC, "GetPinholePackets", id_args("1", NULL));
	CHECK_EQ(code(), 0);
	call(igd, A6, FC, "DeletePinhole", id_args("1", NULL));
	CHECK_EQ(code(), 0);
	CHECK_EQ(mtable_pinhole_count(igd->ctx->mt), 0);
	lab_free(igd);
}

/* SERVER: "Linux/RELEASE UPnP/1.1 portgate/VERSION", the release from uname(2) as one token. */
static void
test_server_string(void)
{
	struct igd *igd = lab_igd("firewall = none\n");
	const char *s, *sp;

	CHECK(strcmp(igd_server_string(igd), "Linux UPnP/1.1 portgate/" PACKAGE_VERSION) == 0);
	igd_server_init(igd);
	s = igd_server_string(igd);

	CHECK(strncmp(s, "Linux/", 6) == 0);
	CHECK((sp = strchr(s, ' ')) != NULL && sp > s + 6);	/* a release, no space in it */
	CHECK(sp != NULL && strcmp(sp, " UPnP/1.1 portgate/" PACKAGE_VERSION) == 0);
	CHECK(strcmp(igd_server_string(NULL), "Linux UPnP/1.1 portgate/" PACKAGE_VERSION) == 0);
	lab_free(igd);
}

/* igd_status: one "name value" line per field, into the buffer arg. */
static void
status_line(void *arg, const char *name, const char *fmt, ...)
{
	va_list ap;

	evbuffer_add_printf(arg, "%s ", name);
	va_start(ap, fmt);
	evbuffer_add_vprintf(arg, fmt, ap);
	va_end(ap);
	evbuffer_add_printf(arg, "\n");
}

/* The IGD's status verb: the fields `portgatectl status` prints, in its order and formats. */
static void
test_status(void)
{
	struct evbuffer *b = evbuffer_new();
	struct igd *igd = lab_igd("firewall = none\nupnp_igd_version = 1\n");
	char *got;

	igd_status(NULL, status_line, b);
	evbuffer_add(b, "", 1);
	CHECK_STR((char *)evbuffer_pullup(b, -1), "upnp off\n");
	evbuffer_drain(b, evbuffer_get_length(b));
	igd->stats.ssdp_searches = 1;
	igd->stats.ssdp_replies = 2;
	igd->stats.ssdp_dropped = 3;
	igd->stats.ssdp_notifies = 4;
	igd->stats.http_requests = 5;
	igd->stats.http_refused = 6;
	igd->stats.soap_requests = 7;
	igd->stats.soap_errors = 8;
	igd->stats.events_sent = 18446744073709551615ULL;
	igd_status(igd, status_line, b);
	evbuffer_add(b, "", 1);
	got = (char *)evbuffer_pullup(b, -1);
	CHECK_STR(got, "upnp on\n"
	    "upnp_uuid uuid:0d3f5e2a-1111-4222-8333-444455556660\n"
	    "upnp_igd_version 1\n"
	    "ssdp_searches 1\nssdp_replies 2\nssdp_dropped 3\nssdp_notifies 4\n"
	    "http_requests 5\nhttp_refused 6\n"
	    "soap_requests 7\nsoap_errors 8\n"
	    "upnp_subscriptions 0\n"
	    "upnp_events_sent 18446744073709551615\n");
	evbuffer_free(b);
	lab_free(igd);
}

int
main(void)
{
	test_server_string();
	log_init(1, -2);
	out = evbuffer_new();
	test_add_and_errors();
	test_other_sources();
	test_delete_and_v2();
	test_who_may();
	test_bad_requests();
	test_desc_and_host();
	test_igd_version();
	test_pinholes();
	test_status();
	evbuffer_free(out);
	return tu_done("test_igd");
}
