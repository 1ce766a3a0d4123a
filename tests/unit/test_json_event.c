// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSONL schema (loader/format/json_event.c) and its whole-line writer (loader/format/jsonl_writer.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtrack.h"

static char line[4096];

static union mt_event alloc_event(unsigned int type, unsigned long long addr,
				  unsigned long long size)
{
	union mt_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.alloc.hdr.timestamp = 789640602523ull;
	ev.alloc.hdr.type = type;
	ev.alloc.hdr.pid = 3145;
	ev.alloc.hdr.tid = 3146;
	ev.alloc.addr = addr;
	ev.alloc.size = size;
	return ev;
}

static union mt_event proc_event(unsigned int type, const char *comm, const char *filename)
{
	union mt_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.proc.hdr.timestamp = 1000;
	ev.proc.hdr.type = type;
	ev.proc.hdr.pid = 20;
	ev.proc.hdr.tid = 20;
	ev.proc.ppid = 10;
	/* the strings of these tests fit, with their NUL */
	memcpy(ev.proc.comm, comm, strlen(comm) + 1);
	if (filename)
		memcpy(ev.proc.filename, filename, strlen(filename) + 1);
	return ev;
}

/* The JSON of ev, checking that the return value is its length. */
static const char *json_of(const union mt_event *ev)
{
	int n = memtrack_event_to_json(ev, line, sizeof(line));

	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(line));
	return line;
}

static void malloc_is_addr_and_size(void **state)
{
	union mt_event ev = alloc_event(MT_EV_MALLOC, 94704430351008ull, 100);

	(void)state;
	assert_string_equal(json_of(&ev), "{\"type\":\"Malloc\",\"timestamp\":789640602523,"
					  "\"pid\":3145,\"tid\":3146,\"addr\":94704430351008,"
					  "\"size\":100}\n");
}

static void free_has_addr_and_no_size(void **state)
{
	union mt_event ev = alloc_event(MT_EV_FREE, 4096, 123);

	(void)state;
	ev.alloc.func = MT_FN_FREE;
	assert_string_equal(json_of(&ev), "{\"type\":\"Free\",\"timestamp\":789640602523,"
					  "\"pid\":3145,\"tid\":3146,\"addr\":4096}\n");
}

/* C++: a Malloc or Free made by operator new or delete names it; malloc's and free's do not. */
static void new_and_delete_name_their_operator(void **state)
{
	union mt_event ev = alloc_event(MT_EV_MALLOC, 4096, 8);

	(void)state;
	ev.alloc.func = MT_FN_NEW_ARRAY;
	assert_string_equal(json_of(&ev), "{\"type\":\"Malloc\",\"timestamp\":789640602523,"
					  "\"pid\":3145,\"tid\":3146,\"addr\":4096,\"size\":8,"
					  "\"func\":\"operator new[]\"}\n");
	ev = alloc_event(MT_EV_FREE, 4096, 0);
	ev.alloc.func = MT_FN_DELETE;
	assert_string_equal(json_of(&ev), "{\"type\":\"Free\",\"timestamp\":789640602523,"
					  "\"pid\":3145,\"tid\":3146,\"addr\":4096,"
					  "\"func\":\"operator delete\"}\n");
}

/* --mmap: an mremap names what it moved; a failed call its error. */
static void mmap_family_records(void **state)
{
	union mt_event ev = alloc_event(MT_EV_MMAP, 8192, 4096);

	(void)state;
	ev.alloc.func = MT_FN_MREMAP;
	ev.alloc.old_addr = 4096;
	ev.alloc.align = 2048;
	assert_string_equal(json_of(&ev), "{\"type\":\"Mmap\",\"timestamp\":789640602523,"
					  "\"pid\":3145,\"tid\":3146,\"addr\":8192,\"size\":4096,"
					  "\"old_addr\":4096,\"old_size\":2048,\"func\":\"mremap\"}\n");
	ev = alloc_event(MT_EV_BRK, 65536, 0);
	ev.alloc.func = MT_FN_BRK;
	ev.alloc.old_addr = 65536;
	ev.alloc.err = 12;
	assert_string_equal(json_of(&ev), "{\"type\":\"Brk\",\"timestamp\":789640602523,"
					  "\"pid\":3145,\"tid\":3146,\"addr\":65536,"
					  "\"old_addr\":65536,\"error\":\"ENOMEM\"}\n");
}

