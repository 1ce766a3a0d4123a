// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Whole test suites of real software under the shim (issue 13): each suite
 * passes without the shim, with libmemtrack-usdt.so preloaded and idle, and
 * under memtrack-load --source usdt; the traced run drops nothing and sees
 * the suite's allocations (so that it cannot pass by tracing nothing).
 *
 * - Python's regression tests (Debian's libpython3.11-testsuite), run by
 *   regrtest: threads, subprocesses, signals, multiprocessing (fork), and
 *   modules that allocate much (dict, list, json, re). Python is a large
 *   real program whose tests fork, exec (keeping the preload), start
 *   threads, take signals in the middle of allocating, and leave grandchildren
 *   behind: everything the shim must survive unnoticed.
 * - memtrack's own unit tests: C programs that call libc's allocator
 *   directly and through libelf, libdw, json-c, protobuf-c and zlib, where
 *   python serves its small objects from its own arenas.
 *
 * The README ("Real test suites under the shim") says which modules, why
 * some classes are left out, and how long each run takes.
 *
 * Each run's output goes to a log file, not a pipe: a test's grandchild may
 * keep a pipe open long after the suite is done. The log is kept when a run
 * fails, and the failure names it.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

#define PYTHON "/usr/bin/python3.11"
/* a module of the testsuite package: if it is there, the package is */
#define PYTHON_TESTS "/usr/lib/python3.11/test/test_threading.py"
/* One run of a suite, at most (a busy machine, a traced run): then it is killed. */
#define RUN_TIMEOUT_S 1200
/*
 * Every distinct stack is kept: a suite of hundreds of python processes,
 * each with its own address layout, makes more (145,000 for test_subprocess
 * alone) than the default 16384, and past that each new stack would be a
 * stack_full drop (the allocation still counted, its stack not). The map
 * takes memory only as it fills.
 */
#define MAX_STACKS "1048576"

struct suite {
	const char *name;
	const char *const *argv;
	const char *success;  /* what the log says when all passed (NULL: the status alone) */
	long long min_allocs; /* the traced run sees at least this many */
};

/*
 * --timeout: a test module still running after this long is hung (the
 * slowest, test_subprocess, takes 40 s traced): its process is killed with
 * a traceback, and the run fails, to be run again (run_passing()).
 */
static const char *const python_core[] = {
	PYTHON, "-m", "test", "--timeout", "300",
	"test_threading", "test_subprocess", "test_signal",
	"test_dict", "test_list", "test_json", "test_re",
	/* test_signal: its 3 tests wait out 34 s of timeouts, allocating nothing */
	"-i", "SiginterruptTest",
	/* test_subprocess: ProcessTestCase again, with select() where it polls */
	"-i", "ProcessTestCaseNoPoll",
	/*
	 * test_signal: a race by design that its own comment says may see no
	 * signal at all; on a busy machine, with the process slowed by the
	 * tracer, it did (0 received), with nothing of memtrack's involved
	 */
	"-i", "test_stress_modifying_handlers",
	NULL
};

/*
 * The whole module takes 70 s plain, mostly waiting; these classes are the
 * processes' life (start, join, terminate, kill), pools, queues, pipes and
 * locks, with the fork start method: forked children carry the shim's
 * probes (shim/probe_sites.c).
 */
static const char *const python_multiprocessing[] = {
	PYTHON, "-m", "test", "--timeout", "180", "test_multiprocessing_fork",
	"-m", "WithProcessesTestProcess", "-m", "WithProcessesTestPool",
	"-m", "WithProcessesTestQueue", "-m", "WithProcessesTestConnection",
	"-m", "WithProcessesTestLock",
	NULL
};

static const char shell_loop[] =
	"status=0\n"
	"for t; do \"$t\" || { echo \"FAILED: $t\"; status=1; }; done\n"
	"exit $status\n";

static char workdir[] = "/tmp/memtrack-suites.XXXXXX";
static bool keep_logs; /* a run failed: its log stays for reading */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The last part of a log, for a failure message. */
static const char *log_tail(const char *path)
{
	static char tail[4096];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	tail[0] = '\0';
	if (!f)
		return "(no log)";
	if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof(tail) - 1)
		fseek(f, -(long)sizeof(tail) + 1, SEEK_END);
	else
		rewind(f);
	n = fread(tail, 1, sizeof(tail) - 1, f);
	tail[n] = '\0';
	fclose(f);
	return tail;
}

