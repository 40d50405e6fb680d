/*
 * state.c - the state file.
 *
 *   portgate-state 1
 *   map PROTO EXT EXT_END INTADDR INTPORT SOURCE EXPIRES FILTERS DESC OWNER
 *   pinhole ID PROTO INTADDR INTPORT REMOTE SOURCE EXPIRES FILTERS DESC OWNER
 *                                      (an IPv6 pinhole; REMOTE "*" is anyone, else as a filter)
 *   trigger RULE-IN-CONFIG-SYNTAX
 *   uuid UUID                          (the UPnP device's, stable across restarts)
 *   epoch SECONDS                      (wall clock when the mapping state began: PCP's epoch)
 *   pins N                             (PCP PEER pins held, which are not kept: N > 0 means
 *                                       state is lost at a restart, so the epoch restarts)
 *   end NRECORDS
 *
 * Fields are percent-encoded words; EXPIRES is wall-clock seconds (0 =
 * permanent), so leases keep running while the daemon is down. FILTERS is
 * "*" (any remote peer) or "ADDR/LEN[:PORT],..." (a bare address, as older
 * files have it, is that one host). The "end"
 * line catches truncation. The file is written to PATH.tmp and renamed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	int		 is_pin;
	int		 expired;
	struct mt_pin_req pin;
	struct mt_request req;
	char		 desc[MT_DESC_MAX];
	char		 owner[MT_OWNER_MAX];
	struct mt_filter filters[MT_MAX_FILTERS];
	struct trig_rule rule;
};

struct state_parse {
	struct state_rec *recs;
	size_t		 n, cap;
	size_t		 nrecords;	/* record lines seen, good or bad */
	int		 seen_end;
	time_t		 now;
	const char	*name;		/* log bad records as NAME:LINE (NULL: silent) */
	struct state_meta meta;
	size_t		 nmaps;		/* live map records to restore */
	size_t		 pins;		/* PEER pins the saving daemon held (not restored) */
	unsigned	 nbad;
	char		 first_problem[200];
};

#define STATE_REPORT_MAX	20

/* FILTERS: "*" for anyone, else "ADDR/LEN[:PORT],...". */
static void
state_filters_str(const struct mt_entry *e, char *r, size_t len)
{
	char one[64];
	size_t i, n = 0;

	snprintf(r, len, "*");
	for (i = 0; i < e->nfilters && n < len; i++)
		n += (size_t)snprintf(r + n, len - n, "%s%s", i ? "," : "",
		    mt_filter_str(&e->filters[i], one, sizeof(one)));
}

static int
state_write_map(FILE *f, const struct mtable *mt, const struct mt_entry *e, time_t now)
{
	char a[INET6_ADDRSTRLEN], r[MT_MAX_FILTERS * 64];
	char desc[MT_DESC_MAX * 3 + 4], owner[MT_OWNER_MAX * 3 + 4];
	long left = mtable_remaining(mt, e);

	util_addr_str(&e->int_addr, a, sizeof(a));
	state_filters_str(e, r, sizeof(r));
	util_pct_encode(e->desc, desc, sizeof(desc));
	util_pct_encode(e->owner, owner, sizeof(owner));
	return fprintf(f, "map %s %u %u %s %u %s %lld %s %s %s\n", mt_proto_name(e->proto),
	    e->ext_port, e->ext_port_end, a, e->int_port, mt_source_name(e->source),
	    left < 0 ? 0LL : (long long)(now + left), r, desc, owner);
}

