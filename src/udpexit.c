/*
 * The outward side of a UDP association behind udpexit.h.  One
 * unconnected socket per address family, made when first needed; a
 * table of the targets the client has sent to, each resolved once (a
 * name through the resolver, its datagrams held meanwhile, a few at
 * most) and checked against the rules once resolved.  A datagram that
 * arrives on a socket is handed back only when its source is one of
 * those targets.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "cidr.h"
#include "compat.h"
#include "ev.h"
#include "log.h"
#include "resolver.h"
#include "sock.h"
#include "udpexit.h"
#include "xmalloc.h"

/* Datagrams held for a target whose name is being resolved. */
#define UDPEXIT_HELD_MAX	8
/* Datagrams read from a socket in one loop round. */
#define UDPEXIT_READ_BURST	64

enum udpexit_state {
	UDPEXIT_RESOLVING,
	UDPEXIT_READY,
	UDPEXIT_DENIED,		/* by DEST_ALLOW / DEST_DENY */
	UDPEXIT_UNRESOLVED	/* the name did not resolve */
};

struct udpexit_held {
	size_t		 len;
	uint8_t		*data;
};

struct udpexit_target {
	char			 host[256];
	uint16_t		 port;
	enum udpexit_state	 state;
	struct sockaddr_storage	 addr;
	struct resolver_query	*query;
	struct udpexit		*exit;
	struct udpexit_held	 held[UDPEXIT_HELD_MAX];
	size_t			 nheld;
};

struct udpexit {
	udpexit_reply_cb	 cb;
	void			*arg;
	int			 fd4;
	int			 fd6;
	struct udpexit_target	**targets;
	size_t			 ntargets;
	uint64_t		 rate_start;	/* ms, this second's start */
	uint64_t		 rate_count;	/* datagrams sent in it */
	struct udpexit_counts	 counts;
};

static void	udpexit_read_cb(int, int, void *);

/* A new association's outward side; sockets come with the first target. */
struct udpexit *
udpexit_new(udpexit_reply_cb cb, void *arg)
{
	struct udpexit	*x;

	x = xcalloc(1, sizeof(*x));
	x->cb = cb;
	x->arg = arg;
	x->fd4 = x->fd6 = -1;
	return (x);
}

/* What was dropped so far. */
const struct udpexit_counts *
udpexit_counts(const struct udpexit *x)
{
	return (&x->counts);
}

/* Drop the datagrams a target holds. */
static void
udpexit_held_free(struct udpexit_target *t)
{
	size_t	i;

	for (i = 0; i < t->nheld; i++)
		free(t->held[i].data);
	t->nheld = 0;
}

/* Close the sockets, cancel lookups, free everything. */
void
udpexit_free(struct udpexit *x)
{
	struct udpexit_target	*t;
	size_t			 i;

	for (i = 0; i < x->ntargets; i++) {
		t = x->targets[i];
		if (t->query != NULL)
			resolver_cancel(t->query);
		udpexit_held_free(t);
		free(t);
	}
	free(x->targets);
	if (x->fd4 != -1) {
		ev_io_del(x->fd4);
		close(x->fd4);
	}
	if (x->fd6 != -1) {
		ev_io_del(x->fd6);
		close(x->fd6);
	}
	free(x);
}

/* The socket for a family, made and watched on first use; -1 on error. */
static int
udpexit_socket(struct udpexit *x, int family)
{
	int	*fdp = family == AF_INET6 ? &x->fd6 : &x->fd4;
	int	 fd;

	if (*fdp != -1)
		return (*fdp);
	if ((fd = socket(family, SOCK_DGRAM, 0)) == -1) {
		log_warn("UDP socket");
		return (-1);
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("UDP socket flags");
		close(fd);
		return (-1);
	}
	*fdp = fd;
	ev_io_set(fd, EV_READ, udpexit_read_cb, x);
	return (fd);
}

/* Send one datagram to a resolved, allowed target. */
static void
udpexit_sendto(struct udpexit *x, struct udpexit_target *t,
    const uint8_t *data, size_t len)
{
	struct sockaddr	*sa = (struct sockaddr *)&t->addr;
	int		 fd;

	if ((fd = udpexit_socket(x, sa->sa_family)) == -1 ||
	    sendto(fd, data, len, 0, sa, sock_len(sa)) == -1)
		x->counts.failed++;
}

/* Whether the rules let this address be a target. */
static int
udpexit_allowed(const struct sockaddr *sa)
{
	return (cidr_dest_allowed(&cfg->dest_allow, &cfg->dest_deny, sa));
}

/* The lookup of a target's name answered: send what it holds, or drop. */
static void
udpexit_resolved(const struct addrinfo *res, int error, void *arg)
{
	struct udpexit_target	*t = arg;
	struct udpexit		*x = t->exit;
	const struct addrinfo	*ai;
	size_t			 i;
	int			 denied = 0;

	t->query = NULL;
	t->state = UDPEXIT_UNRESOLVED;
	for (ai = error == 0 ? res : NULL; ai != NULL; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(t->addr))
			continue;
		/* The first address the rules allow, in the resolver's order. */
		if (!udpexit_allowed(ai->ai_addr)) {
			denied = 1;
			continue;
		}
		memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
		t->state = UDPEXIT_READY;
		break;
	}
	if (t->state != UDPEXIT_READY && denied)
		t->state = UDPEXIT_DENIED;
	if (t->state != UDPEXIT_READY)
		log_line(LOGC_SESSION, "UDP target %s:%u %s", t->host,
		    t->port, t->state == UDPEXIT_DENIED ? "denied" :
		    "did not resolve");
	for (i = 0; i < t->nheld; i++) {
		switch (t->state) {
		case UDPEXIT_READY:
			udpexit_sendto(x, t, t->held[i].data, t->held[i].len);
			break;
		case UDPEXIT_DENIED:
			x->counts.denied++;
			break;
		default:
			x->counts.unresolved++;
			break;
		}
	}
	udpexit_held_free(t);
}

