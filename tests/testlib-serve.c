/*
 * The poll() server that is the body of tsink and of "esbench sink":
 * one process serving every connection in the mode it was started with
 * (echo, sum, source, discard, hold, bound, command).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"

/* One accepted connection of the test server. */
struct testlib_conn {
	int			 fd;
	enum testlib_serve_mode	 mode;
	int			 rd_eof;	/* the peer finished sending */
	int			 wr_shut;	/* we finished sending */
	uint8_t			*pend;		/* output not yet taken */
	size_t			 pendoff;
	size_t			 pendlen;
	uint64_t		 remaining;	/* SOURCE bytes still to make */
	struct testlib_gen	 gen;
	struct testlib_sum	 sum;		/* SUM hash, DISCARD count */
	char			 cmd[64];	/* COMMAND line so far */
	size_t			 cmdlen;
};

static uint8_t	testlib_scratch[TESTLIB_BUFSIZE];

/* Parse a tsink mode name: echo, sum, source:N, discard, hold, bound. */
int
testlib_serve_parse_mode(const char *s, enum testlib_serve_mode *mode,
    uint64_t *n)
{
	*n = 0;
	if (strcmp(s, "echo") == 0)
		*mode = TESTLIB_SERVE_ECHO;
	else if (strcmp(s, "sum") == 0)
		*mode = TESTLIB_SERVE_SUM;
	else if (strcmp(s, "discard") == 0)
		*mode = TESTLIB_SERVE_DISCARD;
	else if (strcmp(s, "hold") == 0)
		*mode = TESTLIB_SERVE_HOLD;
	else if (strcmp(s, "bound") == 0)
		*mode = TESTLIB_SERVE_BOUND;
	else if (strcmp(s, "command") == 0)
		*mode = TESTLIB_SERVE_COMMAND;
	else if (strncmp(s, "source:", 7) == 0 &&
	    testlib_parse_size(s + 7, n) == 0)
		*mode = TESTLIB_SERVE_SOURCE;
	else
		return (-1);
	return (0);
}

/* Close a connection; the slot is swept after the poll round. */
static void
testlib_conn_close(struct testlib_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->pend);
	c->pend = NULL;
	c->pendlen = 0;
}

/* Queue a copy of bytes the socket did not take. */
static void
testlib_conn_keep(struct testlib_conn *c, const uint8_t *p, size_t len)
{
	c->pend = xmalloc(len);
	memcpy(c->pend, p, len);
	c->pendoff = 0;
	c->pendlen = len;
}

