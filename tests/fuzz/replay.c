/*
 * replay.c - run a fuzz harness as a plain program over its corpus.
 *
 *   fuzz_NAME [FILE|DIR ...]
 *
 * With no argument it replays $top_srcdir/tests/fuzz/corpus/NAME/ (NAME
 * from FUZZ_NAME), so `make check` runs every seed and every input that
 * once crashed through the code the daemon runs. Exits non-zero if a
 * corpus is missing or empty; a crash fails on its own.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if ((buf = malloc((size_t)len + 1)) == NULL ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len) {
		perror(path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

static int
replay_path(const char *path, unsigned *n)
{
	struct dirent *d;
	struct stat st;
	char file[4096];
	DIR *dir;
	int rc = 0;

	if (stat(path, &st) == -1) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*n)++;
		return replay_file(path);
	}
	if ((dir = opendir(path)) == NULL) {
		perror(path);
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, d->d_name);
		if (replay_file(file) == -1)
			rc = -1;
		(*n)++;
	}
	closedir(dir);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char def[4096];
	unsigned n = 0;
	int i, rc = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		snprintf(def, sizeof(def), "%s/tests/fuzz/corpus/%s", top ? top : ".", FUZZ_NAME);
		rc = replay_path(def, &n);
	}
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i], &n) == -1)
			rc = -1;
	printf("fuzz_%s: replayed %u inputs\n", FUZZ_NAME, n);
	return rc == 0 && n > 0 ? 0 : 1;
}
