// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Bad input (SPEC.md section 5): each case gets one line on stderr that
 * names the problem, and its documented exit status.
 */
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

extern char **environ;

/* Run memtrack-load with exactly these arguments; expect status and one stderr line. */
static void expect_refusal(const char *const *args, int status, const char *words)
{
	struct trace tr;

	trace_run(&tr, args, NULL);
	if (tr.status != status)
		fail_msg("expected exit %d, got %d; stderr:\n%s", status, tr.status, tr.err);
	if (!strstr(tr.err, words))
		fail_msg("stderr does not say \"%s\":\n%s", words, tr.err);
	if (strncmp(tr.err, "memtrack-load: ", 15) != 0 || strchr(tr.err, '\n') != tr.err + tr.err_len - 1)
		fail_msg("expected one line starting 'memtrack-load: ', got:\n%s", tr.err);
	assert_int_equal(tr.nev, 0); /* nothing traced, nothing written */
	trace_free(&tr);
}

static void test_usage_errors(void **state)
{
	const char *none[] = { NULL };
	const char *dashdash[] = { "--", NULL };
	const char *unknown[] = { "--frobnicate", "--", "/bin/true", NULL };
	const char *both[] = { "-p", "1", "--", "/bin/true", NULL };
	const char *bad_pid[] = { "-p", "12abc", NULL };
	const char *bad_size[] = { "--ringbuf-size", "1000", "--", "/bin/true", NULL };
	const char *bad_duration[] = { "-d", "-1", "--", "/bin/true", NULL };

	(void)state;
	expect_refusal(none, 2, "no command");
	expect_refusal(dashdash, 2, "no command");
	expect_refusal(unknown, 2, "unknown option '--frobnicate'");
	expect_refusal(both, 2, "not both");
	expect_refusal(bad_pid, 2, "invalid PID '12abc'");
	expect_refusal(bad_size, 2, "invalid ring-buffer size '1000'");
	expect_refusal(bad_duration, 2, "invalid duration '-1'");
}

static void test_ringbuf_size_out_of_range(void **state)
{
	const char *small[] = { "--ringbuf-size", "1024", "--", "/bin/true", NULL };
	const char *one[] = { "--ringbuf-size", "1", "--", "/bin/true", NULL };
	const char *large[] = { "--ringbuf-size", "2G", "--", "/bin/true", NULL };
	const char *odd[] = { "--ringbuf-size", "12K", "--", "/bin/true", NULL };

	(void)state;
	REQUIRE_BPF();
	expect_refusal(small, 2, "out of range: a power of two from 4096 bytes to 1G");
	expect_refusal(one, 2, "size 1 is out of range"); /* 1 is a power of two: too small */
	expect_refusal(large, 2, "out of range: a power of two from 4096 bytes to 1G");
	expect_refusal(odd, 2, "invalid ring-buffer size '12K' (a power of two");
}

static void test_missing_command(void **state)
{
	const char *by_name[] = { "--", "memtrack-no-such-command", NULL };
	const char *by_path[] = { "--", "/nonexistent/dir/prog", NULL };

	(void)state;
	REQUIRE_BPF();
	expect_refusal(by_name, 127, "memtrack-no-such-command: command not found");
	expect_refusal(by_path, 127, "No such file or directory");
}

static void test_non_executable_file(void **state)
{
	char path[] = "/tmp/memtrack-noexec-XXXXXX";
	const char *args[] = { "--", path, NULL };
	const char *dir[] = { "--", "/tmp", NULL };
	int fd;

	(void)state;
	REQUIRE_BPF();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	chmod(path, 0644);
	expect_refusal(args, 126, "Permission denied");
	expect_refusal(dir, 126, "Is a directory");
	unlink(path);
}

static void test_dead_pid(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	char pid_text[16];
	const char *args[] = { "-p", pid_text, NULL };
	pid_t pid;

	(void)state;
	REQUIRE_BPF();
	/* A PID that existed a moment ago and is now certainly gone. */
	assert_int_equal(posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)argv, environ), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	expect_refusal(args, 3, "no process with PID");
}

/* Refused before the command starts: the command must not have run at all. */
static void test_unwritable_output(void **state)
{
	char marker[] = "/tmp/memtrack-marker-XXXXXX";
	const char *argv[] = { build_path("memtrack-load"), "-o", "/nonexistent/dir/ev.jsonl", "--",
			       "/usr/bin/touch", marker, NULL };
	posix_spawn_file_actions_t fa;
	int errpipe[2], wstatus, fd;
	char err[512] = "";
	ssize_t n;
	pid_t pid;

	(void)state;
	fd = mkstemp(marker);
	assert_true(fd >= 0);
	close(fd);
	unlink(marker);
	assert_int_equal(pipe(errpipe), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, errpipe[1], STDERR_FILENO);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(errpipe[1]);
	n = read(errpipe[0], err, sizeof(err) - 1);
	close(errpipe[0]);
	assert_true(n > 0);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_int_equal(WEXITSTATUS(wstatus), 6);
	assert_non_null(strstr(err, "cannot write /nonexistent/dir/ev.jsonl"));
	assert_int_equal(access(marker, F_OK), -1); /* touch never ran */
}

