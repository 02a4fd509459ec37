/*
 * udpc: a SOCKS client for the two requests socksc does not make, written
 * from RFC 1928 (sections 4 to 7) and the SOCKS4 BIND note, with nothing
 * from the daemon's codec.
 *
 *   udpc -x PROXY:PORT -u TARGET:PORT [-m MSG] [-F FRAG] [-p PORT]
 *        [-T] [-C] [-n] [-w SECONDS]
 *   udpc -x PROXY:PORT -u TARGET:PORT -R COUNT [-A TARGET2:PORT] [-m MSG]
 *   udpc -x PROXY:PORT -b DSTADDR:PORT [-v 4|5] [-m MSG] [-w SECONDS]
 *   udpc -c HOST:PORT [-s SRCADDR] [-m MSG] [-w SECONDS]
 *
 * -u: UDP ASSOCIATE (DST 0.0.0.0:PORT, -p PORT: the client's own UDP
 * port, given in the request; 0 by default), then one datagram with MSG
 * to TARGET (numeric: ATYP 1 or 4; a name: ATYP 3) with FRAG (-F, 0 by
 * default).  Prints "relay=HOST:PORT" on stderr, then on stdout
 * "from=HOST:PORT data=MSG" for the reply, or "noreply" after 2 s.
 * -T then sends the same datagram from another port of the same address
 * (a third party) and prints "thirdparty=dropped" or
 * "thirdparty=relayed".  -C then closes the TCP connection, waits 1 s,
 * sends to the relay again and prints "relay=closed" (ICMP refused) or
 * "relay=open".  -n sends no datagram (for -C alone).
 *
 * -R: send the datagram COUNT times at once (then one to TARGET2 with
 * -A), and print "replies=N" of what came back within a second.
 *
 * -b: BIND for DSTADDR (the peer the proxy should accept); prints
 * "bound=HOST:PORT" on stderr after the first reply, "peer=HOST:PORT"
 * after the second, then sends MSG, half-closes, and copies what the
 * peer sends to stdout until EOF.  A refusal prints "reply=0xNN" (for
 * the first reply) or "reply2=0xNN" on stderr.
 *
 * -c: a BIND's peer, no SOCKS: connect to HOST:PORT from SRCADDR (-s),
 * send MSG, half-close, and copy what comes back to stdout until EOF.
 *
 * Exit: 0 as described, 1 an expectation printed above failed (noreply,
 * relayed, open), 2 usage, 3 refused by the proxy, 4 I/O error, 5 the
 * deadline (-w, 30 s) passed.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"

static __dead void	udpc_usage(void);

/* Print the synopsis and exit 2. */
static __dead void
udpc_usage(void)
{
	fprintf(stderr, "usage: udpc -x PROXY:PORT -u TARGET:PORT [-m MSG] "
	    "[-F FRAG] [-p PORT] [-T] [-C] [-n] [-w SECONDS]\n"
	    "       udpc -x PROXY:PORT -b DSTADDR:PORT [-v 4|5] [-m MSG] "
	    "[-w SECONDS]\n"
	    "       udpc -c HOST:PORT [-s SRCADDR] [-m MSG] [-w SECONDS]\n");
	exit(2);
}

/* The overall deadline passed. */
static void
udpc_alarm(int sig)
{
	(void)sig;
	write(2, "udpc: deadline passed\n", 22);
	_exit(5);
}

/* Read exactly len bytes or exit 4 (the proxy closed or failed). */
static void
udpc_read(int fd, void *p, size_t len)
{
	if (testlib_read_full(fd, p, len) != (ssize_t)len) {
		fprintf(stderr, "udpc: proxy closed or failed\n");
		exit(4);
	}
}

/* Write all of it or exit 4. */
static void
udpc_write(int fd, const void *p, size_t len)
{
	if (testlib_write_full(fd, p, len) == -1) {
		fprintf(stderr, "udpc: write: %s\n", strerror(errno));
		exit(4);
	}
}

/*
 * Encode ATYP, address and port (RFC 1928 section 4) for host:port into
 * out; returns the length.  A number is ATYP 1 or 4, anything else a
 * name (ATYP 3).
 */
