/*
 * igd_act.c - UPnP control actions.
 *
 * Each action is a row of igd_actions[]: service, first version that has
 * it, name, handler. Handlers read arguments, call the mapping table and
 * write output arguments; every table error becomes a UPnP error code in
 * igd_act_mt_error(), the one place that knows both. Conflict rules,
 * quotas, lease caps, the LAN-host check and who may change what (secure
 * mode, another source's entry: the caller is the call's actor) are the
 * table's, not ours.
 * What every handler uses on its call (arguments, the commit) is
 * igd_call.c's; the pinhole handlers are igd_pin.c's.
 */
#include "config.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "daemon.h"
#include "event.h"
#include "igd/igd.h"
#include "igd/igd_act.h"
#include "igd/igd_call.h"
#include "igd/igd_desc.h"
#include "igd/igd_pin.h"
#include "igd/igd_service.h"
#include "igd/igd_soap.h"
#include "log.h"
#include "mtable.h"
#include "pcp/pcp_wire.h"
#include "upstream.h"
#include "util.h"

#define IGD_LEASE_MAX_V2	604800		/* IGD:2 PortMappingLeaseDuration range */
#define IGD_LIST_MAX		1000		/* entries in one GetListOfPortMappings */

/* The highest version offered, by the configuration in force (upnp_igd_version). */
static int
igd_act_max_version(const struct igd *igd)
{
	return igd_service_max_version(igd->ctx->cfg->upnp_igd_version);
}

/* ---- arguments ---- */

static enum igd_err
igd_arg_proto(struct igd_call *c, int *proto)
{
	const char *v = igd_arg(c, "NewProtocol");

	if (v == NULL)
		return IGD_E_INVALID_ARGS;
	if ((*proto = mt_proto_parse(v)) == -1) {
		snprintf(c->why, sizeof(c->why), "protocol is not TCP or UDP");
		return IGD_E_INVALID_ARGS;
	}
	return IGD_OK;
}

static enum igd_err
igd_arg_bool(struct igd_call *c, const char *name, int *out)
{
	const char *v = igd_arg(c, name);

	if (v == NULL)
		return IGD_E_INVALID_ARGS;
	if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0)
		*out = 0;
	else {
		snprintf(c->why, sizeof(c->why), "%s is not a boolean", name);
		return IGD_E_INVALID_ARGS;
	}
	return IGD_OK;
}

/*
 * NewRemoteHost: the wildcard ("" or, as some clients send, "*"), or one
 * IPv4 host that alone may reach the mapping (enforced in the kernel, as
 * a filter of the table's entry). Names are refused: 402.
 */
static enum igd_err
igd_arg_remote(struct igd_call *c)
{
	const char *v = igd_arg(c, "NewRemoteHost");
	struct in6_addr a;

	c->has_remote = 0;
	if (v == NULL)
		return IGD_E_INVALID_ARGS;
	v += strspn(v, " \t\r\n");
	if (*v == '\0' || strcmp(v, "*") == 0)
		return IGD_OK;
	if (util_parse_addr(v, &a) == -1 || !util_addr_is_v4(&a)) {
		snprintf(c->why, sizeof(c->why), "NewRemoteHost is not an IPv4 address");
		return IGD_E_INVALID_ARGS;
	}
	memset(&c->remote, 0, sizeof(c->remote));
	c->remote.addr = a;
	c->remote.plen = 128;
	c->has_remote = 1;
	return IGD_OK;
}

/* The remote host a UPnP client sees for e: its one single-host filter, or "" (any). */
static void
igd_entry_remote(const struct mt_entry *e, char *buf, size_t len)
{
	if (e->nfilters == 1 && e->filters[0].plen == 128 && e->filters[0].port == 0)
		util_addr_str(&e->filters[0].addr, buf, len);
	else
		snprintf(buf, len, "%s", "");
}

/* A delete or get naming a remote host must name the mapping's (or none). */
static int
igd_remote_matches(const struct igd_call *c, const struct mt_entry *e)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (!c->has_remote)
		return 1;
	igd_entry_remote(e, a, sizeof(a));
	return strcmp(a, util_addr_str(&c->remote.addr, b, sizeof(b))) == 0;
}

/* ---- table errors to UPnP codes, in one place ---- */

static enum igd_err
igd_act_mt_error(struct igd_call *c, enum mt_err e, const struct mt_entry *holder)
{
	snprintf(c->why, sizeof(c->why), "%s", mt_strerror(e));
	switch (e) {
	case MT_OK:
		return IGD_OK;
	case MT_ERR_INVAL:
		return IGD_E_INVALID_ARGS;
	case MT_ERR_CONFLICT:
		/* IGD:1 has no 729: a v1 caller gets the conflict code it knows */
		if (holder != NULL && holder->source != MT_SRC_UPNP && c->version >= 2)
			return IGD_E_OTHER_MECHANISM;
		return IGD_E_CONFLICT;
	case MT_ERR_DENIED:
	case MT_ERR_ADDR:
	case MT_ERR_NOT_AUTHORIZED:
		return IGD_E_NOT_AUTHORIZED;
	case MT_ERR_QUOTA:
	case MT_ERR_NOPORT:
		return IGD_E_NO_PORTS;
	case MT_ERR_NOTFOUND:
		return IGD_E_NO_SUCH_ENTRY;
	case MT_ERR_FIREWALL:
	case MT_ERR_NOMEM:
		break;
	}
	return IGD_E_ACTION_FAILED;
}

