/*
 * The socket end behind stream.h.  One read per readiness event keeps
 * the loop fair between tunnels; the read buffer is shared by all
 * streams because bytes never stay in it past the call that filled it.
 *
 * Order of a stream's pending output: bytes in its splice pipe come
 * before bytes in its buffer.  A producer splices only while the buffer
 * is empty, and copies go to the buffer while the pipe holds anything,
 * so bytes leave in the order they came.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "stream.h"
#include "xmalloc.h"

#define STREAM_READ_SIZE	(128 * 1024)

/*
 * A stream splices once its reads come in large (bulk transfer) and goes
 * back to plain reads when they turn small: for a few bytes, read and
 * write are cheaper than the two trips through a pipe.
 */
#define STREAM_SPLICE_ABOVE	(16 * 1024)
#define STREAM_SPLICE_BELOW	(4 * 1024)

/*
 * A paused producer is resumed once its consumer has this much room
 * again, not after every few bytes it sends: against a slow consumer
 * that would mean many tiny reads or splices, and small splices turn
 * bulk mode off.
 */
#define STREAM_RESUME_ROOM	(STREAM_CAP / 2)

/* Empty pipes kept for the next splice, so idle tunnels hold none. */
#define STREAM_PIPE_POOL	32

/* Which way a system call failed, for the access log's reason. */
enum stream_dir {
	STREAM_READING,
	STREAM_WRITING
};

static unsigned char	stream_scratch[STREAM_READ_SIZE];
#ifdef HAVE_SPLICE
static struct {
	int	fd[2];
	size_t	cap;
}			stream_pipes[STREAM_PIPE_POOL];
static int		stream_npipes;
static size_t		stream_count;		/* streams alive */
static int		stream_splice_off;	/* the kernel refused it once */
#endif

static size_t	stream_room(struct end *);
static void	stream_write(struct end *, const void *, size_t);
static size_t	stream_pending(struct end *);
static void	stream_finish(struct end *);
static void	stream_resume(struct end *);
static void	stream_reset(struct end *);
static void	stream_free(struct end *);
static void	stream_io_cb(int, int, void *);
static void	stream_flush(struct stream *);
static int	stream_again(int);
static void	stream_fail(struct stream *, enum stream_dir);
static void	stream_end_start(struct end *);
#ifdef HAVE_SPLICE
static ssize_t	stream_splice_from(struct end *, int, size_t);
static void	stream_pipe_release(struct stream *);
#endif
static int	stream_splice_out(struct stream *, struct end *, size_t);

static const struct end_ops stream_ops = {
	stream_room,
	stream_write,
	stream_pending,
	stream_finish,
	stream_resume,
	stream_end_start,
	stream_reset,
	stream_free,
#ifdef HAVE_SPLICE
	stream_splice_from
#else
	NULL
#endif
};

/* Tell whether a read or write failed with error only for now. */
static int
stream_again(int error)
{
	return (error == EAGAIN || error == EWOULDBLOCK || error == EINTR);
}

/* Abort s's tunnel after a failed read or write, saying why from errno. */
static void
stream_fail(struct stream *s, enum stream_dir dir)
{
	const char	*why;

	if (errno == ECONNRESET || (dir == STREAM_WRITING && errno == EPIPE))
		why = "reset";
	else
		why = dir == STREAM_WRITING ? "write-error" : "read-error";
	relay_reset(&s->end, why);
}

/* Wrap a connected non-blocking socket; it is silent until stream_start. */
struct stream *
stream_new(int fd)
{
	struct stream	*s;

	s = xcalloc(1, sizeof(*s));
	s->end.ops = &stream_ops;
	s->fd = fd;
	s->pipe[0] = s->pipe[1] = -1;
#ifdef HAVE_SPLICE
	stream_count++;
#endif
	buf_init(&s->out);
	ev_io_set(fd, 0, stream_io_cb, s);
	return (s);
}

/* Start reading; the stream must already belong to a relay. */
void
stream_start(struct stream *s)
{
	if (s->fd != -1 && !s->end.eof)
		ev_io_enable(s->fd, EV_READ);
}

/*
 * Pass what s reads through filter first (an HTTP request's body end:
 * client-http.c); such a stream is never spliced.
 */
void
stream_set_filter(struct stream *s, stream_filter_cb filter, void *arg)
{
	s->filter = filter;
	s->filter_arg = arg;
}

