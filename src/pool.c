/*
 * The pool of workers: a SOCKS request goes to a worker chosen by
 * pool_pick (pool-pick.c) as a session on its link.  A request whose
 * worker dies or stays silent before answering is tried again
 * elsewhere, so a lost worker costs only the tunnels it carried.  The
 * links themselves are pool-link.c's, their health pool-health.c's.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "compat.h"
#include "ev.h"
#include "linkmsg.h"
#include "log.h"
#include "mux.h"
#include "pool.h"
#include "pool-int.h"
#include "sticky.h"
#include "xmalloc.h"

/* Tries of one request over different workers before giving up. */
#define POOL_MAX_TRIES		3

struct pool_worker_list	pool_workers =
    TAILQ_HEAD_INITIALIZER(pool_workers);
size_t			pool_registered;

/* Take a request off its worker's list of unanswered requests. */
void
pool_pending_remove(struct pool_open *po)
{
	if (po->is_pending) {
		TAILQ_REMOVE(&po->worker->pending, po, pending_entry);
		po->is_pending = 0;
	}
}

/* Forget a request without reporting anything. */
static void
pool_open_free(struct pool_open *po)
{
	pool_pending_remove(po);
	ev_timer_stop(&po->timer);
	free(po);
}

/* Report the outcome to the caller and forget the request. */
static void
pool_finish(struct pool_open *po, struct end *e, enum socks_failure why,
    const struct sockaddr *bound)
{
	pool_open_cb	 cb = po->cb;
	void		*arg = po->arg;
	char		 via[POOL_NAME_SIZE];

	strlcpy(via, po->worker != NULL ? po->worker->name : po->via,
	    sizeof(via));
	pool_open_free(po);
	cb(e, why, bound, via, arg);
}

/*
 * Tell whether an R is a draining worker's refusal of a request that
 * crossed its DRAIN: the reason says so, or (a worker before esp/1's
 * `draining`) a general failure after the worker's DRAIN.  Such a request
 * never reached a destination, so it may be tried elsewhere.
 */
static int
pool_refused_draining(struct pool_worker *w, const char *reason)
{
	if (reason != NULL && strcmp(reason, "draining") == 0)
		return (1);
	return (w->draining &&
	    socks_failure_from_name(reason) == SOCKS_FAIL_FAILURE);
}

/* The worker answered the request's session, or its link died. */
static void
pool_session_cb(struct mux_session *s, enum mux_event ev,
    const char *host_or_reason, const char *port, void *arg)
{
	struct pool_open	*po = arg;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	const char		*host = host_or_reason, *errstr;
	int			 p = 0;

	po->session = NULL;
	pool_pending_remove(po);
	switch (ev) {
	case MUX_SESSION_ACCEPTED:
		memset(&ss, 0, sizeof(ss));
		if (port != NULL)
			p = strtonum(port, 0, 65535, &errstr);
		if (host != NULL &&
		    inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(p);
		} else if (host != NULL &&
		    inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(p);
		}
		po->worker->sessions_total++;
		pool_health_result(po, SOCKS_FAIL_NONE);
		/* The request is freed: the session must not call it. */
		mux_session_set_cb(s, NULL, NULL);
		pool_finish(po, mux_session_end(s), SOCKS_FAIL_NONE,
		    (struct sockaddr *)&ss);
		return;
	case MUX_SESSION_REJECTED:
		mux_session_set_cb(s, NULL, NULL);
		if (pool_refused_draining(po->worker, host_or_reason)) {
			log_line(LOGC_SESSION, "request for %s:%u refused by "
			    "draining worker %s; retrying", po->req.host,
			    po->req.port, po->worker->name);
			po->worker->draining = 1;
			pool_try(po, SOCKS_FAIL_FAILURE);
			return;
		}
		pool_health_result(po, socks_failure_from_name(host_or_reason));
		pool_finish(po, NULL, socks_failure_from_name(host_or_reason),
		    NULL);
		return;
	case MUX_SESSION_CONNECTED:
		/* Only after A, when the request is no longer ours. */
		return;
	case MUX_SESSION_LOST:
		/* The worker died before answering: try another. */
		po->worker->dead = 1;
		log_line(LOGC_SESSION, "request for %s:%u lost with worker "
		    "%s; retrying", po->req.host, po->req.port,
		    po->worker->name);
		pool_try(po, SOCKS_FAIL_FAILURE);
		return;
	}
}

/*
 * The request's timer: report a give-up, take a legacy worker's silence
 * as success, or try elsewhere after an esp/1 worker's silence.
 */
static void
pool_timer_cb(void *arg)
{
	struct pool_open	*po = arg;
	struct mux_session	*s = po->session;

	if (s == NULL) {
		/* pool_try gave up: report it from the loop, not the caller. */
		pool_finish(po, NULL, po->failure, NULL);
		return;
	}
	pool_pending_remove(po);
	if (!po->worker->esp) {
		/* A legacy worker sends no A: connected as far as we know. */
		po->session = NULL;
		po->worker->sessions_total++;
		mux_session_set_cb(s, NULL, NULL);
		pool_finish(po, mux_session_end(s), SOCKS_FAIL_NONE, NULL);
		return;
	}
	log_line(LOGC_ERROR, "worker %s did not answer for %s:%u in time",
	    po->worker->name, po->req.host, po->req.port);
	pool_health_result(po, SOCKS_FAIL_TIMEOUT);
	po->session = NULL;
	mux_session_cancel(s);
	pool_try(po, SOCKS_FAIL_TIMEOUT);
}

