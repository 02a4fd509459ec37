/*
 * The choice of a worker for a request, in three stages: the request's
 * filters (tags, a worker's name, the account's tags, the command), then
 * health (neither ejected, unresponsive nor draining), then load
 * (BALANCE: the cheaper of two drawn at random by sessions x connect
 * latency over weight, or the fewest sessions) or, for a sticky
 * session, the worker it is pinned to or the rendezvous choice among
 * the rest, so that every server process gives the same answer.
 */
#include "config.h"

#include <sys/types.h>

#include <string.h>

#include "cfg.h"
#include "compat.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "pool.h"
#include "pool-int.h"
#include "random.h"
#include "sticky.h"
#include "tags.h"
#include "xmalloc.h"

/* A latency measured longer ago than this no longer steers the choice. */
#define POOL_LATENCY_STALE_MS	10000
/* Latencies below this are noise to the choice (LAN, a cold start). */
#define POOL_LATENCY_FLOOR_US	5000

static uint64_t			pool_picks;

/* Tell whether a worker may be given a new request now. */
static int
pool_can_take(struct pool_worker *w)
{
	if (!w->registered || w->draining || w->dead || w->unresponsive ||
	    w->health.ejected)
		return (0);
	/* Back from a cool-down: one request at a time until one connects. */
	if (w->health.trial && !TAILQ_EMPTY(&w->pending))
		return (0);
	/* A session counts from S until both F are seen or it is reset. */
	return (w->max_sessions == 0 ||
	    mux_link_sessions(w->link) < w->max_sessions);
}

/*
 * Tell whether a worker carries a SOCKS command: CONNECT all do, BIND and
 * UDP ASSOCIATE only esp/1 workers that announced them (RGST cmds=).
 */
static int
pool_carries(const struct pool_worker *w, int cmd)
{
	switch (cmd) {
	case SOCKS_CMD_BIND:
		return (w->esp && (w->cmds & POOL_CMD_BIND));
	case SOCKS_CMD_UDP:
		return (w->esp && (w->cmds & POOL_CMD_UDP));
	default:
		return (1);
	}
}

/* The filter stage: may this request use worker w at all? */
static int
pool_filter_match(const struct pool_worker *w, const struct pool_want *want)
{
	if (!w->registered || w->dead || !pool_carries(w, want->cmd))
		return (0);
	if (want->worker[0] != '\0' && strcmp(w->name, want->worker) != 0)
		return (0);
	return (tags_has_all(&w->tags, &want->tags) &&
	    tags_has_any(&w->tags, &want->account_tags));
}

/*
 * Tell whether a is to be preferred to b under BALANCE=least: fewer
 * sessions for its weight, ties to the one chosen longest ago.
 */
static int
pool_fewer_sessions(struct pool_worker *a, struct pool_worker *b)
{
	uint64_t	na = mux_link_sessions(a->link) * (uint64_t)b->weight;
	uint64_t	nb = mux_link_sessions(b->link) * (uint64_t)a->weight;

	return (na < nb || (na == nb && a->last_pick < b->last_pick));
}

/*
 * A worker's cost under BALANCE=p2c: its sessions (plus the new one)
 * times its connect latency (at least POOL_LATENCY_FLOOR_US), over its
 * weight.  A worker not measured lately costs as if its latency were the
 * floor, so it is tried and measured again rather than starved on an old
 * figure.
 */
static double
pool_cost(struct pool_worker *w)
{
	double	latency = POOL_LATENCY_FLOOR_US;

	if (w->health.ewma_us > POOL_LATENCY_FLOOR_US &&
	    ev_now() - w->measured_at < POOL_LATENCY_STALE_MS)
		latency = (double)w->health.ewma_us;
	return ((double)(mux_link_sessions(w->link) + 1) * latency /
	    (double)w->weight);
}

/* Tell whether a is to be preferred to b under BALANCE=p2c. */
static int
pool_cheaper(struct pool_worker *a, struct pool_worker *b)
{
	double	ca = pool_cost(a), cb = pool_cost(b);

	return (ca < cb || (ca == cb && a->last_pick < b->last_pick));
}

/*
 * Draw one of the n candidates at random, each as likely as its weight
 * (total, the weights but skip's), never can[skip].
 */
static size_t
pool_draw(struct pool_worker **can, size_t n, uint32_t total, size_t skip)
{
	uint32_t	r = random_uniform(total);
	size_t		i;

	for (i = 0; i < n; i++) {
		if (i == skip)
			continue;
		if (r < can[i]->weight)
			return (i);
		r -= can[i]->weight;
	}
	return (skip == 0 ? 1 : 0);	/* not reached */
}

/*
 * The load stage: among the candidates, the cheaper of two drawn at
 * random (BALANCE=p2c, the power of two choices), or the one with the
 * fewest sessions for its weight (BALANCE=least).
 */
static struct pool_worker *
pool_pick_load(struct pool_worker **cand, size_t n)
{
	struct pool_worker	*best;
	uint32_t		 total = 0;
	size_t			 i, j;

	if (n == 0)
		return (NULL);
	best = cand[0];
	if (cfg->balance == CONF_BALANCE_P2C && n > 2) {
		for (i = 0; i < n; i++)
			total += cand[i]->weight;
		i = pool_draw(cand, n, total, n);
		j = pool_draw(cand, n, total - cand[i]->weight, i);
		best = cand[i];
		if (pool_cheaper(cand[j], best))
			best = cand[j];
	} else if (cfg->balance == CONF_BALANCE_P2C) {
		if (n == 2 && pool_cheaper(cand[1], best))
			best = cand[1];
	} else {
		for (i = 1; i < n; i++)
			if (pool_fewer_sessions(cand[i], best))
				best = cand[i];
	}
	return (best);
}

