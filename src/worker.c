/*
 * The worker role.  For each address in SERVERS it keeps one link: dial,
 * wait up to two seconds for HELO, register (extended RGST with a proof,
 * or the legacy RGST when the server is a plain text-net server without
 * HELO), ping while idle, and redial after any loss with an exponential
 * backoff and jitter.  Each SOCKS session the server opens is resolved
 * and dialed here, so traffic leaves from this box, then relayed between
 * the session and the destination socket.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bindwait.h"
#include "cfg.h"
#include "compat.h"
#include "dial.h"
#include "ev.h"
#include "linkauth.h"
#include "linkmsg.h"
#include "log.h"
#include "mux.h"
#include "random.h"
#include "sock.h"
#include "stats.h"
#include "stream.h"
#include "tags.h"
#include "tunnel.h"
#include "udpexit.h"
#include "worker.h"
#include "xmalloc.h"

#define WORKER_HELO_WAIT_MS	2000
#define WORKER_REGISTER_WAIT_MS	10000
/* A link up this long resets the backoff. */
#define WORKER_STABLE_MS	10000

enum worker_state {
	WORKER_WAITING,		/* for the reconnect timer */
	WORKER_DIALING,
	WORKER_HELLO,		/* connected, waiting for HELO */
	WORKER_REGISTERING,	/* RGST sent, waiting for 100 OK */
	WORKER_UP
};

struct worker_server {
	char				*host;
	char				*port;
	char				*text;
	enum worker_state		 state;
	struct dial			*dial;
	struct mux_link			*link;
	char				 nonce[LINKAUTH_NONCE_HEX];
	char				*server_nonce;
	uint64_t			 backoff;
	uint64_t			 up_at;
	int				 drained;	/* server said DRAIN */
	int				 removed;	/* by a reload */
	struct ev_timer			 timer;
	struct ev_timer			 ping_timer;
	TAILQ_ENTRY(worker_server)	 entry;
};
TAILQ_HEAD(worker_server_list, worker_server);

struct worker_job {
	struct worker_server	*ws;
	struct mux_session	*session;
	struct dial		*dial;
	struct bindwait		*bind;		/* a bind session's listener */
	struct udpexit		*udp;		/* a udp session's sockets */
	uint64_t		 dgrams[2];	/* udp: to targets, back */
	char			 host[256];
	int			 port;
	uint64_t		 start;
	struct tunnel		 tunnel;	/* once the dial succeeded */
	TAILQ_ENTRY(worker_job)	 entry;
};
TAILQ_HEAD(worker_job_list, worker_job);

static struct worker_server_list worker_servers =
    TAILQ_HEAD_INITIALIZER(worker_servers);
static struct worker_job_list	 worker_jobs =
    TAILQ_HEAD_INITIALIZER(worker_jobs);
static size_t			 worker_njobs;
static int			 worker_stopping;
static struct ev_timer		 worker_stop_timer;
static uint64_t			 worker_sessions_total;

static void	worker_connect(struct worker_server *);
static void	worker_timer_cb(void *);
static void	worker_ping_cb(void *);
static int	worker_link_message(struct mux_link *,
		    const struct textnet_msg *, const unsigned char *,
		    const char **);
static void	worker_link_session(struct mux_link *, struct mux_session *,
		    const struct textnet_msg *);
static void	worker_link_closed(struct mux_link *, const char *);
static void	worker_stop_cb(void *);
static void	worker_stop_check(void);

static const struct mux_link_ops worker_link_ops = {
	worker_link_message,
	worker_link_session,
	worker_link_closed
};

/* A record for one server in SERVERS, waiting to be dialled. */
static struct worker_server *
worker_server_new(const struct conf_hostport *hp)
{
	struct worker_server	*ws;

	ws = xcalloc(1, sizeof(*ws));
	ws->host = xstrdup(hp->host);
	ws->port = xstrdup(hp->port);
	ws->text = xstrdup(hp->text);
	ws->state = WORKER_WAITING;
	ev_timer_init(&ws->timer, worker_timer_cb, ws);
	ev_timer_init(&ws->ping_timer, worker_ping_cb, ws);
	TAILQ_INSERT_TAIL(&worker_servers, ws, entry);
	return (ws);
}

/*
 * Forget a server.  A tunnel whose session is already off the link (both
 * sides sent F) may still be flushing to its destination: its job stops
 * pointing here.
 */
