// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fnv_hash.h"
#include "elf_symbols.h"
#include "symbolize.h"
#include "regular_file.h"
#include "u64_map.h"
#include "grow_array.h"

/* One file, opened once for every process that maps it. */
struct module {
	char *key; /* its build-id, or its path when it has none */
	char *path;
	Dwfl *dwfl;
	Dwfl_Module *mod; /* NULL: the file could not be found or read */
	Elf *elf;
	GElf_Addr bias;
};

/* The frames one address resolved to: frames[first .. first + n). */
struct answer {
	size_t first, n;
};

struct symbolizer {
	char *debuginfo_path;
	Dwfl_Callbacks callbacks;

	struct module *modules;
	size_t nmodules;
	struct u64_map module_index; /* hash of key -> index + 1 */

	struct u64_map answers_index; /* hash of (module, offset, exact) -> index + 1 */
	struct answer *answers;
	size_t nanswers, cap_answers;
	struct sym_frame *frames;
	size_t nframes, cap_frames;

	char **owned; /* strings made here (demangled names), freed with s */
	size_t nowned;

	char *(*demangle)(const char *mangled, char *out, size_t *len, int *status);
};

static uint64_t hash_str(const char *s, uint64_t h)
{
	h = fnv1a_str(h, s);
	return h ? h : 1;
}

static uint64_t hash_u64(uint64_t v, uint64_t h)
{
	h = fnv1a_u64(h, v);
	return h ? h : 1;
}

struct symbolizer *symbolizer_new(const char *debug_dirs)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	void *libstdcxx;

	if (!s)
		return NULL;
	s->debuginfo_path = strdup(debug_dirs ? debug_dirs : "+:.debug:/usr/lib/debug");
	if (!s->debuginfo_path) {
		free(s);
		return NULL;
	}
	s->callbacks.find_elf = dwfl_build_id_find_elf;
	s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	/* C++ names: libstdc++'s demangler, if this process has or can load one. */
	s->demangle = (char *(*)(const char *, char *, size_t *, int *))dlsym(RTLD_DEFAULT,
									  "__cxa_demangle");
	if (!s->demangle) {
		libstdcxx = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
		if (libstdcxx)
			s->demangle = (char *(*)(const char *, char *, size_t *, int *))dlsym(
				libstdcxx, "__cxa_demangle");
	}
	return s;
}

static const char *keep(struct symbolizer *s, char *str)
{
	if (!str)
		return NULL;
	if (APPEND_SLOT(s->owned, s->nowned)) {
		free(str);
		return NULL;
	}
	s->owned[s->nowned++] = str;
	return str;
}

static const char *demangled(struct symbolizer *s, const char *name)
{
	int status = -1;
	char *out;

	if (!name || !s->demangle || strncmp(name, "_Z", 2) != 0)
		return name;
	out = s->demangle(name, NULL, NULL, &status);
	if (status != 0 || !out) {
		free(out);
		return name;
	}
	return keep(s, out) ?: name;
}