static void calloc_is_addr_and_total_size_without_func(void **state)
{
	union mt_event ev = alloc_event(MT_EV_CALLOC, 8192, 400);

	(void)state;
	ev.alloc.func = MT_FN_CALLOC;
	assert_string_equal(json_of(&ev), "{\"type\":\"Calloc\",\"timestamp\":789640602523,"
					  "\"pid\":3145,\"tid\":3146,\"addr\":8192,\"size\":400}\n");
}

static void realloc_has_old_addr_and_func(void **state)
{
	union mt_event ev = alloc_event(MT_EV_REALLOC, 94704430352176ull, 1000);

	(void)state;
	ev.alloc.old_addr = 94704430351120ull;
	ev.alloc.func = MT_FN_REALLOC;
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Realloc\",\"timestamp\":789640602523,\"pid\":3145,"
			    "\"tid\":3146,\"addr\":94704430352176,\"size\":1000,"
			    "\"old_addr\":94704430351120,\"func\":\"realloc\"}\n");
	ev.alloc.func = MT_FN_REALLOCARRAY;
	ev.alloc.addr = 0;
	ev.alloc.size = 0;
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Realloc\",\"timestamp\":789640602523,\"pid\":3145,"
			    "\"tid\":3146,\"addr\":0,\"size\":0,"
			    "\"old_addr\":94704430351120,\"func\":\"reallocarray\"}\n");
}

static void aligned_alloc_has_align_and_func(void **state)
{
	union mt_event ev = alloc_event(MT_EV_ALIGNED_ALLOC, 94704430354432ull, 512);

	(void)state;
	ev.alloc.align = 128;
	ev.alloc.func = MT_FN_POSIX_MEMALIGN;
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"AlignedAlloc\",\"timestamp\":789640602523,\"pid\":3145,"
			    "\"tid\":3146,\"addr\":94704430354432,\"size\":512,\"align\":128,"
			    "\"func\":\"posix_memalign\"}\n");
	ev.alloc.func = MT_FN_PVALLOC;
	ev.alloc.align = 4096;
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"AlignedAlloc\",\"timestamp\":789640602523,\"pid\":3145,"
			    "\"tid\":3146,\"addr\":94704430354432,\"size\":512,\"align\":4096,"
			    "\"func\":\"pvalloc\"}\n");
}

static void fork_has_ppid_and_comm(void **state)
{
	union mt_event ev = proc_event(MT_EV_FORK, "app", "not-printed");

	(void)state;
	assert_string_equal(json_of(&ev), "{\"type\":\"Fork\",\"timestamp\":1000,\"pid\":20,"
					  "\"tid\":20,\"ppid\":10,\"comm\":\"app\"}\n");
}

static void exec_has_ppid_comm_and_filename(void **state)
{
	union mt_event ev = proc_event(MT_EV_EXEC, "t1", "/tmp/t1");

	(void)state;
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Exec\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"t1\",\"filename\":\"/tmp/t1\"}\n");
}

static void exit_decodes_the_wait_status_into_exit_code_and_signal(void **state)
{
	union mt_event ev = proc_event(MT_EV_EXIT, "t1", NULL);

	(void)state;
	ev.proc.exit_code = 0x2a00; /* exit(42) */
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Exit\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"t1\",\"exit_code\":42,\"signal\":0}\n");
	ev.proc.exit_code = 9; /* killed by SIGKILL */
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Exit\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"t1\",\"exit_code\":0,\"signal\":9}\n");
	ev.proc.exit_code = 0x80 | 11; /* SIGSEGV with a core dump: the core bit is not the signal */
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Exit\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"t1\",\"exit_code\":0,\"signal\":11}\n");
}

static void quotes_backslashes_and_control_characters_are_escaped(void **state)
{
	union mt_event ev = proc_event(MT_EV_EXEC, "a\"b\\c", "x\x01y\x10z\x19");

	(void)state;
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Exec\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"a\\\"b\\\\c\","
			    "\"filename\":\"x\\u0001y\\u0010z\\u0019\"}\n");
}