/*
 * Tell whether a request that no worker takes must fail rather than be
 * dialed by the server (NO_WORKER=direct): it has filters, or a strict
 * session pinned to a worker.
 */
static int
pool_never_direct(const struct pool_want *want)
{
	return (pool_want_filters(want) || (want->session[0] != '\0' &&
	    want->strict && sticky_lookup(want->account, want->session) !=
	    NULL));
}

/*
 * Send the request to a worker other than the one that just failed it
 * (failed says how).  When no worker can take it at all the caller
 * applies NO_WORKER; when workers are left but had their tries, the
 * request fails as the last try did: traffic must not leave from the
 * server's address while workers are registered.
 */
void
pool_try(struct pool_open *po, enum socks_failure failed)
{
	struct pool_worker	*w = NULL;
	int			 matched = 0;

	pool_pending_remove(po);
	if (po->tries < POOL_MAX_TRIES)
		w = pool_pick(&po->want, po->worker, &matched);
	if (w == NULL) {
		if (pool_never_direct(&po->want)) {
			/* Never direct: fail as an unreachable host. */
			if (po->worker != NULL)
				strlcpy(po->via, po->worker->name,
				    sizeof(po->via));
			else {
				failed = SOCKS_FAIL_HOSTUNREACH;
				log_line(LOGC_ERROR, "request for %s:%u: no "
				    "worker %s", po->req.host, po->req.port,
				    matched ? "may take it now" :
				    "matches its filters");
			}
		} else if (po->worker == NULL || !pool_has_worker())
			failed = SOCKS_FAIL_NONE;
		else
			strlcpy(po->via, po->worker->name, sizeof(po->via));
		/* Reported from a timer: the worker may be gone by then. */
		po->worker = NULL;
		po->session = NULL;
		po->failure = failed;
		ev_timer_start(&po->timer, 0);
		return;
	}
	po->tries++;
	po->worker = w;
	po->sent_us = pool_now_us();
	po->session = mux_session_open(w->link, po->req.host, po->req.port,
	    po->req.cmd == SOCKS_CMD_BIND ? "bind" :
	    po->req.cmd == SOCKS_CMD_UDP ? "udp" : "connect", pool_session_cb,
	    po);
	TAILQ_INSERT_TAIL(&w->pending, po, pending_entry);
	po->is_pending = 1;
	ev_timer_start(&po->timer, w->esp ? cfg->connect_timeout +
	    POOL_ANSWER_MARGIN_MS : 0);
	pool_live_watch(w);
}

/*
 * Hand a SOCKS request to a worker; cb reports the outcome later, always
 * from the loop, never before pool_open returns.
 */
struct pool_open *
pool_open(const struct socks_request *req, const struct pool_want *want,
    pool_open_cb cb, void *arg)
{
	struct pool_open	*po;

	po = xcalloc(1, sizeof(*po));
	po->req = *req;
	if (want != NULL)
		po->want = *want;
	/* The command is a filter too: BIND and UDP need cmds= (2). */
	po->want.cmd = req->cmd;
	po->cb = cb;
	po->arg = arg;
	strlcpy(po->via, "none", sizeof(po->via));
	ev_timer_init(&po->timer, pool_timer_cb, po);
	pool_try(po, SOCKS_FAIL_NONE);
	return (po);
}

/* The client left before its request was answered. */
void
pool_open_cancel(struct pool_open *po)
{
	if (po->session != NULL)
		mux_session_cancel(po->session);
	pool_open_free(po);
}

/* Call fn for every worker link, registered or not. */
void
pool_foreach(void (*fn)(const struct pool_info *, void *), void *arg)
{
	struct pool_worker	*w;
	struct pool_info	 info;

	TAILQ_FOREACH(w, &pool_workers, entry) {
		if (w->dead)
			continue;
		info.name = w->name;
		info.addr = w->addr;
		info.registered = w->registered;
		info.esp = w->esp;
		info.draining = w->draining;
		info.state = !w->registered ? "registering" :
		    w->unresponsive ? "unresponsive" :
		    w->draining ? "draining" :
		    w->health.ejected ? "ejected" : "up";
		info.up_since = w->registered ? (long long)w->up_since : 0;
		info.tags = &w->tags;
		info.latency_us = w->health.ewma_us;
		info.ejections = w->health.ejections_total;
		info.sessions = mux_link_sessions(w->link);
		info.sessions_total = w->sessions_total;
		info.bytes_sent = mux_link_bytes(w->link, 1);
		info.bytes_received = mux_link_bytes(w->link, 0);
		fn(&info, arg);
	}
}

/*
 * The server is stopping: tell every registered worker to go elsewhere.
 * A link still registering is not told: until our 100 OK the worker
 * takes nothing but the handshake, and would count a DRAIN as a
 * protocol error; it redials once the link closes.
 */
void
pool_stop(void)
{
	struct pool_worker	*w;
	struct linkmsg_out	 drain;

	linkmsg_drain(&drain);
	TAILQ_FOREACH(w, &pool_workers, entry)
		if (w->registered && !w->dead)
			mux_link_send_control(w->link, &drain);
}
