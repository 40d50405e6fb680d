/*
 * ctl.c - the control socket.
 *
 * Protocol (version 2): the server greets with "portgate-ctl 2". A request
 * is one line of space-separated percent-encoded words. A reply is zero or
 * more data lines "| TEXT" and one final line "ok TEXT" or "err TEXT";
 * every TEXT has '%', control characters and DEL percent-encoded, so no
 * value (a description, an echoed argument) can end a line or a reply
 * (ctl_line.c encodes and decodes the lines, for this file, the commands
 * and portgatectl). Requests may be pipelined: complete lines read together are run as one
 * batch whose firewall changes reach the kernel in the table's one commit of the loop
 * turn; the replies, in order, wait for it, and the connection's next lines wait for
 * the replies. A command whose reply is worked out later (check: it watches a counter
 * for a while) leaves a struct ctl_later in its request, which the batch waits for in
 * the same way; a connection that goes drops it.
 *
 * Limits: CTL_MAX_CONNS clients; a request line over CTL_LINE_MAX bytes
 * is answered once with an error and the connection closed; a client idle
 * for control_idle_timeout seconds is closed; a client with more than CTL_OUT_HIGH bytes of
 * replies unsent is not read from until it has read them down to
 * CTL_OUT_LOW (and is closed if it reads nothing for CTL_WRITE_SECONDS);
 * on EOF the replies already due are still sent, then the connection closes.
 *
 * Watching: after the reply to `watch`, the connection runs no more
 * requests; it is subscribed to the event bus and every event is a data
 * line. It has no idle limit, but a watcher that does not read is dropped
 * (with a log line) once CTL_WATCH_OUT_MAX bytes of events wait for it: it
 * hears no more events, its last line says which one it saw last (to resume
 * from), and it is closed once that is out, or when it has read nothing for
 * CTL_WRITE_SECONDS. The daemon's memory does not grow for it. At most
 * CTL_MAX_WATCHERS watch at once.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "ctl_line.h"
#include "daemon.h"
#include "event.h"
#include "log.h"
#include "mtable.h"
#include "util.h"

#define CTL_BATCH_MAX	4096
#define CTL_WATCH_OUT_MAX	(512 * 1024)	/* events unsent to a watcher: dropped past this */
#define CTL_OUT_HIGH	(1024 * 1024)
#define CTL_OUT_LOW	(64 * 1024)
#define CTL_ACCEPT_BACKOFF_MS	500

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct ctl		*c;
	struct bufferevent	*bev;
	struct ctl_batch	*pending;	/* replies waiting for the kernel */
	int			 processing;	/* in ctl_conn_process */
	int			 eof;		/* the client half-closed: finish, then close */
	int			 closing;	/* close once the output is sent */
	enum ctl_watch		 watch;		/* its reply asked for the stream (ctl_cmd.c) */
	int			 watch_replay;
	uint64_t		 watch_since;
	int			 watching;	/* subscribed (or replaying): runs no requests */
	int			 dropped;	/* too slow: no more events, closing */
	uint64_t		 last_seq;	/* the last event it was sent */
	struct ev_sub		*sub;
};

struct ctl {
	struct pg_ctx		*ctx;
	struct ctl_hooks	 hooks;
	struct evconnlistener	*listener;
	struct event		*backoff_ev;
	char			*path;
	TAILQ_HEAD(, ctl_conn)	 conns;
	size_t			 nconns;
	size_t			 nwatchers;
	struct log_limit	 acceptlog;
};

/* One request's entry on its way to the kernel (mtable_commit_entry's argument). */
struct ctl_wait {
	struct ctl_wait	*next;
	struct ctl_batch *b;
	size_t		 i;		/* the request, by index: reqs[] may move */
};

