/*
 * The session half of the multiplexed worker link behind mux.h: the
 * session table, opening, accepting and refusing sessions, sessions as
 * relay ends, per-session flow control, and the SESS messages that
 * mux-link.c hands over.
 *
 * Session data stops (its producer pauses) when the session's send window
 * is used up or MUX_LINK_ROOM bytes are queued on the link.
 *
 * Receiving: a body is handed straight from the link's input buffer to
 * the session's relay peer.  With esp/1 peers each session has a receive
 * window: bytes are credited back with W as the peer socket drains them,
 * and a peer that overruns the window has that session reset.  With a
 * legacy peer, reading the link stops while any session's output is full.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void	mux_session_credit(struct mux_session *);
static size_t	mux_session_end_room(struct end *);
static void	mux_session_end_write(struct end *, const void *, size_t);
static size_t	mux_session_end_pending(struct end *);
static void	mux_session_end_finish(struct end *);
static void	mux_session_end_resume(struct end *);
static void	mux_session_end_reset(struct end *);
static void	mux_session_end_free(struct end *);
static ssize_t	mux_session_end_splice(struct end *, int, size_t);

static const struct end_ops mux_session_ops = {
	mux_session_end_room,
	mux_session_end_write,
	mux_session_end_pending,
	mux_session_end_finish,
	mux_session_end_resume,
	mux_session_end_resume,	/* start: deliver what arrived meanwhile */
	mux_session_end_reset,
	mux_session_end_free,
	mux_session_end_splice
};

/* The table slot of a session id (ids step by two on each side). */
static size_t
mux_session_slot(struct mux_link *l, uint64_t id)
{
	return ((size_t)(id >> 1) & (l->table_size - 1));
}

/* The live session with this id, or NULL. */
static struct mux_session *
mux_session_find(struct mux_link *l, uint64_t id)
{
	struct mux_session	*s;

	for (s = l->table[mux_session_slot(l, id)]; s != NULL;
	    s = s->table_next)
		if (s->id == id)
			return (s);
	return (NULL);
}

/* Put a session in the table, doubling the table when it is full. */
static void
mux_session_insert(struct mux_link *l, struct mux_session *s)
{
	struct mux_session	**old, *each, *next;
	size_t			  oldsize, i, slot;

	if (l->count >= l->table_size) {
		old = l->table;
		oldsize = l->table_size;
		l->table_size *= 2;
		l->table = xcalloc(l->table_size, sizeof(*l->table));
		for (i = 0; i < oldsize; i++) {
			for (each = old[i]; each != NULL; each = next) {
				next = each->table_next;
				slot = mux_session_slot(l, each->id);
				each->table_next = l->table[slot];
				l->table[slot] = each;
			}
		}
		free(old);
	}
	s->table_next = l->table[mux_session_slot(l, s->id)];
	l->table[mux_session_slot(l, s->id)] = s;
	s->state |= MUX_STATE_IN_TABLE;
	l->count++;
}

/* A new session with fresh windows, already in the link's table. */
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
	mux_session_insert(l, s);
	return (s);
}

/* Take a session off its link: out of the table and the blocked list. */
void
mux_session_unlink(struct mux_session *s)
{
	struct mux_link		 *l = s->link;
	struct mux_session	**sp;

	if (l == NULL)
		return;
	if (s->state & MUX_STATE_IN_TABLE) {
		for (sp = &l->table[mux_session_slot(l, s->id)]; *sp != NULL;
		    sp = &(*sp)->table_next) {
			if (*sp == s) {
				*sp = s->table_next;
				break;
			}
		}
		s->state &= ~MUX_STATE_IN_TABLE;
		l->count--;
	}
	if (s->state & MUX_STATE_BLOCKED) {
		TAILQ_REMOVE(&l->blocked, s, blocked_entry);
		s->state &= ~MUX_STATE_BLOCKED;
	}
	if (s->state & MUX_STATE_LEGACY_FULL) {
		s->state &= ~MUX_STATE_LEGACY_FULL;
		if (--l->legacy_full == 0 && !l->dead && !l->closing)
			mux_link_unpause(l);
	}
	s->link = NULL;
}

