/*
 * A SOCKS client of the server, from accept to the access log line.  The
 * handshake is parsed incrementally from a small bounded buffer, so a
 * request split at any byte, or coalesced with early data, gives the same
 * result; bytes after the request are kept and sent first once the
 * destination is connected.  While its password is checked (in a
 * thread) or its request connected, a client stays watched, so one that
 * leaves is let go at once.  The server's listener calls client_accept;
 * everything after that happens here.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "auth.h"
#include "bindwait.h"
#include "buf.h"
#include "cfg.h"
#include "client.h"
#include "client-int.h"
#include "compat.h"
#include "dial.h"
#include "ev.h"
#include "ipcount.h"
#include "http.h"
#include "job.h"
#include "log.h"
#include "mux.h"
#include "pool.h"
#include "relay.h"
#include "sock.h"
#include "socks.h"
#include "stats.h"
#include "stream.h"
#include "tags.h"
#include "tunnel.h"
#include "userparam.h"
#include "xmalloc.h"


static struct client_list	client_all = TAILQ_HEAD_INITIALIZER(client_all);
static size_t			client_n;
/* Clients by address, for MAX_CLIENTS_PER_IP. */
struct ipcount			client_addrs;

static void	client_read_cb(int, int, void *);
static void	client_timeout_cb(void *);
static void	client_parse(struct client *);

/* Take a newly accepted connection (rules and caps already checked). */
void
client_accept(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct client	*c;

	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	memcpy(&c->addr, sa, salen);
	sock_ntop(sa, c->addrtext, sizeof(c->addrtext));
	c->state = CLIENT_START;
	c->start = ev_now();
	strlcpy(c->via, "direct", sizeof(c->via));
	buf_init(&c->in);
#ifndef __linux__
	/* Linux clones the listener's TCP_NODELAY into accepted sockets. */
	sock_set_nodelay(fd);
#endif
	ipcount_add(&client_addrs, sa);
	TAILQ_INSERT_TAIL(&client_all, c, entry);
	client_n++;
	stats_client_open();

	/* The deadline runs from accept: dribbling bytes cannot extend it. */
	ev_timer_init(&c->timer, client_timeout_cb, c);
	ev_timer_start(&c->timer, cfg->handshake_timeout);
	ev_io_set(fd, EV_READ, client_read_cb, c);
	log_line(LOGC_CONNECTION, "connection from %s", c->addrtext);
	/*
	 * Clients send their greeting right after connecting, so it is
	 * usually here already: read it now rather than one round later.
	 */
	client_read_cb(fd, EV_READ, c);
}

/* Clients on the server now, in any state. */
size_t
client_count(void)
{
	return (client_n);
}

/* Free a closed client, deferred to the end of the loop round. */
static void
client_free(void *arg)
{
	struct client	*c = arg;

	if (c->http != NULL)
		client_http_free(c);
	buf_free(&c->in);
	free(c);
}

/* The cmd= word of the access line. */
static const char *
client_cmd_name(int cmd)
{
	switch (cmd) {
	case SOCKS_CMD_CONNECT:
		return ("connect");
	case SOCKS_CMD_BIND:
		return ("bind");
	case SOCKS_CMD_UDP:
		return ("udp");
	}
	return ("unknown");
}

/* One access line per finished request, exactly as DESIGN.md shows. */
static void
client_log_access(struct client *c, const char *result, uint64_t up,
    uint64_t down)
{
	const char	*host = c->req.host;
	int		 v6 = strchr(host, ':') != NULL;
	char		 user[LOG_ESCAPE_SIZE(sizeof(c->user))];
	char		 udp[128] = "";

	if (!log_class_enabled(LOGC_ACCESS))
		return;
	if (c->req.cmd == SOCKS_CMD_UDP)
		snprintf(udp, sizeof(udp), " dgrams_up=%llu dgrams_down=%llu "
		    "dropped=%llu",
		    (unsigned long long)c->udpcounts.dgrams_up,
		    (unsigned long long)c->udpcounts.dgrams_down,
		    (unsigned long long)c->udpcounts.dropped);
	/* A user name may hold any byte but NUL (RFC 1929). */
	log_escape(user, sizeof(user), c->user);
	/* session= is [A-Za-z0-9] and tags= [a-z0-9_.,]: nothing to escape. */
	log_line(LOGC_ACCESS, "access client=%s user=%s cmd=%s dest=%s%s%s:%u "
	    "via=%s result=%s up=%llu down=%llu ms=%llu session=%s tags=%s%s",
	    c->addrtext, user[0] != '\0' ? user : "-", c->http != NULL ?
	    client_http_cmd_name(c) : client_cmd_name(c->req.cmd),
	    v6 ? "[" : "", host[0] != '\0' ? host : "-", v6 ? "]" : "",
	    c->req.port, c->via, result, (unsigned long long)up,
	    (unsigned long long)down,
	    (unsigned long long)(ev_now() - c->start),
	    c->want.session[0] != '\0' ? c->want.session : "-",
	    c->tags[0] != '\0' ? c->tags : "-", udp);
}

