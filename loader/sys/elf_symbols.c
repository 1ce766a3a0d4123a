// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow_array.h"
#include "elf_symbols.h"
#include "regular_file.h"

struct elf_handle {
	int fd;
	Elf *elf;
};

static int elf_handle_open(const char *path, struct elf_handle *h)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	h->fd = open_regular(path);
	if (h->fd < 0)
		return h->fd;
	h->elf = elf_begin(h->fd, ELF_C_READ_MMAP, NULL);
	if (!h->elf || elf_kind(h->elf) != ELF_K_ELF) {
		if (h->elf)
			elf_end(h->elf);
		close(h->fd);
		return -ENOEXEC;
	}
	return 0;
}

static void elf_handle_close(struct elf_handle *h)
{
	elf_end(h->elf);
	close(h->fd);
}

/* A virtual address inside an executable segment, as an offset in the file. */
static size_t vaddr_to_offset(Elf *elf, GElf_Addr vaddr)
{
	size_t nphdr;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &nphdr))
		return 0;
	for (size_t i = 0; i < nphdr; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_memsz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

/* The names asked for, sorted, each with its place in the caller's array. */
struct wanted {
	const char *name;
	size_t index;
};

static int wanted_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wanted *)a)->name, ((const struct wanted *)b)->name);
}

/* Compare a symbol name, up to a "@VERSION" suffix, with a wanted name. */
static int symbol_cmp(const void *key, const void *elem)
{
	const char *sym = key, *want = ((const struct wanted *)elem)->name;
	size_t len = strcspn(sym, "@");
	int c = strncmp(sym, want, len);

	return c ? c : (want[len] ? -1 : 0);
}

/*
 * Fill the offsets still 0 from one symbol table; returns how many it
 * found. A library has thousands of symbols: each is looked up among the
 * sorted names, not compared with every one.
 */
static size_t scan_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const struct wanted *w,
			  size_t n, size_t *offsets, size_t *sizes)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count, found = 0;
	GElf_Sym sym;

	if (!data || !sh->sh_entsize)
		return 0;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		const struct wanted *hit;
		const char *symname;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value)
			continue;
		symname = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!symname)
			continue;
		hit = bsearch(symname, w, n, sizeof(*w), symbol_cmp);
		if (!hit)
			continue;
		/* a name asked for twice: every place of it */
		while (hit > w && strcmp(hit[-1].name, hit->name) == 0)
			hit--;
		for (const struct wanted *k = hit; k < w + n && !strcmp(k->name, hit->name); k++) {
			if (offsets[k->index])
				continue;
			offsets[k->index] = vaddr_to_offset(elf, sym.st_value);
			if (sizes)
				sizes[k->index] = offsets[k->index] ? sym.st_size : 0;
			found += offsets[k->index] != 0;
		}
	}
	return found;
}

/* The GNU hash of a symbol name (the dynamic loader's). */
static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

/*
 * Word i of a table of 4- or 8-byte words, wherever it lies: the section
 * is read raw from the file, at whatever offset the file gives it, so a
 * load through a uint32_t or uint64_t pointer could be misaligned
 * (undefined in C). memcpy of a constant size is one load on x86-64.
 */
static uint32_t word32(const uint8_t *table, size_t i)
{
	uint32_t v;

	memcpy(&v, table + i * 4, sizeof(v));
	return v;
}

static uint64_t word64(const uint8_t *table, size_t i)
{
	uint64_t v;

	memcpy(&v, table + i * 8, sizeof(v));
	return v;
}

