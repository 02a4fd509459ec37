/*
 * SOCKS 4, 4a and 5 message codec for the server's client handshake.
 * Each parser looks at the bytes received so far and either asks for
 * more, fills in a message and says how many bytes it used (so bytes a
 * client pipelines behind a request stay with the caller), or explains
 * why the input is bad and which reply to send before closing.  Every
 * length is checked against what has arrived before it is used; nothing
 * here does I/O or logs.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "socks.h"

/* Size of a SOCKS5 reply carrying an IPv4 address. */
#define SOCKS5_REPLY_IPV4_LEN	10
/* Size of a SOCKS4 reply. */
#define SOCKS4_REPLY_LEN	8
/* Fixed part of a SOCKS4 request: VER CMD DSTPORT DSTIP. */
#define SOCKS4_FIXED_LEN	8
/* Longest host name a struct socks_request holds, without the NUL. */
#define SOCKS_HOST_MAX		(sizeof(((struct socks_request *)0)->host) - 1)

/*
 * Every failure, in enum socks_failure order: its reason word (the
 * worker link's and the access log's) and the SOCKS5 reply reporting it.
 */
static const struct socks_reason {
	enum socks_failure	 failure;
	const char		*word;
	enum socks5_reply	 reply;
} socks_reasons[] = {
	{ SOCKS_FAIL_NONE,	  "ok",		 SOCKS5_SUCCEEDED },
	{ SOCKS_FAIL_DENIED,	  "denied",	 SOCKS5_NOT_ALLOWED },
	{ SOCKS_FAIL_NETUNREACH,  "netunreach",	 SOCKS5_NET_UNREACHABLE },
	{ SOCKS_FAIL_HOSTUNREACH, "hostunreach", SOCKS5_HOST_UNREACHABLE },
	{ SOCKS_FAIL_REFUSED,	  "refused",	 SOCKS5_REFUSED },
	{ SOCKS_FAIL_TIMEOUT,	  "timeout",	 SOCKS5_TTL_EXPIRED },
	{ SOCKS_FAIL_DNS,	  "dns",	 SOCKS5_HOST_UNREACHABLE },
	{ SOCKS_FAIL_FAILURE,	  "failure",	 SOCKS5_FAILURE }
};

static enum socks_parse	socks_error_set(struct socks_error *, const char *,
			    const uint8_t *, size_t);
static enum socks_parse	socks5_request_error(struct socks_error *,
			    const char *, enum socks5_reply);
static enum socks_parse	socks4_request_error(struct socks_error *,
			    const char *);

/*
 * Whether a host name from the wire is printable ASCII without spaces.
 * Names with other bytes can never resolve, and refusing them here
 * keeps them out of lookups and out of every log line.
 */
static int
socks_host_printable(const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e)
			return (0);
	}
	return (1);
}

/* Record why parsing failed and the reply to send; always an error. */
static enum socks_parse
socks_error_set(struct socks_error *err, const char *why,
    const uint8_t *reply, size_t replylen)
{
	if (err == NULL)
		return (SOCKS_PARSE_ERROR);
	memset(err, 0, sizeof(*err));
	err->why = why;
	if (replylen > sizeof(err->reply))
		replylen = sizeof(err->reply);
	if (replylen > 0)
		memcpy(err->reply, reply, replylen);
	err->replylen = replylen;
	return (SOCKS_PARSE_ERROR);
}

/* Fail a SOCKS5 request with a full reply carrying the code rep. */
static enum socks_parse
socks5_request_error(struct socks_error *err, const char *why,
    enum socks5_reply rep)
{
	uint8_t	reply[SOCKS_REPLY_MAX];
	size_t	len;

	len = socks5_build_reply(reply, rep, NULL);
	return (socks_error_set(err, why, reply, len));
}

/* Fail a SOCKS4 request with a "rejected" reply. */
static enum socks_parse
socks4_request_error(struct socks_error *err, const char *why)
{
	uint8_t	reply[SOCKS_REPLY_MAX];
	size_t	len;

	len = socks4_build_reply(reply, 0, NULL);
	return (socks_error_set(err, why, reply, len));
}

