/*
 * The epoll backend (POLLER=epoll, Linux): the kernel keeps the interest
 * set, so a wait costs time for the descriptors that are ready, not for
 * every one watched.  Level-triggered, as the core expects of every
 * backend: a descriptor stays ready until its watcher has read or
 * written what there is.  A descriptor with no interest left is removed
 * from the set (not kept with an empty mask, on which epoll would still
 * report hang-ups and errors), so ev_io_del, which comes before close,
 * takes it out before the number can be reused.
 */
#include "config.h"

#ifdef HAVE_EPOLL

#include <sys/types.h>
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "ev-int.h"
#include "log.h"
#include "xmalloc.h"

static int			 ev_epoll_fd = -1;
static struct epoll_event	*ev_epoll_events;
static int			 ev_epoll_size;	/* entries in ev_epoll_events */

/* Create the epoll instance. */
static void
ev_epoll_start(void)
{
	if ((ev_epoll_fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
}

/* Close the instance and free the event array. */
static void
ev_epoll_stop(void)
{
	if (ev_epoll_fd != -1)
		close(ev_epoll_fd);
	ev_epoll_fd = -1;
	free(ev_epoll_events);
	ev_epoll_events = NULL;
	ev_epoll_size = 0;
}

/* Room for one event per descriptor, so no ready one waits a round. */
static void
ev_epoll_grow(int size)
{
	if (size <= ev_epoll_size)
		return;
	ev_epoll_events = xreallocarray(ev_epoll_events, size,
	    sizeof(*ev_epoll_events));
	ev_epoll_size = size;
}

/*
 * Tell the kernel fd's new interest.  The core's idea of what the kernel
 * holds can be wrong only if a descriptor was closed without ev_io_del
 * (the kernel then dropped it; renew says it may have been): add where a
 * modify finds nothing, and modify where an add finds it already there.
 */
static void
ev_epoll_change(int fd, int old, int new, int renew)
{
	struct epoll_event	ee;
	int			op;

	if (new == 0) {
		if (epoll_ctl(ev_epoll_fd, EPOLL_CTL_DEL, fd, NULL) == -1 &&
		    errno != ENOENT && errno != EBADF)
			log_warn("epoll_ctl: remove descriptor %d", fd);
		return;
	}
	memset(&ee, 0, sizeof(ee));
	if (new & EV_READ)
		ee.events |= EPOLLIN;
	if (new & EV_WRITE)
		ee.events |= EPOLLOUT;
	ee.data.fd = fd;
	op = old == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(ev_epoll_fd, op, fd, &ee) == 0)
		return;
	if (op == EPOLL_CTL_ADD && errno == EEXIST)
		op = EPOLL_CTL_MOD;
	else if (op == EPOLL_CTL_MOD && errno == ENOENT)
		op = EPOLL_CTL_ADD;
	else
		op = -1;
	if (op == -1 || epoll_ctl(ev_epoll_fd, op, fd, &ee) == -1)
		log_warn("epoll_ctl: watch descriptor %d", fd);
}

/*
 * epoll_wait and report what it found.  An error or hang-up counts as
 * both readable and writable, as select() says it; the core keeps only
 * what the watcher asked for.
 */
static int
ev_epoll_wait(int maxfd, int timeout)
{
	uint32_t	e;
	int		n, i, ready;

	n = epoll_wait(ev_epoll_fd, ev_epoll_events, ev_epoll_size, timeout);
	if (n == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		e = ev_epoll_events[i].events;
		ready = 0;
		if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
			ready |= EV_READ;
		if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			ready |= EV_WRITE;
		ev_fire(ev_epoll_events[i].data.fd, ready);
	}
	return (0);
}

const struct ev_backend ev_backend_epoll = {
	"epoll",
	ev_epoll_start,
	ev_epoll_stop,
	ev_epoll_grow,
	ev_epoll_change,
	ev_epoll_wait
};

#endif /* HAVE_EPOLL */
