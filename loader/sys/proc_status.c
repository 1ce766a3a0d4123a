// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proc_status.h"

int proc_status_parse(FILE *f, struct proc_status *st)
{
	char line[256];
	bool have_tgid = false, have_state = false;

	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "State:", 6) == 0) {
			const char *p = line + 6;

			while (*p == ' ' || *p == '\t')
				p++;
			st->state = *p;
			have_state = *p && *p != '\n';
		} else if (strncmp(line, "Tgid:", 5) == 0) {
			char *end;
			long v = strtol(line + 5, &end, 10);

			have_tgid = end != line + 5 && v > 0;
			st->tgid = (pid_t)v;
		}
	}
	return have_tgid && have_state ? 0 : -EINVAL;
}

int proc_status_read(pid_t pid, struct proc_status *st)
{
	char path[64];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	err = proc_status_parse(f, st);
	fclose(f);
	return err;
}

static bool thread_running(pid_t tid)
{
	struct proc_status st;

	return proc_status_read(tid, &st) == 0 && st.state != 'Z' && st.state != 'X';
}

pid_t proc_live_thread(pid_t tgid)
{
	char path[64];
	struct dirent *d;
	pid_t live = -ESRCH;
	DIR *dir;

	if (thread_running(tgid))
		return tgid;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)tgid);
	dir = opendir(path);
	if (!dir)
		return -ESRCH;
	while (live < 0 && (d = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid > 0 && tid != tgid && thread_running(tid))
			live = tid;
	}
	closedir(dir);
	return live;
}

bool proc_running(pid_t tgid)
{
	return proc_live_thread(tgid) > 0;
}

bool proc_same_root(pid_t pid)
{
	char root[64];
	struct stat theirs, ours;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	return stat(root, &theirs) == 0 && stat("/", &ours) == 0 && theirs.st_dev == ours.st_dev &&
	       theirs.st_ino == ours.st_ino;
}
