/*
 * Shared code of the test tools and the benchmark.  The SOCKS client
 * here is written from the RFCs, not from src/socks.c, so that a bug in
 * the daemon's codec cannot hide behind the same bug in its tests.  The
 * poll() server at the end is the body of tsink and of "esbench sink".
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"

const char	*__asan_default_options(void);

#define TESTLIB_GEN_SEED	0x9e3779b97f4a7c15ULL
#define TESTLIB_FNV_OFFSET	0xcbf29ce484222325ULL
#define TESTLIB_FNV_PRIME	0x100000001b3ULL

/*
 * Under --enable-asan, keep the leak check out of the tools: they exit
 * right after their work with buffers still held, and a leak report
 * would replace the exit status that the tests read.  Memory errors are
 * still caught.  The daemon does not link this file.
 */
const char *
__asan_default_options(void)
{
	return ("detect_leaks=0");
}

/* Microseconds on the monotonic clock. */
uint64_t
testlib_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Sleep for ms milliseconds, resuming after signals. */
void
testlib_sleep_ms(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Parse a byte count with an optional K, M or G (binary) suffix. */
int
testlib_parse_size(const char *s, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;
	uint64_t		 mult = 1;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return (-1);
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	default:
		return (-1);
	}
	if (*end != '\0' || (v != 0 && UINT64_MAX / v < mult))
		return (-1);
	*out = v * mult;
	return (0);
}

/* Lift the soft descriptor limit to the hard one, higher if allowed. */
void
testlib_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 65536) {
		struct rlimit	want = { 65536, 65536 };

		/* Root may raise the hard limit; others keep theirs. */
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
		rl.rlim_cur = 1048576;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Split "host:port" or "[v6addr]:port" into fresh strings. */
int
testlib_split_hostport(const char *spec, char **host, char **port,
    char **cause)
{
	const char	*colon, *close;

	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL || close[1] != ':') {
			xasprintf(cause, "%s: expected [ADDR]:PORT", spec);
			return (-1);
		}
		*host = xstrndup(spec + 1, close - spec - 1);
		colon = close + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL) {
			xasprintf(cause, "%s: expected HOST:PORT", spec);
			return (-1);
		}
		*host = xstrndup(spec, colon - spec);
	}
	if (**host == '\0' || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) > 65535) {
		xasprintf(cause, "%s: bad host or port", spec);
		free(*host);
		*host = NULL;
		return (-1);
	}
	*port = xstrdup(colon + 1);
	return (0);
}

/* Resolve host and port to the first stream address getaddrinfo gives. */
int
testlib_resolve(const char *host, const char *port, int passive,
    struct sockaddr_storage *ss, socklen_t *sslen, char **cause)
{
	struct addrinfo	 hints, *res;
	int		 error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (passive)
		hints.ai_flags = AI_PASSIVE;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		xasprintf(cause, "%s:%s: %s", host, port, gai_strerror(error));
		return (-1);
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* Open a listening socket on "ADDR:PORT"; port 0 picks a free one. */
int
testlib_listen(const char *spec, int backlog, char **cause)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			*host, *port;
	int			 fd, one = 1, rc;

