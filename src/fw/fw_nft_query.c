/*
 * fw_nft_query.c - what the kernel holds for an item, read back for
 * reporting (portgatectl check, list counters, a pinhole's counters): the
 * item's elements, their timeouts and time left, and the counters of the
 * elements that count (inb_own, inb_range: what a mapping let in from the
 * WAN; the pin_* sets: what a pinhole let in); and the named counter of
 * what all mappings let in (NFT_INBOUND). Nothing here decides
 * anything: the table is the truth, and a commit never waits for a read.
 *
 * An item's elements are what fw_nft_elem.c would delete for it: its
 * change is built as a FW_DEL into a scratch buffer and the messages are
 * read back with libnftnl, so the query follows every element a change
 * has, whatever fw_nft_elem.c makes of it. One item is read element by
 * element (GETSETELEM); many are read up to n->qbatch elements of a set to
 * a GETSETELEM, each element answered on its own, so that the cost follows
 * the items asked about, not what else the sets hold.
 */
#include "config.h"

#include <netinet/in.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "conf.h"
#include "fw/fw_nft_priv.h"
#include "mt_vocab.h"
#include "util.h"

#define NFT_QELEMS_MAX	(MT_MAX_FILTERS + 8)	/* elements of one item, at most */
#define NFT_GET_BATCH	256			/* elements asked for in one GETSETELEM */
#define NFT_GET_BUF	65536			/* such a request: 256 x ~120 bytes */
#define NFT_ANSWER_SIZE	8192			/* an element's answer in the socket */
#define NFT_QUERY_RCVBUF (4 * 1024 * 1024)	/* a batch's answers: 256 of them */

/* One element an item is made of, and what the kernel says of it. */
struct nft_qelem {
	const struct nft_set_def *set;
	uint8_t		 key[NFT_KEY_MAX];
	uint8_t		 key_end[NFT_KEY_MAX];	/* = key for an element without one */
	uint32_t	 klen;
	size_t		 item;		/* its item's index */
	int		 main;		/* the item's first element: its timeout */
	int		 found;
	uint64_t	 timeout, left;
	uint64_t	 pkts, bytes;
};

struct nft_qlist {
	struct nft_qelem *e;
	size_t		 n, cap;
};

/* ---- an item's elements ---- */

static struct nft_qelem *
nft_qlist_slot(struct nft_qlist *q)
{
	struct nft_qelem *e;
	size_t cap;

	if (q->n == q->cap) {
		cap = q->cap ? q->cap * 2 : 16;
		if ((e = reallocarray(q->e, cap, sizeof(*e))) == NULL)
			return NULL;
		q->e = e;
		q->cap = cap;
	}
	e = &q->e[q->n];
	memset(e, 0, sizeof(*e));
	return e;
}

struct nft_qparse {
	struct nft_qlist	*q;
	const struct nft_set_def *set;
	size_t			 item;
	size_t			 first;		/* the item's first element in q */
	int			 err;
};

static int
nft_qparse_elem(struct nftnl_set_elem *se, void *arg)
{
	struct nft_qparse *p = arg;
	struct nft_qelem *e;
	const void *k;
	uint32_t len = 0, elen = 0;

	k = nftnl_set_elem_get(se, NFTNL_SET_ELEM_KEY, &len);
	if (k == NULL || len == 0 || len > NFT_KEY_MAX || p->q->n - p->first >= NFT_QELEMS_MAX) {
		p->err = EINVAL;	/* not what fw_nft_elem.c builds */
		return -1;
	}
	if ((e = nft_qlist_slot(p->q)) == NULL) {
		p->err = ENOMEM;
		return -1;
	}
	e->set = p->set;
	e->item = p->item;
	e->main = p->q->n == p->first;
	e->klen = len;
	memcpy(e->key, k, len);
	memcpy(e->key_end, k, len);
	if (nftnl_set_elem_is_set(se, NFTNL_SET_ELEM_KEY_END) &&
	    (k = nftnl_set_elem_get(se, NFTNL_SET_ELEM_KEY_END, &elen)) != NULL && elen == len)
		memcpy(e->key_end, k, len);
	p->q->n++;
	return 0;
}