/* ---- port mappings ---- */

/* The description a UPnP client sees: other sources are named, so users know what holds a port. */
static void
igd_entry_desc(const struct mt_entry *e, char *buf, size_t len)
{
	if (e->source == MT_SRC_UPNP)
		snprintf(buf, len, "%s", e->desc);
	else
		snprintf(buf, len, "portgate %s%s%s", mt_source_name(e->source),
		    e->desc[0] ? ": " : "", e->desc);
}

/* The output arguments describing external port `port` of entry e. */
static void
igd_out_entry(struct igd_call *c, const struct mt_entry *e, uint16_t port, int with_key)
{
	char a[INET6_ADDRSTRLEN], desc[MT_DESC_MAX + 32];
	long left = mtable_remaining(c->mt, e);

	if (with_key) {
		igd_entry_remote(e, a, sizeof(a));
		igd_soap_out(c->args, "NewRemoteHost", a);
		igd_out_uint(c, "NewExternalPort", port);
		igd_soap_out(c->args, "NewProtocol", e->proto == MT_TCP ? "TCP" : "UDP");
	}
	igd_out_uint(c, "NewInternalPort", (unsigned long)e->int_port + (port - e->ext_port));
	igd_soap_out(c->args, "NewInternalClient", util_addr_str(&e->int_addr, a, sizeof(a)));
	igd_soap_out(c->args, "NewEnabled", "1");
	igd_entry_desc(e, desc, sizeof(desc));
	igd_soap_out(c->args, "NewPortMappingDescription", desc);
	igd_out_uint(c, "NewLeaseDuration", left < 0 ? 0 : (unsigned long)left);
}

/* The arguments AddPortMapping and AddAnyPortMapping share, as a table request. */
static enum igd_err
igd_map_request(struct igd_call *c, struct mt_request *q, int *enabled)
{
	unsigned long lease;
	const char *client, *desc;
	int proto;
	enum igd_err e;

	memset(q, 0, sizeof(*q));
	if ((e = igd_arg_remote(c)) != IGD_OK || (e = igd_arg_port(c, "NewExternalPort",
	    &q->ext_port)) != IGD_OK || (e = igd_arg_port(c, "NewInternalPort", &q->int_port)) !=
	    IGD_OK)
		return e;
	if ((e = igd_arg_proto(c, &proto)) != IGD_OK || (e = igd_arg_bool(c, "NewEnabled",
	    enabled)) != IGD_OK)
		return e;
	q->proto = (uint8_t)proto;
	if ((e = igd_arg_uint(c, "NewLeaseDuration", c->version >= 2 ? IGD_LEASE_MAX_V2 :
	    UINT32_MAX, &lease)) != IGD_OK)
		return e;
	if ((client = igd_arg(c, "NewInternalClient")) == NULL ||
	    (desc = igd_arg(c, "NewPortMappingDescription")) == NULL)
		return IGD_E_INVALID_ARGS;
	if (q->int_port == 0) {
		snprintf(c->why, sizeof(c->why), "internal port 0");
		return IGD_E_INVALID_ARGS;
	}
	if (util_parse_addr(client, &q->int_addr) == -1 || !util_addr_is_v4(&q->int_addr)) {
		snprintf(c->why, sizeof(c->why), "internal client is not an IPv4 address");
		return IGD_E_INVALID_ARGS;
	}
	if (util_text_problem(desc, strlen(desc), IGD_SOAP_VALUE_MAX) != NULL) {
		snprintf(c->why, sizeof(c->why), "description: %s",
		    util_text_problem(desc, strlen(desc), IGD_SOAP_VALUE_MAX));
		return IGD_E_INVALID_ARGS;
	}
	/* asked here, as the table would refuse it: 606 comes before 716 and NewEnabled */
	if ((e = igd_authorize(c, &q->int_addr, NULL)) != IGD_OK)
		return e;
	q->actor = &c->actor;
	q->source = MT_SRC_UPNP;
	q->lease_s = (uint32_t)lease;	/* 0: the table gives max_lease ("as long as allowed") */
	q->desc = desc;
	q->ext_addr = c->igd->ctx->cfg->external_ip;
	q->replace_own = 1;		/* a client may re-point its own mapping */
	q->filters = c->has_remote ? &c->remote : NULL;
	q->nfilters = c->has_remote ? 1 : 0;
	q->set_filters = 1;
	return IGD_OK;
}

/* NewEnabled = 0: nothing is installed; a mapping the caller held there is removed. */
static enum igd_err
igd_map_disabled(struct igd_call *c, const struct mt_request *q)
{
	struct mt_entry *e = mtable_lookup_ext(c->mt, q->proto, q->ext_port);

	/* the table keeps what is not the caller's (another source's): no error either */
	if (e != NULL && igd_same_addr(&e->int_addr, &q->int_addr) &&
	    e->ext_port_end == e->ext_port)
		(void)mtable_del_by(c->mt, &c->actor, e);
	return IGD_OK;
}

