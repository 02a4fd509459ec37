/*
 * libFuzzer target for the text-net codec (src/textnet.c) and the link
 * control messages on top of it (src/linkmsg.c).  The input is read as a
 * link would read it: header, body, header, ... until the parser wants
 * more or refuses.  Each parsed header is formatted again and re-parsed,
 * which must give the same message; it also goes through every
 * handshake parser, whose results must lie within the protocol's bounds
 * and survive being formatted and parsed again.  The argument coder must
 * round-trip any string.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "linkauth.h"
#include "linkmsg.h"
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

/*
 * Frame a control message and parse it back into again; 0 when it does
 * not fit in a header (escaping made it longer), 1 when again holds it.
 */
static int
fuzz_linkmsg_reparse(const struct linkmsg_out *o, struct textnet_msg *again)
{
	char		 line[TEXTNET_MAX_HEADER + 1];
	const char	*why = NULL;
	size_t		 n, used = 0;

	n = textnet_format(line, sizeof(line), o->code, o->tid, 0, o->nargs,
	    o->args);
	if (n == 0)
		return (0);
	FUZZ_CHECK(textnet_parse_header(line, n, &used, again, &why) ==
	    TEXTNET_PARSE_OK);
	FUZZ_CHECK(used == n);
	return (1);
}

/*
 * Feed a parsed message through the handshake decoder: whatever it is,
 * the parsers' results stay within the protocol's bounds, and what they
 * accept is formatted and parsed back to the same fields.
 */
static void
fuzz_linkmsg(const struct textnet_msg *m)
{
	static struct textnet_msg	 again;
	struct linkmsg_rgst		 r, r2;
	struct linkmsg_ok		 ok, ok2;
	struct linkmsg_out		 o;
	enum linkmsg_kind		 kind;
	const char			*nonce, *nonce2;

	kind = linkmsg_kind(m);
	FUZZ_CHECK(m->response == (kind == LINKMSG_OK ||
	    kind == LINKMSG_PONG || kind == LINKMSG_REFUSED ||
	    kind == LINKMSG_UNKNOWN || kind == LINKMSG_RESPONSE));

	if (linkmsg_parse_helo(m, &nonce) == 0) {
		FUZZ_CHECK(linkauth_valid_nonce(nonce));
		linkmsg_helo(&o, nonce);
		if (fuzz_linkmsg_reparse(&o, &again)) {
			FUZZ_CHECK(linkmsg_kind(&again) == LINKMSG_HELO);
			FUZZ_CHECK(linkmsg_parse_helo(&again, &nonce2) == 0);
			FUZZ_CHECK(strcmp(nonce, nonce2) == 0);
		}
	}

	linkmsg_parse_rgst(m, &r);
	FUZZ_CHECK(r.window >= LINKMSG_WINDOW_MIN &&
	    r.window <= LINKMSG_WINDOW_MAX);
	FUZZ_CHECK(r.max_sessions <= LINKMSG_MAX_SESSIONS);
	FUZZ_CHECK(!r.complete || (r.esp && r.nonce != NULL &&
	    r.proof != NULL && linkauth_valid_nonce(r.nonce)));
	FUZZ_CHECK(r.complete || r.proof == NULL);
	if (r.complete) {
		linkmsg_rgst(&o, &r);
		if (fuzz_linkmsg_reparse(&o, &again)) {
			linkmsg_parse_rgst(&again, &r2);
			FUZZ_CHECK(r2.complete);
			FUZZ_CHECK(strcmp(r.name, r2.name) == 0);
			FUZZ_CHECK(strcmp(r.nonce, r2.nonce) == 0);
			FUZZ_CHECK(strcmp(r.proof, r2.proof) == 0);
			FUZZ_CHECK(r.window == r2.window);
			FUZZ_CHECK(r.max_sessions == r2.max_sessions);
			if (r.tags != NULL && *r.tags != '\0')
				FUZZ_CHECK(r2.tags != NULL &&
				    strcmp(r.tags, r2.tags) == 0);
			else
				FUZZ_CHECK(r2.tags == NULL);
			FUZZ_CHECK(r2.window_error == NULL &&
			    r2.max_error == NULL);
		}
	}

	if (linkmsg_parse_ok(m, &ok) == 0) {
		FUZZ_CHECK(ok.proof != NULL);
		FUZZ_CHECK(ok.window >= LINKMSG_WINDOW_MIN &&
		    ok.window <= LINKMSG_WINDOW_MAX);
		linkmsg_ok(&o, ok.proof, ok.window);
		if (fuzz_linkmsg_reparse(&o, &again)) {
			FUZZ_CHECK(linkmsg_kind(&again) == LINKMSG_OK);
			FUZZ_CHECK(linkmsg_parse_ok(&again, &ok2) == 0);
			FUZZ_CHECK(strcmp(ok.proof, ok2.proof) == 0);
			FUZZ_CHECK(ok.window == ok2.window);
		}
	}

	FUZZ_CHECK(linkmsg_parse_refused(m) != NULL);
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
		fuzz_linkmsg(&m);
		off += used;
		if (m.body_len > size - off)
			break;
		off += m.body_len;
	}

	(void)textnet_valid_code(buf, size < 6 ? size : 6, NULL);
	fuzz_arg_round_trip(data, size);
	return (0);
}