/* Tell the protocol version from the first byte: 4, 5, or -1. */
int
socks_version(const uint8_t *p, size_t len)
{
	if (len < 1)
		return (-1);
	if (p[0] == SOCKS_V4)
		return (SOCKS_V4);
	if (p[0] == SOCKS_V5)
		return (SOCKS_V5);
	return (-1);
}

/* Parse a SOCKS5 method-selection message (RFC 1928 section 3). */
enum socks_parse
socks5_parse_greeting(const uint8_t *p, size_t len, size_t *used,
    struct socks_greeting *g, struct socks_error *err)
{
	static const uint8_t	no_method[] = { SOCKS_V5,
				    SOCKS5_METHOD_UNACCEPTABLE };
	size_t			n;

	if (len < 1)
		return (SOCKS_PARSE_NEED);
	if (p[0] != SOCKS_V5)
		return (socks_error_set(err, "not a SOCKS5 greeting", NULL, 0));
	if (len < 2)
		return (SOCKS_PARSE_NEED);
	n = p[1];
	if (n == 0)
		return (socks_error_set(err, "SOCKS5 greeting offers no method",
		    no_method, sizeof(no_method)));
	if (len < 2 + n)
		return (SOCKS_PARSE_NEED);

	memset(g, 0, sizeof(*g));
	g->nmethods = n;
	memcpy(g->methods, p + 2, n);
	*used = 2 + n;
	return (SOCKS_PARSE_OK);
}

/* Whether the client offered an authentication method. */
int
socks5_greeting_has(const struct socks_greeting *g, enum socks5_method method)
{
	size_t	i;

	for (i = 0; i < g->nmethods; i++) {
		if (g->methods[i] == method)
			return (1);
	}
	return (0);
}

/* Write the server's method choice; returns its length. */
size_t
socks5_build_method(uint8_t *out, enum socks5_method method)
{
	out[0] = SOCKS_V5;
	out[1] = (uint8_t)method;
	return (2);
}

/* Parse an RFC 1929 username/password request. */
enum socks_parse
socks5_parse_userpass(const uint8_t *p, size_t len, size_t *used,
    struct socks_userpass *up, struct socks_error *err)
{
	uint8_t	reply[2];
	size_t	ulen, plen;

	socks5_build_userpass_reply(reply, 0);
	if (len < 1)
		return (SOCKS_PARSE_NEED);
	if (p[0] != 1)
		return (socks_error_set(err,
		    "unknown username/password version", reply, sizeof(reply)));
	if (len < 2)
		return (SOCKS_PARSE_NEED);
	ulen = p[1];
	if (len < 2 + ulen + 1)
		return (SOCKS_PARSE_NEED);
	plen = p[2 + ulen];
	if (len < 2 + ulen + 1 + plen)
		return (SOCKS_PARSE_NEED);

	/* A NUL would silently shorten the C string that is checked. */
	if (memchr(p + 2, '\0', ulen) != NULL ||
	    memchr(p + 3 + ulen, '\0', plen) != NULL)
		return (socks_error_set(err,
		    "NUL byte in user name or password", reply, sizeof(reply)));

	memset(up, 0, sizeof(*up));
	memcpy(up->user, p + 2, ulen);
	memcpy(up->pass, p + 3 + ulen, plen);
	*used = 3 + ulen + plen;
	return (SOCKS_PARSE_OK);
}

/* Write the RFC 1929 status reply; returns its length. */
size_t
socks5_build_userpass_reply(uint8_t *out, int ok)
{
	out[0] = 1;
	out[1] = ok ? 0 : 1;
	return (2);
}

/* Parse a SOCKS5 request (RFC 1928 section 4); any CMD value parses. */
enum socks_parse
socks5_parse_request(const uint8_t *p, size_t len, size_t *used,
    struct socks_request *req, struct socks_error *err)
{
	size_t	addrlen, need;
	uint8_t	atyp;

