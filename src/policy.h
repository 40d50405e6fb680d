/* policy.h - allow/deny permission rules, miniupnpd-compatible. */
#ifndef PG_POLICY_H
#define PG_POLICY_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct policy_rule {
	int		 allow;
	uint16_t	 ext_lo, ext_hi;
	struct in6_addr	 addr;
	unsigned	 plen;		/* prefix length in the 128-bit (v4-mapped) space */
	uint16_t	 int_lo, int_hi;
};

struct policy {
	struct policy_rule	*rules;
	size_t			 n;
};

/* Parse "EXTPORTS ADDR[/LEN] INTPORTS" into a rule; 0, or -1 with err filled. */
int policy_parse_rule(struct policy_rule *, int allow, char *args, char *err, size_t errlen);
/* Append a rule (config time). */
void policy_append(struct policy *, const struct policy_rule *);
/* 1 if the request is allowed (first match wins, no match allows), else 0. */
int policy_check(const struct policy *, uint16_t ext_lo, uint16_t ext_hi,
    const struct in6_addr *, uint16_t int_lo, uint16_t int_hi);
/* Free the rules. */
void policy_clear(struct policy *);

#endif
