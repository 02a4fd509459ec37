/*
 * Unit tests of the reactor (src/ev.c and its backends), run once for
 * every backend this build has (select, poll, epoll, kqueue): timers by
 * deadline, stopped and re-armed timers, a timer that re-arms itself at
 * 0 ms, read and write readiness, watchers removed or replaced by an
 * earlier callback of the same round, descriptors without interest that
 * must not wake the loop, a number reused without ev_io_del, signals
 * through the self-pipe, ev_break, and descriptors past FD_SETSIZE.
 * Every ev_run is bounded by a guard timer that fails the test.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"

#include "checklib.h"

#define GUARD_MS	5000
#define MAX_FIRED	256
#define HEAP_TIMERS	256
#define MANY_PIPES	1150	/* 2300 descriptors, well past FD_SETSIZE */

/* What the callbacks saw, in order. */
static int		fired[MAX_FIRED];
static int		nfired;

/* Note that callback number what ran. */
static void
record(int what)
{
	ck_assert_int_lt(nfired, MAX_FIRED);
	fired[nfired++] = what;
}

/* Sleep without the loop, so timers fall due together. */
static void
sleep_ms(long ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A fresh reactor per test. */
static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	ev_init();
	checklib_loop_init(GUARD_MS);
	nfired = 0;
}

/* Release the reactor (leak checkers watch this). */
static void
teardown(void)
{
	ev_free();
}

/* Timers that record their number; the one numbered last_id breaks. */
struct numbered {
	struct ev_timer	 t;
	int		 id;
	int		 last_id;
};

/* Record the timer's number; the last one leaves the loop. */
static void
numbered_cb(void *arg)
{
	struct numbered	*n = arg;

	ck_assert_msg(!ev_timer_pending(&n->t),
	    "timer %d still pending in its own callback", n->id);
	record(n->id);
	if (n->id == n->last_id)
		ev_break();
}

START_TEST(timers_fire_in_deadline_order)
{
	/* Deadlines in ms, inserted out of order. */
	static const int	 when[] = { 40, 10, 70, 30, 5, 60, 20, 50 };
	struct numbered		 n[8];
	size_t			 i;

	for (i = 0; i < 8; i++) {
		n[i].id = when[i];
		n[i].last_id = 70;
		ev_timer_init(&n[i].t, numbered_cb, &n[i]);
		ev_timer_start(&n[i].t, when[i]);
	}
	checklib_run_bounded();
	ck_assert_int_eq(nfired, 8);
	for (i = 1; i < 8; i++)
		ck_assert_int_lt(fired[i - 1], fired[i]);
}
END_TEST

START_TEST(timers_due_in_one_round_fire_in_deadline_order)
{
	static const int	 when[] = { 9, 3, 7, 1, 5 };
	struct numbered		 n[5];
	size_t			 i;

	for (i = 0; i < 5; i++) {
		n[i].id = when[i];
		n[i].last_id = 9;
		ev_timer_init(&n[i].t, numbered_cb, &n[i]);
		ev_timer_start(&n[i].t, when[i]);
	}
	/* All are overdue when the loop first looks. */
	sleep_ms(30);
	checklib_run_bounded();
	ck_assert_int_eq(nfired, 5);
	for (i = 1; i < 5; i++)
		ck_assert_int_lt(fired[i - 1], fired[i]);
}
END_TEST

