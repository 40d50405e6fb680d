/*
 * ssdp.c - SSDP (UDA 1.1, section 1: discovery, and annex A: IPv6) on the
 * LAN interfaces.
 *
 * Two UDP sockets: 0.0.0.0:1900 joins 239.255.255.250 on every LAN
 * interface that has an IPv4 address, and [::]:1900 (IPv6 only) joins
 * ff02::c (link-local scope) and ff05::c (site-local) on every LAN
 * interface that has a global IPv6 address; one with only a link-local
 * address has no IPv6 discovery (said once at debug level), since a
 * LOCATION must name an address that a control point reaches from its own
 * global one, the address the secure-mode checks compare. Both follow the
 * addresses (ssdp_sync, every IGD_RESCAN_S seconds from igd.c, after the
 * HTTP server has listened on new ones): a router's LAN bridge may get its
 * address after portgated starts, or be made anew with another ifindex.
 * IP_PKTINFO / IPV6_PKTINFO tell which interface a datagram came in on and
 * where it was sent; they also pick the interface (and for IPv4 the source
 * address) of what we send. IP_MULTICAST_ALL and IPV6_MULTICAST_ALL are
 * off, so groups other programs joined do not reach these sockets.
 *
 * The messages themselves (parsing, answers, formats, the address checks)
 * are ssdp_msg.c's; this file holds the sockets, the bounds and the
 * schedule.
 *
 * What is answered: a datagram that came in on a LAN interface joined on
 * that socket, from a LAN host (netif_client_ok; over IPv6 also a
 * link-local source, which can only be on that link), sent to an SSDP
 * group or to one of our own LAN addresses, that ssdp_parse accepts as an
 * M-SEARCH, and whose ST is ours (ssdp_answers). Everything else is counted
 * in stats.ssdp_dropped and logged at debug level within a budget of
 * lines. NOTIFYs and responses of other devices are ignored without being
 * counted.
 *
 * Amplification bounds, for both families together: a source may send
 * SSDP_RATE_SRC searches a second and all sources together SSDP_RATE_ALL;
 * at most SSDP_PEND_MAX multicast searches wait for their random delay
 * (SSDP_PEND_SRC from one address); each one is answered with at most
 * SSDP_NANS datagrams to its own source address, which is a LAN host. What
 * goes over a bound is dropped and counted.
 *
 * Announcements: the ssdp:all set (ssdp_announce_set) is multicast out of
 * every interface at start, every upnp_notify_interval seconds, and as
 * ssdp:byebye when the front end stops; over IPv6 to both groups. It holds
 * every version of every type offered (igd_service_max_version: IGD:2
 * devices and WANIPConnection:2 also as version 1, so v1-only control
 * points that listen for IGD:1 see us too), each with the one LOCATION,
 * over IPv4 and IPv6 alike: which description a control point gets there
 * is the HTTP server's business (see igd.c).
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "igd/igd.h"		/* struct igd_stats, IGD_RESCAN_S */
#include "igd/ssdp.h"
#include "log.h"
#include "netif.h"
#include "util.h"

#define SSDP_RECV_BUF		9216		/* room to see that a datagram is over the limit */
#define SSDP_READ_BURST		32		/* datagrams read per wake-up */
#define SSDP_PEND_MAX		256		/* multicast searches waiting for their delay */
#define SSDP_PEND_SRC		16		/* ... from one source address */
#define SSDP_RATE_SRC		10		/* searches per second from one source (and burst) */
#define SSDP_RATE_ALL		50		/* searches per second from everyone (and burst) */
#define SSDP_SRC_SLOTS		64		/* sources whose rate is tracked (LRU) */
#define SSDP_MULTICAST_TTL	2		/* UDA 1.1: "SHOULD default to 2" */

/* ---- the sockets ---- */

/* A LAN interface a socket has joined its groups on. */
struct ssdp_if {
	unsigned	 ifindex;
	struct in6_addr	 local;		/* LOCATION's host: v4-mapped, or a global IPv6 address */
	char		 name[IF_NAMESIZE];
};

/* The IPv4 or the IPv6 socket, and the interfaces it has joined. */
struct ssdp_sock {
	struct ssdp	*s;
	int		 v6;
	int		 fd;		/* -1: none */
	struct event	*read_ev;
	struct ssdp_if	 ifs[NETIF_MAX_PREFIX];
	size_t		 nifs;
};

