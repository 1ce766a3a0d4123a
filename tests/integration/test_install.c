// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make install and make uninstall, staged under a temporary DESTDIR with a
 * PREFIX and a LIBDIR of their own: every file is where the README says,
 * memtrack.pc and memtrack-load name that LIBDIR, the installed tools run
 * (one real trace through the installed memtrack-load and shim, read by
 * the installed memtrack-report), and uninstall leaves no file behind.
 */
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

#define PREFIX "/opt/memtrack-test"
#define LIBDIR PREFIX "/lib64"

static char src[PATH_MAX], build[PATH_MAX], dest[64] = "/tmp/memtrack-install-XXXXXX";

/* The source tree: here, where tests run; else the build directory's parent. */
static void find_dirs(void)
{
	const char *b = getenv("BUILD") ? getenv("BUILD") : "build";
	char copy[PATH_MAX];

	if (!realpath(b, build))
		fail_msg("cannot find the build directory %s: %s", b, strerror(errno));
	if (access("Makefile", R_OK) == 0 && access("loader/memtrack.pc.in", R_OK) == 0) {
		assert_non_null(getcwd(src, sizeof(src)));
	} else {
		snprintf(copy, sizeof(copy), "%s", build);
		snprintf(src, sizeof(src), "%s", dirname(copy));
	}
}

/* make TARGET in the source tree, with the build directory and vars (NULL-terminated) */
static void make(const char *target, const char *const *vars)
{
	char build_var[PATH_MAX + 8];
	const char *argv[16] = { "/usr/bin/make", "-s", "--no-print-directory", "-C", src,
				 build_var };
	size_t n = 6;
	struct output o;

	snprintf(build_var, sizeof(build_var), "BUILD=%s", build);
	for (size_t i = 0; vars[i]; i++)
		argv[n++] = vars[i];
	argv[n++] = target;
	argv[n] = NULL;
	run_io(argv, NULL, NULL, 0, &o);
	if (o.status != 0)
		fail_msg("make %s failed (status %d): %s", target, o.status, o.err);
	output_free(&o);
}

/* dest/PREFIX/rel */
static const char *staged(const char *rel)
{
	static char path[4][PATH_MAX];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, PATH_MAX, "%s%s/%s", dest, PREFIX, rel);
	return p;
}

static void expect_file(const char *rel)
{
	struct stat st;

	if (stat(staged(rel), &st) || !S_ISREG(st.st_mode) || st.st_size == 0)
		fail_msg("make install did not install %s", staged(rel));
}

/* every file of pattern (in the source tree) installed under dir */
static void expect_each(const char *pattern, const char *dir)
{
	char rel[PATH_MAX];
	glob_t g;

	switch (glob(pattern, 0, NULL, &g)) {
	case 0:
		break;
	case GLOB_NOMATCH:
		return;
	default:
		fail_msg("cannot list %s", pattern);
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		snprintf(rel, sizeof(rel), "%s/%s", dir, strrchr(g.gl_pathv[i], '/') + 1);
		expect_file(rel);
	}
	globfree(&g);
}

/* Does the file hold text? */
static bool holds(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	size_t len = strlen(text), size;
	char *buf;
	bool found;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = (size_t)ftell(f);
	rewind(f);
	buf = malloc(size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, size, f), size);
	fclose(f);
	found = memmem(buf, size, text, len) != NULL;
	free(buf);
	return found;
}

static void run_ok(const char *const *argv, const char *expect)
{
	struct output o;

	run_io(argv, NULL, NULL, 0, &o);
	if (o.status != 0 || !strstr(o.out, expect))
		fail_msg("%s %s: status %d, expected '%s' in its output:\n%s%s", argv[0],
			 argv[1], o.status, expect, o.out, o.err);
	output_free(&o);
}

static int file_left(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type != FTW_D && type != FTW_DP)
		fail_msg("make uninstall left %s", path);
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* One trace through the installed memtrack-load, its shim, and memtrack-report. */
static void remember_build(void);

static void installed_trace(void)
{
	char dir[] = "/tmp/memtrack-install-trace-XXXXXX", trace[64], fixture[PATH_MAX + 32];
	const char *load[] = { staged("bin/memtrack-load"), "--source", "usdt", "-o", trace,
			       "--", fixture, NULL };
	const char *report[] = { staged("bin/memtrack-report"), "--leaks", trace, NULL };
	struct output o;

	assert_non_null(mkdtemp(dir));
	snprintf(trace, sizeof(trace), "%s/trace.jsonl", dir);
	snprintf(fixture, sizeof(fixture), "%s/tests/fixtures/one_pair", build);
	/* the staged LIBDIR is not LIBDIR itself: say where the shim was put */
	setenv("MEMTRACK_USDT_SHIM", staged("lib64/libmemtrack-usdt.so"), 1);
	run_io(load, NULL, NULL, 0, &o);
	unsetenv("MEMTRACK_USDT_SHIM");
	if (o.status != 0)
		fail_msg("installed memtrack-load: status %d: %s", o.status, o.err);
	/* the summary: one process, its one allocation of 4321 bytes */
	if (!strstr(o.err, " 4321 ") || !strstr(o.err, "one_pair"))
		fail_msg("installed memtrack-load: no malloc(4321) of one_pair in:\n%s", o.err);
	output_free(&o);
	run_ok(report, "one_pair");
	unlink(trace);
	rmdir(dir);
}

