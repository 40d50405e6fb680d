/* daemon.h - the context every module receives, and its life cycle. */
#ifndef PG_DAEMON_H
#define PG_DAEMON_H

#include <time.h>

#include "clock.h"
#include "history.h"
#include "priv.h"
#include "state.h"
#include "state_health.h"

struct event;
struct event_base;
struct pg_config;
struct fw;
struct mtable;
struct ctl;
struct trigger;
struct trig_nflog;
struct netif;
struct neigh;
struct hostnames;
struct pidlock;
struct igd;
struct wanaddr;
struct pcp_srv;
struct upstream;
struct state_journal;
struct evbus;
struct admin;

struct pg_ctx {
	struct event_base	*base;
	struct pg_config	*cfg;
	struct pg_clock		 clock;
	struct pidlock		*lock;
	struct netif		*netif;
	struct neigh		*neigh;		/* the LAN's neighbour table (NULL if unreadable) */
	struct hostnames	*hosts;		/* LAN hosts' names (dhcp_leases) and MACs */
	struct fw		*fw;
	struct mtable		*mt;
	struct trigger		*trig;
	struct trig_nflog	*nflog;
	struct ctl		*ctl;
	struct igd		*igd;		/* UPnP IGD front end (NULL when upnp = no) */
	struct wanaddr		*wan;		/* follows the WAN address (NULL: external_ip set) */
	struct pcp_srv		*pcp;		/* PCP and NAT-PMP (NULL when both are off) */
	struct upstream		*up;		/* the upstream PCP server (NULL: upstream_pcp off) */
	struct admin		*admin;		/* the admin HTTP server (NULL: no admin_listen) */
	struct state_meta	 meta;		/* kept in the state file: the UPnP UUID */
	struct state_journal	*journal;	/* changes since the last full save (NULL: none open) */
	struct event		*commit_ev;	/* end-of-iteration firewall batch */
	struct event		*sync_ev;	/* then the journal's fdatasync */
	struct event		*lease_ev;	/* the one lease timer */
	struct event		*save_ev;	/* the next full state save (compaction, retry) */
	struct event		*sig_ev[3];
	struct state_health	 state_health;	/* how saving the state file goes */
	time_t			 started;
	int			 reloads;
	struct evbus		*events;	/* the event bus (event.h): watch, the API's SSE */
	uint64_t		 ext_addr_changes;	/* the external address moved */
	struct history		 history;	/* the last hour, a sample a minute (history.h) */
	struct priv_account	 account;	/* who it runs as once started (user, group) */
	struct event		*history_ev;
};

/* Bring every module up in order; 0, or -1 after logging why. */
int pg_start(struct pg_ctx *);
/* Save state and bring modules down in reverse order. */
void pg_stop(struct pg_ctx *);
/* Re-read the config; an invalid one is reported and the old one stays. 0 if applied. */
int pg_reload(struct pg_ctx *);
/* Save the state file in full now (its journal starts again). */
void pg_save_now(struct pg_ctx *);

#endif
