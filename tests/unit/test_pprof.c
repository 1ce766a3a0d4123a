// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loader/report/pprof: heap profiles in pprof's format. Each profile is written to a
 * file, then read back the way a reader would (gunzip, unpack as
 * perftools.profiles.Profile), and checked there, not in the builder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "profile.pb-c.h"
#include "pprof.h"
#include "test_support.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Sample Sample;

static char *temp_path(void)
{
	char *path = strdup("/tmp/memtrack-pprof-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	return path;
}

/*
 * Gunzip the whole file with zlib, then unpack it with the generated code.
 * The file is removed before anything is asserted, so a failure leaves none.
 */
static Profile *read_profile(const char *path)
{
	size_t len = 0, cap = 1 << 16;
	uint8_t *buf = malloc(cap);
	gzFile gz = gzopen(path, "rb");
	int n = -1, closed = Z_ERRNO;
	Profile *p;

	while (buf && gz && (n = gzread(gz, buf + len, (unsigned)(cap - len))) > 0) {
		len += (size_t)n;
		if (len == cap) {
			uint8_t *more = realloc(buf, cap * 2);

			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
	}
	if (gz)
		closed = gzclose(gz);
	assert_int_equal(unlink(path), 0);
	assert_non_null(buf);
	assert_non_null(gz);
	assert_int_equal(n, 0); /* -1: a read error or a truncated stream */
	assert_int_equal(closed, Z_OK);
	p = perftools__profiles__profile__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(p);
	return p;
}

static const char *str_at(const Profile *p, int64_t idx)
{
	assert_in_range(idx, 0, p->n_string_table - 1);
	return p->string_table[idx];
}

static const Location *location_by_id(const Profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			return p->location[i];
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static const Mapping *mapping_by_id(const Profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_mapping; i++)
		if (p->mapping[i]->id == id)
			return p->mapping[i];
	fail_msg("no mapping %llu", (unsigned long long)id);
	return NULL;
}

static const char *function_name(const Profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id == id)
			return str_at(p, p->function[i]->name);
	fail_msg("no function %llu", (unsigned long long)id);
	return NULL;
}

/* The sample's label key, as a string or a number; NULL/-1 when absent. */
static const char *label_str(const Profile *p, const Sample *s, const char *key)
{
	for (size_t i = 0; i < s->n_label; i++)
		if (!strcmp(str_at(p, s->label[i]->key), key))
			return str_at(p, s->label[i]->str);
	return NULL;
}

static int64_t label_num(const Profile *p, const Sample *s, const char *key)
{
	for (size_t i = 0; i < s->n_label; i++)
		if (!strcmp(str_at(p, s->label[i]->key), key))
			return s->label[i]->num;
	return -1;
}

static int64_t total(const Profile *p, size_t type)
{
	int64_t sum = 0;

	for (size_t i = 0; i < p->n_sample; i++) {
		assert_int_equal(p->sample[i]->n_value, 4);
		sum += p->sample[i]->value[type];
	}
	return sum;
}

/*
 * The known heap: a stack where make_node is inlined into build_tree, added
 * three times by pid 100 ("app") and once by pid 200 ("worker"), and a second
 * stack of pid 100 and of pid 300, a child that is also "app".
 */
#define APP "/usr/bin/app"
#define APP_BUILD_ID "abcdef0123456789"
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
/* where each is mapped: start, limit, file offset */
#define APP_MAP 0x400000, 0x402000, 0x0
#define LIBC_MAP 0x7f0000000000, 0x7f0000160000, 0x28000

static const struct pprof_frame stack_a[] = {
	{ "malloc", NULL, 0, 0x7f0000001000, LIBC, NULL, false, LIBC_MAP },
	{ "make_node", "node.h", 12, 0x401000, APP, APP_BUILD_ID, true, APP_MAP },
	{ "build_tree", "tree.c", 40, 0x401000, APP, APP_BUILD_ID, false, APP_MAP },
	{ "main", "main.c", 5, 0x400500, APP, APP_BUILD_ID, false, APP_MAP },
};

static const struct pprof_frame stack_b[] = {
	{ "malloc", NULL, 0, 0x7f0000001000, LIBC, "", false, LIBC_MAP },
	{ "main", "main.c", 7, 0x400520, APP, APP_BUILD_ID, false, APP_MAP },
};

#define NFRAMES(s) (sizeof(s) / sizeof((s)[0]))
#define TIME_NS 1700000000123456789ll
#define DURATION_NS 2500000000ll

static int write_known_profile(void **state)
{
	static const long long a[4] = { 1, 100, 1, 100 }, b[4] = { 2, 64, 0, 0 };
	static const long long a_worker[4] = { 5, 500, 2, 200 };
	static const long long b_child[4] = { 1, 32, 1, 32 };
	struct pprof_builder *pb = pprof_new();
	char *path = temp_path();

	assert_non_null(pb);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pprof_add(pb, stack_a, NFRAMES(stack_a), a, 100, "app"), 0);
	assert_int_equal(pprof_add(pb, stack_b, NFRAMES(stack_b), b, 100, "app"), 0);
	assert_int_equal(pprof_add(pb, stack_a, NFRAMES(stack_a), a_worker, 200, "worker"), 0);
	assert_int_equal(pprof_add(pb, stack_b, NFRAMES(stack_b), b_child, 300, "app"), 0);
	assert_int_equal(pprof_write(pb, path, TIME_NS, DURATION_NS), 0);
	pprof_free(pb);
	*state = read_profile(path);
	free(path);
	return 0;
}