struct ctl_batch {
	struct ctl	*c;
	struct ctl_req	*reqs;
	size_t		 n, cap;
	size_t		 bytes;
	struct ctl_wait	*waits;		/* freed with the batch */
	size_t		 waiting;	/* entries not landed yet */
	struct evbuffer	*out;		/* ctl_batch_finish: where the replies go */
	void		(*done)(void *);
	void		*done_arg;
	int		 ended;
};

/* ---- batches ---- */

static void ctl_batch_wait(struct ctl_batch *, size_t, const struct mt_entry *);
static void ctl_batch_later(struct ctl_batch *, size_t);

struct ctl_batch *
ctl_batch_new(struct ctl *c)
{
	struct ctl_batch *b = calloc(1, sizeof(*b));

	if (b != NULL)
		b->c = c;
	return b;
}

size_t
ctl_batch_count(const struct ctl_batch *b)
{
	return b->n;
}

/* The socket's sink: each data line encoded as "| TEXT" into the request's buffer. */
static void
ctl_put_data(void *arg, const char *text, size_t len)
{
	ctl_line_put_data(arg, text, len);
}

static struct ctl_req *
ctl_batch_slot(struct ctl_batch *b)
{
	struct ctl_req *r;
	size_t cap;

	if (b->n == b->cap) {
		cap = b->cap ? b->cap * 2 : 16;
		if ((r = reallocarray(b->reqs, cap, sizeof(*r))) == NULL)
			return NULL;
		b->reqs = r;
		b->cap = cap;
	}
	r = &b->reqs[b->n];
	memset(r, 0, sizeof(*r));
	r->ctx = b->c->ctx;
	r->hooks = &b->c->hooks;
	r->watchers = b->c->nwatchers;
	if ((r->data = evbuffer_new()) == NULL)
		return NULL;
	r->out.data = ctl_put_data;
	r->out.arg = r->data;
	b->n++;
	return r;
}

size_t
ctl_batch_run(struct ctl_batch *b, const char *line, size_t len)
{
	struct ctl_req *r = ctl_batch_slot(b);
	char *copy;

	if (r == NULL)
		return b->bytes;
	if (memchr(line, '\0', len) != NULL) {
		snprintf(r->result, sizeof(r->result), "request contains a NUL byte");
		return b->bytes;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		snprintf(r->result, sizeof(r->result), "out of memory");
		return b->bytes;
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	ctl_cmd_run(r, copy);
	free(copy);
	if (r->landing != NULL)
		ctl_batch_wait(b, b->n - 1, r->landing);
	if (r->later != NULL)
		ctl_batch_later(b, b->n - 1);
	b->bytes += evbuffer_get_length(r->data) + strlen(r->result) + 8;
	return b->bytes;
}

/* 1 if the batch's last request asks for the event stream: its kind and replay then. */
static int
ctl_batch_watch(const struct ctl_batch *b, enum ctl_watch *w, int *replay, uint64_t *since)
{
	const struct ctl_req *r;

	if (b->n == 0 || (r = &b->reqs[b->n - 1])->watch == CTL_WATCH_NONE || !r->ok)
		return 0;
	*w = r->watch;
	*replay = r->watch_replay;
	*since = r->watch_since;
	return 1;
}

void
ctl_batch_free(struct ctl_batch *b)
{
	struct ctl_wait *w;
	size_t i;

	if (b == NULL)
		return;
	mtable_commit_cancel(b->c->ctx->mt, b);
	while ((w = b->waits) != NULL) {
		b->waits = w->next;
		free(w);
	}
	for (i = 0; i < b->n; i++) {
		ctl_later_free(b->reqs[i].later);
		evbuffer_free(b->reqs[i].data);
	}
	free(b->reqs);
	free(b);
}

/* Every reply in order, then the batch goes. */
static void
ctl_batch_emit(struct ctl_batch *b)
{
	void (*done)(void *) = b->done;
	void *arg = b->done_arg;
	struct ctl_req *r;
	size_t i;

	for (i = 0; i < b->n; i++) {
		r = &b->reqs[i];
		evbuffer_add_buffer(b->out, r->data);
		ctl_line_put_result(b->out, r->ok, r->result);
	}
	ctl_batch_free(b);
	if (done != NULL)
		done(arg);
}

static void
ctl_landed(void *arg, int err)
{
	struct ctl_wait *w = arg;
	struct ctl_batch *b = w->b;
	ctl_cmd_landed(&b->reqs[w->i], err);
	if (--b->waiting == 0 && b->ended)
		ctl_batch_emit(b);
}

/* Request i's reply waits until its new entry is in the kernel (or refused). */
static void
ctl_batch_wait(struct ctl_batch *b, size_t i, const struct mt_entry *e)
{
	struct ctl_wait *w;

	b->reqs[i].landing = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return;		/* the entry lands with the turn's commit; the reply says ok */
	w->b = b;
	w->i = i;
	w->next = b->waits;
	b->waits = w;
	b->waiting++;
	mtable_commit_entry(b->c->ctx->mt, e, b, ctl_landed, w);
}

/* A later reply is ready: it takes its request's place. */
static void
ctl_later_ready(void *arg)
{
	struct ctl_wait *w = arg;
	struct ctl_batch *b = w->b;
	struct ctl_req *r = &b->reqs[w->i];

	ctl_later_take(r->later, r);
	r->later = NULL;
	if (--b->waiting == 0 && b->ended)
		ctl_batch_emit(b);
}

/* Request i's reply is worked out later (a check): the batch waits for it. */
static void
ctl_batch_later(struct ctl_batch *b, size_t i)
{
	struct ctl_wait *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		ctl_later_free(b->reqs[i].later);
		b->reqs[i].later = NULL;
		b->reqs[i].ok = 0;
		snprintf(b->reqs[i].result, sizeof(b->reqs[i].result), "out of memory");
		return;
	}
	w->b = b;
	w->i = i;
	w->next = b->waits;
	b->waits = w;
	b->waiting++;
	ctl_later_wait(b->reqs[i].later, ctl_later_ready, w);
}

