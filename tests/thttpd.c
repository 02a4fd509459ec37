/*
 * thttpd: the HTTP origin server of the HTTP proxy tests.
 *
 *   thttpd [-l ADDR:PORT] -P PORTFILE -r DIR
 *
 * Binds (port 0 picks a free one), writes its port to PORTFILE and
 * serves one connection at a time until killed.  For each it reads a
 * request header and its body (Content-Length, or chunked up to the last
 * chunk: enough for tests), answers 200 with the body "thttpd N\n" and
 * Connection: close, half-closes, and reads on until the peer closes (at
 * most 2 s) so that bytes sent after the request are seen too.  Every
 * byte the connection brought is then written to DIR/req.N (N counting
 * from 1), for the test to check what the proxy forwarded.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "compat.h"
#include "testlib.h"

/* The most one connection's bytes are kept. */
#define THTTPD_MAX	(1024 * 1024)

static __dead void
thttpd_usage(void)
{
	fprintf(stderr, "usage: thttpd [-l ADDR:PORT] -P PORTFILE -r DIR\n");
	exit(2);
}

/* Where the request's body ends in buf[0..len), or 0 if not yet. */
static size_t
thttpd_request_end(const char *buf, size_t len)
{
	const char	*end, *cl, *body;
	size_t		 hlen;

	if ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		return (0);
	hlen = end + 4 - buf;
	body = buf + hlen;
	if ((cl = memmem(buf, hlen, "\r\nContent-Length:", 17)) != NULL) {
		size_t	n = strtoul(cl + 17, NULL, 10);

		return (len - hlen >= n ? hlen + n : 0);
	}
	if (memmem(buf, hlen, "\r\nTransfer-Encoding: chunked", 28) != NULL) {
		if (len - hlen >= 5 && memcmp(body, "0\r\n\r\n", 5) == 0)
			return (hlen + 5);
		end = memmem(body, len - hlen, "\r\n0\r\n\r\n", 7);
		return (end != NULL ? (size_t)(end + 7 - buf) : 0);
	}
	return (hlen);
}

/* Serve one connection and record what it brought as DIR/req.N. */
static void
thttpd_serve(int fd, const char *dir, int n)
{
	struct timeval	 tv = { 2, 0 };
	char		*buf, reply[256], body[64], path[1024], tmp[1100];
	size_t		 len = 0;
	ssize_t		 r;
	int		 answered = 0;
	FILE		*f;

	buf = malloc(THTTPD_MAX);
	if (buf == NULL)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < THTTPD_MAX &&
	    (r = read(fd, buf + len, THTTPD_MAX - len)) > 0) {
		len += r;
		if (!answered && thttpd_request_end(buf, len) != 0) {
			snprintf(body, sizeof(body), "thttpd %d\n", n);
			snprintf(reply, sizeof(reply), "HTTP/1.1 200 OK\r\n"
			    "Content-Type: text/plain\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n"
			    "\r\n%s", strlen(body), body);
			(void)testlib_write_full(fd, reply, strlen(reply));
			(void)shutdown(fd, SHUT_WR);
			answered = 1;
		}
	}
	snprintf(path, sizeof(path), "%s/req.%d", dir, n);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) != NULL) {
		fwrite(buf, 1, len, f);
		if (fclose(f) == 0)
			(void)rename(tmp, path);
	}
	free(buf);
}

int
main(int argc, char **argv)
{
	const char	*spec = "127.0.0.1:0", *portfile = NULL, *dir = NULL;
	char		*cause;
	int		 ch, lfd, fd, port, n = 0;

	while ((ch = getopt(argc, argv, "l:P:r:")) != -1) {
		switch (ch) {
		case 'l':
			spec = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'r':
			dir = optarg;
			break;
		default:
			thttpd_usage();
		}
	}
	if (optind != argc || portfile == NULL || dir == NULL)
		thttpd_usage();
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = testlib_listen(spec, 64, &cause)) == -1) {
		fprintf(stderr, "thttpd: %s\n", cause);
		return (1);
	}
	if ((port = testlib_local_port(lfd)) == -1 ||
	    testlib_write_portfile(portfile, port, &cause) == -1) {
		fprintf(stderr, "thttpd: cannot write the port file\n");
		return (1);
	}
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		thttpd_serve(fd, dir, ++n);
		close(fd);
	}
}
