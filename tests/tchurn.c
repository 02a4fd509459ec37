/*
 * tchurn: continuous connect + echo through a SOCKS5 proxy, every byte
 * checked, for the endurance test and the soak script.
 *
 *   tchurn -x PROXY:PORT -t ECHO:PORT [-c CLIENTS] [-d SECONDS]
 *          [-e EXCHANGES] [-s SIZE] [-p PAUSE_MS] [-h HOLD]
 *
 * CLIENTS threads (default 6) each open tunnels one after another until
 * SECONDS pass; a tunnel sends EXCHANGES chunks of SIZE bytes (each one
 * different: its bytes name the thread, tunnel, chunk and offset), reads
 * each back from the echo server and compares it, PAUSE_MS apart, then
 * closes.  HOLD more tunnels are opened first and held idle until the
 * end, then each made to echo once (the soak's standing load).  Prints
 *   ok N          tunnels that echoed every byte
 *   refused N     tunnels the proxy refused or that failed to open
 *   lost N        tunnels cut (EOF, reset, timeout) before the last byte
 *   corrupt N     tunnels that got a byte back that was never sent there
 *   held_ok N     held tunnels that echoed at the end
 * and exits 0 when nothing was corrupt, 1 otherwise.
 */
#include "config.h"

#include <sys/types.h>
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

#define TCHURN_MAX_CLIENTS	64
#define TCHURN_MAX_SIZE		65536
#define TCHURN_IO_TIMEOUT	10	/* seconds per blocking call */

/* What every thread shares: where to go and for how long. */
struct tchurn_conf {
	struct sockaddr_storage	 proxy;
	socklen_t		 proxylen;
	char			*host;
	uint16_t		 port;
	uint64_t		 end_us;
	int			 exchanges;
	size_t			 size;
	int			 pause_ms;
};

/* One thread's counts. */
struct tchurn_job {
	const struct tchurn_conf	*conf;
	int				 id;
	uint64_t			 ok, refused, lost, corrupt;
	char				*first_corrupt;
};

