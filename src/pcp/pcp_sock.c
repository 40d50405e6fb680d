/*
 * pcp_sock.c - UDP 5351 on the LAN: the sockets PCP and NAT-PMP are
 * answered on, under pcp_server.c.
 *
 * One socket on 0.0.0.0:5351 with IP_PKTINFO, and one on [::]:5351 with
 * IPV6_PKTINFO where the host has IPv6: a datagram counts only if it
 * arrived on a LAN interface from a LAN host (anything else is counted as
 * dropped), and the answer leaves from the address it was sent to. Each
 * socket is read at most PCP_SOCK_BUDGET times a loop turn. What arrives
 * goes to the handler the creator gave, with the destination of its answer
 * (struct pcp_dest); the layer knows nothing of what the bytes say.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "netif.h"
#include "pcp/pcp_sock.h"
#include "pcp/pcp_wire.h"
#include "util.h"

/* More than the longest request: a longer datagram, cut to this, is still seen to be too long. */
#define PCP_SOCK_RECV_LEN	(PCP_WIRE_MAX_LEN + 4)

struct pcp_sock {
	struct pg_ctx		*ctx;
	int			 fd;
	int			 fd6;		/* PCP over IPv6, where the LAN has it (-1: none) */
	struct event		*ev;
	struct event		*ev6;
	pcp_sock_fn		*fn;
	void			*arg;
	uint64_t		*dropped;	/* the creator's count of what is not ours */
	struct log_limit	 log_limit;
};

/* The LAN interface ifindex arrived on, or 0 if it is not one of ours. */
static int
pcp_lan_ifindex(const struct pcp_sock *s, unsigned ifindex)
{
	const struct netif_prefix *p;
	size_t i, n = netif_lan_prefixes(s->ctx->netif, &p);

	for (i = 0; i < n; i++)
		if (p[i].ifindex == ifindex)
			return 1;
	return 0;
}

/*
 * sendmsg/recvmsg with the one control message that carries the local side
 * (IP_PKTINFO or IPV6_PKTINFO): shared by both sockets.
 */
union pcp_cbuf {
	char		 b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr	 align;
};

static void
pcp_sendmsg(struct pcp_sock *s, int fd, const void *buf, size_t len, const void *to,
    socklen_t tolen, int type, const void *pi, size_t pilen)
{
	union pcp_cbuf cbuf;
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	mh.msg_name = (void *)(uintptr_t)to;
	mh.msg_namelen = tolen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.b;
	mh.msg_controllen = CMSG_SPACE(pilen);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = type == IP_PKTINFO ? IPPROTO_IP : IPPROTO_IPV6;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(pilen);
	memcpy(CMSG_DATA(cm), pi, pilen);
	if (sendmsg(fd, &mh, MSG_DONTWAIT) == -1 && log_limit_pass(&s->log_limit,
	    util_mono_ms()))
		log_warn("pcp: sendmsg");
}

/*
 * One datagram with its pktinfo copied to pi; -1 when none is queued, -2 if
 * unusable. One longer than the buffer (PCP_SOCK_RECV_LEN) comes back cut to
 * it: still longer than 1100 octets, which is all the decoder needs to
 * answer it (RFC 6887 §8.2: "If the length of the message exceeds 1100
 * octets, is not a multiple of 4 octets, or is too short for the Opcode in
 * question, it is invalid and a MALFORMED_REQUEST response is generated,
 * and the response message is truncated to 1100 octets.").
 */
static ssize_t
pcp_recvmsg(int fd, uint8_t *buf, size_t len, void *from, socklen_t fromlen, int type,
    void *pi, size_t pilen)
{
	union pcp_cbuf cbuf;
	struct iovec iov = { buf, len };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;
	int got = 0;

	memset(&mh, 0, sizeof(mh));
	mh.msg_name = from;
	mh.msg_namelen = fromlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.b;
	mh.msg_controllen = sizeof(cbuf);
	if ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) == -1)
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_type == type && (cm->cmsg_level == IPPROTO_IP ||
		    cm->cmsg_level == IPPROTO_IPV6)) {
			memcpy(pi, CMSG_DATA(cm), pilen);
			got = 1;
		}
	if (!got || mh.msg_namelen != fromlen)
		return -2;
	return n;
}

