/*
 * tflood: a connection flood for the integration tests.
 *
 *   tflood -t HOST:PORT -n CONNS -d SECONDS [-b SRCADDR] [-p MS] [-s LINE]
 *
 * Keeps CONNS connections to HOST:PORT open for SECONDS, each one
 * redialed as soon as it is closed or its connect fails (after MS
 * milliseconds, default 0), from SRCADDR when -b gives one.  It sends
 * nothing (or, with -s, LINE and CR LF once connected) and discards
 * whatever arrives: an idle peer, as a worker that never registers or a
 * client that never speaks, or one whose one line gets it closed.  At the end, or on
 * SIGTERM, it prints one line on stdout:
 *	connects=N closed=N failed=N open_max=N
 * (connections established, closed by the peer, connects that failed,
 * most open at once).
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

enum tflood_state {
	TFLOOD_IDLE,		/* waiting to dial */
	TFLOOD_CONNECTING,
	TFLOOD_OPEN
};

struct tflood_slot {
	int			 fd;
	enum tflood_state	 state;
	uint64_t		 dial_at;	/* testlib_now_us() */
};

static volatile sig_atomic_t	tflood_stop;

static __dead void	tflood_usage(void);

/* Print the synopsis and exit 2. */
static __dead void
tflood_usage(void)
{
	fprintf(stderr, "usage: tflood -t HOST:PORT -n CONNS -d SECONDS "
	    "[-b SRCADDR] [-p MS] [-s LINE]\n");
	exit(2);
}

/* SIGTERM: finish the round and print the counts. */
static void
tflood_sigterm(int sig)
{
	tflood_stop = 1;
}

/* Resolve "HOST:PORT" (or a bare host with port 0) or exit 2. */
static void
tflood_resolve(const char *spec, int want_port, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	char	*host, *port, *cause;

	if (want_port) {
		if (testlib_split_hostport(spec, &host, &port, &cause) != 0) {
			fprintf(stderr, "tflood: %s\n", cause);
			exit(2);
		}
	} else {
		host = xstrdup(spec);
		port = xstrdup("0");
	}
	if (testlib_resolve(host, port, 0, ss, sslen, &cause) != 0) {
		fprintf(stderr, "tflood: %s\n", cause);
		exit(2);
	}
	free(host);
	free(port);
}

/*
 * Start a non-blocking connect for a slot; returns 0, or -1 when it
 * failed at once (the slot is then idle again).
 */
static int
tflood_dial(struct tflood_slot *s, const struct sockaddr_storage *to,
    socklen_t tolen, const struct sockaddr_storage *from, socklen_t fromlen)
{
	int	fd;

	if ((fd = socket(to->ss_family, SOCK_STREAM, 0)) == -1)
		return (-1);
	if (testlib_set_nonblock(fd, 1) == -1 || (fromlen > 0 &&
	    bind(fd, (const struct sockaddr *)from, fromlen) == -1)) {
		close(fd);
		return (-1);
	}
	if (connect(fd, (const struct sockaddr *)to, tolen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return (-1);
	}
	s->fd = fd;
	s->state = TFLOOD_CONNECTING;
	return (0);
}

/* Close a slot's connection and schedule its next dial. */
static void
tflood_drop(struct tflood_slot *s, int pause_ms)
{
	close(s->fd);
	s->fd = -1;
	s->state = TFLOOD_IDLE;
	s->dial_at = testlib_now_us() + (uint64_t)pause_ms * 1000;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage	 to, from;
	socklen_t		 tolen = 0, fromlen = 0;
	struct tflood_slot	*slots;
	struct pollfd		*pfd;
	struct sigaction	 sa;
	const char		*target = NULL, *source = NULL, *errstr;
	char			*line = NULL;
	size_t			 linelen = 0;
	unsigned long long	 connects = 0, closed = 0, failed = 0;
	uint64_t		 end, now;
	char			 buf[4096];
	int			 ch, n = 0, seconds = 0, pause_ms = 0;
	int			 i, nopen, open_max = 0, err;
	socklen_t		 errlen;
	ssize_t			 got;

	while ((ch = getopt(argc, argv, "b:d:n:p:s:t:")) != -1) {
		switch (ch) {
		case 'b':
			source = optarg;
			break;
		case 'd':
			seconds = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				tflood_usage();
			break;
		case 'n':
			n = strtonum(optarg, 1, 60000, &errstr);
			if (errstr != NULL)
				tflood_usage();
			break;
		case 'p':
			pause_ms = strtonum(optarg, 0, 60000, &errstr);
			if (errstr != NULL)
				tflood_usage();
			break;
		case 's':
			free(line);
			linelen = (size_t)xasprintf(&line, "%s\r\n", optarg);
			break;
		case 't':
			target = optarg;
			break;
		default:
			tflood_usage();
		}
	}
	if (target == NULL || n <= 0 || seconds <= 0 || optind != argc)
		tflood_usage();
	tflood_resolve(target, 1, &to, &tolen);
	if (source != NULL)
		tflood_resolve(source, 0, &from, &fromlen);
	testlib_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tflood_sigterm;
	sigaction(SIGTERM, &sa, NULL);

	slots = xcalloc(n, sizeof(*slots));
	pfd = xcalloc(n, sizeof(*pfd));
	for (i = 0; i < n; i++)
		slots[i].fd = -1;
	end = testlib_now_us() + (uint64_t)seconds * 1000000;
	while (!tflood_stop && (now = testlib_now_us()) < end) {
		nopen = 0;
		for (i = 0; i < n; i++) {
			if (slots[i].state == TFLOOD_IDLE &&
			    slots[i].dial_at <= now &&
			    tflood_dial(&slots[i], &to, tolen, &from,
			    fromlen) == -1) {
				failed++;
				slots[i].dial_at = now + 10000 +
				    (uint64_t)pause_ms * 1000;
			}
			pfd[i].fd = slots[i].fd;
			pfd[i].events = slots[i].state == TFLOOD_CONNECTING ?
			    POLLOUT : POLLIN;
			pfd[i].revents = 0;
			if (slots[i].state == TFLOOD_OPEN)
				nopen++;
		}
		if (nopen > open_max)
			open_max = nopen;
		if (poll(pfd, (nfds_t)n, 10) == -1 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (slots[i].state == TFLOOD_CONNECTING) {
				err = 0;
				errlen = sizeof(err);
				getsockopt(slots[i].fd, SOL_SOCKET, SO_ERROR,
				    &err, &errlen);
				if (err != 0) {
					failed++;
					tflood_drop(&slots[i], pause_ms);
				} else {
					connects++;
					slots[i].state = TFLOOD_OPEN;
					/* A short line: the socket takes it. */
					if (line != NULL)
						(void)write(slots[i].fd, line,
						    linelen);
				}
				continue;
			}
			got = read(slots[i].fd, buf, sizeof(buf));
			if (got > 0 || (got == -1 && (errno == EAGAIN ||
			    errno == EINTR)))
				continue;
			closed++;
			tflood_drop(&slots[i], pause_ms);
		}
	}
	printf("connects=%llu closed=%llu failed=%llu open_max=%d\n",
	    connects, closed, failed, open_max);
	return (0);
}
