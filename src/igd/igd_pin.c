/*
 * igd_pin.c - UPnP WANIPv6FirewallControl:1: IPv6 pinholes for control
 * points, as rows of igd_actions[] (igd_act.c) over the table's pinhole API.
 *
 * A UPnP pinhole's UniqueID is its table ID (1..65535: the table gives
 * UPnP pinholes IDs that fit a ui2). Only UPnP's pinholes can be named by
 * a UniqueID; in secure mode a control point may open, see and change
 * only pinholes to its own address (the table's verdict on the call's
 * actor, igd_authorize). GetPinholePackets reads the kernel's per-element
 * counter, so it is the traffic the pinhole let in.
 */
#include "config.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "fw/fw.h"
#include "igd/igd.h"
#include "igd/igd_call.h"
#include "igd/igd_pin.h"
#include "igd/igd_soap.h"
#include "mtable.h"
#include "util.h"

#define PIN_LEASE_MAX		86400	/* A_ARG_TYPE_LeaseTime's range: 1..86400 */
#define PIN_PROTO_WILDCARD	65535

static int
pin_firewall_on(const struct igd_call *c)
{
	return fw_in_kernel(c->igd->ctx->fw);
}

/* 702, then 703: what every pinhole action checks first. */
static enum igd_err
pin_allowed(struct igd_call *c)
{
	if (!pin_firewall_on(c)) {
		snprintf(c->why, sizeof(c->why), "firewall = none");
		return IGD_E_FIREWALL_DISABLED;
	}
	if (!c->igd->ctx->cfg->upnp_pinholes) {
		snprintf(c->why, sizeof(c->why), "upnp_pinholes = no");
		return IGD_E_PINHOLE_NOT_ALLOWED;
	}
	return IGD_OK;
}

/* Protocol: an IANA number; TCP and UDP only, 65535 (any) is 707. */
static enum igd_err
pin_arg_proto(struct igd_call *c, int *proto)
{
	unsigned long v;
	enum igd_err e;

	if ((e = igd_arg_uint(c, "Protocol", 65535, &v)) != IGD_OK)
		return e;
	if (v == PIN_PROTO_WILDCARD)
		return IGD_E_PROTO_WILDCARD;
	if (v != IPPROTO_TCP && v != IPPROTO_UDP) {
		snprintf(c->why, sizeof(c->why), "protocol %lu", v);
		return IGD_E_PROTO_UNSUPPORTED;
	}
	*proto = v == IPPROTO_TCP ? MT_TCP : MT_UDP;
	return IGD_OK;
}

/* An IPv6 address argument; *wild set for "" and "*". */
static enum igd_err
pin_arg_addr(struct igd_call *c, const char *name, struct in6_addr *a, int *wild)
{
	const char *v = igd_arg(c, name);
	char buf[INET6_ADDRSTRLEN];
	size_t len;

	if (v == NULL)
		return IGD_E_INVALID_ARGS;
	v += strspn(v, " \t\r\n");
	len = strcspn(v, " \t\r\n");
	if (v[len + strspn(v + len, " \t\r\n")] != '\0')
		goto bad;		/* one word, spaces around it allowed */
	*wild = len == 0 || (len == 1 && v[0] == '*');
	if (*wild)
		return IGD_OK;
	if (len >= sizeof(buf))
		goto bad;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, a) == 1 && !util_addr_is_v4(a))
		return IGD_OK;
bad:
	snprintf(c->why, sizeof(c->why), "%s is not an IPv6 address", name);
	return IGD_E_INVALID_ARGS;
}

static enum igd_err
pin_arg_lease(struct igd_call *c, const char *name, uint32_t *lease)
{
	unsigned long v;
	enum igd_err e;

	if ((e = igd_arg_uint(c, name, UINT32_MAX, &v)) != IGD_OK)
		return e;
	if (v < 1 || v > PIN_LEASE_MAX) {
		snprintf(c->why, sizeof(c->why), "%s %lu is not 1..86400", name, v);
		return IGD_E_INVALID_ARGS;
	}
	*lease = (uint32_t)v;
	return IGD_OK;
}