static enum igd_err
act_add_port_mapping(struct igd_call *c)
{
	const struct mt_entry *holder = NULL;
	struct mt_entry *got = NULL;
	struct mt_request q;
	enum mt_err me;
	int enabled;
	enum igd_err e;

	if ((e = igd_map_request(c, &q, &enabled)) != IGD_OK)
		return e;
	if (q.ext_port == 0) {
		snprintf(c->why, sizeof(c->why), "external port 0");
		return IGD_E_WILDCARD_EXT_PORT;
	}
	if (!enabled)
		return igd_map_disabled(c, &q);
	q.fixed = MT_PORT_FIXED;	/* this port or 718: an upstream PCP server is asked so too */
	me = mtable_add(c->mt, &q, &got, &holder);
	if (me != MT_OK)
		return igd_act_mt_error(c, me, holder);
	return igd_commit(c, got);
}

static enum igd_err
act_add_any_port_mapping(struct igd_call *c)
{
	const struct mt_entry *holder = NULL;
	struct mt_entry *got = NULL;
	struct mt_request q;
	enum mt_err me = MT_ERR_CONFLICT;
	int enabled;
	enum igd_err e;

	if ((e = igd_map_request(c, &q, &enabled)) != IGD_OK)
		return e;
	if (!enabled)
		return IGD_E_INVALID_ARGS;
	q.fixed = MT_PORT_FOLLOW;	/* behind an upstream PCP server: the port it grants */
	if (q.ext_port != 0)
		me = mtable_add(c->mt, &q, &got, &holder);
	if (me == MT_ERR_CONFLICT || me == MT_ERR_DENIED) {
		/* taken (or not allowed) there: the table's free-port search near it */
		me = mtable_find_free(c->mt, q.proto, q.source, q.ext_port ? q.ext_port : q.int_port,
		    &q.int_addr, q.int_port, &q.ext_port);
		if (me == MT_OK)
			me = mtable_add(c->mt, &q, &got, &holder);
	}
	if (me != MT_OK)
		return igd_act_mt_error(c, me, holder);
	if ((e = igd_commit(c, got)) != IGD_OK)
		return e;
	igd_out_uint(c, "NewReservedPort", got->ext_port);
	return IGD_OK;
}

/* The entry at (proto, port) that the caller may delete, or an error. */
static enum igd_err
igd_deletable(struct igd_call *c, const struct mt_entry *e)
{
	if (e == NULL) {
		snprintf(c->why, sizeof(c->why), "no such mapping");
		return IGD_E_NO_SUCH_ENTRY;
	}
	return igd_authorize(c, NULL, e);	/* another source's, or host's in secure mode */
}

/*
 * NewRemoteHost, NewExternalPort, NewProtocol: the key of Delete and
 * GetSpecific. *e is the entry they name (NULL if none, or another remote host's).
 */
static enum igd_err
igd_key_entry(struct igd_call *c, struct mt_entry **e, uint16_t *port)
{
	enum igd_err err;
	int proto;

	*e = NULL;
	if ((err = igd_arg_remote(c)) != IGD_OK || (err = igd_arg_port(c, "NewExternalPort",
	    port)) != IGD_OK || (err = igd_arg_proto(c, &proto)) != IGD_OK)
		return err;
	if (*port != 0 && (*e = mtable_lookup_ext(c->mt, proto, *port)) != NULL &&
	    !igd_remote_matches(c, *e))
		*e = NULL;
	return IGD_OK;
}

static enum igd_err
act_delete_port_mapping(struct igd_call *c)
{
	struct mt_entry *e;
	uint16_t port;
	enum igd_err err;

	if ((err = igd_key_entry(c, &e, &port)) != IGD_OK)
		return err;
	if ((err = igd_deletable(c, e)) != IGD_OK)
		return err;
	return igd_act_mt_error(c, mtable_del_by(c->mt, &c->actor, e), NULL);
}

/* NewStartPort, NewEndPort, NewProtocol, NewManage: shared by the v2 range actions. */
static enum igd_err
igd_range_args(struct igd_call *c, uint16_t *lo, uint16_t *hi, int *proto, int *manage)
{
	enum igd_err e;

	if ((e = igd_arg_port(c, "NewStartPort", lo)) != IGD_OK ||
	    (e = igd_arg_port(c, "NewEndPort", hi)) != IGD_OK ||
	    (e = igd_arg_proto(c, proto)) != IGD_OK || (e = igd_arg_bool(c, "NewManage",
	    manage)) != IGD_OK)
		return e;
	if (*lo > *hi) {
		snprintf(c->why, sizeof(c->why), "start port above end port");
		return IGD_E_INCONSISTENT;
	}
	return IGD_OK;
}

