/*
 * fw_query.c - what the kernel holds for mappings, read through the
 * nftables backend's element query, for the lab tests (root, in the
 * gateway's namespace, beside a running portgated):
 *
 *   fw_query TABLE WAN_IF [--dump] PROTO:EXT[-END]:ADDR[:PORT] ...
 *
 * prints one line per item:
 *   PROTO EXT elems=N found=N timeout=MS left=MS counted=0|1 pkts=N bytes=N
 * with fw_elem_query (each item on its own) or, with --dump, fw_elem_dump
 * (many elements to a request). It only reads: nft_keep_table
 * leaves the daemon's tables alone when it exits.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fw/fw.h"
#include "log.h"
#include "mt_vocab.h"
#include "util.h"

#define FWQ_MAX	64

/* "tcp:8080:192.0.2.10:80" or "tcp:7100-7105:192.0.2.11" into it; 0 or -1. */
static int
fwq_item(const char *spec, struct fw_item *it)
{
	char buf[128], *w[4];
	int n, proto;

	memset(it, 0, sizeof(*it));
	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	for (n = 0; n < 4 && (w[n] = strtok(n == 0 ? buf : NULL, ":")) != NULL; n++)
		;
	if (n < 3 || (proto = mt_proto_parse(w[0])) < 0 ||
	    util_parse_portrange(w[1], &it->ext_port, &it->ext_port_end) == -1 ||
	    util_parse_addr(w[2], &it->int_addr) == -1)
		return -1;
	it->proto = (uint8_t)proto;
	it->kind = MT_KIND_MAP;
	it->source = MT_SRC_STATIC;
	it->int_port = n == 4 ? (uint16_t)atoi(w[3]) : it->ext_port;
	return 0;
}

int
main(int argc, char **argv)
{
	struct fw_item items[FWQ_MAX];
	struct fw_elem_info info[FWQ_MAX];
	struct pg_config *cfg;
	struct fw *fw;
	char text[256];
	int i, n = 0, dump = 0, rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: fw_query TABLE WAN_IF [--dump] PROTO:EXT[-END]:ADDR[:PORT] "
		    "...\n");
		return 2;
	}
	for (i = 3; i < argc && n < FWQ_MAX; i++) {
		if (strcmp(argv[i], "--dump") == 0)
			dump = 1;
		else if (fwq_item(argv[i], &items[n++]) == -1) {
			fprintf(stderr, "fw_query: bad item '%s'\n", argv[i]);
			return 2;
		}
	}
	/* a query reads elements only: the LAN interface named here is never used */
	snprintf(text, sizeof(text), "firewall = nftables\nwan_interface = %s\nlan_interface = lo\n"
	    "nft_table = %s\nnft_keep_table = yes\n", argv[2], argv[1]);
	if ((cfg = conf_parse("fw_query", text, strlen(text), conf_err_log, NULL)) == NULL ||
	    (fw = fw_new("nftables", cfg, NULL)) == NULL || fw_init(fw) == -1) {
		fprintf(stderr, "fw_query: cannot open the nftables backend\n");
		return 1;
	}
	if (dump)
		rc = fw_elem_dump(fw, items, (size_t)n, info);
	else
		for (i = 0; i < n && rc == 0; i++)
			rc = fw_elem_query(fw, &items[i], &info[i]);
	if (rc == -1)
		perror("fw_query");
	for (i = 0; i < n && rc == 0; i++)
		printf("%s %u elems=%u found=%u timeout=%llu left=%llu counted=%d pkts=%llu "
		    "bytes=%llu\n", mt_proto_name(items[i].proto), items[i].ext_port, info[i].elems,
		    info[i].found, (unsigned long long)info[i].timeout_ms,
		    (unsigned long long)info[i].left_ms, info[i].counted,
		    (unsigned long long)info[i].pkts, (unsigned long long)info[i].bytes);
	fw_free(fw);
	conf_free(cfg);
	return rc == 0 ? 0 : 1;
}
