/* hostnames.h - LAN hosts' names from the DHCP server's lease files, and their MACs. */
#ifndef PG_HOSTNAMES_H
#define PG_HOSTNAMES_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct event_base;
struct neigh;
struct pg_clock;
struct hostnames;

/* How a lease file is written. */
enum hn_format {
	HN_FMT_DNSMASQ,		/* dnsmasq's --dhcp-leasefile (OpenWrt's /tmp/dhcp.leases) */
	HN_FMT_ODHCPD,		/* odhcpd's statefile: "# ..." lines, IPv6 and IPv4 */
};

/* One dhcp_leases line of the configuration. */
struct hn_file {
	enum hn_format	 format;
	char		*path;
};

#define HN_FILES_MAX	4		/* dhcp_leases lines */
#define HN_FILE_MAX	(4 * 1024 * 1024)	/* bytes read of a file; the rest is not */
#define HN_LINE_MAX	2048		/* longer lines are skipped */
#define HN_LEASES_MAX	16384		/* addresses taken from one file */
#define HN_NAME_MAX	253		/* a DNS name's length; longer is no name */
#define HN_POLL_S	1		/* files are looked at (stat) this often */
#define HN_GONE_KEEP_S	60		/* the names of a file gone or unreadable stay this long */

/* "dnsmasq" or "odhcpd" as a format, or -1. */
int hostnames_format_parse(const char *);
/* The format's name, as the configuration spells it. */
const char *hostnames_format_name(enum hn_format);
/*
 * Follow these lease files (none: only MACs are served), looking at each
 * once every HN_POLL_S on base's loop (base NULL: only when
 * hostnames_poll is called). Each is read now; one that cannot be is
 * logged and read once it can be.
 */
struct hostnames *hostnames_new(struct event_base *base, const struct hn_file *, size_t n,
    const struct pg_clock *);
/* Stop following and free (NULL is nothing). */
void hostnames_free(struct hostnames *);
/* The neighbour table hostnames_mac asks first (NULL: none); set again when it is made anew. */
void hostnames_set_neigh(struct hostnames *, const struct neigh *);
/*
 * The host name of the unexpired lease of addr (IPv4-mapped or IPv6), or
 * NULL. Only letters, digits, '-' and '.' in labels of 1-63 (no '-'
 * first or last), at most HN_NAME_MAX in all: a name that is anything else is no name, so it is
 * safe in any output. Valid until the loop next runs (a re-read frees it).
 */
const char *hostnames_name(const struct hostnames *, const struct in6_addr *addr);
/*
 * The MAC of addr into mac: the neighbour table's, else the one its
 * unexpired DHCPv4 lease names. 1 if known, else 0.
 */
int hostnames_mac(const struct hostnames *, const struct in6_addr *addr, uint8_t mac[6]);
/* "aa:bb:cc:dd:ee:ff" into buf (at least 18 bytes). */
const char *hostnames_mac_str(const uint8_t mac[6], char *buf, size_t len);
/* Look at every file now and read again those that changed (the timer's work). */
void hostnames_poll(struct hostnames *);
/*
 * Parse text as a lease file of this format into the table of a hostnames
 * made without files (tests, fuzzing), replacing what it held; the number
 * of addresses taken, or -1 if out of memory (the table is then unchanged).
 */
int hostnames_parse(struct hostnames *, enum hn_format, const char *text, size_t len);
/* Status: dhcp_leases FORMAT:PATH N (the addresses known) per file, or none. */
void hostnames_status(const struct hostnames *, pg_status_emit *, void *);

#endif
