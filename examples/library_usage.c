// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * library_usage: libmemtrack in a program of your own. Start a command
 * under trace, count its events in a callback, and print the same
 * per-process summary memtrack-load does.
 *
 *	sudo build/examples/library_usage                   # traces examples/allocs
 *	sudo build/examples/library_usage /bin/ls -l /tmp
 *
 * Build against an installed libmemtrack with:
 *	cc library_usage.c $(pkg-config --cflags --libs memtrack)
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memtrack.h>

struct tally {
	unsigned long long bytes;
	struct memtrack_summary *summary;
};

/* Called for every event, from memtrack_poll(). */
static int on_event(void *ctx, const union mt_event *ev)
{
	struct tally *t = ctx;

	if (ev->hdr.type == MT_EV_MALLOC || ev->hdr.type == MT_EV_CALLOC ||
	    ev->hdr.type == MT_EV_REALLOC || ev->hdr.type == MT_EV_ALIGNED_ALLOC)
		t->bytes += ev->alloc.size;
	return memtrack_summary_add(t->summary, ev);
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], allocs[PATH_MAX + 16];
	char *default_cmd[] = { allocs, NULL };
	char **cmd = argc > 1 ? argv + 1 : default_cmd;
	struct tally tally = { 0 };
	struct memtrack_error err;
	struct memtrack_counters counters;
	struct memtrack *t;
	pid_t pid;
	int status = 0;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	/* By default, trace the allocs example that sits beside this program. */
	self[len > 0 ? len : 0] = '\0';
	snprintf(allocs, sizeof(allocs), "%s/allocs", dirname(self));

	tally.summary = memtrack_summary_new();
	struct memtrack_opts opts = {
		.sz = sizeof(opts),
		.on_event = on_event,
		.event_ctx = &tally,
	};
	if (!tally.summary || memtrack_open(&opts, &t, &err)) {
		fprintf(stderr, "library_usage: %s\n", tally.summary ? err.msg : "out of memory");
		return 1;
	}
	if (memtrack_spawn(t, cmd, NULL, &pid)) {
		fprintf(stderr, "library_usage: %s\n", memtrack_last_error(t)->msg);
		memtrack_close(t);
		return 1;
	}
	/* Poll until the command and everything it started have exited. */
	while (memtrack_tracked_count(t) > 0)
		if (memtrack_poll(t, 100) < 0)
			break;
	memtrack_drain(t);
	waitpid(pid, &status, 0);

	memtrack_read_counters(t, &counters);
	printf("library_usage: %llu events, %llu bytes allocated by %s and its children\n",
	       counters.events, tally.bytes, cmd[0]);
	memtrack_summary_print(tally.summary, &counters, stdout);
	memtrack_summary_free(tally.summary);
	memtrack_close(t);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
