/*
 * HTTP/1.x proxy request codec (http.h): the request parser and the
 * origin-form rewrite the server's HTTP clients (client-http.c) use.
 * The parser waits for the whole header (at most HTTP_HEADER_MAX bytes)
 * and then checks it at once: a request line with a CONNECT authority
 * or an absolute http URI, fields without folding, bare CR or control
 * bytes, and unambiguous body framing, since the body is relayed
 * unchanged and the origin must see the same end of it as the proxy.
 * Lines may end in LF alone (RFC 9112 section 2.2 lets a recipient
 * accept that); what goes to the origin always ends in CRLF.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "http.h"

/* Longest host a struct http_request holds, without the NUL. */
#define HTTP_HOST_MAX	(sizeof(((struct http_request *)0)->host) - 1)
/* Longest method accepted. */
#define HTTP_METHOD_MAX	32

/* Fields never sent on to the origin: hop-by-hop, or the proxy's own. */
static const char *const http_hop_fields[] = {
	"connection", "proxy-connection", "keep-alive", "te", "upgrade",
	"host"
};

/* Whether c may appear in a token (RFC 9110 section 5.6.2). */
static int
http_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return (1);
	return (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Whether p[0..len) is a non-empty token. */
static int
http_token(const uint8_t *p, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (!http_tchar(p[i]))
			return (0);
	}
	return (1);
}

/* Whether p[0..len) is name, ignoring case. */
static int
http_is(const uint8_t *p, size_t len, const char *name)
{
	return (strlen(name) == len && strncasecmp((const char *)p, name,
	    len) == 0);
}

/* Record an error; always HTTP_PARSE_ERROR. */
static enum http_parse
http_fail(struct http_error *err, int status, const char *why)
{
	err->status = status;
	err->why = why;
	return (HTTP_PARSE_ERROR);
}

/* Whether the first byte can start a request: an ASCII method letter. */
int
http_is_request_start(const uint8_t *p, size_t len)
{
	if (len < 1)
		return (0);
	return ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z'));
}

/*
 * Where the header in p[0..len) ends (just past its empty line), or 0
 * while it has not.  Bytes before from (less the two a line end may
 * straddle) were searched before, so a caller that keeps the length it
 * searched reads each byte about once however the header dribbles in.
 */
size_t
http_header_end(const uint8_t *p, size_t len, size_t from)
{
	const uint8_t	*lf;
	size_t		 i;

	i = from > 2 ? from - 2 : 0;
	while (i < len && (lf = memchr(p + i, '\n', len - i)) != NULL) {
		i = lf - p;
		if (i + 1 < len && p[i + 1] == '\n')
			return (i + 2);
		if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
			return (i + 3);
		i++;
	}
	return (0);
}

/*
 * The line starting at *pos within p[0..end): its length without CRLF
 * or LF; *pos moves past its end.  Returns -1 if it holds a bare CR.
 */
static int
http_line(const uint8_t *p, size_t end, size_t *pos, size_t *len)
{
	const uint8_t	*lf;
	size_t		 start = *pos, n;

	lf = memchr(p + start, '\n', end - start);
	n = lf != NULL ? (size_t)(lf - p) - start : end - start;
	*pos = start + n + (lf != NULL);
	if (n > 0 && p[start + n - 1] == '\r')
		n--;
	*len = n;
	return (memchr(p + start, '\r', n) != NULL ? -1 : 0);
}

/* Parse a decimal port, 1 to 65535; -1 if it is not one. */
static int
http_port(const uint8_t *p, size_t len)
{
	size_t	i;
	long	v = 0;

	if (len == 0 || len > 5)
		return (-1);
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return (-1);
		v = v * 10 + (p[i] - '0');
	}
	return (v >= 1 && v <= 65535 ? (int)v : -1);
}

/*
 * Parse host[:port] (an IPv6 address in brackets) into req; a missing
 * port is defport, or an error when defport is 0.
 */
static int
http_authority(const uint8_t *p, size_t len, int defport,
    struct http_request *req)
{
	struct in6_addr	 in6;
	const uint8_t	*host = p, *colon;
	size_t		 hostlen, i;
	int		 port = defport;

