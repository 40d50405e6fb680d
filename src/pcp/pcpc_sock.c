/*
 * pcpc_sock.c - the upstream PCP client's sockets, under pcp_client.c.
 *
 * The unicast socket is bound to the WAN address (a request's client address
 * must be its source, §8.1) and connected to the server, so the kernel hands
 * up only the server's datagrams; the client checks their source all the same.
 * An ICMP error on it (ECONNREFUSED) is not an answer: it is read and
 * forgotten. The multicast socket is bound to 224.0.0.1:5350 and joined on the
 * WAN interface only (IP_MULTICAST_ALL off); a datagram counts only if its
 * IP_PKTINFO says it came in there (our own server's ANNOUNCEs on the LAN,
 * looped back, do not).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "pcp/pcp_wire.h"
#include "pcp/pcpc_sock.h"
#include "util.h"

#define PCPC_SOCK_GROUP		0xe0000001u	/* 224.0.0.1 */

struct pcpc_sock {
	int			 fd, mfd;
	struct event		*ev, *mev;
	unsigned		 ifindex;
	pcpc_sock_fn		*fn;
	void			*arg;
	uint64_t		*dropped;
	struct log_limit	 log_limit;
};

static void
sock_v4mapped(const struct in_addr *a, struct in6_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], a, 4);
}

static void
sock_sin(struct sockaddr_in *sin, const struct in6_addr *a, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	memcpy(&sin->sin_addr, &a->s6_addr[12], 4);
}

static void
sock_refused(struct pcpc_sock *s, const char *why)
{
	(*s->dropped)++;
	if (log_limit_pass(&s->log_limit, util_mono_ms()))
		log_debug("pcpc: %s", why);
}

static void
sock_readable(evutil_socket_t fd, short ev, void *arg)
{
	struct pcpc_sock *s = arg;
	uint8_t buf[PCP_WIRE_MAX_LEN + 4];
	struct sockaddr_in from;
	struct in6_addr src;
	socklen_t flen;
	ssize_t n;
	int i;

	(void)ev;
	for (i = 0; i < PCPC_SOCK_BUDGET; i++) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &flen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno != EINTR && log_limit_pass(&s->log_limit, util_mono_ms()))
				log_debug("pcpc: recv: %s", strerror(errno));
			continue;
		}
		if ((size_t)n > sizeof(buf) || flen < sizeof(from) || from.sin_family != AF_INET) {
			sock_refused(s, "a datagram too long, or not IPv4");
			continue;
		}
		sock_v4mapped(&from.sin_addr, &src);
		s->fn(s->arg, buf, (size_t)n, &src, ntohs(from.sin_port), 0);
	}
}

/* The interface a datagram came in on (IP_PKTINFO), 0 if not said. */
static unsigned
sock_ifindex(struct msghdr *msg)
{
	struct in_pktinfo pi;
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm))
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			return (unsigned)pi.ipi_ifindex;
		}
	return 0;
}

static void
sock_mreadable(evutil_socket_t fd, short ev, void *arg)
{
	struct pcpc_sock *s = arg;
	uint8_t buf[PCP_WIRE_MAX_LEN + 4], cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in from;
	struct in6_addr src;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
	int i;

	(void)ev;
	for (i = 0; i < PCPC_SOCK_BUDGET; i++) {
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		if ((n = recvmsg(fd, &msg, MSG_TRUNC)) == -1)
			break;
		if ((size_t)n > sizeof(buf) || msg.msg_namelen < sizeof(from) ||
		    from.sin_family != AF_INET || sock_ifindex(&msg) != s->ifindex) {
			sock_refused(s, "a multicast datagram too long, or not from the WAN");
			continue;
		}
		sock_v4mapped(&from.sin_addr, &src);
		s->fn(s->arg, buf, (size_t)n, &src, ntohs(from.sin_port), 1);
	}
}

static int
sock_open(struct pcpc_sock *s, struct event_base *base, const struct in6_addr *local)
{
	struct sockaddr_in sin;

	if ((s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("pcpc: socket");
		return -1;
	}
	sock_sin(&sin, local, 0);
	if (bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		log_warn("pcpc: bind to the WAN address");
		return -1;
	}
	if ((s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, sock_readable, s)) == NULL ||
	    event_add(s->ev, NULL) == -1) {
		log_warnx("pcpc: cannot watch the socket");
		return -1;
	}
	return 0;
}

/* 224.0.0.1:5350 joined on the WAN interface only; -1 (and why, at debug level) if not. */
static int
sock_open_mcast(struct pcpc_sock *s, struct event_base *base)
{
	struct sockaddr_in sin;
	struct ip_mreqn mr;
	int one = 1, zero = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(PCP_WIRE_CLIENT_PORT);
	sin.sin_addr.s_addr = htonl(PCPC_SOCK_GROUP);
	memset(&mr, 0, sizeof(mr));
	mr.imr_multiaddr.s_addr = htonl(PCPC_SOCK_GROUP);
	mr.imr_ifindex = (int)s->ifindex;
	if ((s->mfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(s->mfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(s->mfd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) == -1 ||
	    bind(s->mfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    setsockopt(s->mfd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) == -1 ||
	    setsockopt(s->mfd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) == -1) {
		log_debug("pcpc: no ANNOUNCEs from 224.0.0.1:5350 on the WAN: %s", strerror(errno));
		return -1;
	}
	if ((s->mev = event_new(base, s->mfd, EV_READ | EV_PERSIST, sock_mreadable, s)) == NULL ||
	    event_add(s->mev, NULL) == -1) {
		log_debug("pcpc: cannot watch the multicast socket");
		return -1;
	}
	return 0;
}

static void
sock_close_mcast(struct pcpc_sock *s)
{
	if (s->mev != NULL)
		event_free(s->mev);
	if (s->mfd != -1)
		close(s->mfd);
	s->mev = NULL;
	s->mfd = -1;
}

struct pcpc_sock *
pcpc_sock_new(struct event_base *base, const struct in6_addr *local, unsigned ifindex,
    pcpc_sock_fn *fn, void *arg, uint64_t *dropped)
{
	struct pcpc_sock *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("pcpc");
		return NULL;
	}
	s->fd = s->mfd = -1;
	s->ifindex = ifindex;
	s->fn = fn;
	s->arg = arg;
	s->dropped = dropped;
	log_limit_init(&s->log_limit, 10000, 20);
	if (sock_open(s, base, local) == -1) {
		pcpc_sock_free(s);
		return NULL;
	}
	if (ifindex != 0 && sock_open_mcast(s, base) == -1)
		sock_close_mcast(s);
	return s;
}

void
pcpc_sock_free(struct pcpc_sock *s)
{
	if (s == NULL)
		return;
	sock_close_mcast(s);
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->fd != -1)
		close(s->fd);
	free(s);
}

int
pcpc_sock_connect(struct pcpc_sock *s, const struct in6_addr *server, uint16_t port)
{
	struct sockaddr_in sin;

	sock_sin(&sin, server, port);
	if (connect(s->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		log_warn("pcpc: connect");
		return -1;
	}
	return 0;
}

int
pcpc_sock_send(struct pcpc_sock *s, const uint8_t *buf, size_t len)
{
	return send(s->fd, buf, len, 0) == -1 ? -1 : 0;
}
