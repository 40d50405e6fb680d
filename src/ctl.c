/*
 * ctl.c - the control socket.
 *
 * Protocol (version 1): the server greets with "portgate-ctl 1". A request
 * is one line of space-separated percent-encoded words. A reply is zero or
 * more data lines "| TEXT" and one final line "ok TEXT" or "err TEXT".
 * Requests may be pipelined: every complete line read in one go is run,
 * the firewall batch is committed once, and the replies go out in order.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "daemon.h"
#include "log.h"
#include "mtable.h"
#include "util.h"

#define CTL_LINE_MAX	4096
#define CTL_BATCH_MAX	4096

struct ctl {
	struct pg_ctx		*ctx;
	struct evconnlistener	*listener;
	char			*path;
};

static void
ctl_commit_failed(void *arg, uint64_t id, int proto, uint16_t port, int err)
{
	struct ctl_req *reqs = arg;
	size_t i;

	for (i = 0; reqs[i].ctx != NULL; i++) {
		if (reqs[i].id != id)
			continue;
		reqs[i].ok = 0;
		snprintf(reqs[i].result, sizeof(reqs[i].result),
		    "firewall refused %s %u: %s", mt_proto_name(proto), port, strerror(err));
	}
}

void
ctl_run_lines(struct pg_ctx *ctx, char **lines, size_t n, struct evbuffer *out)
{
	struct ctl_req *reqs;
	size_t i;

	if ((reqs = calloc(n + 1, sizeof(*reqs))) == NULL) {
		for (i = 0; i < n; i++)
			evbuffer_add_printf(out, "err out of memory\n");
		return;
	}
	for (i = 0; i < n; i++) {
		reqs[i].ctx = ctx;
		reqs[i].data = evbuffer_new();
		ctl_cmd_run(&reqs[i], lines[i]);
	}
	mtable_commit(ctx->mt, ctl_commit_failed, reqs);
	for (i = 0; i < n; i++) {
		evbuffer_add_buffer(out, reqs[i].data);
		evbuffer_add_printf(out, "%s%s%s\n", reqs[i].ok ? "ok" : "err",
		    reqs[i].result[0] ? " " : "", reqs[i].result);
		evbuffer_free(reqs[i].data);
	}
	free(reqs);
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *lines[CTL_BATCH_MAX];
	size_t n = 0, len, i;

	while (n < CTL_BATCH_MAX &&
	    (lines[n] = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (len >= CTL_LINE_MAX) {
			free(lines[n]);
			continue;
		}
		n++;
	}
	if (n > 0)
		ctl_run_lines(c->ctx, lines, n, bufferevent_get_output(bev));
	for (i = 0; i < n; i++)
		free(lines[i]);
	if (evbuffer_get_length(in) > CTL_LINE_MAX) {
		log_debug("ctl: request line too long; closing");
		evbuffer_add_printf(bufferevent_get_output(bev), "err request line too long\n");
		evbuffer_drain(in, evbuffer_get_length(in));
	}
	if (n == CTL_BATCH_MAX)		/* more lines waiting: come back next iteration */
		bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void
ctl_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct ctl *c = arg;
	struct bufferevent *bev;

	(void)l;
	(void)sa;
	(void)salen;
	bev = bufferevent_socket_new(c->ctx->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, ctl_read_cb, NULL, ctl_event_cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	evbuffer_add_printf(bufferevent_get_output(bev), "%s\n", CTL_PROTO_GREETING);
}

static int
ctl_stale(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	if (fd == -1)
		return 0;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0)
		return -1;	/* someone is listening: another portgated */
	return 1;
}

struct ctl *
ctl_new(struct pg_ctx *ctx)
{
	struct sockaddr_un sun;
	struct ctl *c;
	mode_t old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(ctx->cfg->control_socket) >= sizeof(sun.sun_path)) {
		log_warnx("ctl: control_socket path too long: %s", ctx->cfg->control_socket);
		return NULL;
	}
	strcpy(sun.sun_path, ctx->cfg->control_socket);
	if (access(sun.sun_path, F_OK) == 0) {
		if (ctl_stale(&sun) == -1) {
			log_warnx("ctl: %s is in use by another daemon", sun.sun_path);
			return NULL;
		}
		unlink(sun.sun_path);
	}
	c = xcalloc(1, sizeof(*c));
	c->ctx = ctx;
	c->path = xstrdup(sun.sun_path);
	old = umask(0177);
	c->listener = evconnlistener_new_bind(ctx->base, ctl_accept_cb, c,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (c->listener == NULL) {
		log_warn("ctl: cannot listen on %s", sun.sun_path);
		free(c->path);
		free(c);
		return NULL;
	}
	chmod(c->path, 0600);
	return c;
}

void
ctl_free(struct ctl *c)
{
	if (c == NULL)
		return;
	evconnlistener_free(c->listener);
	unlink(c->path);
	free(c->path);
	free(c);
}
