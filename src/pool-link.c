/*
 * The server's side of a worker link until it is in the pool, and its
 * end.  A link is greeted with HELO and a nonce; a worker joins the pool
 * once its RGST is accepted (with a proof when WORKER_SECRET is set, or
 * as a legacy text-net worker when it is not).  Links that have not
 * registered yet are counted, in total and by address, for the server's
 * WORKER_PENDING_MAX and _PER_IP caps, and the lines logged about them
 * are held to a burst a second.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cfg.h"
#include "compat.h"
#include "ev.h"
#include "ipcount.h"
#include "linkauth.h"
#include "linkmsg.h"
#include "log.h"
#include "mux.h"
#include "pool.h"
#include "pool-int.h"
#include "sock.h"
#include "stats.h"
#include "sticky.h"
#include "tags.h"
#include "xmalloc.h"

/* Lines about links that never registered: this many a second at most. */
#define POOL_UNREG_LOG_BURST	10
#define POOL_UNREG_LOG_MS	1000

/* How a line about an unregistered link is logged, least pressing first. */
enum pool_unreg_level {
	POOL_UNREG_EVENT,	/* under LOG_EVENT */
	POOL_UNREG_ERROR,	/* under LOG_ERROR */
	POOL_UNREG_WARN		/* a warning, always */
};

static uint32_t			pool_serials;
/* Links not registered yet, in all and by address. */
static size_t			pool_pending;
static struct ipcount		pool_pending_addrs;
/* Lines about unregistered links: this second's, and those held back. */
static struct {
	uint64_t		 since;		/* ev_now() the second began */
	unsigned int		 lines;		/* logged in it */
	unsigned long		 held;		/* held back since */
	enum pool_unreg_level	 level;		/* the most pressing of those */
	char			 latest[256];	/* the last of those */
	struct ev_timer		 timer;		/* logs the count */
} pool_unreg_log;

static int	pool_link_message(struct mux_link *,
		    const struct textnet_msg *, const unsigned char *,
		    const char **);
static void	pool_link_session(struct mux_link *, struct mux_session *,
		    const struct textnet_msg *);
static void	pool_link_closed(struct mux_link *, const char *);
static void	pool_idle_cb(void *);
static void	pool_register_cb(void *);

static const struct mux_link_ops pool_link_ops = {
	pool_link_message,
	pool_link_session,
	pool_link_closed
};

/* Log one line at a level of pool_unreg_level. */
static void
pool_unreg_emit(enum pool_unreg_level level, const char *line)
{
	switch (level) {
	case POOL_UNREG_EVENT:
		log_line(LOGC_EVENT, "%s", line);
		break;
	case POOL_UNREG_ERROR:
		log_line(LOGC_ERROR, "%s", line);
		break;
	case POOL_UNREG_WARN:
		log_warnx("%s", line);
		break;
	}
}

/* The second is over: one line for the lines held back in it. */
static void
pool_unreg_log_cb(void *arg)
{
	char	line[sizeof(pool_unreg_log.latest) + 128];

	if (pool_unreg_log.held == 0)
		return;
	snprintf(line, sizeof(line), "%lu more line%s about worker links "
	    "that did not register held back; the latest: %s",
	    pool_unreg_log.held, pool_unreg_log.held == 1 ? "" : "s",
	    pool_unreg_log.latest);
	pool_unreg_emit(pool_unreg_log.level, line);
	pool_unreg_log.held = 0;
	pool_unreg_log.level = POOL_UNREG_EVENT;
	pool_unreg_log.since = ev_now();
	pool_unreg_log.lines = 1;
}

/*
 * Log a line about a link that has not registered (its accept, its
 * refusal, its close).  Anyone WORKER_ALLOW admits can open such links
 * as fast as the server closes them: past POOL_UNREG_LOG_BURST lines in
 * a second, lines are held back and counted in one line at its end.
 */
