/*
 * tsink: the destination server of the integration tests.
 *
 *   tsink [-l ADDR:PORT] -P PORTFILE [-m MODE]
 *   tsink -F [-l ADDR:PORT]
 *
 * Binds (port 0 picks a free one), writes the port it got to PORTFILE
 * through a rename, and serves until killed.  MODE is one of
 *   echo       echo back; on EOF finish echoing, shut down, close
 *   sum        read to EOF, answer "bytes=N sum=HEX\n" (as socksc -k)
 *   source:N   send N generator bytes (as socksc -G N), then close
 *   discard    read to EOF, answer "bytes=N\n"
 *   hold       accept, never read, close when the peer does
 *   bound      answer "peer=HOST:PORT\n" (the address seen), then close
 *   command    first line picks per connection: "E", "D", "S N", "H"
 *   pages:N    send N generator bytes: 64 KiB with one write, then the
 *              rest half a page at a time with sendfile(2) from separate
 *              pages of a file, so that each piece reaches the receiver
 *              as its own page fragment; one connection at a time
 *              (Linux only)
 *   blackhole  never accept, with the accept queue full, so that a
 *              connect() to the port hangs until the client gives up
 *   udpecho    a UDP socket instead: send each datagram back to where it
 *              came from, prefixed with "echo:"
 * -F prints a free port of ADDR (default 127.0.0.1), below the ephemeral
 * range, and exits.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#ifdef HAVE_SPLICE
#include <sys/sendfile.h>
#endif
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"


/* pages:N sends this much with one write first: the proxy splices. */
#define TSINK_PAGES_HEAD	(64 * 1024)

static __dead void	tsink_usage(void);

/* Print the synopsis and exit 2. */
static __dead void
tsink_usage(void)
{
	fprintf(stderr, "usage: tsink [-l ADDR:PORT] -P PORTFILE [-m MODE]\n"
	    "       tsink -F [-l ADDR:PORT]\n"
	    "modes: echo sum source:N discard hold bound command blackhole "
	    "pages:N udpecho\n");
	exit(2);
}

#ifdef HAVE_SPLICE
/*
 * Make the unlinked file that pages:N sends from: after the head, the
 * generator stream in pieces of half a page, each at the start of its own
 * page.  The head goes to *head.
 */
static int
tsink_pages_file(uint64_t n, size_t page, uint8_t *head, char **cause)
{
	struct testlib_gen	 g;
	uint8_t			*piece;
	char			 path[] = "/tmp/tsink-pages.XXXXXX";
	const char		*dir;
	char			*tmpl;
	uint64_t		 left;
	off_t			 off = 0;
	int			 fd;

	dir = getenv("TMPDIR");
	if (dir == NULL || *dir == '\0')
		tmpl = xstrdup(path);
	else
		xasprintf(&tmpl, "%s/tsink-pages.XXXXXX", dir);
	if ((fd = mkstemp(tmpl)) == -1) {
		xasprintf(cause, "mkstemp %s: %s", tmpl, strerror(errno));
		free(tmpl);
		return (-1);
	}
	(void)unlink(tmpl);
	free(tmpl);
	testlib_gen_init(&g);
	testlib_gen_fill(&g, head, n < TSINK_PAGES_HEAD ? n : TSINK_PAGES_HEAD);
	left = n > TSINK_PAGES_HEAD ? n - TSINK_PAGES_HEAD : 0;
	piece = xcalloc(1, page);
	while (left > 0) {
		size_t	len = left < page / 2 ? left : page / 2;

		testlib_gen_fill(&g, piece, len);
		if (pwrite(fd, piece, page, off) != (ssize_t)page) {
			xasprintf(cause, "pwrite: %s", strerror(errno));
			free(piece);
			close(fd);
			return (-1);
		}
		off += page;
		left -= len;
	}
	free(piece);
	return (fd);
}

/* Send one pages:N stream on a blocking socket; -1 when the peer left. */
static int
tsink_pages_send(int fd, int filefd, uint64_t n, size_t page,
    const uint8_t *head)
{
	uint64_t	left;
	off_t		off = 0;
	size_t		len;
	ssize_t		r;

	len = n < TSINK_PAGES_HEAD ? n : TSINK_PAGES_HEAD;
	if (testlib_write_full(fd, head, len) == -1)
		return (-1);
	left = n - len;
	while (left > 0) {
		len = left < page / 2 ? left : page / 2;
		while (len > 0) {
			r = sendfile(fd, filefd, &off, len);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				return (-1);
			len -= r;
			left -= r;
		}
		/* The rest of this page stays behind: next page. */
		off = (off + page - 1) / page * page;
	}
	return (0);
}

