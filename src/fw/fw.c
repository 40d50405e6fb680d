/*
 * fw.c - backend selection, the change queue shared by every backend, and
 * which changes of a batch close a door (so the backend ends the flows the
 * door let in) or open one (so it ends other endpoints' flows on its ports).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fw/backend.h"
#include "fw/fw.h"
#include "log.h"
#include "metric.h"
#include "mt_vocab.h"
#include "util.h"

struct fw {
	struct fw_backend	 be;		/* first: see FW_BACKEND */
	struct fw_change	*queue;
	size_t			 nqueue;
	size_t			 cqueue;
	struct fw_change	*spare;
	size_t			 cspare;
	uint64_t		*refused;	/* IDs of the adds the current commit refused */
	size_t			 nrefused, crefused;
	uint64_t		 ncommits;
	struct pg_hist		 commit_time;	/* seconds a backend's commit took */
	uint64_t		 repairs;	/* the backend's state vanished: rebuilt */
	uint64_t		 inb_seen[2];	/* backend's inbound pkts, bytes: last read */
	uint64_t		 inb_base[2];	/* what it counted before it started again */
	fw_lost_cb		*lost;		/* the owner's (fw_set_lost_cb) */
	void			*lost_arg;
};

/* Buckets of the commit time: from a small batch (50 us) to a stalled kernel (1 s). */
static const double fw_commit_le[] = { 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1 };

_Static_assert(offsetof(struct fw, be) == 0, "a struct fw begins with its struct fw_backend");

/* The first is the default. */
static const struct fw_ops *const fw_backends[] = {
	&fw_nft_ops,
	&fw_mem_ops,
};

static int
fw_backend_index(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < PG_NELEM(fw_backends); i++)
		if (strcmp(fw_backends[i]->name, name) == 0)
			return (int)i;
	return -1;
}

int
fw_backend_valid(const char *name)
{
	return fw_backend_index(name) != -1;
}

const char *
fw_backend_default(void)
{
	return fw_backends[0]->name;
}

int
fw_backend_in_kernel(const char *name)
{
	int i = fw_backend_index(name);

	return i != -1 && (fw_backends[i]->caps & FW_CAP_KERNEL);
}

const char *
fw_backend_names(void)
{
	return "nftables, none";
}

int
fw_has(const struct fw *fw, enum fw_cap cap)
{
	return fw != NULL && (fw->be.caps & cap) == (unsigned)cap;
}

int
fw_in_kernel(const struct fw *fw)
{
	return fw_has(fw, FW_CAP_KERNEL);
}

int
fw_set_trigger_ports(struct fw *fw, const struct fw_trig_port *p, size_t n)
{
	if (fw->be.ops->trig_ports == NULL)
		return 0;
	return fw->be.ops->trig_ports(&fw->be, p, n);
}

struct fw *
fw_new(const char *backend, const struct pg_config *cfg, struct event_base *base)
{
	struct fw *fw;
	int i = fw_backend_index(backend);

	if (i == -1)
		return NULL;
	fw = xcalloc(1, sizeof(*fw));
	fw->be.ops = fw_backends[i];
	fw->be.caps = fw_backends[i]->caps;
	fw->be.cfg = cfg;
	fw->be.base = base;
	pg_hist_init(&fw->commit_time, fw_commit_le, PG_NELEM(fw_commit_le));
	return fw;
}

int
fw_init(struct fw *fw)
{
	return fw->be.ops->init(&fw->be);
}

void
fw_set_config(struct fw *fw, const struct pg_config *cfg)
{
	fw->be.cfg = cfg;
}

void
fw_set_netif(struct fw *fw, const struct netif *netif)
{
	fw->be.netif = netif;
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

/* ---- closing and opening doors: which changes of a batch end flows ---- */

/* A change of the batch, looked up by its door (what it lets in, to where), then position. */
struct fw_door_ref {
	const struct fw_item	*item;
	size_t			 pos;
};

static int
fw_door_cmp(const struct fw_item *a, const struct fw_item *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->ext_port != b->ext_port)
		return a->ext_port < b->ext_port ? -1 : 1;
	if (a->ext_port_end != b->ext_port_end)
		return a->ext_port_end < b->ext_port_end ? -1 : 1;
	if (a->int_port != b->int_port)
		return a->int_port < b->int_port ? -1 : 1;
	return memcmp(&a->int_addr, &b->int_addr, sizeof(a->int_addr));
}

