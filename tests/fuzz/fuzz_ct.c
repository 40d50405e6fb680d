/*
 * fuzz_ct.c - ctnetlink messages as a conntrack dump sends them: the entry
 * parser (src/fw/ct.c) and the decision which entries closed and opened doors doom.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw/ct.h"
#include "fw/fw.h"
#include "log.h"
#include "mtable.h"
#include "util.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fw_item items[7];
static struct fw_close doors[4];
static struct fw_open opened[3];

static void
item(struct fw_item *it, int kind, int proto, uint16_t lo, uint16_t hi, const char *host,
    uint16_t port)
{
	memset(it, 0, sizeof(*it));
	it->kind = (uint8_t)kind;
	it->proto = (uint8_t)proto;
	it->ext_port = lo;
	it->ext_port_end = hi;
	it->int_port = port;
	if (util_parse_addr(host, &it->int_addr) == -1)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	/* a UDP port, a TCP range, a pinhole for one /64, and a filter narrowed by a renewal */
	item(&items[0], MT_KIND_MAP, MT_UDP, 7400, 7400, "192.0.2.10", 7400);
	item(&items[1], MT_KIND_MAP, MT_TCP, 7100, 7110, "192.0.2.11", 7100);
	item(&items[2], MT_KIND_PINHOLE, MT_UDP, 0, 0, "2001:db8:1::10", 7600);
	util_parse_addr("2001:db8:2::", &items[2].filters[0].addr);
	items[2].filters[0].plen = 64;
	items[2].nfilters = 1;
	item(&items[3], MT_KIND_MAP, MT_UDP, 7500, 7500, "192.0.2.10", 7500);
	items[4] = items[3];
	util_parse_addr("198.51.100.100", &items[4].filters[0].addr);
	items[4].filters[0].plen = 128;
	items[4].nfilters = 1;
	doors[0].item = &items[0];
	doors[1].item = &items[1];
	doors[2].item = &items[2];
	doors[3].item = &items[3];
	doors[3].still = &items[4];
	/* opened: a UDP port mapped to another internal port, a trigger's UDP range; and items[1] */
	item(&items[5], MT_KIND_MAP, MT_UDP, 7400, 7400, "192.0.2.11", 8400);
	item(&items[6], MT_KIND_MAP, MT_UDP, 7510, 7512, "192.0.2.10", 7510);
	items[6].source = MT_SRC_TRIGGER;
	opened[0].item = &items[5];
	opened[1].item = &items[6];
	opened[2].item = &items[1];
	return 0;
}

/* The input is a buffer of netlink messages as one read from the dump socket gives. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *copy;

	/* an aligned copy, as a socket read gives */
	if ((copy = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(copy, data, len);
	ct_doomed_in(doors, PG_NELEM(doors), opened, PG_NELEM(opened), copy, len);
	free(copy);
	return 0;
}