	if (len < 1)
		return (SOCKS_PARSE_NEED);
	if (p[0] != SOCKS_V5)
		return (socks5_request_error(err, "not a SOCKS5 request",
		    SOCKS5_FAILURE));
	if (len < 4)
		return (SOCKS_PARSE_NEED);
	atyp = p[3];
	switch (atyp) {
	case SOCKS_ATYP_IPV4:
		addrlen = 4;
		break;
	case SOCKS_ATYP_IPV6:
		addrlen = 16;
		break;
	case SOCKS_ATYP_DOMAIN:
		if (len < 5)
			return (SOCKS_PARSE_NEED);
		addrlen = p[4];
		if (addrlen == 0)
			return (socks5_request_error(err,
			    "empty host name in SOCKS5 request",
			    SOCKS5_FAILURE));
		addrlen++;	/* the length byte */
		break;
	default:
		return (socks5_request_error(err,
		    "unknown address type in SOCKS5 request",
		    SOCKS5_ATYP_UNSUPPORTED));
	}
	need = 4 + addrlen + 2;
	if (len < need)
		return (SOCKS_PARSE_NEED);

	if (atyp == SOCKS_ATYP_DOMAIN &&
	    !socks_host_printable(p + 5, addrlen - 1))
		return (socks5_request_error(err, "SOCKS5 host name with a "
		    "space, control or non-ASCII byte",
		    SOCKS5_HOST_UNREACHABLE));

	memset(req, 0, sizeof(*req));
	req->version = SOCKS_V5;
	req->cmd = p[1];
	req->atyp = atyp;
	switch (atyp) {
	case SOCKS_ATYP_IPV4:
		inet_ntop(AF_INET, p + 4, req->host, sizeof(req->host));
		break;
	case SOCKS_ATYP_IPV6:
		inet_ntop(AF_INET6, p + 4, req->host, sizeof(req->host));
		break;
	case SOCKS_ATYP_DOMAIN:
		memcpy(req->host, p + 5, addrlen - 1);
		break;
	}
	req->port = (uint16_t)(p[4 + addrlen] << 8 | p[4 + addrlen + 1]);
	*used = need;
	return (SOCKS_PARSE_OK);
}

/*
 * Parse a SOCKS4 or 4a request.  Only CONNECT and BIND exist in SOCKS4,
 * so other commands are rejected here.  A user id may be up to
 * SOCKS4_MAX_FIELD bytes; a 4a host name must fit struct socks_request.
 */
enum socks_parse
socks4_parse_request(const uint8_t *p, size_t len, size_t *used,
    struct socks_request *req, struct socks_error *err)
{
	const uint8_t	*nul, *host;
	size_t		 userlen, hostlen, avail, limit;
	int		 is4a;

	if (len < 1)
		return (SOCKS_PARSE_NEED);
	if (p[0] != SOCKS_V4)
		return (socks4_request_error(err, "not a SOCKS4 request"));
	if (len < 2)
		return (SOCKS_PARSE_NEED);
	if (p[1] != SOCKS_CMD_CONNECT && p[1] != SOCKS_CMD_BIND)
		return (socks4_request_error(err,
		    "unknown command in SOCKS4 request"));
	if (len < SOCKS4_FIXED_LEN)
		return (SOCKS_PARSE_NEED);
	is4a = p[4] == 0 && p[5] == 0 && p[6] == 0 && p[7] != 0;

	/* The user id: its NUL must come within SOCKS4_MAX_FIELD + 1. */
	avail = len - SOCKS4_FIXED_LEN;
	limit = SOCKS4_MAX_FIELD + 1;
	nul = memchr(p + SOCKS4_FIXED_LEN, '\0', avail < limit ? avail : limit);
	if (nul == NULL) {
		if (avail >= limit)
			return (socks4_request_error(err,
			    "SOCKS4 user id too long"));
		return (SOCKS_PARSE_NEED);
	}
	userlen = (size_t)(nul - (p + SOCKS4_FIXED_LEN));

	hostlen = 0;
	host = nul + 1;
	if (is4a) {
		avail = len - (size_t)(host - p);
		limit = SOCKS_HOST_MAX + 1;
		nul = memchr(host, '\0', avail < limit ? avail : limit);
		if (nul == NULL) {
			if (avail >= limit)
				return (socks4_request_error(err,
				    "SOCKS4a host name too long"));
			return (SOCKS_PARSE_NEED);
		}
		hostlen = (size_t)(nul - host);
		if (hostlen == 0)
			return (socks4_request_error(err,
			    "empty SOCKS4a host name"));
		if (!socks_host_printable(host, hostlen))
			return (socks4_request_error(err, "SOCKS4a host name "
			    "with a space, control or non-ASCII byte"));
	}

