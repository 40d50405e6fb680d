/*
 * fuzz_pcpc_select.c - upstream_pcp_file's parser (its text comes from a DHCP
 * option, so from the network) and the default-route reader, on the same
 * input: as the file's text, and as a netlink route dump. The invariants
 * below abort() when broken.
 */
#include "config.h"

#include <libmnl/libmnl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pcp/pcpc_select.h"
#include "util.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define ASSERT(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	return 0;
}

static void
fuzz_warn(void *arg, unsigned line, const char *msg)
{
	unsigned *lines = arg;

	ASSERT(line >= 1 && line <= *lines && msg != NULL && msg[0] != '\0');
}

static void
fuzz_file(const uint8_t *data, size_t len)
{
	struct pcpc_server s[PCPC_SELECT_MAX];
	unsigned lines = 1;
	size_t n, i, j, k;

	for (i = 0; i < len; i++)
		if (data[i] == '\n')
			lines++;
	n = pcpc_select_parse((const char *)data, len, s, (size_t)(len % PCPC_SELECT_MAX) + 1,
	    fuzz_warn, &lines);
	ASSERT(n <= len % PCPC_SELECT_MAX + 1);
	for (i = 0; i < n; i++) {
		ASSERT(s[i].naddr >= 1 && s[i].naddr <= PCPC_SERVER_ADDRS);
		ASSERT(s[i].source == PCPC_SRC_FILE && s[i].line >= 1 && s[i].line <= lines);
		ASSERT(i == 0 || s[i].line > s[i - 1].line);
		for (j = 0; j < s[i].naddr; j++) {
			ASSERT(pcpc_select_addr_ok(&s[i].addr[j]));
			for (k = 0; k < j; k++)	/* each address once */
				ASSERT(memcmp(&s[i].addr[j], &s[i].addr[k], sizeof(s[i].addr[k])));
		}
	}
}

static void
fuzz_routes(const uint8_t *data, size_t len)
{
	struct pcpc_gateway gw[4];
	const struct nlmsghdr *nlh;
	uint8_t *buf;
	size_t n = 0, i, j;
	int left;

	if (len < 1 || len > 65536 || (buf = malloc(len)) == NULL)
		return;
	memcpy(buf, data, len);		/* aligned, as a receive buffer is */
	if (util_nl_frames_ok(buf, len)) {
		left = (int)len;
		for (nlh = (const struct nlmsghdr *)(void *)buf; mnl_nlmsg_ok(nlh, left);
		    nlh = mnl_nlmsg_next(nlh, &left))
			(void)pcpc_select_route(nlh, 5, gw, PG_NELEM(gw), &n);
	}
	ASSERT(n <= PG_NELEM(gw));
	for (i = 0; i < n; i++) {
		ASSERT(!util_addr_is_v4(&gw[i].addr) || pcpc_select_addr_ok(&gw[i].addr));
		ASSERT(i == 0 || gw[i - 1].metric <= gw[i].metric);
		for (j = 0; j < i; j++)
			ASSERT(memcmp(&gw[i].addr, &gw[j].addr, sizeof(gw[j].addr)) != 0);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	fuzz_file(data, len);
	fuzz_routes(data, len);
	return 0;
}