static enum igd_err
act_delete_port_mapping_range(struct igd_call *c)
{
	struct mt_actor own = c->actor;
	struct mt_entry *e;
	uint16_t lo, hi;
	uint32_t p;
	int proto, manage;
	size_t n = 0;
	enum igd_err err;

	if ((err = igd_range_args(c, &lo, &hi, &proto, &manage)) != IGD_OK)
		return err;
	if (manage && (err = igd_authorize(c, NULL, NULL)) != IGD_OK)
		return err;		/* NewManage is every host's: not in secure mode */
	own.secure = !manage;		/* without it the caller's own only, as if secure */
	for (p = lo; p <= hi; p++) {
		e = mtable_lookup_ext(c->mt, proto, (uint16_t)p);
		if (e == NULL || e->ext_port != p)
			continue;
		if (mtable_del_by(c->mt, &own, e) == MT_OK)	/* the table skips others' */
			n++;
	}
	if (n == 0) {
		snprintf(c->why, sizeof(c->why), "no mapping of yours in the range");
		return IGD_E_NOT_FOUND;
	}
	return IGD_OK;
}

static void
igd_list_entry(struct evbuffer *l, struct igd_call *c, const struct mt_entry *e, uint16_t port)
{
	char a[INET6_ADDRSTRLEN], rh[INET6_ADDRSTRLEN], desc[MT_DESC_MAX + 32];
	long left = mtable_remaining(c->mt, e);

	igd_entry_remote(e, rh, sizeof(rh));
	evbuffer_add_printf(l, "<p:PortMappingEntry><p:NewRemoteHost>%s</p:NewRemoteHost>"
	    "<p:NewExternalPort>%u</p:NewExternalPort><p:NewProtocol>%s</p:NewProtocol>"
	    "<p:NewInternalPort>%u</p:NewInternalPort><p:NewInternalClient>%s"
	    "</p:NewInternalClient><p:NewEnabled>1</p:NewEnabled><p:NewDescription>", rh, port,
	    e->proto == MT_TCP ? "TCP" : "UDP", e->int_port + (port - e->ext_port),
	    util_addr_str(&e->int_addr, a, sizeof(a)));
	igd_entry_desc(e, desc, sizeof(desc));
	igd_xml_escape(l, desc);
	evbuffer_add_printf(l, "</p:NewDescription><p:NewLeaseTime>%ld</p:NewLeaseTime>"
	    "</p:PortMappingEntry>", left < 0 ? 0 : left);
}

/* Walks ports in (proto, port) order from the first at or after lo: O(log n) to start. */
static enum igd_err
act_get_list_of_port_mappings(struct igd_call *c)
{
	struct evbuffer *l;
	struct mt_entry *e;
	unsigned long max;
	uint16_t lo, hi, port;
	size_t i, n = 0;
	int proto, manage;
	enum igd_err err;

	if ((err = igd_range_args(c, &lo, &hi, &proto, &manage)) != IGD_OK ||
	    (err = igd_arg_uint(c, "NewNumberOfPorts", 65535, &max)) != IGD_OK)
		return err;
	if (max == 0 || max > IGD_LIST_MAX)
		max = IGD_LIST_MAX;
	if ((l = evbuffer_new()) == NULL)
		return IGD_E_ACTION_FAILED;
	evbuffer_add_printf(l, "<p:PortMappingList "
	    "xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\" "
	    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	    "xsi:schemaLocation=\"urn:schemas-upnp-org:gw:WANIPConnection "
	    "http://www.upnp.org/schemas/gw/WANIPConnection-v2.xsd\">");
	for (i = mtable_port_rank(c->mt, proto, lo); n < max &&
	    (e = mtable_port_at(c->mt, i, &port)) != NULL && e->proto == proto && port <= hi; i++) {
		if (!manage && !igd_same_addr(&e->int_addr, &c->client))
			continue;
		igd_list_entry(l, c, e, port);
		n++;
	}
	evbuffer_add_printf(l, "</p:PortMappingList>");
	/* CDATA, as clients parse it (miniupnpc's parser has no entity decoding); every
	 * '>' inside is escaped, so "]]>" cannot occur in it */
	if (n > 0) {
		evbuffer_add_printf(c->args, "<NewPortListing><![CDATA[");
		evbuffer_add_buffer(c->args, l);
		evbuffer_add_printf(c->args, "]]></NewPortListing>");
	}
	evbuffer_free(l);
	if (n == 0) {
		snprintf(c->why, sizeof(c->why), "no mapping in the range");
		return IGD_E_NOT_FOUND;
	}
	return IGD_OK;
}

static enum igd_err
act_get_generic_port_mapping_entry(struct igd_call *c)
{
	struct mt_entry *e;
	unsigned long idx;
	uint16_t port;
	enum igd_err err;

	if ((err = igd_arg_uint(c, "NewPortMappingIndex", UINT32_MAX, &idx)) != IGD_OK)
		return err;
	if ((e = mtable_port_at(c->mt, idx, &port)) == NULL) {
		snprintf(c->why, sizeof(c->why), "index %lu past the end", idx);
		return IGD_E_ARRAY_INDEX;
	}
	igd_out_entry(c, e, port, 1);
	return IGD_OK;
}

