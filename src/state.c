/*
 * state.c - the state file.
 *
 *   portgate-state 1
 *   map PROTO EXT EXT_END INTADDR INTPORT SOURCE EXPIRES REMOTE DESC OWNER
 *   trigger RULE-IN-CONFIG-SYNTAX
 *   end NRECORDS
 *
 * Fields are percent-encoded words; EXPIRES is wall-clock seconds (0 =
 * permanent), so leases keep running while the daemon is down. The "end"
 * line catches truncation. The file is written to PATH.tmp and renamed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mtable.h"
#include "state.h"
#include "trigger/trigger.h"
#include "util.h"

#define STATE_MAGIC	"portgate-state 1"
#define STATE_LINE_MAX	1024

struct state_rec {
	int		 is_trigger;
	struct mt_request req;
	char		 desc[MT_DESC_MAX];
	char		 owner[MT_OWNER_MAX];
	struct trig_rule rule;
};

struct state_parse {
	struct state_rec *recs;
	size_t		 n, cap;
	int		 seen_end;
	time_t		 now;
};

static int
state_write_map(FILE *f, const struct mtable *mt, const struct mt_entry *e, time_t now)
{
	char a[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	char desc[MT_DESC_MAX * 3 + 4], owner[MT_OWNER_MAX * 3 + 4];
	long left = mtable_remaining(mt, e);
	static const struct in6_addr any;

	util_addr_str(&e->int_addr, a, sizeof(a));
	if (memcmp(&e->remote, &any, sizeof(any)) == 0)
		strcpy(r, "*");
	else
		util_addr_str(&e->remote, r, sizeof(r));
	util_pct_encode(e->desc, desc, sizeof(desc));
	util_pct_encode(e->owner, owner, sizeof(owner));
	return fprintf(f, "map %s %u %u %s %u %s %lld %s %s %s\n", mt_proto_name(e->proto),
	    e->ext_port, e->ext_port_end, a, e->int_port, mt_source_name(e->source),
	    left < 0 ? 0LL : (long long)(now + left), r, desc, owner);
}

static int
state_write_trigger(void *arg, const struct trig_rule *r)
{
	FILE *f = arg;
	char text[512], enc[1600];

	trig_rule_format(r, text, sizeof(text));
	util_pct_encode(text, enc, sizeof(enc));
	return fprintf(f, "trigger %s\n", enc) < 0 ? -1 : 0;
}

int
state_save(const char *path, const struct mtable *mt, const struct trigger *trig)
{
	char tmp[4096];
	const struct mt_entry *e;
	time_t now = time(NULL);
	size_t n = 0;
	FILE *f;
	int bad = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("state_save: %s", tmp);
		return -1;
	}
	fprintf(f, "%s\n", STATE_MAGIC);
	for (e = mtable_next(mt, NULL); e != NULL; e = mtable_next(mt, e), n++)
		if (state_write_map(f, mt, e, now) < 0)
			bad = 1;
	if (trig != NULL)
		n += trigger_foreach_runtime(trig, state_write_trigger, f);
	fprintf(f, "end %zu\n", n);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || bad)
		bad = 1;
	if (fclose(f) != 0 || bad) {
		log_warn("state_save: writing %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		log_warn("state_save: rename %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
state_parse_map(struct state_rec *rec, char **av, int ac, time_t now)
{
	struct mt_request *q = &rec->req;
	unsigned long ext, end, ip;
	long long exp;
	char *endp;
	int v;

	if (ac != 11)
		return -1;
	memset(q, 0, sizeof(*q));
	if ((v = mt_proto_parse(av[1])) < 0)
		return -1;
	q->proto = (uint8_t)v;
	if (util_parse_uint(av[2], 1, 65535, &ext) || util_parse_uint(av[3], ext, 65535, &end) ||
	    util_parse_addr(av[4], &q->int_addr) || util_parse_uint(av[5], 1, 65535, &ip))
		return -1;
	q->ext_port = (uint16_t)ext;
	q->ext_port_end = (uint16_t)end;
	q->int_port = (uint16_t)ip;
	if ((v = mt_source_parse(av[6])) < 0)
		return -1;
	q->source = (uint8_t)v;
	errno = 0;
	exp = strtoll(av[7], &endp, 10);
	if (errno || *endp != '\0' || exp < 0)
		return -1;
	if (exp != 0)
		q->lease_s = exp > now ? (uint32_t)(exp - now) : 0;
	if (exp != 0 && q->lease_s == 0)
		q->ext_port = 0;	/* expired while we were down: skip */
	if (strcmp(av[8], "*") != 0 && util_parse_addr(av[8], &q->remote) == -1)
		return -1;
	if (util_pct_decode(av[9]) || util_pct_decode(av[10]) ||
	    strlen(av[9]) >= MT_DESC_MAX || strlen(av[10]) >= MT_OWNER_MAX)
		return -1;
	strcpy(rec->desc, av[9]);
	strcpy(rec->owner, av[10]);
	return 0;
}