static void PRINTFLIKE(2, 3)
pool_unreg_line(enum pool_unreg_level level, const char *fmt, ...)
{
	va_list		ap;
	char		line[sizeof(pool_unreg_log.latest)];
	uint64_t	now = ev_now();

	if ((level == POOL_UNREG_EVENT && !log_class_enabled(LOGC_EVENT)) ||
	    (level == POOL_UNREG_ERROR && !log_class_enabled(LOGC_ERROR)))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (pool_unreg_log.held == 0 &&
	    now - pool_unreg_log.since >= POOL_UNREG_LOG_MS) {
		pool_unreg_log.since = now;
		pool_unreg_log.lines = 0;
	}
	if (pool_unreg_log.held == 0 &&
	    pool_unreg_log.lines < POOL_UNREG_LOG_BURST) {
		pool_unreg_log.lines++;
		pool_unreg_emit(level, line);
		return;
	}
	pool_unreg_log.held++;
	if (level > pool_unreg_log.level)
		pool_unreg_log.level = level;
	strlcpy(pool_unreg_log.latest, line, sizeof(pool_unreg_log.latest));
	if (!ev_timer_pending(&pool_unreg_log.timer)) {
		ev_timer_init(&pool_unreg_log.timer, pool_unreg_log_cb, NULL);
		ev_timer_start(&pool_unreg_log.timer,
		    now - pool_unreg_log.since < POOL_UNREG_LOG_MS ?
		    POOL_UNREG_LOG_MS - (now - pool_unreg_log.since) : 0);
	}
}

/* A worker connected to WORKER_LISTEN: greet it and wait for RGST. */
void
pool_link_accept(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct pool_worker	*w;
	struct linkmsg_out	 helo;

	w = xcalloc(1, sizeof(*w));
	memcpy(&w->ss, sa, salen);
	sock_ntop(sa, w->addr, sizeof(w->addr));
	pool_pending++;
	ipcount_add(&pool_pending_addrs, sa);
	strlcpy(w->name, w->addr, sizeof(w->name));
	w->link = mux_link_new(fd, MUX_ACCEPTOR, &pool_link_ops, w);
	mux_link_set_name(w->link, w->addr);
	linkauth_nonce(w->nonce);
	TAILQ_INSERT_TAIL(&pool_workers, w, entry);
	ev_timer_init(&w->idle_timer, pool_idle_cb, w);
	ev_timer_start(&w->idle_timer, cfg->worker_idle_close);
	/* Pings keep a link from idling out, not from registering. */
	ev_timer_init(&w->register_timer, pool_register_cb, w);
	ev_timer_start(&w->register_timer, cfg->handshake_timeout);
	TAILQ_INIT(&w->pending);
	pool_health_init(w);
	w->serial = ++pool_serials;
	w->weight = 1;

	linkmsg_helo(&helo, w->nonce);
	mux_link_send_control(w->link, &helo);
	pool_unreg_line(POOL_UNREG_EVENT, "worker link from %s", w->addr);
}

/* The link is no longer pending: it registered or it closed. */
static void
pool_pending_done(struct pool_worker *w)
{
	pool_pending--;
	ipcount_del(&pool_pending_addrs, (struct sockaddr *)&w->ss);
}

/* Worker links that have not registered, in all. */
size_t
pool_pending_count(void)
{
	return (pool_pending);
}

/* Worker links open, registered or not (each holds a descriptor). */
size_t
pool_link_count(void)
{
	return (pool_registered + pool_pending);
}

/* Worker links from sa's address that have not registered. */
unsigned int
pool_pending_from(const struct sockaddr *sa)
{
	return (ipcount_get(&pool_pending_addrs, sa));
}

/* Release a worker record once the loop no longer uses it. */
static void
pool_worker_free(void *arg)
{
	free(arg);
}

/* A worker link is gone: out of the pool, with one line saying why. */
static void
pool_link_closed(struct mux_link *l, const char *why)
{
	struct pool_worker	*w = mux_link_owner(l);

	w->dead = 1;
	ev_timer_stop(&w->idle_timer);
	ev_timer_stop(&w->register_timer);
	pool_health_stop(w);
	if (!w->registered)
		pool_pending_done(w);
	if (w->registered) {
		pool_registered--;
		log_info("worker %s (%s) left the pool: %s", w->name,
		    w->addr, why);
	} else if (mux_link_failed(l)) {
		/* A protocol error before RGST: the one line that says so. */
		pool_unreg_line(POOL_UNREG_ERROR, "worker link from %s "
		    "closed: %s", w->addr, why);
	} else
		pool_unreg_line(POOL_UNREG_EVENT, "worker link from %s "
		    "closed: %s", w->addr, why);
	TAILQ_REMOVE(&pool_workers, w, entry);
	ev_defer_free(pool_worker_free, w);
}

