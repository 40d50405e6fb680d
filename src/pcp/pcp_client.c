/*
 * pcp_client.c - the upstream PCP client: MAP requests to one server, on the
 * daemon's loop.
 *
 * Every mapping has a phase and one place in a heap of what is due next
 * (parked ones wait at "never"): a request retransmitted as §8.1.1 says (RT =
 * (1 + RAND) * IRT, then (1 + RAND) * MIN(2 * RT, MRT), RAND in [-0.1, 0.1])
 * and given up after max_wait_ms; a grant renewed as §11.2.1 says (once in
 * 1/2..5/8 of its life, then 3/4..7/8, 7/8..15/16 ..., at least 4 s apart);
 * a refusal waits for the caller (or, with PCPC_F_RETRY, for the error's
 * lifetime); a dropped mapping is deleted (lifetime 0) until answered or
 * given up. Every send passes one rate (GCRA: at most `rate` a second, a
 * burst of as many), a send put off keeps its slot.
 *
 * The sockets are pcpc_sock.c's. The server is one (its addresses tried in
 * turn, RFC 7488): a request nobody answered marks it lost (or, if it never
 * answered, absent): every mapping is parked and an ANNOUNCE request, which leaves no state upstream
 * (§14.1.1), asks again with back-off up to PCPC_LOST_MAX_MS, moving to the
 * server's next address each time; any answer brings it back and the parked
 * mappings are asked for again. The epoch of every answer taken is checked
 * as §8.5 says; one gone backwards or out of step with our clock means the
 * server lost its state, and every mapping is asked for again (after an
 * unsolicited ANNOUNCE, which nothing authenticates, spread over 0-5 s as
 * §14.1.3 says and at most once per PCPC_RESTART_HOLD_MS).
 *
 * Answers are matched by nonce, then protocol and internal port; a grant
 * must carry a lifetime, a port and a unicast IPv4 address. The caller hears
 * of its mappings and of the server through queued callbacks, run when the
 * client is done with its own work, so a callback may drop any mapping.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "heap.h"
#include "hmap.h"
#include "log.h"
#include "pcp/pcp_client.h"
#include "pcp/pcp_wire.h"
#include "pcp/pcpc_sock.h"
#include "util.h"

#define PCPC_NEVER		UINT64_MAX
#define PCPC_RENEW_GAP_MS	4000	/* §11.2.1: renewals at least 4 s apart */
#define PCPC_RETRY_MIN_S	30	/* a refusal (PCPC_F_RETRY) is asked again after 30 s .. */
#define PCPC_RETRY_MAX_S	1800	/* .. to 30 min, as its lifetime says */

enum pcpc_phase {
	PH_REQUEST,	/* asking: the first time, again after a refusal or a restart */
	PH_GRANTED,	/* held: renewing */
	PH_REFUSED,	/* refused: for the caller (or the refusal's lifetime) to say */
	PH_PARKED,	/* lost: until the server answers again */
	PH_DELETE,	/* dropped by the caller: deleted upstream */
};

/* A transmission sequence (§8.1.1). */
struct pcpc_seq {
	uint64_t	 first_ms;	/* the first transmission (ntx > 0) */
	uint64_t	 next_ms;	/* the next one */
	uint64_t	 rt_ms;		/* the timeout running */
	unsigned	 ntx;
};

struct pcpc_map {
	struct pcpc_map		*next, *prev;		/* pcpc.maps */
	struct pcpc_map		*qnext, **qprevp;	/* pcpc.qhead: a callback to run */
	int			 queued;
	struct hnode		 by_nonce, by_port;
	struct heap_node	 due;
	int			 reserved;	/* its due time is a send slot the rate gave */
	pcpc_map_fn		*cb;		/* NULL once dropped */
	void			*arg;
	struct pcpc_req		 req;
	uint8_t			 nonce[PCP_WIRE_NONCE_LEN];
	enum pcpc_phase		 phase;
	struct pcpc_info	 info;
	struct pcpc_seq		 seq;
	int			 sent;		/* a request left with its nonce */
	int			 held;		/* granted: asked again for the same port */
	struct in6_addr		 last_addr;	/* what was granted last */
	uint16_t		 last_port;
	uint64_t		 granted_ms;
	uint64_t		 last_tx_ms;
	unsigned		 renewals;	/* sent since the grant */
	int			 owed;		/* PH_DELETE, not sent: the server is away */
};

/* The ANNOUNCE request that asks whether the server is there. */
struct pcpc_probe {
	struct heap_node	 due;
	int			 reserved;
	int			 active;
	int			 backoff;	/* lost: no give-up, MRT PCPC_LOST_MAX_MS */
	struct pcpc_seq		 seq;
};

struct pcpc {
	struct event_base	*base;
	struct pcpc_params	 p;
	struct pg_clock		 clock;
	struct pcpc_sock	*sock;		/* NULL with a send hook */
	struct event		*timer;
	struct heap		 due;
	struct hmap		 by_nonce, by_port;
	struct pcpc_map		*maps;
	size_t			 nmaps;
	struct pcpc_map		*qhead, **qtail;
	unsigned		 events;	/* 1 << enum pcpc_event, to tell */
	int			 flushing;
	enum pcpc_srv_state	 state;
	size_t			 cur;		/* p.server[cur] is asked */
	int			 has_epoch;
	uint32_t		 epoch;		/* the server's, last seen .. */
	uint64_t		 epoch_ms;	/* .. at this time of ours */
	int			 has_ext;
	struct in6_addr		 ext;
	uint64_t		 tat_ms;	/* the rate: theoretical arrival time */
	uint64_t		 arrivals;	/* heap keys' tie-breaker */
	uint64_t		 restart_ms;	/* the last restart an ANNOUNCE made */
	struct pcpc_probe	 probe;
	struct log_limit	 log_limit;
	struct pcpc_stats	 stats;
};

static uint64_t
pcpc_now(const struct pcpc *c)
{
	return pg_clock_now(&c->clock);
}

static void
pcpc_debug(struct pcpc *c, const char *what)
{
	if (log_limit_pass(&c->log_limit, util_mono_ms()))
		log_debug("pcpc: %s", what);
}

