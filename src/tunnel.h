/*
 * A tunnel: the relay that carries one request once its destination has
 * answered, with the accounting every kind of tunnel shares.  Whatever
 * asked for it (a SOCKS CONNECT on the server, direct or through a
 * worker; a session on the worker; later BIND, UDP and HTTP CONNECT)
 * starts it with tunnel_start and hears once from its done callback.  In
 * between the tunnel counts itself in stats (under its route on the
 * server), sends the owner's reply and early bytes, arms IDLE_TIMEOUT
 * and starts both ends; at the end it counts the bytes moved and hands
 * the owner the result for its log lines.
 */
#ifndef TUNNEL_H
#define TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ratelimit.h"
#include "relay.h"

/* A route's name: a worker's name, "direct" or "none". */
#define TUNNEL_VIA_SIZE	128

struct tunnel;

/* The tunnel is over; result says why (relay.h), t->up and t->down how much. */
typedef void	(*tunnel_done_cb)(struct tunnel *t, const char *result,
		    void *arg);

/* Lives inside its owner (a client, a worker's session job). */
struct tunnel {
	struct relay	*relay;		/* NULL before the start and once over */
	char		 via[TUNNEL_VIA_SIZE];	/* "" counts totals only */
	uint64_t	 up;		/* bytes near to far, once over */
	uint64_t	 down;		/* bytes far to near, once over */
	tunnel_done_cb	 done;
	void		*arg;
	struct ratelimit *limit;	/* set before the start; NULL none */
};

void	tunnel_start(struct tunnel *, struct end *near, struct end *far,
	    const char *via, const void *reply, size_t replylen,
	    struct buf *early, tunnel_done_cb, void *arg);
void	tunnel_abort(struct tunnel *, const char *why);

#endif