static void
worker_server_free(struct worker_server *ws)
{
	struct worker_job	*job;

	TAILQ_FOREACH(job, &worker_jobs, entry)
		if (job->ws == ws)
			job->ws = NULL;
	ev_timer_stop(&ws->timer);
	ev_timer_stop(&ws->ping_timer);
	if (ws->dial != NULL)
		dial_cancel(ws->dial);
	TAILQ_REMOVE(&worker_servers, ws, entry);
	free(ws->host);
	free(ws->port);
	free(ws->text);
	free(ws->server_nonce);
	free(ws);
}

/*
 * Tell a server that this worker drains: no new session for it.  Only
 * a server we registered with: before that it takes nothing but RGST
 * (a DRAIN is a protocol error to it), and the link just closes.
 */
static void
worker_send_drain(struct worker_server *ws)
{
	struct linkmsg_out	drain;

	if (ws->state != WORKER_UP)
		return;
	linkmsg_drain(&drain);
	mux_link_send_control(ws->link, &drain);
}

/* Start a link to every server in SERVERS. */
int
worker_start(struct conf *conf, char **cause)
{
	struct worker_server	*ws;
	size_t			 i;

	if (conf->servers_count == 0) {
		xasprintf(cause, "SERVERS is empty: a worker needs a server");
		return (-1);
	}
	if (stats_listen_start(conf, cause) == -1)
		return (-1);
	ev_timer_init(&worker_stop_timer, worker_stop_cb, NULL);
	for (i = 0; i < conf->servers_count; i++) {
		ws = worker_server_new(&conf->servers[i]);
		ev_timer_start(&ws->timer, 0);
	}
	return (0);
}

/* Follow a new SERVERS list: keep links to servers still listed. */
int
worker_reload(struct conf *conf, char **cause)
{
	struct worker_server	*ws, *next;
	size_t			 i;
	int			 found;

	if (conf->servers_count == 0) {
		xasprintf(cause, "SERVERS is empty: a worker needs a server");
		return (-1);
	}
	if (stats_listen_start(conf, cause) == -1)
		return (-1);
	TAILQ_FOREACH_SAFE(ws, &worker_servers, entry, next) {
		found = 0;
		for (i = 0; i < conf->servers_count; i++)
			if (strcmp(conf->servers[i].text, ws->text) == 0)
				found = 1;
		if (found)
			continue;
		log_info("server %s no longer in SERVERS", ws->text);
		if (ws->link != NULL) {
			/* Its sessions finish; the link goes when they do. */
			ws->removed = 1;
			worker_send_drain(ws);
			if (mux_link_sessions(ws->link) == 0)
				mux_link_close(ws->link,
				    "removed from SERVERS");
		} else
			worker_server_free(ws);
	}
	for (i = 0; i < conf->servers_count; i++) {
		found = 0;
		TAILQ_FOREACH(ws, &worker_servers, entry)
			if (strcmp(conf->servers[i].text, ws->text) == 0)
				found = 1;
		if (!found) {
			ws = worker_server_new(&conf->servers[i]);
			ev_timer_start(&ws->timer, 0);
		}
	}
	return (0);
}

/* The longest backoff: the cap, or RECONNECT_INTERVAL if that is longer. */
static uint64_t
worker_backoff_cap(uint64_t first)
{
	return (first > WORKER_BACKOFF_MAX_MS ? first : WORKER_BACKOFF_MAX_MS);
}

/*
 * The backoff after one more lost link: first (RECONNECT_INTERVAL) at
 * first, then doubling up to the cap.
 */
uint64_t
worker_backoff_next(uint64_t backoff, uint64_t first)
{
	uint64_t	cap = worker_backoff_cap(first);

	if (backoff == 0)
		return (first);
	if (backoff >= cap / 2)
		return (cap);
	return (backoff * 2);
}

/*
 * The wait for a backoff: jitter of up to a quarter either way spreads
 * the herd of workers that lost the same server, and the wait never
 * passes the cap.  jitter is uniform in [0, backoff / 2].
 */
uint64_t
worker_backoff_delay(uint64_t backoff, uint64_t first, uint64_t jitter)
{
	uint64_t	cap = worker_backoff_cap(first), delay;

	delay = backoff - backoff / 4 + jitter;
	return (delay > cap ? cap : delay);
}

