/*
 * test_fw_nft.c - the nftables backend on a real kernel, in a network
 * namespace of its own (root; skipped otherwise): a change whose messages
 * cannot be built for want of memory is refused, as the kernel's refusals
 * are, and the rest of its batch lands; the daemon does not abort.
 *
 * Linked with -Wl,--wrap=nftnl_expr_alloc: the test makes libnftnl's
 * expression allocation fail on demand (a pinhole element's counter).
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fw/fw.h"
#include "mtable.h"
#include "testutil.h"
#include "util.h"

struct nftnl_expr;
struct nftnl_expr *__real_nftnl_expr_alloc(const char *);
struct nftnl_expr *__wrap_nftnl_expr_alloc(const char *);

static int fail_counters;	/* the next this many "counter" expressions fail */

struct nftnl_expr *
__wrap_nftnl_expr_alloc(const char *name)
{
	if (fail_counters > 0 && strcmp(name, "counter") == 0) {
		fail_counters--;
		errno = ENOMEM;
		return NULL;
	}
	return __real_nftnl_expr_alloc(name);
}

struct fails {
	int		n;
	int		err;
	uint32_t	pin_id;
};

static void
on_fail(void *arg, const struct fw_change *c, int err)
{
	struct fails *f = arg;

	f->n++;
	f->err = err;
	f->pin_id = c->item.pin_id;
}

static int
no_items(void *arg, struct fw_item *out)
{
	(void)arg;
	(void)out;
	return 0;
}

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

static struct fw_item
pin(uint32_t id, const char *addr, uint16_t port)
{
	struct fw_item it;

	memset(&it, 0, sizeof(it));
	it.kind = MT_KIND_PINHOLE;
	it.proto = MT_TCP;
	it.pin_id = id;
	it.id = 1000 + id;
	it.int_port = port;
	it.timeout_ms = 60000;
	util_parse_addr(addr, &it.int_addr);
	return it;
}

/* A pinhole add out of memory: refused with ENOMEM, its batch's other add lands. */
static void
test_pin_add_out_of_memory(const struct pg_config *cfg)
{
	struct fw *fw = fw_new("nftables", cfg, NULL);
	struct fw_item a = pin(1, "2001:db8:1::10", 8080), b = pin(2, "2001:db8:1::11", 8081);
	struct fails f = { 0, 0, 0 };
	uint64_t pkts = 1, bytes = 1;

	CHECK(fw != NULL);
	if (fw == NULL)
		return;
	CHECK_EQ(fw_init(fw), 0);
	CHECK_EQ(fw_resync(fw, no_items, NULL), 0);	/* the tables, empty */
	CHECK_EQ(fw_queue(fw, FW_ADD, &a), 0);
	CHECK_EQ(fw_queue(fw, FW_ADD, &b), 0);
	fail_counters = 1;	/* a's element: its counter */
	fw_commit(fw, on_fail, &f);
	CHECK_EQ(fail_counters, 0);
	CHECK_EQ(f.n, 1);
	CHECK_EQ(f.err, ENOMEM);
	CHECK_EQ(f.pin_id, 1);
	CHECK_EQ(fw_pin_counters(fw, &b, &pkts, &bytes), 0);	/* b is in the kernel */
	CHECK_EQ(pkts, 0);
	CHECK_EQ(fw_pin_counters(fw, &a, &pkts, &bytes), -1);	/* a is not */
	/* memory back: a goes in as any add would */
	f.n = 0;
	CHECK_EQ(fw_queue(fw, FW_ADD, &a), 0);
	CHECK_EQ(fw_commit(fw, on_fail, &f), 0);
	CHECK_EQ(f.n, 0);
	CHECK_EQ(fw_pin_counters(fw, &a, &pkts, &bytes), 0);
	fw_free(fw);
}

int
main(void)
{
	static const char text[] =
	    "firewall = nftables\n"
	    "wan_interface = wan0\n"
	    "lan_interface = lan0\n"
	    "nft_table = pg_unit\n";
	struct pg_config *cfg;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) == -1) {
		fprintf(stderr, "test_fw_nft: needs root and a network namespace; skipped\n");
		return 77;
	}
	if ((cfg = conf_parse("test.conf", text, sizeof(text) - 1, conf_err, NULL)) == NULL)
		return 1;
	test_pin_add_out_of_memory(cfg);
	conf_free(cfg);
	return tu_done("test_fw_nft");
}
