/*
 * admin_json.h - the admin API's request bodies: a strict parser for one
 * flat JSON object, and JSON strings for its answers. No context, no
 * callbacks: a leaf.
 *
 * A body is one object of at most ADMIN_JSON_FIELDS members whose values
 * are strings, integers (no fraction, no exponent, within int64) or
 * booleans: no nested object or array, no null, no duplicate key. Text is
 * UTF-8; a string (key or value) holding a control character, raw or
 * escaped (U+0000-U+001F, U+007F-U+009F), or a lone surrogate is refused.
 * Everything after the object but white space is refused.
 */
#ifndef PG_ADMIN_JSON_H
#define PG_ADMIN_JSON_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define ADMIN_JSON_MAX		8192	/* bytes of a body */
#define ADMIN_JSON_FIELDS	16	/* members of the object */
#define ADMIN_JSON_KEY_MAX	64	/* bytes of a key */

enum admin_json_type {
	ADMIN_JSON_STRING,
	ADMIN_JSON_INT,
	ADMIN_JSON_BOOL,
};

struct admin_json_field {
	const char		*name;		/* decoded, NUL-terminated */
	enum admin_json_type	 type;
	const char		*str;		/* ADMIN_JSON_STRING: decoded, NUL-terminated */
	size_t			 len;		/* its length */
	int64_t			 num;		/* ADMIN_JSON_INT; ADMIN_JSON_BOOL: 0 or 1 */
};

struct admin_json {
	struct admin_json_field	 f[ADMIN_JSON_FIELDS];
	size_t			 n;
	char			 store[ADMIN_JSON_MAX + 1];	/* the decoded strings */
};

/*
 * Parse text (len bytes, no NUL needed) into j; 0, or -1 with err saying
 * what is wrong and at which byte ("byte 12: duplicate key 'proto'").
 */
int admin_json_parse(struct admin_json *j, const char *text, size_t len, char *err,
    size_t errlen);
/* The member named name, or NULL. */
const struct admin_json_field *admin_json_get(const struct admin_json *, const char *name);

#endif