/* Close a worker link silent for WORKER_IDLE_CLOSE (a frozen worker). */
static void
pool_idle_cb(void *arg)
{
	struct pool_worker	*w = arg;
	uint64_t		 quiet = ev_now() - mux_link_last_rx(w->link);

	if (quiet < cfg->worker_idle_close) {
		ev_timer_start(&w->idle_timer, cfg->worker_idle_close - quiet);
		return;
	}
	mux_link_fail(w->link, "silent for WORKER_IDLE_CLOSE");
}

/* A link that has not registered within HANDSHAKE_TIMEOUT. */
static void
pool_register_cb(void *arg)
{
	struct pool_worker	*w = arg;

	mux_link_fail(w->link, "no RGST within HANDSHAKE_TIMEOUT");
}

/* Answer RGST with 403 reason, then close the link once it is sent. */
static void
pool_refuse(struct pool_worker *w, const char *reason)
{
	struct linkmsg_out	refusal;

	pool_unreg_line(POOL_UNREG_WARN, "worker link from %s refused: %s",
	    w->addr, reason);
	ev_timer_stop(&w->register_timer);
	stats_link_error();
	linkmsg_refuse(&refusal, reason);
	mux_link_send_control(w->link, &refusal);
	mux_link_close_after_flush(w->link, reason);
}

/* The commands in a cmds= list ("bind,udp"); unknown words are ignored. */
static int
pool_rgst_cmds(const char *list)
{
	const char	*p = list;
	size_t		 n;
	int		 cmds = 0;

	while (*p != '\0') {
		n = strcspn(p, ",");
		if (n == 4 && strncasecmp(p, "bind", 4) == 0)
			cmds |= POOL_CMD_BIND;
		else if (n == 3 && strncasecmp(p, "udp", 3) == 0)
			cmds |= POOL_CMD_UDP;
		p += n;
		if (*p == ',')
			p++;
	}
	return (cmds);
}

/*
 * Take a worker's tags=a,b.  A bad list registers the worker without
 * tags (it then matches no tag filter), with a warning that does not
 * echo the peer's bytes.
 */
static void
pool_rgst_tags(struct pool_worker *w, const char *list)
{
	char	*cause = NULL;

	if (tags_parse(&w->tags, list, ',', &cause) == 0)
		return;
	free(cause);
	memset(&w->tags, 0, sizeof(w->tags));
	log_warnx("worker link from %s: tags= is not a list of up to %d "
	    "tags of 1..%d a-z 0-9 _ .; registering it without tags",
	    w->addr, TAGS_MAX, TAGS_LEN_MAX);
}

/*
 * Warn about the options of an extended RGST that were ignored.  A bad
 * value is not worth refusing a worker for: it keeps the default, with a
 * warning that does not echo the peer's bytes.
 */
static void
pool_rgst_warn(struct pool_worker *w, const struct linkmsg_rgst *r)
{
	if (r->window_error != NULL)
		log_warnx("worker link from %s: window= is %s (want %d to "
		    "%lld); using %d", w->addr, r->window_error,
		    LINKMSG_WINDOW_MIN, (long long)LINKMSG_WINDOW_MAX,
		    LINKMSG_WINDOW_DEFAULT);
	if (r->max_error != NULL)
		log_warnx("worker link from %s: max= is %s (want 0 to %d); "
		    "ignored", w->addr, r->max_error, LINKMSG_MAX_SESSIONS);
	if (r->weight_error != NULL)
		log_warnx("worker link from %s: weight= is %s (want 1 to %d); "
		    "using 1", w->addr, r->weight_error, LINKMSG_WEIGHT_MAX);
}

/* Put a worker whose RGST was accepted in the pool. */
static void
pool_register(struct pool_worker *w, const char *name, int esp)
{
	if (name != NULL && *name != '\0')
		strlcpy(w->name, name, sizeof(w->name));
	ev_timer_stop(&w->register_timer);
	pool_pending_done(w);
	w->registered = 1;
	w->esp = esp;
	w->up_since = time(NULL);
	pool_registered++;
	pool_probe_arm(w);
	log_info("worker %s (%s) joined the pool%s", w->name, w->addr,
	    esp ? "" : " (legacy text-net)");
}

