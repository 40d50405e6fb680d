/*
 * admin_pw.h - the admin password's file: crypt(3) hashes, shared by
 * portgatectl passwd (which writes it) and the daemon (which checks
 * logins against it). No context: a leaf.
 */
#ifndef PG_ADMIN_PW_H
#define PG_ADMIN_PW_H

#include <stddef.h>

#define ADMIN_PW_HASH_MAX	512	/* a crypt(3) string */

/* Hash password with crypt(3): yescrypt, else sha512-crypt; 0, or -1 with err. */
int admin_pw_hash(const char *password, char *out, size_t outlen, char *err, size_t errlen);
/* 1 if password matches hash (a crypt(3) string), compared in constant time. */
int admin_pw_check(const char *hash, const char *password);
/* Write hash as path's one line, mode 0600, replacing the file atomically; 0, or -1 with err. */
int admin_pw_write(const char *path, const char *hash, char *err, size_t errlen);
/* 1 if a and b (alen, blen bytes) are equal; the time taken depends only on alen and blen. */
int admin_ct_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
