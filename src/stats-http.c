/*
 * The HTTP side of STATS_LISTEN, deliberately small: at most
 * STATS_CONN_MAX connections at once, one GET per connection, a request
 * of at most STATS_REQUEST_MAX bytes read within STATS_TIMEOUT_MS, an
 * HTTP/1.0 answer rendered by stats.c, then a polite close: our side
 * shut down and what the client still sends read and dropped (bounded),
 * so that the close is a FIN and not a reset that could cost a slow
 * client its answer.  The listener (server.c) applies STATS_ALLOW, then
 * hands the connection to stats_accept.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "ev.h"
#include "log.h"
#include "sock.h"
#include "stats.h"
#include "xmalloc.h"

#define STATS_REQUEST_MAX	4096
#define STATS_TIMEOUT_MS	5000
/* Each connection holds a descriptor for up to STATS_TIMEOUT_MS. */
#define STATS_CONN_MAX		16
/* After the answer: drop at most this much input for at most this long. */
#define STATS_DRAIN_MAX		65536
#define STATS_DRAIN_MS		2000

enum stats_conn_state {
	STATS_READING,		/* the request line */
	STATS_WRITING,		/* the answer */
	STATS_DRAINING		/* our side shut, dropping the client's rest */
};

struct stats_conn {
	int			 fd;
	enum stats_conn_state	 state;
	struct buf		 in;
	struct buf		 out;
	size_t			 drained;
	struct ev_timer		 timer;
	TAILQ_ENTRY(stats_conn)	 entry;
};
TAILQ_HEAD(stats_http_list, stats_conn);

static struct stats_http_list	stats_http_conns =
    TAILQ_HEAD_INITIALIZER(stats_http_conns);
static size_t			stats_http_nconns;

/* Close a stats connection and free it. */
static void
stats_http_close(struct stats_conn *c)
{
	ev_timer_stop(&c->timer);
	ev_io_del(c->fd);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	TAILQ_REMOVE(&stats_http_conns, c, entry);
	stats_http_nconns--;
	free(c);
}

/* Queue an HTTP/1.0 answer with body (consumed) and start writing it. */
static void
stats_http_respond(struct stats_conn *c, const char *status, const char *type,
    struct buf *body)
{
	char	head[256];
	int	len;

	len = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: %s"
	    "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
	    type, buf_len(body));
	if (len < 0 || (size_t)len >= sizeof(head))
		fatalx("stats_http_respond: header too long");
	buf_add(&c->out, head, len);
	buf_add(&c->out, buf_head(body), buf_len(body));
	buf_free(body);
	c->state = STATS_WRITING;
	ev_io_disable(c->fd, EV_READ);
	ev_io_enable(c->fd, EV_WRITE);
}

/*
 * The answer is out: send our FIN, then read and drop what the client
 * still sends until its EOF, STATS_DRAIN_MAX bytes or STATS_DRAIN_MS.
 * Closing with unread input would send a reset instead.
 */
static void
stats_http_linger(struct stats_conn *c)
{
	if (shutdown(c->fd, SHUT_WR) == -1) {
		stats_http_close(c);
		return;
	}
	c->state = STATS_DRAINING;
	ev_io_disable(c->fd, EV_WRITE);
	ev_io_enable(c->fd, EV_READ);
	ev_timer_stop(&c->timer);
	ev_timer_start(&c->timer, STATS_DRAIN_MS);
}

/* Drop what a lingering client sends; close at its EOF or the cap. */
static void
stats_http_drain(struct stats_conn *c)
{
	char	scratch[4096];
	ssize_t	n;

	for (;;) {
		n = read(c->fd, scratch, sizeof(scratch));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		c->drained += (size_t)n;
		if (c->drained >= STATS_DRAIN_MAX)
			break;
	}
	stats_http_close(c);
}

/* Serve the worker's pages rather than the server's. */
static int	stats_http_worker;

/* The role whose pages to serve: a worker's (1) or a server's. */
void
stats_http_set_worker(int worker)
{
	stats_http_worker = worker;
}

/*
 * Answer a complete request line: only GET of two paths exists, /status
 * also as JSON (?format=json).
 */