/* RemoteHost, RemotePort, InternalClient, InternalPort, Protocol: a table request. */
static enum igd_err
pin_arg_tuple(struct igd_call *c, struct mt_pin_req *q)
{
	struct in6_addr remote;
	int proto, wild;
	enum igd_err e;

	memset(q, 0, sizeof(*q));
	if ((e = pin_arg_addr(c, "RemoteHost", &remote, &wild)) != IGD_OK ||
	    (e = igd_arg_port(c, "RemotePort", &q->remote.port)) != IGD_OK)
		return e;
	if (!wild) {
		q->remote.addr = remote;
		q->remote.plen = 128;
	}
	if ((e = pin_arg_addr(c, "InternalClient", &q->int_addr, &wild)) != IGD_OK)
		return e;
	if (wild)
		return IGD_E_SRC_WILDCARD;
	if ((e = igd_arg_port(c, "InternalPort", &q->int_port)) != IGD_OK)
		return e;
	if (q->int_port == 0)
		return IGD_E_INT_PORT_WILDCARD;
	if ((e = pin_arg_proto(c, &proto)) != IGD_OK)
		return e;
	q->proto = (uint8_t)proto;
	q->actor = &c->actor;
	q->source = MT_SRC_UPNP;
	q->owner = "";
	return IGD_OK;
}

/* The UPnP pinhole named by UniqueID that the caller may touch. */
static enum igd_err
pin_by_id(struct igd_call *c, struct mt_entry **out)
{
	unsigned long id;
	struct mt_entry *e;
	enum igd_err err;

	if ((err = pin_allowed(c)) != IGD_OK ||
	    (err = igd_arg_uint(c, "UniqueID", 65535, &id)) != IGD_OK)
		return err;
	e = mtable_pinhole_get(c->mt, (uint32_t)id);
	if (e == NULL || mtable_authorize(c->mt, &c->actor, NULL, e) == MT_DENY_SOURCE) {
		snprintf(c->why, sizeof(c->why), "no pinhole %lu", id);
		return IGD_E_PIN_NO_SUCH_ENTRY;	/* another source's is not UPnP's to name */
	}
	if ((err = igd_authorize(c, NULL, e)) != IGD_OK)
		return err;			/* secure mode: another host's */
	*out = e;
	return IGD_OK;
}

/* Table errors in this service's words. */
static enum igd_err
pin_mt_error(struct igd_call *c, enum mt_err e)
{
	snprintf(c->why, sizeof(c->why), "%s", mt_strerror(e));
	switch (e) {
	case MT_OK:
		return IGD_OK;
	case MT_ERR_INVAL:
		return IGD_E_INVALID_ARGS;
	case MT_ERR_CONFLICT:		/* another source's pinhole on that key */
	case MT_ERR_DENIED:
	case MT_ERR_ADDR:
	case MT_ERR_NOT_AUTHORIZED:	/* another's pinhole on that key (mtable_authorize) */
		return IGD_E_NOT_AUTHORIZED;
	case MT_ERR_QUOTA:
	case MT_ERR_NOPORT:
		return IGD_E_PINHOLE_SPACE;
	case MT_ERR_NOTFOUND:
		return IGD_E_PIN_NO_SUCH_ENTRY;
	case MT_ERR_FIREWALL:
	case MT_ERR_NOMEM:
		break;
	}
	return IGD_E_ACTION_FAILED;
}

enum igd_err
igd_pin_get_firewall_status(struct igd_call *c)
{
	igd_soap_out(c->args, "FirewallEnabled", pin_firewall_on(c) ? "1" : "0");
	igd_soap_out(c->args, "InboundPinholeAllowed",
	    pin_firewall_on(c) && c->igd->ctx->cfg->upnp_pinholes ? "1" : "0");
	return IGD_OK;
}

