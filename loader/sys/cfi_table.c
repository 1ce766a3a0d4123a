// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Compiling call-frame information into unwind rows. libdw splits the
 * section into CIEs and FDEs (dwarf_next_cfi); the CFA programs are run
 * here, once each, from the first instruction to the last: asking libdw
 * for the frame at every address instead would run each function's
 * program again for every row of it.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfi_table.h"
#include "regular_file.h"
#include "grow_array.h"
#include "u64_map.h"

/* x86-64 DWARF register numbers */
enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };

#define STATE_STACK 16 /* DW_CFA_remember_state nesting kept */

/* What the CFA program says at one address. */
struct cfa_state {
	unsigned int cfa_reg;
	int64_t cfa_off;
	enum mt_cfa_rule expr; /* MT_CFA_PLT, MT_CFA_NONE (another expression), or 0: none */
	bool rbp_saved;
	int64_t rbp_off; /* from the CFA, when saved */
	bool ra_undefined;
};

struct cie {
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_encoding;
	bool has_z;			      /* FDEs have an augmentation length */
	size_t fde_aug_size;		      /* without 'z': their augmentation's size */
	const uint8_t *init, *init_end;
};

struct builder {
	Elf_Data *data;
	bool eh;	   /* .eh_frame (pointer encodings), not .debug_frame */
	uint64_t addr;	   /* the section's address: pc-relative pointers are from it */
	const unsigned char *ident;
	struct cie *cies;
	size_t ncies, cap_cies;
	struct u64_map cie_index; /* section offset + 1 -> index + 1 */
	struct mt_unwind_row *rows;
	size_t n, cap;
	size_t fde_first; /* the current FDE's first row */
	int err;
};

/* A cursor over bytes [p, end): reads past the end set bad. */
struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t read_uleb(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (c->p < c->end) {
		uint8_t b = *c->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	c->bad = true;
	return 0;
}

static int64_t read_sleb(struct cursor *c)
{
	int64_t v = 0;
	unsigned shift = 0;

	while (c->p < c->end) {
		uint8_t b = *c->p++;

		if (shift < 64)
			v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
		shift += 7;
		if (!(b & 0x80)) {
			/*
			 * the sign through the bits above, made unsigned: at
			 * shift 63 (a 9-byte number) 1 << 63 overflows int64_t
			 */
			if (shift < 64 && (b & 0x40))
				v |= (int64_t)(~(uint64_t)0 << shift);
			return v;
		}
	}
	c->bad = true;
	return 0;
}

static uint64_t read_fixed(struct cursor *c, size_t size)
{
	uint64_t v = 0;

	if ((size_t)(c->end - c->p) < size) {
		c->bad = true;
		return 0;
	}
	memcpy(&v, c->p, size); /* x86-64: little-endian, as the file */
	c->p += size;
	return v;
}

/*
 * A factored offset: v times the CIE's data alignment factor. A product
 * past 64 bits is no offset any code has (and signed overflow is
 * undefined): the program is malformed.
 */
static int64_t factored(struct cursor *c, int64_t v, int64_t factor)
{
	int64_t r;

	if (__builtin_mul_overflow(v, factor, &r)) {
		c->bad = true;
		return 0;
	}
	return r;
}

/* A pointer in the encoding DW_EH_PE_* (pcrel from the section's address; others absolute). */
static uint64_t read_encoded(struct cursor *c, const struct builder *b, uint8_t enc, bool value_only)
{
	uint64_t at = b->addr + (uint64_t)(c->p - (const uint8_t *)b->data->d_buf), v;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr: v = read_fixed(c, 8); break;
	case DW_EH_PE_uleb128: v = read_uleb(c); break;
	case DW_EH_PE_udata2: v = read_fixed(c, 2); break;
	case DW_EH_PE_udata4: v = read_fixed(c, 4); break;
	case DW_EH_PE_udata8: v = read_fixed(c, 8); break;
	case DW_EH_PE_sleb128: v = (uint64_t)read_sleb(c); break;
	case DW_EH_PE_sdata2: v = (uint64_t)(int64_t)(int16_t)read_fixed(c, 2); break;
	case DW_EH_PE_sdata4: v = (uint64_t)(int64_t)(int32_t)read_fixed(c, 4); break;
	case DW_EH_PE_sdata8: v = read_fixed(c, 8); break;
	default: c->bad = true; return 0;
	}
	if (!value_only && (enc & 0x70) == DW_EH_PE_pcrel)
		v += at;
	else if (!value_only && (enc & 0x70))
		c->bad = true; /* textrel, datarel, funcrel: not used by x86-64 code */
	return v;
}

