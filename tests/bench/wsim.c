/*
 * wsim: many simulated workers in one process, for the benchmark.
 *
 *   wsim -s SERVER:PORT -n LINKS -P READYFILE [-d SECONDS]
 *
 * Opens LINKS worker links to the server's worker port and registers
 * each under its own name (sim0, sim1...) with the extended RGST and no
 * secret (PROTOCOL.md 2).  Each link then serves the sessions it is
 * given itself, as an echo destination: it answers every SOCKS connect
 * with A, sends every P body back, answers F with F and PING with 100.
 * Once every link has registered it writes "registered N SECONDS" to
 * READYFILE, and after SECONDS more (default 10) it prints
 *   links N, registered N, with_sessions N, sessions N,
 *   first_session_max_s X   (the longest any link waited, from the
 *                            moment all were registered, for its first)
 * Test code: a small poll() loop, bodies of the sizes the benchmark
 * sends, no flow control beyond what those need.
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

#include "testlib.h"
#include "xmalloc.h"

#define WSIM_BUF	(256 * 1024)

/* One simulated worker link. */
struct wsim_link {
	int		 fd;
	int		 registered;
	uint64_t	 sessions;
	uint64_t	 first_us;	/* its first SESS S, 0 before */
	size_t		 len;
	char		*in;
};

/* Write all of buf to the link (blocking: the link is ours alone). */
static int
wsim_send(struct wsim_link *l, const void *buf, size_t len)
{
	return (testlib_write_full(l->fd, buf, len));
}

/* Handle one message: header words in w[0..nw-1], its body. */
static void
wsim_message(struct wsim_link *l, char **w, int nw, const char *body,
    size_t blen)
{
	char	hdr[256];
	int	n;

	if (strcmp(w[0], "HELO") == 0) {
		n = snprintf(hdr, sizeof(hdr), "RGST 0 0 sim%d esp/1 "
		    "00112233445566778899aabbccddeeff -\r\n", l->fd);
		(void)wsim_send(l, hdr, n);
	} else if (strcmp(w[0], "100") == 0 && !l->registered) {
		l->registered = 1;
	} else if (strcmp(w[0], "PING") == 0 && nw >= 2) {
		n = snprintf(hdr, sizeof(hdr), "100 %s 0\r\n", w[1]);
		(void)wsim_send(l, hdr, n);
	} else if (strcmp(w[0], "SESS") == 0 && nw >= 5) {
		/* SESS tid len id flags ... */
		if (strchr(w[4], 'S') != NULL) {
			l->sessions++;
			if (l->first_us == 0)
				l->first_us = testlib_now_us();
			n = snprintf(hdr, sizeof(hdr), "SESS 0 0 %s A "
			    "127.0.0.1 9\r\n", w[3]);
			(void)wsim_send(l, hdr, n);
		}
		/* esbench's sink command line: not echoed by the sink. */
		if (blen >= 2 && memcmp(body, "E\n", 2) == 0) {
			body += 2;
			blen -= 2;
		}
		if (blen > 0 && (strchr(w[4], 'P') != NULL ||
		    strchr(w[4], 'S') != NULL || strchr(w[4], 'F') != NULL)) {
			n = snprintf(hdr, sizeof(hdr), "SESS 0 %zu %s P\r\n",
			    blen, w[3]);
			(void)wsim_send(l, hdr, n);
			(void)wsim_send(l, body, blen);
		}
		if (strchr(w[4], 'F') != NULL) {
			n = snprintf(hdr, sizeof(hdr), "SESS 0 0 %s F\r\n",
			    w[3]);
			(void)wsim_send(l, hdr, n);
		}
	}
}

