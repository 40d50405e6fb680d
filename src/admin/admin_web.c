/* admin_web.c - look up the panel's embedded files by path. */
#include <string.h>

#include "admin/admin_web.h"

const struct admin_web_file *
admin_web_find(const char *path)
{
	const struct admin_web_file *f;

	if (path == NULL)
		return NULL;
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (f = admin_web_files; f->path != NULL; f++)
		if (strcmp(f->path, path) == 0)
			return f;
	return NULL;
}
