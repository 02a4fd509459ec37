/*
 * tlinkpeer: a scripted peer on a worker link, for the tests that play a
 * hostile server to a worker (tests/t-sec-fake-server.sh).
 *
 *   tlinkpeer [-l ADDR:PORT] -P PORTFILE -s SCRIPT [-A ACCEPTLOG]
 *
 * Binds (port 0 picks a free one), writes the port it got to PORTFILE,
 * and serves every connection the same SCRIPT until killed.  SCRIPT's
 * lines are sent as they are, each ended by CR LF, except three commands:
 *   @wait     wait until the peer has sent one more line (its RGST, say)
 *   @file F   send the bytes of file F as they are (a flood, say)
 *   @close    close the connection now
 * After the script a connection is read and discarded until the peer
 * closes it.  With -A, one line per accepted connection is appended to
 * ACCEPTLOG: the milliseconds since tlinkpeer started.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "xmalloc.h"
#include "testlib.h"

#define TLINKPEER_MAX_CONNS	256
#define TLINKPEER_MAX_STEPS	64

enum tlinkpeer_step_kind {
	TLINKPEER_SEND,
	TLINKPEER_WAIT,
	TLINKPEER_FILE,
	TLINKPEER_CLOSE
};

struct tlinkpeer_step {
	enum tlinkpeer_step_kind kind;
	char			*text;		/* the line, CR LF ended, or
						   the file to send */
};

struct tlinkpeer_conn {
	int	fd;
	int	step;		/* next step of the script */
	int	waiting;	/* for a line from the peer */
};

static struct tlinkpeer_step	steps[TLINKPEER_MAX_STEPS];
static int			nsteps;
static struct tlinkpeer_conn	conns[TLINKPEER_MAX_CONNS];

static __dead void	tlinkpeer_usage(void);

/* Print the synopsis and exit 2. */
static __dead void
tlinkpeer_usage(void)
{
	fprintf(stderr, "usage: tlinkpeer [-l ADDR:PORT] -P PORTFILE "
	    "-s SCRIPT [-A ACCEPTLOG]\n");
	exit(2);
}

/* Milliseconds on the monotonic clock. */
static uint64_t
tlinkpeer_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Read the script into steps; exit 1 on a bad one. */
static void
tlinkpeer_load(const char *path)
{
	FILE	*f;
	char	 line[4096];
	size_t	 len;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "tlinkpeer: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (nsteps == TLINKPEER_MAX_STEPS) {
			fprintf(stderr, "tlinkpeer: %s: too long\n", path);
			exit(1);
		}
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (strcmp(line, "@wait") == 0)
			steps[nsteps].kind = TLINKPEER_WAIT;
		else if (strcmp(line, "@close") == 0)
			steps[nsteps].kind = TLINKPEER_CLOSE;
		else if (strncmp(line, "@file ", 6) == 0) {
			steps[nsteps].kind = TLINKPEER_FILE;
			steps[nsteps].text = xstrdup(line + 6);
		} else {
			steps[nsteps].kind = TLINKPEER_SEND;
			xasprintf(&steps[nsteps].text, "%s\r\n", line);
		}
		nsteps++;
	}
	fclose(f);
}