static size_t
udpc_addr(uint8_t *out, const char *host, int port)
{
	struct in_addr	in;
	struct in6_addr	in6;
	size_t		n;

	if (inet_pton(AF_INET, host, &in) == 1) {
		out[0] = 1;
		memcpy(out + 1, &in, 4);
		n = 5;
	} else if (inet_pton(AF_INET6, host, &in6) == 1) {
		out[0] = 4;
		memcpy(out + 1, &in6, 16);
		n = 17;
	} else {
		out[0] = 3;
		out[1] = (uint8_t)strlen(host);
		memcpy(out + 2, host, strlen(host));
		n = 2 + strlen(host);
	}
	out[n] = (uint8_t)(port >> 8);
	out[n + 1] = (uint8_t)port;
	return (n + 2);
}

/*
 * Decode ATYP, address and port at p (len bytes there) into text and a
 * sockaddr; returns the bytes used, or 0 if malformed.
 */
static size_t
udpc_parse_addr(const uint8_t *p, size_t len, char *text, size_t textlen,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN];
	int			 port;

	memset(ss, 0, sizeof(*ss));
	if (len >= 7 && p[0] == 1) {
		port = p[5] << 8 | p[6];
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, p + 1, 4);
		sin->sin_port = htons(port);
		inet_ntop(AF_INET, p + 1, host, sizeof(host));
		snprintf(text, textlen, "%s:%d", host, port);
		return (7);
	}
	if (len >= 19 && p[0] == 4) {
		port = p[17] << 8 | p[18];
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, p + 1, 16);
		sin6->sin6_port = htons(port);
		inet_ntop(AF_INET6, p + 1, host, sizeof(host));
		snprintf(text, textlen, "[%s]:%d", host, port);
		return (19);
	}
	return (0);
}

/* Connect to the proxy and do the SOCKS5 method negotiation (none). */
static int
udpc_socks5(const char *proxy)
{
	uint8_t	 b[2];
	char	*cause;
	int	 fd;

	if ((fd = testlib_connect(proxy, 10000, &cause)) == -1) {
		fprintf(stderr, "udpc: %s\n", cause);
		exit(4);
	}
	udpc_write(fd, "\x05\x01\x00", 3);
	udpc_read(fd, b, 2);
	if (b[0] != 5 || b[1] != 0) {
		fprintf(stderr, "method=0x%02x\n", b[1]);
		exit(3);
	}
	return (fd);
}

/*
 * Read a SOCKS5 reply; prints "NAME=0xNN" and exits 3 unless it
 * succeeded.  The address goes to text and ss.
 */
static void
udpc_reply5(int fd, const char *name, char *text, size_t textlen,
    struct sockaddr_storage *ss)
{
	uint8_t	b[4 + 1 + 255 + 2];
	size_t	n;

	udpc_read(fd, b, 4);
	if (b[1] != 0) {
		fprintf(stderr, "%s=0x%02x\n", name, b[1]);
		exit(3);
	}
	n = b[3] == 1 ? 6 : b[3] == 4 ? 18 : 0;
	if (n == 0) {
		fprintf(stderr, "udpc: reply with ATYP %u\n", b[3]);
		exit(4);
	}
	udpc_read(fd, b + 4, n);
	if (udpc_parse_addr(b + 3, n + 1, text, textlen, ss) == 0)
		exit(4);
}

/* Wait up to ms for fd to be readable: 1 yes, 0 no. */
static int
udpc_wait(int fd, int ms)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	return (poll(&pfd, 1, ms) == 1);
}

/* A UDP socket on the address of the TCP connection, port port. */
static int
udpc_udp_socket(int tcp, int port)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			fd;

	if (getsockname(tcp, (struct sockaddr *)&ss, &len) == -1 ||
	    (fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1) {
		perror("udpc: UDP socket");
		exit(4);
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		perror("udpc: bind");
		exit(4);
	}
	return (fd);
}

/*
 * Wait up to 2 s for a datagram on fd and print it as "from=... data=...";
 * 0 when one came, -1 when none did.
 */
