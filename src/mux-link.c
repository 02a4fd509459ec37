/*
 * The link half of the multiplexed worker link behind mux.h: text-net
 * framing on a non-blocking socket, reading and dispatching messages,
 * flushing, and closing.  SESS messages go to mux-session.c, everything
 * else to the link's owner (pool-link.c on the server, worker.c on the worker).
 *
 * Sending: a frame header and its body go out in one writev when the
 * link's output buffer is empty; otherwise both are queued.  Small frames
 * are queued and every link that queued any is flushed once before the
 * loop waits again.
 *
 * Receiving: a message is dispatched while its body still sits in the
 * input buffer, so session data goes straight to the session's relay
 * peer; a large body is spliced there without being read at all
 * (mux-splice.c).  With a legacy peer, reading the link stops while any
 * session's output is full (mux-session.c counts them in legacy_full).
 *
 * Until the owner calls mux_link_establish (the handshake is done: the
 * worker registered, or the server proved itself) the link takes only
 * what its owner accepts as handshake: no SESS, no body, reads of at
 * most a header's size, and a message the owner does not take closes
 * the link.  An unproven peer can make it act on nothing, nor make it
 * buffer more than a few KiB.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "mux-int.h"
#include "relay.h"
#include "sock.h"
#include "stats.h"
#include "textnet.h"
#include "xmalloc.h"

#define MUX_READ_SIZE		(256 * 1024)
/* Reads before the handshake is done: one header's worth at most. */
#define MUX_HANDSHAKE_READ	TEXTNET_MAX_HEADER
/*
 * A body this large goes out at once with its header in one writev when
 * nothing is queued; smaller frames are queued and the link is flushed
 * once before the loop waits again, so the many small frames of a round
 * (S, A, W, F of many sessions) cost one write.
 */
#define MUX_DIRECT_WRITE	8192
#define MUX_CLOSE_GRACE_MS	5000

static TAILQ_HEAD(, mux_link)	mux_link_dirty =
    TAILQ_HEAD_INITIALIZER(mux_link_dirty);

static void	mux_link_io_cb(int, int, void *);
static void	mux_link_parse(struct mux_link *);
static void	mux_link_resume_cb(void *);
static void	mux_link_flush(struct mux_link *);
static void	mux_link_flush_dirty(void);

/* Take over a connected socket as a link; it starts reading at once. */
struct mux_link *
mux_link_new(int fd, enum mux_side side, const struct mux_link_ops *ops,
    void *owner)
{
	struct mux_link	*l;

	l = xcalloc(1, sizeof(*l));
	l->fd = fd;
	l->pipe[0] = l->pipe[1] = -1;
	l->side = side;
	l->ops = ops;
	l->owner = owner;
	l->peer_window = MUX_WINDOW_DEFAULT;
	l->next_id = side == MUX_ACCEPTOR ? 1 : 2;
	l->table_size = 64;
	l->table = xcalloc(l->table_size, sizeof(*l->table));
	l->last_rx = l->last_tx = ev_now();
	buf_init(&l->in);
	buf_init(&l->out);
	TAILQ_INIT(&l->blocked);
	ev_timer_init(&l->close_timer, NULL, l);
	ev_timer_init(&l->resume_timer, mux_link_resume_cb, l);
	sock_set_nodelay(fd);
	ev_io_set(fd, EV_READ, mux_link_io_cb, l);
	ev_prepare_add(mux_link_flush_dirty);
	return (l);
}

/* The owner given to mux_link_new. */
void *
mux_link_owner(struct mux_link *l)
{
	return (l->owner);
}

/* Name the link for log lines (the peer address, later the worker name). */
void
mux_link_set_name(struct mux_link *l, const char *name)
{
	strlcpy(l->name, name, sizeof(l->name));
}

/* The link's name for log lines. */
const char *
mux_link_name(struct mux_link *l)
{
	return (l->name);
}

/*
 * The handshake is done: sessions may flow from now on.  Record whether
 * the peer speaks esp/1, and its receive window.
 */
