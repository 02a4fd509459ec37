/*
 * socksc: the SOCKS client the integration tests drive esocksd with.
 *
 *   socksc -x PROXY:PORT -t DEST:PORT [-v 4|4a|5] [-U user:pass] [-a]
 *          [-s MS] [-c] [-e EARLY] [-g BYTES | -H] [-k] [-w SECONDS] [-n]
 *   socksc -x PROXY:PORT -t DEST:PORT -R rst|finrst|fin [-v 4|4a|5]
 *          [-U user:pass] [-a] [-e EARLY] [-w SECONDS]
 *   socksc -x PROXY:PORT -t DEST:PORT -p COUNT [-v 4|4a|5] [-U user:pass]
 *          [-a] [-w SECONDS]
 *   socksc -D -t DEST:PORT [-e EARLY] [-g BYTES | -H] [-k] [-w SECONDS]
 *          [-n]
 *   socksc -G BYTES [-k]
 *
 * After the handshake it prints one line to stderr: "reply=0xNN
 * bound=HOST:PORT" for the request's reply, "method=0xff" when the
 * proxy accepts none of the offered methods, "auth=0xNN" when RFC 1929
 * fails.  Then it relays like netcat (stdin to the tunnel, the tunnel to
 * stdout, half-close both ways), or sends generator bytes (-g) and/or
 * prints "bytes=N sum=HEX" of what it received (-k).  -H sends nothing
 * and keeps its side open, ending when the tunnel's EOF arrives (for
 * idle-timeout and reload tests).  -D skips SOCKS.
 *
 * SOCKS5 sends a numeric host as ATYP 1 or 4 and a name as ATYP 3 (-a:
 * always 3); -U offers only method 2 (RFC 1929).  SOCKS4a always sends
 * 0.0.0.1 and the host text; SOCKS4 resolves a name here (IPv4 only).
 * For 4 and 4a the user part of -U is the USERID.  -s MS writes the
 * handshake a byte at a time with pauses; -c writes greeting, request
 * and -e EARLY at once without waiting for the method reply.
 *
 * -R sends the whole handshake and -e EARLY at once and then leaves
 * before the request's reply: "rst" reads the method choice (and RFC
 * 1929 status), waits 100 ms and closes with a reset (SO_LINGER 0);
 * "finrst" half-closes first, then does the same; "fin" half-closes
 * and stays, printing the reply line and then what the tunnel sends.
 *
 * -p COUNT measures the tunnel's latency to an echo destination: COUNT
 * one-byte round trips 50 ms apart, then "rtt_max_ms=N rtt_avg_ms=N"
 * on stdout.
 *
 * Exit: 0 tunnel and data phase ok, 2 usage, 3 refused by the proxy,
 * 4 connection or I/O error (or the proxy closed during the handshake),
 * 5 overall deadline (-w, default 30 s) passed.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"

#define SOCKSC_OK		0
#define SOCKSC_USAGE		2
#define SOCKSC_REFUSED		3
#define SOCKSC_IOERR		4
#define SOCKSC_TIMEOUT		5

static __dead void	socksc_usage(void);

/* Print the synopsis and exit with the usage status. */
static __dead void
socksc_usage(void)
{
	fprintf(stderr,
	    "usage: socksc -x PROXY:PORT -t DEST:PORT [-v 4|4a|5] "
	    "[-U user:pass] [-a]\n"
	    "              [-s MS] [-c] [-e EARLY] [-g BYTES | -H] [-k] "
	    "[-w SECONDS] [-n]\n"
	    "       socksc -x PROXY:PORT -t DEST:PORT -R rst|finrst|fin "
	    "[-v 4|4a|5]\n"
	    "              [-U user:pass] [-a] [-e EARLY] [-w SECONDS]\n"
	    "       socksc -x PROXY:PORT -t DEST:PORT -p COUNT [-v 4|4a|5] "
	    "[-U user:pass]\n"
	    "              [-a] [-w SECONDS]\n"
	    "       socksc -D -t DEST:PORT [-e EARLY] [-g BYTES | -H] [-k] "
	    "[-w SECONDS] [-n]\n"
	    "       socksc -G BYTES [-k]\n");
	exit(SOCKSC_USAGE);
}

