/*
 * test_authority.c - who may change an entry, as the table decides it
 * (mtable_authorize): secure mode, the owner token, another source's entry,
 * and the daemon (no actor), which may change anything. A refusal changes
 * nothing: no entry, no lease, no firewall change, no notification.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/fw.h"
#include "mtable.h"
#include "testutil.h"
#include "util.h"

#define A	"192.0.2.10"
#define B	"192.0.2.11"
#define A6	"2001:db8:1::10"
#define B6	"2001:db8:1::11"

static struct fake_clock fc = { 1000000 };
static unsigned notified;

static void
count_notify(void *arg, enum mt_change what, const struct mt_entry *e)
{
	(void)arg;
	(void)what;
	(void)e;
	notified++;
}

static struct mtable *
new_table(struct fw **fwp)
{
	struct mtable *mt = tu_mem_table(&fc, fwp);

	mtable_set_notify(mt, count_notify, NULL);
	return mt;
}

static struct in6_addr
addr(const char *s)
{
	struct in6_addr a;

	CHECK_EQ(util_parse_addr(s, &a), 0);
	return a;
}

static struct mt_actor
actor(int source, const char *client, const char *owner, int secure)
{
	struct mt_actor a;

	memset(&a, 0, sizeof(a));
	a.source = (uint8_t)source;
	a.client = addr(client);
	a.owner = owner;
	a.secure = secure;
	return a;
}

static struct mt_request
map_req(const struct mt_actor *a, int source, uint16_t ext, const char *ip, const char *owner)
{
	struct mt_request q;

	memset(&q, 0, sizeof(q));
	q.actor = a;
	q.proto = MT_TCP;
	q.source = (uint8_t)source;
	q.ext_port = ext;
	q.int_addr = addr(ip);
	q.lease_s = 600;
	q.owner = owner;
	return q;
}

static struct mt_pin_req
pin_req(const struct mt_actor *a, int source, const char *ip, const char *owner)
{
	struct mt_pin_req q;

	memset(&q, 0, sizeof(q));
	q.actor = a;
	q.proto = MT_TCP;
	q.source = (uint8_t)source;
	q.int_addr = addr(ip);
	q.int_port = 8000;
	q.lease_s = 600;
	q.owner = owner;
	return q;
}

static struct mt_peer_req
peer_req(const struct mt_actor *a, const char *ip, const char *owner)
{
	struct mt_peer_req r;

	memset(&r, 0, sizeof(r));
	r.actor = a;
	r.proto = MT_TCP;
	r.source = MT_SRC_PCP;
	r.int_addr = addr(ip);
	r.peer_addr = addr("198.51.100.100");
	r.ext_addr = addr("198.51.100.1");
	r.int_port = 40000;
	r.peer_port = 7000;
	r.lease_s = 600;
	r.owner = owner;
	return r;
}

/* Nothing happened since the last commit: no firewall change queued, no notification. */
static int
untouched(struct mtable *mt, struct fw *fw)
{
	int ok = fw_pending(fw) == 0 && notified == 0;

	mtable_commit(mt, NULL, NULL);
	notified = 0;
	return ok;
}

