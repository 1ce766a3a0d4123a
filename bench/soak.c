// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * soak: a multi-threaded, allocation-heavy program that counts its own
 * calls, for bench/soak.sh to compare memtrack's accounting with.
 *
 *	soak THREADS SECONDS [RATE]
 *
 * Each thread keeps up to 512 blocks live in a ring and, flat out until
 * SECONDS have passed, replaces one of them: malloc, calloc or realloc of
 * a size in [5000, 6000) (sizes nothing else in the process asks for, so
 * that --min-size 5000 --max-size 5999 counts only these), and free of the
 * block it replaces; with RATE (calls per second, all threads together),
 * no faster than that: a pace a tracer is to keep up with, where flat out
 * the program's threads take every CPU from it. At the end each thread
 * leaves its ring live, and the
 * program prints its totals as one JSON line on stdout: allocations
 * (realloc counted as a free and an allocation, as memtrack and valgrind
 * count it), frees, bytes allocated, live blocks and bytes at exit.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 512

struct totals {
	unsigned long long allocs, frees, bytes, live_blocks, live_bytes;
};

static double seconds;
static double calls_per_thread_s; /* 0: flat out */
static struct totals all;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	struct {
		void *p;
		size_t size;
	} ring[RING] = { { 0 } };
	struct totals t = { 0 };
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	double end = now() + seconds;
	unsigned long i = 0;

	double start = now();

	while ((i & 1023) || now() < end) {
		size_t k = i++ % RING, size = 5000 + (size_t)(rand_r(&seed) % 1000);
		void *p;

		/* every 256 replacements (a replacement is two calls), back to the pace */
		if (calls_per_thread_s > 0 && !(i & 255)) {
			double ahead = start + (double)(t.allocs + t.frees) / calls_per_thread_s - now();

			if (ahead > 0) {
				struct timespec nap = { (time_t)ahead,
							(long)((ahead - (double)(time_t)ahead) * 1e9) };

				nanosleep(&nap, NULL);
			}
		}

		switch (rand_r(&seed) % 4) {
		case 0: /* realloc: the old block freed, a new one allocated */
			if (ring[k].p) {
				p = realloc(ring[k].p, size);
				if (!p)
					abort();
				t.frees++;
				t.allocs++;
				t.bytes += size;
				ring[k].p = p;
				ring[k].size = size;
				continue;
			}
			/* nothing to resize: a fresh block instead */
			/* fall through */
		case 1:
			p = calloc(1, size);
			break;
		default:
			p = malloc(size);
			break;
		}
		if (!p)
			abort();
		memset(p, 1, 64);
		t.allocs++;
		t.bytes += size;
		if (ring[k].p) {
			free(ring[k].p);
			t.frees++;
		}
		ring[k].p = p;
		ring[k].size = size;
	}
	for (size_t k = 0; k < RING; k++) {
		if (ring[k].p) {
			t.live_blocks++;
			t.live_bytes += ring[k].size;
		}
	}
	pthread_mutex_lock(&lock);
	all.allocs += t.allocs;
	all.frees += t.frees;
	all.bytes += t.bytes;
	all.live_blocks += t.live_blocks;
	all.live_bytes += t.live_bytes;
	pthread_mutex_unlock(&lock);
	return NULL; /* the ring stays live: leaked on purpose, counted above */
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	pthread_t tid[64];

	seconds = argc > 2 ? atof(argv[2]) : 10;
	calls_per_thread_s = argc > 3 ? atof(argv[3]) : 0;
	if (threads < 1 || threads > 64 || seconds <= 0 || calls_per_thread_s < 0) {
		fprintf(stderr, "usage: soak THREADS SECONDS [CALLS_PER_SECOND]\n");
		return 2;
	}
	calls_per_thread_s /= threads;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, worker, (void *)(uintptr_t)(i + 1))) {
			perror("soak: pthread_create");
			return 1;
		}
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	printf("{\"allocs\":%llu,\"frees\":%llu,\"alloc_bytes\":%llu,\"live_blocks\":%llu,"
	       "\"live_bytes\":%llu}\n",
	       all.allocs, all.frees, all.bytes, all.live_blocks, all.live_bytes);
	return 0;
}