/* Fill buf with the bytes of chunk `chunk` of tunnel `tunnel` of job id. */
static void
tchurn_pattern(uint8_t *buf, size_t len, int id, uint64_t tunnel,
    int chunk)
{
	uint64_t	x = ((uint64_t)id << 48) ^ (tunnel << 16) ^
			    (uint64_t)chunk;
	size_t		i;

	for (i = 0; i < len; i++) {
		/* xorshift64: a different stream for every chunk. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)(x >> 24) ^ (uint8_t)i;
	}
}

/* Connect through the proxy to the echo server; -1 when refused. */
static int
tchurn_open(const struct tchurn_conf *c)
{
	struct testlib_socks_result	res;
	enum testlib_socks_status	st;
	char				*why = NULL;
	int				fd;

	fd = testlib_socks5_open((const struct sockaddr *)&c->proxy,
	    c->proxylen, NULL, 0, c->host, c->port, TCHURN_IO_TIMEOUT, &st,
	    &res, &why);
	if (fd == -1)
		free(why);
	return (fd);
}

/*
 * Echo one chunk on fd and compare: 0 when it came back whole, 1 when
 * the tunnel was cut first, 2 when a byte differs.
 */
static int
tchurn_exchange(int fd, const uint8_t *out, uint8_t *in, size_t len)
{
	ssize_t	n;

	if (testlib_write_full(fd, out, len) == -1)
		return (1);
	if ((n = testlib_read_full(fd, in, len)) != (ssize_t)len) {
		/* What did arrive must still be right. */
		if (n > 0 && memcmp(in, out, (size_t)n) != 0)
			return (2);
		return (1);
	}
	return (memcmp(in, out, len) == 0 ? 0 : 2);
}

/* One client: tunnels one after another until the end. */
static void *
tchurn_client(void *arg)
{
	struct tchurn_job		*job = arg;
	const struct tchurn_conf	*c = job->conf;
	uint8_t				*out, *in;
	uint64_t			 tunnel = 0;
	int				 fd, chunk, rc;

	out = xmalloc(c->size);
	in = xmalloc(c->size);
	while (testlib_now_us() < c->end_us) {
		tunnel++;
		if ((fd = tchurn_open(c)) == -1) {
			job->refused++;
			testlib_sleep_ms(10);
			continue;
		}
		rc = 0;
		for (chunk = 0; chunk < c->exchanges && rc == 0; chunk++) {
			tchurn_pattern(out, c->size, job->id, tunnel, chunk);
			rc = tchurn_exchange(fd, out, in, c->size);
			if (rc == 0 && c->pause_ms > 0 &&
			    chunk + 1 < c->exchanges)
				testlib_sleep_ms(c->pause_ms);
		}
		close(fd);
		if (rc == 0)
			job->ok++;
		else if (rc == 1)
			job->lost++;
		else {
			job->corrupt++;
			if (job->first_corrupt == NULL)
				xasprintf(&job->first_corrupt, "client %d "
				    "tunnel %llu chunk %d", job->id,
				    (unsigned long long)tunnel, chunk - 1);
		}
	}
	free(out);
	free(in);
	return (NULL);
}

/* Open hold tunnels; returns their descriptors (-1 for a failed one). */
static int *
tchurn_hold_open(const struct tchurn_conf *c, int hold)
{
	int	*fds, i;

	fds = xcalloc(hold > 0 ? hold : 1, sizeof(*fds));
	for (i = 0; i < hold; i++)
		fds[i] = tchurn_open(c);
	return (fds);
}

/* One echo on every held tunnel, then close them; how many echoed. */
static uint64_t
tchurn_hold_check(const struct tchurn_conf *c, int *fds, int hold)
{
	uint8_t		out[64], in[64];
	uint64_t	ok = 0;
	int		i;

	for (i = 0; i < hold; i++) {
		if (fds[i] == -1)
			continue;
		tchurn_pattern(out, sizeof(out), 0xffff, (uint64_t)i, 0);
		if (tchurn_exchange(fds[i], out, in, sizeof(out)) == 0)
			ok++;
		close(fds[i]);
	}
	free(fds);
	return (ok);
}

static __dead void
tchurn_usage(void)
{
	fprintf(stderr, "usage: tchurn -x PROXY:PORT -t ECHO:PORT "
	    "[-c CLIENTS] [-d SECONDS] [-e EXCHANGES] [-s SIZE] "
	    "[-p PAUSE_MS] [-h HOLD]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct tchurn_conf	 c;
	struct tchurn_job	 jobs[TCHURN_MAX_CLIENTS];
	pthread_t		 tids[TCHURN_MAX_CLIENTS];
	const char		*proxy = NULL, *target = NULL;
	char			*host, *port, *cause;
	uint64_t		 ok = 0, refused = 0, lost = 0, corrupt = 0;
	uint64_t		 held_ok;
	double			 seconds = 20;
	int			 ch, i, clients = 6, hold = 0, *held;

	memset(&c, 0, sizeof(c));
	c.exchanges = 8;
	c.size = 4096;
	c.pause_ms = 20;
	while ((ch = getopt(argc, argv, "c:d:e:h:p:s:t:x:")) != -1) {
		switch (ch) {
		case 'c':
			clients = atoi(optarg);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 'e':
			c.exchanges = atoi(optarg);
			break;
		case 'h':
			hold = atoi(optarg);
			break;
		case 'p':
			c.pause_ms = atoi(optarg);
			break;
		case 's':
			c.size = (size_t)atol(optarg);
			break;
		case 't':
			target = optarg;
			break;
		case 'x':
			proxy = optarg;
			break;
		default:
			tchurn_usage();
		}
	}
	if (proxy == NULL || target == NULL || optind != argc ||
	    clients < 1 || clients > TCHURN_MAX_CLIENTS || seconds <= 0 ||
	    c.exchanges < 1 || c.size < 1 || c.size > TCHURN_MAX_SIZE ||
	    hold < 0 || c.pause_ms < 0)
		tchurn_usage();
	signal(SIGPIPE, SIG_IGN);
	testlib_raise_nofile();
	if (testlib_split_hostport(target, &c.host, &port, &cause) == -1)
		goto fail;
	c.port = (uint16_t)atoi(port);
	free(port);
	if (testlib_split_hostport(proxy, &host, &port, &cause) == -1 ||
	    testlib_resolve(host, port, 0, &c.proxy, &c.proxylen,
	    &cause) == -1)
		goto fail;
	free(host);
	free(port);

	held = tchurn_hold_open(&c, hold);
	c.end_us = testlib_now_us() + (uint64_t)(seconds * 1e6);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < clients; i++) {
		jobs[i].conf = &c;
		jobs[i].id = i;
		if (pthread_create(&tids[i], NULL, tchurn_client,
		    &jobs[i]) != 0) {
			fprintf(stderr, "tchurn: pthread_create failed\n");
			return (2);
		}
	}
	for (i = 0; i < clients; i++) {
		pthread_join(tids[i], NULL);
		ok += jobs[i].ok;
		refused += jobs[i].refused;
		lost += jobs[i].lost;
		corrupt += jobs[i].corrupt;
		if (jobs[i].first_corrupt != NULL) {
			fprintf(stderr, "tchurn: corrupt: %s\n",
			    jobs[i].first_corrupt);
			free(jobs[i].first_corrupt);
		}
	}
	held_ok = tchurn_hold_check(&c, held, hold);
	printf("ok %llu\nrefused %llu\nlost %llu\ncorrupt %llu\n"
	    "held_ok %llu\n", (unsigned long long)ok,
	    (unsigned long long)refused, (unsigned long long)lost,
	    (unsigned long long)corrupt, (unsigned long long)held_ok);
	free(c.host);
	return (corrupt == 0 ? 0 : 1);
fail:
	fprintf(stderr, "tchurn: %s\n", cause);
	return (2);
}