static int free_profile(void **state)
{
	perftools__profiles__profile__free_unpacked(*state, NULL);
	return 0;
}

/* The sample of this process whose stack has nlocs locations (stack_a 3, stack_b 2). */
static const Sample *sample_of(const Profile *p, int pid, size_t nlocs)
{
	for (size_t i = 0; i < p->n_sample; i++) {
		const Sample *s = p->sample[i];

		if (label_num(p, s, "pid") == pid && s->n_location_id == nlocs)
			return s;
	}
	fail_msg("no sample of pid %d with %zu locations", pid, nlocs);
	return NULL;
}

static void the_string_table_starts_with_empty_and_holds_each_string_once(void **state)
{
	const Profile *p = *state;

	assert_true(p->n_string_table > 1);
	assert_string_equal(p->string_table[0], "");
	for (size_t i = 0; i < p->n_string_table; i++)
		for (size_t j = i + 1; j < p->n_string_table; j++)
			if (!strcmp(p->string_table[i], p->string_table[j]))
				fail_msg("\"%s\" at %zu and %zu", p->string_table[i], i, j);
}

static void sample_types_are_alloc_then_inuse_objects_and_space_inuse_space_first(void **state)
{
	static const char *const want[4][2] = {
		{ "alloc_objects", "count" },
		{ "alloc_space", "bytes" },
		{ "inuse_objects", "count" },
		{ "inuse_space", "bytes" },
	};
	const Profile *p = *state;

	assert_int_equal(p->n_sample_type, 4);
	for (int i = 0; i < 4; i++) {
		assert_string_equal(str_at(p, p->sample_type[i]->type), want[i][0]);
		assert_string_equal(str_at(p, p->sample_type[i]->unit), want[i][1]);
	}
	assert_string_equal(str_at(p, p->default_sample_type), "inuse_space");
}

static void identical_stacks_of_a_process_merge_into_one_sample_with_summed_values(void **state)
{
	const Profile *p = *state;
	const Sample *s = sample_of(p, 100, 3);

	/* stack_a x3 and stack_b of pid 100, stack_a of pid 200, stack_b of pid 300 */
	assert_int_equal(p->n_sample, 4);
	assert_int_equal(s->value[0], 3);
	assert_int_equal(s->value[1], 300);
	assert_int_equal(s->value[2], 3);
	assert_int_equal(s->value[3], 300);
	assert_int_equal(total(p, 0), 3 + 2 + 5 + 1);
	assert_int_equal(total(p, 1), 300 + 64 + 500 + 32);
	assert_int_equal(total(p, 2), 3 + 0 + 2 + 1);
	assert_int_equal(total(p, 3), 300 + 0 + 200 + 32);
}

