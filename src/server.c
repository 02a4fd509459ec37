/*
 * The server role's front door.  Listeners are bound before the daemon
 * forks and drops privileges; on reload, a listener whose address is
 * unchanged keeps its socket, new ones are bound first and, if any fails,
 * the reload is abandoned with the old set intact.  Accepting checks
 * CLIENT_ALLOW before a byte is read, then MAX_CLIENTS and
 * MAX_CLIENTS_PER_IP; on the worker port WORKER_ALLOW, a reserve of
 * descriptors kept for clients, then WORKER_PENDING_MAX and
 * WORKER_PENDING_PER_IP.  Refusals are logged one per connection under
 * LOG_CONNECTION, else under LOG_ERROR at most about once a second with
 * a count of the rest.  A spare descriptor is held so that running out
 * of descriptors (EMFILE) never leaves a listener spinning, and any
 * accept error that would repeat (EMFILE, ENOBUFS, ENOMEM...) pauses the
 * listeners for a moment.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cfg.h"
#include "cidr.h"
#include "client.h"
#include "compat.h"
#include "conf.h"
#include "ev.h"
#include "ipcount.h"
#include "log.h"
#include "passwd.h"
#include "pool.h"
#include "server.h"
#include "sock.h"
#include "stats.h"
#include "xmalloc.h"

#define SERVER_ACCEPT_BURST	64
/*
 * The worker port accepts a link only while the worker links open stay
 * below the limit less this share of it, so that whatever the worker
 * port is sent, that share stays for SOCKS clients.
 */
#define SERVER_CLIENT_FD_SHARE	4	/* a quarter of RLIMIT_NOFILE */
/* Refusal lines of one kind under LOG_ERROR: one per this many ms. */
#define SERVER_REFUSAL_LOG_MS	1000

/* A listener's kind is the kind of the config key that set it. */
enum server_kind {
	SERVER_SOCKS = CONF_LISTEN_SOCKS,
	SERVER_WORKER = CONF_LISTEN_WORKER,
	SERVER_STATS = CONF_LISTEN_STATS
};

struct listener {
	int			 fd;
	enum server_kind	 kind;
	struct conf_listen	 addr;
	TAILQ_ENTRY(listener)	 entry;
};
TAILQ_HEAD(listener_list, listener);

/* Refusals of one listener kind waiting to be summed up in one line. */
struct server_refusals {
	uint64_t		 logged;	/* ev_now() of the last line */
	unsigned long		 suppressed;	/* since then, not logged */
	char			 latest[256];	/* the last of those */
	struct ev_timer		 timer;		/* logs the sum */
};

static struct listener_list	 server_listeners =
    TAILQ_HEAD_INITIALIZER(server_listeners);
static int			 server_spare_fd = -1;
static uint64_t			 server_pause_logged;
static struct ev_timer		 server_pause_timer;
static int			 server_stopping;
static struct server_refusals	 server_refusals[SERVER_STATS + 1];

static const char *server_kind_names[] = { "socks", "worker", "stats" };

static void	server_accept_cb(int, int, void *);
static void	server_pause_cb(void *);
static void	server_refusals_cb(void *);