/*
 * Release a client that never reached (or already left) the relay,
 * cancelling whatever it waits for; why, if any, is logged.
 */
void
client_close(struct client *c, const char *why)
{
	if (why != NULL)
		log_line(LOGC_CONNECTION, "closing %s: %s", c->addrtext, why);
	if (c->dial != NULL)
		dial_cancel(c->dial);
	if (c->pool != NULL)
		pool_open_cancel(c->pool);
	if (c->auth != NULL)
		job_cancel(c->auth);
	if (c->udp != NULL)
		udpassoc_free(c->udp);
	if (c->bind != NULL)
		bindwait_cancel(c->bind);
	if (c->bindsession != NULL)
		mux_session_cancel(c->bindsession);
	c->udp = NULL;
	c->bind = NULL;
	c->bindsession = NULL;
	c->dial = NULL;
	c->pool = NULL;
	c->auth = NULL;
	c->state = CLIENT_CLOSED;
	if (c->counted) {
		c->account->active--;
		c->counted = 0;
	}
	ev_timer_stop(&c->timer);
	if (c->fd != -1) {
		ev_io_del(c->fd);
		close(c->fd);
		c->fd = -1;
	}
	ipcount_del(&client_addrs, (struct sockaddr *)&c->addr);
	TAILQ_REMOVE(&client_all, c, entry);
	client_n--;
	stats_client_close();
	ev_defer_free(client_free, c);
}

/* Send a short handshake reply; a fresh socket always has room for it. */
int
client_send(struct client *c, const void *data, size_t len)
{
	ssize_t	n;

	n = write(c->fd, data, len);
	return (n == (ssize_t)len ? 0 : -1);
}

/* Log a handshake error, send the codec's reply if any, and close. */
static enum client_state
client_fail(struct client *c, const char *why, const void *reply,
    size_t replylen)
{
	stats_handshake_error();
	log_line(LOGC_ERROR, "client %s: %s", c->addrtext, why);
	if (replylen > 0)
		(void)client_send(c, reply, replylen);
	client_close(c, NULL);
	return (CLIENT_CLOSED);
}

/*
 * Answer the request with reply code rep in the client's own SOCKS
 * version (SOCKS4 knows only granted and rejected), log its access line
 * with result, and close.
 */
static void
client_reply_and_close(struct client *c, enum socks5_reply rep,
    const char *result)
{
	uint8_t	reply[HTTP_REPLY_MAX];
	size_t	len;

	if (c->http != NULL)
		len = http_build_reply((char *)reply, sizeof(reply),
		    client_http_status(rep));
	else if (c->req.version == SOCKS_V4)
		len = socks4_build_reply(reply, 0, NULL);
	else
		len = socks5_build_reply(reply, rep, NULL);
	(void)client_send(c, reply, len);
	client_log_access(c, result, 0, 0);
	client_close(c, NULL);
}

/* The destination could not be reached: count it, answer and close. */
static void
client_refuse(struct client *c, enum socks_failure why)
{
	stats_connect_failed(c->via, why);
	client_reply_and_close(c, socks5_reply_from_failure(why),
	    socks_failure_name(why));
}

/* Bytes a client may have buffered: an HTTP header is the longest. */
static size_t
client_in_max(const struct client *c)
{
	return (c->http != NULL ? HTTP_HEADER_MAX : CLIENT_HANDSHAKE_MAX);
}

