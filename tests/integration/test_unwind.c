// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --unwind dwarf against a reference: for programs built without frame
 * pointers (a C fixture and a C++ one at -O2, Debian's python3.11), the
 * frames memtrack reports for an allocation equal the backtrace gdb prints
 * at a breakpoint on the same call: the same functions, in the same order.
 * Both sources; the USDT shim's own frames never appear.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

#define MAX_FRAMES 160

struct frames {
	char *name[MAX_FRAMES];	 /* "?" where there is no name */
	char *where[MAX_FRAMES]; /* memtrack's: "module+0xoffset", or the bare ip */
	size_t n;
};

static void frames_free(struct frames *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->name[i]);
		free(f->where[i]);
	}
	f->n = 0;
}

/* Where a frame of memtrack's is: what tells a naming miss from a wrong address. */
static char *frame_where(struct json_object *frame)
{
	const char *module = jstr(frame, "module");
	char *s;

	if (module)
		assert_true(asprintf(&s, "%s+0x%llx", module, jint(frame, "module_offset")) > 0);
	else
		assert_true(asprintf(&s, "0x%llx, in no known mapping", jint(frame, "ip")) > 0);
	return s;
}

/* memtrack's whole stack, a frame a line, for a failure's message. */
static char *frames_text(const struct frames *f)
{
	char *s = strdup(""), *more;

	for (size_t i = 0; i < f->n; i++) {
		assert_true(asprintf(&more, "%s  #%zu %s (%s)\n", s, i, f->name[i],
				     f->where[i] ? f->where[i] : "?") > 0);
		free(s);
		s = more;
	}
	return s;
}

/*
 * A name as both tools can agree on it: without a C++ parameter list
 * (gdb prints DWARF's name, memtrack the demangled symbol) and without a
 * symbol version (memtrack names __libc_start_main@@GLIBC_2.34).
 */
static char *comparable(const char *name)
{
	char *s = strdup(name && *name ? name : "?"), *at = strstr(s, "@@");
	size_t len;

	if (at)
		*at = '\0';
	len = strlen(s);
	if (len && s[len - 1] == ')') {
		int depth = 0;

		for (size_t i = len; i-- > 0;) {
			depth += s[i] == ')' ? 1 : s[i] == '(' ? -1 : 0;
			if (!depth) {
				if (i > 0)
					s[i] = '\0';
				break;
			}
		}
	}
	for (len = strlen(s); len && isspace((unsigned char)s[len - 1]); len--)
		s[len - 1] = '\0';
	return s;
}

/* A file's whole text. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;

	assert_non_null(f);
	assert_true(getdelim(&text, &len, '\0', f) >= 0 || feof(f));
	fclose(f);
	return text ? text : strdup("");
}

/*
 * gdb's backtrace at the first call of fn whose argument in register reg
 * is value; without fn's own frame unless keep_fn (memtrack's stacks start
 * at the allocator's caller).
 */
