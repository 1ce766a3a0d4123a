// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every bpftrace script of scripts/, run by the real bpftrace against a
 * fixture, prints the numbers that fixture is known to make: with the
 * uprobe source (scripts/X.bt -c fixture) and the USDT source
 * (scripts/usdt/X.bt, the fixture run with libmemtrack-usdt.so preloaded).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

extern char **environ;

#define BPFTRACE "/usr/bin/bpftrace"

static const char *const scripts[] = { "malloc", "leaks", "lifetime", "topcallers" };

/* One printed map entry: "@name[key]: value"; a histogram's value is its total count. */
struct entry {
	char name[32];
	char key[512];
	long long value;
};

struct report {
	struct entry *e;
	size_t n;
};

static void add_entry(struct report *r, const char *name, const char *key, long long value)
{
	struct entry *e;

	r->e = realloc(r->e, (r->n + 1) * sizeof(*r->e));
	assert_non_null(r->e);
	e = &r->e[r->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->value = value;
}

/*
 * bpftrace's map output: an entry starts with "@name[", its key may span
 * lines (stacks), and ends with "]: value"; a histogram's "]: " is
 * followed by lines "[lo, hi)  count |@@@|".
 */
static void parse_report(const char *text, struct report *r)
{
	const char *p = text;

	memset(r, 0, sizeof(*r));
	while ((p = strstr(p, "\n@")) != NULL) {
		const char *name = p + 2, *open = strchr(name, '['), *close;
		char n[32] = "", key[512] = "";
		long long value = 0;

		p += 2;
		if (!open || strcspn(name, "[\n") != (size_t)(open - name))
			continue;
		close = strstr(open, "]: ");
		if (!close)
			break;
		snprintf(n, sizeof(n), "%.*s", (int)(open - name), name);
		snprintf(key, sizeof(key), "%.*s", (int)(close - open - 1), open + 1);
		p = close + 3;
		if (*p == '\n' || *p == '\r') {
			/* a histogram: sum the bucket counts */
			while (*p == '\n' && p[1] == '[') {
				/* "[lo, hi)" or, for a single value, "[n]" */
				const char *label_end = p + 2 + strcspn(p + 2, ")]\n");
				const char *pipe = *label_end == '\n' ? NULL : strchr(label_end, '|');

				if (!pipe)
					break;
				value += strtoll(label_end + 1, NULL, 10);
				p = strchr(pipe + 1, '\n');
				if (!p)
					break;
			}
			if (!p)
				p = text + strlen(text);
		} else {
			value = strtoll(p, NULL, 10);
		}
		add_entry(r, n, key, value);
	}
}

/* The sum of an entry's values over every key that starts with prefix (the comm, ...). */
static long long total(const struct report *r, const char *name, const char *prefix)
{
	long long sum = 0;

	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->e[i].name, name) && !strncmp(r->e[i].key, prefix, strlen(prefix)))
			sum += r->e[i].value;
	return sum;
}

static const char *bpftrace_missing(void)
{
	return access(BPFTRACE, X_OK) ? "bpftrace is not installed" : NULL;
}

#define REQUIRE_BPFTRACE()                                                              \
	do {                                                                            \
		REQUIRE_BPF();                                                          \
		if (bpftrace_missing()) {                                               \
			if (getenv("CI"))                                               \
				fail_msg("%s, and CI needs it", bpftrace_missing());    \
			skip();                                                         \
		}                                                                       \
	} while (0)

/* A copy of the file at from, executable, at to. */
static void copy_executable(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[65536];
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(to, 0755), 0);
}

/* text with every occurrence of from (not empty) replaced by to. */
static char *replace_all(char *text, const char *from, const char *to)
{
	size_t lf = strlen(from), lt = strlen(to), n = 0;
	char *out, *o;

	for (const char *p = text; (p = strstr(p, from)); p += lf)
		n++;
	out = malloc(strlen(text) + n * (lt > lf ? lt - lf : 0) + 1);
	assert_non_null(out);
	o = out;
	for (const char *p = text, *q; ; p = q + lf) {
		q = strstr(p, from);
		if (!q) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, lt);
		o += lt;
	}
	free(text);
	return out;
}