static int
state_write_pinhole(FILE *f, const struct mtable *mt, const struct mt_entry *e, time_t now)
{
	char a[INET6_ADDRSTRLEN], r[MT_MAX_FILTERS * 64], rem[64];
	char desc[MT_DESC_MAX * 3 + 4], owner[MT_OWNER_MAX * 3 + 4];
	long left = mtable_remaining(mt, e);

	util_addr_str(&e->int_addr, a, sizeof(a));
	state_filters_str(e, r, sizeof(r));
	if (e->remote.plen == 0 && e->remote.port == 0)
		strcpy(rem, "*");
	else
		mt_filter_str(&e->remote, rem, sizeof(rem));
	util_pct_encode(e->desc, desc, sizeof(desc));
	util_pct_encode(e->owner, owner, sizeof(owner));
	return fprintf(f, "pinhole %u %s %s %u %s %s %lld %s %s %s\n", e->pin_id,
	    mt_proto_name(e->proto), a, e->int_port, rem, mt_source_name(e->source),
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

/* A fresh PATH.tmp: an existing one (or a symlink planted there) is removed, not followed. */
static FILE *
state_open_tmp(const char *tmp, char *err, size_t errlen)
{
	FILE *f;
	int fd;

	if (unlink(tmp) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove %s: %s", tmp, strerror(errno));
		return NULL;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return NULL;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
	}
	return f;
}

/* After a rename, the directory entry must reach the disk too. */
static void
state_sync_dir(const char *path)
{
	char dir[4096];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

int
state_save(const char *path, const struct mtable *mt, const struct trigger *trig,
    const struct state_meta *meta, char *err, size_t errlen)
{
	char tmp[4096];
	const struct mt_entry *e;
	time_t now = time(NULL);
	size_t n = 0;
	FILE *f;
	int bad = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "state file path too long");
		return -1;
	}
	if ((f = state_open_tmp(tmp, err, errlen)) == NULL)
		return -1;
	fprintf(f, "%s\n", STATE_MAGIC);
	for (e = mtable_next(mt, NULL); e != NULL; e = mtable_next(mt, e), n++)
		if (state_write_map(f, mt, e, now) < 0)
			bad = 1;
	for (e = mtable_pinhole_next(mt, NULL); e != NULL; e = mtable_pinhole_next(mt, e), n++)
		if (state_write_pinhole(f, mt, e, now) < 0)
			bad = 1;
	if (trig != NULL)
		n += trigger_foreach_runtime(trig, state_write_trigger, f);
	if (meta != NULL && meta->uuid[0] != '\0' && fprintf(f, "uuid %s\n", meta->uuid) > 0)
		n++;
	if (meta != NULL && meta->epoch_start > 0 &&
	    fprintf(f, "epoch %lld\n", (long long)meta->epoch_start) > 0)
		n++;
	if (mtable_peer_count(mt) > 0 && fprintf(f, "pins %zu\n", mtable_peer_count(mt)) > 0)
		n++;
	fprintf(f, "end %zu\n", n);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || bad)
		bad = 1;
	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "renaming %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	state_sync_dir(path);
	return 0;
}

/* A field from a damaged file, safe to put in a log line (printable ASCII, at most 24 bytes). */
static const char *
state_field(const char *f, char *buf, size_t len)
{
	size_t i;

	for (i = 0; f[i] != '\0' && i + 4 < len && i < 24; i++)
		buf[i] = (f[i] > 0x20 && f[i] < 0x7f) ? f[i] : '?';
	buf[i] = '\0';
	if (f[i] != '\0' && i + 4 < len)
		strcpy(buf + i, "...");
	return buf;
}

#define STATE_BAD(err, errlen, what, field) do {					\
	char _fb[32];									\
	snprintf(err, errlen, "%s '%s'", what, state_field(field, _fb, sizeof(_fb)));	\
} while (0)

static int
state_parse_ports(struct mt_request *q, char **av, char *err, size_t errlen)
{
	unsigned long ext, end, ip;
	int v;

	if ((v = mt_proto_parse(av[1])) < 0) {
		STATE_BAD(err, errlen, "bad protocol", av[1]);
		return -1;
	}
	q->proto = (uint8_t)v;
	if (util_parse_uint(av[2], 1, 65535, &ext) || util_parse_uint(av[3], ext, 65535, &end)) {
		snprintf(err, errlen, "bad external port range");
		return -1;
	}
	if (util_parse_addr(av[4], &q->int_addr)) {
		STATE_BAD(err, errlen, "bad internal address", av[4]);
		return -1;
	}
	if (util_parse_uint(av[5], 1, 65535, &ip)) {
		STATE_BAD(err, errlen, "bad internal port", av[5]);
		return -1;
	}
	q->ext_port = (uint16_t)ext;
	q->ext_port_end = (uint16_t)end;
	q->int_port = (uint16_t)ip;
	return 0;
}

