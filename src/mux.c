/*
 * The multiplexed worker link behind mux.h: text-net framing on a
 * non-blocking socket, the session table, and per-session flow control.
 *
 * Sending: a frame header and its body go out in one writev when the
 * link's output buffer is empty; otherwise both are queued.  Session data
 * stops (its producer pauses) when the session's send window is used up
 * or MUX_LINK_ROOM bytes are queued on the link.
 *
 * Receiving: a body is handed straight from the input buffer to the
 * session's relay peer.  With esp/1 peers each session has a receive
 * window: bytes are credited back with W as the peer socket drains them,
 * and a peer that overruns the window has that session reset.  With a
 * legacy peer, reading the link stops while any session's output is full.
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
#include "esocksd.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "sock.h"
#include "stream.h"
#include "textnet.h"
#include "xmalloc.h"

#define MUX_READ_SIZE		(64 * 1024)
/*
 * A body this large goes out at once with its header in one writev when
 * nothing is queued; smaller frames are queued and the link is flushed
 * once before the loop waits again, so the many small frames of a round
 * (S, A, W, F of many sessions) cost one write.
 */
#define MUX_DIRECT_WRITE	8192
#define MUX_CLOSE_GRACE_MS	5000

#define MUX_S_SENT_F		0x01
#define MUX_S_RECV_F		0x02
#define MUX_S_EOF_GIVEN		0x04	/* relay_eof delivered */
#define MUX_S_RESET		0x08
#define MUX_S_ACCEPTED		0x10
#define MUX_S_IN_TABLE		0x20
#define MUX_S_BLOCKED		0x40	/* waiting for link room */
#define MUX_S_LEGACY_FULL	0x80	/* counted in link->legacy_full */

struct mux_session {
	struct end			 end;	/* first: the relay sees this */
	struct mux_link			*link;
	uint64_t			 id;
	int				 flags;
	mux_session_cb			 cb;
	void				*arg;
	int64_t				 send_window;
	uint64_t			 recv_left;
	uint64_t			 recv_unacked;
	struct buf			 held;
	struct mux_session		*hnext;
	TAILQ_ENTRY(mux_session)	 blocked_entry;
};
TAILQ_HEAD(mux_session_list, mux_session);

struct mux_link {
	int			 fd;
	enum mux_side		 side;
	const struct mux_link_ops *ops;
	void			*owner;
	char			 name[128];
	struct buf		 in;
	struct buf		 out;
	int			 esp;
	uint32_t		 peer_window;
	uint64_t		 tid;
	uint64_t		 next_id;	/* next id we open */
	uint64_t		 max_peer_id;	/* highest id the peer opened */
	struct mux_session	**table;
	size_t			 table_size;	/* power of two */
	size_t			 count;
	struct mux_session_list	 blocked;
	int			 have_msg;
	size_t			 msg_hlen;
	struct textnet_msg	 msg;
	int			 legacy_full;
	int			 closing;
	int			 dead;
	int			 write_failed;
	int			 dirty;		/* on mux_dirty: flush soon */
	TAILQ_ENTRY(mux_link)	 dirty_entry;
	struct ev_timer		 close_timer;
	struct ev_timer		 resume_timer;	/* parse what is buffered */
	char			*close_why;
	uint64_t		 last_rx, last_tx;
	uint64_t		 bytes_rx, bytes_tx;
};

static TAILQ_HEAD(, mux_link)	mux_dirty = TAILQ_HEAD_INITIALIZER(mux_dirty);

static void	mux_io_cb(int, int, void *);
static void	mux_parse(struct mux_link *);
static void	mux_resume_cb(void *);
static void	mux_link_unpause(struct mux_link *);
static void	mux_flush(struct mux_link *);
static void	mux_flush_dirty(void);
static void	mux_session_credit(struct mux_session *);
static void	mux_session_unlink(struct mux_session *);
static void	mux_session_free_now(struct mux_session *);

