/* fuzz_gena.c - GENA's parsers: CALLBACK and TIMEOUT headers, the NOTIFY response's status line. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "igd/gena.h"
#include "log.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	return 0;
}

/* What a usable URL promises the code that connects to it and writes its path. */
static void
check_url(const struct gena_url *u)
{
	size_t i, n = strnlen(u->path, sizeof(u->path));

	if (n == 0 || n == sizeof(u->path) || u->path[0] != '/' || u->port == 0)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)u->path[i] <= 0x20 || (unsigned char)u->path[i] >= 0x7f ||
		    strchr("<>\"\\^`{|}#", u->path[i]) != NULL)
			abort();
}

/* The input as one header value (up to its first NUL) and as a response's bytes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct gena_url u;
	char *s = malloc(len + 1);
	unsigned t;
	int code;

	if (s == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	memset(&u, 0, sizeof(u));
	if (gena_parse_callback(s, &u) == 0)
		check_url(&u);
	t = gena_parse_timeout(s);
	if (t < GENA_TIMEOUT_MIN || t > GENA_TIMEOUT_MAX)
		abort();
	code = gena_parse_status(s, len);
	if (code != -1 && (code < 100 || code > 599))
		abort();
	free(s);
	return 0;
}
