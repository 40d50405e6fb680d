/* portgatectl.c - the admin's client for portgated's control socket. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "admin/admin_pw.h"
#include "conf.h"
#include "ctl_line.h"
#include "util.h"

#define PGCTL_WINDOW	64
#define PGCTL_DEFAULT_SOCKET "/run/portgated.sock"
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
	    "commands:\n"
	    "  status\n"
	    "  list [--json] [--source SOURCE] [--kind mapping|pinhole]\n"
	    "  forward add PROTO EXTPORT[-END] IP[:PORT] [--lease SECONDS] [--desc TEXT]\n"
	    "  forward del PROTO EXTPORT\n"
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
