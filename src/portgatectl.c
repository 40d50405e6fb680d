/* portgatectl.c - the admin's client for portgated's control socket. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin_pw.h"
#include "conf.h"
#include "ctl_line.h"
#include "import_mu.h"
#include "mt_vocab.h"
#include "util.h"

#define PGCTL_WINDOW	64
#define PGCTL_DEFAULT_SOCKET "/run/portgate/portgated.sock"	/* portgated's default */
#ifndef PG_SYSCONFDIR
#define PG_SYSCONFDIR "/etc"
#endif
#define PGCTL_DEFAULT_CONFIG PG_SYSCONFDIR "/portgated.conf"	/* as the systemd unit's */
#define PGCTL_PW_MIN	8
#define PGCTL_PW_MAX	512	/* admin_auth.h's ADMIN_PASSWORD_MAX */

struct reader {
	int	fd;
	char	buf[65536];
	size_t	len;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: portgatectl [-s SOCKET] COMMAND [ARGS...]\n"
	    "       portgatectl [-s SOCKET] -      (one command per line from stdin)\n"
	    "       portgatectl passwd [-f CONFIG | --file PATH]\n"
	    "       portgatectl [-s SOCKET] import-miniupnpd CONF [LEASEFILE]\n"
	    "commands:\n"
	    "  status\n"
	    "  list [--json] [--source SOURCE] [--kind mapping|pinhole]\n"
	    "  forward add PROTO EXTPORT[-END] IP[:PORT] [--lease SECONDS] [--desc TEXT]\n"
	    "  forward del PROTO EXTPORT\n"
	    "  mapping add PROTO EXTPORT[-END] IP[:PORT] --source SOURCE [--lease SECONDS] "
	    "[--desc TEXT]\n"
	    "  mapping del PROTO EXTPORT [--source SOURCE]\n"
	    "  flush [--source static|upnp|pcp|natpmp|trigger]\n"
	    "  trigger add NAME PROTO:PORTS PROTO:PORTS[,PROTO:PORTS...] [--idle SECONDS]\n"
	    "  trigger del NAME\n"
	    "  trigger list [--json]\n"
	    "  trigger enable NAME\n"
	    "  trigger disable NAME\n"
	    "  pinhole add PROTO [IPv6]:PORT [--remote ADDR[/LEN][:PORT]] [--lease SECONDS] "
	    "[--desc TEXT]\n"
	    "  pinhole del ID\n"
	    "  check PROTO PORT [--json] [--wait SECONDS]\n"
	    "  watch [--json] [--since SEQ]     (events as they happen, until Ctrl-C)\n"
	    "  metrics                          (the Prometheus page)\n");
	exit(2);
}

/* A complete line already read, without its newline; NULL if there is none. */
static char *
reader_take(struct reader *r)
{
	static char line[CTL_LINE_MAX * 4];
	char *nl;
	size_t l;

	if ((nl = memchr(r->buf, '\n', r->len)) == NULL)
		return NULL;
	l = (size_t)(nl - r->buf);
	if (l >= sizeof(line))
		l = sizeof(line) - 1;
	memcpy(line, r->buf, l);
	line[l] = '\0';
	r->len -= (size_t)(nl - r->buf) + 1;
	memmove(r->buf, nl + 1, r->len);
	return line;
}

/* One line from the daemon without its newline; NULL on EOF or error. */
static char *
reader_line(struct reader *r, int wait)
{
	char *line;
	ssize_t n;
	struct pollfd pfd;

	for (;;) {
		if ((line = reader_take(r)) != NULL)
			return line;
		if (r->len == sizeof(r->buf))
			r->len = 0;	/* absurdly long line: drop it */
		if (!wait) {
			pfd.fd = r->fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, 0) <= 0)
				return NULL;
		}
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return NULL;
		}
		r->len += (size_t)n;
	}
}

static int
ctl_connect(const char *path, struct reader *r)
{
	struct sockaddr_un sun;
	char *greet;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "portgatectl: socket path too long: %s\n", path);
		exit(1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "portgatectl: cannot connect to %s: %s (is portgated running?)\n",
		    path, strerror(errno));
		exit(1);
	}
	r->fd = fd;
	r->len = 0;
	if ((greet = reader_line(r, 1)) == NULL || strcmp(greet, CTL_PROTO_GREETING) != 0) {
		fprintf(stderr, "portgatectl: %s does not speak %s\n", path, CTL_PROTO_GREETING);
		exit(1);
	}
	return fd;
}

