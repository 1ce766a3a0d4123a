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
/* Does pid name a process (or thread) that has not exited? Zombies have. */
bool proc_running(pid_t pid);

#endif /* MEMTRACK_PROC_STATUS_H */
