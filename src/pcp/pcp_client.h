/*
 * pcp_client.h - a PCP (RFC 6887) client for upstream mappings: MAP requests
 * to one server on the WAN side, on the daemon's loop, retransmitted (§8.1.1),
 * renewed (§11.2.1) and deleted (§15); the server's epoch watched (§8.5).
 *
 * A leaf under the table: it knows no entry, front end or firewall. Its
 * caller hands it mappings (protocol, the gateway's external port as the
 * internal port, a lifetime, a suggestion, FILTERs, PREFER_FAILURE) and hears
 * of each one through its callback, and of the server through the event
 * callback. Every answer is untrusted: its length, version, opcode, R bit,
 * result, nonce, protocol, port, lifetime and addresses are checked before
 * anything is believed.
 */
#ifndef PG_PCP_CLIENT_H
#define PG_PCP_CLIENT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "pcp/pcp_wire.h"
#include "status.h"

struct event_base;
struct pcpc;
struct pcpc_map;

#define PCPC_SERVER_ADDRS	4	/* addresses of one server, tried in turn (RFC 7488) */
#define PCPC_FILTER_MAX		8	/* FILTER options of one mapping */
#define PCPC_IRT_MS		3000	/* §8.1.1: initial retransmission time */
#define PCPC_MRT_MS		1024000	/* §8.1.1: maximum retransmission time */
#define PCPC_WAIT_DEFAULT_MS	30000	/* a request is given up after this long */
#define PCPC_RATE_DEFAULT	20	/* requests per second (and the burst) */
#define PCPC_LOST_MAX_MS	900000	/* a lost server is asked again at least this often */
#define PCPC_LIFETIME_MAX	604800	/* a longer lifetime granted counts as this (s) */
#define PCPC_RESTART_HOLD_MS	30000	/* an ANNOUNCE re-creates mappings at most this often */
#define PCPC_ANNOUNCE_SPREAD_MS	5000	/* §14.1.3: re-creation after an ANNOUNCE, 0-5 s later */

/* Flags of a mapping request. */
#define PCPC_F_PREFER_FAILURE	0x01	/* §13.2: the suggested port or nothing */
#define PCPC_F_RETRY		0x02	/* ask again when a refusal's lifetime is over */

/* What the caller asks for; addresses are v4-mapped (the mappings are IPv4's). */
struct pcpc_req {
	uint8_t		 proto;		/* IANA protocol number, not 0 */
	uint16_t	 internal_port;	/* the gateway's external port, not 0 */
	uint16_t	 ext_port;	/* suggested; 0: no preference */
	struct in6_addr	 ext_addr;	/* suggested; all zeros: no preference */
	uint32_t	 lifetime;	/* seconds asked, not 0 */
	uint64_t	 until_ms;	/* not 0: never asked to last past this (client clock) */
	unsigned	 flags;		/* PCPC_F_* */
	int		 has_nonce;	/* 1: use nonce (kept from an earlier run) */
	uint8_t		 nonce[PCP_WIRE_NONCE_LEN];
	unsigned	 nfilter;
	struct pcp_filter filter[PCPC_FILTER_MAX];
};

/* Where a mapping stands upstream, as its caller is told. */
enum pcpc_state {
	PCPC_PENDING,		/* asked (or asked again), no answer yet */
	PCPC_GRANTED,		/* the server holds it: ext_addr, ext_port, lifetime */
	PCPC_REFUSED,		/* the server said no: result (and lifetime: the error's) */
	PCPC_LOST,		/* the server does not answer; asked again when it does */
};

#define PCPC_CHG_STATE		0x01	/* the state is not the one told last */
#define PCPC_CHG_EXT		0x02	/* granted again with another external address or port */

struct pcpc_info {
	enum pcpc_state	 state;
	enum pcp_result	 result;	/* REFUSED: the server's code (any octet: check the name) */
	struct in6_addr	 ext_addr;	/* GRANTED: the upstream's external address and port */
	uint16_t	 ext_port;
	uint32_t	 lifetime;	/* GRANTED: seconds granted; REFUSED: the error's */
	uint64_t	 expires_ms;	/* GRANTED: on the client's clock */
	unsigned	 changed;	/* PCPC_CHG_* since the last call */
};

/* Told what became of a mapping; may add, refresh or drop mappings (this one too). */
typedef void pcpc_map_fn(void *arg, struct pcpc_map *, const struct pcpc_info *);

/* The server, as the client sees it. */
enum pcpc_srv_state {
	PCPC_SRV_PROBING,	/* nothing heard yet, asking */
	PCPC_SRV_UP,		/* it answers */
	PCPC_SRV_NONE,		/* it never answered; asked again with back-off */
	PCPC_SRV_LOST,		/* it answered once, not now; asked again with back-off */
};

enum pcpc_event {
	PCPC_EV_UP,		/* the server answered (first, or again after NONE or LOST) */
	PCPC_EV_NONE,		/* no answer at all: no upstream PCP server (not an error) */
	PCPC_EV_LOST,		/* it stopped answering: every mapping is LOST */
	PCPC_EV_RESTART,	/* its state was lost (epoch, ANNOUNCE): every mapping is asked again */
	PCPC_EV_EXT_ADDR,	/* the external address its answers carry changed */
};

/* Told of the server; may add, refresh or drop mappings, not free the client. */
typedef void pcpc_event_fn(void *arg, struct pcpc *, enum pcpc_event);

