/*
 * igd_service.c - the IGD's service catalogue (see igd.c for why one
 * LOCATION serves every version): services and devices with the newest
 * version implemented, and what upnp_igd_version offers of them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "igd/igd_service.h"
#include "util.h"

static const struct {
	const char	*name;
	int		 version;
	enum igd_dev	 dev;
} igd_services[IGD_NSVC] = {
	[IGD_SVC_L3F] = { "Layer3Forwarding", 1, IGD_DEV_ROOT },
	[IGD_SVC_WANCFG] = { "WANCommonInterfaceConfig", 1, IGD_DEV_WAN },
	[IGD_SVC_IPCONN] = { "WANIPConnection", 2, IGD_DEV_CONN },
	[IGD_SVC_6FC] = { "WANIPv6FirewallControl", 1, IGD_DEV_CONN },
};

/* Device types in the order of enum igd_dev, and the newest version implemented. */
static const struct {
	const char	*name;
	int		 version;
} igd_devices[IGD_NDEV] = {
	[IGD_DEV_ROOT] = { "InternetGatewayDevice", 2 },
	[IGD_DEV_WAN] = { "WANDevice", 2 },
	[IGD_DEV_CONN] = { "WANConnectionDevice", 2 },
};

void
igd_service_type(enum igd_svc s, int v, char *buf, size_t len)
{
	snprintf(buf, len, "urn:schemas-upnp-org:service:%s:%d", igd_services[s].name, v);
}

int
igd_service_version(enum igd_svc s)
{
	return igd_services[s].version;
}

enum igd_dev
igd_service_device(enum igd_svc s)
{
	return igd_services[s].dev;
}

void
igd_service_device_type(enum igd_dev d, int v, char *buf, size_t len)
{
	snprintf(buf, len, "urn:schemas-upnp-org:device:%s:%d", igd_devices[d].name, v);
}

int
igd_service_device_version(enum igd_dev d)
{
	return igd_devices[d].version;
}

int
igd_service_max_version(enum conf_igd_version cv)
{
	return cv == CONF_IGD_V1 ? 1 : 2;
}

int
igd_service_offered(enum igd_svc s, int max)
{
	int v = igd_services[s].version;

	return v < max ? v : max;
}

void
igd_service_location(const struct in6_addr *local, unsigned port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	util_addr_str(local, a, sizeof(a));
	snprintf(buf, len, util_addr_is_v4(local) ? "http://%s:%u%s" : "http://[%s]:%u%s", a,
	    port, IGD_DESC_ROOT);
}

/* Embedded devices get UDNs derived from the root's: stable as long as it is. */
void
igd_service_udns(const char *root, char udn[IGD_NDEV][IGD_UUID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	const char *p;
	int i, d;

	for (i = 0; i < IGD_NDEV; i++) {
		snprintf(udn[i], IGD_UUID_LEN, "%.36s", root);
		p = strchr(hex, udn[i][35] | 0x20);
		d = p != NULL ? (int)(p - hex) : 0;
		udn[i][35] = hex[(d + i) % 16];
	}
}
