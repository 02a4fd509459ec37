/*
 * Tunnel statistics by route, and the HTTP side of STATS_LISTEN.  The
 * HTTP server is deliberately small: at most STATS_CONN_MAX connections
 * at once, one GET per connection, a request of at most
 * STATS_REQUEST_MAX bytes read within STATS_TIMEOUT_MS, an HTTP/1.0
 * answer, then a polite close: our side shut down and what the client
 * still sends read and dropped (bounded), so that the close is a FIN
 * and not a reset that could cost a slow client its answer.  The
 * listener (server.c) applies STATS_ALLOW before a connection gets here.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "esocksd.h"
#include "ev.h"
#include "log.h"
#include "pool.h"
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
/* Routes beyond this many are counted together, so names cannot grow us. */
#define STATS_MAX_ROUTES	1024

struct stats_route {
	char			 name[128];
	uint64_t		 active;
	uint64_t		 total;
	uint64_t		 bytes_up;
	uint64_t		 bytes_down;
	uint64_t		 failures[SOCKS_FAIL_FAILURE + 1];
	struct stats_route	*next;
};

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
TAILQ_HEAD(stats_conn_list, stats_conn);

static struct stats_route	*stats_routes;
static size_t			 stats_nroutes;
static struct stats_conn_list	 stats_conns =
    TAILQ_HEAD_INITIALIZER(stats_conns);
static size_t			 stats_nconns;

/*
 * The counters of route via, made on first use; past STATS_MAX_ROUTES
 * new names share the route "other".
 */
static struct stats_route *
stats_route(const char *via)
{
	struct stats_route	*r;

	for (r = stats_routes; r != NULL; r = r->next)
		if (strcmp(r->name, via) == 0)
			return (r);
	if (stats_nroutes >= STATS_MAX_ROUTES)
		via = "other";
	for (r = stats_routes; r != NULL; r = r->next)
		if (strcmp(r->name, via) == 0)
			return (r);
	r = xcalloc(1, sizeof(*r));
	strlcpy(r->name, via, sizeof(r->name));
	r->next = stats_routes;
	stats_routes = r;
	stats_nroutes++;
	return (r);
}

/* A tunnel opened through via (a worker's name or "direct"). */
void
stats_tunnel_open(const char *via)
{
	struct stats_route	*r = stats_route(via);

	r->active++;
	r->total++;
}

/* A tunnel through via ended, having moved up and down bytes. */
void
stats_tunnel_done(const char *via, uint64_t up, uint64_t down)
{
	struct stats_route	*r = stats_route(via);

	if (r->active > 0)
		r->active--;
	r->bytes_up += up;
	r->bytes_down += down;
}

/* A destination could not be reached through via. */
void
stats_connect_failed(const char *via, enum socks_failure why)
{
	if (why <= SOCKS_FAIL_FAILURE)
		stats_route(via)->failures[why]++;
}

/* Append printf-style text to b. */
static void
stats_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("vasprintf");
	buf_add(b, line, n);
	free(line);
}

