// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Allocator probes as links. A uprobe_multi link puts one program on every
 * offset of an object in one system call, for one process or for all, and
 * takes them all off with one RCU wait when it is closed: a perf-event
 * uprobe costs that wait for each probe, and closing a tracker with
 * system-wide perf-event probes took seconds. libbpf 1.1 has no API for
 * these links, so BPF_LINK_CREATE is called here directly. Kernels before
 * 6.6 get libbpf's perf-event uprobes, one per offset, with the same
 * cookies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "grow_array.h"
#include "uprobe_links.h"

/* From the kernel's uapi, newer than the headers Debian 12 builds with. */
#define MT_BPF_F_UPROBE_MULTI_RETURN 1U

/* BPF_LINK_CREATE's attributes for a uprobe_multi link, laid out as union bpf_attr has them. */
struct uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__aligned_u64 path;
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid; /* 0: every process */
};

static int uprobe_multi_create(int prog_fd, __u32 attach_type, const char *path,
			       const unsigned long *offsets, const unsigned long *ref_ctrs,
			       const __u64 *cookies, __u32 cnt, bool retprobe, pid_t pid)
{
	struct uprobe_multi_attr attr;
	long fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)prog_fd;
	attr.attach_type = attach_type;
	attr.path = (__u64)(unsigned long)path;
	attr.offsets = (__u64)(unsigned long)offsets;
	attr.ref_ctr_offsets = (__u64)(unsigned long)ref_ctrs;
	attr.cookies = (__u64)(unsigned long)cookies;
	attr.cnt = cnt;
	attr.multi_flags = retprobe ? MT_BPF_F_UPROBE_MULTI_RETURN : 0;
	attr.pid = pid > 0 ? (__u32)pid : 0;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : (int)fd;
}

/* Does the kernel have this kind of link? Asked with a throw-away program. */
static bool link_kind_supported(__u32 attach_type)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach_type);
	unsigned long offset = 0;
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &opts);
	if (prog < 0)
		return false;
	/* A kernel that knows these links refuses a directory as the file to probe, with EBADF. */
	link = uprobe_multi_create(prog, attach_type, "/", &offset, NULL, NULL, 1, false, -1);
	if (link >= 0)
		close(link);
	close(prog);
	return link == -EBADF;
}

bool uprobe_multi_supported(void)
{
	static int known = -1; /* the answer, once asked */

	if (known < 0)
		/* kernels before 6.6 take the other path: the tests take it too, when asked */
		known = !getenv("MEMTRACK_NO_UPROBE_MULTI") &&
			link_kind_supported(MT_BPF_TRACE_UPROBE_MULTI);
	return known;
}

bool uprobe_session_supported(void)
{
	static int known = -1;

	if (known < 0)
		known = uprobe_multi_supported() && !getenv("MEMTRACK_NO_UPROBE_SESSION") &&
			link_kind_supported(MT_BPF_TRACE_UPROBE_SESSION);
	return known;
}

static int keep_fd(struct probe_links *l, int fd)
{
	if (APPEND_SLOT(l->fds, l->nfds)) {
		close(fd);
		return -ENOMEM;
	}
	l->fds[l->nfds++] = fd;
	return 0;
}

int probe_links_keep(struct probe_links *l, struct bpf_link *link)
{
	if (APPEND_SLOT(l->links, l->nlinks)) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	l->links[l->nlinks++] = link;
	return 0;
}

/* The kernel takes unsigned longs, ours are size_t: the same type on Linux, not copied. */
_Static_assert(sizeof(size_t) == sizeof(unsigned long), "size_t is not unsigned long");

static int add_multi(struct probe_links *l, struct bpf_program *prog, pid_t pid,
		     const struct uprobe_targets *to)
{
	int fd = uprobe_multi_create(bpf_program__fd(prog),
				     to->session ? MT_BPF_TRACE_UPROBE_SESSION : MT_BPF_TRACE_UPROBE_MULTI,
				     to->path, (const unsigned long *)to->offsets,
				     (const unsigned long *)to->ref_ctrs, to->cookies, (__u32)to->n,
				     to->retprobe, pid);

	return fd < 0 ? fd : keep_fd(l, fd);
}

static int add_perf(struct probe_links *l, struct bpf_program *prog, pid_t pid,
		    const struct uprobe_targets *to)
{
	for (size_t i = 0; i < to->n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = to->retprobe,
			    .bpf_cookie = to->cookies ? to->cookies[i] : 0,
			    .ref_ctr_offset = to->ref_ctrs ? to->ref_ctrs[i] : 0);
		struct bpf_link *link =
			bpf_program__attach_uprobe_opts(prog, pid, to->path, to->offsets[i], &uo);
		int err;

		if (!link)
			return -errno;
		err = probe_links_keep(l, link);
		if (err)
			return err;
	}
	return 0;
}

int uprobe_links_add(struct probe_links *l, struct bpf_program *prog, bool multi, pid_t pid,
		     const struct uprobe_targets *to)
{
	if (!to->n)
		return 0;
	if (multi)
		return add_multi(l, prog, pid, to);
	return add_perf(l, prog, pid, to);
}

void probe_links_release(struct probe_links *l)
{
	for (size_t i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	for (size_t i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	free(l->fds);
	free(l->links);
	memset(l, 0, sizeof(*l));
}