/* RGST: check the proof (or the lack of one) and join the pool. */
static int
pool_rgst(struct pool_worker *w, const struct textnet_msg *m)
{
	char			 expect[SHA256_HEX_LENGTH];
	char			 proof[SHA256_HEX_LENGTH];
	struct linkmsg_rgst	 r;
	struct linkmsg_out	 ok;
	int			 secret;

	if (w->registered)
		return (0);	/* the Node worker registers twice */
	secret = linkauth_has_secret(cfg->worker_secret);
	linkmsg_parse_rgst(m, &r);
	/* A legacy RGST may name no one: the peer address stands in. */
	if ((r.esp || (r.name != NULL && *r.name != '\0')) &&
	    (r.name == NULL || !conf_valid_worker_name(r.name))) {
		pool_refuse(w, LINKMSG_BAD_NAME);
		return (0);
	}
	if (!r.esp) {
		if (secret) {
			pool_refuse(w, LINKMSG_AUTH_REQUIRED);
			return (0);
		}
		mux_link_establish(w->link, 0, 0);
		pool_register(w, r.name != NULL ? r.name : w->addr, 0);
		return (0);
	}
	/* An esp/1 worker waits for 100 OK: never take it as legacy. */
	if (!r.complete) {
		pool_refuse(w, LINKMSG_BAD_PROOF);
		return (0);
	}
	if (secret) {
		/* "-" is a worker without a secret, not a wrong one. */
		if (strcmp(r.proof, "-") == 0) {
			pool_refuse(w, LINKMSG_AUTH_REQUIRED);
			return (0);
		}
		linkauth_rgst_proof(cfg->worker_secret, w->nonce, r.nonce,
		    r.name, expect);
		if (!linkauth_equal(expect, r.proof)) {
			pool_refuse(w, LINKMSG_BAD_PROOF);
			return (0);
		}
	}
	pool_rgst_warn(w, &r);
	if (r.tags != NULL)
		pool_rgst_tags(w, r.tags);
	if (r.cmds != NULL)
		w->cmds = pool_rgst_cmds(r.cmds);
	w->max_sessions = r.max_sessions;
	w->weight = r.weight;
	mux_link_establish(w->link, 1, r.window);
	linkauth_ok_proof(cfg->worker_secret, r.nonce, w->nonce, proof);
	linkmsg_ok(&ok, proof, LINKMSG_WINDOW_DEFAULT);
	mux_link_send_control(w->link, &ok);
	pool_register(w, r.name, 1);
	return (0);
}

/*
 * A message other than SESS from a worker: RGST, PING or DRAIN.  Before
 * it registered, a worker may send only RGST and the 201 a legacy worker
 * answers HELO with; anything else is not taken, which closes the link.
 */
static int
pool_link_message(struct mux_link *l, const struct textnet_msg *m,
    const unsigned char *body, const char **why)
{
	struct pool_worker	*w = mux_link_owner(l);
	enum linkmsg_kind	 kind = linkmsg_kind(m);
	struct linkmsg_out	 pong;

	if (!w->registered) {
		if (kind == LINKMSG_RGST)
			return (pool_rgst(w, m));
		return (kind == LINKMSG_UNKNOWN ? 0 : 1);
	}
	if (m->response)
		return (0);	/* never answer a response */
	switch (kind) {
	case LINKMSG_RGST:
		return (pool_rgst(w, m));
	case LINKMSG_PING:
		if (m->tid != 0) {
			linkmsg_pong(&pong, m->tid);
			mux_link_send_control(l, &pong);
		}
		return (0);
	case LINKMSG_DRAIN:
		if (!w->draining)
			log_info("worker %s (%s) is draining", w->name,
			    w->addr);
		w->draining = 1;
		return (0);
	default:
		return (1);
	}
}

/* A worker opened a session: the server offers none, so refuse it. */
static void
pool_link_session(struct mux_link *l, struct mux_session *s,
    const struct textnet_msg *m)
{
	/* mux refuses worker-opened sessions before this is reached. */
	mux_session_reject(s, "failure");
}

/* Close every worker link (exit). */
void
pool_abort_all(void)
{
	struct pool_worker	*w;

	while ((w = TAILQ_FIRST(&pool_workers)) != NULL)
		mux_link_close(w->link, "server exiting");
	if (ev_timer_pending(&pool_unreg_log.timer)) {
		ev_timer_stop(&pool_unreg_log.timer);
		pool_unreg_log_cb(NULL);
	}
	sticky_clear();
}
