// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* loader/core/event_queue: the growable FIFO behind memtrack_next(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "event_queue.h"

static union mt_event malloc_event(unsigned long long seq)
{
	union mt_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.alloc.hdr.type = MT_EV_MALLOC;
	ev.alloc.hdr.timestamp = seq;
	ev.alloc.hdr.pid = 100;
	ev.alloc.hdr.tid = 101;
	ev.alloc.addr = 0x1000 + 16 * seq;
	ev.alloc.size = seq;
	return ev;
}

static void push_malloc(struct event_queue *q, unsigned long long seq)
{
	union mt_event ev = malloc_event(seq);

	assert_int_equal(event_queue_push(q, &ev, sizeof(ev.alloc)), 0);
}

static void pop_expect(struct event_queue *q, unsigned long long seq)
{
	union mt_event out, want = malloc_event(seq);

	memset(&out, 0xa5, sizeof(out));
	assert_true(event_queue_pop(q, &out));
	assert_int_equal(out.hdr.timestamp, seq);
	assert_int_equal(out.alloc.addr, want.alloc.addr);
	assert_memory_equal(&out, &want, sizeof(out));
}

static void pop_of_an_empty_queue_is_false(void **state)
{
	struct event_queue q = { 0 };
	union mt_event out;

	(void)state;
	assert_false(event_queue_pop(&q, &out));
	push_malloc(&q, 1);
	pop_expect(&q, 1);
	assert_false(event_queue_pop(&q, &out));
	event_queue_free(&q);
}

static void events_come_out_in_the_order_they_went_in(void **state)
{
	struct event_queue q = { 0 };

	(void)state;
	for (unsigned long long i = 1; i <= 10; i++)
		push_malloc(&q, i);
	assert_int_equal(q.len, 10);
	for (unsigned long long i = 1; i <= 10; i++)
		pop_expect(&q, i);
	assert_int_equal(q.len, 0);
	event_queue_free(&q);
}

static void growth_past_thousands_keeps_fifo_order(void **state)
{
	struct event_queue q = { 0 };

	(void)state;
	for (unsigned long long i = 1; i <= 5000; i++)
		push_malloc(&q, i);
	assert_int_equal(q.len, 5000);
	for (unsigned long long i = 1; i <= 5000; i++)
		pop_expect(&q, i);
	event_queue_free(&q);
}

/*
 * Fill the ring, pop part of it and push more so that the tail wraps to the
 * start while the head is mid-ring; then push past the capacity: the grown
 * ring must still deliver everything in order.
 */
static void growth_while_wrapped_around_keeps_fifo_order(void **state)
{
	struct event_queue q = { 0 };
	unsigned long long pushed = 0, popped = 0;
	size_t cap;

	(void)state;
	push_malloc(&q, ++pushed);
	cap = q.cap;
	assert_true(cap >= 4);
	while (q.len < cap)
		push_malloc(&q, ++pushed);
	for (size_t i = 0; i < cap / 2 + 1; i++)
		pop_expect(&q, ++popped);
	while (q.len < cap)
		push_malloc(&q, ++pushed);
	/* The ring is full and wrapped: its head is mid-ring. */
	assert_int_equal(q.cap, cap);
	assert_int_not_equal(q.head, 0);
	assert_true(q.head + q.len > q.cap);
	/* One more grows it. */
	push_malloc(&q, ++pushed);
	assert_true(q.cap > cap);
	for (int i = 0; i < 10; i++)
		push_malloc(&q, ++pushed);
	while (popped < pushed)
		pop_expect(&q, ++popped);
	assert_false(event_queue_pop(&q, &(union mt_event){ 0 }));
	event_queue_free(&q);
}

static void interleaved_pushes_and_pops_keep_fifo_order(void **state)
{
	struct event_queue q = { 0 };
	unsigned long long pushed = 0, popped = 0;

	(void)state;
	/* Three in, two out: the queue wraps many times and grows while wrapped. */
	for (int round = 0; round < 2000; round++) {
		for (int i = 0; i < 3; i++)
			push_malloc(&q, ++pushed);
		for (int i = 0; i < 2; i++)
			pop_expect(&q, ++popped);
	}
	while (popped < pushed)
		pop_expect(&q, ++popped);
	assert_int_equal(q.len, 0);
	event_queue_free(&q);
}

static void a_short_record_is_zero_padded_to_a_whole_event(void **state)
{
	struct event_queue q = { 0 };
	union mt_event out, zero;
	struct mt_event_hdr hdr = { .timestamp = 77, .type = MT_EV_FREE, .pid = 3, .tid = 4 };

	(void)state;
	/* Dirty a slot first, so that padding cannot be left over from calloc. */
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(event_queue_push(&q, &out, sizeof(out)), 0);
	assert_true(event_queue_pop(&q, &out));
	assert_int_equal(event_queue_push(&q, &hdr, sizeof(hdr)), 0);
	for (size_t i = 0; i < q.cap; i++) { /* reuse every slot once */
		assert_true(event_queue_pop(&q, &out));
		assert_int_equal(out.hdr.timestamp, 77);
		assert_int_equal(out.hdr.type, MT_EV_FREE);
		assert_int_equal(out.hdr.pid, 3);
		assert_int_equal(out.hdr.tid, 4);
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal((char *)&out + sizeof(hdr), (char *)&zero + sizeof(hdr),
				    sizeof(out) - sizeof(hdr));
		memset(&out, 0xff, sizeof(out));
		assert_int_equal(event_queue_push(&q, &out, sizeof(out)), 0);
		assert_true(event_queue_pop(&q, &out));
		assert_int_equal(event_queue_push(&q, &hdr, sizeof(hdr)), 0);
	}
	event_queue_free(&q);
}

static void a_record_larger_than_an_event_is_rejected(void **state)
{
	struct event_queue q = { 0 };
	char big[sizeof(union mt_event) + 1];
	union mt_event out;

	(void)state;
	memset(big, 1, sizeof(big));
	assert_int_equal(event_queue_push(&q, big, sizeof(big)), -EINVAL);
	assert_int_equal(q.len, 0);
	assert_false(event_queue_pop(&q, &out));
	/* exactly one event's size is fine */
	assert_int_equal(event_queue_push(&q, big, sizeof(union mt_event)), 0);
	assert_int_equal(q.len, 1);
	event_queue_free(&q);
}

static void free_leaves_an_empty_reusable_queue(void **state)
{
	struct event_queue q = { 0 };

	(void)state;
	push_malloc(&q, 1);
	event_queue_free(&q);
	assert_null(q.ring);
	assert_int_equal(q.len, 0);
	assert_int_equal(q.cap, 0);
	push_malloc(&q, 2);
	pop_expect(&q, 2);
	event_queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pop_of_an_empty_queue_is_false),
		cmocka_unit_test(events_come_out_in_the_order_they_went_in),
		cmocka_unit_test(growth_past_thousands_keeps_fifo_order),
		cmocka_unit_test(growth_while_wrapped_around_keeps_fifo_order),
		cmocka_unit_test(interleaved_pushes_and_pops_keep_fifo_order),
		cmocka_unit_test(a_short_record_is_zero_padded_to_a_whole_event),
		cmocka_unit_test(a_record_larger_than_an_event_is_rejected),
		cmocka_unit_test(free_leaves_an_empty_reusable_queue),
	};

	return cmocka_run_group_tests_name("event_queue", tests, NULL, NULL);
}
