/* test_ctl_line.c - the control protocol's line codec, as the daemon and portgatectl use it. */
#include "config.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "ctl_line.h"
#include "testutil.h"

/* The bytes an evbuffer holds, as a string (static buffer), and empty it. */
static const char *
drain(struct evbuffer *b)
{
	static char out[1024];
	size_t len = evbuffer_remove(b, out, sizeof(out) - 1);

	out[len] = '\0';
	return out;
}

/* A request travels as encoded words and arrives as the same words. */
static void
test_request(void)
{
	static const char *const want[] = { "forward", "add", "tcp", "8080", "192.0.2.10",
	    "--desc", "a b%\n\x7f", "" };
	char copy[8][16], *in[8];
	char line[CTL_LINE_MAX], big[CTL_LINE_MAX], *words[CTL_ARGS_MAX + 1];
	char *one[] = { big };
	int n, i;

	for (i = 0; i < 8; i++)
		in[i] = strcpy(copy[i], want[i]);
	n = ctl_line_request(8, in, line, sizeof(line));
	CHECK_STR(line, "forward add tcp 8080 192.0.2.10 --desc a%20b%25%0A%7F %-\n");
	CHECK_EQ(n, (int)strlen(line));
	CHECK_EQ(ctl_line_words(line, words, CTL_ARGS_MAX), 8);
	for (i = 0; i < 8; i++)
		CHECK_STR(words[i], want[i]);
	/* too long for one line */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(ctl_line_request(1, one, line, sizeof(line)), -1);
	/* what the daemon refuses */
	strcpy(line, "   ");
	CHECK_EQ(ctl_line_words(line, words, CTL_ARGS_MAX), 0);
	strcpy(line, "a b c");
	CHECK_EQ(ctl_line_words(line, words, 2), -1);
	strcpy(line, "list %zz");
	CHECK_EQ(ctl_line_words(line, words, CTL_ARGS_MAX), -2);
	strcpy(line, "list %00");
	CHECK_EQ(ctl_line_words(line, words, CTL_ARGS_MAX), -2);
}

/* No reply text can end a line or a reply; portgatectl reads back what was put. */
static void
test_reply(void)
{
	struct evbuffer *b = evbuffer_new();
	char line[256], *text;

	ctl_line_put_data(b, "x\nok forged", 11);
	CHECK_STR(drain(b), "| x%0Aok forged\n");
	ctl_line_put_result(b, 1, "");
	CHECK_STR(drain(b), "ok\n");
	ctl_line_put_result(b, 1, "100%");
	CHECK_STR(drain(b), "ok 100%25\n");
	ctl_line_put_result(b, 0, "no\rway");
	CHECK_STR(drain(b), "err no%0Dway\n");
	ctl_line_put_result(b, 0, "");
	CHECK_STR(drain(b), "err\n");
	ctl_line_put(b, "err ", "a\0b", 3);
	CHECK_STR(drain(b), "err a%00b\n");

	strcpy(line, "| x%0Aok forged");
	CHECK_EQ(ctl_line_reply(line, &text), CTL_LINE_DATA);
	CHECK_EQ(ctl_line_decode(text), 0);
	CHECK_STR(text, "x\nok forged");
	strcpy(line, "ok");
	CHECK_EQ(ctl_line_reply(line, &text), CTL_LINE_OK);
	CHECK(text == NULL);
	strcpy(line, "ok 100%25");
	CHECK_EQ(ctl_line_reply(line, &text), CTL_LINE_OK);
	CHECK_EQ(ctl_line_decode(text), 0);
	CHECK_STR(text, "100%");
	strcpy(line, "err");
	CHECK_EQ(ctl_line_reply(line, &text), CTL_LINE_ERR);
	CHECK(text == NULL);
	strcpy(line, "err no%0Dway");
	CHECK_EQ(ctl_line_reply(line, &text), CTL_LINE_ERR);
	CHECK_STR(text, "no%0Dway");
	strcpy(line, "okay");
	CHECK_EQ(ctl_line_reply(line, &text), CTL_LINE_OTHER);
	strcpy(line, "errors");
	CHECK_EQ(ctl_line_reply(line, &text), CTL_LINE_OTHER);
	strcpy(line, "|x");
	CHECK_EQ(ctl_line_reply(line, &text), CTL_LINE_OTHER);
	strcpy(line, "100%2");
	CHECK_EQ(ctl_line_decode(line), -1);
	evbuffer_free(b);
}

int
main(void)
{
	test_request();
	test_reply();
	return tu_done("test_ctl_line");
}