/*
 * The fixture, copied under a name of this test run's own (within comm's
 * 15 characters): the scripts key their maps by process name, and another
 * test run's copy of the same fixture, meanwhile, must not be counted.
 */
struct own_copy {
	char dir[64], name[32], path[128];
};

static void own_copy_make(struct own_copy *c, const char *fixture)
{
	snprintf(c->dir, sizeof(c->dir), "/tmp/memtrack-scripts-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->name, sizeof(c->name), "st%dx", (int)getpid());
	snprintf(c->path, sizeof(c->path), "%s/%s", c->dir, c->name);
	copy_executable(build_path(fixture), c->path);
}

/* Remove the copy; the script's output, with the copy named back as the fixture. */
static char *own_copy_done(struct own_copy *c, const char *fixture, char *out)
{
	const char *comm = strrchr(fixture, '/') ? strrchr(fixture, '/') + 1 : fixture;

	unlink(c->path);
	rmdir(c->dir);
	return replace_all(out, c->name, comm);
}

/*
 * scripts/NAME.bt -c fixture, keeping only the fixture's processes (by
 * name): the probes are on libc for every process, and a busy machine's
 * other processes would fill the scripts' top lists.
 */
static char *run_uprobe_script(const char *name, const char *fixture)
{
	struct own_copy c;
	char script[256];
	const char *argv[] = { BPFTRACE, script, "-c", c.path, c.name, NULL };
	struct output o;

	own_copy_make(&c, fixture);
	snprintf(script, sizeof(script), "scripts/%s.bt", name);
	run_io(argv, NULL, "", 0, &o);
	if (o.status != 0)
		fail_msg("%s exited %d:\n%s", script, o.status, o.err);
	free(o.err);
	return own_copy_done(&c, fixture, o.out);
}

/* Is pid asleep in epoll_wait (bpftrace's loop waiting for events)? */
static bool in_epoll_wait(pid_t pid)
{
	char path[64], wchan[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(wchan, sizeof(wchan), f))
		wchan[0] = '\0';
	fclose(f);
	return strcmp(wchan, "do_epoll_wait") == 0;
}

/*
 * scripts/usdt/NAME.bt SHIM, system-wide with file-based semaphore
 * activation; the fixture runs with the shim preloaded, then Ctrl-C.
 */
static char *run_usdt_script(const char *name, const char *fixture)
{
	char script[256], shim[512], preload[600], *out = calloc(1, 1);
	const char *argv[] = { BPFTRACE, "--usdt-file-activation", script, shim, NULL };
	char *envp[] = { preload, NULL };
	struct own_copy c;
	const char *fixture_argv[] = { c.path, NULL };
	posix_spawn_file_actions_t fa;
	struct output f;
	size_t len = 0;
	int p[2], wstatus;
	pid_t pid;
	char buf[4096];
	ssize_t n = 0;

	own_copy_make(&c, fixture);
	snprintf(script, sizeof(script), "scripts/usdt/%s.bt", name);
	assert_non_null(realpath(build_path("libmemtrack-usdt.so"), shim));
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", shim);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	/* BEGIN's "Tracing ..." line means every probe is attached */
	while (!strstr(out, "Hit Ctrl-C")) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		if (poll(&pfd, 1, 60000) <= 0 || (n = read(p[0], buf, sizeof(buf))) <= 0)
			fail_msg("%s never started:\n%s", script, out);
		out = realloc(out, len + (size_t)n + 1);
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
		out[len] = '\0';
	}
	run_io(fixture_argv, envp, "", 0, &f);
	assert_int_equal(f.status, 0);
	output_free(&f);
	assert_int_equal(kill(pid, SIGINT), 0);
	for (int quiet = 0;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		if (poll(&pfd, 1, 1000) == 0) {
			/*
			 * bpftrace 0.17 leaves its loop only when the signal
			 * interrupts its epoll_wait: one that lands while it
			 * reads events is lost, and it traces on. Still waiting
			 * there seconds later, it needs another Ctrl-C, as a
			 * user would give it (its handler is still its own).
			 */
			if (++quiet % 3 == 0 && in_epoll_wait(pid))
				assert_int_equal(kill(pid, SIGINT), 0);
			if (quiet > 120)
				fail_msg("%s did not end on SIGINT:\n%s", script, out);
			continue;
		}
		if ((n = read(p[0], buf, sizeof(buf))) <= 0)
			break;
		out = realloc(out, len + (size_t)n + 1);
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
		out[len] = '\0';
	}
	close(p[0]);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	return own_copy_done(&c, fixture, out);
}