START_TEST(timers_stopped_in_any_order_keep_the_rest_ordered)
{
	static struct numbered	 n[HEAP_TIMERS];
	static int		 when[HEAP_TIMERS], stopped[HEAP_TIMERS];
	uint32_t		 x = 1;
	int			 i, j, tmp, left, last = 0;

	/*
	 * Distinct deadlines in a scrambled order, half of them stopped
	 * from anywhere in the heap.  With this seed some stop moves a
	 * small deadline under a larger parent: a heap that only sifts
	 * down after a removal then fires out of order.
	 */
	for (i = 0; i < HEAP_TIMERS; i++)
		when[i] = i + 1;
	for (i = HEAP_TIMERS - 1; i > 0; i--) {
		x = x * 1103515245 + 12345;
		j = (x >> 16) % (i + 1);
		tmp = when[i];
		when[i] = when[j];
		when[j] = tmp;
	}
	for (i = 0; i < HEAP_TIMERS; i++) {
		n[i].id = when[i];
		ev_timer_init(&n[i].t, numbered_cb, &n[i]);
		ev_timer_start(&n[i].t, when[i]);
		stopped[i] = 0;
	}
	for (left = HEAP_TIMERS; left > HEAP_TIMERS / 2; ) {
		x = x * 1103515245 + 12345;
		i = (x >> 16) % HEAP_TIMERS;
		if (stopped[i])
			continue;
		ev_timer_stop(&n[i].t);
		stopped[i] = 1;
		left--;
	}
	for (i = 0; i < HEAP_TIMERS; i++)
		if (!stopped[i] && when[i] > last)
			last = when[i];
	for (i = 0; i < HEAP_TIMERS; i++)
		n[i].last_id = last;
	sleep_ms(HEAP_TIMERS + 50);	/* all due: only the heap orders them */
	checklib_run_bounded();
	ck_assert_int_eq(nfired, HEAP_TIMERS / 2);
	for (i = 1; i < nfired; i++)
		ck_assert_msg(fired[i - 1] < fired[i], "fired %d before %d",
		    fired[i - 1], fired[i]);
	for (i = 0; i < nfired; i++)
		for (j = 0; j < HEAP_TIMERS; j++)
			if (when[j] == fired[i])
				ck_assert_int_eq(stopped[j], 0);
}
END_TEST

START_TEST(timer_pending_follows_start_stop_and_firing)
{
	struct numbered	n;

	n.id = n.last_id = 1;
	ev_timer_init(&n.t, numbered_cb, &n);
	ck_assert_int_eq(ev_timer_pending(&n.t), 0);
	ev_timer_start(&n.t, 10);
	ck_assert_int_ne(ev_timer_pending(&n.t), 0);
	ev_timer_stop(&n.t);
	ck_assert_int_eq(ev_timer_pending(&n.t), 0);
	/* Stopping twice is harmless. */
	ev_timer_stop(&n.t);
	ck_assert_int_eq(ev_timer_pending(&n.t), 0);
	ev_timer_start(&n.t, 5);
	checklib_run_bounded();
	ck_assert_int_eq(nfired, 1);
	ck_assert_int_eq(ev_timer_pending(&n.t), 0);
}
END_TEST

START_TEST(stopped_timer_does_not_fire)
{
	struct numbered	a, b, c;

	a.id = 1;
	b.id = 2;
	c.id = 3;
	a.last_id = b.last_id = c.last_id = 3;
	ev_timer_init(&a.t, numbered_cb, &a);
	ev_timer_init(&b.t, numbered_cb, &b);
	ev_timer_init(&c.t, numbered_cb, &c);
	ev_timer_start(&a.t, 5);
	ev_timer_start(&b.t, 10);
	ev_timer_start(&c.t, 40);
	ev_timer_stop(&a.t);
	checklib_run_bounded();
	ck_assert_int_eq(nfired, 2);
	ck_assert_int_eq(fired[0], 2);
	ck_assert_int_eq(fired[1], 3);
}
END_TEST

/* Two timers due in one round: the first stops the second. */
struct stopper {
	struct ev_timer	 t;
	struct ev_timer	*victim;
};

/* Fire first and stop the victim, due in the same round. */
static void
stopper_cb(void *arg)
{
	struct stopper	*s = arg;

	record(1);
	ev_timer_stop(s->victim);
}

/* Must not run once stopped. */
static void
victim_cb(void *arg)
{
	record(2);
}

