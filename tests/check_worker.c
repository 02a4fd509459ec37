/*
 * Unit tests of the worker role's pure parts (src/worker.c): the
 * reconnect backoff, which doubles from RECONNECT_INTERVAL up to a cap,
 * and the jittered wait drawn from it, which must never pass the cap.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "conf.h"
#include "worker.h"

#include "checklib.h"

START_TEST(backoff_doubles_from_the_first_interval_to_the_cap)
{
	uint64_t	b = 0;
	uint64_t	want[] = { 3000, 6000, 12000, 24000, 48000, 60000,
			    60000 };
	size_t		i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		b = worker_backoff_next(b, 3000);
		ck_assert_uint_eq(b, want[i]);
	}
}
END_TEST

START_TEST(backoff_keeps_a_first_interval_above_the_cap)
{
	ck_assert_uint_eq(worker_backoff_next(0, 90000), 90000);
	ck_assert_uint_eq(worker_backoff_next(90000, 90000), 90000);
}
END_TEST

START_TEST(wait_at_the_cap_never_passes_it)
{
	uint64_t	b = WORKER_BACKOFF_MAX_MS, j;

	/* The largest jitter used to give 75 s. */
	ck_assert_uint_eq(worker_backoff_delay(b, 3000, b / 2),
	    WORKER_BACKOFF_MAX_MS);
	for (j = 0; j <= b / 2; j += 1000)
		ck_assert_uint_le(worker_backoff_delay(b, 3000, j),
		    WORKER_BACKOFF_MAX_MS);
	ck_assert_uint_eq(worker_backoff_delay(b, 3000, 0), b - b / 4);
	ck_assert_uint_eq(worker_backoff_delay(90000, 90000, 45000), 90000);
}
END_TEST

START_TEST(wait_below_the_cap_spreads_a_quarter_either_way)
{
	ck_assert_uint_eq(worker_backoff_delay(8000, 1000, 0), 6000);
	ck_assert_uint_eq(worker_backoff_delay(8000, 1000, 2000), 8000);
	ck_assert_uint_eq(worker_backoff_delay(8000, 1000, 4000), 10000);
	ck_assert_uint_eq(worker_backoff_delay(48000, 3000, 24000), 60000);
}
END_TEST

/* The worker's test cases. */
static Suite *
worker_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("worker");
	tc = tcase_create("reconnect backoff");
	tcase_add_test(tc, backoff_doubles_from_the_first_interval_to_the_cap);
	tcase_add_test(tc, backoff_keeps_a_first_interval_above_the_cap);
	tcase_add_test(tc, wait_at_the_cap_never_passes_it);
	tcase_add_test(tc, wait_below_the_cap_spreads_a_quarter_either_way);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(worker_suite()));
}
