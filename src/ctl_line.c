/* ctl_line.c - the control protocol's line codec (see ctl_line.h). */
#include "config.h"

#include <event2/buffer.h>
#include <string.h>

#include "ctl_line.h"
#include "util.h"

int
ctl_line_request(int argc, char *const *argv, char *buf, size_t len)
{
	char enc[CTL_LINE_MAX];
	size_t off = 0, l;
	int i;

	for (i = 0; i < argc; i++) {
		if (util_pct_encode(argv[i], enc, sizeof(enc)) == -1 ||
		    off + (l = strlen(enc)) + 2 >= len)
			return -1;
		if (i > 0)
			buf[off++] = ' ';
		memcpy(buf + off, enc, l);
		off += l;
	}
	if (off + 1 >= len)
		return -1;
	buf[off++] = '\n';
	buf[off] = '\0';
	return (int)off;
}

int
ctl_line_words(char *line, char **argv, int max)
{
	int argc, i;

	if ((argc = util_split(line, argv, max)) <= 0)
		return argc;
	for (i = 0; i < argc; i++)
		if (util_pct_decode(argv[i]) == -1)
			return -2;
	return argc;
}

void
ctl_line_put(struct evbuffer *out, const char *prefix, const char *text, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)text;
	size_t i, run = 0;
	char esc[3];

	evbuffer_add(out, prefix, strlen(prefix));
	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] != 0x7f && p[i] != '%')
			continue;
		evbuffer_add(out, text + run, i - run);
		esc[0] = '%';
		esc[1] = hex[p[i] >> 4];
		esc[2] = hex[p[i] & 15];
		evbuffer_add(out, esc, 3);
		run = i + 1;
	}
	evbuffer_add(out, text + run, len - run);
	evbuffer_add(out, "\n", 1);
}

void
ctl_line_put_data(struct evbuffer *out, const char *text, size_t len)
{
	ctl_line_put(out, "| ", text, len);
}

void
ctl_line_put_result(struct evbuffer *out, int ok, const char *text)
{
	ctl_line_put(out, ok ? (text[0] ? "ok " : "ok") : (text[0] ? "err " : "err"), text,
	    strlen(text));
}

enum ctl_line_kind
ctl_line_reply(char *line, char **text)
{
	*text = NULL;
	if (strncmp(line, "| ", 2) == 0) {
		*text = line + 2;
		return CTL_LINE_DATA;
	}
	if (strcmp(line, "ok") == 0 || strncmp(line, "ok ", 3) == 0) {
		if (line[2] != '\0')
			*text = line + 3;
		return CTL_LINE_OK;
	}
	if (strcmp(line, "err") == 0 || strncmp(line, "err ", 4) == 0) {
		if (line[3] != '\0')
			*text = line + 4;
		return CTL_LINE_ERR;
	}
	return CTL_LINE_OTHER;
}

int
ctl_line_decode(char *text)
{
	return util_pct_decode(text);
}