/* Write now what the socket takes and keep the rest; -1 on error. */
static int
testlib_conn_send(struct testlib_conn *c, const uint8_t *p, size_t len)
{
	ssize_t	n;

	if ((n = write(c->fd, p, len)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return (-1);
		n = 0;
	}
	if ((size_t)n < len)
		testlib_conn_keep(c, p + n, len - n);
	return (0);
}

/* Queue a text answer (sum and discard reports, bound's peer line). */
static void
testlib_conn_answer(struct testlib_conn *c, const char *line)
{
	if (testlib_conn_send(c, (const uint8_t *)line, strlen(line)) == -1)
		testlib_conn_close(c);
}

/* Decide what happens after output drained or input ended. */
static void
testlib_conn_progress(struct testlib_conn *c)
{
	if (c->fd == -1 || c->pendlen > 0)
		return;
	switch (c->mode) {
	case TESTLIB_SERVE_ECHO:
		if (c->rd_eof) {
			shutdown(c->fd, SHUT_WR);
			testlib_conn_close(c);
		}
		break;
	case TESTLIB_SERVE_SUM:
	case TESTLIB_SERVE_DISCARD:
		if (c->wr_shut)
			testlib_conn_close(c);
		break;
	case TESTLIB_SERVE_SOURCE:
	case TESTLIB_SERVE_BOUND:
		if (c->remaining > 0)
			break;
		if (!c->wr_shut) {
			/* Half-close; read to EOF so close sends no RST. */
			shutdown(c->fd, SHUT_WR);
			c->wr_shut = 1;
		}
		if (c->rd_eof)
			testlib_conn_close(c);
		break;
	default:
		break;
	}
}

static void	testlib_conn_input(struct testlib_conn *, const uint8_t *,
		    size_t);

/* Switch a COMMAND connection to the mode its first line asks for. */
static void
testlib_conn_command(struct testlib_conn *c, const uint8_t *p, size_t len)
{
	uint8_t		*nl;
	size_t		 take;
	uint64_t	 n;

	nl = memchr(p, '\n', len);
	take = nl != NULL ? (size_t)(nl - p) + 1 : len;
	if (c->cmdlen + take >= sizeof(c->cmd)) {
		testlib_conn_close(c);
		return;
	}
	memcpy(c->cmd + c->cmdlen, p, take);
	c->cmdlen += take;
	if (nl == NULL)
		return;
	c->cmd[c->cmdlen - 1] = '\0';
	if (strcmp(c->cmd, "E") == 0)
		c->mode = TESTLIB_SERVE_ECHO;
	else if (strcmp(c->cmd, "D") == 0)
		c->mode = TESTLIB_SERVE_DISCARD;
	else if (strcmp(c->cmd, "H") == 0)
		c->mode = TESTLIB_SERVE_HOLD;
	else if (strncmp(c->cmd, "S ", 2) == 0 &&
	    testlib_parse_size(c->cmd + 2, &n) == 0) {
		c->mode = TESTLIB_SERVE_SOURCE;
		c->remaining = n;
	} else {
		testlib_conn_close(c);
		return;
	}
	if (len > take)
		testlib_conn_input(c, p + take, len - take);
}

/* Handle bytes the peer sent, according to the mode. */
static void
testlib_conn_input(struct testlib_conn *c, const uint8_t *p, size_t len)
{
	switch (c->mode) {
	case TESTLIB_SERVE_ECHO:
		if (testlib_conn_send(c, p, len) == -1)
			testlib_conn_close(c);
		break;
	case TESTLIB_SERVE_SUM:
		testlib_sum_add(&c->sum, p, len);
		break;
	case TESTLIB_SERVE_DISCARD:
		c->sum.bytes += len;
		break;
	case TESTLIB_SERVE_COMMAND:
		testlib_conn_command(c, p, len);
		break;
	default:
		/* SOURCE, BOUND: what the peer sends is dropped. */
		break;
	}
}

/* The peer finished sending. */
static void
testlib_conn_eof(struct testlib_conn *c)
{
	char	line[TESTLIB_SUMSTRLEN + 2];

	c->rd_eof = 1;
	switch (c->mode) {
	case TESTLIB_SERVE_SUM:
		testlib_sum_format(&c->sum, line, sizeof(line) - 1);
		strcat(line, "\n");
		c->wr_shut = 1;
		testlib_conn_answer(c, line);
		break;
	case TESTLIB_SERVE_DISCARD:
		snprintf(line, sizeof(line), "bytes=%" PRIu64 "\n",
		    c->sum.bytes);
		c->wr_shut = 1;
		testlib_conn_answer(c, line);
		break;
	case TESTLIB_SERVE_COMMAND:
	case TESTLIB_SERVE_HOLD:
		testlib_conn_close(c);
		return;
	default:
		break;
	}
	testlib_conn_progress(c);
}

/* Read what is there, a few buffers at most to stay fair. */
static void
testlib_conn_readable(struct testlib_conn *c)
{
	ssize_t	n;
	int	i;

	for (i = 0; i < 4 && c->fd != -1 && !c->rd_eof; i++) {
		/* Echo stops reading while its peer is not taking bytes. */
		if (c->mode == TESTLIB_SERVE_ECHO && c->pendlen > 0)
			return;
		n = read(c->fd, testlib_scratch, sizeof(testlib_scratch));
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				testlib_conn_close(c);
			return;
		}
		if (n == 0) {
			testlib_conn_eof(c);
			return;
		}
		testlib_conn_input(c, testlib_scratch, n);
		if ((size_t)n < sizeof(testlib_scratch))
			return;
	}
}

/* Flush pending output, then make more if the mode is a source. */
static void
testlib_conn_writable(struct testlib_conn *c)
{
	ssize_t	n;
	size_t	chunk;
	int	i;

	if (c->pendlen > 0) {
		n = write(c->fd, c->pend + c->pendoff, c->pendlen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				testlib_conn_close(c);
			return;
		}
		c->pendoff += n;
		c->pendlen -= n;
		if (c->pendlen > 0)
			return;
		free(c->pend);
		c->pend = NULL;
	}
	for (i = 0; i < 16 && c->remaining > 0 && c->pendlen == 0; i++) {
		chunk = sizeof(testlib_scratch);
		if (c->remaining < chunk)
			chunk = c->remaining;
		testlib_gen_fill(&c->gen, testlib_scratch, chunk);
		c->remaining -= chunk;
		if (testlib_conn_send(c, testlib_scratch, chunk) == -1) {
			testlib_conn_close(c);
			return;
		}
	}
	testlib_conn_progress(c);
}

