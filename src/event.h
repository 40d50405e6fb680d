/*
 * event.h - the event bus: what happened to the gateway, in order, for
 * whoever listens (portgatectl watch, the admin API's Server-Sent Events).
 *
 * One bus, owned by the daemon's context. A module that has something to
 * report fills a struct pg_event (ev_init, ev_set_entry ...) and posts it;
 * the bus numbers it, stamps it, keeps it in a bounded ring of recent events
 * (a subscriber that reconnects resumes from the last sequence number it
 * saw, as SSE's Last-Event-ID) and hands it to every subscriber. Posting
 * never blocks and never fails the change it reports: the ring is allocated
 * once, and a subscriber's callback must itself never block (bound what it
 * buffers, drop itself when that is full).
 *
 * Text from outside (descriptions, rule names, refusal details) is kept as
 * valid UTF-8, cut to its field's size, and escaped by event_json (quotes,
 * backslashes, every control character, and < > & as \u escapes, so the
 * JSON is safe to put into a web page) and by event_text.
 */
#ifndef PG_EVENT_H
#define PG_EVENT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "metric.h"
#include "mt_vocab.h"

enum ev_type {
	EV_MAPPING_ADDED,	/* an entry is new (EVF_ENTRY) */
	EV_MAPPING_RENEWED,	/* its lease (or its description, filters) changed */
	EV_MAPPING_DELETED,	/* by its client, the admin, a flush, or the kernel's refusal */
	EV_MAPPING_EXPIRED,	/* its lease ran out */
	EV_TRIGGER_ACTIVATED,	/* EVF_RULE, EVF_HOST: the host's traffic opened the rule's ports */
	EV_TRIGGER_CLOSED,	/* EVF_RULE, EVF_HOST: the rule's last port closed */
	EV_TRIGGER_REFUSED,	/* EVF_RULE, EVF_HOST, EVF_HOLDER: another host holds the ports */
	EV_REQUEST_REFUSED,	/* EVF_REFUSAL, EVF_CLIENT: a front end said no */
	EV_FIREWALL_REPAIRED,	/* EVF_COUNTS: the kernel's state vanished and was rebuilt */
	EV_WAN_CHANGED,		/* EVF_OLD, EVF_NEW (either may be absent: no address) */
	EV_NTYPE
};

/* Which of an event's fields are set (struct pg_event's has). */
#define EVF_ENTRY	0x01	/* kind .. desc */
#define EVF_CLIENT	0x02
#define EVF_HOST	0x04
#define EVF_HOLDER	0x08
#define EVF_RULE	0x10
#define EVF_REFUSAL	0x20	/* protocol, action, reason, detail */
#define EVF_COUNTS	0x40	/* mappings, pinholes */
#define EVF_OLD		0x80
#define EVF_NEW		0x100

#define EV_NAME_MAX	32	/* a trigger rule's name (TRIG_NAME_MAX) */
#define EV_WORD_MAX	40	/* protocol, action, reason: short tokens */
#define EV_DETAIL_MAX	160

#define EV_RING_DEFAULT	512	/* events kept for subscribers that resume */
#define EV_JSON_MAX	4096	/* event_json's longest object, its NUL included */
#define EV_TEXT_MAX	2048	/* event_text's longest line, its NUL included */

struct pg_event {
	uint64_t	 seq;		/* 1, 2, ... in posting order (set by evbus_post) */
	int64_t		 time_ms;	/* wall clock, ms since 1970 (set by evbus_post) */
	uint8_t		 type;		/* enum ev_type */
	uint32_t	 has;		/* EVF_* */
	/* EVF_ENTRY: the mapping or pinhole, as the table had it */
	uint8_t		 kind;		/* MT_KIND_MAP or MT_KIND_PINHOLE */
	uint8_t		 proto;
	uint8_t		 source;
	uint16_t	 ext_port, ext_port_end;
	uint16_t	 int_port, int_port_end;
	struct in6_addr	 int_addr;
	uint32_t	 pin_id;	/* a pinhole's ID */
	long		 expires_in;	/* seconds left, -1 permanent */
	char		 desc[MT_DESC_MAX];
	struct in6_addr	 client;	/* EVF_CLIENT: who asked */
	struct in6_addr	 host;		/* EVF_HOST: the LAN host a trigger is about */
	struct in6_addr	 holder;	/* EVF_HOLDER: who holds the ports */
	char		 rule[EV_NAME_MAX];	/* EVF_RULE */
	/* EVF_REFUSAL */
	char		 protocol[EV_WORD_MAX];	/* upnp, pcp, natpmp, trigger */
	char		 action[EV_WORD_MAX];	/* AddPortMapping, map, ... */
	char		 reason[EV_WORD_MAX];	/* a token: conflict, not_authorized ... */
	char		 detail[EV_DETAIL_MAX];	/* free text: what the log line says */
	uint32_t	 mappings, pinholes;	/* EVF_COUNTS */
	struct in6_addr	 old_addr, new_addr;	/* EVF_OLD, EVF_NEW */
};

