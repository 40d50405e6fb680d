/*
 * mt_vocab.c - the mapping table's vocabulary: names of protocols, sources,
 * errors and denials, and the text form of remote-peer filters. No state.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mt_vocab.h"
#include "util.h"

static const char *const mt_proto_names[MT_NPROTO] = { "tcp", "udp" };
static const char *const mt_source_names[MT_NSOURCE] = {
	"static", "upnp", "pcp", "natpmp", "trigger"
};
static const char *const mt_err_names[] = {
	[MT_OK] = "ok",
	[MT_ERR_INVAL] = "invalid request",
	[MT_ERR_CONFLICT] = "external port already mapped",
	[MT_ERR_DENIED] = "not permitted by allow/deny rules",
	[MT_ERR_QUOTA] = "too many mappings for this client",
	[MT_ERR_NOTFOUND] = "no such mapping",
	[MT_ERR_NOPORT] = "no free external port",
	[MT_ERR_FIREWALL] = "firewall refused the mapping",
	[MT_ERR_NOMEM] = "out of memory",
	[MT_ERR_ADDR] = "internal address is not a LAN host",
	[MT_ERR_NOT_AUTHORIZED] = "not the asker's to change",
};
static const char *const mt_deny_names[] = {
	[MT_DENY_NONE] = "allowed",
	[MT_DENY_SOURCE] = "another source's entry",
	[MT_DENY_OWNER] = "another owner's entry",
	[MT_DENY_HOST] = "secure mode: not the caller's address",
	[MT_DENY_EVERY_HOST] = "secure mode: not for every host",
};

const char *
mt_strerror(enum mt_err e)
{
	if ((size_t)e >= PG_NELEM(mt_err_names))
		return "unknown error";
	return mt_err_names[e];
}

const char *
mt_deny_str(enum mt_deny d)
{
	if ((size_t)d >= PG_NELEM(mt_deny_names))
		return "unknown denial";
	return mt_deny_names[d];
}

const char *
mt_proto_name(int p)
{
	return (p >= 0 && p < MT_NPROTO) ? mt_proto_names[p] : "?";
}

const char *
mt_source_name(int s)
{
	return (s >= 0 && s < MT_NSOURCE) ? mt_source_names[s] : "?";
}

static int
name_index(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcasecmp(names[i], s) == 0)
			return i;
	return -1;
}

int
mt_proto_parse(const char *s)
{
	return name_index(mt_proto_names, MT_NPROTO, s);
}

int
mt_source_parse(const char *s)
{
	return name_index(mt_source_names, MT_NSOURCE, s);
}

void
mt_mask(struct in6_addr *a, unsigned plen)
{
	unsigned i;

	for (i = 0; i < 16; i++, plen = plen >= 8 ? plen - 8 : 0)
		if (plen < 8)
			a->s6_addr[i] &= (uint8_t)(0xff << (8 - plen));
}

/* Every peer filter a allows, b allows too (b's prefix holds a's, b's port is a's or any). */
int
mt_filter_within(const struct mt_filter *a, const struct mt_filter *b)
{
	struct in6_addr m = a->addr;

	if (b->plen > a->plen || (b->port != 0 && b->port != a->port))
		return 0;
	mt_mask(&m, b->plen);
	return memcmp(&m, &b->addr, sizeof(m)) == 0;
}

const char *
mt_filter_str(const struct mt_filter *f, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int v4 = util_addr_is_v4(&f->addr);
	unsigned plen = v4 ? f->plen - 96u : f->plen;

	util_addr_str(&f->addr, a, sizeof(a));
	if (f->port != 0)
		snprintf(buf, len, v4 ? "%s/%u:%u" : "[%s/%u]:%u", a, plen, f->port);
	else
		snprintf(buf, len, "%s/%u", a, plen);
	return buf;
}

int
mt_filter_parse(const char *s, struct mt_filter *f)
{
	char buf[INET6_ADDRSTRLEN + 16], *slash, *colon = NULL;
	unsigned long v;
	int v6 = s[0] == '[';

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s + v6);
	memset(f, 0, sizeof(*f));
	if (v6) {
		if ((colon = strchr(buf, ']')) == NULL)
			return -1;
		*colon++ = '\0';
		if (*colon != '\0' && *colon != ':')
			return -1;
		colon = *colon == ':' ? colon : NULL;
	} else if ((colon = strchr(buf, ':')) != NULL && strchr(colon + 1, ':') != NULL)
		colon = NULL;		/* a bare IPv6 address: no port without brackets */
	if (colon != NULL) {
		*colon++ = '\0';
		if (util_parse_uint(colon, 1, 65535, &v) == -1)
			return -1;
		f->port = (uint16_t)v;
	}
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (util_parse_addr(buf, &f->addr) == -1)
		return -1;
	v = util_addr_is_v4(&f->addr) ? 32 : 128;
	if (slash != NULL && util_parse_uint(slash, 0, v, &v) == -1)
		return -1;
	f->plen = (uint8_t)(util_addr_is_v4(&f->addr) ? v + 96 : v);
	mt_mask(&f->addr, f->plen);
	return 0;
}
