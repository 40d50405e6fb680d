/*
 * ctl_line.h - the control protocol's line codec, shared by the control
 * socket (ctl.c, ctl_cmd.c) and portgatectl: no context, no callbacks.
 *
 * A request is one line of space-separated percent-encoded words. A reply
 * is zero or more data lines "| TEXT" and one final line "ok TEXT" or
 * "err TEXT" (or a bare "ok" / "err"); every TEXT has '%', control
 * characters and DEL percent-encoded, so no value can end a line or a reply.
 */
#ifndef PG_CTL_LINE_H
#define PG_CTL_LINE_H

#include <stddef.h>

struct evbuffer;

#define CTL_PROTO_GREETING	"portgate-ctl 2"
#define CTL_LINE_MAX		4096	/* a request line, newline included */
#define CTL_ARGS_MAX		16	/* words in a request */

/* What a reply line is. */
enum ctl_line_kind {
	CTL_LINE_DATA,		/* "| TEXT" */
	CTL_LINE_OK,		/* "ok" or "ok TEXT": the request's reply ends, it worked */
	CTL_LINE_ERR,		/* "err" or "err TEXT": it ends, it failed */
	CTL_LINE_OTHER,		/* none of those */
};

/* Encode argc words as one request line ending in "\n" into buf; its length, or -1 if too long. */
int ctl_line_request(int argc, char *const *argv, char *buf, size_t len);
/*
 * Split a request line into at most max words, each decoded in place; the
 * count, 0 if there is none, -1 if there are more than max, -2 if a word's
 * encoding is malformed.
 */
int ctl_line_words(char *line, char **argv, int max);
/* Append prefix + text (len bytes, encoded) + "\n" to out. */
void ctl_line_put(struct evbuffer *out, const char *prefix, const char *text, size_t len);
/* Append the data line "| " + text. */
void ctl_line_put_data(struct evbuffer *out, const char *text, size_t len);
/* Append the final line: "ok"/"err", then " " + text unless text is empty. */
void ctl_line_put_result(struct evbuffer *out, int ok, const char *text);
/* What a reply line (without its newline) is; *text is its TEXT, still encoded, or NULL if none. */
enum ctl_line_kind ctl_line_reply(char *line, char **text);
/* Decode a reply TEXT in place; 0, or -1 if its encoding is malformed. */
int ctl_line_decode(char *text);

#endif
