/* fuzz_nflog.c - NFLOG netlink messages from the kernel: attributes and the packet inside. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mtable.h"
#include "trigger/nflog.h"
#include "trigger/trigger.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint64_t now = 1000000;

static uint64_t
fake_now(void *arg)
{
	(void)arg;
	return now;
}

static struct mtable *mt;
static struct trigger *t;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pg_clock clk = { fake_now, NULL };
	struct trig_rule r;
	char err[160];

	(void)argc;
	(void)argv;
	log_setverbose(-2);
	mt = mtable_new(NULL, &clk);
	t = trigger_new(mt);
	if (trig_rule_parse(&r, "game tcp:7000 open tcp:7100-7110,udp:7100-7110 idle 5", err,
	    sizeof(err)) == -1 || trigger_add_rule(t, &r, 0, err, sizeof(err)) == -1)
		abort();
	if (trig_rule_parse(&r, "voice udp:5060-5070 open udp:10000-10100 idle 5", err,
	    sizeof(err)) == -1 || trigger_add_rule(t, &r, 0, err, sizeof(err)) == -1)
		abort();
	return 0;
}

/*
 * First byte: 0 = the input is a buffer of netlink messages as read from
 * the socket; otherwise the rest is one packet payload, prefix by bit 0.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *copy;

	/* an aligned copy of exactly the bytes after the selector, as a socket read gives */
	if (len > 0 && (copy = malloc(len)) != NULL) {
		memcpy(copy, data + 1, len - 1);
		if (data[0] == 0)
			trig_nflog_handle_buf(t, copy, len - 1);
		else
			trig_nflog_handle_packet(t, data[0] & 1 ? "pgo" : "pgi", copy, len - 1);
		free(copy);
	}
	now += 100;
	mtable_flush(mt, MT_NSOURCE);	/* the next input starts with no active trigger */
	return 0;
}