/* A multicast search waiting for its random delay. */
struct ssdp_pend {
	TAILQ_ENTRY(ssdp_pend)	 entry;
	struct ssdp_sock	*sk;
	struct event		*ev;
	struct sockaddr_storage	 to;
	struct in6_addr		 to6;		/* to's address, v4-mapped for IPv4 */
	unsigned		 ifindex;
	char			 st[SSDP_ST_MAX];
};

/* A token bucket in thousandths of a search. */
struct ssdp_bucket {
	struct in6_addr	 addr;		/* v4-mapped for IPv4; unspecified: a free slot */
	uint64_t	 last_ms;
	uint64_t	 milli;
};

struct ssdp {
	struct ssdp_params	 p;		/* as igd.c made us */
	struct ssdp_sock	 sk[2];			/* IPv4, IPv6 */
	struct event		*notify_ev;
	int			 no_v6_said[CONF_MAX_LAN];	/* logged: no global IPv6 */
	TAILQ_HEAD(, ssdp_pend)	 pend;
	size_t			 npend;
	struct ssdp_bucket	 src[SSDP_SRC_SLOTS];	/* both families */
	struct ssdp_bucket	 all;
	struct log_limit	 drop_log;
	struct log_limit	 err_log;
};

/* A received datagram's addresses (IP_PKTINFO, IPV6_PKTINFO), IPv4 ones v4-mapped. */
struct ssdp_dgram {
	struct sockaddr_storage	 from;
	struct in6_addr		 from6;
	uint16_t		 port;
	struct in6_addr		 dst;
	unsigned		 ifindex;
	int			 trunc;
};

static uint64_t
ssdp_now_ms(const struct ssdp *s)
{
	return pg_clock_now(&s->p.ctx->clock);
}

/* a (v4-mapped for IPv4) and port as a sockaddr, with scope for a link-local IPv6 one. */
static void
ssdp_sockaddr(const struct in6_addr *a, uint16_t port, unsigned scope, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (util_addr_is_v4(a)) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, &a->s6_addr[12], 4);
		return;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = *a;
	sin6->sin6_scope_id = scope;
}

/* The address (v4-mapped for IPv4) and port of ss. */
static uint16_t
ssdp_sa_addr(const struct sockaddr_storage *ss, struct in6_addr *out)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET6) {
		*out = sin6->sin6_addr;
		return ntohs(sin6->sin6_port);
	}
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &sin->sin_addr, 4);
	return ntohs(sin->sin_port);
}

/* "ADDR:PORT" or "[ADDR]:PORT", for log lines. */
static const char *
ssdp_addr_port(const struct in6_addr *a, uint16_t port, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	util_addr_str(a, s, sizeof(s));
	snprintf(buf, len, util_addr_is_v4(a) ? "%s:%u" : "[%s]:%u", s, port);
	return buf;
}

static void
ssdp_drop(struct ssdp *s, const struct ssdp_dgram *d, const char *why)
{
	char a[INET6_ADDRSTRLEN + 8];

	s->p.stats->ssdp_dropped++;
	if (!log_limit_pass(&s->drop_log, ssdp_now_ms(s)))
		return;
	log_debug("ssdp: dropped a datagram from %s (ifindex %u): %s",
	    ssdp_addr_port(&d->from6, d->port, a, sizeof(a)), d->ifindex, why);
}

/* Where ifindex is in ifs (n entries): its index, or n. */
static size_t
ssdp_if_index(const struct ssdp_if *ifs, size_t n, unsigned ifindex)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ifs[i].ifindex == ifindex)
			break;
	return i;
}

/* The control message that sends out of ifindex from src (NULL: the kernel picks, IPv6). */
static void
ssdp_pktinfo(const struct ssdp_sock *sk, struct msghdr *m, unsigned ifindex,
    const struct in6_addr *src)
{
	struct cmsghdr *c;
	struct in_pktinfo pi;
	struct in6_pktinfo pi6;

	memset(&pi, 0, sizeof(pi));
	memset(&pi6, 0, sizeof(pi6));
	m->msg_controllen = sk->v6 ? CMSG_SPACE(sizeof(pi6)) : CMSG_SPACE(sizeof(pi));
	c = CMSG_FIRSTHDR(m);
	if (sk->v6) {
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi6));
		pi6.ipi6_ifindex = ifindex;
		if (src != NULL)
			pi6.ipi6_addr = *src;
		memcpy(CMSG_DATA(c), &pi6, sizeof(pi6));
		return;
	}
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	pi.ipi_ifindex = (int)ifindex;
	if (src != NULL)
		memcpy(&pi.ipi_spec_dst, &src->s6_addr[12], sizeof(pi.ipi_spec_dst));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
}

