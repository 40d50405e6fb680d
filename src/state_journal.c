/*
 * state_journal.c - appending table changes to the state file.
 *
 * state_save writes a snapshot; from then on each change the table reports
 * is appended to that same file as one self-checking line (state.c's
 * state_record) with one write(2), before the call that made the change
 * returns and so before any front end answers for it. A mapping deleted
 * and answered for is therefore deleted in the file even if the daemon is
 * killed the next instant. The lines reach the disk itself at the next
 * state_journal_sync (the daemon calls it once per event-loop iteration).
 *
 * A change costs its record (about 40 bytes for a renewal or a delete,
 * 100-900 for a new entry) whatever the size of the table. When the
 * journal outgrows max(64 KiB, the snapshot), state_journal_full says so
 * and the owner saves in full, which starts an empty journal: the
 * snapshot's cost is spread over at least as many bytes of records, so a
 * change costs at most its record twice over, amortised.
 *
 * Renewals are written as they come, not coalesced: the kernel element's
 * timeout and the table's lease clock are refreshed at once, but the file
 * is only read at start-up, and a renewal left out would restore the
 * mapping with the lease it had before it, which can run out before the
 * client renews again (a UPnP client is not told to renew early).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "state_journal.h"

#define JOURNAL_MIN_BOUND	(64 * 1024)
#define JOURNAL_LINE_MAX	2048

struct state_journal {
	int		 fd;
	int		 dirty;		/* appended since the last sync */
	int		 pins;		/* the file says PEER pins are held */
	struct state_journal_stats st;
};

struct state_journal *
state_journal_open(const char *path, const struct mtable *mt, char *err, size_t errlen)
{
	struct state_journal *j;
	struct stat sb;
	int fd;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "cannot append to %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode) || (j = calloc(1, sizeof(*j))) == NULL) {
		snprintf(err, errlen, "cannot append to %s: %s", path,
		    S_ISREG(sb.st_mode) ? "out of memory" : "not a regular file");
		close(fd);
		return NULL;
	}
	j->fd = fd;
	j->st.snapshot_bytes = (size_t)sb.st_size;
	j->pins = mtable_peer_count(mt) > 0;	/* as state_save wrote it */
	return j;
}

/* One line, in one write: O_APPEND puts it after the last whole one. */
static int
journal_write(struct state_journal *j, const char *line, size_t n, char *err, size_t errlen)
{
	ssize_t w;

	do
		w = write(j->fd, line, n);
	while (w == -1 && errno == EINTR);
	if (w != (ssize_t)n) {
		/* a short write leaves a line without its newline: the reader ignores it */
		snprintf(err, errlen, "appending to the journal: %s",
		    w == -1 ? strerror(errno) : "short write");
		return -1;
	}
	j->st.bytes += n;
	j->st.records++;
	j->dirty = 1;
	return 0;
}

/* PEER pins are not kept, but whether any are held is: a restart then loses state. */
static int
journal_pins(struct state_journal *j, const struct mtable *mt, char *err, size_t errlen)
{
	char line[64];
	size_t n, pins = mtable_peer_count(mt);

	if ((pins > 0) == j->pins)
		return 0;
	j->pins = pins > 0;
	n = state_record_pins(pins, line, sizeof(line));
	return journal_write(j, line, n, err, errlen);
}

int
state_journal_append(struct state_journal *j, const struct mtable *mt, enum mt_change what,
    const struct mt_entry *e, char *err, size_t errlen)
{
	char line[JOURNAL_LINE_MAX];
	size_t n;

	if (what == MT_CHG_OTHER || e == NULL)
		return 0;
	if (e->kind == MT_KIND_PEER)
		return journal_pins(j, mt, err, errlen);
	if ((n = state_record(mt, what, e, line, sizeof(line))) == 0) {
		snprintf(err, errlen, "a journal record does not fit in %d bytes",
		    JOURNAL_LINE_MAX);
		return -1;
	}
	return journal_write(j, line, n, err, errlen);
}

int
state_journal_sync(struct state_journal *j, char *err, size_t errlen)
{
	if (!j->dirty)
		return 0;
	if (fdatasync(j->fd) == -1) {
		snprintf(err, errlen, "syncing the journal: %s", strerror(errno));
		return -1;
	}
	j->dirty = 0;
	j->st.syncs++;
	return 1;
}

int
state_journal_full(const struct state_journal *j)
{
	size_t bound = j->st.snapshot_bytes > JOURNAL_MIN_BOUND ? j->st.snapshot_bytes :
	    JOURNAL_MIN_BOUND;

	return j->st.bytes > bound;
}

void
state_journal_stats(const struct state_journal *j, struct state_journal_stats *st)
{
	*st = j->st;
}

void
state_journal_close(struct state_journal *j)
{
	if (j == NULL)
		return;
	close(j->fd);
	free(j);
}

void
state_journal_status(const struct state_journal *j, pg_status_emit *emit, void *arg)
{
	struct state_journal_stats st;

	if (j == NULL) {
		emit(arg, "state_snapshot_bytes", "none");
		emit(arg, "state_journal_bytes", "none");
		return;
	}
	state_journal_stats(j, &st);
	emit(arg, "state_snapshot_bytes", "%zu", st.snapshot_bytes);
	emit(arg, "state_journal_bytes", "%zu", st.bytes);
}
