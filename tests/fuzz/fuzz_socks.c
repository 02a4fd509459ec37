/*
 * libFuzzer target for the SOCKS codec (src/socks.c).  Each input is fed
 * to every parser, then walked through as a server would see it
 * (greeting, password, request); the parsers' contracts are checked on
 * the way: *used within the input, every shorter prefix of a complete
 * message incomplete, strings terminated, replies within their buffer.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "socks.h"

/* A parser of any message type, its output behind a void pointer. */
typedef enum socks_parse (*fuzz_parser)(const uint8_t *, size_t, size_t *,
    void *, struct socks_error *);

static enum socks_parse
fuzz_greeting(const uint8_t *p, size_t len, size_t *used, void *out,
    struct socks_error *err)
{
	return (socks5_parse_greeting(p, len, used, out, err));
}

static enum socks_parse
fuzz_userpass(const uint8_t *p, size_t len, size_t *used, void *out,
    struct socks_error *err)
{
	return (socks5_parse_userpass(p, len, used, out, err));
}

static enum socks_parse
fuzz_request5(const uint8_t *p, size_t len, size_t *used, void *out,
    struct socks_error *err)
{
	return (socks5_parse_request(p, len, used, out, err));
}

static enum socks_parse
fuzz_request4(const uint8_t *p, size_t len, size_t *used, void *out,
    struct socks_error *err)
{
	return (socks4_parse_request(p, len, used, out, err));
}

/* Run one parser and check what it promises; returns bytes used or 0. */
static size_t
fuzz_parse(fuzz_parser parse, const uint8_t *p, size_t len, void *out)
{
	struct socks_error	err;
	enum socks_parse	r;
	size_t			used = 0, again = 0;

	memset(&err, 0, sizeof(err));
	r = parse(p, len, &used, out, &err);
	switch (r) {
	case SOCKS_PARSE_OK:
		FUZZ_CHECK(used > 0 && used <= len);
		/* The message ends where it says: one byte less is short. */
		FUZZ_CHECK(parse(p, used - 1, &again, out, &err) ==
		    SOCKS_PARSE_NEED);
		FUZZ_CHECK(again == 0);
		FUZZ_CHECK(parse(p, used, &again, out, &err) == SOCKS_PARSE_OK);
		FUZZ_CHECK(again == used);
		return (used);
	case SOCKS_PARSE_NEED:
		FUZZ_CHECK(used == 0);
		return (0);
	case SOCKS_PARSE_ERROR:
		FUZZ_CHECK(used == 0);
		FUZZ_CHECK(err.why != NULL);
		FUZZ_CHECK(err.replylen <= sizeof(err.reply));
		return (0);
	}
	FUZZ_CHECK(!"unknown parse result");
	return (0);
}

/* Check a parsed request: strings terminated, a domain name printable. */
static void
fuzz_check_request(const struct socks_request *req)
{
	const char	*p;

	FUZZ_CHECK(memchr(req->host, '\0', sizeof(req->host)) != NULL);
	FUZZ_CHECK(memchr(req->user, '\0', sizeof(req->user)) != NULL);
	FUZZ_CHECK(req->version == SOCKS_V4 || req->version == SOCKS_V5);
	FUZZ_CHECK(req->atyp == SOCKS_ATYP_IPV4 ||
	    req->atyp == SOCKS_ATYP_IPV6 || req->atyp == SOCKS_ATYP_DOMAIN);
	if (req->atyp == SOCKS_ATYP_DOMAIN) {
		/* A name reaches the logs and the resolver: printable only. */
		FUZZ_CHECK(req->host[0] != '\0');
		for (p = req->host; *p != '\0'; p++)
			FUZZ_CHECK(*p >= 0x21 && *p <= 0x7e);
	}
}

