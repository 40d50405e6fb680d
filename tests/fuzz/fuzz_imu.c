/*
 * fuzz_imu.c - miniupnpd's configuration and lease file (src/import_mu.c), as
 * portgatectl import-miniupnpd reads them. The first octet picks which; what
 * comes out is checked: every configuration line made is one portgated's own
 * parser takes whole (a line at a time, so one bad line cannot hide behind
 * another), with no control character; every lease has a protocol, ports
 * 1-65535, an IPv4 address and a description of text within portgate's length.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "import_mu.h"
#include "log.h"
#include "util.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
no_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	(void)file;
	(void)line;
	(void)msg;
}

/* A line portgated would take: a comment, or a line its parser accepts (with interfaces). */
static void
on_line(void *arg, const char *text)
{
	char buf[2048];
	struct pg_config *c;
	size_t i;
	int n;

	(void)arg;
	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			abort();
	if (text[0] == '#')
		return;
	n = snprintf(buf, sizeof(buf), "wan_interface = w0\nlan_interface = l0\n%s\n", text);
	if (n < 0 || (size_t)n >= sizeof(buf))
		abort();
	/* lan_interface and wan_interface lines may repeat ours: those are the only ones let fail */
	if ((c = conf_parse("f", buf, (size_t)n, no_err, NULL)) != NULL)
		conf_free(c);
	else if (strncmp(text, "lan_interface", 13) != 0 && strncmp(text, "wan_interface", 13) != 0)
		abort();
}

static void
on_warn(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	(void)file;
	(void)line;
	if (strlen(msg) > 1200)
		abort();
}

static int
on_ifname(void *arg, const struct in6_addr *a, char *name, size_t len)
{
	(void)arg;
	(void)a;
	snprintf(name, len, "br-lan");
	return 0;
}

static void
on_lease(void *arg, const struct imu_lease *le)
{
	(void)arg;
	if ((le->proto != MT_TCP && le->proto != MT_UDP) || le->ext_port == 0 ||
	    le->int_port == 0 || !util_addr_is_v4(&le->int_addr) ||
	    memchr(le->desc, '\0', sizeof(le->desc)) == NULL ||
	    util_text_problem(le->desc, strlen(le->desc), MT_DESC_MAX - 1) != NULL)
		abort();
}

static const struct imu_hooks hooks = { on_line, on_warn, on_ifname, on_lease, NULL };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_setverbose(-2);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	if (data[0] & 1)
		(void)imu_leases("f", (const char *)data + 1, len - 1, 1800000000, &hooks);
	else
		(void)imu_conf("f", (const char *)data + 1, len - 1, &hooks);
	return 0;
}