static void test_install_and_uninstall(void **state)
{
	char dest_var[80], pc[PATH_MAX];
	const char *vars[] = { dest_var, "PREFIX=" PREFIX, "LIBDIR=" LIBDIR, NULL };
	const char *tools[] = { "bin/memtrack-load", "bin/memtrack-report", "bin/memtrack-plot" };

	(void)state;
	find_dirs();
	remember_build();
	assert_non_null(mkdtemp(dest));
	snprintf(dest_var, sizeof(dest_var), "DESTDIR=%s", dest);
	make("install", vars);

	for (size_t i = 0; i < 3; i++)
		expect_file(tools[i]);
	expect_file("lib64/libmemtrack.a");
	expect_file("lib64/libmemtrack.so.1");
	expect_file("lib64/libmemtrack-usdt.so");
	expect_file("include/memtrack.h");
	expect_file("include/memtrack_usdt.h");
	expect_file("lib64/pkgconfig/memtrack.pc");
	expect_each("docs/*.1", "share/man/man1");
	expect_each("docs/*.5", "share/man/man5"); /* none yet, maybe */
	expect_each("scripts/*.bt", "share/memtrack/scripts");
	expect_each("scripts/usdt/*.bt", "share/memtrack/scripts/usdt");
	expect_file("share/bash-completion/completions/memtrack-load");
	expect_file("share/bash-completion/completions/memtrack-report");
	expect_file("share/bash-completion/completions/memtrack-plot");
	expect_file("share/doc/memtrack/LICENSE");
	/* LIBDIR, in the .pc and where memtrack-load looks for the shim */
	snprintf(pc, sizeof(pc), "%s", staged("lib64/pkgconfig/memtrack.pc"));
	if (!holds(pc, "libdir=" LIBDIR "\n"))
		fail_msg("%s does not say libdir=%s", pc, LIBDIR);
	if (!holds(staged("bin/memtrack-load"), LIBDIR "/libmemtrack-usdt.so"))
		fail_msg("the installed memtrack-load does not look for the shim in %s", LIBDIR);

	run_ok((const char *[]){ staged("bin/memtrack-load"), "--version", NULL }, "memtrack-load ");
	run_ok((const char *[]){ staged("bin/memtrack-load"), "--help", NULL }, "Usage: ");
	run_ok((const char *[]){ staged("bin/memtrack-report"), "--help", NULL }, "Usage: ");
	run_ok((const char *[]){ staged("bin/memtrack-plot"), "--help", NULL }, "Usage: ");
	if (!bpf_unavailable_reason())
		installed_trace();
	else if (getenv("CI"))
		fail_msg("BPF is required under CI, but %s", bpf_unavailable_reason());
	else
		print_message("no trace through the installed tools: %s\n",
			      bpf_unavailable_reason());

	make("uninstall", vars);
	assert_int_equal(nftw(dest, file_left, 16, FTW_PHYS), 0);
	assert_int_equal(nftw(dest, remove_one, 16, FTW_PHYS | FTW_DEPTH), 0);
}

/*
 * The directories the build was made for (its install-dirs), read before
 * make install remakes memtrack-load and memtrack.pc for the test's own,
 * and made for them again after: the build is left as it was.
 */
static char was[3][PATH_MAX + 16];

static void remember_build(void)
{
	static const char *const names[] = { "PREFIX", "LIBDIR", "INCLUDEDIR" };
	char line[3 * PATH_MAX], path[PATH_MAX + 16], *save = NULL, *word;
	FILE *f;

	snprintf(path, sizeof(path), "%s/install-dirs", build);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot read %s: %s (run make first)", path, strerror(errno));
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	word = strtok_r(line, " \n", &save);
	for (size_t i = 0; i < 3; i++, word = strtok_r(NULL, " \n", &save)) {
		if (!word)
			fail_msg("%s does not name PREFIX, LIBDIR and INCLUDEDIR", path);
		snprintf(was[i], sizeof(was[i]), "%s=%s", names[i], word);
	}
}

static int restore_build(void **state)
{
	const char *vars[] = { was[0], was[1], was[2], NULL };

	(void)state;
	if (was[0][0]) {
		make("cli", vars);
		make("lib", vars);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_install_and_uninstall, restore_build),
	};

	return cmocka_run_group_tests_name("install", tests, NULL, NULL);
}