static int
udpc_receive(int fd)
{
	struct sockaddr_storage	ss;
	uint8_t			b[65536];
	char			from[TESTLIB_ADDRSTRLEN];
	ssize_t			n;
	size_t			hl;

	if (!udpc_wait(fd, 2000))
		return (-1);
	if ((n = recv(fd, b, sizeof(b), 0)) == -1) {
		perror("udpc: recv");
		exit(4);
	}
	/* RSV RSV FRAG, then the source address. */
	if (n < 3 || b[0] != 0 || b[1] != 0 || b[2] != 0 ||
	    (hl = udpc_parse_addr(b + 3, (size_t)n - 3, from, sizeof(from),
	    &ss)) == 0) {
		fprintf(stderr, "udpc: malformed datagram from the relay\n");
		exit(4);
	}
	printf("from=%s data=%.*s\n", from, (int)((size_t)n - 3 - hl),
	    b + 3 + hl);
	fflush(stdout);
	return (0);
}

/* Build a datagram to host:port with FRAG frag and msg; its length. */
static size_t
udpc_dgram(uint8_t *out, size_t outlen, const char *target, int frag,
    const char *msg)
{
	char	*host, *port, *cause;
	size_t	 n;

	if (testlib_split_hostport(target, &host, &port, &cause) == -1) {
		fprintf(stderr, "udpc: %s\n", cause);
		exit(2);
	}
	out[0] = out[1] = 0;
	out[2] = (uint8_t)frag;
	n = 3 + udpc_addr(out + 3, host, atoi(port));
	if (strlen(msg) > outlen - n)
		udpc_usage();
	memcpy(out + n, msg, strlen(msg));
	free(host);
	free(port);
	return (n + strlen(msg));
}

/* -R: a burst of datagrams (and one to another target); count replies. */
static int
udpc_burst(const char *proxy, const char *target, const char *other,
    const char *msg, int count)
{
	struct sockaddr_storage	 relay;
	uint8_t			 req[4 + 18], dgram[1500];
	char			 text[TESTLIB_ADDRSTRLEN];
	size_t			 n;
	int			 tcp, u, i, replies = 0;
	uint64_t		 until;

	tcp = udpc_socks5(proxy);
	u = udpc_udp_socket(tcp, 0);
	memcpy(req, "\x05\x03\x00", 3);
	n = udpc_addr(req + 3, "0.0.0.0", 0);
	udpc_write(tcp, req, 3 + n);
	udpc_reply5(tcp, "reply", text, sizeof(text), &relay);
	fprintf(stderr, "relay=%s\n", text);
	n = udpc_dgram(dgram, sizeof(dgram), target, 0, msg);
	for (i = 0; i < count; i++)
		sendto(u, dgram, n, 0, (struct sockaddr *)&relay,
		    sizeof(relay));
	if (other != NULL) {
		n = udpc_dgram(dgram, sizeof(dgram), other, 0, msg);
		sendto(u, dgram, n, 0, (struct sockaddr *)&relay,
		    sizeof(relay));
	}
	until = testlib_now_us() + 1000000;
	while (testlib_now_us() < until &&
	    udpc_wait(u, (int)((until - testlib_now_us()) / 1000) + 1)) {
		if (recv(u, dgram, sizeof(dgram), 0) > 0)
			replies++;
	}
	printf("replies=%d\n", replies);
	fflush(stdout);
	close(tcp);
	close(u);
	return (0);
}

