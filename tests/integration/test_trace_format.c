// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The trace format as its users meet it. The README's jq one-liners, as a
 * user copies them, run by Debian's jq on a real trace: each works and
 * says something, and the stack ids jq prints (it holds numbers as
 * doubles) are the ids of Stack records. Every record type is documented
 * in memtrack-trace(5) and in the README's table.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memtrack.h"
#include "test_support.h"

#define JQ "/usr/bin/jq"
#define MAX_LINES 32
/* What a double holds exactly: ids must stay below it. */
#define EXACT_IN_A_DOUBLE (1ull << 53)

/* The command lines of the README's "jq one-liners" block, comments left out. */
static size_t readme_one_liners(char *lines[MAX_LINES])
{
	FILE *f = fopen("README.md", "r");
	char buf[4096];
	bool in_section = false, in_block = false;
	size_t n = 0;

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (!strncmp(buf, "### ", 4)) {
			in_section = strstr(buf, "jq one-liners") != NULL;
		} else if (in_section && !strncmp(buf, "```", 3)) {
			if (in_block)
				break; /* the block's end */
			in_block = true;
		} else if (in_block && buf[0] && buf[0] != '#' && n < MAX_LINES) {
			lines[n++] = strdup(buf);
		}
	}
	fclose(f);
	if (!n)
		fail_msg("README.md has no jq one-liners block");
	return n;
}

/* s with every from replaced by to; freed by the caller. */
static char *replaced(const char *s, const char *from, const char *to)
{
	size_t lf = strlen(from), lt = strlen(to), n = 0;
	char *out, *o;

	for (const char *p = strstr(s, from); p; p = strstr(p + lf, from))
		n++;
	out = o = malloc(strlen(s) + n * lt + 1);
	assert_non_null(out);
	for (const char *p; (p = strstr(s, from)); s = p + lf) {
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, to, lt);
		o += lt;
	}
	strcpy(o, s);
	return out;
}

/* An "app" for the one-liners: every kind of call, a child, and one allocation of 2 MB. */
static void write_app(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s >/dev/null\nexec /usr/bin/python3 -c 'b = bytearray(2000000)'\n",
		build_path("examples/allocs"));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Every stack id the one-liner printed is a Stack record's id, exactly. */
static void check_stack_ids(const struct trace *tr, const char *jq_out)
{
	struct json_object *list = json_tokener_parse(jq_out);
	size_t n;

	assert_non_null(list);
	n = json_object_array_length(list);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		unsigned long long id = (unsigned long long)jint(json_object_array_get_idx(list, i),
								 "stack_id");
		bool found = false;

		for (size_t k = 0; k < tr->nev && !found; k++)
			found = !strcmp(jstr(tr->ev[k], "type"), "Stack") &&
				(unsigned long long)jint(tr->ev[k], "id") == id;
		if (!found)
			fail_msg("jq printed stack id %llu, which no Stack record has", id);
	}
	json_object_put(list);
}

static void test_readme_one_liners(void **state)
{
	char dir[] = "/tmp/memtrack-jq-XXXXXX", app[64], *lines[MAX_LINES];
	const char *cmd[] = { app, NULL };
	size_t n;
	struct trace tr;

	(void)state;
	REQUIRE_BPF();
	if (access(JQ, X_OK))
		fail_msg("%s is missing (tools/deps.sh installs jq)", JQ);
	assert_non_null(mkdtemp(dir));
	snprintf(app, sizeof(app), "%s/app", dir);
	write_app(app);
	trace_run(&tr, NULL, cmd);
	assert_int_equal(tr.status, 0);
	for (size_t i = 0; i < tr.nev; i++) {
		const char *type = jstr(tr.ev[i], "type");
		unsigned long long id = (unsigned long long)jint(
			tr.ev[i], !strcmp(type, "Stack") ? "id" : "stack_id");

		if ((long long)id != -1 && id >= EXACT_IN_A_DOUBLE)
			fail_msg("a %s record's stack id %llu is past 2^53", type, id);
	}
	n = readme_one_liners(lines);
	for (size_t i = 0; i < n; i++) {
		char *a = replaced(lines[i], "ev.jsonl", tr.out_path);
		char *b = replaced(a, "sudo memtrack-load", build_path("memtrack-load"));
		char *line = replaced(b, "./app", app);
		const char *argv[] = { "/bin/bash", "-o", "pipefail", "-c", line, NULL };
		struct output o;

		run_io(argv, NULL, "", 0, &o);
		if (o.status != 0 || strspn(o.out, " \t\n") == o.out_len)
			fail_msg("README one-liner failed (status %d):\n%s\nstdout:\n%s\nstderr:\n%s",
				 o.status, lines[i], o.out, o.err);
		print_message("%s\n  -> %zu bytes\n", lines[i], o.out_len);
		if (strstr(lines[i], "group_by(.stack_id)"))
			check_stack_ids(&tr, o.out);
		output_free(&o);
		free(a);
		free(b);
		free(line);
		free(lines[i]);
	}
	trace_free(&tr);
	unlink(app);
	rmdir(dir);
}

/* The whole text of a file of the source tree. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;

	assert_non_null(f);
	assert_int_equal(getdelim(&text, &len, '\0', f) > 0, 1);
	fclose(f);
	return text;
}

/*
 * Does the man page have an entry (a .TP tag) for records of this type:
 * ".B Name", or Name among the words of a ".BR A ", " B" line?
 */
static bool man_entry(const char *man, const char *name)
{
	size_t len = strlen(name);

	for (const char *line = man; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *end = strchrnul(line, '\n'), *p;

		if (strncmp(line, ".B ", 3) && strncmp(line, ".BR ", 4))
			continue;
		for (p = line + 3; p + len <= end; p++)
			if (!strncmp(p, name, len) && (p[-1] == ' ') &&
			    (p + len == end || p[len] == ' '))
				return true;
	}
	return false;
}

static void test_every_record_type_is_documented(void **state)
{
	static const char *const records[] = { "Header", "Stack", "Mapping", "Stats" };
	char *man = slurp("docs/memtrack-trace.5"), *readme = slurp("README.md"), want[64];

	(void)state;
	for (unsigned int i = 0; i < MT_EV_TYPE_MAX + 4; i++) {
		const char *name = i < MT_EV_TYPE_MAX ? memtrack_event_type_name(i)
						       : records[i - MT_EV_TYPE_MAX];

		if (!name)
			continue;
		if (!man_entry(man, name))
			fail_msg("memtrack-trace(5) has no entry for %s records", name);
		snprintf(want, sizeof(want), "`%s`", name);
		if (!strstr(readme, want))
			fail_msg("the README's schema table does not name %s", name);
	}
	free(man);
	free(readme);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_one_liners),
		cmocka_unit_test(test_every_record_type_is_documented),
	};

	return cmocka_run_group_tests_name("trace_format", tests, NULL, NULL);
}