static void
stats_http_request(struct stats_conn *c, const char *line)
{
	struct buf	 body;
	char		 method[16], path[256], *query;
	int		 json = 0;

	buf_init(&body);
	if (sscanf(line, "%15s %255s", method, path) != 2) {
		buf_add(&body, "bad request\n", 12);
		stats_http_respond(c, "400 Bad Request", "text/plain", &body);
		return;
	}
	if (strcmp(method, "GET") != 0) {
		buf_add(&body, "only GET\n", 9);
		stats_http_respond(c, "405 Method Not Allowed", "text/plain",
		    &body);
		return;
	}
	if ((query = strchr(path, '?')) != NULL) {
		*query++ = '\0';
		json = strcmp(query, "format=json") == 0;
	}
	if (strcmp(path, "/metrics") == 0) {
		if (stats_http_worker)
			stats_render_worker_metrics(&body);
		else
			stats_render_metrics(&body);
		stats_http_respond(c, "200 OK", "text/plain; version=0.0.4",
		    &body);
	} else if (strcmp(path, "/status") == 0) {
		if (stats_http_worker)
			stats_render_worker_status(&body, json);
		else if (json)
			stats_render_status_json(&body);
		else
			stats_render_status(&body);
		stats_http_respond(c, "200 OK", json ? "application/json" :
		    "text/plain", &body);
	} else {
		buf_add(&body, "not found\n", 10);
		stats_http_respond(c, "404 Not Found", "text/plain", &body);
	}
}

/*
 * Reactor callback of a stats connection: read the request line and
 * answer it, write the answer, then drain until the close.
 */
static void
stats_http_io_cb(int fd, int events, void *arg)
{
	struct stats_conn	*c = arg;
	char			*line, *eol;
	ssize_t			 n;

	if (c->state == STATS_DRAINING) {
		stats_http_drain(c);
		return;
	}
	if (events & EV_WRITE) {
		n = buf_write_fd(&c->out, fd);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			stats_http_close(c);
		else if (buf_len(&c->out) == 0)
			stats_http_linger(c);
		return;
	}
	n = buf_read_fd(&c->in, fd, STATS_REQUEST_MAX - buf_len(&c->in));
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		stats_http_close(c);
		return;
	}
	/* The request line is enough; headers are not needed. */
	eol = memchr(buf_head(&c->in), '\n', buf_len(&c->in));
	if (eol == NULL) {
		if (buf_len(&c->in) >= STATS_REQUEST_MAX)
			stats_http_close(c);
		return;
	}
	line = xstrndup((char *)buf_head(&c->in),
	    eol - (char *)buf_head(&c->in));
	stats_http_request(c, line);
	free(line);
}

/* A stats connection took too long to ask or to go: close it. */
static void
stats_http_timeout_cb(void *arg)
{
	stats_http_close(arg);
}

/*
 * A connection to STATS_LISTEN, already allowed by STATS_ALLOW.  Past
 * STATS_CONN_MAX at once it is closed at once and -1 returned, so that
 * idle readers cannot take the descriptors the SOCKS clients need.
 */
int
stats_accept(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct stats_conn	*c;
	char			 addr[SOCK_ADDRSTRLEN];

	if (stats_http_nconns >= STATS_CONN_MAX) {
		log_line(LOGC_CONNECTION, "refused %s on stats: %d "
		    "connections open", sock_ntop(sa, addr, sizeof(addr)),
		    STATS_CONN_MAX);
		close(fd);
		return (-1);
	}
	stats_http_nconns++;
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->state = STATS_READING;
	buf_init(&c->in);
	buf_init(&c->out);
	ev_timer_init(&c->timer, stats_http_timeout_cb, c);
	ev_timer_start(&c->timer, STATS_TIMEOUT_MS);
	TAILQ_INSERT_TAIL(&stats_http_conns, c, entry);
	ev_io_set(fd, EV_READ, stats_http_io_cb, c);
	return (0);
}

/* Drop every stats connection (exit). */
void
stats_http_close_all(void)
{
	struct stats_conn	*c;

	while ((c = TAILQ_FIRST(&stats_http_conns)) != NULL)
		stats_http_close(c);
}