/* Is name a defined symbol of the table .gnu.hash indexes (dynsym, its header dsh)? */
static bool gnu_hash_has(Elf *elf, Elf_Data *hash, Elf_Data *dynsym, const GElf_Shdr *dsh,
			 const char *name)
{
	const uint8_t *hdr = hash->d_buf, *bloom, *buckets, *chain;
	uint32_t nbuckets, symoffset, bloom_size, bloom_shift, h, idx;
	uint64_t word;
	size_t words;

	if (hash->d_size < 16)
		return false;
	nbuckets = word32(hdr, 0);
	symoffset = word32(hdr, 1);
	bloom_size = word32(hdr, 2);
	bloom_shift = word32(hdr, 3);
	words = 4 + (size_t)bloom_size * 2 + nbuckets;
	/*
	 * The second Bloom bit is the hash shifted right by bloom_shift: a
	 * shift of 32 or more is no bit of a 32-bit hash (and undefined in
	 * C), so the table is malformed, as one without buckets is.
	 */
	if (!nbuckets || !bloom_size || bloom_shift >= 32 || hash->d_size < words * 4)
		return false;
	bloom = hdr + 4 * 4;
	buckets = bloom + (size_t)bloom_size * 8;
	chain = buckets + (size_t)nbuckets * 4;
	h = gnu_hash(name);
	/* two bits of the hash in the Bloom filter: most absent names stop here */
	word = word64(bloom, (h / 64) % bloom_size);
	if (!((word >> (h % 64)) & 1) || !((word >> ((h >> bloom_shift) % 64)) & 1))
		return false;
	for (idx = word32(buckets, h % nbuckets); idx >= symoffset; idx++) {
		size_t c = 4 + (size_t)bloom_size * 2 + nbuckets + (idx - symoffset);
		uint32_t link;
		GElf_Sym sym;
		const char *sname;

		if (c >= hash->d_size / 4)
			return false;
		link = word32(chain, idx - symoffset);
		if ((link | 1) == (h | 1) && gelf_getsym(dynsym, (int)idx, &sym) &&
		    (sname = elf_strptr(elf, dsh->sh_link, sym.st_name)) && strcmp(sname, name) == 0)
			return sym.st_shndx != SHN_UNDEF;
		if (link & 1)
			return false;
	}
	return false;
}

/*
 * Does the object define none of the names? Told from .gnu.hash without
 * reading its symbols: the usual answer for the many objects a process
 * maps. false when it cannot tell (no .gnu.hash).
 */
static bool defines_none(Elf *elf, const struct wanted *w, size_t n)
{
	Elf_Scn *scn = NULL, *dyn;
	Elf_Data *hash = NULL, *dynsym;
	GElf_Shdr sh, dsh;

	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_HASH) {
			hash = elf_rawdata(scn, NULL);
			break;
		}
	if (!hash || !hash->d_buf || !(dyn = elf_getscn(elf, sh.sh_link)) ||
	    !gelf_getshdr(dyn, &dsh) || !(dynsym = elf_getdata(dyn, NULL)))
		return false;
	for (size_t k = 0; k < n; k++)
		if (gnu_hash_has(elf, hash, dynsym, &dsh, w[k].name))
			return false;
	return true;
}

int elf_function_offsets(const char *path, const char *const *names, size_t n, size_t *offsets,
			 size_t *sizes)
{
	struct elf_handle h;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err;

	struct wanted *w = calloc(n ? n : 1, sizeof(*w));
	size_t found = 0;
	bool dynamic = false;

	memset(offsets, 0, n * sizeof(*offsets));
	if (sizes)
		memset(sizes, 0, n * sizeof(*sizes));
	if (!w)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		w[k] = (struct wanted){ names[k], k };
	qsort(w, n, sizeof(*w), wanted_cmp);
	err = elf_handle_open(path, &h);
	if (err) {
		free(w);
		return err;
	}
	if (defines_none(h.elf, w, n)) {
		elf_handle_close(&h);
		free(w);
		return 0;
	}
	/*
	 * .dynsym first: small, and where a shared object's functions are.
	 * .symtab (large, local symbols too) only if that found some, to fill
	 * the gaps, or if there is no .dynsym (a static executable).
	 */
	for (int pass = 0; pass < 2; pass++) {
		Elf32_Word want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;

		if (pass == 1 && dynamic && !found)
			break;
		scn = NULL;
		while ((scn = elf_nextscn(h.elf, scn)) != NULL) {
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != want)
				continue;
			dynamic |= want == SHT_DYNSYM;
			found += scan_symtab(h.elf, scn, &sh, w, n, offsets, sizes);
		}
	}
	elf_handle_close(&h);
	free(w);
	return 0;
}