/* Secure mode: an actor acts only for its own address, and never for every host. */
static void
test_secure(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_actor sec = actor(MT_SRC_UPNP, A, NULL, 1), open = actor(MT_SRC_UPNP, A, NULL, 0);
	struct mt_request q;
	struct mt_pin_req pq;
	struct mt_peer_req pr;
	struct mt_entry *e = NULL, *b = NULL;
	struct in6_addr ia = addr(A), ib = addr(B);

	CHECK_EQ(mtable_authorize(mt, &sec, &ia, NULL), MT_DENY_NONE);
	CHECK_EQ(mtable_authorize(mt, &sec, &ib, NULL), MT_DENY_HOST);
	CHECK_EQ(mtable_authorize(mt, &sec, NULL, NULL), MT_DENY_EVERY_HOST);
	CHECK_EQ(mtable_authorize(mt, &open, &ib, NULL), MT_DENY_NONE);
	CHECK_EQ(mtable_authorize(mt, &open, NULL, NULL), MT_DENY_NONE);
	/* a mapping for another host: refused, nothing made */
	q = map_req(&sec, MT_SRC_UPNP, 9000, B, NULL);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_count(mt), 0);
	CHECK_EQ(mtable_client_count(mt, &ib), 0);
	CHECK(untouched(mt, fw));
	q = map_req(&sec, MT_SRC_UPNP, 9000, A, NULL);
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	q = map_req(&open, MT_SRC_UPNP, 9001, B, NULL);
	CHECK_EQ(mtable_add(mt, &q, &b, NULL), MT_OK);
	mtable_commit(mt, NULL, NULL);
	notified = 0;
	/* another host's mapping: not to renew or delete */
	CHECK_EQ(mtable_authorize(mt, &sec, NULL, b), MT_DENY_HOST);
	fc.now += 100000;
	CHECK_EQ(mtable_renew_by(mt, &sec, b, 3600), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_remaining(mt, b), 500);
	CHECK_EQ(mtable_del_by(mt, &sec, b), MT_ERR_NOT_AUTHORIZED);
	CHECK(mtable_lookup_ext(mt, MT_TCP, 9001) == b);
	CHECK(untouched(mt, fw));
	/* one's own, and without secure mode anyone's of the source */
	CHECK_EQ(mtable_renew_by(mt, &sec, e, 3600), MT_OK);
	CHECK_EQ(mtable_remaining(mt, e), 3600);
	CHECK_EQ(mtable_del_by(mt, &open, b), MT_OK);
	CHECK_EQ(mtable_del_by(mt, &sec, e), MT_OK);
	CHECK_EQ(mtable_count(mt), 0);
	mtable_commit(mt, NULL, NULL);
	notified = 0;
	/* pinholes and pins alike */
	sec.client = addr(A6);
	pq = pin_req(&sec, MT_SRC_UPNP, B6, "");
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &e, NULL), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_pinhole_count(mt), 0);
	CHECK(untouched(mt, fw));
	pq = pin_req(&sec, MT_SRC_UPNP, A6, "");
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &e, NULL), MT_OK);
	sec.source = MT_SRC_PCP;
	sec.client = addr(A);
	pr = peer_req(&sec, B, "n");
	CHECK_EQ(mtable_peer(mt, &pr, &e), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_peer_count(mt), 0);
	mtable_free(mt);
	fw_free(fw);
}