	memset(req, 0, sizeof(*req));
	req->version = SOCKS_V4;
	req->cmd = p[1];
	req->port = (uint16_t)(p[2] << 8 | p[3]);
	memcpy(req->user, p + SOCKS4_FIXED_LEN, userlen);
	if (is4a) {
		req->atyp = SOCKS_ATYP_DOMAIN;
		memcpy(req->host, host, hostlen);
		*used = (size_t)(host - p) + hostlen + 1;
	} else {
		req->atyp = SOCKS_ATYP_IPV4;
		inet_ntop(AF_INET, p + 4, req->host, sizeof(req->host));
		*used = (size_t)(host - p);
	}
	return (SOCKS_PARSE_OK);
}

/*
 * Write a SOCKS5 reply naming the bound address; an unknown family or
 * NULL gives 0.0.0.0:0.  Returns the length, at most SOCKS_REPLY_MAX.
 */
size_t
socks5_build_reply(uint8_t *out, enum socks5_reply rep,
    const struct sockaddr *bound)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	out[0] = SOCKS_V5;
	out[1] = (uint8_t)rep;
	out[2] = 0;
	if (bound != NULL && bound->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)bound;
		out[3] = SOCKS_ATYP_IPV6;
		memcpy(out + 4, &sin6->sin6_addr, 16);
		memcpy(out + 20, &sin6->sin6_port, 2);
		return (22);
	}
	out[3] = SOCKS_ATYP_IPV4;
	if (bound != NULL && bound->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)bound;
		memcpy(out + 4, &sin->sin_addr, 4);
		memcpy(out + 8, &sin->sin_port, 2);
	} else
		memset(out + 4, 0, 6);
	return (SOCKS5_REPLY_IPV4_LEN);
}

/*
 * Parse the header of a datagram a client sent to its UDP relay (RFC 1928
 * section 7).  On success *hdrlen is where the data starts; -1 with why
 * for a datagram to drop.  A fragment (FRAG != 0) parses: the caller
 * decides, and counts, what to do with it.
 */
int
socks5_parse_udp(const uint8_t *p, size_t len, size_t *hdrlen,
    struct socks_udp_header *h, const char **why)
{
	size_t	addrlen, need;

	if (len < 4) {
		*why = "UDP datagram shorter than its header";
		return (-1);
	}
	if (p[0] != 0 || p[1] != 0) {
		*why = "UDP datagram with non-zero RSV";
		return (-1);
	}
	switch (p[3]) {
	case SOCKS_ATYP_IPV4:
		addrlen = 4;
		break;
	case SOCKS_ATYP_IPV6:
		addrlen = 16;
		break;
	case SOCKS_ATYP_DOMAIN:
		if (len < 5 || p[4] == 0) {
			*why = "UDP datagram with an empty host name";
			return (-1);
		}
		addrlen = 1 + (size_t)p[4];
		break;
	default:
		*why = "UDP datagram with an unknown address type";
		return (-1);
	}
	need = 4 + addrlen + 2;
	if (len < need) {
		*why = "UDP datagram shorter than its header";
		return (-1);
	}
	if (p[3] == SOCKS_ATYP_DOMAIN &&
	    !socks_host_printable(p + 5, addrlen - 1)) {
		*why = "UDP datagram host name with a space, control or "
		    "non-ASCII byte";
		return (-1);
	}
	memset(h, 0, sizeof(*h));
	h->frag = p[2];
	h->atyp = p[3];
	switch (p[3]) {
	case SOCKS_ATYP_IPV4:
		inet_ntop(AF_INET, p + 4, h->host, sizeof(h->host));
		break;
	case SOCKS_ATYP_IPV6:
		inet_ntop(AF_INET6, p + 4, h->host, sizeof(h->host));
		break;
	default:
		memcpy(h->host, p + 5, addrlen - 1);
		break;
	}
	h->port = (uint16_t)(p[4 + addrlen] << 8 | p[4 + addrlen + 1]);
	*hdrlen = need;
	return (0);
}