static enum igd_err
act_get_specific_port_mapping_entry(struct igd_call *c)
{
	struct mt_entry *e;
	uint16_t port;
	enum igd_err err;

	if ((err = igd_key_entry(c, &e, &port)) != IGD_OK)
		return err;
	if (e == NULL) {
		snprintf(c->why, sizeof(c->why), "no mapping at that port");
		return IGD_E_NO_SUCH_ENTRY;
	}
	igd_out_entry(c, e, port, 0);
	return IGD_OK;
}

/* ---- connection state ---- */

static void
igd_external_ip(const struct igd *igd, char *buf, size_t len)
{
	struct in6_addr a;

	/* RFC 6970: behind an upstream PCP server, the address the internet sees */
	if (upstream_public_addr(igd->ctx, &a))
		util_addr_str(&a, buf, len);
	else if (len > 0)
		buf[0] = '\0';
}

static const char *
igd_conn_status(const struct igd *igd)
{
	return igd->ctx->cfg->has_external_ip ? "Connected" : "Disconnected";
}

static enum igd_err
act_get_external_ip(struct igd_call *c)
{
	char a[INET6_ADDRSTRLEN];

	igd_external_ip(c->igd, a, sizeof(a));
	igd_soap_out(c->args, "NewExternalIPAddress", a);
	return IGD_OK;
}

static enum igd_err
act_get_status_info(struct igd_call *c)
{
	igd_soap_out(c->args, "NewConnectionStatus", igd_conn_status(c->igd));
	igd_soap_out(c->args, "NewLastConnectionError", "ERROR_NONE");
	igd_out_uint(c, "NewUptime", (unsigned long)(time(NULL) - c->igd->ctx->started));
	return IGD_OK;
}

static enum igd_err
act_get_connection_type_info(struct igd_call *c)
{
	igd_soap_out(c->args, "NewConnectionType", "IP_Routed");
	igd_soap_out(c->args, "NewPossibleConnectionTypes", "IP_Routed");
	return IGD_OK;
}

/* The gateway routes; that is the one type it can be set to. */
static enum igd_err
act_set_connection_type(struct igd_call *c)
{
	const char *v = igd_arg(c, "NewConnectionType");

	if (v == NULL)
		return IGD_E_INVALID_ARGS;
	if (strcmp(v, "IP_Routed") != 0) {
		snprintf(c->why, sizeof(c->why), "only IP_Routed");
		return IGD_E_INVALID_ARGS;
	}
	return IGD_OK;
}

/* Always connected: a request to connect has nothing to do. */
static enum igd_err
act_request_connection(struct igd_call *c)
{
	(void)c;
	return IGD_OK;
}

/* No LAN client may take the gateway off the Internet. */
static enum igd_err
act_force_termination(struct igd_call *c)
{
	snprintf(c->why, sizeof(c->why), "ForceTermination is not allowed");
	return IGD_E_NOT_AUTHORIZED;
}

static enum igd_err
act_get_nat_rsip_status(struct igd_call *c)
{
	igd_soap_out(c->args, "NewRSIPAvailable", "0");
	igd_soap_out(c->args, "NewNATEnabled", "1");
	return IGD_OK;
}

/* ---- WANCommonInterfaceConfig: the WAN interface's real counters ---- */

static int
igd_wan_stat(const struct igd *igd, const char *name, char *buf, size_t len)
{
	char path[128];
	const char *wan = igd->ctx->cfg->wan_interface;
	FILE *f;
	int ok;

	if (wan == NULL)
		return -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", wan, name);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ok ? 0 : -1;
}

/* A ui4 counter: the kernel's 64-bit value modulo 2^32, as IGD:1 defines the wrap. */
static enum igd_err
igd_wan_counter(struct igd_call *c, const char *stat, const char *arg)
{
	char buf[32];
	unsigned long long v;

	if (igd_wan_stat(c->igd, stat, buf, sizeof(buf)) == -1 ||
	    sscanf(buf, "%llu", &v) != 1) {
		snprintf(c->why, sizeof(c->why), "cannot read the WAN counter %s", stat);
		return IGD_E_ACTION_FAILED;
	}
	igd_out_uint(c, arg, (unsigned long)(v & 0xffffffffULL));
	return IGD_OK;
}

static enum igd_err
act_bytes_sent(struct igd_call *c)
{
	return igd_wan_counter(c, "statistics/tx_bytes", "NewTotalBytesSent");
}

static enum igd_err
act_bytes_received(struct igd_call *c)
{
	return igd_wan_counter(c, "statistics/rx_bytes", "NewTotalBytesReceived");
}

static enum igd_err
act_packets_sent(struct igd_call *c)
{
	return igd_wan_counter(c, "statistics/tx_packets", "NewTotalPacketsSent");
}

static enum igd_err
act_packets_received(struct igd_call *c)
{
	return igd_wan_counter(c, "statistics/rx_packets", "NewTotalPacketsReceived");
}

static const char *
igd_link_status(const struct igd *igd)
{
	char buf[32];

	if (igd_wan_stat(igd, "operstate", buf, sizeof(buf)) == 0 &&
	    (strcmp(buf, "up") == 0 || strcmp(buf, "unknown") == 0))
		return "Up";
	return "Down";
}

