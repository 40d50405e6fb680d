/*
 * ssdp_msg.h - SSDP's messages: the datagram parser, which search we
 * answer with what, the responses and NOTIFYs we send, and whose datagram
 * is a search to answer. Pure (fuzzed, unit-tested); the sockets and the
 * schedule that use it are ssdp.c's.
 */
#ifndef PG_SSDP_MSG_H
#define PG_SSDP_MSG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "igd/igd_service.h"

struct igd_stats;
struct netif;
struct pg_ctx;

#define SSDP_PORT	1900
#define SSDP_GROUP4	0xeffffffaU	/* 239.255.255.250 */
#define SSDP_ST_MAX	256
#define SSDP_DGRAM_MAX	8192	/* longer datagrams are refused (SSDP_ERR_LONG) */
#define SSDP_LINE_MAX	512	/* bytes in one header line, without its line end */
#define SSDP_HDRS_MAX	32	/* header lines in one datagram */
#define SSDP_MX_MAX	5	/* seconds: a larger MX is capped (UDA 1.1) */
#define SSDP_USN_MAX	(5 + IGD_UUID_LEN + 2 + SSDP_ST_MAX)	/* "uuid:" UDN "::" type */
#define SSDP_NANS	16	/* room for every answer to one search (ssdp:all has 15) */
#define SSDP_MSG_MAX	1024	/* one response or NOTIFY we send */

/* What ssdp_parse found in one datagram. */
enum ssdp_kind {
	SSDP_MSEARCH,		/* "M-SEARCH * HTTP/1.1" */
	SSDP_NOTIFY,		/* another device's NOTIFY: ignored */
	SSDP_RESPONSE,		/* "HTTP/1.1 200 OK": ignored */
};

enum ssdp_perr {
	SSDP_OK,
	SSDP_ERR_SHORT,		/* empty, truncated or without the blank line */
	SSDP_ERR_LONG,		/* over the datagram limit */
	SSDP_ERR_START,		/* not a request line we know */
	SSDP_ERR_HEADER,	/* a malformed or over-long header line, a NUL or control byte */
	SSDP_ERR_MAN,		/* M-SEARCH without MAN: "ssdp:discover" */
	SSDP_ERR_MX,		/* multicast M-SEARCH with a missing or bad MX */
	SSDP_ERR_ST,		/* M-SEARCH without ST, or an unusable one */
};

struct ssdp_msg {
	enum ssdp_kind	 kind;
	char		 st[SSDP_ST_MAX];
	unsigned	 mx;		/* seconds, capped at 5; 0 when absent (unicast) */
	int		 has_mx;
};

/* One search answer or one NOTIFY: the ST (or NT) and the USN (all have the one LOCATION). */
struct ssdp_ans {
	char		 st[SSDP_ST_MAX];
	char		 usn[SSDP_USN_MAX];
};

/* Where a NOTIFY goes: the group, named in its HOST header. */
enum ssdp_group {
	SSDP_GROUP_V4,		/* 239.255.255.250 */
	SSDP_GROUP_LINK,	/* [FF02::C], link-local scope */
	SSDP_GROUP_SITE,	/* [FF05::C], site-local scope */
};

/*
 * What SSDP is handed by igd.c when it is made: the daemon's context (its
 * loop, interfaces, clock and config: LAN interfaces, HTTP port,
 * upnp_igd_version, upnp_notify_interval), the identity every message
 * carries, and where to count. Copied by ssdp_new; what it points at must
 * outlive the ssdp.
 */
struct ssdp_params {
	struct pg_ctx		*ctx;
	const char		(*udn)[IGD_UUID_LEN];	/* IGD_NDEV UDNs, without "uuid:" */
	uint32_t		 boot_id;		/* BOOTID.UPNP.ORG */
	uint32_t		 config_id;		/* CONFIGID.UPNP.ORG */
	const char		*server;		/* SERVER */
	struct igd_stats	*stats;			/* the ssdp_* counters */
};

/* The three messages we send. */
enum ssdp_fmt {
	SSDP_FMT_REPLY,		/* HTTP/1.1 200 OK to an M-SEARCH */
	SSDP_FMT_ALIVE,		/* NOTIFY ssdp:alive */
	SSDP_FMT_BYEBYE,	/* NOTIFY ssdp:byebye */
};

/*
 * Parse one SSDP datagram (not NUL-terminated). multicast says whether it
 * was sent to an SSDP group (then MX is required). SSDP_OK or why it is
 * dropped. Pure: no I/O, no state (fuzzed).
 */
enum ssdp_perr ssdp_parse(const char *buf, size_t len, int multicast, struct ssdp_msg *out);
/* A short name for a parse result, for log lines. */
const char *ssdp_perr_str(enum ssdp_perr);
/*
 * The answers to a search for st (ssdp:all, upnp:rootdevice, a uuid: of
 * ours, or a type at a version up to ours) into out (up to max); returns
 * how many, 0 when the search is not for us. Pure: p's UDNs and config.
 */
size_t ssdp_answers(const struct ssdp_params *, const char *st, struct ssdp_ans *out,
    size_t max);
/* Every NT we announce (the ssdp:all set), into out; returns how many. */
size_t ssdp_announce_set(const struct ssdp_params *, struct ssdp_ans *out, size_t max);
/*
 * Write the message of kind fmt for ans into buf, with LOCATION on local
 * (v4-mapped, or an IPv6 address), HOST naming group (NOTIFYs only) and
 * DATE from now; returns its length (0 if buf is too small). Pure.
 */
size_t ssdp_format(const struct ssdp_params *, enum ssdp_fmt, const struct ssdp_ans *,
    const struct in6_addr *local, enum ssdp_group, time_t now, char *buf, size_t len);
/*
 * Why a datagram from src (port sport) to dst is not a search to answer, or
 * NULL: then *mcast says whether dst is an SSDP group. v6: it came over the
 * IPv6 socket, where a link-local source is a host on the (LAN) link it came
 * in on; the caller checks that link. Pure apart from the interface list.
 */
const char *ssdp_check_addrs(struct netif *, int v6, const struct in6_addr *src, uint16_t sport,
    const struct in6_addr *dst, int *mcast, char *why, size_t whylen);
/* The address of group g, v4-mapped for IPv4. */
void ssdp_group_addr(enum ssdp_group g, struct in6_addr *out);

#endif