/* Send a whole file, blocking until the peer took it; -1 on error. */
static int
tlinkpeer_send_file(int fd, const char *path)
{
	char	buf[TESTLIB_BUFSIZE];
	ssize_t	n;
	int	ffd, rc = 0;

	if ((ffd = open(path, O_RDONLY)) == -1) {
		fprintf(stderr, "tlinkpeer: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while (rc == 0 && (n = read(ffd, buf, sizeof(buf))) > 0)
		rc = testlib_write_full(fd, buf, n);
	close(ffd);
	return (rc);
}

/* Run a connection's script until it must wait or is done. */
static void
tlinkpeer_run(struct tlinkpeer_conn *c)
{
	struct tlinkpeer_step	*s;

	while (c->fd != -1 && !c->waiting && c->step < nsteps) {
		s = &steps[c->step++];
		switch (s->kind) {
		case TLINKPEER_SEND:
			/* A few short lines: the socket has room for them. */
			if (write(c->fd, s->text, strlen(s->text)) == -1) {
				close(c->fd);
				c->fd = -1;
			}
			break;
		case TLINKPEER_WAIT:
			c->waiting = 1;
			break;
		case TLINKPEER_FILE:
			if (tlinkpeer_send_file(c->fd, s->text) == -1) {
				close(c->fd);
				c->fd = -1;
			}
			break;
		case TLINKPEER_CLOSE:
			close(c->fd);
			c->fd = -1;
			break;
		}
	}
}

/* Read what the peer sent; a line ends a wait, EOF the connection. */
static void
tlinkpeer_read(struct tlinkpeer_conn *c)
{
	char	buf[4096];
	ssize_t	n;

	n = read(c->fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	if (c->waiting && memchr(buf, '\n', n) != NULL) {
		c->waiting = 0;
		tlinkpeer_run(c);
	}
}

/* Take a new connection, note it in the accept log, start its script. */
static void
tlinkpeer_accept(int lfd, int logfd, uint64_t start)
{
	char	line[32];
	int	fd, i, n;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return;
	for (i = 0; i < TLINKPEER_MAX_CONNS; i++)
		if (conns[i].fd == -1)
			break;
	if (i == TLINKPEER_MAX_CONNS) {
		close(fd);
		return;
	}
	if (logfd != -1) {
		n = snprintf(line, sizeof(line), "%llu\n",
		    (unsigned long long)(tlinkpeer_now_ms() - start));
		(void)write(logfd, line, n);
	}
	conns[i].fd = fd;
	conns[i].step = 0;
	conns[i].waiting = 0;
	tlinkpeer_run(&conns[i]);
}

/* Serve every connection its script until killed. */
static __dead void
tlinkpeer_serve(int lfd, int logfd)
{
	struct pollfd	pfd[TLINKPEER_MAX_CONNS + 1];
	int		map[TLINKPEER_MAX_CONNS + 1];
	uint64_t	start = tlinkpeer_now_ms();
	int		i, n;

	for (i = 0; i < TLINKPEER_MAX_CONNS; i++)
		conns[i].fd = -1;
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		n = 1;
		for (i = 0; i < TLINKPEER_MAX_CONNS; i++) {
			if (conns[i].fd == -1)
				continue;
			pfd[n].fd = conns[i].fd;
			pfd[n].events = POLLIN;
			map[n++] = i;
		}
		if (poll(pfd, n, -1) == -1) {
			if (errno != EINTR)
				testlib_sleep_ms(100);
			continue;
		}
		for (i = 1; i < n; i++)
			if (pfd[i].revents != 0)
				tlinkpeer_read(&conns[map[i]]);
		if (pfd[0].revents & POLLIN)
			tlinkpeer_accept(lfd, logfd, start);
	}
}

/* Parse the options, bind, publish the port, serve until killed. */
int
main(int argc, char **argv)
{
	const char	*spec = "127.0.0.1:0", *portfile = NULL;
	const char	*script = NULL, *acceptlog = NULL;
	char		*cause;
	int		 ch, lfd, port, logfd = -1;

	while ((ch = getopt(argc, argv, "A:l:P:s:")) != -1) {
		switch (ch) {
		case 'A':
			acceptlog = optarg;
			break;
		case 'l':
			spec = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 's':
			script = optarg;
			break;
		default:
			tlinkpeer_usage();
		}
	}
	if (optind != argc || portfile == NULL || script == NULL)
		tlinkpeer_usage();
	tlinkpeer_load(script);
	signal(SIGPIPE, SIG_IGN);
	if (acceptlog != NULL && (logfd = open(acceptlog,
	    O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1) {
		fprintf(stderr, "tlinkpeer: %s: %s\n", acceptlog,
		    strerror(errno));
		return (1);
	}
	if ((lfd = testlib_listen(spec, 128, &cause)) == -1) {
		fprintf(stderr, "tlinkpeer: %s\n", cause);
		return (1);
	}
	if ((port = testlib_local_port(lfd)) == -1) {
		perror("tlinkpeer: getsockname");
		return (1);
	}
	if (testlib_write_portfile(portfile, port, &cause) == -1) {
		fprintf(stderr, "tlinkpeer: %s\n", cause);
		return (1);
	}
	tlinkpeer_serve(lfd, logfd);
}