/* Wait before redialling: RECONNECT_INTERVAL, doubling, with jitter. */
static void
worker_schedule(struct worker_server *ws, int at_once)
{
	uint64_t	delay;

	ws->state = WORKER_WAITING;
	if (worker_stopping || ws->removed) {
		worker_server_free(ws);
		return;
	}
	if (at_once) {
		ws->backoff = 0;
		delay = 0;
	} else {
		ws->backoff = worker_backoff_next(ws->backoff,
		    cfg->reconnect_interval);
		delay = worker_backoff_delay(ws->backoff,
		    cfg->reconnect_interval,
		    random_uniform((uint32_t)(ws->backoff / 2 + 1)));
		stats_link_reconnect();
	}
	log_line(LOGC_EVENT, "server %s: redialling in %llu ms", ws->text,
	    (unsigned long long)delay);
	ev_timer_start(&ws->timer, delay);
}

/* The server's link is connected (or not): wait for its HELO. */
static void
worker_dial_server_cb(int fd, enum socks_failure why, void *arg)
{
	struct worker_server	*ws = arg;

	ws->dial = NULL;
	if (fd == -1) {
		log_warnx("server %s: connect failed: %s", ws->text,
		    socks_failure_name(why));
		worker_schedule(ws, 0);
		return;
	}
	ws->link = mux_link_new(fd, MUX_DIALER, &worker_link_ops, ws);
	mux_link_set_name(ws->link, ws->text);
	ws->state = WORKER_HELLO;
	ws->drained = 0;
	ev_timer_start(&ws->timer, WORKER_HELO_WAIT_MS);
}

/* Dial the server's link address. */
static void
worker_connect(struct worker_server *ws)
{
	ws->state = WORKER_DIALING;
	ws->dial = dial_start(ws->host, atoi(ws->port), 0,
	    worker_dial_server_cb, ws);
}

/* Registered: log it and start the keep-alive pings. */
static void
worker_up(struct worker_server *ws, int esp)
{
	uint64_t	period = cfg->ping_interval / 4;

	ev_timer_stop(&ws->timer);
	ws->state = WORKER_UP;
	ws->up_at = ev_now();
	stats_link_up(1);
	log_info("registered with server %s as %s%s", ws->text,
	    cfg->worker_name, esp ? "" : " (legacy text-net server)");
	ev_timer_start(&ws->ping_timer, period < 50 ? 50 : period);
}