/* The CIE at a section offset, read the first time. NULL if malformed. */
static const struct cie *cie_at(struct builder *b, Dwarf_Off off)
{
	Dwarf_CFI_Entry e;
	Dwarf_Off next;
	uint64_t idx;
	struct cie c = { 0 };

	if (u64_map_get(&b->cie_index, off + 1, &idx))
		return &b->cies[idx - 1];
	if (dwarf_next_cfi(b->ident, b->data, b->eh, off, &next, &e) || !dwarf_cfi_cie_p(&e))
		return NULL;
	c.code_align = e.cie.code_alignment_factor;
	c.data_align = e.cie.data_alignment_factor;
	c.init = e.cie.initial_instructions;
	c.init_end = e.cie.initial_instructions_end;
	c.fde_encoding = b->eh ? DW_EH_PE_absptr : DW_EH_PE_udata8;
	c.fde_aug_size = e.cie.fde_augmentation_data_size;
	if (e.cie.return_address_register != REG_RA)
		return NULL;
	if (e.cie.augmentation[0] == 'z') {
		struct cursor a = { e.cie.augmentation_data,
				    e.cie.augmentation_data + e.cie.augmentation_data_size, false };

		c.has_z = true;
		for (const char *s = e.cie.augmentation + 1; *s && !a.bad; s++) {
			if (*s == 'R') {
				c.fde_encoding = (uint8_t)read_fixed(&a, 1);
			} else if (*s == 'L') {
				read_fixed(&a, 1);
			} else if (*s == 'P') {
				uint8_t enc = (uint8_t)read_fixed(&a, 1);

				read_encoded(&a, b, enc & 0x7f, true);
			} else if (*s != 'S' && *s != 'B') {
				break; /* unknown: 'z' says how long the FDEs' data is anyway */
			}
		}
	}
	if (GROW_ARRAY(b->cies, b->ncies, b->cap_cies, 16) ||
	    u64_map_put(&b->cie_index, off + 1, b->ncies + 1)) {
		b->err = -ENOMEM;
		return NULL;
	}
	b->cies[b->ncies] = c;
	return &b->cies[b->ncies++];
}

/* The 11-byte CFA expression of a PLT entry (lazy binding's push, jmp): rsp + 8, + 8 past byte 11. */
static bool is_plt_expression(const uint8_t *p, uint64_t len)
{
	static const uint8_t plt[] = { DW_OP_breg7, 8, DW_OP_breg16, 0, DW_OP_lit15, DW_OP_and,
				       DW_OP_lit11, DW_OP_ge, DW_OP_lit3, DW_OP_shl, DW_OP_plus };

	return len == sizeof(plt) && memcmp(p, plt, sizeof(plt)) == 0;
}

static struct mt_unwind_row row_of(uint64_t pc, const struct cfa_state *s)
{
	struct mt_unwind_row r = { .pc = (__u32)pc, .cfa_rule = MT_CFA_NONE };

	if (s->ra_undefined) {
		r.cfa_rule = MT_CFA_END;
		return r;
	}
	if (s->expr == MT_CFA_PLT) {
		r.cfa_rule = MT_CFA_PLT;
		r.cfa_off = 8;
		return r;
	}
	if (s->expr || s->cfa_off < 0 || s->cfa_off > UINT16_MAX)
		return r;
	if (s->cfa_reg == REG_RSP)
		r.cfa_rule = MT_CFA_RSP;
	else if (s->cfa_reg == REG_RBP)
		r.cfa_rule = MT_CFA_RBP;
	else
		return r;
	r.cfa_off = (__u16)s->cfa_off;
	/* rbp saved where one byte of 8-byte slots cannot say: followed as unchanged */
	if (s->rbp_saved && !(s->rbp_off & 7) && s->rbp_off / 8 >= INT8_MIN &&
	    s->rbp_off / 8 <= INT8_MAX && s->rbp_off)
		r.rbp_off = (__s8)(s->rbp_off / 8);
	return r;
}

