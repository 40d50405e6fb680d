/* policy.c - allow/deny rules; the first rule matching port ranges and address decides. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy.h"
#include "util.h"

/* miniupnpd's other IPv4 form, ADDR/255.255.255.0: a contiguous dotted mask. */
static int
policy_parse_mask(const char *s, unsigned *plen)
{
	struct in_addr m;
	uint32_t mask;
	unsigned len = 0;

	if (inet_pton(AF_INET, s, &m) != 1)
		return -1;
	mask = ntohl(m.s_addr);
	while (len < 32 && (mask & (0x80000000u >> len)) != 0)
		len++;
	if (len < 32 && (mask << len) != 0)
		return -1;
	*plen = len + 96;
	return 0;
}

static int
policy_parse_prefix(const char *s, struct in6_addr *addr, unsigned *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned long len;
	int v4;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (util_parse_addr(buf, addr) == -1)
		return -1;
	v4 = util_addr_is_v4(addr);
	len = v4 ? 32 : 128;
	if (slash != NULL && v4 && strchr(slash, '.') != NULL)
		return policy_parse_mask(slash, plen);
	if (slash != NULL && util_parse_uint(slash, 0, v4 ? 32 : 128, &len) == -1)
		return -1;
	*plen = (unsigned)len + (v4 ? 96 : 0);
	return 0;
}

/*
 * A rule's port range: "N" or "LO-HI" as elsewhere, and also miniupnpd's
 * "0-HI" (its stock ruleset ends with "deny 0-65535 0.0.0.0/0 0-65535"):
 * port 0 is never mapped, so 0-HI means the same as 1-HI, as it does there.
 */
static int
policy_parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	if (strncmp(s, "0-", 2) == 0 && s[2] != '\0' && s[2] != '0') {
		if (util_parse_portrange(s + 2, lo, hi) == -1 || *lo != *hi)
			return -1;
		*lo = 1;
		return 0;
	}
	return util_parse_portrange(s, lo, hi);
}

int
policy_parse_rule(struct policy_rule *r, int allow, char *args, char *err, size_t errlen)
{
	char *av[4];
	int ac = util_split(args, av, 4);

	memset(r, 0, sizeof(*r));
	r->allow = allow;
	if (ac == 4) {
		snprintf(err, errlen, "description filters (a fourth field, '%s') are not "
		    "supported: the rule would match more than it says", av[3]);
		return -1;
	}
	if (ac != 3) {
		snprintf(err, errlen, "expected EXTPORTS ADDRESS[/LEN] INTPORTS");
		return -1;
	}
	if (policy_parse_ports(av[0], &r->ext_lo, &r->ext_hi) == -1) {
		snprintf(err, errlen, "bad external port range '%s'", av[0]);
		return -1;
	}
	if (policy_parse_prefix(av[1], &r->addr, &r->plen) == -1) {
		snprintf(err, errlen, "bad address or prefix '%s'", av[1]);
		return -1;
	}
	if (policy_parse_ports(av[2], &r->int_lo, &r->int_hi) == -1) {
		snprintf(err, errlen, "bad internal port range '%s'", av[2]);
		return -1;
	}
	return 0;
}

void
policy_append(struct policy *p, const struct policy_rule *r)
{
	struct policy_rule *n;

	if ((n = reallocarray(p->rules, p->n + 1, sizeof(*n))) == NULL)
		fatal("policy_append");
	p->rules = n;
	p->rules[p->n++] = *r;
}

static int
policy_addr_match(const struct policy_rule *r, const struct in6_addr *a)
{
	unsigned full = r->plen / 8, rem = r->plen % 8;
	unsigned char mask;

	if (memcmp(r->addr.s6_addr, a->s6_addr, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rem));
	return (r->addr.s6_addr[full] & mask) == (a->s6_addr[full] & mask);
}

int
policy_check(const struct policy *p, uint16_t ext_lo, uint16_t ext_hi,
    const struct in6_addr *a, uint16_t int_lo, uint16_t int_hi)
{
	const struct policy_rule *r;
	size_t i;

	for (i = 0; i < p->n; i++) {
		r = &p->rules[i];
		if (ext_lo < r->ext_lo || ext_hi > r->ext_hi)
			continue;
		if (int_lo < r->int_lo || int_hi > r->int_hi)
			continue;
		if (!policy_addr_match(r, a))
			continue;
		return r->allow;
	}
	return 1;
}

void
policy_clear(struct policy *p)
{
	free(p->rules);
	p->rules = NULL;
	p->n = 0;
}
