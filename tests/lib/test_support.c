// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

extern char **environ;

#define MAX_ARGS 64

bool time_bounds_checked(void)
{
	const char *untimed = getenv("MEMTRACK_TEST_UNTIMED");

	return !untimed || !*untimed;
}

double user_cpu_seconds(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
}

const char *build_path(const char *rel)
{
	const char *build = getenv("BUILD");
	static char *paths[256];
	static size_t npaths;
	char *p;

	if (!build || !*build)
		build = "build";
	if (asprintf(&p, "%s/%s", build, rel) < 0)
		abort();
	/* Kept so that the strings live as long as the test (a few per test). */
	if (npaths < sizeof(paths) / sizeof(paths[0]))
		paths[npaths++] = p;
	return p;
}

const char *bpf_unavailable_reason(void)
{
	if (geteuid() != 0)
		return "not running as root (BPF tracing needs root, or CAP_BPF and CAP_PERFMON)";
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return "this kernel has no BTF (/sys/kernel/btf/vmlinux)";
	if (access("/sys/bus/event_source/devices/uprobe", F_OK))
		return "this kernel has no uprobe PMU (CONFIG_UPROBE_EVENTS)";
	return NULL;
}

static void append_err(struct trace *tr, const char *buf, size_t len)
{
	tr->err = realloc(tr->err, tr->err_len + len + 1);
	assert_non_null(tr->err);
	memcpy(tr->err + tr->err_len, buf, len);
	tr->err_len += len;
	tr->err[tr->err_len] = '\0';
}

void trace_start(struct trace *tr, const char *const *opts, const char *const *cmd, int stdin_fd,
		 int flags)
{
	const char *argv[MAX_ARGS];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int errpipe[2], fd, n = 0;

	memset(tr, 0, sizeof(*tr));
	strcpy(tr->out_path, "/tmp/memtrack-test-XXXXXX");
	fd = mkstemp(tr->out_path);
	assert_true(fd >= 0);
	close(fd);

	argv[n++] = build_path("memtrack-load");
	if (!(flags & TRACE_NO_EVENTS)) {
		argv[n++] = "-o";
		argv[n++] = tr->out_path;
	}
	for (size_t i = 0; opts && opts[i]; i++)
		argv[n++] = opts[i];
	if (cmd) {
		argv[n++] = "--";
		for (size_t i = 0; cmd[i]; i++)
			argv[n++] = cmd[i];
	}
	argv[n] = NULL;
	assert_true(n < MAX_ARGS);

	assert_int_equal(pipe2(errpipe, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, errpipe[1], STDERR_FILENO);
	/* The traced command's own output is not what the tests read. */
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (stdin_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, stdin_fd, STDIN_FILENO);
	posix_spawnattr_init(&attr);
	if (flags & TRACE_OWN_GROUP) {
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&attr, 0);
	}
	assert_int_equal(posix_spawn(&tr->pid, argv[0], &fa, &attr, (char *const *)argv, environ),
			 0);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(errpipe[1]);
	tr->err_fd = errpipe[0];
	append_err(tr, "", 0);
}

