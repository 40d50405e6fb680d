/*
 * admin.h - the administration server's life cycle: off unless
 * admin_listen is set; its listeners, sessions and route table (admin.c's
 * admin_routes[], one row per route).
 */
#ifndef PG_ADMIN_H
#define PG_ADMIN_H

struct pg_ctx;
struct ctl_hooks;

/*
 * Start the admin server if the config asks for one (ctx->admin; NULL when
 * off), its status answering with hooks (kept) first; -1 after logging why
 * (an admin_listen address that is not a LAN or loopback one, a TLS file
 * that cannot be read, a port taken).
 */
int admin_init(struct pg_ctx *, const struct ctl_hooks *hooks);
/*
 * After a reload: the password and token files are read again; the
 * listeners are opened anew if admin_listen or the TLS files changed (a
 * bad new setting is logged and the running one kept); the server starts
 * or stops if admin_listen came or went.
 */
void admin_reload(struct pg_ctx *, const struct ctl_hooks *hooks);
/* Close everything (streams end, sessions are forgotten). */
void admin_shutdown(struct pg_ctx *);

#endif
