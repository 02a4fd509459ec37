/*
 * The relay moves bytes between two ends.  An end is anything that can
 * take bytes, say how many it can take, finish (half-close) and reset: a
 * socket (stream.c) or a session on a worker link (mux-session.c).
 * Direct mode relays socket to socket, the server in pool mode socket to
 * session, the worker session to socket: one relay serves all three.
 *
 * A producing end asks relay_room() before it reads, hands what it read
 * to relay_input(), and stops reading when the room is zero; the
 * consuming end calls relay_drained() when it has room again, and the
 * producer is resumed.  Nothing is buffered in the relay itself.
 *
 * A relay may be under a rate limit shared with other relays (an
 * account's rate=, ratelimit.h): relay_room then also says how much the
 * limit lets through, and a producer held back by it is resumed when the
 * budget refills.  An end that receives without asking relay_room (a
 * session, which is handed frames) asks relay_quota before it delivers.
 *
 * IDLE_TIMEOUT counts a tunnel idle when no byte moved for that long:
 * none read, none delivered from a consumer's pending output.  An idle
 * tunnel ends with FIN when nothing is pending, else with a reset, so a
 * stalled client is never told that a cut stream was complete.
 */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "ratelimit.h"

struct end;
struct relay;

struct end_ops {
	/* Bytes this end can take now. */
	size_t	(*room)(struct end *);
	/* Take len bytes (len <= room); may send them at once. */
	void	(*write)(struct end *, const void *, size_t);
	/* Bytes taken but not yet sent on. */
	size_t	(*pending)(struct end *);
	/* No more bytes will come: half-close once pending is sent. */
	void	(*finish)(struct end *);
	/* Resume producing: the peer has room again. */
	void	(*resume)(struct end *);
	/* Start producing: the end now belongs to a running relay. */
	void	(*start)(struct end *);
	/* Abort: drop pending bytes, close; the end must not call back. */
	void	(*reset)(struct end *);
	/* Release the end's memory (its descriptor is already closed). */
	void	(*free)(struct end *);
	/*
	 * Optional (NULL: no): take up to len bytes straight from socket
	 * fd without copying them; as mux_link_splice_session returns.
	 */
	ssize_t	(*splice_from)(struct end *, int fd, size_t len);
};

struct end {
	const struct end_ops	*ops;
	struct relay		*relay;
	int			 side;		/* 0 or 1 in its relay */
	int			 eof;		/* produced its last byte */
	int			 closed;	/* finished sending, or reset */
};

/* Why the relay ended, for the owner's access log. */
typedef void	(*relay_done_cb)(struct relay *, const char *result,
		    void *arg);

struct relay {
	struct end		*ends[2];
	uint64_t		 bytes[2];	/* bytes produced by ends[i] */
	uint64_t		 last_active;	/* ms, for IDLE_TIMEOUT */
	uint64_t		 idle_ms;	/* 0 = no idle limit */
	struct ev_timer		 idle_timer;
	relay_done_cb		 done;
	void			*arg;
	int			 dead;
	int			 gentle;	/* abort with FIN, not RST */
	struct ratelimit	*limit;		/* NULL: none */
	struct ratelimit_waiter	 waiter;
	int			 starved[2];	/* ends[i] held by the limit */
};

struct relay	*relay_new(struct end *, struct end *, relay_done_cb, void *);
void		 relay_set_idle(struct relay *, uint64_t msec);
void		 relay_set_limit(struct relay *, struct ratelimit *);
size_t		 relay_room(struct end *);
size_t		 relay_quota(struct end *, size_t);
void		 relay_input(struct end *, const void *, size_t);
void		 relay_moved(struct end *, size_t);
void		 relay_sent(struct end *);
void		 relay_drained(struct end *);
void		 relay_eof(struct end *);
void		 relay_closed(struct end *);
void		 relay_reset(struct end *, const char *why);
void		 relay_abort(struct relay *, const char *why);
int		 relay_dead(const struct relay *);
struct end	*relay_peer(struct end *);

#endif
