// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loader/sys/cfi_table: call-frame information compiled into unwind rows.
 * The reference is libdw's own reading of the same CFI
 * (dwarf_cfi_addrframe): at every row's first address, and the byte after,
 * of real objects, the compiled row must give the rule libdw gives, or
 * MT_CFA_NONE where the BPF side cannot follow it.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <time.h>
#include <unistd.h>

#include "cfi_table.h"

#include "test_support.h"

/* What libdw says at pc, as a row (pc left 0); false if it has no FDE there. */
static bool reference_row(Dwarf_CFI *cfi, uint64_t pc, struct mt_unwind_row *want)
{
	Dwarf_Frame *f;
	Dwarf_Op *ops, mem[3];
	size_t n;

	memset(want, 0, sizeof(*want));
	if (dwarf_cfi_addrframe(cfi, pc, &f))
		return false;
	/* libdw: an undefined register has no ops but ops set; same_value, ops NULL */
	if (dwarf_frame_register(f, 16, mem, &ops, &n) == 0 && n == 0 && ops) {
		want->cfa_rule = MT_CFA_END;
	} else if (dwarf_frame_cfa(f, &ops, &n) == 0 && n == 1 && ops[0].atom == DW_OP_bregx &&
		   (ops[0].number == 6 || ops[0].number == 7) && ops[0].number2 <= UINT16_MAX) {
		want->cfa_rule = ops[0].number == 7 ? MT_CFA_RSP : MT_CFA_RBP;
		want->cfa_off = (__u16)ops[0].number2;
		if (dwarf_frame_register(f, 6, mem, &ops, &n) == 0 && n == 2 &&
		    ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst) {
			int64_t off = (int64_t)ops[1].number;

			if (!(off & 7) && off / 8 >= INT8_MIN && off / 8 <= INT8_MAX)
				want->rbp_off = (__s8)(off / 8);
		}
	} else {
		want->cfa_rule = MT_CFA_NONE; /* an expression: the PLT's, or one not followed */
	}
	free(f);
	return true;
}

/* Every row of path against libdw; returns how many addresses were compared. */
static size_t check_object(const char *path)
{
	struct cfi_table t;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Dwarf_CFI *cfi;
	size_t compared = 0, plt = 0;

	assert_true(fd >= 0);
	assert_int_equal(cfi_table_build(path, &t), 0);
	assert_true(t.n > 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(elf);
	cfi = dwarf_getcfi_elf(elf);
	assert_non_null(cfi);
	for (size_t i = 0; i < t.n; i++) {
		assert_true(i == 0 || t.rows[i - 1].pc < t.rows[i].pc); /* sorted, one per pc */
		for (uint64_t pc = t.rows[i].pc; pc <= (uint64_t)t.rows[i].pc + 1; pc++) {
			const struct mt_unwind_row *got = cfi_table_find(&t, pc);
			struct mt_unwind_row want;

			if (i + 1 < t.n && pc >= t.rows[i + 1].pc)
				break;
			assert_non_null(got);
			if (!reference_row(cfi, pc, &want)) {
				if (got->cfa_rule != MT_CFA_NONE)
					fail_msg("%s: 0x%llx has no FDE, but a rule %u", path,
						 (unsigned long long)pc, got->cfa_rule);
				continue;
			}
			compared++;
			if (got->cfa_rule == MT_CFA_PLT && want.cfa_rule == MT_CFA_NONE) {
				plt++;
				continue;
			}
			if (got->cfa_rule != want.cfa_rule || got->cfa_off != want.cfa_off ||
			    got->rbp_off != want.rbp_off)
				fail_msg("%s: at 0x%llx compiled %u+%u rbp %d, libdw %u+%u rbp %d",
					 path, (unsigned long long)pc, got->cfa_rule, got->cfa_off,
					 got->rbp_off, want.cfa_rule, want.cfa_off, want.rbp_off);
		}
	}
	assert_true(plt <= 4); /* a PLT or two per object, no more */
	dwarf_cfi_end(cfi);
	elf_end(elf);
	close(fd);
	cfi_table_free(&t);
	return compared;
}

static void test_same_rules_as_libdw(void **state)
{
	static const char *const objects[] = {
		"/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
		"/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
		"/usr/bin/python3.11",
	};
	size_t compared;

	(void)state;
	compared = check_object(build_path("tests/fixtures/leak_sites"));
	assert_true(compared > 10);
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		if (access(objects[i], R_OK) && i > 0) {
			print_message("not installed here: %s\n", objects[i]);
			continue;
		}
		compared = check_object(objects[i]);
		print_message("%s: %zu addresses agree\n", objects[i], compared);
		assert_true(compared > 1000);
	}
}

