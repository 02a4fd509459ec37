/*
 * Unit tests of the passive health rules (src/health.c): which connect
 * results count against a worker, a destination failing everywhere not
 * counted twice, ejection after the threshold, cool-downs growing with
 * ejections in a row up to the cap and starting over after a good run,
 * trial after a cool-down, the EWMA, and the cap on the ejected share.
 */
#include "config.h"

#include <sys/types.h>

#include <check.h>
#include <string.h>

#include "health.h"

#include "checklib.h"

static const struct health_conf	conf = { 3, 1000, 2500 };

START_TEST(only_worker_faults_count)
{
	ck_assert_int_eq(health_verdict(SOCKS_FAIL_NONE), HEALTH_OK);
	ck_assert_int_eq(health_verdict(SOCKS_FAIL_REFUSED), HEALTH_FAULT);
	ck_assert_int_eq(health_verdict(SOCKS_FAIL_NETUNREACH), HEALTH_FAULT);
	ck_assert_int_eq(health_verdict(SOCKS_FAIL_HOSTUNREACH), HEALTH_FAULT);
	ck_assert_int_eq(health_verdict(SOCKS_FAIL_TIMEOUT), HEALTH_FAULT);
	ck_assert_int_eq(health_verdict(SOCKS_FAIL_DENIED), HEALTH_NEUTRAL);
	ck_assert_int_eq(health_verdict(SOCKS_FAIL_DNS), HEALTH_NEUTRAL);
	ck_assert_int_eq(health_verdict(SOCKS_FAIL_FAILURE), HEALTH_NEUTRAL);
}
END_TEST

START_TEST(a_destination_down_everywhere_is_not_the_workers_fault)
{
	static struct health_dests	d;
	uint32_t			a = health_dest_hash("10.0.0.1", 80);
	uint32_t			b = health_dest_hash("10.0.0.1", 81);

	ck_assert_uint_ne(a, b);
	/* Worker 1 fails it first: counts. */
	ck_assert_int_eq(health_dest_counts(&d, a, 1, 0, 1000), 1);
	/* Worker 2 fails it too: the destination's fault. */
	ck_assert_int_eq(health_dest_counts(&d, a, 2, 0, 2000), 0);
	/* Worker 2 again: the last failure was its own, so it counts. */
	ck_assert_int_eq(health_dest_counts(&d, a, 2, 0, 3000), 1);
	/* Reached by worker 3: a failure of worker 1 counts again. */
	health_dest_counts(&d, a, 3, 1, 4000);
	ck_assert_int_eq(health_dest_counts(&d, a, 1, 0, 5000), 1);
	/* An old failure elsewhere says nothing. */
	ck_assert_int_eq(health_dest_counts(&d, a, 2, 0, 5000 + 60000), 1);
}
END_TEST

START_TEST(ejected_after_the_threshold_in_a_row)
{
	struct health	h;

	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(health_failure(&h, &conf), 0);
	ck_assert_int_eq(health_failure(&h, &conf), 0);
	health_success(&h, 100);	/* the run starts over */
	ck_assert_int_eq(health_failure(&h, &conf), 0);
	ck_assert_int_eq(health_failure(&h, &conf), 0);
	ck_assert_int_eq(health_failure(&h, &conf), 1);
	ck_assert_uint_eq(health_eject(&h, &conf, 10000), 1000);
	ck_assert(h.ejected);
	ck_assert_uint_eq(h.ejections_total, 1);
	/* While out it is not ejected again. */
	ck_assert_int_eq(health_failure(&h, &conf), 0);
	ck_assert_int_eq(health_cooled(&h, 10999), 0);
	ck_assert_int_eq(health_cooled(&h, 11000), 1);
	ck_assert(!h.ejected);
	ck_assert(h.trial);
}
END_TEST

