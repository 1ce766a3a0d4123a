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
#include <time.h>
#include <unistd.h>

#include "memtrack.h"
#include "error.h"
#include "monotonic.h"

#define JSONL_BUFFER (64u << 10)
#define JSONL_LINE_MAX 2048 /* longer than any record's JSON */

struct memtrack_jsonl {
	int fd;	    /* -1 until the first write */
	char *path; /* opened at the first write */
	bool close_fd;
	bool regular;	/* a regular file: a failed write can be cut back to whole lines */
	/*
	 * The Header's line, held until a record follows it: a run refused
	 * after the Header was handed over still writes nothing.
	 */
	char *header;
	size_t header_len;
	bool records; /* a record besides the Header came */
	off_t written;	/* bytes of whole lines in the file */
	size_t len;
	int error; /* first write error, negative errno */
	char buf[JSONL_BUFFER];
};

struct memtrack_jsonl *memtrack_jsonl_open(const char *path, struct memtrack_error *err)
{
	struct memtrack_jsonl *w = calloc(1, sizeof(*w));

	if (!w) {
		error_fail(err, MEMTRACK_ERR_OUTPUT, -ENOMEM, "out of memory");
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		w->fd = STDOUT_FILENO;
		return w;
	}
	w->fd = -1;
	w->path = strdup(path);
	if (!w->path) {
		error_fail(err, MEMTRACK_ERR_OUTPUT, -ENOMEM, "out of memory");
		free(w);
		return NULL;
	}
	if (memtrack_output_check(path, err)) {
		free(w->path);
		free(w);
		return NULL;
	}
	return w;
}

/*
 * The file, opened (created or truncated) at the first write, not before:
 * a run refused before it records anything leaves what was there.
 */
static int open_at_first_write(struct memtrack_jsonl *w)
{
	struct stat st;

	if (w->fd >= 0 || w->error)
		return w->error;
	w->fd = memtrack_output_open(w->path, NULL);
	if (w->fd < 0) {
		w->error = w->fd;
		return w->error;
	}
	w->close_fd = true;
	w->regular = fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode);
	return 0;
}

