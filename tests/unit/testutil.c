/* testutil.c - assertion counters and a fake clock. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

int tu_failures;
int tu_checks;

static uint64_t
fake_now(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

struct pg_clock
tu_fake_clock(struct fake_clock *fc)
{
	struct pg_clock c = { fake_now, fc };

	return c;
}

int
tu_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, tu_checks, tu_failures);
	return tu_failures ? 1 : 0;
}

const char *
tu_tmpdir(void)
{
	static char dir[] = "/tmp/portgate-test-XXXXXX";
	static int made;

	/* once: the random part itself may end in 'X' */
	if (!made++ && mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
	return dir;
}
