/* conf.h - the configuration file: "key = value" lines, errors as FILE:LINE: message. */
#ifndef PG_CONF_H
#define PG_CONF_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "hostnames.h"
#include "mt_vocab.h"
#include "policy.h"
#include "trigger/trigger.h"

#define CONF_MAX_LAN	8
#define CONF_MAX_PINHOLES	256
#define CONF_MAX_ADMIN_LISTEN	8

/* An admin_listen address: ADDR:PORT, and the line that gave it (for start-up errors). */
struct conf_listen {
	struct in6_addr	 addr;		/* v4-mapped for IPv4 */
	uint16_t	 port;
	unsigned	 line;
};

/* A permanent IPv6 pinhole written in the config ("pinhole = ..."). */
struct conf_pinhole {
	uint8_t		 proto;
	struct in6_addr	 addr;
	uint16_t	 port;
	struct mt_filter remote;	/* plen 0, port 0: anyone */
	char		 desc[MT_DESC_MAX];
};

/* upnp_igd_version: which Internet Gateway Device the UPnP front end is (igd.c says why). */
enum conf_igd_version {
	CONF_IGD_AUTO,		/* IGD:2, and the IGD:1 description for v1-only control points */
	CONF_IGD_V1,		/* IGD:1 only */
	CONF_IGD_V2,		/* IGD:2 for every control point */
};

/* upstream_pcp: whether and where the upstream PCP client asks (pcpc_select.c). */
enum conf_upstream {
	CONF_UPSTREAM_OFF,
	CONF_UPSTREAM_AUTO,	/* upstream_pcp_file's servers, else the WAN's default gateway */
	CONF_UPSTREAM_ADDR,	/* upstream_pcp_addr */
};

struct pg_config {
	char		*path;
	char		*wan_interface;
	char		*lan_interface[CONF_MAX_LAN];
	size_t		 nlan;
	struct in6_addr	 external_ip;	/* configured, or the WAN interface's (followed) */
	int		 has_external_ip;
	int		 external_ip_fixed;	/* set by external_ip: never followed */
	char		*firewall;		/* a backend's name (fw_backend_valid) */
	char		*state_file;
	char		*control_socket;
	struct policy	 policy;
	uint32_t	 max_lease;		/* seconds, 0 = no cap */
	unsigned	 max_mappings_per_client;	/* 0 = no cap */
	char		*nft_table;
	int		 nft_keep_table;
	int		 hairpin;		/* LAN hosts reach mappings at the WAN address */
	unsigned	 nflog_group;
	unsigned	 control_idle_timeout;	/* seconds */
	struct trig_rule *triggers;
	size_t		 ntriggers;
	struct conf_pinhole *pinholes;
	size_t		 npinholes;
	int		 upnp;			/* UPnP IGD front end on */
	unsigned	 upnp_http_port;
	unsigned	 upnp_notify_interval;	/* seconds between SSDP alive sets */
	int		 upnp_secure_mode;	/* a control point maps only to itself */
	int		 upnp_pinholes;		/* WANIPv6FirewallControl may open pinholes */
	enum conf_igd_version upnp_igd_version;
	char		*friendly_name;
	int		 pcp;			/* PCP (RFC 6887) on UDP 5351 */
	int		 natpmp;		/* NAT-PMP (RFC 6886) on UDP 5351 */
	uint32_t	 pcp_min_lifetime;	/* seconds: shorter PCP/NAT-PMP lifetimes are raised */
	int		 pcp_allow_third_party;
	int		 pcp_pinholes;		/* MAP/PEER from IPv6 hosts open pinholes */
	unsigned	 pcp_max_filters;	/* FILTER options per mapping */
	unsigned	 pcp_rate_limit;	/* requests per second per client (0 = none) */
	enum conf_upstream upstream_pcp;
	struct in6_addr	 upstream_pcp_addr;	/* CONF_UPSTREAM_ADDR's server (v4-mapped) */
	char		*upstream_pcp_file;	/* servers a DHCP client's hook wrote (NULL: none) */
	unsigned	 upstream_max_mappings;	/* mappings asked of the upstream at most */
	struct hn_file	 dhcp_leases[HN_FILES_MAX];	/* where host names are read */
	size_t		 ndhcp_leases;
	struct conf_listen admin_listen[CONF_MAX_ADMIN_LISTEN];	/* none: no admin server */
	size_t		 nadmin_listen;
	char		*admin_tls_cert;	/* PEM files; NULL: plain HTTP */
	char		*admin_tls_key;
	char		*admin_password_file;
	char		*admin_metrics_token_file;
	char		*uuid;			/* the UPnP device's (NULL: the state file's, or new) */
	char		*user;			/* run as (least privilege); NULL: stay as started */
	char		*group;			/* with this group (NULL: the user's own) */
	unsigned	 user_line, group_line;	/* where they were set (start-up errors) */
	unsigned	 admin_session_idle;	/* seconds */
};

#define CONF_FRIENDLY_MAX	64

/* Reports one problem; file and line (0 = whole file) locate it. */
typedef void conf_err_cb(void *arg, const char *file, unsigned line, const char *msg);

/* Parse a config file; NULL after reporting every error through cb. */
struct pg_config *conf_load(const char *path, conf_err_cb *cb, void *arg);
/* Parse config text (tests, fuzzing); name is used in messages. */
struct pg_config *conf_parse(const char *name, const char *text, size_t len,
    conf_err_cb *cb, void *arg);
/* Free a config. */
void conf_free(struct pg_config *);
/* "PROTO [IPv6]:PORT [remote ADDR[/LEN][:PORT]] [desc TEXT]" into ph; 0, or -1 with err. */
int conf_pinhole_parse(struct conf_pinhole *ph, char *spec, char *err, size_t errlen);
/* How upstream_pcp is spelled: "off", "auto", or the address (into buf). */
const char *conf_upstream_name(const struct pg_config *, char *buf, size_t len);
/* How upnp_igd_version is spelled in the config: "auto", "1" or "2". */
const char *conf_igd_version_name(enum conf_igd_version);
/* Error reporter printing "FILE:LINE: msg" to the log. */
void conf_err_log(void *arg, const char *file, unsigned line, const char *msg);

#endif
