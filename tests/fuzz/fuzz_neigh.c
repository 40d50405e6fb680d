/* fuzz_neigh.c - rtnetlink neighbour messages (RTM_NEWNEIGH/RTM_DELNEIGH) into the LAN neighbour table. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "neigh.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint64_t now = 1000000;

static uint64_t
fake_now(void *arg)
{
	(void)arg;
	return now;
}

static const struct pg_clock clk = { fake_now, NULL };
static struct neigh *nb;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	nb = neigh_new_detached(&clk);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct neigh_host *h;
	uint8_t *copy = malloc(len ? len : 1);
	size_t n, i;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, len);	/* netlink messages are read in place: aligned, owned */
	neigh_handle_msg(nb, copy, len);
	n = neigh_hosts(nb, &h);
	for (i = 0; i < n; i++)		/* what reaches the kernel set: unicast MACs only */
		if ((h[i].mac[0] & 1) != 0)
			abort();
	now += 600000;			/* ages pairs so that pruning runs too */
	free(copy);
	return 0;
}
