/*
 * Where an HTTP request body ends (http.h), for the server's
 * absolute-form requests: the body is relayed to the origin unchanged,
 * and whatever the client sends after it (a pipelined request, perhaps
 * for another origin) must not be.  The tracker is fed the bytes after
 * the header in pieces of any size and says how many of each belong to
 * the body.  A chunked body is followed through its framing (RFC 9112
 * section 7.1): sizes, extensions, data, the last chunk and trailer
 * lines; the framing must use CRLF, since the origin sees the bytes as
 * they came and must find the same end.  No I/O, no logging.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "http.h"

/* Longest chunk size, in hex digits: it must fit in 64 bits. */
#define HTTP_CHUNK_DIGITS	16

/* Where the chunked framing stands. */
enum http_chunk_state {
	HTTP_CHUNK_SIZE,	/* hex digits of a chunk size */
	HTTP_CHUNK_EXT,		/* skipping an extension up to CR */
	HTTP_CHUNK_SIZE_LF,	/* the LF after a size line's CR */
	HTTP_CHUNK_DATA,	/* remain bytes of data */
	HTTP_CHUNK_DATA_CR,	/* the CRLF after the data */
	HTTP_CHUNK_DATA_LF,
	HTTP_CHUNK_TRAILER,	/* start of a trailer line, or the end */
	HTTP_CHUNK_TRAILER_TEXT,	/* inside a trailer line */
	HTTP_CHUNK_TRAILER_LF,	/* the LF ending a trailer line */
	HTTP_CHUNK_END_LF,	/* the LF of the final empty line */
	HTTP_CHUNK_BAD		/* the framing was broken */
};

/* Start tracking the body of the request req. */
void
http_body_init(struct http_body *b, const struct http_request *req)
{
	memset(b, 0, sizeof(*b));
	b->kind = req->body;
	b->state = HTTP_CHUNK_SIZE;
	switch (b->kind) {
	case HTTP_BODY_NONE:
		b->done = 1;
		break;
	case HTTP_BODY_LENGTH:
		b->remain = req->length;
		b->done = b->remain == 0;
		break;
	case HTTP_BODY_CHUNKED:
		break;
	}
}

/* The value of a hex digit, or -1. */
static int
http_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Whether c may appear in an extension or a trailer line. */
static int
http_text(uint8_t c)
{
	return (c == '\t' || (c >= 0x20 && c != 0x7f));
}

/* Follow one byte of chunked framing; the next state. */
static int
http_chunk_byte(struct http_body *b, uint8_t c)
{
	int	h;

	switch (b->state) {
	case HTTP_CHUNK_SIZE:
		if ((h = http_hex(c)) != -1) {
			if (++b->digits > HTTP_CHUNK_DIGITS)
				return (HTTP_CHUNK_BAD);
			b->remain = b->remain << 4 | (uint64_t)h;
			return (HTTP_CHUNK_SIZE);
		}
		if (b->digits == 0)
			return (HTTP_CHUNK_BAD);
		if (c == '\r')
			return (HTTP_CHUNK_SIZE_LF);
		if (c == ';' || c == ' ' || c == '\t')
			return (HTTP_CHUNK_EXT);
		return (HTTP_CHUNK_BAD);
	case HTTP_CHUNK_EXT:
		if (c == '\r')
			return (HTTP_CHUNK_SIZE_LF);
		return (http_text(c) ? HTTP_CHUNK_EXT : HTTP_CHUNK_BAD);
	case HTTP_CHUNK_SIZE_LF:
		if (c != '\n')
			return (HTTP_CHUNK_BAD);
		b->digits = 0;
		return (b->remain == 0 ? HTTP_CHUNK_TRAILER : HTTP_CHUNK_DATA);
	case HTTP_CHUNK_DATA_CR:
		return (c == '\r' ? HTTP_CHUNK_DATA_LF : HTTP_CHUNK_BAD);
	case HTTP_CHUNK_DATA_LF:
		return (c == '\n' ? HTTP_CHUNK_SIZE : HTTP_CHUNK_BAD);
	case HTTP_CHUNK_TRAILER:
		if (c == '\r')
			return (HTTP_CHUNK_END_LF);
		return (http_text(c) ? HTTP_CHUNK_TRAILER_TEXT : HTTP_CHUNK_BAD);
	case HTTP_CHUNK_TRAILER_TEXT:
		if (c == '\r')
			return (HTTP_CHUNK_TRAILER_LF);
		return (http_text(c) ? HTTP_CHUNK_TRAILER_TEXT :
		    HTTP_CHUNK_BAD);
	case HTTP_CHUNK_TRAILER_LF:
		return (c == '\n' ? HTTP_CHUNK_TRAILER : HTTP_CHUNK_BAD);
	case HTTP_CHUNK_END_LF:
		if (c != '\n')
			return (HTTP_CHUNK_BAD);
		b->done = 1;
		return (HTTP_CHUNK_END_LF);
	}
	return (HTTP_CHUNK_BAD);
}

/*
 * Feed the next len bytes after the header: returns how many of them
 * belong to the body (all of them until it ends, none after), or -1
 * once a chunked body's framing is broken.
 */
ssize_t
http_body_scan(struct http_body *b, const uint8_t *p, size_t len)
{
	size_t	i = 0, n;

	if (b->state == HTTP_CHUNK_BAD)
		return (-1);
	if (b->done)
		return (0);
	if (b->kind == HTTP_BODY_LENGTH) {
		n = b->remain < len ? b->remain : len;
		b->remain -= n;
		b->done = b->remain == 0;
		return (n);
	}
	while (i < len && !b->done) {
		if (b->state == HTTP_CHUNK_DATA) {
			/* Data is skipped by its count, not byte by byte. */
			n = b->remain < len - i ? b->remain : len - i;
			b->remain -= n;
			i += n;
			if (b->remain == 0)
				b->state = HTTP_CHUNK_DATA_CR;
			continue;
		}
		b->state = http_chunk_byte(b, p[i]);
		if (b->state == HTTP_CHUNK_BAD)
			return (-1);
		i++;
	}
	return (i);
}