/* HANDSHAKE_TIMEOUT passed before the request was complete. */
static void
client_timeout_cb(void *arg)
{
	struct client	*c = arg;

	stats_handshake_error();
	log_line(LOGC_ERROR, "client %s: handshake timeout", c->addrtext);
	client_close(c, NULL);
}

/*
 * The client left (a read error: it reset) while its request was being
 * connected: log the request as aborted and close, which cancels the
 * lookup, the connect or the worker's session.
 */
static void
client_abort(struct client *c, const char *why)
{
	log_line(LOGC_CONNECTION, "closing %s: %s while connecting to %s:%u",
	    c->addrtext, why, c->req.host, c->req.port);
	client_log_access(c, "aborted", 0, 0);
	client_close(c, NULL);
}

/*
 * Read while the password is being checked or the request connected:
 * the client stays watched so that one which leaves frees its slot and
 * its check, lookup or connect at once.  Bytes it sends meanwhile wait
 * in c->in; when that is full reading stops, as it does at EOF, which
 * is read again later (EOF is sticky): a closed handshake then ends,
 * and a tunnel passes it on as a half-close.
 */
static void
client_read_waiting(struct client *c)
{
	size_t	room = client_in_max(c) - buf_len(&c->in);
	ssize_t	n;

	if (room == 0) {
		ev_io_disable(c->fd, EV_READ);
		return;
	}
	n = buf_read_fd(&c->in, c->fd, room);
	if (n == 0)
		ev_io_disable(c->fd, EV_READ);
	else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		if (c->state == CLIENT_CONNECTING)
			client_abort(c, strerror(errno));
		else
			client_close(c, strerror(errno));
	}
}

/* The client's socket is readable: buffer, then parse the handshake. */
static void
client_read_cb(int fd, int events, void *arg)
{
	struct client	*c = arg;
	size_t		 room = client_in_max(c) - buf_len(&c->in);
	ssize_t		 n;

	if (c->state == CLIENT_AUTH_CHECK || c->state == CLIENT_CONNECTING) {
		client_read_waiting(c);
		return;
	}
	if (room == 0) {
		stats_handshake_error();
		log_line(LOGC_ERROR, "client %s: handshake too long",
		    c->addrtext);
		client_close(c, NULL);
		return;
	}
	n = buf_read_fd(&c->in, fd, room);
	if (n == 0) {
		client_close(c, "closed during handshake");
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			client_close(c, strerror(errno));
		return;
	}
	client_parse(c);
}

/* CLIENT_START: the first byte says SOCKS5, SOCKS4 or HTTP. */
static enum client_state
client_on_start(struct client *c)
{
	if (buf_len(&c->in) == 0)
		return (CLIENT_START);
	switch (socks_version(buf_head(&c->in), buf_len(&c->in))) {
	case SOCKS_V5:
		return (CLIENT_GREETING);
	case SOCKS_V4:
		return (CLIENT_REQUEST4);
	}
	if (cfg->http_proxy &&
	    http_is_request_start(buf_head(&c->in), buf_len(&c->in)))
		return (CLIENT_HTTP);
	return (client_fail(c, "not a SOCKS 4 or 5 request", NULL, 0));
}

/* CLIENT_GREETING: choose the method AUTH calls for, or none. */
static enum client_state
client_on_greeting(struct client *c)
{
	struct socks_greeting	g;
	struct socks_error	err;
	enum socks_parse	r;
	size_t			used;
	uint8_t			reply[2];
	enum socks5_method	method = SOCKS5_METHOD_UNACCEPTABLE;

	r = socks5_parse_greeting(buf_head(&c->in), buf_len(&c->in), &used,
	    &g, &err);
	if (r == SOCKS_PARSE_NEED)
		return (CLIENT_GREETING);
	if (r == SOCKS_PARSE_ERROR)
		return (client_fail(c, err.why, err.reply, err.replylen));
	buf_drain(&c->in, used);

	/*
	 * Under AUTH=none a client offering user/password still gets it:
	 * its user name may carry parameters (-tag-eu), its password is
	 * ignored.
	 */
	if (socks5_greeting_has(&g, SOCKS5_METHOD_PASSWORD))
		method = SOCKS5_METHOD_PASSWORD;
	else if (cfg->auth != CONF_AUTH_PASSWORD &&
	    socks5_greeting_has(&g, SOCKS5_METHOD_NONE))
		method = SOCKS5_METHOD_NONE;
	socks5_build_method(reply, method);
	if (client_send(c, reply, sizeof(reply)) == -1) {
		client_close(c, "write failed");
		return (CLIENT_CLOSED);
	}
	switch (method) {
	case SOCKS5_METHOD_PASSWORD:
		return (CLIENT_AUTH);
	case SOCKS5_METHOD_NONE:
		return (CLIENT_REQUEST5);
	default:
		return (client_fail(c, "no acceptable auth method", NULL, 0));
	}
}