/* Send one datagram to `to` out of ifindex with source address src (see ssdp_pktinfo). */
static int
ssdp_send(struct ssdp_sock *sk, const struct sockaddr_storage *to, unsigned ifindex,
    const struct in6_addr *src, const char *msg, size_t len)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	struct iovec iov = { (void *)(uintptr_t)msg, len };
	struct msghdr m;
	struct in6_addr a6;
	char a[INET6_ADDRSTRLEN + 8];
	uint16_t port;

	memset(&m, 0, sizeof(m));
	memset(&cbuf, 0, sizeof(cbuf));
	m.msg_name = (void *)(uintptr_t)to;
	m.msg_namelen = sk->v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf.b;
	ssdp_pktinfo(sk, &m, ifindex, src);
	if (sendmsg(sk->fd, &m, 0) == -1) {
		if (log_limit_pass(&sk->s->err_log, ssdp_now_ms(sk->s))) {
			port = ssdp_sa_addr(to, &a6);
			log_warn("ssdp: sendmsg to %s", ssdp_addr_port(&a6, port, a, sizeof(a)));
		}
		return -1;
	}
	return 0;
}

/*
 * What a reply to peer names as LOCATION: the gateway's address on peer's
 * LAN prefix; for a link-local IPv6 peer, whom no prefix holds, the global
 * address of the interface the search came in on. -1 if that went away.
 */
static int
ssdp_reply_local(const struct ssdp_sock *sk, const struct in6_addr *peer, unsigned ifindex,
    struct in6_addr *local)
{
	size_t k;

	if (sk->v6 && IN6_IS_ADDR_LINKLOCAL(peer)) {
		if ((k = ssdp_if_index(sk->ifs, sk->nifs, ifindex)) == sk->nifs)
			return -1;
		*local = sk->ifs[k].local;
		return 0;
	}
	if (netif_local_for(sk->s->p.ctx->netif, peer, local) == -1 ||
	    util_addr_is_v4(local) == sk->v6)
		return -1;
	return 0;
}

/* Answer a search for st from `to` (peer), which came in on ifindex. */
static void
ssdp_reply(struct ssdp_sock *sk, const struct sockaddr_storage *to, const struct in6_addr *peer,
    unsigned ifindex, const char *st)
{
	struct ssdp *s = sk->s;
	struct ssdp_ans ans[SSDP_NANS];
	struct in6_addr local;
	char msg[SSDP_MSG_MAX];
	size_t n, i, len;
	time_t now = time(NULL);
	/* to a link-local peer from our link-local address, which the kernel picks */
	int ll = sk->v6 && IN6_IS_ADDR_LINKLOCAL(peer);

	if (ssdp_reply_local(sk, peer, ifindex, &local) == -1)
		return;		/* the LAN prefix went away since the search came */
	n = ssdp_answers(&s->p, st, ans, PG_NELEM(ans));
	for (i = 0; i < n; i++) {
		len = ssdp_format(&s->p, SSDP_FMT_REPLY, &ans[i], &local, SSDP_GROUP_V4, now, msg,
		    sizeof(msg));
		if (len > 0 && ssdp_send(sk, to, ifindex, ll ? NULL : &local, msg, len) == 0)
			s->p.stats->ssdp_replies++;
	}
}

/* The NOTIFY set of kind fmt to group g out of one interface. */
static void
ssdp_announce_to(struct ssdp_sock *sk, const struct ssdp_if *ifp, enum ssdp_group g,
    enum ssdp_fmt fmt)
{
	struct ssdp *s = sk->s;
	struct ssdp_ans ans[SSDP_NANS];
	struct sockaddr_storage to;
	struct in6_addr ga;
	char msg[SSDP_MSG_MAX];
	size_t n, i, len;
	time_t now = time(NULL);