static void the_same_stack_in_two_processes_is_two_samples_labelled_by_pid_and_comm(void **state)
{
	const Profile *p = *state;
	const Sample *app = sample_of(p, 100, 3), *worker = sample_of(p, 200, 3);
	const Sample *app_b = sample_of(p, 100, 2), *child_b = sample_of(p, 300, 2);

	assert_ptr_not_equal(app, worker);
	assert_string_equal(label_str(p, app, "comm"), "app");
	assert_string_equal(label_str(p, worker, "comm"), "worker");
	assert_memory_equal(app->location_id, worker->location_id, 3 * sizeof(uint64_t));
	assert_int_equal(worker->value[1], 500);
	/* the same comm does not make two processes one */
	assert_ptr_not_equal(app_b, child_b);
	assert_string_equal(label_str(p, child_b, "comm"), "app");
	assert_int_equal(app_b->value[1], 64);
	assert_int_equal(child_b->value[1], 32);
}

static void inlined_frames_share_one_location_with_a_line_each_innermost_first(void **state)
{
	const Profile *p = *state;
	const Sample *s = sample_of(p, 100, 3);
	const Location *leaf = location_by_id(p, s->location_id[0]);
	const Location *inl = location_by_id(p, s->location_id[1]);
	const Location *root = location_by_id(p, s->location_id[2]);

	/* malloc; make_node in build_tree; main: four frames, three locations */
	assert_int_equal(p->n_location, 4);
	assert_int_equal(leaf->n_line, 1);
	assert_string_equal(function_name(p, leaf->line[0]->function_id), "malloc");
	assert_int_equal(inl->address, 0x401000);
	assert_int_equal(inl->n_line, 2);
	assert_string_equal(function_name(p, inl->line[0]->function_id), "make_node");
	assert_int_equal(inl->line[0]->line, 12);
	assert_string_equal(function_name(p, inl->line[1]->function_id), "build_tree");
	assert_int_equal(inl->line[1]->line, 40);
	assert_int_equal(root->n_line, 1);
	assert_string_equal(function_name(p, root->line[0]->function_id), "main");
	/* main at two lines is one function, malloc in two stacks one location */
	assert_int_equal(p->n_function, 4);
	assert_int_equal(sample_of(p, 100, 2)->location_id[0], s->location_id[0]);
}

static void mappings_carry_file_and_build_id_and_say_what_their_frames_know(void **state)
{
	const Profile *p = *state;
	const Sample *s = sample_of(p, 100, 3);
	const Mapping *libc = mapping_by_id(p, location_by_id(p, s->location_id[0])->mapping_id);
	const Mapping *app = mapping_by_id(p, location_by_id(p, s->location_id[1])->mapping_id);

	assert_int_equal(p->n_mapping, 2);
	assert_string_equal(str_at(p, app->filename), APP);
	assert_string_equal(str_at(p, app->build_id), APP_BUILD_ID);
	assert_int_equal(app->memory_start, 0x400000);
	assert_int_equal(app->memory_limit, 0x402000);
	assert_int_equal(app->file_offset, 0);
	assert_int_equal(libc->memory_start, 0x7f0000000000);
	assert_int_equal(libc->memory_limit, 0x7f0000160000);
	assert_int_equal(libc->file_offset, 0x28000);
	assert_true(app->has_functions && app->has_filenames && app->has_line_numbers &&
		    app->has_inline_frames);
	/* NULL and "" build-ids are both unknown: one libc mapping, name only */
	assert_string_equal(str_at(p, libc->filename), LIBC);
	assert_string_equal(str_at(p, libc->build_id), "");
	assert_true(libc->has_functions);
	assert_false(libc->has_filenames || libc->has_line_numbers || libc->has_inline_frames);
}

static void time_and_duration_are_written(void **state)
{
	const Profile *p = *state;

	assert_int_equal(p->time_nanos, TIME_NS);
	assert_int_equal(p->duration_nanos, DURATION_NS);
}