/* Poll events a connection wants now. */
static short
testlib_conn_events(const struct testlib_conn *c)
{
	short	ev = 0;

	switch (c->mode) {
	case TESTLIB_SERVE_HOLD:
#ifdef POLLRDHUP
		return (POLLRDHUP);
#else
		return (0);
#endif
	case TESTLIB_SERVE_ECHO:
		if (!c->rd_eof && c->pendlen == 0)
			ev |= POLLIN;
		break;
	default:
		if (!c->rd_eof)
			ev |= POLLIN;
		break;
	}
	if (c->pendlen > 0 || (c->remaining > 0 && !c->wr_shut))
		ev |= POLLOUT;
	return (ev);
}

/* Set up a freshly accepted connection. */
static struct testlib_conn *
testlib_conn_new(int fd, enum testlib_serve_mode mode, uint64_t n)
{
	struct testlib_conn	*c;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			 addr[TESTLIB_ADDRSTRLEN], line[320];
	int			 one = 1;

	testlib_set_nonblock(fd, 1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->mode = mode;
	testlib_gen_init(&c->gen);
	testlib_sum_init(&c->sum);
	if (mode == TESTLIB_SERVE_SOURCE)
		c->remaining = n;
	if (mode == TESTLIB_SERVE_BOUND) {
		if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1)
			snprintf(addr, sizeof(addr), "?:?");
		else
			testlib_format_addr((struct sockaddr *)&ss, sslen,
			    addr, sizeof(addr));
		snprintf(line, sizeof(line), "peer=%s\n", addr);
		testlib_conn_answer(c, line);
		testlib_conn_progress(c);
	}
	return (c);
}

/*
 * Serve connections on a listening socket until killed: one process,
 * poll() over every connection, each behaving as mode says.
 */
void
testlib_serve(int lfd, enum testlib_serve_mode mode, uint64_t n)
{
	struct testlib_conn	**conns = NULL;
	struct pollfd		 *pfds = NULL;
	size_t			  nconns = 0, cap = 0, i, j;
	uint64_t		  paused_until = 0;
	int			  fd, timeout, k;

	testlib_set_nonblock(lfd, 1);
	for (;;) {
		if (cap < nconns + 1) {
			cap = cap == 0 ? 64 : cap * 2;
			conns = xreallocarray(conns, cap, sizeof(*conns));
			pfds = xreallocarray(pfds, cap + 1, sizeof(*pfds));
		}
		timeout = -1;
		pfds[0].fd = lfd;
		pfds[0].events = POLLIN;
		if (paused_until != 0) {
			if (testlib_now_us() < paused_until) {
				pfds[0].fd = -1;
				timeout = 100;
			} else
				paused_until = 0;
		}
		for (i = 0; i < nconns; i++) {
			pfds[i + 1].fd = conns[i]->fd;
			pfds[i + 1].events = testlib_conn_events(conns[i]);
			pfds[i + 1].revents = 0;
		}
		if (poll(pfds, nconns + 1, timeout) == -1) {
			if (errno == EINTR)
				continue;
			perror("poll");
			exit(1);
		}
		for (i = 0; i < nconns; i++) {
			struct testlib_conn	*c = conns[i];
			short			 re = pfds[i + 1].revents;

			if (re == 0 || c->fd == -1)
				continue;
			if (c->mode == TESTLIB_SERVE_HOLD) {
				testlib_conn_close(c);
				continue;
			}
			if (re & (POLLIN | POLLHUP | POLLERR))
				testlib_conn_readable(c);
			if (c->fd != -1 &&
			    (re & (POLLOUT | POLLERR | POLLHUP)))
				testlib_conn_writable(c);
			if (c->fd != -1 && (re & POLLNVAL))
				testlib_conn_close(c);
		}
		/* Sweep closed connections, keeping the order. */
		for (i = j = 0; i < nconns; i++) {
			if (conns[i]->fd == -1)
				free(conns[i]);
			else
				conns[j++] = conns[i];
		}
		nconns = j;
		if (!(pfds[0].revents & POLLIN))
			continue;
		for (k = 0; k < 64; k++) {
			if ((fd = accept(lfd, NULL, NULL)) == -1) {
				if (errno == EMFILE || errno == ENFILE ||
				    errno == ENOBUFS || errno == ENOMEM)
					paused_until = testlib_now_us() +
					    100000;
				break;
			}
			if (nconns == cap) {
				cap *= 2;
				conns = xreallocarray(conns, cap,
				    sizeof(*conns));
				pfds = xreallocarray(pfds, cap + 1,
				    sizeof(*pfds));
			}
			conns[nconns] = testlib_conn_new(fd, mode, n);
			if (conns[nconns]->fd == -1)
				free(conns[nconns]);
			else
				nconns++;
		}
	}
}