/* Hold the spare descriptor that EMFILE spends, if not held already. */
static void
server_spare_open(void)
{
	if (server_spare_fd == -1)
		server_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Close a listener (unless its socket was adopted) and free it. */
static void
server_listener_free(struct listener *l)
{
	if (l->fd != -1) {
		ev_io_del(l->fd);
		close(l->fd);
	}
	free(l->addr.text);
	free(l);
}

/* The listener of that kind on that address in list, or NULL. */
static struct listener *
server_listener_find(struct listener_list *list, enum server_kind kind,
    const struct conf_listen *addr)
{
	struct listener	*l;

	TAILQ_FOREACH(l, list, entry) {
		if (l->kind == kind && conf_listen_equal(&l->addr, addr))
			return (l);
	}
	return (NULL);
}

/*
 * Build the listener set for conf into `out`, reusing sockets from the
 * current set where the address is unchanged.  On failure nothing in the
 * current set has been touched, and the cause names the key and where it
 * was set, as a config error would.
 */
static int
server_bind_all(struct conf *conf, struct listener_list *out, char **cause)
{
	const struct conf_listen	*a;
	const char			*key;
	char				*why;
	struct listener			*l, *old;
	enum conf_listen_kind		 kind;
	size_t				 j;
	int				 fd;

	TAILQ_INIT(out);
	for (kind = 0; kind < CONF_LISTEN_KINDS; kind++) {
		for (j = 0; j < conf->listen[kind].count; j++) {
			a = &conf->listen[kind].addrs[j];
			old = server_listener_find(&server_listeners,
			    (enum server_kind)kind, a);
			if (old != NULL)
				fd = -2;	/* adopted below */
			else if ((fd = sock_listen((struct sockaddr *)&a->ss,
			    a->sslen, conf->listen_backlog,
			    kind == CONF_LISTEN_SOCKS && conf->processes > 1,
			    &why)) == -1) {
				key = conf_listen_key(kind);
				conf_fail_at(conf, key, cause, "%s: %s", key,
				    why);
				free(why);
				goto fail;
			}
			l = xcalloc(1, sizeof(*l));
			l->fd = fd;
			l->kind = (enum server_kind)kind;
			l->addr = *a;
			l->addr.text = xstrdup(a->text);
			TAILQ_INSERT_TAIL(out, l, entry);
		}
	}
	return (0);
fail:
	while ((l = TAILQ_FIRST(out)) != NULL) {
		TAILQ_REMOVE(out, l, entry);
		if (l->fd == -2)
			l->fd = -1;
		server_listener_free(l);
	}
	return (-1);
}

/* Swap in a listener set from server_bind_all, closing dropped sockets. */
static void
server_adopt(struct listener_list *next)
{
	struct listener	*l, *old;

	TAILQ_FOREACH(l, next, entry) {
		if (l->fd == -2) {
			old = server_listener_find(&server_listeners, l->kind,
			    &l->addr);
			l->fd = old->fd;
			old->fd = -1;
		} else
			log_info("server listening on %s %s",
			    server_kind_names[l->kind], l->addr.text);
		ev_io_set(l->fd, EV_READ, server_accept_cb, l);
	}
	while ((old = TAILQ_FIRST(&server_listeners)) != NULL) {
		TAILQ_REMOVE(&server_listeners, old, entry);
		if (old->fd != -1)
			log_info("server no longer listening on %s %s",
			    server_kind_names[old->kind], old->addr.text);
		server_listener_free(old);
	}
	TAILQ_CONCAT(&server_listeners, next, entry);
}

/* Bind every listener of conf and load its password file. */
int
server_start(struct conf *conf, char **cause)
{
	struct listener_list	 next;
	struct passwd_db	*db;
	size_t			 i;

	ev_timer_init(&server_pause_timer, server_pause_cb, NULL);
	for (i = 0; i < nitems(server_refusals); i++)
		ev_timer_init(&server_refusals[i].timer, server_refusals_cb,
		    &server_refusals[i]);
	if (auth_load(conf, &db, cause) == -1)
		return (-1);
	auth_set(db);
	if (server_bind_all(conf, &next, cause) == -1)
		return (-1);
	server_adopt(&next);
	server_spare_open();
	return (0);
}

/*
 * Move the listeners and password database to a new configuration; on
 * failure the old ones stay and cause says why.
 */
int
server_reload(struct conf *conf, char **cause)
{
	struct listener_list	 next;
	struct passwd_db	*db;

	if (auth_load(conf, &db, cause) == -1)
		return (-1);
	if (server_bind_all(conf, &next, cause) == -1) {
		if (db != NULL)
			passwd_free(db);
		return (-1);
	}
	server_adopt(&next);
	auth_set(db);
	return (0);
}

/* Stop accepting anything: the first step of a graceful shutdown. */
void
server_stop(void)
{
	struct listener	*l;
	size_t		 i;

	server_stopping = 1;
	for (i = 0; i < nitems(server_refusals); i++) {
		if (ev_timer_pending(&server_refusals[i].timer)) {
			ev_timer_stop(&server_refusals[i].timer);
			server_refusals_cb(&server_refusals[i]);
		}
	}
	while ((l = TAILQ_FIRST(&server_listeners)) != NULL) {
		TAILQ_REMOVE(&server_listeners, l, entry);
		server_listener_free(l);
	}
	client_shutdown();
	auth_set(NULL);
	if (server_spare_fd != -1) {
		close(server_spare_fd);
		server_spare_fd = -1;
	}
	ev_timer_stop(&server_pause_timer);
	/* Workers hear DRAIN: they send new work to other servers. */
	pool_stop();
}

/* Nothing left to wait for: no client, tunnel or session. */
int
server_idle(void)
{
	return (client_count() == 0);
}

/*
 * Close everything at once (exit, or the end of the grace time): every
 * client and tunnel, every worker link, every stats connection.
 */
void
server_abort_all(void)
{
	if (!server_stopping)
		server_stop();
	client_abort_all();
	pool_abort_all();
	stats_http_close_all();
	stats_free();
}

/* The pause is over: descriptors or memory may be free again. */
static void
server_pause_cb(void *arg)
{
	struct listener	*l;

	server_spare_open();
	TAILQ_FOREACH(l, &server_listeners, entry)
		ev_io_enable(l->fd, EV_READ);
}

/*
 * accept failed in a way that will repeat while the listener stays
 * readable (error is its errno): stop listening for a moment so the
 * loop does not spin, and log at most once a second.  Out of
 * descriptors, the spare is spent to accept and close one pending
 * connection, so that client is not left waiting.
 */
static void
server_pause(struct listener *l, int error)
{
	struct listener	*each;
	int		 fd;

	if (ev_now() - server_pause_logged >= 1000 ||
	    server_pause_logged == 0) {
		if (error == EMFILE || error == ENFILE)
			log_warnx("out of descriptors accepting on %s; closing "
			    "new connections until some are free",
			    l->addr.text);
		else
			log_warnx("accept on %s: %s; pausing the listeners",
			    l->addr.text, strerror(error));
		server_pause_logged = ev_now();
	}
	if ((error == EMFILE || error == ENFILE) && server_spare_fd != -1) {
		close(server_spare_fd);
		server_spare_fd = -1;
		if ((fd = accept(l->fd, NULL, NULL)) != -1) {
			close(fd);
			if (l->kind == SERVER_SOCKS)
				stats_client_refused();
		}
	}
	TAILQ_FOREACH(each, &server_listeners, entry)
		ev_io_disable(each->fd, EV_READ);
	/* A listener added by a reload meanwhile does not prolong it. */
	if (!ev_timer_pending(&server_pause_timer))
		ev_timer_start(&server_pause_timer, 100);
}

/*
 * Whether an accept error concerns only the connection it dropped (a
 * signal, or a network error Linux reports at accept), so the next one
 * may be taken at once.
 */
static int
server_accept_failed_one(int error)
{
	switch (error) {
	case EINTR:
	case ECONNABORTED:
	case EPERM:
	case EPROTO:
	case ENOPROTOOPT:
	case EOPNOTSUPP:
	case ENETDOWN:
	case ENETUNREACH:
	case EHOSTUNREACH:
#ifdef EHOSTDOWN
	case EHOSTDOWN:
#endif
#ifdef ENONET
	case ENONET:
#endif
		return (1);
	}
	return (0);
}

/* Log the refusals held back since the last line, in one line. */
static void
server_refusals_cb(void *arg)
{
	struct server_refusals	*r = arg;

	if (r->suppressed == 0)
		return;
	log_line(LOGC_ERROR, "%lu more connection%s refused on the %s port "
	    "since the last such line; the latest: %s", r->suppressed,
	    r->suppressed == 1 ? "" : "s",
	    server_kind_names[r - server_refusals], r->latest);
	r->suppressed = 0;
	r->logged = ev_now();
}

/*
 * Log a refused connection (fmt makes the line).  With LOG_CONNECTION
 * on, a client or stats connection gets its own line as it always did;
 * otherwise, and always for the worker port, refusals go under
 * LOG_ERROR, at most one line a second per listener kind and a line
 * with the count of the others, so that a flood cannot flood the log.
 */
static void PRINTFLIKE(2, 3)
server_refused(struct listener *l, const char *fmt, ...)
{
	struct server_refusals	*r = &server_refusals[l->kind];
	va_list			 ap;
	char			 line[sizeof(r->latest)];
	uint64_t		 now = ev_now(), quiet;
	int			 each;

	each = l->kind != SERVER_WORKER && log_class_enabled(LOGC_CONNECTION);
	if (!each && !log_class_enabled(LOGC_ERROR))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (each) {
		log_line(LOGC_CONNECTION, "%s", line);
		return;
	}
	quiet = now - r->logged;
	if (r->suppressed == 0 &&
	    (r->logged == 0 || quiet >= SERVER_REFUSAL_LOG_MS)) {
		log_line(LOGC_ERROR, "%s", line);
		r->logged = now;
		return;
	}
	r->suppressed++;
	strlcpy(r->latest, line, sizeof(r->latest));
	if (!ev_timer_pending(&r->timer))
		ev_timer_start(&r->timer, quiet >= SERVER_REFUSAL_LOG_MS ? 0 :
		    SERVER_REFUSAL_LOG_MS - quiet);
}

/*
 * Whether one more worker link would eat into the clients' share of
 * RLIMIT_NOFILE; *limit is the number of links the worker port may hold.
 * Counting links, not judging by the new descriptor's number, keeps a
 * server busy with clients (low descriptors all taken) open to workers.
 */
static int
server_worker_fd_short(long long *limit)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX)
		return (0);
	*limit = (long long)rl.rlim_cur -
	    (long long)rl.rlim_cur / SERVER_CLIENT_FD_SHARE;
	return ((long long)pool_link_count() + 1 > *limit);
}

