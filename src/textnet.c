/*
 * The text-net message codec of the worker link (PROTOCOL.md section 1),
 * used by the mux on both the server and the worker.  A header is one
 * line, "CODE TID LEN [ARG]...", ended by LF with an optional CR before
 * it; arguments are percent-encoded so that they hold no blank, CR, LF
 * or '%'.  Parsing is incremental and bounded: a header is looked for in
 * at most TEXTNET_MAX_HEADER bytes, and declared lengths are only
 * checked, never allocated.  No I/O, no logging.
 */
#include "config.h"

#include <sys/types.h>

#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "textnet.h"

#define TEXTNET_MIN_CODE	3
/* How the Node library writes an empty or missing argument. */
#define TEXTNET_EMPTY_ARG	"%00"

static int	textnet_is_blank(char);
static int	textnet_hex(char);

/* Whether c separates header fields. */
static int
textnet_is_blank(char c)
{
	return (c == ' ' || c == '\t');
}

/* The value of one hex digit, or -1. */
static int
textnet_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Parse len bytes of plain decimal digits (a tid, a length, a session id
 * or a window increment) into *out; -1 if empty, not digits or too big.
 */
int
textnet_parse_number(const char *s, size_t len, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;
	unsigned int	d;

	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return (-1);
		v = v * 10 + d;
	}
	*out = v;
	return (0);
}

/*
 * Whether s (len bytes) is a message code: 3-5 of [0-9A-Z], all digits
 * for a response or starting with a letter for a command.  Sets
 * *response when it is not NULL.
 */
int
textnet_valid_code(const char *s, size_t len, int *response)
{
	size_t	i;
	int	digits = 0;

	if (len < TEXTNET_MIN_CODE || len > TEXTNET_MAX_CODE)
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] < 'A' || s[i] > 'Z')
			return (0);
	}
	if (s[0] >= '0' && s[0] <= '9' && (size_t)digits != len)
		return (0);
	if (response != NULL)
		*response = (size_t)digits == len;
	return (1);
}

/*
 * Percent-decode one argument of inlen bytes into out, NUL-terminated.
 * A lone "%00" is the empty string; any other escape of a NUL byte, a
 * malformed escape or a raw NUL is refused because a C string cannot
 * carry it.  Returns the decoded length, or -1 (bad input or no room).
 */
int
textnet_decode_arg(char *out, size_t outsize, const char *in, size_t inlen)
{
	size_t	i, o;
	int	hi, lo, c;

	if (outsize == 0)
		return (-1);
	if (inlen == 3 && memcmp(in, TEXTNET_EMPTY_ARG, 3) == 0) {
		out[0] = '\0';
		return (0);
	}
	for (i = 0, o = 0; i < inlen; o++) {
		if (o + 1 >= outsize)
			return (-1);
		if (in[i] != '%') {
			if (in[i] == '\0')
				return (-1);
			out[o] = in[i++];
			continue;
		}
		if (inlen - i < 3)
			return (-1);
		hi = textnet_hex(in[i + 1]);
		lo = textnet_hex(in[i + 2]);
		if (hi == -1 || lo == -1)
			return (-1);
		c = hi << 4 | lo;
		if (c == 0)
			return (-1);
		out[o] = (char)c;
		i += 3;
	}
	if (o > INT_MAX)
		return (-1);
	out[o] = '\0';
	return ((int)o);
}

/*
 * Percent-encode arg into out as the Node library does: '%', SP, TAB,
 * LF and CR escaped, an empty or NULL argument written "%00".  Returns
 * the encoded length without the NUL, or 0 if out is too small.
 */
size_t
textnet_encode_arg(char *out, size_t outsize, const char *arg)
{
	const char	*esc;
	size_t		 o = 0;

	if (arg == NULL || *arg == '\0')
		arg = NULL;
	if (arg == NULL) {
		if (outsize < sizeof(TEXTNET_EMPTY_ARG))
			return (0);
		memcpy(out, TEXTNET_EMPTY_ARG, sizeof(TEXTNET_EMPTY_ARG));
		return (sizeof(TEXTNET_EMPTY_ARG) - 1);
	}
	for (; *arg != '\0'; arg++) {
		switch (*arg) {
		case '%':
			esc = "%25";
			break;
		case ' ':
			esc = "%20";
			break;
		case '\t':
			esc = "%09";
			break;
		case '\n':
			esc = "%0a";
			break;
		case '\r':
			esc = "%0d";
			break;
		default:
			esc = NULL;
			break;
		}
		if (esc == NULL) {
			if (outsize - o < 2)
				return (0);
			out[o++] = *arg;
		} else {
			if (outsize - o < 4)
				return (0);
			memcpy(out + o, esc, 3);
			o += 3;
		}
	}
	if (outsize - o < 1)
		return (0);
	out[o] = '\0';
	return (o);
}

