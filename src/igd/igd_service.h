/*
 * igd_service.h - the IGD's service catalogue: which services and devices
 * there are, their types and versions, what a upnp_igd_version setting
 * offers, the LOCATION URL and the UDNs. A leaf: functions of their
 * arguments only, no context, used by every part of the front end.
 */
#ifndef PG_IGD_SERVICE_H
#define PG_IGD_SERVICE_H

#include <netinet/in.h>
#include <stddef.h>

#include "conf.h"

/* Services, in the order of the control and event URLs. */
enum igd_svc {
	IGD_SVC_L3F,		/* Layer3Forwarding:1 (root device) */
	IGD_SVC_WANCFG,		/* WANCommonInterfaceConfig:1 (WANDevice) */
	IGD_SVC_IPCONN,		/* WANIPConnection:1/2 (WANConnectionDevice) */
	IGD_SVC_6FC,		/* WANIPv6FirewallControl:1 (WANConnectionDevice) */
	IGD_NSVC
};

/* Devices, in the order of igd->udn[]. */
enum igd_dev {
	IGD_DEV_ROOT,		/* InternetGatewayDevice */
	IGD_DEV_WAN,		/* WANDevice */
	IGD_DEV_CONN,		/* WANConnectionDevice */
	IGD_NDEV
};

#define IGD_UUID_LEN	37	/* 36 characters and a NUL */

/* The root description's path: the LOCATION of every SSDP answer and announcement. */
#define IGD_DESC_ROOT	"/rootDesc.xml"

/* The service type string of svc at version v ("urn:schemas-upnp-org:service:...:v"). */
void igd_service_type(enum igd_svc, int v, char *buf, size_t len);
/* The newest version of svc that we implement. */
int igd_service_version(enum igd_svc);
/* The device that holds svc. */
enum igd_dev igd_service_device(enum igd_svc);
/* The device type string of dev at version v ("urn:schemas-upnp-org:device:...:v"). */
void igd_service_device_type(enum igd_dev, int v, char *buf, size_t len);
/* The newest version of dev that we implement. */
int igd_service_device_version(enum igd_dev);
/* The highest device and service version a upnp_igd_version setting offers: 1 or 2. */
int igd_service_max_version(enum conf_igd_version);
/* The version of svc that is announced and controlled: its newest, up to max (1 or 2). */
int igd_service_offered(enum igd_svc, int max);
/* The LOCATION on the LAN address local with the HTTP server on port: the root description. */
void igd_service_location(const struct in6_addr *local, unsigned port, char *buf, size_t len);
/* The UDNs of the devices (without "uuid:"), derived from the root's UUID: stable as it is. */
void igd_service_udns(const char *root, char udn[IGD_NDEV][IGD_UUID_LEN]);

#endif
