// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* memtrack_tee (loader/format/trace_tee.c): several handlers fed as one. */
#include <errno.h>
#include <string.h>

#include "memtrack.h"

#include "test_support.h"

struct sink {
	char log[256];
	int fail_at; /* the call number (1..) from which on_event fails; 0: never */
	int calls;
};

static int sink_event(void *ctx, const union mt_event *ev)
{
	struct sink *k = ctx;
	size_t len = strlen(k->log);

	snprintf(k->log + len, sizeof(k->log) - len, "e%u ", ev->hdr.pid);
	return k->fail_at && ++k->calls >= k->fail_at ? -EIO : 0;
}

static int sink_stack(void *ctx, unsigned long long id, const struct mt_stack *st)
{
	struct sink *k = ctx;
	size_t len = strlen(k->log);

	(void)st;
	snprintf(k->log + len, sizeof(k->log) - len, "s%llu ", id);
	return 0;
}

static struct memtrack_trace_handler handler_of(struct sink *k)
{
	return (struct memtrack_trace_handler){ .sz = sizeof(struct memtrack_trace_handler),
						.ctx = k,
						.on_event = sink_event,
						.on_stack = sink_stack };
}

static int feed(const struct memtrack_trace_handler *h, unsigned pid)
{
	union mt_event ev = { .hdr = { .type = MT_EV_MALLOC, .pid = pid } };

	return h->on_event(h->ctx, &ev);
}

/* Each record to each handler, in the order they were added. */
static void test_feeds_all_in_order(void **state)
{
	struct sink a = { 0 }, b = { 0 };
	struct memtrack_tee *tee = memtrack_tee_new();
	struct memtrack_trace_handler h = handler_of(&a);
	struct mt_stack st = { 0 };

	(void)state;
	assert_int_equal(memtrack_tee_add(tee, &h, 0), 0);
	h = handler_of(&b);
	h.on_stack = NULL; /* a member it lacks: the record is done for it */
	assert_int_equal(memtrack_tee_add(tee, &h, 0), 1);
	h = memtrack_tee_handler(tee);
	assert_int_equal(h.on_stack(h.ctx, 7, &st), 0);
	assert_int_equal(feed(&h, 1), 0);
	assert_int_equal(feed(&h, 2), 0);
	assert_string_equal(a.log, "s7 e1 e2 ");
	assert_string_equal(b.log, "e1 e2 ");
	memtrack_tee_free(tee);
}

/* A failing handler drops out, the others go on; the tee fails once all have. */
static void test_failure_drops_one(void **state)
{
	struct sink a = { .fail_at = 2 }, b = { .fail_at = 3 };
	struct memtrack_tee *tee = memtrack_tee_new();
	struct memtrack_trace_handler h = handler_of(&a);

	(void)state;
	memtrack_tee_add(tee, &h, 0);
	h = handler_of(&b);
	memtrack_tee_add(tee, &h, 0);
	h = memtrack_tee_handler(tee);
	assert_int_equal(feed(&h, 1), 0);
	assert_int_equal(feed(&h, 2), 0); /* a fails: b goes on */
	assert_int_equal(memtrack_tee_error(tee, 0), -EIO);
	assert_int_equal(memtrack_tee_error(tee, 1), 0);
	assert_int_equal(feed(&h, 3), -EIO); /* b too: nobody is left */
	assert_string_equal(a.log, "e1 e2 ");
	assert_string_equal(b.log, "e1 e2 e3 ");
	assert_int_equal(memtrack_tee_error(tee, 1), -EIO);
	assert_int_equal(memtrack_tee_error(tee, 5), 0);
	memtrack_tee_free(tee);
}

/* MEMTRACK_TEE_STOP: that handler's failure stops the delivery at once. */
static void test_stop_flag(void **state)
{
	struct sink a = { .fail_at = 1 }, b = { 0 };
	struct memtrack_tee *tee = memtrack_tee_new();
	struct memtrack_trace_handler h = handler_of(&a);

	(void)state;
	memtrack_tee_add(tee, &h, MEMTRACK_TEE_STOP);
	h = handler_of(&b);
	memtrack_tee_add(tee, &h, 0);
	h = memtrack_tee_handler(tee);
	assert_int_equal(feed(&h, 1), -EIO);
	assert_string_equal(b.log, ""); /* stopped before it */
	memtrack_tee_free(tee);
}

/* Bad handlers and flags are refused. */
static void test_refused(void **state)
{
	struct sink a = { 0 };
	struct memtrack_tee *tee = memtrack_tee_new();
	struct memtrack_trace_handler h = handler_of(&a);

	(void)state;
	assert_int_equal(memtrack_tee_add(tee, &h, 4), -EINVAL);
	h.sz = 0;
	assert_int_equal(memtrack_tee_add(tee, &h, 0), -EINVAL);
	assert_int_equal(memtrack_tee_add(tee, NULL, 0), -EINVAL);
	memtrack_tee_free(tee);
	memtrack_tee_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feeds_all_in_order),
		cmocka_unit_test(test_failure_drops_one),
		cmocka_unit_test(test_stop_flag),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("trace_tee", tests, NULL, NULL);
}
