/*
 * The kqueue backend (POLLER=kqueue; the BSDs and macOS), after
 * kqueue(2): one EVFILT_READ and one EVFILT_WRITE filter per descriptor,
 * added and deleted as interest comes and goes, so that a wait costs
 * time for the descriptors that are ready, not for every one watched.
 * Filters without EV_CLEAR are level-triggered, as the core expects.  A
 * descriptor ready both ways comes back as two events; ev_fire merges
 * them.  close(2) removes a descriptor's filters, and a kqueue is not
 * inherited across fork(2): the core starts a backend only at the first
 * wait, after the daemon has forked (ev-int.h).
 */
#include "config.h"

#ifdef HAVE_KQUEUE

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "ev-int.h"
#include "log.h"
#include "xmalloc.h"

static int		 ev_kqueue_fd = -1;
static struct kevent	*ev_kqueue_events;
static int		 ev_kqueue_size;	/* entries in ev_kqueue_events */

/* Create the kqueue. */
static void
ev_kqueue_start(void)
{
	if ((ev_kqueue_fd = kqueue()) == -1)
		fatal("kqueue");
	if (fcntl(ev_kqueue_fd, F_SETFD, FD_CLOEXEC) == -1)
		fatal("fcntl");
}

/* Close the kqueue and free the event array. */
static void
ev_kqueue_stop(void)
{
	if (ev_kqueue_fd != -1)
		close(ev_kqueue_fd);
	ev_kqueue_fd = -1;
	free(ev_kqueue_events);
	ev_kqueue_events = NULL;
	ev_kqueue_size = 0;
}

/* Room for both filters of every descriptor, so none waits a round. */
static void
ev_kqueue_grow(int size)
{
	if (2 * size <= ev_kqueue_size)
		return;
	ev_kqueue_events = xreallocarray(ev_kqueue_events, size,
	    2 * sizeof(*ev_kqueue_events));
	ev_kqueue_size = 2 * size;
}

/*
 * Add or delete one filter of fd.  One change per call: with no room
 * for events, kevent(2) stops at the first change that fails.  Deleting
 * what close(2) already removed fails harmlessly.
 */
static void
ev_kqueue_filter(int fd, short filter, int add)
{
	struct kevent	kev;

	EV_SET(&kev, fd, filter, add ? EV_ADD : EV_DELETE, 0, 0, 0);
	if (kevent(ev_kqueue_fd, &kev, 1, NULL, 0, NULL) == -1) {
		if (!add && (errno == ENOENT || errno == EBADF))
			return;
		log_warn("kevent: %s %s filter of descriptor %d",
		    add ? "add" : "delete",
		    filter == EVFILT_READ ? "read" : "write", fd);
	}
}

/*
 * Add or delete the filters whose interest changed; with renew, add again
 * every filter wanted too (EV_ADD on a filter that is there modifies it),
 * for a number that close(2) may have emptied.
 */
static void
ev_kqueue_change(int fd, int old, int new, int renew)
{
	int	changed = renew ? (old ^ new) | new : old ^ new;

	if (changed & EV_READ)
		ev_kqueue_filter(fd, EVFILT_READ, new & EV_READ);
	if (changed & EV_WRITE)
		ev_kqueue_filter(fd, EVFILT_WRITE, new & EV_WRITE);
}

/*
 * Wait for events and report them.  EV_EOF (peer closed, or an error in
 * fflags) comes with the filter's own event, as select() reports such a
 * descriptor ready.
 */
static int
ev_kqueue_wait(int maxfd, int timeout)
{
	struct timespec	 ts, *tsp = NULL;
	int		 n, i;

	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		tsp = &ts;
	}
	n = kevent(ev_kqueue_fd, NULL, 0, ev_kqueue_events, ev_kqueue_size,
	    tsp);
	if (n == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		if (ev_kqueue_events[i].flags & EV_ERROR)
			continue;
		if (ev_kqueue_events[i].filter == EVFILT_READ)
			ev_fire((int)ev_kqueue_events[i].ident, EV_READ);
		else if (ev_kqueue_events[i].filter == EVFILT_WRITE)
			ev_fire((int)ev_kqueue_events[i].ident, EV_WRITE);
	}
	return (0);
}

const struct ev_backend ev_backend_kqueue = {
	"kqueue",
	ev_kqueue_start,
	ev_kqueue_stop,
	ev_kqueue_grow,
	ev_kqueue_change,
	ev_kqueue_wait
};

#endif /* HAVE_KQUEUE */
