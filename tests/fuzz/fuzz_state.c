/*
 * fuzz_state.c - the state file: parse, and restore into a real table and
 * trigger set. Each input is loaded three ways: as it is; with every line
 * after its end line framed as a journal record with the right check (so
 * mutations reach the record parser, not only the check); and as the
 * records of a journal behind a fixed snapshot, whose guard pinhole must
 * survive any journal that does not name it.
 */
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

#define GUARD_ID	4000000000u
#define GUARD_SNAPSHOT	"portgate-state 2\n" \
	"pinhole 4000000000 tcp 2001:db8:ffff::1 8000 * pcp 0 * guard %-\n" \
	"end 1\n"

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

/* One load of text as the state file, then a clean slate. */
static void
load(const char *text, size_t len, int guarded)
{
	FILE *f;

	if ((f = fopen(path, "wb")) == NULL)
		abort();
	fwrite(text, 1, len, f);
	fclose(f);
	state_load(path, mt, t, NULL);
	if (guarded && mtable_pinhole_get(mt, GUARD_ID) == NULL)
		abort();	/* a journal that does not name it lost a valid entry */
	remove_copies();
	reset();
}

/* Append each line of data (from off) to buf as a journal line with its check. */
static size_t
frame_lines(const uint8_t *data, size_t len, size_t off, char *buf, size_t n, size_t cap)
{
	char text[4096];
	const uint8_t *nl;
	size_t l;

	while (off < len) {
		nl = memchr(data + off, '\n', len - off);
		l = nl ? (size_t)(nl - (data + off)) : len - off;
		if (l < sizeof(text) && memchr(data + off, '\0', l) == NULL) {
			memcpy(text, data + off, l);
			text[l] = '\0';
			n += state_frame(text, buf + n, cap - n);
		}
		off += l + 1;
	}
	return n;
}

/* Where the line after the first "end" line starts, or 0 if there is none. */
static size_t
after_end(const uint8_t *data, size_t len)
{
	const uint8_t *p = memmem(data, len, "\nend ", 5);
	const uint8_t *nl = p ? memchr(p + 1, '\n', len - (size_t)(p + 1 - data)) : NULL;

	return nl ? (size_t)(nl + 1 - data) : 0;
}

/* 1 if the input could name the guard pinhole (its ID or its address) in a record. */
static int
names_guard(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);
	int hit;

	if (s == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	/* NULs end the search early: then assume it does */
	hit = memchr(data, '\0', len) != NULL || strstr(s, "4000000000") != NULL ||
	    strcasestr(s, "ffff") != NULL;
	free(s);
	return hit;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char err[256], *buf;
	size_t off, n, cap = 13 * len + 64 + sizeof(GUARD_SNAPSHOT);	/* a line grows by 12 */

	state_check((const char *)data, len, err, sizeof(err));
	load((const char *)data, len, 0);
	if ((buf = malloc(cap)) == NULL)
		abort();
	if ((off = after_end(data, len)) > 0) {
		memcpy(buf, data, off);
		n = frame_lines(data, len, off, buf, off, cap);
		state_check(buf, n, err, sizeof(err));
		load(buf, n, 0);
	}
	n = strlen(GUARD_SNAPSHOT);
	memcpy(buf, GUARD_SNAPSHOT, n);
	n = frame_lines(data, len, 0, buf, n, cap);
	load(buf, n, !names_guard(data, len));
	free(buf);
	return 0;
}