/* Serve pages:N, one connection after the other, until killed. */
static __dead void
tsink_pages_serve(int lfd, uint64_t n)
{
	uint8_t	 head[TSINK_PAGES_HEAD];
	char	*cause;
	size_t	 page;
	int	 fd, filefd;

	page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
	if ((filefd = tsink_pages_file(n, page, head, &cause)) == -1) {
		fprintf(stderr, "tsink: pages: %s\n", cause);
		exit(1);
	}
	testlib_set_nonblock(lfd, 0);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno != EINTR)
				testlib_sleep_ms(100);
			continue;
		}
		testlib_set_nonblock(fd, 0);
		(void)tsink_pages_send(fd, filefd, n, page, head);
		close(fd);
	}
}
#else
/* Without splice(2) there is no sendfile(2) either: pages:N is Linux's. */
static __dead void
tsink_pages_serve(int lfd, uint64_t n)
{
	fprintf(stderr, "tsink: pages: needs sendfile(2)\n");
	exit(1);
}
#endif

/* Print a free port of spec's address (testlib_free_port) for -F. */
static int
tsink_free_port(const char *spec)
{
	char	*host, *service, *cause;
	int	 port;

	if (testlib_split_hostport(spec, &host, &service, &cause) == -1 ||
	    (port = testlib_free_port(host, &cause)) == -1) {
		fprintf(stderr, "tsink: %s\n", cause);
		return (1);
	}
	free(host);
	free(service);
	printf("%d\n", port);
	return (fflush(stdout) == 0 ? 0 : 1);
}

/* udpecho: bind a UDP socket, publish its port, echo until killed. */
static int
tsink_udp_echo(const char *spec, const char *portfile)
{
	struct sockaddr_storage	 ss, from;
	socklen_t		 sslen, fromlen;
	uint8_t			 b[65536];
	char			*host, *port, *cause;
	ssize_t			 n;
	int			 fd;

	if (testlib_split_hostport(spec, &host, &port, &cause) == -1 ||
	    testlib_resolve(host, port, 1, &ss, &sslen, &cause) == -1) {
		fprintf(stderr, "tsink: %s\n", cause);
		return (1);
	}
	if ((fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) == -1) {
		perror("tsink: UDP socket");
		return (1);
	}
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		perror("tsink: getsockname");
		return (1);
	}
	if (testlib_write_portfile(portfile, ss.ss_family == AF_INET ?
	    ntohs(((struct sockaddr_in *)&ss)->sin_port) :
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), &cause) == -1) {
		fprintf(stderr, "tsink: %s\n", cause);
		return (1);
	}
	memcpy(b, "echo:", 5);
	for (;;) {
		fromlen = sizeof(from);
		n = recvfrom(fd, b + 5, sizeof(b) - 5, 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("tsink: recvfrom");
			return (1);
		}
		sendto(fd, b, (size_t)n + 5, 0, (struct sockaddr *)&from,
		    fromlen);
	}
}

/* Parse the options, bind, publish the port, serve until killed. */
int
main(int argc, char **argv)
{
	enum testlib_serve_mode	 mode = TESTLIB_SERVE_ECHO;
	const char		*spec = "127.0.0.1:0", *portfile = NULL;
	const char		*modename = "echo";
	char			*cause;
	uint64_t		 n = 0;
	int			 ch, lfd, port, freeport = 0, blackhole = 0;
	int			 pages = 0;

	while ((ch = getopt(argc, argv, "Fl:m:P:")) != -1) {
		switch (ch) {
		case 'F':
			freeport = 1;
			break;
		case 'l':
			spec = optarg;
			break;
		case 'm':
			modename = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		default:
			tsink_usage();
		}
	}
	if (optind != argc)
		tsink_usage();
	if (strcmp(modename, "udpecho") == 0) {
		if (portfile == NULL)
			tsink_usage();
		signal(SIGPIPE, SIG_IGN);
		return (tsink_udp_echo(spec, portfile));
	}
	if (strcmp(modename, "blackhole") == 0)
		blackhole = 1;
	else if (strncmp(modename, "pages:", 6) == 0 &&
	    testlib_parse_size(modename + 6, &n) == 0)
		pages = 1;
	else if (testlib_serve_parse_mode(modename, &mode, &n) == -1) {
		fprintf(stderr, "tsink: unknown mode %s\n", modename);
		tsink_usage();
	}
	if (!freeport && portfile == NULL)
		tsink_usage();

	signal(SIGPIPE, SIG_IGN);
	testlib_raise_nofile();
	if (freeport)
		return (tsink_free_port(spec));
	if ((lfd = testlib_listen(spec, blackhole ? 0 : 4096, &cause)) == -1) {
		fprintf(stderr, "tsink: %s\n", cause);
		return (1);
	}
	if ((port = testlib_local_port(lfd)) == -1) {
		perror("tsink: getsockname");
		return (1);
	}
	if (blackhole && testlib_fill_accept_queue(lfd, &cause) == -1) {
		fprintf(stderr, "tsink: blackhole: %s\n", cause);
		return (1);
	}
	if (testlib_write_portfile(portfile, port, &cause) == -1) {
		fprintf(stderr, "tsink: %s\n", cause);
		return (1);
	}
	if (blackhole) {
		for (;;)
			pause();
	}
	if (pages)
		tsink_pages_serve(lfd, n);
	testlib_serve(lfd, mode, n);
	return (0);
}