/* The elements of the delete messages in b (built by nft_emit_change) into q. */
static int
nft_qparse_msgs(const struct nft_buf *b, struct nft_qparse *p)
{
	const struct nlmsghdr *nlh;
	struct nftnl_set *s;
	const char *name;
	int left = (int)b->len, rc = 0;

	for (nlh = (const struct nlmsghdr *)b->p; rc == 0 && mnl_nlmsg_ok(nlh, left);
	    nlh = mnl_nlmsg_next(nlh, &left)) {
		if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_DELSETELEM)
			continue;
		if ((s = nftnl_set_alloc()) == NULL) {
			p->err = ENOMEM;
			return -1;
		}
		if (nftnl_set_elems_nlmsg_parse(nlh, s) == -1 ||
		    (name = nftnl_set_get_str(s, NFTNL_SET_NAME)) == NULL) {
			p->err = EINVAL;
			rc = -1;
		} else {
			p->set = nft_set(name);
			rc = nftnl_set_elem_foreach(s, nft_qparse_elem, p);
		}
		nftnl_set_free(s);
	}
	return rc;
}

/*
 * Item i's elements appended to q: its change as a delete, built into the
 * scratch buffer (the batch buffer is left as it was), then read back.
 */
static int
nft_item_qelems(struct fw_nft *n, const struct fw_item *it, size_t i, struct nft_buf *scratch,
    struct nft_qlist *q)
{
	struct fw_change c = { FW_DEL, *it };
	struct nft_qparse p = { q, NULL, i, q->n, 0 };
	struct nft_buf saved = n->buf;
	int rc;

	scratch->len = 0;
	n->buf = *scratch;
	rc = nft_emit_change(n, &c);
	*scratch = n->buf;
	n->buf = saved;
	if (rc == -1) {
		errno = ENOMEM;
		return -1;
	}
	if (nft_qparse_msgs(scratch, &p) == -1) {
		q->n = p.first;
		errno = p.err ? p.err : EINVAL;
		return -1;
	}
	return 0;
}

/* ---- reading elements ---- */