void
ctl_batch_finish(struct ctl_batch *b, struct evbuffer *out, void (*done)(void *), void *arg)
{
	b->out = out;
	b->done = done;
	b->done_arg = arg;
	b->ended = 1;
	if (b->waiting == 0)
		ctl_batch_emit(b);
}

void
ctl_run_lines(struct ctl *c, char **lines, size_t n, struct evbuffer *out)
{
	struct ctl_batch *b = ctl_batch_new(c);
	size_t i;

	if (b == NULL) {
		for (i = 0; i < n; i++)
			evbuffer_add_printf(out, "err out of memory\n");
		return;
	}
	for (i = 0; i < n; i++)
		ctl_batch_run(b, lines[i], strlen(lines[i]));
	ctl_batch_finish(b, out, NULL, NULL);
}

/* ---- connections ---- */

static void
ctl_conn_free(struct ctl_conn *cc)
{
	if (cc->watching) {
		evbus_unsubscribe(cc->c->ctx->events, cc->sub);
		cc->c->nwatchers--;
	}
	ctl_batch_free(cc->pending);	/* its replies have no one to go to */
	TAILQ_REMOVE(&cc->c->conns, cc, entry);
	cc->c->nconns--;
	bufferevent_free(cc->bev);
	free(cc);
}

/* Answer once, stop reading, close when the answer is out. */
static void
ctl_conn_refuse(struct ctl_conn *cc, const char *msg)
{
	struct evbuffer *in = bufferevent_get_input(cc->bev);

	log_debug("ctl: %s; closing the connection", msg);
	ctl_line_put_result(bufferevent_get_output(cc->bev), 0, msg);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_disable(cc->bev, EV_READ);
	cc->closing = 1;
}