/* The relay's start: begin reading. */
static void
stream_end_start(struct end *e)
{
	stream_start((struct stream *)e);
}

/* The most a stream reads at once (for tests and the benchmark). */
size_t
stream_read_size(void)
{
	return (STREAM_READ_SIZE);
}

#ifdef HAVE_SPLICE
/* Give a stream a pipe, from the pool or new; -1 if none can be had. */
static int
stream_pipe_take(struct stream *s)
{
	int	size;

	if (stream_npipes > 0) {
		stream_npipes--;
		s->pipe[0] = stream_pipes[stream_npipes].fd[0];
		s->pipe[1] = stream_pipes[stream_npipes].fd[1];
		s->pipe_cap = stream_pipes[stream_npipes].cap;
		return (0);
	}
#ifdef HAVE_PIPE2
	if (pipe2(s->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		s->pipe[0] = s->pipe[1] = -1;
		return (-1);
	}
#else
	if (pipe(s->pipe) == -1) {
		s->pipe[0] = s->pipe[1] = -1;
		return (-1);
	}
	(void)fcntl(s->pipe[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(s->pipe[1], F_SETFL, O_NONBLOCK);
	(void)fcntl(s->pipe[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(s->pipe[1], F_SETFD, FD_CLOEXEC);
#endif
	size = 65536;
#if defined(F_SETPIPE_SZ) && defined(F_GETPIPE_SZ)
	(void)fcntl(s->pipe[1], F_SETPIPE_SZ, STREAM_CAP);
	if ((size = fcntl(s->pipe[1], F_GETPIPE_SZ)) <= 0)
		size = 65536;
#endif
	s->pipe_cap = size;
	return (0);
}

/* Give the pipe back: to the pool when empty, else close it. */
static void
stream_pipe_release(struct stream *s)
{
	if (s->pipe[0] == -1)
		return;
	if (s->piped == 0 && stream_npipes < STREAM_PIPE_POOL) {
		stream_pipes[stream_npipes].fd[0] = s->pipe[0];
		stream_pipes[stream_npipes].fd[1] = s->pipe[1];
		stream_pipes[stream_npipes].cap = s->pipe_cap;
		stream_npipes++;
	} else {
		close(s->pipe[0]);
		close(s->pipe[1]);
	}
	s->pipe[0] = s->pipe[1] = -1;
	s->piped = 0;
	s->pipe_full_at = 0;
}

/*
 * The splice_from of a stream: move up to len bytes from socket fd into
 * e's pipe, without copying them to user space, and send what its
 * socket takes.  Returns the bytes moved, 0 at fd's end, or -1 with
 * errno: EOPNOTSUPP when e cannot take spliced bytes (bytes wait in its
 * buffer, which must go first; no pipe), ENOBUFS when its pipe is full
 * (e resumes its producer once drained), EAGAIN when fd has nothing,
 * anything else from reading fd.  e's tunnel may be over on return.
 */
static ssize_t
stream_splice_from(struct end *e, int fd, size_t len)
{
	struct stream	*d = (struct stream *)e;
	ssize_t		 n;
	size_t		 room;
	int		 avail;

	if (stream_splice_off || buf_len(&d->out) > 0 || d->fd == -1 ||
	    (d->pipe[0] == -1 && stream_pipe_take(d) == -1)) {
		errno = EOPNOTSUPP;
		return (-1);
	}
	room = d->pipe_cap > d->piped ? d->pipe_cap - d->piped : 0;
	if (len > room)
		len = room;
	if (len == 0) {
		d->pipe_full_at = d->piped;
		errno = ENOBUFS;
		return (-1);
	}
	n = splice(fd, NULL, d->pipe[1], NULL, len,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n > 0) {
		d->piped += n;
		stream_flush(d);
		return (n);
	}
	if (n == -1 && stream_again(errno) && d->piped > 0 &&
	    ioctl(fd, FIONREAD, &avail) == 0 && avail > 0) {
		/*
		 * A pipe holds a number of page fragments as well as a
		 * number of bytes: data that came in small pieces fills its
		 * slots first, and splice refuses while piped < pipe_cap.
		 * fd has bytes, so this is a full pipe, as by bytes.
		 */
		d->pipe_full_at = d->piped;
		errno = ENOBUFS;
		return (-1);
	}
	if (n == -1 && (errno == EINVAL || errno == ENOSYS ||
	    errno == EOPNOTSUPP)) {
		/* Not for these descriptors: copy from now on. */
		log_debug("splice: %s; copying instead", strerror(errno));
		stream_splice_off = 1;
		errno = EOPNOTSUPP;
	}
	if (d->piped == 0)
		stream_pipe_release(d);
	return (n);
}
#endif

/*
 * Move up to room bytes from s to a peer end that takes them without a
 * copy (another stream, or a session on a worker link).  Returns 1 when
 * done (data moved, EOF, nothing to read, or s failed), 0 when the
 * caller should read and copy.
 */
static int
stream_splice_out(struct stream *s, struct end *peer, size_t room)
{
	ssize_t	n;

	if (relay_dead(s->end.relay) || peer->closed)
		return (0);
	n = peer->ops->splice_from(peer, s->fd, room);
	if (n > 0) {
		if (n < STREAM_SPLICE_BELOW)
			s->bulk = 0;
		relay_moved(&s->end, n);
		return (1);
	}
	if (n == 0) {
		ev_io_disable(s->fd, EV_READ);
		relay_eof(&s->end);
		return (1);
	}
	if (errno == EOPNOTSUPP)
		return (0);
	if (errno == ENOBUFS) {
		/* The peer is full or busy: it resumes s when it drains. */
		s->paused = 1;
		ev_io_disable(s->fd, EV_READ);
		return (1);
	}
	if (!stream_again(errno))
		stream_fail(s, STREAM_READING);
	return (1);
}

/* Read once from s and hand the bytes to its peer, or pause for room. */
static void
stream_read(struct stream *s)
{
	size_t	room;
	ssize_t	n;

	room = relay_room(&s->end);
	if (room == 0) {
		s->paused = 1;
		ev_io_disable(s->fd, EV_READ);
		return;
	}
	if (s->bulk && s->filter == NULL &&
	    relay_peer(&s->end)->ops->splice_from != NULL &&
	    stream_splice_out(s, relay_peer(&s->end), room))
		return;
	if (room > sizeof(stream_scratch))
		room = sizeof(stream_scratch);
	n = read(s->fd, stream_scratch, room);
	if (n >= STREAM_SPLICE_ABOVE)
		s->bulk = 1;
	if (n > 0 && s->filter != NULL) {
		if ((n = s->filter(stream_scratch, n, s->filter_arg)) == -1) {
			relay_reset(&s->end, "bad-request");
			return;
		}
		if (n == 0)
			return;
	}
	if (n > 0)
		relay_input(&s->end, stream_scratch, n);
	else if (n == 0) {
		ev_io_disable(s->fd, EV_READ);
		relay_eof(&s->end);
	} else if (!stream_again(errno))
		stream_fail(s, STREAM_READING);
}

/* Half-close s towards its socket: every pending byte has been sent. */
static void
stream_shutdown(struct stream *s)
{
	s->shut_pending = 0;
	/*
	 * If this socket already gave its EOF and the other end is done,
	 * the tunnel ends now and close() sends the FIN (the receive queue
	 * is empty, so it is no RST): save the system call.
	 */
	if (!s->end.eof || !relay_peer(&s->end)->closed)
		(void)shutdown(s->fd, SHUT_WR);
	relay_closed(&s->end);
}

/*
 * Tell whether s has drained enough to resume its producer: room for
 * STREAM_RESUME_ROOM bytes, and when the producer stopped on a full pipe
 * (by bytes, or out of slots with bytes to spare), half of it emptied.
 */
static int
stream_resume_due(struct stream *s)
{
	if (stream_room(&s->end) < STREAM_RESUME_ROOM)
		return (0);
	return (s->pipe_full_at == 0 || s->piped <= s->pipe_full_at / 2);
}

/* Send pending output: the pipe's bytes first, then the buffer's. */
static void
stream_flush(struct stream *s)
{
	ssize_t	n;
	int	progress = 0;

#ifdef HAVE_SPLICE
	if (s->piped > 0) {
		n = splice(s->pipe[0], NULL, s->fd, NULL, s->piped,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n == -1 && !stream_again(errno)) {
			stream_fail(s, STREAM_WRITING);
			return;
		}
		if (n > 0) {
			s->piped -= n;
			progress = 1;
		}
		if (s->piped == 0)
			stream_pipe_release(s);
	}
#endif
	if (s->piped == 0 && buf_len(&s->out) > 0) {
		n = buf_write_fd(&s->out, s->fd);
		if (n == -1 && !stream_again(errno)) {
			stream_fail(s, STREAM_WRITING);
			return;
		}
		if (n > 0)
			progress = 1;
	}
	if (s->piped == 0 && buf_len(&s->out) == 0) {
		ev_io_disable(s->fd, EV_WRITE);
		if (s->shut_pending) {
			stream_shutdown(s);
			if (relay_dead(s->end.relay))
				return;
		}
	} else
		ev_io_enable(s->fd, EV_WRITE);
	if (progress) {
		relay_sent(&s->end);
		if (stream_resume_due(s)) {
			s->pipe_full_at = 0;
			relay_drained(&s->end);
		}
	}
}

/* The reactor's callback: flush pending output first, then read. */
static void
stream_io_cb(int fd, int events, void *arg)
{
	struct stream	*s = arg;

	if (events & EV_WRITE) {
		stream_flush(s);
		if (s->fd == -1 || relay_dead(s->end.relay))
			return;
	}
	if (events & EV_READ)
		stream_read(s);
}

/* How many bytes e can take before its pending output reaches the cap. */
static size_t
stream_room(struct end *e)
{
	struct stream	*s = (struct stream *)e;
	size_t		 len = buf_len(&s->out) + s->piped;

	return (len >= STREAM_CAP ? 0 : STREAM_CAP - len);
}

/* Send at once what the kernel takes; buffer the rest. */
static void
stream_write(struct end *e, const void *data, size_t len)
{
	struct stream	*s = (struct stream *)e;
	ssize_t		 n = 0;

	if (s->fd == -1 || len == 0)
		return;
	if (buf_len(&s->out) == 0 && s->piped == 0) {
		n = write(s->fd, data, len);
		if (n == -1) {
			if (!stream_again(errno)) {
				stream_fail(s, STREAM_WRITING);
				return;
			}
			n = 0;
		}
		if ((size_t)n == len)
			return;
		ev_io_enable(s->fd, EV_WRITE);
	}
	buf_add(&s->out, (const unsigned char *)data + n, len - n);
}

/* Bytes e holds for its socket: in the splice pipe and the buffer. */
static size_t
stream_pending(struct end *e)
{
	struct stream	*s = (struct stream *)e;

	return (buf_len(&s->out) + s->piped);
}

/* No more bytes will come for e: half-close once pending is sent. */
static void
stream_finish(struct end *e)
{
	struct stream	*s = (struct stream *)e;

	if (s->fd == -1)
		return;
	if (buf_len(&s->out) == 0 && s->piped == 0)
		stream_shutdown(s);
	else
		s->shut_pending = 1;
}

/* The peer has room again: read e's socket again if it was paused. */
static void
stream_resume(struct end *e)
{
	struct stream	*s = (struct stream *)e;

	if (s->paused && s->fd != -1) {
		s->paused = 0;
		ev_io_enable(s->fd, EV_READ);
	}
}

/* Close s's socket and give back its buffer and pipe. */
static void
stream_close(struct stream *s)
{
	if (s->fd != -1) {
		ev_io_del(s->fd);
		close(s->fd);
		s->fd = -1;
	}
	buf_free(&s->out);
#ifdef HAVE_SPLICE
	stream_pipe_release(s);
#endif
}

/* Abort: a reset reaches the peer as RST, not as an orderly EOF. */
static void
stream_reset(struct end *e)
{
	struct stream	*s = (struct stream *)e;
	struct linger	 l = { 1, 0 };

	if (s->fd != -1 && !e->relay->gentle)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	stream_close(s);
}

/* Free e; with the last stream gone, close the pooled pipes too. */
static void
stream_free(struct end *e)
{
	struct stream	*s = (struct stream *)e;

	stream_close(s);
	free(s);
#ifdef HAVE_SPLICE
	/* The last tunnel is gone: give the pooled pipes back too. */
	if (--stream_count == 0) {
		while (stream_npipes > 0) {
			stream_npipes--;
			close(stream_pipes[stream_npipes].fd[0]);
			close(stream_pipes[stream_npipes].fd[1]);
		}
	}
#endif
}
