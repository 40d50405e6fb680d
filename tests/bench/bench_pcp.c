/*
 * bench_pcp.c - a PCP load client: MAP requests over one UDP socket.
 *
 *   bench_pcp GW CLIENT latency COUNT PORT0   COUNT sequential MAP creates for internal
 *                                             ports PORT0.., one request in flight
 *   bench_pcp GW CLIENT rate SECONDS PORT0 N  as many MAP refreshes of N mappings
 *                                             (PORT0..) as the server answers in SECONDS,
 *                                             64 requests in flight
 *   bench_pcp GW CLIENT delete COUNT PORT0    delete what latency created
 *
 * GW and CLIENT may be IPv6 addresses: a MAP from an IPv6 host opens a pinhole.
 *
 * latency prints "latency COUNT mean_us p50_us p99_us errors", rate prints
 * "rate SECONDS answered per_second errors". Bounded by COUNT, SECONDS and a
 * 1 s timeout per reply.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW	64

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* A 60-octet MAP request: TCP, internal port = suggested external port. */
static void
map_req(uint8_t *p, const struct in6_addr *client, uint16_t port, uint32_t lifetime)
{
	uint32_t lt = htonl(lifetime);
	uint16_t pt = htons(port);

	memset(p, 0, 60);
	p[0] = 2;
	p[1] = 1;
	memcpy(p + 4, &lt, 4);
	memcpy(p + 8, client, 16);	/* v4-mapped for IPv4 */
	memcpy(p + 24, &pt, 2);		/* nonce: the port, so each mapping has its own */
	p[36] = 6;
	memcpy(p + 40, &pt, 2);
	memcpy(p + 42, &pt, 2);
	if (client->s6_addr[10] == 0xff && client->s6_addr[11] == 0xff)
		p[54] = p[55] = 0xff;	/* suggested external: ::ffff:0.0.0.0 or :: */
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One reply within timeout_ms: 0 if it says SUCCESS, -1 otherwise. */
static int
get_reply(int s, int timeout_ms)
{
	struct pollfd pfd = { s, POLLIN, 0 };
	uint8_t buf[1100];
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0 || (n = recv(s, buf, sizeof(buf), 0)) < 24)
		return -1;
	return buf[3] == 0 ? 0 : -1;
}

static int
latency(int s, const struct in6_addr *client, long count, long port0, uint32_t lifetime)
{
	double *lat = calloc((size_t)count, sizeof(*lat)), t0, sum = 0;
	uint8_t req[60];
	long i, ok = 0, errs = 0;

	if (lat == NULL)
		return 1;
	for (i = 0; i < count; i++) {
		map_req(req, client, (uint16_t)(port0 + i), lifetime);
		t0 = now_us();
		if (send(s, req, sizeof(req), 0) != sizeof(req) || get_reply(s, 1000) == -1) {
			errs++;
			continue;
		}
		lat[ok] = now_us() - t0;
		sum += lat[ok++];
	}
	if (ok == 0) {
		printf("latency %ld - - - %ld\n", count, errs);
		return 1;
	}
	qsort(lat, (size_t)ok, sizeof(*lat), cmp_double);
	printf("latency %ld %.1f %.1f %.1f %ld\n", count, sum / (double)ok, lat[ok / 2],
	    lat[(size_t)((double)ok * 0.99)], errs);
	free(lat);
	return 0;
}

static int
rate(int s, const struct in6_addr *client, double secs, long port0, long n)
{
	uint8_t req[60];
	double end = now_us() + secs * 1e6, t0 = now_us();
	long sent = 0, answered = 0, errs = 0, inflight = 0;

	while (now_us() < end) {
		while (inflight < WINDOW) {
			map_req(req, client, (uint16_t)(port0 + sent % n), 3600);
			if (send(s, req, sizeof(req), 0) != sizeof(req))
				break;
			sent++;
			inflight++;
		}
		if (get_reply(s, 1000) == 0)
			answered++;
		else
			errs++;
		inflight--;
	}
	while (inflight-- > 0 && get_reply(s, 200) != -2)
		;
	printf("rate %.0f %ld %.0f %ld\n", secs, answered, (double)answered /
	    ((now_us() - t0) / 1e6), errs);
	return answered > 0 ? 0 : 1;
}

/* An address, IPv4 as v4-mapped IPv6; the socket address of GW's port 5351. */
static int
parse(const char *gw, const char *cl, struct sockaddr_storage *ss, socklen_t *sl,
    struct in6_addr *client)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct in_addr v4;

	memset(ss, 0, sizeof(*ss));
	memset(client, 0, sizeof(*client));
	if (inet_pton(AF_INET, gw, &sin->sin_addr) == 1 && inet_pton(AF_INET, cl, &v4) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(5351);
		*sl = sizeof(*sin);
		client->s6_addr[10] = client->s6_addr[11] = 0xff;
		memcpy(&client->s6_addr[12], &v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, gw, &sin6->sin6_addr) == 1 && inet_pton(AF_INET6, cl, client) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(5351);
		*sl = sizeof(*sin6);
		return 0;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct in6_addr client;
	socklen_t sl;
	int s;

	if (argc < 6) {
		fprintf(stderr, "usage: bench_pcp GW CLIENT latency|rate|delete N PORT0 [MAPPINGS]\n");
		return 2;
	}
	if (parse(argv[1], argv[2], &ss, &sl, &client) == -1)
		return 2;
	if ((s = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&ss, sl) == -1)
		return 1;
	if (strcmp(argv[3], "latency") == 0)
		return latency(s, &client, atol(argv[4]), atol(argv[5]), 3600);
	if (strcmp(argv[3], "delete") == 0)
		return latency(s, &client, atol(argv[4]), atol(argv[5]), 0);
	if (strcmp(argv[3], "rate") == 0 && argc > 6)
		return rate(s, &client, atof(argv[4]), atol(argv[5]), atol(argv[6]));
	return 2;
}
