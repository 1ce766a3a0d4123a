// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loader/sys/elf_symbols: function offsets for uprobes, and PT_INTERP.
 * Expected values come from binutils (nm, readelf) run on the same files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "libc_locate.h"

static char fixture[PATH_MAX];

static int group_setup(void **state)
{
	const char *build = getenv("BUILD");

	(void)state;
	snprintf(fixture, sizeof(fixture), "%s/tests/fixtures/libsymbols.so",
		 build && *build ? build : "build");
	return access(fixture, R_OK) ? -1 : 0;
}

/* The value nm -D gives a defined dynamic function (any @VERSION ignored), or 0. */
static unsigned long long nm_value(const char *path, const char *name)
{
	char cmd[PATH_MAX + 64], sym[512];
	unsigned long long value, found = 0;
	char type;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fscanf(p, "%llx %c %511s", &value, &type, sym) == 3) {
		sym[strcspn(sym, "@")] = '\0';
		/* text: global, local or weak (glibc's calloc is weak) */
		if (strcmp(sym, name) == 0 && strchr("TtWw", type))
			found = value;
	}
	assert_int_equal(pclose(p), 0);
	return found;
}

/* The size nm -DS gives a defined dynamic function, or 0. */
static unsigned long long nm_size(const char *path, const char *name)
{
	char cmd[PATH_MAX + 64], sym[512];
	unsigned long long value, size, found = 0;
	char type;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -DS --defined-only '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fscanf(p, "%llx %llx %c %511s", &value, &size, &type, sym) == 4) {
		sym[strcspn(sym, "@")] = '\0';
		if (strcmp(sym, name) == 0 && strchr("TtWw", type))
			found = size;
	}
	pclose(p);
	return found;
}

/* vaddr as a file offset, through the executable PT_LOAD that readelf -lW lists for it. */
static unsigned long long readelf_file_offset(const char *path, unsigned long long vaddr)
{
	char cmd[PATH_MAX + 64], line[512], flags[32];
	unsigned long long off, va, pa, filesz, memsz, result = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -lW '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, " LOAD %llx %llx %llx %llx %llx %31[RWE ]", &off, &va, &pa, &filesz,
			   &memsz, flags) != 6)
			continue;
		if (strchr(flags, 'E') && vaddr >= va && vaddr < va + memsz)
			result = vaddr - va + off;
	}
	assert_int_equal(pclose(p), 0);
	return result;
}

static void fixture_functions_have_the_offsets_binutils_gives(void **state)
{
	static const char *const names[] = { "symbols_first", "symbols_second", "malloc", "free" };
	size_t offsets[4];

	(void)state;
	assert_int_equal(elf_function_offsets(fixture, names, 4, offsets, NULL), 0);
	for (size_t i = 0; i < 4; i++) {
		unsigned long long value = nm_value(fixture, names[i]);

		if (!value)
			fail_msg("nm -D found no %s in %s", names[i], fixture);
		assert_int_not_equal(offsets[i], 0);
		assert_int_equal(offsets[i], readelf_file_offset(fixture, value));
		/*
		 * Only for this fixture, built as a plain shared library: its
		 * text segment has p_vaddr == p_offset, so the file offset is
		 * the symbol's value itself. (Not true of every ELF file.)
		 */
		assert_int_equal(offsets[i], value);
	}
	/* four different functions at four different places */
	assert_int_not_equal(offsets[0], offsets[1]);
	assert_int_not_equal(offsets[2], offsets[3]);
}

static void names_are_looked_up_in_any_order_and_repeated(void **state)
{
	static const char *const names[] = { "free", "symbols_first", "free" };
	static const char *const first[] = { "symbols_first" };
	size_t offsets[3], one;

	(void)state;
	assert_int_equal(elf_function_offsets(fixture, first, 1, &one, NULL), 0);
	assert_int_equal(elf_function_offsets(fixture, names, 3, offsets, NULL), 0);
	assert_int_equal(offsets[0], nm_value(fixture, "free"));
	assert_int_equal(offsets[1], one);
	assert_int_equal(offsets[2], offsets[0]);
}

