// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* loader/cli/cli_options: memtrack-load's command line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_options.h"

#define MAX_ARGS 32

/* The arguments of the last parse; o->argv points into them. */
static char *args[MAX_ARGS + 2];
static char err[256];

/* cli_parse of "memtrack-load" followed by the NULL-terminated arguments. */
static enum cli_parse_result parse(struct cli_options *o, ...)
{
	va_list ap;
	int argc = 0;
	char *arg;

	args[argc++] = "memtrack-load";
	va_start(ap, o);
	while ((arg = va_arg(ap, char *)) != NULL && argc <= MAX_ARGS)
		args[argc++] = arg;
	va_end(ap);
	args[argc] = NULL;
	memset(err, 0, sizeof(err));
	return cli_parse(argc, args, o, err, sizeof(err));
}

static void assert_usage_naming(enum cli_parse_result r, const char *what)
{
	assert_int_equal(r, CLI_USAGE);
	if (!strstr(err, what))
		fail_msg("usage message \"%s\" does not name \"%s\"", err, what);
}

static void a_command_after_the_options_is_the_traced_argv(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "-o", "ev.jsonl", "ls", NULL), CLI_RUN);
	assert_non_null(o.argv);
	assert_string_equal(o.argv[0], "ls");
	assert_null(o.argv[1]);
	assert_string_equal(o.output, "ev.jsonl");
	assert_int_equal(o.npids, 0);
	assert_int_equal(o.verbose, 0);
	assert_false(o.strict);
	assert_false(o.no_children);
	assert_int_equal(o.ringbuf_size, 0);
	assert_true(o.duration == 0);
	cli_options_free(&o);
}

static void a_command_after_double_dash_is_the_traced_argv(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "-v", "--", "-p", "x", NULL), CLI_RUN);
	assert_string_equal(o.argv[0], "-p");
	assert_string_equal(o.argv[1], "x");
	assert_null(o.argv[2]);
	assert_int_equal(o.npids, 0);
	assert_int_equal(o.verbose, 1);
	cli_options_free(&o);
}

static void options_of_the_command_are_left_to_the_command(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "ls", "-l", NULL), CLI_RUN);
	assert_string_equal(o.argv[0], "ls");
	assert_string_equal(o.argv[1], "-l");
	assert_null(o.argv[2]);
	assert_int_equal(o.nlibs, 0);
	cli_options_free(&o);

	assert_int_equal(parse(&o, "-v", "make", "-p", "12", "-v", "--strict", NULL), CLI_RUN);
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.npids, 0);
	assert_false(o.strict);
	assert_string_equal(o.argv[0], "make");
	assert_string_equal(o.argv[1], "-p");
	assert_string_equal(o.argv[2], "12");
	assert_string_equal(o.argv[3], "-v");
	assert_string_equal(o.argv[4], "--strict");
	assert_null(o.argv[5]);
	cli_options_free(&o);
}

static void every_flag_and_value_is_parsed(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "--output", "-", "--no-children", "--strict", "--duration",
			       "2.5", "--lib", "libjemalloc.so.2", "--ringbuf-size", "1M",
			       "--verbose", "--", "./app", NULL),
			 CLI_RUN);
	assert_string_equal(o.output, "-");
	assert_true(o.no_children);
	assert_true(o.strict);
	assert_true(o.duration == 2.5);
	assert_int_equal(o.nlibs, 1);
	assert_string_equal(o.libs[0], "libjemalloc.so.2");
	assert_null(o.libs[1]);
	assert_int_equal(o.ringbuf_size, 1 << 20);
	assert_int_equal(o.verbose, 1);
	assert_string_equal(o.argv[0], "./app");
	cli_options_free(&o);
}

static void repeated_pids_are_all_kept_in_order(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "-p", "12", "--pid", "34", "-p56", "--pid=78", NULL), CLI_RUN);
	assert_null(o.argv);
	assert_int_equal(o.npids, 4);
	assert_int_equal(o.pids[0], 12);
	assert_int_equal(o.pids[1], 34);
	assert_int_equal(o.pids[2], 56);
	assert_int_equal(o.pids[3], 78);
	cli_options_free(&o);
	assert_null(o.pids);
	assert_int_equal(o.npids, 0);
}

static void a_pid_list_is_comma_separated_as_pgrep_writes_it(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "-p", "12,34", "--pid=56", "-p78,90,11", NULL), CLI_RUN);
	assert_int_equal(o.npids, 6);
	assert_int_equal(o.pids[0], 12);
	assert_int_equal(o.pids[1], 34);
	assert_int_equal(o.pids[2], 56);
	assert_int_equal(o.pids[3], 78);
	assert_int_equal(o.pids[4], 90);
	assert_int_equal(o.pids[5], 11);
	cli_options_free(&o);
}

