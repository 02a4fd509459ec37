/*
 * A UDP association on the server, behind udpassoc.h.  The relay socket
 * is bound to the address the client reached the server on (so it is of
 * the client's family), port chosen by the system.  Datagrams are read
 * in bursts, checked (source, header, fragment) and sent on one by one;
 * nothing is buffered here beyond the datagram being handled.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "compat.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "sock.h"
#include "socks.h"
#include "udpassoc.h"
#include "udpexit.h"
#include "xmalloc.h"

/* Datagrams read from the client in one loop round. */
#define UDPASSOC_READ_BURST	64

struct udpassoc {
	int			 ctlfd;		/* the client's TCP connection */
	int			 fd;		/* the relay socket */
	struct sockaddr_storage	 client;	/* port 0 until known */
	int			 port_known;
	struct sockaddr_storage	 bound;
	struct udpexit		*exit;		/* direct mode */
	struct mux_session	*session;	/* through a worker */
	struct ev_timer		 idle_timer;
	uint64_t		 last_active;
	struct udpassoc_counts	 counts;
	int			 warned;	/* a third party was logged */
	int			 done_called;
	udpassoc_done_cb	 done;
	void			*arg;
	char			 clienttext[SOCK_ADDRSTRLEN];
};

static void	udpassoc_read_cb(int, int, void *);
static void	udpassoc_ctl_cb(int, int, void *);
static void	udpassoc_idle_cb(void *);

/*
 * The relay socket for a client connected on ctlfd from client; with
 * client_port non-zero only that port may send.  NULL with cause when
 * no socket can be made.
 */
struct udpassoc *
udpassoc_new(int ctlfd, const struct sockaddr *client, uint16_t client_port,
    char **cause)
{
	struct udpassoc		*a;
	struct sockaddr_storage	 local;
	socklen_t		 len;
	int			 fd;

	sock_local(ctlfd, &local);
	if (local.ss_family == AF_INET)
		((struct sockaddr_in *)&local)->sin_port = 0;
	else if (local.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&local)->sin6_port = 0;
	else {
		xasprintf(cause, "control connection of unknown family");
		return (NULL);
	}
	if ((fd = socket(local.ss_family, SOCK_DGRAM, 0)) == -1) {
		xasprintf(cause, "UDP socket: %s", strerror(errno));
		return (NULL);
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    bind(fd, (struct sockaddr *)&local,
	    sock_len((struct sockaddr *)&local)) == -1) {
		xasprintf(cause, "UDP relay socket: %s", strerror(errno));
		close(fd);
		return (NULL);
	}
	a = xcalloc(1, sizeof(*a));
	a->ctlfd = ctlfd;
	a->fd = fd;
	len = sizeof(a->bound);
	if (getsockname(fd, (struct sockaddr *)&a->bound, &len) == -1)
		memcpy(&a->bound, &local, sizeof(local));
	memcpy(&a->client, client, sock_len(client));
	if (client->sa_family == AF_INET)
		((struct sockaddr_in *)&a->client)->sin_port =
		    htons(client_port);
	else
		((struct sockaddr_in6 *)&a->client)->sin6_port =
		    htons(client_port);
	a->port_known = client_port != 0;
	sock_ntop_host(client, a->clienttext, sizeof(a->clienttext));
	ev_timer_init(&a->idle_timer, udpassoc_idle_cb, a);
	return (a);
}

/* The relay socket's address, for the reply to the client. */
void
udpassoc_bound(struct udpassoc *a, struct sockaddr_storage *ss)
{
	memcpy(ss, &a->bound, sizeof(*ss));
}

/* What moved and what was dropped, the exit's drops included. */
void
udpassoc_counts(const struct udpassoc *a, struct udpassoc_counts *out)
{
	const struct udpexit_counts	*x;

	*out = a->counts;
	if (a->exit != NULL) {
		x = udpexit_counts(a->exit);
		out->dropped += x->denied + x->capped + x->unresolved +
		    x->failed;
	}
}