/*
 * The password of the account (the user name's BASE) was right: take
 * its policy, as the file in force says now, and its shared account.
 */
static void
client_logged_in(struct client *c)
{
	(void)auth_policy(c->param.base, &c->policy);
	c->account = account_get(c->param.base, c->policy.rate);
	pool_want_init(&c->want, &c->param, &c->policy.tags);
}

/*
 * Take a password check's result, for SOCKS5 and HTTP alike: apply the
 * user's account and wants (AUTH_OK, 0), or log and count the refusal
 * (-1: the caller answers in its protocol and closes).
 */
int
client_password_result(struct client *c, enum auth_result result)
{
	char	user[LOG_ESCAPE_SIZE(sizeof(c->user))];

	switch (result) {
	case AUTH_OK:
		client_logged_in(c);
		return (0);
	case AUTH_BAD:
		stats_client_refused();
		log_line(LOGC_ERROR, "client %s: bad password for user %s",
		    c->addrtext, log_escape(user, sizeof(user), c->user));
		return (-1);
	case AUTH_BUSY:
		break;
	}
	stats_handshake_error();
	log_line(LOGC_ERROR, "client %s: too many password checks "
	    "waiting; refusing user %s", c->addrtext,
	    log_escape(user, sizeof(user), c->user));
	return (-1);
}

/* The password check is over: answer, then go on to the request. */
static void
client_password_cb(enum auth_result result, void *arg)
{
	struct client	*c = arg;
	uint8_t		 reply[2];

	c->auth = NULL;
	socks5_build_userpass_reply(reply, result == AUTH_OK);
	if (client_send(c, reply, sizeof(reply)) == -1) {
		client_close(c, "write failed");
		return;
	}
	if (client_password_result(c, result) == -1) {
		client_close(c, NULL);
		return;
	}
	/* Bytes sent meanwhile are in c->in; read on for the rest. */
	c->state = CLIENT_REQUEST5;
	ev_io_enable(c->fd, EV_READ);
	client_parse(c);
}

/*
 * Read the parameters of the client's user name (RFC 1929) or user id
 * (SOCKS4) into its wants.  A name the codec refuses is counted and
 * logged; the caller answers with its protocol's failure and closes.
 */
int
client_parse_user(struct client *c, const char *name)
{
	char	*cause = NULL;
	char	 user[LOG_ESCAPE_SIZE(USERPARAM_USER_MAX + 1)];

	if (userparam_parse(name, &c->param, &cause) == 0) {
		pool_want_init(&c->want, &c->param, NULL);
		return (0);
	}
	stats_handshake_error();
	log_line(LOGC_ERROR, "client %s: user %s refused: %s", c->addrtext,
	    log_escape(user, sizeof(user), name), cause);
	free(cause);
	return (-1);
}

