/* igd_act.h - UPnP control actions: a dispatch table over the mapping table's API. */
#ifndef PG_IGD_ACT_H
#define PG_IGD_ACT_H

#include <netinet/in.h>
#include <stddef.h>

#include "igd/igd.h"

struct evbuffer;

/*
 * Run one control request (body of len bytes, its SOAPAction header or
 * NULL) sent to service svc by client. The reply envelope (a response or a
 * UPnPError fault) goes to out; returns the HTTP status: 200 or 500.
 */
int igd_act_control(struct igd *, enum igd_svc, const struct in6_addr *client,
    const char *soapaction, const char *body, size_t len, struct evbuffer *out);
/* Append the <e:property> elements of svc's evented variables, current values (GENA). */
void igd_event_vars(struct igd *, enum igd_svc, struct evbuffer *props);

#endif