/* "ADDR/LEN[:PORT],..." into rec (req.filters points at them when applied). */
static int
state_parse_filters(struct state_rec *rec, char *list)
{
	char *f, *save = NULL;

	for (f = strtok_r(list, ",", &save); f != NULL; f = strtok_r(NULL, ",", &save)) {
		if (rec->req.nfilters == MT_MAX_FILTERS ||
		    mt_filter_parse(f, &rec->filters[rec->req.nfilters]) == -1)
			return -1;
		rec->req.nfilters++;
	}
	return rec->req.nfilters > 0 ? 0 : -1;
}

/* EXPIRES FILTERS DESC OWNER, the four last fields of map and pinhole records. */
static int
state_parse_tail(struct state_rec *rec, char **av, time_t now, uint32_t *lease, size_t *nfilters,
    char *err, size_t errlen)
{
	long long exp;
	char *endp;

	errno = 0;
	exp = strtoll(av[0], &endp, 10);
	if (errno || *endp != '\0' || exp < 0) {
		STATE_BAD(err, errlen, "bad expiry time", av[0]);
		return -1;
	}
	if (exp != 0)
		*lease = exp > now ? (uint32_t)(exp - now < UINT32_MAX ? exp - now : UINT32_MAX) : 0;
	rec->expired = exp != 0 && *lease == 0;
	if (strcmp(av[1], "*") != 0 && state_parse_filters(rec, av[1]) == -1) {
		STATE_BAD(err, errlen, "bad remote filters", av[1]);
		return -1;
	}
	*nfilters = rec->req.nfilters;
	if (util_pct_decode(av[2]) || util_pct_decode(av[3]) ||
	    util_text_problem(av[2], strlen(av[2]), MT_DESC_MAX - 1) ||
	    util_text_problem(av[3], strlen(av[3]), MT_OWNER_MAX - 1)) {
		snprintf(err, errlen, "bad description or owner");
		return -1;
	}
	strcpy(rec->desc, av[2]);
	strcpy(rec->owner, av[3]);
	return 0;
}

static int
state_parse_map(struct state_rec *rec, char **av, int ac, time_t now, char *err, size_t errlen)
{
	struct mt_request *q = &rec->req;
	int v;

	memset(q, 0, sizeof(*q));
	if (ac != 11) {
		snprintf(err, errlen, "a map record has 11 fields, not %d", ac);
		return -1;
	}
	if (state_parse_ports(q, av, err, errlen) == -1)
		return -1;
	if ((v = mt_source_parse(av[6])) < 0) {
		STATE_BAD(err, errlen, "bad source", av[6]);
		return -1;
	}
	q->source = (uint8_t)v;
	if (state_parse_tail(rec, av + 7, now, &q->lease_s, &q->nfilters, err, errlen) == -1)
		return -1;
	if (rec->expired)
		q->ext_port = 0;	/* expired while we were down: skip */
	return 0;
}

