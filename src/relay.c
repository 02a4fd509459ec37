/*
 * The relay between two ends (see relay.h).  It keeps no bytes: each
 * call passes straight from the producing end to the consuming one.  It
 * tracks which directions are done, counts bytes for the access log,
 * enforces IDLE_TIMEOUT and frees both ends once the tunnel is over.
 */
#include "config.h"

#include <stdlib.h>

#include "ev.h"
#include "log.h"
#include "relay.h"
#include "xmalloc.h"

static void	relay_idle_cb(void *);
static void	relay_limit_cb(void *);
static void	relay_finish(struct relay *, const char *);

/* Join two ends into a tunnel; done is called once when it is over. */
struct relay *
relay_new(struct end *a, struct end *b, relay_done_cb done, void *arg)
{
	struct relay	*r;

	r = xcalloc(1, sizeof(*r));
	r->ends[0] = a;
	r->ends[1] = b;
	a->relay = r;
	a->side = 0;
	b->relay = r;
	b->side = 1;
	r->done = done;
	r->arg = arg;
	r->last_active = ev_now();
	ev_timer_init(&r->idle_timer, relay_idle_cb, r);
	return (r);
}

/* Close the tunnel after msec without a byte in either direction. */
void
relay_set_idle(struct relay *r, uint64_t msec)
{
	r->idle_ms = msec;
	if (msec == 0)
		ev_timer_stop(&r->idle_timer);
	else
		ev_timer_start(&r->idle_timer, msec);
}

/* The idle timer fired: re-arm after late activity, else end the tunnel. */
static void
relay_idle_cb(void *arg)
{
	struct relay	*r = arg;
	uint64_t	 quiet = ev_now() - r->last_active;

	/* Activity only stamps last_active; re-arm for what is left. */
	if (quiet < r->idle_ms) {
		ev_timer_start(&r->idle_timer, r->idle_ms - quiet);
		return;
	}
	/*
	 * Close politely only when nothing is in flight.  Bytes still held
	 * for a consumer that stopped reading would be lost, and an orderly
	 * EOF would tell it the stream was complete: reset instead.
	 */
	r->gentle = r->ends[0]->ops->pending(r->ends[0]) == 0 &&
	    r->ends[1]->ops->pending(r->ends[1]) == 0;
	relay_abort(r, "idle");
}

/* The end on the other side of e. */
struct end *
relay_peer(struct end *e)
{
	return (e->relay->ends[!e->side]);
}

/* Tell whether the tunnel has ended (callers check after each call). */
int
relay_dead(const struct relay *r)
{
	return (r->dead);
}

/* Put the relay under a rate limit shared with others (NULL: none). */
void
relay_set_limit(struct relay *r, struct ratelimit *limit)
{
	r->limit = limit;
	r->waiter.cb = relay_limit_cb;
	r->waiter.arg = r;
}

/* The limit has budget again: resume the ends it held back. */
static void
relay_limit_cb(void *arg)
{
	struct relay	*r = arg;
	struct end	*e;
	int		 i;

	for (i = 0; i < 2 && !r->dead; i++) {
		if (!r->starved[i])
			continue;
		r->starved[i] = 0;
		e = r->ends[i];
		if (!e->eof)
			e->ops->resume(e);
	}
}

/*
 * How many of want bytes the producing end e may hand over under the
 * relay's rate limit (all of them without one).  When that is fewer, the
 * end is resumed once the budget refills.
 */
size_t
relay_quota(struct end *e, size_t want)
{
	struct relay	*r = e->relay;
	size_t		 n;

	if (r->limit == NULL || want == 0)
		return (want);
	n = ratelimit_allow(r->limit, want);
	if (n < want) {
		r->starved[e->side] = 1;
		ratelimit_wait(r->limit, &r->waiter);
	}
	return (n);
}

/* How many bytes the producing end e may hand over now. */
size_t
relay_room(struct end *e)
{
	struct end	*peer;
	size_t		 room;

	if (e->relay->dead)
		return (0);
	peer = relay_peer(e);
	if (peer->closed)
		return (0);
	room = peer->ops->room(peer);
	if (e->relay->limit != NULL && room > 0) {
		room = ratelimit_allow(e->relay->limit, room);
		if (room == 0) {
			e->relay->starved[e->side] = 1;
			ratelimit_wait(e->relay->limit, &e->relay->waiter);
		}
	}
	return (room);
}

/* The producing end e read len bytes: pass them to its peer. */
void
relay_input(struct end *e, const void *data, size_t len)
{
	struct relay	*r = e->relay;
	struct end	*peer = relay_peer(e);

	if (r->dead || peer->closed)
		return;
	r->bytes[e->side] += len;
	r->last_active = ev_now();
	if (r->limit != NULL)
		ratelimit_take(r->limit, len);
	peer->ops->write(peer, data, len);
}

/* End e moved len bytes to its peer by itself (splice): count them. */
void
relay_moved(struct end *e, size_t len)
{
	e->relay->bytes[e->side] += len;
	e->relay->last_active = ev_now();
	if (e->relay->limit != NULL)
		ratelimit_take(e->relay->limit, len);
}

/*
 * The consuming end e passed some of its pending bytes on: a tunnel that
 * delivers, however slowly, is not idle.
 */
void
relay_sent(struct end *e)
{
	e->relay->last_active = ev_now();
}

/* The consuming end e has room again: resume its producer. */
void
relay_drained(struct end *e)
{
	struct end	*peer;

	if (e->relay->dead)
		return;
	e->relay->last_active = ev_now();
	peer = relay_peer(e);
	if (!peer->eof)
		peer->ops->resume(peer);
}

/* End e produced its last byte: half-close towards its peer. */
void
relay_eof(struct end *e)
{
	struct relay	*r = e->relay;
	struct end	*peer = relay_peer(e);

	if (r->dead || e->eof)
		return;
	e->eof = 1;
	r->last_active = ev_now();
	if (!peer->closed)
		peer->ops->finish(peer);
}

/* End e has sent its last byte on (after finish): maybe the tunnel is over. */
void
relay_closed(struct end *e)
{
	struct relay	*r = e->relay;

	e->closed = 1;
	if (r->dead)
		return;
	if (r->ends[0]->closed && r->ends[1]->closed)
		relay_finish(r, "ok");
}

/* End e failed or was reset by its peer: abort the whole tunnel. */
void
relay_reset(struct end *e, const char *why)
{
	relay_abort(e->relay, why);
}

/* Abort the tunnel from outside (idle, shutdown, worker gone). */
void
relay_abort(struct relay *r, const char *why)
{
	int	i;

	if (r->dead)
		return;
	/* Ends never call back from reset, so the relay is stable here. */
	for (i = 0; i < 2; i++) {
		r->ends[i]->ops->reset(r->ends[i]);
		r->ends[i]->closed = 1;
	}
	relay_finish(r, why);
}

/* Free both ends and the relay, once no callback can see them. */
static void
relay_free(void *arg)
{
	struct relay	*r = arg;

	r->ends[0]->ops->free(r->ends[0]);
	r->ends[1]->ops->free(r->ends[1]);
	free(r);
}

/* End the tunnel once: tell the owner why, and free it after this round. */
static void
relay_finish(struct relay *r, const char *result)
{
	if (r->dead)
		return;
	r->dead = 1;
	ev_timer_stop(&r->idle_timer);
	if (r->limit != NULL)
		ratelimit_cancel(r->limit, &r->waiter);
	if (r->done != NULL)
		r->done(r, result, r->arg);
	ev_defer_free(relay_free, r);
}
