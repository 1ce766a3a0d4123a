// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Putting the allocator probes on an object: one table of functions, one
 * loop, for both sources: uprobes on the functions themselves, or the
 * memtrack USDT probes of the same names. An object is read once, into a
 * plan (the offsets to probe, and each one's cookie); the plan is then
 * linked wherever probes must be: into each traced process (the default:
 * other processes pay nothing), or once for every process on the system
 * (-a, --cgroup, --system-probes), where the BPF side keeps only tracked
 * processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "regular_file.h"
#include "grow_array.h"
#include "elf_symbols.h"
#include "libc_locate.h"
#include "memtrack.skel.h"
#include "memtrack_usdt_probes.h"
#include "probe_site.h"
#include "tracker.h"
#include "uprobe_links.h"
#include "usdt_spec.h"

struct alloc_probe {
	const char *symbol; /* the function, and the memtrack USDT probe of that name */
	enum mt_func func;
};

/*
 * Where two names are one function (glibc 2.36's aligned_alloc is its
 * memalign), only the first in this order is probed, and events carry its
 * name: the kernel cannot tell which name the program called.
 */
static const struct alloc_probe alloc_probes[] = {
	{ "malloc", MT_FN_MALLOC },
	{ "free", MT_FN_FREE },
	{ "calloc", MT_FN_CALLOC },
	{ "realloc", MT_FN_REALLOC },
	{ "reallocarray", MT_FN_REALLOCARRAY },
	{ "aligned_alloc", MT_FN_ALIGNED_ALLOC },
	{ "posix_memalign", MT_FN_POSIX_MEMALIGN },
	{ "memalign", MT_FN_MEMALIGN },
	{ "valloc", MT_FN_VALLOC },
	{ "pvalloc", MT_FN_PVALLOC },
};
#define NPROBES (sizeof(alloc_probes) / sizeof(alloc_probes[0]))

/*
 * How an uprobe reads a function's arguments, when they are not those of
 * the standard function its enum mt_func names.
 */
enum arg_order {
	ARGS_STANDARD = 0,
	ARGS_SIZE_ALIGN, /* mi_malloc_aligned(size, alignment) */
};

struct uprobe_name {
	const char *symbol;
	enum mt_func func;
	enum arg_order args;
};

#define NAME(symbol, func) { symbol, func, ARGS_STANDARD }
/* The standard names with an allocator's prefix: je_malloc, _rjem_malloc, tc_malloc. */
#define PREFIXED(p)                                                                     \
	NAME(p "malloc", MT_FN_MALLOC), NAME(p "free", MT_FN_FREE),                      \
		NAME(p "calloc", MT_FN_CALLOC), NAME(p "realloc", MT_FN_REALLOC),        \
		NAME(p "reallocarray", MT_FN_REALLOCARRAY),                              \
		NAME(p "aligned_alloc", MT_FN_ALIGNED_ALLOC),                            \
		NAME(p "posix_memalign", MT_FN_POSIX_MEMALIGN),                          \
		NAME(p "memalign", MT_FN_MEMALIGN), NAME(p "valloc", MT_FN_VALLOC),      \
		NAME(p "pvalloc", MT_FN_PVALLOC)
/* jemalloc's extended API: its flags arguments come after the standard ones. */
#define JEMALLOC_EXT(p)                                                                 \
	NAME(p "mallocx", MT_FN_MALLOC), NAME(p "rallocx", MT_FN_REALLOC),               \
		NAME(p "dallocx", MT_FN_FREE), NAME(p "sdallocx", MT_FN_FREE)

/*
 * Every allocator function the uprobe source knows, the standard names
 * first (their order is alloc_probes'). An object is an allocator if it
 * defines one that allocates and one that frees.
 */
static const struct uprobe_name uprobe_names[] = {
	PREFIXED(""),
	PREFIXED("je_"),
	PREFIXED("_rjem_"),
	PREFIXED("tc_"),
	JEMALLOC_EXT(""),
	JEMALLOC_EXT("je_"),
	JEMALLOC_EXT("_rjem_"),
	NAME("tc_cfree", MT_FN_FREE),
	NAME("tc_free_sized", MT_FN_FREE),
	NAME("mi_malloc", MT_FN_MALLOC),
	NAME("mi_zalloc", MT_FN_MALLOC),
	NAME("mi_calloc", MT_FN_CALLOC),
	NAME("mi_realloc", MT_FN_REALLOC),
	NAME("mi_reallocarray", MT_FN_REALLOCARRAY),
	NAME("mi_free", MT_FN_FREE),
	{ "mi_malloc_aligned", MT_FN_ALIGNED_ALLOC, ARGS_SIZE_ALIGN },
	/* C++ (libstdc++, and the allocators that replace it): new(size[, align][, nothrow]) */
	NAME("_Znwm", MT_FN_NEW),
	NAME("_ZnwmRKSt9nothrow_t", MT_FN_NEW),
	NAME("_Znam", MT_FN_NEW_ARRAY),
	NAME("_ZnamRKSt9nothrow_t", MT_FN_NEW_ARRAY),
	{ "_ZnwmSt11align_val_t", MT_FN_NEW, ARGS_SIZE_ALIGN },
	{ "_ZnwmSt11align_val_tRKSt9nothrow_t", MT_FN_NEW, ARGS_SIZE_ALIGN },
	{ "_ZnamSt11align_val_t", MT_FN_NEW_ARRAY, ARGS_SIZE_ALIGN },
	{ "_ZnamSt11align_val_tRKSt9nothrow_t", MT_FN_NEW_ARRAY, ARGS_SIZE_ALIGN },
	/* delete(ptr[, size][, align][, nothrow]) */
	NAME("_ZdlPv", MT_FN_DELETE),
	NAME("_ZdlPvm", MT_FN_DELETE),
	NAME("_ZdlPvRKSt9nothrow_t", MT_FN_DELETE),
	NAME("_ZdlPvSt11align_val_t", MT_FN_DELETE),
	NAME("_ZdlPvmSt11align_val_t", MT_FN_DELETE),
	NAME("_ZdlPvSt11align_val_tRKSt9nothrow_t", MT_FN_DELETE),
	NAME("_ZdaPv", MT_FN_DELETE_ARRAY),
	NAME("_ZdaPvm", MT_FN_DELETE_ARRAY),
	NAME("_ZdaPvRKSt9nothrow_t", MT_FN_DELETE_ARRAY),
	NAME("_ZdaPvSt11align_val_t", MT_FN_DELETE_ARRAY),
	NAME("_ZdaPvmSt11align_val_t", MT_FN_DELETE_ARRAY),
	NAME("_ZdaPvSt11align_val_tRKSt9nothrow_t", MT_FN_DELETE_ARRAY),
};
#define NNAMES (sizeof(uprobe_names) / sizeof(uprobe_names[0]))

static bool releases(enum mt_func func)
{
	return func == MT_FN_FREE || func == MT_FN_DELETE || func == MT_FN_DELETE_ARRAY;
}

/* An entry probe's cookie: which function, and how it takes its arguments (bpf/memtrack.bpf.c). */
static __u64 entry_cookie(const struct uprobe_name *p)
{
	return (__u64)p->func | (p->args == ARGS_SIZE_ALIGN ? MT_COOKIE_SIZE_FIRST : 0);
}

static const char *attach_hint(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return " (need CAP_BPF and CAP_PERFMON, or root)";
	case -ENOENT:
	case -EOPNOTSUPP:
		return " (does this kernel have CONFIG_UPROBE_EVENTS?)";
	default:
		return "";
	}
}