void
mux_link_establish(struct mux_link *l, int esp, uint32_t peer_window)
{
	l->established = 1;
	l->esp = esp;
	l->peer_window = peer_window;
}

/* Tell whether the peer speaks esp/1 (windows, A and W). */
int
mux_link_esp(struct mux_link *l)
{
	return (l->esp);
}

/* Sessions open on the link. */
size_t
mux_link_sessions(struct mux_link *l)
{
	return (l->count);
}

/* When the peer last sent anything (monotonic ms). */
uint64_t
mux_link_last_rx(struct mux_link *l)
{
	return (l->last_rx);
}

/* When we last sent anything (monotonic ms). */
uint64_t
mux_link_last_tx(struct mux_link *l)
{
	return (l->last_tx);
}

/*
 * Expect the peer to send something: a live peer answers a SESS frame
 * or a request (a command with a tid) sooner or later, and a ping at
 * once.  Anything received ends the wait; mux_link_awaiting says since
 * when the link has waited (pool-health.c's liveness deadline).
 */
void
mux_link_expect(struct mux_link *l)
{
	if (!l->awaiting) {
		l->awaiting = 1;
		l->await_since = ev_now();
	}
}

/* Tell whether the link waits for the peer, and since when (ms). */
int
mux_link_awaiting(struct mux_link *l, uint64_t *since)
{
	if (l->awaiting && since != NULL)
		*since = l->await_since;
	return (l->awaiting);
}

/* Bytes sent (sent != 0) or received on the link. */
uint64_t
mux_link_bytes(struct mux_link *l, int sent)
{
	return (sent ? l->bytes_tx : l->bytes_rx);
}

/* A fresh transaction id for a request or a SESS message. */
uint64_t
mux_link_next_tid(struct mux_link *l)
{
	return (++l->tid);
}

/* Send or queue one frame; a failed write is noticed by the flush. */
static void
mux_link_send_frame(struct mux_link *l, const char *hdr, size_t hlen,
    const void *body, size_t blen)
{
	struct iovec	iov[2];
	ssize_t		n = 0;

	if (l->dead || l->fd == -1)
		return;
	l->last_tx = ev_now();
	l->bytes_tx += hlen + blen;
	if (mux_link_queued(l) == 0 && !l->write_failed &&
	    blen < MUX_DIRECT_WRITE) {
		buf_add(&l->out, hdr, hlen);
		buf_add(&l->out, body, blen);
		if (!l->dirty) {
			l->dirty = 1;
			TAILQ_INSERT_TAIL(&mux_link_dirty, l, dirty_entry);
		}
		return;
	}
	if (mux_link_queued(l) == 0 && !l->write_failed) {
		iov[0].iov_base = (void *)hdr;
		iov[0].iov_len = hlen;
		iov[1].iov_base = (void *)body;
		iov[1].iov_len = blen;
		n = writev(l->fd, iov, blen > 0 ? 2 : 1);
		if (n == -1) {
			/* Let the write callback close from a clean stack. */
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				l->write_failed = 1;
			n = 0;
		}
		if ((size_t)n == hlen + blen)
			return;
		ev_io_enable(l->fd, EV_WRITE);
	}
	if ((size_t)n < hlen) {
		buf_add(&l->out, hdr + n, hlen - n);
		buf_add(&l->out, body, blen);
	} else
		buf_add(&l->out, (const char *)body + (n - hlen),
		    blen - (n - hlen));
	if (buf_len(&l->out) > MUX_LINK_HARD_CAP)
		l->write_failed = 1;
}

/* Bytes waiting to go out on the link: spliced, then buffered. */
size_t
mux_link_queued(struct mux_link *l)
{
	return (l->piped + buf_len(&l->out));
}

/* Format a message header and send it with its body. */
static void
mux_link_send_message(struct mux_link *l, const char *code, uint64_t tid,
    const void *body, size_t blen, int nargs, const char *const *args)
{
	char	hdr[TEXTNET_MAX_HEADER];
	size_t	hlen;

	hlen = textnet_format(hdr, sizeof(hdr), code, tid, blen, nargs, args);
	if (hlen == 0)
		fatalx("mux: header for %s does not fit", code);
	/* A command with a tid wants an answer: SESS, a ping (not 100). */
	if (tid != 0 && code[0] >= 'A' && code[0] <= 'Z')
		mux_link_expect(l);
	mux_link_send_frame(l, hdr, hlen, body, blen);
}

