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
};

/* Free the HTTP part of a client (client_free). */
void
client_http_free(struct client *c)
{
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

/*
 * CLIENT_HTTP: wait for the whole header, then refuse it, or go on to
 * connect what it asks for.
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
	if (!h->req.connect)
		return (client_http_fail(c, 400, "not a CONNECT request"));
	client_http_take(c);
	/* Bytes after a CONNECT header stay in c->in: the tunnel's first. */
	buf_drain(&c->in, used);

	if (cfg->auth == CONF_AUTH_PASSWORD) {
		log_line(LOGC_CONNECTION, "closing %s: HTTP 407",
		    c->addrtext);
		client_http_reply_and_close(c, 407);
		return (CLIENT_CLOSED);
	}
	ev_timer_stop(&c->timer);
	return (CLIENT_CONNECTING);
}

/*
 * The destination answered: the reply for the client (its length in
 * out, at most outsize) as client.c starts the tunnel on cs.
 */
size_t
client_http_reply(struct client *c, struct stream *cs, uint8_t *out,
    size_t outsize)
{
	(void)cs;
	(void)c;
	return (http_build_reply((char *)out, outsize, 200));
}
