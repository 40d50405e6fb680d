/* util.h - small helpers shared by every module. */
#ifndef PG_UTIL_H
#define PG_UTIL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define PG_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts on failure: start-up and config paths only. */
void *xcalloc(size_t n, size_t size);
/* n x size zero bytes in their own mapping, resident only where written (fatal if none); xzunmap frees. */
void *xzmap(size_t n, size_t size);
void xzunmap(void *, size_t n, size_t size);
/* strdup that aborts on failure: start-up and config paths only. */
char *xstrdup(const char *s);

/* Parse a decimal unsigned integer in [min, max]; 0 on success, -1 otherwise. */
int util_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/* Parse "PORT" or "PORT-PORT" (1..65535); 0 on success, -1 otherwise. */
int util_parse_portrange(const char *s, uint16_t *lo, uint16_t *hi);
/* Parse an IPv4 or IPv6 address into v4-mapped in6_addr form; 0 on success. */
int util_parse_addr(const char *s, struct in6_addr *out);
/* Format an address (v4-mapped shown as dotted quad) into buf (>= INET6_ADDRSTRLEN). */
const char *util_addr_str(const struct in6_addr *a, char *buf, size_t len);
/* True when the address is a v4-mapped IPv4 address. */
int util_addr_is_v4(const struct in6_addr *a);
/* "[IPv6]:PORT" (port 1..65535, not a v4-mapped address); 0 or -1. */
int util_parse_endpoint6(const char *s, struct in6_addr *addr, uint16_t *port);
/* Split s in place into at most max whitespace-separated words; returns count or -1 if too many. */
int util_split(char *s, char **argv, int max);
/* Percent-encode s (space, %, controls) into out; returns 0, or -1 if out is too small. */
int util_pct_encode(const char *s, char *out, size_t len);
/* Decode percent-encoding in place; returns 0, or -1 on a malformed escape. */
int util_pct_decode(char *s);
/* Length of the valid UTF-8 sequence at s (at most len bytes) with *cp its code point; 0 if invalid. */
size_t util_utf8_next(const char *s, size_t len, uint32_t *cp);
/* Why text from outside is unacceptable (invalid UTF-8, a control character, over max bytes), or NULL. */
const char *util_text_problem(const char *s, size_t len, size_t max);
/* 1 if u is a UUID as 8-4-4-4-12 hex digits (the UPnP device's, the state file's). */
int util_uuid_ok(const char *u);
/* Copy src into dst (dstlen bytes), cutting only on a UTF-8 character boundary. */
void util_utf8_copy(char *dst, size_t dstlen, const char *src);
/*
 * 1 if buf holds only well-framed netlink messages (each length at least a
 * header and within what is left). libmnl's own check casts lengths to int,
 * so a length of 0xffffffff passes it: call this before mnl_cb_run.
 */
int util_nl_frames_ok(const void *buf, size_t len);
struct nlmsghdr;
/*
 * One rtnetlink dump: an RTM_GET* request of type for family (its extra header
 * hdrlen bytes, zero but the family, its first byte), on a socket of its own
 * that waits at most a second for each answer; cb (a libmnl mnl_cb_t) gets
 * every message, up to 4096 reads. The last MNL_CB_* result, MNL_CB_ERROR if
 * the socket failed, timed out or the kernel sent a broken frame.
 */
int util_rtnl_dump(uint16_t type, uint8_t family, size_t hdrlen,
    int (*cb)(const struct nlmsghdr *, void *), void *arg);
/* Big-endian wire fields (PCP, NAT-PMP, netlink keys). */
static inline uint16_t
util_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
util_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
util_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
util_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Monotonic milliseconds. */
uint64_t util_mono_ms(void);

struct evbuffer;
/*
 * Append s[0..len) as one JSON string: quotes and backslashes escaped, control
 * characters, DEL and U+2028/U+2029 as \uXXXX, invalid UTF-8 as U+FFFD.
 */
void util_json_str(struct evbuffer *, const char *s, size_t len);

#endif