static enum igd_err
act_get_common_link_properties(struct igd_call *c)
{
	char buf[32];
	unsigned long long mbit = 0, bits;

	if (igd_wan_stat(c->igd, "speed", buf, sizeof(buf)) == 0 && buf[0] != '-')
		(void)sscanf(buf, "%llu", &mbit);
	bits = mbit * 1000000ULL;
	if (mbit > 4294 || bits > 0xffffffffULL)
		bits = 0xffffffffULL;
	igd_soap_out(c->args, "NewWANAccessType", "Ethernet");
	igd_out_uint(c, "NewLayer1UpstreamMaxBitRate", (unsigned long)bits);
	igd_out_uint(c, "NewLayer1DownstreamMaxBitRate", (unsigned long)bits);
	igd_soap_out(c->args, "NewPhysicalLinkStatus", igd_link_status(c->igd));
	return IGD_OK;
}

static enum igd_err
act_get_enabled_for_internet(struct igd_call *c)
{
	igd_soap_out(c->args, "NewEnabledForInternet", "1");
	return IGD_OK;
}

/* ---- Layer3Forwarding ---- */

static void
igd_default_service(const struct igd *igd, char *buf, size_t len)
{
	snprintf(buf, len, "uuid:%s:WANConnectionDevice:%d,urn:upnp-org:serviceId:WANIPConn1",
	    igd->udn[IGD_DEV_CONN], igd_act_max_version(igd));
}

static enum igd_err
act_get_default_connection_service(struct igd_call *c)
{
	char buf[128];

	igd_default_service(c->igd, buf, sizeof(buf));
	igd_soap_out(c->args, "NewDefaultConnectionService", buf);
	return IGD_OK;
}

/* ---- dispatch ---- */

static const struct igd_action {
	enum igd_svc	 svc;
	int		 since;		/* first service version with the action */
	const char	*name;
	igd_action_fn	*fn;
} igd_actions[] = {
	{ IGD_SVC_IPCONN, 1, "GetExternalIPAddress", act_get_external_ip },
	{ IGD_SVC_IPCONN, 1, "GetStatusInfo", act_get_status_info },
	{ IGD_SVC_IPCONN, 1, "GetConnectionTypeInfo", act_get_connection_type_info },
	{ IGD_SVC_IPCONN, 1, "SetConnectionType", act_set_connection_type },
	{ IGD_SVC_IPCONN, 1, "RequestConnection", act_request_connection },
	{ IGD_SVC_IPCONN, 1, "ForceTermination", act_force_termination },
	{ IGD_SVC_IPCONN, 1, "GetNATRSIPStatus", act_get_nat_rsip_status },
	{ IGD_SVC_IPCONN, 1, "AddPortMapping", act_add_port_mapping },
	{ IGD_SVC_IPCONN, 1, "DeletePortMapping", act_delete_port_mapping },
	{ IGD_SVC_IPCONN, 1, "GetSpecificPortMappingEntry", act_get_specific_port_mapping_entry },
	{ IGD_SVC_IPCONN, 1, "GetGenericPortMappingEntry", act_get_generic_port_mapping_entry },
	{ IGD_SVC_IPCONN, 2, "AddAnyPortMapping", act_add_any_port_mapping },
	{ IGD_SVC_IPCONN, 2, "DeletePortMappingRange", act_delete_port_mapping_range },
	{ IGD_SVC_IPCONN, 2, "GetListOfPortMappings", act_get_list_of_port_mappings },
	{ IGD_SVC_WANCFG, 1, "GetCommonLinkProperties", act_get_common_link_properties },
	{ IGD_SVC_WANCFG, 1, "GetTotalBytesSent", act_bytes_sent },
	{ IGD_SVC_WANCFG, 1, "GetTotalBytesReceived", act_bytes_received },
	{ IGD_SVC_WANCFG, 1, "GetTotalPacketsSent", act_packets_sent },
	{ IGD_SVC_WANCFG, 1, "GetTotalPacketsReceived", act_packets_received },
	{ IGD_SVC_WANCFG, 1, "GetEnabledForInternet", act_get_enabled_for_internet },
	{ IGD_SVC_L3F, 1, "GetDefaultConnectionService", act_get_default_connection_service },
	{ IGD_SVC_6FC, 1, "GetFirewallStatus", igd_pin_get_firewall_status },
	{ IGD_SVC_6FC, 1, "GetOutboundPinholeTimeout", igd_pin_get_outbound_timeout },
	{ IGD_SVC_6FC, 1, "AddPinhole", igd_pin_add },
	{ IGD_SVC_6FC, 1, "UpdatePinhole", igd_pin_update },
	{ IGD_SVC_6FC, 1, "DeletePinhole", igd_pin_delete },
	{ IGD_SVC_6FC, 1, "GetPinholePackets", igd_pin_get_packets },
	{ IGD_SVC_6FC, 1, "CheckPinholeWorking", igd_pin_check_working },
};

/* The version of svc that the request's namespace names (1..what we offer), or 0. */
static int
igd_req_version(const struct igd *igd, enum igd_svc svc, const char *type)
{
	char want[IGD_SOAP_TYPE_MAX];
	int v;

	for (v = 1; v <= igd_service_offered(svc, igd_act_max_version(igd)); v++) {
		igd_service_type(svc, v, want, sizeof(want));
		if (strcmp(want, type) == 0)
			return v;
	}
	return 0;
}