static void test_allocator_without_malloc(void **state)
{
	const char *no_malloc[] = { "-l", build_path("tests/fixtures/libnomalloc.so"), "--",
				    "/bin/true", NULL };
	const char *missing[] = { "-l", "/nonexistent/libfoo.so", "--", "/bin/true", NULL };
	const char *not_elf[] = { "-l", "/etc/passwd", "--", "/bin/true", NULL };
	const char *unknown_name[] = { "-l", "libmemtrack-no-such.so.9", "--", "/bin/true", NULL };

	(void)state;
	REQUIRE_BPF();
	expect_refusal(no_malloc, 5, "has no malloc function");
	expect_refusal(missing, 5, "cannot open allocator /nonexistent/libfoo.so");
	expect_refusal(not_elf, 5, "not an ELF file");
	expect_refusal(unknown_name, 5, "cannot find allocator library libmemtrack-no-such.so.9");
}

/* SUDO_UID that is not a number: refused, not a command run as root. */
static void test_bad_sudo_ids(void **state)
{
	const char *argv[] = { build_path("memtrack-load"), "--", "/bin/true", NULL };
	char *envp[] = { "SUDO_UID=abc", "SUDO_GID=0", "PATH=/usr/bin:/bin", NULL };
	struct output o;

	(void)state;
	REQUIRE_BPF();
	run_io(argv, envp, NULL, 0, &o);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "SUDO_UID 'abc'"));
	output_free(&o);
}

/* -d 1e300 is forever, not the 9 ms its nanoseconds once overflowed to. */
static void test_huge_duration(void **state)
{
	const char *opts[] = { "-d", "1e300", NULL };
	const char *cmd[] = { "/bin/sleep", "0.3", NULL };
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	assert_int_equal(tr.status, 0);
	assert_non_null(trace_find(&tr, "Exit", -1)); /* traced to its end */
	trace_free(&tr);
}

/*
 * Outputs are not written through a symlink another user planted in a
 * world-writable sticky directory (as /tmp is): root's writes would land
 * on whatever it points to. Both tools refuse, and the target is intact.
 */
static void test_planted_symlink_refused(void **state)
{
	char dir[] = "/tmp/memtrack-sticky-XXXXXX", target[64], link[64];
	const char *opts[] = { "-o", link, "--", "/bin/true", NULL };
	const char *report[] = { build_path("memtrack-report"), "--report-file", link,
				 "tests/fixtures/two_procs.jsonl", NULL };
	const char *argv[8] = { build_path("memtrack-load") };
	struct output o;
	struct stat st;
	FILE *f;

	(void)state;
	REQUIRE_BPF();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 01777), 0);
	snprintf(target, sizeof(target), "%s/precious", dir);
	snprintf(link, sizeof(link), "%s/trace.jsonl", dir);
	f = fopen(target, "w");
	assert_non_null(f);
	fputs("keep me\n", f);
	fclose(f);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(lchown(link, 65534, 65534), 0); /* made by nobody */
	for (size_t i = 0; opts[i]; i++)
		argv[i + 1] = opts[i];
	run_io(argv, NULL, NULL, 0, &o);
	assert_int_equal(o.status, 6);
	assert_non_null(strstr(o.err, "a symlink another user made"));
	output_free(&o);
	run_io(report, NULL, NULL, 0, &o);
	assert_int_equal(o.status, 6);
	assert_non_null(strstr(o.err, "a symlink another user made"));
	output_free(&o);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 8); /* untouched */
	unlink(link);
	unlink(target);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_ringbuf_size_out_of_range),
		cmocka_unit_test(test_missing_command),
		cmocka_unit_test(test_non_executable_file),
		cmocka_unit_test(test_dead_pid),
		cmocka_unit_test(test_unwritable_output),
		cmocka_unit_test(test_allocator_without_malloc),
		cmocka_unit_test(test_bad_sudo_ids),
		cmocka_unit_test(test_huge_duration),
		cmocka_unit_test(test_planted_symlink_refused),
	};

	return cmocka_run_group_tests_name("bad_input", tests, NULL, NULL);
}