static int
send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
send_request(int fd, int argc, char **argv)
{
	char line[CTL_LINE_MAX];
	int len;

	if ((len = ctl_line_request(argc, argv, line, sizeof(line))) == -1) {
		fprintf(stderr, "portgatectl: request too long\n");
		return -1;
	}
	if (send_all(fd, line, (size_t)len) == -1) {
		fprintf(stderr, "portgatectl: write: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Decode a reply text in place (the daemon percent-encodes '%', controls and
 * DEL) and make it safe for a terminal: a control character that an echoed
 * argument carried is shown as \xNN, never sent to the terminal as is.
 */
static const char *
reply_text(char *s)
{
	static char out[CTL_LINE_MAX * 16];
	const unsigned char *p;
	size_t o = 0;

	if (ctl_line_decode(s) == -1)
		return s;	/* not ours to fix: show it raw */
	for (p = (const unsigned char *)s; *p != '\0' && o + 5 < sizeof(out); p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
	return out;
}

/* Print one reply; 0 if it was "ok", 1 if "err", -1 if the connection broke. */
static int
print_reply(struct reader *r, int batch)
{
	char *l, *text;

	while ((l = reader_line(r, 1)) != NULL) {
		switch (ctl_line_reply(l, &text)) {
		case CTL_LINE_DATA:
			puts(reply_text(text));
			break;
		case CTL_LINE_OK:
			if (batch)
				printf("ok%s%s\n", text ? ": " : "", text ? reply_text(text) : "");
			else if (text != NULL)
				puts(reply_text(text));
			return 0;
		case CTL_LINE_ERR:
			fflush(stdout);
			if (batch)
				printf("error: %s\n", text ? reply_text(text) : "failed");
			else
				fprintf(stderr, "portgatectl: %s\n", text ? reply_text(text) : "failed");
			return 1;
		case CTL_LINE_OTHER:
			break;
		}
	}
	fprintf(stderr, "portgatectl: connection to portgated lost\n");
	return -1;
}

/* Split a stdin line into words; "double quotes" group words. */
static int
split_quoted(char *s, char **argv, int max)
{
	int n = 0;
	char *w;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s == '\0' || *s == '#')
			return n;
		if (n == max)
			return -1;
		if (*s == '"') {
			argv[n++] = ++s;
			if ((w = strchr(s, '"')) == NULL)
				return -1;
			*w = '\0';
			s = w + 1;
			continue;
		}
		argv[n++] = s;
		s += strcspn(s, " \t\r\n");
		if (*s != '\0')
			*s++ = '\0';
	}
}

static int
run_batch(int fd, struct reader *r)
{
	char *line = NULL, *av[32];
	size_t cap = 0;
	int ac, inflight = 0, failed = 0, rc, window = isatty(0) ? 1 : PGCTL_WINDOW;

	while (getline(&line, &cap, stdin) != -1) {
		if ((ac = split_quoted(line, av, 32)) == 0)
			continue;
		if (ac < 0) {
			printf("error: cannot parse line (unbalanced quotes or too many words)\n");
			failed++;
			continue;
		}
		if (strcmp(av[0], "watch") == 0) {
			printf("error: watch streams until Ctrl-C: run it on its own\n");
			failed++;
			continue;
		}
		if (send_request(fd, ac, av) == -1)
			return 1;
		inflight++;
		while (inflight >= window) {
			if ((rc = print_reply(r, 1)) == -1)
				return 1;
			failed += rc;
			inflight--;
		}
	}
	free(line);
	while (inflight-- > 0) {
		if ((rc = print_reply(r, 1)) == -1)
			return 1;
		failed += rc;
	}
	return failed ? 1 : 0;
}

/* What the daemon says when the stream ends (an error line: dropped); 1. */
static int
watch_ended(char *text)
{
	fflush(stdout);
	fprintf(stderr, "portgatectl: %s\n", text ? reply_text(text) : "watch ended");
	return 1;
}

/* A stream line: an event (printed at once), or the end. 0 to go on, else the exit status. */
static int
watch_line(char *l)
{
	char *text;

	switch (ctl_line_reply(l, &text)) {
	case CTL_LINE_DATA:
		puts(text != NULL ? reply_text(text) : "");
		fflush(stdout);
		return 0;
	case CTL_LINE_ERR:
		return watch_ended(text);
	case CTL_LINE_OK:
	case CTL_LINE_OTHER:
		return 0;
	}
	return 0;
}

/*
 * `watch`: its reply says the stream begins (or why not), then every event
 * is a data line, printed as it comes, until Ctrl-C (or SIGTERM, SIGHUP),
 * which ends it with status 0, or until the daemon ends it (status 1). The
 * signals come through a signalfd, so no handler and no global are needed.
 */
static int
run_watch(int fd, struct reader *r)
{
	struct pollfd p[2];
	sigset_t set;
	char *l, *text;
	ssize_t n;
	int sfd, rc;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1) {
		fprintf(stderr, "portgatectl: signalfd: %s\n", strerror(errno));
		return 1;
	}
	while ((l = reader_line(r, 1)) != NULL) {
		switch (ctl_line_reply(l, &text)) {
		case CTL_LINE_DATA:
		case CTL_LINE_OTHER:
			continue;
		case CTL_LINE_ERR:
			fprintf(stderr, "portgatectl: %s\n", text ? reply_text(text) : "failed");
			return 1;
		case CTL_LINE_OK:
			break;
		}
		if (isatty(2))
			fprintf(stderr, "portgatectl: %s (Ctrl-C to stop)\n",
			    text ? reply_text(text) : "watching");
		break;
	}
	if (l == NULL) {
		fprintf(stderr, "portgatectl: connection to portgated lost\n");
		return 1;
	}
	p[0].fd = fd;
	p[0].events = POLLIN;
	p[1].fd = sfd;
	p[1].events = POLLIN;
	for (;;) {
		while ((l = reader_take(r)) != NULL)
			if ((rc = watch_line(l)) != 0)
				return rc;
		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "portgatectl: poll: %s\n", strerror(errno));
			return 1;
		}
		if (p[1].revents & POLLIN)
			return 0;	/* Ctrl-C: the end the user asked for */
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (r->len == sizeof(r->buf))
			r->len = 0;	/* absurdly long line: drop it */
		if ((n = read(fd, r->buf + r->len, sizeof(r->buf) - r->len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			fflush(stdout);
			fprintf(stderr, "portgatectl: portgated closed the event stream\n");
			return 1;
		}
		r->len += (size_t)n;
	}
}

