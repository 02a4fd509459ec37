/*
 * HTTP proxy clients on the SOCKS port.  client.c hands a client here
 * when its first byte is an ASCII letter (and HTTP_PROXY is on); this
 * file reads the request header (http.c parses it), answers what will
 * not be served, and turns the rest into the same request a SOCKS
 * CONNECT makes, so it takes the same way from there: CLIENT_ALLOW and
 * the caps before it, the pool or a direct dial under DEST_ALLOW and
 * DEST_DENY, one tunnel, the same counters and access line.  What
 * differs is said here: the replies (200, or a short error and close)
 * and, for an absolute-form request, the header the origin gets and the
 * end of the body, after which the client's bytes are dropped.
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

#include "auth.h"
#include "cfg.h"
#include "client-int.h"
#include "compat.h"
#include "http.h"
#include "log.h"
#include "stats.h"
#include "stream.h"
#include "xmalloc.h"

/* At most this much is read and dropped before an error reply's close. */
#define CLIENT_HTTP_DRAIN_MAX	(64 * 1024)

/* What an HTTP client needs beyond struct client. */
struct client_http {
	size_t			 scanned;	/* header bytes searched */
	struct http_request	 req;
	char			*head;		/* the header for the origin */
	size_t			 headlen;
	struct http_body	 body;		/* where the body ends */
	int			 dropped;	/* bytes after it were dropped */
};

/* Free the HTTP part of a client (client_free). */
void
client_http_free(struct client *c)
{
	free(c->http->head);
	explicit_bzero(c->http, sizeof(*c->http));
	free(c->http);
	c->http = NULL;
}

/* The cmd= word of an HTTP client's access line. */
const char *
client_http_cmd_name(const struct client *c)
{
	return (c->http->req.connect ? "connect" : "http");
}

/* The status reporting a failed connect, from its SOCKS5 reply. */
int
client_http_status(enum socks5_reply rep)
{
	switch (rep) {
	case SOCKS5_NOT_ALLOWED:
		return (403);
	case SOCKS5_TTL_EXPIRED:
		return (504);
	default:
		return (502);
	}
}

/*
 * Read and drop what the client has sent beyond what was parsed, so the
 * close after an error reply sends FIN rather than a reset that could
 * destroy the reply before the client reads it.
 */
static void
client_http_drain(struct client *c)
{
	char	scratch[4096];
	size_t	total = 0;
	ssize_t	n;

	while (total < CLIENT_HTTP_DRAIN_MAX &&
	    (n = read(c->fd, scratch, sizeof(scratch))) > 0)
		total += n;
}

/* Answer with an error status and close. */
static void
client_http_reply_and_close(struct client *c, int status)
{
	char	reply[HTTP_REPLY_MAX];
	size_t	len;

	len = http_build_reply(reply, sizeof(reply), status);
	(void)client_send(c, reply, len);
	client_http_drain(c);
	(void)shutdown(c->fd, SHUT_WR);
	client_close(c, NULL);
}

/* A bad request: count and log it, answer status, close. */
static enum client_state
client_http_fail(struct client *c, int status, const char *why)
{
	stats_handshake_error();
	log_line(LOGC_ERROR, "client %s: HTTP %d: %s", c->addrtext, status,
	    why);
	client_http_reply_and_close(c, status);
	return (CLIENT_CLOSED);
}

/* Make the parsed request the one client.c connects and logs. */
static void
client_http_take(struct client *c)
{
	const struct http_request	*req = &c->http->req;
	struct in_addr			 in4;

	memset(&c->req, 0, sizeof(c->req));
	c->req.cmd = SOCKS_CMD_CONNECT;
	if (strchr(req->host, ':') != NULL)
		c->req.atyp = SOCKS_ATYP_IPV6;
	else if (inet_pton(AF_INET, req->host, &in4) == 1)
		c->req.atyp = SOCKS_ATYP_IPV4;
	else
		c->req.atyp = SOCKS_ATYP_DOMAIN;
	strlcpy(c->req.host, req->host, sizeof(c->req.host));
	c->req.port = req->port;
}

/* The password check is over: connect, or answer 407 (503 if busy). */
static void
client_http_password_cb(enum auth_result result, void *arg)
{
	struct client	*c = arg;

	c->auth = NULL;
	if (client_password_result(c, result) == -1) {
		client_http_reply_and_close(c, result == AUTH_BUSY ? 503 : 407);
		return;
	}
	/* Bytes sent meanwhile wait in c->in, as in CLIENT_CONNECTING. */
	c->state = CLIENT_CONNECTING;
	ev_timer_stop(&c->timer);
	client_connect(c);
}

/*
 * The request is complete: read the parameters of its user name, check
 * its Basic credentials against PASSWORD_FILE under AUTH=password (in
 * the job pool, as SOCKS5's are), and say the next state.  A client
 * without credentials is asked for them with 407, which browsers expect
 * before they send any: logged as a close, not an error.
 */
