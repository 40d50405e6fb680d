/*
 * priv.c - giving root up.
 *
 * What portgated needs root for after start-up is the kernel's firewall,
 * and that is one capability, CAP_NET_ADMIN: nftables' table, sets,
 * elements and counters (every table change is a netlink batch), its
 * monitor (a repair after someone flushed the ruleset), the NFLOG group of
 * the triggers and conntrack's flows (PEER and PCP's port of a flow) are
 * all NETLINK_NETFILTER, which checks it for each message. Nothing else is
 * kept, with one exception asked for by the configuration:
 * CAP_NET_BIND_SERVICE, only when upnp_http_port or an admin_listen port
 * is below 1024 (UPnP's and the admin's listeners are opened again when LAN
 * addresses appear). Everything else works as any user: UDP and TCP on
 * ports 1900, 5000, 5350, 5351 and the like, multicast groups, rtnetlink
 * dumps and notifications (addresses, routes, neighbours), the state file
 * (its directory must be the account's: StateDirectory=, or the package's
 * /var/lib/portgate), the control socket (made as root, then given to the
 * account, mode 0660: root and the group may talk to it).
 *
 * The order: the bounding set loses every other capability (root can, an
 * unprivileged process could not), ambient ones are cleared, the groups
 * become the account's one group, then gid and uid (all three ids each)
 * with KEEPCAPS so the permitted set survives, then the effective and
 * permitted sets are cut to the kept ones, KEEPCAPS is cleared, and
 * no_new_privs is set, so no exec can ever gain anything. Then it is
 * checked: the ids are the account's, setuid(0) fails, the effective set
 * is the kept one. Raw capset(2)/prctl(2): no library is needed.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf.h"
#include "priv.h"
#include "util.h"

#define PRIV_CAP(c)	((uint64_t)1 << (c))

static const struct {
	int		 cap;
	const char	*name;
} priv_names[] = {
	{ CAP_NET_ADMIN, "cap_net_admin" },
	{ CAP_NET_BIND_SERVICE, "cap_net_bind_service" },
};

int
priv_lookup(const struct pg_config *cfg, struct priv_account *a, char *why, size_t len)
{
	const struct passwd *pw;
	const struct group *gr;

	memset(a, 0, sizeof(*a));
	if (cfg->user == NULL) {
		if (cfg->group != NULL) {
			snprintf(why, len, "%s:%u: group: needs user", cfg->path, cfg->group_line);
			return -1;
		}
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		snprintf(why, len, "%s:%u: user: no such user '%s'", cfg->path, cfg->user_line,
		    cfg->user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(why, len, "%s:%u: user: '%s' is root", cfg->path, cfg->user_line,
		    cfg->user);
		return -1;
	}
	a->drop = 1;
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	snprintf(a->user, sizeof(a->user), "%s", cfg->user);
	if (cfg->group != NULL) {
		if ((gr = getgrnam(cfg->group)) == NULL) {
			snprintf(why, len, "%s:%u: group: no such group '%s'", cfg->path,
			    cfg->group_line, cfg->group);
			return -1;
		}
		a->gid = gr->gr_gid;
	}
	if ((gr = getgrgid(a->gid)) != NULL)
		snprintf(a->group, sizeof(a->group), "%s", gr->gr_name);
	else
		snprintf(a->group, sizeof(a->group), "%lu", (unsigned long)a->gid);
	return 0;
}

uint64_t
priv_caps(const struct pg_config *cfg)
{
	uint64_t caps = PRIV_CAP(CAP_NET_ADMIN);
	size_t i;
	int low = cfg->upnp && cfg->upnp_http_port < 1024;

	for (i = 0; i < cfg->nadmin_listen; i++)
		low |= cfg->admin_listen[i].port < 1024;
	if (low)
		caps |= PRIV_CAP(CAP_NET_BIND_SERVICE);
	return caps;
}

const char *
priv_caps_str(uint64_t caps, char *buf, size_t len)
{
	size_t i, n = 0;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < PG_NELEM(priv_names) && n < len; i++)
		if (caps & PRIV_CAP(priv_names[i].cap))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
			    priv_names[i].name);
	if (n == 0 && len > 0)
		snprintf(buf, len, "none");
	return buf;
}

static int
priv_capget(uint64_t *eff, uint64_t *perm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) == -1)
		return -1;
	*eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	*perm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	return 0;
}

uint64_t
priv_effective(void)
{
	uint64_t eff, perm;

	return priv_capget(&eff, &perm) == -1 ? 0 : eff;
}

static int
priv_capset(uint64_t caps)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)caps;
	d[1].effective = d[1].permitted = (uint32_t)(caps >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

/* Every capability but caps leaves the bounding set (EINVAL: past the kernel's last). */
static int
priv_bound(uint64_t caps)
{
	int c;

	for (c = 0; c < 64; c++) {
		if (caps & PRIV_CAP(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1) {
			if (errno == EINVAL)
				break;
			return -1;
		}
	}
	return 0;
}

/* The ids are the account's, root cannot be had back, the capabilities are caps. */
static int
priv_check(const struct priv_account *a, uint64_t caps, char *why, size_t len)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	uint64_t eff, perm;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != a->uid || eu != a->uid || su != a->uid || rg != a->gid || eg != a->gid ||
	    sg != a->gid) {
		snprintf(why, len, "the ids are not %s's after the change", a->user);
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(why, len, "root could be had back");
		return -1;
	}
	if (priv_capget(&eff, &perm) == -1 || eff != caps || perm != caps) {
		snprintf(why, len, "the capabilities are not the kept ones after the change");
		return -1;
	}
	return 0;
}