static void valid_multibyte_utf8_is_kept_as_it_is(void **state)
{
	/* é (2 bytes), € (3 bytes), U+1F600 (4 bytes) */
	union mt_event ev = proc_event(MT_EV_EXEC, "caf\xc3\xa9", "/\xe2\x82\xac/\xf0\x9f\x98\x80");

	(void)state;
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Exec\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"caf\xc3\xa9\","
			    "\"filename\":\"/\xe2\x82\xac/\xf0\x9f\x98\x80\"}\n");
}

static void bytes_that_are_not_utf8_become_replacement_characters(void **state)
{
	/* a stray 0xff, a lone continuation byte, a sequence cut short by the end of the string */
	union mt_event ev = proc_event(MT_EV_EXEC, "a\xff" "b", "\x80x\xc3");

	(void)state;
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Exec\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"a\\ufffdb\","
			    "\"filename\":\"\\ufffdx\\ufffd\"}\n");
	/* a sequence cut short by an ASCII byte, and an overlong 2-byte lead: each byte is replaced */
	ev = proc_event(MT_EV_EXEC, "\xe2\x82Z", "\xc0\xaf");
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Exec\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"\\ufffd\\ufffdZ\","
			    "\"filename\":\"\\ufffd\\ufffd\"}\n");
}

/*
 * Lead bytes that look right but encode no character: an overlong 3-byte
 * form of '/', a UTF-16 surrogate (U+D800) and a value past U+10FFFF are
 * not UTF-8 (RFC 3629), so JSON (which must be UTF-8) cannot carry them.
 */
static void overlong_surrogate_and_out_of_range_sequences_are_not_utf8(void **state)
{
	union mt_event ev = proc_event(MT_EV_EXEC, "\xe0\x80\xaf", "\xed\xa0\x80|\xf4\x90\x80\x80");

	(void)state;
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Exec\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"\\ufffd\\ufffd\\ufffd\","
			    "\"filename\":\"\\ufffd\\ufffd\\ufffd|"
			    "\\ufffd\\ufffd\\ufffd\\ufffd\"}\n");
}

static void a_comm_of_sixteen_bytes_without_nul_is_not_over_read(void **state)
{
	union mt_event ev = proc_event(MT_EV_FORK, "", NULL);

	(void)state;
	memcpy(ev.proc.comm, "abcdefghijklmnop", MT_COMM_LEN);
	strcpy(ev.proc.filename, "OVERREAD");
	assert_string_equal(json_of(&ev),
			    "{\"type\":\"Fork\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
			    "\"ppid\":10,\"comm\":\"abcdefghijklmnop\"}\n");
}

static void a_filename_filling_its_field_without_nul_is_not_over_read(void **state)
{
	struct {
		union mt_event ev;
		char guard[16];
	} rec;
	char want[512];

	(void)state;
	rec.ev = proc_event(MT_EV_EXEC, "x", NULL);
	memset(rec.ev.proc.filename, 'f', MT_FILENAME_LEN);
	strcpy(rec.guard, "GUARD");
	snprintf(want, sizeof(want),
		 "{\"type\":\"Exec\",\"timestamp\":1000,\"pid\":20,\"tid\":20,"
		 "\"ppid\":10,\"comm\":\"x\",\"filename\":\"%.*s\"}\n",
		 MT_FILENAME_LEN, rec.ev.proc.filename);
	assert_string_equal(json_of(&rec.ev), want);
}

/* For every buffer size: the needed length is returned and the buffer holds a NUL-ended prefix. */
static void check_truncation(const union mt_event *ev)
{
	char full[4096], buf[4096];
	int len = memtrack_event_to_json(ev, full, sizeof(full));

	assert_true(len > 0 && (size_t)len < sizeof(full));
	assert_int_equal(memtrack_event_to_json(ev, NULL, 0), len);
	for (size_t size = 1; size <= (size_t)len + 1; size++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(memtrack_event_to_json(ev, buf, size), len);
		assert_int_equal(strnlen(buf, size), size - 1);
		assert_memory_equal(buf, full, size - 1);
		assert_int_equal(buf[size], 'X'); /* nothing written past size */
	}
}

