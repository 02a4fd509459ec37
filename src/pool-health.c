/*
 * A worker's health, as the pool sees it.  A link that owes the server
 * an answer (a request or session frame sent, nothing received since)
 * is pinged, and one still silent after WORKER_RESPONSE_TIMEOUT is
 * unresponsive: chosen for nothing, its pending requests tried
 * elsewhere at once, until frames flow again (esp/1 workers only: a
 * legacy one answers no ping).  Each connect result a worker reports
 * feeds its health (health.c): a worker whose dials keep failing is
 * ejected for a cool-down, within EJECT_MAX_PERCENT of the pool, and
 * comes back on trial.  PROBE_TARGET, when set, is dialled through every
 * worker each PROBE_INTERVAL, as a request would be.
 */
#include "config.h"

#include <sys/types.h>

#include <stdlib.h>

#include "cfg.h"
#include "compat.h"
#include "ev.h"
#include "health.h"
#include "linkmsg.h"
#include "log.h"
#include "mux.h"
#include "pool.h"
#include "pool-int.h"
#include "random.h"
#include "stats.h"

static struct health_dests	pool_dests;

static void	pool_live_cb(void *);
static void	pool_eject_cb(void *);
static void	pool_probe_cb(void *);

/* Frames flow again on an unresponsive link: choose it again. */
static void
pool_responsive(struct pool_worker *w)
{
	w->unresponsive = 0;
	log_line(LOGC_EVENT, "worker %s (%s) responsive again after %llu ms",
	    w->name, w->addr,
	    (unsigned long long)(ev_now() - w->unresponsive_at));
}

/*
 * No frame for WORKER_RESPONSE_TIMEOUT while the link owed one (a frozen
 * or cut-off worker): choose it for nothing, and send the requests that
 * wait for its answer elsewhere now rather than after CONNECT_TIMEOUT.
 */
static void
pool_unresponsive(struct pool_worker *w, uint64_t quiet)
{
	struct pool_open	*po;
	struct mux_session	*s;
	size_t			 pending = 0;

	TAILQ_FOREACH(po, &w->pending, pending_entry)
		pending++;
	w->unresponsive = 1;
	w->unresponsive_at = ev_now();
	log_line(LOGC_EVENT, "worker %s (%s) unresponsive: nothing received "
	    "for %llu ms (WORKER_RESPONSE_TIMEOUT %llu ms), %zu requests "
	    "pending, %zu sessions; not choosing it", w->name, w->addr,
	    (unsigned long long)quiet,
	    (unsigned long long)cfg->worker_response_timeout, pending,
	    mux_link_sessions(w->link));
	while ((po = TAILQ_FIRST(&w->pending)) != NULL) {
		pool_pending_remove(po);
		log_line(LOGC_SESSION, "request for %s:%u: worker %s is "
		    "unresponsive; retrying", po->req.host, po->req.port,
		    w->name);
		s = po->session;
		po->session = NULL;
		if (s != NULL)
			mux_session_cancel(s);
		pool_try(po, SOCKS_FAIL_TIMEOUT);
	}
}

/*
 * Watch a link that owes the server an answer: ping it halfway to the
 * deadline (a live peer answers a ping at once, even while its requests
 * wait for slow destinations), mark it unresponsive at the deadline, and
 * responsive again once anything arrives.  Runs while the link has
 * sessions, owes an answer or is unresponsive.
 */
static void
pool_live_check(struct pool_worker *w)
{
	uint64_t		 limit = cfg->worker_response_timeout;
	uint64_t		 now = ev_now(), since, quiet, next;
	struct linkmsg_out	 ping;

	if (w->dead || !w->registered)
		return;
	if (limit == 0) {
		/* Turned off by a reload. */
		if (w->unresponsive)
			pool_responsive(w);
		return;
	}
	if (w->unresponsive &&
	    mux_link_last_rx(w->link) > w->unresponsive_at)
		pool_responsive(w);
	/* A request outstanding: the link owes an answer, whatever came. */
	if (!TAILQ_EMPTY(&w->pending))
		mux_link_expect(w->link);
	next = limit / 4;
	if (mux_link_awaiting(w->link, &since)) {
		/* Count from when we watched, not from a stale frame. */
		if (since < w->watch_since)
			since = w->watch_since;
		quiet = now > since ? now - since : 0;
		if (quiet >= limit) {
			if (!w->unresponsive)
				pool_unresponsive(w, quiet);
		} else if (quiet >= limit / 2) {
			if (w->pinged_at <= since) {
				w->pinged_at = now;
				linkmsg_ping(&ping,
				    mux_link_next_tid(w->link));
				mux_link_send_control(w->link, &ping);
			}
			next = limit - quiet;
		} else
			next = limit / 2 - quiet;
	} else if (mux_link_sessions(w->link) == 0 && !w->unresponsive)
		return;
	if (next > limit / 4)
		next = limit / 4;
	ev_timer_start(&w->live_timer, next > 0 ? next : 1);
}

