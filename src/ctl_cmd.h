/* ctl_cmd.h - control commands: a dispatch table over the table's API. */
#ifndef PG_CTL_CMD_H
#define PG_CTL_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_status.h"

struct pg_ctx;
struct evbuffer;
struct ctl_command;
struct ctl_later;
struct mt_entry;

/* What the commands need from the control socket's owner, wired at ctl_new. */
struct ctl_hooks {
	ctl_status_fn	*status;	/* the owner's own status fields, printed first */
};

/* What `watch` turns its connection into (ctl_req's watch). */
enum ctl_watch {
	CTL_WATCH_NONE,
	CTL_WATCH_TEXT,		/* one readable line per event (event_text) */
	CTL_WATCH_JSON,		/* one JSON object per event (event_json) */
};

#define CTL_MAX_WATCHERS	8	/* watching connections at once */
/*
 * Where a command's data lines go, one call per line (text raw, len bytes,
 * no newline): the control socket encodes them as "| " lines, the HTTP API
 * gathers them into its JSON answer.
 */
struct ctl_sink {
	void	(*data)(void *arg, const char *text, size_t len);
	void	*arg;
};

/* What kind of failure a command's result is (the HTTP API's status code). */
enum ctl_fail {
	CTL_FAIL_BAD,		/* a bad request: usage, a bad value */
	CTL_FAIL_MISSING,	/* what it names does not exist */
	CTL_FAIL_CONFLICT,	/* something else holds it */
	CTL_FAIL_REFUSED,	/* not allowed (a config rule, the table's policy) */
	CTL_FAIL_INTERNAL,	/* out of memory, the kernel refused */
};

struct ctl_req {
	struct pg_ctx	*ctx;
	const struct ctl_hooks *hooks;	/* NULL: none */
	const struct ctl_command *cmd;	/* the command's row, while it runs */
	struct ctl_sink	 out;		/* the data lines */
	struct evbuffer	*data;		/* ctl.c's: the encoded data lines out fills */
	const struct mt_entry *landing;	/* added: the reply waits for it to land (ctl.c) */
	struct ctl_later *later;	/* a reply worked out later (check): ctl.c waits for it */
	uint8_t		 land_proto;	/* landing's, for the refusal's message */
	uint16_t	 land_port;
	int		 ok;
	enum ctl_fail	 fail;		/* when !ok */
	char		 result[512];
	size_t		 watchers;	/* connections watching when the request came (ctl.c) */
	enum ctl_watch	 watch;		/* set: after the reply, events stream (ctl.c) */
	int		 watch_replay;	/* first the kept events after watch_since */
	uint64_t	 watch_since;
};

/* Run one request line (percent-encoded words) into req. */
void ctl_cmd_run(struct ctl_req *, char *line);
/* Call done(arg) once the later reply is ready (at once if it is). */
void ctl_later_wait(struct ctl_later *, void (*done)(void *), void *arg);
/* Move the ready reply (its data lines and result) into req, and free it. */
void ctl_later_take(struct ctl_later *, struct ctl_req *);
/* Drop a later reply, ready or not (its connection went). */
void ctl_later_free(struct ctl_later *);
/*
 * Run one request already split into words (argv[0] the command's first
 * word, at most CTL_ARGS_MAX words; none is changed) into req.
 */
void ctl_cmd_run_argv(struct ctl_req *, int argc, const char *const *argv);
/* The kernel's verdict on req's landing entry: err 0 it is in, else the result says so. */
void ctl_cmd_landed(struct ctl_req *, int err);

#endif