/* Build replies from input bytes and check their lengths. */
static void
fuzz_replies(const uint8_t *p, size_t len)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	uint8_t			out[SOCKS_REPLY_MAX];
	char			word[16];
	size_t			n;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	sin6.sin6_family = AF_INET6;
	if (len >= 6)
		memcpy(&sin.sin_addr, p, 4);
	if (len >= 18)
		memcpy(&sin6.sin6_addr, p, 16);

	n = socks5_build_reply(out, len > 0 ? p[0] : 0,
	    (struct sockaddr *)&sin);
	FUZZ_CHECK(n == 10);
	n = socks5_build_reply(out, len > 0 ? p[0] : 0,
	    (struct sockaddr *)&sin6);
	FUZZ_CHECK(n == 22);
	FUZZ_CHECK(socks4_build_reply(out, len & 1, (struct sockaddr *)&sin)
	    == 8);
	FUZZ_CHECK(socks5_reply_name(len > 0 ? p[0] : 0) != NULL);

	n = len < sizeof(word) - 1 ? len : sizeof(word) - 1;
	memcpy(word, p, n);
	word[n] = '\0';
	FUZZ_CHECK(socks_failure_from_name(word) != SOCKS_FAIL_NONE);
	FUZZ_CHECK(socks_failure_name(socks_failure_from_name(word)) != NULL);
}

/*
 * The input as a datagram to a UDP relay: a parsed header lies within the
 * input and its host is a terminated string, and a header built from the
 * parsed address (when numeric) parses back to the same host and port.
 */
static void
fuzz_udp(const uint8_t *p, size_t len)
{
	struct socks_udp_header	h, back;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct sockaddr		*sa = NULL;
	uint8_t			out[SOCKS_UDP_HEADER_MAX];
	const char		*why = NULL;
	size_t			hl = 0, n;

	if (socks5_parse_udp(p, len, &hl, &h, &why) == -1) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	/* RSV FRAG ATYP, the address, the port: exactly, by address type. */
	FUZZ_CHECK(hl <= len);
	FUZZ_CHECK(h.atyp != SOCKS_ATYP_IPV4 || hl == 4 + 4 + 2);
	FUZZ_CHECK(h.atyp != SOCKS_ATYP_IPV6 || hl == 4 + 16 + 2);
	FUZZ_CHECK(h.atyp != SOCKS_ATYP_DOMAIN ||
	    (hl == 4 + 1 + (size_t)p[4] + 2 && p[4] > 0));
	FUZZ_CHECK(memchr(h.host, '\0', sizeof(h.host)) != NULL);
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, h.host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(h.port);
		sa = (struct sockaddr *)&sin;
	} else if (inet_pton(AF_INET6, h.host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(h.port);
		sa = (struct sockaddr *)&sin6;
	}
	if (sa == NULL || h.atyp == SOCKS_ATYP_DOMAIN)
		return;
	n = socks5_build_udp_header(out, sa);
	FUZZ_CHECK(n <= sizeof(out));
	FUZZ_CHECK(socks5_parse_udp(out, n, &hl, &back, &why) == 0);
	FUZZ_CHECK(hl == n && back.port == h.port && back.frag == 0);
	FUZZ_CHECK(strcmp(back.host, h.host) == 0);
}

/* Every parser on the whole input, then a server's walk through it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks_greeting	g;
	struct socks_userpass	up;
	struct socks_request	req;
	size_t			off, n;

	(void)socks_version(data, size);
	fuzz_parse(fuzz_greeting, data, size, &g);
	fuzz_parse(fuzz_userpass, data, size, &up);
	if (fuzz_parse(fuzz_request5, data, size, &req) > 0)
		fuzz_check_request(&req);
	if (fuzz_parse(fuzz_request4, data, size, &req) > 0)
		fuzz_check_request(&req);

	switch (socks_version(data, size)) {
	case SOCKS_V5:
		if ((off = fuzz_parse(fuzz_greeting, data, size, &g)) == 0)
			break;
		if (socks5_greeting_has(&g, SOCKS5_METHOD_PASSWORD)) {
			n = fuzz_parse(fuzz_userpass, data + off, size - off,
			    &up);
			if (n == 0)
				break;
			off += n;
		}
		if (fuzz_parse(fuzz_request5, data + off, size - off,
		    &req) > 0)
			fuzz_check_request(&req);
		break;
	case SOCKS_V4:
		off = 0;
		/* Pipelined requests, as a confused client might send. */
		while ((n = fuzz_parse(fuzz_request4, data + off, size - off,
		    &req)) > 0) {
			fuzz_check_request(&req);
			off += n;
		}
		break;
	}

	fuzz_udp(data, size);
	fuzz_replies(data, size);
	return (0);
}
