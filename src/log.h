/* log.h - OpenBSD-style logging: stderr in the foreground, syslog otherwise. */
#ifndef PG_LOG_H
#define PG_LOG_H

#include <stdarg.h>
#include <stdint.h>

/* A budget of log lines for messages the outside can trigger: burst per window. */
struct log_limit {
	uint64_t	 window_ms;
	unsigned	 burst;
	uint64_t	 start_ms;
	unsigned	 used;
	unsigned long	 suppressed;
};

/* Set where logs go and how verbose (-2 errors only, -1 warnings, 0 info, 1+ debug). */
void log_init(int foreground, int verbose);
/* Change verbosity at run time. */
void log_setverbose(int verbose);
/* Warning with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warning without errno. */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Informational message. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug message, shown only with -v. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set a budget of burst lines per window_ms. */
void log_limit_init(struct log_limit *, uint64_t window_ms, unsigned burst);
/* 1 if one more line may be logged now; says how many were suppressed when a window opens. */
int log_limit_pass(struct log_limit *, uint64_t now_ms);
/* Log with errno and exit(1); start-up failures and broken invariants only. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Log without errno and exit(1). */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