	ssdp_group_addr(g, &ga);
	ssdp_sockaddr(&ga, SSDP_PORT, ifp->ifindex, &to);
	n = ssdp_announce_set(&s->p, ans, PG_NELEM(ans));
	for (i = 0; i < n; i++) {
		len = ssdp_format(&s->p, fmt, &ans[i], &ifp->local, g, now, msg, sizeof(msg));
		/* IPv6: the kernel picks the source, link-local for ff02::c (RFC 6724) */
		if (len > 0 && ssdp_send(sk, &to, ifp->ifindex, sk->v6 ? NULL : &ifp->local, msg,
		    len) == 0)
			s->p.stats->ssdp_notifies++;
	}
}

/* The NOTIFY set out of one interface: to 239.255.255.250, or to ff02::c and ff05::c. */
static void
ssdp_announce_if(struct ssdp_sock *sk, const struct ssdp_if *ifp, enum ssdp_fmt fmt)
{
	if (!sk->v6) {
		ssdp_announce_to(sk, ifp, SSDP_GROUP_V4, fmt);
		return;
	}
	ssdp_announce_to(sk, ifp, SSDP_GROUP_LINK, fmt);
	ssdp_announce_to(sk, ifp, SSDP_GROUP_SITE, fmt);
}

static void
ssdp_announce(struct ssdp *s, enum ssdp_fmt fmt)
{
	size_t k, i;

	for (k = 0; k < PG_NELEM(s->sk); k++)
		for (i = 0; i < s->sk[k].nifs; i++)
			ssdp_announce_if(&s->sk[k], &s->sk[k].ifs[i], fmt);
}

static void
ssdp_notify_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	ssdp_announce(arg, SSDP_FMT_ALIVE);
}

/* ---- bounds ---- */

/* Take one search from b (rate per second, burst as much); 0 if it is empty. */
static int
ssdp_bucket_take(struct ssdp_bucket *b, uint64_t now, unsigned rate)
{
	uint64_t cap = (uint64_t)rate * 1000;

	if (now > b->last_ms)
		b->milli += (now - b->last_ms) * rate;
	b->last_ms = now;
	if (b->milli > cap)
		b->milli = cap;
	if (b->milli < 1000)
		return 0;
	b->milli -= 1000;
	return 1;
}

static int
ssdp_same(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/*
 * The bucket of source a: its own, or the least recently used slot, refilled.
 * An IPv6 host can search from many addresses of its /64: the bucket of all
 * sources and the bound on pending searches still hold it.
 */
static struct ssdp_bucket *
ssdp_src_bucket(struct ssdp *s, const struct in6_addr *a, uint64_t now)
{
	struct ssdp_bucket *b, *lru = &s->src[0];
	size_t i;

	for (i = 0; i < SSDP_SRC_SLOTS; i++) {
		b = &s->src[i];
		if (ssdp_same(&b->addr, a))
			return b;
		if (IN6_IS_ADDR_UNSPECIFIED(&b->addr) ||
		    (!IN6_IS_ADDR_UNSPECIFIED(&lru->addr) && b->last_ms < lru->last_ms))
			lru = b;
	}
	lru->addr = *a;
	lru->last_ms = now;
	lru->milli = (uint64_t)SSDP_RATE_SRC * 1000;
	return lru;
}

static int
ssdp_rate_ok(struct ssdp *s, const struct in6_addr *from)
{
	uint64_t now = ssdp_now_ms(s);

	if (!ssdp_bucket_take(ssdp_src_bucket(s, from, now), now, SSDP_RATE_SRC))
		return 0;
	return ssdp_bucket_take(&s->all, now, SSDP_RATE_ALL);
}

static size_t
ssdp_pend_from(const struct ssdp *s, const struct in6_addr *a)
{
	const struct ssdp_pend *p;
	size_t n = 0;

	TAILQ_FOREACH(p, &s->pend, entry)
		if (ssdp_same(&p->to6, a))
			n++;
	return n;
}

static void
ssdp_pend_free(struct ssdp *s, struct ssdp_pend *p)
{
	TAILQ_REMOVE(&s->pend, p, entry);
	s->npend--;
	event_free(p->ev);
	free(p);
}

static void
ssdp_pend_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ssdp_pend *p = arg;

	(void)fd;
	(void)ev;
	ssdp_reply(p->sk, &p->to, &p->to6, p->ifindex, p->st);
	ssdp_pend_free(p->sk->s, p);
}