/*
 * Parse one header from the len bytes at buf.  On OK *used is the
 * header's length including its LF (the body, msg->body_len bytes,
 * follows); msg is valid only then.  On ERROR *why says what was wrong.
 */
enum textnet_parse
textnet_parse_header(const char *buf, size_t len, size_t *used,
    struct textnet_msg *msg, const char **why)
{
	const char	*lf, *end, *p, *field;
	size_t		 flen, scan, stored;
	uint64_t	 length;
	int		 nfields, n;

	if (len == 0)
		return (TEXTNET_PARSE_NEED);
	scan = len < TEXTNET_MAX_HEADER ? len : TEXTNET_MAX_HEADER;
	lf = memchr(buf, '\n', scan);
	if (lf == NULL) {
		if (len >= TEXTNET_MAX_HEADER) {
			*why = "header too long";
			return (TEXTNET_PARSE_ERROR);
		}
		return (TEXTNET_PARSE_NEED);
	}
	end = lf;
	if (end > buf && end[-1] == '\r')
		end--;
	if (memchr(buf, '\0', (size_t)(end - buf)) != NULL) {
		*why = "NUL byte in header";
		return (TEXTNET_PARSE_ERROR);
	}

	memset(msg, 0, offsetof(struct textnet_msg, storage));
	stored = 0;
	nfields = 0;
	p = buf;
	for (;;) {
		while (p < end && textnet_is_blank(*p))
			p++;
		if (p == end)
			break;
		field = p;
		while (p < end && !textnet_is_blank(*p))
			p++;
		flen = (size_t)(p - field);

		switch (nfields) {
		case 0:
			if (!textnet_valid_code(field, flen, &msg->response)) {
				*why = "invalid message code";
				return (TEXTNET_PARSE_ERROR);
			}
			memcpy(msg->code, field, flen);
			msg->code[flen] = '\0';
			break;
		case 1:
			if (textnet_parse_number(field, flen, &msg->tid) != 0) {
				*why = "invalid transaction id";
				return (TEXTNET_PARSE_ERROR);
			}
			break;
		case 2:
			if (textnet_parse_number(field, flen, &length) != 0) {
				*why = "invalid body length";
				return (TEXTNET_PARSE_ERROR);
			}
			if (length > TEXTNET_MAX_BODY) {
				*why = "body too long";
				return (TEXTNET_PARSE_ERROR);
			}
			msg->body_len = (size_t)length;
			break;
		default:
			if (msg->nargs == TEXTNET_MAX_ARGS) {
				*why = "too many arguments";
				return (TEXTNET_PARSE_ERROR);
			}
			/*
			 * Cannot run out of room: each field decodes to at
			 * most its own length and the NUL takes the place
			 * of the blank before it.
			 */
			n = textnet_decode_arg(msg->storage + stored,
			    sizeof(msg->storage) - stored, field, flen);
			if (n < 0) {
				*why = "invalid argument encoding";
				return (TEXTNET_PARSE_ERROR);
			}
			msg->args[msg->nargs++] = msg->storage + stored;
			stored += (size_t)n + 1;
			break;
		}
		nfields++;
	}
	if (nfields < 3) {
		*why = nfields == 0 ? "empty header" : "header lacks fields";
		return (TEXTNET_PARSE_ERROR);
	}
	*used = (size_t)(lf - buf) + 1;
	return (TEXTNET_PARSE_OK);
}

/*
 * Write the header line "CODE TID LEN ARG...\r\n", args encoded (a NULL
 * arg is written as empty), NUL-terminated.  Returns its length without
 * the NUL, or 0 if it does not fit in out, would exceed
 * TEXTNET_MAX_HEADER (a peer would refuse it), or code is invalid.
 */
size_t
textnet_format(char *out, size_t outsize, const char *code, uint64_t tid,
    size_t body_len, int nargs, const char *const *args)
{
	size_t	o, n, limit;
	int	i, r;

	if (code == NULL || !textnet_valid_code(code, strlen(code), NULL))
		return (0);
	if (nargs < 0 || (nargs > 0 && args == NULL))
		return (0);
	/* The header and its NUL, within both out and the protocol cap. */
	limit = outsize < TEXTNET_MAX_HEADER + 1 ?
	    outsize : TEXTNET_MAX_HEADER + 1;

	r = snprintf(out, limit, "%s %" PRIu64 " %zu", code, tid, body_len);
	if (r < 0 || (size_t)r >= limit)
		return (0);
	o = (size_t)r;
	for (i = 0; i < nargs; i++) {
		if (limit - o < 2)
			return (0);
		out[o++] = ' ';
		n = textnet_encode_arg(out + o, limit - o, args[i]);
		if (n == 0)
			return (0);
		o += n;
	}
	if (limit - o < 3)
		return (0);
	memcpy(out + o, "\r\n", 3);
	return (o + 2);
}
