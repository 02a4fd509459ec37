/*
 * The server's side of the worker links, and the pool they form.  A link
 * is greeted with HELO and a nonce; a worker joins the pool once its RGST
 * is accepted (with a proof when WORKER_SECRET is set, or as a legacy
 * text-net worker when it is not).  New SOCKS requests go to a worker
 * chosen by pool_pick in three stages: the request's filters (tags, a
 * worker's name, the account's tags), health, then load (BALANCE: the
 * cheaper of two drawn at random by sessions x connect latency over
 * weight, or the fewest sessions) or, for a sticky session, the
 * worker it is pinned to or the rendezvous choice among the rest.
 * A request whose worker dies or stays silent before answering is tried
 * again elsewhere, so a lost worker costs only the tunnels it carried.
 * A link that owes the server an answer (a request or session frame
 * sent, nothing received since) is pinged, and one still silent after
 * WORKER_RESPONSE_TIMEOUT is unresponsive: chosen for nothing, its
 * pending requests tried elsewhere at once, until frames flow again
 * (esp/1 workers only: a legacy one answers no ping).
 * Links that have not registered yet are counted, in total and by
 * address, for the server's WORKER_PENDING_MAX and _PER_IP caps, and
 * the lines logged about them are held to a burst a second.
 * Each connect result a worker reports feeds its health (health.c): a
 * worker whose dials keep failing is ejected for a cool-down, within
 * EJECT_MAX_PERCENT of the pool, and comes back on trial.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "compat.h"
#include "ev.h"
#include "health.h"
#include "ipcount.h"
#include "linkauth.h"
#include "linkmsg.h"
#include "log.h"
#include "mux.h"
#include "pool.h"
#include "random.h"
#include "sock.h"
#include "stats.h"
#include "sticky.h"
#include "tags.h"
#include "xmalloc.h"

/* Extra time a worker gets, beyond CONNECT_TIMEOUT, to answer A or R. */
#define POOL_ANSWER_MARGIN_MS	5000
/* Tries of one request over different workers before giving up. */
#define POOL_MAX_TRIES		3
/* A latency measured longer ago than this no longer steers the choice. */
#define POOL_LATENCY_STALE_MS	10000
/* Latencies below this are noise to the choice (LAN, a cold start). */
#define POOL_LATENCY_FLOOR_US	5000
/* Commands beyond CONNECT a worker announced in its RGST (cmds=). */
#define POOL_CMD_BIND		0x1
#define POOL_CMD_UDP		0x2
/* A worker's name, as via= in the access log. */
#define POOL_NAME_SIZE		(CONF_WORKER_NAME_MAX + 1)
/* Lines about links that never registered: this many a second at most. */
#define POOL_UNREG_LOG_BURST	10
#define POOL_UNREG_LOG_MS	1000

struct pool_open;
TAILQ_HEAD(pool_open_list, pool_open);

/* How a line about an unregistered link is logged, least pressing first. */
enum pool_unreg_level {
	POOL_UNREG_EVENT,	/* under LOG_EVENT */
	POOL_UNREG_ERROR,	/* under LOG_ERROR */
	POOL_UNREG_WARN		/* a warning, always */
};

struct pool_worker {
	struct mux_link			*link;
	struct sockaddr_storage		 ss;	/* for pool_pending_addrs */
	char				 addr[SOCK_ADDRSTRLEN];
	char				 name[POOL_NAME_SIZE];
	char				 nonce[LINKAUTH_NONCE_HEX];
	int				 registered;
	int				 esp;
	int				 draining;
	int				 dead;
	int				 unresponsive;
	uint64_t			 unresponsive_at;	/* ms */
	uint64_t			 watch_since;		/* ms */
	uint64_t			 pinged_at;		/* ms */
	struct pool_open_list		 pending;	/* sent, unanswered */
	struct ev_timer			 live_timer;
	unsigned int			 max_sessions;	/* 0 = no cap */
	struct tags			 tags;	/* tags= of its RGST */
	unsigned int			 weight;	/* RGST weight=, 1 */
	uint64_t			 measured_at;	/* ms, last latency */
	int				 cmds;		/* POOL_CMD_*, by cmds= */
	uint64_t			 last_pick;
	uint32_t			 serial;	/* for health_dests */
	struct health			 health;
	int				 cap_logged;	/* ejection capped */
	struct ev_timer			 eject_timer;	/* cool-down */
	struct ev_timer			 probe_timer;	/* PROBE_INTERVAL */
	struct mux_session		*probe;		/* out now, or NULL */
	uint64_t			 probe_sent_us;
	uint64_t			 sessions_total;
	time_t				 up_since;
	struct ev_timer			 idle_timer;
	struct ev_timer			 register_timer;
	TAILQ_ENTRY(pool_worker)	 entry;
};
TAILQ_HEAD(pool_worker_list, pool_worker);

struct pool_open {
	struct socks_request	 req;
	struct pool_want	 want;
	pool_open_cb		 cb;
	void			*arg;
	struct pool_worker	*worker;
	struct mux_session	*session;
	struct ev_timer		 timer;	/* answer deadline, or the report */
	uint64_t		 sent_us;	/* S sent, for the latency */
	int			 tries;
	enum socks_failure	 failure;	/* to report, if no session */
	char			 via[POOL_NAME_SIZE];
	int			 is_pending;	/* on worker->pending */
	TAILQ_ENTRY(pool_open)	 pending_entry;
};

static struct pool_worker_list	pool_workers =
    TAILQ_HEAD_INITIALIZER(pool_workers);
static uint64_t			pool_picks;
static size_t			pool_registered;
static uint32_t			pool_serials;
static struct health_dests	pool_dests;
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
static void	pool_live_cb(void *);
static void	pool_eject_cb(void *);
static void	pool_probe_cb(void *);
static void	pool_probe_arm(struct pool_worker *);
static void	pool_live_watch(struct pool_worker *);
static void	pool_try(struct pool_open *, enum socks_failure);

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
	ev_timer_init(&w->live_timer, pool_live_cb, w);
	ev_timer_init(&w->eject_timer, pool_eject_cb, w);
	ev_timer_init(&w->probe_timer, pool_probe_cb, w);
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
	ev_timer_stop(&w->live_timer);
	ev_timer_stop(&w->eject_timer);
	ev_timer_stop(&w->probe_timer);
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
static struct pool_worker *
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

/* Take a request off its worker's list of unanswered requests. */
static void
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
static void
pool_live_watch(struct pool_worker *w)
{
	if (cfg->worker_response_timeout == 0 || !w->esp ||
	    ev_timer_pending(&w->live_timer))
		return;
	w->watch_since = ev_now();
	pool_live_check(w);
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

/* Microseconds of the monotonic clock, for connect latencies. */
static uint64_t
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
static void
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
static void
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
static void
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