/* A pinhole record: like a map record, with an ID and a remote instead of external ports. */
static int
state_parse_pinhole(struct state_rec *rec, char **av, int ac, time_t now, char *err,
    size_t errlen)
{
	struct mt_pin_req *q = &rec->pin;
	unsigned long id, port;
	int v;

	rec->is_pin = 1;
	memset(q, 0, sizeof(*q));
	if (ac != 11) {
		snprintf(err, errlen, "a pinhole record has 11 fields, not %d", ac);
		return -1;
	}
	if (util_parse_uint(av[1], 1, UINT32_MAX, &id) || (v = mt_proto_parse(av[2])) < 0) {
		snprintf(err, errlen, "bad pinhole ID or protocol");
		return -1;
	}
	q->pin_id = (uint32_t)id;
	q->proto = (uint8_t)v;
	if (util_parse_addr(av[3], &q->int_addr) || util_addr_is_v4(&q->int_addr)) {
		STATE_BAD(err, errlen, "bad internal IPv6 address", av[3]);
		return -1;
	}
	if (util_parse_uint(av[4], 1, 65535, &port)) {
		STATE_BAD(err, errlen, "bad internal port", av[4]);
		return -1;
	}
	q->int_port = (uint16_t)port;
	if (strcmp(av[5], "*") != 0 && mt_filter_parse(av[5], &q->remote) == -1) {
		STATE_BAD(err, errlen, "bad remote", av[5]);
		return -1;
	}
	if ((v = mt_source_parse(av[6])) < 0) {
		STATE_BAD(err, errlen, "bad source", av[6]);
		return -1;
	}
	q->source = (uint8_t)v;
	return state_parse_tail(rec, av + 7, now, &q->lease_s, &q->nfilters, err, errlen);
}

static int
state_parse_trigger(struct state_rec *rec, char **av, int ac, char *err, size_t errlen)
{
	char terr[120];

	rec->is_trigger = 1;
	if (ac != 2 || util_pct_decode(av[1])) {
		snprintf(err, errlen, "bad trigger record");
		return -1;
	}
	if (trig_rule_parse(&rec->rule, av[1], terr, sizeof(terr)) == -1) {
		snprintf(err, errlen, "bad trigger rule: %s", terr);
		return -1;
	}
	return 0;
}

/* A UUID as 8-4-4-4-12 hex digits. */
static int
state_uuid_ok(const char *u)
{
	size_t i;

	if (strlen(u) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return 0;
		} else if (!((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f') ||
		    (u[i] >= 'A' && u[i] <= 'F')))
			return 0;
	}
	return 1;
}

static int
state_parse_uuid(struct state_parse *sp, char **av, int ac, char *err, size_t errlen)
{
	if (ac != 2 || !state_uuid_ok(av[1])) {
		snprintf(err, errlen, "bad uuid record");
		return -1;
	}
	snprintf(sp->meta.uuid, sizeof(sp->meta.uuid), "%s", av[1]);
	return 0;
}

static int
state_parse_epoch(struct state_parse *sp, char **av, int ac, char *err, size_t errlen)
{
	unsigned long v;

	if (ac != 2 || util_parse_uint(av[1], 1, (unsigned long)INT32_MAX * 4, &v) == -1) {
		snprintf(err, errlen, "bad epoch record");
		return -1;
	}
	sp->meta.epoch_start = (time_t)v;
	return 0;
}

static int
state_parse_pins(struct state_parse *sp, char **av, int ac, char *err, size_t errlen)
{
	unsigned long v;

	if (ac != 2 || util_parse_uint(av[1], 0, SIZE_MAX, &v) == -1) {
		snprintf(err, errlen, "bad pins record");
		return -1;
	}
	sp->pins = (size_t)v;
	return 0;
}