static bool log_holds(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/*
 * Run argv with envp, stdin /dev/null, stdout and stderr into log, in a
 * process group of its own (a test that signals its group reaches only
 * the suite); its exit status. Past RUN_TIMEOUT_S the group is killed and
 * the test fails.
 */
static int run_logged(const char *const *argv, char *const *envp, const char *log, double *secs)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	double start = now_s();
	int fd, wstatus, err;
	pid_t pid, done;

	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("cannot create %s: %s", log, strerror(errno));
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
							  O_RDONLY, 0),
			 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO), 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, fd, STDERR_FILENO), 0);
	assert_int_equal(posix_spawnattr_init(&attr), 0);
	assert_int_equal(posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP), 0);
	assert_int_equal(posix_spawnattr_setpgroup(&attr, 0), 0);
	err = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	if (err)
		fail_msg("cannot run %s: %s", argv[0], strerror(err));
	while ((done = waitpid(pid, &wstatus, WNOHANG)) == 0) {
		struct timespec tick = { 0, 200 * 1000 * 1000 };

		if (now_s() - start > RUN_TIMEOUT_S) {
			kill(-pid, SIGKILL);
			waitpid(pid, &wstatus, 0);
			keep_logs = true;
			fail_msg("%s still ran after %d s (killed); its log, %s, ends:\n%s", argv[0],
				 RUN_TIMEOUT_S, log, log_tail(log));
		}
		nanosleep(&tick, NULL);
	}
	assert_int_equal(done, pid);
	*secs = now_s() - start;
	return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
}

/*
 * One run that must pass: how long it took. A run that fails is run once
 * more, and must pass then: Python's own suites hang or fail now and then
 * with nothing of memtrack's in them (test_multiprocessing_fork's pools
 * deadlocked once in a plain run, shim and tracer nowhere). The first
 * run's log is kept and named; a failure that comes back is a failure.
 */
static double run_passing(const struct suite *s, const char *how, const char *const *argv,
			  char *const *envp)
{
	char log[128], first[160];
	double secs;
	int status;

	snprintf(log, sizeof(log), "%s/%s-%s.log", workdir, s->name, how);
	status = run_logged(argv, envp, log, &secs);
	if (status == 0 && (!s->success || log_holds(log, s->success)))
		return secs;
	snprintf(first, sizeof(first), "%s/%s-%s-first.log", workdir, s->name, how);
	if (rename(log, first))
		fail_msg("cannot keep %s as %s: %s", log, first, strerror(errno));
	keep_logs = true;
	print_message("%s %s: exit status %d after %.1f s (log %s); run once more\n", s->name, how,
		      status, secs, first);
	status = run_logged(argv, envp, log, &secs);
	if (status != 0 || (s->success && !log_holds(log, s->success)))
		fail_msg("%s %s: exit status %d after %.1f s, the second time too; its log, %s, "
			 "ends:\n%s",
			 s->name, how, status, secs, log, log_tail(log));
	return secs;
}

/* What memtrack's JSON summary says of a traced run. */
struct seen {
	long long allocs, processes, dropped;
	const char *drops; /* the drops object as JSON text, for the message */
};

static void read_summary(const char *path, struct seen *seen, struct json_object **doc)
{
	struct json_object *procs, *v;

	*doc = json_object_from_file(path);
	if (!*doc || !json_object_object_get_ex(*doc, "processes", &procs))
		fail_msg("no JSON summary in %s", path);
	seen->processes = (long long)json_object_array_length(procs);
	seen->allocs = 0;
	for (size_t i = 0; i < json_object_array_length(procs); i++)
		seen->allocs += jint(json_object_array_get_idx(procs, i), "allocs");
	seen->dropped = jint(*doc, "dropped");
	seen->drops = json_object_object_get_ex(*doc, "drops", &v) ?
			      json_object_to_json_string(v) : "(none)";
}

