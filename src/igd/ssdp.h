/* ssdp.h - SSDP (UDA 1.1) discovery on the LAN interfaces: M-SEARCH answers, NOTIFY. */
#ifndef PG_SSDP_H
#define PG_SSDP_H

#include <stddef.h>
#include <stdint.h>

struct igd;
struct ssdp;

#define SSDP_PORT	1900
#define SSDP_ST_MAX	256

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

/*
 * Parse one SSDP datagram (not NUL-terminated). multicast says whether it
 * was sent to 239.255.255.250 (then MX is required). SSDP_OK or why it is
 * dropped. Pure: no I/O, no state (fuzzed).
 */
enum ssdp_perr ssdp_parse(const char *buf, size_t len, int multicast, struct ssdp_msg *out);

/* Open the SSDP socket on the LAN interfaces and send the first ssdp:alive set; NULL on failure. */
struct ssdp *ssdp_new(struct igd *);
/* Send ssdp:byebye, close, free. */
void ssdp_free(struct ssdp *);

#endif
