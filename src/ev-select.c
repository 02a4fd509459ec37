/*
 * The select() backend, the default (POLLER=select).  The read and
 * write sets are arrays of longs grown with the watcher table, and the
 * bits are set by hand, so a fortified libc never sees FD_SET past
 * FD_SETSIZE and the daemon is not capped at 1,024 descriptors.  Each
 * wait copies the master sets and hands select() all of them: its cost
 * grows with every descriptor watched, so past 1,024 it says once, in
 * the log, which POLLER to use instead.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/select.h>
#include <sys/time.h>

#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "ev-int.h"
#include "log.h"
#include "xmalloc.h"

#define EV_SELECT_WORD_BITS	(8 * sizeof(unsigned long))
#define EV_SELECT_MANY		1024	/* watched: time to say so */

static unsigned long	*ev_select_rbits, *ev_select_wbits;	/* master */
static unsigned long	*ev_select_rready, *ev_select_wready;	/* copies */
static size_t		 ev_select_nwords;
static int		 ev_select_watched;
static int		 ev_select_warned;	/* once per process */

/* Nothing to create: the sets are plain memory. */
static void
ev_select_start(void)
{
}

/* Free the sets. */
static void
ev_select_stop(void)
{
	free(ev_select_rbits);
	free(ev_select_wbits);
	free(ev_select_rready);
	free(ev_select_wready);
	ev_select_rbits = ev_select_wbits = NULL;
	ev_select_rready = ev_select_wready = NULL;
	ev_select_nwords = 0;
	ev_select_watched = 0;
}

/* Grow the sets to hold descriptors below size, the new bits clear. */
static void
ev_select_grow(int size)
{
	size_t	words = (size + EV_SELECT_WORD_BITS - 1) / EV_SELECT_WORD_BITS;

	if (words <= ev_select_nwords)
		return;
	ev_select_rbits = xreallocarray(ev_select_rbits, words,
	    sizeof(unsigned long));
	ev_select_wbits = xreallocarray(ev_select_wbits, words,
	    sizeof(unsigned long));
	ev_select_rready = xreallocarray(ev_select_rready, words,
	    sizeof(unsigned long));
	ev_select_wready = xreallocarray(ev_select_wready, words,
	    sizeof(unsigned long));
	memset(ev_select_rbits + ev_select_nwords, 0,
	    (words - ev_select_nwords) * sizeof(unsigned long));
	memset(ev_select_wbits + ev_select_nwords, 0,
	    (words - ev_select_nwords) * sizeof(unsigned long));
	ev_select_nwords = words;
}

/*
 * Say once that select() now watches more descriptors than it is good
 * for, and which POLLER this build has that is not (the last listed).
 */
static void
ev_select_warn(void)
{
	const char	*best = NULL, *name;
	size_t		 i;

	ev_select_warned = 1;
	for (i = 0; (name = ev_poller_name(i)) != NULL; i++)
		best = name;
	log_warnx("reactor: select() now watches more than %d descriptors "
	    "and every wait costs time for each of them; set POLLER=%s in "
	    "the config and restart", EV_SELECT_MANY, best);
}

/* Set or clear fd's bits in the master read and write sets. */
static void
ev_select_change(int fd, int old, int new, int renew)
{
	unsigned long	bit = 1UL << (fd % EV_SELECT_WORD_BITS);
	size_t		word = fd / EV_SELECT_WORD_BITS;

	if (new & EV_READ)
		ev_select_rbits[word] |= bit;
	else
		ev_select_rbits[word] &= ~bit;
	if (new & EV_WRITE)
		ev_select_wbits[word] |= bit;
	else
		ev_select_wbits[word] &= ~bit;
	if (old == 0)
		ev_select_watched++;
	else if (new == 0)
		ev_select_watched--;
	if (ev_select_watched > EV_SELECT_MANY && !ev_select_warned)
		ev_select_warn();
}

/* select() on copies of the master sets; report what it found. */
static int
ev_select_wait(int maxfd, int timeout)
{
	struct timeval	 tv, *tvp = NULL;
	unsigned long	 bits;
	size_t		 w, words;
	int		 n, fd, bit, ready;

	if (timeout >= 0) {
		tv.tv_sec = timeout / 1000;
		tv.tv_usec = (timeout % 1000) * 1000;
		tvp = &tv;
	}
	words = maxfd >= 0 ? maxfd / EV_SELECT_WORD_BITS + 1 : 0;
	if (words > 0) {
		memcpy(ev_select_rready, ev_select_rbits,
		    words * sizeof(unsigned long));
		memcpy(ev_select_wready, ev_select_wbits,
		    words * sizeof(unsigned long));
	}
	n = select(maxfd + 1, words ? (fd_set *)ev_select_rready : NULL,
	    words ? (fd_set *)ev_select_wready : NULL, NULL, tvp);
	if (n <= 0)
		return (n);
	for (w = 0; w < words; w++) {
		bits = ev_select_rready[w] | ev_select_wready[w];
		while (bits != 0) {
			bit = __builtin_ctzl(bits);
			bits &= bits - 1;
			fd = w * EV_SELECT_WORD_BITS + bit;
			ready = 0;
			if (ev_select_rready[w] & (1UL << bit))
				ready |= EV_READ;
			if (ev_select_wready[w] & (1UL << bit))
				ready |= EV_WRITE;
			ev_fire(fd, ready);
		}
	}
	return (0);
}

const struct ev_backend ev_backend_select = {
	"select",
	ev_select_start,
	ev_select_stop,
	ev_select_grow,
	ev_select_change,
	ev_select_wait
};
