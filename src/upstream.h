/*
 * upstream.h - the upstream PCP server, for the daemon: which one to ask
 * (upstream_pcp), whether it answers, and every inbound entry of the table
 * as a MAP there (RFC 6970 interworking, RFC 7648 proxying), on the one
 * loop and the table's lease clock. Front ends ask it, once their entry is
 * in the kernel, what the upstream made of it, and tell their clients that.
 */
#ifndef PG_UPSTREAM_H
#define PG_UPSTREAM_H

#include <netinet/in.h>
#include <stdint.h>

#include "mtable.h"
#include "pcp/pcp_client.h"
#include "status.h"

struct pg_ctx;
struct upstream;

#define UP_SERVERS_MAX		4	/* upstream servers asked, in parallel (RFC 7488 §4) */
#define UP_RANGE_MAX		16	/* upstream MAPs of one entry: a range's first ports */
#define UP_WAIT_MS		2500	/* a front end's answer waits this long for the upstream's */
#define UP_PERM_LIFETIME	7200	/* asked for a permanent entry (renewed as it runs out) */

/* What the upstream (the primary server: the first that answers) holds for an entry. */
struct up_view {
	enum pcpc_state	 state;		/* the first port's that is not granted, else granted */
	enum pcp_result	 result;	/* REFUSED: the server's */
	struct in6_addr	 ext_addr;	/* GRANTED: the upstream's external address */
	uint16_t	 ext_port;	/* GRANTED: its external port for the entry's first port */
	uint32_t	 lifetime;	/* GRANTED: seconds left upstream (the shortest of its ports) */
	unsigned	 asked;		/* ports asked for (a range's first UP_RANGE_MAX) */
};

/* A front end's second stage: what it tells its client. */
struct up_landing {
	int		 has_view;	/* the upstream was asked for the entry: view says how it went */
	int		 refused;	/* the upstream refused a new entry (or not the port a fixed one
					   asked): the entry was deleted here too, nothing is left */
	struct up_view	 view;
};
typedef void up_landed_cb(void *arg, const struct up_landing *);

/*
 * Told when the address the internet sees changes: the upstream's external
 * address, first learnt (moved 0) or moved from one it gave before (1).
 */
typedef void up_public_fn(struct pg_ctx *, int moved);

/* What the daemon does for it (so the client never calls up into the daemon). */
struct up_hooks {
	up_public_fn	*public_moved;
	void		(*save)(struct pg_ctx *);	/* keep the state file (the new key) now */
	/* tests: */
	pcpc_send_fn	*send;		/* not NULL: requests go here, not to a socket, */
	void		*send_arg[UP_SERVERS_MAX];	/* with the server's (by index) */
	const struct in6_addr *local;	/* not NULL: the WAN address (no interface is read) */
};

/*
 * Look for the upstream server as upstream_pcp says and ask it; NULL when
 * off (said why). Once it answers, every inbound entry of the table gets its
 * upstream mapping.
 */
struct upstream *upstream_new(struct pg_ctx *, const struct up_hooks *);
/* Stop asking (nothing is sent: upstream mappings run out); waiting answers go out as they are. */
void upstream_free(struct upstream *);
/* The table changed (the daemon's notification): upstream mappings follow. */
void upstream_table_changed(struct upstream *, enum mt_change, const struct mt_entry *);
/*
 * After entry id reached the kernel: cb now when the upstream has nothing
 * pending for it, else when it answers or UP_WAIT_MS have passed. u may be
 * NULL (no upstream: cb now). owner names the caller for upstream_await_cancel.
 */
void upstream_await(struct upstream *, uint64_t id, const void *owner, up_landed_cb *, void *);
/* Forget owner's waiting callbacks (the owner is going away). */
void upstream_await_cancel(struct upstream *, const void *owner);
/* 1 and *v when e has upstream mappings (u may be NULL: 0). */
int upstream_view(const struct upstream *, const struct mt_entry *, struct up_view *);
/* 1 and *a: the external address the upstream server gives, while it answers. */
int upstream_ext_addr(const struct upstream *, struct in6_addr *);
/*
 * The external address the internet sees: the upstream PCP server's while it
 * answers (ctx->up), else the gateway's (external_ip); 0 when there is none.
 */
int upstream_public_addr(const struct pg_ctx *, struct in6_addr *);
/* 1 while an upstream PCP server answers (and maps the gateway's ports). */
int upstream_up(const struct upstream *);
/* 1 and *a: the address of the upstream server, while it answers. */
int upstream_server(const struct upstream *, struct in6_addr *a);
/* The client of the i-th server asked (tests: its answers are fed to it), or NULL. */
struct pcpc *upstream_client(const struct upstream *, size_t i);
/*
 * Status: upstream_pcp (off, auto or the address), then, when looked for,
 * upstream_pcp_source and the client's fields (pcpc_status), or
 * upstream_pcp_state none and upstream_pcp_reason when nothing could be asked.
 */
void upstream_status(const struct upstream *, const struct pg_ctx *, pg_status_emit *, void *);

#endif
