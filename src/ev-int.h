/*
 * Between the reactor's core (ev.c: watchers, timers, signals, deferred
 * frees, dispatch) and the backends that wait for readiness, one file
 * each: ev-select.c, ev-poll.c, ev-epoll.c, ev-kqueue.c, in the way of
 * redis's ae.  Only the ev*.c files include this.
 *
 * A backend is started lazily, at the loop's first wait, and told then
 * of every descriptor already watched: a daemon sets up its listeners
 * before it forks into the background, and a kqueue does not survive
 * fork(2).  Until then, and after ev_free, the core calls only grow.
 */
#ifndef EV_INT_H
#define EV_INT_H

struct ev_backend {
	const char	*name;		/* the POLLER value */
	/* Create the kernel state. */
	void	(*start)(void);
	/* Release the kernel state and every allocation; safe unstarted. */
	void	(*stop)(void);
	/* The core's tables now hold descriptors below size. */
	void	(*grow)(int size);
	/*
	 * fd's interest went from old to new (EV_* bits; either may be 0).
	 * With renew, fd may name a new file since old was told (closed
	 * without ev_io_del, the number reused; epoll and kqueue then
	 * dropped it): register new afresh, not as a change.
	 */
	void	(*change)(int fd, int old, int new, int renew);
	/*
	 * Wait up to timeout ms (-1: until something happens) for the
	 * descriptors below maxfd + 1, and hand each ready one to ev_fire.
	 * Returns -1 with errno on failure (EBADF: one was closed while
	 * watched), else 0.
	 */
	int	(*wait)(int maxfd, int timeout);
};

void	ev_fire(int fd, int events);

extern const struct ev_backend	ev_backend_select;
extern const struct ev_backend	ev_backend_poll;
#ifdef HAVE_EPOLL
extern const struct ev_backend	ev_backend_epoll;
#endif
#ifdef HAVE_KQUEUE
extern const struct ev_backend	ev_backend_kqueue;
#endif

#endif
