/*
 * The worker's STATS_LISTEN.  A server serves its pages from its own
 * listener set (server.c); a worker has no other listener, so this binds
 * STATS_LISTEN alone, keeps out addresses beyond STATS_ALLOW and hands
 * the rest to stats-http.c, which serves the worker's pages.  A reload
 * keeps the sockets whose address is unchanged.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "cfg.h"
#include "cidr.h"
#include "compat.h"
#include "conf.h"
#include "ev.h"
#include "log.h"
#include "sock.h"
#include "stats.h"
#include "xmalloc.h"

/* After an accept error other than "try again", rest this long. */
#define STATS_LISTEN_PAUSE_MS	1000

struct stats_listener {
	int				 fd;
	struct conf_listen		 addr;
	struct ev_timer			 pause;
	TAILQ_ENTRY(stats_listener)	 entry;
};
TAILQ_HEAD(stats_listener_list, stats_listener);

static struct stats_listener_list	stats_listeners =
    TAILQ_HEAD_INITIALIZER(stats_listeners);

static void	stats_listen_accept_cb(int, int, void *);

/* Close a listener (unless its socket moved on) and free it. */
static void
stats_listener_free(struct stats_listener *l)
{
	ev_timer_stop(&l->pause);
	if (l->fd != -1) {
		ev_io_del(l->fd);
		close(l->fd);
	}
	free(l->addr.text);
	free(l);
}

/* Accept again after a pause. */
static void
stats_listen_resume_cb(void *arg)
{
	struct stats_listener	*l = arg;

	ev_io_enable(l->fd, EV_READ);
}

/* A connection to STATS_LISTEN: STATS_ALLOW, then the HTTP side. */
static void
stats_listen_accept_cb(int lfd, int events, void *arg)
{
	struct stats_listener	*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 addr[SOCK_ADDRSTRLEN];
	int			 fd;

	if ((fd = sock_accept(lfd, &ss, &sslen)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR || errno == ECONNABORTED)
			return;
		log_warn("accept on stats %s", l->addr.text);
		ev_io_disable(lfd, EV_READ);
		ev_timer_start(&l->pause, STATS_LISTEN_PAUSE_MS);
		return;
	}
	if (!cidr_list_allows(&cfg->stats_allow, (struct sockaddr *)&ss)) {
		sock_ntop((struct sockaddr *)&ss, addr, sizeof(addr));
		log_line(LOGC_ERROR, "refused %s on stats %s: not in "
		    "STATS_ALLOW", addr, l->addr.text);
		close(fd);
		return;
	}
	stats_accept(fd, (struct sockaddr *)&ss, sslen);
}

/*
 * Listen on conf's STATS_LISTEN, keeping the sockets of addresses
 * already listened on; on failure nothing changes and cause names the
 * key, as a config error would.
 */
int
stats_listen_start(struct conf *conf, char **cause)
{
	struct stats_listener_list	 next = TAILQ_HEAD_INITIALIZER(next);
	struct stats_listener		*l, *old;
	const struct conf_listen	*a;
	char				*why;
	size_t				 i;
	int				 fd;

	stats_http_set_worker(1);
	for (i = 0; i < conf->listen[CONF_LISTEN_STATS].count; i++) {
		a = &conf->listen[CONF_LISTEN_STATS].addrs[i];
		fd = -1;
		TAILQ_FOREACH(old, &stats_listeners, entry)
			if (old->fd != -1 && conf_listen_equal(&old->addr, a))
				break;
		if (old != NULL) {
			fd = old->fd;
			ev_io_del(fd);
			old->fd = -1;
		} else if ((fd = sock_listen((struct sockaddr *)&a->ss,
		    a->sslen, conf->listen_backlog, 0, &why)) == -1) {
			conf_fail_at(conf, "STATS_LISTEN", cause,
			    "STATS_LISTEN: %s", why);
			free(why);
			goto fail;
		} else
			log_info("worker listening on stats %s", a->text);
		l = xcalloc(1, sizeof(*l));
		l->fd = fd;
		l->addr = *a;
		l->addr.text = xstrdup(a->text);
		ev_timer_init(&l->pause, stats_listen_resume_cb, l);
		TAILQ_INSERT_TAIL(&next, l, entry);
	}
	stats_listen_close_all();
	TAILQ_CONCAT(&stats_listeners, &next, entry);
	TAILQ_FOREACH(l, &stats_listeners, entry)
		ev_io_set(l->fd, EV_READ, stats_listen_accept_cb, l);
	return (0);
fail:
	/* Give the sockets taken from the current set back. */
	while ((l = TAILQ_FIRST(&next)) != NULL) {
		TAILQ_REMOVE(&next, l, entry);
		TAILQ_FOREACH(old, &stats_listeners, entry)
			if (old->fd == -1 &&
			    conf_listen_equal(&old->addr, &l->addr)) {
				old->fd = l->fd;
				l->fd = -1;
				ev_io_set(old->fd, EV_READ,
				    stats_listen_accept_cb, old);
				break;
			}
		stats_listener_free(l);
	}
	return (-1);
}

/* Stop listening (stop, exit). */
void
stats_listen_close_all(void)
{
	struct stats_listener	*l;

	while ((l = TAILQ_FIRST(&stats_listeners)) != NULL) {
		TAILQ_REMOVE(&stats_listeners, l, entry);
		stats_listener_free(l);
	}
}