/* The owner token: an actor holding one changes only the entries it owns. */
static void
test_owner(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_actor n1 = actor(MT_SRC_PCP, A, "n1", 0), n2 = actor(MT_SRC_PCP, A, "n2", 0);
	struct mt_filter bad;
	struct mt_request q;
	struct mt_pin_req pq;
	struct mt_peer_req pr;
	struct mt_entry *e = NULL, *got = NULL;
	const struct mt_entry *held = NULL;

	q = map_req(&n1, MT_SRC_PCP, 9000, A, "n1");
	CHECK_EQ(mtable_add(mt, &q, &e, NULL), MT_OK);
	mtable_commit(mt, NULL, NULL);
	notified = 0;
	CHECK_EQ(mtable_authorize(mt, &n1, NULL, e), MT_DENY_NONE);
	CHECK_EQ(mtable_authorize(mt, &n2, NULL, e), MT_DENY_OWNER);
	/* another nonce: no refresh (the owner stays), no renewal, no delete */
	fc.now += 100000;
	q = map_req(&n2, MT_SRC_PCP, 9000, A, "n2");
	CHECK_EQ(mtable_add(mt, &q, &got, NULL), MT_ERR_NOT_AUTHORIZED);
	CHECK_STR(e->owner, "n1");
	CHECK_EQ(mtable_remaining(mt, e), 500);
	CHECK_EQ(mtable_renew_by(mt, &n2, e, 3600), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_del_by(mt, &n2, e), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_count(mt), 1);
	CHECK(untouched(mt, fw));
	/* the holder's */
	q = map_req(&n1, MT_SRC_PCP, 9000, A, "n1");
	CHECK_EQ(mtable_add(mt, &q, &got, NULL), MT_OK);
	CHECK(got == e);
	CHECK_EQ(mtable_remaining(mt, e), 600);
	CHECK_EQ(mtable_del_by(mt, &n1, e), MT_OK);
	CHECK_EQ(mtable_count(mt), 0);

	/* a pinhole's key: refused before the request is looked at (this one is malformed) */
	pq = pin_req(&n1, MT_SRC_PCP, A6, "n1");
	n1.client = n2.client = addr(A6);
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &e, NULL), MT_OK);
	mtable_commit(mt, NULL, NULL);
	notified = 0;
	pq = pin_req(&n2, MT_SRC_PCP, A6, "n2");
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &got, &held), MT_ERR_NOT_AUTHORIZED);
	memset(&bad, 0, sizeof(bad));
	bad.plen = 129;
	pq.filters = &bad;
	pq.nfilters = 1;
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &got, &held), MT_ERR_NOT_AUTHORIZED);
	pq.actor = &n1;
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &got, &held), MT_ERR_INVAL);
	CHECK_EQ(mtable_del_by(mt, &n2, e), MT_ERR_NOT_AUTHORIZED);
	CHECK_STR(e->owner, "n1");
	CHECK(untouched(mt, fw));
	/* the daemon's request for another owner there is the table's conflict, as ever */
	pq = pin_req(NULL, MT_SRC_PCP, A6, "n2");
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &got, &held), MT_ERR_CONFLICT);
	CHECK(held == e);

	/* a PEER pin: another nonce's flow, before any port is looked for */
	n1.client = n2.client = addr(A);
	pr = peer_req(&n1, A, "n1");
	CHECK_EQ(mtable_peer(mt, &pr, &e), MT_OK);
	mtable_commit(mt, NULL, NULL);
	notified = 0;
	pr = peer_req(&n2, A, "n2");
	pr.ext_port = 41000;
	CHECK_EQ(mtable_peer(mt, &pr, &got), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(e->ext_port, 40000);
	CHECK_STR(e->owner, "n1");
	CHECK_EQ(mtable_del_by(mt, &n2, e), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_peer_count(mt), 1);
	CHECK(untouched(mt, fw));
	CHECK_EQ(mtable_del_by(mt, &n1, e), MT_OK);
	CHECK_EQ(mtable_peer_count(mt), 0);
	mtable_free(mt);
	fw_free(fw);
}

