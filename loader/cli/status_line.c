// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "human_bytes.h"
#include "status_line.h"

#define REDRAW_NS 1000000000ull
#define SHOWN_PROCS 3

void status_line_init(struct status_line *sl, bool quiet)
{
	memset(sl, 0, sizeof(*sl));
	sl->on = !quiet && isatty(STDERR_FILENO);
}

bool status_line_due(const struct status_line *sl, uint64_t now_ns)
{
	return sl->on && now_ns - sl->last_ns >= REDRAW_NS;
}

/* The width of the terminal, so that the line never wraps (and so never scrolls). */
static size_t columns(void)
{
	struct winsize ws;

	return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col - 1 : 79;
}

void status_line_draw(struct status_line *sl, const struct memtrack_summary *s,
		      unsigned long long dropped, uint64_t now_ns)
{
	const struct memtrack_proc_stats *top[SHOWN_PROCS] = { NULL };
	unsigned long long calls = 0, live = 0, blocks = 0;
	size_t n = memtrack_summary_count(s), running = 0, len;
	char line[512], a[24];
	double rate;

	if (!sl->on)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct memtrack_proc_stats *p = memtrack_summary_proc(s, i);

		calls += p->allocs + p->frees;
		if (p->exited)
			continue;
		running++;
		live += p->live_bytes;
		blocks += p->live_blocks;
		/* keep the SHOWN_PROCS with the most live bytes, most first */
		for (size_t k = 0; k < SHOWN_PROCS; k++) {
			if (top[k] && top[k]->live_bytes >= p->live_bytes)
				continue;
			memmove(&top[k + 1], &top[k], (SHOWN_PROCS - 1 - k) * sizeof(top[0]));
			top[k] = p;
			break;
		}
	}
	rate = sl->last_ns && now_ns > sl->last_ns && calls >= sl->last_calls
		       ? (double)(calls - sl->last_calls) * 1e9 / (double)(now_ns - sl->last_ns)
		       : 0;
	format_bytes(live, a, sizeof(a));
	len = (size_t)snprintf(line, sizeof(line),
			       "memtrack: %.0f calls/s, %zu process%s, live %s in %llu block%s",
			       rate, running, running == 1 ? "" : "es", a,
			       blocks, blocks == 1 ? "" : "s");
	for (size_t k = 0; k < SHOWN_PROCS && top[k] && len < sizeof(line); k++) {
		format_bytes(top[k]->live_bytes, a, sizeof(a));
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s %d %.*s %s/%llu",
					k ? "," : ";", (int)top[k]->pid,
					(int)strnlen(top[k]->comm, sizeof(top[k]->comm)),
					top[k]->comm, a, top[k]->live_blocks);
	}
	if (len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, "; %llu dropped", dropped);
	line[strnlen(line, columns())] = '\0';
	for (char *p = line; *p; p++) /* a process's name is not ours to print raw */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	sl->shown = true;
	sl->last_ns = now_ns;
	sl->last_calls = calls;
}

void status_line_clear(struct status_line *sl)
{
	if (!sl->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	sl->shown = false;
}
