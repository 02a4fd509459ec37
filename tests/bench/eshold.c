/*
 * eshold: the scale benchmark's helpers, run by scale.sh.
 *
 *   eshold hold [-c] [-s SOURCE] [-x PROXY:PORT] -t SINK:PORT -n N
 *       -P READYFILE
 *   eshold selectcost [-t] -n DESCRIPTORS [-r ROUNDS]
 *
 * "hold" opens N tunnels to an esbench sink in echo mode (through the
 * SOCKS5 proxy when -x is given) from 8 threads, writes
 * "opened OPENED SECONDS" to READYFILE once they are all open (or
 * failed), and holds them until SIGTERM; then, with -c, it makes each
 * echo 8 bytes, one after another, and exits 0 when all did (slow
 * through a slow proxy: scale.sh leaves it out).  A process may hold only
 * so many descriptors, so scale.sh spreads the tunnels over several
 * holders, each from its own SOURCE address (-s, port chosen by the
 * system): tens of thousands of connections from one address to one
 * proxy port would crowd the ephemeral range that every other client's
 * connect() searches.
 *
 * "selectcost" measures the kernel's own cost of a blocking select()
 * that watches DESCRIPTORS idle sockets (Unix socket pairs, or with -t
 * loopback TCP connections, whose poll costs more) plus one pipe: a thread writes a
 * byte to the pipe, select() wakes, the byte is read, ROUNDS times.
 * Prints "select_us N X", the median microseconds per round; the
 * difference from a small N is what the watched descriptors cost.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "xmalloc.h"

#define ESHOLD_THREADS		8
#define ESHOLD_TIMEOUT_S	30	/* per blocking call */

/* Where the tunnels go. */
struct eshold_target {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	struct sockaddr_storage	 src;
	socklen_t		 srclen;	/* 0: any source */
	int			 proxied;
	char			*sinkhost;
	uint16_t		 sinkport;
};

/* One opening thread's slice. */
struct eshold_job {
	const struct eshold_target	*t;
	int				*fds;
	int				 first, count, ok;
};

static volatile sig_atomic_t	eshold_stop;

static __dead void
eshold_usage(void)
{
	fprintf(stderr, "usage: eshold hold [-c] [-s SOURCE] [-x PROXY:PORT] "
	    "-t SINK:PORT -n N -P READYFILE\n"
	    "       eshold selectcost [-t] -n DESCRIPTORS [-r ROUNDS]\n");
	exit(2);
}

/* Resolve host:port into a sockaddr; -1 and a message on error. */
static int
eshold_resolve(const char *spec, struct sockaddr_storage *ss,
    socklen_t *len, char **host, uint16_t *port)
{
	char	*h, *p, *cause;

	if (testlib_split_hostport(spec, &h, &p, &cause) == -1 ||
	    testlib_resolve(h, p, 0, ss, len, &cause) == -1) {
		fprintf(stderr, "eshold: %s: %s\n", spec, cause);
		return (-1);
	}
	if (port != NULL)
		*port = (uint16_t)atoi(p);
	if (host != NULL)
		*host = h;
	else
		free(h);
	free(p);
	return (0);
}

