/* igd_pin.h - UPnP WANIPv6FirewallControl:1: the pinhole actions, rows of igd_act.c's table. */
#ifndef PG_IGD_PIN_H
#define PG_IGD_PIN_H

#include "igd/igd_call.h"

struct evbuffer;
struct igd;

/* WANIPv6FirewallControl:1 actions. */
igd_action_fn igd_pin_get_firewall_status, igd_pin_get_outbound_timeout, igd_pin_add,
    igd_pin_update, igd_pin_delete, igd_pin_get_packets, igd_pin_check_working;
/* Its evented variables. */
void igd_pin_event_vars(struct igd *, struct evbuffer *props);

#endif
