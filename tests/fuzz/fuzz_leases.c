/* fuzz_leases.c - DHCP lease files (dnsmasq's and odhcpd's) into the host name table. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hostnames.h"
#include "log.h"
#include "util.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint64_t
fake_now(void *arg)
{
	(void)arg;
	return 1000;
}

static const struct pg_clock clk = { fake_now, NULL };
static struct hostnames *hn;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	hn = hostnames_new(NULL, NULL, 0, &clk);
	return 0;
}

/* What may reach output: a DNS name of letters, digits, '-' and '.', at most 253 bytes. */
static void
check_name(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len > HN_NAME_MAX)
		abort();
	for (i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		    (n[i] >= '0' && n[i] <= '9') || n[i] == '-' || n[i] == '.'))
			abort();
}

/* Look up every word of the input that is an address (ADDR or ADDR/LEN). */
static void
probe(const uint8_t *data, size_t len)
{
	char word[64];
	struct in6_addr a;
	const char *n;
	uint8_t mac[6];
	size_t i = 0, w, words = 0;

	while (i < len && words++ < 256) {
		while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' ||
		    data[i] == '\r' || data[i] == '/'))
			i++;
		for (w = 0; i < len && w < sizeof(word) - 1 && data[i] != ' ' && data[i] != '\t' &&
		    data[i] != '\n' && data[i] != '\r' && data[i] != '/'; i++)
			word[w++] = (char)data[i];
		word[w] = '\0';
		while (i < len && data[i] != ' ' && data[i] != '\t' && data[i] != '\n' &&
		    data[i] != '\r' && data[i] != '/')
			i++;
		if (w == 0 || memchr(word, '\0', w) != NULL || util_parse_addr(word, &a) == -1)
			continue;
		if ((n = hostnames_name(hn, &a)) != NULL)
			check_name(n);
		(void)hostnames_mac(hn, &a, mac);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (hostnames_parse(hn, HN_FMT_DNSMASQ, (const char *)data, len) > HN_LEASES_MAX)
		abort();
	probe(data, len);
	if (hostnames_parse(hn, HN_FMT_ODHCPD, (const char *)data, len) > HN_LEASES_MAX)
		abort();
	probe(data, len);
	return 0;
}
