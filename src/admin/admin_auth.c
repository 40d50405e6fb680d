/*
 * admin_auth.c - passwords, sessions, the login rate limit and the bearer
 * token of the admin API (admin_auth.h).
 *
 * Sessions are a small array (ADMIN_SESSIONS), looked up by comparing
 * every ID in constant time: the lookup's time says nothing about which
 * ID was close. An ID and its CSRF token are 128 bits from getrandom(2),
 * in hex. A session ends when idle for the configured time, at logout, or
 * when the password changes; the one idle longest makes room for a new
 * one. The login rate limit keeps the last failures per client (IPv4
 * address, IPv6 /64) in a small table too, the oldest window making room,
 * and a global budget of password checks bounds the time crypt(3) can
 * take from the loop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin_auth.h"
#include "log.h"
#include "util.h"

#define ADMIN_LOGIN_TRACK	64	/* clients whose failures are remembered */
#define ADMIN_SECRET_MAX	512	/* bytes of the token file's line */

struct admin_session {
	char		 id[ADMIN_ID_HEX + 1];	/* "": a free slot */
	char		 csrf[ADMIN_ID_HEX + 1];
	uint64_t	 used_ms;
	uint64_t	 gen;			/* the password it was made with */
};

struct admin_fails {
	struct in6_addr	 key;
	uint64_t	 start_ms;		/* of the window; 0: free */
	unsigned	 n;
};

/* A file read again when it changes. */
struct admin_file {
	char		*path;			/* NULL: not configured */
	struct stat	 st;			/* as read last */
	int		 have;			/* read, and text holds its line */
	char		 text[ADMIN_SECRET_MAX + 1];
	size_t		 len;
};

struct admin_auth {
	struct pg_clock		 clk;
	unsigned		 idle_s;
	struct admin_file	 pw, token;
	uint64_t		 gen;		/* bumped when the password changes */
	struct admin_session	 s[ADMIN_SESSIONS];
	struct admin_fails	 fails[ADMIN_LOGIN_TRACK];
	uint64_t		 global_start_ms;
	unsigned		 global_n;
	uint64_t		 logins, failures, limited;
	struct log_limit	 loglim;
};

struct admin_auth *
admin_auth_new(const struct pg_clock *clk)
{
	struct admin_auth *a = xcalloc(1, sizeof(*a));

	a->clk = *clk;
	a->idle_s = 900;
	log_limit_init(&a->loglim, 10000, 5);
	return a;
}

static void
admin_file_clear(struct admin_file *f)
{
	free(f->path);
	explicit_bzero(f, sizeof(*f));
}

void
admin_auth_free(struct admin_auth *a)
{
	if (a == NULL)
		return;
	admin_file_clear(&a->pw);
	admin_file_clear(&a->token);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

static int
admin_same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The file's first line into f->text (f->have); said once per change if it cannot be read. */
static void
admin_file_read(struct admin_file *f, const char *what)
{
	char buf[ADMIN_SECRET_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd;

	f->have = 0;
	explicit_bzero(f->text, sizeof(f->text));
	f->len = 0;
	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1) {
		log_warn("admin: cannot read the %s file %s", what, f->path);
		if (fd != -1)
			close(fd);
		memset(&f->st, 0, sizeof(f->st));
		return;
	}
	f->st = st;
	/* its owner and group (root:portgate, 0640, for a daemon running as portgate), no one else */
	if ((st.st_mode & 027) != 0)
		log_warnx("admin: %s is %s by others (mode %03o); chmod %s it", f->path,
		    (st.st_mode & 020) ? "writable" : "readable", (unsigned)(st.st_mode & 0777),
		    (st.st_mode & 040) ? "640" : "600");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || !S_ISREG(st.st_mode)) {
		log_warnx("admin: cannot read the %s file %s", what, f->path);
		return;
	}
	buf[n] = '\0';
	n = (ssize_t)strcspn(buf, "\r\n");
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n == 0 || (size_t)n > ADMIN_SECRET_MAX) {
		log_warnx("admin: the %s file %s holds no %s", what, f->path,
		    n == 0 ? "line" : "line of at most 512 bytes");
		explicit_bzero(buf, sizeof(buf));
		return;
	}
	memcpy(f->text, buf, (size_t)n);
	f->len = (size_t)n;
	f->have = 1;
	explicit_bzero(buf, sizeof(buf));
	if (strcmp(what, "token") == 0 && f->len < 16)
		log_warnx("admin: the token in %s is short (%zu bytes): a guessable token lets "
		    "anyone on the LAN read the API; use 16 or more random characters", f->path,
		    f->len);
}

/* Read f again if it changed since (or force); 1 if its text changed. */
static int
admin_file_check(struct admin_file *f, const char *what, int force)
{
	char old[ADMIN_SECRET_MAX + 1];
	size_t oldlen = f->len;
	int had = f->have, changed;
	struct stat st;

	if (f->path == NULL)
		return 0;
	if (!force && stat(f->path, &st) == 0 && admin_same_stat(&st, &f->st))
		return 0;
	if (!force && f->st.st_ino == 0 && stat(f->path, &st) == -1)
		return 0;	/* still missing: said already */
	memcpy(old, f->text, sizeof(old));
	admin_file_read(f, what);
	changed = had != f->have || oldlen != f->len || memcmp(old, f->text, f->len) != 0;
	explicit_bzero(old, sizeof(old));
	return changed;
}

