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
static struct mtable *mt;
static struct trigger *t;

static int
collect_name(void *arg, const struct trig_rule *r)
{
	char (*names)[TRIG_NAME_MAX] = arg;
	size_t i;

	for (i = 0; i < 64 && names[i][0] != '\0'; i++)
		;
	if (i < 64)
		memcpy(names[i], r->name, TRIG_NAME_MAX);
	return 0;
}

/* The next input starts from an empty table and no trigger rules. */
static void
reset(void)
{
	char names[64][TRIG_NAME_MAX], err[160];
	size_t i;

	memset(names, 0, sizeof(names));
	mtable_flush(mt, MT_NSOURCE);
	trigger_foreach_runtime(t, collect_name, names);
	for (i = 0; i < 64 && names[i][0] != '\0'; i++)
		trigger_del_rule(t, names[i], err, sizeof(err));
}

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
	struct pg_clock clk = { fixed_now, NULL };

	(void)argc;
	(void)argv;
	log_setverbose(-2);
	snprintf(dir, sizeof(dir), "/tmp/portgate-fuzz-state-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/state", dir);
	mt = mtable_new(NULL, &clk);
	t = trigger_new(mt);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char err[256];
	FILE *f;

	state_check((const char *)data, len, err, sizeof(err));
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	fwrite(data, 1, len, f);
	fclose(f);
	state_load(path, mt, t, NULL);
	remove_copies();
	reset();
	return 0;
}
