/*
 * bench_flow.c - data-plane load through a port mapping (bench-compare.sh).
 *
 *   bench_flow conn HOST PORT SECONDS    TCP connect + close (RST) as fast as the path
 *                                        allows, 16 connects in flight; each one is a new
 *                                        flow the gateway's DNAT must look up
 *   bench_flow accept PORT SECONDS       a listener that accepts and closes
 *   bench_flow udp HOST PORT SECONDS     64-octet UDP datagrams at full speed, one flow
 *   bench_flow sink PORT SECONDS         count UDP datagrams received
 *
 * conn prints "conn SECONDS connected per_second errors", udp "udp SECONDS sent
 * per_second errors", sink "sink SECONDS received per_second" (the rate over the
 * time between the first and the last datagram), accept "accept SECONDS accepted".
 * Every mode stops after SECONDS (at most 600); a connect gets 1 s.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define INFLIGHT	16
#define BATCH		32

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
addr(struct sockaddr_in *sin, const char *host, const char *port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(port));
	if (host == NULL) {
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/* A non-blocking connect to sin; the socket, or -1. */
static int
start_connect(const struct sockaddr_in *sin)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (s == -1)
		return -1;
	if (connect(s, (const struct sockaddr *)sin, sizeof(*sin)) == -1 &&
	    errno != EINPROGRESS) {
		close(s);
		return -1;
	}
	return s;
}

/* Close with a RST: no TIME_WAIT, so the client's ports last the whole run. */
static void
close_rst(int s)
{
	struct linger lg = { 1, 0 };

	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
}

static int
do_conn(const struct sockaddr_in *sin, double secs)
{
	struct pollfd pfd[INFLIGHT];
	double since[INFLIGHT], t0 = now_s(), end = t0 + secs, t;
	long done = 0, errs = 0;
	socklen_t sl;
	int i, err;

	for (i = 0; i < INFLIGHT; i++) {
		pfd[i].fd = start_connect(sin);
		pfd[i].events = POLLOUT;
		since[i] = t0;
	}
	while ((t = now_s()) < end) {
		if (poll(pfd, INFLIGHT, 100) == -1 && errno != EINTR)
			break;
		t = now_s();
		for (i = 0; i < INFLIGHT; i++) {
			if (pfd[i].fd != -1 && !(pfd[i].revents & (POLLOUT | POLLERR | POLLHUP)) &&
			    t - since[i] < 1.0)
				continue;
			if (pfd[i].fd != -1) {
				err = 1;
				sl = sizeof(err);
				if (pfd[i].revents & POLLOUT)
					getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &sl);
				if (err == 0)
					done++;
				else
					errs++;
				close_rst(pfd[i].fd);
			} else
				errs++;
			pfd[i].fd = start_connect(sin);
			pfd[i].revents = 0;
			since[i] = t;
		}
	}
	for (i = 0; i < INFLIGHT; i++)
		if (pfd[i].fd != -1)
			close_rst(pfd[i].fd);
	printf("conn %.0f %ld %.0f %ld\n", secs, done, (double)done / (now_s() - t0), errs);
	return done > 0 ? 0 : 1;
}

static int
do_accept(const struct sockaddr_in *sin, double secs)
{
	double end = now_s() + secs;
	long n = 0;
	int s, c, one = 1;
	struct pollfd pfd;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (const struct sockaddr *)sin, sizeof(*sin)) == -1 || listen(s, 1024) == -1)
		return 1;
	pfd.fd = s;
	pfd.events = POLLIN;
	while (now_s() < end) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while ((c = accept4(s, NULL, NULL, SOCK_NONBLOCK)) != -1) {
			close(c);
			n++;
		}
	}
	printf("accept %.0f %ld\n", secs, n);
	return 0;
}

static int
do_udp(const struct sockaddr_in *sin, double secs)
{
	struct mmsghdr msg[BATCH];
	struct iovec iov;
	char payload[64];
	double t0 = now_s(), end = t0 + secs;
	long sent = 0, errs = 0;
	int s, i, n;

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    connect(s, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		return 1;
	memset(payload, 'x', sizeof(payload));
	iov.iov_base = payload;
	iov.iov_len = sizeof(payload);
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < BATCH; i++) {
		msg[i].msg_hdr.msg_iov = &iov;
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	while (now_s() < end) {
		if ((n = sendmmsg(s, msg, BATCH, 0)) > 0)
			sent += n;
		else
			errs++;
	}
	printf("udp %.0f %ld %.0f %ld\n", secs, sent, (double)sent / (now_s() - t0), errs);
	return 0;
}

static int
do_sink(const struct sockaddr_in *sin, double secs)
{
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	char buf[BATCH][128];
	double end = now_s() + secs, first = 0, last = 0;
	long n = 0;
	int s, i, got, rcv = 4 << 20;
	struct pollfd pfd;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		return 1;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(s, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		return 1;
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	pfd.fd = s;
	pfd.events = POLLIN;
	while (now_s() < end) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while ((got = recvmmsg(s, msg, BATCH, 0, NULL)) > 0) {
			if (n == 0)
				first = now_s();
			n += got;
			last = now_s();
		}
	}
	printf("sink %.0f %ld %.0f\n", secs, n, last > first ? (double)n / (last - first) : 0.0);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	double secs;

	if (argc < 4)
		goto usage;
	secs = atof(argv[argc - 1]);
	if (secs <= 0 || secs > 600)
		goto usage;
	if (strcmp(argv[1], "conn") == 0 && argc == 5 && addr(&sin, argv[2], argv[3]) == 0)
		return do_conn(&sin, secs);
	if (strcmp(argv[1], "udp") == 0 && argc == 5 && addr(&sin, argv[2], argv[3]) == 0)
		return do_udp(&sin, secs);
	if (strcmp(argv[1], "accept") == 0 && argc == 4 && addr(&sin, NULL, argv[2]) == 0)
		return do_accept(&sin, secs);
	if (strcmp(argv[1], "sink") == 0 && argc == 4 && addr(&sin, NULL, argv[2]) == 0)
		return do_sink(&sin, secs);
usage:
	fprintf(stderr, "usage: bench_flow conn|udp HOST PORT SECONDS | accept|sink PORT SECONDS\n");
	return 2;
}