START_TEST(timer_stopped_by_earlier_timer_in_same_round)
{
	struct stopper	s;
	struct ev_timer	victim, last, filler[5];
	int		i;

	ev_timer_init(&s.t, stopper_cb, &s);
	ev_timer_init(&victim, victim_cb, NULL);
	ev_timer_init(&last, checklib_break_cb, NULL);
	s.victim = &victim;
	/* Later timers around them, so the victim sits inside the heap. */
	for (i = 0; i < 5; i++) {
		ev_timer_init(&filler[i], victim_cb, NULL);
		ev_timer_start(&filler[i], 1000 + i);
	}
	ev_timer_start(&last, 4);
	ev_timer_start(&victim, 3);
	ev_timer_start(&s.t, 2);
	sleep_ms(20);		/* all three due in the first round */
	checklib_run_bounded();
	ck_assert_int_eq(nfired, 1);
	ck_assert_int_eq(fired[0], 1);
	ck_assert_int_eq(ev_timer_pending(&victim), 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_ne(ev_timer_pending(&filler[i]), 0);
		ev_timer_stop(&filler[i]);
	}
}
END_TEST

/* A timer that checks another one has not fired yet. */
struct probe {
	struct ev_timer	 t;
	int		*flag;
	int		 seen;
};

/* Look at the moved timer's state at this moment. */
static void
probe_cb(void *arg)
{
	struct probe	*p = arg;

	p->seen = *p->flag;
	record(100);
}

static int	moved_fired;
static uint64_t	moved_at;

/* The re-armed timer fired: note when. */
static void
moved_cb(void *arg)
{
	moved_fired++;
	moved_at = ev_now();
	ev_break();
}

START_TEST(rearming_moves_timer_later)
{
	struct ev_timer	t;
	struct probe	p;
	uint64_t	start;

	moved_fired = 0;
	ev_update_now();
	start = ev_now();
	ev_timer_init(&t, moved_cb, NULL);
	ev_timer_init(&p.t, probe_cb, &p);
	p.flag = &moved_fired;
	p.seen = -1;
	ev_timer_start(&t, 10);
	ev_timer_start(&t, 150);	/* re-arm: the 10 ms deadline is gone */
	ev_timer_start(&p.t, 60);
	checklib_run_bounded();
	ck_assert_int_eq(p.seen, 0);
	ck_assert_int_eq(moved_fired, 1);
	ck_assert_uint_ge(moved_at - start, 150);
}
END_TEST

START_TEST(rearming_moves_timer_earlier)
{
	struct ev_timer	t, late;
	uint64_t	start;

	moved_fired = 0;
	ev_update_now();
	start = ev_now();
	ev_timer_init(&t, moved_cb, NULL);
	ev_timer_init(&late, checklib_break_cb, NULL);
	ev_timer_start(&t, 3000);
	ev_timer_start(&late, 1000);
	ev_timer_start(&t, 10);		/* re-arm before the other one */
	checklib_run_bounded();
	ck_assert_int_eq(moved_fired, 1);
	ck_assert_uint_lt(moved_at - start, 1000);
	ev_timer_stop(&late);
}
END_TEST

static int	spins;

/* Re-arm at 0 ms, every time. */
static void
spin_cb(void *arg)
{
	struct ev_timer	*t = arg;

	spins++;
	ev_timer_start(t, 0);
}

static int	io_seen;

/* Consume one byte. */
static void
read_once_cb(int fd, int events, void *arg)
{
	char	c;

	ck_assert_int_eq(events, EV_READ);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	io_seen++;
}

