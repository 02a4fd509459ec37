/*
 * tstall: a destination for the integration tests that finishes its own
 * side at once and then stalls its reader.
 *
 *   tstall -P PORTFILE [-l ADDR:PORT] [-s MS]
 *
 * Binds (port 0 picks a free one), writes the port it got to PORTFILE
 * through a rename, and serves until killed.  Each connection gets a
 * FIN straight after accept (shutdown of the write side) and is then
 * not read for MS milliseconds (default 4000), so whatever a proxy
 * relays to it piles up in the proxy; after that it is read to EOF and
 * "bytes=N" (what arrived) is printed on stdout, one line a connection.
 * Used to keep a tunnel's upload in flight after both ends sent their
 * FIN, e.g. while a worker is told to stop.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"

#define TSTALL_MAX_CONNS	64

/* One accepted connection: when its reader wakes, what it read. */
struct tstall_conn {
	int		 fd;
	uint64_t	 wake_us;
	uint64_t	 bytes;
};

static __dead void	tstall_usage(void);

/* Print the synopsis and exit 2. */
static __dead void
tstall_usage(void)
{
	fprintf(stderr, "usage: tstall -P PORTFILE [-l ADDR:PORT] [-s MS]\n");
	exit(2);
}

/* Read what a woken connection has; returns 1 once it reached EOF. */
static int
tstall_drain(struct tstall_conn *c)
{
	static char	buf[TESTLIB_BUFSIZE];
	ssize_t		n;

	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			c->bytes += (uint64_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return (0);
		return (1);
	}
}

/* Accept, finish and stall connections; drain each after its pause. */
static void
tstall_serve(int lfd, int stall_ms)
{
	struct tstall_conn	conns[TSTALL_MAX_CONNS];
	struct pollfd		pfd[TSTALL_MAX_CONNS + 1];
	uint64_t		now;
	int			nconns = 0, i, j, timeout, wait_ms, fd;

	for (;;) {
		now = testlib_now_us();
		timeout = -1;
		pfd[0].fd = nconns < TSTALL_MAX_CONNS ? lfd : -1;
		pfd[0].events = POLLIN;
		for (i = 0; i < nconns; i++) {
			/* A stalled one is not polled: a FIN would wake us. */
			pfd[i + 1].fd = -1;
			pfd[i + 1].events = POLLIN;
			pfd[i + 1].revents = 0;
			if (conns[i].wake_us <= now) {
				pfd[i + 1].fd = conns[i].fd;
				continue;
			}
			wait_ms = (int)((conns[i].wake_us - now) / 1000) + 1;
			if (timeout == -1 || wait_ms < timeout)
				timeout = wait_ms;
		}
		if (poll(pfd, nconns + 1, timeout) == -1) {
			if (errno == EINTR)
				continue;
			perror("tstall: poll");
			exit(1);
		}
		for (i = nconns - 1; i >= 0; i--) {
			if (pfd[i + 1].fd == -1 || pfd[i + 1].revents == 0)
				continue;
			if (!tstall_drain(&conns[i]))
				continue;
			printf("bytes=%llu\n",
			    (unsigned long long)conns[i].bytes);
			fflush(stdout);
			close(conns[i].fd);
			for (j = i; j < nconns - 1; j++)
				conns[j] = conns[j + 1];
			nconns--;
		}
		if (pfd[0].fd != -1 && (pfd[0].revents & POLLIN)) {
			if ((fd = accept(lfd, NULL, NULL)) == -1)
				continue;
			if (testlib_set_nonblock(fd, 1) == -1 ||
			    shutdown(fd, SHUT_WR) == -1) {
				perror("tstall: new connection");
				close(fd);
				continue;
			}
			conns[nconns].fd = fd;
			conns[nconns].bytes = 0;
			conns[nconns].wake_us = testlib_now_us() +
			    (uint64_t)stall_ms * 1000;
			nconns++;
		}
	}
}

/* Parse the options, bind, publish the port, serve until killed. */
int
main(int argc, char **argv)
{
	const char	*spec = "127.0.0.1:0", *portfile = NULL;
	char		*cause, *end;
	long		 ms = 4000;
	int		 ch, lfd, port;

	while ((ch = getopt(argc, argv, "l:P:s:")) != -1) {
		switch (ch) {
		case 'l':
			spec = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 's':
			ms = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || ms < 0 ||
			    ms > 600000)
				tstall_usage();
			break;
		default:
			tstall_usage();
		}
	}
	if (optind != argc || portfile == NULL)
		tstall_usage();

	signal(SIGPIPE, SIG_IGN);
	if ((lfd = testlib_listen(spec, 64, &cause)) == -1) {
		fprintf(stderr, "tstall: %s\n", cause);
		return (1);
	}
	if ((port = testlib_local_port(lfd)) == -1) {
		perror("tstall: getsockname");
		return (1);
	}
	if (testlib_write_portfile(portfile, port, &cause) == -1) {
		fprintf(stderr, "tstall: %s\n", cause);
		return (1);
	}
	tstall_serve(lfd, (int)ms);
	return (0);
}