/* A regular file we can read: a mapping's path in a trace may name a FIFO, which would hang libdwfl's open. */
static bool readable(const char *path)
{
	int fd = open_regular(path);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * The file to read for a mapping: its path if that is the file the process
 * had (same build-id), else the debug file of that build-id under one of
 * the debug directories (it has the symbols and the DWARF, which is all
 * naming needs).
 */
static char *find_file(const struct symbolizer *s, const struct memtrack_mapping *m)
{
	char id[130] = "", path[PATH_MAX];
	const char *dir, *end;

	if (readable(m->path) &&
	    (!m->build_id[0] || (elf_build_id(m->path, id, sizeof(id)) == 0 &&
				 strcmp(id, m->build_id) == 0)))
		return strdup(m->path);
	if (strlen(m->build_id) <= 2)
		return NULL;
	for (dir = s->debuginfo_path; *dir; dir = *end ? end + 1 : end) {
		end = dir + strcspn(dir, ":");
		if (*dir != '/')
			continue; /* "+", "-" and directories relative to the file itself */
		snprintf(path, sizeof(path), "%.*s/.build-id/%.2s/%s.debug", (int)(end - dir), dir,
			 m->build_id, m->build_id + 2);
		if (readable(path))
			return strdup(path);
	}
	return NULL;
}

static struct module *module_for(struct symbolizer *s, const struct memtrack_mapping *m)
{
	const char *key = m->build_id[0] ? m->build_id : m->path;
	uint64_t h = hash_str(key, FNV1A_SEED), idx;
	struct module *mod;
	const char *base;

	if (u64_map_get(&s->module_index, h, &idx) && strcmp(s->modules[idx - 1].key, key) == 0)
		return &s->modules[idx - 1];
	if (APPEND_SLOT(s->modules, s->nmodules))
		return NULL;
	mod = &s->modules[s->nmodules];
	memset(mod, 0, sizeof(*mod));
	mod->key = strdup(key);
	mod->path = find_file(s, m);
	if (!mod->key || u64_map_put(&s->module_index, h, s->nmodules + 1)) {
		free(mod->key);
		free(mod->path);
		return NULL;
	}
	s->nmodules++;
	if (mod->path && (mod->dwfl = dwfl_begin(&s->callbacks)) != NULL) {
		base = strrchr(m->path, '/');
		dwfl_report_begin(mod->dwfl);
		mod->mod = dwfl_report_offline(mod->dwfl, base ? base + 1 : m->path, mod->path, -1);
		dwfl_report_end(mod->dwfl, NULL, NULL);
		if (mod->mod)
			mod->elf = dwfl_module_getelf(mod->mod, &mod->bias);
		if (!mod->elf)
			mod->mod = NULL;
	}
	return mod;
}

/* A file offset as the address it has in the module (its PT_LOAD's vaddr, plus the bias). */
static bool offset_to_address(const struct module *mod, uint64_t off, Dwarf_Addr *addr)
{
	size_t nphdr;
	GElf_Phdr ph;

	if (elf_getphdrnum(mod->elf, &nphdr))
		return false;
	for (size_t i = 0; i < nphdr; i++) {
		if (!gelf_getphdr(mod->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (off >= ph.p_offset && off < ph.p_offset + ph.p_memsz) {
			*addr = off - ph.p_offset + ph.p_vaddr + mod->bias;
			return true;
		}
	}
	return false;
}

static struct sym_frame *new_frame(struct symbolizer *s)
{
	if (GROW_ARRAY(s->frames, s->nframes, s->cap_frames, 256))
		return NULL;
	memset(&s->frames[s->nframes], 0, sizeof(s->frames[0]));
	return &s->frames[s->nframes++];
}

/* An inlined function's name: its linkage name (demangled) or its name, through its origin. */
static const char *die_function_name(struct symbolizer *s, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr))
		name = dwarf_formstring(&attr);
	if (name)
		return demangled(s, name);
	if (dwarf_attr_integrate(die, DW_AT_name, &attr))
		name = dwarf_formstring(&attr);
	return name;
}

/* Where an inlined subroutine was called from: its DW_AT_call_file and DW_AT_call_line. */
static void call_site(Dwarf_Die *cudie, Dwarf_Die *inlined, const char **file, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word value;
	Dwarf_Files *files;
	size_t nfiles;

	*file = NULL;
	*line = 0;
	if (dwarf_attr(inlined, DW_AT_call_line, &attr) && dwarf_formudata(&attr, &value) == 0)
		*line = (int)value;
	if (dwarf_attr(inlined, DW_AT_call_file, &attr) && dwarf_formudata(&attr, &value) == 0 &&
	    dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && value < nfiles)
		*file = dwarf_filesrc(files, value, NULL, NULL);
}

/* The frames of one code address of a module: inlined ones, then the function. */
static void resolve(struct symbolizer *s, struct module *mod, Dwarf_Addr addr,
		    uint64_t module_offset)
{
	const char *file = NULL, *function;
	struct sym_frame *f;
	Dwarf_Addr cubias, symoff = 0;
	Dwarf_Die *cudie, *scopes = NULL;
	Dwfl_Line *dl;
	GElf_Sym sym;
	int line = 0, nscopes = 0;

	function = dwfl_module_addrinfo(mod->mod, addr, &symoff, &sym, NULL, NULL, NULL);
	dl = dwfl_module_getsrc(mod->mod, addr);
	if (dl)
		file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
	cudie = dwfl_module_addrdie(mod->mod, addr, &cubias);
	if (cudie)
		nscopes = dwarf_getscopes(cudie, addr - cubias, &scopes);
	/*
	 * Past an inlined instance, dwarf_getscopes() goes on with its
	 * abstract definition's scopes; the chain of instances the code is
	 * in (what a debugger shows) is the innermost one's parents.
	 */
	for (int i = 0; i < nscopes; i++) {
		Dwarf_Die innermost;

		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
			break;
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		innermost = scopes[i];
		free(scopes);
		scopes = NULL;
		nscopes = dwarf_getscopes_die(&innermost, &scopes);
		break;
	}
	for (int i = 0; i < nscopes; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_subprogram)
			break;
		if (tag != DW_TAG_inlined_subroutine)
			continue;
		f = new_frame(s);
		if (!f)
			break;
		*f = (struct sym_frame){ .function = die_function_name(s, &scopes[i]),
					 .file = file,
					 .line = line,
					 .module = mod->path,
					 .module_offset = module_offset,
					 .inlined = true };
		call_site(cudie, &scopes[i], &file, &line);
	}
	free(scopes);
	f = new_frame(s);
	if (f)
		*f = (struct sym_frame){ .function = demangled(s, function),
					 .offset = symoff,
					 .file = file,
					 .line = line,
					 .module = mod->path,
					 .module_offset = module_offset };
}