/*
 * Send hook (tests, the fuzzer): requests go here instead of a socket; its
 * answers come later (pcpc_input), never from inside the hook.
 */
typedef void pcpc_send_fn(void *arg, const uint8_t *buf, size_t len);

struct pcpc_params {
	struct in6_addr	 local;		/* the WAN address: bound, and every request's client address */
	struct in6_addr	 server[PCPC_SERVER_ADDRS];	/* one server's addresses, in order */
	size_t		 nserver;
	uint16_t	 server_port;	/* 0: 5351 */
	unsigned	 ifindex;	/* the WAN interface, for 224.0.0.1:5350 ANNOUNCEs; 0: none */
	unsigned	 max_mappings;	/* upstream_max_mappings (those being deleted count) */
	unsigned	 rate;		/* requests per second; 0: PCPC_RATE_DEFAULT */
	uint32_t	 max_wait_ms;	/* a request unanswered this long is given up; 0: default */
	const struct pg_clock *clock;
	pcpc_event_fn	*event;		/* may be NULL */
	void		*event_arg;
	/* tests and the fuzzer */
	pcpc_send_fn	*send;		/* not NULL: no socket; requests go here */
	void		*send_arg;
	void		(*random)(void *arg, void *buf, size_t len);	/* NULL: getrandom */
	void		*random_arg;
};

enum pcpc_err {
	PCPC_OK,
	PCPC_ERR_INVALID,	/* protocol or port 0, lifetime 0, a bad filter or suggestion */
	PCPC_ERR_EXISTS,	/* a mapping of that protocol and port is held already */
	PCPC_ERR_FULL,		/* max_mappings reached */
	PCPC_ERR_NOMEM,		/* no memory, or no random nonce */
};

/* Counters, for status and tests. */
struct pcpc_stats {
	uint64_t	 sent;		/* requests sent (each retransmission too) */
	uint64_t	 paced;		/* sends put off by the rate */
	uint64_t	 answers;	/* responses taken */
	uint64_t	 dropped;	/* datagrams refused (why: the debug log) */
	uint64_t	 granted;
	uint64_t	 refused;
	uint64_t	 given_up;	/* requests nobody answered */
	uint64_t	 restarts;	/* the server's state lost: mappings asked again */
	uint64_t	 announces;	/* ANNOUNCEs taken */
};

/* Open the socket (bound to local, connected to the server) in base's loop; NULL after logging why. */
struct pcpc *pcpc_new(struct event_base *, const struct pcpc_params *);
/* Close; nothing is sent (upstream mappings run out by their lifetimes). */
void pcpc_free(struct pcpc *);
/* Ask the server whether it is there with an ANNOUNCE request (no state upstream): UP or NONE follows. */
void pcpc_probe(struct pcpc *);
/* Ask for a mapping; NULL and *err when refused at once. The callback hears every change. */
struct pcpc_map *pcpc_map_add(struct pcpc *, const struct pcpc_req *, pcpc_map_fn *, void *arg,
    enum pcpc_err *err);
/* Ask again now with this lifetime (seconds, not 0); the next renewals ask for it too. */
void pcpc_map_refresh(struct pcpc *, struct pcpc_map *, uint32_t lifetime);
/* From now on never ask m to last past until_ms (0: no bound); the caller's lease moved. */
void pcpc_map_until(struct pcpc_map *, uint64_t until_ms);
/* Drop a mapping: deleted upstream (lifetime 0), its callback never called again. */
void pcpc_map_drop(struct pcpc *, struct pcpc_map *);
/* What the caller was last told of a mapping. */
const struct pcpc_info *pcpc_map_info(const struct pcpc_map *);
/* A mapping's nonce (to keep across restarts: a server knows the mapping by it). */
void pcpc_map_nonce(const struct pcpc_map *, uint8_t nonce[PCP_WIRE_NONCE_LEN]);
/* Mappings held (those being deleted included). */
size_t pcpc_count(const struct pcpc *);
/* The server's state, the address in use, and the external address its answers carry (0: none yet). */
enum pcpc_srv_state pcpc_server_state(const struct pcpc *);
void pcpc_server_addr(const struct pcpc *, struct in6_addr *);
int pcpc_ext_addr(const struct pcpc *, struct in6_addr *);
const struct pcpc_stats *pcpc_stats(const struct pcpc *);
/*
 * The socket-free core (tests, the fuzzer; the socket's reader calls it):
 * one datagram from src:sport; multicast 1 when it came to 224.0.0.1:5350.
 */
void pcpc_input(struct pcpc *, const uint8_t *buf, size_t len, const struct in6_addr *src,
    uint16_t sport, int multicast);
/* Do what is due on the client's clock (its timer calls this; tests with a fake clock too). */
void pcpc_run(struct pcpc *);
/* When something is next due (clock ms), 0 if nothing is. */
uint64_t pcpc_next_ms(const struct pcpc *);
/* Names: "pending", "granted" ...; "probing", "up" ...; "ok", "invalid" ... */
const char *pcpc_state_name(enum pcpc_state);
const char *pcpc_srv_state_name(enum pcpc_srv_state);
const char *pcpc_err_name(enum pcpc_err);
/*
 * Status (nothing when c is NULL): upstream_pcp_server, upstream_pcp_state,
 * upstream_pcp_epoch, upstream_external_ip, upstream_mappings (by state),
 * upstream_requests, upstream_answers, upstream_dropped, upstream_restarts.
 */
void pcpc_status(const struct pcpc *, pg_status_emit *, void *);

#endif
