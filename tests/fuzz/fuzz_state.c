/* fuzz_state.c - the state file: parse, and restore into a real table and trigger set. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mtable.h"
#include "state.h"
#include "trigger/trigger.h"
#include "util.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char dir[64], path[256];

/* A damaged file is kept aside as state.corrupt.*: remove the copies between inputs. */
static void
remove_copies(void)
{
	struct dirent *d;
	char file[512];
	DIR *dp = opendir(dir);

	if (dp == NULL)
		abort();
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, "state.", 6) != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, d->d_name);
		unlink(file);
	}
	closedir(dp);
}

static uint64_t
fixed_now(void *arg)
{
	(void)arg;
	return 1000000;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	snprintf(dir, sizeof(dir), "/tmp/portgate-fuzz-state-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/state", dir);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pg_clock clk = { fixed_now, NULL };
	struct mtable *mt;
	struct trigger *t;
	char err[256];
	FILE *f;

	state_check((const char *)data, len, err, sizeof(err));
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	fwrite(data, 1, len, f);
	fclose(f);
	mt = mtable_new(NULL, &clk);
	t = trigger_new(mt);
	state_load(path, mt, t);
	remove_copies();
	trigger_free(t);
	mtable_free(mt);
	return 0;
}