START_TEST(timer_rearming_at_zero_does_not_hang)
{
	struct ev_timer	spin, stop;
	int		sv[2];

	spins = 0;
	io_seen = 0;
	checklib_socketpair(sv);
	ev_io_set(sv[0], EV_READ, read_once_cb, NULL);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	ev_timer_init(&spin, spin_cb, &spin);
	ev_timer_init(&stop, checklib_break_cb, NULL);
	ev_timer_start(&spin, 0);
	ev_timer_start(&stop, 50);
	checklib_run_bounded();
	/* Other timers and descriptors still get their turn. */
	ck_assert_int_gt(spins, 1);
	ck_assert_int_eq(io_seen, 1);
	ev_timer_stop(&spin);
	ev_io_del(sv[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(ev_break_leaves_run_after_the_round)
{
	struct numbered	a, b;

	a.id = 1;
	b.id = 2;
	a.last_id = 1;
	b.last_id = 2;
	ev_timer_init(&a.t, numbered_cb, &a);
	ev_timer_init(&b.t, numbered_cb, &b);
	/*
	 * b far enough behind a that a process kept off the CPU for a
	 * while (a busy machine) does not find both due in one round.
	 */
	ev_timer_start(&a.t, 10);
	ev_timer_start(&b.t, 500);
	checklib_run_bounded();
	ck_assert_int_eq(nfired, 1);
	ck_assert_int_eq(fired[0], 1);
	ck_assert_int_ne(ev_timer_pending(&b.t), 0);

	/* A later ev_run picks up where the first one left off. */
	checklib_run_bounded();
	ck_assert_int_eq(nfired, 2);
	ck_assert_int_eq(fired[1], 2);
}
END_TEST

/* Set by a timer: the prepare hook below then ends the loop. */
static int	prepare_stop_wanted;

/* A prepare hook that ends the loop once asked to. */
static void
prepare_stop_hook(void)
{
	if (prepare_stop_wanted)
		ev_break();
}

/* Ask prepare_stop_hook to end the loop. */
static void
prepare_stop_cb(void *arg)
{
	prepare_stop_wanted = 1;
}

START_TEST(ev_break_in_prepare_hook_returns_without_waiting)
{
	struct ev_timer	ask;
	struct numbered	late;
	uint64_t	start;

	prepare_stop_wanted = 0;
	ev_prepare_add(prepare_stop_hook);
	ev_timer_init(&ask, prepare_stop_cb, NULL);
	ev_timer_start(&ask, 20);
	late.id = 1;
	late.last_id = 1;
	ev_timer_init(&late.t, numbered_cb, &late);
	ev_timer_start(&late.t, 2000);
	start = ev_now();
	checklib_run_bounded();
	/* Out right after the hook asked, not at the next timer. */
	ck_assert_uint_lt(ev_now() - start, 1000);
	ck_assert_int_eq(nfired, 0);
	ck_assert_int_ne(ev_timer_pending(&late.t), 0);
	ev_timer_stop(&late.t);
}
END_TEST

/* Per-descriptor record of what the reactor reported. */
struct watch {
	int	fd;
	int	calls;
	int	events;		/* union of all events reported */
	int	break_after;	/* ev_break on this call count; 0 = never */
	int	drain;		/* read what is there */
};

/* Record what the reactor reported for one descriptor. */
static void
watch_cb(int fd, int events, void *arg)
{
	struct watch	*w = arg;
	char		 buf[256];

	ck_assert_int_eq(fd, w->fd);
	ck_assert_int_ne(events, 0);
	ck_assert_int_eq(events & ~(EV_READ | EV_WRITE), 0);
	w->calls++;
	w->events |= events;
	if (w->drain && (events & EV_READ))
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	if (w->break_after != 0 && w->calls == w->break_after)
		ev_break();
}

START_TEST(io_read_readiness)
{
	struct watch	w;
	int		sv[2];

	checklib_socketpair(sv);
	memset(&w, 0, sizeof(w));
	w.fd = sv[0];
	w.break_after = 1;
	w.drain = 1;
	ev_io_set(sv[0], EV_READ, watch_cb, &w);

	/* Nothing to read yet: no callback. */
	checklib_run_for(30);
	ck_assert_int_eq(w.calls, 0);

	ck_assert_int_eq(write(sv[1], "ping", 4), 4);
	checklib_run_bounded();
	ck_assert_int_eq(w.calls, 1);
	ck_assert_int_eq(w.events, EV_READ);
	ev_io_del(sv[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(io_write_readiness)
{
	struct watch	w;
	int		sv[2];

	checklib_socketpair(sv);
	memset(&w, 0, sizeof(w));
	w.fd = sv[0];
	w.break_after = 1;
	ev_io_set(sv[0], EV_WRITE, watch_cb, &w);
	checklib_run_bounded();
	ck_assert_int_eq(w.calls, 1);
	ck_assert_int_eq(w.events, EV_WRITE);
	ev_io_del(sv[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(io_enable_and_disable_change_interest)
{
	struct watch	w;
	int		sv[2];

	checklib_socketpair(sv);
	memset(&w, 0, sizeof(w));
	w.fd = sv[0];
	w.drain = 1;
	ev_io_set(sv[0], EV_READ, watch_cb, &w);
	ev_io_enable(sv[0], EV_WRITE);
	checklib_run_for(20);
	ck_assert_int_gt(w.calls, 0);
	ck_assert_int_eq(w.events, EV_WRITE);

	/* Without write interest, a writable socket makes no calls. */
	ev_io_disable(sv[0], EV_WRITE);
	w.calls = w.events = 0;
	checklib_run_for(30);
	ck_assert_int_eq(w.calls, 0);

	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	w.break_after = 1;
	checklib_run_bounded();
	ck_assert_int_eq(w.events, EV_READ);

	/* Disabling the last interest keeps the watcher but stops calls. */
	ev_io_disable(sv[0], EV_READ);
	ck_assert_int_eq(write(sv[1], "y", 1), 1);
	w.calls = w.events = 0;
	w.break_after = 0;
	checklib_run_for(30);
	ck_assert_int_eq(w.calls, 0);

	/* ev_io_enable still finds the watcher. */
	ev_io_enable(sv[0], EV_READ);
	w.break_after = 1;
	checklib_run_bounded();
	ck_assert_int_eq(w.events, EV_READ);
	ev_io_del(sv[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(io_del_forgets_descriptor)
{
	struct watch	w, w2;
	int		sv[2];

	checklib_socketpair(sv);
	memset(&w, 0, sizeof(w));
	w.fd = sv[0];
	ev_io_set(sv[0], EV_READ | EV_WRITE, watch_cb, &w);
	ev_io_del(sv[0]);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	checklib_run_for(30);
	ck_assert_int_eq(w.calls, 0);
	/* Deleting twice, or an fd never seen, is harmless. */
	ev_io_del(sv[0]);
	ev_io_del(100000);
	checklib_run_for(30);
	ck_assert_int_eq(w.calls, 0);

	/* A new watcher on the number gets its own events, nothing stale. */
	memset(&w2, 0, sizeof(w2));
	w2.fd = sv[0];
	w2.drain = 1;
	w2.break_after = 1;
	ev_io_set(sv[0], EV_READ, watch_cb, &w2);
	checklib_run_bounded();
	ck_assert_int_eq(w.calls, 0);
	ck_assert_int_eq(w2.calls, 1);
	ck_assert_int_eq(w2.events, EV_READ);
	ev_io_del(sv[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * Two descriptors ready in the same round; whichever watcher the backend
 * calls first (select() goes by number, epoll and kqueue do not) acts on
 * the other one's watcher, which must then not be called.
 */
struct pair_round {
	int		 fd[2];
	int		 calls[2];	/* of the two first watchers */
	int		 new_calls;
	int		 other;		/* fd acted on, -1 until then */
	int		 replace;	/* close other, put a new fd there */
	int		 remove_only;	/* drop other's interest, keep watcher */
	int		 spare[2];	/* a pipe nobody wrote to */
};

/* What a first watcher's argument says: its round and which it is. */
struct pair_end {
	struct pair_round	*p;
	int			 i;
};

/* The watcher put on the reused descriptor number. */
static void
new_cb(int fd, int events, void *arg)
{
	struct pair_round	*p = arg;

	p->new_calls++;
}

/* Either first watcher: the first one called changes the other's. */
static void
pair_cb(int fd, int events, void *arg)
{
	struct pair_end		*e = arg;
	struct pair_round	*p = e->p;

	p->calls[e->i]++;
	ev_io_del(fd);
	if (p->other != -1)
		return;		/* the second call: the test fails on it */
	p->other = p->fd[1 - e->i];
	if (p->remove_only) {
		ev_io_disable(p->other, EV_READ);
		return;
	}
	ev_io_del(p->other);
	if (p->replace) {
		/* The same number now names a descriptor with no data. */
		ck_assert_int_eq(dup2(p->spare[0], p->other), p->other);
		ev_io_set(p->other, EV_READ, new_cb, p);
	}
}

/* Make two readable descriptors, each watched by pair_cb. */
static void
pair_round_setup(struct pair_round *p, struct pair_end e[2], int a[2],
    int b[2])
{
	int	i;

	memset(p, 0, sizeof(*p));
	p->other = -1;
	checklib_socketpair(a);
	checklib_socketpair(b);
	ck_assert_int_eq(write(a[1], "a", 1), 1);
	ck_assert_int_eq(write(b[1], "b", 1), 1);
	p->fd[0] = a[0];
	p->fd[1] = b[0];
	for (i = 0; i < 2; i++) {
		e[i].p = p;
		e[i].i = i;
		ev_io_set(p->fd[i], EV_READ, pair_cb, &e[i]);
	}
}

START_TEST(watcher_deleted_earlier_in_round_is_not_called)
{
	struct pair_round	p;
	struct pair_end		e[2];
	int			a[2], b[2];

	pair_round_setup(&p, e, a, b);
	checklib_run_for(50);
	ck_assert_int_eq(p.calls[0] + p.calls[1], 1);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}
END_TEST

START_TEST(interest_removed_earlier_in_round_is_not_reported)
{
	struct pair_round	p;
	struct pair_end		e[2];
	int			a[2], b[2];

	pair_round_setup(&p, e, a, b);
	p.remove_only = 1;
	checklib_run_for(50);
	ck_assert_int_eq(p.calls[0] + p.calls[1], 1);
	ev_io_del(p.other);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}
END_TEST

START_TEST(watcher_replaced_earlier_in_round_sees_no_stale_event)
{
	struct pair_round	p;
	struct pair_end		e[2];
	int			a[2], b[2];

	pair_round_setup(&p, e, a, b);
	p.replace = 1;
	ck_assert_int_eq(pipe(p.spare), 0);
	checklib_run_for(50);
	ck_assert_int_eq(p.calls[0] + p.calls[1], 1);
	/* The old descriptor was readable; the new one never was. */
	ck_assert_int_eq(p.new_calls, 0);
	ev_io_del(p.other);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	close(p.spare[0]);
	close(p.spare[1]);
}
END_TEST

/* The rounds the loop ran, counted by a prepare hook. */
static int	rounds;

/* Count one round. */
static void
count_round(void)
{
	rounds++;
}

START_TEST(readable_descriptor_without_interest_does_not_wake_the_loop)
{
	struct watch	w;
	int		sv[2];

	/*
	 * A level-triggered backend that kept these in its set would wake
	 * at once, every round, and the loop would spin.
	 */
	checklib_socketpair(sv);
	memset(&w, 0, sizeof(w));
	w.fd = sv[0];
	ev_io_set(sv[0], EV_READ, watch_cb, &w);
	checklib_run_for(10);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	ev_io_disable(sv[0], EV_READ);
	ev_prepare_add(count_round);
	rounds = 0;
	checklib_run_for(50);
	ck_assert_int_lt(rounds, 10);

	/* Deleted, and the peer gone: readable and hung up. */
	ev_io_enable(sv[0], EV_READ);
	ev_io_del(sv[0]);
	close(sv[1]);
	rounds = 0;
	checklib_run_for(50);
	ck_assert_int_lt(rounds, 10);
	ck_assert_int_eq(w.calls, 0);
	close(sv[0]);
}
END_TEST

START_TEST(watcher_set_on_a_number_reused_without_del_is_called)
{
	struct watch	w, w2;
	int		a[2], b[2], fd;

	/*
	 * A caller that closes a watched descriptor without ev_io_del
	 * breaks ev.h's rule; epoll and kqueue then drop it with the close.
	 * A watcher set on the reused number must still work.
	 */
	checklib_socketpair(a);
	checklib_socketpair(b);
	memset(&w, 0, sizeof(w));
	fd = w.fd = a[0];
	ev_io_set(fd, EV_READ, watch_cb, &w);
	checklib_run_for(10);
	close(fd);
	ck_assert_int_eq(dup2(b[0], fd), fd);
	close(b[0]);
	memset(&w2, 0, sizeof(w2));
	w2.fd = fd;
	w2.drain = 1;
	w2.break_after = 1;
	ev_io_set(fd, EV_READ, watch_cb, &w2);
	ck_assert_int_eq(write(b[1], "x", 1), 1);
	checklib_run_bounded();
	ck_assert_int_eq(w2.calls, 1);
	ck_assert_int_eq(w.calls, 0);
	ev_io_del(fd);
	close(fd);
	close(a[1]);
	close(b[1]);
}
END_TEST

static int	sig_seen, sig_count;

/* The signal arrived through the loop. */
static void
signal_cb(int signo, void *arg)
{
	ck_assert_ptr_eq(arg, &sig_seen);
	sig_seen = signo;
	sig_count++;
	ev_break();
}

/* Raise the signal from inside the loop. */
static void
raise_cb(void *arg)
{
	ck_assert_int_eq(raise(SIGUSR2), 0);
}

START_TEST(signal_is_delivered_from_the_loop)
{
	struct ev_timer	t;

	sig_seen = sig_count = 0;
	ev_signal_set(SIGUSR2, signal_cb, &sig_seen);
	ev_timer_init(&t, raise_cb, NULL);
	ev_timer_start(&t, 5);
	checklib_run_bounded();
	ck_assert_int_eq(sig_seen, SIGUSR2);
	ck_assert_int_eq(sig_count, 1);

	/* Raised outside the loop: delivered on its next round. */
	ck_assert_int_eq(raise(SIGUSR2), 0);
	ck_assert_int_eq(sig_count, 1);
	checklib_run_bounded();
	ck_assert_int_eq(sig_count, 2);
	ev_signal_set(SIGUSR2, NULL, NULL);
}
END_TEST

START_TEST(descriptors_past_fd_setsize)
{
	struct rlimit	 rl;
	struct watch	 w[8], low;
	int		(*pipes)[2];
	int		 i, n, ready;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * MANY_PIPES + 64) {
		/* Only root may raise the hard limit; try. */
		rl.rlim_max = 2 * MANY_PIPES + 64;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * MANY_PIPES + 64) {
		fprintf(stderr, "descriptors_past_fd_setsize: skipped, "
		    "RLIMIT_NOFILE hard limit %llu is below %d\n",
		    (unsigned long long)rl.rlim_max, 2 * MANY_PIPES + 64);
		return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * MANY_PIPES + 64) {
		rl.rlim_cur = 2 * MANY_PIPES + 64;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}

	pipes = calloc(MANY_PIPES, sizeof(*pipes));
	ck_assert_ptr_nonnull(pipes);
	for (n = 0; n < MANY_PIPES; n++) {
		ck_assert_msg(pipe(pipes[n]) == 0, "pipe %d: %s", n,
		    strerror(errno));
		fcntl(pipes[n][0], F_SETFL, O_NONBLOCK);
	}
	ck_assert_int_gt(pipes[MANY_PIPES - 1][0], FD_SETSIZE);

	/* Watch the read ends of the highest pipes and one low one. */
	memset(w, 0, sizeof(w));
	for (i = 0; i < 8; i++) {
		w[i].fd = pipes[MANY_PIPES - 1 - i][0];
		w[i].break_after = 1;
		w[i].drain = 1;
		ev_io_set(w[i].fd, EV_READ, watch_cb, &w[i]);
	}
	memset(&low, 0, sizeof(low));
	low.fd = pipes[0][0];
	ev_io_set(low.fd, EV_READ, watch_cb, &low);

	/* Nothing is readable: nothing is called. */
	checklib_run_for(20);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(w[i].calls, 0);

	ready = 3;
	ck_assert_int_gt(w[ready].fd, FD_SETSIZE);
	ck_assert_int_eq(write(pipes[MANY_PIPES - 1 - ready][1], "z", 1), 1);
	checklib_run_bounded();
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(w[i].calls, i == ready ? 1 : 0);
	ck_assert_int_eq(w[ready].events, EV_READ);
	ck_assert_int_eq(low.calls, 0);

	/* The highest descriptor too, and a write watcher up there. */
	ck_assert_int_eq(write(pipes[MANY_PIPES - 1][1], "z", 1), 1);
	w[0].break_after = 1;
	checklib_run_bounded();
	ck_assert_int_eq(w[0].calls, 1);
	ev_io_del(w[7].fd);
	memset(&w[7], 0, sizeof(w[7]));
	w[7].fd = pipes[MANY_PIPES - 1][1];
	w[7].break_after = 1;
	ev_io_set(w[7].fd, EV_WRITE, watch_cb, &w[7]);
	checklib_run_bounded();
	ck_assert_int_eq(w[7].events, EV_WRITE);

	for (n = 0; n < MANY_PIPES; n++) {
		ev_io_del(pipes[n][0]);
		ev_io_del(pipes[n][1]);
		close(pipes[n][0]);
		close(pipes[n][1]);
	}
	free(pipes);
}
END_TEST

/* The reactor's test cases. */
static Suite *
ev_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ev");

	tc = tcase_create("timers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, timers_fire_in_deadline_order);
	tcase_add_test(tc, timers_due_in_one_round_fire_in_deadline_order);
	tcase_add_test(tc, timers_stopped_in_any_order_keep_the_rest_ordered);
	tcase_add_test(tc, timer_pending_follows_start_stop_and_firing);
	tcase_add_test(tc, stopped_timer_does_not_fire);
	tcase_add_test(tc, timer_stopped_by_earlier_timer_in_same_round);
	tcase_add_test(tc, rearming_moves_timer_later);
	tcase_add_test(tc, rearming_moves_timer_earlier);
	tcase_add_test(tc, timer_rearming_at_zero_does_not_hang);
	tcase_add_test(tc, ev_break_leaves_run_after_the_round);
	tcase_add_test(tc, ev_break_in_prepare_hook_returns_without_waiting);
	suite_add_tcase(s, tc);

	tc = tcase_create("descriptors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, io_read_readiness);
	tcase_add_test(tc, io_write_readiness);
	tcase_add_test(tc, io_enable_and_disable_change_interest);
	tcase_add_test(tc, io_del_forgets_descriptor);
	tcase_add_test(tc, watcher_deleted_earlier_in_round_is_not_called);
	tcase_add_test(tc, interest_removed_earlier_in_round_is_not_reported);
	tcase_add_test(tc,
	    watcher_replaced_earlier_in_round_sees_no_stale_event);
	tcase_add_test(tc,
	    readable_descriptor_without_interest_does_not_wake_the_loop);
	tcase_add_test(tc,
	    watcher_set_on_a_number_reused_without_del_is_called);
	tcase_add_test(tc, descriptors_past_fd_setsize);
	suite_add_tcase(s, tc);

	tc = tcase_create("signals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, signal_is_delivered_from_the_loop);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (checklib_run_each_poller(ev_suite));
}