/* Read what stderr has, waiting up to timeout_ms; false at end of file. */
static bool read_err(struct trace *tr, int timeout_ms)
{
	struct pollfd pfd = { .fd = tr->err_fd, .events = POLLIN };
	char buf[4096];
	ssize_t len;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return true;
	len = read(tr->err_fd, buf, sizeof(buf));
	if (len <= 0)
		return false;
	append_err(tr, buf, (size_t)len);
	return true;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

bool trace_stderr_within(struct trace *tr, const char *text, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	while (!strstr(tr->err, text))
		if (now_ms() > deadline || !read_err(tr, 100))
			return false;
	return true;
}

void trace_wait_stderr(struct trace *tr, const char *text, int timeout_ms)
{
	if (!trace_stderr_within(tr, text, timeout_ms))
		fail_msg("memtrack-load never said \"%s\"; its stderr:\n%s", text, tr->err);
}

static void read_events(struct trace *tr)
{
	FILE *f = fopen(tr->out_path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	assert_non_null(f);
	while ((len = getline(&line, &cap, f)) > 0) {
		struct json_object *o;

		if (line[len - 1] != '\n')
			fail_msg("JSONL line %zu has no newline: %s", tr->nev + 1, line);
		o = json_tokener_parse(line);
		if (!o)
			fail_msg("JSONL line %zu is not JSON: %s", tr->nev + 1, line);
		tr->ev = realloc(tr->ev, (tr->nev + 1) * sizeof(*tr->ev));
		assert_non_null(tr->ev);
		tr->ev[tr->nev++] = o;
	}
	free(line);
	fclose(f);
}

void trace_finish(struct trace *tr)
{
	int wstatus;

	while (read_err(tr, 60000))
		;
	close(tr->err_fd);
	tr->err_fd = -1;
	assert_int_equal(waitpid(tr->pid, &wstatus, 0), tr->pid);
	tr->status = WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
	tr->pid = 0;
	read_events(tr);
}

void trace_run(struct trace *tr, const char *const *opts, const char *const *cmd)
{
	trace_start(tr, opts, cmd, -1, 0);
	trace_finish(tr);
}

void trace_free(struct trace *tr)
{
	for (size_t i = 0; i < tr->nev; i++)
		json_object_put(tr->ev[i]);
	free(tr->ev);
	free(tr->err);
	unlink(tr->out_path);
	memset(tr, 0, sizeof(*tr));
}

long long jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return -1;
	return json_object_get_int64(v);
}

const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static bool is_type(struct json_object *o, const char *type)
{
	const char *t = jstr(o, "type");

	return t && strcmp(t, type) == 0;
}

long trace_child_of(const struct trace *tr, long parent)
{
	for (size_t i = 0; i < tr->nev; i++)
		if (is_type(tr->ev[i], "Fork") && jint(tr->ev[i], "ppid") == parent)
			return (long)jint(tr->ev[i], "pid");
	return -1;
}

/* The index of the first Exec of a file whose name ends with suffix, or -1. */
static ssize_t exec_index(const struct trace *tr, const char *suffix)
{
	size_t slen = strlen(suffix);

	for (size_t i = 0; i < tr->nev; i++) {
		const char *f = jstr(tr->ev[i], "filename");

		if (is_type(tr->ev[i], "Exec") && f && strlen(f) >= slen &&
		    strcmp(f + strlen(f) - slen, suffix) == 0)
			return (ssize_t)i;
	}
	return -1;
}

long trace_exec_pid(const struct trace *tr, const char *suffix)
{
	ssize_t i = exec_index(tr, suffix);

	return i < 0 ? -1 : (long)jint(tr->ev[i], "pid");
}

struct json_object *trace_find(const struct trace *tr, const char *type, long pid)
{
	for (size_t i = 0; i < tr->nev; i++)
		if (is_type(tr->ev[i], type) && (pid < 0 || jint(tr->ev[i], "pid") == pid))
			return tr->ev[i];
	return NULL;
}

size_t trace_count(const struct trace *tr, const char *type, long pid)
{
	size_t n = 0;

	for (size_t i = 0; i < tr->nev; i++)
		n += is_type(tr->ev[i], type) && (pid < 0 || jint(tr->ev[i], "pid") == pid);
	return n;
}

struct json_object *trace_stats(const struct trace *tr)
{
	if (!tr->nev || !is_type(tr->ev[tr->nev - 1], "Stats"))
		return NULL;
	return tr->ev[tr->nev - 1];
}

struct json_object *trace_report(const struct trace *tr, const char *name)
{
	char start[64];
	size_t len = (size_t)snprintf(start, sizeof(start), "{\"report\":\"%s\",", name);

	for (const char *line = tr->err; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (n >= len && !strncmp(line, start, len)) {
			char *copy = strndup(line, n);
			struct json_object *o;

			assert_non_null(copy);
			o = json_tokener_parse(copy);
			free(copy);
			if (!o)
				fail_msg("the %s report is not JSON", name);
			return o;
		}
		line = end ? end + 1 : NULL;
	}
	fail_msg("no --json %s report on stderr:\n%s", name, tr->err);
	return NULL;
}

static bool is_alloc_event(struct json_object *o)
{
	static const char *const types[] = { "Malloc", "Free", "Calloc", "Realloc",
					     "AlignedAlloc" };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (is_type(o, types[i]))
			return true;
	return false;
}

/* Append one word to a space-separated string. */
static void add_word(char **s, size_t *len, const char *word)
{
	size_t wlen = strlen(word);

	*s = realloc(*s, *len + wlen + 2);
	assert_non_null(*s);
	if (*len)
		(*s)[(*len)++] = ' ';
	memcpy(*s + *len, word, wlen + 1);
	*len += wlen;
}

/* The calls of pid (tid, if > 0) from event first on; with one_image, up to its next Exec. */
static char *sequence_from(const struct trace *tr, size_t first, long pid, long tid,
			   bool one_image)
{
	char *s = strdup(""), word[96];
	size_t len = 0;

	for (size_t i = first; i < tr->nev; i++) {
		struct json_object *o = tr->ev[i];

		if (jint(o, "pid") != pid || (tid > 0 && jint(o, "tid") != tid))
			continue;
		if (one_image && i > first && is_type(o, "Exec"))
			break;
		if (!is_alloc_event(o))
			continue;
		if (is_type(o, "Free"))
			snprintf(word, sizeof(word), "Free");
		else if (is_type(o, "AlignedAlloc"))
			snprintf(word, sizeof(word), "AlignedAlloc:%lld@%lld", jint(o, "size"),
				 jint(o, "align"));
		else
			snprintf(word, sizeof(word), "%s:%lld", jstr(o, "type"), jint(o, "size"));
		add_word(&s, &len, word);
	}
	return s;
}

char *trace_sequence(const struct trace *tr, long pid, long tid)
{
	return sequence_from(tr, 0, pid, tid, false);
}

char *trace_program_sequence(const struct trace *tr, const char *suffix)
{
	ssize_t i = exec_index(tr, suffix);

	if (i < 0)
		fail_msg("no Exec of a file whose name ends with %s", suffix);
	return sequence_from(tr, (size_t)i, (long)jint(tr->ev[i], "pid"), 0, true);
}

char *trace_funcs(const struct trace *tr, long pid)
{
	char *s = strdup("");
	size_t len = 0;

	for (size_t i = 0; i < tr->nev; i++) {
		const char *func = jstr(tr->ev[i], "func");

		if (func && jint(tr->ev[i], "pid") == pid)
			add_word(&s, &len, func);
	}
	return s;
}

/* A tiny set of addresses: the fixtures hold at most a few hundred blocks. */
struct held {
	long long *addr;
	size_t n;
};

static void hold(struct held *h, long long addr)
{
	h->addr = realloc(h->addr, (h->n + 1) * sizeof(*h->addr));
	assert_non_null(h->addr);
	h->addr[h->n++] = addr;
}

static bool unhold(struct held *h, long long addr)
{
	for (size_t i = 0; i < h->n; i++) {
		if (h->addr[i] == addr) {
			h->addr[i] = h->addr[--h->n];
			return true;
		}
	}
	return false;
}

long trace_check_blocks(const struct trace *tr, long pid)
{
	struct held h = { 0 };
	long left;

	for (size_t i = 0; i < tr->nev; i++) {
		struct json_object *o = tr->ev[i];
		long long addr = jint(o, "addr"), old = jint(o, "old_addr");

		if (!is_alloc_event(o) || jint(o, "pid") != pid)
			continue;
		if (is_type(o, "Free") || (is_type(o, "Realloc") && old)) {
			long long gone = is_type(o, "Free") ? addr : old;

			if (!unhold(&h, gone))
				fail_msg("event %zu releases %#llx, which process %ld does not hold",
					 i + 1, gone, pid);
		}
		if (!is_type(o, "Free") && addr) {
			if (unhold(&h, addr))
				fail_msg("event %zu returns %#llx, which is still allocated", i + 1,
					 addr);
			hold(&h, addr);
		}
	}
	left = (long)h.n;
	free(h.addr);
	return left;
}

int run_quiet(const char *const *argv)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int wstatus;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
}

