/*
 * The socket end behind stream.h.  One read per readiness event keeps
 * the loop fair between tunnels; the 64 KiB read buffer is shared by all
 * streams because bytes never stay in it past the call that filled it.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "stream.h"
#include "xmalloc.h"

#define STREAM_READ_SIZE	(128 * 1024)

static unsigned char	stream_scratch[STREAM_READ_SIZE];

static size_t	stream_room(struct end *);
static void	stream_write(struct end *, const void *, size_t);
static size_t	stream_pending(struct end *);
static void	stream_finish(struct end *);
static void	stream_resume(struct end *);
static void	stream_reset(struct end *);
static void	stream_free(struct end *);
static void	stream_io_cb(int, int, void *);

static const struct end_ops stream_ops = {
	stream_room,
	stream_write,
	stream_pending,
	stream_finish,
	stream_resume,
	stream_reset,
	stream_free
};

/* Wrap a connected non-blocking socket; it is silent until stream_start. */
struct stream *
stream_new(int fd)
{
	struct stream	*s;

	s = xcalloc(1, sizeof(*s));
	s->end.ops = &stream_ops;
	s->fd = fd;
	buf_init(&s->out);
	ev_io_set(fd, 0, stream_io_cb, s);
	return (s);
}

/* Start reading; the stream must already belong to a relay. */
void
stream_start(struct stream *s)
{
	if (s->fd != -1 && !s->end.eof)
		ev_io_add(s->fd, EV_READ);
}

/* The most a stream reads at once (for tests and the benchmark). */
size_t
stream_read_size(void)
{
	return (STREAM_READ_SIZE);
}

static void
stream_read(struct stream *s)
{
	size_t	room;
	ssize_t	n;

	room = relay_room(&s->end);
	if (room == 0) {
		s->paused = 1;
		ev_io_remove(s->fd, EV_READ);
		return;
	}
	if (room > sizeof(stream_scratch))
		room = sizeof(stream_scratch);
	n = read(s->fd, stream_scratch, room);
	if (n > 0)
		relay_input(&s->end, stream_scratch, n);
	else if (n == 0) {
		ev_io_remove(s->fd, EV_READ);
		relay_eof(&s->end);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		relay_reset(&s->end, errno == ECONNRESET ? "reset" :
		    "read-error");
}

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

static void
stream_flush(struct stream *s)
{
	ssize_t	n;

	n = buf_write_fd(&s->out, s->fd);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		relay_reset(&s->end, errno == EPIPE || errno == ECONNRESET ?
		    "reset" : "write-error");
		return;
	}
	if (buf_len(&s->out) == 0) {
		ev_io_remove(s->fd, EV_WRITE);
		if (s->shut_pending) {
			stream_shutdown(s);
			if (relay_dead(s->end.relay))
				return;
		}
	}
	if (n > 0)
		relay_drained(&s->end);
}

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

static size_t
stream_room(struct end *e)
{
	struct stream	*s = (struct stream *)e;
	size_t		 len = buf_len(&s->out);

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
	if (buf_len(&s->out) == 0) {
		n = write(s->fd, data, len);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				relay_reset(e, errno == EPIPE ||
				    errno == ECONNRESET ? "reset" :
				    "write-error");
				return;
			}
			n = 0;
		}
		if ((size_t)n == len)
			return;
		ev_io_add(s->fd, EV_WRITE);
	}
	buf_add(&s->out, (const unsigned char *)data + n, len - n);
}

static size_t
stream_pending(struct end *e)
{
	return (buf_len(&((struct stream *)e)->out));
}

static void
stream_finish(struct end *e)
{
	struct stream	*s = (struct stream *)e;

	if (s->fd == -1)
		return;
	if (buf_len(&s->out) == 0)
		stream_shutdown(s);
	else
		s->shut_pending = 1;
}

static void
stream_resume(struct end *e)
{
	struct stream	*s = (struct stream *)e;

	if (s->paused && s->fd != -1) {
		s->paused = 0;
		ev_io_add(s->fd, EV_READ);
	}
}

static void
stream_close(struct stream *s)
{
	if (s->fd != -1) {
		ev_io_del(s->fd);
		close(s->fd);
		s->fd = -1;
	}
	buf_free(&s->out);
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

static void
stream_free(struct end *e)
{
	struct stream	*s = (struct stream *)e;

	stream_close(s);
	free(s);
}