int elf_interpreter(const char *path, char *buf, size_t size)
{
	struct elf_handle h;
	size_t nphdr, len;
	GElf_Phdr ph;
	const char *raw;
	int err = elf_handle_open(path, &h);

	if (err)
		return err;
	err = -ENOENT;
	if (elf_getphdrnum(h.elf, &nphdr))
		nphdr = 0;
	for (size_t i = 0; i < nphdr; i++) {
		if (!gelf_getphdr(h.elf, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		raw = elf_rawfile(h.elf, &len);
		/* each bound alone: p_offset + p_filesz can wrap past 2^64 to look inside the file */
		if (!raw || ph.p_offset > len || ph.p_filesz > len - ph.p_offset ||
		    ph.p_filesz == 0) {
			err = -ENOEXEC;
			break;
		}
		len = strnlen(raw + ph.p_offset, ph.p_filesz);
		if (len + 1 > size) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(buf, raw + ph.p_offset, len);
		buf[len] = '\0';
		err = 0;
		break;
	}
	elf_handle_close(&h);
	return err;
}

int elf_needed(const char *path, int (*fn)(void *ctx, const char *name), void *ctx,
	       char *search, size_t search_size)
{
	struct elf_handle h;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err = elf_handle_open(path, &h), ret = 0;
	bool runpath = false;

	if (err)
		return err;
	if (search_size)
		search[0] = '\0';
	while (!ret && (scn = elf_nextscn(h.elf, scn)) != NULL) {
		Elf_Data *data;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; !ret && data && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *str;

			if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag == DT_NULL)
				continue;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RUNPATH && dyn.d_tag != DT_RPATH)
				continue;
			str = elf_strptr(h.elf, sh.sh_link, dyn.d_un.d_val);
			if (!str)
				continue;
			if (dyn.d_tag == DT_NEEDED)
				ret = fn(ctx, str);
			else if (search_size && (dyn.d_tag == DT_RUNPATH || !runpath)) {
				/* DT_RUNPATH wins over the older DT_RPATH, as ld.so has it */
				snprintf(search, search_size, "%s", str);
				runpath = dyn.d_tag == DT_RUNPATH;
			}
		}
	}
	elf_handle_close(&h);
	return ret;
}

/* One stapsdt note: three addresses (probe, base, semaphore), then provider, name, args. */
static bool usdt_note_matches(const char *desc, size_t len, size_t addr_size, const char *provider,
			      const char **name)
{
	const char *prov = desc + 3 * addr_size, *end = desc + len;
	size_t plen;

	if (len <= 3 * addr_size)
		return false;
	plen = strnlen(prov, (size_t)(end - prov));
	if (prov + plen >= end || strcmp(prov, provider) != 0)
		return false;
	*name = prov + plen + 1;
	return strnlen(*name, (size_t)(end - *name)) < (size_t)(end - *name);
}

/* The address of a named section (0: none), and the file offset of an address in a section. */
static GElf_Addr section_addr(Elf *elf, size_t shstrndx, const char *want)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;

		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    strcmp(name, want) == 0)
			return sh.sh_addr;
	}
	return 0;
}

static size_t section_offset_of(Elf *elf, GElf_Addr addr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS && sh.sh_addr &&
		    addr >= sh.sh_addr && addr < sh.sh_addr + sh.sh_size)
			return addr - sh.sh_addr + sh.sh_offset;
	return 0;
}

static GElf_Addr note_word(const char *p, size_t addr_size)
{
	uint64_t v64;
	uint32_t v32;

	if (addr_size == 4) {
		memcpy(&v32, p, 4);
		return v32;
	}
	memcpy(&v64, p, 8);
	return v64;
}