/* Take a session off its link and free it. */
void
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
	if ((s->state & (MUX_STATE_SENT_F | MUX_STATE_RECV_F)) ==
	    (MUX_STATE_SENT_F | MUX_STATE_RECV_F))
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
	mux_link_send_session(l, s->id, "S", NULL, 0, 4, args);
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

	s->state |= MUX_STATE_ACCEPTED;
	if (s->link == NULL || !s->link->esp)
		return;
	sock_ntop_host(bound, host, sizeof(host));
	snprintf(port, sizeof(port), "%d", sock_port(bound));
	args[0] = host;
	args[1] = port;
	mux_link_send_session(s->link, s->id, "A", NULL, 0, 2, args);
}

/* Worker side: a BIND's peer connected; tell the server who (C). */
void
mux_session_connected(struct mux_session *s, const struct sockaddr *peer)
{
	const char	*args[2];
	char		 host[SOCK_ADDRSTRLEN], port[8];

	if (s->link == NULL)
		return;
	sock_ntop_host(peer, host, sizeof(host));
	snprintf(port, sizeof(port), "%d", sock_port(peer));
	args[0] = host;
	args[1] = port;
	mux_link_send_session(s->link, s->id, "C", NULL, 0, 2, args);
}

/* Worker side: the destination failed; answer R and forget the session. */
void
mux_session_reject(struct mux_session *s, const char *reason)
{
	if (s->link != NULL && !(s->state & MUX_STATE_RESET))
		mux_link_send_session(s->link, s->id, "R", NULL, 0, 1, &reason);
	mux_session_free_now(s);
}

/* Server side: the client left before the session was joined. */
void
mux_session_cancel(struct mux_session *s)
{
	if (s->link != NULL && !(s->state & MUX_STATE_RESET))
		mux_link_send_session(s->link, s->id, "R", NULL, 0, 0, NULL);
	mux_session_free_now(s);
}

/*
 * Make a session a UDP session: each P body is one datagram, handed to cb
 * with its args instead of to a relay.  Never joined to a relay.
 */
void
mux_session_set_datagram(struct mux_session *s, mux_datagram_cb cb,
    void *arg)
{
	s->dgram_cb = cb;
	s->dgram_arg = arg;
}

/*
 * Send one datagram on a UDP session, with its target or source as
 * args.  A datagram that does not fit the window or the link's room now
 * is dropped (-1), as a full network would: UDP has no backpressure.
 */
int
mux_session_send_datagram(struct mux_session *s, const char *host,
    const char *port, const void *data, size_t len)
{
	const char	*args[2];

	if (mux_session_end_room(&s->end) < (len > 0 ? len : 1))
		return (-1);
	args[0] = host;
	args[1] = port;
	s->send_window -= len;
	mux_link_send_session(s->link, s->id, "P", data, len, 2, args);
	return (0);
}