/*
 * Whether a worker-port connection from sa may stay: WORKER_ALLOW, the
 * clients' descriptors, then the caps on links that have not registered.
 */
static int
server_admit_worker(struct listener *l, const struct sockaddr *sa,
    const char *addr)
{
	long long	limit;

	if (!cidr_list_allows(&cfg->worker_allow, sa)) {
		server_refused(l, "refused %s on worker %s: not in "
		    "WORKER_ALLOW", addr, l->addr.text);
		return (0);
	}
	if (server_worker_fd_short(&limit)) {
		server_refused(l, "refused %s on worker %s: worker links may "
		    "use %lld descriptors, the rest are kept for clients",
		    addr, l->addr.text, limit);
		return (0);
	}
	if (cfg->worker_pending_max > 0 &&
	    pool_pending_count() >= cfg->worker_pending_max) {
		server_refused(l, "refused %s on worker %s: "
		    "WORKER_PENDING_MAX (%u) reached", addr, l->addr.text,
		    cfg->worker_pending_max);
		return (0);
	}
	if (cfg->worker_pending_per_ip > 0 &&
	    pool_pending_from(sa) >= cfg->worker_pending_per_ip) {
		server_refused(l, "refused %s on worker %s: "
		    "WORKER_PENDING_PER_IP (%u) reached", addr, l->addr.text,
		    cfg->worker_pending_per_ip);
		return (0);
	}
	return (1);
}