/* Keep one site (the note desc[0..len), its probe name known to match names[k]). */
static int add_site(Elf *elf, const char *desc, size_t len, size_t addr_size, size_t k,
		    GElf_Addr base_section, struct usdt_site **sites, size_t *nsites)
{
	GElf_Addr pc = note_word(desc, addr_size), base = note_word(desc + addr_size, addr_size),
		  sema = note_word(desc + 2 * addr_size, addr_size);
	const char *prov = desc + 3 * addr_size, *end = desc + len, *name, *args;
	struct usdt_site *site;

	/* a prelinked object moved: its notes say where .stapsdt.base was */
	if (base_section && base) {
		pc += base_section - base;
		if (sema)
			sema += base_section - base;
	}
	name = prov + strnlen(prov, (size_t)(end - prov)) + 1;
	args = name + strnlen(name, (size_t)(end - name)) + 1;
	if (args >= end)
		args = end - 1; /* no arguments: the final NUL */
	if (APPEND_SLOT(*sites, *nsites))
		return -ENOMEM;
	site = &(*sites)[*nsites];
	memset(site, 0, sizeof(*site));
	site->probe = k;
	site->offset = vaddr_to_offset(elf, pc);
	site->semaphore = sema ? section_offset_of(elf, sema) : 0;
	snprintf(site->args, sizeof(site->args), "%.*s", (int)strnlen(args, (size_t)(end - args)),
		 args);
	if (site->offset)
		(*nsites)++;
	return 0;
}

int elf_usdt_sites(const char *path, const char *provider, const char *const *names, size_t n,
		   struct usdt_site **sites, size_t *nsites)
{
	struct elf_handle h;
	Elf_Scn *scn = NULL;
	GElf_Addr base_section;
	GElf_Shdr sh;
	size_t shstrndx, addr_size;
	int err;

	*sites = NULL;
	*nsites = 0;
	err = elf_handle_open(path, &h);
	if (err)
		return err;
	addr_size = gelf_getclass(h.elf) == ELFCLASS32 ? 4 : 8;
	if (elf_getshdrstrndx(h.elf, &shstrndx))
		goto out;
	base_section = section_addr(h.elf, shstrndx, ".stapsdt.base");
	while (!err && (scn = elf_nextscn(h.elf, scn)) != NULL) {
		Elf_Data *data;
		const char *secname;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		secname = elf_strptr(h.elf, shstrndx, sh.sh_name);
		if (!secname || strcmp(secname, ".note.stapsdt") != 0)
			continue;
		data = elf_getdata(scn, NULL);
		while (!err && data &&
		       (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			const char *desc = (const char *)data->d_buf + desc_off, *probe;

			if (nh.n_type != 3 /* NT_STAPSDT */ ||
			    !usdt_note_matches(desc, nh.n_descsz, addr_size, provider, &probe))
				continue;
			for (size_t k = 0; !err && k < n; k++)
				if (strcmp(probe, names[k]) == 0)
					err = add_site(h.elf, desc, nh.n_descsz, addr_size, k,
						       base_section, sites, nsites);
		}
	}
out:
	elf_handle_close(&h);
	if (err) {
		free(*sites);
		*sites = NULL;
		*nsites = 0;
	}
	return err;
}

int elf_build_id(const char *path, char *buf, size_t size)
{
	struct elf_handle h;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err = elf_handle_open(path, &h);

	if (err)
		return err;
	err = -ENOENT;
	while (err == -ENOENT && (scn = elf_nextscn(h.elf, scn)) != NULL) {
		Elf_Data *data;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			const unsigned char *id = (const unsigned char *)data->d_buf + desc_off;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0)
				continue;
			if (2 * nh.n_descsz + 1 > size) {
				err = -ENAMETOOLONG;
				break;
			}
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(buf + 2 * i, 3, "%02x", id[i]);
			err = 0;
			break;
		}
	}
	elf_handle_close(&h);
	return err;
}