/* No HELO in time: a legacy text-net server, or the wrong port. */
static void
worker_legacy_register(struct worker_server *ws)
{
	struct linkmsg_rgst	r;
	struct linkmsg_out	rgst;

	if (linkauth_has_secret(cfg->worker_secret)) {
		log_warnx("server %s sent no HELO: it cannot prove the "
		    "secret, so this worker will not serve it", ws->text);
		mux_link_close(ws->link, "no HELO");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.name = cfg->worker_name;
	linkmsg_rgst(&rgst, &r);
	mux_link_establish(ws->link, 0, 0);
	mux_link_send_control(ws->link, &rgst);
	worker_up(ws, 0);
}

/* A server's timer: redial, give up on HELO, or on the answer to RGST. */
static void
worker_timer_cb(void *arg)
{
	struct worker_server	*ws = arg;

	switch (ws->state) {
	case WORKER_WAITING:
		worker_connect(ws);
		break;
	case WORKER_HELLO:
		worker_legacy_register(ws);
		break;
	case WORKER_REGISTERING:
		log_warnx("server %s did not answer RGST", ws->text);
		mux_link_close(ws->link, "no answer to RGST");
		break;
	default:
		break;
	}
}

/* Ping after PING_INTERVAL without sending; drop a server silent 3x that. */
static void
worker_ping_cb(void *arg)
{
	struct worker_server	*ws = arg;
	struct linkmsg_out	 ping;
	uint64_t		 now = ev_now(), period;

	if (ws->link == NULL || ws->state != WORKER_UP)
		return;
	if (mux_link_esp(ws->link) &&
	    now - mux_link_last_rx(ws->link) >= 3 * cfg->ping_interval) {
		log_warnx("server %s silent for 3 ping intervals", ws->text);
		mux_link_fail(ws->link, "server silent");
		return;
	}
	if (now - mux_link_last_tx(ws->link) >= cfg->ping_interval) {
		linkmsg_ping(&ping, mux_link_esp(ws->link) ?
		    mux_link_next_tid(ws->link) : 0);
		mux_link_send_control(ws->link, &ping);
	}
	period = cfg->ping_interval / 4;
	ev_timer_start(&ws->ping_timer, period < 50 ? 50 : period);
}

/* Answer HELO with an extended RGST that proves the secret. */
static void
worker_send_rgst(struct worker_server *ws)
{
	char			proof[SHA256_HEX_LENGTH];
	struct linkmsg_rgst	r;
	struct linkmsg_out	rgst;
	char			tags[TAGS_TEXT_MAX];

	linkauth_nonce(ws->nonce);
	linkauth_rgst_proof(cfg->worker_secret, ws->server_nonce, ws->nonce,
	    cfg->worker_name, proof);
	memset(&r, 0, sizeof(r));
	r.name = cfg->worker_name;
	r.esp = 1;
	r.nonce = ws->nonce;
	r.proof = proof;
	r.window = LINKMSG_WINDOW_DEFAULT;
	r.max_sessions = cfg->worker_max_sessions;
	r.weight = cfg->worker_weight;
	if (cfg->worker_tags.n > 0)
		r.tags = tags_format(&cfg->worker_tags, ',', tags,
		    sizeof(tags));
	/* BIND and UDP ASSOCIATE sessions (PROTOCOL.md 4). */
	r.cmds = "bind,udp";
	linkmsg_rgst(&rgst, &r);
	mux_link_send_control(ws->link, &rgst);
	ws->state = WORKER_REGISTERING;
	ev_timer_start(&ws->timer, WORKER_REGISTER_WAIT_MS);
}

/*
 * 403 to our RGST: say why, and drop the link.  The reason is the peer's
 * (decoded, so it may hold a newline), and the peer has proved nothing:
 * escaped, it can neither split the line nor forge another.
 */
static int
worker_refused(struct worker_server *ws, const struct textnet_msg *m,
    const char **why)
{
	char	reason[LOG_ESCAPE_SIZE(64)];

	log_warnx("server %s refused registration: %s", ws->text,
	    log_escape(reason, sizeof(reason), linkmsg_parse_refused(m)));
	*why = "registration refused";
	return (-1);
}

/* 100 OK to our RGST: check the server's proof before serving it. */
static int
worker_registered(struct worker_server *ws, const struct textnet_msg *m,
    const char **why)
{
	char			expect[SHA256_HEX_LENGTH];
	struct linkmsg_ok	ok;

	if (linkmsg_parse_ok(m, &ok) == -1) {
		*why = "bad answer to RGST";
		return (-1);
	}
	if (linkauth_has_secret(cfg->worker_secret)) {
		linkauth_ok_proof(cfg->worker_secret, ws->nonce,
		    ws->server_nonce, expect);
		if (!linkauth_equal(expect, ok.proof)) {
			log_warnx("server %s failed to prove the secret; "
			    "not serving it", ws->text);
			*why = "server proof mismatch";
			return (-1);
		}
	}
	if (ok.window_error != NULL)
		log_warnx("server %s: window= is %s (want %d to %lld); "
		    "using %d", ws->text, ok.window_error, LINKMSG_WINDOW_MIN,
		    (long long)LINKMSG_WINDOW_MAX, LINKMSG_WINDOW_DEFAULT);
	mux_link_establish(ws->link, 1, ok.window);
	worker_up(ws, 1);
	return (0);
}

/*
 * The handshake, until the server has proved itself: HELO while waiting
 * for it, then only the answer to our RGST.  Anything else is not taken
 * (1), which closes the link as the peer's fault: a server that has not
 * proved the secret gets no session, no DRAIN, no answer to a PING.
 */
static int
worker_link_handshake(struct worker_server *ws, const struct textnet_msg *m,
    const char **why)
{
	enum linkmsg_kind	 kind = linkmsg_kind(m);
	const char		*nonce;

	if (ws->state == WORKER_HELLO && kind == LINKMSG_HELO) {
		if (linkmsg_parse_helo(m, &nonce) == -1) {
			/* Not a HELO we understand: treat as legacy. */
			ev_timer_stop(&ws->timer);
			worker_legacy_register(ws);
			return (0);
		}
		free(ws->server_nonce);
		ws->server_nonce = xstrdup(nonce);
		worker_send_rgst(ws);
		return (0);
	}
	if (ws->state != WORKER_REGISTERING)
		return (1);
	if (kind == LINKMSG_REFUSED && m->tid == 0)
		return (worker_refused(ws, m, why));
	if (kind == LINKMSG_OK)
		return (worker_registered(ws, m, why));
	return (1);
}

/* A message other than SESS from a server: HELO, DRAIN, PING, answers. */
static int
worker_link_message(struct mux_link *l, const struct textnet_msg *m,
    const unsigned char *body, const char **why)
{
	struct worker_server	*ws = mux_link_owner(l);
	struct linkmsg_out	 pong;

	if (ws->state != WORKER_UP)
		return (worker_link_handshake(ws, m, why));
	switch (linkmsg_kind(m)) {
	case LINKMSG_HELO:
		return (0);
	case LINKMSG_DRAIN:
		log_info("server %s is draining", ws->text);
		ws->drained = 1;
		return (0);
	case LINKMSG_PING:
		if (m->tid != 0) {
			linkmsg_pong(&pong, m->tid);
			mux_link_send_control(l, &pong);
		}
		return (0);
	case LINKMSG_REFUSED:
		return (worker_refused(ws, m, why));
	default:
		/* Ping answers and 201 replies need nothing. */
		return (m->response ? 0 : 1);
	}
}

/* The link to a server is gone: redial, with backoff unless it drained. */
static void
worker_link_closed(struct mux_link *l, const char *why)
{
	struct worker_server	*ws = mux_link_owner(l);
	int			 stable;

	ws->link = NULL;
	ev_timer_stop(&ws->ping_timer);
	stable = ws->state == WORKER_UP &&
	    ev_now() - ws->up_at >= WORKER_STABLE_MS;
	if (ws->state == WORKER_UP) {
		stats_link_up(0);
		log_info("link to server %s lost: %s", ws->text, why);
	}
	else
		log_warnx("link to server %s closed: %s", ws->text, why);
	if (stable)
		ws->backoff = 0;
	worker_schedule(ws, ws->drained);
}

/* Stopping, and the last session is over: close the links to servers. */
static void
worker_stop_cb(void *arg)
{
	struct worker_server	*ws, *next;

	TAILQ_FOREACH_SAFE(ws, &worker_servers, entry, next)
		if (ws->link != NULL)
			mux_link_close(ws->link, "worker stopping");
}

/*
 * Once stopping, close the links when no session is left: from a timer,
 * never inside the teardown of the session that just ended.
 */
static void
worker_stop_check(void)
{
	if (worker_stopping && worker_njobs == 0 &&
	    !ev_timer_pending(&worker_stop_timer))
		ev_timer_start(&worker_stop_timer, 0);
}

/* Forget a session's job, cancelling its dial if one is running. */
static void
worker_job_free(struct worker_job *job)
{
	if (job->dial != NULL)
		dial_cancel(job->dial);
	if (job->bind != NULL)
		bindwait_cancel(job->bind);
	if (job->udp != NULL) {
		log_line(LOGC_SESSION, "session udp closed: dgrams_up=%llu "
		    "dgrams_down=%llu ms=%llu",
		    (unsigned long long)job->dgrams[0],
		    (unsigned long long)job->dgrams[1],
		    (unsigned long long)(ev_now() - job->start));
		udpexit_free(job->udp);
	}
	TAILQ_REMOVE(&worker_jobs, job, entry);
	worker_njobs--;
	free(job);
	worker_stop_check();
}

/* A tunnel ended: log it, and close a removed server's idle link. */
static void
worker_tunnel_done(struct tunnel *t, const char *result, void *arg)
{
	struct worker_job	*job = arg;

	log_line(LOGC_SESSION, "session %s:%d closed: %s up=%llu down=%llu "
	    "ms=%llu", job->host, job->port, result,
	    (unsigned long long)t->up, (unsigned long long)t->down,
	    (unsigned long long)(ev_now() - job->start));
	if (job->ws != NULL && job->ws->removed && job->ws->link != NULL &&
	    mux_link_sessions(job->ws->link) == 0)
		mux_link_close(job->ws->link, "removed from SERVERS");
	worker_job_free(job);
}

/* The destination is connected (accept and relay) or not (reject). */
static void
worker_dest_cb(int fd, enum socks_failure why, void *arg)
{
	struct worker_job	*job = arg;
	struct sockaddr_storage	 ss;

	job->dial = NULL;
	stats_dial_done((ev_now() - job->start) * 1000);
	if (fd == -1) {
		stats_connect_failed(NULL, why);
		log_line(LOGC_ERROR, "session %s:%d: %s", job->host,
		    job->port, socks_failure_name(why));
		mux_session_reject(job->session, socks_failure_name(why));
		worker_job_free(job);
		return;
	}
	sock_local(fd, &ss);
	mux_session_accept(job->session, (struct sockaddr *)&ss);
	log_line(LOGC_SESSION, "session %s:%d open", job->host, job->port);
	/* The worker counts totals only: no route. */
	tunnel_start(&job->tunnel, mux_session_end(job->session),
	    &stream_new(fd)->end, NULL, NULL, 0, NULL, worker_tunnel_done, job);
}

/* The session went away before its dial finished. */
static void
worker_session_cb(struct mux_session *s, enum mux_event ev,
    const char *host_or_reason, const char *port, void *arg)
{
	/* The server reset it, or the link died, before the dial finished. */
	worker_job_free(arg);
}

/* A bind session's peer connected (C, then relay) or never did (R). */
static void
worker_bind_cb(int fd, const struct sockaddr *peer, enum socks_failure why,
    void *arg)
{
	struct worker_job	*job = arg;
	struct mux_session	*s = job->session;

	job->bind = NULL;
	if (fd == -1) {
		log_line(LOGC_SESSION, "session bind %s:%d: %s", job->host,
		    job->port, socks_failure_name(why));
		mux_session_reject(s, socks_failure_name(why));
		worker_job_free(job);
		return;
	}
	mux_session_connected(s, peer);
	log_line(LOGC_SESSION, "session bind %s:%d open", job->host,
	    job->port);
	tunnel_start(&job->tunnel, mux_session_end(s), &stream_new(fd)->end,
	    NULL, NULL, 0, NULL, worker_tunnel_done, job);
}

/*
 * A bind session: listen on the address this worker reaches the server
 * from (its own), tell the server where (A), and wait for the peer.
 */
static void
worker_bind_start(struct worker_job *job, struct mux_link *l)
{
	struct sockaddr_storage	 ss;
	char			*cause;

	mux_link_local(l, &ss);
	job->bind = bindwait_start((struct sockaddr *)&ss, job->host,
	    worker_bind_cb, job, &cause);
	if (job->bind == NULL) {
		log_warnx("session bind: %s", cause);
		free(cause);
		mux_session_reject(job->session, "failure");
		worker_job_free(job);
		return;
	}
	bindwait_bound(job->bind, &ss);
	mux_session_accept(job->session, (struct sockaddr *)&ss);
}

/* A datagram from a target: back to the server, naming its source. */
static void
worker_udp_reply_cb(const struct sockaddr *from, const uint8_t *data,
    size_t len, void *arg)
{
	struct worker_job	*job = arg;
	char			 host[SOCK_ADDRSTRLEN], port[8];

	sock_ntop_host(from, host, sizeof(host));
	snprintf(port, sizeof(port), "%d", sock_port(from));
	if (mux_session_send_datagram(job->session, host, port, data,
	    len) == 0)
		job->dgrams[1]++;
}

/* A datagram from the client, through the server: send it on. */
static void
worker_udp_datagram_cb(struct mux_session *s, const char *host,
    const char *port, const unsigned char *data, size_t len, void *arg)
{
	struct worker_job	*job = arg;
	const char		*errstr;
	int			 p;

	p = strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL || host[0] == '\0' || strlen(host) > 255)
		return;
	job->dgrams[0]++;
	udpexit_send(job->udp, host, (uint16_t)p, data, len);
}