/* The overall deadline: nothing to clean up, so leave at once. */
static void
socksc_alarm(int sig)
{
	static const char msg[] = "socksc: timeout\n";

	(void)write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(SOCKSC_TIMEOUT);
}

/* Arm the deadline; 0 seconds means none. */
static void
socksc_deadline(double seconds)
{
	struct sigaction	sa;
	struct itimerval	it;

	if (seconds <= 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = socksc_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)seconds;
	it.it_value.tv_usec = (suseconds_t)((seconds -
	    (double)it.it_value.tv_sec) * 1e6);
	if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* socksc -G: the generator's first n bytes, or their checksum. */
static int
socksc_generate(uint64_t n, int checksum)
{
	static uint8_t		buf[TESTLIB_BUFSIZE];
	struct testlib_gen	gen;
	struct testlib_sum	sum;
	char			line[TESTLIB_SUMSTRLEN];
	size_t			k;

	testlib_gen_init(&gen);
	testlib_sum_init(&sum);
	while (n > 0) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		testlib_gen_fill(&gen, buf, k);
		if (checksum)
			testlib_sum_add(&sum, buf, k);
		else if (testlib_write_full(STDOUT_FILENO, buf, k) == -1) {
			perror("socksc: stdout");
			return (SOCKSC_IOERR);
		}
		n -= k;
	}
	if (checksum) {
		testlib_sum_format(&sum, line, sizeof(line));
		printf("%s\n", line);
	}
	return (fflush(stdout) == 0 ? SOCKSC_OK : SOCKSC_IOERR);
}

/* Does this errno just mean "not now"? */
static int
socksc_transient(void)
{
	return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}

/*
 * The data phase.  Upload comes from stdin or the generator, download
 * goes to stdout or the checksum; each side's EOF is passed on as a
 * half-close, and we finish once both directions have ended.  With
 * hold there is no upload and no half-close: the tunnel's EOF ends it.
 */