/* ---- import-miniupnpd: a portgated.conf from miniupnpd's, its leases into the daemon ---- */

#define IMP_FILE_MAX	(1 << 20)
#define IMP_LEASES_MAX	65536

struct imp {
	struct imu_lease	*le;
	size_t			 n, cap;
	int			 full;
};

/* The whole of path (at most IMP_FILE_MAX); NULL after saying why. */
static char *
imp_read(const char *path, size_t *len)
{
	char *buf = malloc(IMP_FILE_MAX + 1);
	ssize_t n = 0;
	int fd;

	*len = 0;
	if (buf == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "portgatectl: %s: %s\n", path, strerror(errno));
		free(buf);
		return NULL;
	}
	while (*len < IMP_FILE_MAX && (n = read(fd, buf + *len, IMP_FILE_MAX - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	if (n == -1 || *len == IMP_FILE_MAX) {
		fprintf(stderr, "portgatectl: %s: %s\n", path, n == -1 ? strerror(errno) :
		    "larger than 1 MiB: not read");
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

static void
imp_line(void *arg, const char *text)
{
	(void)arg;
	puts(text);
}

static void
imp_warn(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	if (line > 0)
		fprintf(stderr, "%s:%u: %s\n", file, line, msg);
	else
		fprintf(stderr, "%s: %s\n", file, msg);
}

/* The interface holding the IPv4 address a (listening_ip=ADDR/LEN). */
static int
imp_ifname(void *arg, const struct in6_addr *a, char *name, size_t len)
{
	struct ifaddrs *ifs, *i;
	int rc = -1;

	(void)arg;
	if (getifaddrs(&ifs) == -1)
		return -1;
	for (i = ifs; i != NULL && rc == -1; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET &&
		    memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr,
		    &a->s6_addr[12], 4) == 0) {
			snprintf(name, len, "%s", i->ifa_name);
			rc = 0;
		}
	freeifaddrs(ifs);
	return rc;
}

static void
imp_lease(void *arg, const struct imu_lease *le)
{
	struct imp *im = arg;
	struct imu_lease *n;

	if (im->n == im->cap) {
		if (im->cap == IMP_LEASES_MAX || (n = reallocarray(im->le, im->cap ? im->cap * 2 :
		    64, sizeof(*n))) == NULL) {
			im->full = 1;
			return;
		}
		im->le = n;
		im->cap = im->cap ? im->cap * 2 : 64;
	}
	im->le[im->n++] = *le;
}

/* One lease into the daemon: `mapping add ... --source upnp`; 0, or 1 after saying why not. */
static int
imp_load(int fd, struct reader *r, const char *file, const struct imu_lease *le)
{
	char w[11][MT_DESC_MAX + 8], a[INET6_ADDRSTRLEN], *argv[11], *l, *text;
	size_t i;

	snprintf(w[0], sizeof(w[0]), "mapping");
	snprintf(w[1], sizeof(w[1]), "add");
	snprintf(w[2], sizeof(w[2]), "%s", mt_proto_name(le->proto));
	snprintf(w[3], sizeof(w[3]), "%u", le->ext_port);
	snprintf(w[4], sizeof(w[4]), "%s:%u", util_addr_str(&le->int_addr, a, sizeof(a)),
	    le->int_port);
	snprintf(w[5], sizeof(w[5]), "--source");
	snprintf(w[6], sizeof(w[6]), "upnp");
	snprintf(w[7], sizeof(w[7]), "--lease");
	snprintf(w[8], sizeof(w[8]), "%u", le->lease_s);
	snprintf(w[9], sizeof(w[9]), "--desc");
	snprintf(w[10], sizeof(w[10]), "%s", le->desc);
	for (i = 0; i < PG_NELEM(argv); i++)
		argv[i] = w[i];
	if (send_request(fd, (int)PG_NELEM(argv), argv) == -1)
		return 1;
	while ((l = reader_line(r, 1)) != NULL) {
		switch (ctl_line_reply(l, &text)) {
		case CTL_LINE_OK:
			fprintf(stderr, "%s:%u: imported: %s (%s)\n", file, le->line,
			    text ? reply_text(text) : "", le->lease_s ? "lease" : "permanent");
			return 0;
		case CTL_LINE_ERR:
			fprintf(stderr, "%s:%u: not imported: %s\n", file, le->line,
			    text ? reply_text(text) : "refused");
			return 1;
		default:
			break;
		}
	}
	fprintf(stderr, "portgatectl: connection to portgated lost\n");
	return 1;
}

/* portgatectl import-miniupnpd CONF [LEASEFILE] */
static int
cmd_import(const char *sock, int argc, char **argv)
{
	struct imu_hooks h = { imp_line, imp_warn, imp_ifname, imp_lease, NULL };
	struct imp im = { NULL, 0, 0, 0 };
	struct reader r;
	char *text;
	size_t len, i, bad = 0;
	int fd;

	if (argc < 2 || argc > 3)
		usage();
	if ((text = imp_read(argv[1], &len)) == NULL)
		return 1;
	(void)imu_conf(argv[1], text, len, &h);
	free(text);
	if (argc == 2)
		return 0;
	h.arg = &im;
	if ((text = imp_read(argv[2], &len)) == NULL)
		return 1;
	(void)imu_leases(argv[2], text, len, time(NULL), &h);
	free(text);
	if (im.full)
		fprintf(stderr, "%s: more than %d leases: the rest is not imported\n", argv[2],
		    IMP_LEASES_MAX);
	fflush(stdout);
	fd = ctl_connect(sock, &r);
	for (i = 0; i < im.n; i++)
		bad += (size_t)imp_load(fd, &r, argv[2], &im.le[i]);
	close(fd);
	fprintf(stderr, "%s: %zu leases imported, %zu not\n", argv[2], im.n - bad, bad);
	free(im.le);
	return bad > 0 ? 1 : 0;
}

/* ---- passwd: the admin password's file, written here (no daemon needed) ---- */

static void
pw_conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	if (line > 0)
		fprintf(stderr, "portgatectl: %s:%u: %s\n", file, line, msg);
	else
		fprintf(stderr, "portgatectl: %s: %s\n", file, msg);
}

/* One line from stdin without its newline into buf; -1 at EOF. Echo off on a terminal. */
static int
pw_read(const char *prompt, char *buf, size_t len, int tty)
{
	struct termios old, quiet;
	int rc = 0;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		if (tcgetattr(0, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(0, TCSAFLUSH, &quiet);
		}
	}
	if (fgets(buf, (int)len, stdin) == NULL)
		rc = -1;
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return rc;
}

/* The password, asked twice on a terminal, else one line of stdin; 0, or -1 after saying why. */
static int
pw_get(char *pw, size_t len)
{
	char again[PGCTL_PW_MAX + 2];
	int tty = isatty(0);
	const char *bad;

	if (pw_read("New admin password: ", pw, len, tty) == -1) {
		fprintf(stderr, "portgatectl: no password given\n");
		return -1;
	}
	if (strlen(pw) < PGCTL_PW_MIN || (bad = util_text_problem(pw, strlen(pw),
	    PGCTL_PW_MAX)) != NULL) {
		fprintf(stderr, "portgatectl: the password must be %d to %d bytes of UTF-8 text "
		    "without control characters\n", PGCTL_PW_MIN, PGCTL_PW_MAX);
		return -1;
	}
	if (!tty)
		return 0;
	if (pw_read("Again: ", again, sizeof(again), tty) == -1 || strcmp(pw, again) != 0) {
		explicit_bzero(again, sizeof(again));
		fprintf(stderr, "portgatectl: the passwords differ; nothing changed\n");
		return -1;
	}
	explicit_bzero(again, sizeof(again));
	return 0;
}

/* portgatectl passwd [-f CONFIG | --file PATH] */
static int
cmd_passwd(int argc, char **argv)
{
	const char *config = PGCTL_DEFAULT_CONFIG, *file = NULL;
	char pw[PGCTL_PW_MAX + 2], hash[ADMIN_PW_HASH_MAX], err[256];
	struct pg_config *cfg = NULL;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
			file = argv[++i];
		else
			usage();
	}
	if (file == NULL) {
		if ((cfg = conf_load(config, pw_conf_err, NULL)) == NULL)
			return 1;
		if ((file = cfg->admin_password_file) == NULL) {
			fprintf(stderr, "portgatectl: %s sets no admin_password_file; set one, or "
			    "name the file with --file PATH\n", config);
			conf_free(cfg);
			return 1;
		}
	}
	rc = 1;
	if (pw_get(pw, sizeof(pw)) == 0) {
		if (admin_pw_hash(pw, hash, sizeof(hash), err, sizeof(err)) == -1 ||
		    admin_pw_write(file, hash, err, sizeof(err)) == -1)
			fprintf(stderr, "portgatectl: %s\n", err);
		else {
			printf("admin password written to %s (portgated reads it at the next "
			    "login; sessions made with the old one end)\n", file);
			rc = 0;
		}
	}
	explicit_bzero(pw, sizeof(pw));
	conf_free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *sock = getenv("PORTGATE_SOCKET");
	struct reader r;
	int ch, fd, rc;

	if (sock == NULL)
		sock = PGCTL_DEFAULT_SOCKET;
	while ((ch = getopt(argc, argv, "+s:h")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "passwd") == 0)
		return cmd_passwd(argc, argv);
	if (strcmp(argv[0], "import-miniupnpd") == 0)
		return cmd_import(sock, argc, argv);
	fd = ctl_connect(sock, &r);
	if (argc == 1 && strcmp(argv[0], "-") == 0)
		rc = run_batch(fd, &r);
	else if (strcmp(argv[0], "watch") == 0) {
		if (send_request(fd, argc, argv) == -1)
			return 1;
		rc = run_watch(fd, &r);
	} else {
		if (send_request(fd, argc, argv) == -1)
			return 1;
		rc = print_reply(&r, 0) == 0 ? 0 : 1;
	}
	close(fd);
	return rc;
}