static int
state_keep(struct state_parse *sp, const struct state_rec *rec, char *err, size_t errlen)
{
	struct state_rec *n;

	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? sp->cap * 2 : 64;
		if ((n = reallocarray(sp->recs, sp->cap, sizeof(*n))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		sp->recs = n;
	}
	sp->recs[sp->n++] = *rec;
	return 0;
}

/* One record line; -1 with err if it is bad (it is then skipped). */
static int
state_parse_line(struct state_parse *sp, char *line, char *err, size_t errlen)
{
	char *av[12];
	struct state_rec rec;
	unsigned long cnt;
	int ac;

	if (sp->seen_end) {
		snprintf(err, errlen, "data after the end line");
		return -1;
	}
	if ((ac = util_split(line, av, 12)) < 1) {
		snprintf(err, errlen, ac == 0 ? "empty line" : "too many fields");
		return -1;
	}
	memset(&rec, 0, sizeof(rec));
	if (strcmp(av[0], "end") == 0) {
		sp->seen_end = 1;
		if (ac != 2 || util_parse_uint(av[1], 0, SIZE_MAX, &cnt) || cnt != sp->nrecords) {
			snprintf(err, errlen, "the end line counts %s records, the file has %zu "
			    "(truncated or edited?)", ac == 2 ? av[1] : "no", sp->nrecords);
			return -1;
		}
		return 0;
	}
	sp->nrecords++;
	if (strcmp(av[0], "map") == 0) {
		if (state_parse_map(&rec, av, ac, sp->now, err, errlen) == -1)
			return -1;
	} else if (strcmp(av[0], "pinhole") == 0) {
		if (state_parse_pinhole(&rec, av, ac, sp->now, err, errlen) == -1)
			return -1;
	} else if (strcmp(av[0], "trigger") == 0) {
		if (state_parse_trigger(&rec, av, ac, err, errlen) == -1)
			return -1;
	} else if (strcmp(av[0], "uuid") == 0) {
		return state_parse_uuid(sp, av, ac, err, errlen);
	} else if (strcmp(av[0], "epoch") == 0) {
		return state_parse_epoch(sp, av, ac, err, errlen);
	} else if (strcmp(av[0], "pins") == 0) {
		return state_parse_pins(sp, av, ac, err, errlen);
	} else {
		STATE_BAD(err, errlen, "unknown record", av[0]);
		return -1;
	}
	return state_keep(sp, &rec, err, errlen);
}

static void
state_problem(struct state_parse *sp, unsigned lineno, const char *msg)
{
	sp->nbad++;
	if (sp->first_problem[0] == '\0')
		snprintf(sp->first_problem, sizeof(sp->first_problem), "line %u: %s", lineno, msg);
	if (sp->name == NULL)
		return;
	if (sp->nbad <= STATE_REPORT_MAX)
		log_warnx("%s:%u: %s; record skipped", sp->name, lineno, msg);
	else if (sp->nbad == STATE_REPORT_MAX + 1)
		log_warnx("%s: more bad records; not listing them", sp->name);
}

/* A line of the text at off into line; its length, or -1 if it has no newline. */
static long
state_next_line(const char *text, size_t len, size_t off, char *line, size_t linelen,
    int *bad)
{
	const char *nl = memchr(text + off, '\n', len - off);
	size_t n = nl ? (size_t)(nl - (text + off)) : len - off;

	*bad = n >= linelen || memchr(text + off, '\0', n) != NULL;
	if (!*bad) {
		memcpy(line, text + off, n);
		line[n] = '\0';
	}
	return nl ? (long)n : -1;
}

/* Parse every line; bad records are counted and skipped. -1 if it is not a state file at all. */
static int
state_parse_text(struct state_parse *sp, const char *text, size_t len)
{
	char line[STATE_LINE_MAX], lerr[160];
	size_t off = 0;
	unsigned lineno = 0;
	long n;
	int bad;

	while (off < len) {
		lineno++;
		n = state_next_line(text, len, off, line, sizeof(line), &bad);
		off = n < 0 ? len : off + (size_t)n + 1;
		if (lineno == 1) {
			if (bad || n < 0 || strcmp(line, STATE_MAGIC) != 0) {
				snprintf(sp->first_problem, sizeof(sp->first_problem),
				    "not a portgate state file (line 1 is not \"%s\")", STATE_MAGIC);
				return -1;
			}
			continue;
		}
		if (bad)
			state_problem(sp, lineno, "malformed line (too long or a NUL byte)");
		else if (n < 0)
			state_problem(sp, lineno, "last line has no newline (truncated)");
		else if (state_parse_line(sp, line, lerr, sizeof(lerr)) == -1)
			state_problem(sp, lineno, lerr);
	}
	if (lineno == 0) {
		snprintf(sp->first_problem, sizeof(sp->first_problem), "empty file");
		return -1;
	}
	if (!sp->seen_end)
		state_problem(sp, lineno, "no end line (truncated)");
	return 0;
}

int
state_check(const char *text, size_t len, char *err, size_t errlen)
{
	struct state_parse sp;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.now = time(NULL);
	rc = state_parse_text(&sp, text, len);
	if (rc == 0 && sp.nbad > 0)
		rc = -1;
	if (rc == -1)
		snprintf(err, errlen, "%s", sp.first_problem);
	free(sp.recs);
	return rc;
}

static char *
state_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL, *nb;
	size_t cap = 0, n;
	FILE *f;

	*len = 0;
	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == -1 || !S_ISREG(st.st_mode)) {
		fclose(f);
		errno = EINVAL;
		return NULL;
	}
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