/* CLIENT_AUTH: take the credentials and check them off the loop. */
static enum client_state
client_on_auth(struct client *c)
{
	struct socks_userpass	up;
	struct socks_error	err;
	enum socks_parse	r;
	size_t			used;
	uint8_t			reply[2];

	r = socks5_parse_userpass(buf_head(&c->in), buf_len(&c->in), &used,
	    &up, &err);
	if (r == SOCKS_PARSE_NEED)
		return (CLIENT_AUTH);
	if (r == SOCKS_PARSE_ERROR)
		return (client_fail(c, err.why, err.reply, err.replylen));
	buf_drain(&c->in, used);

	strlcpy(c->user, up.user, sizeof(c->user));
	if (client_parse_user(c, c->user) == -1) {
		explicit_bzero(&up, sizeof(up));
		socks5_build_userpass_reply(reply, 0);
		(void)client_send(c, reply, sizeof(reply));
		client_close(c, NULL);
		return (CLIENT_CLOSED);
	}
	if (cfg->auth != CONF_AUTH_PASSWORD) {
		/* The password only carried the parameters: ignore it. */
		explicit_bzero(&up, sizeof(up));
		socks5_build_userpass_reply(reply, 1);
		if (client_send(c, reply, sizeof(reply)) == -1) {
			client_close(c, "write failed");
			return (CLIENT_CLOSED);
		}
		return (CLIENT_REQUEST5);
	}
	/* BASE is the account. The answer comes from the loop later. */
	c->auth = auth_check(c->param.base, up.pass, client_password_cb, c);
	explicit_bzero(&up, sizeof(up));
	return (CLIENT_AUTH_CHECK);
}

/*
 * CLIENT_REQUEST5 and CLIENT_REQUEST4: take the request, answer what
 * will not be served, and go on to connect the rest.
 */
static enum client_state
client_on_request(struct client *c)
{
	struct socks_error	err;
	enum socks_parse	r;
	size_t			used;

	if (c->state == CLIENT_REQUEST5)
		r = socks5_parse_request(buf_head(&c->in), buf_len(&c->in),
		    &used, &c->req, &err);
	else
		r = socks4_parse_request(buf_head(&c->in), buf_len(&c->in),
		    &used, &c->req, &err);
	if (r == SOCKS_PARSE_NEED)
		return (c->state);
	if (r == SOCKS_PARSE_ERROR)
		return (client_fail(c, err.why, err.reply, err.replylen));
	/* Bytes after the request stay in c->in: the tunnel's first. */
	buf_drain(&c->in, used);
	ev_timer_stop(&c->timer);

	if (c->req.version == SOCKS_V4 && cfg->auth == CONF_AUTH_PASSWORD) {
		/* Refused by rule, not a failed connect: no connect counter. */
		stats_client_refused();
		log_line(LOGC_ERROR, "client %s: SOCKS4 refused: AUTH=password",
		    c->addrtext);
		client_reply_and_close(c, SOCKS5_NOT_ALLOWED,
		    socks_failure_name(SOCKS_FAIL_DENIED));
		return (CLIENT_CLOSED);
	}
	if (c->req.version == SOCKS_V4) {
		/*
		 * The SOCKS4 user id carries the parameters; one longer
		 * than a user name (up to 512 bytes) carries none.
		 */
		if (strlen(c->req.user) <= USERPARAM_USER_MAX &&
		    client_parse_user(c, c->req.user) == -1) {
			client_reply_and_close(c, SOCKS5_FAILURE, "bad_user");
			return (CLIENT_CLOSED);
		}
	}
	if (c->req.cmd != SOCKS_CMD_CONNECT && c->req.cmd != SOCKS_CMD_BIND &&
	    !(c->req.cmd == SOCKS_CMD_UDP && c->req.version == SOCKS_V5)) {
		client_reply_and_close(c, SOCKS5_CMD_UNSUPPORTED,
		    "unsupported");
		return (CLIENT_CLOSED);
	}
	return (CLIENT_CONNECTING);
}

/*
 * Run the handshake over what has arrived: the handler of the current
 * state consumes a complete message and returns the next state, or the
 * same one when it needs more bytes.  Entering CLIENT_CONNECTING starts
 * the connect; the waiting states leave the bytes where they are.
 */
static void
client_parse(struct client *c)
{
	enum client_state	next;

	for (;;) {
		switch (c->state) {
		case CLIENT_START:
			next = client_on_start(c);
			break;
		case CLIENT_GREETING:
			next = client_on_greeting(c);
			break;
		case CLIENT_AUTH:
			next = client_on_auth(c);
			break;
		case CLIENT_REQUEST5:
		case CLIENT_REQUEST4:
			next = client_on_request(c);
			break;
		case CLIENT_HTTP:
			next = client_http_on_request(c);
			break;
		default:
			return;
		}
		if (next == c->state || next == CLIENT_CLOSED)
			return;
		c->state = next;
		if (next == CLIENT_CONNECTING) {
			stats_handshake_done((ev_now() - c->start) * 1000);
			client_connect(c);
			return;
		}
	}
}