static void a_bad_pid_in_a_list_is_named_with_the_list(void **state)
{
	static const char *const bad[][2] = {
		{ "12,x", "'x' in '12,x'" },   { "12,,34", "'' in '12,,34'" },
		{ "12,", "'' in '12,'" },      { ",12", "'' in ',12'" },
		{ "12, 34", "' 34' in" },      { "12,0", "'0' in '12,0'" },
		{ "12,+3", "'+3' in" },	       { "", "did pgrep find no process" },
	};
	struct cli_options o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_usage_naming(parse(&o, "-p", bad[i][0], NULL), bad[i][1]);
		cli_options_free(&o);
	}
}

static void invalid_pids_are_usage_errors(void **state)
{
	struct cli_options o;

	(void)state;
	assert_usage_naming(parse(&o, "-p", "0", NULL), "'0'");
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "-p", "-5", NULL), "'-5'");
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "-p", "12abc", NULL), "'12abc'");
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "-p", "99999999999", NULL), "'99999999999'");
	cli_options_free(&o);
}

static void repeated_libs_are_all_kept_null_terminated(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "-l", "/opt/a.so", "--lib", "libb.so.1", "-l", "c.so", "true",
			       NULL),
			 CLI_RUN);
	assert_int_equal(o.nlibs, 3);
	assert_string_equal(o.libs[0], "/opt/a.so");
	assert_string_equal(o.libs[1], "libb.so.1");
	assert_string_equal(o.libs[2], "c.so");
	assert_null(o.libs[3]);
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "-l", "", "true", NULL), "-l");
	cli_options_free(&o);
}

static void ringbuf_size_takes_k_m_and_g_suffixes(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "--ringbuf-size", "64K", "true", NULL), CLI_RUN);
	assert_int_equal(o.ringbuf_size, 64 << 10);
	cli_options_free(&o);
	assert_int_equal(parse(&o, "--ringbuf-size=16m", "true", NULL), CLI_RUN);
	assert_int_equal(o.ringbuf_size, 16 << 20);
	cli_options_free(&o);
	assert_int_equal(parse(&o, "--ringbuf-size", "1G", "true", NULL), CLI_RUN);
	assert_int_equal(o.ringbuf_size, 1 << 30);
	cli_options_free(&o);
	assert_int_equal(parse(&o, "--ringbuf-size", "4096", "true", NULL), CLI_RUN);
	assert_int_equal(o.ringbuf_size, 4096);
	cli_options_free(&o);
}

static void ringbuf_size_rejects_non_powers_of_two_and_garbage(void **state)
{
	static const char *const bad[] = { "3000", "12K", "0", "0K", "abc", "4Q",
					   "-4K", "",	  "M",  "4K5" };
	struct cli_options o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char quoted[32];

		snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
		assert_usage_naming(parse(&o, "--ringbuf-size", bad[i], "true", NULL), quoted);
		cli_options_free(&o);
	}
}

static void duration_accepts_fractions(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "-d", "0.25", "-p", "1", NULL), CLI_RUN);
	assert_true(o.duration == 0.25);
	cli_options_free(&o);
	assert_int_equal(parse(&o, "-d30", "-p", "1", NULL), CLI_RUN);
	assert_true(o.duration == 30.0);
	cli_options_free(&o);
}

/* -d reads a time as --min-age does: one parser for both */
static void duration_takes_s_m_and_h_units(void **state)
{
	static const struct {
		const char *arg;
		double sec;
	} good[] = { { "30s", 30 }, { "1.5m", 90 }, { "2h", 7200 }, { "500ms", 0.5 },
		     { "2min", 120 }, { "250us", 250e-6 } };
	struct cli_options o;
	unsigned long long ns;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse(&o, "-d", good[i].arg, "-p", "1", NULL), CLI_RUN);
		if (fabs(o.duration - good[i].sec) > 1e-9)
			fail_msg("-d %s: %g seconds, expected %g", good[i].arg, o.duration,
				 good[i].sec);
		cli_options_free(&o);
		assert_int_equal(cli_parse_duration(good[i].arg, &ns), 0);
		assert_true(fabs((double)ns - good[i].sec * 1e9) < 1);
	}
	/* more than 64 bits of ns hold is forever, not an overflow */
	assert_int_equal(cli_parse_duration("1e30h", &ns), 0);
	assert_true(ns == ULLONG_MAX);
	assert_int_equal(parse(&o, "-d", "1e300", "-p", "1", NULL), CLI_RUN);
	assert_true(o.duration > 1e10);
	cli_options_free(&o);
	assert_int_equal(parse(&o, "--min-age", "1.5m", "true", NULL), CLI_RUN);
	assert_true(o.report.min_age_ns == 90000000000ULL);
	cli_options_free(&o);
}

