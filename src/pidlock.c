/* pidlock.c - refuse a second portgated for the same table or state file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pidlock.h"
#include "util.h"

struct pidlock {
	int			 table_fd;
	char			*table_lock;
	int			 state_fd;
	char			*state_lock;
};

static long
pidlock_read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/*
 * flock(LOCK_EX|LOCK_NB) on the open lock file *fd and write our pid; if
 * another holds it, say "another portgated (pid N) WHAT" in why, close *fd
 * and return -1.
 */
static int
pidlock_hold(int *fd, const char *path, const char *what, char *why, size_t whylen)
{
	char pid[32];
	long other;
	int n;

	if (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		if ((other = pidlock_read_pid(*fd)) > 0)
			snprintf(why, whylen, "another portgated (pid %ld) %s", other, what);
		else
			snprintf(why, whylen, "another portgated %s", what);
		close(*fd);
		*fd = -1;
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) == -1 || pwrite(*fd, pid, (size_t)n, 0) != n)
		log_warn("pidlock: writing %s", path);
	return 0;
}

/*
 * The directory holding table locks: created 0755 if missing, and refused
 * unless it is a real directory owned by root (or by us) that nobody else
 * can write to, so an unprivileged user can neither hold a lock file in it
 * nor replace one.
 */
static int
pidlock_dir(const char *dir, char *why, size_t whylen)
{
	struct stat st;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) == -1) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "%s is not a directory only root or uid %ld can write to; "
		    "refusing to keep the table lock there", dir, (long)geteuid());
		return -1;
	}
	return 0;
}

/*
 * The table lock is per nftables table and per network namespace (tables
 * are per namespace), so its file is named after both: the namespace's
 * inode and the table, in PG_RUNDIR. It used to be an abstract unix socket,
 * which any local user could bind first and so stop portgated from
 * starting; a file in a root-only directory can be locked only by root or
 * the daemon's own user.
 */
static int
pidlock_table(struct pidlock *pl, const char *table, char *why, size_t whylen)
{
	struct stat ns;
	char what[160];

	if (stat("/proc/self/ns/net", &ns) == -1) {
		snprintf(why, whylen, "cannot tell the network namespace (/proc/self/ns/net): %s",
		    strerror(errno));
		return -1;
	}
	if (pidlock_dir(PG_RUNDIR, why, whylen) == -1)
		return -1;
	if (asprintf(&pl->table_lock, "%s/table-ip-%s.netns-%lu.lock", PG_RUNDIR, table,
	    (unsigned long)ns.st_ino) == -1) {
		pl->table_lock = NULL;
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	pl->table_fd = open(pl->table_lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (pl->table_fd == -1) {
		snprintf(why, whylen, "cannot take the lock for table ip %s (%s): %s", table,
		    pl->table_lock, strerror(errno));
		return -1;
	}
	snprintf(what, sizeof(what), "owns table ip %s", table);
	return pidlock_hold(&pl->table_fd, pl->table_lock, what, why, whylen);
}

static int
pidlock_state(struct pidlock *pl, const char *state_file, char *why, size_t whylen)
{
	char what[PATH_MAX + 32];

	if (asprintf(&pl->state_lock, "%s.lock", state_file) == -1) {
		pl->state_lock = NULL;
		return 0;
	}
	pl->state_fd = open(pl->state_lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (pl->state_fd == -1) {
		log_warn("pidlock: cannot create %s; state file not locked", pl->state_lock);
		return 0;
	}
	snprintf(what, sizeof(what), "uses state file %s", state_file);
	return pidlock_hold(&pl->state_fd, pl->state_lock, what, why, whylen);
}

struct pidlock *
pidlock_take(const char *table, const char *state_file, char *why,
    size_t whylen)
{
	struct pidlock *pl = xcalloc(1, sizeof(*pl));

	pl->table_fd = -1;
	pl->state_fd = -1;
	if ((table != NULL && pidlock_table(pl, table, why, whylen) == -1) ||
	    pidlock_state(pl, state_file, why, whylen) == -1) {
		pidlock_release(pl);
		return NULL;
	}
	return pl;
}

static void
pidlock_close(int fd, const char *path)
{
	if (fd == -1)
		return;
	if (ftruncate(fd, 0) == -1)
		log_debug("pidlock: truncating %s", path);
	close(fd);
}

void
pidlock_release(struct pidlock *pl)
{
	if (pl == NULL)
		return;
	pidlock_close(pl->table_fd, pl->table_lock);
	pidlock_close(pl->state_fd, pl->state_lock);
	free(pl->table_lock);
	free(pl->state_lock);
	free(pl);
}