/* UDP ASSOCIATE, one datagram, and the checks -T and -C ask for. */
static int
udpc_associate(const char *proxy, const char *target, const char *msg,
    int frag, int port, int third, int closecheck, int nosend)
{
	struct sockaddr_storage	 relay;
	uint8_t			 req[4 + 18], dgram[3 + 1 + 256 + 2 + 1024];
	char			 text[TESTLIB_ADDRSTRLEN], *host, *tport;
	char			*cause;
	size_t			 n;
	int			 tcp, u, u2, rc = 0;

	if (testlib_split_hostport(target, &host, &tport, &cause) == -1) {
		fprintf(stderr, "udpc: %s\n", cause);
		exit(2);
	}
	tcp = udpc_socks5(proxy);
	u = udpc_udp_socket(tcp, port);
	/* DST: the address and port the client will send from (7). */
	memcpy(req, "\x05\x03\x00", 3);
	n = udpc_addr(req + 3, "0.0.0.0", port);
	udpc_write(tcp, req, 3 + n);
	udpc_reply5(tcp, "reply", text, sizeof(text), &relay);
	fprintf(stderr, "relay=%s\n", text);

	memcpy(dgram, "\x00\x00", 2);
	dgram[2] = (uint8_t)frag;
	n = 3 + udpc_addr(dgram + 3, host, atoi(tport));
	if (strlen(msg) > sizeof(dgram) - n)
		udpc_usage();
	memcpy(dgram + n, msg, strlen(msg));
	n += strlen(msg);
	if (!nosend) {
		if (sendto(u, dgram, n, 0, (struct sockaddr *)&relay,
		    sizeof(relay)) == -1) {
			perror("udpc: sendto");
			exit(4);
		}
		if (udpc_receive(u) == -1) {
			printf("noreply\n");
			rc = 1;
		}
	}
	if (third) {
		u2 = udpc_udp_socket(tcp, 0);
		sendto(u2, dgram, n, 0, (struct sockaddr *)&relay,
		    sizeof(relay));
		/* A reply to either socket would mean it was relayed. */
		if (udpc_wait(u2, 1000) || udpc_wait(u, 100)) {
			printf("thirdparty=relayed\n");
			rc = 1;
		} else
			printf("thirdparty=dropped\n");
		close(u2);
	}
	if (closecheck) {
		close(tcp);
		tcp = -1;
		testlib_sleep_ms(1000);
		if (connect(u, (struct sockaddr *)&relay, sizeof(relay)) ==
		    -1) {
			perror("udpc: connect");
			exit(4);
		}
		send(u, dgram, n, 0);
		if (udpc_wait(u, 1000) && recv(u, dgram, sizeof(dgram), 0) ==
		    -1 && errno == ECONNREFUSED)
			printf("relay=closed\n");
		else {
			printf("relay=open\n");
			rc = 1;
		}
	}
	fflush(stdout);
	if (tcp != -1)
		close(tcp);
	close(u);
	free(host);
	free(tport);
	return (rc);
}

/* BIND: two replies, then MSG to the peer and the peer's bytes out. */
static int
udpc_bind(const char *proxy, const char *dst, int version, const char *msg)
{
	struct sockaddr_storage	 ss;
	struct in_addr		 in;
	uint8_t			 req[4 + 18 + 1], b[65536];
	char			 text[TESTLIB_ADDRSTRLEN], *host, *port;
	char			*cause;
	ssize_t			 got;
	size_t			 n;
	int			 fd;

	if (testlib_split_hostport(dst, &host, &port, &cause) == -1) {
		fprintf(stderr, "udpc: %s\n", cause);
		exit(2);
	}
	if (version == 5) {
		fd = udpc_socks5(proxy);
		memcpy(req, "\x05\x02\x00", 3);
		n = udpc_addr(req + 3, host, atoi(port));
		udpc_write(fd, req, 3 + n);
		udpc_reply5(fd, "reply", text, sizeof(text), &ss);
		fprintf(stderr, "bound=%s\n", text);
		udpc_reply5(fd, "reply2", text, sizeof(text), &ss);
		fprintf(stderr, "peer=%s\n", text);
	} else {
		/* VN=4 CD=2 DSTPORT DSTIP USERID NUL; replies VN=0 CD. */
		if (inet_pton(AF_INET, host, &in) != 1)
			udpc_usage();
		if ((fd = testlib_connect(proxy, 10000, &cause)) == -1) {
			fprintf(stderr, "udpc: %s\n", cause);
			exit(4);
		}
		req[0] = 4;
		req[1] = 2;
		req[2] = (uint8_t)(atoi(port) >> 8);
		req[3] = (uint8_t)atoi(port);
		memcpy(req + 4, &in, 4);
		req[8] = 0;
		udpc_write(fd, req, 9);
		for (n = 0; n < 2; n++) {
			udpc_read(fd, b, 8);
			if (b[1] != 0x5a) {
				fprintf(stderr, "%s=0x%02x\n", n == 0 ?
				    "reply" : "reply2", b[1]);
				exit(3);
			}
			inet_ntop(AF_INET, b + 4, text, sizeof(text));
			fprintf(stderr, "%s=%s:%d\n", n == 0 ? "bound" :
			    "peer", text, b[2] << 8 | b[3]);
		}
	}
	udpc_write(fd, msg, strlen(msg));
	shutdown(fd, SHUT_WR);
	while ((got = read(fd, b, sizeof(b))) > 0)
		fwrite(b, 1, (size_t)got, stdout);
	fflush(stdout);
	free(host);
	free(port);
	return (got == 0 ? 0 : 4);
}

