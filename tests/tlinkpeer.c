/*
 * tlinkpeer: a scripted peer on a worker link.  By default it plays a
 * server to a worker (tests/t-sec-fake-server.sh); with -c it plays a
 * worker to a server (tests/t-pool-drain-race.sh).
 *
 *   tlinkpeer [-l ADDR:PORT] -P PORTFILE -s SCRIPT [-A ACCEPTLOG] [-T LOG]
 *   tlinkpeer -c ADDR:PORT -s SCRIPT [-T LOG]
 *
 * Without -c it binds (port 0 picks a free one), writes the port it got
 * to PORTFILE, and serves every connection the same SCRIPT until killed.
 * With -c it connects to ADDR:PORT, runs SCRIPT on that one connection,
 * answers the server's PING <tid> 0 (tid not 0) with 100 <tid> 0 as an
 * esp/1 worker must, and exits 0 once the connection is closed.
 *
 * SCRIPT's lines are sent as they are, each ended by CR LF, with $1 to
 * $9 replaced by the words of the line the last @expect matched, except
 * these commands:
 *   @wait       wait until the peer has sent one more line (its RGST, say)
 *   @expect W.. wait until the peer sends a line whose first words are
 *               W.., where the word * matches any word
 *   @until F    wait until file F exists (the test says when)
 *   @file F     send the bytes of file F as they are (a flood, say)
 *   @close      close the connection now
 * After the script a connection is read and discarded until the peer
 * closes it.  Bodies are read as lines too: the scripts' peers send none
 * that matter.  With -A, one line per accepted connection is appended to
 * ACCEPTLOG: the milliseconds since tlinkpeer started.  With -T, every
 * line the peer sent is appended to LOG, without its CR LF.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

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
#define TLINKPEER_LINE_MAX	4096
#define TLINKPEER_MAX_WORDS	16

enum tlinkpeer_step_kind {
	TLINKPEER_SEND,
	TLINKPEER_WAIT,
	TLINKPEER_EXPECT,
	TLINKPEER_UNTIL,
	TLINKPEER_FILE,
	TLINKPEER_CLOSE
};

struct tlinkpeer_step {
	enum tlinkpeer_step_kind kind;
	char			*text;		/* the line (CR LF added when
						   sent), the words to expect,
						   or the file */
};

struct tlinkpeer_conn {
	int	fd;
	int	step;		/* next step of the script */
	struct tlinkpeer_step *waiting;	/* the @wait, @expect or @until
					   holding the script, or NULL */
	char	line[TLINKPEER_LINE_MAX];	/* the peer's partial line */
	size_t	len;
	char	matched[TLINKPEER_LINE_MAX];	/* what @expect last matched */
};

static struct tlinkpeer_step	steps[TLINKPEER_MAX_STEPS];
static int			nsteps;
static struct tlinkpeer_conn	conns[TLINKPEER_MAX_CONNS];
static int			transcript = -1;	/* -T's descriptor */
static int			playing_worker;		/* -c */

static __dead void	tlinkpeer_usage(void);

