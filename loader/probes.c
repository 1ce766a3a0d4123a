// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Putting the allocator probes on an object: one table of functions, one
 * loop, for both sources: uprobes on the functions themselves, or the
 * memtrack USDT probes of the same names. Probes are system-wide (pid -1);
 * the BPF side keeps only tracked processes, which is what lets a traced
 * process's children and exec'd images be seen without attaching anything
 * new.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>

#include "elf_symbols.h"
#include "libc_locate.h"
#include "memtrack.skel.h"
#include "memtrack_usdt_probes.h"
#include "tracker.h"

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

static struct bpf_program *entry_program(struct memtrack_bpf *skel, const struct uprobe_name *p)
{
	bool aligned = p->args == ARGS_SIZE_ALIGN;

	switch (p->func) {
	case MT_FN_NEW: return aligned ? skel->progs.new_aligned_enter : skel->progs.new_enter;
	case MT_FN_NEW_ARRAY:
		return aligned ? skel->progs.new_array_aligned_enter : skel->progs.new_array_enter;
	case MT_FN_DELETE: return skel->progs.delete_enter;
	case MT_FN_DELETE_ARRAY: return skel->progs.delete_array_enter;
	default: break;
	}
	if (aligned)
		return skel->progs.aligned_alloc_size_first_enter;
	switch (p->func) {
	case MT_FN_MALLOC: return skel->progs.malloc_enter;
	case MT_FN_FREE: return skel->progs.free_enter;
	case MT_FN_CALLOC: return skel->progs.calloc_enter;
	case MT_FN_REALLOC: return skel->progs.realloc_enter;
	case MT_FN_REALLOCARRAY: return skel->progs.reallocarray_enter;
	case MT_FN_ALIGNED_ALLOC: return skel->progs.aligned_alloc_enter;
	case MT_FN_POSIX_MEMALIGN: return skel->progs.posix_memalign_enter;
	case MT_FN_MEMALIGN: return skel->progs.memalign_enter;
	case MT_FN_VALLOC: return skel->progs.valloc_enter;
	case MT_FN_PVALLOC: return skel->progs.pvalloc_enter;
	default: return NULL;
	}
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

/* Keep a link with the object it probes, so that closing the object detaches it. */
static int add_link(struct memtrack *t, struct probed_object *obj, struct bpf_link *link)
{
	struct bpf_link **links = realloc(obj->links, (obj->nlinks + 1) * sizeof(*links));

	if (!links) {
		bpf_link__destroy(link);
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	}
	links[obj->nlinks++] = link;
	obj->links = links;
	return 0;
}

static int attach_one(struct memtrack *t, struct probed_object *obj, struct bpf_program *prog,
		      size_t offset, bool retprobe, const char *symbol)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = retprobe);
	struct bpf_link *link;
	int err;

	link = bpf_program__attach_uprobe_opts(prog, -1, obj->path, offset, &uo);
	if (!link) {
		err = -errno;
		return tracker_fail(t, MEMTRACK_ERR_BPF, err, "cannot attach %s to %s in %s: %s%s",
				    retprobe ? "uretprobe" : "uprobe", symbol, obj->path,
				    strerror(-err), attach_hint(err));
	}
	return add_link(t, obj, link);
}

/* Is offsets[i] a repeat of an earlier table entry's (an alias)? */
static int alias_of(const size_t *offsets, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (offsets[k] && offsets[k] == offsets[i])
			return (int)k;
	return -1;
}

static int attach_table(struct memtrack *t, struct probed_object *obj, const size_t *offsets)
{
	int err;

	/*
	 * Return probes first: a call entered between an entry probe and its
	 * return probe would leave an open call that never closes.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < NNAMES; i++) {
			const struct uprobe_name *p = &uprobe_names[i];
			bool retprobe = pass == 0;

			if (!offsets[i] || alias_of(offsets, i) >= 0)
				continue;
			if (retprobe && releases(p->func))
				continue; /* free and delete are recorded at entry */
			err = attach_one(t, obj,
					 retprobe ? t->skel->progs.alloc_exit
						  : entry_program(t->skel, p),
					 offsets[i], retprobe, p->symbol);
			if (err)
				return err;
		}
	}
	return 0;
}

/* The standard names an allocator lacks or shares (of a C library: a warning). */
static void report_skipped(struct memtrack *t, const struct probed_object *obj,
			   const size_t *offsets, bool libc)
{
	for (size_t i = 0; i < NPROBES; i++) {
		int alias = alias_of(offsets, i);

		if (!offsets[i])
			tracker_log(t, libc ? MEMTRACK_LOG_WARN : MEMTRACK_LOG_INFO,
				    "%s has no %s; its calls are not traced",
				    path_for_display(obj->path), alloc_probes[i].symbol);
		else if (alias >= 0)
			tracker_log(t, MEMTRACK_LOG_INFO,
				    "%s: %s is the same function as %s; its calls are reported as %s",
				    path_for_display(obj->path), alloc_probes[i].symbol,
				    alloc_probes[alias].symbol, alloc_probes[alias].symbol);
	}
}

static void object_release(struct probed_object *obj)
{
	for (size_t i = 0; i < obj->nlinks; i++)
		bpf_link__destroy(obj->links[i]);
	free(obj->links);
	free(obj->path);
	memset(obj, 0, sizeof(*obj));
}