static void
pcpc_drop(struct pcpc *c, const char *why)
{
	c->stats.dropped++;
	pcpc_debug(c, why != NULL ? why : "answer dropped");
}

/* Random octets: the caller's source (tests), else getrandom; -1 if there are none. */
static int
pcpc_random(struct pcpc *c, void *buf, size_t len)
{
	if (c->p.random != NULL) {
		c->p.random(c->p.random_arg, buf, len);
		return 0;
	}
	return getrandom(buf, len, GRND_NONBLOCK) == (ssize_t)len ? 0 : -1;
}

/* A fraction in [0, 1) as a 32-bit numerator (the middle when no random octets came). */
static uint32_t
pcpc_rand32(struct pcpc *c)
{
	uint32_t r = 0x80000000u;

	(void)pcpc_random(c, &r, sizeof(r));
	return r;
}

/* lo + (hi - lo) * a random fraction */
static uint64_t
pcpc_between(struct pcpc *c, uint64_t lo, uint64_t hi)
{
	return lo + (hi - lo) * pcpc_rand32(c) / ((uint64_t)UINT32_MAX + 1);
}

/* §8.1.1: (1 + RAND) * base, RAND in [-0.1, +0.1]. */
static uint64_t
pcpc_jitter(struct pcpc *c, uint64_t base)
{
	return base * (900 + (uint64_t)201 * pcpc_rand32(c) / ((uint64_t)UINT32_MAX + 1)) / 1000;
}

static void
pcpc_connect(struct pcpc *c)
{
	if (c->sock != NULL)
		(void)pcpc_sock_connect(c->sock, &c->p.server[c->cur], c->p.server_port);
}

/* A request out: to the test's hook, or the socket. */
static void
pcpc_send(struct pcpc *c, const uint8_t *buf, size_t len)
{
	c->stats.sent++;
	if (c->p.send != NULL)
		c->p.send(c->p.send_arg, buf, len);
	else if (pcpc_sock_send(c->sock, buf, len) == -1)
		pcpc_debug(c, strerror(errno));
}

/* ---- what is due when ---- */

/*
 * A heap key: the time in its high bits, an arrival count in the low ones,
 * so that what is due at the same millisecond goes in the order it came.
 */
#define KEY_SHIFT	12
#define KEY_MS(k)	((k) == PCPC_NEVER ? PCPC_NEVER : (k) >> KEY_SHIFT)

static void
pcpc_due_at(struct pcpc *c, struct heap_node *n, uint64_t when)
{
	uint64_t key = when == PCPC_NEVER ? PCPC_NEVER :
	    when << KEY_SHIFT | (c->arrivals++ & ((1u << KEY_SHIFT) - 1));

	/* every node stays in the heap (at "never" when idle): it never grows after an add */
	heap_remove(&c->due, n);
	(void)heap_push(&c->due, n, key);
}

static void
map_sched(struct pcpc *c, struct pcpc_map *m, uint64_t when)
{
	m->reserved = 0;
	pcpc_due_at(c, &m->due, when);
}

