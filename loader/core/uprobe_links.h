/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The links that hold allocator probes on an object, for one process or
 * for all: uprobe_multi links where the kernel has them (Linux 6.6), else
 * one perf-event link per probe; and the USDT links libbpf makes.
 */
#ifndef MEMTRACK_UPROBE_LINKS_H
#define MEMTRACK_UPROBE_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <linux/types.h>

struct bpf_link;
struct bpf_program;

/* Attach types of uprobe_multi and session programs: the kernel's uapi, newer than Debian 12's. */
#define MT_BPF_TRACE_UPROBE_MULTI 48
#define MT_BPF_TRACE_UPROBE_SESSION 57

struct probe_links {
	int *fds; /* uprobe_multi links */
	size_t nfds;
	struct bpf_link **links; /* perf-event links, and USDT ones */
	size_t nlinks;
};

/*
 * Can this kernel attach a program to many offsets of a file in one link
 * (BPF_TRACE_UPROBE_MULTI)? Asked once, with a throw-away program.
 */
bool uprobe_multi_supported(void);

/* And uprobe sessions (Linux 6.13): entry and return in one link, one program? */
bool uprobe_session_supported(void);

/* Where one program goes in one file. */
struct uprobe_targets {
	const char *path;
	const size_t *offsets;	/* file offsets */
	const __u64 *cookies;	/* each one's attach cookie; NULL: all 0 */
	const size_t *ref_ctrs; /* each one's USDT semaphore (file offset, 0: none); NULL: none */
	size_t n;
	bool retprobe;
	bool session; /* a uprobe session link (entry and return in one program) */
};

/*
 * Attach prog at every target, for process pid (-1: every process).
 * multi: in one uprobe_multi link (prog must have been loaded for it);
 * else one perf-event link per offset. 0, or a negative errno; links
 * already made stay in l.
 */
int uprobe_links_add(struct probe_links *l, struct bpf_program *prog, bool multi, pid_t pid,
		     const struct uprobe_targets *to);

/* Keep a link libbpf made (a USDT attach); -ENOMEM destroys it. */
int probe_links_keep(struct probe_links *l, struct bpf_link *link);

/* Detach everything, and forget it. */
void probe_links_release(struct probe_links *l);

#endif /* MEMTRACK_UPROBE_LINKS_H */