static void
pcp_send(struct pcp_sock *s, const void *buf, size_t len, const struct sockaddr_in *to,
    const struct in_addr *from, unsigned ifindex)
{
	struct in_pktinfo pi;

	memset(&pi, 0, sizeof(pi));
	pi.ipi_ifindex = (int)ifindex;
	if (from != NULL)
		pi.ipi_spec_dst = *from;
	pcp_sendmsg(s, s->fd, buf, len, to, sizeof(*to), IP_PKTINFO, &pi, sizeof(pi));
}

/* One datagram: source, destination and interface from IP_PKTINFO; -1 if none is usable. */
static ssize_t
pcp_recv(struct pcp_sock *s, uint8_t *buf, size_t len, struct sockaddr_in *from,
    struct in_pktinfo *pi)
{
	ssize_t n = pcp_recvmsg(s->fd, buf, len, from, sizeof(*from), IP_PKTINFO, pi,
	    sizeof(*pi));

	return n >= 0 && from->sin_family != AF_INET ? -2 : n;
}

static void
pcp_readable(evutil_socket_t fd, short ev, void *arg)
{
	struct pcp_sock *s = arg;
	uint8_t buf[PCP_SOCK_RECV_LEN];
	struct sockaddr_in from;
	struct in_pktinfo pi;
	struct pcp_sock_dgram g;
	ssize_t n;
	int budget = PCP_SOCK_BUDGET;

	(void)fd;
	(void)ev;
	while (budget-- > 0 && (n = pcp_recv(s, buf, sizeof(buf), &from, &pi)) != -1) {
		memset(&g, 0, sizeof(g));
		g.src.s6_addr[10] = g.src.s6_addr[11] = 0xff;
		memcpy(&g.src.s6_addr[12], &from.sin_addr, 4);
		/* the WAN side, a foreign source, a cut datagram: not ours to answer */
		if (n < 0 || !pcp_lan_ifindex(s, (unsigned)pi.ipi_ifindex) ||
		    !netif_client_ok(s->ctx->netif, &g.src, NULL, 0) ||
		    ntohs(from.sin_port) == 0) {
			(*s->dropped)++;
			continue;
		}
		g.buf = buf;
		g.len = (size_t)n;
		g.sport = ntohs(from.sin_port);
		g.dst = g.src;
		memcpy(&g.dst.s6_addr[12], &pi.ipi_addr, 4);
		g.reply.family = AF_INET;
		g.reply.to = from;
		g.reply.from = pi.ipi_addr;
		s->fn(s->arg, &g);
	}
}

/* ---- the IPv6 socket ---- */

static void
pcp_send6(struct pcp_sock *s, const void *buf, size_t len, const struct sockaddr_in6 *to,
    const struct in6_addr *from, unsigned ifindex)
{
	struct in6_pktinfo pi;

	memset(&pi, 0, sizeof(pi));
	pi.ipi6_ifindex = ifindex;
	if (from != NULL)
		pi.ipi6_addr = *from;
	pcp_sendmsg(s, s->fd6, buf, len, to, sizeof(*to), IPV6_PKTINFO, &pi, sizeof(pi));
}

static ssize_t
pcp_recv6(struct pcp_sock *s, uint8_t *buf, size_t len, struct sockaddr_in6 *from,
    struct in6_pktinfo *pi)
{
	ssize_t n = pcp_recvmsg(s->fd6, buf, len, from, sizeof(*from), IPV6_PKTINFO, pi,
	    sizeof(*pi));

	return n >= 0 && from->sin6_family != AF_INET6 ? -2 : n;
}