static uint32_t
ssdp_random(void)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)util_mono_ms() * 2654435761U;
	return r;
}

/* A multicast search: answered after a random delay in [0, MX) seconds. */
static void
ssdp_schedule(struct ssdp_sock *sk, const struct ssdp_dgram *d, const struct ssdp_msg *m)
{
	struct ssdp *s = sk->s;
	struct ssdp_pend *p;
	struct timeval tv;
	uint32_t ms;

	if (s->npend >= SSDP_PEND_MAX || ssdp_pend_from(s, &d->from6) >= SSDP_PEND_SRC) {
		ssdp_drop(s, d, "too many searches waiting for an answer");
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->ev = evtimer_new(s->p.ctx->base, ssdp_pend_cb, p)) == NULL) {
		free(p);
		ssdp_drop(s, d, "out of memory");
		return;
	}
	p->sk = sk;
	p->to = d->from;
	p->to6 = d->from6;
	p->ifindex = d->ifindex;
	memcpy(p->st, m->st, sizeof(p->st));
	ms = m->mx > 0 ? ssdp_random() % (m->mx * 1000) : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(p->ev, &tv);
	TAILQ_INSERT_TAIL(&s->pend, p, entry);
	s->npend++;
}

/* ---- receiving ---- */

/* Why a datagram is not for us, or NULL: then m holds it and *mcast says how it was sent. */
static const char *
ssdp_screen(struct ssdp_sock *sk, const struct ssdp_dgram *d, const char *buf, size_t len,
    struct ssdp_msg *m, int *mcast, char *why, size_t whylen)
{
	const char *bad;
	enum ssdp_perr e;

	if (ssdp_if_index(sk->ifs, sk->nifs, d->ifindex) == sk->nifs)
		return "not from a LAN interface";
	if ((bad = ssdp_check_addrs(sk->s->p.ctx->netif, sk->v6, &d->from6, d->port, &d->dst,
	    mcast, why, whylen)) != NULL)
		return bad;
	if (d->trunc)
		return ssdp_perr_str(SSDP_ERR_LONG);
	if ((e = ssdp_parse(buf, len, *mcast, m)) != SSDP_OK)
		return ssdp_perr_str(e);
	return NULL;
}

static void
ssdp_handle(struct ssdp_sock *sk, const struct ssdp_dgram *d, const char *buf, size_t len)
{
	struct ssdp *s = sk->s;
	struct ssdp_ans ans[SSDP_NANS];
	struct ssdp_msg m;
	const char *bad;
	char why[160];
	int mcast = 0;

	if ((bad = ssdp_screen(sk, d, buf, len, &m, &mcast, why, sizeof(why))) != NULL) {
		ssdp_drop(s, d, bad);
		return;
	}
	if (m.kind != SSDP_MSEARCH)
		return;		/* other devices' NOTIFYs and answers */
	if (!ssdp_rate_ok(s, &d->from6)) {
		ssdp_drop(s, d, "over the search rate");
		return;
	}
	s->p.stats->ssdp_searches++;
	if (ssdp_answers(&s->p, m.st, ans, PG_NELEM(ans)) == 0)
		return;
	if (mcast)
		ssdp_schedule(sk, d, &m);
	else
		ssdp_reply(sk, &d->from, &d->from6, d->ifindex, m.st);
}

static void
ssdp_dgram_info(struct msghdr *m, struct ssdp_dgram *d)
{
	struct cmsghdr *c;
	struct in_pktinfo pi;
	struct in6_pktinfo pi6;

	d->trunc = (m->msg_flags & MSG_TRUNC) != 0;
	d->port = ssdp_sa_addr(&d->from, &d->from6);
	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			d->ifindex = (unsigned)pi.ipi_ifindex;
			d->dst.s6_addr[10] = d->dst.s6_addr[11] = 0xff;
			memcpy(&d->dst.s6_addr[12], &pi.ipi_addr, 4);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
			d->ifindex = pi6.ipi6_ifindex;
			d->dst = pi6.ipi6_addr;
		}
	}
}

