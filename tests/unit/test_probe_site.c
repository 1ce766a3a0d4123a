// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loader/sys/probe_site: where an entry probe goes. Real prologues, read from
 * Debian's glibc, jemalloc, tcmalloc, mimalloc and libstdc++ as installed
 * (tools/deps.sh), with the sites their disassembly (gdb x/i) shows; and
 * made-up code that must keep the entry: a branch back into the skipped
 * range, an argument register written, an indirect jump, bytes that do
 * not decode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "probe_site.h"

#define LIBDIR "/usr/lib/x86_64-linux-gnu/"

/* The site probe_site() picks in a library's function, checking it lands on an emulated
 * instruction. */
static size_t site_in(const char *lib, const char *name)
{
	const char *names[] = { name };
	size_t offset, size, site;
	uint8_t *code;
	int fd;

	if (access(lib, R_OK))
		fail_msg("%s is not installed (tools/deps.sh installs it)", lib);
	assert_int_equal(elf_function_offsets(lib, names, 1, &offset, &size), 0);
	if (!offset || !size)
		fail_msg("%s: no function %s, or no size for it", lib, name);
	code = malloc(size);
	assert_non_null(code);
	fd = open(lib, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, code, size, (off_t)offset), (ssize_t)size);
	close(fd);
	site = probe_site(code, size);
	free(code);
	assert_true(site < size);
	return site;
}

static void test_glibc(void **state)
{
	const char *libc = LIBDIR "libc.so.6";

	(void)state;
	assert_int_equal(site_in(libc, "malloc"), 0);	      /* push %r12 */
	assert_int_equal(site_in(libc, "calloc"), 0);	      /* push %r13 */
	assert_int_equal(site_in(libc, "realloc"), 0);	      /* push %r15 */
	assert_int_equal(site_in(libc, "free"), 3);	      /* test %rdi,%rdi; je */
	assert_int_equal(site_in(libc, "memalign"), 7);	      /* cmpb $0,x(%rip); je */
	assert_int_equal(site_in(libc, "aligned_alloc"), 7);  /* the same function */
	assert_int_equal(site_in(libc, "posix_memalign"), 7); /* cmpb; push %r12 */
	assert_int_equal(site_in(libc, "valloc"), 7);	      /* cmpb; push %rbx */
	assert_int_equal(site_in(libc, "pvalloc"), 7);
	/* mov %rsi,%rax; mul %rdx: mul writes rdx, the third argument */
	assert_int_equal(site_in(libc, "reallocarray"), 0);
}

static void test_jemalloc(void **state)
{
	const char *je = LIBDIR "libjemalloc.so.2";

	(void)state;
	assert_int_equal(site_in(je, "malloc"), 7); /* cmp $0x1000,%rdi; ja */
	assert_int_equal(site_in(je, "_Znwm"), 7);
	assert_int_equal(site_in(je, "free"), 0);    /* mov %rdi,%rax; mov x(%rip),%rdx */
	assert_int_equal(site_in(je, "realloc"), 0); /* push %r15 */
	assert_int_equal(site_in(je, "_ZdlPvm"), 3); /* test %rdi,%rdi; je */
	assert_int_equal(site_in(je, "_ZdlPv"), 0);  /* jmp free@plt */
}

static void test_tcmalloc(void **state)
{
	const char *tc = LIBDIR "libtcmalloc_minimal.so.4";

	(void)state;
	/* mov x(%rip),%rax; test %rax,%rax; jne: rax is scratch */
	assert_int_equal(site_in(tc, "tc_malloc"), 10);
	assert_int_equal(site_in(tc, "tc_free"), 10);
	assert_int_equal(site_in(tc, "tc_calloc"), 0);
}

static void test_mimalloc(void **state)
{
	const char *mi = LIBDIR "libmimalloc.so.2";

	(void)state;
	assert_int_equal(site_in(mi, "mi_malloc"), 0); /* mov ...,%rax; mov %rdi,%rsi */
	assert_int_equal(site_in(mi, "mi_free"), 0);   /* mov %rdi,%rcx: an argument register */
	assert_int_equal(site_in(mi, "mi_new"), 0);    /* push %rbp */
}

static void test_libstdcxx(void **state)
{
	const char *cxx = LIBDIR "libstdc++.so.6";

	(void)state;
	assert_int_equal(site_in(cxx, "_Znwm"), 12); /* endbr64; test; mov $1,%eax; push %rbx */
	assert_int_equal(site_in(cxx, "_ZdlPv"), 4); /* endbr64; jmp free@plt */
	assert_int_equal(site_in(cxx, "_ZnwmSt11align_val_t"), 4);
}

/* test %rdi,%rdi; je +N; push %rbp; ...: the push at 5 is not the first emulated (the je at 3 is).
 */