static int
fw_ref_cmp(const void *va, const void *vb)
{
	const struct fw_door_ref *a = va, *b = vb;
	int c = fw_door_cmp(a->item, b->item);

	if (c != 0)
		return c;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int
fw_id_cmp(const void *va, const void *vb)
{
	uint64_t a = *(const uint64_t *)va, b = *(const uint64_t *)vb;

	return a < b ? -1 : a > b;
}

/* The first add of d's door after position pos in the sorted adds, or NULL. */
static const struct fw_item *
fw_later_add(const struct fw_door_ref *adds, size_t nadds, const struct fw_item *d, size_t pos)
{
	struct fw_door_ref key = { d, pos };
	size_t lo = 0, hi = nadds, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (fw_ref_cmp(&adds[mid], &key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nadds && fw_door_cmp(adds[lo].item, d) == 0 ? adds[lo].item : NULL;
}

/*
 * The batch's adds the backend took (no PEER pins), and with dels its
 * deletes too, sorted by door and position.
 */
static struct fw_door_ref *
fw_sorted(const struct fw_change *c, size_t n, const uint64_t *refused, size_t nrefused,
    int dels, size_t *nrefs)
{
	struct fw_door_ref *refs;
	size_t i;

	*nrefs = 0;
	if ((refs = reallocarray(NULL, n, sizeof(*refs))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (c[i].item.kind == MT_KIND_PEER || (c[i].op == FW_DEL && !dels) ||
		    (c[i].op == FW_ADD && nrefused > 0 &&
		    bsearch(&c[i].item.id, refused, nrefused, sizeof(*refused), fw_id_cmp)))
			continue;
		refs[*nrefs].item = &c[i].item;
		refs[(*nrefs)++].pos = i;
	}
	qsort(refs, *nrefs, sizeof(*refs), fw_ref_cmp);
	return refs;
}

/* The doors among c[0..n) that close (see struct fw_close), into *out (malloc'd); how many. */
static size_t
fw_closes(const struct fw_change *c, size_t n, const uint64_t *refused, size_t nrefused,
    struct fw_close **out)
{
	struct fw_door_ref *adds;
	struct fw_close *cl;
	const struct fw_item *later;
	size_t i, nadds, k = 0;

	*out = NULL;
	for (i = 0; i < n && (c[i].op != FW_DEL || c[i].item.kind == MT_KIND_PEER); i++)
		;
	if (i == n)
		return 0;		/* no delete: the common batch costs nothing more */
	if ((adds = fw_sorted(c, n, refused, nrefused, 0, &nadds)) == NULL ||
	    (cl = reallocarray(NULL, n - i, sizeof(*cl))) == NULL) {
		free(adds);
		log_warnx("fw: out of memory: the flows of closed mappings end on their own timeouts");
		return 0;
	}
	for (; i < n; i++) {
		if (c[i].op != FW_DEL || c[i].item.kind == MT_KIND_PEER)
			continue;
		later = fw_later_add(adds, nadds, &c[i].item, i);
		if (later != NULL && fw_item_covers(later, &c[i].item))
			continue;	/* a renewal: the same door, open to the same remotes */
		cl[k].item = &c[i].item;
		cl[k++].still = later;
	}
	free(adds);
	if (k == 0)
		free(cl);
	else
		*out = cl;
	return k;
}

/* 1 if the change adds an IPv4 mapping: a door that may open. */
static int
fw_map_add(const struct fw_change *c)
{
	return c->op == FW_ADD && c->item.kind == MT_KIND_MAP && util_addr_is_v4(&c->item.int_addr);
}

/* The doors among c[0..n) that open (see struct fw_open), into *out (malloc'd); how many. */
static size_t
fw_opens(const struct fw_change *c, size_t n, const uint64_t *refused, size_t nrefused,
    struct fw_open **out)
{
	struct fw_door_ref *refs;
	struct fw_open *op = NULL;
	size_t i, j, nrefs, k = 0;

	*out = NULL;
	for (i = 0; i < n && !fw_map_add(&c[i]); i++)
		;
	if (i == n)
		return 0;		/* no add: a batch of deletes costs nothing more */
	if ((refs = fw_sorted(c, n, refused, nrefused, 1, &nrefs)) == NULL ||
	    (nrefs > 0 && (op = reallocarray(NULL, nrefs, sizeof(*op))) == NULL)) {
		free(refs);
		log_warnx("fw: out of memory: flows already on newly mapped ports are left alone");
		return 0;
	}
	for (i = 0; i < nrefs; i = j) {
		for (j = i + 1; j < nrefs && fw_door_cmp(refs[j].item, refs[i].item) == 0; j++)
			;
		/*
		 * New to the kernel: its first change adds it (a delete first means the
		 * kernel held it: a renewal); still there: its last change adds it.
		 */
		if (fw_map_add(&c[refs[i].pos]) && c[refs[j - 1].pos].op == FW_ADD)
			op[k++].item = refs[j - 1].item;
	}
	free(refs);
	if (k == 0)
		free(op);
	else
		*out = op;
	return k;
}

/* Tell the backend which doors of the batch closed and which opened. */
static void
fw_doors(struct fw *fw, const struct fw_change *c, size_t n)
{
	struct fw_close *cl;
	struct fw_open *op;
	size_t ncl, nop;

	if (fw->nrefused > 1)
		qsort(fw->refused, fw->nrefused, sizeof(*fw->refused), fw_id_cmp);
	if (fw->be.ops->close != NULL &&
	    (ncl = fw_closes(c, n, fw->refused, fw->nrefused, &cl)) > 0) {
		fw->be.ops->close(&fw->be, cl, ncl);
		free(cl);
	}
	if (fw->be.ops->open != NULL &&
	    (nop = fw_opens(c, n, fw->refused, fw->nrefused, &op)) > 0) {
		fw->be.ops->open(&fw->be, op, nop);
		free(op);
	}
}

/* ---- commit and resync ---- */

struct fw_commit_ctx {
	struct fw	*fw;
	fw_fail_cb	*cb;
	void		*arg;
};

/* A refused add did not open its door again: note it, then tell the caller. */
static void
fw_commit_failed(void *arg, const struct fw_change *c, int err)
{
	struct fw_commit_ctx *cc = arg;
	struct fw *fw = cc->fw;
	uint64_t *r;
	size_t n;

	if (c->op == FW_ADD && fw->nrefused == fw->crefused) {
		n = fw->crefused ? fw->crefused * 2 : 16;
		if ((r = reallocarray(fw->refused, n, sizeof(*r))) != NULL) {
			fw->refused = r;
			fw->crefused = n;
		}
	}
	if (c->op == FW_ADD && fw->nrefused < fw->crefused)
		fw->refused[fw->nrefused++] = c->item.id;
	if (cc->cb != NULL)
		cc->cb(cc->arg, c, err);
}

/* Take the queue as a batch, so callbacks can queue follow-up changes meanwhile. */
static struct fw_change *
fw_take_queue(struct fw *fw, size_t *n, size_t *cap)
{
	struct fw_change *batch = fw->queue;

	*n = fw->nqueue;
	*cap = fw->cqueue;
	fw->queue = fw->spare;
	fw->cqueue = fw->cspare;
	fw->nqueue = 0;
	return batch;
}

static void
fw_give_back(struct fw *fw, struct fw_change *batch, size_t cap)
{
	fw->spare = batch;
	fw->cspare = cap;
}

int
fw_commit(struct fw *fw, fw_fail_cb *cb, void *arg)
{
	struct fw_commit_ctx cc = { fw, cb, arg };
	struct fw_change *batch;
	struct timespec t0, t1;
	size_t n, cap;
	int rc;

	if (fw->nqueue == 0)
		return 0;
	batch = fw_take_queue(fw, &n, &cap);
	fw->nrefused = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = fw->be.ops->commit(&fw->be, batch, n, fw_commit_failed, &cc);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pg_hist_observe(&fw->commit_time, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fw->ncommits++;
	/* the kernel has the batch: no flow re-enters a closed door, none leaves by an opened one */
	fw_doors(fw, batch, n);
	fw_give_back(fw, batch, cap);
	return rc;
}

int
fw_resync(struct fw *fw, fw_iter_cb *it, void *arg)
{
	struct fw_change *batch;
	size_t n, cap;
	int rc;

	/*
	 * The rebuild holds what the table holds; the queued deletes still close
	 * their doors, and the queued adds open theirs (at start-up: every mapping
	 * restored from the state file).
	 */
	batch = fw_take_queue(fw, &n, &cap);
	rc = fw->be.ops->resync(&fw->be, it, arg);
	fw->nrefused = 0;
	fw_doors(fw, batch, n);
	fw_give_back(fw, batch, cap);
	return rc;
}

int
fw_pin_counters(struct fw *fw, const struct fw_item *it, uint64_t *pkts, uint64_t *bytes)
{
	if (fw->be.ops->pin_counters == NULL)
		return -1;
	return fw->be.ops->pin_counters(&fw->be, it, pkts, bytes);
}

int
fw_elem_query(struct fw *fw, const struct fw_item *it, struct fw_elem_info *out)
{
	memset(out, 0, sizeof(*out));
	if (fw->be.ops->query == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return fw->be.ops->query(&fw->be, it, 1, 0, out);
}

int
fw_elem_dump(struct fw *fw, const struct fw_item *items, size_t n, struct fw_elem_info *out)
{
	if (n > 0)
		memset(out, 0, n * sizeof(*out));
	if (fw->be.ops->query == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return n == 0 ? 0 : fw->be.ops->query(&fw->be, items, n, 1, out);
}

/*
 * The backend's count, kept monotonic: a count lower than the last one read
 * means the backend's counter started again (its state was rebuilt or reset
 * behind it), so what it had counted is carried in the base. What came in
 * between the last read and the restart is lost; the nftables backend
 * carries its count over its own rebuilds, so only an outside reset loses.
 */
int
fw_inbound(struct fw *fw, uint64_t *pkts, uint64_t *bytes)
{
	uint64_t v[2];
	int i;

	if (!fw_has(fw, FW_CAP_KERNEL) || fw->be.ops->inbound == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	if (fw->be.ops->inbound(&fw->be, &v[0], &v[1]) == -1)
		return -1;
	if (v[0] < fw->inb_seen[0] || v[1] < fw->inb_seen[1])
		for (i = 0; i < 2; i++)
			fw->inb_base[i] += fw->inb_seen[i];
	for (i = 0; i < 2; i++)
		fw->inb_seen[i] = v[i];
	*pkts = fw->inb_base[0] + v[0];
	*bytes = fw->inb_base[1] + v[1];
	return 0;
}

int
fw_set_hosts(struct fw *fw, const struct fw_host *h, size_t n)
{
	if (fw->be.ops->hosts == NULL)
		return 0;
	return fw->be.ops->hosts(&fw->be, h, n);
}

int
fw_flow_port(struct fw *fw, const struct fw_item *it, uint16_t *port)
{
	if (fw->be.ops->flow_port == NULL || it->kind != MT_KIND_PEER)
		return -1;
	return fw->be.ops->flow_port(&fw->be, it, port);
}

/* The backend saw its state vanish: counted, then the owner rebuilds it. */
static void
fw_lost(void *arg)
{
	struct fw *fw = arg;

	fw->repairs++;
	if (fw->lost != NULL)
		fw->lost(fw->lost_arg);
}

void
fw_set_lost_cb(struct fw *fw, fw_lost_cb *cb, void *arg)
{
	fw->lost = cb;
	fw->lost_arg = arg;
	fw->be.lost = fw_lost;
	fw->be.lost_arg = fw;
}

void
fw_metrics(const struct fw *fw, pg_metric_emit *emit, void *arg)
{
	if (fw == NULL)
		return;
	emit(arg, "firewall_commits_total", NULL, (double)fw->ncommits, NULL);
	emit(arg, "firewall_commit_duration_seconds", NULL, 0, &fw->commit_time);
	emit(arg, "firewall_repairs_total", NULL, (double)fw->repairs, NULL);
}

void
fw_inbound_metrics(struct fw *fw, pg_metric_emit *emit, void *arg)
{
	uint64_t pkts, bytes;

	if (fw == NULL || fw_inbound(fw, &pkts, &bytes) == -1)
		return;
	emit(arg, "inbound_packets_total", NULL, (double)pkts, NULL);
	emit(arg, "inbound_bytes_total", NULL, (double)bytes, NULL);
}

void
fw_free(struct fw *fw)
{
	if (fw == NULL)
		return;
	fw->be.ops->shutdown(&fw->be);
	free(fw->queue);
	free(fw->spare);
	free(fw->refused);
	free(fw);
}
