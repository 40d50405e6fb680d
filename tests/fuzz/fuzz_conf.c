/* fuzz_conf.c - the configuration parser. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "conf.h"
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

static void
discard(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	(void)file;
	(void)line;
	(void)msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	conf_free(conf_parse("fuzz.conf", (const char *)data, len, discard, NULL));
	return 0;
}