int memtrack_jsonl_flush(struct memtrack_jsonl *w)
{
	size_t done = 0;

	if (w->len && open_at_first_write(w))
		return w->error;
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

static int write_whole(struct memtrack_jsonl *w, const char *line, size_t len);

/* Before the first record: the Header held until now. */
static int begin_records(struct memtrack_jsonl *w)
{
	int err = 0;

	if (w->records)
		return 0;
	w->records = true;
	if (!w->header)
		return 0;
	if (w->header_len < JSONL_LINE_MAX) {
		memcpy(line_slot(w), w->header, w->header_len);
		err = commit_line(w, (int)w->header_len);
	} else {
		err = write_whole(w, w->header, w->header_len);
	}
	free(w->header);
	w->header = NULL;
	return err;
}

int memtrack_jsonl_write_event(struct memtrack_jsonl *w, const union mt_event *ev)
{
	return begin_records(w) ?: commit_line(w, memtrack_event_to_json(ev, line_slot(w),
									 JSONL_LINE_MAX));
}

int memtrack_jsonl_write_stats(struct memtrack_jsonl *w, const struct memtrack_counters *c,
			       unsigned long long timestamp)
{
	return begin_records(w) ?:
	       commit_line(w, memtrack_stats_to_json(c, timestamp, line_slot(w), JSONL_LINE_MAX));
}

/* Flush what is buffered, then one long line, whole or not at all. */
static int write_whole(struct memtrack_jsonl *w, const char *line, size_t len)
{
	size_t done = 0;

	if (memtrack_jsonl_flush(w) || open_at_first_write(w))
		return w->error;
	while (done < len && !w->error) {
		ssize_t n = write(w->fd, line + done, len - done);

		if (n < 0 && errno != EINTR)
			w->error = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (w->error && w->regular && done && ftruncate(w->fd, w->written) == 0)
		lseek(w->fd, w->written, SEEK_SET);
	else if (!w->error)
		w->written += (off_t)len;
	return w->error;
}

/* A record of any length: where the next line goes if it fits, else in a buffer of its own. */
typedef int (*format_fn)(const void *arg, char *buf, size_t size);

static int write_record(struct memtrack_jsonl *w, format_fn format, const void *arg)
{
	int n = format(arg, line_slot(w), JSONL_LINE_MAX), err;
	char *buf;

	if (n >= 0 && n < JSONL_LINE_MAX)
		return commit_line(w, n);
	buf = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (!buf)
		return -ENOMEM;
	n = format(arg, buf, (size_t)n + 1);
	err = write_whole(w, buf, (size_t)n);
	free(buf);
	return err;
}

struct stack_arg {
	unsigned long long id;
	const struct mt_stack *st;
};

static int format_stack(const void *arg, char *buf, size_t size)
{
	const struct stack_arg *a = arg;

	return memtrack_stack_to_json(a->id, a->st, buf, size);
}

int memtrack_jsonl_write_stack(struct memtrack_jsonl *w, unsigned long long id,
			       const struct mt_stack *st)
{
	struct stack_arg a = { id, st };

	return begin_records(w) ?: write_record(w, format_stack, &a);
}

struct mapping_arg {
	pid_t pid;
	unsigned long long timestamp;
	const struct memtrack_mapping *m;
};

static int format_mapping(const void *arg, char *buf, size_t size)
{
	const struct mapping_arg *a = arg;

	return memtrack_mapping_to_json(a->pid, a->timestamp, a->m, buf, size);
}

int memtrack_jsonl_write_mapping(struct memtrack_jsonl *w, pid_t pid, unsigned long long timestamp,
				 const struct memtrack_mapping *m)
{
	struct mapping_arg a = { pid, timestamp, m };

	return begin_records(w) ?: write_record(w, format_mapping, &a);
}

int memtrack_jsonl_write_header(struct memtrack_jsonl *w, const struct memtrack_header *h)
{
	int n = memtrack_header_to_json(h, NULL, 0);
	char *line;

	if (w->records)
		return -EINVAL; /* the Header is the first line */
	line = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (!line)
		return -ENOMEM;
	memtrack_header_to_json(h, line, (size_t)n + 1);
	free(w->header);
	w->header = line;
	w->header_len = (size_t)n;
	return 0;
}

/* The writer as a handler: each record as its line; the Stats record stamped when it comes. */
static int write_header_record(void *ctx, const struct memtrack_header *h)
{
	return memtrack_jsonl_write_header(ctx, h);
}

static int write_event_record(void *ctx, const union mt_event *ev)
{
	return memtrack_jsonl_write_event(ctx, ev);
}

static int write_mapping_record(void *ctx, pid_t pid, unsigned long long timestamp,
				const struct memtrack_mapping *m)
{
	return memtrack_jsonl_write_mapping(ctx, pid, timestamp, m);
}

static int write_stack_record(void *ctx, unsigned long long id, const struct mt_stack *st)
{
	return memtrack_jsonl_write_stack(ctx, id, st);
}

static int write_stats_record(void *ctx, const struct memtrack_counters *c)
{
	return memtrack_jsonl_write_stats(ctx, c, monotonic_ns());
}

struct memtrack_trace_handler memtrack_jsonl_handler(struct memtrack_jsonl *w)
{
	return (struct memtrack_trace_handler){
		.sz = sizeof(struct memtrack_trace_handler),
		.ctx = w,
		.on_event = write_event_record,
		.on_stack = write_stack_record,
		.on_mapping = write_mapping_record,
		.on_stats = write_stats_record,
		.on_header = write_header_record,
	};
}

int memtrack_jsonl_close(struct memtrack_jsonl *w)
{
	int err;

	if (!w)
		return 0;
	err = memtrack_jsonl_flush(w);
	if (w->close_fd && close(w->fd) && !err)
		err = -errno;
	free(w->header); /* with no record after it: no trace */
	free(w->path);
	free(w);
	return err;
}