static size_t	mux_s_room(struct end *);
static void	mux_s_write(struct end *, const void *, size_t);
static size_t	mux_s_pending(struct end *);
static void	mux_s_finish(struct end *);
static void	mux_s_resume(struct end *);
static void	mux_s_reset(struct end *);
static void	mux_s_free(struct end *);

static const struct end_ops mux_session_ops = {
	mux_s_room,
	mux_s_write,
	mux_s_pending,
	mux_s_finish,
	mux_s_resume,
	mux_s_reset,
	mux_s_free
};

/* Take over a connected socket as a link; it starts reading at once. */
struct mux_link *
mux_link_new(int fd, enum mux_side side, const struct mux_link_ops *ops,
    void *owner)
{
	struct mux_link	*l;

	l = xcalloc(1, sizeof(*l));
	l->fd = fd;
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
	ev_timer_init(&l->resume_timer, mux_resume_cb, l);
	sock_set_nodelay(fd);
	ev_io_set(fd, EV_READ, mux_io_cb, l);
	ev_prepare_add(mux_flush_dirty);
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

/* Record whether the peer speaks esp/1, and its receive window. */
void
mux_link_set_esp(struct mux_link *l, int esp, uint32_t peer_window)
{
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

static void
mux_send_frame(struct mux_link *l, const char *hdr, size_t hlen,
    const void *body, size_t blen)
{
	struct iovec	iov[2];
	ssize_t		n = 0;

	if (l->dead || l->fd == -1)
		return;
	l->last_tx = ev_now();
	l->bytes_tx += hlen + blen;
	if (buf_len(&l->out) == 0 && !l->write_failed &&
	    blen < MUX_DIRECT_WRITE) {
		buf_add(&l->out, hdr, hlen);
		buf_add(&l->out, body, blen);
		if (!l->dirty) {
			l->dirty = 1;
			TAILQ_INSERT_TAIL(&mux_dirty, l, dirty_entry);
		}
		return;
	}
	if (buf_len(&l->out) == 0 && !l->write_failed) {
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
		ev_io_add(l->fd, EV_WRITE);
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

static void
mux_send(struct mux_link *l, const char *code, uint64_t tid,
    const void *body, size_t blen, int nargs, const char *const *args)
{
	char	hdr[TEXTNET_MAX_HEADER];
	size_t	hlen;

	hlen = textnet_format(hdr, sizeof(hdr), code, tid, blen, nargs, args);
	if (hlen == 0)
		fatalx("mux: header for %s does not fit", code);
	mux_send_frame(l, hdr, hlen, body, blen);
}

/* Send a message without a body; tid 0 is a notification. */
uint64_t
mux_link_send(struct mux_link *l, const char *code, uint64_t tid, int nargs,
    const char *const *args)
{
	mux_send(l, code, tid, NULL, 0, nargs, args);
	return (tid);
}

/* Send a SESS message for session id with flags, args and a body. */
static void
mux_send_sess(struct mux_link *l, uint64_t id, const char *flags,
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
	mux_send(l, "SESS", ++l->tid, body, blen, 2 + i, args);
}

static size_t
mux_slot(struct mux_link *l, uint64_t id)
{
	return ((size_t)(id >> 1) & (l->table_size - 1));
}

static struct mux_session *
mux_find(struct mux_link *l, uint64_t id)
{
	struct mux_session	*s;

	for (s = l->table[mux_slot(l, id)]; s != NULL; s = s->hnext)
		if (s->id == id)
			return (s);
	return (NULL);
}

static void
mux_insert(struct mux_link *l, struct mux_session *s)
{
	struct mux_session	**old, *each, *next;
	size_t			  oldsize, i;

	if (l->count >= l->table_size) {
		old = l->table;
		oldsize = l->table_size;
		l->table_size *= 2;
		l->table = xcalloc(l->table_size, sizeof(*l->table));
		for (i = 0; i < oldsize; i++) {
			for (each = old[i]; each != NULL; each = next) {
				next = each->hnext;
				each->hnext = l->table[mux_slot(l, each->id)];
				l->table[mux_slot(l, each->id)] = each;
			}
		}
		free(old);
	}
	s->hnext = l->table[mux_slot(l, s->id)];
	l->table[mux_slot(l, s->id)] = s;
	s->flags |= MUX_S_IN_TABLE;
	l->count++;
}

static struct mux_session *
mux_session_new(struct mux_link *l, uint64_t id)
{
	struct mux_session	*s;

	s = xcalloc(1, sizeof(*s));
	s->end.ops = &mux_session_ops;
	s->link = l;
	s->id = id;
	s->send_window = l->peer_window;
	s->recv_left = MUX_WINDOW_DEFAULT;
	buf_init(&s->held);
	mux_insert(l, s);
	return (s);
}

/* Take a session off its link: out of the table and the blocked list. */
static void
mux_session_unlink(struct mux_session *s)
{
	struct mux_link		 *l = s->link;
	struct mux_session	**sp;

	if (l == NULL)
		return;
	if (s->flags & MUX_S_IN_TABLE) {
		for (sp = &l->table[mux_slot(l, s->id)]; *sp != NULL;
		    sp = &(*sp)->hnext) {
			if (*sp == s) {
				*sp = s->hnext;
				break;
			}
		}
		s->flags &= ~MUX_S_IN_TABLE;
		l->count--;
	}
	if (s->flags & MUX_S_BLOCKED) {
		TAILQ_REMOVE(&l->blocked, s, blocked_entry);
		s->flags &= ~MUX_S_BLOCKED;
	}
	if (s->flags & MUX_S_LEGACY_FULL) {
		s->flags &= ~MUX_S_LEGACY_FULL;
		if (--l->legacy_full == 0 && !l->dead && !l->closing)
			mux_link_unpause(l);
	}
	s->link = NULL;
}

static void
mux_session_free_now(struct mux_session *s)
{
	mux_session_unlink(s);
	buf_free(&s->held);
	free(s);
}

/* A session is over once both sides sent F: the id may be forgotten. */
static void
mux_session_check_done(struct mux_session *s)
{
	if ((s->flags & (MUX_S_SENT_F | MUX_S_RECV_F)) ==
	    (MUX_S_SENT_F | MUX_S_RECV_F))
		mux_session_unlink(s);
}

/* Open a SOCKS session to host:port on a worker link (server side). */
struct mux_session *
mux_session_open(struct mux_link *l, const char *host, int port,
    const char *cmd, mux_session_cb cb, void *arg)
{
	struct mux_session	*s;
	const char		*args[4];
	char			 portstr[8];

	s = mux_session_new(l, l->next_id);
	l->next_id += 2;
	s->cb = cb;
	s->arg = arg;
	snprintf(portstr, sizeof(portstr), "%d", port);
	args[0] = "SOCKS";
	args[1] = host;
	args[2] = portstr;
	args[3] = cmd;
	mux_send_sess(l, s->id, "S", NULL, 0, 4, args);
	return (s);
}

/* Set who hears about a peer-opened session before it is joined. */
void
mux_session_set_cb(struct mux_session *s, mux_session_cb cb, void *arg)
{
	s->cb = cb;
	s->arg = arg;
}

/* Worker side: the destination is connected; tell an esp/1 server. */
void
mux_session_accept(struct mux_session *s, const struct sockaddr *bound)
{
	const char	*args[2];
	char		 host[SOCK_ADDRSTRLEN], port[8];

	s->flags |= MUX_S_ACCEPTED;
	if (s->link == NULL || !s->link->esp)
		return;
	sock_ntop_host(bound, host, sizeof(host));
	snprintf(port, sizeof(port), "%d", sock_port(bound));
	args[0] = host;
	args[1] = port;
	mux_send_sess(s->link, s->id, "A", NULL, 0, 2, args);
}

/* Worker side: the destination failed; answer R and forget the session. */
void
mux_session_reject(struct mux_session *s, const char *reason)
{
	if (s->link != NULL && !(s->flags & MUX_S_RESET))
		mux_send_sess(s->link, s->id, "R", NULL, 0, 1, &reason);
	mux_session_free_now(s);
}

/* Server side: the client left before the session was joined. */
void
mux_session_cancel(struct mux_session *s)
{
	if (s->link != NULL && !(s->flags & MUX_S_RESET))
		mux_send_sess(s->link, s->id, "R", NULL, 0, 0, NULL);
	mux_session_free_now(s);
}

/* The session as a relay end. */
struct end *
mux_session_end(struct mux_session *s)
{
	return (&s->end);
}

/* The session's id on its link. */
uint64_t
mux_session_id(struct mux_session *s)
{
	return (s->id);
}

static size_t
mux_s_room(struct end *e)
{
	struct mux_session	*s = (struct mux_session *)e;
	struct mux_link		*l = s->link;
	size_t			 room, queued;

	if (l == NULL || l->dead || (s->flags & (MUX_S_SENT_F | MUX_S_RESET)))
		return (0);
	queued = buf_len(&l->out);
	room = queued >= MUX_LINK_ROOM ? 0 : MUX_LINK_ROOM - queued;
	if (room == 0) {
		if (!(s->flags & MUX_S_BLOCKED)) {
			TAILQ_INSERT_TAIL(&l->blocked, s, blocked_entry);
			s->flags |= MUX_S_BLOCKED;
		}
		return (0);
	}
	if (l->esp) {
		if (s->send_window <= 0)
			return (0);
		if ((uint64_t)s->send_window < room)
			room = s->send_window;
	}
	return (room);
}

static void
mux_s_write(struct end *e, const void *data, size_t len)
{
	struct mux_session	*s = (struct mux_session *)e;

	if (s->link == NULL || len == 0)
		return;
	s->send_window -= len;
	mux_send_sess(s->link, s->id, "P", data, len, 0, NULL);
}

static size_t
mux_s_pending(struct end *e)
{
	return (0);
}

static void
mux_s_finish(struct end *e)
{
	struct mux_session	*s = (struct mux_session *)e;

	if (s->link != NULL && !(s->flags & MUX_S_SENT_F))
		mux_send_sess(s->link, s->id, "F", NULL, 0, 0, NULL);
	s->flags |= MUX_S_SENT_F;
	mux_session_check_done(s);
	relay_closed(e);
}

/* The peer end drained: deliver held bytes, return credit, unblock. */
static void
mux_s_resume(struct end *e)
{
	struct mux_session	*s = (struct mux_session *)e;

	if (buf_len(&s->held) > 0) {
		relay_input(e, buf_head(&s->held), buf_len(&s->held));
		buf_free(&s->held);
		if (relay_dead(e->relay))
			return;
	}
	if ((s->flags & MUX_S_RECV_F) && !(s->flags & MUX_S_EOF_GIVEN)) {
		s->flags |= MUX_S_EOF_GIVEN;
		relay_eof(e);
		if (relay_dead(e->relay))
			return;
	}
	mux_session_credit(s);
}

static void
mux_s_reset(struct end *e)
{
	struct mux_session	*s = (struct mux_session *)e;

	if (s->link != NULL && !(s->flags & MUX_S_RESET) &&
	    (s->flags & MUX_S_IN_TABLE))
		mux_send_sess(s->link, s->id, "R", NULL, 0, 0, NULL);
	s->flags |= MUX_S_RESET;
	mux_session_unlink(s);
}

static void
mux_s_free(struct end *e)
{
	mux_session_free_now((struct mux_session *)e);
}

/*
 * Give back window for bytes that left towards the far socket, and with
 * a legacy peer, stop or restart reading the link by how full we are.
 */
static void
mux_session_credit(struct mux_session *s)
{
	struct mux_link	*l = s->link;
	struct end	*peer;
	uint64_t	 held, credit;
	const char	*arg;
	char		 num[24];

	if (l == NULL || l->dead)
		return;
	held = buf_len(&s->held);
	if (s->end.relay != NULL && !relay_dead(s->end.relay)) {
		peer = relay_peer(&s->end);
		held += peer->ops->pending(peer);
	}
	if (!l->esp) {
		if (held >= STREAM_CAP && !(s->flags & MUX_S_LEGACY_FULL)) {
			s->flags |= MUX_S_LEGACY_FULL;
			if (l->legacy_full++ == 0)
				ev_io_remove(l->fd, EV_READ);
		} else if (held < STREAM_CAP &&
		    (s->flags & MUX_S_LEGACY_FULL)) {
			s->flags &= ~MUX_S_LEGACY_FULL;
			if (--l->legacy_full == 0 && !l->closing)
				mux_link_unpause(l);
		}
		return;
	}
	if (s->flags & (MUX_S_RECV_F | MUX_S_RESET))
		return;
	credit = s->recv_unacked > held ? s->recv_unacked - held : 0;
	if (credit == 0 || (credit < MUX_WINDOW_DEFAULT / 8 && held > 0))
		return;
	s->recv_unacked -= credit;
	s->recv_left += credit;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)credit);
	arg = num;
	mux_send_sess(l, s->id, "W", NULL, 0, 1, &arg);
}

static int
mux_parse_u64(const char *s, uint64_t *out)
{
	uint64_t	v = 0;

	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return (-1);
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return (0);
}

/* Data for a session: check the window, then deliver or hold it. */
static int
mux_session_data(struct mux_session *s, const unsigned char *body,
    size_t len, const char **why)
{
	struct mux_link	*l = s->link;

	if (s->flags & MUX_S_RECV_F) {
		*why = "data after F";
		return (-1);
	}
	if (l->esp) {
		if (len > s->recv_left) {
			log_line(LOGC_ERROR, "link %s: session %llu overran "
			    "its window; resetting it", l->name,
			    (unsigned long long)s->id);
			counters.link_errors++;
			if (s->end.relay != NULL)
				relay_reset(&s->end, "window-overrun");
			else if (s->cb != NULL) {
				mux_send_sess(l, s->id, "R", NULL, 0, 0, NULL);
				s->flags |= MUX_S_RESET;
				s->cb(s, MUX_SESSION_REJECTED, "failure",
				    NULL, s->arg);
				mux_session_free_now(s);
			}
			return (0);
		}
		s->recv_left -= len;
	}
	s->recv_unacked += len;
	if (s->end.relay != NULL && buf_len(&s->held) == 0) {
		relay_input(&s->end, body, len);
		if (relay_dead(s->end.relay))
			return (0);
	} else
		buf_add(&s->held, body, len);
	mux_session_credit(s);
	return (0);
}

/* The peer reset a session, or refused it before it was joined. */
static void
mux_session_got_reset(struct mux_session *s, const char *reason)
{
	s->flags |= MUX_S_RESET;
	if (s->end.relay != NULL) {
		mux_session_unlink(s);
		relay_reset(&s->end, "reset-by-peer");
		return;
	}
	if (s->cb != NULL)
		s->cb(s, MUX_SESSION_REJECTED, reason != NULL ? reason :
		    "failure", NULL, s->arg);
	mux_session_free_now(s);
}

/* One SESS message; returns -1 with why for a link-level protocol error. */
static int
mux_sess(struct mux_link *l, const struct textnet_msg *m,
    const unsigned char *body, const char **why)
{
	struct mux_session	*s;
	const char		*flags, *arg2, *arg3;
	uint64_t		 id, n;
	int			 opened;

	if (m->nargs < 2 || mux_parse_u64(m->args[0], &id) == -1) {
		*why = "SESS without a valid session id and flags";
		return (-1);
	}
	flags = m->args[1];
	if (flags[strspn(flags, "SPFRAWC")] != '\0' || *flags == '\0') {
		*why = "SESS with unknown flags";
		return (-1);
	}
	arg2 = m->nargs > 2 ? m->args[2] : NULL;
	arg3 = m->nargs > 3 ? m->args[3] : NULL;
	s = mux_find(l, id);

	if (strchr(flags, 'S') != NULL) {
		if (l->side == MUX_ACCEPTOR) {
			/* Worker-opened sessions are not offered: refuse. */
			mux_send_sess(l, id, "R", NULL, 0, 0, NULL);
			return (0);
		}
		if (s != NULL) {
			*why = "duplicate S for a live session";
			return (-1);
		}
		if (id > l->max_peer_id)
			l->max_peer_id = id;
		s = mux_session_new(l, id);
		l->ops->session_open(l, s, m);
		if (l->dead || (s = mux_find(l, id)) == NULL)
			return (0);
	} else if (s == NULL) {
		if (strchr(flags, 'R') != NULL)
			return (0);
		opened = l->side == MUX_ACCEPTOR ?
		    (id & 1) == 1 && id < l->next_id : id <= l->max_peer_id;
		if (!opened) {
			*why = "SESS for a session that was never opened";
			return (-1);
		}
		/* Gone already (we reset it): tell the peer again. */
		mux_send_sess(l, id, "R", NULL, 0, 0, NULL);
		return (0);
	}

	if (strchr(flags, 'R') != NULL) {
		mux_session_got_reset(s, arg2);
		return (0);
	}
	if (strchr(flags, 'A') != NULL && l->side == MUX_ACCEPTOR &&
	    !(s->flags & MUX_S_ACCEPTED)) {
		s->flags |= MUX_S_ACCEPTED;
		if (s->cb != NULL && s->end.relay == NULL) {
			s->cb(s, MUX_SESSION_ACCEPTED, arg2, arg3, s->arg);
			if (l->dead || mux_find(l, id) != s)
				return (0);
		}
	}
	if (strchr(flags, 'W') != NULL) {
		if (arg2 == NULL || mux_parse_u64(arg2, &n) == -1 ||
		    n > INT32_MAX || s->send_window + (int64_t)n > INT32_MAX) {
			*why = "bad window increment";
			return (-1);
		}
		s->send_window += n;
		if (s->end.relay != NULL && s->send_window > 0)
			relay_drained(&s->end);
		if (l->dead || mux_find(l, id) != s)
			return (0);
	}
	if (m->body_len > 0 || strchr(flags, 'P') != NULL) {
		if (m->body_len > 0 &&
		    mux_session_data(s, body, m->body_len, why) == -1)
			return (-1);
		if (l->dead || mux_find(l, id) != s)
			return (0);
	}
	if (strchr(flags, 'F') != NULL && !(s->flags & MUX_S_RECV_F)) {
		s->flags |= MUX_S_RECV_F;
		if (s->end.relay != NULL && buf_len(&s->held) == 0) {
			s->flags |= MUX_S_EOF_GIVEN;
			mux_session_check_done(s);
			relay_eof(&s->end);
		} else
			mux_session_check_done(s);
	}
	return (0);
}

static void
mux_dispatch(struct mux_link *l, const struct textnet_msg *m,
    const unsigned char *body)
{
	const char	*why = NULL, *arg;
	int		 rc;

	if (!m->response && strcmp(m->code, "SESS") == 0)
		rc = mux_sess(l, m, body, &why);
	else {
		rc = l->ops->message(l, m, body, &why);
		if (rc == 1 && !m->response) {
			arg = "unknown_command";
			mux_send(l, "201", m->tid, NULL, 0, 1, &arg);
			rc = 0;
		}
	}
	if (rc == -1 && !l->dead) {
		counters.link_errors++;
		mux_link_close(l, why != NULL ? why : "protocol error");
	}
}

/*
 * A legacy session drained: read the link again, and parse what was
 * already buffered from a timer (the socket may have nothing new).
 */
static void
mux_link_unpause(struct mux_link *l)
{
	ev_io_add(l->fd, EV_READ);
	ev_timer_start(&l->resume_timer, 0);
}

static void
mux_resume_cb(void *arg)
{
	struct mux_link	*l = arg;

	if (!l->dead && !l->closing && l->legacy_full == 0)
		mux_parse(l);
}

static void
mux_read(struct mux_link *l)
{
	ssize_t			 n;

	n = buf_read_fd(&l->in, l->fd, MUX_READ_SIZE);
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
	l->bytes_rx += n;
	mux_parse(l);
}

/* Dispatch every complete message in the input buffer. */
static void
mux_parse(struct mux_link *l)
{
	const char		*why;
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
				const char *arg = "invalid_command";

				counters.link_errors++;
				mux_send(l, "201", 0, NULL, 0, 1, &arg);
				mux_link_close_after_flush(l, why);
				return;
			}
			l->have_msg = 1;
			l->msg_hlen = used;
		}
		need = l->msg_hlen + l->msg.body_len;
		if (buf_len(&l->in) < need)
			break;
		mux_dispatch(l, &l->msg, buf_head(&l->in) + l->msg_hlen);
		if (l->dead)
			return;
		l->have_msg = 0;
		buf_drain(&l->in, need);
		/* A legacy session filled up: stop here until it drains. */
		if (l->legacy_full > 0)
			break;
	}
}