/* The session whose relay end e is (e must be a session's end). */
struct mux_session *
mux_session_of_end(struct end *e)
{
	return ((struct mux_session *)e);
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

/* Wait for room on the link: mux_link_flush resumes the session's peer. */
static void
mux_session_block(struct mux_session *s)
{
	if (!(s->state & MUX_STATE_BLOCKED)) {
		TAILQ_INSERT_TAIL(&s->link->blocked, s, blocked_entry);
		s->state |= MUX_STATE_BLOCKED;
	}
}

/* Bytes the session can send now: link room, and the window with esp/1. */
static size_t
mux_session_end_room(struct end *e)
{
	struct mux_session	*s = (struct mux_session *)e;
	struct mux_link		*l = s->link;
	size_t			 room, queued;

	/* A closing link (a refusal, a protocol error) takes no more data. */
	if (l == NULL || l->dead || l->closing ||
	    (s->state & (MUX_STATE_SENT_F | MUX_STATE_RESET)))
		return (0);
	queued = mux_link_queued(l);
	room = queued >= MUX_LINK_ROOM ? 0 : MUX_LINK_ROOM - queued;
	if (room == 0) {
		mux_session_block(s);
		return (0);
	}
	if (room > MUX_FRAME_MAX)
		room = MUX_FRAME_MAX;	/* each read is one frame */
	if (l->esp) {
		if (s->send_window <= 0)
			return (0);
		if ((uint64_t)s->send_window < room)
			room = s->send_window;
	}
	return (room);
}

/* Send session data as a P frame, spending send window. */
static void
mux_session_end_write(struct end *e, const void *data, size_t len)
{
	struct mux_session	*s = (struct mux_session *)e;

	if (s->link == NULL || len == 0)
		return;
	s->send_window -= len;
	mux_link_send_session(s->link, s->id, "P", data, len, 0, NULL);
}

/*
 * Send session data spliced from socket fd as a P frame (mux-splice.c),
 * spending send window as a write does.  While the link has output
 * queued, the session waits for it to go (ENOBUFS) rather than copy
 * behind it: it is woken with the sessions blocked for room.
 */
static ssize_t
mux_session_end_splice(struct end *e, int fd, size_t len)
{
	struct mux_session	*s = (struct mux_session *)e;
	struct mux_link		*l = s->link;
	ssize_t			 n;

	if (l == NULL || len == 0) {
		errno = EOPNOTSUPP;
		return (-1);
	}
	if (mux_link_queued(l) > 0 && !l->dead && !l->write_failed) {
		mux_session_block(s);
		errno = ENOBUFS;
		return (-1);
	}
	if ((n = mux_link_splice_session(s->link, s->id, fd, len)) > 0)
		s->send_window -= n;
	return (n);
}

/* Nothing waits in the session itself: it queues on the link. */
static size_t
mux_session_end_pending(struct end *e)
{
	return (0);
}

/* The relay has no more bytes for the peer: send F. */
static void
mux_session_end_finish(struct end *e)
{
	struct mux_session	*s = (struct mux_session *)e;

	if (s->link != NULL && !(s->state & MUX_STATE_SENT_F))
		mux_link_send_session(s->link, s->id, "F", NULL, 0, 0, NULL);
	s->state |= MUX_STATE_SENT_F;
	mux_session_check_done(s);
	relay_closed(e);
}

/* The peer end drained: deliver held bytes, return credit, unblock. */
static void
mux_session_end_resume(struct end *e)
{
	struct mux_session	*s = (struct mux_session *)e;
	size_t			 n;

	if (buf_len(&s->held) > 0) {
		/* Under a rate limit, what it lets through; the rest waits. */
		n = relay_quota(e, buf_len(&s->held));
		if (n > 0)
			relay_input(e, buf_head(&s->held), n);
		if (relay_dead(e->relay))
			return;
		if (n == buf_len(&s->held))
			buf_free(&s->held);
		else {
			buf_drain(&s->held, n);
			mux_session_credit(s);
			return;
		}
	}
	if ((s->state & MUX_STATE_RECV_F) &&
	    !(s->state & MUX_STATE_EOF_GIVEN)) {
		s->state |= MUX_STATE_EOF_GIVEN;
		relay_eof(e);
		if (relay_dead(e->relay))
			return;
	}
	mux_session_credit(s);
}

/* The relay aborts: send R unless the session is gone already. */
static void
mux_session_end_reset(struct end *e)
{
	struct mux_session	*s = (struct mux_session *)e;

	if (s->link != NULL && !(s->state & MUX_STATE_RESET) &&
	    (s->state & MUX_STATE_IN_TABLE))
		mux_link_send_session(s->link, s->id, "R", NULL, 0, 0, NULL);
	s->state |= MUX_STATE_RESET;
	mux_session_unlink(s);
}

/* The relay is done with the session. */
static void
mux_session_end_free(struct end *e)
{
	mux_session_free_now((struct mux_session *)e);
}

/*
 * Give back window for bytes that left towards the far socket, and with
 * a legacy peer, stop or restart reading the link by how full we are:
 * full when the relay's other end has no room, or, before the session
 * is joined, when it holds a default window's worth.
 */
static void
mux_session_credit(struct mux_session *s)
{
	struct mux_link	*l = s->link;
	struct end	*peer = NULL;
	uint64_t	 held, credit;
	const char	*arg;
	char		 num[24];
	int		 full;

	if (l == NULL || l->dead)
		return;
	held = buf_len(&s->held);
	if (s->end.relay != NULL && !relay_dead(s->end.relay)) {
		peer = relay_peer(&s->end);
		held += peer->ops->pending(peer);
	}
	if (!l->esp) {
		full = buf_len(&s->held) >= MUX_WINDOW_DEFAULT ||
		    (peer != NULL && peer->ops->room(peer) == 0);
		if (full && !(s->state & MUX_STATE_LEGACY_FULL)) {
			s->state |= MUX_STATE_LEGACY_FULL;
			if (l->legacy_full++ == 0)
				ev_io_disable(l->fd, EV_READ);
		} else if (!full && (s->state & MUX_STATE_LEGACY_FULL)) {
			s->state &= ~MUX_STATE_LEGACY_FULL;
			if (--l->legacy_full == 0 && !l->closing)
				mux_link_unpause(l);
		}
		return;
	}
	if (s->state & (MUX_STATE_RECV_F | MUX_STATE_RESET))
		return;
	credit = s->recv_unacked > held ? s->recv_unacked - held : 0;
	if (credit == 0 || (credit < MUX_WINDOW_DEFAULT / 8 && held > 0))
		return;
	s->recv_unacked -= credit;
	s->recv_left += credit;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)credit);
	arg = num;
	mux_link_send_session(l, s->id, "W", NULL, 0, 1, &arg);
}