/* Is the object at path probed already (perhaps under another name)? -errno if it is not there. */
static int already_probed(struct memtrack *t, const char *path, bool usdt, int flags,
			  struct stat *st)
{
	if (stat(path, st) && !(flags & PROBE_REQUIRE_MALLOC))
		return -ENOENT;
	if (stat(path, st))
		return tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, -errno, "cannot open allocator %s: %s",
				    path, strerror(errno));
	for (size_t i = 0; i < t->nobjects; i++)
		if (t->objects[i].dev == st->st_dev && t->objects[i].ino == st->st_ino &&
		    t->objects[i].usdt == usdt)
			return 1;
	return 0;
}

static int object_begin(struct memtrack *t, struct probed_object *obj, const char *path,
			const struct stat *st, bool usdt)
{
	memset(obj, 0, sizeof(*obj));
	obj->dev = st->st_dev;
	obj->ino = st->st_ino;
	obj->usdt = usdt;
	obj->path = strdup(path);
	if (!obj->path)
		return tracker_fail(t, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	return 0;
}

/* Keep an attached object; on failure, release it. */
static int object_commit(struct memtrack *t, struct probed_object *obj, int err)
{
	struct probed_object *objects;

	if (!err) {
		objects = realloc(t->objects, (t->nobjects + 1) * sizeof(*objects));
		if (!objects)
			err = tracker_fail(t, MEMTRACK_ERR_RUNTIME, -ENOMEM, "out of memory");
	}
	if (err) {
		object_release(obj);
		return err;
	}
	objects[t->nobjects++] = *obj;
	t->objects = objects;
	return 0;
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

int probes_attach_object(struct memtrack *t, const char *path, int flags)
{
	const char *names[NNAMES];
	size_t offsets[NNAMES];
	struct probed_object obj;
	struct stat st;
	int err = already_probed(t, path, false, flags, &st);

	if (err)
		return err < 0 ? err : 0;
	for (size_t i = 0; i < NNAMES; i++)
		names[i] = uprobe_names[i].symbol;
	err = elf_function_offsets(path, names, NNAMES, offsets);
	if (err && !(flags & PROBE_REQUIRE_MALLOC))
		return -ENOENT; /* looking through a program's objects: not one we can read */
	if (err)
		return tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, err, "cannot read allocator %s: %s",
				    path, err == -ENOEXEC ? "not an ELF file" : strerror(-err));
	if (!is_allocator(offsets)) {
		if (!(flags & PROBE_REQUIRE_MALLOC))
			return -ENOENT;
		return tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, -ENOENT,
				    "%s has no %s function: is it an allocator?", path,
				    offsets[0] ? "free" : "malloc");
	}
	err = object_begin(t, &obj, path, &st, false);
	if (err)
		return err;
	err = object_commit(t, &obj, attach_table(t, &obj, offsets));
	if (err)
		return err;
	report_skipped(t, &obj, offsets, flags & PROBE_REQUIRE_MALLOC);
	tracker_log(t, MEMTRACK_LOG_INFO, "probing allocator functions in %s (%zu probes)",
		    path_for_display(path), obj.nlinks);
	return 0;
}

static int attach_usdt_probe(struct memtrack *t, struct probed_object *obj,
			     const struct alloc_probe *p)
{
	LIBBPF_OPTS(bpf_usdt_opts, uo, .usdt_cookie = p->func);
	struct bpf_link *link;
	int err;

	link = bpf_program__attach_usdt(t->skel->progs.usdt_call, -1, obj->path,
					MEMTRACK_USDT_PROVIDER, p->symbol, &uo);
	if (!link) {
		err = -errno;
		return tracker_fail(t, MEMTRACK_ERR_BPF, err,
				    "cannot attach to USDT probe memtrack:%s in %s: %s%s", p->symbol,
				    obj->path, strerror(-err), attach_hint(err));
	}
	return add_link(t, obj, link);
}

int probes_attach_usdt(struct memtrack *t, const char *path, int flags)
{
	const char *names[NPROBES];
	bool found[NPROBES];
	struct probed_object obj;
	struct stat st;
	int n, err = already_probed(t, path, true, flags, &st);

	if (err)
		return err < 0 ? err : 0;
	for (size_t i = 0; i < NPROBES; i++)
		names[i] = alloc_probes[i].symbol;
	n = elf_usdt_probes(path, MEMTRACK_USDT_PROVIDER, names, NPROBES, found);
	if (n <= 0 && !(flags & PROBE_REQUIRE_MALLOC))
		return -ENOENT; /* scanning a process's mappings: most objects have none */
	if (n < 0)
		return tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, n, "cannot read %s: %s", path,
				    n == -ENOEXEC ? "not an ELF file" : strerror(-n));
	if (n == 0)
		return tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, -ENOENT,
				    "%s has no memtrack USDT probes", path);
	err = object_begin(t, &obj, path, &st, true);
	for (size_t i = 0; !err && i < NPROBES; i++)
		if (found[i])
			err = attach_usdt_probe(t, &obj, &alloc_probes[i]);
	err = object_commit(t, &obj, err);
	if (err)
		return err;
	tracker_log(t, MEMTRACK_LOG_INFO, "attached to %d memtrack USDT probes in %s", n,
		    path_for_display(path));
	return 0;
}

int probes_attach(struct memtrack *t, const char *path, int flags)
{
	return t->usdt ? probes_attach_usdt(t, path, flags) : probes_attach_object(t, path, flags);
}

void probes_detach_all(struct memtrack *t)
{
	for (size_t i = 0; i < t->nobjects; i++)
		object_release(&t->objects[i]);
	free(t->objects);
	t->objects = NULL;
	t->nobjects = 0;
}