/* The same over IPv6 (the handler drops NAT-PMP there: it is IPv4's). */
static void
pcp_readable6(evutil_socket_t fd, short ev, void *arg)
{
	struct pcp_sock *s = arg;
	uint8_t buf[PCP_SOCK_RECV_LEN];
	struct sockaddr_in6 from;
	struct in6_pktinfo pi;
	struct pcp_sock_dgram g;
	ssize_t n;
	int budget = PCP_SOCK_BUDGET;

	(void)fd;
	(void)ev;
	while (budget-- > 0 && (n = pcp_recv6(s, buf, sizeof(buf), &from, &pi)) != -1) {
		memset(&g, 0, sizeof(g));
		g.src = from.sin6_addr;
		if (n < 1 || !pcp_lan_ifindex(s, pi.ipi6_ifindex) ||
		    !netif_client_ok(s->ctx->netif, &g.src, NULL, 0) || from.sin6_port == 0) {
			(*s->dropped)++;
			continue;
		}
		g.buf = buf;
		g.len = (size_t)n;
		g.sport = ntohs(from.sin6_port);
		g.dst = pi.ipi6_addr;
		g.reply.family = AF_INET6;
		g.reply.to6 = from;
		g.reply.from6 = pi.ipi6_addr;
		s->fn(s->arg, &g);
	}
}

static int
pcp_open6(struct pcp_sock *s)
{
	struct sockaddr_in6 sin6;
	int on = 1;

	if ((s->fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(PCP_SOCK_PORT);
	if (setsockopt(s->fd6, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1 ||
	    setsockopt(s->fd6, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(s->fd6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) == -1 ||
	    bind(s->fd6, (struct sockaddr *)&sin6, sizeof(sin6)) == -1) {
		log_debug("pcp: no IPv6 socket: %s", strerror(errno));
		close(s->fd6);
		s->fd6 = -1;
		return -1;
	}
	return 0;
}

static int
pcp_open(struct pcp_sock *s)
{
	struct sockaddr_in sin;
	int on = 1;

	if ((s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("pcp: socket");
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(PCP_SOCK_PORT);
	if (setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == -1 ||
	    bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		log_warn("pcp: cannot listen on UDP port %d", PCP_SOCK_PORT);
		return -1;
	}
	return 0;
}


struct pcp_sock *
pcp_sock_new(struct pg_ctx *ctx, pcp_sock_fn *fn, void *arg, uint64_t *dropped)
{
	struct pcp_sock *s = xcalloc(1, sizeof(*s));

	s->ctx = ctx;
	s->fd = -1;
	s->fd6 = -1;
	s->fn = fn;
	s->arg = arg;
	s->dropped = dropped;
	log_limit_init(&s->log_limit, 10000, 50);
	if (pcp_open(s) == -1) {
		pcp_sock_free(s);
		return NULL;
	}
	if (pcp_open6(s) == 0 && ((s->ev6 = event_new(ctx->base, s->fd6, EV_READ | EV_PERSIST,
	    pcp_readable6, s)) == NULL || event_add(s->ev6, NULL) == -1))
		log_warnx("pcp: cannot watch the IPv6 socket");
	s->ev = event_new(ctx->base, s->fd, EV_READ | EV_PERSIST, pcp_readable, s);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1) {
		pcp_sock_free(s);
		return NULL;
	}
	return s;
}

void
pcp_sock_free(struct pcp_sock *s)
{
	if (s == NULL)
		return;
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->ev6 != NULL)
		event_free(s->ev6);
	if (s->fd6 != -1)
		close(s->fd6);
	if (s->fd != -1)
		close(s->fd);
	free(s);
}

int
pcp_sock_has6(const struct pcp_sock *s)
{
	return s != NULL && s->fd6 != -1;
}

void
pcp_sock_send(struct pcp_sock *s, const struct pcp_dest *d, const uint8_t *buf, size_t len)
{
	if (s == NULL)
		return;
	if (d->family == AF_INET && len > 0)
		pcp_send(s, buf, len, &d->to, &d->from, d->ifindex);
	else if (d->family == AF_INET6 && len > 0)
		pcp_send6(s, buf, len, &d->to6, &d->from6, d->ifindex);
}