/* Fill in a numeric target's address; 0 when host is a name. */
static int
udpexit_numeric(struct udpexit_target *t)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&t->addr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&t->addr;

	memset(&t->addr, 0, sizeof(t->addr));
	if (inet_pton(AF_INET, t->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->port);
	} else if (inet_pton(AF_INET6, t->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->port);
	} else
		return (0);
	return (1);
}

/* The target entry for host:port, made if the cap allows; else NULL. */
static struct udpexit_target *
udpexit_target(struct udpexit *x, const char *host, uint16_t port)
{
	struct udpexit_target	*t;
	char			 portstr[8];
	size_t			 i;

	for (i = 0; i < x->ntargets; i++) {
		t = x->targets[i];
		if (t->port == port && strcmp(t->host, host) == 0)
			return (t);
	}
	if (cfg->udp_max_targets > 0 && x->ntargets >= cfg->udp_max_targets)
		return (NULL);
	t = xcalloc(1, sizeof(*t));
	strlcpy(t->host, host, sizeof(t->host));
	t->port = port;
	t->exit = x;
	x->targets = xreallocarray(x->targets, x->ntargets + 1,
	    sizeof(*x->targets));
	x->targets[x->ntargets++] = t;
	if (udpexit_numeric(t)) {
		t->state = udpexit_allowed((struct sockaddr *)&t->addr) ?
		    UDPEXIT_READY : UDPEXIT_DENIED;
		if (t->state == UDPEXIT_DENIED)
			log_line(LOGC_SESSION, "UDP target %s:%u denied",
			    t->host, t->port);
		return (t);
	}
	t->state = UDPEXIT_RESOLVING;
	snprintf(portstr, sizeof(portstr), "%u", port);
	t->query = resolver_lookup(host, portstr, udpexit_resolved, t);
	return (t);
}

/* Whether one more datagram fits in this second's UDP_RATE. */
static int
udpexit_rate_ok(struct udpexit *x)
{
	uint64_t	now = ev_now();

	if (cfg->udp_rate == 0)
		return (1);
	if (now - x->rate_start >= 1000) {
		x->rate_start = now;
		x->rate_count = 0;
	}
	if (x->rate_count >= cfg->udp_rate)
		return (0);
	x->rate_count++;
	return (1);
}

/*
 * Send a client's datagram to host:port (port 0 is no one's), or drop
 * it and count why.
 */
void
udpexit_send(struct udpexit *x, const char *host, uint16_t port,
    const uint8_t *data, size_t len)
{
	struct udpexit_target	*t;
	struct udpexit_held	*h;

	if (port == 0 || host[0] == '\0') {
		x->counts.denied++;
		return;
	}
	if (!udpexit_rate_ok(x) || (t = udpexit_target(x, host, port)) ==
	    NULL) {
		x->counts.capped++;
		return;
	}
	switch (t->state) {
	case UDPEXIT_READY:
		udpexit_sendto(x, t, data, len);
		break;
	case UDPEXIT_RESOLVING:
		if (t->nheld >= UDPEXIT_HELD_MAX) {
			x->counts.capped++;
			break;
		}
		h = &t->held[t->nheld++];
		h->len = len;
		h->data = xmalloc(len > 0 ? len : 1);
		memcpy(h->data, data, len);
		break;
	case UDPEXIT_DENIED:
		x->counts.denied++;
		break;
	case UDPEXIT_UNRESOLVED:
		x->counts.unresolved++;
		break;
	}
}

/* Whether two addresses are the same address and port. */
static int
udpexit_same(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in	*b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6	*b6 = (const struct sockaddr_in6 *)b;

	if (a->sa_family != b->sa_family)
		return (0);
	if (a->sa_family == AF_INET)
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	if (a->sa_family == AF_INET6)
		return (a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0);
	return (0);
}

/* Whether a datagram's source is a ready target of this association. */
static int
udpexit_known(struct udpexit *x, const struct sockaddr *from)
{
	size_t	i;

	for (i = 0; i < x->ntargets; i++) {
		if (x->targets[i]->state == UDPEXIT_READY &&
		    udpexit_same((struct sockaddr *)&x->targets[i]->addr,
		    from))
			return (1);
	}
	return (0);
}

/* Datagrams arrived from outside: hand back those from known targets. */
static void
udpexit_read_cb(int fd, int events, void *arg)
{
	struct udpexit		*x = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	static uint8_t		 dgram[UDPEXIT_DGRAM_MAX];
	ssize_t			 n;
	int			 i;

	for (i = 0; i < UDPEXIT_READ_BURST; i++) {
		sslen = sizeof(ss);
		n = recvfrom(fd, dgram, sizeof(dgram), 0,
		    (struct sockaddr *)&ss, &sslen);
		if (n == -1)
			return;	/* EAGAIN, or an ICMP error: nothing to do */
		if (!udpexit_known(x, (struct sockaddr *)&ss))
			continue;
		x->cb((struct sockaddr *)&ss, dgram, (size_t)n, x->arg);
	}
}