/* The tunnel has ended: log it and its access line, close. */
static void
client_tunnel_done(struct tunnel *t, const char *result, void *arg)
{
	struct client	*c = arg;

	log_line(LOGC_SESSION, "tunnel %s -> %s:%u via %s closed: %s",
	    c->addrtext, c->req.host, c->req.port, c->via, result);
	if (c->account != NULL) {
		c->account->bytes_up += t->up;
		c->account->bytes_down += t->down;
	}
	client_log_access(c, result, t->up, t->down);
	client_close(c, NULL);
}

/*
 * The destination answered: join the client to its end dest with the
 * success reply, then the bytes the client sent early.
 */
static void
client_connected(struct client *c, struct end *dest,
    const struct sockaddr *bound)
{
	struct stream	*cs;
	uint8_t		 reply[HTTP_REPLY_MAX];	/* the longest of all */
	size_t		 len;

	/* The stream takes over the descriptor; the client keeps the log. */
	cs = stream_new(c->fd);
	c->fd = -1;
	c->state = CLIENT_RELAYING;
	if (c->http != NULL)
		len = client_http_reply(c, cs, reply, sizeof(reply));
	else if (c->req.version == SOCKS_V4)
		len = socks4_build_reply(reply, 1, bound);
	else
		len = socks5_build_reply(reply, SOCKS5_SUCCEEDED, bound);
	log_line(LOGC_SESSION, "tunnel %s -> %s:%u via %s open", c->addrtext,
	    c->req.host, c->req.port, c->via);
	/* The account's rate=, shared by all its tunnels. */
	if (c->account != NULL && c->account->limit.rate != 0)
		c->tunnel.limit = &c->account->limit;
	tunnel_start(&c->tunnel, &cs->end, dest, c->via, reply, len, &c->in,
	    client_tunnel_done, c);
	if (c->http != NULL && c->tunnel.relay != NULL)
		client_http_started(c);
}

/* The direct dial ended: relay to the new socket, or refuse. */
static void
client_dial_cb(int fd, enum socks_failure why, void *arg)
{
	struct client		*c = arg;
	struct sockaddr_storage	 ss;

	c->dial = NULL;
	if (fd == -1) {
		log_line(LOGC_ERROR, "client %s: connect to %s:%u failed: %s",
		    c->addrtext, c->req.host, c->req.port,
		    socks_failure_name(why));
		client_refuse(c, why);
		return;
	}
	sock_local(fd, &ss);
	client_connected(c, &stream_new(fd)->end, (struct sockaddr *)&ss);
}

/* The UDP association ended: log its access line with its counts, close. */
static void
client_udp_done(struct udpassoc *a, const char *result, void *arg)
{
	struct client	*c = arg;

	udpassoc_counts(a, &c->udpcounts);
	stats_tunnel_done(c->via, c->udpcounts.bytes_up,
	    c->udpcounts.bytes_down);
	log_line(LOGC_SESSION, "UDP association of %s via %s closed: %s",
	    c->addrtext, c->via, result);
	client_log_access(c, result, c->udpcounts.bytes_up,
	    c->udpcounts.bytes_down);
	client_close(c, NULL);
}

/*
 * A UDP ASSOCIATE is granted: open its relay socket, answer with its
 * address, and relay, directly (session NULL) or through the worker
 * that accepted session.
 */
static void
client_udp_start(struct client *c, struct mux_session *session)
{
	struct sockaddr_storage	 ss;
	uint8_t			 reply[SOCKS_REPLY_MAX];
	size_t			 len;
	char			*cause;

	c->udp = udpassoc_new(c->fd, (struct sockaddr *)&c->addr, c->req.port,
	    &cause);
	if (c->udp == NULL) {
		log_warnx("client %s: %s", c->addrtext, cause);
		free(cause);
		if (session != NULL)
			mux_session_cancel(session);
		client_refuse(c, SOCKS_FAIL_FAILURE);
		return;
	}
	udpassoc_bound(c->udp, &ss);
	len = socks5_build_reply(reply, SOCKS5_SUCCEEDED,
	    (struct sockaddr *)&ss);
	if (client_send(c, reply, len) == -1) {
		if (session != NULL)
			mux_session_cancel(session);
		client_log_access(c, "aborted", 0, 0);
		client_close(c, NULL);
		return;
	}
	c->state = CLIENT_RELAYING;
	stats_tunnel_open(c->via);
	log_line(LOGC_SESSION, "UDP association of %s via %s open",
	    c->addrtext, c->via);
	udpassoc_start(c->udp, session, client_udp_done, c);
}

