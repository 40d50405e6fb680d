/*
 * diag.h - why can't the internet reach this port: a check, step by step,
 * with a verdict, as data (struct diag_report) that the control socket
 * (portgatectl check) and the admin API render, as text or JSON.
 */
#ifndef PG_DIAG_H
#define PG_DIAG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "fw/fw.h"
#include "ipclass.h"
#include "mt_vocab.h"

struct pg_ctx;
struct evbuffer;
struct diag;

#define DIAG_WAIT_MS		2000	/* how long the check watches the counter */
#define DIAG_WAIT_MAX_MS	10000
#define DIAG_TEXT_MAX		384
#define DIAG_HINTS_MAX		6

enum diag_level {
	DIAG_OK,
	DIAG_WARN,	/* worth knowing; not why the port is unreachable */
	DIAG_FAIL,	/* a reason the port is unreachable */
};

/* The steps, in the order a packet from the internet meets them. */
enum diag_step_id {
	DIAG_STEP_ADDRESS,	/* the external address: public, or behind another NAT */
	DIAG_STEP_ENTRY,	/* which entry holds the port (or the closest ones) */
	DIAG_STEP_KERNEL,	/* the kernel's element and its timeout */
	DIAG_STEP_TRAFFIC,	/* inbound packets before and after the wait */
	DIAG_STEP_HOST,		/* the internal host answers (TCP connect, neighbour state) */
	DIAG_STEP_HAIRPIN,	/* LAN hosts using the external address */
	DIAG_NSTEPS
};

enum diag_verdict {
	DIAG_REACHABLE,
	DIAG_NO_ADDRESS,	/* the gateway has no external address */
	DIAG_BEHIND_NAT,	/* the external address is private or shared */
	DIAG_NOT_ROUTABLE,	/* the external address is one nobody routes */
	DIAG_NO_MAPPING,
	DIAG_NO_FIREWALL,	/* firewall = none: the kernel forwards nothing */
	DIAG_NOT_IN_KERNEL,	/* the table holds it, the kernel does not */
	DIAG_HOST_NOT_LISTENING,
	DIAG_HOST_DOWN,
	DIAG_NVERDICTS
};

/* How the internal host answered (DIAG_STEP_HOST). */
enum diag_host {
	DIAG_HOST_UNTRIED,
	DIAG_HOST_ACCEPTS,	/* TCP: connected */
	DIAG_HOST_REFUSED,	/* TCP: RST, nothing listens */
	DIAG_HOST_TIMEOUT,	/* TCP: no answer in time */
	DIAG_HOST_UNREACH,	/* TCP: no route, no ARP answer */
	DIAG_HOST_ERROR,	/* could not probe (host_err) */
	DIAG_HOST_NEIGH,	/* UDP: neighbour state in host_nud (0: no entry, -1: unreadable) */
};

/*
 * What the check found out: each step's sentence is made from these alone
 * (diag_conclude), so the steps and the verdict can be tested without a
 * network.
 */
struct diag_facts {
	uint8_t		 proto;		/* MT_TCP / MT_UDP */
	uint16_t	 port;		/* the external port checked */
	/* the external address */
	int		 has_ext;
	struct in6_addr	 ext;
	enum ipclass	 ext_class;
	const char	*ext_block;	/* its special-purpose block, or "" */
	/* an upstream PCP server (issue 19): whether it answers, and its mapping of the port */
	int		 upstream;	/* it answers */
	struct in6_addr	 up_server;
	int		 has_up_map;	/* the entry has an upstream mapping (asked for) */
	int		 up_granted;
	char		 up_state[16];	/* pending, granted, refused, lost */
	struct in6_addr	 up_ext;	/* granted: where the internet reaches the port */
	uint16_t	 up_ext_port;
	/* the entry holding the port */
	int		 has_entry;
	uint8_t		 source;	/* MT_SRC_* */
	uint16_t	 ext_lo, ext_hi;
	struct in6_addr	 int_addr;
	uint16_t	 int_port;	/* the internal port this external port goes to */
	long		 left_s;	/* lease left, -1 permanent */
	char		 desc[MT_DESC_MAX];
	char		 filters[MT_MAX_FILTERS * 48];	/* "" = anyone */
	char		 hints[DIAG_HINTS_MAX][160];	/* no entry: the closest ones */
	size_t		 nhints;
	/* the kernel */
	int		 fw_kernel;	/* the firewall is in the kernel */
	int		 kq;		/* 1 read, -1 could not be read (kq_err), 0 not asked */
	int		 kq_err;
	struct fw_elem_info k0;		/* at the start */
	int		 kq1;		/* 1 read again after the wait, -1 could not */
	struct fw_elem_info k1;
	uint32_t	 wait_ms;
	/* the internal host */
	enum diag_host	 host;
	int		 host_err;
	int		 host_nud;	/* NUD_* (UDP), 0 none, -1 unreadable */
	uint32_t	 probe_ms;
	/* hairpin */
	int		 hairpin;
};

struct diag_step {
	enum diag_step_id id;
	enum diag_level	 level;
	char		 text[DIAG_TEXT_MAX];
};

/* A finished check: the facts, the steps that apply, the verdict. */
struct diag_report {
	struct diag_facts facts;
	struct diag_step step[DIAG_NSTEPS];
	size_t		 nsteps;
	enum diag_verdict verdict;
	char		 verdict_text[DIAG_TEXT_MAX];	/* "reachable", "not reachable: ..." */
};

/* Called once with the finished report (valid during the call only). */
typedef void diag_done_cb(void *arg, const struct diag_report *);

/*
 * Check proto/port (MT_TCP/MT_UDP, 1-65535): the table, the kernel, the
 * internal host, the external address; the counter is read again after
 * wait_ms (0: DIAG_WAIT_MS; at most DIAG_WAIT_MAX_MS). done runs from the
 * event loop, never before diag_start returns; NULL if out of memory.
 */
struct diag *diag_start(struct pg_ctx *, int proto, uint16_t port, uint32_t wait_ms,
    diag_done_cb *done, void *arg);
/* Drop a check whose answer is no longer wanted (done is not called). */
void diag_cancel(struct diag *);

/* The steps and the verdict from the facts alone. */
void diag_conclude(const struct diag_facts *, struct diag_report *);
/* The report as text: one "STEP LEVEL: sentence" line each, "verdict: ..." last. */
void diag_text(const struct diag_report *, struct evbuffer *);
/* The report as one JSON object (the admin API's answer, portgatectl check --json). */
void diag_json(const struct diag_report *, struct evbuffer *);
/* Names: "address", "ok", "reachable" / "behind_nat" ... */
const char *diag_step_name(enum diag_step_id);
const char *diag_level_name(enum diag_level);
const char *diag_verdict_name(enum diag_verdict);

#endif
