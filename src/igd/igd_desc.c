/*
 * igd_desc.c - render the description documents from the embedded xml/
 * templates, and pick the root description a control point is given.
 */
#include "config.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "daemon.h"
#include "igd/igd.h"
#include "igd/igd_desc.h"
#include "util.h"

/* Documents served: URL path, template, version filled in for @V@ (0: igd_desc_root_version). */
static const struct {
	const char	*path;
	const char	*file;
	int		 version;
} igd_docs[] = {
	{ IGD_DESC_ROOT, "rootDesc.xml", 0 },
	{ "/rootDesc1.xml", "rootDesc.xml", 1 },
	{ "/WANIPCn1.xml", "WANIPCn1.xml", 1 },
	{ "/WANIPCn2.xml", "WANIPCn2.xml", 2 },
	{ "/WANCfg.xml", "WANCfg.xml", 1 },
	{ "/L3F.xml", "L3F.xml", 1 },
	{ "/WANIP6FC.xml", "WANIP6FC.xml", 1 },
};

/*
 * User-Agent prefixes (compared without case) of control points that know
 * only IGD:1 and refuse a device whose description names
 * InternetGatewayDevice:2: with upnp_igd_version = auto they are given the
 * IGD:1 description at the one LOCATION. Windows' UPnP stack (the SSDP
 * discovery service and the NAT traversal API, NATUPnP, that games, BITS
 * and Xbox apps on Windows use) fetches descriptions and subscribes with
 * "Microsoft-Windows/6.1 UPnP/1.0" (Windows 7), ".../10.0 UPnP/1.0"
 * (Windows 10 and 11); Windows XP's sent "Mozilla/4.0 (compatible;
 * UPnP/1.0; Windows NT/5.1)", and a great many hand-written v1 clients
 * copied that string or its "Windows 9x" form; the Xbox 360's stack sends
 * "Xbox/2.0.NNNN.0 UPnP/1.0 Xbox/2.0.NNNN.0". A control point not listed
 * here that needs IGD:1 is served by upnp_igd_version = 1.
 */
static const char *const igd_v1_agents[] = {
	"Microsoft-Windows/",
	"Mozilla/4.0 (compatible; UPnP/1.0; Windows",
	"Xbox/",
};

int
igd_desc_v1_agent(const char *ua)
{
	size_t i;

	for (i = 0; ua != NULL && i < PG_NELEM(igd_v1_agents); i++)
		if (strncasecmp(ua, igd_v1_agents[i], strlen(igd_v1_agents[i])) == 0)
			return 1;
	return 0;
}

int
igd_desc_root_version(const struct igd *igd, const char *ua)
{
	switch (igd->ctx->cfg->upnp_igd_version) {
	case CONF_IGD_V1:
		return 1;
	case CONF_IGD_V2:
		return 2;
	case CONF_IGD_AUTO:
		break;
	}
	return igd_desc_v1_agent(ua) ? 1 : 2;
}

int
igd_desc_by_agent(const struct igd *igd, const char *path)
{
	return igd->ctx->cfg->upnp_igd_version == CONF_IGD_AUTO && strcmp(path, IGD_DESC_ROOT) == 0;
}

void
igd_xml_escape(struct evbuffer *out, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *rep;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default: continue;
		}
		evbuffer_add(out, run, (size_t)(s - run));
		evbuffer_add(out, rep, strlen(rep));
		run = s + 1;
	}
	evbuffer_add(out, run, (size_t)(s - run));
}

static const char *
igd_template(const char *file)
{
	const struct igd_xml_file *f;

	for (f = igd_xml_files; f->name != NULL; f++)
		if (strcmp(f->name, file) == 0)
			return f->text;
	return NULL;
}

/* The value of placeholder NAME (len bytes) into buf; NULL if unknown. */
static const char *
igd_placeholder(const struct igd *igd, int version, const char *name, size_t len, char *buf,
    size_t buflen)
{
	static const char *const devs[] = { "UUID_ROOT", "UUID_WAN", "UUID_CONN" };
	size_t i;

	for (i = 0; i < PG_NELEM(devs); i++)
		if (strlen(devs[i]) == len && memcmp(name, devs[i], len) == 0)
			return igd->udn[i];
	if (len == 1 && name[0] == 'V')
		snprintf(buf, buflen, "%d", version);
	else if (len == 13 && memcmp(name, "FRIENDLY_NAME", 13) == 0)
		return igd->ctx->cfg->friendly_name;
	else if (len == 7 && memcmp(name, "VERSION", 7) == 0)
		return PACKAGE_VERSION;
	else if (len == 8 && memcmp(name, "CONFIGID", 8) == 0)
		snprintf(buf, buflen, "%lu", (unsigned long)igd->config_id);
	else
		return NULL;
	return buf;
}

static void
igd_fill(const struct igd *igd, const char *t, int version, struct evbuffer *out)
{
	const char *at, *end, *val;
	char buf[32];

	while ((at = strchr(t, '@')) != NULL) {
		evbuffer_add(out, t, (size_t)(at - t));
		end = strchr(at + 1, '@');
		val = end ? igd_placeholder(igd, version, at + 1, (size_t)(end - at - 1), buf,
		    sizeof(buf)) : NULL;
		if (val == NULL) {		/* not ours: copy the '@' as it is */
			evbuffer_add(out, "@", 1);
			t = at + 1;
			continue;
		}
		igd_xml_escape(out, val);
		t = end + 1;
	}
	evbuffer_add(out, t, strlen(t));
}

int
igd_desc_known(const char *path)
{
	size_t i;

	for (i = 0; i < PG_NELEM(igd_docs); i++)
		if (strcmp(igd_docs[i].path, path) == 0)
			return 1;
	return 0;
}

int
igd_desc_render(const struct igd *igd, const char *path, const char *ua, struct evbuffer *out)
{
	const char *t;
	size_t i;

	for (i = 0; i < PG_NELEM(igd_docs); i++) {
		if (strcmp(igd_docs[i].path, path) != 0)
			continue;
		if ((t = igd_template(igd_docs[i].file)) == NULL)
			return -1;
		igd_fill(igd, t, igd_docs[i].version ? igd_docs[i].version :
		    igd_desc_root_version(igd, ua), out);
		return 0;
	}
	return -1;
}

/* FNV-1a over what the documents say, folded into UDA's 0..16777215 (0 not used). */
unsigned long
igd_desc_config_id(const struct igd *igd)
{
	const struct igd_xml_file *f;
	uint32_t h = 2166136261u;
	const char *parts[4];
	size_t i;
	const char *p;

	parts[0] = igd->ctx->cfg->friendly_name;
	parts[1] = igd->udn[IGD_DEV_ROOT];
	parts[2] = PACKAGE_VERSION;
	/* upnp_igd_version changes what is served */
	parts[3] = conf_igd_version_name(igd->ctx->cfg->upnp_igd_version);
	for (i = 0; i < PG_NELEM(parts); i++)
		for (p = parts[i]; *p != '\0'; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
	for (f = igd_xml_files; f->name != NULL; f++)
		for (p = f->text; *p != '\0'; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
	h &= 0xffffff;
	return h ? h : 1;
}