static void an_inlined_flag_does_not_join_frames_at_different_addresses(void **state)
{
	static const struct pprof_frame frames[] = {
		{ "inner", "a.c", 1, 0x1000, APP, NULL, true, APP_MAP },
		{ "outer", "a.c", 2, 0x2000, APP, NULL, false, APP_MAP },
	};
	static const long long v[4] = { 1, 8, 1, 8 };
	struct pprof_builder *pb = pprof_new();
	char *path = temp_path();
	Profile *p;

	(void)state;
	assert_non_null(pb);
	assert_int_equal(pprof_add(pb, frames, NFRAMES(frames), v, 1, "a"), 0);
	assert_int_equal(pprof_write(pb, path, 0, 0), 0);
	pprof_free(pb);
	p = read_profile(path);
	free(path);
	assert_int_equal(p->n_location, 2);
	assert_int_equal(p->location[0]->n_line, 1);
	assert_int_equal(p->location[1]->n_line, 1);
	perftools__profiles__profile__free_unpacked(p, NULL);
}

/* ASLR: one library at two addresses, in two processes, is two mappings, each with its range. */
static void a_file_mapped_at_two_addresses_is_two_mappings(void **state)
{
	static const struct pprof_frame one[] = {
		{ "malloc", NULL, 0, 0x7f0000001000, LIBC, "ff", false, LIBC_MAP },
	};
	static const struct pprof_frame other[] = {
		{ "malloc", NULL, 0, 0x7e0000001000, LIBC, "ff", false, 0x7e0000000000,
		  0x7e0000160000, 0x28000 },
	};
	static const long long v[4] = { 1, 8, 1, 8 };
	struct pprof_builder *pb = pprof_new();
	char *path = temp_path();
	const Mapping *m1, *m2;
	Profile *p;

	(void)state;
	assert_non_null(pb);
	assert_int_equal(pprof_add(pb, one, 1, v, 1, "a"), 0);
	assert_int_equal(pprof_add(pb, other, 1, v, 2, "b"), 0);
	assert_int_equal(pprof_add(pb, one, 1, v, 3, "c"), 0);
	assert_int_equal(pprof_write(pb, path, 0, 0), 0);
	pprof_free(pb);
	p = read_profile(path);
	free(path);
	assert_int_equal(p->n_mapping, 2);
	m1 = mapping_by_id(p, location_by_id(p, sample_of(p, 1, 1)->location_id[0])->mapping_id);
	m2 = mapping_by_id(p, location_by_id(p, sample_of(p, 2, 1)->location_id[0])->mapping_id);
	assert_int_equal(m1->memory_start, 0x7f0000000000);
	assert_int_equal(m2->memory_start, 0x7e0000000000);
	assert_int_equal(m2->memory_limit, 0x7e0000160000);
	assert_int_equal(m2->file_offset, 0x28000);
	/* the address is in its mapping: what a reader symbolizing it needs */
	assert_true(location_by_id(p, sample_of(p, 2, 1)->location_id[0])->address >= m2->memory_start);
	assert_int_equal(sample_of(p, 3, 1)->location_id[0], sample_of(p, 1, 1)->location_id[0]);
	perftools__profiles__profile__free_unpacked(p, NULL);
}

static void an_empty_profile_still_has_its_sample_types(void **state)
{
	struct pprof_builder *pb = pprof_new();
	char *path = temp_path();
	Profile *p;

	(void)state;
	assert_non_null(pb);
	assert_int_equal(pprof_write(pb, path, 0, 0), 0);
	pprof_free(pb);
	p = read_profile(path);
	free(path);
	assert_int_equal(p->n_sample, 0);
	assert_int_equal(p->n_sample_type, 4);
	assert_string_equal(p->string_table[0], "");
	perftools__profiles__profile__free_unpacked(p, NULL);
}

static void a_write_that_cannot_open_its_file_fails_with_its_errno(void **state)
{
	struct pprof_builder *pb = pprof_new();

	(void)state;
	assert_non_null(pb);
	assert_int_equal(pprof_write(pb, "/nonexistent-memtrack-dir/heap.pb.gz", 0, 0), -ENOENT);
	pprof_free(pb);
}

static void bad_arguments_are_einval(void **state)
{
	static const long long v[4] = { 1, 1, 1, 1 };
	struct pprof_builder *pb = pprof_new();

	(void)state;
	assert_non_null(pb);
	assert_int_equal(pprof_add(NULL, stack_a, 1, v, 1, "a"), -EINVAL);
	assert_int_equal(pprof_add(pb, stack_a, 1, NULL, 1, "a"), -EINVAL);
	assert_int_equal(pprof_add(pb, NULL, 1, v, 1, "a"), -EINVAL);
	assert_int_equal(pprof_write(NULL, "/dev/null", 0, 0), -EINVAL);
	assert_int_equal(pprof_write(pb, NULL, 0, 0), -EINVAL);
	pprof_free(pb);
	pprof_free(NULL);
}

