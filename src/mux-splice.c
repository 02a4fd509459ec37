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
 *
 * Receiving, a large P frame's body goes from the link's socket into
 * the pipe of the socket its session feeds (its relay peer's
 * splice_from), uncopied too.  After such a frame the link peeks at the
 * next header and reads it alone, so that the body behind it is left in
 * the socket to be spliced.  Should the session's end not take a splice
 * (its pipe full, bytes held that go first, a rate limit, a session
 * gone), the rest of the body becomes a message of its own with no
 * header, read and handed over as any other.
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

/* Session data bodies at least this large are spliced off the link. */
#define MUX_SPLICE_BODY		(16 * 1024)
/* Enough to see a P frame's header whole: SESS, tid, length, id, P. */
#define MUX_SPLICE_PEEK		128
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
	(void)fcntl(mux_splice_pipe[1], F_SETPIPE_SZ, MUX_FRAME_MAX);
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
	/* max is within the session's room, which caps a frame already. */
	if (max > mux_splice_cap)
		max = mux_splice_cap;
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

/*
 * Tell whether message m, whose header was just read, is bulk session
 * data to splice from the link: a large P frame and nothing else, on an
 * esp/1 link (a legacy peer's sessions are paced by reading the link,
 * frame by frame).
 */
int
mux_link_splice_wanted(struct mux_link *l, const struct textnet_msg *m)
{
	return (!mux_splice_off && l->established && l->esp &&
	    !m->response && m->body_len >= MUX_SPLICE_BODY &&
	    m->nargs == 2 && strcmp(m->code, "SESS") == 0 &&
	    strcmp(m->args[1], "P") == 0);
}

/*
 * The length of the next message's header, peeked at so that the link
 * reads it alone and leaves the body to be spliced; 0 when the whole
 * header is not there yet (read as usual).
 */
size_t
mux_link_splice_peek(struct mux_link *l)
{
	char	 peek[MUX_SPLICE_PEEK], *nl;
	ssize_t	 n;

	n = recv(l->fd, peek, sizeof(peek), MSG_PEEK);
	if (n <= 0 || (nl = memchr(peek, '\n', n)) == NULL)
		return (0);
	return (nl - peek + 1);
}

/*
 * A wanted P frame's header is read and none of its body: drop the
 * header from the input and splice the body as it comes.
 */
void
mux_link_splice_start(struct mux_link *l)
{
	uint64_t	id;

	if (textnet_parse_number(l->msg.args[0], strlen(l->msg.args[0]),
	    &id) == -1)
		return;		/* mux_session_message says what is wrong */
	buf_drain(&l->in, l->msg_hlen);
	l->have_msg = 0;
	l->body_id = id;
	l->body_left = l->msg.body_len;
	(void)mux_link_splice_body(l);
}

/*
 * Splice what the link has of the body in progress to its session.
 * Returns 1 when that is all there is to do now (the link may have
 * closed), 0 when the rest of the body must be read and copied instead:
 * it is then l->msg, a message with no header left, for mux_link_parse.
 */
int
mux_link_splice_body(struct mux_link *l)
{
	ssize_t	n;

	n = mux_session_splice_data(l, l->body_id, l->body_left);
	if (n > 0) {
		l->body_left -= n;
		l->bytes_rx += n;
		l->last_rx = ev_now();
		l->awaiting = 0;
		l->splice_next = 1;
		return (1);
	}
	if (n == 0) {
		mux_link_close(l, "closed by peer");
		return (1);
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return (1);
	if (errno != EOPNOTSUPP && errno != ENOBUFS) {
		mux_link_close(l, strerror(errno));
		return (1);
	}
	l->have_msg = 1;
	l->msg_hlen = 0;
	l->msg.body_len = l->body_left;
	l->body_left = 0;
	l->splice_next = 0;
	return (0);
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

/* No splice: every body is read and copied. */
int
mux_link_splice_wanted(struct mux_link *l, const struct textnet_msg *m)
{
	return (0);
}

/* Never called: nothing is wanted spliced. */
size_t
mux_link_splice_peek(struct mux_link *l)
{
	return (0);
}

/* Never called: nothing is wanted spliced. */
void
mux_link_splice_start(struct mux_link *l)
{
}

/* Never called: nothing is wanted spliced. */
int
mux_link_splice_body(struct mux_link *l)
{
	return (0);
}

/* Nothing to release. */
void
mux_link_splice_release(struct mux_link *l)
{
}

#endif