/* Print the synopsis and exit 2. */
static __dead void
tlinkpeer_usage(void)
{
	fprintf(stderr, "usage: tlinkpeer [-l ADDR:PORT] -P PORTFILE "
	    "-s SCRIPT [-A ACCEPTLOG] [-T LOG]\n"
	    "       tlinkpeer -c ADDR:PORT -s SCRIPT [-T LOG]\n");
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
		} else if (strncmp(line, "@expect ", 8) == 0) {
			steps[nsteps].kind = TLINKPEER_EXPECT;
			steps[nsteps].text = xstrdup(line + 8);
		} else if (strncmp(line, "@until ", 7) == 0) {
			steps[nsteps].kind = TLINKPEER_UNTIL;
			steps[nsteps].text = xstrdup(line + 7);
		} else {
			steps[nsteps].kind = TLINKPEER_SEND;
			steps[nsteps].text = xstrdup(line);
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

/* Split s in place into its space-separated words; how many there are. */
static int
tlinkpeer_words(char *s, char **words, int max)
{
	char	*w;
	int	 n = 0;

	while (n < max && (w = strsep(&s, " ")) != NULL) {
		if (*w != '\0')
			words[n++] = w;
	}
	return (n);
}

/* Tell whether line starts with pattern's words, * matching any word. */
static int
tlinkpeer_matches(const char *pattern, const char *line)
{
	char	 pbuf[TLINKPEER_LINE_MAX], lbuf[TLINKPEER_LINE_MAX];
	char	*pw[TLINKPEER_MAX_WORDS], *lw[TLINKPEER_MAX_WORDS];
	int	 np, nl, i;

	strlcpy(pbuf, pattern, sizeof(pbuf));
	strlcpy(lbuf, line, sizeof(lbuf));
	np = tlinkpeer_words(pbuf, pw, TLINKPEER_MAX_WORDS);
	nl = tlinkpeer_words(lbuf, lw, TLINKPEER_MAX_WORDS);
	if (nl < np)
		return (0);
	for (i = 0; i < np; i++) {
		if (strcmp(pw[i], "*") != 0 && strcmp(pw[i], lw[i]) != 0)
			return (0);
	}
	return (1);
}

/*
 * The line to send for text: $1 to $9 replaced by the words of the line
 * the last @expect matched (empty past its end), CR LF added.
 */
static void
tlinkpeer_expand(const struct tlinkpeer_conn *c, const char *text,
    char *out, size_t size)
{
	char	 mbuf[TLINKPEER_LINE_MAX];
	char	*mw[TLINKPEER_MAX_WORDS];
	int	 nm, k;
	size_t	 len = 0;

	strlcpy(mbuf, c->matched, sizeof(mbuf));
	nm = tlinkpeer_words(mbuf, mw, TLINKPEER_MAX_WORDS);
	out[0] = '\0';
	for (; *text != '\0' && len + 3 < size; text++) {
		if (text[0] == '$' && text[1] >= '1' && text[1] <= '9') {
			k = *++text - '1';
			if (k < nm)
				len = strlcat(out, mw[k], size - 2);
			continue;
		}
		out[len++] = *text;
		out[len] = '\0';
	}
	strlcat(out, "\r\n", size);
}

/* Close a connection; playing a worker, that is the end. */
static void
tlinkpeer_close(struct tlinkpeer_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->waiting = NULL;
}

/* Run a connection's script until it must wait or is done. */
static void
tlinkpeer_run(struct tlinkpeer_conn *c)
{
	struct tlinkpeer_step	*s;
	struct stat		 sb;
	char			 out[TLINKPEER_LINE_MAX];

	if (c->waiting != NULL && c->waiting->kind == TLINKPEER_UNTIL &&
	    stat(c->waiting->text, &sb) == 0)
		c->waiting = NULL;
	while (c->fd != -1 && c->waiting == NULL && c->step < nsteps) {
		s = &steps[c->step++];
		switch (s->kind) {
		case TLINKPEER_SEND:
			/* A few short lines: the socket has room for them. */
			tlinkpeer_expand(c, s->text, out, sizeof(out));
			if (write(c->fd, out, strlen(out)) == -1)
				tlinkpeer_close(c);
			break;
		case TLINKPEER_WAIT:
		case TLINKPEER_EXPECT:
			c->waiting = s;
			break;
		case TLINKPEER_UNTIL:
			if (stat(s->text, &sb) == -1)
				c->waiting = s;
			break;
		case TLINKPEER_FILE:
			if (tlinkpeer_send_file(c->fd, s->text) == -1)
				tlinkpeer_close(c);
			break;
		case TLINKPEER_CLOSE:
			tlinkpeer_close(c);
			break;
		}
	}
}

/*
 * One line from the peer: log it, answer a server's PING when playing a
 * worker, and let it end a @wait or a @expect it matches.
 */
static void
tlinkpeer_line(struct tlinkpeer_conn *c, const char *line)
{
	char	 buf[TLINKPEER_LINE_MAX], out[TLINKPEER_LINE_MAX];
	char	*w[TLINKPEER_MAX_WORDS];
	int	 n;

	if (transcript != -1) {
		(void)snprintf(out, sizeof(out), "%s\n", line);
		(void)write(transcript, out, strlen(out));
	}
	strlcpy(buf, line, sizeof(buf));
	n = tlinkpeer_words(buf, w, TLINKPEER_MAX_WORDS);
	if (playing_worker && n == 3 && strcmp(w[0], "PING") == 0 &&
	    strcmp(w[1], "0") != 0) {
		snprintf(out, sizeof(out), "100 %s 0\r\n", w[1]);
		if (write(c->fd, out, strlen(out)) == -1) {
			tlinkpeer_close(c);
			return;
		}
	}
	if (c->waiting == NULL)
		return;
	if (c->waiting->kind == TLINKPEER_WAIT)
		c->waiting = NULL;
	else if (c->waiting->kind == TLINKPEER_EXPECT &&
	    tlinkpeer_matches(c->waiting->text, line)) {
		strlcpy(c->matched, line, sizeof(c->matched));
		c->waiting = NULL;
	}
	if (c->waiting == NULL)
		tlinkpeer_run(c);
}

/* Read what the peer sent, line by line; EOF ends the connection. */
static void
tlinkpeer_read(struct tlinkpeer_conn *c)
{
	ssize_t	 n;
	size_t	 i, start;

	n = read(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		tlinkpeer_close(c);
		return;
	}
	c->len += n;
	start = 0;
	for (i = 0; i < c->len && c->fd != -1; i++) {
		if (c->line[i] != '\n')
			continue;
		c->line[i] = '\0';
		if (i > start && c->line[i - 1] == '\r')
			c->line[i - 1] = '\0';
		tlinkpeer_line(c, c->line + start);
		start = i + 1;
	}
	if (c->fd == -1)
		return;
	memmove(c->line, c->line + start, c->len - start);
	c->len -= start;
	if (c->len == sizeof(c->line) - 1) {
		/* No line end in a whole buffer: take it as one line. */
		c->line[c->len] = '\0';
		c->len = 0;
		tlinkpeer_line(c, c->line);
	}
}

/* Start a connection's script on fd. */
static void
tlinkpeer_start(struct tlinkpeer_conn *c, int fd)
{
	c->fd = fd;
	c->step = 0;
	c->waiting = NULL;
	c->len = 0;
	c->matched[0] = '\0';
	tlinkpeer_run(c);
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
	tlinkpeer_start(&conns[i], fd);
}

/*
 * Serve the connections their script: until killed when listening on
 * lfd, until the one connection is closed when playing a worker (lfd is
 * -1).  A script held by @until is looked at ten times a second.
 */
static __dead void
tlinkpeer_serve(int lfd, int logfd)
{
	struct pollfd	pfd[TLINKPEER_MAX_CONNS + 1];
	int		map[TLINKPEER_MAX_CONNS + 1];
	uint64_t	start = tlinkpeer_now_ms();
	int		i, n, timeout;

	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		n = 1;
		timeout = -1;
		for (i = 0; i < TLINKPEER_MAX_CONNS; i++) {
			if (conns[i].fd == -1)
				continue;
			if (conns[i].waiting != NULL &&
			    conns[i].waiting->kind == TLINKPEER_UNTIL)
				timeout = 100;
			pfd[n].fd = conns[i].fd;
			pfd[n].events = POLLIN;
			map[n++] = i;
		}
		if (lfd == -1 && n == 1)
			exit(0);
		if (poll(pfd, n, timeout) == -1) {
			if (errno != EINTR)
				testlib_sleep_ms(100);
			continue;
		}
		for (i = 1; i < n; i++) {
			if (pfd[i].revents != 0)
				tlinkpeer_read(&conns[map[i]]);
			if (conns[map[i]].fd != -1)
				tlinkpeer_run(&conns[map[i]]);
		}
		if (lfd != -1 && (pfd[0].revents & POLLIN))
			tlinkpeer_accept(lfd, logfd, start);
	}
}

