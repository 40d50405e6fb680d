/*
 * status.h - the one shape of a module's status verb.
 *
 * Every module with state offers
 *	void X_status(const struct X *, pg_status_emit *emit, void *arg);
 * which calls emit once per field: a name (lower case, '_' between words, as
 * `portgatectl status` prints it) and the value as printf formats it (a value
 * may hold words: "map success 12"). A caller (the control socket, later the
 * HTTP API and the metrics page) is a table of such verbs; no module formats
 * another's insides.
 */
#ifndef PG_STATUS_H
#define PG_STATUS_H

typedef void pg_status_emit(void *arg, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
