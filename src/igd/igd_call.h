/*
 * igd_call.h - one UPnP control call in progress, and what every action
 * handler uses on it: UPnP error codes, SOAP argument readers and writers,
 * the table's verdict on who may change what, the commit that tells
 * whether an entry reached the kernel, evented variables' elements. A leaf
 * below igd_act.c (the dispatch table, WANIPConnection,
 * WANCommonInterfaceConfig, L3F) and igd_pin.c (WANIPv6FirewallControl).
 */
#ifndef PG_IGD_CALL_H
#define PG_IGD_CALL_H

#include <netinet/in.h>
#include <stdint.h>

#include "igd/igd_soap.h"
#include "mtable.h"

struct evbuffer;
struct igd;

/*
 * UPnP error codes (UDA 1.1 §3.2.2, IGD WANIPConnection:1 and :2) that we
 * give. 724-727 never apply: internal and external ports may differ,
 * leases are supported, a remote host is enforced, any port can be asked.
 */
enum igd_err {
	IGD_OK = 0,
	IGD_E_INVALID_ACTION = 401,
	IGD_E_INVALID_ARGS = 402,
	IGD_E_ACTION_FAILED = 501,
	IGD_E_NOT_AUTHORIZED = 606,
	IGD_E_ARRAY_INDEX = 713,
	IGD_E_NO_SUCH_ENTRY = 714,
	IGD_E_WILDCARD_EXT_PORT = 716,
	IGD_E_CONFLICT = 718,
	IGD_E_NO_PORTS = 728,
	IGD_E_OTHER_MECHANISM = 729,
	IGD_E_NOT_FOUND = 730,
	IGD_E_INCONSISTENT = 733,
	/* WANIPv6FirewallControl:1 */
	IGD_E_PINHOLE_SPACE = 701,
	IGD_E_FIREWALL_DISABLED = 702,
	IGD_E_PINHOLE_NOT_ALLOWED = 703,
	IGD_E_PIN_NO_SUCH_ENTRY = 704,
	IGD_E_PROTO_UNSUPPORTED = 705,
	IGD_E_INT_PORT_WILDCARD = 706,
	IGD_E_PROTO_WILDCARD = 707,
	IGD_E_SRC_WILDCARD = 708,
	IGD_E_NO_TRAFFIC = 709,
};

/* The UPnPError description of code e ("Action Failed" for one we do not name). */
const char *igd_err_desc(enum igd_err e);
/* A short token for a result: "success", "conflict", "not_authorized" ... ("other"). */
const char *igd_err_token(enum igd_err e);
/* 1 if answering e refuses the request (not an answer that found nothing: 713, 714 ...). */
int igd_err_refuses(enum igd_err e);
/* Counters by result (IGD_RESULT_SLOTS, igd.h): 0 success, one per named code, then other. */
size_t igd_err_slot(enum igd_err e);
/* The token of a result slot. */
const char *igd_err_slot_name(size_t slot);

/* One control call in progress. */
struct igd_call {
	struct igd		*igd;
	struct mtable		*mt;
	const struct igd_soap_req *req;
	struct in6_addr		 client;
	struct mt_actor		 actor;		/* the caller, for the table (secure mode) */
	int			 version;	/* of the service type the caller used */
	struct evbuffer		*args;		/* output arguments */
	struct mt_filter	 remote;	/* NewRemoteHost, when one is given */
	int			 has_remote;
	char			 why[160];	/* debug log detail for an error */
	const struct mt_entry	*landing;	/* the entry the answer waits for (igd_commit) */
};

typedef enum igd_err igd_action_fn(struct igd_call *);

/* A required argument, or NULL (why set). */
const char *igd_arg(struct igd_call *, const char *name);
/* An unsigned decimal in [0, max] (UPnP ui2/ui4). */
enum igd_err igd_arg_uint(struct igd_call *, const char *name, unsigned long max,
    unsigned long *out);
/* A port argument, 0..65535. */
enum igd_err igd_arg_port(struct igd_call *, const char *name, uint16_t *port);
/* An output argument holding a number. */
void igd_out_uint(struct igd_call *, const char *name, unsigned long v);
/* The table's verdict on the caller acting for host a or on e (mtable_authorize): IGD_OK or 606. */
enum igd_err igd_authorize(struct igd_call *, const struct in6_addr *a, const struct mt_entry *e);
/* 1 if a and b are the same address. */
int igd_same_addr(const struct in6_addr *a, const struct in6_addr *b);
/*
 * A new or changed entry reaches the kernel before the client hears of it:
 * the answer built after this waits for e to land (igd_act_control's
 * landing); a refusal turns it into 501 (igd_act_refused). IGD_OK.
 */
enum igd_err igd_commit(struct igd_call *, const struct mt_entry *e);

/* One evented variable's <e:property>. */
void igd_prop(struct evbuffer *props, const char *name, const char *value);

#endif
