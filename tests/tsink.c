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
 *   blackhole  never accept, with the accept queue full, so that a
 *              connect() to the port hangs until the client gives up
 * -F prints a free port of ADDR (default 127.0.0.1), below the ephemeral
 * range, and exits.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
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

#define TSINK_BLACKHOLE_TRIES	16
#define TSINK_PROBE_MS		300

static __dead void	tsink_usage(void);

/* Print the synopsis and exit 2. */
static __dead void
tsink_usage(void)
{
	fprintf(stderr, "usage: tsink [-l ADDR:PORT] -P PORTFILE [-m MODE]\n"
	    "       tsink -F [-l ADDR:PORT]\n"
	    "modes: echo sum source:N discard hold bound command blackhole\n");
	exit(2);
}

/*
 * Make a listener whose connects hang: with backlog 0 the kernel queues
 * one connection and then drops SYNs while nobody accepts.  Connect to
 * ourselves until a connect no longer completes within TSINK_PROBE_MS,
 * keeping the completed ones open so the queue stays full.
 */
static int
tsink_blackhole(int lfd, char **cause)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			*why = NULL;
	int			 i, fd;

	if (getsockname(lfd, (struct sockaddr *)&ss, &sslen) == -1) {
		xasprintf(cause, "getsockname: %s", strerror(errno));
		return (-1);
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			sin6->sin6_addr = in6addr_loopback;
	}
	for (i = 0; i < TSINK_BLACKHOLE_TRIES; i++) {
		fd = testlib_connect_addr((struct sockaddr *)&ss, sslen,
		    TSINK_PROBE_MS, &why);
		if (fd == -1) {
			/* It hangs (ETIMEDOUT): that is what we want. */
			if (errno == ETIMEDOUT) {
				free(why);
				return (0);
			}
			xasprintf(cause, "self-connect: %s", why);
			free(why);
			return (-1);
		}
		/* Completed: it fills the queue; keep it open. */
	}
	xasprintf(cause, "connects still complete after %d tries",
	    TSINK_BLACKHOLE_TRIES);
	return (-1);
}

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
	if (strcmp(modename, "blackhole") == 0)
		blackhole = 1;
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
	if (blackhole && tsink_blackhole(lfd, &cause) == -1) {
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
	testlib_serve(lfd, mode, n);
	return (0);
}