static void a_name_that_is_not_defined_gives_zero(void **state)
{
	/* absent; a prefix of a real name; imported (undefined) by the fixture */
	static const char *const names[] = { "no_such_function", "symbols", "symbols_firs",
					     "__cxa_finalize", "symbols_second" };
	size_t offsets[5];

	(void)state;
	memset(offsets, 0xff, sizeof(offsets));
	assert_int_equal(elf_function_offsets(fixture, names, 5, offsets, NULL), 0);
	assert_int_equal(offsets[0], 0);
	assert_int_equal(offsets[1], 0);
	assert_int_equal(offsets[2], 0);
	assert_int_equal(offsets[3], 0);
	assert_int_not_equal(offsets[4], 0); /* the others do not stop the lookup */
}

/* The file offset of the .gnu.hash section of the ELF file at path (fails the test if none). */
static off_t gnu_hash_offset(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf_Scn *scn = NULL;
	off_t offset = 0;
	GElf_Shdr sh;
	Elf *elf;

	assert_true(fd >= 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	while (!offset && (scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_HASH)
			offset = (off_t)sh.sh_offset;
	elf_end(elf);
	close(fd);
	if (!offset)
		fail_msg("%s has no .gnu.hash", path);
	return offset;
}

/*
 * A .gnu.hash whose Bloom shift is 32 or more (the fuzzer's find) is
 * malformed, as one without buckets is: the object is taken to define
 * none of the names. The shift was once used as it was, undefined in C
 * (x86 takes it modulo 32, and found the names anyway).
 */
static void a_gnu_hash_shift_past_32_bits_is_malformed(void **state)
{
	static const char *const names[] = { "malloc" };
	char path[] = "/tmp/memtrack-gnuhash-XXXXXX";
	char cmd[PATH_MAX + 64];
	size_t offsets[1] = { 123 };
	uint32_t shift;
	off_t at;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "cp %s %s", fixture, path);
	assert_int_equal(system(cmd), 0);
	at = gnu_hash_offset(path) + 12; /* nbuckets, symoffset, bloom_size, bloom_shift */
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &shift, sizeof(shift), at), sizeof(shift));
	assert_true(shift < 32);
	shift += 32;
	assert_int_equal(pwrite(fd, &shift, sizeof(shift), at), sizeof(shift));
	close(fd);
	assert_int_equal(elf_function_offsets(path, names, 1, offsets, NULL), 0);
	assert_int_equal(offsets[0], 0);
	unlink(path);
}

static void versioned_libc_symbols_match_their_plain_names(void **state)
{
	static const char *const names[] = { "malloc", "free", "calloc" };
	char libc[PATH_MAX];
	size_t offsets[3], sizes[3];

	(void)state;
	assert_int_equal(library_locate("libc.so.6", libc, sizeof(libc)), 0);
	assert_int_equal(elf_function_offsets(libc, names, 3, offsets, sizes), 0);
	for (size_t i = 0; i < 3; i++) {
		unsigned long long value = nm_value(libc, names[i]); /* malloc@@GLIBC_2.2.5 */

		assert_int_not_equal(value, 0);
		assert_int_equal(offsets[i], readelf_file_offset(libc, value));
		assert_int_equal(sizes[i], nm_size(libc, names[i]));
	}
}

static void a_file_that_is_not_elf_gives_enoexec(void **state)
{
	char path[] = "/tmp/memtrack-notelf-XXXXXX", ibuf[64];
	static const char *const names[] = { "malloc" };
	size_t offsets[1] = { 123 };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "this is not an ELF file\n", 24), 24);
	close(fd);
	assert_int_equal(elf_function_offsets(path, names, 1, offsets, NULL), -ENOEXEC);
	assert_int_equal(offsets[0], 0);
	assert_int_equal(elf_interpreter(path, ibuf, sizeof(ibuf)), -ENOEXEC);
	unlink(path);
}

static void a_missing_file_gives_enoent(void **state)
{
	static const char *const names[] = { "malloc" };
	size_t offsets[1];
	char ibuf[64];

	(void)state;
	assert_int_equal(
		elf_function_offsets("/nonexistent-memtrack/lib.so", names, 1, offsets, NULL),
		-ENOENT);
	assert_int_equal(elf_interpreter("/nonexistent-memtrack/prog", ibuf, sizeof(ibuf)),
			 -ENOENT);
}

