/*
 * The reactor's core behind ev.h: the watcher table indexed by
 * descriptor, timers in a binary min-heap of pointers into their owners,
 * signals caught by a handler that only writes the signal number to a
 * pipe (read by the loop like any other descriptor), deferred frees, and
 * the dispatch of one round.  Waiting for readiness is a backend's job
 * (ev-int.h): select() by default, or poll, epoll or kqueue as POLLER
 * says.  A backend hands each ready descriptor to ev_fire; the core then
 * calls the watchers, re-checking each one's interest first.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "ev.h"
#include "ev-int.h"
#include "log.h"
#include "xmalloc.h"

struct ev_io {
	int		 events;
	int		 kernel;	/* the interest the backend has */
	int		 renew;		/* backend to forget kernel first */
	int		 changed;	/* on ev_changed */
	int		 fired;		/* ready events seen by this wait */
	ev_io_cb	 cb;
	void		*arg;
	uint64_t	 round;		/* round in which it was armed */
};

struct ev_signal {
	ev_signal_cb	 cb;
	void		*arg;
};

struct ev_deferred {
	void	(*fn)(void *);
	void	*arg;
};

/* The backends in this build, the default first (POLLER, DESIGN.md). */
static const struct ev_backend	*const ev_backends[] = {
	&ev_backend_select,
	&ev_backend_poll,
#ifdef HAVE_KQUEUE
	&ev_backend_kqueue,
#endif
#ifdef HAVE_EPOLL
	&ev_backend_epoll,
#endif
};

static const struct ev_backend	*ev_backend = &ev_backend_select;
static int			 ev_backend_started;

static struct ev_io		*ev_ios;
static int			 ev_ios_size;	/* entries in ev_ios */
static int			 ev_maxfd = -1;

static int			*ev_fired;	/* fds ev_fire saw, once each */
static int			 ev_nfired;
static int			*ev_changed;	/* fds whose interest changed */
static int			 ev_nchanged;

static struct ev_timer		**ev_heap;
static size_t			 ev_heap_len, ev_heap_size;

static struct ev_signal		 ev_signals[NSIG];
static int			 ev_sigpipe[2] = { -1, -1 };

static struct ev_deferred	*ev_deferred;
static size_t			 ev_deferred_len, ev_deferred_size;

#define EV_MAX_PREPARE	4
static void			(*ev_prepare[EV_MAX_PREPARE])(void);
static int			 ev_nprepare;

static uint64_t			 ev_now_ms;
static uint64_t			 ev_round;
static volatile int		 ev_stop;

static void	ev_sigpipe_cb(int, int, void *);
static void	ev_run_deferred(void);

/* The name of the i-th backend this build has, or NULL past the last. */
const char *
ev_poller_name(size_t i)
{
	return (i < nitems(ev_backends) ? ev_backends[i]->name : NULL);
}

/*
 * Choose the backend the next ev_init uses, by its POLLER name (not
 * while a reactor is set up).  Returns 0, or -1 if this build has no
 * such backend.
 */
int
ev_poller_set(const char *name)
{
	size_t	i;

	if (ev_sigpipe[0] != -1)
		fatalx("ev_poller_set: the reactor is running");
	for (i = 0; i < nitems(ev_backends); i++) {
		if (strcasecmp(ev_backends[i]->name, name) == 0) {
			ev_backend = ev_backends[i];
			return (0);
		}
	}
	return (-1);
}

/* The name of the backend in use (or that the next ev_init will use). */
const char *
ev_poller(void)
{
	return (ev_backend->name);
}