	if (testlib_split_hostport(spec, &host, &port, cause) == -1)
		return (-1);
	rc = testlib_resolve(host, port, 1, &ss, &sslen, cause);
	free(host);
	free(port);
	if (rc == -1)
		return (-1);
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1) {
		xasprintf(cause, "%s: socket: %s", spec, strerror(errno));
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, backlog) == -1) {
		xasprintf(cause, "%s: bind: %s", spec, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Connect within timeout_ms (< 0: no limit); a blocking fd, or -1, errno. */
int
testlib_connect_addr(const struct sockaddr *sa, socklen_t salen,
    int timeout_ms, char **cause)
{
	struct pollfd	pfd;
	socklen_t	len;
	int		fd, error, one = 1, n;

	if ((fd = socket(sa->sa_family, SOCK_STREAM, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	if (testlib_set_nonblock(fd, 1) == -1)
		goto fail;
	if (connect(fd, sa, salen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		while ((n = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
			;
		if (n == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		len = sizeof(error);
		if (n == -1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
			goto fail;
		if (error != 0) {
			errno = error;
			goto fail;
		}
	}
	if (testlib_set_nonblock(fd, 0) == -1)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return (fd);

fail:
	error = errno;
	xasprintf(cause, "connect: %s", strerror(error));
	close(fd);
	errno = error;		/* callers may tell a timeout from a refusal */
	return (-1);
}

/* Connect to "HOST:PORT", trying each address in turn. */
int
testlib_connect(const char *spec, int timeout_ms, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	char		*host, *port, *why = NULL;
	int		 fd = -1, error;

	if (testlib_split_hostport(spec, &host, &port, cause) == -1)
		return (-1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	error = getaddrinfo(host, port, &hints, &res);
	free(host);
	free(port);
	if (error != 0) {
		xasprintf(cause, "%s: %s", spec, gai_strerror(error));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		free(why);
		why = NULL;
		fd = testlib_connect_addr(ai->ai_addr, ai->ai_addrlen,
		    timeout_ms, &why);
		if (fd != -1)
			break;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		xasprintf(cause, "%s: %s", spec, why != NULL ? why :
		    "no address");
	}
	free(why);
	return (fd);
}

/* Write an address as "a.b.c.d:port" or "[v6]:port". */
void
testlib_format_addr(const struct sockaddr *sa, socklen_t salen, char *out,
    size_t outlen)
{
	char	host[NI_MAXHOST], port[NI_MAXSERV];

	if (getnameinfo(sa, salen, host, sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, outlen, "?:?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(out, outlen, "[%s]:%s", host, port);
	else
		snprintf(out, outlen, "%s:%s", host, port);
}

/* The local port a socket is bound to, or -1. */
int
testlib_local_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	if (ss.ss_family == AF_INET)
		return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
	if (ss.ss_family == AF_INET6)
		return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return (-1);
}

/*
 * A seed that differs between processes started in quick succession: the
 * system's random source, else the nanosecond clock mixed with the PID.
 * (getpid() ^ time() is not: two PIDs one apart either side of a second
 * boundary give the same seed, hence the same "free" port twice.)
 */
static uint32_t
testlib_seed(void)
{
	struct timespec	ts;
	uint32_t	seed;
	int		fd;

	if ((fd = open("/dev/urandom", O_RDONLY)) != -1) {
		if (read(fd, &seed, sizeof(seed)) == (ssize_t)sizeof(seed)) {
			close(fd);
			return (seed | 1);
		}
		close(fd);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (((uint32_t)ts.tv_nsec * 2654435761U ^ (uint32_t)getpid() << 16 ^
	    (uint32_t)ts.tv_sec) | 1);
}

/*
 * A port of host (an address, IPv6 without brackets) that is free now, drawn at random from 20000-31999,
 * below the ephemeral range: a port from bind(0) is one the next outgoing
 * connect of a parallel test may take before the daemon binds it.  When
 * 200 draws find nothing, let the kernel pick, racy as that is.  -1 and
 * *cause on failure.
 */
int
testlib_free_port(const char *host, char **cause)
{
	const char	*fmt = strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d";
	char		 spec[160];
	uint32_t	 x = testlib_seed();
	int		 i, lfd, port;

	for (i = 0; i < 200; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		port = 20000 + (int)(x % 12000);
		snprintf(spec, sizeof(spec), fmt, host, port);
		if ((lfd = testlib_listen(spec, 1, cause)) != -1) {
			close(lfd);
			return (port);
		}
		free(*cause);
	}
	snprintf(spec, sizeof(spec), fmt, host, 0);
	if ((lfd = testlib_listen(spec, 1, cause)) == -1)
		return (-1);
	port = testlib_local_port(lfd);
	close(lfd);
	return (port);
}

/* Write the port to path through a temporary file and rename(2). */
int
testlib_write_portfile(const char *path, int port, char **cause)
{
	char	*tmp;
	FILE	*f;
	int	 rc = -1;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return (-1);
	}
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
	else if (rename(tmp, path) == -1)
		xasprintf(cause, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	return (rc);
}

/* Turn O_NONBLOCK on or off. */
int
testlib_set_nonblock(int fd, int on)
{
	int	flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1)
		return (-1);
	flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
	return (fcntl(fd, F_SETFL, flags));
}

/* Write all of buf to a blocking descriptor; 0 or -1 with errno. */
int
testlib_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= n;
	}
	return (0);
}

/* Read len bytes from a blocking descriptor; fewer means EOF, -1 error. */
ssize_t
testlib_read_full(int fd, void *buf, size_t len)
{
	uint8_t	*p = buf;
	size_t	 got = 0;
	ssize_t	 n;

	while (got < len) {
		if ((n = read(fd, p + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0)
			break;
		got += n;
	}
	return (got);
}

/* Start the generator at its fixed seed. */
void
testlib_gen_init(struct testlib_gen *g)
{
	g->state = TESTLIB_GEN_SEED;
	g->nspare = 0;
}

/* One xorshift64* step. */
static uint64_t
testlib_gen_next(struct testlib_gen *g)
{
	g->state ^= g->state >> 12;
	g->state ^= g->state << 25;
	g->state ^= g->state >> 27;
	return (g->state * 0x2545f4914f6cdd1dULL);
}

/* Store a word little-endian whatever the host order. */
static void
testlib_gen_store(uint8_t *p, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &w, sizeof(w));
#else
	int	i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(w >> (8 * i));
#endif
}

/* Fill buf with the next len bytes; chunk sizes do not change the stream. */
void
testlib_gen_fill(struct testlib_gen *g, void *buf, size_t len)
{
	uint8_t	*p = buf;

	while (len > 0 && g->nspare > 0) {
		*p++ = g->spare[8 - g->nspare];
		g->nspare--;
		len--;
	}
	while (len >= 8) {
		testlib_gen_store(p, testlib_gen_next(g));
		p += 8;
		len -= 8;
	}
	if (len > 0) {
		testlib_gen_store(g->spare, testlib_gen_next(g));
		memcpy(p, g->spare, len);
		g->nspare = 8 - len;
	}
}

/* Start an empty checksum. */
void
testlib_sum_init(struct testlib_sum *s)
{
	s->hash = TESTLIB_FNV_OFFSET;
	s->bytes = 0;
}

/* Add bytes to the checksum. */
void
testlib_sum_add(struct testlib_sum *s, const void *buf, size_t len)
{
	const uint8_t	*p = buf, *end = p + len;
	uint64_t	 h = s->hash;

	while (p < end) {
		h ^= *p++;
		h *= TESTLIB_FNV_PRIME;
	}
	s->hash = h;
	s->bytes += len;
}

/* Format "bytes=N sum=HEX", the line socksc -k and tsink sum print. */
void
testlib_sum_format(const struct testlib_sum *s, char *out, size_t outlen)
{
	snprintf(out, outlen, "bytes=%" PRIu64 " sum=%016" PRIx64, s->bytes,
	    s->hash);
}

/* Send handshake bytes, one at a time with pauses when split_ms >= 0. */
static int
testlib_socks_send(int fd, const uint8_t *p, size_t len, int split_ms)
{
	size_t	i;

	if (split_ms < 0)
		return (testlib_write_full(fd, p, len));
	for (i = 0; i < len; i++) {
		if (testlib_write_full(fd, p + i, 1) == -1)
			return (-1);
		if (split_ms > 0)
			testlib_sleep_ms(split_ms);
	}
	return (0);
}

/* Read exactly len handshake bytes; an early EOF is an error. */
static int
testlib_socks_recv(int fd, void *buf, size_t len, const char *what,
    char **cause)
{
	ssize_t	n;

	if ((n = testlib_read_full(fd, buf, len)) == -1) {
		xasprintf(cause, "reading %s: %s", what, strerror(errno));
		return (-1);
	}
	if ((size_t)n < len) {
		xasprintf(cause, "proxy closed the connection during the %s "
		    "(%zd of %zu bytes)", what, n, len);
		return (-1);
	}
	return (0);
}

/* Build the SOCKS4 or 4a request; -1 if the host has no IPv4 address. */
static int
testlib_socks4_request(const struct testlib_socks *sc, uint8_t *out,
    size_t *outlen, char **cause)
{
	struct in_addr		 in;
	const char		*user = sc->user != NULL ? sc->user : "";
	size_t			 len = 0, n;

	out[len++] = 4;
	out[len++] = 1;
	out[len++] = sc->port >> 8;
	out[len++] = sc->port & 0xff;
	if (sc->version == TESTLIB_SOCKS4A) {
		memcpy(out + len, "\0\0\0\1", 4);
	} else {
		if (inet_pton(AF_INET, sc->host, &in) != 1) {
			/* SOCKS4 proper: the client resolves, IPv4 only. */
			struct addrinfo	hints, *res;

			memset(&hints, 0, sizeof(hints));
			hints.ai_family = AF_INET;
			hints.ai_socktype = SOCK_STREAM;
			if (getaddrinfo(sc->host, NULL, &hints, &res) != 0) {
				xasprintf(cause, "%s: no IPv4 address for "
				    "SOCKS4", sc->host);
				return (-1);
			}
			in = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
			freeaddrinfo(res);
		}
		memcpy(out + len, &in, 4);
	}
	len += 4;
	n = strlen(user) + 1;
	memcpy(out + len, user, n);
	len += n;
	if (sc->version == TESTLIB_SOCKS4A) {
		n = strlen(sc->host) + 1;
		memcpy(out + len, sc->host, n);
		len += n;
	}
	*outlen = len;
	return (0);
}

/* Build the SOCKS5 CONNECT request. */
static int
testlib_socks5_request(const struct testlib_socks *sc, uint8_t *out,
    size_t *outlen, char **cause)
{
	uint8_t	addr[16];
	size_t	len = 0, n;

	out[len++] = 5;
	out[len++] = 1;
	out[len++] = 0;
	if (!sc->force_domain && inet_pton(AF_INET, sc->host, addr) == 1) {
		out[len++] = 1;
		memcpy(out + len, addr, 4);
		len += 4;
	} else if (!sc->force_domain &&
	    inet_pton(AF_INET6, sc->host, addr) == 1) {
		out[len++] = 4;
		memcpy(out + len, addr, 16);
		len += 16;
	} else {
		if ((n = strlen(sc->host)) > 255) {
			xasprintf(cause, "host name longer than 255 bytes");
			return (-1);
		}
		out[len++] = 3;
		out[len++] = n;
		memcpy(out + len, sc->host, n);
		len += n;
	}
	out[len++] = sc->port >> 8;
	out[len++] = sc->port & 0xff;
	*outlen = len;
	return (0);
}

/* Read and check a SOCKS4 reply. */
static enum testlib_socks_status
testlib_socks4_reply(int fd, struct testlib_socks_result *res, char **cause)
{
	struct sockaddr_in	sin;
	uint8_t			r[8];

	if (testlib_socks_recv(fd, r, sizeof(r), "SOCKS4 reply", cause) == -1)
		return (TESTLIB_SOCKS_ERROR);
	if (r[0] != 0) {
		xasprintf(cause, "SOCKS4 reply version 0x%02x, want 0", r[0]);
		return (TESTLIB_SOCKS_ERROR);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_port, r + 2, 2);
	memcpy(&sin.sin_addr, r + 4, 4);
	testlib_format_addr((struct sockaddr *)&sin, sizeof(sin), res->bound,
	    sizeof(res->bound));
	res->stage = TESTLIB_STAGE_REPLY;
	res->code = r[1];
	return (r[1] == 0x5a ? TESTLIB_SOCKS_OK : TESTLIB_SOCKS_REFUSED);
}

/* Read and check a SOCKS5 reply, whose length depends on its ATYP. */
static enum testlib_socks_status
testlib_socks5_reply(int fd, struct testlib_socks_result *res, char **cause)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	uint8_t			 r[4], a[256 + 2];
	size_t			 alen;
	char			 name[256];

	if (testlib_socks_recv(fd, r, sizeof(r), "SOCKS5 reply", cause) == -1)
		return (TESTLIB_SOCKS_ERROR);
	if (r[0] != 5 || r[2] != 0) {
		xasprintf(cause, "bad SOCKS5 reply header %02x %02x %02x %02x",
		    r[0], r[1], r[2], r[3]);
		return (TESTLIB_SOCKS_ERROR);
	}
	res->stage = TESTLIB_STAGE_REPLY;
	res->code = r[1];
	switch (r[3]) {
	case 1:
		alen = 4;
		break;
	case 4:
		alen = 16;
		break;
	case 3:
		if (testlib_socks_recv(fd, a, 1, "SOCKS5 reply", cause) == -1)
			return (TESTLIB_SOCKS_ERROR);
		alen = a[0];
		break;
	default:
		xasprintf(cause, "SOCKS5 reply with ATYP 0x%02x", r[3]);
		return (TESTLIB_SOCKS_ERROR);
	}
	if (testlib_socks_recv(fd, a, alen + 2, "SOCKS5 reply", cause) == -1)
		return (TESTLIB_SOCKS_ERROR);
	switch (r[3]) {
	case 1:
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a, 4);
		memcpy(&sin.sin_port, a + 4, 2);
		testlib_format_addr((struct sockaddr *)&sin, sizeof(sin),
		    res->bound, sizeof(res->bound));
		break;
	case 4:
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a, 16);
		memcpy(&sin6.sin6_port, a + 16, 2);
		testlib_format_addr((struct sockaddr *)&sin6, sizeof(sin6),
		    res->bound, sizeof(res->bound));
		break;
	default:
		memcpy(name, a, alen);
		name[alen] = '\0';
		snprintf(res->bound, sizeof(res->bound), "%s:%u", name,
		    (unsigned)(a[alen] << 8 | a[alen + 1]));
		break;
	}
	return (r[1] == 0 ? TESTLIB_SOCKS_OK : TESTLIB_SOCKS_REFUSED);
}

/* Read the SOCKS5 method choice; 0xff is a refusal. */
static enum testlib_socks_status
testlib_socks5_method_reply(int fd, const struct testlib_socks *sc,
    struct testlib_socks_result *res, char **cause)
{
	uint8_t	r[2];
	int	want = sc->user != NULL ? 2 : 0;

	if (testlib_socks_recv(fd, r, 2, "SOCKS5 method reply", cause) == -1)
		return (TESTLIB_SOCKS_ERROR);
	if (r[0] != 5) {
		xasprintf(cause, "method reply version 0x%02x, want 5", r[0]);
		return (TESTLIB_SOCKS_ERROR);
	}
	res->stage = TESTLIB_STAGE_METHOD;
	res->code = r[1];
	if (r[1] == 0xff)
		return (TESTLIB_SOCKS_REFUSED);
	if (r[1] != want) {
		xasprintf(cause, "proxy chose method 0x%02x, offered 0x%02x",
		    r[1], want);
		return (TESTLIB_SOCKS_ERROR);
	}
	return (TESTLIB_SOCKS_OK);
}

/* Read the RFC 1929 status; non-zero is a refusal. */
static enum testlib_socks_status
testlib_socks5_auth_reply(int fd, struct testlib_socks_result *res,
    char **cause)
{
	uint8_t	r[2];

	if (testlib_socks_recv(fd, r, 2, "RFC 1929 reply", cause) == -1)
		return (TESTLIB_SOCKS_ERROR);
	if (r[0] != 1) {
		xasprintf(cause, "RFC 1929 reply version 0x%02x, want 1",
		    r[0]);
		return (TESTLIB_SOCKS_ERROR);
	}
	res->stage = TESTLIB_STAGE_AUTH;
	res->code = r[1];
	return (r[1] == 0 ? TESTLIB_SOCKS_OK : TESTLIB_SOCKS_REFUSED);
}

/*
 * Run a CONNECT handshake on a blocking socket.  With pipeline set the
 * greeting, credentials, request and early data go out in one write
 * before any answer is read; otherwise each step waits for its answer,
 * and the early data follows the request without waiting for the reply.
 */
enum testlib_socks_status
testlib_socks_handshake(int fd, const struct testlib_socks *sc,
    struct testlib_socks_result *res, char **cause)
{
	uint8_t				 greet[3], auth[1 + 2 * 256];
	uint8_t				*all, req[600];
	size_t				 greetlen = 0, authlen = 0, reqlen;
	size_t				 ulen, plen, alllen;
	enum testlib_socks_status	 st;
	int				 v5 = sc->version == TESTLIB_SOCKS5;

	memset(res, 0, sizeof(*res));
	snprintf(res->bound, sizeof(res->bound), "-");
	if (v5) {
		greet[greetlen++] = 5;
		greet[greetlen++] = 1;
		greet[greetlen++] = sc->user != NULL ? 2 : 0;
		if (testlib_socks5_request(sc, req, &reqlen, cause) == -1)
			return (TESTLIB_SOCKS_ERROR);
	} else {
		if (strlen(sc->host) > 255 || (sc->user != NULL &&
		    strlen(sc->user) > 255)) {
			xasprintf(cause, "host or user longer than 255 bytes");
			return (TESTLIB_SOCKS_ERROR);
		}
		if (testlib_socks4_request(sc, req, &reqlen, cause) == -1)
			return (TESTLIB_SOCKS_ERROR);
	}
	if (v5 && sc->user != NULL) {
		const char *pass = sc->pass != NULL ? sc->pass : "";

		ulen = strlen(sc->user);
		plen = strlen(pass);
		if (ulen > 255 || plen > 255) {
			xasprintf(cause, "user or password longer than 255");
			return (TESTLIB_SOCKS_ERROR);
		}
		auth[authlen++] = 1;
		auth[authlen++] = ulen;
		memcpy(auth + authlen, sc->user, ulen);
		authlen += ulen;
		auth[authlen++] = plen;
		memcpy(auth + authlen, pass, plen);
		authlen += plen;
	}

	if (sc->pipeline) {
		alllen = greetlen + authlen + reqlen + sc->earlylen;
		all = xmalloc(alllen);
		memcpy(all, greet, greetlen);
		memcpy(all + greetlen, auth, authlen);
		memcpy(all + greetlen + authlen, req, reqlen);
		if (sc->earlylen > 0) {
			memcpy(all + greetlen + authlen + reqlen, sc->early,
			    sc->earlylen);
		}
		if (testlib_socks_send(fd, all, alllen, sc->split_ms) == -1) {
			xasprintf(cause, "sending handshake: %s",
			    strerror(errno));
			free(all);
			return (TESTLIB_SOCKS_ERROR);
		}
		free(all);
		if (v5 && (st = testlib_socks5_method_reply(fd, sc, res,
		    cause)) != TESTLIB_SOCKS_OK)
			return (st);
		if (authlen > 0 && (st = testlib_socks5_auth_reply(fd, res,
		    cause)) != TESTLIB_SOCKS_OK)
			return (st);
	} else {
		if (v5) {
			if (testlib_socks_send(fd, greet, greetlen,
			    sc->split_ms) == -1)
				goto send_failed;
			if ((st = testlib_socks5_method_reply(fd, sc, res,
			    cause)) != TESTLIB_SOCKS_OK)
				return (st);
			if (authlen > 0) {
				if (testlib_socks_send(fd, auth, authlen,
				    sc->split_ms) == -1)
					goto send_failed;
				if ((st = testlib_socks5_auth_reply(fd, res,
				    cause)) != TESTLIB_SOCKS_OK)
					return (st);
			}
		}
		if (testlib_socks_send(fd, req, reqlen, sc->split_ms) == -1)
			goto send_failed;
		if (sc->earlylen > 0 &&
		    testlib_write_full(fd, sc->early, sc->earlylen) == -1)
			goto send_failed;
	}
	if (v5)
		return (testlib_socks5_reply(fd, res, cause));
	return (testlib_socks4_reply(fd, res, cause));

send_failed:
	xasprintf(cause, "sending handshake: %s", strerror(errno));
	return (TESTLIB_SOCKS_ERROR);
}

/* One accepted connection of the test server. */
struct testlib_conn {
	int			 fd;
	enum testlib_serve_mode	 mode;
	int			 rd_eof;	/* the peer finished sending */
	int			 wr_shut;	/* we finished sending */
	uint8_t			*pend;		/* output not yet taken */
	size_t			 pendoff;
	size_t			 pendlen;
	uint64_t		 remaining;	/* SOURCE bytes still to make */
	struct testlib_gen	 gen;
	struct testlib_sum	 sum;		/* SUM hash, DISCARD count */
	char			 cmd[64];	/* COMMAND line so far */
	size_t			 cmdlen;
};

static uint8_t	testlib_scratch[TESTLIB_BUFSIZE];

/* Parse a tsink mode name: echo, sum, source:N, discard, hold, bound. */
int
testlib_serve_parse_mode(const char *s, enum testlib_serve_mode *mode,
    uint64_t *n)
{
	*n = 0;
	if (strcmp(s, "echo") == 0)
		*mode = TESTLIB_SERVE_ECHO;
	else if (strcmp(s, "sum") == 0)
		*mode = TESTLIB_SERVE_SUM;
	else if (strcmp(s, "discard") == 0)
		*mode = TESTLIB_SERVE_DISCARD;
	else if (strcmp(s, "hold") == 0)
		*mode = TESTLIB_SERVE_HOLD;
	else if (strcmp(s, "bound") == 0)
		*mode = TESTLIB_SERVE_BOUND;
	else if (strcmp(s, "command") == 0)
		*mode = TESTLIB_SERVE_COMMAND;
	else if (strncmp(s, "source:", 7) == 0 &&
	    testlib_parse_size(s + 7, n) == 0)
		*mode = TESTLIB_SERVE_SOURCE;
	else
		return (-1);
	return (0);
}

/* Close a connection; the slot is swept after the poll round. */
static void
testlib_conn_close(struct testlib_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->pend);
	c->pend = NULL;
	c->pendlen = 0;
}

/* Queue a copy of bytes the socket did not take. */
static void
testlib_conn_keep(struct testlib_conn *c, const uint8_t *p, size_t len)
{
	c->pend = xmalloc(len);
	memcpy(c->pend, p, len);
	c->pendoff = 0;
	c->pendlen = len;
}

/* Write now what the socket takes and keep the rest; -1 on error. */
static int
testlib_conn_send(struct testlib_conn *c, const uint8_t *p, size_t len)
{
	ssize_t	n;

	if ((n = write(c->fd, p, len)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return (-1);
		n = 0;
	}
	if ((size_t)n < len)
		testlib_conn_keep(c, p + n, len - n);
	return (0);
}

/* Queue a text answer (sum and discard reports, bound's peer line). */
static void
testlib_conn_answer(struct testlib_conn *c, const char *line)
{
	if (testlib_conn_send(c, (const uint8_t *)line, strlen(line)) == -1)
		testlib_conn_close(c);
}

/* Decide what happens after output drained or input ended. */
static void
testlib_conn_progress(struct testlib_conn *c)
{
	if (c->fd == -1 || c->pendlen > 0)
		return;
	switch (c->mode) {
	case TESTLIB_SERVE_ECHO:
		if (c->rd_eof) {
			shutdown(c->fd, SHUT_WR);
			testlib_conn_close(c);
		}
		break;
	case TESTLIB_SERVE_SUM:
	case TESTLIB_SERVE_DISCARD:
		if (c->wr_shut)
			testlib_conn_close(c);
		break;
	case TESTLIB_SERVE_SOURCE:
	case TESTLIB_SERVE_BOUND:
		if (c->remaining > 0)
			break;
		if (!c->wr_shut) {
			/* Half-close; read to EOF so close sends no RST. */
			shutdown(c->fd, SHUT_WR);
			c->wr_shut = 1;
		}
		if (c->rd_eof)
			testlib_conn_close(c);
		break;
	default:
		break;
	}
}

static void	testlib_conn_input(struct testlib_conn *, const uint8_t *,
		    size_t);

/* Switch a COMMAND connection to the mode its first line asks for. */
static void
testlib_conn_command(struct testlib_conn *c, const uint8_t *p, size_t len)
{
	uint8_t		*nl;
	size_t		 take;
	uint64_t	 n;

	nl = memchr(p, '\n', len);
	take = nl != NULL ? (size_t)(nl - p) + 1 : len;
	if (c->cmdlen + take >= sizeof(c->cmd)) {
		testlib_conn_close(c);
		return;
	}
	memcpy(c->cmd + c->cmdlen, p, take);
	c->cmdlen += take;
	if (nl == NULL)
		return;
	c->cmd[c->cmdlen - 1] = '\0';
	if (strcmp(c->cmd, "E") == 0)
		c->mode = TESTLIB_SERVE_ECHO;
	else if (strcmp(c->cmd, "D") == 0)
		c->mode = TESTLIB_SERVE_DISCARD;
	else if (strcmp(c->cmd, "H") == 0)
		c->mode = TESTLIB_SERVE_HOLD;
	else if (strncmp(c->cmd, "S ", 2) == 0 &&
	    testlib_parse_size(c->cmd + 2, &n) == 0) {
		c->mode = TESTLIB_SERVE_SOURCE;
		c->remaining = n;
	} else {
		testlib_conn_close(c);
		return;
	}
	if (len > take)
		testlib_conn_input(c, p + take, len - take);
}

/* Handle bytes the peer sent, according to the mode. */
static void
testlib_conn_input(struct testlib_conn *c, const uint8_t *p, size_t len)
{
	switch (c->mode) {
	case TESTLIB_SERVE_ECHO:
		if (testlib_conn_send(c, p, len) == -1)
			testlib_conn_close(c);
		break;
	case TESTLIB_SERVE_SUM:
		testlib_sum_add(&c->sum, p, len);
		break;
	case TESTLIB_SERVE_DISCARD:
		c->sum.bytes += len;
		break;
	case TESTLIB_SERVE_COMMAND:
		testlib_conn_command(c, p, len);
		break;
	default:
		/* SOURCE, BOUND: what the peer sends is dropped. */
		break;
	}
}

/* The peer finished sending. */
static void
testlib_conn_eof(struct testlib_conn *c)
{
	char	line[TESTLIB_SUMSTRLEN + 2];

	c->rd_eof = 1;
	switch (c->mode) {
	case TESTLIB_SERVE_SUM:
		testlib_sum_format(&c->sum, line, sizeof(line) - 1);
		strcat(line, "\n");
		c->wr_shut = 1;
		testlib_conn_answer(c, line);
		break;
	case TESTLIB_SERVE_DISCARD:
		snprintf(line, sizeof(line), "bytes=%" PRIu64 "\n",
		    c->sum.bytes);
		c->wr_shut = 1;
		testlib_conn_answer(c, line);
		break;
	case TESTLIB_SERVE_COMMAND:
	case TESTLIB_SERVE_HOLD:
		testlib_conn_close(c);
		return;
	default:
		break;
	}
	testlib_conn_progress(c);
}

/* Read what is there, a few buffers at most to stay fair. */
static void
testlib_conn_readable(struct testlib_conn *c)
{
	ssize_t	n;
	int	i;

	for (i = 0; i < 4 && c->fd != -1 && !c->rd_eof; i++) {
		/* Echo stops reading while its peer is not taking bytes. */
		if (c->mode == TESTLIB_SERVE_ECHO && c->pendlen > 0)
			return;
		n = read(c->fd, testlib_scratch, sizeof(testlib_scratch));
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				testlib_conn_close(c);
			return;
		}
		if (n == 0) {
			testlib_conn_eof(c);
			return;
		}
		testlib_conn_input(c, testlib_scratch, n);
		if ((size_t)n < sizeof(testlib_scratch))
			return;
	}
}

/* Flush pending output, then make more if the mode is a source. */
static void
testlib_conn_writable(struct testlib_conn *c)
{
	ssize_t	n;
	size_t	chunk;
	int	i;

	if (c->pendlen > 0) {
		n = write(c->fd, c->pend + c->pendoff, c->pendlen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				testlib_conn_close(c);
			return;
		}
		c->pendoff += n;
		c->pendlen -= n;
		if (c->pendlen > 0)
			return;
		free(c->pend);
		c->pend = NULL;
	}
	for (i = 0; i < 16 && c->remaining > 0 && c->pendlen == 0; i++) {
		chunk = sizeof(testlib_scratch);
		if (c->remaining < chunk)
			chunk = c->remaining;
		testlib_gen_fill(&c->gen, testlib_scratch, chunk);
		c->remaining -= chunk;
		if (testlib_conn_send(c, testlib_scratch, chunk) == -1) {
			testlib_conn_close(c);
			return;
		}
	}
	testlib_conn_progress(c);
}

/* Poll events a connection wants now. */
static short
testlib_conn_events(const struct testlib_conn *c)
{
	short	ev = 0;

	switch (c->mode) {
	case TESTLIB_SERVE_HOLD:
#ifdef POLLRDHUP
		return (POLLRDHUP);
#else
		return (0);
#endif
	case TESTLIB_SERVE_ECHO:
		if (!c->rd_eof && c->pendlen == 0)
			ev |= POLLIN;
		break;
	default:
		if (!c->rd_eof)
			ev |= POLLIN;
		break;
	}
	if (c->pendlen > 0 || (c->remaining > 0 && !c->wr_shut))
		ev |= POLLOUT;
	return (ev);
}

/* Set up a freshly accepted connection. */
static struct testlib_conn *
testlib_conn_new(int fd, enum testlib_serve_mode mode, uint64_t n)
{
	struct testlib_conn	*c;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			 addr[TESTLIB_ADDRSTRLEN], line[320];
	int			 one = 1;

	testlib_set_nonblock(fd, 1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->mode = mode;
	testlib_gen_init(&c->gen);
	testlib_sum_init(&c->sum);
	if (mode == TESTLIB_SERVE_SOURCE)
		c->remaining = n;
	if (mode == TESTLIB_SERVE_BOUND) {
		if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1)
			snprintf(addr, sizeof(addr), "?:?");
		else
			testlib_format_addr((struct sockaddr *)&ss, sslen,
			    addr, sizeof(addr));
		snprintf(line, sizeof(line), "peer=%s\n", addr);
		testlib_conn_answer(c, line);
		testlib_conn_progress(c);
	}
	return (c);
}

/*
 * Serve connections on a listening socket until killed: one process,
 * poll() over every connection, each behaving as mode says.
 */
void
testlib_serve(int lfd, enum testlib_serve_mode mode, uint64_t n)
{
	struct testlib_conn	**conns = NULL;
	struct pollfd		 *pfds = NULL;
	size_t			  nconns = 0, cap = 0, i, j;
	uint64_t		  paused_until = 0;
	int			  fd, timeout, k;

	testlib_set_nonblock(lfd, 1);
	for (;;) {
		if (cap < nconns + 1) {
			cap = cap == 0 ? 64 : cap * 2;
			conns = xreallocarray(conns, cap, sizeof(*conns));
			pfds = xreallocarray(pfds, cap + 1, sizeof(*pfds));
		}
		timeout = -1;
		pfds[0].fd = lfd;
		pfds[0].events = POLLIN;
		if (paused_until != 0) {
			if (testlib_now_us() < paused_until) {
				pfds[0].fd = -1;
				timeout = 100;
			} else
				paused_until = 0;
		}
		for (i = 0; i < nconns; i++) {
			pfds[i + 1].fd = conns[i]->fd;
			pfds[i + 1].events = testlib_conn_events(conns[i]);
			pfds[i + 1].revents = 0;
		}
		if (poll(pfds, nconns + 1, timeout) == -1) {
			if (errno == EINTR)
				continue;
			perror("poll");
			exit(1);
		}
		for (i = 0; i < nconns; i++) {
			struct testlib_conn	*c = conns[i];
			short			 re = pfds[i + 1].revents;

			if (re == 0 || c->fd == -1)
				continue;
			if (c->mode == TESTLIB_SERVE_HOLD) {
				testlib_conn_close(c);
				continue;
			}
			if (re & (POLLIN | POLLHUP | POLLERR))
				testlib_conn_readable(c);
			if (c->fd != -1 &&
			    (re & (POLLOUT | POLLERR | POLLHUP)))
				testlib_conn_writable(c);
			if (c->fd != -1 && (re & POLLNVAL))
				testlib_conn_close(c);
		}
		/* Sweep closed connections, keeping the order. */
		for (i = j = 0; i < nconns; i++) {
			if (conns[i]->fd == -1)
				free(conns[i]);
			else
				conns[j++] = conns[i];
		}
		nconns = j;
		if (!(pfds[0].revents & POLLIN))
			continue;
		for (k = 0; k < 64; k++) {
			if ((fd = accept(lfd, NULL, NULL)) == -1) {
				if (errno == EMFILE || errno == ENFILE ||
				    errno == ENOBUFS || errno == ENOMEM)
					paused_until = testlib_now_us() +
					    100000;
				break;
			}
			if (nconns == cap) {
				cap *= 2;
				conns = xreallocarray(conns, cap,
				    sizeof(*conns));
				pfds = xreallocarray(pfds, cap + 1,
				    sizeof(*pfds));
			}
			conns[nconns] = testlib_conn_new(fd, mode, n);
			if (conns[nconns]->fd == -1)
				free(conns[nconns]);
			else
				nconns++;
		}
	}
}

/*
 * Send a client's whole handshake in one write without reading any
 * answer: the SOCKS5 greeting and credentials (none for SOCKS4), the
 * request, then the early data.  For tests of clients that leave before
 * the proxy has answered; testlib_socks_read_replies reads the answers.
 */
int
testlib_socks_send_request(int fd, const struct testlib_socks *sc,
    char **cause)
{
	uint8_t	 all[3 + 1 + 2 * 256 + 600];
	uint8_t	*p = all;
	size_t	 reqlen, ulen, plen;
	int	 v5 = sc->version == TESTLIB_SOCKS5;

	if (v5) {
		*p++ = 5;
		*p++ = 1;
		*p++ = sc->user != NULL ? 2 : 0;
	}
	if (v5 && sc->user != NULL) {
		const char *pass = sc->pass != NULL ? sc->pass : "";

		ulen = strlen(sc->user);
		plen = strlen(pass);
		if (ulen > 255 || plen > 255) {
			xasprintf(cause, "user or password longer than 255");
			return (-1);
		}
		*p++ = 1;
		*p++ = ulen;
		memcpy(p, sc->user, ulen);
		p += ulen;
		*p++ = plen;
		memcpy(p, pass, plen);
		p += plen;
	}
	if (!v5 && (strlen(sc->host) > 255 || (sc->user != NULL &&
	    strlen(sc->user) > 255))) {
		xasprintf(cause, "host or user longer than 255 bytes");
		return (-1);
	}
	if ((v5 ? testlib_socks5_request(sc, p, &reqlen, cause) :
	    testlib_socks4_request(sc, p, &reqlen, cause)) == -1)
		return (-1);
	p += reqlen;
	if (testlib_write_full(fd, all, (size_t)(p - all)) == -1 ||
	    (sc->earlylen > 0 &&
	    testlib_write_full(fd, sc->early, sc->earlylen) == -1)) {
		xasprintf(cause, "sending handshake: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Read the answers to a handshake sent by testlib_socks_send_request:
 * the method choice and RFC 1929 status (SOCKS5), then with whole set
 * the request's reply too.
 */
enum testlib_socks_status
testlib_socks_read_replies(int fd, const struct testlib_socks *sc,
    int whole, struct testlib_socks_result *res, char **cause)
{
	enum testlib_socks_status	st;
	int				v5 = sc->version == TESTLIB_SOCKS5;

	memset(res, 0, sizeof(*res));
	snprintf(res->bound, sizeof(res->bound), "-");
	if (v5 && (st = testlib_socks5_method_reply(fd, sc, res, cause)) !=
	    TESTLIB_SOCKS_OK)
		return (st);
	if (v5 && sc->user != NULL &&
	    (st = testlib_socks5_auth_reply(fd, res, cause)) !=
	    TESTLIB_SOCKS_OK)
		return (st);
	if (!whole)
		return (TESTLIB_SOCKS_OK);
	if (v5)
		return (testlib_socks5_reply(fd, res, cause));
	return (testlib_socks4_reply(fd, res, cause));
}

/*
 * Fill the accept queue of a listener made with backlog 0, so that
 * further connects to it hang (the kernel drops their SYNs) until
 * somebody accepts: connect to it until a connect no longer completes
 * within 300 ms, keeping the completed ones open.
 */
int
testlib_fill_accept_queue(int lfd, char **cause)
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
	for (i = 0; i < 16; i++) {
		fd = testlib_connect_addr((struct sockaddr *)&ss, sslen, 300,
		    &why);
		if (fd == -1) {
			if (errno == ETIMEDOUT) {
				free(why);
				return (0);
			}
			xasprintf(cause, "self-connect: %s", why);
			free(why);
			return (-1);
		}
	}
	xasprintf(cause, "connects still complete after 16 tries");
	return (-1);
}
