/*
 * Fixtures shared by the check unit suites (tests/check_*.c).  A suite
 * that runs the reactor calls checklib_loop_init after each ev_init and
 * then runs the loop only through checklib_run_bounded (or _guarded),
 * checklib_run_for or checklib_run_until: each arms a guard timer that
 * breaks a run lasting longer than the suite's guard time and fails the
 * test, and each leaves its timers stopped when it returns, so that a
 * teardown can free the reactor without stopping them.  Every suite's
 * main() ends in checklib_run.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ev.h"
#include "checklib.h"

static struct ev_timer	 checklib_guard, checklib_poll;
static uint64_t		 checklib_guard_ms;	/* 0 until loop_init */
static int		 checklib_guard_fired;
static int		(*checklib_poll_pred)(void);

/* The loop ran too long: stop it and let the caller fail. */
static void
checklib_guard_cb(void *arg)
{
	checklib_guard_fired = 1;
	ev_break();
}

/* Leave the loop once the awaited condition holds. */
static void
checklib_poll_cb(void *arg)
{
	if (checklib_poll_pred())
		ev_break();
	else
		ev_timer_start(&checklib_poll, 1);
}

/* Bound every later run at guard_ms; call after each ev_init. */
void
checklib_loop_init(uint64_t guard_ms)
{
	checklib_guard_ms = guard_ms;
	checklib_guard_fired = 0;
	ev_timer_init(&checklib_guard, checklib_guard_cb, NULL);
	ev_timer_init(&checklib_poll, checklib_poll_cb, NULL);
}

/* Leave ev_run: the callback of a timer that ends a run. */
void
checklib_break_cb(void *arg)
{
	ev_break();
}

/*
 * Run the loop until a callback breaks it, with the guard armed, and
 * return what ev_run returned.  Asserts nothing, so that the caller can
 * stop its own timers first: an assertion that fails in a test run
 * without fork (CK_FORK=no) must not leave a timer on its stack armed.
 */
static int
checklib_run_loop(void)
{
	int	rc;

	ck_assert_msg(checklib_guard_ms > 0, "checklib_loop_init not called");
	checklib_guard_fired = 0;
	ev_timer_start(&checklib_guard, checklib_guard_ms);
	rc = ev_run();
	ev_timer_stop(&checklib_guard);
	return (rc);
}

/*
 * Run the loop until a callback breaks it; return 0, or -1 if the guard
 * time passed first, for a suite that fails with its own message.
 */
int
checklib_run_guarded(void)
{
	ck_assert_int_eq(checklib_run_loop(), 0);
	return (checklib_guard_fired ? -1 : 0);
}

/* Run the loop until a callback breaks it; fail after the guard time. */
void
checklib_run_bounded(void)
{
	ck_assert_msg(checklib_run_guarded() == 0,
	    "loop still running after %llu ms",
	    (unsigned long long)checklib_guard_ms);
}

/* Run the loop for about ms milliseconds, less if a callback breaks it. */
void
checklib_run_for(uint64_t ms)
{
	struct ev_timer	stop;
	int		rc;

	ev_timer_init(&stop, checklib_break_cb, NULL);
	ev_timer_start(&stop, ms);
	rc = checklib_run_loop();
	ev_timer_stop(&stop);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(!checklib_guard_fired, "loop still running after %llu ms",
	    (unsigned long long)checklib_guard_ms);
}

/*
 * Run the loop until pred() holds, polling it every millisecond; fail
 * after the guard time, naming what was awaited.  Called through the
 * checklib_run_until macro, which passes the predicate's text.
 */
void
checklib_run_until_(int (*pred)(void), const char *what)
{
	int	rc;

	if (pred())
		return;
	checklib_poll_pred = pred;
	ev_timer_start(&checklib_poll, 1);
	rc = checklib_run_loop();
	ev_timer_stop(&checklib_poll);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(!checklib_guard_fired, "timed out waiting for %s", what);
}

/* A non-blocking AF_UNIX stream socketpair, or the test fails. */
void
checklib_socketpair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_ne(fcntl(sv[0], F_SETFL, O_NONBLOCK), -1);
	ck_assert_int_ne(fcntl(sv[1], F_SETFL, O_NONBLOCK), -1);
}

/* Run every test of s and free it; return 0 when all passed, else 1. */
static int
checklib_run_suite(Suite *s)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

/*
 * Run every test of s and free it; return the exit status that the
 * automake test driver reads: 0 when all passed, 1 otherwise, 99 for an
 * unknown ESOCKSD_TEST_POLLER.  That variable (make check
 * ESOCKSD_TEST_POLLER=epoll) chooses the reactor's backend, as it does
 * for the daemons of the shell tests (tests/lib.sh).
 */
int
checklib_run(Suite *s)
{
	const char	*poller = getenv("ESOCKSD_TEST_POLLER");

	if (poller != NULL && *poller != '\0' && ev_poller_set(poller) == -1) {
		fprintf(stderr, "ESOCKSD_TEST_POLLER=%s: no such backend in "
		    "this build\n", poller);
		srunner_free(srunner_create(s));	/* frees s */
		return (99);
	}
	return (checklib_run_suite(s));
}

/*
 * Run the suite that make() builds once for every backend of the
 * reactor that this build has, whatever ESOCKSD_TEST_POLLER says; the
 * status is checklib_run's.
 */
int
checklib_run_each_poller(Suite *(*make)(void))
{
	const char	*name;
	size_t		 i;
	int		 rc = EXIT_SUCCESS;

	for (i = 0; (name = ev_poller_name(i)) != NULL; i++) {
		fprintf(stderr, "poller %s:\n", name);
		if (ev_poller_set(name) == -1 ||
		    checklib_run_suite(make()) != EXIT_SUCCESS)
			rc = EXIT_FAILURE;
	}
	return (rc);
}