/* Parse the options, bind or connect, and serve until done. */
int
main(int argc, char **argv)
{
	const char	*spec = "127.0.0.1:0", *portfile = NULL;
	const char	*script = NULL, *acceptlog = NULL, *server = NULL;
	const char	*log = NULL;
	char		*cause;
	int		 ch, i, fd, lfd, port, logfd = -1;

	while ((ch = getopt(argc, argv, "A:c:l:P:s:T:")) != -1) {
		switch (ch) {
		case 'A':
			acceptlog = optarg;
			break;
		case 'c':
			server = optarg;
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
		case 'T':
			log = optarg;
			break;
		default:
			tlinkpeer_usage();
		}
	}
	if (optind != argc || script == NULL ||
	    (server == NULL) == (portfile == NULL) ||
	    (server != NULL && acceptlog != NULL))
		tlinkpeer_usage();
	tlinkpeer_load(script);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < TLINKPEER_MAX_CONNS; i++)
		conns[i].fd = -1;
	if (log != NULL && (transcript = open(log,
	    O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1) {
		fprintf(stderr, "tlinkpeer: %s: %s\n", log, strerror(errno));
		return (1);
	}
	if (server != NULL) {
		if ((fd = testlib_connect(server, 10000, &cause)) == -1) {
			fprintf(stderr, "tlinkpeer: %s\n", cause);
			return (1);
		}
		playing_worker = 1;
		tlinkpeer_start(&conns[0], fd);
		tlinkpeer_serve(-1, -1);
	}
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