static const struct igd_action *
igd_find_action(enum igd_svc svc, int version, const char *name)
{
	size_t i;

	for (i = 0; i < PG_NELEM(igd_actions); i++)
		if (igd_actions[i].svc == svc && strcmp(igd_actions[i].name, name) == 0)
			return version >= igd_actions[i].since ? &igd_actions[i] : NULL;
	return NULL;
}

/* A refusal on the event bus: UPnP, the client, the action, the code's token, why. */
static void
igd_post_refusal(struct igd *igd, const struct in6_addr *client, const char *action,
    int code, const char *why)
{
	char detail[EV_DETAIL_MAX];

	snprintf(detail, sizeof(detail), "%d %s: %s", code, igd_err_desc((enum igd_err)code), why);
	evbus_refused(igd->events, "upnp", client, action, igd_err_token((enum igd_err)code),
	    detail);
}

static void
igd_log_error(struct igd *igd, const struct in6_addr *client, const char *action, int code,
    const char *why)
{
	char a[INET6_ADDRSTRLEN];

	if (log_limit_pass(&igd->log_limit, util_mono_ms()))
		log_debug("upnp: %s from %s: %d (%s)", action, util_addr_str(client, a, sizeof(a)),
		    code, why);
}

_Static_assert(PG_NELEM(igd_actions) < IGD_ACT_SLOTS,
    "a counter slot for each action, and one for unknown");

#define IGD_ACT_UNKNOWN	((int)PG_NELEM(igd_actions))	/* not parsed, or no such action */

/* An answer, counted by action (its slot) and result. */
static void
igd_count(struct igd *igd, int act, enum igd_err e)
{
	if (act < 0 || act > IGD_ACT_UNKNOWN)
		act = IGD_ACT_UNKNOWN;
	igd->stats.actions[act][igd_err_slot(e)]++;
}

/*
 * A UPnPError: counted, logged, and, unless it only says nothing was found,
 * posted as a refusal.
 */
static int
igd_reply_error(struct igd *igd, const struct in6_addr *client, int act, int code,
    const char *why, struct evbuffer *out)
{
	int known = act >= 0 && act < IGD_ACT_UNKNOWN;

	igd->stats.soap_errors++;
	igd_count(igd, act, (enum igd_err)code);
	igd_log_error(igd, client, known ? igd_actions[act].name : "request", code, why);
	if (igd_err_refuses((enum igd_err)code))
		igd_post_refusal(igd, client, known ? igd_actions[act].name : "unknown", code, why);
	igd_soap_fault(out, code, igd_err_desc((enum igd_err)code));
	return 500;
}

int
igd_act_refused(struct igd *igd, const struct in6_addr *client, const struct igd_landing *land,
    int err, struct evbuffer *out)
{
	char why[160];

	snprintf(why, sizeof(why), "the firewall refused it: %s", strerror(err));
	evbuffer_drain(out, evbuffer_get_length(out));
	return igd_reply_error(igd, client, land->act, IGD_E_ACTION_FAILED, why, out);
}

int
igd_act_upstream(struct igd *igd, const struct in6_addr *client, const struct igd_landing *land,
    const struct up_landing *l, int status, struct evbuffer *out)
{
	int any = land->action != NULL && strcmp(land->action, "AddAnyPortMapping") == 0;
	char why[160], type[128];
	struct evbuffer *args;

	if (status != 200)
		return status;
	if (l->refused) {	/* RFC 6970: the port the client asked for is not the internet's */
		snprintf(why, sizeof(why), "the upstream PCP server refused it: %s",
		    pcp_wire_result_name(l->view.result));
		evbuffer_drain(out, evbuffer_get_length(out));
		return igd_reply_error(igd, client, land->act, any ? IGD_E_NO_PORTS :
		    IGD_E_CONFLICT, why, out);
	}
	if (any && l->has_view && l->view.state == PCPC_GRANTED && l->view.ext_port != land->port &&
	    (args = evbuffer_new()) != NULL) {
		snprintf(why, sizeof(why), "%u", l->view.ext_port);
		igd_soap_out(args, "NewReservedPort", why);
		igd_service_type((enum igd_svc)land->svc, land->version, type, sizeof(type));
		evbuffer_drain(out, evbuffer_get_length(out));
		igd_soap_response(out, type, land->action, args);
		evbuffer_free(args);
	}
	igd_act_landed(igd, land);
	return status;
}

void
igd_act_landed(struct igd *igd, const struct igd_landing *land)
{
	igd_count(igd, land->act, IGD_OK);
}

void
igd_act_metrics(const struct igd *igd, pg_metric_emit *emit, void *arg)
{
	const char *labels[7] = { "protocol", "upnp", "action", NULL, "result", NULL, NULL };
	size_t a, r;

	for (a = 0; a <= PG_NELEM(igd_actions); a++)
		for (r = 0; r < IGD_RESULT_SLOTS; r++) {
			if (igd->stats.actions[a][r] == 0)
				continue;
			labels[3] = a < PG_NELEM(igd_actions) ? igd_actions[a].name : "unknown";
			labels[5] = igd_err_slot_name(r);
			emit(arg, "requests_total", labels, (double)igd->stats.actions[a][r], NULL);
		}
}

