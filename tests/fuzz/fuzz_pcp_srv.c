/*
 * fuzz_pcp_srv.c - PCP and NAT-PMP requests through the server into a real
 * table (the codec itself is fuzz_pcp). The input is one datagram; its
 * length picks the sender (one of two LAN hosts).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "fw/fw.h"
#include "log.h"
#include "mtable.h"
#include "netif.h"
#include "pcp/pcp_server.h"
#include "util.h"
#include "../unit/testutil.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct pg_ctx ctx;
static struct pcp_srv *srv;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char conf[] = "firewall = none\nmax_mappings_per_client = 16\nmax_lease = 3600\n"
	    "pcp_allow_third_party = yes\npcp_rate_limit = 0\n"
	    "deny 1-1023 0.0.0.0/0 1-65535\n";
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	if (tu_lab_ctx(&ctx, conf, pg_clock_mono, NULL) == NULL)
		abort();
	util_parse_addr("198.51.100.1", &ctx.cfg->external_ip);
	ctx.cfg->has_external_ip = 1;
	if ((srv = pcp_srv_new(&ctx)) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pcp_srv_pkt p;
	struct in6_addr cand;
	uint8_t out[1100];
	size_t n;

	memset(&p, 0, sizeof(p));
	p.buf = data;
	p.len = len;
	/* the sender: the header's client address when it is a LAN host (so requests reach
	 * the IPv4 and IPv6 paths past ADDRESS_MISMATCH), else one of two IPv4 hosts */
	util_parse_addr(len % 2 ? "192.0.2.10" : "192.0.2.11", &p.src);
	if (len >= 24) {
		memcpy(&cand, data + 8, sizeof(cand));
		if (netif_client_ok(ctx.netif, &cand, NULL, 0))
			p.src = cand;
	}
	util_parse_addr(util_addr_is_v4(&p.src) ? "192.0.2.1" : "2001:db8:1::1", &p.dst);
	p.sport = 5350;
	n = pcp_srv_handle(srv, &p, out, sizeof(out));
	if (n > sizeof(out))
		abort();
	if (mtable_count(ctx.mt) + mtable_pinhole_count(ctx.mt) > 64)
		mtable_flush(ctx.mt, MT_NSOURCE);
	return 0;
}