static void gdb_frames(const char *fn, const char *reg, unsigned long value, bool keep_fn,
		       const char *const *cmd, struct frames *out)
{
	char bp[256], out_path[] = "/tmp/memtrack-gdb-XXXXXX";
	const char *argv[32];
	size_t n = 0;
	int fd = mkstemp(out_path), status;
	pid_t pid;
	char *all, *text, *line, *save = NULL;

	assert_true(fd >= 0);
	/*
	 * A hardware breakpoint: a software one on malloc would share its
	 * address with the uprobe of any memtrack tracing system-wide meanwhile
	 * (another test run), whose handler takes the trap. It is set once
	 * libc is mapped: at __libc_start_main, which nothing probes.
	 */
	snprintf(bp, sizeof(bp), "hbreak *%s if $%s == %lu", fn, reg, value);
	argv[n++] = "gdb";
	argv[n++] = "-batch";
	argv[n++] = "-nx";
	const char *ex[] = { "set debuginfod enabled off", "set pagination off",
			     "set breakpoint pending on", "break __libc_start_main", "run", bp,
			     "continue", "bt" };

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		argv[n++] = "-ex";
		argv[n++] = ex[i];
	}
	argv[n++] = "--args";
	for (size_t i = 0; cmd[i] && n < 30; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		unsetenv("LD_PRELOAD");
		execvp("gdb", (char *const *)argv);
		_exit(127);
	}
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		fail_msg("gdb did not run (is it installed? tools/deps.sh installs it)");
	all = slurp(out_path); /* kept whole for a failure's message: text is cut up */
	unlink(out_path);
	text = strdup(all);
	out->n = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *name, *end, *in;

		if (line[0] != '#' || !isdigit((unsigned char)line[1]))
			continue;
		name = strchr(line, ' ');
		while (name && *name == ' ')
			name++;
		in = name ? strstr(name, " in ") : NULL;
		if (name && !strncmp(name, "0x", 2) && in)
			name = in + 4;
		end = name ? strstr(name, " (") : NULL;
		if (!name || !end)
			continue;
		*end = '\0';
		if (out->n < MAX_FRAMES) {
			out->where[out->n] = NULL;
			out->name[out->n++] = comparable(strcmp(name, "??") ? name : "?");
		}
	}
	free(text);
	if (out->n < 2)
		fail_msg("gdb gave no backtrace at %s ($%s == %lu):\n%s", fn, reg, value, all);
	free(all);
	if (!keep_fn) {
		free(out->name[0]);
		memmove(out->name, out->name + 1, --out->n * sizeof(out->name[0]));
	}
}

/* memtrack's frames of the first allocation of size, from -T's JSON. */
static void memtrack_frames(void **state, unsigned long size, const char *const *cmd,
			    struct frames *out)
{
	const char *opts[] = { "--source", SOURCE_OF(state), "--unwind", "dwarf", "-T", "--json",
			       "--no-summary", "--stack-depth", "127", NULL };
	struct trace tr;
	char *line, *save = NULL;

	trace_run(&tr, opts, cmd);
	assert_int_equal(tr.status, 0);
	out->n = 0;
	for (line = strtok_r(tr.err, "\n", &save); line && !out->n;
	     line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = line[0] == '{' ? json_tokener_parse(line) : NULL, *st;

		if (o && json_object_object_get_ex(o, "size", NULL) &&
		    (unsigned long)jint(o, "size") == size &&
		    json_object_object_get_ex(o, "stack", &st)) {
			for (size_t i = 0; i < json_object_array_length(st) && out->n < MAX_FRAMES;
			     i++) {
				struct json_object *frame = json_object_array_get_idx(st, i);

				out->where[out->n] = frame_where(frame);
				out->name[out->n++] = comparable(jstr(frame, "function"));
			}
		}
		json_object_put(o);
	}
	if (!out->n)
		fail_msg("memtrack reported no stack for an allocation of %lu bytes:\n%s", size,
			 tr.err);
	trace_free(&tr);
}

/*
 * The same functions in the same order, up to main (gdb stops there) or
 * libc's start: memtrack's frames of the allocation of size, from the
 * first named from (NULL: all), against gdb's at a breakpoint on fn.
 */
static void compare_frames(void **state, const char *fn, const char *reg, unsigned long value,
			   const char *from, unsigned long size, const char *const *cmd,
			   size_t at_least)
{
	struct frames want, got;
	size_t i, first = 0, compared = 0;

	REQUIRE_BPF();
	gdb_frames(fn, reg, value, from != NULL, cmd, &want);
	memtrack_frames(state, size, cmd, &got);
	while (from && first < got.n && strcmp(got.name[first], from))
		first++;
	if (first == got.n)
		fail_msg("%s: memtrack's stack has no frame %s", cmd[0], from);
	for (i = 0; i < want.n && first + i < got.n; i++) {
		if (strcmp(want.name[i], got.name[first + i]))
			fail_msg("%s: frame %zu: gdb %s, memtrack %s; memtrack's stack:\n%s", cmd[0],
				 i, want.name[i], got.name[first + i], frames_text(&got));
		compared++;
		if (!strcmp(want.name[i], "main") || !strcmp(want.name[i], "__libc_start_call_main"))
			break;
	}
	if (compared < at_least)
		fail_msg("%s: only %zu frames compared (gdb %zu, memtrack %zu)", cmd[0], compared,
			 want.n, got.n);
	for (size_t k = 0; k < got.n; k++)
		if (strstr(got.name[k], "memtrack") || strstr(got.name[k], "fire_"))
			fail_msg("%s: the shim's frame %s is in the stack", cmd[0], got.name[k]);
	frames_free(&want);
	frames_free(&got);
}