static void duration_rejects_zero_negative_and_garbage(void **state)
{
	static const char *const bad[] = { "0",	  "0.0", "-1",	"-0.5", "abc", "5x",
					   "",	  "inf", "nan", "0s",	"1d",  "5 s",
					   "s",	  "-1m" };
	struct cli_options o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char quoted[32];

		snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
		assert_usage_naming(parse(&o, "-d", bad[i], "-p", "1", NULL), quoted);
		cli_options_free(&o);
	}
}

static void an_unknown_short_option_is_a_usage_error_naming_it(void **state)
{
	struct cli_options o;

	(void)state;
	assert_usage_naming(parse(&o, "-x", "ls", NULL), "-x");
	cli_options_free(&o);
	/* at the end of a cluster of valid ones */
	assert_usage_naming(parse(&o, "-vj", "ls", NULL), "-j");
	cli_options_free(&o);
}

static void an_unknown_long_option_is_a_usage_error_naming_it(void **state)
{
	struct cli_options o;

	(void)state;
	assert_usage_naming(parse(&o, "--bogus", "ls", NULL), "--bogus");
	cli_options_free(&o);
}

/* A value given to an option that takes none ("--strict=yes") is named as it was written. */
static void a_value_given_to_a_flag_option_is_a_usage_error_naming_it(void **state)
{
	struct cli_options o;

	(void)state;
	assert_usage_naming(parse(&o, "--strict=yes", "ls", NULL), "--strict");
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "--no-children=1", "ls", NULL), "--no-children");
	cli_options_free(&o);
}

static void a_missing_value_is_a_usage_error_naming_the_option(void **state)
{
	struct cli_options o;

	(void)state;
	assert_usage_naming(parse(&o, "-p", NULL), "-p");
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "-o", NULL), "-o");
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "--duration", NULL), "--duration");
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "--ringbuf-size", NULL), "--ringbuf-size");
	cli_options_free(&o);
}

static void a_command_and_a_pid_together_are_a_usage_error(void **state)
{
	struct cli_options o;

	(void)state;
	assert_usage_naming(parse(&o, "-p", "1", "ls", NULL), "not both");
	cli_options_free(&o);
}

/*
 * --peak and --massif need the events a report-only run keeps in the
 * kernel as totals: refused, with the fix named.
 */
static void peak_or_massif_in_a_report_only_run_is_a_usage_error_naming_the_fix(void **state)
{
	struct cli_options o;

	(void)state;
	assert_usage_naming(parse(&o, "--peak", "ls", NULL), "--no-aggregate");
	assert_non_null(strstr(err, "--peak"));
	cli_options_free(&o);
	assert_int_equal(parse(&o, "--peak", "--no-aggregate", "ls", NULL), CLI_RUN);
	assert_true(o.report.peak && !cli_report_only(&o));
	cli_options_free(&o);
	assert_int_equal(parse(&o, "--peak", "-o", "x", "ls", NULL), CLI_RUN);
	cli_options_free(&o);
	assert_int_equal(parse(&o, "--peak", "-T", "ls", NULL), CLI_RUN);
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "--massif", "m.out", "ls", NULL), "--no-aggregate");
	assert_non_null(strstr(err, "--massif"));
	cli_options_free(&o);
}

static void neither_a_command_nor_a_pid_is_a_usage_error(void **state)
{
	struct cli_options o;

	(void)state;
	assert_usage_naming(parse(&o, NULL), "no command");
	cli_options_free(&o);
	assert_usage_naming(parse(&o, "-v", "-o", "x", "--", NULL), "no command");
	cli_options_free(&o);
}

static void each_v_adds_a_level_of_verbosity(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "-vv", "--verbose", "-v", "ls", NULL), CLI_RUN);
	assert_int_equal(o.verbose, 4);
	cli_options_free(&o);
	assert_int_equal(parse(&o, "ls", NULL), CLI_RUN);
	assert_int_equal(o.verbose, 0);
	cli_options_free(&o);
}

