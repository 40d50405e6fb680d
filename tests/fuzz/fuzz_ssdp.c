/*
 * fuzz_ssdp.c - the SSDP datagram parser, as a multicast and as a unicast
 * search; for an accepted search also what it is answered with, and that
 * each answer we would send (with an IPv4 and an IPv6 LOCATION) parses back
 * as a response.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "daemon.h"
#include "igd/igd.h"
#include "igd/ssdp.h"
#include "log.h"
#include "util.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct pg_config fz_cfg;
static struct pg_ctx fz_ctx;
static struct igd fz_igd;
static struct ssdp_params fz_sp;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	fz_cfg.upnp_http_port = 5000;
	fz_cfg.upnp_notify_interval = 900;
	fz_ctx.cfg = &fz_cfg;
	fz_igd.ctx = &fz_ctx;
	strcpy(fz_igd.udn[IGD_DEV_ROOT], "4d696e69-5550-4e50-8000-0123456789a0");
	strcpy(fz_igd.udn[IGD_DEV_WAN], "4d696e69-5550-4e50-8000-0123456789a1");
	strcpy(fz_igd.udn[IGD_DEV_CONN], "4d696e69-5550-4e50-8000-0123456789a2");
	fz_sp.ctx = fz_igd.ctx;
	fz_sp.udn = fz_igd.udn;
	fz_sp.server = igd_server_string(&fz_igd);
	fz_sp.stats = &fz_igd.stats;
	return 0;
}

/* Every answer to st, formatted as we would send it, is a response we would parse. */
static void
check_answers(const char *st)
{
	struct ssdp_ans a[SSDP_NANS];
	struct ssdp_msg m;
	struct in6_addr local[2];
	char buf[SSDP_MSG_MAX];
	size_t n, i, k, len;

	n = ssdp_answers(&fz_sp, st, a, SSDP_NANS);
	if (n > 1 && strcmp(st, "ssdp:all") != 0)
		__builtin_trap();
	util_parse_addr("192.0.2.1", &local[0]);
	util_parse_addr("2001:db8:1:2:3:4:5:6", &local[1]);	/* the longest LOCATION */
	for (i = 0; i < n; i++) {
		if (strcmp(st, "ssdp:all") != 0 && strcasecmp(a[i].st, st) != 0)
			__builtin_trap();
		for (k = 0; k < 2; k++) {
			len = ssdp_format(&fz_sp, SSDP_FMT_REPLY, &a[i], &local[k], SSDP_GROUP_V4,
			    0, buf, sizeof(buf));
			if (len == 0 || ssdp_parse(buf, len, 0, &m) != SSDP_OK ||
			    m.kind != SSDP_RESPONSE)
				__builtin_trap();
		}
	}
}

/* What the parser promises of an accepted search: an ST that is a usable C string. */
static void
check(const struct ssdp_msg *m, int multicast)
{
	size_t n;

	if (m->kind != SSDP_MSEARCH)
		return;
	n = strnlen(m->st, sizeof(m->st));
	if (n == 0 || n == sizeof(m->st))
		__builtin_trap();
	if (multicast && (!m->has_mx || m->mx < 1 || m->mx > SSDP_MX_MAX))
		__builtin_trap();
	check_answers(m->st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ssdp_msg m;
	int multicast;

	for (multicast = 0; multicast <= 1; multicast++)
		if (ssdp_parse((const char *)data, len, multicast, &m) == SSDP_OK)
			check(&m, multicast);
	return 0;
}