/* Read and handle one datagram; -1 when there is none left. */
static int
ssdp_read_one(struct ssdp_sock *sk)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
	} cbuf;
	char buf[SSDP_RECV_BUF];
	struct ssdp_dgram d;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	ssize_t n;

	memset(&d, 0, sizeof(d));
	memset(&m, 0, sizeof(m));
	m.msg_name = &d.from;
	m.msg_namelen = sizeof(d.from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf.b;
	m.msg_controllen = sizeof(cbuf.b);
	if ((n = recvmsg(sk->fd, &m, 0)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    log_limit_pass(&sk->s->err_log, ssdp_now_ms(sk->s)))
			log_warn("ssdp: recvmsg");
		return -1;
	}
	if (d.from.ss_family != (sk->v6 ? AF_INET6 : AF_INET) || m.msg_namelen <
	    (sk->v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)))
		return 0;
	ssdp_dgram_info(&m, &d);
	ssdp_handle(sk, &d, buf, (size_t)n);
	return 0;
}

static void
ssdp_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	int i;

	(void)fd;
	(void)ev;
	for (i = 0; i < SSDP_READ_BURST; i++)
		if (ssdp_read_one(arg) == -1)
			break;
}

/* ---- life cycle ---- */

/* The groups a socket joins, for log lines. */
static const char *
ssdp_groups_str(const struct ssdp_sock *sk)
{
	return sk->v6 ? "ff02::c and ff05::c" : "239.255.255.250";
}

/*
 * The LAN interfaces with an address of the socket's family now, once each
 * (with the first such address). For IPv6 a global one: netif has no
 * link-local prefixes, and LOCATION must name an address a control point
 * reaches from its own global address.
 */
static size_t
ssdp_lan_ifs(const struct netif *nif, int v6, struct ssdp_if *out, size_t max)
{
	const struct netif_prefix *p;
	size_t np, k, n = 0;

	np = netif_lan_prefixes(nif, &p);
	for (k = 0; k < np && n < max; k++) {
		if (util_addr_is_v4(&p[k].local) == v6 || IN6_IS_ADDR_LINKLOCAL(&p[k].local) ||
		    p[k].ifindex == 0 || ssdp_if_index(out, n, p[k].ifindex) < n)
			continue;
		out[n].ifindex = p[k].ifindex;
		out[n].local = p[k].local;
		snprintf(out[n].name, sizeof(out[n].name), "%s", p[k].ifname);
		n++;
	}
	return n;
}

static int
ssdp_membership6(struct ssdp_sock *sk, unsigned ifindex, enum ssdp_group g, int opt)
{
	struct ipv6_mreq mr;

	memset(&mr, 0, sizeof(mr));
	ssdp_group_addr(g, &mr.ipv6mr_multiaddr);
	mr.ipv6mr_interface = ifindex;
	return setsockopt(sk->fd, IPPROTO_IPV6, opt, &mr, sizeof(mr));
}

/* Join (join = 1) or leave the socket's groups on ifp; -1 if a join failed (none is kept). */
static int
ssdp_membership(struct ssdp_sock *sk, const struct ssdp_if *ifp, int join)
{
	struct ip_mreqn mr;

	if (sk->v6) {
		if (!join) {
			(void)ssdp_membership6(sk, ifp->ifindex, SSDP_GROUP_LINK, IPV6_LEAVE_GROUP);
			return ssdp_membership6(sk, ifp->ifindex, SSDP_GROUP_SITE,
			    IPV6_LEAVE_GROUP);
		}
		if (ssdp_membership6(sk, ifp->ifindex, SSDP_GROUP_LINK, IPV6_JOIN_GROUP) == -1)
			return -1;
		if (ssdp_membership6(sk, ifp->ifindex, SSDP_GROUP_SITE, IPV6_JOIN_GROUP) == 0)
			return 0;
		(void)ssdp_membership6(sk, ifp->ifindex, SSDP_GROUP_LINK, IPV6_LEAVE_GROUP);
		return -1;
	}
	memset(&mr, 0, sizeof(mr));
	mr.imr_multiaddr.s_addr = htonl(SSDP_GROUP4);
	memcpy(&mr.imr_address, &ifp->local.s6_addr[12], sizeof(mr.imr_address));
	mr.imr_ifindex = (int)ifp->ifindex;
	return setsockopt(sk->fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mr,
	    sizeof(mr));
}

