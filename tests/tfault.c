/*
 * tfault.so: a test-only interposer of connect(2), send(2) and splice(2),
 * loaded with LD_PRELOAD.  Into one worker, it makes that worker's dials
 * fail or come late the way a broken uplink would, while its link to the
 * server (the port in TFAULT_PASS_PORT) works:
 *	TFAULT_MODE=refuse	every other TCP connect fails ECONNREFUSED
 *	TFAULT_MODE=delay	every other TCP connect waits TFAULT_DELAY_MS
 *				(default 20) first, then goes ahead
 * or, with TFAULT_FILE=PATH, the mode is the first word of that file
 * read at each connect (`refuse`, or `delay MS`; no file: no fault), so
 * a test can break and heal the worker while it runs.
 * Into any daemon, TFAULT_SEND_MAX=N and TFAULT_SPLICE_MAX=N make send(2)
 * on a socket, and splice(2) into one, move at most N bytes a call, as
 * on a congested socket (t-pool-bulk.sh).
 * Built without the sanitizers and without libesocks; used by the
 * t-pool-health*.sh tests, which skip when it is missing.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int	(*tfault_connect_fn)(int, const struct sockaddr *, socklen_t);
typedef ssize_t	(*tfault_send_fn)(int, const void *, size_t, int);
typedef ssize_t	(*tfault_splice_fn)(int, loff_t *, int, loff_t *, size_t,
		    unsigned int);

/* The next definition of function name (libc's), or NULL with ENOSYS. */
static void *
tfault_next(void **cache, const char *name)
{
	if (*cache == NULL && (*cache = dlsym(RTLD_NEXT, name)) == NULL)
		errno = ENOSYS;
	return (*cache);
}

/* The port of a TCP/IP address, or 0 for any other kind. */
static unsigned int
tfault_port(const struct sockaddr *sa, socklen_t len)
{
	if (sa == NULL)
		return (0);
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return (ntohs(((const struct sockaddr_in *)sa)->sin_port));
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return (ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	return (0);
}

/* The fault now: from TFAULT_FILE when set, else from the environment. */
static const char *
tfault_mode(long *ms)
{
	static char	 word[32];
	const char	*path = getenv("TFAULT_FILE"), *delay;
	FILE		*f;

	delay = getenv("TFAULT_DELAY_MS");
	*ms = delay != NULL ? atol(delay) : 20;
	if (path == NULL)
		return (getenv("TFAULT_MODE"));
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	if (fscanf(f, "%31s %ld", word, ms) < 1)
		word[0] = '\0';
	fclose(f);
	return (word);
}

/* connect(2), failed or delayed unless it goes to TFAULT_PASS_PORT. */
int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static void		*next;
	tfault_connect_fn	 real;
	const char		*pass = getenv("TFAULT_PASS_PORT");
	const char		*mode;
	struct timespec		 ts;
	unsigned int		 port = tfault_port(sa, len);
	long			 ms;

	if ((real = (tfault_connect_fn)tfault_next(&next, "connect")) == NULL)
		return (-1);
	if (port == 0 || (mode = tfault_mode(&ms)) == NULL ||
	    (pass != NULL && (unsigned int)atoi(pass) == port))
		return (real(fd, sa, len));
	if (strcmp(mode, "refuse") == 0) {
		errno = ECONNREFUSED;
		return (-1);
	}
	if (strcmp(mode, "delay") == 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	return (real(fd, sa, len));
}

/* len, cut to the number in environment variable var when fd is a socket. */
static size_t
tfault_short(const char *var, int fd, size_t len)
{
	const char	*v = getenv(var);
	struct stat	 st;
	long		 max;

	if (v == NULL || (max = atol(v)) <= 0 || len <= (size_t)max ||
	    fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return (len);
	return ((size_t)max);
}

/* send(2), at most TFAULT_SEND_MAX bytes a call on a socket. */
ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	static void	*next;
	tfault_send_fn	 real;

	if ((real = (tfault_send_fn)tfault_next(&next, "send")) == NULL)
		return (-1);
	return (real(fd, buf, tfault_short("TFAULT_SEND_MAX", fd, len),
	    flags));
}

/* splice(2), at most TFAULT_SPLICE_MAX bytes a call into a socket. */
ssize_t
splice(int in, loff_t *inoff, int out, loff_t *outoff, size_t len,
    unsigned int flags)
{
	static void		*next;
	tfault_splice_fn	 real;

	if ((real = (tfault_splice_fn)tfault_next(&next, "splice")) == NULL)
		return (-1);
	return (real(in, inoff, out, outoff,
	    tfault_short("TFAULT_SPLICE_MAX", out, len), flags));
}
