/*
 * esbench: the benchmark client and its sink, run by bench.sh.
 *
 *   esbench sink [-l ADDR:PORT] -P PORTFILE
 *   esbench freeport [-l ADDR:PORT]
 *   esbench probe [-x PROXY:PORT] -t SINK:PORT [-w SECONDS]
 *   esbench run [-x PROXY:PORT] -t SINK:PORT [-d SECONDS] [-n IDLE]
 *               [-r ROUNDTRIPS] [-p PID[,PID]...] [-m MEASURES]
 *               [-H HELD [-T SINK:PORT]] [-c CLIENTS]
 *
 * The sink is the test server in "command" mode: each connection's
 * first line picks echo ("E"), discard-and-count ("D") or source
 * ("S N").  "run" measures against the sink, through a SOCKS5 proxy when
 * -x is given and directly otherwise, and prints one "NAME VALUE" line
 * per result:
 *   up1_MBps      one stream uploading for -d seconds
 *   down1_MBps    one stream downloading as many bytes as up1 sent
 *   up8_MBps      eight parallel uploading streams, aggregate
 *   conn_per_s    connect + 64-byte echo + close, 8 clients, -d seconds
 *   conn_cpu_us   CPU time (user + system) the -p processes spent per
 *                 connection of conn_per_s; the -p processes are taken
 *                 with their descendants at each reading, and with the
 *                 time of the children they have reaped, so that a
 *                 daemon that forks a child per client (Dante) is
 *                 counted whole
 *   cpu_s_per_GB  CPU seconds the -p processes spent per GB relayed by
 *                 up1 and down1 together
 * -c CLIENTS sets the clients of conn (8).
 *   rtt_p50_us, rtt_p99_us   1-byte ping-pong on one connection
 *   idle_ok, idle_opened, idle_total, idle_open_s
 *                 -n tunnels opened by 8 clients and held, then one echo
 *                 each; idle_open_s is how long opening them all took
 *   rss_before_kB, rss_held_kB, rss_after_kB   VmRSS of the -p processes
 *   held_opened, held_open_s
 *                 -H tunnels opened (to the -T sink, another process, so
 *                 that the measured sink does not watch them) before the
 *                 measures and held idle through them all: what the
 *                 measures cost with that many tunnels held
 * MEASURES is a comma list of up1,down1,up8,conn,rtt,idle.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"

#define ESBENCH_STREAMS		8
#define ESBENCH_CLIENTS		8
#define ESBENCH_ECHO_SIZE	64
#define ESBENCH_IO_TIMEOUT	10	/* seconds, per blocking call */
#define ESBENCH_IDLE_OPEN_S	120	/* opening all idle tunnels */
#define ESBENCH_IDLE_ECHO_S	30	/* all their echoes */

/* Where to connect: the sink, possibly through a SOCKS5 proxy. */
struct esbench_target {
	struct sockaddr_storage	 addr;		/* proxy, or sink if direct */
	socklen_t		 addrlen;
	int			 proxied;
	char			*sinkhost;
	uint16_t		 sinkport;
};

/* One stream's or one client's share of a threaded measure. */
struct esbench_job {
	const struct esbench_target	*target;
	pthread_barrier_t		*barrier;
	uint64_t			 duration_us;
	uint64_t			 bytes;		/* up streams */
	uint64_t			 elapsed_us;
	uint64_t			 ok;		/* connect clients */
	uint64_t			 failed;
	char				*cause;
	struct pollfd			*pfd;		/* idle openers */
	int				 first;
	int				 count;
	uint64_t			 deadline_us;
};

/* What the upload streams send, generator bytes made once. */
static uint8_t	esbench_payload[TESTLIB_BUFSIZE];

static __dead void	esbench_usage(void);

/* Print the synopsis and exit 2. */
static __dead void
esbench_usage(void)
{
	fprintf(stderr,
	    "usage: esbench sink [-l ADDR:PORT] -P PORTFILE\n"
	    "       esbench freeport [-l ADDR:PORT]\n"
	    "       esbench probe [-x PROXY:PORT] -t SINK:PORT [-w SECONDS]\n"
	    "       esbench run [-x PROXY:PORT] -t SINK:PORT [-d SECONDS] "
	    "[-n IDLE]\n"
	    "                   [-r ROUNDTRIPS] [-p PID[,PID]...] "
	    "[-m MEASURES]\n"
	    "                   [-H HELD [-T SINK:PORT]] [-c CLIENTS]\n");
	exit(2);
}