static int
state_parse_line(struct state_parse *sp, char *line, char *err, size_t errlen)
{
	char *av[12];
	struct state_rec rec, *n;
	unsigned long cnt;
	char terr[160];
	int ac;

	if (sp->seen_end) {
		snprintf(err, errlen, "data after end line");
		return -1;
	}
	if ((ac = util_split(line, av, 12)) < 1) {
		snprintf(err, errlen, "empty line");
		return -1;
	}
	memset(&rec, 0, sizeof(rec));
	if (strcmp(av[0], "end") == 0) {
		if (ac != 2 || util_parse_uint(av[1], 0, SIZE_MAX, &cnt) || cnt != sp->n) {
			snprintf(err, errlen, "record count does not match (truncated?)");
			return -1;
		}
		sp->seen_end = 1;
		return 0;
	} else if (strcmp(av[0], "map") == 0) {
		if (state_parse_map(&rec, av, ac, sp->now) == -1) {
			snprintf(err, errlen, "bad map record");
			return -1;
		}
	} else if (strcmp(av[0], "trigger") == 0) {
		rec.is_trigger = 1;
		if (ac != 2 || util_pct_decode(av[1]) ||
		    trig_rule_parse(&rec.rule, av[1], terr, sizeof(terr)) == -1) {
			snprintf(err, errlen, "bad trigger record");
			return -1;
		}
	} else {
		snprintf(err, errlen, "unknown record '%.20s'", av[0]);
		return -1;
	}
	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? sp->cap * 2 : 64;
		if ((n = reallocarray(sp->recs, sp->cap, sizeof(*n))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		sp->recs = n;
	}
	sp->recs[sp->n++] = rec;
	return 0;
}

static int
state_parse_text(struct state_parse *sp, const char *text, size_t len, char *err, size_t errlen)
{
	char line[STATE_LINE_MAX], lerr[128];
	size_t off = 0, n;
	const char *nl;
	unsigned lineno = 0;

	while (off < len) {
		lineno++;
		if ((nl = memchr(text + off, '\n', len - off)) == NULL) {
			snprintf(err, errlen, "line %u: no newline (truncated)", lineno);
			return -1;
		}
		n = (size_t)(nl - (text + off));
		if (n >= sizeof(line) || memchr(text + off, '\0', n) != NULL) {
			snprintf(err, errlen, "line %u: malformed", lineno);
			return -1;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + 1;
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC) != 0) {
				snprintf(err, errlen, "line 1: not a portgate state file");
				return -1;
			}
			continue;
		}
		if (state_parse_line(sp, line, lerr, sizeof(lerr)) == -1) {
			snprintf(err, errlen, "line %u: %s", lineno, lerr);
			return -1;
		}
	}
	if (!sp->seen_end) {
		snprintf(err, errlen, "no end line (truncated)");
		return -1;
	}
	return 0;
}

int
state_check(const char *text, size_t len, char *err, size_t errlen)
{
	struct state_parse sp;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.now = time(NULL);
	rc = state_parse_text(&sp, text, len, err, errlen);
	free(sp.recs);
	return rc;
}

static char *
state_read_file(const char *path, size_t *len)
{
	FILE *f;
	char *buf = NULL, *nb;
	size_t cap = 0, n;

	*len = 0;
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	do {
		if (*len + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return buf;
}

static void
state_move_aside(const char *path, const char *why)
{
	char aside[4096];

	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	if (rename(path, aside) == -1)
		log_warn("state_load: %s is corrupt (%s) and cannot be moved aside", path, why);
	else
		log_warnx("state_load: %s is corrupt (%s); moved to %s, starting empty",
		    path, why, aside);
}

static size_t
state_apply(struct state_parse *sp, struct mtable *mt, struct trigger *trig)
{
	struct state_rec *r;
	enum mt_err e;
	size_t i, n = 0;
	char err[160];

	for (i = 0; i < sp->n; i++) {
		r = &sp->recs[i];
		if (r->is_trigger) {
			if (trig != NULL && trigger_add_rule(trig, &r->rule, 1, err, sizeof(err)) == -1)
				log_warnx("state_load: trigger rule %s: %s", r->rule.name, err);
			continue;
		}
		if (r->req.ext_port == 0)
			continue;	/* expired */
		r->req.desc = r->desc;
		r->req.owner = r->owner;
		if ((e = mtable_add(mt, &r->req, NULL, NULL)) != MT_OK)
			log_warnx("state_load: %s %u not restored: %s",
			    mt_proto_name(r->req.proto), r->req.ext_port, mt_strerror(e));
		else
			n++;
	}
	return n;
}

size_t
state_load(const char *path, struct mtable *mt, struct trigger *trig)
{
	struct state_parse sp;
	char err[256];
	char *text;
	size_t len, n = 0;

	if ((text = state_read_file(path, &len)) == NULL) {
		if (errno != ENOENT)
			log_warn("state_load: %s", path);
		return 0;
	}
	memset(&sp, 0, sizeof(sp));
	sp.now = time(NULL);
	if (state_parse_text(&sp, text, len, err, sizeof(err)) == -1)
		state_move_aside(path, err);
	else
		n = state_apply(&sp, mt, trig);
	free(sp.recs);
	free(text);
	return n;
}
