/*
 * Unit tests of the job pools (src/job.c): work runs in a pool thread
 * and callbacks in the loop's thread, never inside job_run; cancelling
 * a job waiting, running or finished keeps its callback from running;
 * many jobs each answer once within the thread cap; the queue cap
 * refuses without running; jobs queued in one round beyond the idle
 * threads get threads of their own.  Every
 * ev_run is bounded by a guard timer that fails the test.
 */
#include "config.h"

#include <sys/types.h>

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "job.h"

#include "checklib.h"

#define GUARD_MS	10000
#define MANY_JOBS	2000
#define BURST_ROUNDS	16

/* One job's record of what happened to it. */
struct task {
	int		 gated;		/* work waits for the gate to open */
	int		 worked;	/* work ran (set in the pool thread) */
	int		 done;		/* callbacks seen */
	int		 freed;
	enum job_result	 result;
	pthread_t	 work_thread;
	pthread_t	 done_thread;
	void		(*then)(struct task *);	/* after done, in the loop */
};

static pthread_mutex_t	gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	gate_cond = PTHREAD_COND_INITIALIZER;
static int		gate_open;
static int		gate_waiting;	/* gated works blocked now */

static int		in_job_run;	/* a callback inside job_run fails */
static int		answered, want_answers;
/* Pools live as long as the process, as in the daemon. */
static struct job_pool	*p;

/* Set up the reactor once per process (check forks per test). */
static void
setup(void)
{
	static int	ready;

	if (!ready) {
		ev_init();
		checklib_loop_init(GUARD_MS);
		ready = 1;
	}
	gate_open = 0;
	gate_waiting = 0;
	answered = 0;
	want_answers = 0;
}

/* Run the loop until want_answers callbacks ran; fail after GUARD_MS. */
static void
run_bounded(int want)
{
	want_answers = want;
	if (answered >= want_answers)
		return;
	ck_assert_msg(checklib_run_guarded() == 0,
	    "%d of %d answers after %d ms", answered, want_answers, GUARD_MS);
}

/* Let every gated work finish. */
static void
gate_release(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = 1;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

/* Make gated works wait again. */
static void
gate_close(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = 0;
	pthread_mutex_unlock(&gate_lock);
}

/* Wait until n gated works are blocked on the gate (bounded). */
static void
gate_wait_blocked(int n)
{
	int	i, now = 0;

	for (i = 0; i < 1000; i++) {
		pthread_mutex_lock(&gate_lock);
		now = gate_waiting;
		pthread_mutex_unlock(&gate_lock);
		if (now >= n)
			return;
		usleep(5000);
	}
	ck_abort_msg("%d of %d works blocked on the gate", now, n);
}

/* The work: note the thread, and wait for the gate if asked. */
static void
task_work(void *arg)
{
	struct task	*t = arg;

	t->work_thread = pthread_self();
	if (t->gated) {
		pthread_mutex_lock(&gate_lock);
		gate_waiting++;
		while (!gate_open)
			pthread_cond_wait(&gate_cond, &gate_lock);
		gate_waiting--;
		pthread_mutex_unlock(&gate_lock);
	}
	t->worked = 1;
}

/* The callback: note the thread and result, count, maybe stop. */
static void
task_done(void *arg, enum job_result result)
{
	struct task	*t = arg;

	ck_assert_msg(!in_job_run, "callback inside job_run");
	t->done++;
	t->result = result;
	t->done_thread = pthread_self();
	if (t->then != NULL)
		t->then(t);
	if (++answered >= want_answers)
		ev_break();
}

/* The free callback: count. */
static void
task_free(void *arg)
{
	struct task	*t = arg;

	t->freed++;
}

/* job_run with the task callbacks, checking none runs inside it. */
static struct job *
task_run(struct job_pool *pool, struct task *t)
{
	struct job	*j;

	in_job_run = 1;
	j = job_run(pool, task_work, task_done, task_free, t);
	in_job_run = 0;
	ck_assert_ptr_nonnull(j);
	return (j);
}

START_TEST(results_come_back_in_the_loop_thread)
{
	struct task	 t[8];
	pthread_t	 self = pthread_self();
	size_t		 i;

	setup();
	p = job_pool_new("test", 4, 16);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 8; i++)
		task_run(p, &t[i]);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(t[i].done, 0);
	run_bounded(8);
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(t[i].worked, 1);
		ck_assert_int_eq(t[i].done, 1);
		ck_assert_int_eq(t[i].freed, 1);
		ck_assert_int_eq(t[i].result, JOB_DONE);
		ck_assert(!pthread_equal(t[i].work_thread, self));
		ck_assert(pthread_equal(t[i].done_thread, self));
	}
}
END_TEST

