/*
 * A shared rate limit (token bucket) for the tunnels of one account
 * (PASSWORD_FILE rate=): every byte any of them moves, either way, takes
 * from one budget that refills at the rate.  The relay asks how much it
 * may move before it reads, and when the budget is out it stops reading
 * and waits; the limit wakes its waiters as the budget refills.  Bytes
 * are never dropped, only not read yet.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "compat.h"
#include "ev.h"

/* One who waits for budget: a relay. */
struct ratelimit_waiter {
	void				(*cb)(void *);
	void				*arg;
	int				 waiting;
	TAILQ_ENTRY(ratelimit_waiter)	 entry;
};
TAILQ_HEAD(ratelimit_waiters, ratelimit_waiter);

struct ratelimit {
	uint64_t			rate;		/* bytes/s, 0 = none */
	int64_t				budget;		/* milli-bytes */
	uint64_t			stamp;		/* ms of the last refill */
	struct ev_timer			timer;
	int				timer_ready;
	struct ratelimit_waiters	waiters;
};

void	ratelimit_init(struct ratelimit *, uint64_t);
void	ratelimit_set_rate(struct ratelimit *, uint64_t);
size_t	ratelimit_allow(struct ratelimit *, size_t);
void	ratelimit_take(struct ratelimit *, size_t);
void	ratelimit_wait(struct ratelimit *, struct ratelimit_waiter *);
void	ratelimit_cancel(struct ratelimit *, struct ratelimit_waiter *);
void	ratelimit_stop(struct ratelimit *);

#endif