/* Label values are worker names: escape what the text format requires. */
static const char *
stats_label(const char *in, char *out, size_t size)
{
	size_t	o = 0;

	for (; *in != '\0' && o + 3 < size; in++) {
		if (*in == '"' || *in == '\\') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
	return (out);
}

/* Write a metric's HELP and TYPE lines. */
static void
stats_metric_head(struct buf *b, const char *name, const char *type,
    const char *help)
{
	stats_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* Render every counter in the Prometheus text exposition format. */
void
stats_render_metrics(struct buf *b)
{
	const struct {
		const char	*name, *type, *help;
		uint64_t	 value;
	} globals[] = {
		{ "esocksd_workers_registered", "gauge",
		    "Workers registered in the pool.", pool_worker_count() },
		{ "esocksd_clients_active", "gauge",
		    "SOCKS client connections open now.",
		    counters.clients_active },
		{ "esocksd_clients_accepted_total", "counter",
		    "SOCKS client connections accepted.",
		    counters.clients_accepted },
		{ "esocksd_clients_refused_total", "counter",
		    "Client connections refused by rule or cap.",
		    counters.clients_refused },
		{ "esocksd_handshake_errors_total", "counter",
		    "SOCKS handshakes that failed or timed out.",
		    counters.handshake_errors },
		{ "esocksd_link_errors_total", "counter",
		    "Worker links dropped for protocol errors or silence.",
		    counters.link_errors },
		{ "esocksd_link_reconnects_total", "counter",
		    "Worker link redials.", counters.link_reconnects },
	};
	const struct {
		const char	*name, *type, *help;
		size_t		 offset;
	} routes[] = {
		{ "esocksd_sessions_active", "gauge",
		    "Tunnels open now, by route.",
		    offsetof(struct stats_route, active) },
		{ "esocksd_sessions_total", "counter",
		    "Tunnels opened, by route.",
		    offsetof(struct stats_route, total) },
		{ "esocksd_bytes_up_total", "counter",
		    "Bytes from clients to destinations, by route.",
		    offsetof(struct stats_route, bytes_up) },
		{ "esocksd_bytes_down_total", "counter",
		    "Bytes from destinations to clients, by route.",
		    offsetof(struct stats_route, bytes_down) },
	};
	struct stats_route	*r;
	char			 l[300];
	size_t			 i;
	int			 f;

	for (i = 0; i < nitems(globals); i++) {
		stats_metric_head(b, globals[i].name, globals[i].type,
		    globals[i].help);
		stats_printf(b, "%s %llu\n", globals[i].name,
		    (unsigned long long)globals[i].value);
	}
	for (i = 0; i < nitems(routes); i++) {
		stats_metric_head(b, routes[i].name, routes[i].type,
		    routes[i].help);
		for (r = stats_routes; r != NULL; r = r->next)
			stats_printf(b, "%s{worker=\"%s\"} %llu\n",
			    routes[i].name, stats_label(r->name, l, sizeof(l)),
			    (unsigned long long)*(uint64_t *)((char *)r +
			    routes[i].offset));
	}
	stats_metric_head(b, "esocksd_connect_failures_total", "counter",
	    "Destinations not reached, by route and reason.");
	for (r = stats_routes; r != NULL; r = r->next)
		for (f = SOCKS_FAIL_DENIED; f <= SOCKS_FAIL_FAILURE; f++)
			if (r->failures[f] > 0)
				stats_printf(b, "esocksd_connect_failures_total"
				    "{worker=\"%s\",reason=\"%s\"} %llu\n",
				    stats_label(r->name, l, sizeof(l)),
				    socks_failure_name(f),
				    (unsigned long long)r->failures[f]);
}

/* Write one worker's row of /status into the buffer arg. */
static void
stats_status_row(const struct pool_info *w, void *arg)
{
	struct buf	*b = arg;
	char		 since[32] = "-";
	time_t		 t = (time_t)w->up_since;
	struct tm	 tm;

	if (w->up_since != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	stats_printf(b, "%-24.24s %-28.28s %-20s %8zu %10llu %14llu %14llu "
	    "%s%s\n", w->name, w->addr, since, w->sessions,
	    (unsigned long long)w->sessions_total,
	    (unsigned long long)w->bytes_sent,
	    (unsigned long long)w->bytes_received,
	    !w->registered ? "registering" : w->draining ? "draining" : "up",
	    w->registered && !w->esp ? " legacy" : "");
}

/* Render the human-readable table of workers. */
void
stats_render_status(struct buf *b)
{
	stats_printf(b, "esocksd %s: %zu workers registered, %llu clients, "
	    "%llu tunnels\n\n", PACKAGE_VERSION, pool_worker_count(),
	    (unsigned long long)counters.clients_active,
	    (unsigned long long)counters.tunnels_active);
	stats_printf(b, "%-24s %-28s %-20s %8s %10s %14s %14s %s\n",
	    "WORKER", "ADDRESS", "UP SINCE", "SESSIONS", "TOTAL",
	    "BYTES SENT", "BYTES RECV", "STATE");
	pool_foreach(stats_status_row, b);
}

/* Close a stats connection and free it. */
static void
stats_conn_close(struct stats_conn *c)
{
	ev_timer_stop(&c->timer);
	ev_io_del(c->fd);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	TAILQ_REMOVE(&stats_conns, c, entry);
	stats_nconns--;
	free(c);
}

/* Queue an HTTP/1.0 answer with body (consumed) and start writing it. */
static void
stats_respond(struct stats_conn *c, const char *status, const char *type,
    struct buf *body)
{
	stats_printf(&c->out, "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type,
	    buf_len(body));
	buf_add(&c->out, buf_head(body), buf_len(body));
	buf_free(body);
	c->state = STATS_WRITING;
	ev_io_remove(c->fd, EV_READ);
	ev_io_add(c->fd, EV_WRITE);
}

/*
 * The answer is out: send our FIN, then read and drop what the client
 * still sends until its EOF, STATS_DRAIN_MAX bytes or STATS_DRAIN_MS.
 * Closing with unread input would send a reset instead.
 */
static void
stats_linger(struct stats_conn *c)
{
	if (shutdown(c->fd, SHUT_WR) == -1) {
		stats_conn_close(c);
		return;
	}
	c->state = STATS_DRAINING;
	ev_io_remove(c->fd, EV_WRITE);
	ev_io_add(c->fd, EV_READ);
	ev_timer_stop(&c->timer);
	ev_timer_start(&c->timer, STATS_DRAIN_MS);
}

/* Drop what a lingering client sends; close at its EOF or the cap. */
static void
stats_drain(struct stats_conn *c)
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
	stats_conn_close(c);
}

/* Answer a complete request line: only GET of two paths exists. */
static void
stats_request(struct stats_conn *c, const char *line)
{
	struct buf	 body;
	char		 method[16], path[256];

	buf_init(&body);
	if (sscanf(line, "%15s %255s", method, path) != 2) {
		buf_add(&body, "bad request\n", 12);
		stats_respond(c, "400 Bad Request", "text/plain", &body);
		return;
	}
	if (strcmp(method, "GET") != 0) {
		buf_add(&body, "only GET\n", 9);
		stats_respond(c, "405 Method Not Allowed", "text/plain", &body);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		stats_render_metrics(&body);
		stats_respond(c, "200 OK", "text/plain; version=0.0.4", &body);
	} else if (strcmp(path, "/status") == 0) {
		stats_render_status(&body);
		stats_respond(c, "200 OK", "text/plain", &body);
	} else {
		buf_add(&body, "not found\n", 10);
		stats_respond(c, "404 Not Found", "text/plain", &body);
	}
}

/*
 * Reactor callback of a stats connection: read the request line and
 * answer it, write the answer, then drain until the close.
 */
static void
stats_io_cb(int fd, int events, void *arg)
{
	struct stats_conn	*c = arg;
	char			*line, *eol;
	ssize_t			 n;

	if (c->state == STATS_DRAINING) {
		stats_drain(c);
		return;
	}
	if (events & EV_WRITE) {
		n = buf_write_fd(&c->out, fd);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			stats_conn_close(c);
		else if (buf_len(&c->out) == 0)
			stats_linger(c);
		return;
	}
	n = buf_read_fd(&c->in, fd, STATS_REQUEST_MAX - buf_len(&c->in));
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		stats_conn_close(c);
		return;
	}
	/* The request line is enough; headers are not needed. */
	eol = memchr(buf_head(&c->in), '\n', buf_len(&c->in));
	if (eol == NULL) {
		if (buf_len(&c->in) >= STATS_REQUEST_MAX)
			stats_conn_close(c);
		return;
	}
	line = xstrndup((char *)buf_head(&c->in),
	    eol - (char *)buf_head(&c->in));
	stats_request(c, line);
	free(line);
}

/* A stats connection took too long to ask or to go: close it. */
static void
stats_timeout_cb(void *arg)
{
	stats_conn_close(arg);
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

	if (stats_nconns >= STATS_CONN_MAX) {
		log_line(LOGC_CONNECTION, "refused %s on stats: %d "
		    "connections open", sock_ntop(sa, addr, sizeof(addr)),
		    STATS_CONN_MAX);
		close(fd);
		return (-1);
	}
	stats_nconns++;
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->state = STATS_READING;
	buf_init(&c->in);
	buf_init(&c->out);
	ev_timer_init(&c->timer, stats_timeout_cb, c);
	ev_timer_start(&c->timer, STATS_TIMEOUT_MS);
	TAILQ_INSERT_TAIL(&stats_conns, c, entry);
	ev_io_set(fd, EV_READ, stats_io_cb, c);
	return (0);
}

/* Drop every stats connection and route (exit). */
void
stats_close_all(void)
{
	struct stats_conn	*c;
	struct stats_route	*r;

	while ((c = TAILQ_FIRST(&stats_conns)) != NULL)
		stats_conn_close(c);
	while ((r = stats_routes) != NULL) {
		stats_routes = r->next;
		free(r);
	}
	stats_nroutes = 0;
}
