/*
 * admin_pw.c - the admin password's file (admin_pw.h): hashing with
 * libxcrypt's crypt(3), checking, and writing the file the way the state
 * file is written (a temporary file beside it, fsync, rename).
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin_pw.h"

int
admin_ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = alen != blen;
	size_t i;

	for (i = 0; i < alen; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)(blen ? b[i % blen] : 0);
	return diff == 0;
}

/* A salt for prefix ("$y$", "$6$") from the kernel's randomness; NULL if none. */
static const char *
admin_pw_salt(const char *prefix, char *out, int outlen)
{
	char rnd[32];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return NULL;
	return crypt_gensalt_rn(prefix, 0, rnd, (int)sizeof(rnd), out, outlen);
}

int
admin_pw_hash(const char *password, char *out, size_t outlen, char *err, size_t errlen)
{
	static const char *const prefixes[] = { "$y$", "$6$" };
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h = NULL;
	size_t i;

	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]) && h == NULL; i++)
		if (admin_pw_salt(prefixes[i], salt, (int)sizeof(salt)) != NULL)
			h = crypt_rn(password, salt, cd, (int)sizeof(*cd));
	if (h == NULL || h[0] != '$' || strlen(h) >= outlen) {
		snprintf(err, errlen, "crypt(3) made no yescrypt or sha512-crypt hash: %s",
		    strerror(errno));
		free(cd);
		return -1;
	}
	snprintf(out, outlen, "%s", h);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return 0;
}

int
admin_pw_check(const char *hash, const char *password)
{
	struct crypt_data *cd;
	const char *h;
	int ok;

	if (hash[0] != '$' || (cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;	/* "*", "!" or empty: no password; nor a DES hash */
	h = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	ok = h != NULL && h[0] == '$' && admin_ct_equal(hash, strlen(hash), h, strlen(h));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* The directory of path, for its fsync (static buffer). */
static const char *
admin_pw_dir(const char *path)
{
	static char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return ".";
	if (slash == dir)
		return "/";
	*slash = '\0';
	return dir;
}

/*
 * The new file's owner and mode: the old file's (its owner, its group, at
 * most 0640), else, in a directory of another group than the caller's, the
 * caller's with that group, 0640: a daemon running as its own user (`user`,
 * `group`) reads it through the group, as /etc/portgate (root:portgate)
 * gives it. Else 0600.
 */
static void
admin_pw_owner(int fd, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		if (fchown(fd, st.st_uid, st.st_gid) == 0 && fchmod(fd, st.st_mode & 0640) == 0)
			return;
	} else if (stat(admin_pw_dir(path), &st) == 0 && st.st_gid != getegid() &&
	    fchown(fd, (uid_t)-1, st.st_gid) == 0 && fchmod(fd, 0640) == 0)
		return;
	if (fchmod(fd, 0600) == -1)
		return;		/* mkstemp's 0600 stays */
}

int
admin_pw_write(const char *path, const char *hash, char *err, size_t errlen)
{
	char tmp[4096 + 16];
	size_t len = strlen(hash);
	int fd, dfd, rc = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {	/* mode 0600, a new file: nothing followed */
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	admin_pw_owner(fd, path);
	if (write(fd, hash, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) == -1)
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
	else if (rename(tmp, path) == -1)
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	else
		rc = 0;
	close(fd);
	if (rc == -1) {
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(admin_pw_dir(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}