/*
 * The sticky stage, in place of load for a request with a session: the
 * worker the session is pinned to, if it is among the candidates; else,
 * for a new session or a soft one whose worker left, the candidate with
 * the highest rendezvous score (pinned there); a strict session whose
 * worker left gets none until its lifetime ends.
 */
static struct pool_worker *
pool_pick_sticky(const struct pool_want *want, struct pool_worker **cand,
    size_t n)
{
	struct pool_worker	*best = NULL;
	const char		*pinned;
	uint64_t		 score, best_score = 0;
	size_t			 i;

	pinned = sticky_lookup(want->account, want->session);
	if (pinned != NULL) {
		for (i = 0; i < n; i++) {
			if (strcmp(cand[i]->name, pinned) == 0)
				return (cand[i]);
		}
		if (want->strict)
			return (NULL);
	}
	for (i = 0; i < n; i++) {
		score = sticky_score(want->account, want->session,
		    cand[i]->name);
		if (best == NULL || score > best_score ||
		    (score == best_score &&
		    strcmp(cand[i]->name, best->name) < 0)) {
			best = cand[i];
			best_score = score;
		}
	}
	if (best != NULL) {
		if (pinned != NULL)
			log_line(LOGC_EVENT, "sticky session %s of '%s' moves "
			    "from worker %s to %s", want->session,
			    want->account, pinned, best->name);
		sticky_pin(want->account, want->session, best->name,
		    want->ttl != 0 ? want->ttl : cfg->sticky_ttl);
	}
	return (best);
}

/*
 * Choose the worker for a request (not exclude, the one that just failed
 * it).  One function, three stages in order: the request's filters,
 * then health (what may take a request now), then load, or stickiness
 * for a request with a session.  *matched says whether any worker
 * passed the filters.
 */
struct pool_worker *
pool_pick(const struct pool_want *want, struct pool_worker *exclude,
    int *matched)
{
	static struct pool_worker	**cand;
	static size_t			  cand_size;
	struct pool_worker		 *w, *best;
	size_t				  n = 0, i, m;

	if (cand_size < pool_registered + 1) {
		cand_size = pool_registered + 16;
		cand = xreallocarray(cand, cand_size, sizeof(*cand));
	}
	/* 1. Filters: the workers this request may use at all. */
	TAILQ_FOREACH(w, &pool_workers, entry) {
		if (n < cand_size && pool_filter_match(w, want))
			cand[n++] = w;
	}
	*matched = n > 0;
	/* 2. Health: those that can take a request now. */
	for (i = m = 0; i < n; i++) {
		if (cand[i] != exclude && pool_can_take(cand[i]))
			cand[m++] = cand[i];
	}
	/* 3. Load, or the session's worker. */
	if (want->session[0] != '\0')
		best = pool_pick_sticky(want, cand, m);
	else
		best = pool_pick_load(cand, m);
	if (best != NULL)
		best->last_pick = ++pool_picks;
	return (best);
}

/*
 * Fill a request's wants from its user name's parameters (NULL for none)
 * and its account's tags= (NULL for none).
 */
void
pool_want_init(struct pool_want *want, const struct userparam *up,
    const struct tags *account_tags)
{
	memset(want, 0, sizeof(*want));
	if (account_tags != NULL)
		want->account_tags = *account_tags;
	if (up == NULL)
		return;
	want->tags = up->tags;
	strlcpy(want->worker, up->worker, sizeof(want->worker));
	strlcpy(want->account, up->base, sizeof(want->account));
	strlcpy(want->session, up->session, sizeof(want->session));
	want->ttl = (uint64_t)up->ttl * 60 * 1000;
	want->strict = up->strict;
}

/*
 * Tell whether a request narrows its workers: then NO_WORKER=direct
 * never applies to it, and no worker for it is a failure.
 */
int
pool_want_filters(const struct pool_want *want)
{
	return (want->tags.n > 0 || want->account_tags.n > 0 ||
	    want->worker[0] != '\0');
}

/* The tags of the registered worker called name, or NULL. */
const struct tags *
pool_worker_tags(const char *name)
{
	struct pool_worker	*w;

	TAILQ_FOREACH(w, &pool_workers, entry) {
		if (w->registered && !w->dead && strcmp(w->name, name) == 0)
			return (&w->tags);
	}
	return (NULL);
}

/* Tell whether any worker could take a request now. */
int
pool_has_worker(void)
{
	struct pool_worker	*w;

	TAILQ_FOREACH(w, &pool_workers, entry) {
		if (pool_can_take(w))
			return (1);
	}
	return (0);
}

/*
 * Tell whether any worker could take a request of this SOCKS command now:
 * BIND and UDP ASSOCIATE only go to workers that announced them.
 */
int
pool_has_worker_for(int cmd)
{
	struct pool_worker	*w;

	TAILQ_FOREACH(w, &pool_workers, entry) {
		if (pool_can_take(w) && pool_carries(w, cmd))
			return (1);
	}
	return (0);
}

/* Registered workers (for counters and the status page). */
size_t
pool_worker_count(void)
{
	return (pool_registered);
}

/* Registered workers marked unresponsive (for the metrics). */
size_t
pool_unresponsive_count(void)
{
	struct pool_worker	*w;
	size_t			 n = 0;

	TAILQ_FOREACH(w, &pool_workers, entry)
		if (w->registered && !w->dead && w->unresponsive)
			n++;
	return (n);
}