/* The password changed: every session made with the old one ends. */
static void
admin_pw_changed(struct admin_auth *a)
{
	size_t i;

	a->gen++;
	for (i = 0; i < ADMIN_SESSIONS; i++)
		if (a->s[i].id[0] != '\0')
			explicit_bzero(&a->s[i], sizeof(a->s[i]));
}

static void
admin_file_set(struct admin_file *f, const char *path)
{
	if (f->path != NULL && path != NULL && strcmp(f->path, path) == 0)
		return;
	admin_file_clear(f);
	if (path != NULL)
		f->path = xstrdup(path);
}

void
admin_auth_configure(struct admin_auth *a, const char *password_file, const char *token_file,
    unsigned idle_s)
{
	admin_file_set(&a->pw, password_file);
	admin_file_set(&a->token, token_file);
	a->idle_s = idle_s;
	admin_auth_reload(a);
}

void
admin_auth_reload(struct admin_auth *a)
{
	if (admin_file_check(&a->pw, "password", 1))
		admin_pw_changed(a);
	admin_file_check(&a->token, "token", 1);
}

unsigned
admin_auth_idle(const struct admin_auth *a)
{
	return a->idle_s;
}

/* ---- sessions ---- */

static int
admin_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[32];
	size_t i;

	if (nbytes > sizeof(b) || getrandom(b, nbytes, 0) != (ssize_t)nbytes)
		return -1;
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
	explicit_bzero(b, sizeof(b));
	return 0;
}

static int
admin_session_live(const struct admin_auth *a, const struct admin_session *s, uint64_t now)
{
	return s->id[0] != '\0' && s->gen == a->gen && now - s->used_ms < (uint64_t)a->idle_s * 1000;
}

/* A free slot, or the one idle longest. */
static struct admin_session *
admin_session_slot(struct admin_auth *a, uint64_t now)
{
	struct admin_session *best = &a->s[0];
	size_t i;

	for (i = 0; i < ADMIN_SESSIONS; i++) {
		if (!admin_session_live(a, &a->s[i], now))
			return &a->s[i];
		if (a->s[i].used_ms < best->used_ms)
			best = &a->s[i];
	}
	return best;
}

static struct admin_session *
admin_session_new(struct admin_auth *a, uint64_t now)
{
	struct admin_session *s = admin_session_slot(a, now);

	explicit_bzero(s, sizeof(*s));
	if (admin_random_hex(s->id, ADMIN_ID_HEX / 2) == -1 ||
	    admin_random_hex(s->csrf, ADMIN_ID_HEX / 2) == -1) {
		log_warn("admin: getrandom");
		explicit_bzero(s, sizeof(*s));
		return NULL;
	}
	s->used_ms = now;
	s->gen = a->gen;
	return s;
}

struct admin_session *
admin_auth_session(struct admin_auth *a, const char *id, int *expired)
{
	uint64_t now = pg_clock_now(&a->clk);
	struct admin_session *found = NULL;
	size_t i, len;

	*expired = 0;
	if (id == NULL || (len = strlen(id)) != ADMIN_ID_HEX)
		return NULL;
	/* the password file may have changed under the sessions */
	if (admin_file_check(&a->pw, "password", 0))
		admin_pw_changed(a);
	for (i = 0; i < ADMIN_SESSIONS; i++)	/* every slot, every byte: constant time */
		if (admin_ct_equal(a->s[i].id, ADMIN_ID_HEX, id, len) && a->s[i].id[0] != '\0')
			found = &a->s[i];
	if (found == NULL)
		return NULL;
	if (!admin_session_live(a, found, now)) {
		*expired = 1;
		explicit_bzero(found, sizeof(*found));
		return NULL;
	}
	found->used_ms = now;
	return found;
}

int
admin_auth_session_alive(struct admin_auth *a, const char *id)
{
	uint64_t now = pg_clock_now(&a->clk);
	size_t i, len;
	int alive = 0;

	if (id == NULL || (len = strlen(id)) != ADMIN_ID_HEX)
		return 0;
	if (admin_file_check(&a->pw, "password", 0))
		admin_pw_changed(a);
	for (i = 0; i < ADMIN_SESSIONS; i++)
		if (admin_ct_equal(a->s[i].id, ADMIN_ID_HEX, id, len) && a->s[i].id[0] != '\0')
			alive = admin_session_live(a, &a->s[i], now);
	return alive;
}

int
admin_auth_csrf_ok(const struct admin_session *s, const char *token)
{
	return token != NULL && admin_ct_equal(s->csrf, ADMIN_ID_HEX, token, strlen(token));
}