/* Keep a damaged file for the admin as PATH.corrupt.YYYYMMDDTHHMMSS[-N]; never overwrite one. */
static void
state_move_aside(const char *path, const char *why)
{
	char aside[4200], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int i;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(aside, sizeof(aside), "%s.corrupt.%s", path, stamp);
		else
			snprintf(aside, sizeof(aside), "%s.corrupt.%s-%d", path, stamp, i);
		if (link(path, aside) == 0)	/* link: fails rather than replace */
			break;
		if (errno != EEXIST) {
			log_warn("state_load: %s is damaged (%s) and cannot be kept aside", path, why);
			return;
		}
	}
	if (i == 100 || unlink(path) == -1) {
		log_warnx("state_load: %s is damaged (%s) and cannot be moved aside", path, why);
		return;
	}
	log_warnx("state_load: %s is damaged (%s); kept as %s", path, why, aside);
}

static size_t
state_apply_pin(struct state_rec *r, struct mtable *mt)
{
	char a[INET6_ADDRSTRLEN];
	enum mt_err e;

	r->pin.desc = r->desc;
	r->pin.owner = r->owner;
	r->pin.filters = r->filters;
	if ((e = mtable_pinhole_add(mt, &r->pin, NULL, NULL)) == MT_OK)
		return 1;
	log_warnx("state_load: pinhole %u (%s [%s]:%u) not restored: %s", r->pin.pin_id,
	    mt_proto_name(r->pin.proto), util_addr_str(&r->pin.int_addr, a, sizeof(a)),
	    r->pin.int_port, mt_strerror(e));
	return 0;
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
		if (r->expired)
			continue;
		sp->nmaps++;
		if (r->is_pin) {
			n += state_apply_pin(r, mt);
			continue;
		}
		r->req.desc = r->desc;
		r->req.owner = r->owner;
		r->req.filters = r->filters;
		if ((e = mtable_add(mt, &r->req, NULL, NULL)) != MT_OK)
			log_warnx("state_load: %s %u not restored: %s",
			    mt_proto_name(r->req.proto), r->req.ext_port, mt_strerror(e));
		else
			n++;
	}
	return n;
}

size_t
state_load(const char *path, struct mtable *mt, struct trigger *trig, struct state_meta *meta)
{
	struct state_parse sp;
	char *text;
	size_t len, n = 0;

	if ((text = state_read_file(path, &len)) == NULL) {
		if (errno != ENOENT)
			log_warn("state_load: %s", path);
		return 0;
	}
	memset(&sp, 0, sizeof(sp));
	sp.now = time(NULL);
	sp.name = path;
	if (state_parse_text(&sp, text, len) == -1) {
		state_move_aside(path, sp.first_problem);
	} else {
		if (sp.nbad > 0)
			state_move_aside(path, sp.first_problem);
		n = state_apply(&sp, mt, trig);
		if (meta != NULL) {
			if (sp.meta.uuid[0] != '\0')
				memcpy(meta->uuid, sp.meta.uuid, sizeof(meta->uuid));
			meta->epoch_start = sp.meta.epoch_start;
			meta->complete = sp.nbad == 0 && n == sp.nmaps && sp.pins == 0;
		}
	}
	free(sp.recs);
	free(text);
	return n;
}
