/*
 * Destination dialer behind dial.h.  One deadline covers the lookup and
 * every connect attempt; each address is checked against the rules in
 * force when it is tried.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "cidr.h"
#include "dial.h"
#include "ev.h"
#include "log.h"
#include "resolver.h"
#include "sock.h"
#include "xmalloc.h"

#define DIAL_MAX_ADDRS	16

struct dial {
	dial_cb			 cb;
	void			*arg;
	struct resolver_query	*query;
	struct sockaddr_storage	 addrs[DIAL_MAX_ADDRS];
	size_t			 naddrs;
	size_t			 next;
	int			 fd;
	int			 flags;
	int			 tried;		/* connects attempted */
	int			 denied;	/* addresses refused by rule */
	int			 exhausted;	/* every address tried */
	enum socks_failure	 failure;	/* last error, or all denied */
	struct ev_timer		 deadline;
};

static void	dial_resolved(const struct addrinfo *, int, void *);
static void	dial_try_next(struct dial *);
static void	dial_deadline_cb(void *);
static int	dial_numeric(struct dial *, const char *, int);

/* Resolve host and connect to port, calling cb once with the outcome. */
struct dial *
dial_start(const char *host, int port, int flags, dial_cb cb, void *arg)
{
	struct dial	*d;
	char		 portstr[16];

	d = xcalloc(1, sizeof(*d));
	d->cb = cb;
	d->arg = arg;
	d->fd = -1;
	d->flags = flags;
	d->failure = SOCKS_FAIL_FAILURE;
	ev_timer_init(&d->deadline, dial_deadline_cb, d);
	ev_timer_start(&d->deadline, cfg->connect_timeout);
	/* A numeric address needs no resolver round trip: dial it now. */
	if (dial_numeric(d, host, port)) {
		dial_try_next(d);
		return (d);
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	d->query = resolver_lookup(host, portstr, dial_resolved, d);
	return (d);
}

/* Fill in the one address of a numeric host; 0 if host is a name. */
static int
dial_numeric(struct dial *d, const char *host, int port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&d->addrs[0];
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&d->addrs[0];

	memset(&d->addrs[0], 0, sizeof(d->addrs[0]));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	} else
		return (0);
	d->naddrs = 1;
	return (1);
}

/* Stop dialing; the callback will not be called. */
void
dial_cancel(struct dial *d)
{
	if (d->query != NULL)
		resolver_cancel(d->query);
	if (d->fd != -1) {
		ev_io_del(d->fd);
		close(d->fd);
	}
	ev_timer_stop(&d->deadline);
	free(d);
}

/* Free the dial, then report its outcome; a connected fd goes along. */
static void
dial_done(struct dial *d, int fd, enum socks_failure why)
{
	dial_cb	 cb = d->cb;
	void	*arg = d->arg;

	/* The caller owns a connected fd; anything else still open goes. */
	if (fd != -1)
		d->fd = -1;
	dial_cancel(d);
	cb(fd, why, arg);
}

/* The lookup answered: keep up to DIAL_MAX_ADDRS addresses, try them. */
static void
dial_resolved(const struct addrinfo *res, int error, void *arg)
{
	struct dial		*d = arg;
	const struct addrinfo	*ai;

	d->query = NULL;
	if (error != 0) {
		dial_done(d, -1, SOCKS_FAIL_DNS);
		return;
	}
	for (ai = res; ai != NULL && d->naddrs < DIAL_MAX_ADDRS;
	    ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(d->addrs[0]))
			continue;
		memcpy(&d->addrs[d->naddrs++], ai->ai_addr, ai->ai_addrlen);
	}
	if (d->naddrs == 0) {
		dial_done(d, -1, SOCKS_FAIL_DNS);
		return;
	}
	dial_try_next(d);
}

/* A connect finished: done if it worked, else on to the next address. */
static void
dial_connect_cb(int fd, int events, void *arg)
{
	struct dial	*d = arg;
	int		 error;

	ev_io_del(fd);
	if ((error = sock_connect_result(fd)) == 0) {
		dial_done(d, fd, SOCKS_FAIL_NONE);
		return;
	}
	close(fd);
	d->fd = -1;
	d->failure = socks_failure_from_errno(error);
	dial_try_next(d);
}

/*
 * Start a connect to the next address the rules allow; with none left,
 * report the failure from the loop.
 */
static void
dial_try_next(struct dial *d)
{
	struct sockaddr	*sa;
	int		 fd;

	while (d->next < d->naddrs) {
		sa = (struct sockaddr *)&d->addrs[d->next++];
		if ((d->flags & DIAL_RULES) &&
		    !cidr_dest_allowed(&cfg->dest_allow, &cfg->dest_deny, sa)) {
			d->denied++;
			continue;
		}
		d->tried++;
		if (sock_connect(sa, sock_len(sa), &fd) == -1) {
			d->failure = socks_failure_from_errno(errno);
			continue;
		}
		d->fd = fd;
		ev_io_set(fd, EV_WRITE, dial_connect_cb, d);
		return;
	}
	/* Every address denied: say so, rather than a connect error. */
	if (d->tried == 0 && d->denied > 0)
		d->failure = SOCKS_FAIL_DENIED;
	/* Report from the loop: we may still be inside dial_start. */
	d->exhausted = 1;
	ev_timer_start(&d->deadline, 0);
}

/* CONNECT_TIMEOUT passed, or every address failed: report it. */
static void
dial_deadline_cb(void *arg)
{
	struct dial	*d = arg;

	dial_done(d, -1, d->exhausted ? d->failure : SOCKS_FAIL_TIMEOUT);
}
