/*
 * HTTP/1.x proxy requests (RFC 9110, RFC 9112) as the SOCKS port sees
 * them: a pure codec.  The request parser takes the bytes received so
 * far and says "need more" until the header has ended, then fills in the
 * request (CONNECT authority or absolute-form URI, Basic proxy
 * credentials, body framing) or says which status to answer before
 * closing.  The rest builds what the server sends: the request in
 * origin-form for the origin, the short replies to the client, and a
 * tracker that finds where a request body ends in the bytes that follow
 * the header.  No I/O, no logging; every length is checked.
 */
#ifndef HTTP_H
#define HTTP_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

/* A request header (request line and fields) longer than this is 431. */
#define HTTP_HEADER_MAX		16384
/* Options one request may name in its Connection fields. */
#define HTTP_CONNECTION_MAX	16
/* Room http_rewrite needs for a header of n bytes. */
#define HTTP_REWRITE_SIZE(n)	(2 * (n) + 512)
/* Room every reply http_build_reply makes fits in. */
#define HTTP_REPLY_MAX		320

enum http_parse {
	HTTP_PARSE_ERROR = -1,		/* see struct http_error */
	HTTP_PARSE_NEED = 0,		/* the header has not ended yet */
	HTTP_PARSE_OK = 1		/* complete: *used bytes of header */
};

/* Why a request was refused, and the status to answer with. */
struct http_error {
	int		 status;	/* 400, 431, 505 */
	const char	*why;		/* for the log line */
};

/* How the request's body is delimited (RFC 9112 section 6.3). */
enum http_body_kind {
	HTTP_BODY_NONE,			/* no body */
	HTTP_BODY_LENGTH,		/* Content-Length bytes */
	HTTP_BODY_CHUNKED		/* chunked transfer coding */
};

/* A span of the parsed input. */
struct http_span {
	uint16_t	off;
	uint16_t	len;
};

struct http_request {
	int		 connect;	/* CONNECT host:port, else absolute */
	int		 minor;		/* HTTP/1.minor */
	char		 host[256];	/* name or address, no brackets */
	uint16_t	 port;
	int		 has_auth;	/* Basic credentials, decoded below */
	char		 user[256];
	char		 pass[256];
	enum http_body_kind body;
	uint64_t	 length;	/* HTTP_BODY_LENGTH's byte count */
	/* For http_rewrite: where things are in the parsed input. */
	struct http_span method;
	struct http_span path;		/* origin-form target, may be empty */
	struct http_span fields;	/* the lines after the request line */
	struct http_span options[HTTP_CONNECTION_MAX];
	size_t		 noptions;
};

/* Where a request body stands, fed by http_body_scan. */
struct http_body {
	enum http_body_kind kind;
	int		 state;		/* chunked framing state */
	int		 digits;	/* hex digits of the chunk size so far */
	uint64_t	 remain;	/* body or chunk bytes still to come */
	int		 done;		/* the body has ended */
};

int	http_is_request_start(const uint8_t *, size_t);
size_t	http_header_end(const uint8_t *, size_t len, size_t from);
enum http_parse http_parse_request(const uint8_t *, size_t, size_t *used,
	    struct http_request *, struct http_error *);
size_t	http_rewrite(const uint8_t *, const struct http_request *,
	    char *out, size_t outsize);
size_t	http_build_reply(char *out, size_t outsize, int status);
const char *http_status_text(int);

void	http_body_init(struct http_body *, const struct http_request *);
ssize_t	http_body_scan(struct http_body *, const uint8_t *, size_t);

#endif