struct igd_settle {
	int	 called;
	int	 err;
};

static void
igd_settled(void *arg, int err)
{
	struct igd_settle *st = arg;

	st->called = 1;
	st->err = err;
}

/* No caller to wait (tests): the entry goes to the kernel now, and out is final. */
static int
igd_act_settle(struct igd *igd, const struct in6_addr *client, const struct igd_landing *land,
    int status, struct evbuffer *out)
{
	struct igd_settle st = { 0, 0 };

	mtable_commit_entry(igd->ctx->mt, land->entry, &st, igd_settled, &st);
	if (!st.called)		/* a scheduled table: the answer stands, the entry follows */
		mtable_commit_cancel(igd->ctx->mt, &st);
	if (st.called && st.err)
		return igd_act_refused(igd, client, land, st.err, out);
	igd_act_landed(igd, land);
	return status;
}

int
igd_act_control(struct igd *igd, enum igd_svc svc, const struct in6_addr *client,
    const char *soapaction, const char *body, size_t len, struct evbuffer *out,
    struct igd_landing *land)
{
	struct igd_landing mine = { NULL, NULL, IGD_ACT_UNKNOWN, 0, 0, 0, 0 };

	struct igd_soap_req req;
	struct igd_call c;
	const struct igd_action *a;
	enum igd_soap_perr pe;
	enum igd_err e;
	int act;

	igd->stats.soap_requests++;
	if ((pe = igd_soap_parse(body, len, soapaction, &req)) != IGD_SOAP_OK)
		return igd_reply_error(igd, client, IGD_ACT_UNKNOWN, pe == IGD_SOAP_ERR_ARGS ?
		    IGD_E_INVALID_ARGS : IGD_E_INVALID_ACTION, igd_soap_strerror(pe), out);
	memset(&c, 0, sizeof(c));
	c.igd = igd;
	c.mt = igd->ctx->mt;
	c.req = &req;
	c.client = *client;
	c.actor.source = MT_SRC_UPNP;
	c.actor.client = *client;
	c.actor.secure = igd->ctx->cfg->upnp_secure_mode;
	c.version = igd_req_version(igd, svc, req.service_type);
	if (c.version == 0 || (a = igd_find_action(svc, c.version, req.action)) == NULL) {
		igd_soap_req_free(&req);
		return igd_reply_error(igd, client, IGD_ACT_UNKNOWN, IGD_E_INVALID_ACTION,
		    "no such action at this service and version", out);
	}
	act = (int)(a - igd_actions);
	if ((c.args = evbuffer_new()) == NULL) {
		igd_soap_req_free(&req);
		return igd_reply_error(igd, client, act, IGD_E_ACTION_FAILED, "no memory", out);
	}
	if ((e = a->fn(&c)) == IGD_OK)
		igd_soap_response(out, req.service_type, a->name, c.args);
	evbuffer_free(c.args);
	igd_soap_req_free(&req);
	if (e != IGD_OK)
		return igd_reply_error(igd, client, act, (int)e, c.why, out);
	if (c.landing == NULL) {
		igd_count(igd, act, IGD_OK);
		return 200;
	}
	mine.entry = c.landing;
	mine.action = a->name;
	mine.act = act;
	mine.id = c.landing->id;
	mine.port = c.landing->ext_port;
	mine.svc = (int)svc;
	mine.version = c.version;
	if (land == NULL)
		return igd_act_settle(igd, client, &mine, 200, out);
	*land = mine;
	return 200;
}

/* ---- evented variables (GENA) ---- */

void
igd_event_vars(struct igd *igd, enum igd_svc svc, struct evbuffer *p)
{
	char buf[128];

	switch (svc) {
	case IGD_SVC_IPCONN:
		igd_prop(p, "PossibleConnectionTypes", "IP_Routed");
		igd_prop(p, "ConnectionStatus", igd_conn_status(igd));
		igd_external_ip(igd, buf, sizeof(buf));
		igd_prop(p, "ExternalIPAddress", buf);
		snprintf(buf, sizeof(buf), "%zu", mtable_port_count(igd->ctx->mt));
		igd_prop(p, "PortMappingNumberOfEntries", buf);
		snprintf(buf, sizeof(buf), "%lu", (unsigned long)igd->system_update_id);
		igd_prop(p, "SystemUpdateID", buf);
		break;
	case IGD_SVC_WANCFG:
		igd_prop(p, "PhysicalLinkStatus", igd_link_status(igd));
		igd_prop(p, "EnabledForInternet", "1");
		break;
	case IGD_SVC_L3F:
		igd_default_service(igd, buf, sizeof(buf));
		igd_prop(p, "DefaultConnectionService", buf);
		break;
	case IGD_SVC_6FC:
		igd_pin_event_vars(igd, p);
		break;
	case IGD_NSVC:
		break;
	}
}