/* Resolve the proxy (or the sink when direct) once, for every connect. */
static int
esbench_target_init(struct esbench_target *t, const char *proxy,
    const char *sink, char **cause)
{
	char	*host, *port;
	int	 rc;

	memset(t, 0, sizeof(*t));
	if (testlib_split_hostport(sink, &t->sinkhost, &port, cause) == -1)
		return (-1);
	t->sinkport = (uint16_t)atoi(port);
	t->proxied = proxy != NULL;
	if (proxy == NULL) {
		rc = testlib_resolve(t->sinkhost, port, 0, &t->addr,
		    &t->addrlen, cause);
		free(port);
		return (rc);
	}
	free(port);
	if (testlib_split_hostport(proxy, &host, &port, cause) == -1)
		return (-1);
	rc = testlib_resolve(host, port, 0, &t->addr, &t->addrlen, cause);
	free(host);
	free(port);
	return (rc);
}

/*
 * Open a connection to the sink (through the proxy if any) and send the
 * command line that picks its mode, plus extra bytes in the same write.
 */
static int
esbench_open(const struct esbench_target *t, const char *cmd,
    const void *extra, size_t extralen, char **cause)
{
	struct testlib_socks_result	 res;
	enum testlib_socks_status	 st;
	uint8_t				 msg[128];
	size_t				 cmdlen = strlen(cmd);
	int				 fd;

	fd = testlib_socks5_open((const struct sockaddr *)&t->addr,
	    t->addrlen, NULL, 0, t->proxied ? t->sinkhost : NULL, t->sinkport,
	    ESBENCH_IO_TIMEOUT, &st, &res, cause);
	if (fd == -1) {
		if (st == TESTLIB_SOCKS_REFUSED)
			xasprintf(cause, "proxy refused: stage %d code 0x%02x",
			    (int)res.stage, res.code);
		return (-1);
	}
	if (cmdlen + extralen > sizeof(msg))
		abort();
	memcpy(msg, cmd, cmdlen);
	if (extralen > 0)
		memcpy(msg + cmdlen, extra, extralen);
	if (testlib_write_full(fd, msg, cmdlen + extralen) == -1) {
		xasprintf(cause, "write: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Read a "bytes=N\n" answer and return N, or -1. */
static int
esbench_read_count(int fd, uint64_t *count, char **cause)
{
	char	line[64];
	size_t	len = 0;
	ssize_t	n;

	while (len < sizeof(line) - 1) {
		if ((n = read(fd, line + len, sizeof(line) - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "reading count: %s", strerror(errno));
			return (-1);
		}
		if (n == 0)
			break;
		len += n;
		if (memchr(line, '\n', len) != NULL)
			break;
	}
	line[len] = '\0';
	if (sscanf(line, "bytes=%" SCNu64, count) != 1) {
		xasprintf(cause, "bad count answer \"%s\"", line);
		return (-1);
	}
	return (0);
}

/*
 * Upload for the job's duration to a discarding sink.  The measure
 * ends when the sink's count of what arrived comes back, so bytes
 * still queued in the proxy are not counted as done.
 */
static void *
esbench_upload(void *arg)
{
	struct esbench_job	*job = arg;
	uint64_t		 start, end, count;
	ssize_t			 n;
	int			 fd;

	fd = esbench_open(job->target, "D\n", NULL, 0, &job->cause);
	if (job->barrier != NULL)
		pthread_barrier_wait(job->barrier);
	if (fd == -1)
		return (NULL);
	start = testlib_now_us();
	end = start + job->duration_us;
	while (testlib_now_us() < end) {
		n = write(fd, esbench_payload, sizeof(esbench_payload));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(&job->cause, "write: %s", strerror(errno));
			close(fd);
			return (NULL);
		}
		job->bytes += n;
	}
	shutdown(fd, SHUT_WR);
	if (esbench_read_count(fd, &count, &job->cause) == -1) {
		close(fd);
		return (NULL);
	}
	job->elapsed_us = testlib_now_us() - start;
	close(fd);
	if (count != job->bytes) {
		xasprintf(&job->cause, "sink counted %" PRIu64 " of %" PRIu64
		    " bytes", count, job->bytes);
	}
	return (NULL);
}

/*
 * Download job->bytes from a source sink, or what arrives within three
 * durations; job->bytes becomes what was received.
 */
static void
esbench_download(struct esbench_job *job)
{
	uint8_t		*buf;
	char		 cmd[64];
	uint64_t	 start, got = 0, want = job->bytes;
	ssize_t		 n;
	int		 fd, cut = 0;

	snprintf(cmd, sizeof(cmd), "S %" PRIu64 "\n", want);
	if ((fd = esbench_open(job->target, cmd, NULL, 0, &job->cause)) == -1)
		return;
	buf = xmalloc(TESTLIB_BUFSIZE);
	start = testlib_now_us();
	for (;;) {
		if ((n = read(fd, buf, TESTLIB_BUFSIZE)) == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(&job->cause, "read: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		got += n;
		/* A slow path gets three durations: the rate is known. */
		if (testlib_now_us() - start > 3 * job->duration_us) {
			cut = 1;
			break;
		}
	}
	job->elapsed_us = testlib_now_us() - start;
	if (job->cause == NULL && !cut && got != want) {
		xasprintf(&job->cause, "got %" PRIu64 " of %" PRIu64 " bytes",
		    got, want);
	}
	job->bytes = got;
	free(buf);
	close(fd);
}

/* Connect, echo 64 bytes, close, over and over until the time is up. */
static void *
esbench_connect_loop(void *arg)
{
	struct esbench_job	*job = arg;
	uint8_t			 back[ESBENCH_ECHO_SIZE];
	uint64_t		 end;
	char			*why;
	int			 fd;

	pthread_barrier_wait(job->barrier);
	end = testlib_now_us() + job->duration_us;
	while (testlib_now_us() < end) {
		fd = esbench_open(job->target, "E\n", esbench_payload,
		    ESBENCH_ECHO_SIZE, &why);
		if (fd == -1) {
			job->failed++;
			free(job->cause);
			job->cause = why;
			testlib_sleep_ms(1);	/* no hot loop on failures */
			continue;
		}
		if (testlib_read_full(fd, back, sizeof(back)) ==
		    (ssize_t)sizeof(back) &&
		    memcmp(back, esbench_payload, sizeof(back)) == 0)
			job->ok++;
		else
			job->failed++;
		close(fd);
	}
	job->elapsed_us = job->duration_us;
	return (NULL);
}

/* Run n jobs of fn in parallel threads, started together. */
static void
esbench_parallel(struct esbench_job *jobs, int n, void *(*fn)(void *))
{
	pthread_barrier_t	 barrier;
	pthread_t		*threads;
	int			 i;

	threads = xcalloc(n, sizeof(*threads));
	pthread_barrier_init(&barrier, NULL, n);
	for (i = 0; i < n; i++) {
		jobs[i].barrier = &barrier;
		if (pthread_create(&threads[i], NULL, fn, &jobs[i]) != 0) {
			fprintf(stderr, "esbench: pthread_create failed\n");
			exit(1);
		}
	}
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&barrier);
	free(threads);
}

/* Report the first failure of a set of jobs; 0 when all went well. */
static int
esbench_failed(const char *what, struct esbench_job *jobs, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (jobs[i].cause != NULL) {
			fprintf(stderr, "esbench: %s: %s\n", what,
			    jobs[i].cause);
			return (1);
		}
	}
	return (0);
}

/* Compare two durations for qsort. */
static int
esbench_cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/* 1-byte ping-pong on one connection; prints p50 and p99. */
static int
esbench_rtt(const struct esbench_target *t, int rounds)
{
	uint32_t	*rtt;
	uint64_t	 t0;
	uint8_t		 b;
	char		*cause;
	int		 fd, i;

	if ((fd = esbench_open(t, "E\n", NULL, 0, &cause)) == -1) {
		fprintf(stderr, "esbench: rtt: %s\n", cause);
		return (1);
	}
	rtt = xcalloc(rounds, sizeof(*rtt));
	for (i = 0; i < rounds; i++) {
		b = (uint8_t)i;
		t0 = testlib_now_us();
		if (testlib_write_full(fd, &b, 1) == -1 ||
		    testlib_read_full(fd, &b, 1) != 1 || b != (uint8_t)i) {
			fprintf(stderr, "esbench: rtt: round %d failed\n", i);
			free(rtt);
			close(fd);
			return (1);
		}
		rtt[i] = (uint32_t)(testlib_now_us() - t0);
	}
	close(fd);
	qsort(rtt, rounds, sizeof(*rtt), esbench_cmp_u32);
	printf("rtt_p50_us %u\n", rtt[rounds / 2]);
	printf("rtt_p99_us %u\n", rtt[(int)((uint64_t)rounds * 99 / 100)]);
	fflush(stdout);
	free(rtt);
	return (0);
}

/* VmRSS of process pid in kB, or -1. */
static long
esbench_rss_one(const char *pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	}
	fclose(f);
	return (kb);
}

/*
 * User plus system CPU time of process pid in clock ticks, with that of
 * the children it has waited for; -1 if it is gone.
 */
static long
esbench_cpu_one(const char *pid)
{
	char		 path[64], line[1024], *p;
	unsigned long	 utime, stime;
	long		 cutime, cstime;
	FILE		*f;
	long		 ticks = -1;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	/* Fields 14 and 15, counted after the ")" that ends the name. */
	if (fgets(line, sizeof(line), f) != NULL &&
	    (p = strrchr(line, ')')) != NULL &&
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu %ld %ld", &utime, &stime, &cutime, &cstime) == 4)
		ticks = (long)(utime + stime) + cutime + cstime;
	fclose(f);
	return (ticks);
}

/* The parent of process pid, or -1. */
static long
esbench_ppid(const char *pid)
{
	char	 path[64], line[1024], *p;
	FILE	*f;
	long	 ppid = -1;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	if (fgets(line, sizeof(line), f) != NULL &&
	    (p = strrchr(line, ')')) != NULL &&
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		ppid = -1;
	fclose(f);
	return (ppid);
}

/*
 * A comma list of PIDs with all their descendants now alive, read from
 * /proc (once per generation: a daemon is a tree a few levels deep).
 */
static char *
esbench_proc_tree(const char *pids)
{
	char		*list, *add, *tmp, key[48], pid[32];
	const char	*dir;
	glob_t		 g;
	size_t		 i;
	long		 ppid;
	int		 grew = 1;

	xasprintf(&list, ",%s,", pids);
	if (glob("/proc/[0-9]*/stat", 0, NULL, &g) != 0)
		return (list);
	while (grew) {
		grew = 0;
		for (i = 0; i < g.gl_pathc; i++) {
			dir = g.gl_pathv[i] + strlen("/proc/");
			snprintf(pid, sizeof(pid), "%.*s",
			    (int)strcspn(dir, "/"), dir);
			snprintf(key, sizeof(key), ",%s,", pid);
			if (strstr(list, key) != NULL ||
			    (ppid = esbench_ppid(pid)) <= 0)
				continue;
			snprintf(key, sizeof(key), ",%ld,", ppid);
			if (strstr(list, key) == NULL)
				continue;
			xasprintf(&add, "%s%s,", list, pid);
			tmp = list;
			list = add;
			free(tmp);
			grew = 1;
		}
	}
	globfree(&g);
	return (list);
}

/*
 * Sum of one() over a comma list of PIDs and their descendants; -1 if
 * none was readable.
 */
static long
esbench_proc_sum(const char *pids, long (*one)(const char *))
{
	char	*list, *p, *next;
	long	 total = -1, v;

	if (pids == NULL)
		return (-1);
	list = esbench_proc_tree(pids);
	for (p = list; p != NULL && *p != '\0'; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		if (*p != '\0' && (v = one(p)) != -1)
			total = (total == -1 ? 0 : total) + v;
	}
	free(list);
	return (total);
}

/* The 8 bytes tunnel i of the idle measure sends and expects back. */
static void
esbench_idle_msg(int i, uint8_t *msg)
{
	char	text[16];

	snprintf(text, sizeof(text), "%07d\n", i % 10000000);
	memcpy(msg, text, 8);
}

/* Open this job's slice of the idle tunnels, until the deadline. */
static void *
esbench_idle_open(void *arg)
{
	struct esbench_job	*job = arg;
	char			*why;
	int			 i;

	pthread_barrier_wait(job->barrier);
	for (i = job->first; i < job->first + job->count; i++) {
		job->pfd[i].fd = -1;
		if (testlib_now_us() > job->deadline_us) {
			if (job->cause == NULL)
				xasprintf(&job->cause, "out of time");
			continue;
		}
		job->pfd[i].fd = esbench_open(job->target, "E\n", NULL, 0,
		    &why);
		if (job->pfd[i].fd == -1) {
			free(job->cause);
			job->cause = why;
			continue;
		}
		job->ok++;
	}
	return (NULL);
}

/*
 * Hold n tunnels open at once, then send one 8-byte echo on each and
 * check every answer.  RSS of the proxy processes is taken before,
 * while all tunnels are held, and after they are closed.
 */
static int
esbench_idle(const struct esbench_target *t, int n, const char *pids)
{
	struct pollfd	*pfd;
	uint8_t		 (*got)[8];
	uint8_t		 msg[8];
	size_t		*have;
	uint64_t	 end;
	struct esbench_job jobs[ESBENCH_CLIENTS];
	long		 rss_before, rss_held, rss_after;
	uint64_t	 start, open_us;
	char		*cause = NULL;
	int		 i, opened = 0, ok = 0, left, rc;
	ssize_t		 r;

	testlib_raise_nofile();
	rss_before = esbench_proc_sum(pids, esbench_rss_one);
	pfd = xcalloc(n, sizeof(*pfd));
	got = xcalloc(n, sizeof(*got));
	have = xcalloc(n, sizeof(*have));
	/* Open from several threads, as many clients would. */
	memset(jobs, 0, sizeof(jobs));
	start = testlib_now_us();
	for (i = 0; i < ESBENCH_CLIENTS; i++) {
		jobs[i].target = t;
		jobs[i].pfd = pfd;
		jobs[i].first = (int)((int64_t)n * i / ESBENCH_CLIENTS);
		jobs[i].count = (int)((int64_t)n * (i + 1) / ESBENCH_CLIENTS) -
		    jobs[i].first;
		jobs[i].deadline_us = start +
		    (uint64_t)ESBENCH_IDLE_OPEN_S * 1000000;
	}
	esbench_parallel(jobs, ESBENCH_CLIENTS, esbench_idle_open);
	open_us = testlib_now_us() - start;
	for (i = 0; i < ESBENCH_CLIENTS; i++) {
		opened += (int)jobs[i].ok;
		if (jobs[i].cause != NULL && cause == NULL)
			cause = jobs[i].cause;
		else
			free(jobs[i].cause);
	}
	testlib_sleep_ms(500);
	rss_held = esbench_proc_sum(pids, esbench_rss_one);

	for (i = 0; i < n; i++) {
		if (pfd[i].fd == -1)
			continue;
		esbench_idle_msg(i, msg);
		if (testlib_write_full(pfd[i].fd, msg, sizeof(msg)) == -1 ||
		    testlib_set_nonblock(pfd[i].fd, 1) == -1) {
			close(pfd[i].fd);
			pfd[i].fd = -1;
		}
		pfd[i].events = POLLIN;
	}
	end = testlib_now_us() + (uint64_t)ESBENCH_IDLE_ECHO_S * 1000000;
	for (;;) {
		left = 0;
		for (i = 0; i < n; i++)
			left += pfd[i].fd != -1;
		if (left == 0 || testlib_now_us() > end)
			break;
		if ((rc = poll(pfd, n, 100)) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			r = read(pfd[i].fd, got[i] + have[i], 8 - have[i]);
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r > 0)
				have[i] += r;
			if (r <= 0 || have[i] == 8) {
				esbench_idle_msg(i, msg);
				if (have[i] == 8 && memcmp(got[i], msg, 8) == 0)
					ok++;
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	}
	testlib_sleep_ms(500);
	rss_after = esbench_proc_sum(pids, esbench_rss_one);
	if (opened < n) {
		fprintf(stderr, "esbench: idle: opened %d of %d in %.1f s"
		    "%s%s\n", opened, n, open_us / 1e6,
		    cause != NULL ? ": " : "", cause != NULL ? cause : "");
	}
	printf("idle_total %d\nidle_opened %d\nidle_ok %d\n", n, opened, ok);
	printf("idle_open_s %.2f\n", open_us / 1e6);
	if (rss_before != -1) {
		printf("rss_before_kB %ld\nrss_held_kB %ld\nrss_after_kB %ld\n",
		    rss_before, rss_held, rss_after);
		if (ok > 0) {
			printf("rss_per_tunnel_B %ld\n",
			    (rss_held - rss_before) * 1024 / ok);
		}
	}
	fflush(stdout);
	free(cause);
	free(pfd);
	free(got);
	free(have);
	return (ok == n ? 0 : 1);
}

/*
 * Open n echo tunnels and leave them idle, for the measures that follow
 * to run with that many held; *pfdp gets them (fd -1 where one failed)
 * for esbench_unhold.  Returns how many opened.
 */
static int
esbench_hold(const struct esbench_target *t, int n, struct pollfd **pfdp)
{
	struct esbench_job	 jobs[ESBENCH_CLIENTS];
	struct pollfd		*pfd;
	uint64_t		 start;
	int			 i, opened = 0;

	testlib_raise_nofile();
	pfd = xcalloc(n, sizeof(*pfd));
	memset(jobs, 0, sizeof(jobs));
	start = testlib_now_us();
	for (i = 0; i < ESBENCH_CLIENTS; i++) {
		jobs[i].target = t;
		jobs[i].pfd = pfd;
		jobs[i].first = (int)((int64_t)n * i / ESBENCH_CLIENTS);
		jobs[i].count = (int)((int64_t)n * (i + 1) / ESBENCH_CLIENTS) -
		    jobs[i].first;
		jobs[i].deadline_us = start +
		    (uint64_t)ESBENCH_IDLE_OPEN_S * 1000000;
	}
	esbench_parallel(jobs, ESBENCH_CLIENTS, esbench_idle_open);
	for (i = 0; i < ESBENCH_CLIENTS; i++) {
		opened += (int)jobs[i].ok;
		if (jobs[i].cause != NULL && opened < n)
			fprintf(stderr, "esbench: held: %s\n", jobs[i].cause);
		free(jobs[i].cause);
	}
	printf("held_opened %d\nheld_open_s %.2f\n", opened,
	    (testlib_now_us() - start) / 1e6);
	fflush(stdout);
	*pfdp = pfd;
	return (opened);
}

/* Close what esbench_hold opened. */
static void
esbench_unhold(struct pollfd *pfd, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	}
	free(pfd);
}

/* Is name in the comma list (or is the list empty)? */
static int
esbench_wanted(const char *list, const char *name)
{
	size_t		 len = strlen(name);
	const char	*p;

	if (list == NULL)
		return (1);
	for (p = list; (p = strstr(p, name)) != NULL; p += len) {
		if ((p == list || p[-1] == ',') &&
		    (p[len] == '\0' || p[len] == ','))
			return (1);
	}
	return (0);
}

/* esbench run: every wanted measure, one result line each. */
static int
esbench_run(int argc, char **argv)
{
	struct esbench_target	 t;
	struct esbench_job	 jobs[ESBENCH_STREAMS > ESBENCH_CLIENTS ?
				     ESBENCH_STREAMS : ESBENCH_CLIENTS];
	const char		*proxy = NULL, *sink = NULL, *pids = NULL;
	const char		*measures = NULL, *holdsink = NULL;
	struct esbench_target	 ht;
	struct pollfd		*held = NULL;
	char			*cause, *end;
	double			 seconds = 5;
	uint64_t		 dur, up1_bytes = 0, bytes, maxel, ok;
	long			 cpu_before, cpu_after;
	int			 ch, idle = 5000, rounds = 20000, failed = 0;
	int			 i, nheld = 0, clients = ESBENCH_CLIENTS;

	while ((ch = getopt(argc, argv, "c:d:H:m:n:p:r:T:t:x:")) != -1) {
		switch (ch) {
		case 'c':
			clients = atoi(optarg);
			if (clients < 1 || clients > ESBENCH_CLIENTS)
				esbench_usage();
			break;
		case 'H':
			nheld = atoi(optarg);
			if (nheld < 0 || nheld > 500000)
				esbench_usage();
			break;
		case 'T':
			holdsink = optarg;
			break;
		case 'd':
			seconds = strtod(optarg, &end);
			if (*end != '\0' || seconds <= 0 || seconds > 600)
				esbench_usage();
			break;
		case 'm':
			measures = optarg;
			break;
		case 'n':
			idle = atoi(optarg);
			if (idle < 1 || idle > 500000)
				esbench_usage();
			break;
		case 'p':
			pids = optarg;
			break;
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > 10000000)
				esbench_usage();
			break;
		case 't':
			sink = optarg;
			break;
		case 'x':
			proxy = optarg;
			break;
		default:
			esbench_usage();
		}
	}
	if (sink == NULL || optind != argc)
		esbench_usage();
	if (esbench_target_init(&t, proxy, sink, &cause) == -1) {
		fprintf(stderr, "esbench: %s\n", cause);
		return (2);
	}
	dur = (uint64_t)(seconds * 1e6);
	if (nheld > 0) {
		if (esbench_target_init(&ht, proxy, holdsink != NULL ?
		    holdsink : sink, &cause) == -1) {
			fprintf(stderr, "esbench: %s\n", cause);
			return (2);
		}
		if (esbench_hold(&ht, nheld, &held) < nheld)
			failed = 1;
		free(ht.sinkhost);
	}

	/* CPU per GB relayed: the -p processes over up1 and down1. */
	cpu_before = esbench_proc_sum(pids, esbench_cpu_one);
	bytes = 0;
	if (esbench_wanted(measures, "up1")) {
		memset(jobs, 0, sizeof(jobs));
		jobs[0].target = &t;
		jobs[0].duration_us = dur;
		esbench_upload(&jobs[0]);
		if (esbench_failed("up1", jobs, 1))
			failed = 1;
		else {
			up1_bytes = jobs[0].bytes;
			bytes += jobs[0].bytes;
			printf("up1_MBps %.1f\n", (double)jobs[0].bytes /
			    jobs[0].elapsed_us);
			fflush(stdout);
		}
	}
	if (esbench_wanted(measures, "down1")) {
		memset(jobs, 0, sizeof(jobs));
		jobs[0].target = &t;
		jobs[0].duration_us = dur;
		jobs[0].bytes = up1_bytes > (64 << 20) ? up1_bytes :
		    (uint64_t)1 << 30;
		esbench_download(&jobs[0]);
		if (esbench_failed("down1", jobs, 1))
			failed = 1;
		else {
			printf("down1_MBps %.1f\n", (double)jobs[0].bytes /
			    jobs[0].elapsed_us);
			bytes += jobs[0].bytes;
			fflush(stdout);
		}
	}
	cpu_after = esbench_proc_sum(pids, esbench_cpu_one);
	if (cpu_before != -1 && cpu_after != -1 && bytes > 0) {
		printf("cpu_s_per_GB %.2f\n", (double)(cpu_after - cpu_before) /
		    sysconf(_SC_CLK_TCK) / ((double)bytes / 1e9));
		fflush(stdout);
	}
	if (esbench_wanted(measures, "up8")) {
		memset(jobs, 0, sizeof(jobs));
		for (i = 0; i < ESBENCH_STREAMS; i++) {
			jobs[i].target = &t;
			jobs[i].duration_us = dur;
		}
		esbench_parallel(jobs, ESBENCH_STREAMS, esbench_upload);
		if (esbench_failed("up8", jobs, ESBENCH_STREAMS))
			failed = 1;
		else {
			bytes = maxel = 0;
			for (i = 0; i < ESBENCH_STREAMS; i++) {
				bytes += jobs[i].bytes;
				if (jobs[i].elapsed_us > maxel)
					maxel = jobs[i].elapsed_us;
			}
			printf("up8_MBps %.1f\n", (double)bytes / maxel);
			fflush(stdout);
		}
	}
	if (esbench_wanted(measures, "conn")) {
		memset(jobs, 0, sizeof(jobs));
		for (i = 0; i < clients; i++) {
			jobs[i].target = &t;
			jobs[i].duration_us = dur;
		}
		cpu_before = esbench_proc_sum(pids, esbench_cpu_one);
		esbench_parallel(jobs, clients, esbench_connect_loop);
		cpu_after = esbench_proc_sum(pids, esbench_cpu_one);
		ok = bytes = 0;
		for (i = 0; i < clients; i++) {
			ok += jobs[i].ok;
			bytes += jobs[i].failed;
		}
		if (bytes > 0) {
			fprintf(stderr, "esbench: conn: %" PRIu64 " failed",
			    bytes);
			for (i = 0; i < clients; i++) {
				if (jobs[i].cause != NULL) {
					fprintf(stderr, ", last: %s",
					    jobs[i].cause);
					break;
				}
			}
			fprintf(stderr, "\n");
			failed = 1;
		}
		printf("conn_per_s %.0f\nconn_failed %" PRIu64 "\n",
		    (double)ok / seconds, bytes);
		if (cpu_before != -1 && cpu_after != -1 && ok > 0)
			printf("conn_cpu_us %.1f\n", (double)(cpu_after -
			    cpu_before) * 1e6 / sysconf(_SC_CLK_TCK) / ok);
		fflush(stdout);
	}
	if (esbench_wanted(measures, "rtt") && esbench_rtt(&t, rounds) != 0)
		failed = 1;
	if (esbench_wanted(measures, "idle") && esbench_idle(&t, idle,
	    pids) != 0)
		failed = 1;
	if (held != NULL)
		esbench_unhold(held, nheld);
	return (failed);
}

/* esbench probe: succeed once one echo works through the path. */
static int
esbench_probe(int argc, char **argv)
{
	struct esbench_target	 t;
	const char		*proxy = NULL, *sink = NULL;
	char			*cause = NULL, *end, back[5];
	double			 seconds = 10;
	uint64_t		 deadline;
	int			 ch, fd;

	while ((ch = getopt(argc, argv, "t:w:x:")) != -1) {
		switch (ch) {
		case 't':
			sink = optarg;
			break;
		case 'w':
			seconds = strtod(optarg, &end);
			if (*end != '\0' || seconds <= 0)
				esbench_usage();
			break;
		case 'x':
			proxy = optarg;
			break;
		default:
			esbench_usage();
		}
	}
	if (sink == NULL || optind != argc)
		esbench_usage();
	if (esbench_target_init(&t, proxy, sink, &cause) == -1) {
		fprintf(stderr, "esbench: %s\n", cause);
		return (2);
	}
	deadline = testlib_now_us() + (uint64_t)(seconds * 1e6);
	do {
		free(cause);
		cause = NULL;
		if ((fd = esbench_open(&t, "E\n", "ping", 4, &cause)) != -1) {
			if (testlib_read_full(fd, back, 4) == 4 &&
			    memcmp(back, "ping", 4) == 0) {
				close(fd);
				return (0);
			}
			close(fd);
			xasprintf(&cause, "no echo");
		}
		testlib_sleep_ms(100);
	} while (testlib_now_us() < deadline);
	fprintf(stderr, "esbench: probe: %s\n", cause);
	return (1);
}

/* esbench sink and esbench freeport. */
static int
esbench_sink(int argc, char **argv, int freeport)
{
	const char	*spec = "127.0.0.1:0", *portfile = NULL;
	char		*cause, *host, *service;
	int		 ch, lfd, port;

	while ((ch = getopt(argc, argv, "l:P:")) != -1) {
		switch (ch) {
		case 'l':
			spec = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		default:
			esbench_usage();
		}
	}
	if (optind != argc || (!freeport && portfile == NULL))
		esbench_usage();
	if (freeport) {
		if (testlib_split_hostport(spec, &host, &service,
		    &cause) == -1 ||
		    (port = testlib_free_port(host, &cause)) == -1) {
			fprintf(stderr, "esbench: %s\n", cause);
			return (1);
		}
		free(host);
		free(service);
		printf("%d\n", port);
		return (fflush(stdout) == 0 ? 0 : 1);
	}
	testlib_raise_nofile();
	if ((lfd = testlib_listen(spec, 4096, &cause)) == -1 ||
	    (port = testlib_local_port(lfd)) == -1) {
		fprintf(stderr, "esbench: %s\n", lfd == -1 ? cause :
		    strerror(errno));
		return (1);
	}
	if (testlib_write_portfile(portfile, port, &cause) == -1) {
		fprintf(stderr, "esbench: %s\n", cause);
		return (1);
	}
	testlib_serve(lfd, TESTLIB_SERVE_COMMAND, 0);
	return (0);
}

/* Dispatch to the subcommand. */
int
main(int argc, char **argv)
{
	struct testlib_gen	gen;
	const char		*cmd;

	if (argc < 2)
		esbench_usage();
	cmd = argv[1];
	argc--;
	argv++;
	signal(SIGPIPE, SIG_IGN);
	testlib_gen_init(&gen);
	testlib_gen_fill(&gen, esbench_payload, sizeof(esbench_payload));
	if (strcmp(cmd, "sink") == 0)
		return (esbench_sink(argc, argv, 0));
	if (strcmp(cmd, "freeport") == 0)
		return (esbench_sink(argc, argv, 1));
	if (strcmp(cmd, "probe") == 0)
		return (esbench_probe(argc, argv));
	if (strcmp(cmd, "run") == 0)
		return (esbench_run(argc, argv));
	esbench_usage();
}
