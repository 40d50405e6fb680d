/* fw.c - backend selection and the change queue shared by every backend. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw/fw.h"
#include "log.h"
#include "util.h"

static const struct {
	const char		*name;
	const struct fw_ops	*ops;
} fw_backends[] = {
	{ "none", &fw_mem_ops },
	{ "nftables", &fw_nft_ops },
};

struct fw *
fw_new(const char *backend, const struct pg_config *cfg, struct event_base *base)
{
	struct fw *fw;
	size_t i;

	for (i = 0; i < PG_NELEM(fw_backends); i++) {
		if (strcmp(fw_backends[i].name, backend) != 0)
			continue;
		fw = xcalloc(1, sizeof(*fw));
		fw->ops = fw_backends[i].ops;
		fw->cfg = cfg;
		fw->base = base;
		return fw;
	}
	return NULL;
}

int
fw_init(struct fw *fw)
{
	return fw->ops->init(fw);
}

int
fw_queue(struct fw *fw, enum fw_op op, const struct fw_item *item)
{
	struct fw_change *q;
	size_t n;

	if (fw->nqueue == fw->cqueue) {
		n = fw->cqueue ? fw->cqueue * 2 : 64;
		if ((q = reallocarray(fw->queue, n, sizeof(*q))) == NULL)
			return -1;
		fw->queue = q;
		fw->cqueue = n;
	}
	fw->queue[fw->nqueue].op = op;
	fw->queue[fw->nqueue].item = *item;
	fw->nqueue++;
	return 0;
}

size_t
fw_pending(const struct fw *fw)
{
	return fw->nqueue;
}

int
fw_commit(struct fw *fw, fw_fail_cb *cb, void *arg)
{
	struct fw_change *batch = fw->queue;
	size_t n = fw->nqueue, cap = fw->cqueue;
	int rc;

	if (n == 0)
		return 0;
	/* hand the batch over so callbacks can queue follow-up changes */
	fw->queue = fw->spare;
	fw->cqueue = fw->cspare;
	fw->nqueue = 0;
	rc = fw->ops->commit(fw, batch, n, cb, arg);
	fw->ncommits++;
	fw->spare = batch;
	fw->cspare = cap;
	return rc;
}

int
fw_resync(struct fw *fw, fw_iter_cb *it, void *arg)
{
	fw->nqueue = 0;
	return fw->ops->resync(fw, it, arg);
}

int
fw_pin_counters(struct fw *fw, const struct fw_item *it, uint64_t *pkts, uint64_t *bytes)
{
	if (fw->ops->pin_counters == NULL)
		return -1;
	return fw->ops->pin_counters(fw, it, pkts, bytes);
}

int
fw_set_hosts(struct fw *fw, const struct fw_host *h, size_t n)
{
	if (fw->ops->hosts == NULL)
		return 0;
	return fw->ops->hosts(fw, h, n);
}

int
fw_flow_port(struct fw *fw, const struct fw_item *it, uint16_t *port)
{
	if (fw->ops->flow_port == NULL || it->kind != MT_KIND_PEER)
		return -1;
	return fw->ops->flow_port(fw, it, port);
}

void
fw_set_lost_cb(struct fw *fw, fw_lost_cb *cb, void *arg)
{
	fw->lost = cb;
	fw->lost_arg = arg;
}

void
fw_free(struct fw *fw)
{
	if (fw == NULL)
		return;
	fw->ops->shutdown(fw);
	free(fw->queue);
	free(fw->spare);
	free(fw);
}