int run_capture(const char *const *argv, char *out, size_t size)
{
	posix_spawn_file_actions_t fa;
	int p[2], wstatus;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	while (len + 1 < size && (n = read(p[0], out + len, size - len - 1)) > 0)
		len += (size_t)n;
	/* Drain the rest so the child never blocks on a full pipe. */
	while (read(p[0], (char[512]){ 0 }, 512) > 0)
		;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
}

/* Append what fd has to *buf; false at end of file. */
static bool drain_into(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n <= 0)
		return false;
	*buf = realloc(*buf, *len + (size_t)n + 1);
	assert_non_null(*buf);
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return true;
}

void run_io(const char *const *argv, char *const *envp, const char *input, size_t input_len,
	    struct output *o)
{
	posix_spawn_file_actions_t fa;
	int in[2], out[2], err[2], wstatus;
	struct pollfd pfd[2];
	size_t written = 0;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	o->out = calloc(1, 1);
	o->err = calloc(1, 1);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv,
				     envp ? envp : environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	/* inputs are small: write all, then read both outputs until they close */
	while (written < input_len) {
		ssize_t n = write(in[1], input + written, input_len - written);

		if (n <= 0)
			break;
		written += (size_t)n;
	}
	close(in[1]);
	pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, 60000) <= 0)
			fail_msg("%s produced no output for a minute", argv[0]);
		if (pfd[0].revents && !drain_into(out[0], &o->out, &o->out_len))
			pfd[0].fd = -1;
		if (pfd[1].revents && !drain_into(err[0], &o->err, &o->err_len))
			pfd[1].fd = -1;
	}
	close(out[0]);
	close(err[0]);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	o->status = WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
}

void output_free(struct output *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof(*o));
}

int source_line(const char *path, const char *marker)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		fail_msg("cannot read %s", path);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, marker)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	fail_msg("no %s in %s", marker, path);
	return -1;
}

long trace_command(struct trace *tr, const char *const *opts, const char *const *cmd)
{
	trace_run(tr, opts, cmd);
	if (tr->status != 0)
		fail_msg("memtrack-load exited %d; stderr:\n%s", tr->status, tr->err);
	return (long)jint(trace_find(tr, "Exec", -1), "pid");
}

pid_t spawn_waiting(const char *const *argv, int *go_fd)
{
	posix_spawn_file_actions_t fa;
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	*go_fd = p[1];
	return pid;
}
