/*
 * fuzz_admin.c - the admin API's request bodies (admin_json.c): any bytes
 * are either refused with a message or give an object whose every string
 * is UTF-8 text without controls and whose keys differ; written out again
 * as JSON (util_json_str) it parses to the same members.
 */
#include "config.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_json.h"
#include "log.h"
#include "util.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct admin_json a, b;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	return 0;
}

static void
check_text(const char *s, size_t len)
{
	if (strlen(s) != len || util_text_problem(s, len, ADMIN_JSON_MAX) != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct evbuffer *out;
	char err[200];
	size_t i, k;

	err[0] = '\0';
	if (admin_json_parse(&a, (const char *)data, len, err, sizeof(err)) == -1) {
		if (err[0] == '\0' || strncmp(err, "byte ", 5) != 0)
			abort();	/* every refusal says where and why */
		return 0;
	}
	if (a.n > ADMIN_JSON_FIELDS)
		abort();
	if ((out = evbuffer_new()) == NULL)
		abort();
	evbuffer_add(out, "{", 1);
	for (i = 0; i < a.n; i++) {
		check_text(a.f[i].name, strlen(a.f[i].name));
		for (k = 0; k < i; k++)
			if (strcmp(a.f[i].name, a.f[k].name) == 0)
				abort();
		if (admin_json_get(&a, a.f[i].name) != &a.f[i])
			abort();
		evbuffer_add_printf(out, "%s", i ? "," : "");
		util_json_str(out, a.f[i].name, strlen(a.f[i].name));
		evbuffer_add(out, ":", 1);
		if (a.f[i].type == ADMIN_JSON_STRING) {
			check_text(a.f[i].str, a.f[i].len);
			util_json_str(out, a.f[i].str, a.f[i].len);
		} else if (a.f[i].type == ADMIN_JSON_INT)
			evbuffer_add_printf(out, "%" PRId64, a.f[i].num);
		else
			evbuffer_add_printf(out, "%s", a.f[i].num ? "true" : "false");
	}
	evbuffer_add(out, "}", 1);
	/* (written out, a body can grow: \u2028 is 3 bytes in, 6 out) */
	if (evbuffer_get_length(out) <= ADMIN_JSON_MAX) {
		if (admin_json_parse(&b, (const char *)evbuffer_pullup(out, -1),
		    evbuffer_get_length(out), err, sizeof(err)) == -1 || b.n != a.n)
			abort();
		for (i = 0; i < a.n; i++)
			if (strcmp(a.f[i].name, b.f[i].name) != 0 || a.f[i].type != b.f[i].type ||
			    a.f[i].num != b.f[i].num || (a.f[i].type == ADMIN_JSON_STRING &&
			    (a.f[i].len != b.f[i].len || memcmp(a.f[i].str, b.f[i].str, a.f[i].len))))
				abort();
	}
	evbuffer_free(out);
	return 0;
}