/* End the association once: tell the owner, who frees it. */
static void
udpassoc_end(struct udpassoc *a, const char *result)
{
	if (a->done_called)
		return;
	a->done_called = 1;
	ev_timer_stop(&a->idle_timer);
	ev_io_del(a->fd);
	ev_io_del(a->ctlfd);
	a->done(a, result, a->arg);
}

/* Cut the association now (shutdown). */
void
udpassoc_abort(struct udpassoc *a, const char *why)
{
	udpassoc_end(a, why);
}

/* Release everything but the control connection, which the owner has. */
void
udpassoc_free(struct udpassoc *a)
{
	struct udpassoc_counts	c;

	udpassoc_counts(a, &c);
	if (a->exit != NULL)
		udpexit_free(a->exit);
	if (a->session != NULL)
		mux_session_cancel(a->session);
	ev_timer_stop(&a->idle_timer);
	ev_io_del(a->fd);
	close(a->fd);
	free(a);
}

/* Wrap a reply in its source header and send it to the client. */
static void
udpassoc_to_client(struct udpassoc *a, const struct sockaddr *from,
    const uint8_t *data, size_t len)
{
	static uint8_t	dgram[SOCKS_UDP_HEADER_MAX + UDPEXIT_DGRAM_MAX];
	size_t		hl;

	if (!a->port_known || len > UDPEXIT_DGRAM_MAX) {
		a->counts.dropped++;
		return;
	}
	hl = socks5_build_udp_header(dgram, from);
	memcpy(dgram + hl, data, len);
	if (sendto(a->fd, dgram, hl + len, 0, (struct sockaddr *)&a->client,
	    sock_len((struct sockaddr *)&a->client)) == -1) {
		a->counts.dropped++;
		return;
	}
	a->counts.dgrams_down++;
	a->counts.bytes_down += len;
	a->last_active = ev_now();
}

/* A reply from a target, in direct mode. */
static void
udpassoc_exit_cb(const struct sockaddr *from, const uint8_t *data,
    size_t len, void *arg)
{
	udpassoc_to_client(arg, from, data, len);
}

/* A reply from a target through the worker: its source is numeric. */
static void
udpassoc_datagram_cb(struct mux_session *s, const char *host,
    const char *port, const unsigned char *data, size_t len, void *arg)
{
	struct udpassoc		*a = arg;
	struct sockaddr_storage	 ss;

	if (sock_pton(host, port, &ss) == -1) {
		a->counts.dropped++;
		return;
	}
	udpassoc_to_client(a, (struct sockaddr *)&ss, data, len);
}

/* The worker reset the session, or its link died. */
static void
udpassoc_session_cb(struct mux_session *s, enum mux_event ev,
    const char *host_or_reason, const char *port, void *arg)
{
	struct udpassoc	*a = arg;

	/* mux frees the session after this returns. */
	a->session = NULL;
	udpassoc_end(a, ev == MUX_SESSION_LOST ? "link-lost" :
	    "reset-by-peer");
}

/*
 * Start relaying: through session (already accepted by its worker), or
 * with session NULL directly from here.  done is called once, from the
 * loop, when the association ends.
 */
void
udpassoc_start(struct udpassoc *a, struct mux_session *session,
    udpassoc_done_cb done, void *arg)
{
	a->done = done;
	a->arg = arg;
	a->last_active = ev_now();
	if (session != NULL) {
		a->session = session;
		mux_session_set_cb(session, udpassoc_session_cb, a);
		mux_session_set_datagram(session, udpassoc_datagram_cb, a);
	} else
		a->exit = udpexit_new(udpassoc_exit_cb, a);
	ev_io_set(a->fd, EV_READ, udpassoc_read_cb, a);
	ev_io_set(a->ctlfd, EV_READ, udpassoc_ctl_cb, a);
	if (cfg->udp_idle_timeout > 0)
		ev_timer_start(&a->idle_timer, cfg->udp_idle_timeout);
}

