/* testutil.h - a tiny assertion kit and a fake clock for unit tests. */
#ifndef PG_TESTUTIL_H
#define PG_TESTUTIL_H

#include <stdint.h>

#include "clock.h"

extern int tu_failures;
extern int tu_checks;

#define CHECK(cond) do { tu_checks++; if (!(cond)) { tu_failures++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); tu_checks++; \
	if (_a != _b) { tu_failures++; fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, " \
	"expected %s == %lld\n", __FILE__, __LINE__, #a, _a, #b, _b); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); tu_checks++; \
	if (_a == NULL || strcmp(_a, _b) != 0) { tu_failures++; fprintf(stderr, \
	"%s:%d: CHECK_STR failed: got \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
	_a ? _a : "(null)", _b); } } while (0)

struct fake_clock {
	uint64_t	now;
};

/* A pg_clock reading a fake_clock that tests advance by hand. */
struct pg_clock tu_fake_clock(struct fake_clock *);
/* Print the summary and return the exit status. */
int tu_done(const char *name);
/* Make a temporary directory and return its path (static buffer). */
const char *tu_tmpdir(void);

#endif
