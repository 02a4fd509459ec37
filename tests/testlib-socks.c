/*
 * The SOCKS 4/4a/5 client of the test tools.  It is written from the
 * RFCs, not from src/socks.c, so that a bug in the daemon's codec cannot
 * hide behind the same bug in its tests.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"

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
 * Open a SOCKS5 CONNECT tunnel to host:port through the proxy at sa
 * (from source address src when it is not NULL; host NULL: no proxy,
 * sa is the destination itself), with timeout_s on the connect and on
 * every later read and write.  Returns the descriptor, or -1 with the
 * outcome in *st (TESTLIB_SOCKS_REFUSED: res says which answer refused,
 * *cause is left alone) and otherwise a reason in *cause to free.
 */
int
testlib_socks5_open(const struct sockaddr *sa, socklen_t salen,
    const struct sockaddr *src, socklen_t srclen, const char *host,
    uint16_t port, int timeout_s, enum testlib_socks_status *st,
    struct testlib_socks_result *res, char **cause)
{
	struct testlib_socks	sc;
	struct timeval		tv;
	int			fd;

	*st = TESTLIB_SOCKS_ERROR;
	fd = testlib_connect_from(sa, salen, src, srclen, timeout_s * 1000,
	    cause);
	if (fd == -1)
		return (-1);
	tv.tv_sec = timeout_s;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (host != NULL) {
		memset(&sc, 0, sizeof(sc));
		sc.version = TESTLIB_SOCKS5;
		sc.host = host;
		sc.port = port;
		sc.split_ms = -1;
		if ((*st = testlib_socks_handshake(fd, &sc, res, cause)) !=
		    TESTLIB_SOCKS_OK) {
			close(fd);
			return (-1);
		}
	}
	*st = TESTLIB_SOCKS_OK;
	return (fd);
}