/* Send a message without a body; tid 0 is a notification. */
uint64_t
mux_link_send(struct mux_link *l, const char *code, uint64_t tid, int nargs,
    const char *const *args)
{
	mux_link_send_message(l, code, tid, NULL, 0, nargs, args);
	return (tid);
}

/* Send a control message that linkmsg built (HELO, RGST, PING...). */
void
mux_link_send_control(struct mux_link *l, const struct linkmsg_out *o)
{
	mux_link_send_message(l, o->code, o->tid, NULL, 0, o->nargs, o->args);
}

/* Send a SESS message for session id with flags, args and a body. */
void
mux_link_send_session(struct mux_link *l, uint64_t id, const char *flags,
    const void *body, size_t blen, int nargs, const char *const *extra)
{
	const char	*args[8];
	char		 idstr[24];
	int		 i;

	snprintf(idstr, sizeof(idstr), "%llu", (unsigned long long)id);
	args[0] = idstr;
	args[1] = flags;
	for (i = 0; i < nargs && i < 6; i++)
		args[2 + i] = extra[i];
	mux_link_send_message(l, "SESS", ++l->tid, body, blen, 2 + i, args);
}

/*
 * Hand one message to the sessions or the owner; drop the link on error.
 * Before the handshake is done, only the owner sees messages, and one it
 * does not take drops the link.
 */
static void
mux_link_dispatch(struct mux_link *l, const struct textnet_msg *m,
    const unsigned char *body)
{
	const char	*why = NULL, *arg;
	char		 early[64];
	int		 rc;

	if (!l->established) {
		rc = 0;
		if (m->response || strcmp(m->code, "SESS") != 0)
			rc = l->ops->message(l, m, body, &why);
		else
			rc = 1;
		if (rc == 1) {
			snprintf(early, sizeof(early), "%s before registration",
			    m->code);
			why = early;
			rc = -1;
		}
	} else if (!m->response && strcmp(m->code, "SESS") == 0)
		rc = mux_session_message(l, m, body, &why);
	else {
		rc = l->ops->message(l, m, body, &why);
		if (rc == 1 && !m->response) {
			arg = "unknown_command";
			mux_link_send_message(l, "201", m->tid, NULL, 0, 1,
			    &arg);
			rc = 0;
		}
	}
	if (rc == -1 && !l->dead)
		mux_link_fail(l, why != NULL ? why : "protocol error");
}

/*
 * A legacy session drained: read the link again, and parse what was
 * already buffered from a timer (the socket may have nothing new).
 */
void
mux_link_unpause(struct mux_link *l)
{
	ev_io_enable(l->fd, EV_READ);
	ev_timer_start(&l->resume_timer, 0);
}

/* Parse what was buffered while a legacy session was full. */
static void
mux_link_resume_cb(void *arg)
{
	struct mux_link	*l = arg;

	if (!l->dead && !l->closing && l->legacy_full == 0)
		mux_link_parse(l);
}

/* Read what the socket has and parse it. */
static void
mux_link_read(struct mux_link *l)
{
	ssize_t			 n;
	size_t			 max, hlen;

	/* A body being spliced goes first (mux-splice.c). */
	if (l->body_left > 0 && mux_link_splice_body(l))
		return;
	max = l->established ? MUX_READ_SIZE : MUX_HANDSHAKE_READ;
	/* Bulk data: read the next header alone, to splice its body. */
	if (l->splice_next && !l->have_msg && buf_len(&l->in) == 0 &&
	    (hlen = mux_link_splice_peek(l)) > 0)
		max = hlen;
	n = buf_read_fd(&l->in, l->fd, max);
	if (n == 0) {
		mux_link_close(l, "closed by peer");
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			mux_link_close(l, strerror(errno));
		return;
	}
	l->last_rx = ev_now();
	l->awaiting = 0;
	l->bytes_rx += n;
	mux_link_parse(l);
}