/* -c: the plain TCP peer of a BIND, from a chosen source address. */
static int
udpc_peer(const char *target, const char *src, const char *msg)
{
	struct sockaddr_storage	 ss, from;
	socklen_t		 sslen, fromlen;
	uint8_t			 b[65536];
	char			*host, *port, *cause;
	ssize_t			 got;
	int			 fd;

	if (testlib_split_hostport(target, &host, &port, &cause) == -1 ||
	    testlib_resolve(host, port, 0, &ss, &sslen, &cause) == -1) {
		fprintf(stderr, "udpc: %s\n", cause);
		exit(2);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1) {
		perror("udpc: socket");
		exit(4);
	}
	if (src != NULL) {
		if (testlib_resolve(src, "0", 1, &from, &fromlen, &cause) ==
		    -1) {
			fprintf(stderr, "udpc: %s\n", cause);
			exit(2);
		}
		if (bind(fd, (struct sockaddr *)&from, fromlen) == -1) {
			perror("udpc: bind");
			exit(4);
		}
	}
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1) {
		perror("udpc: connect");
		exit(4);
	}
	/* The proxy may close a refused peer first: that is the answer. */
	(void)testlib_write_full(fd, msg, strlen(msg));
	shutdown(fd, SHUT_WR);
	while ((got = read(fd, b, sizeof(b))) > 0)
		fwrite(b, 1, (size_t)got, stdout);
	fflush(stdout);
	free(host);
	free(port);
	return (0);
}

/* Parse the options and run the request. */
int
main(int argc, char **argv)
{
	const char	*proxy = NULL, *udp = NULL, *bind = NULL, *msg = "hello";
	const char	*peer = NULL, *src = NULL, *other = NULL;
	int		 count = 0;
	int		 ch, frag = 0, port = 0, third = 0, closecheck = 0;
	int		 nosend = 0, version = 5;
	double		 wait = 30;

	while ((ch = getopt(argc, argv, "A:b:c:CF:m:np:R:s:Tu:v:w:x:")) != -1) {
		switch (ch) {
		case 'A':
			other = optarg;
			break;
		case 'R':
			count = atoi(optarg);
			break;
		case 'c':
			peer = optarg;
			break;
		case 's':
			src = optarg;
			break;
		case 'b':
			bind = optarg;
			break;
		case 'C':
			closecheck = 1;
			break;
		case 'F':
			frag = atoi(optarg);
			break;
		case 'm':
			msg = optarg;
			break;
		case 'n':
			nosend = 1;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'T':
			third = 1;
			break;
		case 'u':
			udp = optarg;
			break;
		case 'v':
			version = atoi(optarg);
			break;
		case 'w':
			wait = atof(optarg);
			break;
		case 'x':
			proxy = optarg;
			break;
		default:
			udpc_usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, udpc_alarm);
	alarm((unsigned int)(wait + 0.999));
	if (peer != NULL && optind == argc)
		return (udpc_peer(peer, src, msg));
	if (optind != argc || proxy == NULL || (udp == NULL) == (bind == NULL)
	    || (version != 4 && version != 5))
		udpc_usage();
	if (udp != NULL && count > 0)
		return (udpc_burst(proxy, udp, other, msg, count));
	if (udp != NULL)
		return (udpc_associate(proxy, udp, msg, frag, port, third,
		    closecheck, nosend));
	return (udpc_bind(proxy, bind, version, msg));
}
