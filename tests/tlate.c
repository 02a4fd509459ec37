/*
 * tlate: a destination whose connects complete late, for the tests of
 * clients that leave while their request is connecting.
 *
 *   tlate [-l ADDR:PORT] -P PORTFILE -d MS [-m MODE]
 *
 * Binds like tsink, fills its accept queue so that connects to it hang
 * (their SYNs are dropped), writes the port to PORTFILE, and after MS
 * milliseconds starts accepting and serves MODE (as tsink -m: echo,
 * hold, ...).  A connect that was hanging completes at its next SYN
 * retransmission, about a second after it began on Linux.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "testlib.h"

static __dead void	tlate_usage(void);

/* Print the synopsis and exit 2. */
static __dead void
tlate_usage(void)
{
	fprintf(stderr, "usage: tlate [-l ADDR:PORT] -P PORTFILE -d MS "
	    "[-m MODE]\n");
	exit(2);
}

/* Parse the options, bind, hang connects for a while, then serve. */
int
main(int argc, char **argv)
{
	enum testlib_serve_mode	 mode = TESTLIB_SERVE_ECHO;
	const char		*spec = "127.0.0.1:0", *portfile = NULL;
	char			*cause, *end;
	uint64_t		 n = 0;
	long			 delay = -1;
	int			 ch, lfd, port;

	while ((ch = getopt(argc, argv, "d:l:m:P:")) != -1) {
		switch (ch) {
		case 'd':
			delay = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || delay < 0 ||
			    delay > 60000)
				tlate_usage();
			break;
		case 'l':
			spec = optarg;
			break;
		case 'm':
			if (testlib_serve_parse_mode(optarg, &mode, &n) == -1) {
				fprintf(stderr, "tlate: unknown mode %s\n",
				    optarg);
				tlate_usage();
			}
			break;
		case 'P':
			portfile = optarg;
			break;
		default:
			tlate_usage();
		}
	}
	if (optind != argc || portfile == NULL || delay < 0)
		tlate_usage();

	signal(SIGPIPE, SIG_IGN);
	if ((lfd = testlib_listen(spec, 0, &cause)) == -1) {
		fprintf(stderr, "tlate: %s\n", cause);
		return (1);
	}
	if ((port = testlib_local_port(lfd)) == -1) {
		perror("tlate: getsockname");
		return (1);
	}
	if (testlib_fill_accept_queue(lfd, &cause) == -1) {
		fprintf(stderr, "tlate: %s\n", cause);
		return (1);
	}
	if (testlib_write_portfile(portfile, port, &cause) == -1) {
		fprintf(stderr, "tlate: %s\n", cause);
		return (1);
	}
	testlib_sleep_ms((int)delay);
	/* A longer queue from now on, then accept everything waiting. */
	if (listen(lfd, 4096) == -1) {
		perror("tlate: listen");
		return (1);
	}
	testlib_serve(lfd, mode, n);
	return (0);
}