/*
 * A BIND's first reply: the address and port the peer is to connect to.
 * -1 when the client is gone (it has been closed).
 */
static int
client_bind_reply(struct client *c, const struct sockaddr *bound)
{
	uint8_t	reply[SOCKS_REPLY_MAX];
	size_t	len;

	if (c->req.version == SOCKS_V4)
		len = socks4_build_reply(reply, 1, bound);
	else
		len = socks5_build_reply(reply, SOCKS5_SUCCEEDED, bound);
	if (client_send(c, reply, len) == -1) {
		client_log_access(c, "aborted", 0, 0);
		client_close(c, NULL);
		return (-1);
	}
	return (0);
}

/* The BIND's peer connected (relay, the second reply naming it) or not. */
static void
client_bind_cb(int fd, const struct sockaddr *peer, enum socks_failure why,
    void *arg)
{
	struct client	*c = arg;

	c->bind = NULL;
	if (fd == -1) {
		log_line(LOGC_ERROR, "client %s: BIND for %s:%u failed: %s",
		    c->addrtext, c->req.host, c->req.port,
		    socks_failure_name(why));
		client_refuse(c, why);
		return;
	}
	client_connected(c, &stream_new(fd)->end, peer);
}

/* A direct BIND: listen where the client reached us, answer, wait. */
static void
client_bind_start(struct client *c)
{
	struct sockaddr_storage	 ss;
	char			*cause;

	sock_local(c->fd, &ss);
	c->bind = bindwait_start((struct sockaddr *)&ss, c->req.host,
	    client_bind_cb, c, &cause);
	if (c->bind == NULL) {
		log_warnx("client %s: %s", c->addrtext, cause);
		free(cause);
		client_refuse(c, SOCKS_FAIL_FAILURE);
		return;
	}
	bindwait_bound(c->bind, &ss);
	(void)client_bind_reply(c, (struct sockaddr *)&ss);
}

/*
 * The worker's BIND session: C names the peer that connected to the
 * worker (relay, the second reply naming it); R or a lost link fails.
 */
static void
client_bind_session_cb(struct mux_session *s, enum mux_event ev,
    const char *host_or_reason, const char *port, void *arg)
{
	struct client		*c = arg;
	struct sockaddr_storage	 ss;

	c->bindsession = NULL;
	mux_session_set_cb(s, NULL, NULL);
	if (ev == MUX_SESSION_CONNECTED) {
		if (sock_pton(host_or_reason, port, &ss) == -1) {
			mux_session_cancel(s);
			client_refuse(c, SOCKS_FAIL_FAILURE);
			return;
		}
		client_connected(c, mux_session_end(s),
		    (struct sockaddr *)&ss);
		return;
	}
	/* mux frees the session after this returns. */
	client_refuse(c, ev == MUX_SESSION_REJECTED ?
	    socks_failure_from_name(host_or_reason) : SOCKS_FAIL_FAILURE);
}

/* No worker can take the request: dial it ourselves, or refuse. */
static void
client_no_worker(struct client *c)
{
	int	no_worker = c->policy.no_worker;

	if (c->account == NULL || no_worker < 0)
		no_worker = cfg->no_worker;
	if (no_worker == CONF_NO_WORKER_REFUSE) {
		strlcpy(c->via, "none", sizeof(c->via));
		client_refuse(c, SOCKS_FAIL_FAILURE);
		return;
	}
	strlcpy(c->via, "direct", sizeof(c->via));
	if (c->req.cmd == SOCKS_CMD_UDP) {
		client_udp_start(c, NULL);
		return;
	}
	if (c->req.cmd == SOCKS_CMD_BIND) {
		client_bind_start(c);
		return;
	}
	c->dial = dial_start(c->req.host, c->req.port, DIAL_RULES,
	    client_dial_cb, c);
}

