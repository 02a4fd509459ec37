/*
 * Unit tests for the sticky-session table and its rendezvous scores
 * (src/sticky.c): the score depends on the names only and picks a
 * spread of workers; a pin lasts its lifetime from the first connection,
 * a move keeps it; expired sessions are swept; the table is bounded.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ev.h"
#include "sha256.h"
#include "sticky.h"

#include "checklib.h"

#define GUARD_MS	5000

static void
setup(void)
{
	ev_init();
	checklib_loop_init(GUARD_MS);
}

static void
teardown(void)
{
	sticky_clear();
	ev_free();
}

START_TEST(test_score_is_the_names_hash)
{
	uint8_t		d[SHA256_DIGEST_LENGTH];
	uint64_t	want = 0;
	int		i;

	/* Account, NUL, session, NUL, worker: the same on every server. */
	sha256("alice\0x\0box7", 12, d);
	for (i = 0; i < 8; i++)
		want = (want << 8) | d[i];
	ck_assert_uint_eq(sticky_score("alice", "x", "box7"), want);
	ck_assert_uint_ne(sticky_score("alice", "x", "box7"),
	    sticky_score("alic", "ex", "box7"));
}
END_TEST

START_TEST(test_rendezvous_spreads_and_adds)
{
	const char	*w[] = { "wa", "wb", "wc", "wd" };
	char		 id[16];
	int		 count[4] = { 0 }, i, j, best, moved = 0;
	int		 best3;

	for (i = 0; i < 400; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		best = best3 = 0;
		for (j = 1; j < 4; j++) {
			if (sticky_score("u", id, w[j]) >
			    sticky_score("u", id, w[best]))
				best = j;
			if (j < 3 && sticky_score("u", id, w[j]) >
			    sticky_score("u", id, w[best3]))
				best3 = j;
		}
		count[best]++;
		/* A fourth worker takes sessions only for itself. */
		if (best != best3 && best != 3)
			moved++;
	}
	for (j = 0; j < 4; j++)
		ck_assert_int_gt(count[j], 50);
	ck_assert_int_eq(moved, 0);
}
END_TEST

START_TEST(test_pin_lives_its_lifetime)
{
	sticky_pin("alice", "x", "box7", 200);
	ck_assert_str_eq(sticky_lookup("alice", "x"), "box7");
	ck_assert_ptr_null(sticky_lookup("alice", "y"));
	ck_assert_ptr_null(sticky_lookup("bob", "x"));
	ck_assert_uint_eq(sticky_count(), 1);
	checklib_run_for(100);
	/* Moving keeps the lifetime of the first connection. */
	sticky_pin("alice", "x", "box8", 100000);
	ck_assert_str_eq(sticky_lookup("alice", "x"), "box8");
	checklib_run_for(150);
	ck_assert_ptr_null(sticky_lookup("alice", "x"));
	ck_assert_uint_eq(sticky_count(), 0);
}
END_TEST

START_TEST(test_table_is_bounded)
{
	char	id[16];
	int	i;

	for (i = 0; i <= STICKY_MAX; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		sticky_pin("u", id, "w", 60000);
	}
	ck_assert_uint_eq(sticky_count(), STICKY_MAX);
	/* The oldest made way. */
	ck_assert_ptr_null(sticky_lookup("u", "s0"));
	ck_assert_str_eq(sticky_lookup("u", "s1"), "w");
	snprintf(id, sizeof(id), "s%d", STICKY_MAX);
	ck_assert_str_eq(sticky_lookup("u", id), "w");
}
END_TEST

static Suite *
sticky_suite(void)
{
	Suite	*s = suite_create("sticky");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_score_is_the_names_hash);
	tcase_add_test(tc, test_rendezvous_spreads_and_adds);
	tcase_add_test(tc, test_pin_lives_its_lifetime);
	tcase_add_test(tc, test_table_is_bounded);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(sticky_suite()));
}
