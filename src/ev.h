/*
 * The reactor: one loop for the whole daemon.  Descriptors are watched
 * for read and/or write readiness with one callback each; timers run on
 * the monotonic clock; signals arrive through a self-pipe and are
 * dispatched as ordinary callbacks.  The wait is select() by default
 * (not capped at FD_SETSIZE: the bit sets are sized from the highest
 * descriptor in use), or poll, epoll or kqueue where the build has them
 * (ev_poller_set, from POLLER); every backend reports readiness as
 * select() does, level-triggered.
 *
 * Callbacks may add or delete any watcher or timer, including their own
 * and those with ready events still pending in this round.
 */
#ifndef EV_H
#define EV_H

#include <stddef.h>
#include <stdint.h>

#define EV_READ		0x1
#define EV_WRITE	0x2

typedef void	(*ev_io_cb)(int fd, int events, void *arg);
typedef void	(*ev_timer_cb)(void *arg);
typedef void	(*ev_signal_cb)(int signo, void *arg);

/* A timer lives inside its owner's struct; no allocation per arming. */
struct ev_timer {
	uint64_t	 when;		/* monotonic ms */
	size_t		 slot;		/* heap index + 1; 0 when not armed */
	ev_timer_cb	 cb;
	void		*arg;
};

const char	*ev_poller_name(size_t);
int		 ev_poller_set(const char *);
const char	*ev_poller(void);

void		 ev_init(void);
void		 ev_free(void);
int		 ev_run(void);
void		 ev_break(void);
uint64_t	 ev_now(void);
void		 ev_update_now(void);

void		 ev_io_set(int fd, int events, ev_io_cb cb, void *arg);
void		 ev_io_enable(int fd, int events);
void		 ev_io_disable(int fd, int events);
void		 ev_io_del(int fd);

void		 ev_timer_init(struct ev_timer *, ev_timer_cb, void *);
void		 ev_timer_start(struct ev_timer *, uint64_t msec);
void		 ev_timer_stop(struct ev_timer *);
int		 ev_timer_pending(const struct ev_timer *);

void		 ev_signal_set(int signo, ev_signal_cb, void *);

void		 ev_defer_free(void (*)(void *), void *);
void		 ev_prepare_add(void (*)(void));

#endif