/* The liveness timer of a link. */
static void
pool_live_cb(void *arg)
{
	pool_live_check(arg);
}

/*
 * A request went to w: watch its link if no one does yet.  Not a legacy
 * worker's: it answers no ping (the Node library takes PING silently).
 */
void
pool_live_watch(struct pool_worker *w)
{
	if (cfg->worker_response_timeout == 0 || !w->esp ||
	    ev_timer_pending(&w->live_timer))
		return;
	w->watch_since = ev_now();
	pool_live_check(w);
}

/* Microseconds of the monotonic clock, for connect latencies. */
uint64_t
pool_now_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return (ev_now() * 1000);
	return ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* The ejection settings in force. */
static void
pool_health_conf(struct health_conf *c)
{
	c->failures = cfg->eject_failures;
	c->eject_ms = cfg->eject_time;
	c->eject_max_ms = cfg->eject_time_max;
}

/*
 * Tell whether w may be ejected now: at most EJECT_MAX_PERCENT of the
 * registered workers out at once, and never the last one that is not.
 */
static int
pool_may_eject(size_t *out, size_t *all)
{
	struct pool_worker	*o;

	*out = *all = 0;
	TAILQ_FOREACH(o, &pool_workers, entry) {
		if (!o->registered || o->dead)
			continue;
		(*all)++;
		if (o->health.ejected)
			(*out)++;
	}
	return (health_may_eject(*out, *all, cfg->eject_max_percent));
}

/* A fault counted against w (reason, to host:port): eject it if due. */
static void
pool_health_fault(struct pool_worker *w, const char *reason,
    const char *host, unsigned int port)
{
	struct health_conf	 c;
	size_t			 out, all;
	uint64_t		 cool;
	unsigned int		 faults = w->health.consecutive + 1;
	int			 trial = w->health.trial;

	pool_health_conf(&c);
	if (!health_failure(&w->health, &c))
		return;
	if (!pool_may_eject(&out, &all)) {
		if (!w->cap_logged)
			log_line(LOGC_EVENT, "worker %s (%s) not ejected "
			    "after %u connect failures in a row: %zu of %zu "
			    "workers out already (EJECT_MAX_PERCENT %u)",
			    w->name, w->addr, faults, out, all,
			    cfg->eject_max_percent);
		w->cap_logged = 1;
		return;
	}
	w->cap_logged = 0;
	cool = health_eject(&w->health, &c, ev_now());
	stats_worker_ejected(w->name);
	ev_timer_start(&w->eject_timer, cool);
	log_line(LOGC_EVENT, "worker %s (%s) ejected: %u connect failures "
	    "in a row%s, last %s to %s:%u; latency %llu us; out for %llu ms "
	    "(ejection %u in a row); %zu of %zu workers out", w->name,
	    w->addr, faults, trial ? " (on trial)" : "", reason, host, port,
	    (unsigned long long)w->health.ewma_us, (unsigned long long)cool,
	    w->health.ejections, out + 1, all);
}

/* A cool-down is over: the worker is chosen again, on trial. */
static void
pool_eject_cb(void *arg)
{
	struct pool_worker	*w = arg;
	uint64_t		 out;

	out = ev_now() - w->health.ejected_at;
	if (!health_cooled(&w->health, ev_now())) {
		ev_timer_start(&w->eject_timer, w->health.until - ev_now());
		return;
	}
	log_line(LOGC_EVENT, "worker %s (%s) back from ejection after %llu ms, "
	    "on trial", w->name, w->addr, (unsigned long long)out);
}

/*
 * Count a connect result of the request's worker: its latency when it
 * connected, a fault when the worker may be to blame.
 */
static void
pool_health_count(struct pool_worker *w, enum socks_failure why,
    const char *host, unsigned int port, uint64_t sent_us)
{
	enum health_verdict	 v = health_verdict(why);
	uint32_t		 hash;

	hash = health_dest_hash(host, port);
	if (v == HEALTH_OK) {
		health_dest_counts(&pool_dests, hash, w->serial, 1, ev_now());
		health_success(&w->health, pool_now_us() - sent_us);
		stats_worker_connected(w->name, pool_now_us() - sent_us);
		w->measured_at = ev_now();
		return;
	}
	w->health.connects_failed++;
	if (v == HEALTH_FAULT &&
	    health_dest_counts(&pool_dests, hash, w->serial, 0, ev_now()))
		pool_health_fault(w, socks_failure_name(why), host, port);
}

