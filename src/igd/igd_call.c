/*
 * igd_call.c - what every UPnP action handler uses on its call: error
 * names, SOAP arguments in and out, the table's verdict on who may, the
 * commit, evented variables' elements. The handlers are igd_act.c's and
 * igd_pin.c's.
 */
#include "config.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "igd/igd.h"
#include "igd/igd_call.h"
#include "igd/igd_desc.h"
#include "igd/igd_soap.h"
#include "mtable.h"
#include "util.h"

/*
 * Each code we answer: its UPnPError description, the short token counters
 * and events name it by, and whether it refuses the request (not the answers
 * that only say nothing was found: the end of GetGenericPortMappingEntry's
 * list, which every listing client reaches, and the like).
 */
static const struct {
	enum igd_err	 code;
	const char	*desc;
	const char	*token;
	int		 refuses;
} igd_err_names[] = {
	{ IGD_E_INVALID_ACTION, "Invalid Action", "invalid_action", 1 },
	{ IGD_E_INVALID_ARGS, "Invalid Args", "invalid_args", 1 },
	{ IGD_E_ACTION_FAILED, "Action Failed", "action_failed", 1 },
	{ IGD_E_NOT_AUTHORIZED, "Action not authorized", "not_authorized", 1 },
	{ IGD_E_ARRAY_INDEX, "SpecifiedArrayIndexInvalid", "array_index_invalid", 0 },
	{ IGD_E_NO_SUCH_ENTRY, "NoSuchEntryInArray", "no_such_entry", 0 },
	{ IGD_E_WILDCARD_EXT_PORT, "WildCardNotPermittedInExtPort", "wildcard_ext_port", 1 },
	{ IGD_E_CONFLICT, "ConflictInMappingEntry", "conflict", 1 },
	{ IGD_E_NO_PORTS, "NoPortMapsAvailable", "no_ports", 1 },
	{ IGD_E_OTHER_MECHANISM, "ConflictWithOtherMechanisms", "conflict_other_mechanism", 1 },
	{ IGD_E_NOT_FOUND, "PortMappingNotFound", "not_found", 0 },
	{ IGD_E_INCONSISTENT, "InconsistentParameters", "inconsistent_parameters", 1 },
	{ IGD_E_PINHOLE_SPACE, "PinholeSpaceExhausted", "pinhole_space_exhausted", 1 },
	{ IGD_E_FIREWALL_DISABLED, "FirewallDisabled", "firewall_disabled", 1 },
	{ IGD_E_PINHOLE_NOT_ALLOWED, "InboundPinholeNotAllowed", "pinhole_not_allowed", 1 },
	{ IGD_E_PIN_NO_SUCH_ENTRY, "NoSuchEntry", "no_such_pinhole", 0 },
	{ IGD_E_PROTO_UNSUPPORTED, "ProtocolNotSupported", "protocol_not_supported", 1 },
	{ IGD_E_INT_PORT_WILDCARD, "InternalPortWildcardingNotAllowed", "int_port_wildcard", 1 },
	{ IGD_E_PROTO_WILDCARD, "ProtocolWildcardingNotAllowed", "protocol_wildcard", 1 },
	{ IGD_E_SRC_WILDCARD, "WildCardNotPermittedInSrcIP", "wildcard_src_ip", 1 },
	{ IGD_E_NO_TRAFFIC, "NoTrafficReceived", "no_traffic", 0 },
};

_Static_assert(PG_NELEM(igd_err_names) + 2 <= IGD_RESULT_SLOTS,
    "a result slot for success, each named code and any other");

static int
igd_err_index(enum igd_err e)
{
	size_t i;

	for (i = 0; i < PG_NELEM(igd_err_names); i++)
		if (igd_err_names[i].code == e)
			return (int)i;
	return -1;
}

const char *
igd_err_desc(enum igd_err e)
{
	int i = igd_err_index(e);

	return i >= 0 ? igd_err_names[i].desc : "Action Failed";
}

const char *
igd_err_token(enum igd_err e)
{
	int i = igd_err_index(e);

	return e == IGD_OK ? "success" : i >= 0 ? igd_err_names[i].token : "other";
}

int
igd_err_refuses(enum igd_err e)
{
	int i = igd_err_index(e);

	return e != IGD_OK && (i < 0 || igd_err_names[i].refuses);
}

size_t
igd_err_slot(enum igd_err e)
{
	int i = igd_err_index(e);

	if (e == IGD_OK)
		return 0;
	return i >= 0 ? (size_t)i + 1 : PG_NELEM(igd_err_names) + 1;
}

const char *
igd_err_slot_name(size_t slot)
{
	if (slot == 0)
		return "success";
	if (slot <= PG_NELEM(igd_err_names))
		return igd_err_names[slot - 1].token;
	return "other";
}

/* ---- arguments ---- */

const char *
igd_arg(struct igd_call *c, const char *name)
{
	const char *v = igd_soap_arg(c->req, name);

	if (v == NULL)
		snprintf(c->why, sizeof(c->why), "missing argument %s", name);
	return v;
}

/* An unsigned decimal in [0, max], spaces around it allowed (UPnP ui2/ui4). */
enum igd_err
igd_arg_uint(struct igd_call *c, const char *name, unsigned long max, unsigned long *out)
{
	const char *v = igd_arg(c, name);
	char buf[24];
	size_t len;

	if (v == NULL)
		return IGD_E_INVALID_ARGS;
	v += strspn(v, " \t\r\n");
	len = strcspn(v, " \t\r\n");
	if (len == 0 || len >= sizeof(buf) || v[len + strspn(v + len, " \t\r\n")] != '\0')
		goto bad;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (util_parse_uint(buf, 0, max, out) == 0)
		return IGD_OK;
bad:
	snprintf(c->why, sizeof(c->why), "%s is not a number from 0 to %lu", name, max);
	return IGD_E_INVALID_ARGS;
}

enum igd_err
igd_arg_port(struct igd_call *c, const char *name, uint16_t *port)
{
	unsigned long v;
	enum igd_err e;

	if ((e = igd_arg_uint(c, name, 65535, &v)) != IGD_OK)
		return e;
	*port = (uint16_t)v;
	return IGD_OK;
}

void
igd_out_uint(struct igd_call *c, const char *name, unsigned long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lu", v);
	igd_soap_out(c->args, name, buf);
}

enum igd_err
igd_authorize(struct igd_call *c, const struct in6_addr *a, const struct mt_entry *e)
{
	enum mt_deny d = mtable_authorize(c->mt, &c->actor, a, e);

	if (d == MT_DENY_NONE)
		return IGD_OK;
	if (d == MT_DENY_SOURCE && e != NULL)
		snprintf(c->why, sizeof(c->why), "held by %s, not by UPnP",
		    mt_source_name(e->source));
	else
		snprintf(c->why, sizeof(c->why), "%s", mt_deny_str(d));
	return IGD_E_NOT_AUTHORIZED;
}

int
igd_same_addr(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* ---- the commit ---- */

/* Every commit point is an action's last step: only output arguments follow it. */
enum igd_err
igd_commit(struct igd_call *c, const struct mt_entry *e)
{
	c->landing = e;
	return IGD_OK;
}

/* ---- evented variables ---- */

void
igd_prop(struct evbuffer *p, const char *name, const char *value)
{
	evbuffer_add_printf(p, "<e:property><%s>", name);
	igd_xml_escape(p, value);
	evbuffer_add_printf(p, "</%s></e:property>", name);
}
