/*
 * The poll() backend (POLLER=poll): POSIX everywhere, no bit sets and no
 * FD_SETSIZE, one struct pollfd per watched descriptor, kept dense (a
 * removed entry takes the last one's place) with each descriptor's
 * place in a table indexed by descriptor.  Like select(), each wait
 * costs time for every descriptor watched.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "ev-int.h"
#include "xmalloc.h"

static struct pollfd	*ev_poll_fds;
static int		 ev_poll_len;		/* entries in use */
static int		*ev_poll_slot;		/* by fd: index + 1, 0 = none */
static int		 ev_poll_size;		/* entries in both arrays */

/* Nothing to create: the array is plain memory. */
static void
ev_poll_start(void)
{
}

/* Free the arrays. */
static void
ev_poll_stop(void)
{
	free(ev_poll_fds);
	free(ev_poll_slot);
	ev_poll_fds = NULL;
	ev_poll_slot = NULL;
	ev_poll_len = ev_poll_size = 0;
}

/* Grow the arrays to hold descriptors below size. */
static void
ev_poll_grow(int size)
{
	if (size <= ev_poll_size)
		return;
	ev_poll_fds = xreallocarray(ev_poll_fds, size, sizeof(*ev_poll_fds));
	ev_poll_slot = xreallocarray(ev_poll_slot, size,
	    sizeof(*ev_poll_slot));
	memset(ev_poll_slot + ev_poll_size, 0,
	    (size - ev_poll_size) * sizeof(*ev_poll_slot));
	ev_poll_size = size;
}

/* Add, update or drop fd's entry. */
static void
ev_poll_change(int fd, int old, int new, int renew)
{
	struct pollfd	*pfd;
	int		 i = ev_poll_slot[fd] - 1;

	if (new == 0) {
		if (i < 0)
			return;
		ev_poll_slot[fd] = 0;
		if (i != --ev_poll_len) {
			ev_poll_fds[i] = ev_poll_fds[ev_poll_len];
			ev_poll_slot[ev_poll_fds[i].fd] = i + 1;
		}
		return;
	}
	if (i < 0) {
		i = ev_poll_len++;
		ev_poll_slot[fd] = i + 1;
	}
	pfd = &ev_poll_fds[i];
	pfd->fd = fd;
	pfd->events = 0;
	pfd->revents = 0;
	if (new & EV_READ)
		pfd->events |= POLLIN;
	if (new & EV_WRITE)
		pfd->events |= POLLOUT;
}

/*
 * poll() the watched descriptors and report what it found.  An error or
 * hang-up counts as both readable and writable, as select() says it; the
 * core keeps only what the watcher asked for.
 */
static int
ev_poll_wait(int maxfd, int timeout)
{
	int	n, i, ready;
	short	re;

	if ((n = poll(ev_poll_fds, ev_poll_len, timeout)) <= 0)
		return (n);
	for (i = 0; i < ev_poll_len; i++) {
		if ((re = ev_poll_fds[i].revents) == 0)
			continue;
		if (re & POLLNVAL) {
			/* Closed while watched: the core finds which. */
			errno = EBADF;
			return (-1);
		}
		ready = 0;
		if (re & (POLLIN | POLLHUP | POLLERR))
			ready |= EV_READ;
		if (re & (POLLOUT | POLLHUP | POLLERR))
			ready |= EV_WRITE;
		ev_fire(ev_poll_fds[i].fd, ready);
	}
	return (0);
}

const struct ev_backend ev_backend_poll = {
	"poll",
	ev_poll_start,
	ev_poll_stop,
	ev_poll_grow,
	ev_poll_change,
	ev_poll_wait
};
