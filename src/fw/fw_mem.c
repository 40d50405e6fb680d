/*
 * fw_mem.c - the in-memory firewall ("firewall = none"): keeps the state a
 * kernel would hold, so the daemon behaves the same without root, and lets
 * tests look at it and inject refusals.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw/fw.h"
#include "log.h"
#include "mtable.h"
#include "util.h"

struct fw_mem {
	struct fw_item	*slots[MT_NPROTO][65536];	/* by external start port */
	size_t		 count;
	size_t		 npeers;	/* PEER pins (SNAT of outbound flows): counted only */
	int		 fail_proto;
	uint16_t	 fail_port;
	int		 fail_err;
};

static int
fw_mem_init(struct fw *fw)
{
	struct fw_mem *m = xcalloc(1, sizeof(*m));

	m->fail_proto = -1;
	fw->priv = m;
	return 0;
}

static void
fw_mem_clear(struct fw_mem *m)
{
	size_t p, i;

	for (p = 0; p < MT_NPROTO; p++)
		for (i = 0; i < 65536; i++) {
			free(m->slots[p][i]);
			m->slots[p][i] = NULL;
		}
	m->count = 0;
	m->npeers = 0;
}

static int
fw_mem_apply_peer(struct fw_mem *m, const struct fw_change *c)
{
	if (c->op == FW_DEL) {
		if (m->npeers == 0)
			return ENOENT;
		m->npeers--;
		return 0;
	}
	if (m->fail_proto == c->item.proto && m->fail_port == c->item.ext_port) {
		m->fail_proto = -1;
		return m->fail_err;
	}
	m->npeers++;
	return 0;
}

static int
fw_mem_apply(struct fw_mem *m, const struct fw_change *c)
{
	struct fw_item **slot;

	if (c->item.proto >= MT_NPROTO)
		return EINVAL;
	if (c->item.kind == MT_KIND_PEER)
		return fw_mem_apply_peer(m, c);
	slot = &m->slots[c->item.proto][c->item.ext_port];
	if (c->op == FW_DEL) {
		if (*slot == NULL)
			return ENOENT;
		free(*slot);
		*slot = NULL;
		m->count--;
		return 0;
	}
	if (m->fail_proto == c->item.proto && m->fail_port == c->item.ext_port) {
		m->fail_proto = -1;
		return m->fail_err;
	}
	if (*slot != NULL)
		return EEXIST;
	if ((*slot = malloc(sizeof(**slot))) == NULL)
		return ENOMEM;
	**slot = c->item;
	m->count++;
	return 0;
}

static int
fw_mem_commit(struct fw *fw, const struct fw_change *c, size_t n, fw_fail_cb *cb, void *arg)
{
	struct fw_mem *m = fw->priv;
	size_t i;
	int err, failed = 0;

	for (i = 0; i < n; i++) {
		if ((err = fw_mem_apply(m, &c[i])) != 0) {
			failed++;
			if (cb != NULL)
				cb(arg, &c[i], err);
		}
	}
	return failed ? -1 : 0;
}

static int
fw_mem_resync(struct fw *fw, fw_iter_cb *it, void *arg)
{
	struct fw_mem *m = fw->priv;
	struct fw_change c;

	fw_mem_clear(m);
	c.op = FW_ADD;
	while (it(arg, &c.item))
		fw_mem_apply(m, &c);
	return 0;
}

static void
fw_mem_shutdown(struct fw *fw)
{
	struct fw_mem *m = fw->priv;

	if (m == NULL)
		return;
	fw_mem_clear(m);
	free(m);
	fw->priv = NULL;
}

const struct fw_ops fw_mem_ops = {
	.name = "none",
	.init = fw_mem_init,
	.commit = fw_mem_commit,
	.resync = fw_mem_resync,
	.shutdown = fw_mem_shutdown,
};

size_t
fw_mem_count(const struct fw *fw)
{
	const struct fw_mem *m = fw->priv;

	return m->count;
}

const struct fw_item *
fw_mem_lookup(const struct fw *fw, int proto, uint16_t port)
{
	const struct fw_mem *m = fw->priv;

	if (proto < 0 || proto >= MT_NPROTO)
		return NULL;
	return m->slots[proto][port];
}

void
fw_mem_inject_failure(struct fw *fw, int proto, uint16_t port, int err)
{
	struct fw_mem *m = fw->priv;

	m->fail_proto = proto;
	m->fail_port = port;
	m->fail_err = err;
}

size_t
fw_mem_peer_count(const struct fw *fw)
{
	return ((const struct fw_mem *)fw->priv)->npeers;
}
