/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What /proc/PID/status says about a process: its thread group, and whether it still runs. */
#ifndef MEMTRACK_PROC_STATUS_H
#define MEMTRACK_PROC_STATUS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct proc_status {
	pid_t tgid;  /* the process a thread id belongs to */
	char state;  /* 'R', 'S', ..., 'Z' for a zombie */
};

/* Parse status text (from /proc/PID/status). -EINVAL if Tgid or State is missing. */
int proc_status_parse(FILE *f, struct proc_status *st);
/* Read /proc/PID/status. -ESRCH if there is no such process. */
int proc_status_read(pid_t pid, struct proc_status *st);
/*
 * A thread of the process that has not exited, or -ESRCH. A process whose
 * main thread called pthread_exit() has a zombie leader but runs on; its
 * /proc/PID/maps is empty, /proc/TID/maps is not.
 */
pid_t proc_live_thread(pid_t tgid);
/* Does the process (any of its threads) still run? */
bool proc_running(pid_t tgid);
/*
 * Does the process see the same root directory as we do? Paths it uses (its
 * maps, its ELF headers) then mean the same files here; in a container, they
 * only do through /proc/PID/root.
 */
bool proc_same_root(pid_t pid);

#endif /* MEMTRACK_PROC_STATUS_H */
