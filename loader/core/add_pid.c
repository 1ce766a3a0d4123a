// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tracing processes that already run: memtrack_add_pid(), the seed API
 * built on it, and probing the allocator of a traced process's new image
 * after it execs.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libc_locate.h"
#include "proc_status.h"
#include "tracker.h"

/*
 * The executable of a process, as a path this process can open: as it is
 * if the process sees our root directory (it then stays valid when the
 * process exits), else through /proc/PID/root.
 */
static int executable_of(pid_t pid, char *buf, size_t size)
{
	char link[64], target[PATH_MAX];
	ssize_t len;
	int n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	len = readlink(link, target, sizeof(target) - 1);
	if (len < 0)
		return -errno; /* ENOENT: gone, or a kernel thread */
	target[len] = '\0';
	if (proc_same_root(pid))
		n = snprintf(buf, size, "%s", target);
	else
		n = snprintf(buf, size, "/proc/%d/root%s", (int)pid, target);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A process with no libc is statically linked: its malloc is in its executable. */
static int probe_static_executable(struct memtrack *t, pid_t pid)
{
	char exe[PATH_MAX + 64];
	int err = executable_of(pid, exe, sizeof(exe));

	if (err == -ENOENT && proc_running(pid))
		return tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, err,
				    "process %d has no executable (a kernel thread?): nothing to trace",
				    (int)pid);
	if (err)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err,
				    "cannot read the executable of process %d: %s", (int)pid,
				    strerror(-err));
	err = probes_attach_object(t, exe, 0, &t->err);
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

/* The USDT source: every object the process maps that has memtrack probes. */
static int probe_process_usdt(struct memtrack *t, pid_t pid)
{
	int found = 0, err = discover_mapped(t, pid, &found, &t->err);

	if (err)
		return err;
	if (!found)
		return tracker_fail(t, MEMTRACK_ERR_ALLOCATOR, -ENOENT,
				    "process %d has no memtrack USDT probes: start it with "
				    "LD_PRELOAD=libmemtrack-usdt.so, or use the uprobe source",
				    (int)pid);
	return 0;
}

/* The uprobe source: the libc the process maps, or a static executable's own malloc. */
static int probe_process_allocator(struct memtrack *t, pid_t pid)
{
	char libc[PATH_MAX];
	int err = libc_of_pid(pid, libc, sizeof(libc));

	if (err == -ENOENT)
		return probe_static_executable(t, pid);
	if (err == -ESRCH)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err,
				    "process %d exited during attach", (int)pid);
	if (err)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err,
				    "cannot read the mappings of process %d: %s%s", (int)pid,
				    strerror(-err),
				    err == -EACCES ? " (need root or CAP_SYS_PTRACE)" : "");
	/* every allocator it maps (jemalloc, tcmalloc, its own), its libc last; then libc for sure */
	err = discover_mapped(t, pid, NULL, &t->err);
	return err ?: probes_attach_object(t, libc, PROBE_REQUIRE_MALLOC, &t->err);
}

static int add_pid(struct memtrack *t, pid_t pid)
{
	struct proc_status st;
	pid_t view;
	int err;

	if (pid <= 0)
		return tracker_fail(t, MEMTRACK_ERR_USAGE, -EINVAL, "invalid PID %d", (int)pid);
	err = proc_status_read(pid, &st);
	if (err == -ESRCH)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, err, "no process with PID %d",
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
	/* Its mappings, as a thread that still runs sees them (the leader may be a zombie). */
	view = proc_live_thread(pid);
	if (view < 0)
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, -ESRCH, "no process with PID %d",
				    (int)pid);

	err = t->usdt ? probe_process_usdt(t, view) : probe_process_allocator(t, view);
	if (err)
		return attach_failed(t, pid, err);

	err = tracker_track_pid(t, pid);
	if (!err && !t->system_probes)
		err = procs_hold_start(t) ?: procs_add(t, pid, true, &t->err);
	if (err) {
		tracker_untrack_pid(t, pid);
		return attach_failed(t, pid, err);
	}
	tracker_read_maps(t, view);
	if (!proc_running(pid)) {
		tracker_untrack_pid(t, pid);
		return tracker_fail(t, MEMTRACK_ERR_NO_PROCESS, -ESRCH,
				    "process %d exited during attach", (int)pid);
	}
	tracker_log(t, MEMTRACK_LOG_INFO, "tracing process %d", (int)pid);
	return 0;
}

