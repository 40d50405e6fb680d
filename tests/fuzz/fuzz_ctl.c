/* fuzz_ctl.c - control requests: framing into lines, decoding, every command, batches. */
#include "config.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "mtable.h"
#include "trigger/trigger.h"

#define FUZZ_LINES_MAX	64

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct pg_ctx ctx;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/portgate-fuzz-ctl-XXXXXX", conf[512];

	(void)argc;
	(void)argv;
	log_setverbose(-2);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(conf, sizeof(conf), "firewall = none\nstate_file = %s/state\n"
	    "control_socket = %s/sock\nallow 1024-65535 192.0.2.0/24 1-65535\n", dir, dir);
	if ((ctx.cfg = conf_parse("fuzz", conf, strlen(conf), NULL, NULL)) == NULL ||
	    (ctx.base = event_base_new()) == NULL || pg_start(&ctx) == -1)
		abort();
	return 0;
}

static int
collect_name(void *arg, const struct trig_rule *r)
{
	char (*names)[TRIG_NAME_MAX] = arg;
	size_t i;

	for (i = 0; i < 8 && names[i][0] != '\0'; i++)
		;
	if (i < 8)
		memcpy(names[i], r->name, TRIG_NAME_MAX);
	return 0;
}

/* Each input starts from an empty table and no run-time trigger rules. */
static void
reset(void)
{
	char names[8][TRIG_NAME_MAX], err[160];
	size_t i;

	memset(names, 0, sizeof(names));
	mtable_flush(ctx.mt, MT_NSOURCE);
	trigger_foreach_runtime(ctx.trig, collect_name, names);
	for (i = 0; i < 8 && names[i][0] != '\0'; i++)
		trigger_del_rule(ctx.trig, names[i], err, sizeof(err));
	mtable_commit(ctx.mt, NULL, NULL);
}

static void
batch_done(void *arg)
{
	*(int *)arg = 1;
}

/* Lines as the socket frames them (NUL bytes included), run as one batch. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	int done = 0;
	struct evbuffer *out = evbuffer_new();
	struct ctl_batch *b = ctl_batch_new(ctx.ctl);
	const char *p = (const char *)data, *end = p + len, *nl;
	size_t n = 0;

	if (out == NULL || b == NULL)
		abort();
	while (p < end && n < FUZZ_LINES_MAX) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) < CTL_LINE_MAX)
			ctl_batch_run(b, p, (size_t)(nl - p));
		p = nl + 1;
		n++;
	}
	ctl_batch_finish(b, out, batch_done, &done);
	event_base_loop(ctx.base, EVLOOP_NONBLOCK);	/* the turn's commit: the replies come */
	if (!done)
		ctl_batch_free(b);	/* still waiting (a check): as if the client went */
	/* every reply line is one line: no raw control character inside */
	{
		size_t olen = evbuffer_get_length(out), i;
		const unsigned char *o = evbuffer_pullup(out, -1);

		for (i = 0; i < olen; i++)
			if ((o[i] < 0x20 && o[i] != '\n') || o[i] == 0x7f)
				abort();
	}
	evbuffer_free(out);
	reset();
	return 0;
}
