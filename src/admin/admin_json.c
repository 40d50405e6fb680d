/*
 * admin_json.c - the admin API's request bodies (admin_json.h says what is
 * accepted). A recursive-descent reader for exactly one flat object: the
 * nesting depth is 1 by construction, the size is bounded by
 * ADMIN_JSON_MAX and the members by ADMIN_JSON_FIELDS; decoded strings go
 * to the object's own store, which the input's length bounds (a string is
 * never longer decoded than quoted).
 */
#include "config.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin_json.h"
#include "util.h"

struct jp {
	const char	*s;
	size_t		 len, pos;
	struct admin_json *j;
	size_t		 used;		/* of j->store */
	char		*err;
	size_t		 errlen;
};

static int jp_fail(struct jp *, const char *, ...) __attribute__((format(printf, 2, 3)));

static int
jp_fail(struct jp *p, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "byte %zu: %s", p->pos, msg);
	return -1;
}

static void
jp_space(struct jp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	    p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int
jp_peek(const struct jp *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

/* A control character as util_text_problem counts them (C0, DEL, C1). */
static int
jp_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

static int
jp_hex4(struct jp *p, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;
	int c;

	if (p->len - p->pos < 4)
		return jp_fail(p, "a \\u escape needs four hex digits");
	for (i = 0; i < 4; i++) {
		c = (unsigned char)p->s[p->pos + i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return jp_fail(p, "a \\u escape needs four hex digits");
	}
	p->pos += 4;
	*out = v;
	return 0;
}

/* After "\u": one code point, a surrogate pair taken whole. */
static int
jp_unicode(struct jp *p, uint32_t *cp)
{
	uint32_t lo;

	if (jp_hex4(p, cp) == -1)
		return -1;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return jp_fail(p, "a lone low surrogate");
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
		return jp_fail(p, "a high surrogate without its low one");
	p->pos += 2;
	if (jp_hex4(p, &lo) == -1)
		return -1;
	if (lo < 0xdc00 || lo > 0xdfff)
		return jp_fail(p, "a high surrogate without its low one");
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* Append cp as UTF-8 to the store (the caller checked it is no control). */
static void
jp_put(struct jp *p, uint32_t cp)
{
	char *o = p->j->store + p->used;

	if (cp < 0x80) {
		o[0] = (char)cp;
		p->used += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		p->used += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		p->used += 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		p->used += 4;
	}
}

/* One escape after the backslash, as a code point. */
static int
jp_escape(struct jp *p, uint32_t *cp)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int c = jp_peek(p);

	if (c == 'u') {
		p->pos++;
		return jp_unicode(p, cp);
	}
	if (c <= 0 || (e = strchr(from, c)) == NULL)
		return jp_fail(p, "unknown escape");
	p->pos++;
	*cp = (unsigned char)to[e - from];
	return 0;
}

/*
 * A string at the opening quote, decoded into the store; *out its start,
 * *outlen its length. Every decoded character takes at most the bytes it
 * took in the text, so the store (as large as the largest text) has room.
 */
static int
jp_string(struct jp *p, const char **out, size_t *outlen)
{
	size_t start, n;
	uint32_t cp;
	int c;

	if (jp_peek(p) != '"')
		return jp_fail(p, "a string was expected");
	p->pos++;
	start = p->used;
	for (;;) {
		if ((c = jp_peek(p)) == -1)
			return jp_fail(p, "the string does not end");
		if (c == '"')
			break;
		if (c == '\\') {
			p->pos++;
			if (jp_escape(p, &cp) == -1)
				return -1;
		} else if ((n = util_utf8_next(p->s + p->pos, p->len - p->pos, &cp)) == 0)
			return jp_fail(p, "not valid UTF-8");
		else
			p->pos += n;
		if (jp_control(cp))
			return jp_fail(p, "a control character in a string");
		jp_put(p, cp);
	}
	p->pos++;
	*outlen = p->used - start;
	p->j->store[p->used++] = '\0';
	*out = p->j->store + start;
	return 0;
}

/* An integer: -?(0|[1-9][0-9]*), within int64; a fraction or exponent is refused. */
static int
jp_int(struct jp *p, int64_t *out)
{
	uint64_t v = 0, lim;
	int neg = 0, digits = 0, c;

	if (jp_peek(p) == '-') {
		neg = 1;
		p->pos++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (jp_peek(p) == '0' && p->pos + 1 < p->len && p->s[p->pos + 1] >= '0' &&
	    p->s[p->pos + 1] <= '9')
		return jp_fail(p, "a number with a leading zero");
	while ((c = jp_peek(p)) >= '0' && c <= '9') {
		if (v > (lim - (uint64_t)(c - '0')) / 10)
			return jp_fail(p, "a number out of range");
		v = v * 10 + (uint64_t)(c - '0');
		p->pos++;
		digits++;
	}
	if (digits == 0)
		return jp_fail(p, "a value was expected");
	if (c == '.' || c == 'e' || c == 'E')
		return jp_fail(p, "only whole numbers are accepted");
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return 0;
}

/* true or false */
static int
jp_word(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
		return 0;
	p->pos += n;
	return 1;
}

static int
jp_value(struct jp *p, struct admin_json_field *f)
{
	int c = jp_peek(p);

	if (c == '"') {
		f->type = ADMIN_JSON_STRING;
		return jp_string(p, &f->str, &f->len);
	}
	if (c == '{' || c == '[')
		return jp_fail(p, "nested objects and arrays are not accepted");
	if (jp_word(p, "true") || jp_word(p, "false")) {
		f->type = ADMIN_JSON_BOOL;
		f->num = p->s[p->pos - 4] == 't';	/* "true" or "alse" */
		return 0;
	}
	if (jp_word(p, "null"))
		return jp_fail(p, "null is not accepted: leave the member out");
	f->type = ADMIN_JSON_INT;
	return jp_int(p, &f->num);
}

static int
jp_member(struct jp *p)
{
	struct admin_json_field *f;
	size_t klen, i;

	if (p->j->n == ADMIN_JSON_FIELDS)
		return jp_fail(p, "more than %d members", ADMIN_JSON_FIELDS);
	f = &p->j->f[p->j->n];
	memset(f, 0, sizeof(*f));
	if (jp_string(p, &f->name, &klen) == -1)
		return -1;
	if (klen == 0 || klen > ADMIN_JSON_KEY_MAX)
		return jp_fail(p, "a key of 1 to %d bytes was expected", ADMIN_JSON_KEY_MAX);
	for (i = 0; i < p->j->n; i++)
		if (strcmp(p->j->f[i].name, f->name) == 0)
			return jp_fail(p, "duplicate key '%s'", f->name);
	jp_space(p);
	if (jp_peek(p) != ':')
		return jp_fail(p, "':' was expected");
	p->pos++;
	jp_space(p);
	if (jp_value(p, f) == -1)
		return -1;
	p->j->n++;
	return 0;
}

int
admin_json_parse(struct admin_json *j, const char *text, size_t len, char *err, size_t errlen)
{
	struct jp p = { text, len, 0, j, 0, err, errlen };
	int c;

	j->n = 0;
	if (len > ADMIN_JSON_MAX)
		return jp_fail(&p, "the body is larger than %d bytes", ADMIN_JSON_MAX);
	jp_space(&p);
	if (jp_peek(&p) != '{')
		return jp_fail(&p, "a JSON object was expected");
	p.pos++;
	jp_space(&p);
	if (jp_peek(&p) == '}')
		p.pos++;
	else
		for (;;) {
			if (jp_member(&p) == -1)
				return -1;
			jp_space(&p);
			if ((c = jp_peek(&p)) == '}') {
				p.pos++;
				break;
			}
			if (c != ',')
				return jp_fail(&p, "',' or '}' was expected");
			p.pos++;
			jp_space(&p);
		}
	jp_space(&p);
	if (p.pos != len)
		return jp_fail(&p, "text after the object");
	return 0;
}

const struct admin_json_field *
admin_json_get(const struct admin_json *j, const char *name)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (strcmp(j->f[i].name, name) == 0)
			return &j->f[i];
	return NULL;
}