int memtrack_add_pid(struct memtrack *t, pid_t pid)
{
	int err;

	pthread_mutex_lock(&t->probe_lock);
	err = add_pid(t, pid);
	pthread_mutex_unlock(&t->probe_lock);
	return err;
}

/*
 * Probe what a process's new image needs; runs while events are delivered,
 * on the tracker's behalf: a failure's reason goes to why, not t->err.
 */
static void probe_exec(struct memtrack *t, pid_t pid, struct memtrack_error *why)
{
	char exe[PATH_MAX + 64], libc[PATH_MAX];
	size_t before = t->nobjects;
	int err = executable_of(pid, exe, sizeof(exe));
	uint64_t image = 0;

	if (err)
		return; /* gone already */
	if (!proc_same_root(pid)) {
		tracker_log(t, MEMTRACK_LOG_INFO,
			    "process %d exec'd %s in another root: its allocator is not probed",
			    (int)pid, path_for_display(exe));
		return;
	}
	/* a shell loop execs the same few images again and again: each is read once */
	if (file_key(exe, &image) && u64_map_get(&t->images_probed, image, NULL))
		return;
	if (t->usdt) {
		/* its own memtrack probes, if it has any (the shim's are linked already) */
		err = probes_attach_usdt(t, exe, 0, why);
	} else {
		err = libc_of_executable(exe, libc, sizeof(libc));
		if (!err)
			err = probes_attach_object(t, libc, PROBE_REQUIRE_MALLOC, why);
		else if (err == -ENOENT)
			err = probes_attach_object(t, exe, 0, why);
		/* what else the new image loads (its environment is not known: no preload) */
		if (!err || err == -ENOENT)
			err = discover_needed(t, exe, NULL, why);
	}
	discover_unwind(t, exe, NULL);
	if (image && (!err || err == -ENOENT))
		u64_map_put(&t->images_probed, image, 1); /* without memory: read again, no harm */
	if (t->warden.pid && t->nobjects > before)
		tracker_log(t, MEMTRACK_LOG_INFO, "process %d exec'd %s: probed %s before it ran",
			    (int)pid, path_for_display(exe),
			    path_for_display(t->objects[before].path));
	else if (t->nobjects > before && strcmp(t->objects[before].path, exe) == 0)
		tracker_log(t, MEMTRACK_LOG_WARN,
			    "process %d exec'd %s, which has its own %s: probed only now, "
			    "its first allocations may be missed",
			    (int)pid, path_for_display(exe),
			    t->usdt ? "memtrack probes" : "malloc");
	else if (t->nobjects > before)
		tracker_log(t, MEMTRACK_LOG_WARN,
			    "process %d exec'd %s, which uses %s: probed only now, "
			    "its first allocations may be missed",
			    (int)pid, path_for_display(exe), path_for_display(t->objects[before].path));
	else if (err && err != -ENOENT)
		tracker_log(t, MEMTRACK_LOG_INFO, "cannot probe the allocator of %s (process %d): %s",
			    path_for_display(exe), (int)pid, why->msg);
}

void tracker_probe_exec(struct memtrack *t, pid_t pid)
{
	struct memtrack_error err = { 0 };

	/* This thread's failures here are not the caller's: they stay off t->err. */
	pthread_mutex_lock(&t->probe_lock);
	probe_exec(t, pid, &err);
	pthread_mutex_unlock(&t->probe_lock);
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