/*
 * A datagram on a UDP session: hand it over, and give the window back in
 * batches (nothing is held, so all of it is free again at once).
 */
static int
mux_session_datagram(struct mux_session *s, const unsigned char *body,
    size_t len, const char *host, const char *port)
{
	struct mux_link	*l = s->link;
	uint64_t	 id = s->id;
	const char	*arg;
	char		 num[24];

	s->dgram_cb(s, host != NULL ? host : "", port != NULL ? port : "",
	    body, len, s->dgram_arg);
	if (l->dead || mux_session_find(l, id) != s || !l->esp ||
	    s->recv_unacked < MUX_WINDOW_DEFAULT / 8)
		return (0);
	s->recv_left += s->recv_unacked;
	snprintf(num, sizeof(num), "%llu",
	    (unsigned long long)s->recv_unacked);
	s->recv_unacked = 0;
	arg = num;
	mux_link_send_session(l, s->id, "W", NULL, 0, 1, &arg);
	return (0);
}

/* Data for a session: check the window, then deliver or hold it. */
static int
mux_session_data(struct mux_session *s, const unsigned char *body,
    size_t len, const char *arg2, const char *arg3, const char **why)
{
	struct mux_link	*l = s->link;

	if (s->state & MUX_STATE_RECV_F) {
		*why = "data after F";
		return (-1);
	}
	if (l->esp) {
		if (len > s->recv_left) {
			log_line(LOGC_ERROR, "link %s: session %llu overran "
			    "its window; resetting it", l->name,
			    (unsigned long long)s->id);
			stats_link_error();
			if (s->end.relay != NULL)
				relay_reset(&s->end, "window-overrun");
			else if (s->cb != NULL) {
				mux_link_send_session(l, s->id, "R", NULL, 0,
				    0, NULL);
				s->state |= MUX_STATE_RESET;
				s->cb(s, MUX_SESSION_REJECTED, "failure",
				    NULL, s->arg);
				mux_session_free_now(s);
			}
			return (0);
		}
		s->recv_left -= len;
	}
	s->recv_unacked += len;
	if (s->dgram_cb != NULL)
		return (mux_session_datagram(s, body, len, arg2, arg3));
	if (s->end.relay != NULL && buf_len(&s->held) == 0 &&
	    relay_quota(&s->end, len) == len) {
		relay_input(&s->end, body, len);
		if (relay_dead(s->end.relay))
			return (0);
	} else
		buf_add(&s->held, body, len);
	mux_session_credit(s);
	return (0);
}

/*
 * Take up to len bytes of session id's data straight from the link's
 * socket into the relay's other end, uncopied (mux-splice.c), checked
 * and credited as mux_session_data does a copied body.  Returns the
 * bytes taken, 0 at the link's end, or -1 with errno: EOPNOTSUPP when
 * the data must be read and copied instead (no such session, a rate
 * limit, held bytes that go first, an end that takes no splice), ENOBUFS
 * when that end is full, EAGAIN when the link has nothing now, anything
 * else from reading the link.
 */
