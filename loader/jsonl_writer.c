// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * JSONL output: lines go into a buffer and reach the file only whole, with
 * write(2), so a reader (tail -f, jq) never sees half a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memtrack.h"
#include "tracker.h"

#define JSONL_BUFFER (64u << 10)
#define JSONL_LINE_MAX 2048 /* longer than any record's JSON */

struct memtrack_jsonl {
	int fd;
	bool close_fd;
	bool regular;	/* a regular file: a failed write can be cut back to whole lines */
	off_t written;	/* bytes of whole lines in the file */
	size_t len;
	int error; /* first write error, negative errno */
	char buf[JSONL_BUFFER];
};

static void output_fail(struct memtrack_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void output_fail(struct memtrack_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_set(err, MEMTRACK_ERR_OUTPUT, code, fmt, ap);
	va_end(ap);
}

struct memtrack_jsonl *memtrack_jsonl_open(const char *path, struct memtrack_error *err)
{
	struct memtrack_jsonl *w = calloc(1, sizeof(*w));
	struct stat st;

	if (!w) {
		output_fail(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		w->fd = STDOUT_FILENO;
		return w;
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		output_fail(err, -errno, "cannot write %s: %s", path, strerror(errno));
		free(w);
		return NULL;
	}
	w->close_fd = true;
	w->regular = fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode);
	return w;
}

int memtrack_jsonl_flush(struct memtrack_jsonl *w)
{
	size_t done = 0;

	while (done < w->len && !w->error) {
		ssize_t n = write(w->fd, w->buf + done, w->len - done);

		if (n < 0 && errno != EINTR)
			w->error = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (w->error && w->regular && done) {
		/* Out of space mid-buffer: cut the file back to its last whole line. */
		while (done && w->buf[done - 1] != '\n')
			done--;
		if (ftruncate(w->fd, w->written + (off_t)done) == 0)
			lseek(w->fd, w->written + (off_t)done, SEEK_SET);
	}
	w->written += (off_t)done;
	w->len = 0;
	return w->error;
}

/* Make room for one more line of at most JSONL_LINE_MAX bytes. */
static char *line_slot(struct memtrack_jsonl *w)
{
	if (JSONL_BUFFER - w->len < JSONL_LINE_MAX)
		memtrack_jsonl_flush(w);
	return w->buf + w->len;
}

static int commit_line(struct memtrack_jsonl *w, int n)
{
	if (n < 0 || n >= JSONL_LINE_MAX)
		return -EOVERFLOW; /* cannot happen with this schema; never write half a line */
	w->len += (size_t)n;
	return w->error;
}

int memtrack_jsonl_write_event(struct memtrack_jsonl *w, const union mt_event *ev)
{
	return commit_line(w, memtrack_event_to_json(ev, line_slot(w), JSONL_LINE_MAX));
}

int memtrack_jsonl_write_stats(struct memtrack_jsonl *w, const struct memtrack_counters *c,
			       unsigned long long timestamp)
{
	return commit_line(w, memtrack_stats_to_json(c, timestamp, line_slot(w), JSONL_LINE_MAX));
}

int memtrack_jsonl_close(struct memtrack_jsonl *w)
{
	int err;

	if (!w)
		return 0;
	err = memtrack_jsonl_flush(w);
	if (w->close_fd && close(w->fd) && !err)
		err = -errno;
	free(w);
	return err;
}