/*
 * Whether a connection from sa may stay: CLIENT_ALLOW or
 * STATS_ALLOW, then for SOCKS clients the caps; the worker port has its
 * own rules.  A refusal is logged.
 */
static int
server_admit(struct listener *l, const struct sockaddr *sa,
    const char *addr)
{
	const struct cidr_list	*allow;

	if (l->kind == SERVER_WORKER)
		return (server_admit_worker(l, sa, addr));
	allow = l->kind == SERVER_STATS ? &cfg->stats_allow :
	    &cfg->client_allow;
	if (!cidr_list_allows(allow, sa)) {
		server_refused(l, "refused %s on %s %s: not in %s",
		    addr, server_kind_names[l->kind], l->addr.text,
		    l->kind == SERVER_STATS ? "STATS_ALLOW" : "CLIENT_ALLOW");
		return (0);
	}
	if (l->kind != SERVER_SOCKS)
		return (1);
	if (cfg->max_clients > 0 && client_count() >= cfg->max_clients) {
		server_refused(l, "refused %s: MAX_CLIENTS (%u) reached",
		    addr, cfg->max_clients);
		return (0);
	}
	if (cfg->max_clients_per_ip > 0 &&
	    ipcount_get(&client_addrs, sa) >= cfg->max_clients_per_ip) {
		server_refused(l, "refused %s: MAX_CLIENTS_PER_IP (%u) "
		    "reached", addr, cfg->max_clients_per_ip);
		return (0);
	}
	return (1);
}