/* Leave the interfaces that lost their LAN address or went away. */
static void
ssdp_leave_gone(struct ssdp_sock *sk, const struct ssdp_if *now, size_t nnow)
{
	size_t i, k = 0;

	for (i = 0; i < sk->nifs; i++) {
		if (ssdp_if_index(now, nnow, sk->ifs[i].ifindex) < nnow) {
			sk->ifs[k++] = sk->ifs[i];
			continue;
		}
		(void)ssdp_membership(sk, &sk->ifs[i], 0);	/* fails if it is gone */
		log_info("ssdp: left %s on %s", ssdp_groups_str(sk), sk->ifs[i].name);
	}
	sk->nifs = k;
}

/* Join the groups on the new ones and announce there; a joined one may have a new address. */
static void
ssdp_join_new(struct ssdp_sock *sk, const struct ssdp_if *now, size_t nnow)
{
	struct ssdp *s = sk->s;
	char a[INET6_ADDRSTRLEN];
	size_t i, k;

	for (i = 0; i < nnow; i++) {
		if ((k = ssdp_if_index(sk->ifs, sk->nifs, now[i].ifindex)) < sk->nifs) {
			sk->ifs[k].local = now[i].local;
			continue;
		}
		if (sk->nifs == PG_NELEM(sk->ifs))
			break;
		if (ssdp_membership(sk, &now[i], 1) == -1) {
			if (log_limit_pass(&s->err_log, ssdp_now_ms(s)))
				log_warn("ssdp: cannot join %s on %s", ssdp_groups_str(sk),
				    now[i].name);
			continue;
		}
		sk->ifs[sk->nifs] = now[i];
		log_info("ssdp: joined %s on %s (%s)", ssdp_groups_str(sk), now[i].name,
		    util_addr_str(&now[i].local, a, sizeof(a)));
		ssdp_announce_if(sk, &sk->ifs[sk->nifs++], SSDP_FMT_ALIVE);
	}
}

/* A LAN interface without a global IPv6 address has no IPv6 discovery: said once, at debug. */
static void
ssdp_say_no_v6(struct ssdp *s)
{
	const struct pg_config *cfg = s->p.ctx->cfg;
	const struct ssdp_sock *sk = &s->sk[1];
	size_t i, k;

	for (i = 0; i < cfg->nlan && i < PG_NELEM(s->no_v6_said); i++) {
		for (k = 0; k < sk->nifs; k++)
			if (strcmp(sk->ifs[k].name, cfg->lan_interface[i]) == 0)
				break;
		if (k < sk->nifs) {
			s->no_v6_said[i] = 0;
			continue;
		}
		if (!s->no_v6_said[i])
			log_debug("ssdp: %s has no global IPv6 address (link-local only, or none): "
			    "no IPv6 discovery there", cfg->lan_interface[i]);
		s->no_v6_said[i] = 1;
	}
}

void
ssdp_sync(struct ssdp *s)
{
	struct ssdp_if now[NETIF_MAX_PREFIX];
	size_t k, n;

	if (s == NULL)
		return;
	for (k = 0; k < PG_NELEM(s->sk); k++) {
		if (s->sk[k].fd == -1)
			continue;
		n = ssdp_lan_ifs(s->p.ctx->netif, s->sk[k].v6, now, PG_NELEM(now));
		ssdp_leave_gone(&s->sk[k], now, n);
		ssdp_join_new(&s->sk[k], now, n);
	}
	if (s->sk[1].fd != -1)
		ssdp_say_no_v6(s);
}

static int
ssdp_setopt(int fd, int level, int opt, int val, const char *name)
{
	if (setsockopt(fd, level, opt, &val, sizeof(val)) == -1) {
		log_warn("ssdp: setsockopt %s", name);
		return -1;
	}
	return 0;
}