ssize_t
mux_session_splice_data(struct mux_link *l, uint64_t id, size_t len)
{
	struct mux_session	*s;
	struct end		*peer;
	ssize_t			 n;

	s = mux_session_find(l, id);
	if (s == NULL || s->end.relay == NULL || relay_dead(s->end.relay) ||
	    s->end.relay->limit != NULL || buf_len(&s->held) > 0 ||
	    (s->state & (MUX_STATE_RECV_F | MUX_STATE_RESET)) ||
	    len > s->recv_left || (peer = relay_peer(&s->end))->closed ||
	    peer->ops->splice_from == NULL) {
		errno = EOPNOTSUPP;
		return (-1);
	}
	if ((n = peer->ops->splice_from(peer, l->fd, len)) <= 0)
		return (n);
	s->recv_left -= n;
	s->recv_unacked += n;
	relay_moved(&s->end, n);
	if (!relay_dead(s->end.relay))
		mux_session_credit(s);
	return (n);
}

/* The peer reset a session, or refused it before it was joined. */
static void
mux_session_got_reset(struct mux_session *s, const char *reason)
{
	s->state |= MUX_STATE_RESET;
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
int
mux_session_message(struct mux_link *l, const struct textnet_msg *m,
    const unsigned char *body, const char **why)
{
	struct mux_session	*s;
	const char		*flags, *arg2, *arg3;
	uint64_t		 id, n;
	int			 opened;

	if (m->nargs < 2 || textnet_parse_number(m->args[0],
	    strlen(m->args[0]), &id) == -1) {
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
	s = mux_session_find(l, id);

	if (strchr(flags, 'S') != NULL) {
		/*
		 * The server opens odd ids, the worker even ones, and 0 is
		 * no one's: an S with our parity would clash with (and an R
		 * for it reset) one of our own sessions.
		 */
		if (id == 0 || (id & 1) != (l->side == MUX_DIALER)) {
			*why = "S with a session id the peer may not open";
			return (-1);
		}
		if (l->side == MUX_ACCEPTOR) {
			/* Worker-opened sessions are not offered: refuse. */
			mux_link_send_session(l, id, "R", NULL, 0, 0, NULL);
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
		if (l->dead || (s = mux_session_find(l, id)) == NULL)
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
		mux_link_send_session(l, id, "R", NULL, 0, 0, NULL);
		return (0);
	}

	if (strchr(flags, 'R') != NULL) {
		mux_session_got_reset(s, arg2);
		return (0);
	}
	if (strchr(flags, 'A') != NULL && l->side == MUX_ACCEPTOR &&
	    !(s->state & MUX_STATE_ACCEPTED)) {
		s->state |= MUX_STATE_ACCEPTED;
		if (s->cb != NULL && s->end.relay == NULL) {
			s->cb(s, MUX_SESSION_ACCEPTED, arg2, arg3, s->arg);
			if (l->dead || mux_session_find(l, id) != s)
				return (0);
		}
	}
	if (strchr(flags, 'C') != NULL && l->side == MUX_ACCEPTOR &&
	    (s->state & MUX_STATE_ACCEPTED) && s->end.relay == NULL &&
	    s->cb != NULL) {
		s->cb(s, MUX_SESSION_CONNECTED, arg2, arg3, s->arg);
		if (l->dead || mux_session_find(l, id) != s)
			return (0);
	}
	if (strchr(flags, 'W') != NULL) {
		if (arg2 == NULL ||
		    textnet_parse_number(arg2, strlen(arg2), &n) == -1 ||
		    n > INT32_MAX || s->send_window + (int64_t)n > INT32_MAX) {
			*why = "bad window increment";
			return (-1);
		}
		s->send_window += n;
		if (s->end.relay != NULL && s->send_window > 0)
			relay_drained(&s->end);
		if (l->dead || mux_session_find(l, id) != s)
			return (0);
	}
	if (m->body_len > 0 || strchr(flags, 'P') != NULL) {
		/* A UDP datagram may be empty; a stream's P never is. */
		if ((m->body_len > 0 || s->dgram_cb != NULL) &&
		    mux_session_data(s, body, m->body_len, arg2, arg3,
		    why) == -1)
			return (-1);
		if (l->dead || mux_session_find(l, id) != s)
			return (0);
	}
	if (strchr(flags, 'F') != NULL && !(s->state & MUX_STATE_RECV_F)) {
		s->state |= MUX_STATE_RECV_F;
		if (s->end.relay != NULL && buf_len(&s->held) == 0) {
			s->state |= MUX_STATE_EOF_GIVEN;
			mux_session_check_done(s);
			relay_eof(&s->end);
		} else
			mux_session_check_done(s);
	}
	return (0);
}