/* A udp session: the worker holds the association's outward sockets. */
static void
worker_udp_start(struct worker_job *job, struct mux_link *l)
{
	struct sockaddr_storage	 ss;

	job->udp = udpexit_new(worker_udp_reply_cb, job);
	mux_session_set_datagram(job->session, worker_udp_datagram_cb, job);
	mux_link_local(l, &ss);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	mux_session_accept(job->session, (struct sockaddr *)&ss);
	log_line(LOGC_SESSION, "session udp open");
}

/* The server opened a session: check it, then dial its destination. */
static void
worker_link_session(struct mux_link *l, struct mux_session *s,
    const struct textnet_msg *m)
{
	struct worker_server	*ws = mux_link_owner(l);
	struct worker_job	*job;
	const char		*errstr;
	int			 port, cmd;

	if (m->nargs < 6 || strcasecmp(m->args[2], "SOCKS") != 0 ||
	    m->args[3][0] == '\0') {
		mux_session_reject(s, "failure");
		return;
	}
	if (strcasecmp(m->args[5], "connect") == 0)
		cmd = SOCKS_CMD_CONNECT;
	else if (strcasecmp(m->args[5], "bind") == 0 && mux_link_esp(l))
		cmd = SOCKS_CMD_BIND;
	else if (strcasecmp(m->args[5], "udp") == 0 && mux_link_esp(l))
		cmd = SOCKS_CMD_UDP;
	else
		cmd = -1;
	/* BIND and UDP may name port 0: "any", for the rule they set. */
	port = strtonum(m->args[4], cmd == SOCKS_CMD_CONNECT ? 1 : 0, 65535,
	    &errstr);
	if (errstr != NULL || cmd == -1 || strlen(m->args[3]) > 255) {
		mux_session_reject(s, "failure");
		return;
	}
	if (worker_stopping) {
		/* Sent before the server read our DRAIN: it tries elsewhere. */
		log_line(LOGC_SESSION, "session %s:%d refused: draining",
		    m->args[3], port);
		mux_session_reject(s, "draining");
		return;
	}
	if (cfg->worker_max_sessions > 0 &&
	    worker_njobs >= cfg->worker_max_sessions) {
		mux_session_reject(s, "failure");
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->ws = ws;
	job->session = s;
	job->port = port;
	job->start = ev_now();
	strlcpy(job->host, m->args[3], sizeof(job->host));
	TAILQ_INSERT_TAIL(&worker_jobs, job, entry);
	worker_njobs++;
	worker_sessions_total++;
	mux_session_set_cb(s, worker_session_cb, job);
	if (cmd == SOCKS_CMD_BIND)
		worker_bind_start(job, l);
	else if (cmd == SOCKS_CMD_UDP)
		worker_udp_start(job, l);
	else
		job->dial = dial_start(job->host, port, DIAL_RULES,
		    worker_dest_cb, job);
}

/*
 * SIGTERM: tell every server we drain, take no new session, and let the
 * sessions in flight finish; links close once they are done.
 */
void
worker_stop(void)
{
	struct worker_server	*ws, *next;

	worker_stopping = 1;
	stats_listen_close_all();
	TAILQ_FOREACH_SAFE(ws, &worker_servers, entry, next) {
		if (ws->link != NULL) {
			worker_send_drain(ws);
			if (mux_link_sessions(ws->link) == 0)
				mux_link_close(ws->link, "worker stopping");
		} else
			worker_server_free(ws);
	}
	worker_stop_check();
}

/* Nothing is left to finish: no session, no link (a stop may end). */
int
worker_idle(void)
{
	return (worker_njobs == 0 && TAILQ_EMPTY(&worker_servers));
}

/* Close every link and session (exit). */
void
worker_abort_all(void)
{
	struct worker_server	*ws;

	worker_stopping = 1;
	while ((ws = TAILQ_FIRST(&worker_servers)) != NULL) {
		if (ws->link != NULL)
			mux_link_close(ws->link, "worker exiting");
		else
			worker_server_free(ws);
	}
	ev_timer_stop(&worker_stop_timer);
	stats_listen_close_all();
	stats_http_close_all();
	stats_free();
}

/* One line of counters for SIGUSR1. */
void
worker_log_counters(void)
{
	const struct stats_totals	*t = stats_totals();
	struct worker_server		*ws;
	size_t				 up = 0;

	TAILQ_FOREACH(ws, &worker_servers, entry)
		if (ws->state == WORKER_UP)
			up++;
	log_info("counters: links_up=%zu sessions=%zu sessions_total=%llu "
	    "bytes_up=%llu bytes_down=%llu reconnects=%llu link_errors=%llu",
	    up, worker_njobs, (unsigned long long)worker_sessions_total,
	    (unsigned long long)t->bytes_up,
	    (unsigned long long)t->bytes_down,
	    (unsigned long long)t->link_reconnects,
	    (unsigned long long)t->link_errors);
}