/* Set up the reactor and its signal pipe; call once before anything else. */
void
ev_init(void)
{
	int	i;

	if (pipe(ev_sigpipe) == -1)
		fatal("pipe");
	for (i = 0; i < 2; i++) {
		if (fcntl(ev_sigpipe[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(ev_sigpipe[i], F_SETFD, FD_CLOEXEC) == -1)
			fatal("fcntl");
	}
	ev_update_now();
	ev_io_set(ev_sigpipe[0], EV_READ, ev_sigpipe_cb, NULL);
}

/* Release the reactor's own memory (for leak checkers at exit). */
void
ev_free(void)
{
	/* Whatever was queued for freeing must still be freed. */
	ev_run_deferred();
	ev_backend->stop();
	ev_backend_started = 0;
	free(ev_ios);
	free(ev_fired);
	free(ev_changed);
	free(ev_heap);
	free(ev_deferred);
	ev_ios = NULL;
	ev_fired = NULL;
	ev_changed = NULL;
	ev_heap = NULL;
	ev_deferred = NULL;
	ev_ios_size = 0;
	ev_nfired = ev_nchanged = 0;
	ev_maxfd = -1;
	ev_heap_len = ev_heap_size = 0;
	ev_deferred_len = ev_deferred_size = 0;
	ev_nprepare = 0;
	if (ev_sigpipe[0] != -1) {
		close(ev_sigpipe[0]);
		close(ev_sigpipe[1]);
		ev_sigpipe[0] = ev_sigpipe[1] = -1;
	}
}

/* Read the monotonic clock in milliseconds. */
void
ev_update_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ev_now_ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The loop's notion of now, in monotonic milliseconds. */
uint64_t
ev_now(void)
{
	return (ev_now_ms);
}

/* Grow the watcher table (and the backend's) so that fd has a place. */
static void
ev_grow(int fd)
{
	int	size;

	if (fd < ev_ios_size)
		return;
	size = ev_ios_size ? ev_ios_size : 64;
	while (size <= fd)
		size *= 2;
	ev_ios = xreallocarray(ev_ios, size, sizeof(*ev_ios));
	memset(ev_ios + ev_ios_size, 0,
	    (size - ev_ios_size) * sizeof(*ev_ios));
	ev_fired = xreallocarray(ev_fired, size, sizeof(*ev_fired));
	ev_changed = xreallocarray(ev_changed, size, sizeof(*ev_changed));
	ev_ios_size = size;
	ev_backend->grow(size);
}

/*
 * Tell the backend fd's interest, if it changed since it was last told.
 * A watcher set by ev_io_set is told afresh (renew) even if its interest
 * did not change: it may be on a new file, one closed without ev_io_del
 * and its number reused, which epoll and kqueue dropped with the close
 * while select() and poll() never knew the difference.
 */
static void
ev_flush_one(int fd)
{
	struct ev_io	*io = &ev_ios[fd];

	if (io->renew && io->kernel != 0 && io->events != 0)
		ev_backend->change(fd, io->kernel, io->events, 1);
	else if (io->kernel != io->events)
		ev_backend->change(fd, io->kernel, io->events, 0);
	io->kernel = io->events;
	io->renew = 0;
}

/*
 * Tell the backend every interest changed since the last wait.  Changes
 * wait until then so that the several a round often makes on one
 * descriptor (a stream taking over a socket turns its interest off and
 * on again) cost epoll and kqueue one system call, or none.
 */
static void
ev_flush(void)
{
	int	i, fd;

	for (i = 0; i < ev_nchanged; i++) {
		fd = ev_changed[i];
		ev_ios[fd].changed = 0;
		ev_flush_one(fd);
	}
	ev_nchanged = 0;
}

/*
 * Make events fd's interest, keeping ev_maxfd in step; the backend
 * learns it at the next wait (ev_flush).
 */
static void
ev_apply(int fd, int events, int renew)
{
	struct ev_io	*io = &ev_ios[fd];
	int		 old = io->events;

	if (old == 0 && events != 0) {
		io->round = ev_round;
		if (fd > ev_maxfd)
			ev_maxfd = fd;
	} else if (old != 0 && events == 0 && fd == ev_maxfd) {
		for (ev_maxfd = fd - 1; ev_maxfd >= 0 &&
		    ev_ios[ev_maxfd].events == 0; ev_maxfd--)
			;
	}
	io->events = events;
	io->renew |= renew;
	if (!io->changed) {
		io->changed = 1;
		ev_changed[ev_nchanged++] = fd;
	}
}

/* Watch fd for events, calling cb(fd, ready, arg); replaces any watcher. */
void
ev_io_set(int fd, int events, ev_io_cb cb, void *arg)
{
	if (fd < 0)
		fatalx("ev_io_set: bad descriptor %d", fd);
	ev_grow(fd);
	ev_ios[fd].cb = cb;
	ev_ios[fd].arg = arg;
	ev_apply(fd, events & (EV_READ | EV_WRITE), 1);
}

/* Add interest in events to fd's existing watcher. */
void
ev_io_enable(int fd, int events)
{
	if (fd < 0 || fd >= ev_ios_size || ev_ios[fd].cb == NULL)
		fatalx("ev_io_enable: no watcher on %d", fd);
	ev_apply(fd, ev_ios[fd].events | (events & (EV_READ | EV_WRITE)), 0);
}

/* Drop interest in events from fd's watcher; the watcher stays. */
void
ev_io_disable(int fd, int events)
{
	if (fd < 0 || fd >= ev_ios_size)
		return;
	ev_apply(fd, ev_ios[fd].events & ~events, 0);
}

/*
 * Forget fd entirely; call before close(fd).  The backend hears of it at
 * once, while the number still names this file.
 */
void
ev_io_del(int fd)
{
	if (fd < 0 || fd >= ev_ios_size)
		return;
	ev_apply(fd, 0, 0);
	if (ev_backend_started)
		ev_flush_one(fd);
	ev_ios[fd].cb = NULL;
	ev_ios[fd].arg = NULL;
}

/* Prepare a timer owned by the caller; it is not armed. */
void
ev_timer_init(struct ev_timer *t, ev_timer_cb cb, void *arg)
{
	t->when = 0;
	t->slot = 0;
	t->cb = cb;
	t->arg = arg;
}

/* Put t at heap index i and let it know where it is. */
static void
ev_heap_place(size_t i, struct ev_timer *t)
{
	ev_heap[i] = t;
	t->slot = i + 1;
}

/* Move the timer at i towards the root until its parent is due first. */
static void
ev_heap_up(size_t i)
{
	struct ev_timer	*t = ev_heap[i];
	size_t		 parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (ev_heap[parent]->when <= t->when)
			break;
		ev_heap_place(i, ev_heap[parent]);
		i = parent;
	}
	ev_heap_place(i, t);
}

/* Move the timer at i towards the leaves until its children are due later. */
static void
ev_heap_down(size_t i)
{
	struct ev_timer	*t = ev_heap[i];
	size_t		 child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= ev_heap_len)
			break;
		if (child + 1 < ev_heap_len &&
		    ev_heap[child + 1]->when < ev_heap[child]->when)
			child++;
		if (t->when <= ev_heap[child]->when)
			break;
		ev_heap_place(i, ev_heap[child]);
		i = child;
	}
	ev_heap_place(i, t);
}