/* A front end changes its own source's entries only; a port held by another is a conflict. */
static void
test_source(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_actor up = actor(MT_SRC_UPNP, A, NULL, 0), nat = actor(MT_SRC_NATPMP, A, NULL, 1);
	struct mt_request q;
	struct mt_pin_req pq;
	struct mt_entry *pcp = NULL, *own = NULL, *other = NULL, *e = NULL;
	const struct mt_entry *held = NULL;

	q = map_req(NULL, MT_SRC_PCP, 9000, A, "n1");
	CHECK_EQ(mtable_add(mt, &q, &pcp, NULL), MT_OK);
	mtable_commit(mt, NULL, NULL);
	notified = 0;
	CHECK_EQ(mtable_authorize(mt, &up, NULL, pcp), MT_DENY_SOURCE);
	CHECK_EQ(mtable_del_by(mt, &up, pcp), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_renew_by(mt, &up, pcp, 60), MT_ERR_NOT_AUTHORIZED);
	/* asking for the port is the table's conflict rule, which names the holder */
	q = map_req(&up, MT_SRC_UPNP, 9000, A, NULL);
	CHECK_EQ(mtable_add(mt, &q, &e, &held), MT_ERR_CONFLICT);
	CHECK(held == pcp);
	CHECK(untouched(mt, fw));
	/* NAT-PMP: the sender's own address's NAT-PMP mappings */
	q = map_req(NULL, MT_SRC_NATPMP, 9001, A, NULL);
	CHECK_EQ(mtable_add(mt, &q, &own, NULL), MT_OK);
	q = map_req(NULL, MT_SRC_NATPMP, 9002, B, NULL);
	CHECK_EQ(mtable_add(mt, &q, &other, NULL), MT_OK);
	mtable_commit(mt, NULL, NULL);
	notified = 0;
	CHECK_EQ(mtable_authorize(mt, &nat, NULL, other), MT_DENY_HOST);
	CHECK_EQ(mtable_authorize(mt, &nat, NULL, pcp), MT_DENY_SOURCE);
	CHECK_EQ(mtable_del_by(mt, &nat, other), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_del_by(mt, &nat, pcp), MT_ERR_NOT_AUTHORIZED);
	CHECK(untouched(mt, fw));
	CHECK_EQ(mtable_del_by(mt, &nat, own), MT_OK);
	CHECK_EQ(mtable_count(mt), 2);
	/* a pinhole key held by another source */
	pq = pin_req(NULL, MT_SRC_PCP, A6, "n1");
	CHECK_EQ(mtable_pinhole_add(mt, &pq, &e, NULL), MT_OK);
	mtable_commit(mt, NULL, NULL);
	notified = 0;
	up.client = addr(A6);
	pq = pin_req(&up, MT_SRC_UPNP, A6, "");
	CHECK_EQ(mtable_pinhole_add(mt, &pq, NULL, &held), MT_ERR_NOT_AUTHORIZED);
	CHECK_EQ(mtable_authorize(mt, &up, NULL, e), MT_DENY_SOURCE);
	CHECK_EQ(e->source, MT_SRC_PCP);
	CHECK(untouched(mt, fw));
	mtable_free(mt);
	fw_free(fw);
}

/* No actor is the daemon (state, triggers, forwards, the control socket): anything goes. */
static void
test_daemon(void)
{
	struct fw *fw;
	struct mtable *mt = new_table(&fw);
	struct mt_request q;
	struct mt_entry *pcp = NULL, *fwd = NULL, *got = NULL;
	struct in6_addr ib = addr(B);

	q = map_req(NULL, MT_SRC_PCP, 9000, A, "n1");
	CHECK_EQ(mtable_add(mt, &q, &pcp, NULL), MT_OK);
	q = map_req(NULL, MT_SRC_STATIC, 9001, B, NULL);
	CHECK_EQ(mtable_add(mt, &q, &fwd, NULL), MT_OK);
	CHECK_EQ(mtable_authorize(mt, NULL, &ib, NULL), MT_DENY_NONE);
	CHECK_EQ(mtable_authorize(mt, NULL, NULL, NULL), MT_DENY_NONE);
	CHECK_EQ(mtable_authorize(mt, NULL, NULL, pcp), MT_DENY_NONE);
	/* another owner's refresh through the daemon: renewed, the owner becomes its */
	q = map_req(NULL, MT_SRC_PCP, 9000, A, "n2");
	CHECK_EQ(mtable_add(mt, &q, &got, NULL), MT_OK);
	CHECK(got == pcp);
	CHECK_STR(pcp->owner, "n2");
	CHECK_EQ(mtable_renew_by(mt, NULL, fwd, 60), MT_OK);
	CHECK_EQ(mtable_remaining(mt, fwd), 60);
	CHECK_EQ(mtable_del_by(mt, NULL, pcp), MT_OK);
	CHECK_EQ(mtable_del_by(mt, NULL, fwd), MT_OK);
	CHECK_EQ(mtable_count(mt), 0);
	/* the words for it */
	CHECK(strcmp(mt_strerror(MT_ERR_NOT_AUTHORIZED), "unknown error") != 0);
	CHECK_STR(mt_deny_str(MT_DENY_HOST), "secure mode: not the caller's address");
	CHECK(strcmp(mt_deny_str(MT_DENY_EVERY_HOST), "unknown denial") != 0);
	CHECK_STR(mt_deny_str((enum mt_deny)99), "unknown denial");
	mtable_free(mt);
	fw_free(fw);
}

int
main(void)
{
	test_secure();
	test_owner();
	test_source();
	test_daemon();
	return tu_done("test_authority");
}
