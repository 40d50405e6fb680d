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

struct in6_addr;
/* The address s (IPv4 v4-mapped); aborts if s is not one: tests' literals. */
struct in6_addr tu_addr(const char *s);

struct fw;
struct mtable;
/* A table on the in-memory firewall (started, in *fwp), on fc's lease clock. */
struct mtable *tu_mem_table(struct fake_clock *fc, struct fw **fwp);

struct pg_ctx;
/*
 * A daemon context as pg_start makes it, without sockets, for front-end tests
 * and fuzz harnesses: the config parsed from text (NULL on errors, reported
 * through cb), LAN br-lan with 192.0.2.0/24 (gateway .1) and 2001:db8:1::/64
 * (::1), the WAN address 198.51.100.1 the gateway's own, the in-memory
 * firewall and a table with the config's policy and limits.
 */
struct pg_ctx *tu_lab_ctx(struct pg_ctx *, const char *conftext, struct pg_clock,
    void (*cb)(void *, const char *, unsigned, const char *));
/* Free what tu_lab_ctx made (not the context itself). */
void tu_lab_ctx_free(struct pg_ctx *);

#endif
