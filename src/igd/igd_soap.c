/*
 * igd_soap.c - SOAP control requests.
 *
 * libxml2 parses; we only walk the tree. The parser never touches the
 * network (XML_PARSE_NONET), never substitutes entities (no XML_PARSE_NOENT)
 * and never loads a DTD (no XML_PARSE_DTDLOAD); a request that carries a
 * DOCTYPE at all is refused before parsing, so no entity declaration can
 * get as far as libxml2's entity code. Bodies are bounded by the HTTP layer.
 */
#include "config.h"

#include <event2/buffer.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "igd/igd_desc.h"
#include "igd/igd_soap.h"
#include "util.h"

#define SOAP_ENV_NS	"http://schemas.xmlsoap.org/soap/envelope/"
#define SOAP_ENC_NS	"http://schemas.xmlsoap.org/soap/encoding/"

static const char *const igd_soap_errs[] = {
	[IGD_SOAP_OK] = "ok",
	[IGD_SOAP_ERR_XML] = "not well-formed XML (or a DOCTYPE, too deep, too big)",
	[IGD_SOAP_ERR_ENVELOPE] = "no SOAP Envelope and Body",
	[IGD_SOAP_ERR_ACTION] = "no action, or one that disagrees with SOAPAction",
	[IGD_SOAP_ERR_ARGS] = "bad arguments (duplicate, nested, too long or too many)",
};

const char *
igd_soap_strerror(enum igd_soap_perr e)
{
	return (size_t)e < PG_NELEM(igd_soap_errs) ? igd_soap_errs[e] : "?";
}

/* A DOCTYPE (and so any entity declaration) anywhere: refused before libxml2 sees it. */
static int
igd_soap_has_doctype(const char *body, size_t len)
{
	size_t i;

	for (i = 0; i + 2 <= len; i++) {
		if (body[i] != '<' || body[i + 1] != '!')
			continue;
		if (i + 4 <= len && memcmp(body + i + 2, "--", 2) == 0)
			continue;	/* a comment */
		if (i + 9 <= len && memcmp(body + i + 2, "[CDATA[", 7) == 0)
			continue;
		return 1;
	}
	return 0;
}

static int
igd_soap_is(const xmlNode *n, const char *name, const char *ns)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
		return 0;
	if (ns == NULL)
		return 1;
	return n->ns != NULL && n->ns->href != NULL && strcmp((const char *)n->ns->href, ns) == 0;
}

/* The first element child of n. */
static xmlNode *
igd_soap_child(const xmlNode *n)
{
	xmlNode *c;

	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

static int
igd_soap_depth_ok(const xmlNode *n, int depth)
{
	const xmlNode *c;

	if (depth > IGD_SOAP_DEPTH_MAX)
		return 0;
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !igd_soap_depth_ok(c, depth + 1))
			return 0;
	return 1;
}

/* One argument element: text only, bounded, unique. */
static enum igd_soap_perr
igd_soap_take_arg(struct igd_soap_req *r, const xmlNode *a)
{
	const xmlNode *c;
	xmlChar *v;
	size_t i;

	if (r->nargs == IGD_SOAP_MAX_ARGS || strlen((const char *)a->name) >= IGD_SOAP_NAME_MAX)
		return IGD_SOAP_ERR_ARGS;
	for (c = a->children; c != NULL; c = c->next)
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			return IGD_SOAP_ERR_ARGS;
	for (i = 0; i < r->nargs; i++)
		if (strcmp(r->args[i].name, (const char *)a->name) == 0)
			return IGD_SOAP_ERR_ARGS;
	if ((v = xmlNodeGetContent(a)) == NULL)
		return IGD_SOAP_ERR_ARGS;
	if (strlen((const char *)v) > IGD_SOAP_VALUE_MAX) {
		xmlFree(v);
		return IGD_SOAP_ERR_ARGS;
	}
	r->args[r->nargs].value = strdup((const char *)v);
	xmlFree(v);
	if (r->args[r->nargs].value == NULL)
		return IGD_SOAP_ERR_ARGS;
	strcpy(r->args[r->nargs].name, (const char *)a->name);
	r->nargs++;
	return IGD_SOAP_OK;
}

/* SOAPAction "TYPE#ACTION", optionally quoted: both parts must match the body. */
static int
igd_soap_action_ok(const struct igd_soap_req *r, const char *hdr)
{
	size_t len, tlen;
	const char *hash;

	if (hdr == NULL)
		return 0;
	len = strlen(hdr);
	if (len >= 2 && hdr[0] == '"' && hdr[len - 1] == '"') {
		hdr++;
		len -= 2;
	}
	if ((hash = memchr(hdr, '#', len)) == NULL)
		return 0;
	tlen = (size_t)(hash - hdr);
	return tlen == strlen(r->service_type) && memcmp(hdr, r->service_type, tlen) == 0 &&
	    len - tlen - 1 == strlen(r->action) &&
	    memcmp(hash + 1, r->action, len - tlen - 1) == 0;
}