/* A listener is readable: accept a burst, admit or refuse each. */
static void
server_accept_cb(int lfd, int events, void *arg)
{
	struct listener		*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 addr[SOCK_ADDRSTRLEN];
	int			 fd, i;

	for (i = 0; i < SERVER_ACCEPT_BURST; i++) {
		if ((fd = sock_accept(lfd, &ss, &sslen)) == -1) {
			if (server_accept_failed_one(errno))
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				server_pause(l, errno);
			return;
		}
		if (l->kind == SERVER_SOCKS)
			stats_client_accepted();
		sock_ntop((struct sockaddr *)&ss, addr, sizeof(addr));
		if (!server_admit(l, (struct sockaddr *)&ss, addr)) {
			if (l->kind == SERVER_SOCKS)
				stats_client_refused();
			else if (l->kind == SERVER_WORKER)
				stats_link_refused();
			close(fd);
			continue;
		}
		switch (l->kind) {
		case SERVER_SOCKS:
			client_accept(fd, (struct sockaddr *)&ss, sslen);
			break;
		case SERVER_WORKER:
			pool_link_accept(fd, (struct sockaddr *)&ss, sslen);
			break;
		case SERVER_STATS:
			stats_accept(fd, (struct sockaddr *)&ss, sslen);
			break;
		}
		/* A callback may have reloaded or stopped: l may be gone. */
		if (server_stopping)
			return;
	}
}

/* One SIGUSR1 counters line for a worker link. */
static void
server_log_worker(const struct pool_info *w, void *arg)
{
	log_info("counters: worker=%s addr=%s state=%s sessions=%zu "
	    "sessions_total=%llu bytes_sent=%llu bytes_received=%llu",
	    w->name, w->addr, w->state, w->sessions,
	    (unsigned long long)w->sessions_total,
	    (unsigned long long)w->bytes_sent,
	    (unsigned long long)w->bytes_received);
}

/* One line of counters for SIGUSR1, then one per worker link. */
void
server_log_counters(void)
{
	const struct stats_totals	*t = stats_totals();

	log_info("counters: workers=%zu clients=%llu tunnels=%llu "
	    "tunnels_total=%llu bytes_up=%llu bytes_down=%llu "
	    "accepted=%llu refused=%llu handshake_errors=%llu "
	    "connect_failures=%llu link_errors=%llu links_refused=%llu",
	    pool_worker_count(),
	    (unsigned long long)t->clients_active,
	    (unsigned long long)t->tunnels_active,
	    (unsigned long long)t->tunnels_total,
	    (unsigned long long)t->bytes_up,
	    (unsigned long long)t->bytes_down,
	    (unsigned long long)t->clients_accepted,
	    (unsigned long long)t->clients_refused,
	    (unsigned long long)t->handshake_errors,
	    (unsigned long long)stats_connect_failures(),
	    (unsigned long long)t->link_errors,
	    (unsigned long long)t->links_refused);
	pool_foreach(server_log_worker, NULL);
}