/* The next request line in the input (NULL if none is complete); *len without the newline. */
static char *
ctl_conn_line(struct ctl_conn *cc, size_t *len, int *too_long)
{
	struct evbuffer *in = bufferevent_get_input(cc->bev);
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
	size_t have = evbuffer_get_length(in);
	char *line;

	*too_long = 0;
	if (eol.pos < 0) {
		if (have >= CTL_LINE_MAX)
			*too_long = 1;
		if (!cc->eof || have == 0 || *too_long)
			return NULL;
		eol.pos = (ev_ssize_t)have;	/* a last request without its newline */
	}
	if ((size_t)eol.pos >= CTL_LINE_MAX) {
		*too_long = 1;
		return NULL;
	}
	*len = (size_t)eol.pos;
	if ((line = malloc(*len + 1)) == NULL)
		return NULL;
	evbuffer_remove(in, line, *len);
	evbuffer_drain(in, 1);		/* the newline, if any */
	line[*len] = '\0';
	return line;
}

static void ctl_conn_process(struct ctl_conn *);

/* ---- watching ---- */

/*
 * The end of a watch the daemon decides: no more events, a last line that
 * says why (and the event to resume after), then the connection closes once
 * that is out (or after CTL_WRITE_SECONDS without a read). Never freed here:
 * a replay may still be calling.
 */
static void
ctl_watch_drop(struct ctl_conn *cc, const char *why)
{
	char msg[200];

	cc->dropped = 1;
	evbus_unsubscribe(cc->c->ctx->events, cc->sub);
	cc->sub = NULL;
	snprintf(msg, sizeof(msg), "%s; the last event sent is #%llu (watch --since %llu "
	    "resumes)", why, (unsigned long long)cc->last_seq,
	    (unsigned long long)cc->last_seq);
	ctl_line_put_result(bufferevent_get_output(cc->bev), 0, msg);
	bufferevent_disable(cc->bev, EV_READ);
	cc->closing = 1;
}

/* One event for a watcher, a data line; one that has not read what waits for it is dropped. */
static void
ctl_watch_cb(void *arg, const struct pg_event *ev)
{
	struct ctl_conn *cc = arg;
	struct evbuffer *out;
	char line[EV_JSON_MAX];
	size_t n, unsent;

	if (cc->dropped)
		return;
	n = cc->watch == CTL_WATCH_JSON ? event_json(ev, line, sizeof(line)) :
	    event_text(ev, line, sizeof(line));
	if (n >= sizeof(line))
		return;		/* cannot be: EV_JSON_MAX fits every event */
	out = bufferevent_get_output(cc->bev);
	if ((unsent = evbuffer_get_length(out)) + n + 3 <= CTL_WATCH_OUT_MAX) {
		ctl_line_put_data(out, line, n);
		cc->last_seq = event_seq(ev);
		return;
	}
	log_warnx("ctl: a watcher has not read %zu bytes of events; dropping it", unsent);
	ctl_watch_drop(cc, "dropped: the events came faster than they were read");
}

/* The reply to `watch` is out: the connection hears every event from now on. */
static void
ctl_watch_start(struct ctl_conn *cc)
{
	struct ctl *c = cc->c;
	struct timeval wr = { CTL_WRITE_SECONDS, 0 };

	if (cc->eof) {
		cc->closing = 1;	/* it has gone already */
		return;
	}
	if (c->nwatchers >= CTL_MAX_WATCHERS) {
		ctl_line_put_result(bufferevent_get_output(cc->bev), 0, "too many watchers");
		bufferevent_disable(cc->bev, EV_READ);
		cc->closing = 1;
		return;
	}
	cc->watching = 1;
	c->nwatchers++;
	cc->last_seq = cc->watch_replay ? cc->watch_since : evbus_last_seq(c->ctx->events);
	bufferevent_set_timeouts(cc->bev, NULL, &wr);	/* no idle limit; a reader it needs */
	if (cc->watch_replay)
		evbus_replay(c->ctx->events, cc->watch_since, ctl_watch_cb, cc);
	if (!cc->dropped && (cc->sub = evbus_subscribe(c->ctx->events, ctl_watch_cb,
	    cc)) == NULL) {
		log_warnx("ctl: cannot subscribe a watcher: out of memory");
		ctl_watch_drop(cc, "out of memory");
	}
}

