/* nflog.c - trigger detection (kernel NFLOG listener); filled in with the nftables trigger sets. */
#include "config.h"

#include <stdlib.h>

#include "daemon.h"
#include "trigger/nflog.h"
#include "util.h"

struct trig_nflog {
	struct pg_ctx	*ctx;
	uint64_t	 count;
};

struct trig_nflog *
trig_nflog_new(struct pg_ctx *ctx)
{
	struct trig_nflog *n = xcalloc(1, sizeof(*n));

	n->ctx = ctx;
	return n;
}

void
trig_nflog_free(struct trig_nflog *n)
{
	free(n);
}

void
trig_nflog_sync_rules(struct trig_nflog *n, struct fw *fw, const struct trigger *t)
{
	(void)n;
	(void)fw;
	(void)t;
}

uint64_t
trig_nflog_count(const struct trig_nflog *n)
{
	return n->count;
}