/* A frame-pointer function's rows, read off its prologue. */
static void test_prologue_rows(void **state)
{
	struct cfi_table t;
	const struct mt_unwind_row *r;
	GElf_Sym sym;
	uint64_t fn = 0;
	int fd = open(build_path("tests/fixtures/leak_sites"), O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Elf_Scn *scn = NULL;

	(void)state;
	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while ((scn = elf_nextscn(elf, scn)) && !fn) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++)
			if (gelf_getsym(d, (int)i, &sym) &&
			    !strcmp(elf_strptr(elf, sh.sh_link, sym.st_name), "leak_big"))
				fn = sym.st_value;
	}
	assert_true(fn);
	assert_int_equal(cfi_table_build_fd(fd, &t), 0);
	/* at entry: the return address just pushed */
	r = cfi_table_find(&t, fn);
	assert_int_equal(r->cfa_rule, MT_CFA_RSP);
	assert_int_equal(r->cfa_off, 8);
	/* after push %rbp; mov %rsp,%rbp: from rbp, with rbp saved at CFA - 16 */
	r = cfi_table_find(&t, fn + 4);
	assert_int_equal(r->cfa_rule, MT_CFA_RBP);
	assert_int_equal(r->cfa_off, 16);
	assert_int_equal(r->rbp_off, -2);
	assert_null(cfi_table_find(&t, 0));
	cfi_table_free(&t);
	elf_end(elf);
	close(fd);
}

/*
 * Preparing libpython's rows is cheap enough to do for each object once, at
 * attach: under issue 12's 100 ms (bench/cfi_build measures it side by side).
 */
static void test_build_cost(void **state)
{
	const char *lib = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0";
	struct cfi_table t;
	double ms;

	(void)state;
	if (access(lib, R_OK)) {
		print_message("skipped: no %s\n", lib);
		skip();
	}
	ms = -user_cpu_seconds();
	assert_int_equal(cfi_table_build(lib, &t), 0);
	ms = (ms + user_cpu_seconds()) * 1e3;
	print_message("%s: %zu rows in %.1f ms of user CPU\n", lib, t.n, ms);
	if (time_bounds_checked())
		assert_true(ms < 100); /* issue 12's target, about 6 ms here */
	cfi_table_free(&t);
}

static void test_refused(void **state)
{
	struct cfi_table t;

	(void)state;
	assert_int_equal(cfi_table_build("/nonexistent", &t), -ENOENT);
	assert_int_equal(cfi_table_build("/etc/passwd", &t), -ENOEXEC);
	assert_int_equal(t.n, 0);
	cfi_table_free(&t);
	/* call-frame information without a single FDE: no rows, not a table of none */
	assert_int_equal(cfi_table_build(build_path("tests/fixtures/no_fde.so"), &t), -ENOENT);
	assert_int_equal(t.n, 0);
	cfi_table_free(&t);
}

/*
 * An FDE whose augmentation length is 2^64 - 10: moving past it once
 * wrapped the cursor back into the FDE, and its bytes were run as a
 * program (4 rows). The length is past the FDE's end: malformed.
 */
static void test_augmentation_past_fde_end(void **state)
{
	struct cfi_table t;

	(void)state;
	assert_int_equal(
		cfi_table_build("tests/fuzz/corpus/cfi_table/crash-fde-augmentation-wraps", &t),
		-EINVAL);
	assert_int_equal(t.n, 0);
	cfi_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_rules_as_libdw),
		cmocka_unit_test(test_prologue_rows),
		cmocka_unit_test(test_build_cost),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_augmentation_past_fde_end),
	};

	return cmocka_run_group_tests_name("cfi_table", tests, NULL, NULL);
}