static int
socksc_relay(int fd, int use_gen, uint64_t genbytes, int hold, int checksum)
{
	static uint8_t		 up[TESTLIB_BUFSIZE], down[TESTLIB_BUFSIZE];
	struct pollfd		 pfd[3];
	struct testlib_gen	 gen;
	struct testlib_sum	 sum;
	char			 line[TESTLIB_SUMSTRLEN];
	size_t			 upoff = 0, uplen = 0, downoff = 0;
	size_t			 downlen = 0, k;
	int			 in_eof = 0, up_shut = 0, down_eof = 0;
	ssize_t			 n;

	testlib_gen_init(&gen);
	testlib_sum_init(&sum);
	if (testlib_set_nonblock(fd, 1) == -1) {
		perror("socksc: fcntl");
		return (SOCKSC_IOERR);
	}
	for (;;) {
		if (use_gen && uplen == 0 && !in_eof) {
			if (genbytes == 0)
				in_eof = 1;
			else {
				k = genbytes < sizeof(up) ? genbytes :
				    sizeof(up);
				testlib_gen_fill(&gen, up, k);
				upoff = 0;
				uplen = k;
				genbytes -= k;
			}
		}
		if (hold && !up_shut) {
			in_eof = 1;
			up_shut = 1;
		}
		if (in_eof && uplen == 0 && !up_shut) {
			if (shutdown(fd, SHUT_WR) == -1 && errno != ENOTCONN) {
				perror("socksc: shutdown");
				return (SOCKSC_IOERR);
			}
			up_shut = 1;
		}
		if (up_shut && down_eof && downlen == 0)
			break;

		pfd[0].fd = fd;
		pfd[0].events = 0;
		if (uplen > 0)
			pfd[0].events |= POLLOUT;
		if (!down_eof && downlen == 0)
			pfd[0].events |= POLLIN;
		if (pfd[0].events == 0)
			pfd[0].fd = -1;		/* no spinning on HUP */
		pfd[1].fd = -1;
		pfd[1].events = POLLIN;
		if (!use_gen && !in_eof && uplen == 0)
			pfd[1].fd = STDIN_FILENO;
		pfd[2].fd = downlen > 0 ? STDOUT_FILENO : -1;
		pfd[2].events = POLLOUT;
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			perror("socksc: poll");
			return (SOCKSC_IOERR);
		}

		if (pfd[0].revents != 0 && (pfd[0].events & POLLIN)) {
			n = read(fd, down, sizeof(down));
			if (n == 0)
				down_eof = 1;
			else if (n > 0 && checksum)
				testlib_sum_add(&sum, down, n);
			else if (n > 0) {
				downoff = 0;
				downlen = n;
			} else if (!socksc_transient()) {
				perror("socksc: tunnel read");
				return (SOCKSC_IOERR);
			}
		}
		if (pfd[0].revents != 0 && (pfd[0].events & POLLOUT)) {
			n = write(fd, up + upoff, uplen);
			if (n > 0) {
				upoff += n;
				uplen -= n;
			} else if (n == -1 && !socksc_transient()) {
				perror("socksc: tunnel write");
				return (SOCKSC_IOERR);
			}
		}
		if (pfd[1].revents & POLLNVAL)
			in_eof = 1;
		else if (pfd[1].revents != 0) {
			n = read(STDIN_FILENO, up, sizeof(up));
			if (n == 0)
				in_eof = 1;
			else if (n > 0) {
				upoff = 0;
				uplen = n;
			} else if (!socksc_transient()) {
				perror("socksc: stdin");
				return (SOCKSC_IOERR);
			}
		}
		if (pfd[2].revents != 0) {
			n = write(STDOUT_FILENO, down + downoff, downlen);
			if (n > 0) {
				downoff += n;
				downlen -= n;
			} else if (n == -1 && !socksc_transient()) {
				perror("socksc: stdout");
				return (SOCKSC_IOERR);
			}
		}
	}
	if (checksum) {
		testlib_sum_format(&sum, line, sizeof(line));
		printf("%s\n", line);
		if (fflush(stdout) != 0)
			return (SOCKSC_IOERR);
	}
	return (SOCKSC_OK);
}

/* socksc -p: count one-byte round trips through an echo; print RTTs. */
static int
socksc_ping(int fd, long count)
{
	uint64_t	start, rtt, max = 0, sum = 0;
	uint8_t		c;
	long		i;

	for (i = 0; i < count; i++) {
		c = (uint8_t)i;
		start = testlib_now_us();
		if (testlib_write_full(fd, &c, 1) == -1) {
			perror("socksc: ping write");
			return (SOCKSC_IOERR);
		}
		if (testlib_read_full(fd, &c, 1) != 1) {
			fprintf(stderr, "socksc: ping %ld: no echo\n", i);
			return (SOCKSC_IOERR);
		}
		if (c != (uint8_t)i) {
			fprintf(stderr, "socksc: ping %ld: echo 0x%02x\n", i,
			    c);
			return (SOCKSC_IOERR);
		}
		rtt = testlib_now_us() - start;
		sum += rtt;
		if (rtt > max)
			max = rtt;
		testlib_sleep_ms(50);
	}
	printf("rtt_max_ms=%llu rtt_avg_ms=%llu\n",
	    (unsigned long long)(max / 1000),
	    (unsigned long long)(count > 0 ? sum / count / 1000 : 0));
	return (fflush(stdout) == 0 ? SOCKSC_OK : SOCKSC_IOERR);
}