static void run_script(void **state, const char *name, const char *fixture, struct report *r)
{
	char *out = IS_USDT(state) ? run_usdt_script(name, fixture)
				   : run_uprobe_script(name, fixture);

	parse_report(out, r);
	if (r->n == 0)
		fail_msg("no maps in the output of %s:\n%s", name, out);
	print_message("%s (%s): %zu map entries\n", name, SOURCE_OF(state), r->n);
	free(out);
}

/* malloc_free: 100 + 200 bytes, then 100 blocks of 1000..1099, all freed. */
static void test_malloc_bt(void **state)
{
	struct report r;

	REQUIRE_BPFTRACE();
	run_script(state, "malloc", "tests/fixtures/malloc_free", &r);
	assert_int_equal(total(&r, "calls", "malloc_free, "), 204);
	assert_int_equal(total(&r, "bytes", "malloc_free, "), 105250);
	assert_int_equal(total(&r, "size", "malloc_free"), 102);
	free(r.e);
}

/* leaky: 15769 bytes in 5 blocks stay allocated; 6 are released. */
static void test_leaks_bt(void **state)
{
	struct report r;

	REQUIRE_BPFTRACE();
	run_script(state, "leaks", "tests/fixtures/leaky", &r);
	assert_int_equal(total(&r, "leaked_bytes", "leaky, "), 15769);
	assert_int_equal(total(&r, "leaked_blocks", "leaky, "), 5);
	free(r.e);
}

static void test_lifetime_bt(void **state)
{
	struct report r;

	REQUIRE_BPFTRACE();
	run_script(state, "lifetime", "tests/fixtures/leaky", &r);
	assert_int_equal(total(&r, "freed", "leaky"), 6);
	assert_int_equal(total(&r, "alive", "leaky"), 5);
	assert_int_equal(total(&r, "lifetime_us", "leaky"), 6);
	free(r.e);
}

static void test_topcallers_bt(void **state)
{
	struct report r;

	REQUIRE_BPFTRACE();
	run_script(state, "topcallers", "tests/fixtures/malloc_free", &r);
	assert_int_equal(total(&r, "bytes", "malloc_free, "), 105250);
	assert_int_equal(total(&r, "calls", "malloc_free, "), 102);
	free(r.e);
}

/* Every script compiles (bpftrace --emit-elf: no probe is attached). */
static void test_scripts_compile(void **state)
{
	char shim[512];

	(void)state;
	REQUIRE_BPFTRACE();
	assert_non_null(realpath(build_path("libmemtrack-usdt.so"), shim));
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		char uprobe[128], usdt[128];
		const char *a[] = { BPFTRACE, "--emit-elf", "/dev/null", uprobe, NULL };
		const char *b[] = { BPFTRACE, "--emit-elf", "/dev/null", usdt, shim, NULL };

		snprintf(uprobe, sizeof(uprobe), "scripts/%s.bt", scripts[i]);
		snprintf(usdt, sizeof(usdt), "scripts/usdt/%s.bt", scripts[i]);
		if (run_quiet(a) != 0 || run_quiet(b) != 0)
			fail_msg("%s or %s does not compile", uprobe, usdt);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scripts_compile),
		BOTH_SOURCES(test_malloc_bt),
		BOTH_SOURCES(test_leaks_bt),
		BOTH_SOURCES(test_lifetime_bt),
		BOTH_SOURCES(test_topcallers_bt),
	};

	return cmocka_run_group_tests_name("scripts", tests, NULL, NULL);
}
