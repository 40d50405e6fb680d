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

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	return 0;
}

/*
 * First byte: 0 = the input is a buffer of netlink messages as read from
 * the socket; otherwise the rest is one packet payload, prefix by bit 0.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pg_clock clk = { fake_now, NULL };
	struct mtable *mt = mtable_new(NULL, &clk);
	struct trigger *t = trigger_new(mt);
	struct trig_rule r;
	char err[160];
	uint8_t *copy;

	if (trig_rule_parse(&r, "game tcp:7000 open tcp:7100-7110,udp:7100-7110 idle 5", err,
	    sizeof(err)) == -1 || trigger_add_rule(t, &r, 0, err, sizeof(err)) == -1)
		abort();
	if (trig_rule_parse(&r, "voice udp:5060-5070 open udp:10000-10100 idle 5", err,
	    sizeof(err)) == -1 || trigger_add_rule(t, &r, 0, err, sizeof(err)) == -1)
		abort();
	if (len > 0 && (copy = malloc(len)) != NULL) {	/* aligned, exactly len bytes */
		memcpy(copy, data, len);
		if (copy[0] == 0)
			trig_nflog_handle_buf(t, copy + 1, len - 1);
		else
			trig_nflog_handle_packet(t, copy[0] & 1 ? "pgo" : "pgi", copy + 1, len - 1);
		free(copy);
	}
	now += 100;
	trigger_free(t);
	mtable_free(mt);
	return 0;
}