/* Open one tunnel and pick the sink's echo mode; -1 on failure. */
static int
eshold_open(const struct eshold_target *t)
{
	struct testlib_socks_result	res;
	enum testlib_socks_status	st;
	char				*why = NULL;
	int				fd;

	fd = testlib_socks5_open((const struct sockaddr *)&t->addr,
	    t->addrlen, t->srclen ? (const struct sockaddr *)&t->src : NULL,
	    t->srclen, t->proxied ? t->sinkhost : NULL, t->sinkport,
	    ESHOLD_TIMEOUT_S, &st, &res, &why);
	if (fd == -1) {
		free(why);
		return (-1);
	}
	if (testlib_write_full(fd, "E\n", 2) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Open this thread's slice of the tunnels. */
static void *
eshold_open_job(void *arg)
{
	struct eshold_job	*job = arg;
	int			 i;

	for (i = job->first; i < job->first + job->count; i++) {
		job->fds[i] = eshold_open(job->t);
		if (job->fds[i] != -1)
			job->ok++;
	}
	return (NULL);
}

static void
eshold_sigterm(int signo)
{
	eshold_stop = 1;
}

/* eshold hold: open, report, hold until SIGTERM, check, close. */
static int
eshold_hold(int argc, char **argv)
{
	struct eshold_target	 t;
	struct eshold_job	 jobs[ESHOLD_THREADS];
	pthread_t		 tids[ESHOLD_THREADS];
	const char		*proxy = NULL, *sink = NULL, *ready = NULL;
	const char		*source = NULL;
	char			*srcspec;
	uint64_t		 start;
	uint8_t			 back[8];
	FILE			*f;
	int			 ch, i, n = 0, opened = 0, echoed = 0, *fds;
	int			 check = 0;

	while ((ch = getopt(argc, argv, "cn:P:s:t:x:")) != -1) {
		switch (ch) {
		case 'c':
			check = 1;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'P':
			ready = optarg;
			break;
		case 's':
			source = optarg;
			break;
		case 't':
			sink = optarg;
			break;
		case 'x':
			proxy = optarg;
			break;
		default:
			eshold_usage();
		}
	}
	if (sink == NULL || ready == NULL || n < 1 || optind != argc)
		eshold_usage();
	memset(&t, 0, sizeof(t));
	if (eshold_resolve(sink, &t.addr, &t.addrlen, &t.sinkhost,
	    &t.sinkport) == -1)
		return (2);
	if (proxy != NULL) {
		t.proxied = 1;
		if (eshold_resolve(proxy, &t.addr, &t.addrlen, NULL,
		    NULL) == -1)
			return (2);
	}
	if (source != NULL) {
		xasprintf(&srcspec, "%s:0", source);
		if (eshold_resolve(srcspec, &t.src, &t.srclen, NULL,
		    NULL) == -1)
			return (2);
		free(srcspec);
	}
	signal(SIGTERM, eshold_sigterm);
	signal(SIGPIPE, SIG_IGN);
	testlib_raise_nofile();
	fds = xcalloc(n, sizeof(*fds));
	start = testlib_now_us();
	for (i = 0; i < ESHOLD_THREADS; i++) {
		jobs[i].t = &t;
		jobs[i].fds = fds;
		jobs[i].first = (int)((int64_t)n * i / ESHOLD_THREADS);
		jobs[i].count = (int)((int64_t)n * (i + 1) / ESHOLD_THREADS) -
		    jobs[i].first;
		jobs[i].ok = 0;
		if (pthread_create(&tids[i], NULL, eshold_open_job,
		    &jobs[i]) != 0)
			return (2);
	}
	for (i = 0; i < ESHOLD_THREADS; i++) {
		pthread_join(tids[i], NULL);
		opened += jobs[i].ok;
	}
	if ((f = fopen(ready, "w")) == NULL)
		return (2);
	fprintf(f, "opened %d %.3f\n", opened,
	    (testlib_now_us() - start) / 1e6);
	fclose(f);
	while (!eshold_stop)
		pause();
	if (!check)
		return (0);	/* exit closes them, all at once */
	for (i = 0; i < n; i++) {
		if (fds[i] == -1)
			continue;
		if (testlib_write_full(fds[i], "12345678", 8) == 0 &&
		    testlib_read_full(fds[i], back, 8) == 8 &&
		    memcmp(back, "12345678", 8) == 0)
			echoed++;
		close(fds[i]);
	}
	free(fds);
	fprintf(stderr, "eshold: %d of %d held tunnels echoed\n", echoed, n);
	return (echoed == n ? 0 : 1);
}

/* Wake the selecting thread `rounds` times through the pipe. */
struct eshold_waker {
	int	fd;
	int	rounds;
	int	back;	/* read end of the answer pipe */
};

static void *
eshold_wake(void *arg)
{
	struct eshold_waker	*w = arg;
	char			 b = 'x';
	int			 i;

	for (i = 0; i < w->rounds; i++) {
		if (write(w->fd, &b, 1) != 1 || read(w->back, &b, 1) != 1)
			break;
	}
	return (NULL);
}

/* Compare two durations for qsort. */
static int
eshold_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/* eshold selectcost: a blocking select() over N idle descriptors. */
static int
eshold_selectcost(int argc, char **argv)
{
	struct eshold_waker	 w;
	pthread_t		 tid;
	fd_set			*master, *set;
	uint32_t		*us;
	uint64_t		 t0;
	size_t			 words, bytes;
	int			 ch, n = 0, rounds = 2000, i, maxfd = 0;
	int			 sv[2], wake[2], back[2], tcp = 0, lfd = -1;
	char			 b, *cause;

	while ((ch = getopt(argc, argv, "n:r:t")) != -1) {
		switch (ch) {
		case 't':
			tcp = 1;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			eshold_usage();
		}
	}
	if (n < 0 || rounds < 1 || optind != argc)
		eshold_usage();
	testlib_raise_nofile();
	/* Idle stream sockets, as a proxy's held tunnels are. */
	if (tcp && (lfd = testlib_listen("127.0.0.1:0", 4096, &cause)) == -1) {
		fprintf(stderr, "eshold: %s\n", cause);
		return (2);
	}
	for (i = 0; i < n; i += 2) {
		if (tcp) {
			/* Loopback TCP, whose poll is a proxy's real cost. */
			char	addr[32];

			snprintf(addr, sizeof(addr), "127.0.0.1:%d",
			    testlib_local_port(lfd));
			sv[0] = testlib_connect(addr, 10000, &cause);
			sv[1] = sv[0] == -1 ? -1 : accept(lfd, NULL, NULL);
		} else if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
			sv[1] = -1;
		if (sv[1] == -1) {
			fprintf(stderr, "eshold: sockets after %d: %s\n",
			    i, strerror(errno));
			return (2);
		}
		maxfd = sv[1] > sv[0] ? sv[1] : sv[0];
	}
	/* The pipe that wakes it is the highest: the worst case. */
	if (pipe(wake) == -1 || pipe(back) == -1)
		return (2);
	if (wake[0] > maxfd)
		maxfd = wake[0];
	/* Sized from the highest descriptor, as the select backend does. */
	words = (size_t)maxfd / (8 * sizeof(fd_mask)) + 1;
	bytes = words * sizeof(fd_mask);
	master = xcalloc(1, bytes);
	set = xcalloc(1, bytes);
	for (i = 3; i <= maxfd; i++) {
		if (i == wake[1] || i == back[0] || i == back[1] || i == lfd)
			continue;
		((fd_mask *)master)[i / (8 * sizeof(fd_mask))] |=
		    (fd_mask)1 << (i % (8 * sizeof(fd_mask)));
	}
	us = xcalloc(rounds, sizeof(*us));
	w.fd = wake[1];
	w.back = back[0];
	w.rounds = rounds;
	pthread_create(&tid, NULL, eshold_wake, &w);
	for (i = 0; i < rounds; i++) {
		memcpy(set, master, bytes);
		t0 = testlib_now_us();
		if (select(maxfd + 1, set, NULL, NULL, NULL) < 1 ||
		    read(wake[0], &b, 1) != 1)
			return (2);
		us[i] = (uint32_t)(testlib_now_us() - t0);
		(void)write(back[1], &b, 1);
	}
	pthread_join(tid, NULL);
	qsort(us, rounds, sizeof(*us), eshold_cmp);
	printf("select_us %d %u\n", n, us[rounds / 2]);
	return (0);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		eshold_usage();
	if (strcmp(argv[1], "hold") == 0)
		return (eshold_hold(argc - 1, argv + 1));
	if (strcmp(argv[1], "selectcost") == 0)
		return (eshold_selectcost(argc - 1, argv + 1));
	eshold_usage();
}