	if (len > 0 && p[0] == '[') {
		colon = memchr(p, ']', len);
		if (colon == NULL)
			return (-1);
		host = p + 1;
		hostlen = colon - host;
		colon++;
		if (colon < p + len && *colon != ':')
			return (-1);
		if (colon == p + len)
			colon = NULL;
		if (hostlen == 0 || hostlen > HTTP_HOST_MAX)
			return (-1);
		memcpy(req->host, host, hostlen);
		req->host[hostlen] = '\0';
		if (inet_pton(AF_INET6, req->host, &in6) != 1)
			return (-1);
	} else {
		colon = memchr(p, ':', len);
		hostlen = colon != NULL ? (size_t)(colon - p) : len;
		if (hostlen == 0 || hostlen > HTTP_HOST_MAX)
			return (-1);
		/* A DNS name or an IPv4 address: no escapes, no user info. */
		for (i = 0; i < hostlen; i++) {
			if (!((p[i] >= '0' && p[i] <= '9') ||
			    (p[i] >= 'a' && p[i] <= 'z') ||
			    (p[i] >= 'A' && p[i] <= 'Z') ||
			    p[i] == '-' || p[i] == '.' || p[i] == '_'))
				return (-1);
		}
		memcpy(req->host, p, hostlen);
		req->host[hostlen] = '\0';
	}
	if (colon != NULL) {
		colon++;
		/* "host:" is the default port (RFC 3986 section 3.2.3). */
		if (colon == p + len && defport != 0)
			port = defport;
		else
			port = http_port(colon, p + len - colon);
	}
	if (port <= 0)
		return (-1);
	req->port = port;
	return (0);
}

/* Parse the request target into req: CONNECT's authority or http URI. */
static enum http_parse
http_target(const uint8_t *p, size_t off, size_t len,
    struct http_request *req, struct http_error *err)
{
	const uint8_t	*t = p + off;
	size_t		 i, alen;

	for (i = 0; i < len; i++) {
		if (t[i] < 0x21 || t[i] > 0x7e)
			return (http_fail(err, 400, "bad request target"));
	}
	if (req->connect) {
		if (http_authority(t, len, 0, req) == -1)
			return (http_fail(err, 400, "bad CONNECT target"));
		return (HTTP_PARSE_OK);
	}
	if (len > 0 && t[0] == '/')
		return (http_fail(err, 400, "not a proxy request"));
	if (len < 7 || strncasecmp((const char *)t, "http://", 7) != 0)
		return (http_fail(err, 400, "not an http URI"));
	if (memchr(t, '#', len) != NULL)
		return (http_fail(err, 400, "fragment in request target"));
	t += 7;
	len -= 7;
	for (alen = 0; alen < len && t[alen] != '/' && t[alen] != '?';
	    alen++)
		;
	if (memchr(t, '@', alen) != NULL ||
	    http_authority(t, alen, 80, req) == -1)
		return (http_fail(err, 400, "bad host in URI"));
	req->path.off = off + 7 + alen;
	req->path.len = len - alen;
	return (HTTP_PARSE_OK);
}

/* Parse "METHOD SP target SP HTTP/1.x" from p[0..len). */
static enum http_parse
http_request_line(const uint8_t *p, size_t len, struct http_request *req,
    struct http_error *err)
{
	const uint8_t	*sp1, *sp2, *v;

	sp1 = memchr(p, ' ', len);
	if (sp1 == NULL || !http_token(p, sp1 - p))
		return (http_fail(err, 400, "bad request line"));
	if (sp1 - p > HTTP_METHOD_MAX)
		return (http_fail(err, 400, "method too long"));
	sp2 = memchr(sp1 + 1, ' ', len - (sp1 + 1 - p));
	if (sp2 == NULL || sp2 == sp1 + 1)
		return (http_fail(err, 400, "bad request line"));
	v = sp2 + 1;
	if (p + len - v != 8 || memcmp(v, "HTTP/", 5) != 0 ||
	    v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
	    v[7] > '9')
		return (http_fail(err, 400, "bad HTTP version"));
	if (v[5] != '1')
		return (http_fail(err, 505, "HTTP version not supported"));
	req->minor = v[7] - '0';
	req->method.off = 0;
	req->method.len = sp1 - p;
	/* Methods are case-sensitive (RFC 9110 section 9.1). */
	req->connect = sp1 - p == 7 && memcmp(p, "CONNECT", 7) == 0;
	return (http_target(p, sp1 + 1 - p, sp2 - (sp1 + 1), req, err));
}