/* At the allocator's entry, by its size argument: every frame of memtrack's stack. */
static void same_frames(void **state, const char *fn, unsigned long size, const char *const *cmd,
			size_t at_least)
{
	compare_frames(state, fn, "rdi", size, NULL, size, cmd, at_least);
}

static void test_c_at_o2(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/unwind_c"), NULL };

	same_frames(state, "malloc", 4242, cmd, 4); /* inner, middle, outer, main */
	same_frames(state, "malloc", 4343, cmd, 42); /* deep 41 times, main */
}

/*
 * The same stack at every 16 bytes of its page (the fixture's shifted
 * mode): each of the 256 allocations has its whole stack, the walk's
 * reads of the stack meeting page ends wherever they can.
 */
static void test_stack_on_every_page_offset(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/unwind_c"), "shifted", NULL };
	const char *opts[] = { "--source", SOURCE_OF(state), "--unwind", "dwarf", "-T", "--json",
			       "--no-summary", NULL };
	const char *want[] = { "inner", "shifted", "main" };
	bool seen[256] = { false };
	size_t n_seen = 0;
	struct trace tr;
	char *line, *save = NULL;

	REQUIRE_BPF();
	trace_run(&tr, opts, cmd);
	assert_int_equal(tr.status, 0);
	for (line = strtok_r(tr.err, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = line[0] == '{' ? json_tokener_parse(line) : NULL, *st;
		long size = o && json_object_object_get_ex(o, "size", NULL) ? jint(o, "size") : 0;

		if (size >= 5242 && size < 5242 + 256 && !strcmp(jstr(o, "type"), "Malloc")) {
			if (!json_object_object_get_ex(o, "stack", &st) ||
			    json_object_array_length(st) < 3)
				fail_msg("the allocation of %ld bytes has a short stack: %s", size,
					 line);
			for (size_t i = 0; i < 3; i++) {
				char *name = comparable(
					jstr(json_object_array_get_idx(st, i), "function"));

				if (strcmp(name, want[i]))
					fail_msg("allocation of %ld bytes: frame %zu is %s, not %s",
						 size, i, name, want[i]);
				free(name);
			}
			n_seen += !seen[size - 5242];
			seen[size - 5242] = true;
		}
		json_object_put(o);
	}
	if (n_seen != 256)
		fail_msg("%zu of the 256 allocations seen:\n%s", n_seen, tr.err);
	trace_free(&tr);
}

/* libstdc++'s containers: the uprobe source sees operator new, the shim the malloc it calls. */
static void test_cxx_containers(void **state)
{
	const char *cmd[] = { build_path("tests/fixtures/unwind_cxx"), NULL };
	const char *fn = IS_USDT(state) ? "malloc" : "'operator new(unsigned long)'";

	same_frames(state, fn, 4545, cmd, 6); /* 4 inlined frames of the vector, fill_vector, main */
	same_frames(state, fn, 4647, cmd, 4);
}

/*
 * Debian's python3.11, which keeps no frame pointers: dynamic symbols name
 * what they can. gdb stops in PyByteArray_Resize(self, 424242), below the
 * raw allocator: python calls malloc thousands of times before, and a
 * debugger's breakpoint there, while another memtrack probes every
 * process's malloc (a concurrent test run), can upset the program.
 */
static void test_python(void **state)
{
	const char *cmd[] = { "/usr/bin/python3.11", "-c", "b = bytearray(424242)", NULL };

	if (access(cmd[0], X_OK))
		fail_msg("%s is missing (tools/deps.sh installs python3)", cmd[0]);
	compare_frames(state, "PyByteArray_Resize", "rsi", 424242, "PyByteArray_Resize", 424243,
		       cmd, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_SOURCES(test_c_at_o2),
		BOTH_SOURCES(test_stack_on_every_page_offset),
		BOTH_SOURCES(test_cxx_containers),
		BOTH_SOURCES(test_python),
	};

	return cmocka_run_group_tests_name("unwind", tests, NULL, NULL);
}
