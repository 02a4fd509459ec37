/*
 * Non-blocking socket plumbing used by every role.  Nothing here logs:
 * failures come back as -1 with errno, or with a cause for the caller.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "sock.h"
#include "xmalloc.h"

/* Make fd non-blocking and close-on-exec. */
int
sock_set_nonblock(int fd)
{
	int	flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return (-1);
	return (0);
}

/* Turn off Nagle: the link and the tunnels are latency-sensitive. */
void
sock_set_nodelay(int fd)
{
	int	one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The length of a sockaddr of a known family. */
socklen_t
sock_len(const struct sockaddr *sa)
{
	return (sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in));
}

/*
 * Open a listening socket on sa; returns the fd or -1 with a cause.
 * shared: other processes of ours bind the same address too, and the
 * kernel spreads its connections over them (SO_REUSEPORT_LB on FreeBSD,
 * SO_REUSEPORT elsewhere).
 */
int
sock_listen(const struct sockaddr *sa, socklen_t salen, int backlog,
    int shared, char **cause)
{
	char	addr[SOCK_ADDRSTRLEN];
	int	fd, one = 1;

	if ((fd = socket(sa->sa_family, SOCK_STREAM, 0)) == -1) {
		xasprintf(cause, "socket for %s: %s",
		    sock_ntop(sa, addr, sizeof(addr)), strerror(errno));
		return (-1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
#if defined(SO_REUSEPORT_LB)
	if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT_LB, &one,
	    sizeof(one)) == -1) {
		xasprintf(cause, "SO_REUSEPORT_LB: %s", strerror(errno));
		close(fd);
		return (-1);
	}
#elif defined(SO_REUSEPORT)
	if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1) {
		xasprintf(cause, "SO_REUSEPORT: %s", strerror(errno));
		close(fd);
		return (-1);
	}
#endif
	sock_set_nodelay(fd);
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (sock_set_nonblock(fd) == -1 || bind(fd, sa, salen) == -1 ||
	    listen(fd, backlog) == -1) {
		xasprintf(cause, "listen on %s: %s",
		    sock_ntop(sa, addr, sizeof(addr)), strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Accept one connection, non-blocking and close-on-exec; -1 with errno. */
int
sock_accept(int lfd, struct sockaddr_storage *ss, socklen_t *len)
{
	int	fd;

	*len = sizeof(*ss);
#ifdef HAVE_ACCEPT4
	fd = accept4(lfd, (struct sockaddr *)ss, len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	fd = accept(lfd, (struct sockaddr *)ss, len);
	if (fd != -1 && sock_set_nonblock(fd) == -1) {
		int saved_errno = errno;

		close(fd);
		errno = saved_errno;
		return (-1);
	}
#endif
	return (fd);
}

/*
 * Start a non-blocking connect.  Returns 0 with *fdp set when it is under
 * way or done (wait for writability, then sock_connect_result), or -1
 * with errno when it failed at once.
 */
int
sock_connect(const struct sockaddr *sa, socklen_t salen, int *fdp)
{
	int	fd, saved_errno;

#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
	/* One system call instead of four: this is on every tunnel's path. */
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
#else
	if ((fd = socket(sa->sa_family, SOCK_STREAM, 0)) == -1)
		return (-1);
	if (sock_set_nonblock(fd) == -1)
		goto fail;
#endif
	sock_set_nodelay(fd);
	if (connect(fd, sa, salen) == -1 && errno != EINPROGRESS)
		goto fail;
	*fdp = fd;
	return (0);
fail:
	saved_errno = errno;
	close(fd);
	errno = saved_errno;
	return (-1);
}

/* After a connecting fd turns writable: 0 if connected, else the errno. */
int
sock_connect_result(int fd)
{
	int		err = 0;
	socklen_t	len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return (errno);
	return (err);
}

/* The port of an AF_INET/AF_INET6 address, host order. */
int
sock_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)sa)->sin_port));
	if (sa->sa_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	return (0);
}

/* Format the host part alone: "192.0.2.1" or "2001:db8::1". */
const char *
sock_ntop_host(const struct sockaddr *sa, char *out, size_t len)
{
	const void	*addr;

	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else {
		snprintf(out, len, "?");
		return (out);
	}
	if (inet_ntop(sa->sa_family, addr, out, len) == NULL)
		snprintf(out, len, "?");
	return (out);
}

/*
 * The address a connected socket is bound to, for a SOCKS reply or a
 * worker's A: 0.0.0.0:0 when the kernel will not say.
 */
void
sock_local(int fd, struct sockaddr_storage *ss)
{
	socklen_t	len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (getsockname(fd, (struct sockaddr *)ss, &len) == -1) {
		memset(ss, 0, sizeof(*ss));
		ss->ss_family = AF_INET;
	}
}

/* Format "host:port", with IPv6 hosts in brackets. */
const char *
sock_ntop(const struct sockaddr *sa, char *out, size_t len)
{
	char	host[SOCK_ADDRSTRLEN];

	sock_ntop_host(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET6)
		snprintf(out, len, "[%s]:%d", host, sock_port(sa));
	else
		snprintf(out, len, "%s:%d", host, sock_port(sa));
	return (out);
}

/*
 * Fill ss from a numeric IPv4 or IPv6 host and a decimal port, as the
 * worker link carries them; -1 when either is not one.
 */
int
sock_pton(const char *host, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	const char		*errstr;
	int			 p;

	memset(ss, 0, sizeof(*ss));
	if (host == NULL || port == NULL)
		return (-1);
	p = strtonum(port, 0, 65535, &errstr);
	if (errstr != NULL)
		return (-1);
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
	} else
		return (-1);
	return (0);
}