static void
mux_flush(struct mux_link *l)
{
	struct mux_session	*s;
	ssize_t			 n;

	if (l->write_failed) {
		mux_link_close(l, buf_len(&l->out) > MUX_LINK_HARD_CAP ?
		    "peer is not reading" : "write failed");
		return;
	}
	n = buf_write_fd(&l->out, l->fd);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		mux_link_close(l, strerror(errno));
		return;
	}
	if (buf_len(&l->out) == 0) {
		ev_io_remove(l->fd, EV_WRITE);
		if (l->closing) {
			mux_link_close(l, l->close_why);
			return;
		}
	}
	/* Wake the sessions that waited for room on the link. */
	while (buf_len(&l->out) < MUX_LINK_ROOM / 2 &&
	    (s = TAILQ_FIRST(&l->blocked)) != NULL) {
		TAILQ_REMOVE(&l->blocked, s, blocked_entry);
		s->flags &= ~MUX_S_BLOCKED;
		if (s->end.relay != NULL)
			relay_drained(&s->end);
		if (l->dead)
			return;
	}
}

/* Before the loop waits: write out what each link queued this round. */
static void
mux_flush_dirty(void)
{
	struct mux_link	*l;

	while ((l = TAILQ_FIRST(&mux_dirty)) != NULL) {
		TAILQ_REMOVE(&mux_dirty, l, dirty_entry);
		l->dirty = 0;
		if (l->dead)
			continue;
		mux_flush(l);
		if (!l->dead && buf_len(&l->out) > 0)
			ev_io_add(l->fd, EV_WRITE);
	}
}