static void emit(struct builder *b, uint64_t pc, const struct cfa_state *s)
{
	if (b->err)
		return;
	if (pc > UINT32_MAX) {
		b->err = -E2BIG;
		return;
	}
	/* a location advanced by 0: the rule there is the newer one */
	if (b->n > b->fde_first && b->rows[b->n - 1].pc == pc) {
		b->rows[b->n - 1] = row_of(pc, s);
		return;
	}
	if (GROW_ARRAY(b->rows, b->n, b->cap, 4096)) {
		b->err = -ENOMEM;
		return;
	}
	b->rows[b->n++] = row_of(pc, s);
}

/* A register rule: only rbp's and the return address's matter here. */
static void set_saved(struct cfa_state *s, uint64_t reg, bool saved, int64_t off)
{
	if (reg == REG_RBP) {
		s->rbp_saved = saved;
		s->rbp_off = off;
	} else if (reg == REG_RA) {
		s->ra_undefined = false;
	}
}

struct program {
	struct cfa_state state, initial;
	struct cfa_state stack[STATE_STACK];
	size_t depth;
	uint64_t loc, end; /* the current address, and the FDE's end (0: a CIE's program) */
};

/* Run one CFA program; rows go out as the location advances. -EINVAL if malformed. */
static int run(struct builder *b, const struct cie *cie, struct program *pr, const uint8_t *p,
	       const uint8_t *end)
{
	struct cursor c = { p, end, false };
	struct cfa_state *s = &pr->state;

	while (c.p < c.end && !c.bad) {
		uint8_t op = *c.p++;
		uint64_t reg, delta = 0, len;
		bool advance = false;

		switch (op & 0xc0) {
		case DW_CFA_offset:
			set_saved(s, op & 0x3f, true,
				  factored(&c, (int64_t)read_uleb(&c), cie->data_align));
			continue;
		case DW_CFA_restore:
			reg = op & 0x3f;
			if (reg == REG_RBP) {
				s->rbp_saved = pr->initial.rbp_saved;
				s->rbp_off = pr->initial.rbp_off;
			}
			continue;
		}
		switch ((op & 0xc0) == DW_CFA_advance_loc ? DW_CFA_advance_loc : op) {
		case DW_CFA_advance_loc:
			delta = (op & 0x3f) * cie->code_align;
			advance = true;
			break;
		case DW_CFA_nop:
			break;
		case DW_CFA_set_loc:
			delta = read_encoded(&c, b, cie->fde_encoding, false) - pr->loc;
			advance = true;
			break;
		case DW_CFA_advance_loc1:
			delta = read_fixed(&c, 1) * cie->code_align;
			advance = true;
			break;
		case DW_CFA_advance_loc2:
			delta = read_fixed(&c, 2) * cie->code_align;
			advance = true;
			break;
		case DW_CFA_advance_loc4:
			delta = read_fixed(&c, 4) * cie->code_align;
			advance = true;
			break;
		case DW_CFA_offset_extended:
			reg = read_uleb(&c);
			set_saved(s, reg, true, factored(&c, (int64_t)read_uleb(&c), cie->data_align));
			break;
		case DW_CFA_offset_extended_sf:
			reg = read_uleb(&c);
			set_saved(s, reg, true, factored(&c, read_sleb(&c), cie->data_align));
			break;
		case DW_CFA_GNU_negative_offset_extended:
			reg = read_uleb(&c);
			set_saved(s, reg, true,
				  factored(&c, factored(&c, (int64_t)read_uleb(&c), cie->data_align),
					   -1));
			break;
		case DW_CFA_restore_extended:
			reg = read_uleb(&c);
			if (reg == REG_RBP) {
				s->rbp_saved = pr->initial.rbp_saved;
				s->rbp_off = pr->initial.rbp_off;
			}
			break;
		case DW_CFA_undefined:
			reg = read_uleb(&c);
			if (reg == REG_RA)
				s->ra_undefined = true;
			else
				set_saved(s, reg, false, 0);
			break;
		case DW_CFA_same_value:
			set_saved(s, read_uleb(&c), false, 0);
			break;
		case DW_CFA_register:
			reg = read_uleb(&c);
			read_uleb(&c);
			set_saved(s, reg, false, 0); /* in another register: not followed */
			break;
		case DW_CFA_remember_state:
			if (pr->depth == STATE_STACK)
				return -EINVAL;
			pr->stack[pr->depth++] = *s;
			break;
		case DW_CFA_restore_state:
			if (!pr->depth)
				return -EINVAL;
			*s = pr->stack[--pr->depth];
			break;
		case DW_CFA_def_cfa:
			s->cfa_reg = (unsigned int)read_uleb(&c);
			s->cfa_off = (int64_t)read_uleb(&c);
			s->expr = 0;
			break;
		case DW_CFA_def_cfa_sf:
			s->cfa_reg = (unsigned int)read_uleb(&c);
			s->cfa_off = factored(&c, read_sleb(&c), cie->data_align);
			s->expr = 0;
			break;
		case DW_CFA_def_cfa_register:
			s->cfa_reg = (unsigned int)read_uleb(&c);
			s->expr = 0;
			break;
		case DW_CFA_def_cfa_offset:
			s->cfa_off = (int64_t)read_uleb(&c);
			break;
		case DW_CFA_def_cfa_offset_sf:
			s->cfa_off = factored(&c, read_sleb(&c), cie->data_align);
			break;
		case DW_CFA_def_cfa_expression:
			len = read_uleb(&c);
			if (len > (uint64_t)(c.end - c.p))
				return -EINVAL;
			s->expr = is_plt_expression(c.p, len) ? MT_CFA_PLT : MT_CFA_NONE;
			c.p += len;
			break;
		case DW_CFA_expression:
		case DW_CFA_val_expression:
			reg = read_uleb(&c);
			len = read_uleb(&c);
			if (len > (uint64_t)(c.end - c.p))
				return -EINVAL;
			c.p += len;
			set_saved(s, reg, false, 0);
			break;
		case DW_CFA_val_offset:
			set_saved(s, read_uleb(&c), false, 0);
			read_uleb(&c);
			break;
		case DW_CFA_val_offset_sf:
			set_saved(s, read_uleb(&c), false, 0);
			read_sleb(&c);
			break;
		case DW_CFA_GNU_args_size:
			read_uleb(&c);
			break;
		default:
			return -EINVAL; /* an opcode of another architecture */
		}
		if (advance && pr->end) {
			/* the rule so far holds from loc up to loc + delta */
			emit(b, pr->loc, s);
			pr->loc += delta;
		}
	}
	return c.bad ? -EINVAL : 0;
}

