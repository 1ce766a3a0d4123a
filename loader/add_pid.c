// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Tracing processes that already run: memtrack_add_pid() and the seed API built on it. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libc_locate.h"
#include "tracker.h"

static bool pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* A process with no libc mapped is statically linked: its malloc is in its executable. */
static int probe_static_executable(struct memtrack *t, pid_t pid)
{
	char link[64], target[PATH_MAX], path[PATH_MAX + 64];
	ssize_t len;
	int err;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	len = readlink(link, target, sizeof(target) - 1);
	if (len < 0)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, -errno,
				    "cannot read the executable of process %d: %s", (int)pid,
				    strerror(errno));
	target[len] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, target);
	err = probes_attach_object(t, path, 0);
	if (err == -ENOENT) {
		tracker_log(t, MEMTRACK_LOG_WARN,
			    "process %d maps no libc and %s has no malloc: name its allocator with -l",
			    (int)pid, target);
		return 0;
	}
	return err;
}

int memtrack_add_pid(struct memtrack *t, pid_t pid)
{
	char libc[PATH_MAX];
	int err;

	if (pid <= 0)
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL, "invalid PID %d", (int)pid);
	if (!pid_alive(pid))
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, -ESRCH, "no process with PID %d",
				    (int)pid);

	err = libc_of_pid(pid, libc, sizeof(libc));
	if (err == -ENOENT)
		err = probe_static_executable(t, pid);
	else if (err == -ESRCH)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err,
				    "process %d exited during attach", (int)pid);
	else if (err)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err,
				    "cannot read the mappings of process %d: %s%s", (int)pid,
				    strerror(-err), err == -EACCES ? " (need root or CAP_SYS_PTRACE)" : "");
	else
		err = probes_attach_object(t, libc, PROBE_REQUIRE_MALLOC);
	if (err)
		return err;

	err = tracker_track_pid(t, pid);
	if (err)
		return err;
	if (!pid_alive(pid)) {
		tracker_untrack_pid(t, pid);
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, -ESRCH,
				    "process %d exited during attach", (int)pid);
	}
	tracker_log(t, MEMTRACK_LOG_INFO, "tracing process %d", (int)pid);
	return 0;
}

struct memtrack *memtrack_track_multiple(const pid_t *pids, size_t n, memtrack_event_fn on_event,
					 void *ctx, struct memtrack_error *err)
{
	struct memtrack_opts opts = {
		.sz = sizeof(opts),
		.on_event = on_event,
		.event_ctx = ctx,
	};
	struct memtrack *t;

	if (memtrack_open(&opts, &t, err))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (memtrack_add_pid(t, pids[i]))
			goto fail;
	}
	if (memtrack_start(t))
		goto fail;
	return t;
fail:
	if (err)
		*err = t->err;
	memtrack_close(t);
	return NULL;
}

struct memtrack *memtrack_track(pid_t pid, memtrack_event_fn on_event, void *ctx,
				struct memtrack_error *err)
{
	return memtrack_track_multiple(&pid, 1, on_event, ctx, err);
}