/* A parse that stopped inside "-jv" must not hand its leftover "v" to the next one. */
static void a_parse_starts_afresh_after_one_that_stopped_mid_cluster(void **state)
{
	struct cli_options o;

	(void)state;
	assert_int_equal(parse(&o, "-jv", "ls", NULL), CLI_USAGE);
	cli_options_free(&o);
	assert_int_equal(parse(&o, "ls", NULL), CLI_RUN);
	assert_int_equal(o.verbose, 0);
	assert_string_equal(o.argv[0], "ls");
	cli_options_free(&o);
}

static void help_and_version_are_printed_to_stdout_and_done(void **state)
{
	struct cli_options o;
	char path[] = "/tmp/memtrack-cli-XXXXXX", out[8192] = { 0 };
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	enum cli_parse_result help, version;
	FILE *f;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	help = parse(&o, "--help", NULL);
	cli_options_free(&o);
	version = parse(&o, "-V", "ls", NULL);
	cli_options_free(&o);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(help, CLI_DONE);
	assert_int_equal(version, CLI_DONE);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(fread(out, 1, sizeof(out) - 1, f) > 0);
	fclose(f);
	unlink(path);
	assert_non_null(strstr(out, "Usage: memtrack-load"));
	assert_non_null(strstr(out, "memtrack-load " MEMTRACK_VERSION "\n"));
}

static void parse_size_reads_plain_numbers_and_binary_suffixes(void **state)
{
	size_t v = 0;

	(void)state;
	assert_int_equal(cli_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(cli_parse_size("3000", &v), 0); /* not its job to want a power of two */
	assert_int_equal(v, 3000);
	assert_int_equal(cli_parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(cli_parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(cli_parse_size("64KB", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(cli_parse_size("8M", &v), 0);
	assert_int_equal(v, 8u << 20);
	assert_int_equal(cli_parse_size("2g", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(cli_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
}

static void parse_size_rejects_malformed_and_overflowing_sizes(void **state)
{
	static const char *const bad[] = { "",	 "-1",	 "K",	"12X",	"1.5M", "4KK",
					   "4 K", "0x10", "99999999999999999999",
					   "17179869184G" /* 2^64 bytes */ };
	size_t v = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_parse_size(bad[i], &v) != -EINVAL)
			fail_msg("cli_parse_size(\"%s\") accepted it", bad[i]);
	}
	assert_int_equal(v, 12345);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_command_after_the_options_is_the_traced_argv),
		cmocka_unit_test(a_command_after_double_dash_is_the_traced_argv),
		cmocka_unit_test(options_of_the_command_are_left_to_the_command),
		cmocka_unit_test(every_flag_and_value_is_parsed),
		cmocka_unit_test(repeated_pids_are_all_kept_in_order),
		cmocka_unit_test(a_pid_list_is_comma_separated_as_pgrep_writes_it),
		cmocka_unit_test(a_bad_pid_in_a_list_is_named_with_the_list),
		cmocka_unit_test(invalid_pids_are_usage_errors),
		cmocka_unit_test(repeated_libs_are_all_kept_null_terminated),
		cmocka_unit_test(ringbuf_size_takes_k_m_and_g_suffixes),
		cmocka_unit_test(ringbuf_size_rejects_non_powers_of_two_and_garbage),
		cmocka_unit_test(duration_accepts_fractions),
		cmocka_unit_test(duration_takes_s_m_and_h_units),
		cmocka_unit_test(duration_rejects_zero_negative_and_garbage),
		cmocka_unit_test(an_unknown_short_option_is_a_usage_error_naming_it),
		cmocka_unit_test(an_unknown_long_option_is_a_usage_error_naming_it),
		cmocka_unit_test(a_value_given_to_a_flag_option_is_a_usage_error_naming_it),
		cmocka_unit_test(a_missing_value_is_a_usage_error_naming_the_option),
		cmocka_unit_test(a_command_and_a_pid_together_are_a_usage_error),
		cmocka_unit_test(neither_a_command_nor_a_pid_is_a_usage_error),
		cmocka_unit_test(peak_or_massif_in_a_report_only_run_is_a_usage_error_naming_the_fix),
		cmocka_unit_test(each_v_adds_a_level_of_verbosity),
		cmocka_unit_test(a_parse_starts_afresh_after_one_that_stopped_mid_cluster),
		cmocka_unit_test(help_and_version_are_printed_to_stdout_and_done),
		cmocka_unit_test(parse_size_reads_plain_numbers_and_binary_suffixes),
		cmocka_unit_test(parse_size_rejects_malformed_and_overflowing_sizes),
	};

	return cmocka_run_group_tests_name("cli_options", tests, NULL, NULL);
}