/* Is offsets[i] a repeat of an earlier table entry's (an alias)? */
static int alias_of(const size_t *offsets, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (offsets[k] && offsets[k] == offsets[i])
			return (int)k;
	return -1;
}

/*
 * Where to probe the function at offset (size bytes) of the open file fd:
 * past a leading compare or test, where the kernel emulates the next
 * instruction (probe_site.c); at its entry when that cannot be proven.
 */
static size_t probe_offset(int fd, size_t offset, size_t size)
{
	uint8_t *code;
	size_t site = 0;

	/* a function of more than 1 MiB is not one we can read through */
	if (fd < 0 || !size || size > (1u << 20) || !(code = malloc(size)))
		return offset;
	if (pread(fd, code, size, (off_t)offset) == (ssize_t)size)
		site = probe_site(code, size);
	free(code);
	return offset + site;
}

/*
 * The object's plan: an entry probe per function (aliases once), a return
 * probe per allocation, at the same instruction (one trap for both).
 */
static int plan_table(struct memtrack *t, struct probed_object *obj, const size_t *offsets,
		      const size_t *sizes, struct memtrack_error *why)
{
	int fd;

	obj->entry_offsets = calloc(NNAMES, sizeof(*obj->entry_offsets));
	obj->entry_cookies = calloc(NNAMES, sizeof(*obj->entry_cookies));
	obj->return_offsets = calloc(NNAMES, sizeof(*obj->return_offsets));
	if (!obj->entry_offsets || !obj->entry_cookies || !obj->return_offsets)
		return error_fail(why, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	fd = open_regular(obj->path);
	for (size_t i = 0; i < NNAMES; i++) {
		const struct uprobe_name *p = &uprobe_names[i];
		size_t at;

		if (!offsets[i] || alias_of(offsets, i) >= 0)
			continue;
		at = probe_offset(fd, offsets[i], sizes[i]);
		if (at != offsets[i])
			tracker_log(t, MEMTRACK_LOG_DEBUG, "%s: %s probed at +%zu, an emulated instruction",
				    path_for_display(obj->path), p->symbol, at - offsets[i]);
		obj->entry_offsets[obj->nentry] = at;
		obj->entry_cookies[obj->nentry++] = entry_cookie(p);
		if (!releases(p->func)) /* free and delete are recorded at entry */
			obj->return_offsets[obj->nreturn++] = at;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static int link_failed(const struct probed_object *obj, pid_t pid, int err, const char *what,
		       struct memtrack_error *why)
{
	char whose[48] = "";

	if (pid > 0)
		snprintf(whose, sizeof(whose), " for process %d", (int)pid);
	return error_fail(why, MEMTRACK_ERR_BPF, err, "cannot attach %s to %s%s: %s%s", what,
			    obj->path, whose, strerror(-err), attach_hint(err));
}

static int link_usdt(struct memtrack *t, const struct probed_object *obj, pid_t pid,
		     struct probe_links *links)
{
	for (size_t i = 0; i < NPROBES; i++) {
		LIBBPF_OPTS(bpf_usdt_opts, uo, .usdt_cookie = alloc_probes[i].func);
		struct bpf_link *link;
		int err;

		if (!(obj->usdt_probes & (1u << i)))
			continue;
		link = bpf_program__attach_usdt(t->skel->progs.usdt_call, pid, obj->path,
						MEMTRACK_USDT_PROVIDER, alloc_probes[i].symbol,
						&uo);
		if (!link)
			return -errno;
		err = probe_links_keep(links, link);
		if (err)
			return err;
	}
	return 0;
}

int probes_link(struct memtrack *t, const struct probed_object *obj, pid_t pid,
		struct probe_links *links, struct memtrack_error *why)
{
	struct bpf_program *enter = t->skel->progs.alloc_enter, *exit = t->skel->progs.alloc_exit;
	struct uprobe_targets entries = {
		.path = obj->path,
		.offsets = obj->entry_offsets,
		.cookies = obj->entry_cookies,
		.ref_ctrs = obj->ref_ctr_offsets,
		.n = obj->nentry,
	};
	struct uprobe_targets returns = {
		.path = obj->path,
		.offsets = obj->return_offsets,
		.n = obj->nreturn,
		.retprobe = true,
	};
	int err;

	if (obj->usdt && t->own_usdt) {
		err = uprobe_links_add(links, t->skel->progs.usdt_call, true, pid, &entries);
		return err ? link_failed(obj, pid, err, "the memtrack USDT probes", why) : 0;
	}
	if (obj->usdt) {
		err = link_usdt(t, obj, pid, links);
		return err ? link_failed(obj, pid, err, "the memtrack USDT probes", why) : 0;
	}
	if (t->session_links) {
		/* one link: each function's entry, and its return where the entry asks */
		entries.session = true;
		err = uprobe_links_add(links, t->skel->progs.alloc_session, true, pid, &entries);
		return err ? link_failed(obj, pid, err, "uprobes", why) : 0;
	}
	/*
	 * Return probes first: a call entered between an entry probe and its
	 * return probe would leave an open call that never closes.
	 */
	err = uprobe_links_add(links, exit, t->multi_links, pid, &returns);
	if (!err)
		err = uprobe_links_add(links, enter, t->multi_links, pid, &entries);
	return err ? link_failed(obj, pid, err, "uprobes", why) : 0;
}

/* The standard names an allocator lacks or shares (of a C library: a warning). */
static void report_skipped(struct memtrack *t, const char *path, const size_t *offsets, bool libc)
{
	for (size_t i = 0; i < NPROBES; i++) {
		int alias = alias_of(offsets, i);

		if (!offsets[i])
			tracker_log(t, libc ? MEMTRACK_LOG_WARN : MEMTRACK_LOG_INFO,
				    "%s has no %s; its calls are not traced",
				    path_for_display(path), alloc_probes[i].symbol);
		else if (alias >= 0)
			tracker_log(t, MEMTRACK_LOG_INFO,
				    "%s: %s is the same function as %s; its calls are reported as %s",
				    path_for_display(path), alloc_probes[i].symbol,
				    alloc_probes[alias].symbol, alloc_probes[alias].symbol);
	}
}

static void object_release(struct probed_object *obj)
{
	probe_links_release(&obj->links);
	free(obj->entry_offsets);
	free(obj->entry_cookies);
	free(obj->return_offsets);
	free(obj->ref_ctr_offsets);
	free(obj->path);
	memset(obj, 0, sizeof(*obj));
}

/* Is the object at path probed already (perhaps under another name)? -errno if it is not there. */
static int already_probed(struct memtrack *t, const char *path, bool usdt, int flags,
			  struct stat *st, struct memtrack_error *why)
{
	if (stat(path, st)) {
		int err = -errno;

		if (!(flags & PROBE_REQUIRE_MALLOC))
			return -ENOENT;
		return error_fail(why, MEMTRACK_ERR_ALLOCATOR, err, "cannot open allocator %s: %s",
				    path, strerror(-err));
	}
	for (size_t i = 0; i < t->nobjects; i++)
		if (t->objects[i].dev == st->st_dev && t->objects[i].ino == st->st_ino &&
		    t->objects[i].usdt == usdt)
			return 1;
	return 0;
}

static int object_begin(struct probed_object *obj, const char *path, const struct stat *st,
			bool usdt, struct memtrack_error *why)
{
	memset(obj, 0, sizeof(*obj));
	obj->dev = st->st_dev;
	obj->ino = st->st_ino;
	obj->usdt = usdt;
	obj->path = strdup(path);
	if (!obj->path)
		return error_fail(why, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	return 0;
}

/*
 * Keep a planned object, and link it: once for every process, or into
 * each traced process. On failure, a system-wide object is released; one
 * linked per process stays known (some processes may have it).
 */
static int object_commit(struct memtrack *t, struct probed_object *obj, int err,
			 struct memtrack_error *why)
{
	if (!err && t->system_probes)
		err = probes_link(t, obj, -1, &obj->links, why);
	if (!err && APPEND_SLOT(t->objects, t->nobjects))
		err = error_fail(why, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	if (err) {
		object_release(obj);
		return err;
	}
	t->objects[t->nobjects++] = *obj;
	return t->system_probes ? 0 : procs_catch_up(t, why);
}

/* Does the object define a function that allocates and one that frees? */
static bool is_allocator(const size_t *offsets)
{
	bool allocates = false, frees = false;

	for (size_t i = 0; i < NNAMES; i++) {
		if (!offsets[i])
			continue;
		if (releases(uprobe_names[i].func))
			frees = true;
		else
			allocates = true;
	}
	return allocates && frees;
}

int probes_attach_object(struct memtrack *t, const char *path, int flags,
			 struct memtrack_error *why)
{
	const char *names[NNAMES];
	size_t offsets[NNAMES], sizes[NNAMES];
	struct probed_object obj;
	struct stat st;
	size_t nprobes;
	int err = already_probed(t, path, false, flags, &st, why);

	if (err)
		return err < 0 ? err : 0;
	for (size_t i = 0; i < NNAMES; i++)
		names[i] = uprobe_names[i].symbol;
	err = elf_function_offsets(path, names, NNAMES, offsets, sizes);
	if (err && !(flags & PROBE_REQUIRE_MALLOC))
		return -ENOENT; /* looking through a program's objects: not one we can read */
	if (err)
		return error_fail(why, MEMTRACK_ERR_ALLOCATOR, err, "cannot read allocator %s: %s",
				    path, err == -ENOEXEC ? "not an ELF file" : strerror(-err));
	if (!is_allocator(offsets)) {
		if (!(flags & PROBE_REQUIRE_MALLOC))
			return -ENOENT;
		return error_fail(why, MEMTRACK_ERR_ALLOCATOR, -ENOENT,
				    "%s has no %s function: is it an allocator?", path,
				    offsets[0] ? "free" : "malloc");
	}
	err = object_begin(&obj, path, &st, false, why);
	if (err)
		return err;
	err = plan_table(t, &obj, offsets, sizes, why);
	nprobes = obj.nentry + obj.nreturn;
	err = object_commit(t, &obj, err, why);
	if (err)
		return err;
	report_skipped(t, path, offsets, flags & PROBE_REQUIRE_MALLOC);
	tracker_log(t, MEMTRACK_LOG_INFO, "probing allocator functions in %s (%zu probes)",
		    path_for_display(path), nprobes);
	return 0;
}

/*
 * The plan of an object with memtrack USDT probes, where memtrack makes
 * their links itself (uprobe_multi): every site of every probe, with its
 * semaphore, and as cookie the id of its argument spec, which goes into
 * usdt.bpf.h's map once, for every process.
 */
static int plan_usdt_sites(struct memtrack *t, struct probed_object *obj,
			   const struct usdt_site *sites, size_t nsites, struct memtrack_error *why)
{
	struct bpf_map *specs = t->skel->maps.__bpf_usdt_specs;
	int err = 0;

	obj->entry_offsets = calloc(nsites + 1, sizeof(*obj->entry_offsets));
	obj->entry_cookies = calloc(nsites + 1, sizeof(*obj->entry_cookies));
	obj->ref_ctr_offsets = calloc(nsites + 1, sizeof(*obj->ref_ctr_offsets));
	if (!obj->entry_offsets || !obj->entry_cookies || !obj->ref_ctr_offsets)
		return error_fail(why, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	for (size_t i = 0; !err && i < nsites; i++) {
		const char *probe = alloc_probes[sites[i].probe].symbol;
		__u32 id = t->usdt_specs;
		struct usdt_spec spec;

		if (usdt_spec_parse(sites[i].args, alloc_probes[sites[i].probe].func, &spec)) {
			tracker_log(t, MEMTRACK_LOG_WARN,
				    "%s: cannot read how memtrack:%s passes its arguments (\"%s\"): "
				    "that site is not traced",
				    path_for_display(obj->path), probe, sites[i].args);
			continue;
		}
		if (id >= bpf_map__max_entries(specs))
			err = error_fail(why, MEMTRACK_ERR_RUNTIME, -E2BIG,
					   "more than %u USDT probe sites: %s is not traced",
					   bpf_map__max_entries(specs), obj->path);
		else if (bpf_map__update_elem(specs, &id, sizeof(id), &spec, sizeof(spec), 0))
			err = error_fail(why, MEMTRACK_ERR_BPF, -errno,
					   "cannot store the arguments of memtrack:%s: %s", probe,
					   strerror(errno));
		if (err)
			break;
		t->usdt_specs++;
		obj->entry_offsets[obj->nentry] = sites[i].offset;
		obj->ref_ctr_offsets[obj->nentry] = sites[i].semaphore;
		obj->entry_cookies[obj->nentry++] = id;
	}
	return err;
}

int probes_attach_usdt(struct memtrack *t, const char *path, int flags,
		       struct memtrack_error *why)
{
	const char *names[NPROBES];
	struct usdt_site *sites;
	struct probed_object obj;
	unsigned int found = 0;
	size_t nsites;
	struct stat st;
	int err = already_probed(t, path, true, flags, &st, why);

	if (err)
		return err < 0 ? err : 0;
	for (size_t i = 0; i < NPROBES; i++)
		names[i] = alloc_probes[i].symbol;
	/* the notes are read once: which probes it has, and each site of them */
	err = elf_usdt_sites(path, MEMTRACK_USDT_PROVIDER, names, NPROBES, &sites, &nsites);
	for (size_t i = 0; !err && i < nsites; i++)
		found |= 1u << sites[i].probe;
	if ((err || !found) && !(flags & PROBE_REQUIRE_MALLOC))
		err = -ENOENT; /* scanning a process's mappings: most objects have none */
	else if (err)
		err = error_fail(why, MEMTRACK_ERR_ALLOCATOR, err, "cannot read %s: %s", path,
				   err == -ENOEXEC ? "not an ELF file" : strerror(-err));
	else if (!found)
		err = error_fail(why, MEMTRACK_ERR_ALLOCATOR, -ENOENT,
				   "%s has no memtrack USDT probes", path);
	if (!err)
		err = object_begin(&obj, path, &st, true, why);
	if (!err) {
		obj.usdt_probes = found;
		err = object_commit(t, &obj,
				    t->own_usdt ? plan_usdt_sites(t, &obj, sites, nsites, why) : 0, why);
	}
	free(sites);
	if (err)
		return err;
	tracker_log(t, MEMTRACK_LOG_INFO, "attached to %d memtrack USDT probes in %s",
		    __builtin_popcount(found), path_for_display(path));
	return 0;
}

int probes_attach(struct memtrack *t, const char *path, int flags, struct memtrack_error *why)
{
	return t->usdt ? probes_attach_usdt(t, path, flags, why)
		       : probes_attach_object(t, path, flags, why);
}

void probes_detach_all(struct memtrack *t)
{
	for (size_t i = 0; i < t->nobjects; i++)
		object_release(&t->objects[i]);
	free(t->objects);
	t->objects = NULL;
	t->nobjects = 0;
}