/* Count the connect result of a request's worker. */
void
pool_health_result(struct pool_open *po, enum socks_failure why)
{
	pool_health_count(po->worker, why, po->req.host, po->req.port,
	    po->sent_us);
}

/*
 * The next probe of w in about PROBE_INTERVAL (75% to 125%, spread).
 * Armed without a PROBE_TARGET too, so that a reload that sets one
 * starts the probes within an interval.
 */
void
pool_probe_arm(struct pool_worker *w)
{
	uint64_t	iv = cfg->probe_interval;

	if (!w->esp || w->dead)
		return;
	ev_timer_start(&w->probe_timer, iv * 3 / 4 +
	    random_uniform((uint32_t)(iv / 2 > 0 ? iv / 2 : 1)));
}

/* The worker answered a probe, or its link died. */
static void
pool_probe_session_cb(struct mux_session *s, enum mux_event ev,
    const char *host_or_reason, const char *port, void *arg)
{
	struct pool_worker		*w = arg;
	const struct conf_hostport	*t = &cfg->probe_target[0];
	uint64_t			 took = pool_now_us() - w->probe_sent_us;

	w->probe = NULL;
	mux_session_set_cb(s, NULL, NULL);
	if (ev == MUX_SESSION_LOST || cfg->probe_target_count == 0)
		return;
	if (ev == MUX_SESSION_ACCEPTED) {
		log_line(LOGC_SESSION, "probe of worker %s: %s connected in "
		    "%llu us", w->name, t->text, (unsigned long long)took);
		mux_session_cancel(s);
		pool_health_count(w, SOCKS_FAIL_NONE, t->host,
		    (unsigned int)atoi(t->port), w->probe_sent_us);
		return;
	}
	log_line(LOGC_SESSION, "probe of worker %s: %s %s", w->name, t->text,
	    host_or_reason != NULL ? host_or_reason : "failure");
	pool_health_count(w, socks_failure_from_name(host_or_reason), t->host,
	    (unsigned int)atoi(t->port), w->probe_sent_us);
}

/*
 * PROBE_INTERVAL: ask the worker to connect PROBE_TARGET, so an idle
 * worker's health and latency are known too.  A probe still unanswered
 * after CONNECT_TIMEOUT and the answer margin counts as a timeout.
 */
static void
pool_probe_cb(void *arg)
{
	struct pool_worker		*w = arg;
	const struct conf_hostport	*t;
	uint64_t			 limit, out;

	if (w->dead || !w->registered)
		return;
	if (cfg->probe_target_count == 0) {
		pool_probe_arm(w);
		return;
	}
	t = &cfg->probe_target[0];
	if (w->probe != NULL) {
		limit = cfg->connect_timeout + POOL_ANSWER_MARGIN_MS;
		out = (pool_now_us() - w->probe_sent_us) / 1000;
		if (out < limit) {
			ev_timer_start(&w->probe_timer, limit - out);
			return;
		}
		mux_session_set_cb(w->probe, NULL, NULL);
		mux_session_cancel(w->probe);
		w->probe = NULL;
		log_line(LOGC_SESSION, "probe of worker %s: %s not answered",
		    w->name, t->text);
		pool_health_count(w, SOCKS_FAIL_TIMEOUT, t->host,
		    (unsigned int)atoi(t->port), w->probe_sent_us);
	} else if (!w->health.ejected && !w->draining) {
		w->probe_sent_us = pool_now_us();
		w->probe = mux_session_open(w->link, t->host,
		    (unsigned int)atoi(t->port), "connect",
		    pool_probe_session_cb, w);
		pool_live_watch(w);
	}
	pool_probe_arm(w);
}

/* Ready a new link's health timers: responsiveness, ejection, probe. */
void
pool_health_init(struct pool_worker *w)
{
	ev_timer_init(&w->live_timer, pool_live_cb, w);
	ev_timer_init(&w->eject_timer, pool_eject_cb, w);
	ev_timer_init(&w->probe_timer, pool_probe_cb, w);
}

/* The link is gone: stop its health timers. */
void
pool_health_stop(struct pool_worker *w)
{
	ev_timer_stop(&w->live_timer);
	ev_timer_stop(&w->eject_timer);
	ev_timer_stop(&w->probe_timer);
}