/* Whether a datagram comes from the client (learning its port once). */
static int
udpassoc_from_client(struct udpassoc *a, const struct sockaddr *from)
{
	const struct sockaddr_in	*f4 = (const struct sockaddr_in *)from;
	const struct sockaddr_in6	*f6 = (const struct sockaddr_in6 *)from;
	struct sockaddr_in		*c4 = (struct sockaddr_in *)&a->client;
	struct sockaddr_in6		*c6 = (struct sockaddr_in6 *)&a->client;

	if (from->sa_family != a->client.ss_family)
		return (0);
	if (from->sa_family == AF_INET) {
		if (f4->sin_addr.s_addr != c4->sin_addr.s_addr ||
		    (a->port_known && f4->sin_port != c4->sin_port))
			return (0);
		c4->sin_port = f4->sin_port;
	} else {
		if (memcmp(&f6->sin6_addr, &c6->sin6_addr, 16) != 0 ||
		    (a->port_known && f6->sin6_port != c6->sin6_port))
			return (0);
		c6->sin6_port = f6->sin6_port;
	}
	a->port_known = 1;
	return (1);
}

/* One datagram from the client: check it and send it on. */
static void
udpassoc_from_client_dgram(struct udpassoc *a, const uint8_t *p, size_t len)
{
	struct socks_udp_header	 h;
	const char		*why;
	char			 port[8];
	size_t			 hl;

	if (socks5_parse_udp(p, len, &hl, &h, &why) == -1) {
		a->counts.dropped++;
		log_line(LOGC_SESSION, "UDP from %s dropped: %s",
		    a->clienttext, why);
		return;
	}
	if (h.frag != 0) {
		/* Reassembly is optional (RFC 1928 7); we do none. */
		a->counts.dropped++;
		a->counts.fragments++;
		return;
	}
	a->counts.dgrams_up++;
	a->counts.bytes_up += len - hl;
	a->last_active = ev_now();
	if (a->exit != NULL) {
		udpexit_send(a->exit, h.host, h.port, p + hl, len - hl);
		return;
	}
	snprintf(port, sizeof(port), "%u", h.port);
	if (a->session == NULL || mux_session_send_datagram(a->session,
	    h.host, port, p + hl, len - hl) == -1)
		a->counts.dropped++;
}

/* Datagrams on the relay socket: only the client's are taken. */
static void
udpassoc_read_cb(int fd, int events, void *arg)
{
	struct udpassoc		*a = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	static uint8_t		 dgram[SOCKS_UDP_HEADER_MAX + 256 +
				     UDPEXIT_DGRAM_MAX];
	char			 from[SOCK_ADDRSTRLEN];
	ssize_t			 n;
	int			 i;

	for (i = 0; i < UDPASSOC_READ_BURST && !a->done_called; i++) {
		sslen = sizeof(ss);
		n = recvfrom(fd, dgram, sizeof(dgram), 0,
		    (struct sockaddr *)&ss, &sslen);
		if (n == -1)
			return;
		if (!udpassoc_from_client(a, (struct sockaddr *)&ss)) {
			/* No reflection: a third party's datagram goes nowhere. */
			a->counts.dropped++;
			if (!a->warned) {
				a->warned = 1;
				log_line(LOGC_ERROR, "UDP relay of %s: datagram "
				    "from %s dropped (not the client)",
				    a->clienttext, sock_ntop((struct sockaddr *)
				    &ss, from, sizeof(from)));
			}
			continue;
		}
		udpassoc_from_client_dgram(a, dgram, (size_t)n);
	}
}

/*
 * The control connection: what the client sends on it is ignored; its
 * close (or reset) ends the association at once.
 */
static void
udpassoc_ctl_cb(int fd, int events, void *arg)
{
	struct udpassoc	*a = arg;
	char		 scratch[512];
	ssize_t		 n;

	n = read(fd, scratch, sizeof(scratch));
	if (n == 0)
		udpassoc_end(a, "ok");
	else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)
		udpassoc_end(a, "reset");
}

/* UDP_IDLE_TIMEOUT: no datagram either way for that long ends it. */
static void
udpassoc_idle_cb(void *arg)
{
	struct udpassoc	*a = arg;
	uint64_t	 quiet = ev_now() - a->last_active;

	if (quiet >= cfg->udp_idle_timeout) {
		udpassoc_end(a, "idle");
		return;
	}
	ev_timer_start(&a->idle_timer, cfg->udp_idle_timeout - quiet);
}