#define PRIV_FAIL(what)	do { snprintf(why, len, "%s: %s", what, strerror(errno)); \
	return -1; } while (0)

int
priv_drop(const struct priv_account *a, uint64_t caps, char *why, size_t len)
{
	uint64_t eff, perm;

	if (!a->drop)
		return 0;
	if (getuid() == a->uid && geteuid() == a->uid) {
		/* started as the account (systemd's User=): only what it was given, cut */
		if (priv_capget(&eff, &perm) == -1)
			PRIV_FAIL("capget");
		if ((caps & perm) != caps) {
			snprintf(why, len, "started as %s without the capabilities it needs",
			    a->user);
			return -1;
		}
		/* capset only for more than it needs: a unit's filter may forbid it (@privileged) */
		if ((perm != caps || eff != caps) && priv_capset(caps) == -1)
			PRIV_FAIL("capset");
	} else {
		if (geteuid() != 0) {
			snprintf(why, len, "only root can become user %s", a->user);
			return -1;
		}
		if (priv_bound(caps) == -1)
			PRIV_FAIL("the bounding set");
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
		    errno != EINVAL)
			PRIV_FAIL("the ambient set");
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
			PRIV_FAIL("keepcaps");
		if (setgroups(1, &a->gid) == -1)
			PRIV_FAIL("setgroups");
		if (setresgid(a->gid, a->gid, a->gid) == -1)
			PRIV_FAIL("setresgid");
		if (setresuid(a->uid, a->uid, a->uid) == -1)
			PRIV_FAIL("setresuid");
		if (priv_capset(caps) == -1)
			PRIV_FAIL("capset");
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
			PRIV_FAIL("keepcaps");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		PRIV_FAIL("no_new_privs");
	return priv_check(a, caps, why, len);
}

int
priv_give(const struct priv_account *a, const char *path, mode_t mode, char *why, size_t len)
{
	struct stat st;

	if (!a->drop)
		return 0;
	/* chown only where it is another's: a unit's filter may forbid it (@chown) */
	if ((lstat(path, &st) == -1 || st.st_uid != a->uid || st.st_gid != a->gid) &&
	    chown(path, a->uid, a->gid) == -1) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (chmod(path, mode) == -1) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
