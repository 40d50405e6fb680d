/*
 * mt_vocab.h - the mapping table's vocabulary: protocols, sources, errors and
 * denials, entry kinds and remote-peer filters, with their names and text forms.
 * A leaf: the config parser, trigger rules and the firewall adapter speak
 * it without the table.
 */
#ifndef PG_MT_VOCAB_H
#define PG_MT_VOCAB_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

enum mt_proto {
	MT_TCP,
	MT_UDP,
	MT_NPROTO
};

enum mt_source {
	MT_SRC_STATIC,
	MT_SRC_UPNP,
	MT_SRC_PCP,
	MT_SRC_NATPMP,
	MT_SRC_TRIGGER,
	MT_NSOURCE
};

enum mt_err {
	MT_OK,
	MT_ERR_INVAL,		/* malformed request */
	MT_ERR_CONFLICT,	/* external port held by another mapping */
	MT_ERR_DENIED,		/* refused by allow/deny rules */
	MT_ERR_QUOTA,		/* client has max_mappings_per_client */
	MT_ERR_NOTFOUND,
	MT_ERR_NOPORT,		/* no free external port */
	MT_ERR_FIREWALL,	/* the firewall backend refused it */
	MT_ERR_NOMEM,
	MT_ERR_ADDR,		/* internal address is not a LAN host */
	MT_ERR_NOT_AUTHORIZED,	/* not the asker's to change (enum mt_deny says why) */
};

/* Why the table refused an actor (mtable_authorize): MT_DENY_NONE, it did not. */
enum mt_deny {
	MT_DENY_NONE,
	MT_DENY_SOURCE,		/* the entry is another source's */
	MT_DENY_OWNER,		/* the entry's owner token is not the asker's (a PCP nonce) */
	MT_DENY_HOST,		/* secure: for another host than the asker */
	MT_DENY_EVERY_HOST,	/* secure: for every host (UPnP's NewManage) */
};

/* What an entry is: an inbound mapping, or an outbound flow pinned to an external port. */
enum mt_kind {
	MT_KIND_MAP,
	MT_KIND_PEER,		/* PCP PEER: int_addr:int_port -> peer_addr:peer_port leaves as ext_port */
	MT_KIND_PINHOLE,	/* IPv6: inbound to int_addr:int_port from remote allowed; no port used */
	MT_NKIND
};

#define MT_DESC_MAX	64
#define MT_OWNER_MAX	48
#define MT_MAX_FILTERS	8

/* A remote peer allowed to reach a mapping (PCP FILTER, UPnP NewRemoteHost). */
struct mt_filter {
	struct in6_addr	 addr;		/* prefix, v4-mapped for IPv4 */
	uint8_t		 plen;		/* in the 128-bit space: 96 + n for IPv4 */
	uint16_t	 port;		/* 0 = any port */
};

/* "ADDR/LEN:PORT" (":PORT" omitted for any port, "/LEN" for a single address) into buf. */
const char *mt_filter_str(const struct mt_filter *, char *buf, size_t len);
/* Parse that form back; 0, or -1 if it is malformed. */
int mt_filter_parse(const char *, struct mt_filter *);
/* Every peer a allows, b allows too. */
int mt_filter_within(const struct mt_filter *a, const struct mt_filter *b);
/* Clear the host bits past plen. */
void mt_mask(struct in6_addr *, unsigned plen);

/* 1 for sources driven by LAN applications: subject to policy, quota and max_lease. */
static inline int
mt_source_is_dynamic(int source)
{
	return source == MT_SRC_UPNP || source == MT_SRC_PCP || source == MT_SRC_NATPMP;
}

/* Names for enums. */
const char *mt_strerror(enum mt_err);
const char *mt_deny_str(enum mt_deny);
const char *mt_proto_name(int proto);
const char *mt_source_name(int source);
/* Parse names back; -1 if unknown. */
int mt_proto_parse(const char *);
int mt_source_parse(const char *);

#endif
