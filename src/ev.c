/*
 * The select() reactor behind ev.h.  Watchers live in a table indexed by
 * descriptor; the read and write bit sets are arrays of longs grown with
 * the highest descriptor, so a fortified libc never sees FD_SET past
 * FD_SETSIZE.  Timers form a binary min-heap of pointers into their
 * owners.  Signals are caught by a handler that only writes the signal
 * number to a pipe, which the loop reads like any other descriptor.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/select.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "xmalloc.h"

#define EV_WORD_BITS	(8 * sizeof(unsigned long))

struct ev_io {
	int		 events;
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

static struct ev_io		*ev_ios;
static int			 ev_ios_size;	/* entries in ev_ios */
static int			 ev_maxfd = -1;

static unsigned long		*ev_rbits, *ev_wbits;	/* master sets */
static unsigned long		*ev_rready, *ev_wready;	/* select() copies */
static size_t			 ev_nwords;

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
	free(ev_ios);
	free(ev_rbits);
	free(ev_wbits);
	free(ev_rready);
	free(ev_wready);
	free(ev_heap);
	free(ev_deferred);
	ev_ios = NULL;
	ev_rbits = ev_wbits = ev_rready = ev_wready = NULL;
	ev_heap = NULL;
	ev_deferred = NULL;
	ev_ios_size = 0;
	ev_nwords = 0;
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

/* Grow the watcher table and the bit sets so that fd has a place. */
static void
ev_grow(int fd)
{
	size_t	words;
	int	size;

	if (fd < ev_ios_size)
		return;
	size = ev_ios_size ? ev_ios_size : 64;
	while (size <= fd)
		size *= 2;
	ev_ios = xreallocarray(ev_ios, size, sizeof(*ev_ios));
	memset(ev_ios + ev_ios_size, 0,
	    (size - ev_ios_size) * sizeof(*ev_ios));
	ev_ios_size = size;

	words = (size + EV_WORD_BITS - 1) / EV_WORD_BITS;
	ev_rbits = xreallocarray(ev_rbits, words, sizeof(unsigned long));
	ev_wbits = xreallocarray(ev_wbits, words, sizeof(unsigned long));
	ev_rready = xreallocarray(ev_rready, words, sizeof(unsigned long));
	ev_wready = xreallocarray(ev_wready, words, sizeof(unsigned long));
	memset(ev_rbits + ev_nwords, 0,
	    (words - ev_nwords) * sizeof(unsigned long));
	memset(ev_wbits + ev_nwords, 0,
	    (words - ev_nwords) * sizeof(unsigned long));
	ev_nwords = words;
}

/* Set or clear fd's bits in the master read and write sets. */
static void
ev_bits_update(int fd, int events)
{
	unsigned long	bit = 1UL << (fd % EV_WORD_BITS);
	size_t		word = fd / EV_WORD_BITS;

	if (events & EV_READ)
		ev_rbits[word] |= bit;
	else
		ev_rbits[word] &= ~bit;
	if (events & EV_WRITE)
		ev_wbits[word] |= bit;
	else
		ev_wbits[word] &= ~bit;
}

/* Make events fd's interest, keeping ev_maxfd and the bit sets in step. */
static void
ev_apply(int fd, int events)
{
	struct ev_io	*io = &ev_ios[fd];

	if (io->events == 0 && events != 0) {
		io->round = ev_round;
		if (fd > ev_maxfd)
			ev_maxfd = fd;
	} else if (io->events != 0 && events == 0 && fd == ev_maxfd) {
		for (ev_maxfd = fd - 1; ev_maxfd >= 0 &&
		    ev_ios[ev_maxfd].events == 0; ev_maxfd--)
			;
	}
	io->events = events;
	ev_bits_update(fd, events);
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
	ev_apply(fd, events & (EV_READ | EV_WRITE));
}

/* Add interest in events to fd's existing watcher. */
void
ev_io_enable(int fd, int events)
{
	if (fd < 0 || fd >= ev_ios_size || ev_ios[fd].cb == NULL)
		fatalx("ev_io_enable: no watcher on %d", fd);
	ev_apply(fd, ev_ios[fd].events | (events & (EV_READ | EV_WRITE)));
}

/* Drop interest in events from fd's watcher; the watcher stays. */
void
ev_io_disable(int fd, int events)
{
	if (fd < 0 || fd >= ev_ios_size)
		return;
	ev_apply(fd, ev_ios[fd].events & ~events);
}

/* Forget fd entirely; call before close(fd). */
void
ev_io_del(int fd)
{
	if (fd < 0 || fd >= ev_ios_size)
		return;
	ev_apply(fd, 0);
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

/* Call the watchers of the descriptors select() found ready. */
static void
ev_dispatch(int maxfd)
{
	size_t		 w, words;
	unsigned long	 bits;
	int		 fd, ready, bit;
	struct ev_io	*io;

	words = maxfd / EV_WORD_BITS + 1;
	for (w = 0; w < words; w++) {
		bits = ev_rready[w] | ev_wready[w];
		while (bits != 0) {
			bit = __builtin_ctzl(bits);
			bits &= bits - 1;
			fd = w * EV_WORD_BITS + bit;
			ready = 0;
			if (ev_rready[w] & (1UL << bit))
				ready |= EV_READ;
			if (ev_wready[w] & (1UL << bit))
				ready |= EV_WRITE;
			/*
			 * Re-check: an earlier callback may have dropped this
			 * watcher, or closed the fd and armed a new one on the
			 * same number, whose readiness we have not seen.
			 */
			io = &ev_ios[fd];
			if (io->round == ev_round)
				continue;
			ready &= io->events;
			if (ready != 0 && io->cb != NULL)
				io->cb(fd, ready, io->arg);
		}
	}
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
	struct timeval	 tv, *tvp = NULL;
	size_t		 words;
	int		 n, maxfd, i;

	for (i = 0; i < ev_nprepare; i++)
		ev_prepare[i]();
	/* A hook may end the loop (a finished stop): do not wait then. */
	if (ev_stop)
		return (0);
	ev_update_now();
	if (ev_heap_len > 0) {
		uint64_t wait = ev_heap[0]->when > ev_now_ms ?
		    ev_heap[0]->when - ev_now_ms : 0;

		tv.tv_sec = wait / 1000;
		tv.tv_usec = (wait % 1000) * 1000;
		tvp = &tv;
	}
	maxfd = ev_maxfd;
	words = maxfd >= 0 ? maxfd / EV_WORD_BITS + 1 : 0;
	if (words > 0) {
		memcpy(ev_rready, ev_rbits, words * sizeof(unsigned long));
		memcpy(ev_wready, ev_wbits, words * sizeof(unsigned long));
	}
	n = select(maxfd + 1, words ? (fd_set *)ev_rready : NULL,
	    words ? (fd_set *)ev_wready : NULL, NULL, tvp);
	ev_update_now();
	ev_round++;
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return (0);
		if (errno == EBADF) {
			ev_purge_bad();
			return (0);
		}
		log_warn("select");
		return (-1);
	}
	if (n > 0)
		ev_dispatch(maxfd);
	ev_run_timers();
	ev_run_deferred();
	return (0);
}

/* Run the loop until ev_break; returns 0, or -1 if select failed. */
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
