/*
 * fuzz_soap.c - UPnP control requests: SOAP parsing and every action, through the table.
 * Input: the SOAPAction header, a newline, then the body. The first byte of the
 * header names the service, which picks the control URL (or the length does).
 */
#include "config.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "fw/fw.h"
#include "igd/igd.h"
#include "igd/igd_act.h"
#include "log.h"
#include "mtable.h"
#include "netif.h"
#include "util.h"
#include "../unit/testutil.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct pg_ctx ctx;
static struct igd igd;
static struct evbuffer *out;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char conf[] = "firewall = nftables\nwan_interface = wan0\n"
	    "lan_interface = br-lan\nmax_mappings_per_client = 16\nmax_lease = 3600\n"
	    "allow 1024-65535 192.0.2.0/24 1-65535\ndeny 1-65535 0.0.0.0/0 1-65535\n";
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	if (tu_lab_ctx(&ctx, conf, pg_clock_mono, NULL) == NULL)
		abort();
	igd.ctx = &ctx;
	strcpy(igd.udn[0], "0d3f5e2a-1111-4222-8333-444455556660");
	strcpy(igd.udn[1], "0d3f5e2a-1111-4222-8333-444455556661");
	strcpy(igd.udn[2], "0d3f5e2a-1111-4222-8333-444455556662");
	log_limit_init(&igd.log_limit, 1000, 1);
	out = evbuffer_new();
	return 0;
}

static enum igd_svc
fuzz_svc(const char *action, size_t len)
{
	if (strstr(action, "WANIPConnection") != NULL)
		return IGD_SVC_IPCONN;
	if (strstr(action, "WANCommonInterfaceConfig") != NULL)
		return IGD_SVC_WANCFG;
	if (strstr(action, "WANIPv6FirewallControl") != NULL)
		return IGD_SVC_6FC;
	if (strstr(action, "Layer3Forwarding") != NULL)
		return IGD_SVC_L3F;
	return (enum igd_svc)(len % IGD_NSVC);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);
	char action[512];
	struct in6_addr client;
	size_t alen;

	if (nl == NULL)
		return 0;
	alen = (size_t)(nl - (const char *)data);
	if (alen >= sizeof(action))
		return 0;
	memcpy(action, data, alen);
	action[alen] = '\0';
	/* a source chosen by the input's length: two IPv4 hosts, two IPv6 hosts */
	util_parse_addr((const char *[]){ "192.0.2.10", "192.0.2.11", "2001:db8:1::10",
	    "2001:db8:1::11" }[len % 4], &client);
	igd_act_control(&igd, fuzz_svc(action, len), &client, alen ? action : NULL, nl + 1,
	    len - alen - 1, out, NULL);
	evbuffer_drain(out, evbuffer_get_length(out));
	if (mtable_count(ctx.mt) + mtable_pinhole_count(ctx.mt) > 64)
		mtable_flush(ctx.mt, MT_NSOURCE);
	return 0;
}
