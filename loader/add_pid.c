// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tracing processes that already run: memtrack_add_pid(), the seed API
 * built on it, and probing the allocator of a traced process's new image
 * after it execs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libc_locate.h"
#include "proc_status.h"
#include "tracker.h"

/* The executable of a process, as a path this process can open (through /proc/PID/root). */
static int executable_of(pid_t pid, char *buf, size_t size)
{
	char link[64], target[PATH_MAX];
	ssize_t len;
	int n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	len = readlink(link, target, sizeof(target) - 1);
	if (len < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	target[len] = '\0';
	n = snprintf(buf, size, "/proc/%d/root%s", (int)pid, target);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A process with no libc is statically linked: its malloc is in its executable. */
static int probe_static_executable(struct memtrack *t, pid_t pid)
{
	char exe[PATH_MAX + 64];
	int err = executable_of(pid, exe, sizeof(exe));

	if (err)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err,
				    "cannot read the executable of process %d: %s", (int)pid,
				    strerror(-err));
	err = probes_attach_object(t, exe, 0);
	if (err == -ENOENT) {
		tracker_log(t, MEMTRACK_LOG_WARN,
			    "process %d maps no libc and %s has no malloc: name its allocator with -l",
			    (int)pid, path_for_display(exe));
		return 0;
	}
	return err;
}

/* Probing failed: because the process went away (its /proc/PID/root with it), or really? */
static int attach_failed(struct memtrack *t, pid_t pid, int err)
{
	if (proc_running(pid))
		return err;
	return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, -ESRCH, "process %d exited during attach",
			    (int)pid);
}

int memtrack_add_pid(struct memtrack *t, pid_t pid)
{
	struct proc_status st;
	char libc[PATH_MAX];
	int err;

	if (pid <= 0)
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL, "invalid PID %d", (int)pid);
	err = proc_status_read(pid, &st);
	if (err == -ESRCH || (!err && (st.state == 'Z' || st.state == 'X')))
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, -ESRCH, "no process with PID %d",
				    (int)pid);
	if (err)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err,
				    "cannot read /proc/%d/status: %s", (int)pid, strerror(-err));
	if (st.tgid != pid) {
		/* A thread id: the BPF side knows processes by their thread-group id. */
		tracker_log(t, MEMTRACK_LOG_INFO, "%d is a thread of process %d: tracing %d",
			    (int)pid, (int)st.tgid, (int)st.tgid);
		pid = st.tgid;
	}

	err = libc_of_pid(pid, libc, sizeof(libc));
	if (err == -ENOENT)
		err = probe_static_executable(t, pid);
	else if (err == -ESRCH)
		err = tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err,
				   "process %d exited during attach", (int)pid);
	else if (err)
		err = tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err,
				   "cannot read the mappings of process %d: %s%s", (int)pid,
				   strerror(-err),
				   err == -EACCES ? " (need root or CAP_SYS_PTRACE)" : "");
	else
		err = probes_attach_object(t, libc, PROBE_REQUIRE_MALLOC);
	if (err)
		return attach_failed(t, pid, err);

	err = tracker_track_pid(t, pid);
	if (err)
		return err;
	if (!proc_running(pid)) {
		tracker_untrack_pid(t, pid);
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, -ESRCH,
				    "process %d exited during attach", (int)pid);
	}
	tracker_log(t, MEMTRACK_LOG_INFO, "tracing process %d", (int)pid);
	return 0;
}

void tracker_probe_exec(struct memtrack *t, pid_t pid)
{
	struct memtrack_error saved = t->err; /* this runs while delivering events: leave t->err */
	char exe[PATH_MAX + 64], libc[PATH_MAX];
	size_t before = t->nobjects;
	int err = executable_of(pid, exe, sizeof(exe));

	if (err)
		return; /* gone already */
	err = libc_of_executable(exe, libc, sizeof(libc));
	if (!err)
		err = probes_attach_object(t, libc, PROBE_REQUIRE_MALLOC);
	else if (err == -ENOENT)
		err = probes_attach_object(t, exe, 0);
	if (t->nobjects > before && strcmp(t->objects[before].path, exe) == 0)
		tracker_log(t, MEMTRACK_LOG_WARN,
			    "process %d exec'd %s, which has its own malloc: probed only now, "
			    "its first allocations may be missed",
			    (int)pid, path_for_display(exe));
	else if (t->nobjects > before)
		tracker_log(t, MEMTRACK_LOG_WARN,
			    "process %d exec'd %s, which uses %s: probed only now, "
			    "its first allocations may be missed",
			    (int)pid, path_for_display(exe), path_for_display(t->objects[before].path));
	else if (err && err != -ENOENT)
		tracker_log(t, MEMTRACK_LOG_INFO, "cannot probe the allocator of %s (process %d): %s",
			    path_for_display(exe), (int)pid, t->err.msg);
	t->err = saved;
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