/* How long conntrack keeps an idle flow of that protocol open (outbound "pinholes"). */
static unsigned long
pin_ct_timeout(int proto)
{
	const char *path = proto == MT_TCP ?
	    "/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established" :
	    "/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream";
	unsigned long v = proto == MT_TCP ? 432000 : 120;
	FILE *f = fopen(path, "re");

	if (f != NULL) {
		if (fscanf(f, "%lu", &v) != 1)
			v = proto == MT_TCP ? 432000 : 120;
		fclose(f);
	}
	return v;
}

enum igd_err
igd_pin_get_outbound_timeout(struct igd_call *c)
{
	struct mt_pin_req q;
	enum igd_err e;

	if ((e = pin_allowed(c)) != IGD_OK || (e = pin_arg_tuple(c, &q)) != IGD_OK)
		return e;
	igd_out_uint(c, "OutboundPinholeTimeout", pin_ct_timeout(q.proto));
	return IGD_OK;
}

enum igd_err
igd_pin_add(struct igd_call *c)
{
	const struct mt_entry *held = NULL;
	struct mt_entry *e;
	struct mt_pin_req q;
	enum igd_err err;
	enum mt_err me;

	if ((err = pin_allowed(c)) != IGD_OK || (err = pin_arg_tuple(c, &q)) != IGD_OK ||
	    (err = pin_arg_lease(c, "LeaseTime", &q.lease_s)) != IGD_OK ||
	    (err = igd_authorize(c, &q.int_addr, NULL)) != IGD_OK)
		return err;
	q.desc = "";
	if ((me = mtable_pinhole_add(c->mt, &q, &e, &held)) != MT_OK)
		return pin_mt_error(c, me);
	if ((err = igd_commit(c, e)) != IGD_OK)
		return err;
	igd_out_uint(c, "UniqueID", e->pin_id);
	return IGD_OK;
}

enum igd_err
igd_pin_update(struct igd_call *c)
{
	struct mt_entry *e;
	uint32_t lease;
	enum igd_err err;
	enum mt_err me;

	if ((err = pin_by_id(c, &e)) != IGD_OK ||
	    (err = pin_arg_lease(c, "NewLeaseTime", &lease)) != IGD_OK)
		return err;
	if ((me = mtable_renew_by(c->mt, &c->actor, e, lease)) != MT_OK)
		return pin_mt_error(c, me);
	return igd_commit(c, e);
}

enum igd_err
igd_pin_delete(struct igd_call *c)
{
	struct mt_entry *e;
	enum igd_err err;

	if ((err = pin_by_id(c, &e)) != IGD_OK)
		return err;
	return pin_mt_error(c, mtable_del_by(c->mt, &c->actor, e));
}

/* The packets the named pinhole let in (the kernel's counter). */
static enum igd_err
pin_packets(struct igd_call *c, uint64_t *pkts)
{
	struct mt_entry *e;
	uint64_t bytes = 0;
	enum igd_err err;

	*pkts = 0;
	if ((err = pin_by_id(c, &e)) != IGD_OK)
		return err;
	(void)mtable_pinhole_counters(c->mt, e, pkts, &bytes);
	return IGD_OK;
}

enum igd_err
igd_pin_get_packets(struct igd_call *c)
{
	uint64_t pkts;
	enum igd_err err;

	if ((err = pin_packets(c, &pkts)) != IGD_OK)
		return err;
	igd_out_uint(c, "PinholePackets", pkts > UINT32_MAX ? UINT32_MAX : (unsigned long)pkts);
	return IGD_OK;
}

enum igd_err
igd_pin_check_working(struct igd_call *c)
{
	uint64_t pkts;
	enum igd_err err;

	if ((err = pin_packets(c, &pkts)) != IGD_OK)
		return err;
	if (pkts == 0)
		return IGD_E_NO_TRAFFIC;
	igd_soap_out(c->args, "IsWorking", "1");
	return IGD_OK;
}

void
igd_pin_event_vars(struct igd *igd, struct evbuffer *p)
{
	int on = fw_in_kernel(igd->ctx->fw);

	igd_prop(p, "FirewallEnabled", on ? "1" : "0");
	igd_prop(p, "InboundPinholeAllowed", on && igd->ctx->cfg->upnp_pinholes ? "1" : "0");
}