START_TEST(no_work_is_only_deferred)
{
	struct task	 t;

	setup();
	p = job_pool_new("test", 1, 1);
	memset(&t, 0, sizeof(t));
	in_job_run = 1;
	job_run(p, NULL, task_done, task_free, &t);
	in_job_run = 0;
	ck_assert_int_eq(t.done, 0);
	run_bounded(1);
	ck_assert_int_eq(t.done, 1);
	ck_assert_int_eq(t.freed, 1);
	ck_assert_int_eq(t.result, JOB_DONE);
	ck_assert_int_eq(t.worked, 0);
	ck_assert_uint_eq(job_pool_threads(p), 0);
}
END_TEST

/* After the marker's callback, nothing else may still come. */
static struct task	*cancel_marker_seen;

/* Note that the marker answered. */
static void
cancel_marker_then(struct task *t)
{
	cancel_marker_seen = t;
}

START_TEST(cancel_prevents_the_callback)
{
	struct task	 running, queued, finished, marker;
	struct job	*jr, *jq, *jf;

	setup();
	/* One thread: running holds it, queued waits behind. */
	p = job_pool_new("test", 1, 16);
	memset(&running, 0, sizeof(running));
	memset(&queued, 0, sizeof(queued));
	memset(&finished, 0, sizeof(finished));
	memset(&marker, 0, sizeof(marker));
	running.gated = 1;
	jr = task_run(p, &running);
	gate_wait_blocked(1);
	jq = task_run(p, &queued);

	/* A waiting job is dropped and freed at once, never run. */
	job_cancel(jq);
	ck_assert_int_eq(queued.freed, 1);

	/* A running job finishes its work, but answers nobody. */
	job_cancel(jr);
	ck_assert_int_eq(running.freed, 0);
	gate_release();

	/* A finished job not yet called back: cancelled before the loop. */
	jf = task_run(p, &finished);
	while (!finished.worked)
		usleep(1000);
	usleep(20000);
	job_cancel(jf);

	/* The marker, last in line, tells when the others were handled. */
	marker.then = cancel_marker_then;
	task_run(p, &marker);
	run_bounded(1);
	ck_assert_ptr_eq(cancel_marker_seen, &marker);
	ck_assert_int_eq(running.worked, 1);
	ck_assert_int_eq(running.done, 0);
	ck_assert_int_eq(running.freed, 1);
	ck_assert_int_eq(queued.worked, 0);
	ck_assert_int_eq(queued.done, 0);
	ck_assert_int_eq(queued.freed, 1);
	ck_assert_int_eq(finished.done, 0);
	ck_assert_int_eq(finished.freed, 1);
}
END_TEST

/* The job the cancelling callback cancels. */
static struct job	*cancel_victim;

/* Cancel another job whose answer came in the same round. */
static void
cancel_victim_then(struct task *t)
{
	if (cancel_victim != NULL)
		job_cancel(cancel_victim);
	cancel_victim = NULL;
}

START_TEST(cancel_from_a_callback_of_the_same_round)
{
	struct task	 first, second, marker;

	setup();
	p = job_pool_new("test", 1, 16);
	memset(&first, 0, sizeof(first));
	memset(&second, 0, sizeof(second));
	memset(&marker, 0, sizeof(marker));
	/* No work: both answers are ready in the same loop round. */
	first.then = cancel_victim_then;
	job_run(p, NULL, task_done, task_free, &first);
	cancel_victim = job_run(p, NULL, task_done, task_free, &second);
	job_run(p, NULL, task_done, task_free, &marker);
	run_bounded(2);
	ck_assert_int_eq(first.done, 1);
	ck_assert_int_eq(second.done, 0);
	ck_assert_int_eq(second.freed, 1);
	ck_assert_int_eq(marker.done, 1);
}
END_TEST

