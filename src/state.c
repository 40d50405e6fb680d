/*
 * state.c - the state file: a snapshot of the table, then a journal of the
 * changes made since.
 *
 *   portgate-state 2
 *   map PROTO EXT EXT_END INTADDR INTPORT SOURCE EXPIRES FILTERS DESC OWNER
 *   pinhole ID PROTO INTADDR INTPORT REMOTE SOURCE EXPIRES FILTERS DESC OWNER
 *                                      (an IPv6 pinhole; REMOTE "*" is anyone, else as a filter)
 *   trigger RULE-IN-CONFIG-SYNTAX [disabled]
 *   uuid UUID                          (the UPnP device's, stable across restarts)
 *   epoch SECONDS                      (wall clock when the mapping state began: PCP's epoch)
 *   upstream_key HEX                   (32 hex digits: the upstream PCP mappings' nonces are
 *                                       derived from it, so a restart renews them)
 *   pins N                             (PCP PEER pins held, which are not kept: N > 0 means
 *                                       state is lost at a restart, so the epoch restarts)
 *   end NRECORDS                       (the snapshot ends here)
 *   j CHECK RECORD                     (the journal: one line per change since the snapshot)
 *
 * Fields are percent-encoded words; EXPIRES is wall-clock seconds (0 =
 * permanent), so leases keep running while the daemon is down. FILTERS is
 * "*" (any remote peer) or "ADDR/LEN[:PORT],..." (a bare address, as older
 * files have it, is that one host). The "end" line catches truncation.
 * state_save writes the snapshot to PATH.tmp and renames it; the journal
 * (state_journal.c) appends to the file that rename put in place.
 *
 * A journal RECORD is one of
 *
 *   map ... | pinhole ...              the entry as it is now (new, or more than its lease
 *                                       changed): the one it replaces, if any, goes
 *   lease map PROTO EXT EXPIRES        a renewal: only the expiry moved
 *   lease pinhole ID EXPIRES
 *   del map PROTO EXT                  gone (deleted, expired, refused by the firewall)
 *   del pinhole ID
 *   pins N                             PEER pins held, written when N leaves or reaches 0
 *
 * and CHECK is the CRC-32 of RECORD in 8 hex digits. A record names its
 * entry by what the table keeps unique (a mapping's protocol and first
 * external port, a pinhole's ID), so replaying the journal in order over
 * the snapshot gives the table as it was after the last change. The last
 * line without a newline is a write cut short by a crash: it is ignored and
 * logged, not a damaged file. Files of format 1 (a snapshot, no journal)
 * are read as before.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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

#define STATE_MAGIC	"portgate-state "	/* and the format's version */
#define STATE_VERSION	2			/* what state_save writes */
#define STATE_LINE_MAX	2048			/* a record is under 1000 bytes */

