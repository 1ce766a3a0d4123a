// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Names for every frame a debugger would name, from wherever the debugger
 * would find them: a stripped binary's debug file named by .gnu_debuglink,
 * its MiniDebugInfo (.gnu_debugdata), and a debuginfod server, through
 * elfutils' libdebuginfod when DEBUGINFOD_URLS is set (here a real one,
 * Debian's debuginfod, serving a directory). The build-id directory and
 * the symbol tables are test_reports'.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

/* Trace leak_sites.VARIANT, then memtrack-report --leaks on the trace: its text. */
static char *leaks_of(const char *variant, struct trace *tr)
{
	const char *argv[] = { build_path("memtrack-report"), "--leaks", "--no-summary", NULL, NULL };
	char rel[128];
	const char *cmd[2] = { NULL, NULL };
	struct output o;
	char *text;

	snprintf(rel, sizeof(rel), "tests/fixtures/leak_sites.%s", variant);
	cmd[0] = build_path(rel);
	trace_run(tr, NULL, cmd);
	assert_int_equal(tr->status, 0);
	argv[3] = tr->out_path;
	run_io(argv, NULL, NULL, 0, &o);
	assert_int_equal(o.status, 0);
	text = strdup(o.out);
	output_free(&o);
	return text;
}

/* The 4096-byte leak's first frame: leak_big, with its file:line when lines is set. */
static void check_named(const char *report, bool lines, const char *what)
{
	const char *g = strstr(report, "\n4096 bytes in 1 block from pid ");
	const char *frame = g ? strchr(g + 1, '\n') : NULL;

	if (!frame || strncmp(frame + 1, "\tleak_big+0x", 12))
		fail_msg("%s: the leak is not named leak_big:\n%s", what, report);
	if (lines && strncmp(strchr(frame + 1, '(') ? strchr(frame + 1, '(') : "", "(tests/fixtures/leak_sites.c:", 29))
		fail_msg("%s: no file:line for leak_big:\n%s", what, report);
	if (!lines && strstr(report, "leak_sites.c:"))
		fail_msg("%s: file:line without DWARF:\n%s", what, report);
}

/* leak_sites.variant traced, its leaks reported: leak_big named (with file:line when lines). */
static void check_variant(const char *variant, bool lines, const char *what)
{
	struct trace tr;
	char *text;

	REQUIRE_BPF();
	text = leaks_of(variant, &tr);
	check_named(text, lines, what);
	free(text);
	trace_free(&tr);
}

static void test_debuglink(void **state)
{
	(void)state;
	check_variant("linked", true, ".gnu_debuglink");
}

/* Only the function symbols, xz'd: names, and no lines. */
static void test_minidebuginfo(void **state)
{
	(void)state;
	check_variant("minidebug", false, ".gnu_debugdata");
}

/* The HTTP status of GET path on 127.0.0.1:port, or 0 if nothing answers. */
static int http_status(int port, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[512], resp[64] = "";
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), status = 0;
	ssize_t n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
		if (write(fd, req, strlen(req)) == (ssize_t)strlen(req) &&
		    (n = read(fd, resp, sizeof(resp) - 1)) > 0) {
			resp[n] = '\0';
			sscanf(resp, "HTTP/%*s %d", &status);
		}
	}
	close(fd);
	return status;
}

/* The build-id the trace recorded for leak_sites.stripped. */
static const char *build_id_in(const struct trace *tr)
{
	for (size_t i = 0; i < tr->nev; i++)
		if (!strcmp(jstr(tr->ev[i], "type"), "Mapping") &&
		    strstr(jstr(tr->ev[i], "path"), "leak_sites.stripped") &&
		    *jstr(tr->ev[i], "build_id"))
			return jstr(tr->ev[i], "build_id");
	return NULL;
}

/*
 * A stripped binary whose debug file is only on a debuginfod server:
 * memtrack-report names its frames with file:line once DEBUGINFOD_URLS
 * points there, and not before.
 */
static void test_debuginfod(void **state)
{
	char dir[] = "/tmp/memtrack-debuginfod-XXXXXX", db[4200], cache[4200], url[64], path[128];
	const char *id;
	struct trace tr;
	char *before, *after;
	int port = 20000 + getpid() % 20000, status = 0;
	pid_t server;

	(void)state;
	REQUIRE_BPF();
	if (access("/usr/bin/debuginfod", X_OK))
		fail_msg("debuginfod is not installed (tools/deps.sh installs it)");
	before = leaks_of("stripped", &tr);
	if (strstr(before, "leak_big"))
		fail_msg("the stripped binary is named without its debug file:\n%s", before);
	id = build_id_in(&tr);
	assert_non_null(id);
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/index.sqlite", dir);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	server = fork();
	assert_true(server >= 0);
	if (server == 0) {
		char portarg[16];
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		snprintf(portarg, sizeof(portarg), "%d", port);
		/* the build-id directory of test_reports' stripped binary is the only place with its DWARF */
		execl("/usr/bin/debuginfod", "debuginfod", "-F", build_path("tests/debug"), "-p",
		      portarg, "-d", db, "-t", "0", "-g", "0", (char *)NULL);
		_exit(127);
	}
	/* until it has scanned the directory and serves the file */
	snprintf(path, sizeof(path), "/buildid/%s/debuginfo", id);
	for (int i = 0; i < 300 && status != 200; i++) {
		struct timespec ms100 = { 0, 100 * 1000 * 1000 };

		status = http_status(port, path);
		if (status != 200)
			nanosleep(&ms100, NULL);
	}
	if (status != 200) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		fail_msg("debuginfod on port %d did not serve %s (status %d)", port, path, status);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	setenv("DEBUGINFOD_URLS", url, 1);
	setenv("DEBUGINFOD_CACHE_PATH", cache, 1);
	{
		const char *argv[] = { build_path("memtrack-report"), "--leaks", "--no-summary",
				       tr.out_path, NULL };
		struct output o;

		run_io(argv, NULL, NULL, 0, &o);
		assert_int_equal(o.status, 0);
		after = strdup(o.out);
		output_free(&o);
	}
	unsetenv("DEBUGINFOD_URLS");
	unsetenv("DEBUGINFOD_CACHE_PATH");
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	snprintf(db, sizeof(db), "rm -rf '%s'", dir);
	if (system(db))
		print_message("could not remove %s\n", dir);
	check_named(after, true, "debuginfod");
	free(before);
	free(after);
	trace_free(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debuglink),
		cmocka_unit_test(test_minidebuginfo),
		cmocka_unit_test(test_debuginfod),
	};

	return cmocka_run_group_tests_name("debuginfo", tests, NULL, NULL);
}