/* A batch's replies went out: the lines after it may run, or the events stream. */
static void
ctl_conn_batch_done(void *arg)
{
	struct ctl_conn *cc = arg;

	cc->pending = NULL;
	if (cc->watch != CTL_WATCH_NONE && !cc->watching && !cc->closing) {
		ctl_watch_start(cc);
		return;
	}
	if (!cc->processing)
		ctl_conn_process(cc);
}

/* Close the batch: its replies go out now, or once its entries are in the kernel. */
static void
ctl_conn_end_batch(struct ctl_conn *cc, struct ctl_batch *b)
{
	cc->pending = b;
	ctl_batch_finish(b, bufferevent_get_output(cc->bev), ctl_conn_batch_done, cc);
}

/*
 * Run the complete lines waiting, as far as the unsent output allows, one
 * batch at a time: while a batch waits for the kernel nothing else runs.
 */
static void
ctl_conn_process(struct ctl_conn *cc)
{
	struct evbuffer *out = bufferevent_get_output(cc->bev);
	struct ctl_batch *b = NULL;
	size_t len, queued = evbuffer_get_length(out);
	char *line;
	int too_long = 0;

	if (cc->watching || cc->watch != CTL_WATCH_NONE) {
		/* a watcher's words after `watch` are not requests */
		evbuffer_drain(bufferevent_get_input(cc->bev),
		    evbuffer_get_length(bufferevent_get_input(cc->bev)));
		return;
	}
	if (cc->pending != NULL)
		return;
	cc->processing = 1;
	while (!cc->closing && queued < CTL_OUT_HIGH) {
		if ((line = ctl_conn_line(cc, &len, &too_long)) == NULL)
			break;
		if (b == NULL && (b = ctl_batch_new(cc->c)) == NULL) {
			free(line);
			break;
		}
		queued = evbuffer_get_length(out) + ctl_batch_run(b, line, len);
		free(line);
		if (ctl_batch_watch(b, &cc->watch, &cc->watch_replay, &cc->watch_since)) {
			ctl_conn_end_batch(cc, b);	/* the last request: then the stream */
			b = NULL;
			break;
		}
		if (ctl_batch_count(b) == CTL_BATCH_MAX) {
			ctl_conn_end_batch(cc, b);
			b = NULL;
			if (cc->pending != NULL)
				break;
			queued = evbuffer_get_length(out);
		}
	}
	if (b != NULL)
		ctl_conn_end_batch(cc, b);
	cc->processing = 0;
	if (cc->pending != NULL || cc->watching)
		return;		/* ctl_conn_batch_done goes on, or the events do */
	if (too_long)
		ctl_conn_refuse(cc, "request line too long (at most 4095 bytes)");
	else if (queued >= CTL_OUT_HIGH)
		bufferevent_disable(cc->bev, EV_READ);	/* backpressure: resume in write_cb */
	else if (cc->eof)
		cc->closing = 1;
	if (cc->closing && evbuffer_get_length(out) == 0)
		ctl_conn_free(cc);
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	ctl_conn_process(arg);
}