static int
ssdp_open(struct ssdp_sock *sk)
{
	struct sockaddr_in sin;

	if ((sk->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("ssdp: socket");
		return -1;
	}
	if (ssdp_setopt(sk->fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR") == -1 ||
	    ssdp_setopt(sk->fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO") == -1 ||
	    ssdp_setopt(sk->fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP") == -1 ||
	    ssdp_setopt(sk->fd, IPPROTO_IP, IP_MULTICAST_TTL, SSDP_MULTICAST_TTL,
	    "IP_MULTICAST_TTL") == -1 ||
	    ssdp_setopt(sk->fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL") == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(SSDP_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(sk->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		log_warn("ssdp: bind 0.0.0.0:%d", SSDP_PORT);
		return -1;
	}
	return 0;
}

/* The IPv6 socket, [::]:1900 and IPv6 only; -1 (closed) if the host has no IPv6. */
static int
ssdp_open6(struct ssdp_sock *sk)
{
	struct sockaddr_in6 sin6;

	if ((sk->fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_info("ssdp: no IPv6 socket (%s): IPv4 only", strerror(errno));
		return -1;
	}
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(SSDP_PORT);
	sin6.sin6_addr = in6addr_any;
	if (ssdp_setopt(sk->fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY") == -1 ||
	    ssdp_setopt(sk->fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR") == -1 ||
	    ssdp_setopt(sk->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO") == -1 ||
	    ssdp_setopt(sk->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP") == -1 ||
	    ssdp_setopt(sk->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, SSDP_MULTICAST_TTL,
	    "IPV6_MULTICAST_HOPS") == -1 ||
	    ssdp_setopt(sk->fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, "IPV6_MULTICAST_ALL") == -1 ||
	    bind(sk->fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1) {
		log_warn("ssdp: no IPv6 socket on [::]:%d: IPv4 only", SSDP_PORT);
		close(sk->fd);
		sk->fd = -1;
		return -1;
	}
	return 0;
}

static int
ssdp_start_events(struct ssdp *s)
{
	struct event_base *base = s->p.ctx->base;
	struct timeval alive = { (time_t)s->p.ctx->cfg->upnp_notify_interval, 0 };
	size_t k;

	for (k = 0; k < PG_NELEM(s->sk); k++) {
		if (s->sk[k].fd == -1)
			continue;
		s->sk[k].read_ev = event_new(base, s->sk[k].fd, EV_READ | EV_PERSIST, ssdp_read_cb,
		    &s->sk[k]);
		if (s->sk[k].read_ev == NULL || event_add(s->sk[k].read_ev, NULL) == -1) {
			log_warnx("ssdp: cannot add events");
			return -1;
		}
	}
	s->notify_ev = event_new(base, -1, EV_PERSIST, ssdp_notify_cb, s);
	if (s->notify_ev == NULL || event_add(s->notify_ev, &alive) == -1) {
		log_warnx("ssdp: cannot add events");
		return -1;
	}
	return 0;
}

struct ssdp *
ssdp_new(const struct ssdp_params *p)
{
	struct ssdp *s = xcalloc(1, sizeof(*s));
	size_t k;

	s->p = *p;
	for (k = 0; k < PG_NELEM(s->sk); k++) {
		s->sk[k].s = s;
		s->sk[k].v6 = k == 1;
		s->sk[k].fd = -1;
	}
	TAILQ_INIT(&s->pend);
	log_limit_init(&s->drop_log, 10000, 20);
	log_limit_init(&s->err_log, 10000, 5);
	if (p->ctx->cfg->nlan == 0) {
		log_warnx("ssdp: no lan_interface is configured: nowhere to listen");
		goto fail;
	}
	if (ssdp_open(&s->sk[0]) == -1)
		goto fail;
	(void)ssdp_open6(&s->sk[1]);	/* IPv4 goes on without it */
	if (ssdp_start_events(s) == -1)
		goto fail;
	ssdp_sync(s);
	if (s->sk[0].nifs == 0)
		log_warnx("ssdp: no lan_interface has an IPv4 address yet; "
		    "joining when one has (looking every %d s)", IGD_RESCAN_S);
	return s;
fail:
	ssdp_free(s);
	return NULL;
}

void
ssdp_free(struct ssdp *s)
{
	size_t k;

	if (s == NULL)
		return;
	ssdp_announce(s, SSDP_FMT_BYEBYE);
	while (!TAILQ_EMPTY(&s->pend))
		ssdp_pend_free(s, TAILQ_FIRST(&s->pend));
	for (k = 0; k < PG_NELEM(s->sk); k++) {
		if (s->sk[k].read_ev != NULL)
			event_free(s->sk[k].read_ev);
		if (s->sk[k].fd != -1)
			close(s->sk[k].fd);
	}
	if (s->notify_ev != NULL)
		event_free(s->notify_ev);
	free(s);
}