/* Arm (or re-arm) a timer to fire once, msec from now. */
void
ev_timer_start(struct ev_timer *t, uint64_t msec)
{
	ev_timer_stop(t);
	t->when = ev_now_ms + msec;
	if (ev_heap_len == ev_heap_size) {
		ev_heap_size = ev_heap_size ? ev_heap_size * 2 : 64;
		ev_heap = xreallocarray(ev_heap, ev_heap_size,
		    sizeof(*ev_heap));
	}
	ev_heap_place(ev_heap_len++, t);
	ev_heap_up(ev_heap_len - 1);
}

/* Disarm a timer; harmless if it is not armed. */
void
ev_timer_stop(struct ev_timer *t)
{
	size_t		 i;
	struct ev_timer	*last;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	last = ev_heap[--ev_heap_len];
	if (last == t)
		return;
	ev_heap_place(i, last);
	if (i > 0 && ev_heap[(i - 1) / 2]->when > last->when)
		ev_heap_up(i);
	else
		ev_heap_down(i);
}

/* Tell whether a timer is armed. */
int
ev_timer_pending(const struct ev_timer *t)
{
	return (t->slot != 0);
}

/* Catch a signal: only write its number to the self-pipe. */
static void
ev_signal_handler(int signo)
{
	unsigned char	c = (unsigned char)signo;
	int		saved_errno = errno;

	(void)write(ev_sigpipe[1], &c, 1);
	errno = saved_errno;
}

/* Deliver signo to cb from the loop (NULL cb restores the default). */
void
ev_signal_set(int signo, ev_signal_cb cb, void *arg)
{
	struct sigaction	sa;

	if (signo <= 0 || signo >= NSIG)
		fatalx("ev_signal_set: bad signal %d", signo);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = cb != NULL ? ev_signal_handler : SIG_DFL;
	ev_signals[signo].cb = cb;
	ev_signals[signo].arg = arg;
	if (sigaction(signo, &sa, NULL) == -1)
		fatal("sigaction");
}

/* Run the callbacks of the signals the handler wrote to the self-pipe. */
static void
ev_sigpipe_cb(int fd, int events, void *arg)
{
	unsigned char	 buf[64];
	ssize_t		 n, i;
	struct ev_signal *s;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			/* Check before indexing: NSIG may be below 256. */
			if (buf[i] >= NSIG)
				continue;
			s = &ev_signals[buf[i]];
			if (s->cb != NULL)
				s->cb(buf[i], s->arg);
		}
	}
}

/* Free arg with fn after this round's callbacks, when no one can see it. */
void
ev_defer_free(void (*fn)(void *), void *arg)
{
	if (ev_deferred_len == ev_deferred_size) {
		ev_deferred_size = ev_deferred_size ? ev_deferred_size * 2 : 64;
		ev_deferred = xreallocarray(ev_deferred, ev_deferred_size,
		    sizeof(*ev_deferred));
	}
	ev_deferred[ev_deferred_len].fn = fn;
	ev_deferred[ev_deferred_len].arg = arg;
	ev_deferred_len++;
}

/* Run the frees queued by ev_defer_free during this round. */
static void
ev_run_deferred(void)
{
	size_t	i;

	/* A deferred free may defer more; the loop reaches those too. */
	for (i = 0; i < ev_deferred_len; i++)
		ev_deferred[i].fn(ev_deferred[i].arg);
	ev_deferred_len = 0;
}