static void a_buffer_too_small_gets_a_prefix_and_the_needed_length(void **state)
{
	union mt_event ev = alloc_event(MT_EV_REALLOC, 0x5555aaaa0000ull, 1000);
	union mt_event exec = proc_event(MT_EV_EXEC, "q\"\\\x01\xc3\xa9\xff", "/bin/\xe2\x82\xac");

	(void)state;
	ev.alloc.old_addr = 0x5555aaaa1000ull;
	ev.alloc.func = MT_FN_REALLOC;
	check_truncation(&ev);
	check_truncation(&exec);
}

static const char stats_line[] =
	"{\"type\":\"Stats\",\"timestamp\":999,\"events\":7,"
	"\"by_type\":{\"Malloc\":3,\"Free\":2,\"Calloc\":0,\"Realloc\":0,\"AlignedAlloc\":0,"
	"\"Mmap\":0,\"Munmap\":0,\"Brk\":0,\"Fork\":0,\"Exec\":0,\"Exit\":1},"
	"\"failed\":{\"malloc\":1,\"calloc\":0,\"realloc\":0,\"reallocarray\":0,\"free\":0,"
	"\"aligned_alloc\":0,\"posix_memalign\":0,\"memalign\":0,\"valloc\":0,\"pvalloc\":4,"
	"\"operator new\":0,\"operator new[]\":0,\"operator delete\":0,\"operator delete[]\":0,"
	"\"mmap\":0,\"mremap\":0,\"munmap\":0,\"brk\":0},"
	"\"drops\":{\"ringbuf_full\":5,\"map_full\":0,\"no_memory\":0,\"read_fault\":0,"
	"\"lost_return\":2,\"stack_full\":0,\"other\":6},\"dropped\":13}\n";

static struct memtrack_counters sample_counters(void)
{
	struct memtrack_counters c;

	memset(&c, 0, sizeof(c));
	c.events = 7;
	c.by_type[MT_EV_MALLOC] = 3;
	c.by_type[MT_EV_FREE] = 2;
	c.by_type[MT_EV_EXIT] = 1;
	c.failures[MT_FN_MALLOC] = 1;
	c.failures[MT_FN_PVALLOC] = 4;
	c.drops[MT_DROP_RINGBUF_FULL] = 5;
	c.drops[MT_DROP_LOST_RETURN] = 2;
	c.drops[MT_DROP_OTHER] = 6;
	return c;
}

static void stats_names_every_type_func_and_drop_reason_and_sums_the_drops(void **state)
{
	struct memtrack_counters c = sample_counters();
	int n = memtrack_stats_to_json(&c, 999, line, sizeof(line));

	(void)state;
	assert_string_equal(line, stats_line);
	assert_int_equal(n, strlen(stats_line));
}

static void stats_with_a_small_buffer_returns_the_needed_length(void **state)
{
	struct memtrack_counters c = sample_counters();
	int len = (int)strlen(stats_line);
	char buf[64];

	(void)state;
	assert_int_equal(memtrack_stats_to_json(&c, 999, NULL, 0), len);
	for (size_t size = 1; size <= sizeof(buf); size++) {
		assert_int_equal(memtrack_stats_to_json(&c, 999, buf, size), len);
		assert_int_equal(strlen(buf), size - 1);
		assert_memory_equal(buf, stats_line, size - 1);
	}
}