struct evbus;
struct ev_sub;
struct mt_entry;

/* A subscriber's callback: one event, in order. It must not block. */
typedef void ev_cb(void *arg, const struct pg_event *);

/*
 * A bus keeping the last ring events (0: EV_RING_DEFAULT), stamping them
 * from wall (ms since 1970; NULL: the real time of day). NULL if out of memory.
 */
struct evbus *evbus_new(size_t ring, const struct pg_clock *wall);
/* Free the bus and its subscriptions (NULL: nothing). */
void evbus_free(struct evbus *);
/*
 * Number, stamp, keep and deliver ev (its seq and time_ms are set here).
 * Never fails, never blocks; a NULL bus takes nothing.
 */
void evbus_post(struct evbus *, struct pg_event *ev);
/*
 * Call cb for every event posted from now on; NULL if out of memory. A
 * subscription made inside a callback starts with the next event.
 */
struct ev_sub *evbus_subscribe(struct evbus *, ev_cb *, void *arg);
/* End a subscription; allowed inside any callback, its own included (NULL: nothing). */
void evbus_unsubscribe(struct evbus *, struct ev_sub *);
/*
 * Call cb for every kept event with a sequence number after `after`,
 * oldest first; how many. Replay, then subscribe, in the same loop turn:
 * nothing is missed and nothing comes twice. Whether events were lost in
 * between: evbus_first_seq(bus) > after + 1.
 */
size_t evbus_replay(struct evbus *, uint64_t after, ev_cb *, void *arg);
/* The oldest kept event's sequence number (0: none kept). */
uint64_t evbus_first_seq(const struct evbus *);
/* The newest event's sequence number (0: none posted yet). */
uint64_t evbus_last_seq(const struct evbus *);
/* Subscriptions in force. */
size_t evbus_subscribers(const struct evbus *);
/*
 * Metrics (metric.h): events_total by type, event_subscribers, and
 * refusals_total by protocol and reason (counted from request.refused).
 */
void evbus_metrics(const struct evbus *, pg_metric_emit *, void *);

/* An empty event of this type. */
void ev_init(struct pg_event *, enum ev_type);
/* The entry's fields (EVF_ENTRY), with expires_in seconds left (-1 permanent). */
void ev_set_entry(struct pg_event *, const struct mt_entry *, long expires_in);
/* Copy text from outside into a field of the event (cut on a UTF-8 boundary). */
void ev_set_text(char *field, size_t size, const char *text);
/*
 * Post a request.refused: protocol (upnp, pcp ...), client, action, a reason
 * token and the detail (NULL: none). For the front ends' refusal points.
 */
void evbus_refused(struct evbus *, const char *protocol, const struct in6_addr *client,
    const char *action, const char *reason, const char *detail);

/* The type's name: "mapping.added" ... */
const char *event_type(const struct pg_event *);
/* The event's sequence number. */
uint64_t event_seq(const struct pg_event *);
/* The name of a type ("?" if out of range). */
const char *event_type_name(int type);
/*
 * The event as one JSON object on one line, into buf (NUL-terminated); its
 * length. A length >= len means it did not fit and buf holds "" (EV_JSON_MAX
 * always suffices).
 */
size_t event_json(const struct pg_event *, char *buf, size_t len);
/*
 * The event as one readable line (no newline; control characters escaped);
 * its length, >= len if it did not fit (buf "": EV_TEXT_MAX always suffices).
 */
size_t event_text(const struct pg_event *, char *buf, size_t len);

#endif