/* How a client started with -R leaves before the request's reply. */
enum socksc_leave {
	SOCKSC_STAY,		/* no -R: the ordinary handshake */
	SOCKSC_LEAVE_RST,	/* reset at once */
	SOCKSC_LEAVE_FINRST,	/* half-close, then reset */
	SOCKSC_LEAVE_FIN	/* half-close, then read the tunnel to EOF */
};

/*
 * socksc -R: send the handshake and leave as asked.  The reset comes
 * 100 ms after the method choice so the proxy has read the request.
 */
static int
socksc_leave(int fd, const struct testlib_socks *sc, enum socksc_leave how)
{
	struct testlib_socks_result	 res;
	enum testlib_socks_status	 st;
	struct linger			 lg;
	char				*cause = NULL;

	if (testlib_socks_send_request(fd, sc, &cause) == -1) {
		fprintf(stderr, "socksc: %s\n", cause);
		return (SOCKSC_IOERR);
	}
	if (how != SOCKSC_LEAVE_RST && shutdown(fd, SHUT_WR) == -1) {
		perror("socksc: shutdown");
		return (SOCKSC_IOERR);
	}
	st = testlib_socks_read_replies(fd, sc, how == SOCKSC_LEAVE_FIN,
	    &res, &cause);
	if (st == TESTLIB_SOCKS_ERROR) {
		fprintf(stderr, "socksc: %s\n", cause);
		return (SOCKSC_IOERR);
	}
	if (how == SOCKSC_LEAVE_FIN) {
		fprintf(stderr, "reply=0x%02x bound=%s\n", res.code,
		    res.bound);
		if (st == TESTLIB_SOCKS_REFUSED)
			return (SOCKSC_REFUSED);
		return (socksc_relay(fd, 0, 0, 1, 0));
	}
	testlib_sleep_ms(100);
	memset(&lg, 0, sizeof(lg));
	lg.l_onoff = 1;
	lg.l_linger = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1) {
		perror("socksc: SO_LINGER");
		return (SOCKSC_IOERR);
	}
	close(fd);
	return (SOCKSC_OK);
}

