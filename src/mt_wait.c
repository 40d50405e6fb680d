/*
 * mt_wait.c - answers waiting for their table entries to reach the kernel
 * (see mt_wait.h). A plain array: a loop turn leaves at most a few hundred.
 */
#include <stdlib.h>

#include "mt_wait.h"

int
mt_wait_add(struct mt_waiters *w, uint64_t id, const void *owner, mt_landed_cb *cb, void *arg)
{
	struct mt_waiter *v;
	size_t cap;

	if (w->n == w->cap) {
		cap = w->cap ? w->cap * 2 : 64;
		if ((v = reallocarray(w->v, cap, sizeof(*v))) == NULL)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = (struct mt_waiter){ id, owner, cb, arg, 0 };
	return 0;
}

void
mt_wait_refused(struct mt_waiters *w, uint64_t id, int err)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->v[i].id == id)
			w->v[i].err = err ? err : -1;
}

void
mt_wait_run(struct mt_waiters *w)
{
	struct mt_waiter *run = w->v;
	size_t i, n = w->n, cap = w->cap;

	if (n == 0 || w->running != NULL)
		return;
	/* callbacks may leave waiters for the next commit: they go to the other array */
	w->v = w->spare;
	w->cap = w->cspare;
	w->n = 0;
	w->spare = NULL;
	w->cspare = 0;
	w->running = run;
	w->nrunning = n;
	for (i = 0; i < n; i++)
		if (run[i].cb != NULL)
			run[i].cb(run[i].arg, run[i].err);
	w->running = NULL;
	w->nrunning = 0;
	if (w->v == NULL) {
		w->v = run;
		w->cap = cap;
	} else {
		w->spare = run;
		w->cspare = cap;
	}
}

void
mt_wait_cancel(struct mt_waiters *w, const void *owner)
{
	size_t i, j;

	for (i = j = 0; i < w->n; i++)
		if (w->v[i].owner != owner)
			w->v[j++] = w->v[i];
	w->n = j;
	for (i = 0; i < w->nrunning; i++)
		if (w->running[i].owner == owner)
			w->running[i].cb = NULL;
}

void
mt_wait_free(struct mt_waiters *w)
{
	free(w->v);
	free(w->spare);
	w->v = w->spare = NULL;
	w->n = w->cap = w->cspare = 0;
}