/* Take every complete message out of the link's buffer. */
static void
wsim_parse(struct wsim_link *l)
{
	char	*nl, *w[16], *p, line[4097];
	size_t	 hlen, blen;
	int	 nw;

	for (;;) {
		if ((nl = memchr(l->in, '\n', l->len)) == NULL)
			return;
		hlen = (size_t)(nl - l->in) + 1;
		if (hlen > sizeof(line) - 1)
			hlen = sizeof(line) - 1;
		memcpy(line, l->in, hlen);
		line[hlen] = '\0';
		nw = 0;
		for (p = strtok(line, " \t\r\n"); p != NULL && nw < 16;
		    p = strtok(NULL, " \t\r\n"))
			w[nw++] = p;
		blen = nw >= 3 ? strtoul(w[2], NULL, 10) : 0;
		if (l->len < hlen + blen)
			return;
		if (nw >= 1)
			wsim_message(l, w, nw, l->in + hlen, blen);
		memmove(l->in, l->in + hlen + blen, l->len - hlen - blen);
		l->len -= hlen + blen;
	}
}

int
main(int argc, char **argv)
{
	struct wsim_link	*links;
	struct pollfd		*pfd;
	const char		*server = NULL, *ready = NULL;
	char			*cause = NULL;
	uint64_t		 all_us = 0, end_us = 0, start, sessions = 0;
	uint64_t		 worst = 0;
	double			 seconds = 10;
	FILE			*f;
	ssize_t			 r;
	int			 ch, i, n = 0, registered, with;

	while ((ch = getopt(argc, argv, "d:n:P:s:")) != -1) {
		switch (ch) {
		case 'd':
			seconds = atof(optarg);
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'P':
			ready = optarg;
			break;
		case 's':
			server = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (server == NULL || ready == NULL || n < 1 || optind != argc)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	testlib_raise_nofile();
	links = xcalloc(n, sizeof(*links));
	pfd = xcalloc(n, sizeof(*pfd));
	start = testlib_now_us();
	for (i = 0; i < n; i++) {
		if ((links[i].fd = testlib_connect(server, 10000,
		    &cause)) == -1) {
			fprintf(stderr, "wsim: link %d: %s\n", i, cause);
			return (1);
		}
		links[i].in = xmalloc(WSIM_BUF);
		pfd[i].fd = links[i].fd;
		pfd[i].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, n, 100) == -1 && errno != EINTR)
			break;
		registered = 0;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd != -1 && (pfd[i].revents & (POLLIN |
			    POLLHUP | POLLERR))) {
				r = read(links[i].fd, links[i].in +
				    links[i].len, WSIM_BUF - links[i].len);
				if (r <= 0) {
					pfd[i].fd = -1;
				} else {
					links[i].len += (size_t)r;
					wsim_parse(&links[i]);
				}
			}
			registered += links[i].registered;
		}
		if (all_us == 0 && registered == n) {
			all_us = testlib_now_us();
			end_us = all_us + (uint64_t)(seconds * 1e6);
			if ((f = fopen(ready, "w")) != NULL) {
				fprintf(f, "registered %d %.3f\n", n,
				    (all_us - start) / 1e6);
				fclose(f);
			}
		}
		if (end_us != 0 && testlib_now_us() > end_us)
			break;
		if (all_us == 0 && testlib_now_us() - start > 120000000ULL)
			break;
	}
	registered = with = 0;
	for (i = 0; i < n; i++) {
		registered += links[i].registered;
		sessions += links[i].sessions;
		if (links[i].sessions > 0) {
			with++;
			if (links[i].first_us > all_us &&
			    links[i].first_us - all_us > worst)
				worst = links[i].first_us - all_us;
		}
	}
	printf("links %d\nregistered %d\nwith_sessions %d\nsessions %llu\n"
	    "first_session_max_s %.3f\n", n, registered, with,
	    (unsigned long long)sessions, worst / 1e6);
	return (with == n ? 0 : 1);
usage:
	fprintf(stderr, "usage: wsim -s SERVER:PORT -n LINKS -P READYFILE "
	    "[-d SECONDS]\n");
	return (2);
}
