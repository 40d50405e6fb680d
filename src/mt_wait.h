/*
 * mt_wait.h - answers waiting for their table entries to reach the kernel.
 *
 * A front end that changed an entry answers its client only once the
 * firewall took the change. It leaves a waiter (the entry's id, a callback);
 * the commit that sends the loop turn's batch marks the entries the kernel
 * refused and then runs every waiter: one kernel batch for all the requests
 * of a turn, each answered after its own entry landed. A leaf: no table, no
 * firewall.
 */
#ifndef PG_MT_WAIT_H
#define PG_MT_WAIT_H

#include <stddef.h>
#include <stdint.h>

/* err 0: the entry's change is in the kernel; else the kernel's errno (the table rolled it back). */
typedef void mt_landed_cb(void *arg, int err);

struct mt_waiter {
	uint64_t	 id;
	const void	*owner;		/* who left it: mt_wait_cancel */
	mt_landed_cb	*cb;
	void		*arg;
	int		 err;		/* the kernel's refusal, 0 if none */
};

struct mt_waiters {
	struct mt_waiter *v;
	size_t		  n, cap;
	struct mt_waiter *spare;	/* a second array, reused: runs take turns */
	size_t		  cspare;
	struct mt_waiter *running;	/* the waiters being run (mt_wait_cancel skips them) */
	size_t		  nrunning;
};

/* 0, or -1 out of memory (nothing left: the caller commits at once). */
int mt_wait_add(struct mt_waiters *, uint64_t id, const void *owner, mt_landed_cb *, void *arg);
/* The kernel refused entry id with errno err: its waiters hear it. */
void mt_wait_refused(struct mt_waiters *, uint64_t id, int err);
/* Run and forget every waiter (a callback may leave new ones: they wait for the next commit). */
void mt_wait_run(struct mt_waiters *);
/* Forget owner's waiters without running them (the owner is going away). */
void mt_wait_cancel(struct mt_waiters *, const void *owner);
void mt_wait_free(struct mt_waiters *);

#endif