/* The PT_INTERP readelf reports, or "" if none. */
static void readelf_interpreter(const char *path, char *buf, size_t size)
{
	char cmd[PATH_MAX + 64], line[512];
	const char *tag = "[Requesting program interpreter: ";
	FILE *p;

	buf[0] = '\0';
	snprintf(cmd, sizeof(cmd), "readelf -lW '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *s = strstr(line, tag);

		if (s) {
			s += strlen(tag);
			s[strcspn(s, "]")] = '\0';
			snprintf(buf, size, "%s", s);
		}
	}
	assert_int_equal(pclose(p), 0);
}

static void the_interpreter_of_a_dynamic_executable_is_its_loader(void **state)
{
	char buf[PATH_MAX], want[PATH_MAX];

	(void)state;
	assert_int_equal(elf_interpreter("/bin/true", buf, sizeof(buf)), 0);
	readelf_interpreter("/bin/true", want, sizeof(want));
	assert_string_equal(buf, want);
#ifdef __x86_64__
	{
		const char *ld = "ld-linux-x86-64.so.2";
		size_t len = strlen(buf);

		assert_true(len > strlen(ld));
		assert_string_equal(buf + len - strlen(ld), ld);
	}
#endif
}

/*
 * A PT_INTERP whose offset and size wrap past 2^64 to a sum inside the
 * file (the fuzzer's find) is malformed: the sum alone was checked, and
 * the read at the offset crashed.
 */
static void an_interpreter_wrapping_past_the_file_is_malformed(void **state)
{
	char path[] = "/tmp/memtrack-interp-XXXXXX", cmd[PATH_MAX + 64], buf[PATH_MAX];
	uint64_t wrap[2] = { UINT64_MAX - 7, 16 }; /* p_offset, then p_filesz 16 bytes on */
	GElf_Phdr ph;
	size_t n, at = 0;
	Elf *elf;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "cp /bin/true %s", path);
	assert_int_equal(system(cmd), 0);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	assert_int_equal(elf_getphdrnum(elf, &n), 0);
	for (size_t i = 0; i < n && !at; i++)
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP) {
			GElf_Ehdr eh;

			assert_non_null(gelf_getehdr(elf, &eh));
			/* Elf64_Phdr: p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz */
			at = eh.e_phoff + i * eh.e_phentsize + 8;
		}
	elf_end(elf);
	assert_true(at != 0);
	assert_int_equal(pwrite(fd, &wrap[0], 8, (off_t)at), 8);
	assert_int_equal(pwrite(fd, &wrap[1], 8, (off_t)at + 24), 8);
	close(fd);
	assert_int_equal(elf_interpreter(path, buf, sizeof(buf)), -ENOEXEC);
	unlink(path);
}

static void a_library_has_no_interpreter(void **state)
{
	char buf[PATH_MAX] = "untouched";

	(void)state;
	assert_int_equal(elf_interpreter(fixture, buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "untouched");
}

static void an_interpreter_longer_than_the_buffer_is_an_error(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(elf_interpreter("/bin/true", buf, sizeof(buf)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_functions_have_the_offsets_binutils_gives),
		cmocka_unit_test(names_are_looked_up_in_any_order_and_repeated),
		cmocka_unit_test(a_name_that_is_not_defined_gives_zero),
		cmocka_unit_test(a_gnu_hash_shift_past_32_bits_is_malformed),
		cmocka_unit_test(versioned_libc_symbols_match_their_plain_names),
		cmocka_unit_test(a_file_that_is_not_elf_gives_enoexec),
		cmocka_unit_test(a_missing_file_gives_enoent),
		cmocka_unit_test(the_interpreter_of_a_dynamic_executable_is_its_loader),
		cmocka_unit_test(an_interpreter_wrapping_past_the_file_is_malformed),
		cmocka_unit_test(a_library_has_no_interpreter),
		cmocka_unit_test(an_interpreter_longer_than_the_buffer_is_an_error),
	};

	return cmocka_run_group_tests_name("elf_symbols", tests, group_setup, NULL);
}
