/*
 * priv.h - least privilege: portgated, started as root, gives root up once
 * what needs it is open, becoming the account `user` (and `group`) names and
 * keeping only the capabilities it needs after start-up (priv_caps says
 * which, priv.c why). Whatever starts it: systemd, procd, a shell.
 */
#ifndef PG_PRIV_H
#define PG_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pg_config;

struct priv_account {
	int	 drop;		/* a user is configured */
	uid_t	 uid;
	gid_t	 gid;
	char	 user[33], group[33];
};

/*
 * The configured account, looked up: 0 (a->drop 0 when no user is set),
 * or -1 with why ("FILE:LINE: user: no such user 'x'").
 */
int priv_lookup(const struct pg_config *, struct priv_account *, char *why, size_t len);
/* The capabilities kept for this configuration (a mask of 1 << CAP_*). */
uint64_t priv_caps(const struct pg_config *);
/* "cap_net_admin,cap_net_bind_service": the mask's names. */
const char *priv_caps_str(uint64_t caps, char *buf, size_t len);
/*
 * Become the account, keeping caps and nothing else (the bounding set too,
 * no ambient ones), with no_new_privs; checked afterwards (root cannot be
 * had back). Started as the account already (systemd's User=), only the
 * capabilities are cut. 0, or -1 with why: the daemon must not go on.
 */
int priv_drop(const struct priv_account *, uint64_t caps, char *why, size_t len);
/* path becomes the account's (its user and group) with mode; 0, or -1 with why. */
int priv_give(const struct priv_account *, const char *path, mode_t mode, char *why,
    size_t len);
/* The capabilities this process has in effect (a mask), for status and tests. */
uint64_t priv_effective(void);

#endif