/* Fire the timers that are due, earliest first. */
static void
ev_run_timers(void)
{
	struct ev_timer	*t;
	size_t		 budget = ev_heap_len;

	/* The budget stops a timer that re-arms itself at 0 ms spinning. */
	while (budget-- > 0 && ev_heap_len > 0 &&
	    ev_heap[0]->when <= ev_now_ms) {
		t = ev_heap[0];
		ev_timer_stop(t);
		t->cb(t->arg);
	}
}

/* Drop watchers on descriptors that were closed behind our back. */
static void
ev_purge_bad(void)
{
	int	fd;

	for (fd = 0; fd <= ev_maxfd; fd++) {
		if (ev_ios[fd].events != 0 && fcntl(fd, F_GETFD) == -1 &&
		    errno == EBADF) {
			log_warnx("reactor: descriptor %d closed while "
			    "watched; dropping its watcher", fd);
			ev_io_del(fd);
		}
	}
}

/*
 * Note that fd is ready for events (EV_READ, EV_WRITE): what a backend
 * calls for each descriptor its wait found ready, once or (kqueue) once
 * per filter.  The watcher is called after the wait, in ev_dispatch.
 */
void
ev_fire(int fd, int events)
{
	struct ev_io	*io;

	if (fd < 0 || fd >= ev_ios_size || events == 0)
		return;
	io = &ev_ios[fd];
	if (io->fired == 0)
		ev_fired[ev_nfired++] = fd;
	io->fired |= events;
}

/* Forget what ev_fire noted, when a wait failed half-way. */
static void
ev_fired_clear(void)
{
	int	i;

	for (i = 0; i < ev_nfired; i++)
		ev_ios[ev_fired[i]].fired = 0;
	ev_nfired = 0;
}

/* Call the watchers of the descriptors the backend found ready. */
static void
ev_dispatch(void)
{
	struct ev_io	*io;
	int		 i, fd, ready;

	/* A callback may grow ev_ios and ev_fired: index them afresh. */
	for (i = 0; i < ev_nfired; i++) {
		fd = ev_fired[i];
		io = &ev_ios[fd];
		ready = io->fired;
		io->fired = 0;
		/*
		 * Re-check: an earlier callback may have dropped this
		 * watcher, or closed the fd and armed a new one on the same
		 * number, whose readiness we have not seen.
		 */
		if (io->round == ev_round)
			continue;
		ready &= io->events;
		if (ready != 0 && io->cb != NULL)
			io->cb(fd, ready, io->arg);
	}
	ev_nfired = 0;
}

/*
 * Start the backend at the first wait; the first ev_flush then tells it
 * of every descriptor watched so far (ev-int.h says why not in ev_init).
 */
static void
ev_backend_begin(void)
{
	ev_backend->start();
	ev_backend_started = 1;
}

/*
 * Call fn before every wait: work batched during a round (say, frames
 * queued on a link) goes out in one system call instead of many.  A hook
 * may also end the loop (a graceful stop with nothing left): after an
 * ev_break there, the loop returns without waiting.
 */
void
ev_prepare_add(void (*fn)(void))
{
	int	i;

	for (i = 0; i < ev_nprepare; i++)
		if (ev_prepare[i] == fn)
			return;
	if (ev_nprepare == EV_MAX_PREPARE)
		fatalx("ev_prepare_add: too many hooks");
	ev_prepare[ev_nprepare++] = fn;
}

/* Run one round: wait for readiness or a timer, dispatch, free deferred. */
static int
ev_once(void)
{
	uint64_t	wait;
	int		rc, i, timeout = -1;

	for (i = 0; i < ev_nprepare; i++)
		ev_prepare[i]();
	/* A hook may end the loop (a finished stop): do not wait then. */
	if (ev_stop)
		return (0);
	if (!ev_backend_started)
		ev_backend_begin();
	ev_flush();
	ev_update_now();
	if (ev_heap_len > 0) {
		wait = ev_heap[0]->when > ev_now_ms ?
		    ev_heap[0]->when - ev_now_ms : 0;
		timeout = wait > INT_MAX ? INT_MAX : (int)wait;
	}
	rc = ev_backend->wait(ev_maxfd, timeout);
	ev_update_now();
	ev_round++;
	if (rc == -1) {
		ev_fired_clear();
		if (errno == EINTR || errno == EAGAIN)
			return (0);
		if (errno == EBADF) {
			ev_purge_bad();
			return (0);
		}
		log_warn("%s", ev_backend->name);
		return (-1);
	}
	ev_dispatch();
	ev_run_timers();
	ev_run_deferred();
	return (0);
}

/* Run the loop until ev_break; returns 0, or -1 if the wait failed. */
int
ev_run(void)
{
	ev_stop = 0;
	while (!ev_stop) {
		if (ev_once() == -1)
			return (-1);
	}
	ev_run_deferred();
	return (0);
}

/* Make ev_run return after the current round. */
void
ev_break(void)
{
	ev_stop = 1;
}
