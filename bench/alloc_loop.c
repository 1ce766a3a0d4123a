// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * alloc_loop: the microbenchmark of SPEC.md section 6. N pairs of
 * malloc(16..4096) + free, timed inside the program (start-up and the
 * tracer's attach are not counted); prints nanoseconds per pair.
 *
 *	alloc_loop [PAIRS [CPU [THREADS]]]
 *
 * With CPU, it pins itself there (a tracer's reader then has the other CPU;
 * pinning from outside, with taskset, would be an exec that a preloaded
 * shim does not follow). A negative CPU pins nothing.
 *
 * With THREADS (default 1), THREADS threads each do PAIRS pairs, started
 * together; thread i is pinned to CPU + i (modulo the CPUs online) when a
 * CPU is given. What is printed is then the wall time of the whole timed
 * section divided by PAIRS * THREADS: the cost of a pair in the program's
 * throughput, not per thread (two threads that never contend print half of
 * what one thread prints). With one thread no thread is created at all:
 * glibc's malloc skips its atomics while a process has a single thread,
 * and the one-thread figure stays comparable with earlier runs.
 *
 * With ALLOC_LOOP_DEPTH=N in the environment, the pairs are made N calls
 * deep (one thread): what a stack walk costs where stacks are deep.
 *
 * If the environment names a file in ALLOC_LOOP_GO, the timed section waits
 * until that file exists (after the warm-up): a tracer attached from
 * outside, with -p, can then be ready before the first timed pair.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long pairs;
static pthread_barrier_t barrier;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("alloc_loop: sched_setaffinity");
}

/* warm up: the first calls set up the arena and the tcache (each thread has its own) */
static void warm_up(void)
{
	void *volatile sink; /* volatile: the pair is not optimized away; local: one per thread */

	for (long i = 0; i < 1000; i++) {
		sink = malloc(16 + (size_t)(i * 37) % 4080);
		free(sink);
	}
}

static void loop(void)
{
	void *volatile sink;

	for (long i = 0; i < pairs; i++) {
		sink = malloc(16 + (size_t)(i * 37) % 4080);
		free(sink);
	}
}

/* The loop, depth calls further down the stack: each call a real frame. */
__attribute__((noinline)) static long loop_at(int depth)
{
	long r;

	if (depth <= 0) {
		loop();
		return 0;
	}
	r = loop_at(depth - 1);
	__asm__ volatile("" : "+r"(r)::"memory"); /* not a tail call */
	return r + 1;
}

static void wait_for_go(void)
{
	const char *go = getenv("ALLOC_LOOP_GO");

	if (!go || !*go)
		return;
	while (access(go, F_OK))
		usleep(1000);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct worker {
	pthread_t thread;
	int cpu; /* negative: not pinned */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (w->cpu >= 0)
		pin(w->cpu);
	warm_up();
	pthread_barrier_wait(&barrier); /* all warmed up */
	pthread_barrier_wait(&barrier); /* the clock has started */
	loop();
	return NULL;
}

/* THREADS > 1: time from the common start to the last thread's end */
static double run_threads(int threads, int cpu)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct worker *w = calloc((size_t)threads, sizeof(*w));
	double start;
	int i;

	if (!w || pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1)) {
		fprintf(stderr, "alloc_loop: cannot set up %d threads\n", threads);
		exit(1);
	}
	for (i = 0; i < threads; i++) {
		w[i].cpu = cpu < 0 ? -1 : (int)((cpu + i) % (ncpu > 0 ? ncpu : 1));
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i])) {
			fprintf(stderr, "alloc_loop: cannot start thread %d\n", i);
			exit(1);
		}
	}
	pthread_barrier_wait(&barrier);
	wait_for_go();
	start = now_ns();
	pthread_barrier_wait(&barrier);
	for (i = 0; i < threads; i++)
		pthread_join(w[i].thread, NULL);
	free(w);
	return now_ns() - start;
}

int main(int argc, char **argv)
{
	int cpu = argc > 2 ? atoi(argv[2]) : -1;
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	double start, ns;

	pairs = argc > 1 ? atol(argv[1]) : 1000000;
	if (pairs <= 0 || threads <= 0) {
		fprintf(stderr, "usage: alloc_loop [PAIRS [CPU [THREADS]]]\n");
		return 2;
	}
	if (threads > 1) {
		ns = run_threads(threads, cpu);
	} else {
		if (cpu >= 0)
			pin(cpu);
		warm_up();
		wait_for_go();
		start = now_ns();
		loop_at(getenv("ALLOC_LOOP_DEPTH") ? atoi(getenv("ALLOC_LOOP_DEPTH")) : 0);
		ns = now_ns() - start;
	}
	printf("%.2f\n", ns / ((double)pairs * threads));
	return 0;
}