/* One FDE: its rows, and a row of no rule where it ends (another FDE may begin there). */
static int add_fde(struct builder *b, const Dwarf_CFI_Entry *e)
{
	const struct cie *cie = cie_at(b, e->fde.CIE_pointer);
	struct cursor c = { e->fde.start, e->fde.end, false };
	struct program pr = { 0 };
	uint64_t start, range, aug;
	const struct cfa_state none = { .expr = MT_CFA_NONE };
	int err;

	if (!cie)
		return b->err ? b->err : -EINVAL;
	start = read_encoded(&c, b, cie->fde_encoding, false);
	range = read_encoded(&c, b, cie->fde_encoding, true);
	aug = cie->has_z ? read_uleb(&c) : cie->fde_aug_size;
	/*
	 * Checked before the cursor moves: a length past the FDE's end moved
	 * it out of its buffer (undefined), and one near 2^64 wrapped it back
	 * inside, to run bytes that are no program.
	 */
	if (c.bad || aug > (uint64_t)(c.end - c.p))
		return -EINVAL;
	c.p += aug;
	if (!range)
		return 0;
	/* the CIE's program sets the initial rules; DW_CFA_restore goes back to them */
	err = run(b, cie, &pr, cie->init, cie->init_end);
	if (err)
		return err;
	pr.initial = pr.state;
	b->fde_first = b->n;
	pr.loc = start;
	pr.end = start + range;
	err = run(b, cie, &pr, c.p, c.end);
	if (err)
		return err;
	if (pr.loc < pr.end)
		emit(b, pr.loc, &pr.state);
	emit(b, pr.end, &none);
	return b->err;
}

