/* log.c - logging; the logger's state is the only global in portgate. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static struct {
	int foreground;
	int verbose;
} log_state = { 1, 0 };

void
log_init(int foreground, int verbose)
{
	log_state.foreground = foreground;
	log_state.verbose = verbose;
	if (!foreground)
		openlog("portgated", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setverbose(int verbose)
{
	log_state.verbose = verbose;
}

static void log_vwrite(int, const char *, va_list, int) __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char msg[1024];
	int saved = errno;
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	/* a value that reached a message must not forge log lines or drive a terminal */
	for (n = 0; msg[n] != '\0'; n++)
		if ((unsigned char)msg[n] < 0x20 || msg[n] == 0x7f)
			msg[n] = '?';
	if (log_state.foreground) {
		fprintf(stderr, "portgated: %s\n", msg);
		fflush(stderr);
	} else
		syslog(pri, "%s", msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	if (log_state.verbose < -1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_state.verbose < 0)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_state.verbose < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void
log_limit_init(struct log_limit *l, uint64_t window_ms, unsigned burst)
{
	memset(l, 0, sizeof(*l));
	l->window_ms = window_ms;
	l->burst = burst;
}

int
log_limit_pass(struct log_limit *l, uint64_t now_ms)
{
	if (l->used > 0 && now_ms - l->start_ms < l->window_ms) {
		if (l->used < l->burst) {
			l->used++;
			return 1;
		}
		l->suppressed++;
		return 0;
	}
	if (l->suppressed > 0)
		log_warnx("(%lu similar messages in the last %llu s were not logged)",
		    l->suppressed, (unsigned long long)((now_ms - l->start_ms) / 1000));
	l->start_ms = now_ms;
	l->used = 1;
	l->suppressed = 0;
	return 1;
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