static void
pcpc_arm(struct pcpc *c)
{
	uint64_t next = KEY_MS(heap_top_key(&c->due)), now;
	struct timeval tv;

	if (c->timer == NULL)
		return;
	if (heap_top(&c->due) == NULL || next == PCPC_NEVER) {
		evtimer_del(c->timer);
		return;
	}
	now = pcpc_now(c);
	next = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(next / 1000);
	tv.tv_usec = (suseconds_t)(next % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

/*
 * The rate: 1 if a send may go now; else the node is given the next slot
 * (reserved: it goes then without asking again) and 0.
 */
static int
pcpc_pace(struct pcpc *c, struct heap_node *n, int *reserved, uint64_t now)
{
	uint64_t iv = 1000 / c->p.rate, tol;

	if (*reserved) {
		*reserved = 0;
		return 1;
	}
	if (iv == 0)
		iv = 1;
	tol = iv * (c->p.rate - 1);
	if (c->tat_ms < now)
		c->tat_ms = now;
	if (c->tat_ms > now + tol) {
		c->stats.paced++;
		pcpc_due_at(c, n, c->tat_ms - tol);
		*reserved = 1;
		c->tat_ms += iv;
		return 0;
	}
	c->tat_ms += iv;
	return 1;
}

static void
seq_reset(struct pcpc_seq *s)
{
	memset(s, 0, sizeof(*s));
}

/* A transmission went: the next one per §8.1.1, the timeout at most mrt (before jitter). */
static void
seq_sent(struct pcpc *c, struct pcpc_seq *s, uint64_t now, uint64_t mrt)
{
	if (s->ntx++ == 0) {
		s->first_ms = now;
		s->rt_ms = pcpc_jitter(c, PCPC_IRT_MS);
	} else
		s->rt_ms = pcpc_jitter(c, 2 * s->rt_ms < mrt ? 2 * s->rt_ms : mrt);
	s->next_ms = now + s->rt_ms;
}

/* 1 when a bounded sequence has run out of time. */
static int
seq_over(const struct pcpc *c, const struct pcpc_seq *s, uint64_t now)
{
	return s->ntx > 0 && now >= s->first_ms + c->p.max_wait_ms;
}

/* The next thing a bounded sequence does: send again, or give up. */
static uint64_t
seq_due(const struct pcpc *c, const struct pcpc_seq *s)
{
	uint64_t end = s->first_ms + c->p.max_wait_ms;

	return s->next_ms < end ? s->next_ms : end;
}

/* ---- telling the caller ---- */

static void
pcpc_post(struct pcpc *c, enum pcpc_event ev)
{
	c->events |= 1u << ev;
}

static void
q_remove(struct pcpc *c, struct pcpc_map *m)
{
	if (!m->queued)
		return;
	if ((*m->qprevp = m->qnext) != NULL)
		m->qnext->qprevp = m->qprevp;
	else
		c->qtail = m->qprevp;
	m->queued = 0;
}

static void
map_notify(struct pcpc *c, struct pcpc_map *m, unsigned changed)
{
	m->info.changed |= changed;
	if (m->cb == NULL || m->queued)
		return;
	m->queued = 1;
	m->qnext = NULL;
	m->qprevp = c->qtail;
	*c->qtail = m;
	c->qtail = &m->qnext;
}

static void
map_set_state(struct pcpc *c, struct pcpc_map *m, enum pcpc_state st)
{
	if (m->info.state == st)
		return;
	m->info.state = st;
	map_notify(c, m, PCPC_CHG_STATE);
}

/* Run the callbacks queued: the server's events, then the mappings' (each may drop any). */
static void
pcpc_flush(struct pcpc *c)
{
	struct pcpc_info info;
	struct pcpc_map *m;
	unsigned ev;
	size_t n;

	if (c->flushing)
		return;
	c->flushing = 1;
	for (n = 4 * (c->nmaps + 8); n > 0; n--) {
		if (c->events != 0) {
			ev = (unsigned)__builtin_ctz(c->events);
			c->events &= ~(1u << ev);
			if (c->p.event != NULL)
				c->p.event(c->p.event_arg, c, (enum pcpc_event)ev);
		} else if ((m = c->qhead) != NULL) {
			q_remove(c, m);
			info = m->info;
			m->info.changed = 0;
			m->cb(m->arg, m, &info);
		} else
			break;
	}
	c->flushing = 0;
}

/* ---- mappings: the index, the life cycle ---- */

static uint32_t
nonce_hash(const struct pcpc *c, const uint8_t *nonce)
{
	return hmap_hash(&c->by_nonce, nonce, PCP_WIRE_NONCE_LEN);
}

static uint32_t
port_hash(const struct pcpc *c, uint8_t proto, uint16_t port)
{
	uint8_t k[3] = { proto, (uint8_t)(port >> 8), (uint8_t)port };

	return hmap_hash(&c->by_port, k, sizeof(k));
}

static struct pcpc_map *
find_nonce(const struct pcpc *c, const uint8_t *nonce)
{
	uint32_t h = nonce_hash(c, nonce);
	struct pcpc_map *m;
	struct hnode *n;

	for (n = hmap_bucket(&c->by_nonce, h); n != NULL; n = n->next) {
		m = HMAP_ENTRY(n, struct pcpc_map, by_nonce);
		if (n->hash == h && memcmp(m->nonce, nonce, PCP_WIRE_NONCE_LEN) == 0)
			return m;
	}
	return NULL;
}

static struct pcpc_map *
find_port(const struct pcpc *c, uint8_t proto, uint16_t port)
{
	uint32_t h = port_hash(c, proto, port);
	struct pcpc_map *m;
	struct hnode *n;

	for (n = hmap_bucket(&c->by_port, h); n != NULL; n = n->next) {
		m = HMAP_ENTRY(n, struct pcpc_map, by_port);
		if (n->hash == h && m->req.proto == proto && m->req.internal_port == port)
			return m;
	}
	return NULL;
}

static void
map_free(struct pcpc *c, struct pcpc_map *m)
{
	q_remove(c, m);
	heap_remove(&c->due, &m->due);
	hmap_remove(&c->by_nonce, &m->by_nonce);
	hmap_remove(&c->by_port, &m->by_port);
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		c->maps = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	c->nmaps--;
	free(m);
}

/* Ask (again) from when on: a new sequence, the caller told it is pending. */
static void
map_request(struct pcpc *c, struct pcpc_map *m, uint64_t when)
{
	m->phase = PH_REQUEST;
	seq_reset(&m->seq);
	map_sched(c, m, when);
	map_set_state(c, m, PCPC_PENDING);
}

static void
map_park(struct pcpc *c, struct pcpc_map *m)
{
	m->phase = PH_PARKED;
	map_sched(c, m, PCPC_NEVER);
	map_set_state(c, m, PCPC_LOST);
}

/*
 * The MAP request of m with this lifetime (0: delete), through the rate
 * already; the last thing its caller does with m.
 */
static void
map_send(struct pcpc *c, struct pcpc_map *m, uint32_t lifetime, uint64_t now)
{
	uint8_t buf[PCP_WIRE_MAX_LEN];
	struct pcp_request q;
	size_t len;

	if (lifetime > 0 && m->req.until_ms != 0) {	/* never past the caller's own end */
		uint64_t left = m->req.until_ms > now ? (m->req.until_ms - now + 999) / 1000 : 1;

		if (left < lifetime)
			lifetime = (uint32_t)left;
	}
	memset(&q, 0, sizeof(q));
	q.version = PCP_WIRE_VERSION;
	q.opcode = PCP_OP_MAP;
	q.lifetime = lifetime;
	q.client = c->p.local;
	memcpy(q.nonce, m->nonce, sizeof(q.nonce));
	q.protocol = m->req.proto;
	q.internal_port = m->req.internal_port;
	q.ext_port = m->held ? m->last_port : m->req.ext_port;
	q.ext_addr = m->held ? m->last_addr : m->req.ext_addr;
	if (!util_addr_is_v4(&q.ext_addr)) {		/* §5: no preference, as IPv4 */
		memset(&q.ext_addr, 0, sizeof(q.ext_addr));
		q.ext_addr.s6_addr[10] = q.ext_addr.s6_addr[11] = 0xff;
	}
	if (lifetime > 0) {
		q.prefer_failure = (m->req.flags & PCPC_F_PREFER_FAILURE) != 0;
		q.nfilter = m->req.nfilter;
		memcpy(q.filter, m->req.filter, m->req.nfilter * sizeof(q.filter[0]));
	}
	if ((len = pcp_wire_encode_request(&q, buf, sizeof(buf))) == 0) {
		pcpc_debug(c, "a request could not be encoded");
		return;
	}
	m->sent = 1;
	m->last_tx_ms = now;
	pcpc_send(c, buf, len);
}

/* §11.2.1: when the next renewal of a grant goes (its expiry if none fits before). */
static uint64_t
map_renew_at(struct pcpc *c, const struct pcpc_map *m)
{
	uint64_t life = m->info.expires_ms - m->granted_ms, lo, hi, t;
	unsigned k = m->renewals + 1;

	if (k == 1) {
		lo = life / 2;
		hi = life * 5 / 8;
	} else {
		if (k > 40)
			k = 40;
		lo = life - (life >> k);
		hi = life - (life >> (k + 1));
	}
	t = m->granted_ms + pcpc_between(c, lo, hi);
	if (t < m->last_tx_ms + PCPC_RENEW_GAP_MS)
		t = m->last_tx_ms + PCPC_RENEW_GAP_MS;
	return t < m->info.expires_ms ? t : m->info.expires_ms;
}

/* ---- the server ---- */

static void probe_start(struct pcpc *, int backoff, uint64_t now);
static void probe_stop(struct pcpc *);

/* A mapping the server may still hold (granted, its lifetime not over). */
static int
map_held_upstream(const struct pcpc_map *m, uint64_t now)
{
	return m->granted_ms != 0 && m->info.expires_ms > now;
}

/*
 * A deletion the server cannot hear now: owed until it answers again (then
 * sent), or forgotten where the server no longer holds the mapping anyway
 * (never granted, or its lifetime over): a mapping never outlives its
 * caller's wish by more than the server being away.
 */
static void
map_owe_delete(struct pcpc *c, struct pcpc_map *m, uint64_t now)
{
	if (!map_held_upstream(m, now)) {
		map_free(c, m);
		return;
	}
	m->phase = PH_DELETE;
	m->owed = 1;
	seq_reset(&m->seq);
	map_sched(c, m, PCPC_NEVER);
}

/* Nobody answered: every mapping parked, the server asked after with back-off. */
static void
server_lost(struct pcpc *c, uint64_t now)
{
	struct pcpc_map *m, *next;

	if (c->state == PCPC_SRV_UP) {
		c->state = PCPC_SRV_LOST;
		pcpc_post(c, PCPC_EV_LOST);
		log_info("pcpc: the upstream PCP server does not answer; mappings are lost");
	} else if (c->state == PCPC_SRV_PROBING) {
		c->state = PCPC_SRV_NONE;
		pcpc_post(c, PCPC_EV_NONE);
	}
	for (m = c->maps; m != NULL; m = next) {
		next = m->next;
		if (m->phase == PH_DELETE)
			map_owe_delete(c, m, now);	/* sent when the server is back */
		else if (m->phase != PH_REFUSED || (m->req.flags & PCPC_F_RETRY))
			map_park(c, m);
	}
	probe_start(c, 1, now);
}

/* An answer came: a server not up is up, and what was parked is asked for again. */
static void
server_up(struct pcpc *c, uint64_t now)
{
	struct pcpc_map *m, *next;

	if (c->state == PCPC_SRV_UP)
		return;
	c->state = PCPC_SRV_UP;
	pcpc_post(c, PCPC_EV_UP);
	probe_stop(c);
	for (m = c->maps; m != NULL; m = next) {
		next = m->next;
		if (m->phase == PH_PARKED)
			map_request(c, m, now);
		else if (m->phase == PH_DELETE && m->owed) {
			m->owed = 0;
			if (map_held_upstream(m, now))
				map_sched(c, m, now);	/* the deletion it missed */
			else
				map_free(c, m);
		}
	}
}

/* The server lost its state: every mapping but except is asked for again. */
static void
server_restart(struct pcpc *c, const struct pcpc_map *except, uint64_t now, int spread)
{
	struct pcpc_map *m, *next;

	c->stats.restarts++;
	pcpc_post(c, PCPC_EV_RESTART);
	log_info("pcpc: the upstream PCP server lost its state; asking again for %zu mappings",
	    c->nmaps);
	for (m = c->maps; m != NULL; m = next) {
		next = m->next;
		if (m == except)
			continue;
		if (m->phase == PH_DELETE)
			map_free(c, m);		/* nothing left to delete */
		else if (m->phase != PH_REFUSED || (m->req.flags & PCPC_F_RETRY))
			map_request(c, m, now + (spread ? pcpc_between(c, 0,
			    PCPC_ANNOUNCE_SPREAD_MS) : 0));
	}
}

/*
 * §8.5: 1 if the server's epoch fits the last one seen and our clock
 * since (and keep it); 0 if it went backwards or jumped: its state was lost.
 */
static int
epoch_ok(struct pcpc *c, uint32_t server, uint64_t now)
{
	uint64_t cd, sd;
	int ok = 1;

	if (c->has_epoch) {
		cd = now > c->epoch_ms ? (now - c->epoch_ms) / 1000 : 0;
		sd = server >= c->epoch ? server - c->epoch : 0;
		if ((uint64_t)server + 1 < c->epoch)
			ok = 0;
		else if (cd + 2 < sd - sd / 16 || sd + 2 < cd - cd / 16)
			ok = 0;
	}
	c->has_epoch = 1;
	c->epoch = server;
	c->epoch_ms = now;
	return ok;
}

/* A unicast IPv4 address a server may give as external: not 0/8, loopback, link-local, multicast, class E. */
static int
ext_addr_ok(const struct in6_addr *a)
{
	const uint8_t *b = &a->s6_addr[12];

	if (!util_addr_is_v4(a))
		return 0;
	return b[0] != 0 && b[0] != 127 && b[0] < 224 && !(b[0] == 169 && b[1] == 254);
}

/* 0.0.0.0 (v4-mapped): no preference */
static int
v4_any(const struct in6_addr *a)
{
	static const uint8_t zero[4];

	return memcmp(&a->s6_addr[12], zero, sizeof(zero)) == 0;
}

/* A server's address: unicast IPv4 (loopback too: tests run a server there). */
static int
server_addr_ok(const struct in6_addr *a)
{
	return util_addr_is_v4(a) && !v4_any(a) && a->s6_addr[12] < 224;
}

static void
note_ext(struct pcpc *c, const struct in6_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (c->has_ext && memcmp(&c->ext, a, sizeof(*a)) == 0)
		return;
	c->has_ext = 1;
	c->ext = *a;
	pcpc_post(c, PCPC_EV_EXT_ADDR);
	log_info("pcpc: the upstream external address is %s", util_addr_str(a, buf, sizeof(buf)));
}

/* ---- the probe: an ANNOUNCE request ---- */

static void
probe_start(struct pcpc *c, int backoff, uint64_t now)
{
	c->probe.active = 1;
	c->probe.backoff = backoff;
	c->probe.reserved = 0;
	seq_reset(&c->probe.seq);
	pcpc_due_at(c, &c->probe.due, now);
}

static void
probe_stop(struct pcpc *c)
{
	c->probe.active = 0;
	c->probe.reserved = 0;
	pcpc_due_at(c, &c->probe.due, PCPC_NEVER);
}

static void
probe_send(struct pcpc *c, uint64_t now)
{
	uint8_t buf[PCP_WIRE_HDR_LEN];
	struct pcp_request q;
	size_t len;

	/* RFC 7488: a server's next address when one does not answer */
	if (c->probe.seq.ntx > 0 && c->p.nserver > 1) {
		c->cur = (c->cur + 1) % c->p.nserver;
		pcpc_connect(c);
	}
	memset(&q, 0, sizeof(q));
	q.opcode = PCP_OP_ANNOUNCE;
	q.client = c->p.local;
	if ((len = pcp_wire_encode_request(&q, buf, sizeof(buf))) == 0)
		return;
	seq_sent(c, &c->probe.seq, now, c->probe.backoff ? PCPC_LOST_MAX_MS : PCPC_MRT_MS);
	pcpc_send(c, buf, len);
}

static void
probe_due(struct pcpc *c, uint64_t now)
{
	struct pcpc_probe *pr = &c->probe;

	if (!pr->active) {
		pcpc_due_at(c, &pr->due, PCPC_NEVER);
		return;
	}
	if (!pr->backoff && seq_over(c, &pr->seq, now)) {
		c->stats.given_up++;
		server_lost(c, now);		/* and asked again with back-off */
		return;
	}
	if (!pcpc_pace(c, &pr->due, &pr->reserved, now))
		return;
	probe_send(c, now);
	pcpc_due_at(c, &pr->due, pr->backoff ? pr->seq.next_ms : seq_due(c, &pr->seq));
}

/* ---- a mapping's turn ---- */

static void
map_due_request(struct pcpc *c, struct pcpc_map *m, uint64_t now)
{
	int del = m->phase == PH_DELETE;

	if (seq_over(c, &m->seq, now)) {
		c->stats.given_up++;
		if (del)
			map_free(c, m);
		else
			server_lost(c, now);
		return;
	}
	if (!pcpc_pace(c, &m->due, &m->reserved, now))
		return;
	seq_sent(c, &m->seq, now, PCPC_MRT_MS);
	pcpc_due_at(c, &m->due, seq_due(c, &m->seq));
	map_send(c, m, del ? 0 : m->req.lifetime, now);
}

static void
map_due_renew(struct pcpc *c, struct pcpc_map *m, uint64_t now)
{
	if (now >= m->info.expires_ms) {
		if (m->renewals == 0) {
			map_request(c, m, now);	/* a lifetime too short to renew: ask again */
			return;
		}
		c->stats.given_up++;
		server_lost(c, now);
		return;
	}
	if (!pcpc_pace(c, &m->due, &m->reserved, now))
		return;
	m->renewals++;
	m->last_tx_ms = now;
	pcpc_due_at(c, &m->due, map_renew_at(c, m));
	map_send(c, m, m->req.lifetime, now);
}

static void
map_due(struct pcpc *c, struct pcpc_map *m, uint64_t now)
{
	switch (m->phase) {
	case PH_REQUEST:
	case PH_DELETE:
		map_due_request(c, m, now);
		break;
	case PH_GRANTED:
		map_due_renew(c, m, now);
		break;
	case PH_REFUSED:
		map_request(c, m, now);		/* PCPC_F_RETRY: the refusal's time is over */
		break;
	case PH_PARKED:
		map_sched(c, m, PCPC_NEVER);
		break;
	}
}

void
pcpc_run(struct pcpc *c)
{
	struct heap_node *top;
	uint64_t now = pcpc_now(c);
	size_t n;

	for (n = 4 * (c->nmaps + 8); n > 0; n--) {
		if ((top = heap_top(&c->due)) == NULL || KEY_MS(heap_top_key(&c->due)) > now)
			break;
		if (top == &c->probe.due)
			probe_due(c, now);
		else
			map_due(c, HEAP_ENTRY(top, struct pcpc_map, due), now);
	}
	pcpc_flush(c);
	pcpc_arm(c);
}

uint64_t
pcpc_next_ms(const struct pcpc *c)
{
	uint64_t k = KEY_MS(heap_top_key(&c->due));

	return heap_top(&c->due) == NULL || k == PCPC_NEVER ? 0 : k;
}

/* ---- answers ---- */

static void
map_granted(struct pcpc *c, struct pcpc_map *m, const struct pcp_response *r, uint64_t now)
{
	uint32_t life = r->lifetime < PCPC_LIFETIME_MAX ? r->lifetime : PCPC_LIFETIME_MAX;
	unsigned chg = 0;

	/* a copy of the answer already taken (a retransmission's): nothing new */
	if (m->phase == PH_GRANTED && m->renewals == 0 && m->last_port == r->ext_port &&
	    memcmp(&m->last_addr, &r->ext_addr, sizeof(r->ext_addr)) == 0)
		return;
	if (m->held && (m->last_port != r->ext_port ||
	    memcmp(&m->last_addr, &r->ext_addr, sizeof(r->ext_addr)) != 0))
		chg |= PCPC_CHG_EXT;
	if (m->info.state != PCPC_GRANTED)
		chg |= PCPC_CHG_STATE;
	c->stats.granted++;
	m->phase = PH_GRANTED;
	m->held = 1;
	m->last_port = r->ext_port;
	m->last_addr = r->ext_addr;
	m->granted_ms = now;
	m->renewals = 0;
	m->info.state = PCPC_GRANTED;
	m->info.result = PCP_RES_SUCCESS;
	m->info.ext_addr = r->ext_addr;
	m->info.ext_port = r->ext_port;
	m->info.lifetime = life;
	m->info.expires_ms = now + (uint64_t)life * 1000;
	map_sched(c, m, map_renew_at(c, m));
	map_notify(c, m, chg);
	note_ext(c, &r->ext_addr);
}

/* A refusal's lifetime, as a wait before PCPC_F_RETRY asks again. */
static uint64_t
retry_ms(uint32_t lifetime)
{
	if (lifetime < PCPC_RETRY_MIN_S)
		lifetime = PCPC_RETRY_MIN_S;
	if (lifetime > PCPC_RETRY_MAX_S)
		lifetime = PCPC_RETRY_MAX_S;
	return (uint64_t)lifetime * 1000;
}

static void
map_refused(struct pcpc *c, struct pcpc_map *m, enum pcp_result res, uint32_t lifetime,
    uint64_t now)
{
	/* §7.4's short-lived errors on a renewal: the mapping holds till it expires */
	if (m->phase == PH_GRANTED && now < m->info.expires_ms &&
	    (res == PCP_RES_NETWORK_FAILURE || res == PCP_RES_NO_RESOURCES ||
	    res == PCP_RES_USER_EX_QUOTA))
		return;
	if (m->phase == PH_REFUSED && m->info.result == res)
		return;			/* told already */
	c->stats.refused++;
	m->phase = PH_REFUSED;
	m->info.state = PCPC_REFUSED;
	m->info.result = res;
	m->info.lifetime = lifetime;
	map_sched(c, m, m->req.flags & PCPC_F_RETRY ? now + retry_ms(lifetime) : PCPC_NEVER);
	map_notify(c, m, PCPC_CHG_STATE);
}

/* Why a grant cannot be believed, or NULL. */
static const char *
grant_problem(const struct pcp_response *r)
{
	if (r->lifetime == 0)
		return "a grant of lifetime 0";
	if (r->ext_port == 0)
		return "a grant of port 0";
	if (!ext_addr_ok(&r->ext_addr))
		return "a grant of an address no host has (not unicast IPv4)";
	return NULL;
}

/* §13.2: with PREFER_FAILURE, the suggested port (and address) or nothing. */
static int
grant_unwanted(const struct pcpc_map *m, const struct pcp_response *r)
{
	if ((m->req.flags & PCPC_F_PREFER_FAILURE) == 0)
		return 0;
	if (m->req.ext_port != 0 && r->ext_port != m->req.ext_port)
		return 1;
	return util_addr_is_v4(&m->req.ext_addr) && !v4_any(&m->req.ext_addr) &&
	    memcmp(&m->req.ext_addr, &r->ext_addr, sizeof(r->ext_addr)) != 0;
}

static void
on_map(struct pcpc *c, const struct pcp_request *q, const struct pcp_response *r, uint64_t now)
{
	struct pcpc_map *m = find_nonce(c, q->nonce);
	enum pcp_result res = r->result;
	const char *why;
	int fresh, was_up;

	if (m == NULL || !m->sent) {
		pcpc_drop(c, "an answer with a nonce of no request");
		return;
	}
	if (q->protocol != m->req.proto || q->internal_port != m->req.internal_port) {
		pcpc_drop(c, "an answer for another protocol or port");
		return;
	}
	if (m->phase != PH_DELETE && res == PCP_RES_SUCCESS && (why = grant_problem(r)) != NULL) {
		pcpc_drop(c, why);
		return;
	}
	c->stats.answers++;
	fresh = epoch_ok(c, r->epoch, now);
	was_up = c->state == PCPC_SRV_UP;
	if (m->phase == PH_DELETE)
		map_free(c, m);			/* any answer ends a delete */
	else if (res == PCP_RES_SUCCESS && grant_unwanted(m, r)) {
		m->held = 1;			/* it holds something: a drop deletes it */
		m->last_port = r->ext_port;
		m->last_addr = r->ext_addr;
		map_refused(c, m, PCP_RES_CANNOT_PROVIDE_EXTERNAL, 0, now);
	} else if (res == PCP_RES_SUCCESS)
		map_granted(c, m, r, now);
	else
		map_refused(c, m, res, r->lifetime, now);
	server_up(c, now);
	if (!fresh && was_up)
		server_restart(c, find_nonce(c, q->nonce), now, 0);
}

static void
on_announce(struct pcpc *c, const struct pcp_response *r, int multicast, uint64_t now)
{
	int probing = c->probe.active, fresh;

	c->stats.announces++;
	/* an error (UNSUPP_OPCODE ...) answers our request all the same; unasked, it says nothing */
	if (r->result != PCP_RES_SUCCESS && (!probing || multicast)) {
		pcpc_drop(c, "an ANNOUNCE error nobody asked for");
		return;
	}
	c->stats.answers++;
	fresh = epoch_ok(c, r->epoch, now);
	if (c->state != PCPC_SRV_UP) {
		server_up(c, now);		/* parked mappings asked again: all of them */
		return;
	}
	if (probing)
		probe_stop(c);
	/* nothing authenticates an ANNOUNCE: at most one restart in PCPC_RESTART_HOLD_MS */
	if (!fresh && (c->restart_ms == 0 || now >= c->restart_ms + PCPC_RESTART_HOLD_MS)) {
		c->restart_ms = now;
		server_restart(c, NULL, now, 1);
	}
}

void
pcpc_input(struct pcpc *c, const uint8_t *buf, size_t len, const struct in6_addr *src,
    uint16_t sport, int multicast)
{
	struct pcp_response r;
	struct pcp_request q;
	enum pcp_wire_status st;

	if (sport != c->p.server_port ||
	    memcmp(src, &c->p.server[c->cur], sizeof(*src)) != 0)
		pcpc_drop(c, "a datagram not from the server's port 5351");
	else if ((st = pcp_wire_decode_response(buf, len, &q, &r)) != PCP_WIRE_OK)
		pcpc_drop(c, q.reason);
	else if (q.opcode == PCP_OP_ANNOUNCE)
		on_announce(c, &r, multicast, pcpc_now(c));
	else if (multicast)
		pcpc_drop(c, "a multicast answer not an ANNOUNCE");
	else if (q.opcode == PCP_OP_MAP)
		on_map(c, &q, &r, pcpc_now(c));
	else
		pcpc_drop(c, "an answer to an opcode never asked");
	pcpc_flush(c);
	pcpc_arm(c);
}

static void
pcpc_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	pcpc_run(arg);
}

/* pcpc_sock's datagrams */
static void
pcpc_datagram(void *arg, const uint8_t *buf, size_t len, const struct in6_addr *src,
    uint16_t sport, int multicast)
{
	pcpc_input(arg, buf, len, src, sport, multicast);
}

/* ---- the caller's verbs ---- */

static int
params_ok(const struct pcpc_params *p)
{
	size_t i;

	if (p->clock == NULL || p->nserver == 0 || p->nserver > PCPC_SERVER_ADDRS ||
	    !util_addr_is_v4(&p->local))
		return 0;
	for (i = 0; i < p->nserver; i++)
		if (!server_addr_ok(&p->server[i]))
			return 0;
	return 1;
}

struct pcpc *
pcpc_new(struct event_base *base, const struct pcpc_params *p)
{
	struct pcpc *c;

	if (!params_ok(p)) {
		log_warnx("pcpc: no clock, or not one IPv4 WAN address and 1-%d unicast IPv4 "
		    "server addresses", PCPC_SERVER_ADDRS);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("pcpc");
		return NULL;
	}
	c->base = base;
	c->p = *p;
	c->clock = *p->clock;
	c->p.clock = &c->clock;
	if (c->p.server_port == 0)
		c->p.server_port = PCP_WIRE_SERVER_PORT;
	if (c->p.rate == 0)
		c->p.rate = PCPC_RATE_DEFAULT;
	if (c->p.max_wait_ms == 0)
		c->p.max_wait_ms = PCPC_WAIT_DEFAULT_MS;
	c->qtail = &c->qhead;
	c->state = PCPC_SRV_PROBING;
	log_limit_init(&c->log_limit, 10000, 20);
	heap_init(&c->due);
	hmap_init(&c->by_nonce);
	hmap_init(&c->by_port);
	if (heap_push(&c->due, &c->probe.due, PCPC_NEVER) == -1 ||
	    (base != NULL && (c->timer = evtimer_new(base, pcpc_timer, c)) == NULL) ||
	    (c->p.send == NULL && (base == NULL || (c->sock = pcpc_sock_new(base, &c->p.local,
	    c->p.ifindex, pcpc_datagram, c, &c->stats.dropped)) == NULL))) {
		pcpc_free(c);
		return NULL;
	}
	pcpc_connect(c);
	return c;
}

void
pcpc_free(struct pcpc *c)
{
	if (c == NULL)
		return;
	while (c->maps != NULL)
		map_free(c, c->maps);
	pcpc_sock_free(c->sock);
	if (c->timer != NULL)
		event_free(c->timer);
	heap_destroy(&c->due);
	hmap_destroy(&c->by_nonce);
	hmap_destroy(&c->by_port);
	free(c);
}

void
pcpc_probe(struct pcpc *c)
{
	if (c->state == PCPC_SRV_PROBING && !c->probe.active)
		probe_start(c, 0, pcpc_now(c));
	pcpc_arm(c);
}

static int
req_ok(const struct pcpc_req *r)
{
	static const struct in6_addr any;
	unsigned i;

	if (r->proto == 0 || r->internal_port == 0 || r->lifetime == 0 ||
	    r->nfilter > PCPC_FILTER_MAX)
		return 0;
	if (memcmp(&r->ext_addr, &any, sizeof(any)) != 0 && !util_addr_is_v4(&r->ext_addr))
		return 0;
	for (i = 0; i < r->nfilter; i++)
		if (r->filter[i].prefix_len != 0 && (!util_addr_is_v4(&r->filter[i].addr) ||
		    r->filter[i].prefix_len < 96 || r->filter[i].prefix_len > 128))
			return 0;
	return 1;
}

/* A mapping being deleted, asked for again by a new caller: its nonce is what the server knows. */
static struct pcpc_map *
map_revive(struct pcpc *c, struct pcpc_map *m, const struct pcpc_req *req, pcpc_map_fn *cb,
    void *arg)
{
	m->req = *req;
	m->cb = cb;
	m->arg = arg;
	m->held = 0;
	m->owed = 0;
	memset(&m->info, 0, sizeof(m->info));
	if (c->state == PCPC_SRV_NONE || c->state == PCPC_SRV_LOST) {
		map_park(c, m);		/* asked for when the server answers */
		return m;
	}
	m->phase = PH_REQUEST;
	seq_reset(&m->seq);
	map_sched(c, m, pcpc_now(c));
	pcpc_arm(c);
	return m;
}

static struct pcpc_map *
add_fail(enum pcpc_err *err, enum pcpc_err e)
{
	if (err != NULL)
		*err = e;
	return NULL;
}

struct pcpc_map *
pcpc_map_add(struct pcpc *c, const struct pcpc_req *req, pcpc_map_fn *cb, void *arg,
    enum pcpc_err *err)
{
	struct pcpc_map *m;

	if (err != NULL)
		*err = PCPC_OK;
	if (!req_ok(req) || cb == NULL)
		return add_fail(err, PCPC_ERR_INVALID);
	if ((m = find_port(c, req->proto, req->internal_port)) != NULL)
		return m->phase == PH_DELETE ? map_revive(c, m, req, cb, arg) :
		    add_fail(err, PCPC_ERR_EXISTS);
	if (c->nmaps >= c->p.max_mappings)
		return add_fail(err, PCPC_ERR_FULL);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return add_fail(err, PCPC_ERR_NOMEM);
	m->req = *req;
	m->cb = cb;
	m->arg = arg;
	if (req->has_nonce)
		memcpy(m->nonce, req->nonce, sizeof(m->nonce));
	else if (pcpc_random(c, m->nonce, sizeof(m->nonce)) == -1) {
		free(m);
		return add_fail(err, PCPC_ERR_NOMEM);
	}
	if (find_nonce(c, m->nonce) != NULL ||
	    heap_push(&c->due, &m->due, PCPC_NEVER) == -1) {
		free(m);
		return add_fail(err, req->has_nonce ? PCPC_ERR_EXISTS : PCPC_ERR_NOMEM);
	}
	hmap_insert(&c->by_nonce, &m->by_nonce, nonce_hash(c, m->nonce));
	hmap_insert(&c->by_port, &m->by_port, port_hash(c, req->proto, req->internal_port));
	if ((m->next = c->maps) != NULL)
		m->next->prev = m;
	c->maps = m;
	c->nmaps++;
	/* a server known absent: parked until it answers (nothing is sent for it now) */
	if (c->state == PCPC_SRV_NONE || c->state == PCPC_SRV_LOST) {
		m->phase = PH_PARKED;
		m->info.state = PCPC_LOST;
	} else {
		m->phase = PH_REQUEST;
		m->info.state = PCPC_PENDING;
		map_sched(c, m, pcpc_now(c));
	}
	pcpc_arm(c);
	return m;
}

void
pcpc_map_refresh(struct pcpc *c, struct pcpc_map *m, uint32_t lifetime)
{
	uint64_t now = pcpc_now(c);

	if (lifetime == 0 || m->phase == PH_DELETE)
		return;
	m->req.lifetime = lifetime;
	if (c->state == PCPC_SRV_NONE || c->state == PCPC_SRV_LOST) {
		if (m->phase == PH_REFUSED)
			map_park(c, m);		/* asked for when the server answers */
		pcpc_flush(c);
		return;
	}
	switch (m->phase) {
	case PH_GRANTED:
		map_sched(c, m, now);	/* a renewal now */
		break;
	case PH_REQUEST:
	case PH_REFUSED:
		map_request(c, m, now);
		break;
	default:
		break;
	}
	pcpc_flush(c);
	pcpc_arm(c);
}

void
pcpc_map_until(struct pcpc_map *m, uint64_t until_ms)
{
	m->req.until_ms = until_ms;
}

void
pcpc_map_drop(struct pcpc *c, struct pcpc_map *m)
{
	q_remove(c, m);
	m->cb = NULL;
	if (m->phase == PH_DELETE)
		return;
	/* nothing to delete: never sent, or refused */
	if (!m->sent || (m->phase == PH_REFUSED && !m->held) || c->state == PCPC_SRV_NONE) {
		map_free(c, m);
		return;
	}
	/* a server that does not hear us: the deletion waits for it, if it still holds it */
	if (m->phase == PH_PARKED || c->state == PCPC_SRV_LOST) {
		map_owe_delete(c, m, pcpc_now(c));
		pcpc_arm(c);
		return;
	}
	m->phase = PH_DELETE;
	seq_reset(&m->seq);
	map_sched(c, m, pcpc_now(c));
	pcpc_arm(c);
}

const struct pcpc_info *
pcpc_map_info(const struct pcpc_map *m)
{
	return &m->info;
}

void
pcpc_map_nonce(const struct pcpc_map *m, uint8_t nonce[PCP_WIRE_NONCE_LEN])
{
	memcpy(nonce, m->nonce, PCP_WIRE_NONCE_LEN);
}

size_t
pcpc_count(const struct pcpc *c)
{
	return c->nmaps;
}

enum pcpc_srv_state
pcpc_server_state(const struct pcpc *c)
{
	return c->state;
}

void
pcpc_server_addr(const struct pcpc *c, struct in6_addr *a)
{
	*a = c->p.server[c->cur];
}

int
pcpc_ext_addr(const struct pcpc *c, struct in6_addr *a)
{
	if (c->has_ext)
		*a = c->ext;
	return c->has_ext;
}

const struct pcpc_stats *
pcpc_stats(const struct pcpc *c)
{
	return &c->stats;
}

static const char *const state_names[] = {
	[PCPC_PENDING] = "pending",
	[PCPC_GRANTED] = "granted",
	[PCPC_REFUSED] = "refused",
	[PCPC_LOST] = "lost",
};

static const char *const srv_state_names[] = {
	[PCPC_SRV_PROBING] = "probing",
	[PCPC_SRV_UP] = "up",
	[PCPC_SRV_NONE] = "none",
	[PCPC_SRV_LOST] = "lost",
};

static const char *const err_names[] = {
	[PCPC_OK] = "ok",
	[PCPC_ERR_INVALID] = "invalid",
	[PCPC_ERR_EXISTS] = "exists",
	[PCPC_ERR_FULL] = "full",
	[PCPC_ERR_NOMEM] = "no memory",
};

const char *
pcpc_state_name(enum pcpc_state s)
{
	return (size_t)s < PG_NELEM(state_names) ? state_names[s] : "?";
}

const char *
pcpc_srv_state_name(enum pcpc_srv_state s)
{
	return (size_t)s < PG_NELEM(srv_state_names) ? srv_state_names[s] : "?";
}

const char *
pcpc_err_name(enum pcpc_err e)
{
	return (size_t)e < PG_NELEM(err_names) ? err_names[e] : "?";
}

void
pcpc_status(const struct pcpc *c, pg_status_emit *emit, void *arg)
{
	unsigned n[PG_NELEM(state_names)] = { 0 }, deleting = 0;
	char buf[INET6_ADDRSTRLEN];
	const struct pcpc_map *m;

	if (c == NULL)
		return;
	for (m = c->maps; m != NULL; m = m->next)
		if (m->phase == PH_DELETE)
			deleting++;
		else
			n[m->info.state]++;
	emit(arg, "upstream_pcp_server", "%s", util_addr_str(&c->p.server[c->cur], buf,
	    sizeof(buf)));
	emit(arg, "upstream_pcp_state", "%s", pcpc_srv_state_name(c->state));
	if (c->has_epoch)
		emit(arg, "upstream_pcp_epoch", "%u", c->epoch);
	if (c->has_ext)
		emit(arg, "upstream_external_ip", "%s", util_addr_str(&c->ext, buf, sizeof(buf)));
	emit(arg, "upstream_mappings", "%zu granted %u pending %u lost %u refused %u deleting %u",
	    c->nmaps, n[PCPC_GRANTED], n[PCPC_PENDING], n[PCPC_LOST], n[PCPC_REFUSED],
	    deleting);
	emit(arg, "upstream_requests", "%llu", (unsigned long long)c->stats.sent);
	emit(arg, "upstream_answers", "%llu", (unsigned long long)c->stats.answers);
	emit(arg, "upstream_dropped", "%llu", (unsigned long long)c->stats.dropped);
	emit(arg, "upstream_restarts", "%llu", (unsigned long long)c->stats.restarts);
}