size_t symbolize(struct symbolizer *s, const struct memtrack_mapping *m, uint64_t ip, bool exact,
		 const struct sym_frame **frames)
{
	uint64_t file_off = 0, key = 0, idx;
	struct module *mod = NULL;
	Dwarf_Addr addr;
	size_t first;

	if (m) {
		file_off = ip - m->start + m->offset;
		mod = module_for(s, m);
		if (mod)
			key = hash_u64(file_off * 2 + exact, hash_u64(mod - s->modules, 7));
	}
	if (key && u64_map_get(&s->answers_index, key, &idx)) {
		*frames = &s->frames[s->answers[idx - 1].first];
		return s->answers[idx - 1].n;
	}

	first = s->nframes;
	if (mod && mod->mod && offset_to_address(mod, file_off - (exact ? 0 : 1), &addr))
		resolve(s, mod, addr, file_off);
	if (s->nframes == first) {
		/* nothing better than where it is: the module and offset, or the address */
		struct sym_frame *f = new_frame(s);

		if (!f) {
			static const struct sym_frame nothing;

			*frames = &nothing;
			return 1;
		}
		f->module = m ? m->path : NULL;
		f->module_offset = file_off;
	}
	/* without memory the answer is not kept, only found again next time */
	if (key && GROW_ARRAY(s->answers, s->nanswers, s->cap_answers, 256) == 0 &&
	    u64_map_put(&s->answers_index, key, s->nanswers + 1) == 0)
		s->answers[s->nanswers++] = (struct answer){ first, s->nframes - first };
	*frames = &s->frames[first];
	return s->nframes - first;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

int sym_frame_format(const struct sym_frame *f, uint64_t ip, char *buf, size_t size)
{
	char where[512] = "";

	if (f->file && f->line)
		snprintf(where, sizeof(where), " (%s:%d)", f->file, f->line);
	if (f->function && f->inlined)
		return snprintf(buf, size, "[inlined] %s%s", f->function, where);
	if (f->function)
		return snprintf(buf, size, "%s+0x%" PRIx64 "%s", f->function, f->offset, where);
	if (f->module)
		return snprintf(buf, size, "%s+0x%" PRIx64 "%s", base_name(f->module),
				f->module_offset, where);
	return snprintf(buf, size, "0x%" PRIx64, ip);
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmodules; i++) {
		if (s->modules[i].dwfl)
			dwfl_end(s->modules[i].dwfl);
		free(s->modules[i].key);
		free(s->modules[i].path);
	}
	free(s->modules);
	u64_map_free(&s->module_index);
	u64_map_free(&s->answers_index);
	free(s->answers);
	free(s->frames);
	for (size_t i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	free(s->owned);
	free(s->debuginfo_path);
	free(s);
}
