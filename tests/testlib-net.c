/*
 * Sockets for the test tools: "host:port" parsing, resolving, listening,
 * connecting with a deadline, formatting addresses, blocking full reads
 * and writes, and filling a listener's accept queue.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"

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

/*
 * Where a listener asked for port 0 goes: a port drawn at random from
 * 10000-19999, below free_port's 20000-31999 and the ephemeral range
 * (from 32768).  bind(2) to port 0 takes an ephemeral port no socket
 * holds, and a busy machine's outgoing connections can hold them all
 * (connect shares a port between destinations, a listener cannot): the
 * bind then fails with EADDRINUSE while thousands of ports are free.
 */
#define TESTLIB_ANY_LO		10000
#define TESTLIB_ANY_COUNT	10000
#define TESTLIB_ANY_TRIES	200

/* Bind and listen; -1 and errno, with the failing call in *what. */
static int
testlib_bind_listen(const struct sockaddr_storage *ss, socklen_t sslen,
    int backlog, const char **what)
{
	int	fd, one = 1, saved;

	*what = "socket";
	if ((fd = socket(ss->ss_family, SOCK_STREAM, 0)) == -1)
		return (-1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*what = "bind";
	if (bind(fd, (const struct sockaddr *)ss, sslen) == -1)
		goto fail;
	*what = "listen";
	if (listen(fd, backlog) == -1)
		goto fail;
	return (fd);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/* Set the port of an IPv4 or IPv6 address. */
static void
testlib_set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/*
 * Open a listening socket on "ADDR:PORT"; port 0 picks a free one, outside
 * the ephemeral range while one of TESTLIB_ANY_TRIES draws binds.
 */
int
testlib_listen(const char *spec, int backlog, char **cause)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const char		*what;
	char			*host, *port;
	uint32_t		 x;
	int			 fd, any, i, rc;

	if (testlib_split_hostport(spec, &host, &port, cause) == -1)
		return (-1);
	any = atoi(port) == 0;
	rc = testlib_resolve(host, port, 1, &ss, &sslen, cause);
	free(host);
	free(port);
	if (rc == -1)
		return (-1);
	if (any) {
		x = testlib_seed();
		for (i = 0; i < TESTLIB_ANY_TRIES; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			testlib_set_port(&ss,
			    TESTLIB_ANY_LO + (int)(x % TESTLIB_ANY_COUNT));
			if ((fd = testlib_bind_listen(&ss, sslen, backlog,
			    &what)) != -1)
				return (fd);
			if (errno != EADDRINUSE && errno != EACCES)
				break;
		}
		testlib_set_port(&ss, 0);
	}
	if ((fd = testlib_bind_listen(&ss, sslen, backlog, &what)) == -1) {
		xasprintf(cause, "%s: %s: %s", spec, what, strerror(errno));
		return (-1);
	}
	return (fd);
}

/* Connect within timeout_ms (< 0: no limit); a blocking fd, or -1, errno. */
int
testlib_connect_addr(const struct sockaddr *sa, socklen_t salen,
    int timeout_ms, char **cause)
{
	return (testlib_connect_from(sa, salen, NULL, 0, timeout_ms, cause));
}

/*
 * As testlib_connect_addr, from source address src (any port) when it is
 * not NULL.  Where the system can, the port is chosen at connect() time,
 * so one source address serves more connections than the ephemeral
 * range as long as their destinations differ.
 */
int
testlib_connect_from(const struct sockaddr *sa, socklen_t salen,
    const struct sockaddr *src, socklen_t srclen, int timeout_ms,
    char **cause)
{
	struct pollfd	pfd;
	socklen_t	len;
	int		fd, error, one = 1, n;

	if ((fd = socket(sa->sa_family, SOCK_STREAM, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	if (src != NULL) {
#ifdef IP_BIND_ADDRESS_NO_PORT
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
#endif
		if (bind(fd, src, srclen) == -1)
			goto fail;
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