static void check_suite(const struct suite *s)
{
	char shim[PATH_MAX], loader[PATH_MAX], preload[PATH_MAX + 16], home[64], tmp[64];
	char *plain_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", home, tmp,
			      NULL, NULL };
	char *idle_env[6], *traced_env[6];
	const char *traced[64] = { loader, "--source", "usdt", "--max-stacks", MAX_STACKS,
				   "--json", "--report-file" };
	char report[128];
	size_t n = 7, k = 0;
	double plain, idle, listening;
	struct json_object *doc;
	struct seen seen;

	snprintf(home, sizeof(home), "HOME=%s", workdir);
	snprintf(tmp, sizeof(tmp), "TMPDIR=%s", workdir);
	/* absolute: regrtest runs in a directory of its own */
	if (!realpath(build_path("libmemtrack-usdt.so"), shim) ||
	    !realpath(build_path("memtrack-load"), loader))
		fail_msg("no %s or %s: run make first", build_path("libmemtrack-usdt.so"),
			 build_path("memtrack-load"));
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", shim);
	snprintf(report, sizeof(report), "%s/%s-summary.json", workdir, s->name);
	memcpy(idle_env, plain_env, sizeof(idle_env));
	idle_env[4] = preload;
	/* traced, each allocator call costs microseconds more: no time bounds */
	memcpy(traced_env, plain_env, sizeof(traced_env));
	traced_env[4] = "MEMTRACK_TEST_UNTIMED=1";
	traced[n++] = report;
	traced[n++] = "--";
	while (s->argv[k] && n + 1 < sizeof(traced) / sizeof(traced[0]))
		traced[n++] = s->argv[k++];
	assert_null(s->argv[k]);
	traced[n] = NULL;

	plain = run_passing(s, "plain", s->argv, plain_env);
	idle = run_passing(s, "idle", s->argv, idle_env);
	listening = run_passing(s, "traced", traced, traced_env);

	read_summary(report, &seen, &doc);
	print_message("%s: passed plain in %.1f s, with the shim idle in %.1f s, traced in "
		      "%.1f s; %lld allocations in %lld processes, %lld dropped %s\n",
		      s->name, plain, idle, listening, seen.allocs, seen.processes, seen.dropped,
		      seen.drops);
	if (seen.dropped != 0)
		fail_msg("%s: memtrack dropped %lld events: %s", s->name, seen.dropped, seen.drops);
	if (seen.allocs < s->min_allocs)
		fail_msg("%s: the traced run saw %lld allocations, fewer than %lld", s->name,
			 seen.allocs, s->min_allocs);
	json_object_put(doc);
}

/* What every suite needs: BPF, an uninstrumented run, and a place to work. */
static void require_suites(void)
{
	REQUIRE_BPF();
#ifdef __SANITIZE_ADDRESS__
	/*
	 * The suites run uninstrumented programs (python, the plain build's
	 * unit tests) under the plain shim: the sanitized pass would repeat
	 * the plain pass's runs exactly, and add nothing.
	 */
	print_message("skipped: the same uninstrumented runs as the plain build's\n");
	skip();
#endif
}

static void require_python_tests(void)
{
	if (access(PYTHON, X_OK) == 0 && access(PYTHON_TESTS, R_OK) == 0)
		return;
	if (getenv("CI"))
		fail_msg("%s and its tests are required under CI "
			 "(tools/deps.sh installs libpython3.11-testsuite)",
			 PYTHON);
	print_message("skipped: no %s or no %s (libpython3.11-testsuite)\n", PYTHON, PYTHON_TESTS);
	skip();
}

static void test_python_regrtest(void **state)
{
	static const struct suite s = { "python-core", python_core, "Tests result: SUCCESS",
					100000 };

	(void)state;
	require_suites();
	require_python_tests();
	check_suite(&s);
}

static void test_python_multiprocessing(void **state)
{
	static const struct suite s = { "python-multiprocessing", python_multiprocessing,
					"Tests result: SUCCESS", 10000 };

	(void)state;
	require_suites();
	require_python_tests();
	check_suite(&s);
}

static void test_memtrack_unit_tests(void **state)
{
	const char *argv[64] = { "/bin/sh", "-c", shell_loop, "sh" };
	struct suite s = { "memtrack-unit-tests", argv, NULL, 10000 };
	size_t n = 4;
	glob_t g;

	(void)state;
	require_suites();
	assert_int_equal(glob(build_path("tests/unit/test_*"), 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];
		size_t len = strlen(p);

		if ((len > 2 && (!strcmp(p + len - 2, ".d") || !strcmp(p + len - 2, ".o"))) ||
		    access(p, X_OK))
			continue;
		assert_true(n + 1 < sizeof(argv) / sizeof(argv[0]));
		argv[n++] = p;
	}
	assert_true(n > 4);
	argv[n] = NULL;
	check_suite(&s);
	globfree(&g);
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(workdir)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* The work directory goes unless a run failed: then its logs are kept for reading. */
static int group_teardown(void **state)
{
	const char *const rm[] = { "/bin/rm", "-rf", workdir, NULL };

	(void)state;
	if (keep_logs) {
		fprintf(stderr, "the logs stay in %s\n", workdir);
		return 0;
	}
	return run_quiet(rm) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_python_regrtest),
		cmocka_unit_test(test_python_multiprocessing),
		cmocka_unit_test(test_memtrack_unit_tests),
	};

	return cmocka_run_group_tests_name("real_suites", tests, group_setup, group_teardown);
}