/*
 * 10,000 distinct stacks of 30 frames over 1,000 functions in 10 modules,
 * each added twice: what a busy process's heap looks like to the builder.
 */
static void ten_thousand_stacks_of_thirty_frames_take_well_under_a_second(void **state)
{
	enum { NSTACKS = 10000, DEPTH = 30, NFUNCS = 1000 };
	static const long long v[4] = { 1, 16, 1, 16 };
	struct pprof_builder *pb = pprof_new();
	char *path = temp_path();
	char names[NFUNCS][16], modules[10][32];
	struct pprof_frame frames[DEPTH];
	double secs;
	Profile *p;

	(void)state;
	assert_non_null(pb);
	for (int i = 0; i < NFUNCS; i++)
		snprintf(names[i], sizeof(names[i]), "fn_%d", i);
	for (int i = 0; i < 10; i++)
		snprintf(modules[i], sizeof(modules[i]), "/usr/lib/libm%d.so", i);
	secs = -user_cpu_seconds();
	for (int round = 0; round < 2; round++) {
		for (int s = 0; s < NSTACKS; s++) {
			for (int d = 0; d < DEPTH; d++) {
				/* The leaf alone tells stacks apart; callers are shared. */
				int f = d ? (d * 31 + s % 7) % NFUNCS : s % NFUNCS;
				int site = d ? f : s;

				frames[d] = (struct pprof_frame){
					.function = names[f],
					.file = "gen.c",
					.line = site % 500 + 1,
					.address = 0x400000 + (unsigned long long)site * 16,
					.module = modules[f % 10],
					.build_id = "00ff",
				};
			}
			assert_int_equal(pprof_add(pb, frames, DEPTH, v, 42, "busy"), 0);
		}
	}
	assert_int_equal(pprof_write(pb, path, 0, 0), 0);
	secs += user_cpu_seconds();
	pprof_free(pb);

	p = read_profile(path);
	free(path);
	assert_int_equal(p->n_sample, NSTACKS);
	assert_int_equal(total(p, 0), 2 * NSTACKS);
	assert_int_equal(p->n_mapping, 10);
	assert_int_equal(p->n_function, NFUNCS);
	perftools__profiles__profile__free_unpacked(p, NULL);
	/*
	 * About 0.1 s of CPU on a laptop, so a failure here is a quadratic turn,
	 * not a slow machine (user CPU time: see user_cpu_seconds()).
	 */
	print_message("# 20,000 adds of 30 frames and a write: %.3f s\n", secs);
	if (time_bounds_checked())
		assert_true(secs < 1.0);
}

int main(void)
{
/* The first tests each read back the known heap, written afresh for each. */
#define K(f) cmocka_unit_test_setup_teardown(f, write_known_profile, free_profile)
	const struct CMUnitTest tests[] = {
		K(the_string_table_starts_with_empty_and_holds_each_string_once),
		K(sample_types_are_alloc_then_inuse_objects_and_space_inuse_space_first),
		K(identical_stacks_of_a_process_merge_into_one_sample_with_summed_values),
		K(the_same_stack_in_two_processes_is_two_samples_labelled_by_pid_and_comm),
		K(inlined_frames_share_one_location_with_a_line_each_innermost_first),
		K(mappings_carry_file_and_build_id_and_say_what_their_frames_know),
		K(time_and_duration_are_written),
		cmocka_unit_test(an_inlined_flag_does_not_join_frames_at_different_addresses),
		cmocka_unit_test(a_file_mapped_at_two_addresses_is_two_mappings),
		cmocka_unit_test(an_empty_profile_still_has_its_sample_types),
		cmocka_unit_test(a_write_that_cannot_open_its_file_fails_with_its_errno),
		cmocka_unit_test(bad_arguments_are_einval),
		cmocka_unit_test(ten_thousand_stacks_of_thirty_frames_take_well_under_a_second),
	};

	return cmocka_run_group_tests_name("pprof", tests, NULL, NULL);
}
