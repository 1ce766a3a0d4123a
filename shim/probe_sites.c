// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Keeping forked children alive under an optimized probe.
 *
 * The shim's probes sit on 5-byte nops so that the kernel can turn a hit
 * into a call to its uprobe trampoline. On the kernels this was measured on,
 * fork copies the patched call into the child but not the trampoline's
 * mapping: the child's first probe hit jumps into nothing (SIGSEGV). After
 * fork, the child puts a breakpoint back on every such site (int3 and the
 * nop's other four bytes, as the kernel writes an unoptimized uprobe), so
 * the hit traps, the kernel finds its uprobe, and may optimize it again in
 * the child's own address space.
 *
 * The sites come from the shim's own .note.stapsdt, read at load time. That
 * note section is not loaded into memory, so the file is mapped and read
 * here with <elf.h>'s structures: libelf would allocate, and the shim
 * must not.
 */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memtrack_usdt_probes.h"
#include "probe_sites.h"

#define MAX_SITES 64

static uintptr_t sites[MAX_SITES];
static size_t nsites;

/* The stapsdt notes of a mapped ELF file: record each memtrack probe's address. */
static void read_notes(const unsigned char *file, size_t size, uintptr_t bias)
{
	const Elf64_Ehdr *eh = (const void *)file;
	const Elf64_Shdr *sh, *strtab;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shoff > size ||
	    eh->e_shentsize != sizeof(*sh) || eh->e_shnum > (size - eh->e_shoff) / sizeof(*sh) ||
	    eh->e_shstrndx >= eh->e_shnum)
		return;
	sh = (const void *)(file + eh->e_shoff);
	strtab = &sh[eh->e_shstrndx];
	for (size_t i = 0; i < eh->e_shnum; i++) {
		size_t off, end;

		if (sh[i].sh_type != SHT_NOTE || strtab->sh_offset + sh[i].sh_name >= size ||
		    strcmp((const char *)file + strtab->sh_offset + sh[i].sh_name, ".note.stapsdt"))
			continue;
		off = sh[i].sh_offset;
		end = off + sh[i].sh_size;
		if (end > size || end < off)
			return;
		while (off + sizeof(Elf64_Nhdr) <= end && nsites < MAX_SITES) {
			const Elf64_Nhdr *nh = (const void *)(file + off);
			size_t name = off + sizeof(*nh);
			size_t desc = name + ((nh->n_namesz + 3) & ~3u);
			size_t next = desc + ((nh->n_descsz + 3) & ~3u);
			const char *provider = (const char *)file + desc + 3 * sizeof(uint64_t);

			if (next > end || next <= off)
				return;
			if (nh->n_type == 3 && nh->n_descsz > 3 * sizeof(uint64_t) + sizeof(MEMTRACK_USDT_PROVIDER) &&
			    memcmp(provider, MEMTRACK_USDT_PROVIDER, sizeof(MEMTRACK_USDT_PROVIDER)) == 0) {
				uint64_t pc;

				memcpy(&pc, file + desc, sizeof(pc));
				sites[nsites++] = bias + (uintptr_t)pc;
			}
			off = next;
		}
	}
}

/* Is the page holding addr mapped in this process? */
static int mapped(uintptr_t addr)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char vec;

	return mincore((void *)(addr & ~((uintptr_t)page - 1)), 1, &vec) == 0;
}

/* In the child: a site the kernel patched into a call to a trampoline we do not have. */
static void child_restore_breakpoints(void)
{
	static const unsigned char breakpoint[5] = { 0xcc, 0x1f, 0x44, 0x00, 0x00 };
	long page = sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < nsites; i++) {
		unsigned char *site = (unsigned char *)sites[i];
		int32_t rel;
		uintptr_t first, last;

		if (site[0] != 0xe8)
			continue; /* not optimized: a nop, or already a breakpoint */
		memcpy(&rel, site + 1, sizeof(rel));
		if (mapped((uintptr_t)site + 5 + (intptr_t)rel))
			continue; /* this kernel did give us the trampoline */
		first = (uintptr_t)site & ~((uintptr_t)page - 1);
		last = ((uintptr_t)site + 4) & ~((uintptr_t)page - 1);
		if (mprotect((void *)first, last - first + (size_t)page,
			     PROT_READ | PROT_WRITE | PROT_EXEC))
			continue;
		memcpy(site, breakpoint, sizeof(breakpoint));
		mprotect((void *)first, last - first + (size_t)page, PROT_READ | PROT_EXEC);
	}
}

static int find_self(struct dl_phdr_info *info, size_t size, void *ctx)
{
	uintptr_t self = (uintptr_t)&find_self;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && self >= start && self < start + ph->p_memsz) {
			*(uintptr_t *)ctx = info->dlpi_addr;
			return 1;
		}
	}
	return 0;
}

void probe_sites_init(void)
{
	uintptr_t bias = 0;
	struct stat st;
	Dl_info dl;
	void *file;
	int fd;

	if (!dladdr((void *)&probe_sites_init, &dl) || !dl.dli_fname ||
	    !dl_iterate_phdr(find_self, &bias))
		return;
	fd = open(dl.dli_fname, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (file != MAP_FAILED) {
			read_notes(file, (size_t)st.st_size, bias);
			munmap(file, (size_t)st.st_size);
		}
	}
	close(fd);
	if (nsites)
		pthread_atfork(NULL, NULL, child_restore_breakpoints);
}
