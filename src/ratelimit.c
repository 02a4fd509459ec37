/*
 * The token bucket behind an account's rate= (ratelimit.h).  The budget
 * is counted in milli-bytes so that a low rate refilled every few
 * milliseconds loses nothing to rounding; it holds at most a tenth of a
 * second's worth (so a pause never turns into a burst) and may go
 * negative by what a splice or a held frame moved beyond it, which later
 * refills pay back.  Waiters are woken every RATELIMIT_TICK_MS while
 * budget is short.
 */
#include "config.h"

#include <string.h>

#include "ev.h"
#include "ratelimit.h"

#define RATELIMIT_TICK_MS	20
#define RATELIMIT_BURST_MS	100

static void	ratelimit_tick_cb(void *);

/* Set up a limit of rate bytes per second (0: none), its budget full. */
void
ratelimit_init(struct ratelimit *rl, uint64_t rate)
{
	memset(rl, 0, sizeof(*rl));
	TAILQ_INIT(&rl->waiters);
	ev_timer_init(&rl->timer, ratelimit_tick_cb, rl);
	rl->timer_ready = 1;
	rl->rate = rate;
	rl->budget = (int64_t)(rate * RATELIMIT_BURST_MS);
	rl->stamp = ev_now();
}

/* Change the rate (a reload); waiters are woken at the next tick. */
void
ratelimit_set_rate(struct ratelimit *rl, uint64_t rate)
{
	rl->rate = rate;
	if (rate == 0 && !TAILQ_EMPTY(&rl->waiters))
		ev_timer_start(&rl->timer, 0);
}

/* Add what the time since the last refill earned, up to the cap. */
static void
ratelimit_refill(struct ratelimit *rl)
{
	uint64_t	now = ev_now();
	int64_t		cap = (int64_t)(rl->rate * RATELIMIT_BURST_MS);

	if (now > rl->stamp) {
		rl->budget += (int64_t)(rl->rate * (now - rl->stamp));
		if (rl->budget > cap)
			rl->budget = cap;
	}
	rl->stamp = now;
}

/* How many of want bytes may move now (want itself without a rate). */
size_t
ratelimit_allow(struct ratelimit *rl, size_t want)
{
	int64_t	bytes;

	if (rl->rate == 0)
		return (want);
	ratelimit_refill(rl);
	bytes = rl->budget / 1000;
	if (bytes <= 0)
		return (0);
	return ((uint64_t)bytes < want ? (size_t)bytes : want);
}

/* n bytes moved: take them from the budget. */
void
ratelimit_take(struct ratelimit *rl, size_t n)
{
	if (rl->rate == 0)
		return;
	ratelimit_refill(rl);
	rl->budget -= (int64_t)n * 1000;
}

/* Call w->cb once budget is back; a waiter waits once at a time. */
void
ratelimit_wait(struct ratelimit *rl, struct ratelimit_waiter *w)
{
	if (w->waiting)
		return;
	w->waiting = 1;
	TAILQ_INSERT_TAIL(&rl->waiters, w, entry);
	if (!ev_timer_pending(&rl->timer))
		ev_timer_start(&rl->timer, rl->rate == 0 ? 0 :
		    RATELIMIT_TICK_MS);
}

/* Stop waiting (the relay ended). */
void
ratelimit_cancel(struct ratelimit *rl, struct ratelimit_waiter *w)
{
	if (!w->waiting)
		return;
	w->waiting = 0;
	TAILQ_REMOVE(&rl->waiters, w, entry);
}

/*
 * Budget may be back: wake the waiters in order while there is any.  A
 * waiter that finds none again waits again, at the end of the line; one
 * not reached keeps its place.
 */
static void
ratelimit_tick_cb(void *arg)
{
	struct ratelimit	*rl = arg;
	struct ratelimit_waiter	*w;
	size_t			 n = 0;

	if (ratelimit_allow(rl, 1) == 0) {
		ev_timer_start(&rl->timer, RATELIMIT_TICK_MS);
		return;
	}
	/* Only those waiting now: a woken one may queue again. */
	TAILQ_FOREACH(w, &rl->waiters, entry)
		n++;
	while (n-- > 0 && (w = TAILQ_FIRST(&rl->waiters)) != NULL) {
		TAILQ_REMOVE(&rl->waiters, w, entry);
		w->waiting = 0;
		w->cb(w->arg);
		if (ratelimit_allow(rl, 1) == 0)
			break;
	}
	if (!TAILQ_EMPTY(&rl->waiters))
		ev_timer_start(&rl->timer, RATELIMIT_TICK_MS);
}

/* Stop the timer (exit); waiters must be gone. */
void
ratelimit_stop(struct ratelimit *rl)
{
	if (rl->timer_ready)
		ev_timer_stop(&rl->timer);
}
