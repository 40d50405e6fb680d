/* ssdp.h - SSDP (UDA 1.1) discovery on the LAN interfaces: M-SEARCH answers, NOTIFY. */
#ifndef PG_SSDP_H
#define PG_SSDP_H

#include "igd/ssdp_msg.h"

struct ssdp;

/* Open the SSDP sockets on the LAN interfaces and send the first ssdp:alive sets; NULL on failure. */
struct ssdp *ssdp_new(const struct ssdp_params *);
/* Follow the LAN addresses netif read last: join new interfaces (and announce), leave gone ones. */
void ssdp_sync(struct ssdp *);
/* Send ssdp:byebye, close, free. */
void ssdp_free(struct ssdp *);

#endif