static void
ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *cc = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));

	if (cc->closing) {
		if (left == 0)
			ctl_conn_free(cc);
		return;
	}
	if (left <= CTL_OUT_LOW && !(bufferevent_get_enabled(bev) & EV_READ)) {
		if (!cc->eof)
			bufferevent_enable(bev, EV_READ);
		ctl_conn_process(cc);	/* lines already buffered */
	}
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn *cc = arg;

	if ((what & BEV_EVENT_EOF) && cc->watching) {
		ctl_conn_free(cc);	/* the watcher has gone (portgatectl's Ctrl-C) */
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* half-close: the replies due still go out (ctl_conn_process closes after) */
		cc->eof = 1;
		bufferevent_disable(bev, EV_READ);
		ctl_conn_process(cc);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && cc->watching && !cc->dropped)
		log_warnx("ctl: a watcher has read nothing for %d s; dropping it",
		    CTL_WRITE_SECONDS);
	else if (what & BEV_EVENT_TIMEOUT)
		log_debug("ctl: client %s; closing", what & BEV_EVENT_READING ?
		    "idle" : "not reading its replies");
	ctl_conn_free(cc);
}

/* ---- accepting ---- */

static void
ctl_backoff_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl *c = arg;

	(void)fd;
	(void)ev;
	evconnlistener_enable(c->listener);
}

static void
ctl_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct ctl *c = arg;
	struct timeval tv = { 0, CTL_ACCEPT_BACKOFF_MS * 1000 };
	int err = errno;

	/* out of descriptors (EMFILE/ENFILE) or memory: don't spin, try again later */
	if (log_limit_pass(&c->acceptlog, util_mono_ms()))
		log_warnx("ctl: accept: %s; pausing %d ms", strerror(err), CTL_ACCEPT_BACKOFF_MS);
	evconnlistener_disable(l);
	evtimer_add(c->backoff_ev, &tv);
}

static void
ctl_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	static const char busy[] = CTL_PROTO_GREETING "\nerr too many control connections\n";
	struct ctl *c = arg;
	struct timeval idle = { (time_t)c->ctx->cfg->control_idle_timeout, 0 };
	struct timeval wr = { CTL_WRITE_SECONDS, 0 };
	struct ctl_conn *cc;

	(void)l;
	(void)sa;
	(void)salen;
	if (c->nconns >= CTL_MAX_CONNS) {
		if (send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
			log_debug("ctl: refusing a connection: %s", strerror(errno));
		close(fd);
		return;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL ||
	    (cc->bev = bufferevent_socket_new(c->ctx->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(cc);
		close(fd);
		return;
	}
	cc->c = c;
	TAILQ_INSERT_TAIL(&c->conns, cc, entry);
	c->nconns++;
	bufferevent_setcb(cc->bev, ctl_read_cb, ctl_write_cb, ctl_event_cb, cc);
	bufferevent_setwatermark(cc->bev, EV_WRITE, CTL_OUT_LOW, 0);
	bufferevent_set_timeouts(cc->bev, &idle, &wr);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
	evbuffer_add_printf(bufferevent_get_output(cc->bev), "%s\n", CTL_PROTO_GREETING);
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

/* The socket's directory (the default's is PG_RUNDIR), made if missing: 0755, root's or ours. */
static void
ctl_sock_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		log_warn("ctl: cannot create %s", dir);
}

struct ctl *
ctl_new(struct pg_ctx *ctx, const struct ctl_hooks *hooks)
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
	ctl_sock_dir(sun.sun_path);
	c = xcalloc(1, sizeof(*c));
	c->ctx = ctx;
	if (hooks != NULL)
		c->hooks = *hooks;
	c->path = xstrdup(sun.sun_path);
	TAILQ_INIT(&c->conns);
	log_limit_init(&c->acceptlog, 10000, 1);
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
	evconnlistener_set_error_cb(c->listener, ctl_accept_error_cb);
	c->backoff_ev = evtimer_new(ctx->base, ctl_backoff_cb, c);
	chmod(c->path, 0600);
	return c;
}

void
ctl_free(struct ctl *c)
{
	if (c == NULL)
		return;
	while (!TAILQ_EMPTY(&c->conns))
		ctl_conn_free(TAILQ_FIRST(&c->conns));
	evconnlistener_free(c->listener);
	if (c->backoff_ev != NULL)
		event_free(c->backoff_ev);
	unlink(c->path);
	free(c->path);
	free(c);
}