static enum igd_soap_perr
igd_soap_walk(const xmlDoc *doc, const char *soapaction, struct igd_soap_req *r)
{
	const xmlNode *env = xmlDocGetRootElement(doc), *body, *act, *a;
	enum igd_soap_perr e;

	if (!igd_soap_is(env, "Envelope", SOAP_ENV_NS))
		return IGD_SOAP_ERR_ENVELOPE;
	if (!igd_soap_depth_ok(env, 1))
		return IGD_SOAP_ERR_XML;
	for (body = igd_soap_child(env); body != NULL && !igd_soap_is(body, "Body", SOAP_ENV_NS);
	    body = body->next)
		;
	if (body == NULL)
		return IGD_SOAP_ERR_ENVELOPE;
	act = igd_soap_child(body);
	if (act == NULL || act->ns == NULL || act->ns->href == NULL ||
	    strlen((const char *)act->ns->href) >= IGD_SOAP_TYPE_MAX ||
	    strlen((const char *)act->name) >= IGD_SOAP_NAME_MAX)
		return IGD_SOAP_ERR_ACTION;
	strcpy(r->service_type, (const char *)act->ns->href);
	strcpy(r->action, (const char *)act->name);
	if (!igd_soap_action_ok(r, soapaction))
		return IGD_SOAP_ERR_ACTION;
	for (a = act->children; a != NULL; a = a->next) {
		if (a->type == XML_TEXT_NODE || a->type == XML_COMMENT_NODE)
			continue;
		if (a->type != XML_ELEMENT_NODE)
			return IGD_SOAP_ERR_ARGS;
		if ((e = igd_soap_take_arg(r, a)) != IGD_SOAP_OK)
			return e;
	}
	return IGD_SOAP_OK;
}

enum igd_soap_perr
igd_soap_parse(const char *body, size_t len, const char *soapaction, struct igd_soap_req *r)
{
	xmlDoc *doc;
	enum igd_soap_perr e;

	memset(r, 0, sizeof(*r));
	if (len == 0 || len > INT32_MAX || igd_soap_has_doctype(body, len))
		return IGD_SOAP_ERR_XML;
	/* UTF-8 whatever the document says: a DOCTYPE in UTF-16 or EBCDIC has no "<!" bytes */
	doc = xmlReadMemory(body, (int)len, "soap.xml", "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL)
		return IGD_SOAP_ERR_XML;
	if (doc->intSubset != NULL || doc->extSubset != NULL)
		e = IGD_SOAP_ERR_XML;
	else
		e = igd_soap_walk(doc, soapaction, r);
	xmlFreeDoc(doc);
	if (e != IGD_SOAP_OK)
		igd_soap_req_free(r);
	return e;
}

void
igd_soap_req_free(struct igd_soap_req *r)
{
	size_t i;

	for (i = 0; i < r->nargs; i++) {
		free(r->args[i].value);
		r->args[i].value = NULL;
	}
	r->nargs = 0;
}

const char *
igd_soap_arg(const struct igd_soap_req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nargs; i++)
		if (strcmp(r->args[i].name, name) == 0)
			return r->args[i].value;
	return NULL;
}

static const char igd_soap_head[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
    "<s:Envelope xmlns:s=\"" SOAP_ENV_NS "\" s:encodingStyle=\"" SOAP_ENC_NS "\">"
    "<s:Body>";
static const char igd_soap_tail[] = "</s:Body></s:Envelope>\r\n";

void
igd_soap_response(struct evbuffer *out, const char *service_type, const char *action,
    struct evbuffer *args)
{
	evbuffer_add(out, igd_soap_head, sizeof(igd_soap_head) - 1);
	evbuffer_add_printf(out, "<u:%sResponse xmlns:u=\"", action);
	igd_xml_escape(out, service_type);
	evbuffer_add(out, "\">", 2);
	if (args != NULL)
		evbuffer_add_buffer(out, args);
	evbuffer_add_printf(out, "</u:%sResponse>", action);
	evbuffer_add(out, igd_soap_tail, sizeof(igd_soap_tail) - 1);
}

void
igd_soap_out(struct evbuffer *args, const char *name, const char *value)
{
	evbuffer_add_printf(args, "<%s>", name);
	igd_xml_escape(args, value);
	evbuffer_add_printf(args, "</%s>", name);
}

void
igd_soap_fault(struct evbuffer *out, int code, const char *desc)
{
	evbuffer_add(out, igd_soap_head, sizeof(igd_soap_head) - 1);
	evbuffer_add_printf(out, "<s:Fault><faultcode>s:Client</faultcode>"
	    "<faultstring>UPnPError</faultstring><detail>"
	    "<UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">"
	    "<errorCode>%d</errorCode><errorDescription>", code);
	igd_xml_escape(out, desc);
	evbuffer_add_printf(out, "</errorDescription></UPnPError></detail></s:Fault>");
	evbuffer_add(out, igd_soap_tail, sizeof(igd_soap_tail) - 1);
}
