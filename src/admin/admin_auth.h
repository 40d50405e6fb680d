/*
 * admin_auth.h - who may use the admin API: the admin password (a crypt(3)
 * hash in admin_password_file), sessions (a cookie and a CSRF token each,
 * ending when idle), the login rate limit per client, and the read-only
 * bearer token (admin_metrics_token_file). The files are re-read when they
 * change (by mtime, size and inode) and at admin_auth_reload (SIGHUP). No
 * HTTP here: admin_http.c asks.
 */
#ifndef PG_ADMIN_AUTH_H
#define PG_ADMIN_AUTH_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "status.h"
#include "admin/admin_pw.h"

#define ADMIN_ID_HEX		32	/* a session ID and a CSRF token: 128 random bits */
#define ADMIN_SESSIONS		32	/* at once; the one idle longest makes room */
#define ADMIN_LOGIN_FAILS	5	/* failed logins from one client ... */
#define ADMIN_LOGIN_WINDOW_S	60	/* ... within this: the next get 429 until it ends */
#define ADMIN_LOGIN_GLOBAL	20	/* password checks by everyone ... */
#define ADMIN_LOGIN_GLOBAL_S	10	/* ... within this (crypt(3) is slow by design) */
#define ADMIN_PASSWORD_MAX	512	/* bytes of a password */

struct admin_auth;
struct admin_session;

enum admin_login {
	ADMIN_LOGIN_OK,
	ADMIN_LOGIN_WRONG,	/* the password is not the admin's */
	ADMIN_LOGIN_LIMITED,	/* too many failures lately: *retry_after seconds */
	ADMIN_LOGIN_NOPASS,	/* no password is set (or its file cannot be read) */
	ADMIN_LOGIN_ERROR,	/* no randomness, no memory */
};

/* Sessions on clock, none of the files yet. */
struct admin_auth *admin_auth_new(const struct pg_clock *);
/* Forget every session and the files. */
void admin_auth_free(struct admin_auth *);
/*
 * The files (NULL: none; copied) and the idle timeout in seconds; the files
 * are read at once (a problem is logged) and again whenever they change.
 */
void admin_auth_configure(struct admin_auth *, const char *password_file,
    const char *token_file, unsigned idle_s);
/* Read both files again now, changed or not (SIGHUP). */
void admin_auth_reload(struct admin_auth *);
/*
 * Log in from client: a new session in *out if password is the admin's.
 * A new password (the file changed) ends every session made before.
 */
enum admin_login admin_auth_login(struct admin_auth *, const struct in6_addr *client,
    const char *password, struct admin_session **out, unsigned *retry_after);
/*
 * The session whose ID id is (its idle clock restarts), or NULL; *expired
 * is set if it was one that ended idle (it is gone now).
 */
struct admin_session *admin_auth_session(struct admin_auth *, const char *id, int *expired);
/* 1 if the session whose ID id is still lives (its idle clock left as it is). */
int admin_auth_session_alive(struct admin_auth *, const char *id);
/* 1 if token (NULL: none) is the session's CSRF token (compared in constant time). */
int admin_auth_csrf_ok(const struct admin_session *, const char *token);
/* End a session. */
void admin_auth_logout(struct admin_auth *, struct admin_session *);
/* 1 if token is the bearer token of the token file (compared in constant time). */
int admin_auth_bearer_ok(struct admin_auth *, const char *token);
/* A session's ID (the cookie's value) and CSRF token: ADMIN_ID_HEX hex digits each. */
const char *admin_session_id(const struct admin_session *);
const char *admin_session_csrf(const struct admin_session *);
/* Seconds of idleness after which a session ends. */
unsigned admin_auth_idle(const struct admin_auth *);
/* Status: admin_sessions, admin_logins, admin_login_failures, admin_logins_limited. */
void admin_auth_status(const struct admin_auth *, pg_status_emit *, void *);

#endif