/* Dispatch every complete message in the input buffer. */
static void
mux_link_parse(struct mux_link *l)
{
	const char		*why, *arg = "invalid_command";
	char			 early[64];
	enum textnet_parse	 r;
	size_t			 used, need;

	while (!l->dead && !l->closing) {
		if (!l->have_msg) {
			if (buf_len(&l->in) == 0)
				break;
			r = textnet_parse_header((const char *)buf_head(&l->in),
			    buf_len(&l->in), &used, &l->msg, &why);
			if (r == TEXTNET_PARSE_NEED)
				break;
			if (r == TEXTNET_PARSE_ERROR) {
				stats_link_error();
				l->failed = 1;
				mux_link_send_message(l, "201", 0, NULL, 0, 1,
				    &arg);
				mux_link_close_after_flush(l, why);
				return;
			}
			l->have_msg = 1;
			l->msg_hlen = used;
			/* No handshake message has a body: do not wait for it. */
			if (!l->established && l->msg.body_len > 0) {
				snprintf(early, sizeof(early), "%s with a body "
				    "before registration", l->msg.code);
				mux_link_fail(l, early);
				return;
			}
		}
		need = l->msg_hlen + l->msg.body_len;
		if (buf_len(&l->in) < need) {
			/* Only the header is here: splice the body? */
			if (buf_len(&l->in) == l->msg_hlen &&
			    l->msg_hlen > 0 &&
			    mux_link_splice_wanted(l, &l->msg))
				mux_link_splice_start(l);
			break;
		}
		/*
		 * After bulk data, read the next header alone (the rest of
		 * a body that could not be spliced does not count).
		 */
		if (l->msg_hlen > 0)
			l->splice_next = mux_link_splice_wanted(l, &l->msg);
		mux_link_dispatch(l, &l->msg, buf_head(&l->in) + l->msg_hlen);
		if (l->dead)
			return;
		l->have_msg = 0;
		buf_drain(&l->in, need);
		/* A legacy session filled up: stop here until it drains. */
		if (l->legacy_full > 0)
			break;
	}
}

/* Write out the queued output and wake sessions waiting for room. */
static void
mux_link_flush(struct mux_link *l)
{
	struct mux_session	*s;
	ssize_t			 n;

	if (l->write_failed) {
		if (buf_len(&l->out) > MUX_LINK_HARD_CAP)
			mux_link_fail(l, "peer is not reading");
		else
			mux_link_close(l, "write failed");
		return;
	}
	/* A spliced frame's rest goes first, then what queued behind it. */
	n = mux_link_splice_flush(l);
	if (n == 0)
		n = buf_write_fd(&l->out, l->fd);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		mux_link_close(l, strerror(errno));
		return;
	}
	if (mux_link_queued(l) == 0) {
		ev_io_disable(l->fd, EV_WRITE);
		if (l->closing) {
			mux_link_close(l, l->close_why);
			return;
		}
	}
	/* Wake the sessions that waited for room on the link. */
	while (mux_link_queued(l) < MUX_LINK_ROOM / 2 &&
	    (s = TAILQ_FIRST(&l->blocked)) != NULL) {
		TAILQ_REMOVE(&l->blocked, s, blocked_entry);
		s->state &= ~MUX_STATE_BLOCKED;
		if (s->end.relay != NULL)
			relay_drained(&s->end);
		if (l->dead)
			return;
	}
}

/* Before the loop waits: write out what each link queued this round. */
static void
mux_link_flush_dirty(void)
{
	struct mux_link	*l;

	while ((l = TAILQ_FIRST(&mux_link_dirty)) != NULL) {
		TAILQ_REMOVE(&mux_link_dirty, l, dirty_entry);
		l->dirty = 0;
		if (l->dead)
			continue;
		mux_link_flush(l);
		if (!l->dead && mux_link_queued(l) > 0)
			ev_io_enable(l->fd, EV_WRITE);
	}
}

