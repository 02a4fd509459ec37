/*
 * BIND's listener behind bindwait.h: one non-blocking listening socket,
 * a deadline, and the checks a connecting peer must pass.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bindwait.h"
#include "cfg.h"
#include "cidr.h"
#include "ev.h"
#include "log.h"
#include "sock.h"
#include "xmalloc.h"

struct bindwait {
	int			 fd;
	struct sockaddr_storage	 bound;
	struct sockaddr_storage	 expect;	/* AF_UNSPEC: anyone */
	struct ev_timer		 timer;
	bindwait_cb		 cb;
	void			*arg;
};

static void	bindwait_accept_cb(int, int, void *);
static void	bindwait_timeout_cb(void *);

/*
 * The address a peer must come from: DST.ADDR when it is a number other
 * than the unspecified address; a name, or 0.0.0.0 / ::, lets anyone.
 */
static void
bindwait_set_expect(struct bindwait *b, const char *host)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&b->expect;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&b->expect;

	memset(&b->expect, 0, sizeof(b->expect));
	if (host == NULL)
		return;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		if (sin->sin_addr.s_addr != htonl(INADDR_ANY))
			sin->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			sin6->sin6_family = AF_INET6;
	}
}

/* Listen on local's address, port chosen by the system, for one peer. */
struct bindwait *
bindwait_start(const struct sockaddr *local, const char *expect,
    bindwait_cb cb, void *arg, char **cause)
{
	struct bindwait		*b;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd;

	memcpy(&ss, local, sock_len(local));
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	else {
		xasprintf(cause, "BIND: no local address to listen on");
		return (NULL);
	}
	if ((fd = sock_listen((struct sockaddr *)&ss,
	    sock_len((struct sockaddr *)&ss), 1, 0, cause)) == -1)
		return (NULL);
	b = xcalloc(1, sizeof(*b));
	b->fd = fd;
	b->cb = cb;
	b->arg = arg;
	len = sizeof(b->bound);
	if (getsockname(fd, (struct sockaddr *)&b->bound, &len) == -1)
		memcpy(&b->bound, &ss, sizeof(ss));
	bindwait_set_expect(b, expect);
	ev_timer_init(&b->timer, bindwait_timeout_cb, b);
	ev_timer_start(&b->timer, cfg->bind_timeout);
	ev_io_set(fd, EV_READ, bindwait_accept_cb, b);
	return (b);
}

/* The listening address and port, for the first reply. */
void
bindwait_bound(struct bindwait *b, struct sockaddr_storage *ss)
{
	memcpy(ss, &b->bound, sizeof(*ss));
}

/* Stop listening; the callback will not be called. */
void
bindwait_cancel(struct bindwait *b)
{
	ev_timer_stop(&b->timer);
	ev_io_del(b->fd);
	close(b->fd);
	free(b);
}

/* Whether a peer comes from the expected address, if there is one. */
static int
bindwait_expected(struct bindwait *b, const struct sockaddr *peer)
{
	const struct sockaddr_in	*p4 = (const struct sockaddr_in *)peer;
	const struct sockaddr_in6	*p6 = (const struct sockaddr_in6 *)peer;
	struct sockaddr_in		*e4 = (struct sockaddr_in *)&b->expect;
	struct sockaddr_in6		*e6 = (struct sockaddr_in6 *)&b->expect;

	switch (b->expect.ss_family) {
	case AF_INET:
		if (peer->sa_family == AF_INET)
			return (p4->sin_addr.s_addr == e4->sin_addr.s_addr);
		/* An IPv4 peer on a dual-stack socket. */
		return (peer->sa_family == AF_INET6 &&
		    IN6_IS_ADDR_V4MAPPED(&p6->sin6_addr) &&
		    memcmp(&p6->sin6_addr.s6_addr[12], &e4->sin_addr, 4) == 0);
	case AF_INET6:
		return (peer->sa_family == AF_INET6 &&
		    memcmp(&p6->sin6_addr, &e6->sin6_addr, 16) == 0);
	}
	return (1);
}

/* Report the outcome and free the wait (and its listener). */
static void
bindwait_done(struct bindwait *b, int fd, const struct sockaddr *peer,
    enum socks_failure why)
{
	bindwait_cb	 cb = b->cb;
	void		*arg = b->arg;

	bindwait_cancel(b);
	cb(fd, peer, why, arg);
}

/* A peer connected: hand it over if it passes, else close it and wait. */
static void
bindwait_accept_cb(int lfd, int events, void *arg)
{
	struct bindwait		*b = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 addr[SOCK_ADDRSTRLEN];
	int			 fd;

	if ((fd = sock_accept(lfd, &ss, &len)) == -1)
		return;
	sock_ntop((struct sockaddr *)&ss, addr, sizeof(addr));
	if (!bindwait_expected(b, (struct sockaddr *)&ss)) {
		log_line(LOGC_ERROR, "BIND on port %d: peer %s refused: not "
		    "the address the client named",
		    sock_port((struct sockaddr *)&b->bound), addr);
		close(fd);
		return;
	}
	if (!cidr_dest_allowed(&cfg->dest_allow, &cfg->dest_deny,
	    (struct sockaddr *)&ss)) {
		log_line(LOGC_ERROR, "BIND on port %d: peer %s refused: "
		    "DEST_ALLOW/DEST_DENY", sock_port((struct sockaddr *)
		    &b->bound), addr);
		close(fd);
		return;
	}
	sock_set_nodelay(fd);
	bindwait_done(b, fd, (struct sockaddr *)&ss, SOCKS_FAIL_NONE);
}

/* BIND_TIMEOUT passed without a peer. */
static void
bindwait_timeout_cb(void *arg)
{
	bindwait_done(arg, -1, NULL, SOCKS_FAIL_TIMEOUT);
}
