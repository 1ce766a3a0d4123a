/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Heap profiles in pprof's format (gzip'd perftools.profiles.Profile, see
 * profile.proto), for `go tool pprof`, Pyroscope and Parca. Stacks are added
 * one by one, already symbolized; strings, functions, mappings, locations and
 * identical samples are stored once, so a profile stays as small as its
 * distinct call sites.
 */
#ifndef MEMTRACK_PPROF_H
#define MEMTRACK_PPROF_H

#include <stdbool.h>
#include <stddef.h>

/* One source frame of a stack, as the symbolizer gives it. */
struct pprof_frame {
	const char *function;	    /* NULL if unknown */
	const char *file;	    /* NULL if unknown */
	int line;		    /* 0 if unknown */
	unsigned long long address; /* the code address in the process (0 if unknown) */
	const char *module;	    /* the mapped file (NULL if unknown) */
	const char *build_id;	    /* its build-id in hex, "" or NULL if unknown */
	bool inlined;		    /* inlined into the next frame (same address) */
	/* the module's mapping in the process: [map_start, map_limit) from file offset map_offset */
	unsigned long long map_start, map_limit, map_offset;
};

/* The order of the values of each stack, as the profile's sample types. */
enum pprof_value {
	PPROF_ALLOC_OBJECTS, /* count */
	PPROF_ALLOC_SPACE,   /* bytes */
	PPROF_INUSE_OBJECTS, /* count */
	PPROF_INUSE_SPACE,   /* bytes; what a viewer shows first */
	PPROF_NR_VALUES,
};

struct pprof_builder;

/* NULL if out of memory. */
struct pprof_builder *pprof_new(void);

/*
 * Add one stack of a process: frames[0] is the innermost (the allocation
 * site), values are indexed by enum pprof_value. pid (-1: unknown) and comm
 * (NULL: unknown) become the sample's "pid" and "comm" labels. A stack added
 * again with the same frames and process has its values summed into the
 * first. 0, -EINVAL, or -ENOMEM (the builder is then as before the call, but
 * for strings and frames it may keep).
 */
int pprof_add(struct pprof_builder *b, const struct pprof_frame *frames, size_t nframes,
	      const long long values[PPROF_NR_VALUES], int pid, const char *comm);

/*
 * Serialize, gzip and write the profile to path ("-": standard output);
 * time_ns is when what it profiles began (ns since the epoch; 0: not
 * known), duration_ns how long it covers. The builder is unchanged and can take more stacks. 0 or a
 * negative errno; a file left half-written is removed.
 */
int pprof_write(struct pprof_builder *b, const char *path, long long time_ns,
		long long duration_ns);

void pprof_free(struct pprof_builder *b);

#endif /* MEMTRACK_PPROF_H */