static const uint8_t free_like[] = {
	0x48, 0x85, 0xff, /* 0: test %rdi,%rdi */
	0x74, 0x03,	  /* 3: je 8 */
	0x55,		  /* 5: push %rbp */
	0x5d,		  /* 6: pop %rbp */
	0xc3,		  /* 7: ret */
	0xc3,		  /* 8: ret */
};

static void test_made_up_code(void **state)
{
	(void)state;
	assert_int_equal(probe_site(free_like, sizeof(free_like)), 3);
	assert_true(probe_site_emulated(free_like + 3, 2));
	assert_true(probe_site_emulated(free_like + 5, 1));
	assert_false(probe_site_emulated(free_like, 3));
	/* a 0x66 prefix: the kernel does not emulate it */
	assert_false(probe_site_emulated((const uint8_t *)"\x66\x90", 2));
}

static void test_branch_into_skipped_range(void **state)
{
	static const uint8_t back_to_probe[] = {
		0x48, 0x85, 0xff, /* 0: test %rdi,%rdi */
		0x74, 0x02,	  /* 3: je 7 */
		0xeb, 0xfc,	  /* 5: jmp 3: passes the probe twice */
		0xc3,		  /* 7: ret */
	};
	static const uint8_t back_to_entry[] = {
		0x48, 0x85, 0xff, /* 0: test %rdi,%rdi */
		0x74, 0x02,	  /* 3: je 7 */
		0xeb, 0xf9,	  /* 5: jmp 0: a new pass from the entry is fine */
		0xc3,		  /* 7: ret */
	};
	static const uint8_t call_into[] = {
		0x48, 0x85, 0xff,	      /* 0: test %rdi,%rdi */
		0x74, 0x05,		      /* 3: je 10 */
		0xe8, 0xf9, 0xff, 0xff, 0xff, /* 5: call 3 */
		0xc3,			      /* 10: ret */
	};

	(void)state;
	assert_int_equal(probe_site(back_to_probe, sizeof(back_to_probe)), 0);
	assert_int_equal(probe_site(back_to_entry, sizeof(back_to_entry)), 3);
	assert_int_equal(probe_site(call_into, sizeof(call_into)), 0);
}

static void test_unsafe_prefixes(void **state)
{
	static const uint8_t writes_arg[] = {
		0x48, 0x89, 0xfe, /* mov %rdi,%rsi */
		0x55,		  /* push %rbp */
		0xc3,
	};
	static const uint8_t stores[] = {
		0x48, 0x89, 0x3d, 0x00, 0x00, 0x00, 0x00, /* mov %rdi,0(%rip) */
		0x55, 0xc3,
	};
	static const uint8_t moves_sp[] = {
		0x48, 0x83, 0xec, 0x08, /* sub $8,%rsp */
		0x55, 0xc3,
	};
	static const uint8_t too_many[] = {
		0x48, 0x85, 0xff, 0x48, 0x85, 0xff,
		0x48, 0x85, 0xff, 0x48, 0x85, 0xff, /* 4 tests */
		0x55, 0xc3,
	};
	static const uint8_t indirect_jump[] = {
		0x48, 0x85, 0xff, /* test %rdi,%rdi */
		0x55,		  /* push %rbp */
		0xff, 0xe0,	  /* jmp *%rax: could land anywhere */
	};

	(void)state;
	assert_int_equal(probe_site(writes_arg, sizeof(writes_arg)), 0);
	assert_int_equal(probe_site(stores, sizeof(stores)), 0);
	assert_int_equal(probe_site(moves_sp, sizeof(moves_sp)), 0);
	assert_int_equal(probe_site(too_many, sizeof(too_many)), 0);
	assert_int_equal(probe_site(indirect_jump, sizeof(indirect_jump)), 0);
}

static void test_malformed(void **state)
{
	static const uint8_t truncated[] = { 0x48, 0x85 };
	static const uint8_t no_emulated[] = { 0x48, 0x85, 0xff };
	static const uint8_t garbage_after[] = {
		0x48, 0x85, 0xff, /* test %rdi,%rdi */
		0x55,		  /* push %rbp */
		0x06,		  /* not an instruction in 64-bit mode */
		0xc3,
	};

	(void)state;
	assert_int_equal(probe_site(NULL, 0), 0);
	assert_int_equal(probe_site(truncated, sizeof(truncated)), 0);
	assert_int_equal(probe_site(no_emulated, sizeof(no_emulated)), 0);
	assert_int_equal(probe_site(garbage_after, sizeof(garbage_after)), 0);
	/* the same without the garbage: proven */
	assert_int_equal(probe_site(garbage_after, 4), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glibc),
		cmocka_unit_test(test_jemalloc),
		cmocka_unit_test(test_tcmalloc),
		cmocka_unit_test(test_mimalloc),
		cmocka_unit_test(test_libstdcxx),
		cmocka_unit_test(test_made_up_code),
		cmocka_unit_test(test_branch_into_skipped_range),
		cmocka_unit_test(test_unsafe_prefixes),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests_name("probe_site", tests, NULL, NULL);
}
