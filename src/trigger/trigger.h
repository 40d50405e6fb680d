/* trigger.h - port-triggering rules and their activation from LAN traffic. */
#ifndef PG_TRIGGER_H
#define PG_TRIGGER_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "metric.h"
#include "status.h"

#define TRIG_NAME_MAX	32
#define TRIG_MAX_OPEN	8
#define TRIG_IDLE_DEFAULT 300

struct trig_range {
	uint8_t		proto;		/* MT_TCP / MT_UDP */
	uint16_t	lo, hi;
};

struct trig_rule {
	char			name[TRIG_NAME_MAX];
	struct trig_range	trigger;
	struct trig_range	open[TRIG_MAX_OPEN];
	size_t			nopen;
	uint32_t		idle;		/* seconds */
};

/* Parse "NAME PROTO:PORTS open PROTO:PORTS[,...] [idle SECONDS]"; 0, or -1 with err. */
int trig_rule_parse(struct trig_rule *, const char *text, char *err, size_t errlen);
/* Format a rule in the config syntax parsed above. */
void trig_rule_format(const struct trig_rule *, char *buf, size_t len);
/* 1 (with err) if two rules clash: same name, overlapping trigger or open ports. */
int trig_rule_overlap(const struct trig_rule *, const struct trig_rule *, char *err, size_t errlen);


/* ---- run time: rules in force and their activation ---- */

struct mtable;
struct trigger;

struct trig_status {
	int		 runtime;	/* added with portgatectl (persisted in the state file) */
	int		 disabled;	/* trigger_set_enabled(0): its traffic opens nothing */
	int		 active;
	struct in6_addr	 holder;
	long		 closes_in;	/* seconds, when active */
	int		 has_refused;
	struct in6_addr	 last_refused;
	long		 refused_ago;	/* seconds */
	unsigned	 refusals;
};

typedef int trig_rule_cb(void *arg, const struct trig_rule *);
typedef void trig_status_cb(void *arg, const struct trig_rule *, const struct trig_status *);

/*
 * What the listener of trigger_set_notify hears. The ports a rule opens and
 * closes are table entries: the table's own notification reports those.
 */
enum trig_change {
	TRIG_CHG_ADDED,		/* a run-time rule was added (the state file keeps those) */
	TRIG_CHG_DELETED,	/* a run-time rule was deleted, its ports closed */
	TRIG_CHG_ACTIVATED,	/* host's traffic opened the rule's ports */
	TRIG_CHG_REFUSED,	/* host's traffic was refused: another host holds the ports */
	TRIG_CHG_ENABLED,	/* a rule was enabled again (trigger_set_enabled) */
	TRIG_CHG_DISABLED,	/* a rule was disabled, its ports closed */
};
/* host is NULL for ADDED, DELETED, ENABLED and DISABLED. */
typedef void trig_notify_cb(void *arg, enum trig_change, const struct trig_rule *,
    const struct in6_addr *host);

/* Rule set bound to a mapping table. */
struct trigger *trigger_new(struct mtable *);
/* Free the rule set (mappings stay in the table). */
void trigger_free(struct trigger *);
/* Replace the config-file rules (start-up, SIGHUP); run-time rules stay. */
void trigger_set_config_rules(struct trigger *, const struct trig_rule *, size_t);
/* Add a rule; runtime rules are persisted. 0, or -1 with err. */
int trigger_add_rule(struct trigger *, const struct trig_rule *, int runtime, char *err, size_t);
/* Delete a run-time rule and close its ports. 0, or with err -1 (no such rule), -2 (a config rule). */
int trigger_del_rule(struct trigger *, const char *name, char *err, size_t);
/*
 * Enable or disable a rule (either origin): a disabled rule stays in the
 * set, holds its ports against overlapping rules, and its traffic opens
 * nothing; disabling closes what it opened. 0, or -1 with err (no such rule).
 */
int trigger_set_enabled(struct trigger *, const char *name, int on, char *err, size_t);
/* 1 if the rule named exists and is enabled. */
int trigger_rule_enabled(const struct trigger *, const char *name);
/* Visit run-time rules (for the state file); returns how many. */
size_t trigger_foreach_runtime(const struct trigger *, trig_rule_cb *, void *);
/* Visit every rule with its status. */
void trigger_foreach_status(const struct trigger *, trig_status_cb *, void *);
/* Visit every rule (for the firewall's trigger sets). */
void trigger_foreach_rule(const struct trigger *, trig_rule_cb *, void *);
/* Outbound LAN traffic from host to proto/port: activate, refresh or refuse. */
void trigger_outbound(struct trigger *, int proto, uint16_t port, const struct in6_addr *host);
/* A new inbound connection to host on proto/port: refresh the rule holding it. */
void trigger_inbound(struct trigger *, int proto, uint16_t port, const struct in6_addr *host);
/* Number of rules. */
size_t trigger_count(const struct trigger *);
/* Trigger traffic ignored because its source was not a LAN host. */
uint64_t trigger_bad_sources(const struct trigger *);
/* Tell cb of rule changes and activations (one listener; NULL: none), as mtable_set_notify. */
void trigger_set_notify(struct trigger *, trig_notify_cb *, void *);
/* Status: trigger_rules (how many rules are in force). */
void trigger_status(const struct trigger *, pg_status_emit *, void *);
/* Metrics (metric.h): trigger_rules, trigger_activations_total, trigger_refusals_total. */
void trigger_metrics(const struct trigger *, pg_metric_emit *, void *);

#endif