/* The socket is readable or writable. */
static void
mux_link_io_cb(int fd, int events, void *arg)
{
	struct mux_link	*l = arg;

	if (events & EV_WRITE) {
		mux_link_flush(l);
		if (l->dead)
			return;
	}
	if ((events & EV_READ) && !l->closing)
		mux_link_read(l);
	if (!l->dead && l->write_failed)
		ev_io_enable(l->fd, EV_WRITE);
}

/* Release a closed link once the loop no longer uses it. */
static void
mux_link_free(void *arg)
{
	struct mux_link	*l = arg;

	buf_free(&l->in);
	buf_free(&l->out);
	mux_link_splice_release(l);
	free(l->table);
	free(l->close_why);
	free(l);
}

/*
 * Drop the link: every session on it fails (joined ones are reset to
 * their clients, pending ones reported lost), then the owner is told.
 */
void
mux_link_close(struct mux_link *l, const char *why)
{
	struct mux_session	*s;
	size_t			 i;
	char			*reason;

	if (l->dead)
		return;
	/*
	 * Frames queued this round (a DRAIN, a session's last data and F)
	 * still deserve one try: the socket usually has room for them.
	 */
	if (mux_link_queued(l) > 0 && !l->write_failed &&
	    mux_link_splice_flush(l) == 0)
		(void)buf_write_fd(&l->out, l->fd);
	l->dead = 1;
	if (l->dirty) {
		TAILQ_REMOVE(&mux_link_dirty, l, dirty_entry);
		l->dirty = 0;
	}
	reason = xstrdup(why != NULL ? why : "closed");
	ev_timer_stop(&l->close_timer);
	ev_timer_stop(&l->resume_timer);
	ev_io_del(l->fd);
	close(l->fd);
	l->fd = -1;
	for (i = 0; i < l->table_size; i++) {
		while ((s = l->table[i]) != NULL) {
			mux_session_unlink(s);
			s->state |= MUX_STATE_RESET;
			if (s->end.relay != NULL)
				relay_reset(&s->end, "link-lost");
			else {
				if (s->cb != NULL)
					s->cb(s, MUX_SESSION_LOST, reason,
					    NULL, s->arg);
				mux_session_free_now(s);
			}
		}
	}
	l->ops->closed(l, reason);
	free(reason);
	ev_defer_free(mux_link_free, l);
}

/*
 * Drop the link for the peer's fault: a protocol error, counted.  A link
 * already closing (after a refusal or an earlier error) was accounted for
 * then: it closes now, for that first reason.
 */
void
mux_link_fail(struct mux_link *l, const char *why)
{
	if (l->dead)
		return;
	if (l->closing) {
		mux_link_close(l, l->close_why);
		return;
	}
	stats_link_error();
	l->failed = 1;
	mux_link_close(l, why);
}

/* Tell whether the link was dropped for the peer's fault (for logging). */
int
mux_link_failed(struct mux_link *l)
{
	return (l->failed);
}

/* The peer did not take the queued output in time: close anyway. */
static void
mux_link_close_timer_cb(void *arg)
{
	struct mux_link	*l = arg;

	mux_link_close(l, l->close_why);
}

/* Stop reading, send what is queued (a refusal, say), then close. */
void
mux_link_close_after_flush(struct mux_link *l, const char *why)
{
	if (l->dead || l->closing)
		return;
	l->closing = 1;
	l->close_why = xstrdup(why != NULL ? why : "closed");
	ev_io_disable(l->fd, EV_READ);
	if (mux_link_queued(l) == 0) {
		/* Nothing queued: close from the loop, not from under us. */
		ev_io_enable(l->fd, EV_WRITE);
	}
	ev_timer_init(&l->close_timer, mux_link_close_timer_cb, l);
	ev_timer_start(&l->close_timer, MUX_CLOSE_GRACE_MS);
}

/* The link socket's own address (the worker listens for BIND on it). */
void
mux_link_local(struct mux_link *l, struct sockaddr_storage *ss)
{
	sock_local(l->fd, ss);
}
