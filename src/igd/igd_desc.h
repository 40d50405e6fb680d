/* igd_desc.h - the UPnP description documents, rendered from the xml/ templates. */
#ifndef PG_IGD_DESC_H
#define PG_IGD_DESC_H

#include <stddef.h>

#include "igd/igd_service.h"	/* IGD_DESC_ROOT */

struct evbuffer;
struct igd;

/* One template embedded from xml/ at build time (scripts/xml2c.sh). */
struct igd_xml_file {
	const char	*name;
	const char	*text;
};

/* The embedded templates, ended by { NULL, NULL }. */
extern const struct igd_xml_file igd_xml_files[];

/* Append XML-escaped text (& < > " ') to out. */
void igd_xml_escape(struct evbuffer *out, const char *s);
/*
 * Render the document served at path ("/rootDesc.xml", "/WANIPCn2.xml" ...)
 * to a client with User-Agent ua (NULL: none) into out, with @NAME@
 * placeholders filled in and escaped; 0, or -1 if no document is served
 * there.
 */
int igd_desc_render(const struct igd *, const char *path, const char *ua, struct evbuffer *out);
/* 1 if ua names a control point that knows only IGD:1 (the list is in igd_desc.c). Pure. */
int igd_desc_v1_agent(const char *ua);
/* The IGD version of the root description at the LOCATION for User-Agent ua: 1 or 2. */
int igd_desc_root_version(const struct igd *, const char *ua);
/* 1 if what is served at path depends on the User-Agent (then the reply says Vary). */
int igd_desc_by_agent(const struct igd *, const char *path);
/* 1 if a document is served at path. */
int igd_desc_known(const char *path);
/* A CONFIGID.UPNP.ORG value (1..16777215) that changes when the documents do. */
unsigned long igd_desc_config_id(const struct igd *);

#endif