/* A fresh temporary file name; the file exists and is empty. */
static void temp_path(char *path, size_t size)
{
	int fd;

	snprintf(path, size, "/tmp/memtrack-json-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
}

static void jsonl_writes_whole_lines_matching_event_to_json(void **state)
{
	enum { N = 3000 }; /* well past the writer's 64 KiB buffer */
	struct memtrack_counters c = sample_counters();
	struct memtrack_error err = { 0 };
	struct memtrack_jsonl *w;
	char path[64], *got = NULL, want[4096];
	size_t cap = 0, lines = 0;
	FILE *f;

	(void)state;
	temp_path(path, sizeof(path));
	w = memtrack_jsonl_open(path, &err);
	assert_non_null(w);
	for (unsigned i = 0; i < N; i++) {
		union mt_event ev = i % 3 ? alloc_event(MT_EV_MALLOC, 0x1000 + 16 * i, i)
					  : proc_event(MT_EV_EXEC, "name", "/some/long/path/x");

		ev.hdr.timestamp = i;
		assert_int_equal(memtrack_jsonl_write_event(w, &ev), 0);
	}
	assert_int_equal(memtrack_jsonl_write_stats(w, &c, 999), 0);
	assert_int_equal(memtrack_jsonl_close(w), 0);

	f = fopen(path, "r");
	assert_non_null(f);
	while (getline(&got, &cap, f) > 0) {
		if (lines < N) {
			union mt_event ev = lines % 3
						    ? alloc_event(MT_EV_MALLOC, 0x1000 + 16 * lines, lines)
						    : proc_event(MT_EV_EXEC, "name", "/some/long/path/x");

			ev.hdr.timestamp = lines;
			memtrack_event_to_json(&ev, want, sizeof(want));
			assert_string_equal(got, want);
		} else {
			assert_string_equal(got, stats_line);
		}
		lines++;
	}
	assert_int_equal(lines, N + 1);
	free(got);
	fclose(f);
	unlink(path);
}

/* The trace reader hands each event back: written again, it is the same line. */
struct replay {
	char lines[16][1024];
	size_t n;
};

static int replay_event(void *ctx, const union mt_event *ev)
{
	struct replay *r = ctx;

	assert_true(r->n < 16);
	memtrack_event_to_json(ev, r->lines[r->n++], sizeof(r->lines[0]));
	return 0;
}

/* Every event type the writer writes, read back field for field. */
static void every_event_type_reads_back_as_written(void **state)
{
	union mt_event evs[11];
	struct memtrack_trace_handler h = { .sz = sizeof(h) };
	struct memtrack_error err = { 0 };
	struct replay r = { .n = 0 };
	char path[64], written[16][1024];
	size_t n = 0;
	FILE *f;

	(void)state;
	evs[n++] = alloc_event(MT_EV_MALLOC, 4096, 100);
	evs[n++] = alloc_event(MT_EV_FREE, 4096, 0);
	evs[n++] = alloc_event(MT_EV_CALLOC, 8192, 400);
	evs[n] = alloc_event(MT_EV_REALLOC, 12288, 1000);
	evs[n].alloc.old_addr = 8192;
	evs[n++].alloc.func = MT_FN_REALLOCARRAY;
	evs[n] = alloc_event(MT_EV_ALIGNED_ALLOC, 65536, 512);
	evs[n].alloc.align = 4096;
	evs[n++].alloc.func = MT_FN_POSIX_MEMALIGN;
	evs[n] = alloc_event(MT_EV_MMAP, 1 << 20, 1 << 16);
	evs[n].alloc.func = MT_FN_MREMAP;
	evs[n].alloc.old_addr = 1 << 21;
	evs[n++].alloc.align = 1 << 15;
	evs[n] = alloc_event(MT_EV_MMAP, 0, 1 << 30);
	evs[n].alloc.func = MT_FN_MMAP;
	evs[n++].alloc.err = ENOMEM;
	evs[n] = alloc_event(MT_EV_MUNMAP, 1 << 20, 1 << 16);
	evs[n++].alloc.func = MT_FN_MUNMAP;
	evs[n] = alloc_event(MT_EV_BRK, 1 << 22, 0);
	evs[n].alloc.func = MT_FN_BRK;
	evs[n++].alloc.old_addr = 1 << 21;
	evs[n++] = proc_event(MT_EV_FORK, "parent", "");
	evs[n++] = proc_event(MT_EV_EXEC, "child", "/usr/bin/child");

	temp_path(path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		memtrack_event_to_json(&evs[i], written[i], sizeof(written[0]));
		fputs(written[i], f);
	}
	fclose(f);
	h.ctx = &r;
	h.on_event = replay_event;
	assert_int_equal(memtrack_trace_read(path, &h, &err), 0);
	assert_int_equal(r.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r.lines[i], written[i]);
	unlink(path);
}

static void jsonl_open_truncates_an_existing_file(void **state)
{
	union mt_event ev = alloc_event(MT_EV_FREE, 4096, 0);
	struct memtrack_jsonl *w;
	char path[64], buf[256] = { 0 };
	FILE *f;

	(void)state;
	temp_path(path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 100; i++)
		fputs("old content that must disappear\n", f);
	fclose(f);
	w = memtrack_jsonl_open(path, NULL);
	assert_non_null(w);
	assert_int_equal(memtrack_jsonl_write_event(w, &ev), 0);
	assert_int_equal(memtrack_jsonl_close(w), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), strlen(json_of(&ev)));
	assert_string_equal(buf, json_of(&ev));
	fclose(f);
	unlink(path);
}