/* Decode base64 (RFC 4648, padding optional); -1 if it is not base64. */
static ssize_t
http_base64(const uint8_t *p, size_t len, uint8_t *out, size_t outsize)
{
	static const char	 digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*d;
	uint32_t		 acc = 0;
	size_t			 i, n = 0, bits = 0;

	while (len > 0 && p[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		if (p[i] == '\0' || (d = strchr(digits, p[i])) == NULL)
			return (-1);
		acc = (acc << 6) | (uint32_t)(d - digits);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == outsize)
				return (-1);
			out[n++] = (acc >> bits) & 0xff;
		}
	}
	return (n);
}

/*
 * Take "Basic base64(user:pass)" into req; any other scheme, or a value
 * that does not decode to a user and password the SOCKS5 limits allow,
 * leaves req without credentials (and the client gets a 407).
 */
static void
http_credentials(const uint8_t *p, size_t len, struct http_request *req)
{
	uint8_t		 plain[512];
	const uint8_t	*colon;
	ssize_t		 n;
	size_t		 ulen, plen;

	if (len < 6 || strncasecmp((const char *)p, "Basic ", 6) != 0)
		return;
	p += 6;
	len -= 6;
	while (len > 0 && *p == ' ') {
		p++;
		len--;
	}
	n = http_base64(p, len, plain, sizeof(plain));
	if (n <= 0 || memchr(plain, '\0', n) != NULL ||
	    (colon = memchr(plain, ':', n)) == NULL)
		goto out;
	ulen = colon - plain;
	plen = n - ulen - 1;
	if (ulen == 0 || ulen >= sizeof(req->user) ||
	    plen >= sizeof(req->pass))
		goto out;
	memcpy(req->user, plain, ulen);
	req->user[ulen] = '\0';
	memcpy(req->pass, colon + 1, plen);
	req->pass[plen] = '\0';
	req->has_auth = 1;
out:
	explicit_bzero(plain, sizeof(plain));
}

/* Take a Content-Length value; -1 if bad or not the one seen before. */
static int
http_content_length(const uint8_t *p, size_t len, int seen, uint64_t *v)
{
	uint64_t	n = 0;
	size_t		i;

	if (len == 0 || len > 18)
		return (-1);
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return (-1);
		n = n * 10 + (p[i] - '0');
	}
	if (seen && n != *v)
		return (-1);
	*v = n;
	return (0);
}

/* Add the options of a Connection value to req; -1 if bad or too many. */
static int
http_connection(const uint8_t *p, size_t off, size_t len,
    struct http_request *req)
{
	size_t	i = 0, start, end;

	while (i < len) {
		while (i < len && (p[off + i] == ' ' || p[off + i] == '\t' ||
		    p[off + i] == ','))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && p[off + i] != ',')
			i++;
		end = i;
		while (end > start && (p[off + end - 1] == ' ' ||
		    p[off + end - 1] == '\t'))
			end--;
		if (!http_token(p + off + start, end - start) ||
		    req->noptions == HTTP_CONNECTION_MAX)
			return (-1);
		req->options[req->noptions].off = off + start;
		req->options[req->noptions].len = end - start;
		req->noptions++;
	}
	return (0);
}

/* What the fields say about the body, checked once they are all seen. */
struct http_framing {
	int		cl_seen;
	int		te_seen;
	int		te_chunked;	/* the last coding is chunked */
	int		auth_seen;
};

/* The last coding of a Transfer-Encoding value is chunked. */
static int
http_ends_chunked(const uint8_t *p, size_t len)
{
	size_t	i = len;

	while (i > 0 && p[i - 1] != ',')
		i--;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return (http_is(p + i, len - i, "chunked"));
}

/* Check one field line and take what the proxy needs from it. */
static enum http_parse
http_field(const uint8_t *p, size_t off, size_t len,
    struct http_request *req, struct http_framing *fr,
    struct http_error *err)
{
	const uint8_t	*line = p + off, *colon;
	size_t		 namelen, v, vlen, i;

