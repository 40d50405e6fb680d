/* clock.h - the lease clock's time source: monotonic by default, fake in tests. */
#ifndef PG_CLOCK_H
#define PG_CLOCK_H

#include <stdint.h>

struct pg_clock {
	uint64_t	(*now_ms)(void *arg);	/* monotonic milliseconds */
	void		*arg;
};

/* The real monotonic clock. */
extern const struct pg_clock pg_clock_mono;

/* Current time of a clock in milliseconds. */
static inline uint64_t
pg_clock_now(const struct pg_clock *c)
{
	return c->now_ms(c->arg);
}

#endif
