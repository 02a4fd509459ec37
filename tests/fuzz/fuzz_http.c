/*
 * libFuzzer target for the HTTP proxy codec (src/http.c, http-body.c).
 * Each input is parsed as a proxy request; the parser's contracts are
 * checked on the way (*used within the input and the header cap, one
 * byte less incomplete, the header end found the same when searched
 * piecewise, strings terminated and printable), the origin-form rewrite
 * must fit its bound and end every line in CRLF with no Proxy-* field,
 * and the bytes after the header must give the same body end whether
 * the tracker sees them at once or one by one.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "http.h"

/* Check a parsed request's strings and spans. */
static void
fuzz_check_request(const struct http_request *req, size_t used)
{
	const char	*p;
	size_t		 i;

	FUZZ_CHECK(memchr(req->host, '\0', sizeof(req->host)) != NULL);
	FUZZ_CHECK(memchr(req->user, '\0', sizeof(req->user)) != NULL);
	FUZZ_CHECK(memchr(req->pass, '\0', sizeof(req->pass)) != NULL);
	FUZZ_CHECK(req->host[0] != '\0');
	/* A host reaches the logs and the resolver: printable only. */
	for (p = req->host; *p != '\0'; p++)
		FUZZ_CHECK(*p >= 0x21 && *p <= 0x7e);
	FUZZ_CHECK(req->port != 0);
	FUZZ_CHECK(req->minor >= 0 && req->minor <= 9);
	FUZZ_CHECK(req->method.off + req->method.len <= used);
	FUZZ_CHECK(req->path.off + req->path.len <= used);
	FUZZ_CHECK(req->fields.off + req->fields.len <= used);
	FUZZ_CHECK(req->noptions <= HTTP_CONNECTION_MAX);
	for (i = 0; i < req->noptions; i++)
		FUZZ_CHECK(req->options[i].off + req->options[i].len <= used);
	if (req->connect)
		FUZZ_CHECK(req->body == HTTP_BODY_NONE);
}

/* Rewrite the header and check the result's shape. */
static void
fuzz_check_rewrite(const uint8_t *data, const struct http_request *req,
    size_t used)
{
	char	*out;
	size_t	 size = HTTP_REWRITE_SIZE(used), n, i;

	out = malloc(size);
	FUZZ_CHECK(out != NULL);
	n = http_rewrite(data, req, out, size);
	FUZZ_CHECK(n > 0 && n <= size);
	FUZZ_CHECK(n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
	for (i = 0; i < n; i++) {
		if (out[i] == '\n')
			FUZZ_CHECK(i > 0 && out[i - 1] == '\r');
		if (out[i] == '\r')
			FUZZ_CHECK(i + 1 < n && out[i + 1] == '\n');
		if (out[i] == '\n' && i + 7 <= n)
			FUZZ_CHECK(strncasecmp(out + i + 1, "proxy-", 6) != 0);
	}
	/* Too little room is refused, never overrun. */
	FUZZ_CHECK(http_rewrite(data, req, out, n - 1) == 0);
	free(out);
}

/* The body end found at once and byte by byte must agree. */
static void
fuzz_check_body(const struct http_request *req, const uint8_t *p,
    size_t len)
{
	struct http_body	whole, piece;
	ssize_t			a, b;
	size_t			i, sum = 0;
	int			bad = 0;

	http_body_init(&whole, req);
	http_body_init(&piece, req);
	a = http_body_scan(&whole, p, len);
	FUZZ_CHECK(a >= -1 && a <= (ssize_t)len);
	for (i = 0; i < len && !bad; i++) {
		b = http_body_scan(&piece, p + i, 1);
		FUZZ_CHECK(b >= -1 && b <= 1);
		if (b == -1)
			bad = 1;
		else
			sum += b;
	}
	if (a == -1)
		FUZZ_CHECK(bad);
	else {
		FUZZ_CHECK(!bad && sum == (size_t)a);
		FUZZ_CHECK(whole.done == piece.done);
		if (whole.done)
			FUZZ_CHECK(http_body_scan(&whole, p, len) == 0);
	}
}

/* Build every reply and check it fits. */
static void
fuzz_replies(const uint8_t *data, size_t size)
{
	char	out[HTTP_REPLY_MAX];
	int	status = size >= 2 ? data[0] << 8 | data[1] : 0;

	FUZZ_CHECK(http_build_reply(out, sizeof(out), status) > 0);
	FUZZ_CHECK(http_status_text(status) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request	req;
	struct http_error	err;
	enum http_parse		r;
	size_t			used = 0, again = 0, end, from, i;

	(void)http_is_request_start(data, size);

	/* The end searched in pieces is the end searched at once. */
	end = http_header_end(data, size, 0);
	from = 0;
	for (i = 1; i <= size; i += 1 + i / 3) {
		if ((again = http_header_end(data, i, from)) != 0)
			break;
		from = i;
	}
	if (again == 0)
		again = http_header_end(data, size, from);
	FUZZ_CHECK(again == end);

	memset(&err, 0, sizeof(err));
	r = http_parse_request(data, size, &used, &req, &err);
	switch (r) {
	case HTTP_PARSE_OK:
		FUZZ_CHECK(used > 0 && used <= size && used <= HTTP_HEADER_MAX);
		FUZZ_CHECK(http_parse_request(data, used - 1, &again, &req,
		    &err) == HTTP_PARSE_NEED);
		FUZZ_CHECK(http_parse_request(data, used, &again, &req,
		    &err) == HTTP_PARSE_OK && again == used);
		fuzz_check_request(&req, used);
		if (!req.connect)
			fuzz_check_rewrite(data, &req, used);
		fuzz_check_body(&req, data + used, size - used);
		break;
	case HTTP_PARSE_NEED:
		FUZZ_CHECK(size < HTTP_HEADER_MAX);
		break;
	case HTTP_PARSE_ERROR:
		FUZZ_CHECK(err.why != NULL);
		FUZZ_CHECK(err.status == 400 || err.status == 431 ||
		    err.status == 505);
		break;
	}
	fuzz_replies(data, size);
	return (0);
}