struct state_rec {
	int		 is_trigger;
	int		 disabled;	/* a trigger rule: "disabled" after it */
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
	int		 version;	/* of the file's format: 1 has no journal */
	unsigned	 lineno;
	time_t		 now;
	const char	*name;		/* log bad records as NAME:LINE (NULL: silent) */
	struct state_meta meta;
	size_t		 nfail;		/* live entries the table did not take back */
	size_t		 pins;		/* PEER pins the saving daemon held (not restored) */
	size_t		 nreplayed;	/* journal records */
	int		 torn;		/* the last journal line was cut short */
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

/* EXPIRES: the lease's end on the wall clock (the table's runs on the monotonic one), 0 = none. */
static long long
state_expires(const struct mtable *mt, const struct mt_entry *e, time_t now)
{
	long left = mtable_remaining(mt, e);

	return left < 0 ? 0LL : (long long)now + left;
}

/* snprintf's result as a record's length: 0 if it did not fit (never silently cut). */
static size_t
state_fit(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

static size_t
state_text_map(const struct mtable *mt, const struct mt_entry *e, time_t now, char *buf,
    size_t len)
{
	char a[INET6_ADDRSTRLEN], r[MT_MAX_FILTERS * 64];
	char desc[MT_DESC_MAX * 3 + 4], owner[MT_OWNER_MAX * 3 + 4];

	util_addr_str(&e->int_addr, a, sizeof(a));
	state_filters_str(e, r, sizeof(r));
	util_pct_encode(e->desc, desc, sizeof(desc));
	util_pct_encode(e->owner, owner, sizeof(owner));
	return state_fit(snprintf(buf, len, "map %s %u %u %s %u %s %lld %s %s %s",
	    mt_proto_name(e->proto), e->ext_port, e->ext_port_end, a, e->int_port,
	    mt_source_name(e->source), state_expires(mt, e, now), r, desc, owner), len);
}

static size_t
state_text_pinhole(const struct mtable *mt, const struct mt_entry *e, time_t now, char *buf,
    size_t len)
{
	char a[INET6_ADDRSTRLEN], r[MT_MAX_FILTERS * 64], rem[64];
	char desc[MT_DESC_MAX * 3 + 4], owner[MT_OWNER_MAX * 3 + 4];

	util_addr_str(&e->int_addr, a, sizeof(a));
	state_filters_str(e, r, sizeof(r));
	if (e->remote.plen == 0 && e->remote.port == 0)
		strcpy(rem, "*");
	else
		mt_filter_str(&e->remote, rem, sizeof(rem));
	util_pct_encode(e->desc, desc, sizeof(desc));
	util_pct_encode(e->owner, owner, sizeof(owner));
	return state_fit(snprintf(buf, len, "pinhole %u %s %s %u %s %s %lld %s %s %s", e->pin_id,
	    mt_proto_name(e->proto), a, e->int_port, rem, mt_source_name(e->source),
	    state_expires(mt, e, now), r, desc, owner), len);
}

/* "map PROTO EXT" or "pinhole ID": how journal records name an entry. */
static size_t
state_text_key(const struct mt_entry *e, char *buf, size_t len)
{
	if (e->kind == MT_KIND_PINHOLE)
		return state_fit(snprintf(buf, len, "pinhole %u", e->pin_id), len);
	return state_fit(snprintf(buf, len, "map %s %u", mt_proto_name(e->proto), e->ext_port),
	    len);
}

/* The record a change is journaled as (none for PEER pins, which are not kept); its length. */
static size_t
state_text_change(const struct mtable *mt, enum mt_change what, const struct mt_entry *e,
    time_t now, char *buf, size_t len)
{
	char key[64];

	if (e == NULL || e->kind == MT_KIND_PEER || state_text_key(e, key, sizeof(key)) == 0)
		return 0;
	switch (mt_change_record(what)) {
	case MT_CHG_PUT:
		return e->kind == MT_KIND_PINHOLE ? state_text_pinhole(mt, e, now, buf, len) :
		    state_text_map(mt, e, now, buf, len);
	case MT_CHG_LEASE:
		return state_fit(snprintf(buf, len, "lease %s %lld", key,
		    state_expires(mt, e, now)), len);
	case MT_CHG_DEL:
		return state_fit(snprintf(buf, len, "del %s", key), len);
	default:
		return 0;
	}
}

/* CRC-32 (IEEE 802.3, as zlib's): a journal line's check. */
static uint32_t
state_crc32(const char *s, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= (uint8_t)s[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

size_t
state_frame(const char *text, char *line, size_t len)
{
	return state_fit(snprintf(line, len, "j %08x %s\n", (unsigned)state_crc32(text,
	    strlen(text)), text), len);
}

size_t
state_record(const struct mtable *mt, enum mt_change what, const struct mt_entry *e,
    char *line, size_t len)
{
	char text[STATE_LINE_MAX];

	if (state_text_change(mt, what, e, time(NULL), text, sizeof(text)) == 0)
		return 0;
	return state_frame(text, line, len);
}

size_t
state_record_pins(size_t pins, char *line, size_t len)
{
	char text[32];

	snprintf(text, sizeof(text), "pins %zu", pins);
	return state_frame(text, line, len);
}

/* A record that must be kept: a table that cannot be written is a save failure, never a cut. */
static int
state_put_line(FILE *f, size_t n, const char *text)
{
	return n == 0 || fprintf(f, "%s\n", text) < 0 ? -1 : 0;
}

static int
state_write_map(FILE *f, const struct mtable *mt, const struct mt_entry *e, time_t now)
{
	char text[STATE_LINE_MAX];

	return state_put_line(f, state_text_map(mt, e, now, text, sizeof(text)), text);
}

static int
state_write_pinhole(FILE *f, const struct mtable *mt, const struct mt_entry *e, time_t now)
{
	char text[STATE_LINE_MAX];

	return state_put_line(f, state_text_pinhole(mt, e, now, text, sizeof(text)), text);
}

struct state_trig_out {
	FILE			*f;
	const struct trigger	*trig;
};

static int
state_write_trigger(void *arg, const struct trig_rule *r)
{
	struct state_trig_out *o = arg;
	char text[512], enc[1600];

	trig_rule_format(r, text, sizeof(text));
	util_pct_encode(text, enc, sizeof(enc));
	return fprintf(o->f, "trigger %s%s\n", enc, trigger_rule_enabled(o->trig, r->name) ? "" :
	    " disabled") < 0 ? -1 : 0;
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
	fprintf(f, "%s%d\n", STATE_MAGIC, STATE_VERSION);
	for (e = mtable_next(mt, NULL); e != NULL; e = mtable_next(mt, e), n++)
		if (state_write_map(f, mt, e, now) < 0)
			bad = 1;
	for (e = mtable_pinhole_next(mt, NULL); e != NULL; e = mtable_pinhole_next(mt, e), n++)
		if (state_write_pinhole(f, mt, e, now) < 0)
			bad = 1;
	if (trig != NULL) {
		struct state_trig_out o = { f, trig };

		n += trigger_foreach_runtime(trig, state_write_trigger, &o);
	}
	if (meta != NULL && meta->uuid[0] != '\0' && fprintf(f, "uuid %s\n", meta->uuid) > 0)
		n++;
	if (meta != NULL && meta->epoch_start > 0 &&
	    fprintf(f, "epoch %lld\n", (long long)meta->epoch_start) > 0)
		n++;
	if (meta != NULL && meta->upstream_key[0] != '\0' &&
	    fprintf(f, "upstream_key %s\n", meta->upstream_key) > 0)
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

/* EXPIRES: the lease left from now into *lease (0: permanent); *expired if it ran out. */
static int
state_parse_expires(const char *f, time_t now, uint32_t *lease, int *expired, char *err,
    size_t errlen)
{
	long long exp;
	char *endp;

	errno = 0;
	exp = strtoll(f, &endp, 10);
	if (errno || *endp != '\0' || exp < 0 || f[0] < '0' || f[0] > '9') {
		STATE_BAD(err, errlen, "bad expiry time", f);
		return -1;
	}
	*lease = 0;
	if (exp != 0)
		*lease = exp > now ? (uint32_t)(exp - now < UINT32_MAX ? exp - now : UINT32_MAX) : 0;
	*expired = exp != 0 && *lease == 0;
	return 0;
}

/* EXPIRES FILTERS DESC OWNER, the four last fields of map and pinhole records. */
static int
state_parse_tail(struct state_rec *rec, char **av, time_t now, uint32_t *lease, size_t *nfilters,
    char *err, size_t errlen)
{
	if (state_parse_expires(av[0], now, lease, &rec->expired, err, errlen) == -1)
		return -1;
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
	/* expired while we were down: not restored, but a journal record still replaces with it */
	return state_parse_tail(rec, av + 7, now, &q->lease_s, &q->nfilters, err, errlen);
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
	rec->disabled = ac == 3 && strcmp(av[2], "disabled") == 0;
	if ((ac != 2 && !rec->disabled) || util_pct_decode(av[1])) {
		snprintf(err, errlen, "bad trigger record");
		return -1;
	}
	if (trig_rule_parse(&rec->rule, av[1], terr, sizeof(terr)) == -1) {
		snprintf(err, errlen, "bad trigger rule: %s", terr);
		return -1;
	}
	return 0;
}

static int
state_parse_uuid(struct state_parse *sp, char **av, int ac, char *err, size_t errlen)
{
	if (ac != 2 || !util_uuid_ok(av[1])) {
		snprintf(err, errlen, "bad uuid record");
		return -1;
	}
	snprintf(sp->meta.uuid, sizeof(sp->meta.uuid), "%s", av[1]);
	return 0;
}

static int
state_parse_upstream_key(struct state_parse *sp, char **av, int ac, char *err, size_t errlen)
{
	size_t i;

	if (ac != 2 || strlen(av[1]) != sizeof(sp->meta.upstream_key) - 1) {
		snprintf(err, errlen, "bad upstream_key record");
		return -1;
	}
	for (i = 0; av[1][i] != '\0'; i++)
		if (!((av[1][i] >= '0' && av[1][i] <= '9') || (av[1][i] >= 'a' && av[1][i] <= 'f'))) {
			snprintf(err, errlen, "bad upstream_key record");
			return -1;
		}
	memcpy(sp->meta.upstream_key, av[1], sizeof(sp->meta.upstream_key));
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

/* One snapshot record line; -1 with err if it is bad (it is then skipped). */
static int
state_parse_line(struct state_parse *sp, char *line, char *err, size_t errlen)
{
	char *av[12];
	struct state_rec rec;
	unsigned long cnt;
	int ac;

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
	} else if (strcmp(av[0], "upstream_key") == 0) {
		return state_parse_upstream_key(sp, av, ac, err, errlen);
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

/* Line 1: "portgate-state VERSION", a version this daemon reads; 0, or -1 with first_problem. */
static int
state_parse_magic(struct state_parse *sp, const char *line, int bad, long n)
{
	unsigned long v = 0;

	if (!bad && n >= 0 && strncmp(line, STATE_MAGIC, strlen(STATE_MAGIC)) == 0 &&
	    util_parse_uint(line + strlen(STATE_MAGIC), 1, 1000, &v) == 0 && v <= STATE_VERSION) {
		sp->version = (int)v;
		return 0;
	}
	if (v > STATE_VERSION)
		snprintf(sp->first_problem, sizeof(sp->first_problem), "format %lu, newer than "
		    "this portgated reads (%d)", v, STATE_VERSION);
	else
		snprintf(sp->first_problem, sizeof(sp->first_problem), "not a portgate state file "
		    "(line 1 is not \"%s%d\")", STATE_MAGIC, STATE_VERSION);
	return -1;
}

/*
 * The snapshot: line 1 and the records up to the end line, which *off is
 * left just after. Bad records are counted and skipped. -1 if it is not a
 * state file at all.
 */
static int
state_parse_snapshot(struct state_parse *sp, const char *text, size_t len, size_t *off)
{
	char line[STATE_LINE_MAX], lerr[160];
	long n;
	int bad;

	*off = 0;
	while (*off < len && !sp->seen_end) {
		sp->lineno++;
		n = state_next_line(text, len, *off, line, sizeof(line), &bad);
		*off = n < 0 ? len : *off + (size_t)n + 1;
		if (sp->lineno == 1) {
			if (state_parse_magic(sp, line, bad, n) == -1)
				return -1;
			continue;
		}
		if (bad)
			state_problem(sp, sp->lineno, "malformed line (too long or a NUL byte)");
		else if (n < 0)
			state_problem(sp, sp->lineno, "last line has no newline (truncated)");
		else if (state_parse_line(sp, line, lerr, sizeof(lerr)) == -1)
			state_problem(sp, sp->lineno, lerr);
	}
	if (sp->lineno == 0) {
		snprintf(sp->first_problem, sizeof(sp->first_problem), "empty file");
		return -1;
	}
	if (!sp->seen_end)
		state_problem(sp, sp->lineno, "no end line (truncated)");
	return 0;
}

/* ---- the journal: records replayed in order over the snapshot ---- */

/* "j CHECK RECORD": the record, if CHECK is 8 hex digits that match it; NULL if not. */
static char *
state_unframe(char *line)
{
	uint32_t crc = 0;
	int i, d;

	if (line[0] != 'j' || line[1] != ' ' || strlen(line) < 12 || line[10] != ' ')
		return NULL;
	for (i = 2; i < 10; i++) {
		if (line[i] >= '0' && line[i] <= '9')
			d = line[i] - '0';
		else if (line[i] >= 'a' && line[i] <= 'f')
			d = line[i] - 'a' + 10;
		else
			return NULL;
		crc = crc << 4 | (uint32_t)d;
	}
	return crc == state_crc32(line + 11, strlen(line + 11)) ? line + 11 : NULL;
}

/* The first port to the last of a range on one protocol: whatever holds them goes. */
static void
state_replay_clear(struct mtable *mt, int proto, unsigned lo, unsigned hi)
{
	struct mt_entry *e;
	unsigned p;

	for (p = lo; p <= hi; p++)
		if ((e = mtable_lookup_ext(mt, proto, (uint16_t)p)) != NULL) {
			p = e->ext_port_end;
			mtable_del(mt, e);
		}
}

static void
state_replay_failed(struct state_parse *sp, const struct state_rec *r, enum mt_err e)
{
	sp->nfail++;
	if (r->is_pin)
		log_warnx("state_load: pinhole %u not restored from the journal: %s",
		    r->pin.pin_id, mt_strerror(e));
	else
		log_warnx("state_load: %s %u not restored from the journal: %s",
		    mt_proto_name(r->req.proto), r->req.ext_port, mt_strerror(e));
}

/* A map or pinhole record: it replaces the entry of its key (and anything in its way). */
static void
state_replay_put(struct state_parse *sp, struct state_rec *r, struct mtable *mt)
{
	struct mt_entry *e;
	enum mt_err err;

	if (r->is_pin) {
		if ((e = mtable_pinhole_get(mt, r->pin.pin_id)) != NULL)
			mtable_del(mt, e);
		if ((e = mtable_pinhole_find(mt, r->pin.proto, &r->pin.int_addr, r->pin.int_port,
		    &r->pin.remote)) != NULL)
			mtable_del(mt, e);
		if (r->expired)
			return;
		r->pin.desc = r->desc;
		r->pin.owner = r->owner;
		r->pin.filters = r->filters;
		if ((err = mtable_pinhole_add(mt, &r->pin, NULL, NULL)) != MT_OK)
			state_replay_failed(sp, r, err);
		return;
	}
	state_replay_clear(mt, r->req.proto, r->req.ext_port, r->req.ext_port_end);
	if (r->expired)
		return;
	r->req.desc = r->desc;
	r->req.owner = r->owner;
	r->req.filters = r->filters;
	if ((err = mtable_add(mt, &r->req, NULL, NULL)) != MT_OK)
		state_replay_failed(sp, r, err);
}

static int
state_j_put(struct state_parse *sp, char **av, int ac, struct mtable *mt, char *err,
    size_t errlen)
{
	struct state_rec rec;

	memset(&rec, 0, sizeof(rec));
	if (strcmp(av[0], "map") == 0 ? state_parse_map(&rec, av, ac, sp->now, err, errlen) :
	    state_parse_pinhole(&rec, av, ac, sp->now, err, errlen))
		return -1;
	if (mt != NULL)
		state_replay_put(sp, &rec, mt);
	return 0;
}

/* "map PROTO EXT" or "pinhole ID" at av: the entry it names in mt (or NULL); words used, or -1. */
static int
state_j_key(char **av, int ac, const struct mtable *mt, struct mt_entry **e, char *err,
    size_t errlen)
{
	unsigned long v;
	int proto;

	*e = NULL;
	if (ac >= 3 && strcmp(av[0], "map") == 0) {
		if ((proto = mt_proto_parse(av[1])) < 0 || util_parse_uint(av[2], 1, 65535, &v)) {
			snprintf(err, errlen, "bad mapping key");
			return -1;
		}
		if (mt != NULL && (*e = mtable_lookup_ext(mt, proto, (uint16_t)v)) != NULL &&
		    (*e)->ext_port != v)
			*e = NULL;	/* a range that starts below: not the one named */
		return 3;
	}
	if (ac >= 2 && strcmp(av[0], "pinhole") == 0) {
		if (util_parse_uint(av[1], 1, UINT32_MAX, &v)) {
			snprintf(err, errlen, "bad pinhole ID");
			return -1;
		}
		if (mt != NULL)
			*e = mtable_pinhole_get(mt, (uint32_t)v);
		return 2;
	}
	snprintf(err, errlen, "a record names 'map PROTO PORT' or 'pinhole ID'");
	return -1;
}

/* "lease KEY EXPIRES": a renewal; the lease is counted from now, as a snapshot's is. */
static int
state_j_lease(struct state_parse *sp, char **av, int ac, struct mtable *mt, char *err,
    size_t errlen)
{
	struct mt_entry *e;
	uint32_t lease;
	int k, expired;

	if ((k = state_j_key(av + 1, ac - 1, mt, &e, err, errlen)) == -1)
		return -1;
	if (ac != k + 2) {
		snprintf(err, errlen, "a lease record is 'lease KEY EXPIRES'");
		return -1;
	}
	if (state_parse_expires(av[k + 1], sp->now, &lease, &expired, err, errlen) == -1)
		return -1;
	if (e == NULL)
		return 0;	/* not restored (and said so), or gone already */
	if (expired)
		mtable_del(mt, e);
	else if (mtable_renew(mt, e, lease) != MT_OK)
		sp->nfail++;
	return 0;
}

static int
state_j_del(struct state_parse *sp, char **av, int ac, struct mtable *mt, char *err,
    size_t errlen)
{
	struct mt_entry *e;
	int k;

	(void)sp;
	if ((k = state_j_key(av + 1, ac - 1, mt, &e, err, errlen)) == -1)
		return -1;
	if (ac != k + 1) {
		snprintf(err, errlen, "a del record is 'del KEY'");
		return -1;
	}
	if (e != NULL)
		mtable_del(mt, e);
	return 0;
}

static int
state_j_pins(struct state_parse *sp, char **av, int ac, struct mtable *mt, char *err,
    size_t errlen)
{
	(void)mt;
	return state_parse_pins(sp, av, ac, err, errlen);
}

typedef int state_jrec_fn(struct state_parse *, char **, int, struct mtable *, char *, size_t);

static const struct {
	const char	*name;
	state_jrec_fn	*fn;
} state_journal_records[] = {
	{ "map",	state_j_put },
	{ "pinhole",	state_j_put },
	{ "lease",	state_j_lease },
	{ "del",	state_j_del },
	{ "pins",	state_j_pins },
};

/* One journal line: checked, parsed and (with mt) applied. -1 with err if it is bad. */
static int
state_journal_line(struct state_parse *sp, char *line, struct mtable *mt, char *err,
    size_t errlen)
{
	char *text, *av[12];
	size_t i;
	int ac;

	if (sp->version < 2) {
		snprintf(err, errlen, "data after the end line");
		return -1;
	}
	if ((text = state_unframe(line)) == NULL) {
		snprintf(err, errlen, "journal line fails its check (damaged)");
		return -1;
	}
	if ((ac = util_split(text, av, 12)) < 1) {
		snprintf(err, errlen, ac == 0 ? "empty record" : "too many fields");
		return -1;
	}
	for (i = 0; i < PG_NELEM(state_journal_records); i++)
		if (strcmp(av[0], state_journal_records[i].name) == 0) {
			if (state_journal_records[i].fn(sp, av, ac, mt, err, errlen) == -1)
				return -1;
			sp->nreplayed++;
			return 0;
		}
	STATE_BAD(err, errlen, "not a journal record", av[0]);
	return -1;
}

/* The journal after the snapshot's end line, each record applied in order (NULL mt: parsed). */
static void
state_parse_journal(struct state_parse *sp, const char *text, size_t len, size_t off,
    struct mtable *mt)
{
	char line[STATE_LINE_MAX], lerr[160];
	long n;
	int bad;

	while (off < len) {
		sp->lineno++;
		n = state_next_line(text, len, off, line, sizeof(line), &bad);
		off = n < 0 ? len : off + (size_t)n + 1;
		if (n < 0 && sp->version >= 2) {
			/* an append cut short by a crash or power cut: never answered for */
			sp->torn = 1;
			if (sp->name != NULL)
				log_warnx("%s:%u: the last journal record is cut short (a crash "
				    "while writing it); ignored", sp->name, sp->lineno);
		} else if (bad)
			state_problem(sp, sp->lineno, "malformed line (too long or a NUL byte)");
		else if (n < 0)
			state_problem(sp, sp->lineno, "last line has no newline (truncated)");
		else if (state_journal_line(sp, line, mt, lerr, sizeof(lerr)) == -1)
			state_problem(sp, sp->lineno, lerr);
	}
}

int
state_check(const char *text, size_t len, char *err, size_t errlen)
{
	struct state_parse sp;
	size_t off;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.now = time(NULL);
	if ((rc = state_parse_snapshot(&sp, text, len, &off)) == 0)
		state_parse_journal(&sp, text, len, off, NULL);
	if (rc == 0 && sp.torn && sp.nbad == 0)
		snprintf(sp.first_problem, sizeof(sp.first_problem), "line %u: cut short",
		    sp.lineno);
	if (rc == 0 && (sp.nbad > 0 || sp.torn))
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

static void
state_apply_pin(struct state_parse *sp, struct state_rec *r, struct mtable *mt)
{
	char a[INET6_ADDRSTRLEN];
	enum mt_err e;

	r->pin.desc = r->desc;
	r->pin.owner = r->owner;
	r->pin.filters = r->filters;
	if ((e = mtable_pinhole_add(mt, &r->pin, NULL, NULL)) == MT_OK)
		return;
	sp->nfail++;
	log_warnx("state_load: pinhole %u (%s [%s]:%u) not restored: %s", r->pin.pin_id,
	    mt_proto_name(r->pin.proto), util_addr_str(&r->pin.int_addr, a, sizeof(a)),
	    r->pin.int_port, mt_strerror(e));
}

/* The snapshot's records into the table and trigger set. */
static void
state_apply(struct state_parse *sp, struct mtable *mt, struct trigger *trig)
{
	struct state_rec *r;
	enum mt_err e;
	size_t i;
	char err[160];

	for (i = 0; i < sp->n; i++) {
		r = &sp->recs[i];
		if (r->is_trigger) {
			if (trig != NULL && trigger_add_rule(trig, &r->rule, 1, err, sizeof(err)) == -1)
				log_warnx("state_load: trigger rule %s: %s", r->rule.name, err);
			else if (trig != NULL && r->disabled)
				(void)trigger_set_enabled(trig, r->rule.name, 0, err, sizeof(err));
			continue;
		}
		if (r->expired)
			continue;
		if (r->is_pin) {
			state_apply_pin(sp, r, mt);
			continue;
		}
		r->req.desc = r->desc;
		r->req.owner = r->owner;
		r->req.filters = r->filters;
		if ((e = mtable_add(mt, &r->req, NULL, NULL)) != MT_OK) {
			sp->nfail++;
			log_warnx("state_load: %s %u not restored: %s",
			    mt_proto_name(r->req.proto), r->req.ext_port, mt_strerror(e));
		}
	}
}

static void
state_give_meta(const struct state_parse *sp, struct state_meta *meta)
{
	if (meta == NULL)
		return;
	if (sp->meta.uuid[0] != '\0')
		memcpy(meta->uuid, sp->meta.uuid, sizeof(meta->uuid));
	meta->epoch_start = sp->meta.epoch_start;
	if (sp->meta.upstream_key[0] != '\0')
		memcpy(meta->upstream_key, sp->meta.upstream_key, sizeof(meta->upstream_key));
	/* a record cut short may have been answered for: as good as lost */
	meta->complete = sp->nbad == 0 && sp->nfail == 0 && sp->pins == 0 && !sp->torn;
}

size_t
state_load(const char *path, struct mtable *mt, struct trigger *trig, struct state_meta *meta)
{
	struct state_parse sp;
	char *text;
	size_t len, off, before;

	if ((text = state_read_file(path, &len)) == NULL) {
		if (errno != ENOENT)
			log_warn("state_load: %s", path);
		return 0;
	}
	before = mtable_count(mt) + mtable_pinhole_count(mt);
	memset(&sp, 0, sizeof(sp));
	sp.now = time(NULL);
	sp.name = path;
	if (state_parse_snapshot(&sp, text, len, &off) == -1) {
		state_move_aside(path, sp.first_problem);
	} else {
		state_apply(&sp, mt, trig);
		free(sp.recs);
		sp.recs = NULL;
		state_parse_journal(&sp, text, len, off, mt);
		if (sp.nreplayed > 0)
			log_info("state_load: %s: %zu journal records replayed", path,
			    sp.nreplayed);
		if (sp.nbad > 0)
			state_move_aside(path, sp.first_problem);
		state_give_meta(&sp, meta);
	}
	free(sp.recs);
	free(text);
	len = mtable_count(mt) + mtable_pinhole_count(mt);
	return len > before ? len - before : 0;
}
