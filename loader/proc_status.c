// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

bool proc_running(pid_t pid)
{
	struct proc_status st;

	return proc_status_read(pid, &st) == 0 && st.state != 'Z' && st.state != 'X';
}