/* The query socket (opened at first use, answers within a second); 0 or -1. */
static int
nft_query_open(struct fw_nft *n)
{
	struct timeval tv = { 1, 0 };
	int bufsz = NFT_QUERY_RCVBUF, fd;
	socklen_t len;

	if (n->query != NULL)
		return 0;
	if ((n->query = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		return -1;
	if (mnl_socket_bind(n->query, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(n->query);
		n->query = NULL;
		return -1;
	}
	fd = mnl_socket_get_fd(n->query);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/*
	 * A batch's answers, a message each, wait here until read: a batch is
	 * as many as it holds (the kernel drops answers that do not fit).
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	len = sizeof(bufsz);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, &len) == -1)
		bufsz = 0;
	n->qbatch = (size_t)bufsz / 2 / NFT_ANSWER_SIZE;
	if (n->qbatch > NFT_GET_BATCH)
		n->qbatch = NFT_GET_BATCH;
	if (n->qbatch == 0)
		n->qbatch = 1;
	return 0;
}

/* A message of an answer, to the request's reader; 0 to go on, or -1 with errno. */
typedef int nft_msg_cb(const struct nlmsghdr *, void *arg);

/*
 * Send the request req on the query socket and hand each message of its
 * answer to cb until the kernel's acknowledgement (or a dump's end); buf
 * (size bytes) takes the answer. 0, or -1 with errno: the kernel's error
 * (ENOENT: no such element, set or table), cb's, or EAGAIN (no answer in
 * the socket's timeout).
 */
static int
nft_request(struct fw_nft *n, const struct nlmsghdr *req, char *buf, size_t size,
    nft_msg_cb *cb, void *arg)
{
	const struct nlmsghdr *nlh;
	const struct nlmsgerr *e;
	uint32_t seq = req->nlmsg_seq;
	ssize_t len;
	int left;

	if (mnl_socket_sendto(n->query, req, req->nlmsg_len) < 0)
		return -1;
	for (;;) {
		if ((len = mnl_socket_recvfrom(n->query, buf, size)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		left = (int)len;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		    nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != seq)
				continue;	/* the answer to an earlier, timed out request */
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				e = mnl_nlmsg_get_payload(nlh);
				errno = -e->error;
				return e->error == 0 ? 0 : -1;
			}
			if (cb(nlh, arg) == -1)
				return -1;
		}
	}
}

/* What the kernel said of one element. */
struct nft_got {
	const uint8_t	*key, *key_end;
	uint32_t	 klen;
	uint64_t	 timeout, left;
	uint64_t	 pkts, bytes;
};

typedef void nft_got_cb(void *arg, const struct nft_got *);

static int
nft_got_expr(struct nftnl_expr *x, void *arg)
{
	struct nft_got *g = arg;
	const char *name = nftnl_expr_get_str(x, NFTNL_EXPR_NAME);

	if (name != NULL && strcmp(name, "counter") == 0) {
		g->pkts += nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS);
		g->bytes += nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

struct nft_got_ctx {
	nft_got_cb	*cb;
	void		*arg;
};

static int
nft_got_elem(struct nftnl_set_elem *se, void *arg)
{
	struct nft_got_ctx *c = arg;
	struct nft_got g;
	uint32_t len = 0, elen = 0;

	memset(&g, 0, sizeof(g));
	if ((g.key = nftnl_set_elem_get(se, NFTNL_SET_ELEM_KEY, &len)) == NULL ||
	    len > NFT_KEY_MAX)
		return 0;
	g.klen = len;
	g.key_end = g.key;
	if (nftnl_set_elem_is_set(se, NFTNL_SET_ELEM_KEY_END) &&
	    ((g.key_end = nftnl_set_elem_get(se, NFTNL_SET_ELEM_KEY_END, &elen)) == NULL ||
	    elen != len))
		return 0;
	if (nftnl_set_elem_is_set(se, NFTNL_SET_ELEM_TIMEOUT))
		g.timeout = nftnl_set_elem_get_u64(se, NFTNL_SET_ELEM_TIMEOUT);
	if (nftnl_set_elem_is_set(se, NFTNL_SET_ELEM_EXPIRATION))
		g.left = nftnl_set_elem_get_u64(se, NFTNL_SET_ELEM_EXPIRATION);
	nftnl_set_elem_expr_foreach(se, nft_got_expr, &g);
	c->cb(c->arg, &g);
	return 0;
}

/* A message of a GETSETELEM answer: each element in it to the context's cb. */
static int
nft_got_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_set *s;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
		return 0;
	if ((s = nftnl_set_alloc()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0)
		nftnl_set_elem_foreach(s, nft_got_elem, arg);
	nftnl_set_free(s);
	return 0;
}

/*
 * One GETSETELEM asking for e[0..cnt) (at most n->qbatch, all of one
 * set): the kernel answers each element with a message of its own, in
 * order, each to cb, and stops at the first it does not hold (ENOENT).
 * 0, or -1 with errno.
 */
static int
nft_get(struct fw_nft *n, const struct nft_qelem *e, size_t cnt, nft_got_cb *cb, void *arg)
{
	struct nft_got_ctx c = { cb, arg };
	const struct nft_set_def *set = e[0].set;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *se;
	struct nft_elem el;
	struct nlmsghdr *nlh;
	char *buf = malloc(NFT_GET_BUF);
	size_t i;
	int rc;

	for (i = 0; s != NULL && i < cnt; i++) {
		memset(&el, 0, sizeof(el));
		memcpy(el.key, e[i].key, e[i].klen);
		memcpy(el.key_end, e[i].key_end, e[i].klen);
		el.key_len = e[i].klen;
		el.has_end = (set->flags & NFT_SET_INTERVAL) != 0;
		if ((se = nft_elem_alloc(&el, 0, 0, 0)) == NULL)
			break;
		nftnl_set_elem_add(s, se);
	}
	if (s == NULL || buf == NULL || i < cnt) {
		nftnl_set_free(s);
		free(buf);
		errno = ENOMEM;
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->be->cfg->nft_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set->name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)nft_set_family(set),
	    NLM_F_ACK, n->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	rc = nft_request(n, nlh, buf, NFT_GET_BUF, nft_got_msg, &c);
	free(buf);
	return rc;
}

static int
nft_no_msg(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return 0;
}

/* 1 if the kernel has the set (GETSET), 0 if not; -1 with errno. */
static int
nft_set_held(struct fw_nft *n, const struct nft_set_def *set)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	char buf[MNL_SOCKET_BUFFER_SIZE];

	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->be->cfg->nft_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set->name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, (uint16_t)nft_set_family(set),
	    NLM_F_ACK, n->seq++);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (nft_request(n, nlh, buf, sizeof(buf), nft_no_msg, NULL) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* ---- matching answers to elements ---- */

static int
nft_qelem_cmp(const struct nft_qelem *a, const struct nft_set_def *set, const uint8_t *key,
    const uint8_t *key_end, uint32_t klen)
{
	int c;

	if (a->set != set)
		return a->set < set ? -1 : 1;
	if (a->klen != klen)
		return a->klen < klen ? -1 : 1;
	if ((c = memcmp(a->key, key, klen)) != 0)
		return c;
	return memcmp(a->key_end, key_end, klen);
}

static int
nft_qelem_sort(const void *x, const void *y)
{
	const struct nft_qelem *a = x, *b = y;

	return nft_qelem_cmp(a, b->set, b->key, b->key_end, b->klen);
}

static void
nft_qelem_take(struct nft_qelem *e, const struct nft_got *g)
{
	e->found = 1;
	e->timeout = g->timeout;
	e->left = g->left;
	e->pkts = g->pkts;
	e->bytes = g->bytes;
}

/* One element's own answer: it, if the kernel sent that very element. */
static void
nft_got_one(void *arg, const struct nft_got *g)
{
	struct nft_qelem *e = arg;

	if (nft_qelem_cmp(e, e->set, g->key, g->key_end, g->klen) == 0)
		nft_qelem_take(e, g);
}

struct nft_batch_ctx {
	struct nft_qelem	*e;		/* the elements asked for, in order */
	size_t			 n;
	size_t			 next;		/* answers so far; e[next]: the next */
};

/* An answer to a batch: the next element's (the kernel answers in order). */
static void
nft_got_next(void *arg, const struct nft_got *g)
{
	struct nft_batch_ctx *b = arg;

	if (b->next < b->n)
		nft_got_one(&b->e[b->next++], g);
}

/*
 * Every element, n->qbatch to a request (a set's together: they are
 * sorted): linear in the elements asked for, whatever else the sets hold.
 * (Not a dump of each set: the kernel walks a set from its start again for
 * each message of a dump, seconds at 100,000 elements, and a list of ten
 * forwards would pay for every mapping.) An element the kernel does not
 * hold ends its request; the next request goes on after it, or, when the
 * set itself is not there, after the set.
 */
static int
nft_get_batches(struct fw_nft *n, struct nft_qlist *q)
{
	struct nft_batch_ctx b;
	size_t i = 0, j;
	int held;

	qsort(q->e, q->n, sizeof(*q->e), nft_qelem_sort);
	while (i < q->n) {
		for (j = i + 1; j < q->n && j - i < n->qbatch && q->e[j].set == q->e[i].set; j++)
			;
		b.e = &q->e[i];
		b.n = j - i;
		b.next = 0;
		if (nft_get(n, b.e, b.n, nft_got_next, &b) == 0) {
			i = j;
			continue;
		}
		if (errno != ENOENT)
			return -1;
		i += b.next + 1;	/* q->e[i + next] is not held */
		if (b.next > 0 || (held = nft_set_held(n, b.e[0].set)) == 1)
			continue;
		if (held == -1)
			return -1;
		while (i < q->n && q->e[i].set == b.e[0].set)	/* no such set: none held */
			i++;
	}
	return 0;
}

/* Each element on its own. */
static int
nft_get_each(struct fw_nft *n, struct nft_qlist *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (nft_get(n, &q->e[i], 1, nft_got_one, &q->e[i]) == -1 && errno != ENOENT)
			return -1;
	return 0;
}

/* The elements' answers folded into their items'. */
static void
nft_qfold(const struct nft_qlist *q, struct fw_elem_info *out)
{
	const struct nft_qelem *e;
	struct fw_elem_info *o;
	size_t i;

	for (i = 0; i < q->n; i++) {
		e = &q->e[i];
		o = &out[e->item];
		o->elems++;
		if (e->set->counter)
			o->counted = 1;
		if (!e->found)
			continue;
		o->found++;
		if (e->main) {
			o->timeout_ms = e->timeout;
			o->left_ms = e->left;
		}
		if (e->set->counter) {
			o->pkts += e->pkts;
			o->bytes += e->bytes;
		}
	}
}

/*
 * What the kernel holds for items[0..cnt): each one's elements read one by
 * one (dump 0), or every set they use dumped once (dump 1).
 */
int
fw_nft_query(struct fw_backend *be, const struct fw_item *items, size_t cnt, int dump,
    struct fw_elem_info *out)
{
	struct fw_nft *n = be->priv;
	struct nft_buf scratch = { NULL, 0, 0 };
	struct nft_qlist q = { NULL, 0, 0 };
	size_t i;
	int rc = 0, err = 0;

	memset(out, 0, cnt * sizeof(*out));
	if (nft_query_open(n) == -1)
		return -1;
	for (i = 0; i < cnt && rc == 0; i++)
		rc = nft_item_qelems(n, &items[i], i, &scratch, &q);
	if (rc == 0)
		rc = dump ? nft_get_batches(n, &q) : nft_get_each(n, &q);
	err = errno;
	if (rc == 0)
		nft_qfold(&q, out);
	free(scratch.p);
	free(q.e);
	errno = err;
	return rc;
}

/* A pinhole's counters: the sum of its elements'; ENOENT if one is missing. */
int
fw_nft_pin_counters(struct fw_backend *be, const struct fw_item *it, uint64_t *pkts,
    uint64_t *bytes)
{
	struct fw_elem_info info;

	if (it->kind != MT_KIND_PINHOLE || !nft_pin_valid(it)) {
		errno = EINVAL;
		return -1;
	}
	if (fw_nft_query(be, it, 1, 0, &info) == -1)
		return -1;
	if (info.elems == 0 || info.found < info.elems) {
		errno = ENOENT;
		return -1;
	}
	*pkts = info.pkts;
	*bytes = info.bytes;
	return 0;
}

/* ---- the inbound counter ---- */

/* A message of the GETOBJ answer: the counter's packets and bytes into v. */
static int
nft_got_obj(const struct nlmsghdr *nlh, void *arg)
{
	uint64_t *v = arg;
	struct nftnl_obj *o;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWOBJ)
		return 0;
	if ((o = nftnl_obj_alloc()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 && nftnl_obj_is_set(o, NFTNL_OBJ_CTR_PKTS) &&
	    nftnl_obj_is_set(o, NFTNL_OBJ_CTR_BYTES)) {
		v[0] = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
		v[1] = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
		v[2] = 1;
	}
	nftnl_obj_free(o);
	return 0;
}

/*
 * The NFT_INBOUND counter (GETOBJ): what every mapping let in from the WAN
 * since the table's counter began (a rebuild starts the new one where the
 * old one was: n->inb_*, the last read). 0, or -1 with errno (ENOENT: no
 * table).
 */
int
fw_nft_inbound(struct fw_backend *be, uint64_t *pkts, uint64_t *bytes)
{
	struct fw_nft *n = be->priv;
	struct nftnl_obj *o;
	struct nlmsghdr *nlh;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint64_t v[3] = { 0, 0, 0 };	/* packets, bytes, whether the answer had them */

	if (nft_query_open(n) == -1)
		return -1;
	if ((o = nftnl_obj_alloc()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, be->cfg->nft_table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, NFT_INBOUND);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFT_FAMILY, NLM_F_ACK, n->seq++);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	if (nft_request(n, nlh, buf, sizeof(buf), nft_got_obj, v) == -1)
		return -1;
	if (!v[2]) {
		errno = ENOENT;
		return -1;
	}
	n->inb_pkts = *pkts = v[0];
	n->inb_bytes = *bytes = v[1];
	return 0;
}