START_TEST(many_jobs_answer_once_within_the_thread_cap)
{
	struct task	*t;
	size_t		 i;

	setup();
	p = job_pool_new("test", 4, MANY_JOBS);
	t = calloc(MANY_JOBS, sizeof(*t));
	ck_assert_ptr_nonnull(t);
	for (i = 0; i < MANY_JOBS; i++)
		task_run(p, &t[i]);
	run_bounded(MANY_JOBS);
	for (i = 0; i < MANY_JOBS; i++) {
		if (t[i].done != 1 || t[i].freed != 1 || !t[i].worked ||
		    t[i].result != JOB_DONE)
			ck_abort_msg("job %zu: done %d freed %d worked %d", i,
			    t[i].done, t[i].freed, t[i].worked);
	}
	ck_assert_uint_le(job_pool_threads(p), 4);
	ck_assert_uint_ge(job_pool_threads(p), 1);
	free(t);
}
END_TEST

START_TEST(queue_cap_refuses_without_running)
{
	struct task	 busy, waiting[2], extra;

	setup();
	/* One thread, two places in the queue. */
	p = job_pool_new("test", 1, 2);
	memset(&busy, 0, sizeof(busy));
	memset(waiting, 0, sizeof(waiting));
	memset(&extra, 0, sizeof(extra));
	busy.gated = 1;
	task_run(p, &busy);
	gate_wait_blocked(1);
	task_run(p, &waiting[0]);
	task_run(p, &waiting[1]);
	task_run(p, &extra);
	ck_assert_int_eq(extra.done, 0);
	/* The refusal comes first, from the loop, while the rest wait. */
	run_bounded(1);
	ck_assert_int_eq(extra.done, 1);
	ck_assert_int_eq(extra.result, JOB_REFUSED);
	ck_assert_int_eq(extra.worked, 0);
	ck_assert_int_eq(extra.freed, 1);
	ck_assert_int_eq(waiting[0].done + waiting[1].done + busy.done, 0);
	gate_release();
	run_bounded(4);
	ck_assert_int_eq(busy.result, JOB_DONE);
	ck_assert_int_eq(waiting[0].result, JOB_DONE);
	ck_assert_int_eq(waiting[1].result, JOB_DONE);
	ck_assert_uint_eq(job_pool_threads(p), 1);
}
END_TEST

START_TEST(jobs_beyond_the_idle_threads_get_new_threads)
{
	struct task	 t[BURST_ROUNDS + 2];
	size_t		 round, i, n;

	setup();
	p = job_pool_new("test", BURST_ROUNDS + 2, 64);

	/* One thread, idle now. */
	memset(t, 0, sizeof(t));
	task_run(p, &t[0]);
	run_bounded(1);
	ck_assert_uint_eq(job_pool_threads(p), 1);

	/*
	 * Each round every thread is idle and one job more than threads
	 * is queued in one go, all held at the gate: the last needs a
	 * thread of its own, or it waits behind the others, however
	 * slow.  A woken thread counts as idle until it takes its job, so
	 * starting threads only when none was idle often started none.
	 */
	for (round = 0; round < BURST_ROUNDS; round++) {
		n = job_pool_threads(p) + 1;
		ck_assert_uint_eq(n, round + 2);
		memset(t, 0, sizeof(t));
		gate_close();
		answered = 0;
		for (i = 0; i < n; i++) {
			t[i].gated = 1;
			task_run(p, &t[i]);
		}
		ck_assert_uint_eq(job_pool_threads(p), n);
		gate_wait_blocked(n);
		gate_release();
		run_bounded(n);
		for (i = 0; i < n; i++)
			ck_assert_int_eq(t[i].done, 1);
	}
}
END_TEST

/* The suite: delivery, cancelling, load and the queue cap. */
static Suite *
job_suite(void)
{
	Suite	*s = suite_create("job");
	TCase	*tc;

	tc = tcase_create("delivery");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, results_come_back_in_the_loop_thread);
	tcase_add_test(tc, no_work_is_only_deferred);
	tcase_add_test(tc, many_jobs_answer_once_within_the_thread_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("cancel");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, cancel_prevents_the_callback);
	tcase_add_test(tc, cancel_from_a_callback_of_the_same_round);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads and queue");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, queue_cap_refuses_without_running);
	tcase_add_test(tc, jobs_beyond_the_idle_threads_get_new_threads);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(job_suite()));
}
