/* testutil.c - assertion counters and a fake clock. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "fw/fw.h"
#include "fw/fw_mem.h"
#include "mtable.h"
#include "netif.h"
#include "testutil.h"
#include "util.h"

int tu_failures;
int tu_checks;

static uint64_t
fake_now(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

struct mtable *
tu_mem_table(struct fake_clock *fc, struct fw **fwp)
{
	struct pg_clock clk = tu_fake_clock(fc);
	struct fw *fw = fw_new("none", NULL, NULL);

	fw_init(fw);
	*fwp = fw;
	return mtable_new(fw, &clk);
}

struct pg_clock
tu_fake_clock(struct fake_clock *fc)
{
	struct pg_clock c = { fake_now, fc };

	return c;
}

int
tu_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, tu_checks, tu_failures);
	return tu_failures ? 1 : 0;
}

const char *
tu_tmpdir(void)
{
	static char dir[] = "/tmp/portgate-test-XXXXXX";
	static int made;

	/* once: the random part itself may end in 'X' */
	if (!made++ && mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
	return dir;
}

struct pg_ctx *
tu_lab_ctx(struct pg_ctx *ctx, const char *text, struct pg_clock clk,
    void (*cb)(void *, const char *, unsigned, const char *))
{
	char *lan[1] = { (char *)"br-lan" };
	struct netif_prefix p[2];
	struct in6_addr local[3];

	ctx->clock = clk;
	if ((ctx->cfg = conf_parse("test.conf", text, strlen(text), cb, NULL)) == NULL)
		return NULL;
	ctx->netif = netif_new(lan, 1, &ctx->clock);
	memset(p, 0, sizeof(p));
	util_parse_addr("192.0.2.0", &p[0].addr);
	p[0].plen = 96 + 24;
	util_parse_addr("192.0.2.1", &p[0].local);
	util_parse_addr("2001:db8:1::", &p[1].addr);
	p[1].plen = 64;
	util_parse_addr("2001:db8:1::1", &p[1].local);
	strcpy(p[0].ifname, "br-lan");
	strcpy(p[1].ifname, "br-lan");
	local[0] = p[0].local;
	util_parse_addr("198.51.100.1", &local[1]);
	local[2] = p[1].local;
	netif_set(ctx->netif, p, 2, local, 3);
	ctx->fw = fw_new("none", ctx->cfg, NULL);
	if (fw_backend_in_kernel(ctx->cfg->firewall))
		fw_mem_pretend_kernel(ctx->fw);	/* the config asks for a kernel: faked in memory */
	fw_init(ctx->fw);
	ctx->mt = mtable_new(ctx->fw, &ctx->clock);
	mtable_set_netif(ctx->mt, ctx->netif);
	mtable_set_policy(ctx->mt, &ctx->cfg->policy);
	mtable_set_limits(ctx->mt, ctx->cfg->max_mappings_per_client, ctx->cfg->max_lease);
	return ctx;
}

struct in6_addr
tu_addr(const char *s)
{
	struct in6_addr a;

	if (util_parse_addr(s, &a) == -1)
		abort();
	return a;
}

void
tu_lab_ctx_free(struct pg_ctx *ctx)
{
	mtable_free(ctx->mt);
	fw_free(ctx->fw);
	netif_free(ctx->netif);
	conf_free(ctx->cfg);
}
