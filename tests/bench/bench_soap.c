/*
 * bench_soap.c - a UPnP control load client: one new TCP connection per SOAP
 * request, as real control points do, timing each request from connect() to
 * the end of the reply.
 *
 *   bench_soap [-b SOURCE] [-s VERSION] [-t SECONDS] HOST PORT CLIENT ACTION COUNT [ARG]
 *     ACTION extip    GetExternalIPAddress (the floor: no table, no firewall)
 *            add      AddPortMapping tcp ARG.. ARG+COUNT-1 -> CLIENT (lease 3600)
 *            del      DeletePortMapping tcp ARG.. ARG+COUNT-1
 *            generic  GetGenericPortMappingEntry, indexes spread over [0, ARG)
 *            walk     GetGenericPortMappingEntry 0, 1, .. until the first error
 *                     (713 past the end), at most COUNT requests
 *   -s VERSION  the WANIPConnection version to address (default 2; miniupnpd's
 *               and portgate's descriptions both say which one they serve)
 *   -t SECONDS  stop sending after SECONDS (COUNT then is an upper bound)
 *   -b SOURCE   connect from this local IPv4 address (one of the host's)
 *
 * Prints "ACTION SENT mean_ms p50_ms p99_ms max_ms errors" (walk: "walk ENTRIES
 * total_ms mean_ms p99_ms max_ms errors", the request that ended it not
 * counted); exits 1 if no request succeeded. Requests go one after another
 * (bounded by COUNT, -t and a 5 s timeout each).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char t_ipc[64] = "urn:schemas-upnp-org:service:WANIPConnection:2";
static struct sockaddr_in src_sin;	/* -b: the source address; sin_family 0 if none */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *soap_name(const char *);

static void
body_for(char *buf, size_t len, const char *action, long i, const char *client, long arg)
{
	char args[1024] = "";

	if (strcmp(action, "add") == 0)
		snprintf(args, sizeof(args), "<NewRemoteHost></NewRemoteHost><NewExternalPort>%ld"
		    "</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>%ld"
		    "</NewInternalPort><NewInternalClient>%s</NewInternalClient><NewEnabled>1"
		    "</NewEnabled><NewPortMappingDescription>bench</NewPortMappingDescription>"
		    "<NewLeaseDuration>3600</NewLeaseDuration>", arg + i, arg + i, client);
	else if (strcmp(action, "del") == 0)
		snprintf(args, sizeof(args), "<NewRemoteHost></NewRemoteHost><NewExternalPort>%ld"
		    "</NewExternalPort><NewProtocol>TCP</NewProtocol>", arg + i);
	else if (strcmp(action, "generic") == 0)
		snprintf(args, sizeof(args), "<NewPortMappingIndex>%ld</NewPortMappingIndex>",
		    arg > 0 ? (i * 7919) % arg : 0);
	else if (strcmp(action, "walk") == 0)
		snprintf(args, sizeof(args), "<NewPortMappingIndex>%ld</NewPortMappingIndex>", i);
	snprintf(buf, len, "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas."
	    "xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/"
	    "encoding/\"><s:Body><u:%s xmlns:u=\"%s\">%s</u:%s></s:Body></s:Envelope>"
	    "\r\n", soap_name(action), t_ipc, args, soap_name(action));
}

static const char *
soap_name(const char *a)
{
	if (strcmp(a, "add") == 0)
		return "AddPortMapping";
	if (strcmp(a, "del") == 0)
		return "DeletePortMapping";
	if (strcmp(a, "generic") == 0 || strcmp(a, "walk") == 0)
		return "GetGenericPortMappingEntry";
	return "GetExternalIPAddress";
}

/* One request on a new connection; 0 if the reply was 200 OK. */
static int
request(const struct sockaddr_in *sin, const char *host, const char *req, size_t len)
{
	struct timeval tv = { 5, 0 };
	char buf[8192];
	size_t got = 0;
	ssize_t n;
	int s, ok;

	(void)host;
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((src_sin.sin_family == AF_INET && bind(s, (const struct sockaddr *)&src_sin,
	    sizeof(src_sin)) == -1) || connect(s, (const struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    write(s, req, len) != (ssize_t)len) {
		close(s);
		return -1;
	}
	while ((n = read(s, buf + got, sizeof(buf) - 1 - got)) > 0 && got + (size_t)n <
	    sizeof(buf) - 1)
		got += (size_t)n;
	buf[got] = '\0';
	close(s);
	ok = strncmp(buf, "HTTP/1.1 200", 12) == 0 || strncmp(buf, "HTTP/1.0 200", 12) == 0;
	return ok ? 0 : -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *action, long sent, double *lat, long ok, double sum, double total, long errs)
{
	size_t p99;

	if (ok == 0) {
		printf("%s %ld - - - - %ld\n", action, sent, errs);
		return;
	}
	qsort(lat, (size_t)ok, sizeof(*lat), cmp_double);
	p99 = (size_t)((double)ok * 0.99) < (size_t)ok ? (size_t)((double)ok * 0.99) :
	    (size_t)ok - 1;
	if (strcmp(action, "walk") == 0)
		printf("walk %ld %.3f %.3f %.3f %.3f %ld\n", ok, total, sum / (double)ok,
		    lat[p99], lat[ok - 1], errs);
	else
		printf("%s %ld %.3f %.3f %.3f %.3f %ld\n", action, sent, sum / (double)ok,
		    lat[ok / 2], lat[p99], lat[ok - 1], errs);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	char body[2048], req[4096];
	double *lat, t0, start, sum = 0, limit_ms = 0;
	long count, arg, i, ok = 0, errs = 0;
	int len, c, walk;

	while ((c = getopt(argc, argv, "b:s:t:")) != -1) {
		if (c == 'b') {
			src_sin.sin_family = AF_INET;
			if (inet_pton(AF_INET, optarg, &src_sin.sin_addr) != 1)
				return 2;
		} else if (c == 's')
			snprintf(t_ipc, sizeof(t_ipc), "urn:schemas-upnp-org:service:"
			    "WANIPConnection:%d", atoi(optarg));
		else if (c == 't')
			limit_ms = atof(optarg) * 1e3;
		else
			return 2;
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 6) {
		fprintf(stderr, "usage: bench_soap [-s VERSION] [-t SECONDS] HOST PORT CLIENT "
		    "ACTION COUNT [ARG]\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	count = atol(argv[5]);
	arg = argc > 6 ? atol(argv[6]) : 0;
	walk = strcmp(argv[4], "walk") == 0;
	if (count <= 0 || count > 100000 || (lat = calloc((size_t)count, sizeof(*lat))) == NULL)
		return 2;
	start = now_ms();
	for (i = 0; i < count; i++) {
		if (limit_ms > 0 && now_ms() - start > limit_ms)
			break;
		body_for(body, sizeof(body), argv[4], i, argv[3], arg);
		len = snprintf(req, sizeof(req), "POST /ctl/IPConn HTTP/1.1\r\nHost: %s:%s\r\n"
		    "Content-Type: text/xml; charset=\"utf-8\"\r\nSOAPAction: \"%s#%s\"\r\n"
		    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", argv[1], argv[2],
		    t_ipc, soap_name(argv[4]), strlen(body), body);
		t0 = now_ms();
		if (request(&sin, argv[1], req, (size_t)len) == 0) {
			lat[ok] = now_ms() - t0;
			sum += lat[ok++];
		} else if (walk)
			break;
		else
			errs++;
	}
	report(argv[4], i, lat, ok, sum, now_ms() - start, errs);
	free(lat);
	return ok > 0 ? 0 : 1;
}