static void jsonl_open_of_an_unwritable_path_fails_with_an_output_error(void **state)
{
	struct memtrack_error err = { 0 };

	(void)state;
	assert_null(memtrack_jsonl_open("/nonexistent-memtrack-dir/ev.jsonl", &err));
	assert_int_equal(err.kind, MEMTRACK_ERR_OUTPUT);
	assert_int_equal(err.code, -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent-memtrack-dir/ev.jsonl"));

	memset(&err, 0, sizeof(err));
	assert_null(memtrack_jsonl_open("/tmp", &err)); /* a directory */
	assert_int_equal(err.kind, MEMTRACK_ERR_OUTPUT);
	assert_int_equal(err.code, -EISDIR);
	/* err may be NULL */
	assert_null(memtrack_jsonl_open("/nonexistent-memtrack-dir/ev.jsonl", NULL));
}

/* The Header, written and read back: what was traced, and the clock anchor. */
static int take_header(void *ctx, const struct memtrack_header *h)
{
	struct memtrack_header *got = ctx;
	static char argv0[64], argv1[64];
	static const char *argv[3] = { argv0, argv1, NULL };
	static pid_t pids[2];

	assert_non_null(h->command);
	assert_non_null(h->command[0]);
	assert_non_null(h->command[1]);
	assert_null(h->command[2]);
	snprintf(argv0, sizeof(argv0), "%s", h->command[0]);
	snprintf(argv1, sizeof(argv1), "%s", h->command[1]);
	assert_int_equal(h->npids, 2);
	memcpy(pids, h->pids, sizeof(pids));
	*got = *h;
	got->command = argv;
	got->pids = pids;
	return 0;
}

static void the_header_reads_back_as_written(void **state)
{
	const char *argv[] = { "/bin/prog", "a \"quoted\" arg", NULL };
	const pid_t pids[] = { 12, 34 };
	struct memtrack_header h = { .sz = sizeof(h), .source = MEMTRACK_SOURCE_USDT,
				     .command = argv, .pids = pids, .npids = 2,
				     .cgroup = "/sys/fs/cgroup/x" }, got;
	struct memtrack_trace_handler th = { .sz = sizeof(th), .ctx = &got,
					     .on_header = take_header };
	union mt_event ev = alloc_event(MT_EV_MALLOC, 4096, 100);
	struct memtrack_jsonl *w;
	char path[64];

	(void)state;
	assert_int_equal(memtrack_header_init(&h), 0);
	assert_int_equal(h.schema_major, MEMTRACK_SCHEMA_MAJOR);
	assert_true(h.monotonic_ns > 0 && h.realtime_sec > 1700000000);
	temp_path(path, sizeof(path));
	w = memtrack_jsonl_open(path, NULL);
	assert_non_null(w);
	assert_int_equal(memtrack_jsonl_write_header(w, &h), 0);
	assert_int_equal(memtrack_jsonl_write_event(w, &ev), 0);
	assert_int_equal(memtrack_jsonl_write_header(w, &h), -EINVAL); /* the first line only */
	assert_int_equal(memtrack_jsonl_close(w), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(memtrack_trace_read(path, &th, NULL), 0);
	assert_int_equal(got.schema_major, MEMTRACK_SCHEMA_MAJOR);
	assert_int_equal(got.schema_minor, MEMTRACK_SCHEMA_MINOR);
	assert_string_equal(got.memtrack_version, h.memtrack_version);
	assert_int_equal(got.source, MEMTRACK_SOURCE_USDT);
	assert_string_equal(got.command[0], argv[0]);
	assert_string_equal(got.command[1], argv[1]);
	assert_int_equal(got.pids[0], 12);
	assert_int_equal(got.pids[1], 34);
	assert_string_equal(got.host, h.host);
	assert_string_equal(got.kernel, h.kernel);
	assert_int_equal(got.monotonic_ns, h.monotonic_ns);
	assert_int_equal(got.realtime_sec, h.realtime_sec);
	assert_int_equal(got.realtime_nsec, h.realtime_nsec);
	unlink(path);
}

/* A Header and then nothing (a run refused after it began): no file is made. */
static void a_header_alone_writes_nothing(void **state)
{
	struct memtrack_header h = { .sz = sizeof(h) };
	struct memtrack_jsonl *w;
	char path[64];

	(void)state;
	temp_path(path, sizeof(path));
	unlink(path);
	assert_int_equal(memtrack_header_init(&h), 0);
	w = memtrack_jsonl_open(path, NULL);
	assert_non_null(w);
	assert_int_equal(memtrack_jsonl_write_header(w, &h), 0);
	assert_int_equal(memtrack_jsonl_flush(w), 0);
	assert_int_equal(memtrack_jsonl_close(w), 0);
	assert_int_equal(access(path, F_OK), -1);
}

/* A trace of a newer schema major is refused, naming it; a Header past the first line is damage. */
static void a_newer_schema_or_a_late_header_is_refused(void **state)
{
	static const char *const traces[] = {
		"{\"type\":\"Header\",\"schema\":\"2.0\"}\n",
		"{\"type\":\"Header\",\"schema\":\"1.0\"}\n{\"type\":\"Header\",\"schema\":\"1.0\"}\n",
		"{\"type\":\"Header\",\"schema\":1}\n",
	};
	static const int codes[] = { -EPROTONOSUPPORT, -EINVAL, -EINVAL };
	struct memtrack_trace_handler th = { .sz = sizeof(th) };

	(void)state;
	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		struct memtrack_error err = { 0 };
		char path[64];
		FILE *f;

		temp_path(path, sizeof(path));
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(traces[i], f);
		fclose(f);
		assert_int_equal(memtrack_trace_read(path, &th, &err), codes[i]);
		if (i == 0)
			assert_non_null(strstr(err.msg, "schema 2.x, newer than this reader's (1.x)"));
		unlink(path);
	}
}

static void jsonl_close_of_null_is_harmless(void **state)
{
	(void)state;
	assert_int_equal(memtrack_jsonl_close(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(malloc_is_addr_and_size),
		cmocka_unit_test(free_has_addr_and_no_size),
		cmocka_unit_test(new_and_delete_name_their_operator),
		cmocka_unit_test(mmap_family_records),
		cmocka_unit_test(every_event_type_reads_back_as_written),
		cmocka_unit_test(calloc_is_addr_and_total_size_without_func),
		cmocka_unit_test(realloc_has_old_addr_and_func),
		cmocka_unit_test(aligned_alloc_has_align_and_func),
		cmocka_unit_test(fork_has_ppid_and_comm),
		cmocka_unit_test(exec_has_ppid_comm_and_filename),
		cmocka_unit_test(exit_decodes_the_wait_status_into_exit_code_and_signal),
		cmocka_unit_test(quotes_backslashes_and_control_characters_are_escaped),
		cmocka_unit_test(valid_multibyte_utf8_is_kept_as_it_is),
		cmocka_unit_test(bytes_that_are_not_utf8_become_replacement_characters),
		cmocka_unit_test(overlong_surrogate_and_out_of_range_sequences_are_not_utf8),
		cmocka_unit_test(a_comm_of_sixteen_bytes_without_nul_is_not_over_read),
		cmocka_unit_test(a_filename_filling_its_field_without_nul_is_not_over_read),
		cmocka_unit_test(a_buffer_too_small_gets_a_prefix_and_the_needed_length),
		cmocka_unit_test(stats_names_every_type_func_and_drop_reason_and_sums_the_drops),
		cmocka_unit_test(stats_with_a_small_buffer_returns_the_needed_length),
		cmocka_unit_test(jsonl_writes_whole_lines_matching_event_to_json),
		cmocka_unit_test(jsonl_open_truncates_an_existing_file),
		cmocka_unit_test(jsonl_open_of_an_unwritable_path_fails_with_an_output_error),
		cmocka_unit_test(jsonl_close_of_null_is_harmless),
		cmocka_unit_test(the_header_reads_back_as_written),
		cmocka_unit_test(a_header_alone_writes_nothing),
		cmocka_unit_test(a_newer_schema_or_a_late_header_is_refused),
	};

	return cmocka_run_group_tests_name("json_event", tests, NULL, NULL);
}
