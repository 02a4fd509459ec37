/*
 * Session data sent on a link without passing through user space: the
 * bytes a socket has are spliced into a pipe, the SESS frame's header is
 * written to the link, and the pipe is spliced behind it.  Through a
 * worker every byte of a bulk transfer is otherwise read and written
 * once by the server and once by the worker; this takes the copies out
 * of the sending half in both.
 *
 * A pipe kept by the process carries each frame.  What the link's
 * socket does not take at once stays in that pipe, which then belongs
 * to the link (l->pipe, l->piped) until it is drained: its bytes go out
 * before anything queued behind them in the link's buffer, and the
 * emptied pipe is kept for the next frame.  Only a link with nothing
 * queued is spliced to, so frames stay in order.  Should the header
 * itself not go out whole, the body is read back from the pipe into the
 * buffer behind it, a copy as without splice.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "mux-int.h"
#include "textnet.h"

#if defined(HAVE_SPLICE) && defined(HAVE_PIPE2)

/*
 * A frame's body at most: as the copying path reads, half the default
 * session window, so that the next frame can leave while the first's
 * window credit is on its way back.
 */
#define MUX_SPLICE_FRAME	(128 * 1024)
/* Empty pipes kept for the next frames (links that wait hold theirs). */
#define MUX_SPLICE_SPARE	8

static int	mux_splice_pipe[2] = { -1, -1 };	/* empty, or -1 */
static size_t	mux_splice_cap;
static int	mux_splice_off;		/* the system refused it once */
static int	mux_splice_spare[MUX_SPLICE_SPARE][2];
static int	mux_splice_nspare;

