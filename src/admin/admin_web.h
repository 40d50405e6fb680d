/*
 * admin_web.h - the administration panel's files (web/), embedded at build
 * time by scripts/web2c.sh: the daemon needs no data directory and the page
 * no network (no external fonts, scripts or CDNs).
 */
#ifndef PG_ADMIN_WEB_H
#define PG_ADMIN_WEB_H

#include <stddef.h>

struct admin_web_file {
	const char	*path;		/* "/index.html" */
	const char	*type;		/* its Content-Type */
	size_t		 len;
	const char	*body;
};

extern const struct admin_web_file admin_web_files[];

/* The file served at path ("/" is /index.html), or NULL. */
const struct admin_web_file *admin_web_find(const char *path);

#endif
