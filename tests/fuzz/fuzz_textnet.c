/*
 * libFuzzer target for the text-net codec (src/textnet.c).  The input is
 * read as a link would read it: header, body, header, ... until the
 * parser wants more or refuses.  Each parsed header is formatted again
 * and re-parsed, which must give the same message; the argument coder
 * must round-trip any string.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "textnet.h"

/* Check a parsed header's fields lie where the codec promises. */
static void
fuzz_check_msg(const struct textnet_msg *m)
{
	size_t	len;
	int	i, response;

	len = strlen(m->code);
	FUZZ_CHECK(textnet_valid_code(m->code, len, &response));
	FUZZ_CHECK(response == m->response);
	FUZZ_CHECK(m->body_len <= TEXTNET_MAX_BODY);
	FUZZ_CHECK(m->nargs >= 0 && m->nargs <= TEXTNET_MAX_ARGS);
	for (i = 0; i < m->nargs; i++) {
		FUZZ_CHECK(m->args[i] >= m->storage &&
		    m->args[i] < m->storage + sizeof(m->storage));
		FUZZ_CHECK(memchr(m->args[i], '\0', (size_t)(m->storage +
		    sizeof(m->storage) - m->args[i])) != NULL);
	}
}

/* Format m again and check that parsing the result gives m back. */
static void
fuzz_round_trip(const struct textnet_msg *m)
{
	static struct textnet_msg	 again;
	char				 line[TEXTNET_MAX_HEADER + 1];
	const char			*args[TEXTNET_MAX_ARGS];
	const char			*why = NULL;
	size_t				 n, used = 0;
	int				 i;

	for (i = 0; i < m->nargs; i++)
		args[i] = m->args[i];
	n = textnet_format(line, sizeof(line), m->code, m->tid, m->body_len,
	    m->nargs, args);
	if (n == 0)
		return;		/* escaping made it longer than a header */
	FUZZ_CHECK(n <= TEXTNET_MAX_HEADER && line[n] == '\0');
	FUZZ_CHECK(n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n');
	FUZZ_CHECK(textnet_parse_header(line, n, &used, &again, &why) ==
	    TEXTNET_PARSE_OK);
	FUZZ_CHECK(used == n);
	FUZZ_CHECK(strcmp(again.code, m->code) == 0);
	FUZZ_CHECK(again.response == m->response);
	FUZZ_CHECK(again.tid == m->tid);
	FUZZ_CHECK(again.body_len == m->body_len);
	FUZZ_CHECK(again.nargs == m->nargs);
	for (i = 0; i < m->nargs; i++)
		FUZZ_CHECK(strcmp(again.args[i], m->args[i]) == 0);
}

/* Encode the input as one argument and decode it back. */
static void
fuzz_arg_round_trip(const uint8_t *data, size_t size)
{
	char	*s, *enc, *dec;
	size_t	 len, n, encsize;
	int	 d;

	s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	encsize = 3 * len + 4;
	enc = malloc(encsize);
	dec = malloc(len + 1);
	FUZZ_CHECK(enc != NULL && dec != NULL);

	n = textnet_encode_arg(enc, encsize, s);
	FUZZ_CHECK(n > 0 && n < encsize && strlen(enc) == n);
	FUZZ_CHECK(strpbrk(enc, " \t\r\n") == NULL);
	d = textnet_decode_arg(dec, len + 1, enc, n);
	FUZZ_CHECK(d >= 0 && (size_t)d == len && strcmp(dec, s) == 0);
	/* One byte short of room must fail cleanly, not overflow. */
	FUZZ_CHECK(textnet_encode_arg(enc, n, s) == 0);

	/* The raw input as an argument: whatever it is, no overrun. */
	d = textnet_decode_arg(dec, len + 1, s, len);
	FUZZ_CHECK(d < 0 || (size_t)d <= len);

	free(dec);
	free(enc);
	free(s);
}

/* Read the input as a stream of messages, then code it as an argument. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct textnet_msg	 m;
	const char			*buf = (const char *)data;
	const char			*why;
	enum textnet_parse		 r;
	size_t				 off, used;

	off = 0;
	while (off < size) {
		used = 0;
		why = NULL;
		r = textnet_parse_header(buf + off, size - off, &used, &m,
		    &why);
		if (r != TEXTNET_PARSE_OK) {
			FUZZ_CHECK(used == 0);
			FUZZ_CHECK(r == TEXTNET_PARSE_NEED || why != NULL);
			/* Only a full header's worth may be refused as long. */
			if (r == TEXTNET_PARSE_NEED)
				FUZZ_CHECK(size - off < TEXTNET_MAX_HEADER);
			break;
		}
		FUZZ_CHECK(used > 0 && used <= size - off);
		FUZZ_CHECK(used <= TEXTNET_MAX_HEADER);
		FUZZ_CHECK(buf[off + used - 1] == '\n');
		fuzz_check_msg(&m);
		fuzz_round_trip(&m);
		off += used;
		if (m.body_len > size - off)
			break;
		off += m.body_len;
	}

	(void)textnet_valid_code(buf, size < 6 ? size : 6, NULL);
	fuzz_arg_round_trip(data, size);
	return (0);
}
