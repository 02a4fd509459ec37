/*
 * The one way a relay is started and ended (tunnel.h): client.c starts
 * the server's tunnels and worker.c the worker's, and both are counted,
 * timed out and reported here the same way.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "compat.h"
#include "relay.h"
#include "stats.h"
#include "tunnel.h"

/* The route to count under: none for "" (a worker counts totals only). */
static const char *
tunnel_route(const struct tunnel *t)
{
	return (t->via[0] != '\0' ? t->via : NULL);
}

/* The relay ended: count the bytes, then tell the owner. */
static void
tunnel_relay_done(struct relay *r, const char *result, void *arg)
{
	struct tunnel	*t = arg;

	t->up = r->bytes[0];
	t->down = r->bytes[1];
	t->relay = NULL;
	stats_tunnel_done(tunnel_route(t), t->up, t->down);
	t->done(t, result, t->arg);
}

/*
 * Join near (the side that asked: a client's socket, or on a worker the
 * session) to far (the destination) and start relaying: count the
 * tunnel under via, send near its reply (replylen bytes, may be 0), hand
 * on the bytes near sent early (early, may be NULL; emptied), arm
 * IDLE_TIMEOUT and start both ends.  Any of that can end the tunnel at
 * once (the client has reset): done is then called before this returns.
 */
void
tunnel_start(struct tunnel *t, struct end *near, struct end *far,
    const char *via, const void *reply, size_t replylen, struct buf *early,
    tunnel_done_cb done, void *arg)
{
	struct relay	*r;

	strlcpy(t->via, via != NULL ? via : "", sizeof(t->via));
	t->up = t->down = 0;
	t->done = done;
	t->arg = arg;
	/* done clears t->relay: test the local copy, valid this round. */
	r = t->relay = relay_new(near, far, tunnel_relay_done, t);
	if (t->limit != NULL)
		relay_set_limit(r, t->limit);
	stats_tunnel_open(tunnel_route(t));
	if (replylen > 0) {
		near->ops->write(near, reply, replylen);
		if (relay_dead(r))
			return;
	}
	if (early != NULL && buf_len(early) > 0) {
		relay_input(near, buf_head(early), buf_len(early));
		buf_free(early);
		if (relay_dead(r))
			return;
	}
	relay_set_idle(r, cfg->idle_timeout);
	near->ops->start(near);
	if (!relay_dead(r))
		far->ops->start(far);
}

/* Cut the tunnel now (shutdown), if it is still running. */
void
tunnel_abort(struct tunnel *t, const char *why)
{
	if (t->relay != NULL)
		relay_abort(t->relay, why);
}