/* Have an empty pipe ready in mux_splice_pipe; -1 if none can be had. */
static int
mux_splice_open(void)
{
	int	size;

	if (mux_splice_pipe[0] != -1)
		return (0);
	if (mux_splice_nspare > 0) {
		mux_splice_nspare--;
		mux_splice_pipe[0] = mux_splice_spare[mux_splice_nspare][0];
		mux_splice_pipe[1] = mux_splice_spare[mux_splice_nspare][1];
		return (0);
	}
	if (pipe2(mux_splice_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		mux_splice_pipe[0] = mux_splice_pipe[1] = -1;
		return (-1);
	}
	size = 65536;
#if defined(F_SETPIPE_SZ) && defined(F_GETPIPE_SZ)
	(void)fcntl(mux_splice_pipe[1], F_SETPIPE_SZ, MUX_SPLICE_FRAME);
	if ((size = fcntl(mux_splice_pipe[1], F_GETPIPE_SZ)) <= 0)
		size = 65536;
#endif
	mux_splice_cap = size;
	return (0);
}

/*
 * Read the len bytes left in the process's pipe into the link's output
 * buffer (or nowhere when the link failed), so that the pipe is empty
 * again.  A pipe that does not give them back is closed, and the link
 * with it: the frame would be cut short.
 */
static void
mux_splice_drain(struct mux_link *l, size_t len)
{
	char	chunk[16384];
	ssize_t	n;

	while (len > 0) {
		n = read(mux_splice_pipe[0], chunk,
		    len < sizeof(chunk) ? len : sizeof(chunk));
		if (n <= 0) {
			log_warnx("mux: splice pipe lost %zu bytes", len);
			close(mux_splice_pipe[0]);
			close(mux_splice_pipe[1]);
			mux_splice_pipe[0] = mux_splice_pipe[1] = -1;
			l->write_failed = 1;
			return;
		}
		if (!l->write_failed)
			buf_add(&l->out, chunk, n);
		len -= n;
	}
}

/*
 * Send up to max bytes that socket fd has as the body of one SESS P
 * frame of session id.  Returns the bytes taken from fd (> 0), 0 when
 * fd is at its end, or -1 with errno: EAGAIN when fd has nothing now,
 * EOPNOTSUPP when the link cannot take a spliced frame now (read and
 * copy instead), anything else from reading fd.
 */
ssize_t
mux_link_splice_session(struct mux_link *l, uint64_t id, int fd, size_t max)
{
	const char	*args[2];
	char		 hdr[TEXTNET_MAX_HEADER], idstr[24];
	size_t		 hlen;
	ssize_t		 n, w, m;

	if (mux_splice_off || l->dead || l->fd == -1 || l->write_failed ||
	    mux_link_queued(l) > 0 || mux_splice_open() == -1) {
		errno = EOPNOTSUPP;
		return (-1);
	}
	if (max > mux_splice_cap)
		max = mux_splice_cap;
	if (max > MUX_SPLICE_FRAME)
		max = MUX_SPLICE_FRAME;
	n = splice(fd, NULL, mux_splice_pipe[1], NULL, max,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n == -1 && (errno == EINVAL || errno == ENOSYS)) {
		log_debug("mux: splice: %s; copying instead", strerror(errno));
		mux_splice_off = 1;
		errno = EOPNOTSUPP;
	}
	if (n <= 0)
		return (n);

	snprintf(idstr, sizeof(idstr), "%llu", (unsigned long long)id);
	args[0] = idstr;
	args[1] = "P";
	hlen = textnet_format(hdr, sizeof(hdr), "SESS", ++l->tid, n, 2, args);
	if (hlen == 0)
		fatalx("mux: header for SESS does not fit");
	mux_link_expect(l);
	l->last_tx = ev_now();
	l->bytes_tx += hlen + n;

	/* The header, held back until its body follows (MSG_MORE). */
	if ((w = send(l->fd, hdr, hlen, MSG_MORE | MSG_NOSIGNAL)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			l->write_failed = 1;
		w = 0;
	}
	m = 0;
	if ((size_t)w == hlen &&
	    (m = splice(mux_splice_pipe[0], NULL, l->fd, NULL, n,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			l->write_failed = 1;
		m = 0;
	}
	if ((size_t)w < hlen) {
		if (!l->write_failed)
			buf_add(&l->out, hdr + w, hlen - w);
		mux_splice_drain(l, n);
	} else if (m < n && !l->write_failed) {
		/* The rest waits in the pipe, which is the link's now. */
		l->pipe[0] = mux_splice_pipe[0];
		l->pipe[1] = mux_splice_pipe[1];
		l->piped = n - m;
		mux_splice_pipe[0] = mux_splice_pipe[1] = -1;
	} else if (m < n)
		mux_splice_drain(l, n - m);
	if (mux_link_queued(l) > 0 || l->write_failed)
		ev_io_enable(l->fd, EV_WRITE);
	return (n);
}

/*
 * Send what the link's pipe holds.  Returns 0 once it is empty (the
 * buffer may go next), 1 while the socket takes no more, -1 with errno
 * when writing failed.
 */
int
mux_link_splice_flush(struct mux_link *l)
{
	ssize_t	m;

	if (l->piped == 0)
		return (0);
	m = splice(l->pipe[0], NULL, l->fd, NULL, l->piped,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (m == -1)
		return (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 1 : -1);
	l->piped -= m;
	if (l->piped > 0)
		return (1);
	/* Empty: keep it for the next frames, or let it go. */
	if (mux_splice_pipe[0] == -1) {
		mux_splice_pipe[0] = l->pipe[0];
		mux_splice_pipe[1] = l->pipe[1];
	} else if (mux_splice_nspare < MUX_SPLICE_SPARE) {
		mux_splice_spare[mux_splice_nspare][0] = l->pipe[0];
		mux_splice_spare[mux_splice_nspare][1] = l->pipe[1];
		mux_splice_nspare++;
	} else {
		close(l->pipe[0]);
		close(l->pipe[1]);
	}
	l->pipe[0] = l->pipe[1] = -1;
	return (0);
}

/* The link is gone: close its pipe, and what it still held with it. */
void
mux_link_splice_release(struct mux_link *l)
{
	if (l->pipe[0] == -1)
		return;
	close(l->pipe[0]);
	close(l->pipe[1]);
	l->pipe[0] = l->pipe[1] = -1;
	l->piped = 0;
}

#else /* no splice(2) or pipe2(2) */

/* No splice(2) here: every frame is read and copied. */
ssize_t
mux_link_splice_session(struct mux_link *l, uint64_t id, int fd, size_t max)
{
	errno = EOPNOTSUPP;
	return (-1);
}

/* Nothing is ever piped. */
int
mux_link_splice_flush(struct mux_link *l)
{
	return (0);
}

/* Nothing to release. */
void
mux_link_splice_release(struct mux_link *l)
{
}

#endif