void
admin_auth_logout(struct admin_auth *a, struct admin_session *s)
{
	(void)a;
	explicit_bzero(s, sizeof(*s));
}

const char *
admin_session_id(const struct admin_session *s)
{
	return s->id;
}

const char *
admin_session_csrf(const struct admin_session *s)
{
	return s->csrf;
}

/* ---- logins ---- */

/* A client's key: its IPv4 address, or its IPv6 /64 (a host may have many addresses). */
static void
admin_fail_key(const struct in6_addr *client, struct in6_addr *key)
{
	*key = *client;
	if (!util_addr_is_v4(client))
		memset(&key->s6_addr[8], 0, 8);
}

/* The client's failures in the window that is running, or a slot for them. */
static struct admin_fails *
admin_fails_of(struct admin_auth *a, const struct in6_addr *client, uint64_t now)
{
	struct admin_fails *oldest = &a->fails[0];
	struct in6_addr key;
	size_t i;

	admin_fail_key(client, &key);
	for (i = 0; i < ADMIN_LOGIN_TRACK; i++) {
		struct admin_fails *f = &a->fails[i];

		if (f->start_ms != 0 && now - f->start_ms >= ADMIN_LOGIN_WINDOW_S * 1000ULL)
			memset(f, 0, sizeof(*f));	/* its window is over */
		if (f->start_ms != 0 && memcmp(&f->key, &key, sizeof(key)) == 0)
			return f;
		if (f->start_ms < oldest->start_ms)
			oldest = f;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->key = key;
	return oldest;
}

/* Seconds until a window that started at start (window_s long) is over, at least 1. */
static unsigned
admin_retry(uint64_t start, unsigned window_s, uint64_t now)
{
	uint64_t end = start + window_s * 1000ULL;

	return end > now ? (unsigned)((end - now + 999) / 1000) : 1;
}

/* 0 if a password check may run now; else the seconds to wait. */
static unsigned
admin_login_budget(struct admin_auth *a, struct admin_fails *f, uint64_t now)
{
	if (f->start_ms != 0 && f->n >= ADMIN_LOGIN_FAILS)
		return admin_retry(f->start_ms, ADMIN_LOGIN_WINDOW_S, now);
	if (a->global_start_ms == 0 || now - a->global_start_ms >= ADMIN_LOGIN_GLOBAL_S * 1000ULL) {
		a->global_start_ms = now;
		a->global_n = 0;
	}
	if (a->global_n >= ADMIN_LOGIN_GLOBAL)
		return admin_retry(a->global_start_ms, ADMIN_LOGIN_GLOBAL_S, now);
	a->global_n++;
	return 0;
}

enum admin_login
admin_auth_login(struct admin_auth *a, const struct in6_addr *client, const char *password,
    struct admin_session **out, unsigned *retry_after)
{
	uint64_t now = pg_clock_now(&a->clk);
	struct admin_fails *f = admin_fails_of(a, client, now);
	char addr[INET6_ADDRSTRLEN];

	*out = NULL;
	*retry_after = 0;
	if (admin_file_check(&a->pw, "password", 0))
		admin_pw_changed(a);
	if (!a->pw.have)
		return ADMIN_LOGIN_NOPASS;
	if ((*retry_after = admin_login_budget(a, f, now)) != 0) {
		a->limited++;
		return ADMIN_LOGIN_LIMITED;
	}
	if (!admin_pw_check(a->pw.text, password)) {
		a->failures++;
		if (f->start_ms == 0)
			f->start_ms = now;
		f->n++;
		if (log_limit_pass(&a->loglim, now))
			log_info("admin: failed login from %s (%u in %d s)",
			    util_addr_str(client, addr, sizeof(addr)), f->n, ADMIN_LOGIN_WINDOW_S);
		return ADMIN_LOGIN_WRONG;
	}
	f->start_ms = 0;	/* the admin: its failures are forgotten */
	if ((*out = admin_session_new(a, now)) == NULL)
		return ADMIN_LOGIN_ERROR;
	a->logins++;
	log_info("admin: login from %s", util_addr_str(client, addr, sizeof(addr)));
	return ADMIN_LOGIN_OK;
}

int
admin_auth_bearer_ok(struct admin_auth *a, const char *token)
{
	admin_file_check(&a->token, "token", 0);
	return a->token.have && token != NULL &&
	    admin_ct_equal(a->token.text, a->token.len, token, strlen(token));
}

void
admin_auth_status(const struct admin_auth *a, pg_status_emit *emit, void *arg)
{
	uint64_t now = pg_clock_now(&a->clk);
	size_t i, n = 0;

	for (i = 0; i < ADMIN_SESSIONS; i++)
		n += admin_session_live(a, &a->s[i], now);
	emit(arg, "admin_sessions", "%zu", n);
	emit(arg, "admin_logins", "%llu", (unsigned long long)a->logins);
	emit(arg, "admin_login_failures", "%llu", (unsigned long long)a->failures);
	emit(arg, "admin_logins_limited", "%llu", (unsigned long long)a->limited);
}