/* A worker answered the request (or none was left to ask). */
static void
client_pool_cb(struct end *e, enum socks_failure why,
    const struct sockaddr *bound, const char *via, void *arg)
{
	struct client		*c = arg;
	const struct tags	*t;

	c->pool = NULL;
	if (e == NULL && why == SOCKS_FAIL_NONE) {
		/* Every worker went away meanwhile: as if there were none. */
		client_no_worker(c);
		return;
	}
	if (via != NULL)
		strlcpy(c->via, via, sizeof(c->via));
	if (via != NULL && (t = pool_worker_tags(via)) != NULL && t->n > 0)
		tags_format(t, ',', c->tags, sizeof(c->tags));
	if (e == NULL) {
		log_line(LOGC_ERROR, "client %s: %s:%u via %s failed: %s",
		    c->addrtext, c->req.host, c->req.port, c->via,
		    socks_failure_name(why));
		client_refuse(c, why);
		return;
	}
	if (c->req.cmd == SOCKS_CMD_UDP) {
		client_udp_start(c, mux_session_of_end(e));
		return;
	}
	if (c->req.cmd == SOCKS_CMD_BIND) {
		/* The worker listens; its C will name the peer. */
		c->bindsession = mux_session_of_end(e);
		mux_session_set_cb(c->bindsession, client_bind_session_cb, c);
		(void)client_bind_reply(c, bound);
		return;
	}
	client_connected(c, e, bound);
}

/* CLIENT_CONNECTING begins: hand the request to a worker, or dial it. */
void
client_connect(struct client *c)
{
	char	user[LOG_ESCAPE_SIZE(sizeof(c->user))];

	/* max_sessions= of the account: its requests and tunnels at once. */
	if (c->account != NULL && c->policy.max_sessions != 0 &&
	    c->account->active >= c->policy.max_sessions) {
		stats_client_refused();
		log_line(LOGC_ERROR, "client %s: user %s refused: account %s "
		    "has %llu tunnels (max_sessions=%u)", c->addrtext,
		    log_escape(user, sizeof(user), c->user), c->account->name,
		    (unsigned long long)c->account->active,
		    c->policy.max_sessions);
		strlcpy(c->via, "none", sizeof(c->via));
		client_reply_and_close(c, SOCKS5_NOT_ALLOWED, "max_sessions");
		return;
	}
	if (c->account != NULL) {
		c->account->active++;
		c->account->total++;
		c->counted = 1;
	}
	/*
	 * Without a worker, skip the pool's loop round: dial at once.  Not
	 * with filters or a session: the pool decides whether that fails.
	 */
	if (!pool_has_worker() && !pool_want_filters(&c->want) &&
	    c->want.session[0] == '\0') {
		client_no_worker(c);
		return;
	}
	if (c->req.cmd != SOCKS_CMD_CONNECT &&
	    !pool_has_worker_for(c->req.cmd)) {
		/* Workers are there, but none carries this command. */
		strlcpy(c->via, "none", sizeof(c->via));
		client_reply_and_close(c, SOCKS5_CMD_UNSUPPORTED,
		    "unsupported");
		return;
	}
	/* It never answers before it returns (pool.h). */
	c->pool = pool_open(&c->req, &c->want, client_pool_cb, c);
}

/* Stop every client still in its handshake (shutdown). */
void
client_shutdown(void)
{
	struct client	*c, *next;

	TAILQ_FOREACH_SAFE(c, &client_all, entry, next) {
		if (c->state != CLIENT_RELAYING)
			client_close(c, "shutting down");
	}
}

/* Cut every client and tunnel at once (end of the grace time). */
void
client_abort_all(void)
{
	struct client	*c, *next;

	TAILQ_FOREACH_SAFE(c, &client_all, entry, next) {
		if (c->tunnel.relay != NULL)
			tunnel_abort(&c->tunnel, "shutdown");
		else if (c->udp != NULL)
			udpassoc_abort(c->udp, "shutdown");
		else
			client_close(c, "shutting down");
	}
}