static enum client_state
client_http_login(struct client *c)
{
	struct http_request	*req = &c->http->req;

	/*
	 * The user name carries parameters (BASE-tag-eu-session-x) as a
	 * SOCKS5 one does, under either AUTH; one the codec refuses is
	 * answered as a failed login.
	 */
	if (req->has_auth) {
		strlcpy(c->user, req->user, sizeof(c->user));
		if (client_parse_user(c, c->user) == -1) {
			explicit_bzero(req->pass, sizeof(req->pass));
			client_http_reply_and_close(c, 407);
			return (CLIENT_CLOSED);
		}
	}
	if (cfg->auth != CONF_AUTH_PASSWORD) {
		explicit_bzero(req->pass, sizeof(req->pass));
		ev_timer_stop(&c->timer);
		return (CLIENT_CONNECTING);
	}
	if (!req->has_auth) {
		log_line(LOGC_CONNECTION, "closing %s: HTTP 407: no "
		    "credentials", c->addrtext);
		client_http_reply_and_close(c, 407);
		return (CLIENT_CLOSED);
	}
	/* BASE is the account.  The answer comes from the loop later. */
	c->auth = auth_check(c->param.base, req->pass,
	    client_http_password_cb, c);
	explicit_bzero(req->pass, sizeof(req->pass));
	return (CLIENT_AUTH_CHECK);
}

/*
 * CLIENT_HTTP: wait for the whole header, then refuse it, or go on to
 * check the client's credentials and connect what it asks for.
 */
enum client_state
client_http_on_request(struct client *c)
{
	struct client_http	*h;
	struct http_error	 err;
	enum http_parse		 r;
	const uint8_t		*p = buf_head(&c->in);
	size_t			 len = buf_len(&c->in), used;

	if (c->http == NULL)
		c->http = xcalloc(1, sizeof(*c->http));
	h = c->http;
	/* Search only the new bytes, however the header dribbles in. */
	if (len < HTTP_HEADER_MAX && http_header_end(p, len, h->scanned) == 0) {
		h->scanned = len;
		return (CLIENT_HTTP);
	}
	r = http_parse_request(p, len, &used, &h->req, &err);
	if (r == HTTP_PARSE_NEED)
		return (CLIENT_HTTP);
	if (r == HTTP_PARSE_ERROR)
		return (client_http_fail(c, err.status, err.why));
	if (!h->req.connect) {
		/* The origin's header, while the client's is at hand. */
		h->head = xmalloc(HTTP_REWRITE_SIZE(used));
		h->headlen = http_rewrite(p, &h->req, h->head,
		    HTTP_REWRITE_SIZE(used));
		if (h->headlen == 0)
			return (client_http_fail(c, 400, "header too long"));
		http_body_init(&h->body, &h->req);
	}
	client_http_take(c);
	/*
	 * Bytes after the header stay in c->in: a CONNECT tunnel's first
	 * bytes, or the start of a request's body.
	 */
	buf_drain(&c->in, used);
	return (client_http_login(c));
}

/*
 * Keep what belongs to the request body of the bytes len the client
 * sent; drop the rest (a pipelined request, perhaps for another origin:
 * one connection never mixes origins).  -1 for a broken chunked body.
 */
static ssize_t
client_http_body(struct client *c, const void *data, size_t len)
{
	struct client_http	*h = c->http;
	ssize_t			 n;

	n = http_body_scan(&h->body, data, len);
	if (n == -1) {
		log_line(LOGC_ERROR, "client %s: HTTP request to %s:%u: bad "
		    "chunked body", c->addrtext, c->req.host, c->req.port);
		return (-1);
	}
	if ((size_t)n < len && !h->dropped) {
		h->dropped = 1;
		log_line(LOGC_CONNECTION, "client %s: dropping bytes after "
		    "the request to %s:%u", c->addrtext, c->req.host,
		    c->req.port);
	}
	return (n);
}

/* The stream's filter: what the client sends once the tunnel runs. */
static ssize_t
client_http_filter_cb(const void *data, size_t len, void *arg)
{
	return (client_http_body(arg, data, len));
}

/*
 * The destination answered: the reply for the client (its length in
 * out, at most outsize) as client.c starts the tunnel on cs.  For an
 * absolute-form request there is none: the origin's header goes first,
 * then what the client sent of the body, and the stream passes on only
 * the rest of the body.
 */
size_t
client_http_reply(struct client *c, struct stream *cs, uint8_t *out,
    size_t outsize)
{
	struct client_http	*h = c->http;
	struct buf		 early;
	ssize_t			 n;

	if (h->req.connect)
		return (http_build_reply((char *)out, outsize, 200));
	buf_init(&early);
	buf_add(&early, h->head, h->headlen);
	n = client_http_body(c, buf_head(&c->in), buf_len(&c->in));
	if (n > 0)
		buf_add(&early, buf_head(&c->in), n);
	buf_free(&c->in);
	c->in = early;
	stream_set_filter(cs, client_http_filter_cb, c);
	return (0);
}

/*
 * The tunnel has started: end it at once if the body the client sent
 * early was already broken (the stream's filter says so for later
 * bytes).
 */
void
client_http_started(struct client *c)
{
	if (http_body_scan(&c->http->body, NULL, 0) == -1)
		tunnel_abort(&c->tunnel, "bad-request");
}
