/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one place that finds the C library: the one a running process has
 * mapped, the one an executable will load, and this system's default
 * (multiarch directories, then /nix/store).
 */
#ifndef MEMTRACK_LIBC_LOCATE_H
#define MEMTRACK_LIBC_LOCATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Is this file name a C library: glibc's libc.so.6 or libc-2.x.so, or musl's loader? */
bool libc_is_libc_name(const char *basename);

/*
 * Call fn for each file mapped in /proc/PID/maps text, once per run of
 * mappings of it, skipping deleted files; stop at fn's first non-zero
 * return and return it.
 */
int maps_for_each_file(FILE *maps, int (*fn)(void *ctx, const char *path), void *ctx);
/* /proc/PID/maps, opened; NULL with errno set. */
FILE *maps_open(pid_t pid);

/*
 * The path of the first libc mapping in /proc/PID/maps text. Returns 0,
 * or -ENOENT when none is mapped (a static binary).
 */
int libc_from_maps(FILE *maps, char *buf, size_t size);

/*
 * The libc of a running process, as a path this process can open (through
 * /proc/PID/root when the process has another root directory, so that
 * containers work). -ESRCH if the process is gone, -ENOENT if it maps no libc.
 */
int libc_of_pid(pid_t pid, char *buf, size_t size);

/*
 * The libc an executable (or a "#!" script's interpreter) will load: the
 * one beside the dynamic loader it names in PT_INTERP. Returns -ENOENT if
 * it is statically linked, -ENOEXEC if it is neither ELF nor a script.
 */
int libc_of_executable(const char *path, char *buf, size_t size);

/* This system's libc: the one this process runs on, else the standard places. */
int libc_default(char *buf, size_t size);

/*
 * A library named by the user: a path (with a '/') is kept as it is; a bare
 * file name ("libjemalloc.so.2") is looked up in the standard directories.
 */
int library_locate(const char *name, char *buf, size_t size);

/* A path for messages: "/proc/PID/root/usr/lib/x" is shown as "/usr/lib/x". */
const char *path_for_display(const char *path);

#endif /* MEMTRACK_LIBC_LOCATE_H */