	if (line[0] == ' ' || line[0] == '\t')
		return (http_fail(err, 400, "folded header line"));
	colon = memchr(line, ':', len);
	if (colon == NULL || !http_token(line, colon - line))
		return (http_fail(err, 400, "bad header line"));
	namelen = colon - line;
	v = namelen + 1;
	while (v < len && (line[v] == ' ' || line[v] == '\t'))
		v++;
	vlen = len - v;
	while (vlen > 0 && (line[v + vlen - 1] == ' ' ||
	    line[v + vlen - 1] == '\t'))
		vlen--;
	for (i = v; i < v + vlen; i++) {
		if ((line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
			return (http_fail(err, 400, "control byte in header"));
	}

	if (http_is(line, namelen, "content-length")) {
		if (http_content_length(line + v, vlen, fr->cl_seen,
		    &req->length) == -1)
			return (http_fail(err, 400, "bad Content-Length"));
		fr->cl_seen = 1;
	} else if (http_is(line, namelen, "transfer-encoding")) {
		if (vlen == 0)
			return (http_fail(err, 400, "bad Transfer-Encoding"));
		fr->te_seen = 1;
		fr->te_chunked = http_ends_chunked(line + v, vlen);
	} else if (http_is(line, namelen, "connection")) {
		if (http_connection(p, off + v, vlen, req) == -1)
			return (http_fail(err, 400, "bad Connection"));
	} else if (http_is(line, namelen, "proxy-authorization")) {
		if (fr->auth_seen)
			return (http_fail(err, 400,
			    "more than one Proxy-Authorization"));
		fr->auth_seen = 1;
		http_credentials(line + v, vlen, req);
	}
	return (HTTP_PARSE_OK);
}

/*
 * Settle the body framing (RFC 9112 section 6.3).  A request the origin
 * could delimit differently from the proxy is refused: Transfer-Encoding
 * with Content-Length, a final coding other than chunked, or
 * Transfer-Encoding in HTTP/1.0.  CONNECT has no body: what follows its
 * header is the tunnel's.
 */
static enum http_parse
http_framing(struct http_request *req, const struct http_framing *fr,
    struct http_error *err)
{
	req->body = HTTP_BODY_NONE;
	if (req->connect)
		return (HTTP_PARSE_OK);
	if (fr->te_seen) {
		if (fr->cl_seen)
			return (http_fail(err, 400,
			    "both Content-Length and Transfer-Encoding"));
		if (req->minor == 0)
			return (http_fail(err, 400,
			    "Transfer-Encoding in HTTP/1.0"));
		if (!fr->te_chunked)
			return (http_fail(err, 400,
			    "Transfer-Encoding not ending in chunked"));
		req->body = HTTP_BODY_CHUNKED;
	} else if (fr->cl_seen)
		req->body = HTTP_BODY_LENGTH;
	return (HTTP_PARSE_OK);
}

/*
 * Parse a proxy request header from p[0..len): NEED until it has ended,
 * then OK with *used its length, or ERROR with the status to answer.
 */
enum http_parse
http_parse_request(const uint8_t *p, size_t len, size_t *used,
    struct http_request *req, struct http_error *err)
{
	struct http_framing	fr;
	enum http_parse		r;
	size_t			end, pos = 0, linelen, start;

	end = http_header_end(p, len, 0);
	if (end == 0) {
		if (len >= HTTP_HEADER_MAX)
			return (http_fail(err, 431, "request header too long"));
		return (HTTP_PARSE_NEED);
	}
	if (end > HTTP_HEADER_MAX)
		return (http_fail(err, 431, "request header too long"));

	memset(req, 0, sizeof(*req));
	memset(&fr, 0, sizeof(fr));
	if (http_line(p, end, &pos, &linelen) == -1)
		return (http_fail(err, 400, "bare CR in request line"));
	if ((r = http_request_line(p, linelen, req, err)) != HTTP_PARSE_OK)
		return (r);
	req->fields.off = pos;
	for (;;) {
		start = pos;
		if (http_line(p, end, &pos, &linelen) == -1)
			return (http_fail(err, 400, "bare CR in header"));
		if (linelen == 0)
			break;
		r = http_field(p, start, linelen, req, &fr, err);
		if (r != HTTP_PARSE_OK)
			return (r);
	}
	req->fields.len = start - req->fields.off;
	if ((r = http_framing(req, &fr, err)) != HTTP_PARSE_OK)
		return (r);
	*used = end;
	return (HTTP_PARSE_OK);
}

/* A bounded appender for http_rewrite. */
struct http_out {
	char	*p;
	size_t	 len;
	size_t	 size;
	int	 overflow;
};

static void
http_put(struct http_out *o, const void *data, size_t len)
{
	if (o->overflow || o->size - o->len < len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, data, len);
	o->len += len;
}

static void
http_puts(struct http_out *o, const char *s)
{
	http_put(o, s, strlen(s));
}

/* Whether a field named p[0..len) stays between proxy and client. */
static int
http_hop_field(const uint8_t *in, const uint8_t *p, size_t len,
    const struct http_request *req)
{
	size_t	i;

	for (i = 0; i < sizeof(http_hop_fields) / sizeof(*http_hop_fields);
	    i++) {
		if (http_is(p, len, http_hop_fields[i]))
			return (1);
	}
	if (len >= 6 && strncasecmp((const char *)p, "proxy-", 6) == 0)
		return (1);
	/* The framing travels with the body, whatever Connection says. */
	if (http_is(p, len, "content-length") ||
	    http_is(p, len, "transfer-encoding"))
		return (0);
	for (i = 0; i < req->noptions; i++) {
		if (req->options[i].len == len && strncasecmp((const char *)p,
		    (const char *)in + req->options[i].off, len) == 0)
			return (1);
	}
	return (0);
}

/*
 * Write the request header in[] (parsed into req) as the origin gets it:
 * origin-form, Host from the URI, hop-by-hop and Proxy-* fields left
 * out, "Connection: close", every line ending in CRLF.  Returns its
 * length, or 0 if out (HTTP_REWRITE_SIZE of the header) is too small.
 */
size_t
http_rewrite(const uint8_t *in, const struct http_request *req, char *out,
    size_t outsize)
{
	struct http_out	 o = { out, 0, outsize, 0 };
	const uint8_t	*colon;
	size_t		 pos, end, start, linelen;
	char		 port[32];
	const char	*path = (const char *)in + req->path.off;

	http_put(&o, in + req->method.off, req->method.len);
	http_puts(&o, " ");
	if (req->path.len == 0 || path[0] == '?')
		http_puts(&o, "/");
	http_put(&o, path, req->path.len);
	snprintf(port, sizeof(port), " HTTP/1.%d\r\nHost: ", req->minor);
	http_puts(&o, port);
	if (strchr(req->host, ':') != NULL) {
		http_puts(&o, "[");
		http_puts(&o, req->host);
		http_puts(&o, "]");
	} else
		http_puts(&o, req->host);
	if (req->port != 80) {
		snprintf(port, sizeof(port), ":%u", req->port);
		http_puts(&o, port);
	}
	http_puts(&o, "\r\n");

	pos = req->fields.off;
	end = req->fields.off + req->fields.len;
	while (pos < end) {
		start = pos;
		(void)http_line(in, end, &pos, &linelen);
		colon = memchr(in + start, ':', linelen);
		if (colon == NULL || http_hop_field(in, in + start,
		    colon - (in + start), req))
			continue;
		http_put(&o, in + start, linelen);
		http_puts(&o, "\r\n");
	}
	http_puts(&o, "Connection: close\r\n\r\n");
	return (o.overflow ? 0 : o.len);
}

/* The reason phrase of a status the proxy answers with. */
const char *
http_status_text(int status)
{
	switch (status) {
	case 200:
		return ("Connection established");
	case 400:
		return ("Bad Request");
	case 403:
		return ("Forbidden");
	case 407:
		return ("Proxy Authentication Required");
	case 431:
		return ("Request Header Fields Too Large");
	case 502:
		return ("Bad Gateway");
	case 503:
		return ("Service Unavailable");
	case 504:
		return ("Gateway Timeout");
	case 505:
		return ("HTTP Version Not Supported");
	}
	return ("Internal Server Error");
}

/*
 * Write the proxy's own reply with status into out: 200 opens a CONNECT
 * tunnel; any other is a short error the connection closes after (407
 * asks for Basic credentials).  Returns its length (HTTP_REPLY_MAX at
 * most), or 0 if outsize is too small.
 */
size_t
http_build_reply(char *out, size_t outsize, int status)
{
	const char	*text = http_status_text(status);
	int		 n;

	if (status < 100 || status > 999)
		status = 500;
	if (status == 200)
		n = snprintf(out, outsize, "HTTP/1.1 200 %s\r\n\r\n", text);
	else
		n = snprintf(out, outsize, "HTTP/1.1 %d %s\r\n%s"
		    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%d %s\n", status, text,
		    status == 407 ?
		    "Proxy-Authenticate: Basic realm=\"esocksd\"\r\n" : "",
		    strlen(text) + 5, status, text);
	if (n < 0 || (size_t)n >= outsize)
		return (0);
	return (n);
}
