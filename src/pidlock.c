/* pidlock.c - refuse a second portgated for the same table or state file. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "pidlock.h"
#include "util.h"

struct pidlock {
	struct evconnlistener	*table;
	int			 state_fd;
	char			*state_lock;
};

static socklen_t
pidlock_addr(const char *table, struct sockaddr_un *sun)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/* abstract namespace: sun_path[0] == '\0' */
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, "portgated/table ip %s", table);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* The pid listening on the table lock, or 0 if it cannot be told. */
static long
pidlock_holder(const struct sockaddr_un *sun, socklen_t len)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	long pid = 0;

	if (fd == -1)
		return 0;
	if (connect(fd, (const struct sockaddr *)sun, len) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
		pid = (long)cred.pid;
	close(fd);
	return pid;
}

static void
pidlock_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	close(fd);	/* someone asked who holds the lock: SO_PEERCRED told them */
}

static int
pidlock_table(struct pidlock *pl, struct event_base *base, const char *table, char *why,
    size_t whylen)
{
	struct sockaddr_un sun;
	socklen_t len = pidlock_addr(table, &sun);
	long pid;

	pl->table = evconnlistener_new_bind(base, pidlock_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 4, (struct sockaddr *)&sun, (int)len);
	if (pl->table != NULL)
		return 0;
	if (errno != EADDRINUSE) {
		snprintf(why, whylen, "cannot take the lock for table ip %s: %s", table,
		    strerror(errno));
		return -1;
	}
	if ((pid = pidlock_holder(&sun, len)) > 0)
		snprintf(why, whylen, "another portgated (pid %ld) owns table ip %s", pid, table);
	else
		snprintf(why, whylen, "another portgated owns table ip %s", table);
	return -1;
}

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

static int
pidlock_state(struct pidlock *pl, const char *state_file, char *why, size_t whylen)
{
	char pid[32];
	long other;
	int n;

	if (asprintf(&pl->state_lock, "%s.lock", state_file) == -1) {
		pl->state_lock = NULL;
		return 0;
	}
	pl->state_fd = open(pl->state_lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (pl->state_fd == -1) {
		log_warn("pidlock: cannot create %s; state file not locked", pl->state_lock);
		return 0;
	}
	if (flock(pl->state_fd, LOCK_EX | LOCK_NB) == -1) {
		if ((other = pidlock_read_pid(pl->state_fd)) > 0)
			snprintf(why, whylen, "another portgated (pid %ld) uses state file %s",
			    other, state_file);
		else
			snprintf(why, whylen, "another portgated uses state file %s", state_file);
		close(pl->state_fd);
		pl->state_fd = -1;
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(pl->state_fd, 0) == -1 || pwrite(pl->state_fd, pid, (size_t)n, 0) != n)
		log_warn("pidlock: writing %s", pl->state_lock);
	return 0;
}

struct pidlock *
pidlock_take(struct event_base *base, const char *table, const char *state_file, char *why,
    size_t whylen)
{
	struct pidlock *pl = xcalloc(1, sizeof(*pl));

	pl->state_fd = -1;
	if ((table != NULL && pidlock_table(pl, base, table, why, whylen) == -1) ||
	    pidlock_state(pl, state_file, why, whylen) == -1) {
		pidlock_release(pl);
		return NULL;
	}
	return pl;
}

void
pidlock_release(struct pidlock *pl)
{
	if (pl == NULL)
		return;
	if (pl->table != NULL)
		evconnlistener_free(pl->table);
	if (pl->state_fd != -1) {
		if (ftruncate(pl->state_fd, 0) == -1)
			log_debug("pidlock: truncating %s", pl->state_lock);
		close(pl->state_fd);
	}
	free(pl->state_lock);
	free(pl);
}
