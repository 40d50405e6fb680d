/* trig_rule.c - trigger rule syntax: parsing, formatting, overlap checks. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mt_vocab.h"
#include "trigger/trigger.h"
#include "util.h"

static int
trig_range_parse(struct trig_range *r, const char *s)
{
	char buf[40];
	char *colon;
	int proto;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((colon = strchr(buf, ':')) == NULL)
		return -1;
	*colon++ = '\0';
	if ((proto = mt_proto_parse(buf)) < 0)
		return -1;
	r->proto = (uint8_t)proto;
	return util_parse_portrange(colon, &r->lo, &r->hi);
}

static int
trig_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) >= TRIG_NAME_MAX)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static int
trig_ranges_overlap(const struct trig_range *a, const struct trig_range *b)
{
	return a->proto == b->proto && a->lo <= b->hi && b->lo <= a->hi;
}

static int
trig_open_parse(struct trig_rule *r, char *list, char *err, size_t errlen)
{
	char *tok, *save = NULL;
	size_t i;

	for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (r->nopen == TRIG_MAX_OPEN) {
			snprintf(err, errlen, "at most %d open ranges", TRIG_MAX_OPEN);
			return -1;
		}
		if (trig_range_parse(&r->open[r->nopen], tok) == -1) {
			snprintf(err, errlen, "bad open range '%s' (want PROTO:PORT[-PORT])", tok);
			return -1;
		}
		for (i = 0; i < r->nopen; i++) {
			if (trig_ranges_overlap(&r->open[i], &r->open[r->nopen])) {
				snprintf(err, errlen, "open range '%s' overlaps another", tok);
				return -1;
			}
		}
		r->nopen++;
	}
	if (r->nopen == 0) {
		snprintf(err, errlen, "no open ranges");
		return -1;
	}
	return 0;
}

int
trig_rule_parse(struct trig_rule *r, const char *text, char *err, size_t errlen)
{
	char buf[512];
	char *av[7];
	unsigned long idle = TRIG_IDLE_DEFAULT;
	int ac;

	memset(r, 0, sizeof(*r));
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "rule too long");
		return -1;
	}
	strcpy(buf, text);
	ac = util_split(buf, av, 6);
	if ((ac != 4 && ac != 6) || strcmp(av[2], "open") != 0 ||
	    (ac == 6 && strcmp(av[4], "idle") != 0)) {
		snprintf(err, errlen, "expected NAME PROTO:PORTS open PROTO:PORTS[,...] [idle SECONDS]");
		return -1;
	}
	if (!trig_name_ok(av[0])) {
		snprintf(err, errlen, "bad rule name '%s' (letters, digits, - _ . ; max %d)",
		    av[0], TRIG_NAME_MAX - 1);
		return -1;
	}
	snprintf(r->name, sizeof(r->name), "%s", av[0]);
	if (trig_range_parse(&r->trigger, av[1]) == -1) {
		snprintf(err, errlen, "bad trigger '%s' (want PROTO:PORT[-PORT])", av[1]);
		return -1;
	}
	if (trig_open_parse(r, av[3], err, errlen) == -1)
		return -1;
	if (ac == 6 && util_parse_uint(av[5], 1, 86400, &idle) == -1) {
		snprintf(err, errlen, "bad idle time '%s' (1-86400 seconds)", av[5]);
		return -1;
	}
	r->idle = (uint32_t)idle;
	return 0;
}

void
trig_rule_format(const struct trig_rule *r, char *buf, size_t len)
{
	size_t i, off;

	off = (size_t)snprintf(buf, len, "%s %s:%u-%u open", r->name,
	    mt_proto_name(r->trigger.proto), r->trigger.lo, r->trigger.hi);
	for (i = 0; i < r->nopen && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s:%u-%u", i ? "," : " ",
		    mt_proto_name(r->open[i].proto), r->open[i].lo, r->open[i].hi);
	if (off < len)
		snprintf(buf + off, len - off, " idle %u", r->idle);
}

int
trig_rule_overlap(const struct trig_rule *a, const struct trig_rule *b, char *err, size_t errlen)
{
	size_t i, j;

	if (strcmp(a->name, b->name) == 0) {
		snprintf(err, errlen, "a rule named '%s' already exists", a->name);
		return 1;
	}
	if (trig_ranges_overlap(&a->trigger, &b->trigger)) {
		snprintf(err, errlen, "trigger ports of '%s' overlap rule '%s'", b->name, a->name);
		return 1;
	}
	for (i = 0; i < a->nopen; i++)
		for (j = 0; j < b->nopen; j++)
			if (trig_ranges_overlap(&a->open[i], &b->open[j])) {
				snprintf(err, errlen, "open ports of '%s' overlap rule '%s'",
				    b->name, a->name);
				return 1;
			}
	return 0;
}