/* Parse the options, open the tunnel, run the data phase. */
int
main(int argc, char **argv)
{
	struct testlib_socks		 sc;
	struct testlib_socks_result	 res;
	enum testlib_socks_status	 st;
	const char			*proxy = NULL, *dest = NULL;
	char				*host, *port, *cause = NULL, *user;
	char				*pass, *end;
	uint64_t			 genbytes = 0, gonly = 0;
	double				 wait = 30;
	int				 ch, fd, direct = 0, use_gen = 0;
	int				 checksum = 0, handshake_only = 0;
	int				 gen_only = 0, hold = 0;
	enum socksc_leave		 leave = SOCKSC_STAY;
	long				 ms, pings = -1;

	memset(&sc, 0, sizeof(sc));
	sc.version = TESTLIB_SOCKS5;
	sc.split_ms = -1;
	while ((ch = getopt(argc, argv, "acDe:G:g:Hknp:R:s:t:U:v:w:x:")) !=
	    -1) {
		switch (ch) {
		case 'a':
			sc.force_domain = 1;
			break;
		case 'c':
			sc.pipeline = 1;
			break;
		case 'D':
			direct = 1;
			break;
		case 'e':
			sc.early = optarg;
			sc.earlylen = strlen(optarg);
			break;
		case 'G':
			if (testlib_parse_size(optarg, &gonly) == -1)
				socksc_usage();
			gen_only = 1;
			break;
		case 'g':
			if (testlib_parse_size(optarg, &genbytes) == -1)
				socksc_usage();
			use_gen = 1;
			break;
		case 'H':
			hold = 1;
			break;
		case 'k':
			checksum = 1;
			break;
		case 'n':
			handshake_only = 1;
			break;
		case 'p':
			pings = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || pings < 1 ||
			    pings > 100000)
				socksc_usage();
			break;
		case 'R':
			if (strcmp(optarg, "rst") == 0)
				leave = SOCKSC_LEAVE_RST;
			else if (strcmp(optarg, "finrst") == 0)
				leave = SOCKSC_LEAVE_FINRST;
			else if (strcmp(optarg, "fin") == 0)
				leave = SOCKSC_LEAVE_FIN;
			else
				socksc_usage();
			break;
		case 's':
			ms = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || ms < 0 ||
			    ms > 60000)
				socksc_usage();
			sc.split_ms = (int)ms;
			break;
		case 't':
			dest = optarg;
			break;
		case 'U':
			user = xstrdup(optarg);
			if ((pass = strchr(user, ':')) != NULL)
				*pass++ = '\0';
			sc.user = user;
			sc.pass = pass;
			break;
		case 'v':
			if (strcmp(optarg, "4") == 0)
				sc.version = TESTLIB_SOCKS4;
			else if (strcmp(optarg, "4a") == 0)
				sc.version = TESTLIB_SOCKS4A;
			else if (strcmp(optarg, "5") == 0)
				sc.version = TESTLIB_SOCKS5;
			else
				socksc_usage();
			break;
		case 'w':
			wait = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || wait < 0)
				socksc_usage();
			break;
		case 'x':
			proxy = optarg;
			break;
		default:
			socksc_usage();
		}
	}
	if (optind != argc)
		socksc_usage();
	if (gen_only) {
		if (proxy != NULL || dest != NULL || direct)
			socksc_usage();
		return (socksc_generate(gonly, checksum));
	}
	if (dest == NULL || (proxy == NULL) == !direct || (hold && use_gen))
		socksc_usage();
	if ((leave != SOCKSC_STAY || pings > 0) && (direct || hold ||
	    use_gen || checksum || handshake_only || sc.pipeline ||
	    sc.split_ms >= 0 || (leave != SOCKSC_STAY && pings > 0)))
		socksc_usage();
	if (testlib_split_hostport(dest, &host, &port, &cause) == -1) {
		fprintf(stderr, "socksc: -t %s\n", cause);
		return (SOCKSC_USAGE);
	}
	sc.host = host;
	sc.port = (uint16_t)atoi(port);

	signal(SIGPIPE, SIG_IGN);
	socksc_deadline(wait);

	if ((fd = testlib_connect(direct ? dest : proxy, -1, &cause)) == -1) {
		fprintf(stderr, "socksc: %s\n", cause);
		return (SOCKSC_IOERR);
	}
	if (leave != SOCKSC_STAY)
		return (socksc_leave(fd, &sc, leave));
	if (!direct) {
		st = testlib_socks_handshake(fd, &sc, &res, &cause);
		if (st == TESTLIB_SOCKS_ERROR) {
			fprintf(stderr, "socksc: %s\n", cause);
			return (SOCKSC_IOERR);
		}
		switch (res.stage) {
		case TESTLIB_STAGE_METHOD:
			fprintf(stderr, "method=0x%02x\n", res.code);
			break;
		case TESTLIB_STAGE_AUTH:
			fprintf(stderr, "auth=0x%02x\n", res.code);
			break;
		case TESTLIB_STAGE_REPLY:
			fprintf(stderr, "reply=0x%02x bound=%s\n", res.code,
			    res.bound);
			break;
		}
		if (st == TESTLIB_SOCKS_REFUSED)
			return (SOCKSC_REFUSED);
	} else if (sc.earlylen > 0 &&
	    testlib_write_full(fd, sc.early, sc.earlylen) == -1) {
		perror("socksc: write");
		return (SOCKSC_IOERR);
	}
	if (handshake_only) {
		close(fd);
		return (SOCKSC_OK);
	}
	if (pings > 0)
		return (socksc_ping(fd, pings));
	return (socksc_relay(fd, use_gen, genbytes, hold, checksum));
}
