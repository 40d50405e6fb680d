/*
 * diag_probe.c - probes of an internal host for the diagnosis: a TCP
 * connect from the gateway with a timeout (refused, no answer, accepted),
 * and the kernel's neighbour (ARP) state of an address, for UDP, which has
 * no handshake to try.
 */
#include "config.h"

#include <netinet/in.h>
#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "diag_probe.h"
#include "util.h"

struct diag_tcp {
	int		 fd;
	struct event	*ev;
	int		 err;		/* known at once (connect failed or succeeded) */
	int		 now;		/* err is final: report it on the next turn */
	diag_tcp_cb	*cb;
	void		*arg;
};

static void
diag_tcp_cb_ev(evutil_socket_t fd, short what, void *arg)
{
	struct diag_tcp *t = arg;
	socklen_t len = sizeof(t->err);
	int err = t->err;

	(void)fd;
	if (!t->now) {
		if (what & EV_TIMEOUT)
			err = ETIMEDOUT;
		else if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
	}
	close(t->fd);
	t->fd = -1;
	t->cb(t->arg, err);
}

struct diag_tcp *
diag_tcp_start(struct event_base *base, const struct in6_addr *addr, uint16_t port,
    uint32_t timeout_ms, diag_tcp_cb *cb, void *arg)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct sockaddr_in sin;
	struct diag_tcp *t;

	if (!util_addr_is_v4(addr) || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->cb = cb;
	t->arg = arg;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	memcpy(&sin.sin_addr, &addr->s6_addr[12], 4);
	if ((t->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		free(t);
		return NULL;
	}
	if (connect(t->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		t->now = 1;
	else if (errno != EINPROGRESS) {
		t->now = 1;
		t->err = errno;
	}
	if (t->now) {	/* the answer is known: it still comes from the loop */
		t->ev = evtimer_new(base, diag_tcp_cb_ev, t);
		tv.tv_sec = 0;
		tv.tv_usec = 0;
	} else
		t->ev = event_new(base, t->fd, EV_WRITE, diag_tcp_cb_ev, t);
	if (t->ev == NULL || event_add(t->ev, &tv) == -1) {
		diag_tcp_free(t);
		return NULL;
	}
	return t;
}

void
diag_tcp_free(struct diag_tcp *t)
{
	if (t == NULL)
		return;
	if (t->ev != NULL)
		event_free(t->ev);
	if (t->fd != -1)
		close(t->fd);
	free(t);
}

/* ---- the neighbour table ---- */

struct diag_nud {
	uint32_t	addr;		/* network order */
	int		state;
};

static int
diag_neigh_attr(const struct nlattr *a, void *arg)
{
	const struct nlattr **tb = arg;

	if (mnl_attr_get_type(a) == NDA_DST && mnl_attr_get_payload_len(a) == 4)
		tb[NDA_DST] = a;
	return MNL_CB_OK;
}

static int
diag_neigh_msg(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[NDA_MAX + 1] = { NULL };
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	struct diag_nud *d = arg;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nd->ndm_family != AF_INET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*nd), diag_neigh_attr, tb);
	/* an entry on each interface is possible: one that answered wins */
	if (tb[NDA_DST] != NULL && memcmp(mnl_attr_get_payload(tb[NDA_DST]), &d->addr, 4) == 0 &&
	    (d->state == 0 || (nd->ndm_state & (NUD_REACHABLE | NUD_PERMANENT))))
		d->state = nd->ndm_state;
	return MNL_CB_OK;
}

int
diag_neigh_state(const struct in6_addr *addr)
{
	struct diag_nud d = { 0, 0 };

	if (!util_addr_is_v4(addr))
		return -1;
	memcpy(&d.addr, &addr->s6_addr[12], 4);
	if (util_rtnl_dump(RTM_GETNEIGH, AF_INET, sizeof(struct ndmsg), diag_neigh_msg, &d) ==
	    MNL_CB_ERROR)
		return -1;
	return d.state;
}

const char *
diag_nud_name(int nud)
{
	static const struct {
		int		 nud;
		const char	*name;
	} names[] = {
		{ NUD_INCOMPLETE, "INCOMPLETE" }, { NUD_REACHABLE, "REACHABLE" },
		{ NUD_STALE, "STALE" }, { NUD_DELAY, "DELAY" }, { NUD_PROBE, "PROBE" },
		{ NUD_FAILED, "FAILED" }, { NUD_NOARP, "NOARP" }, { NUD_PERMANENT, "PERMANENT" },
	};
	size_t i;

	for (i = 0; i < PG_NELEM(names); i++)
		if (names[i].nud == nud)
			return names[i].name;
	return "none";
}
