/* igd_http.h - the IGD's HTTP server: libmicrohttpd in the daemon's libevent loop. */
#ifndef PG_IGD_HTTP_H
#define PG_IGD_HTTP_H

#include <netinet/in.h>
#include <stddef.h>

struct igd;
struct igd_http;

#define IGD_HTTP_MAX_CONNS	128	/* connections at once */
#define IGD_HTTP_PER_IP		4	/* connections from one address */
#define IGD_HTTP_IDLE_S		10	/* seconds before an idle connection is closed */
#define IGD_HTTP_REQUEST_S	10	/* a request must arrive whole within this, however slowly */
#define IGD_HTTP_MEM		16384	/* per-connection header memory */
#define IGD_HTTP_BODY_MAX	16384	/* SOAP request body */

/*
 * Listen on upnp_http_port of every LAN address (IPv4, global IPv6), for
 * igd's descriptions, control and events, every reply with this SERVER
 * (kept, not copied); NULL after logging why.
 */
struct igd_http *igd_http_new(struct igd *, const char *server);
/* Listen on LAN addresses that appeared since (netif read anew by the caller), or failed before. */
void igd_http_sync(struct igd_http *);
/* Close every listener and connection. */
void igd_http_free(struct igd_http *);
/* The addresses listened on (for status). */
size_t igd_http_addrs(const struct igd_http *, const struct in6_addr **);
/*
 * 1 if a Host header value is acceptable: an IP literal (optionally with a
 * port) naming one of the gateway's own LAN addresses. Names are refused:
 * a DNS-rebinding page can only send the name it was loaded from. Pure
 * apart from the interface list.
 */
int igd_http_host_ok(const struct igd *, const char *host);

#endif