/* By pc; at one pc, a rule before MT_CFA_NONE (an FDE's end is often the next one's start). */
static int row_order(const void *x, const void *y)
{
	const struct mt_unwind_row *a = x, *b = y;

	if (a->pc != b->pc)
		return a->pc < b->pc ? -1 : 1;
	return (a->cfa_rule == MT_CFA_NONE) - (b->cfa_rule == MT_CFA_NONE);
}

static bool same_rule(const struct mt_unwind_row *a, const struct mt_unwind_row *b)
{
	return a->cfa_rule == b->cfa_rule && a->cfa_off == b->cfa_off && a->rbp_off == b->rbp_off;
}

/* Sorted, one row per pc, and none that repeats the rule before it. */
static void normalize(struct builder *b)
{
	size_t out = 0;

	if (!b->n)
		return; /* no rows, and rows may be NULL, which qsort may not be given */
	qsort(b->rows, b->n, sizeof(*b->rows), row_order);
	for (size_t i = 0; i < b->n; i++) {
		if (i && b->rows[i - 1].pc == b->rows[i].pc)
			continue; /* the first at a pc is the one with a rule */
		if (out && same_rule(&b->rows[out - 1], &b->rows[i]))
			continue;
		b->rows[out++] = b->rows[i];
	}
	b->n = out;
}

static Elf_Scn *section_named(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh) || sh->sh_type != SHT_PROGBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

/* p_vaddr - p_offset of the first executable PT_LOAD segment. */
static int exec_delta(Elf *elf, int64_t *delta)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
			*delta = (int64_t)(ph.p_vaddr - ph.p_offset);
			return 0;
		}
	}
	return -ENOEXEC;
}

static int build(Elf *elf, struct cfi_table *t)
{
	struct builder b = { 0 };
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Scn *scn;
	Dwarf_Off off = 0, next;
	int err;

	if (!gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 ||
	    gelf_getclass(elf) != ELFCLASS64)
		return -ENOEXEC;
	err = exec_delta(elf, &t->vaddr_delta);
	if (err)
		return err;
	scn = section_named(elf, ".eh_frame", &sh);
	b.eh = scn != NULL;
	if (!scn)
		scn = section_named(elf, ".debug_frame", &sh);
	if (!scn || !(b.data = elf_getdata(scn, NULL)) || !b.data->d_size)
		return -ENOENT;
	b.addr = sh.sh_addr;
	b.ident = (const unsigned char *)elf_getident(elf, NULL);
	for (;;) {
		Dwarf_CFI_Entry e;
		int r = dwarf_next_cfi(b.ident, b.data, b.eh, off, &next, &e);

		if (r > 0)
			break; /* the end (or .eh_frame's zero terminator) */
		if (r < 0) {
			err = -EINVAL;
			break;
		}
		if (!dwarf_cfi_cie_p(&e) && (err = add_fde(&b, &e)))
			break;
		off = next;
	}
	free(b.cies);
	u64_map_free(&b.cie_index);
	if (err) {
		free(b.rows);
		return err;
	}
	normalize(&b);
	t->rows = b.rows;
	t->n = b.n;
	return t->n ? 0 : -ENOENT;
}

int cfi_table_build_fd(int fd, struct cfi_table *t)
{
	Elf *elf;
	int err;

	memset(t, 0, sizeof(*t));
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	err = elf_kind(elf) == ELF_K_ELF ? build(elf, t) : -ENOEXEC;
	elf_end(elf);
	return err;
}

int cfi_table_build(const char *path, struct cfi_table *t)
{
	int fd = open_regular(path), err;

	memset(t, 0, sizeof(*t));
	if (fd < 0)
		return fd;
	err = cfi_table_build_fd(fd, t);
	close(fd);
	return err;
}

const struct mt_unwind_row *cfi_table_find(const struct cfi_table *t, uint64_t vaddr)
{
	size_t lo = 0, hi = t->n;

	if (vaddr > UINT32_MAX)
		return NULL;
	/* the last row whose pc is at or below vaddr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

void cfi_table_free(struct cfi_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