static void
mux_io_cb(int fd, int events, void *arg)
{
	struct mux_link	*l = arg;

	if (events & EV_WRITE) {
		mux_flush(l);
		if (l->dead)
			return;
	}
	if ((events & EV_READ) && !l->closing)
		mux_read(l);
	if (!l->dead && l->write_failed)
		ev_io_add(l->fd, EV_WRITE);
}

static void
mux_link_free(void *arg)
{
	struct mux_link	*l = arg;

	buf_free(&l->in);
	buf_free(&l->out);
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
	if (buf_len(&l->out) > 0 && !l->write_failed)
		(void)buf_write_fd(&l->out, l->fd);
	l->dead = 1;
	if (l->dirty) {
		TAILQ_REMOVE(&mux_dirty, l, dirty_entry);
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
			s->flags |= MUX_S_RESET;
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

static void
mux_close_timer_cb(void *arg)
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
	ev_io_remove(l->fd, EV_READ);
	if (buf_len(&l->out) == 0) {
		/* Nothing queued: close from the loop, not from under us. */
		ev_io_add(l->fd, EV_WRITE);
	}
	ev_timer_init(&l->close_timer, mux_close_timer_cb, l);
	ev_timer_start(&l->close_timer, MUX_CLOSE_GRACE_MS);
}