/*
 * Write the header that wraps a datagram relayed back to the client,
 * naming where it came from (IPv4 or IPv6; anything else as 0.0.0.0:0).
 * Returns its length, at most SOCKS_UDP_HEADER_MAX.
 */
size_t
socks5_build_udp_header(uint8_t *out, const struct sockaddr *src)
{
	uint8_t	reply[SOCKS_REPLY_MAX];
	size_t	len;

	/* The same address encoding as a reply, after RSV RSV FRAG. */
	len = socks5_build_reply(reply, SOCKS5_SUCCEEDED, src);
	out[0] = 0;
	out[1] = 0;
	out[2] = 0;
	memcpy(out + 3, reply + 3, len - 3);
	return (len);
}

/* Write a SOCKS4 reply: granted or rejected, with the bound IPv4. */
size_t
socks4_build_reply(uint8_t *out, int granted, const struct sockaddr *bound)
{
	const struct sockaddr_in	*sin;

	out[0] = 0;
	out[1] = granted ? SOCKS4_GRANTED : SOCKS4_REJECTED;
	if (bound != NULL && bound->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)bound;
		memcpy(out + 2, &sin->sin_port, 2);
		memcpy(out + 4, &sin->sin_addr, 4);
	} else
		memset(out + 2, 0, 6);
	return (SOCKS4_REPLY_LEN);
}

/* The reason word of a failure, as sent after a link R flag. */
const char *
socks_failure_name(enum socks_failure f)
{
	if ((size_t)f >= nitems(socks_reasons))
		return ("failure");
	return (socks_reasons[f].word);
}

/*
 * The failure a reason word names, in any case.  Only failures parse:
 * "ok" and unknown words give SOCKS_FAIL_FAILURE, never SOCKS_FAIL_NONE,
 * so a reset can never be mistaken for success.
 */
enum socks_failure
socks_failure_from_name(const char *name)
{
	size_t	i;

	if (name == NULL)
		return (SOCKS_FAIL_FAILURE);
	for (i = SOCKS_FAIL_DENIED; i < nitems(socks_reasons); i++) {
		if (strcasecmp(name, socks_reasons[i].word) == 0)
			return (socks_reasons[i].failure);
	}
	return (SOCKS_FAIL_FAILURE);
}

/* Classify a connect(2) or getsockopt(SO_ERROR) errno. */
enum socks_failure
socks_failure_from_errno(int error)
{
	switch (error) {
	case 0:
		return (SOCKS_FAIL_NONE);
	case ECONNREFUSED:
		return (SOCKS_FAIL_REFUSED);
	case ENETUNREACH:
	case ENETDOWN:
		return (SOCKS_FAIL_NETUNREACH);
	case EHOSTUNREACH:
#ifdef EHOSTDOWN
	case EHOSTDOWN:
#endif
		return (SOCKS_FAIL_HOSTUNREACH);
	case ETIMEDOUT:
		return (SOCKS_FAIL_TIMEOUT);
	case EACCES:
	case EPERM:
		return (SOCKS_FAIL_DENIED);
	default:
		return (SOCKS_FAIL_FAILURE);
	}
}

/* The SOCKS5 reply code that reports a failure to the client. */
enum socks5_reply
socks5_reply_from_failure(enum socks_failure f)
{
	if ((size_t)f >= nitems(socks_reasons))
		return (SOCKS5_FAILURE);
	return (socks_reasons[f].reply);
}

/*
 * A short word for a SOCKS5 reply code, fit for a key=value log field:
 * the word of the first failure it reports, or for the two codes no
 * failure maps to, their own.
 */
const char *
socks5_reply_name(enum socks5_reply rep)
{
	size_t	i;

	for (i = 0; i < nitems(socks_reasons); i++) {
		if (socks_reasons[i].reply == rep)
			return (socks_reasons[i].word);
	}
	switch (rep) {
	case SOCKS5_CMD_UNSUPPORTED:
		return ("cmdunsupported");
	case SOCKS5_ATYP_UNSUPPORTED:
		return ("atypunsupported");
	default:
		return ("unknown");
	}
}