START_TEST(zero_failures_never_ejects)
{
	struct health		h;
	struct health_conf	off = { 0, 1000, 2000 };
	int			i;

	memset(&h, 0, sizeof(h));
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(health_failure(&h, &off), 0);
}
END_TEST

START_TEST(cool_down_grows_on_trial_failures_up_to_the_cap)
{
	struct health	h;
	uint64_t	now = 1000;

	memset(&h, 0, sizeof(h));
	h.consecutive = 2;
	ck_assert_int_eq(health_failure(&h, &conf), 1);
	ck_assert_uint_eq(health_eject(&h, &conf, now), 1000);
	now += 1000;
	ck_assert_int_eq(health_cooled(&h, now), 1);
	/* On trial: one fault is enough, and it is out twice as long. */
	ck_assert_int_eq(health_failure(&h, &conf), 1);
	ck_assert_uint_eq(health_eject(&h, &conf, now), 2000);
	now += 2000;
	ck_assert_int_eq(health_cooled(&h, now), 1);
	ck_assert_int_eq(health_failure(&h, &conf), 1);
	ck_assert_uint_eq(health_eject(&h, &conf, now), 2500);	/* capped */
	now += 2500;
	ck_assert_int_eq(health_cooled(&h, now), 1);
	/* Proven on trial, and good for longer than its last cool-down. */
	health_success(&h, 50);
	ck_assert(!h.trial);
	now += 3000;
	h.consecutive = 2;
	ck_assert_int_eq(health_failure(&h, &conf), 1);
	ck_assert_uint_eq(health_eject(&h, &conf, now), 1000);
}
END_TEST

START_TEST(latency_ewma_follows_samples)
{
	struct health	h;
	int		i;

	memset(&h, 0, sizeof(h));
	health_latency(&h, 0);
	ck_assert_uint_eq(h.ewma_us, 1);	/* never 0 once measured */
	memset(&h, 0, sizeof(h));
	health_success(&h, 1000);
	ck_assert_uint_eq(h.ewma_us, 1000);
	health_success(&h, 5000);
	ck_assert_uint_eq(h.ewma_us, 2000);
	for (i = 0; i < 40; i++)
		health_success(&h, 20000);
	ck_assert_uint_gt(h.ewma_us, 19000);
	ck_assert_uint_le(h.ewma_us, 20000);
	ck_assert_uint_eq(h.connects_ok, 42);
}
END_TEST

START_TEST(the_ejected_share_is_capped)
{
	/* Half of three: one out at most. */
	ck_assert_int_eq(health_may_eject(0, 3, 50), 1);
	ck_assert_int_eq(health_may_eject(1, 3, 50), 0);
	/* Never the last worker in, whatever the percentage. */
	ck_assert_int_eq(health_may_eject(0, 1, 100), 0);
	ck_assert_int_eq(health_may_eject(1, 2, 100), 0);
	ck_assert_int_eq(health_may_eject(0, 2, 50), 1);
	ck_assert_int_eq(health_may_eject(2, 4, 50), 0);
	ck_assert_int_eq(health_may_eject(2, 4, 75), 1);
	ck_assert_int_eq(health_may_eject(0, 10, 0), 0);
	ck_assert_int_eq(health_may_eject(0, 0, 50), 0);
}
END_TEST

/* The suite. */
static Suite *
health_suite(void)
{
	Suite	*s = suite_create("health");
	TCase	*tc;

	tc = tcase_create("rules");
	tcase_add_test(tc, only_worker_faults_count);
	tcase_add_test(tc, a_destination_down_everywhere_is_not_the_workers_fault);
	tcase_add_test(tc, ejected_after_the_threshold_in_a_row);
	tcase_add_test(tc, zero_failures_never_ejects);
	tcase_add_test(tc, cool_down_grows_on_trial_failures_up_to_the_cap);
	tcase_add_test(tc, latency_ewma_follows_samples);
	tcase_add_test(tc, the_ejected_share_is_capped);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(health_suite()));
}
