/*
 * Unit tests of the HTTP proxy codec (src/http.c, src/http-body.c):
 * CONNECT and absolute-form requests, input split at every byte, line
 * ends, the header cap, every refusal and its status, Basic
 * credentials, the origin-form rewrite, body framing and its tracker,
 * and the proxy's replies.
 */
#include "config.h"

#include <sys/types.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#include "checklib.h"

#define SENTINEL	((size_t)0xdeadbeef)

/*
 * Parse msg, which must be a complete request followed by extra bytes
 * of which the header is hdrlen: every shorter prefix of the header is
 * NEED, the header alone and the whole are OK with *used == hdrlen.
 */
static void
parse_ok(const char *msg, size_t hdrlen, struct http_request *req)
{
	struct http_error	err;
	size_t			used, k, len = strlen(msg);

	for (k = 0; k < hdrlen; k++) {
		used = SENTINEL;
		ck_assert_int_eq(http_parse_request((const uint8_t *)msg, k,
		    &used, req, &err), HTTP_PARSE_NEED);
		ck_assert(used == SENTINEL);
	}
	ck_assert_int_eq(http_parse_request((const uint8_t *)msg, hdrlen,
	    &used, req, &err), HTTP_PARSE_OK);
	ck_assert_uint_eq(used, hdrlen);
	used = SENTINEL;
	ck_assert_int_eq(http_parse_request((const uint8_t *)msg, len,
	    &used, req, &err), HTTP_PARSE_OK);
	ck_assert_uint_eq(used, hdrlen);
}

/* Parse a whole request that must be refused with status. */
static const char *
parse_bad(const char *msg, int status)
{
	struct http_request	req;
	struct http_error	err;
	size_t			used = SENTINEL;

	ck_assert_msg(http_parse_request((const uint8_t *)msg, strlen(msg),
	    &used, &req, &err) == HTTP_PARSE_ERROR, "accepted: %s", msg);
	ck_assert_int_eq(err.status, status);
	ck_assert(err.why != NULL);
	ck_assert(used == SENTINEL);
	return (err.why);
}

/* Rewrite msg's header for the origin into a static string. */
static const char *
rewrite(const char *msg)
{
	static char		out[HTTP_REWRITE_SIZE(HTTP_HEADER_MAX)];
	struct http_request	req;
	struct http_error	err;
	size_t			used, n;

	ck_assert_int_eq(http_parse_request((const uint8_t *)msg,
	    strlen(msg), &used, &req, &err), HTTP_PARSE_OK);
	n = http_rewrite((const uint8_t *)msg, &req, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	out[n] = '\0';
	return (out);
}

START_TEST(connect_domain)
{
	const char		*m = "CONNECT example.com:443 HTTP/1.1\r\n"
				    "Host: example.com:443\r\n\r\nTLS";
	struct http_request	 req;

	parse_ok(m, strlen(m) - 3, &req);
	ck_assert(req.connect);
	ck_assert_str_eq(req.host, "example.com");
	ck_assert_uint_eq(req.port, 443);
	ck_assert_int_eq(req.minor, 1);
	ck_assert_int_eq(req.body, HTTP_BODY_NONE);
	ck_assert(!req.has_auth);
}
END_TEST

START_TEST(connect_ipv6_literal)
{
	const char		*m = "CONNECT [::1]:8443 HTTP/1.0\r\n\r\n";
	struct http_request	 req;

	parse_ok(m, strlen(m), &req);
	ck_assert(req.connect);
	ck_assert_str_eq(req.host, "::1");
	ck_assert_uint_eq(req.port, 8443);
	ck_assert_int_eq(req.minor, 0);
}
END_TEST

START_TEST(connect_bad_targets)
{
	parse_bad("CONNECT example.com HTTP/1.1\r\n\r\n", 400);
	parse_bad("CONNECT example.com: HTTP/1.1\r\n\r\n", 400);
	parse_bad("CONNECT example.com:0 HTTP/1.1\r\n\r\n", 400);
	parse_bad("CONNECT example.com:65536 HTTP/1.1\r\n\r\n", 400);
	parse_bad("CONNECT [::1:443 HTTP/1.1\r\n\r\n", 400);
	parse_bad("CONNECT [::g]:443 HTTP/1.1\r\n\r\n", 400);
	parse_bad("CONNECT ::1:443 HTTP/1.1\r\n\r\n", 400);
	parse_bad("CONNECT :443 HTTP/1.1\r\n\r\n", 400);
	parse_bad("CONNECT a%2eb:443 HTTP/1.1\r\n\r\n", 400);
	parse_bad("CONNECT http://a:443/ HTTP/1.1\r\n\r\n", 400);
}
END_TEST

START_TEST(absolute_form)
{
	const char		*m = "GET http://Example.com:8080/a/b?c=d "
				    "HTTP/1.1\r\nHost: elsewhere\r\n\r\n";
	struct http_request	 req;

	parse_ok(m, strlen(m), &req);
	ck_assert(!req.connect);
	ck_assert_str_eq(req.host, "Example.com");
	ck_assert_uint_eq(req.port, 8080);
	ck_assert_int_eq(req.body, HTTP_BODY_NONE);
	ck_assert_str_eq(rewrite(m), "GET /a/b?c=d HTTP/1.1\r\n"
	    "Host: Example.com:8080\r\nConnection: close\r\n\r\n");
}
END_TEST

START_TEST(absolute_form_defaults)
{
	struct http_request	req;
	const char		*m = "HEAD HTTP://h HTTP/1.0\r\n\r\n";

	parse_ok(m, strlen(m), &req);
	ck_assert_uint_eq(req.port, 80);
	ck_assert_str_eq(rewrite(m), "HEAD / HTTP/1.0\r\nHost: h\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_str_eq(rewrite("GET http://h:?q HTTP/1.1\r\n\r\n"),
	    "GET /?q HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	ck_assert_str_eq(rewrite("GET http://[2001:db8::1]:81/ HTTP/1.1\r\n"
	    "\r\n"), "GET / HTTP/1.1\r\nHost: [2001:db8::1]:81\r\n"
	    "Connection: close\r\n\r\n");
}
END_TEST

START_TEST(absolute_form_refusals)
{
	ck_assert_str_eq(parse_bad("GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    400), "not a proxy request");
	parse_bad("GET https://h/ HTTP/1.1\r\n\r\n", 400);
	parse_bad("GET ftp://h/ HTTP/1.1\r\n\r\n", 400);
	parse_bad("GET http://user:pw@h/ HTTP/1.1\r\n\r\n", 400);
	parse_bad("GET http:///x HTTP/1.1\r\n\r\n", 400);
	parse_bad("GET http://h/#frag HTTP/1.1\r\n\r\n", 400);
	parse_bad("OPTIONS * HTTP/1.1\r\n\r\n", 400);
}
END_TEST

START_TEST(request_line_refusals)
{
	parse_bad("GET  http://h/ HTTP/1.1\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/1.1 \r\n\r\n", 400);
	parse_bad("GET http://h/\r\n\r\n", 400);
	parse_bad("GET http://h/ http/1.1\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/11\r\n\r\n", 400);
	parse_bad("G(T http://h/ HTTP/1.1\r\n\r\n", 400);
	parse_bad("GET http://h/\001 HTTP/1.1\r\n\r\n", 400);
	ck_assert_int_eq(http_is_request_start((const uint8_t *)"G", 1), 1);
	ck_assert_int_eq(http_is_request_start((const uint8_t *)"\005", 1),
	    0);
	ck_assert_int_eq(http_is_request_start((const uint8_t *)"", 0), 0);
	parse_bad("GET http://h/ HTTP/2.0\r\n\r\n", 505);
}
END_TEST

START_TEST(lf_only_lines_accepted)
{
	const char		*m = "GET http://h/x HTTP/1.1\nAccept: */*\n"
				    "\nGET";
	struct http_request	 req;

	parse_ok(m, strlen(m) - 3, &req);
	ck_assert_str_eq(rewrite(m), "GET /x HTTP/1.1\r\nHost: h\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n");
	/* Mixed ends, and an empty line of CRLF after LF lines. */
	m = "GET http://h/x HTTP/1.1\r\nA: 1\n\r\n";
	parse_ok(m, strlen(m), &req);
}
END_TEST

START_TEST(bare_cr_refused)
{
	parse_bad("GET http://h/ HTTP/1.1\rX: 1\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\rb\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\r\r\n\r\n", 400);
}
END_TEST

START_TEST(field_refusals)
{
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/1.1\r\nX : a\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/1.1\r\nnocolon\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/1.1\r\n: empty name\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\001b\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\177\r\n\r\n", 400);
}
END_TEST

START_TEST(header_cap)
{
	struct http_request	 req;
	struct http_error	 err;
	uint8_t			*big;
	size_t			 used, n = HTTP_HEADER_MAX + 10;
	const char		*head = "GET http://h/ HTTP/1.1\r\nX: ";

	big = malloc(n);
	memset(big, 'a', n);
	memcpy(big, head, strlen(head));
	/* No end within the cap: 431 as soon as the cap is reached. */
	ck_assert_int_eq(http_parse_request(big, HTTP_HEADER_MAX - 1, &used,
	    &req, &err), HTTP_PARSE_NEED);
	ck_assert_int_eq(http_parse_request(big, HTTP_HEADER_MAX, &used,
	    &req, &err), HTTP_PARSE_ERROR);
	ck_assert_int_eq(err.status, 431);
	/* An end just past the cap is 431 too; just within it is fine. */
	memcpy(big + HTTP_HEADER_MAX - 3, "\r\n\r\n", 4);
	ck_assert_int_eq(http_parse_request(big, n, &used, &req, &err),
	    HTTP_PARSE_ERROR);
	ck_assert_int_eq(err.status, 431);
	memset(big + HTTP_HEADER_MAX - 3, 'a', 4);
	memcpy(big + HTTP_HEADER_MAX - 4, "\r\n\r\n", 4);
	ck_assert_int_eq(http_parse_request(big, n, &used, &req, &err),
	    HTTP_PARSE_OK);
	ck_assert_uint_eq(used, HTTP_HEADER_MAX);
	free(big);
}
END_TEST

START_TEST(header_end_piecewise)
{
	const uint8_t	*m = (const uint8_t *)"GET http://h/ HTTP/1.1\r\n"
			    "A: b\r\n\r\nrest";
	size_t		 len = strlen((const char *)m), k, from = 0, end;

	end = http_header_end(m, len, 0);
	ck_assert_uint_eq(end, len - 4);
	for (k = 1; k <= len; k++) {
		if (http_header_end(m, k, from) != 0)
			break;
		from = k;
	}
	ck_assert_uint_eq(k, end);
	ck_assert_uint_eq(http_header_end(m, k, from), end);
	ck_assert_uint_eq(http_header_end((const uint8_t *)"a\n\n", 3, 0),
	    3);
	ck_assert_uint_eq(http_header_end((const uint8_t *)"a\r\n\n", 4, 3),
	    4);
}
END_TEST

START_TEST(rewrite_drops_hop_fields)
{
	const char	*m = "POST http://h/p HTTP/1.1\r\n"
			    "Host: wrong\r\n"
			    "Proxy-Authorization: Basic dTpw\r\n"
			    "Proxy-Connection: keep-alive\r\n"
			    "Connection: keep-alive, X-Private,"
			    " Transfer-Encoding\r\n"
			    "connection: Content-Length\r\n"
			    "Keep-Alive: timeout=5\r\n"
			    "TE: trailers\r\n"
			    "Upgrade: h2c\r\n"
			    "x-private: 1\r\n"
			    "Trailer: X-Sum\r\n"
			    "Transfer-Encoding: chunked\r\n"
			    "User-Agent: t\r\n"
			    "X-Proxy-Thing: kept\r\n"
			    "\r\n";

	ck_assert_str_eq(rewrite(m), "POST /p HTTP/1.1\r\nHost: h\r\n"
	    "Trailer: X-Sum\r\nTransfer-Encoding: chunked\r\n"
	    "User-Agent: t\r\nX-Proxy-Thing: kept\r\n"
	    "Connection: close\r\n\r\n");
	parse_bad("GET http://h/ HTTP/1.1\r\nConnection: a,b,c,d,e,f,g,h,"
	    "i,j,k,l,m,n,o,p,q\r\n\r\n", 400);
	parse_bad("GET http://h/ HTTP/1.1\r\nConnection: a b\r\n\r\n", 400);
}
END_TEST

START_TEST(rewrite_needs_room)
{
	const char		*m = "GET http://h/ HTTP/1.1\r\n\r\n";
	struct http_request	 req;
	struct http_error	 err;
	char			 out[64];
	size_t			 used, n;

	ck_assert_int_eq(http_parse_request((const uint8_t *)m, strlen(m),
	    &used, &req, &err), HTTP_PARSE_OK);
	n = http_rewrite((const uint8_t *)m, &req, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(http_rewrite((const uint8_t *)m, &req, out, n - 1),
	    0);
}
END_TEST

START_TEST(basic_credentials)
{
	struct http_request	req;
	const char		*m;

	/* "user:pa:ss" */
	m = "CONNECT h:1 HTTP/1.1\r\nproxy-authorization: basic "
	    "dXNlcjpwYTpzcw==\r\n\r\n";
	parse_ok(m, strlen(m), &req);
	ck_assert(req.has_auth);
	ck_assert_str_eq(req.user, "user");
	ck_assert_str_eq(req.pass, "pa:ss");
	/* Unpadded, and an empty password. */
	m = "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic dTo\r\n\r\n";
	parse_ok(m, strlen(m), &req);
	ck_assert(req.has_auth);
	ck_assert_str_eq(req.user, "u");
	ck_assert_str_eq(req.pass, "");
	/* Another scheme, no colon, bad base64, an empty user: none. */
	m = "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Bearer dTpw\r\n\r\n";
	parse_ok(m, strlen(m), &req);
	ck_assert(!req.has_auth);
	m = "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic dXNlcg==\r\n"
	    "\r\n";
	parse_ok(m, strlen(m), &req);
	ck_assert(!req.has_auth);
	m = "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic d*pw\r\n\r\n";
	parse_ok(m, strlen(m), &req);
	ck_assert(!req.has_auth);
	m = "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic OnA=\r\n\r\n";
	parse_ok(m, strlen(m), &req);
	ck_assert(!req.has_auth);
	parse_bad("CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n"
	    "Proxy-Authorization: Basic dTpx\r\n\r\n", 400);
}
END_TEST

START_TEST(body_framing)
{
	struct http_request	req;
	const char		*m;

	m = "POST http://h/ HTTP/1.1\r\nContent-Length: 12\r\n"
	    "Content-Length: 12\r\n\r\n";
	parse_ok(m, strlen(m), &req);
	ck_assert_int_eq(req.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(req.length, 12);
	m = "POST http://h/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: Chunked\r\n\r\n";
	parse_ok(m, strlen(m), &req);
	ck_assert_int_eq(req.body, HTTP_BODY_CHUNKED);
	/* CONNECT has no body whatever it says. */
	m = "CONNECT h:1 HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
	parse_ok(m, strlen(m), &req);
	ck_assert_int_eq(req.body, HTTP_BODY_NONE);

	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n", 400);
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",
	    400);
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
	    400);
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: "
	    "1234567890123456789\r\n\r\n", 400);
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400);
	parse_bad("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: chunked, "
	    "gzip\r\n\r\n", 400);
	parse_bad("POST http://h/ HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n",
	    400);
	parse_bad("POST http://h/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n", 400);
}
END_TEST

/* Feed p to a fresh tracker for req in pieces of step; bytes taken. */
static ssize_t
body_feed(const struct http_request *req, const char *p, size_t step,
    int *done)
{
	struct http_body	b;
	size_t			len = strlen(p), off, n;
	ssize_t			r, sum = 0;

	http_body_init(&b, req);
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		if ((r = http_body_scan(&b, (const uint8_t *)p + off, n)) ==
		    -1)
			return (-1);
		sum += r;
	}
	*done = b.done;
	return (sum);
}

START_TEST(body_length)
{
	struct http_request	req;
	size_t			step;
	int			done;

	memset(&req, 0, sizeof(req));
	req.body = HTTP_BODY_LENGTH;
	req.length = 5;
	for (step = 1; step <= 12; step++) {
		ck_assert_int_eq(body_feed(&req, "helloGET x", step, &done), 5);
		ck_assert(done);
	}
	ck_assert_int_eq(body_feed(&req, "hel", 1, &done), 3);
	ck_assert(!done);
	req.body = HTTP_BODY_NONE;
	ck_assert_int_eq(body_feed(&req, "GET", 1, &done), 0);
	ck_assert(done);
	req.body = HTTP_BODY_LENGTH;
	req.length = 0;
	ck_assert_int_eq(body_feed(&req, "GET", 2, &done), 0);
	ck_assert(done);
}
END_TEST

START_TEST(body_chunked)
{
	const char		*body = "5;name=\"v\"\r\nhello\r\n"
				    "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
				    "0\r\nX-Sum: 1\r\n\r\n";
	char			 msg[256];
	struct http_request	 req;
	size_t			 step;
	int			 done;

	memset(&req, 0, sizeof(req));
	req.body = HTTP_BODY_CHUNKED;
	snprintf(msg, sizeof(msg), "%sGET http://other/ HTTP/1.1\r\n\r\n",
	    body);
	for (step = 1; step <= strlen(msg); step++) {
		ck_assert_int_eq(body_feed(&req, msg, step, &done),
		    strlen(body));
		ck_assert(done);
	}
	ck_assert_int_eq(body_feed(&req, "0\r\n\r\nX", 1, &done), 5);
	ck_assert(done);
	ck_assert_int_eq(body_feed(&req, "3\r\nab", 1, &done), 5);
	ck_assert(!done);
}
END_TEST

START_TEST(body_chunked_broken)
{
	struct http_request	req;
	int			done;

	memset(&req, 0, sizeof(req));
	req.body = HTTP_BODY_CHUNKED;
	ck_assert_int_eq(body_feed(&req, "5\nhello\n0\n\n", 1, &done), -1);
	ck_assert_int_eq(body_feed(&req, "x\r\n", 1, &done), -1);
	ck_assert_int_eq(body_feed(&req, "\r\n", 1, &done), -1);
	ck_assert_int_eq(body_feed(&req, "2\r\nabc\r\n", 1, &done), -1);
	ck_assert_int_eq(body_feed(&req, "1;\001\r\n", 1, &done), -1);
	ck_assert_int_eq(body_feed(&req, "11111111111111111\r\n", 3, &done),
	    -1);
	ck_assert_int_eq(body_feed(&req, "0\r\nX\n\r\n", 1, &done), -1);
	/* Sixteen digits fit. */
	ck_assert_int_eq(body_feed(&req, "000000000000000a\r\n", 4, &done),
	    18);
}
END_TEST

START_TEST(replies)
{
	char	out[HTTP_REPLY_MAX];
	size_t	n;
	int	status[] = { 400, 403, 407, 431, 502, 503, 504, 505, 999, 0 };
	int	i;
	char	*body;

	n = http_build_reply(out, sizeof(out), 200);
	ck_assert_uint_gt(n, 0);
	ck_assert_str_eq(out, "HTTP/1.1 200 Connection established\r\n\r\n");
	for (i = 0; i < (int)(sizeof(status) / sizeof(*status)); i++) {
		n = http_build_reply(out, sizeof(out), status[i]);
		ck_assert_uint_gt(n, 0);
		ck_assert(strstr(out, "Connection: close\r\n") != NULL);
		body = strstr(out, "\r\n\r\n") + 4;
		ck_assert(strstr(out, "Content-Length: ") != NULL);
		ck_assert_uint_eq(strtoul(strstr(out, "Content-Length: ") + 16,
		    NULL, 10), strlen(body));
		ck_assert((strstr(out, "Proxy-Authenticate: Basic "
		    "realm=\"esocksd\"\r\n") != NULL) == (status[i] == 407));
	}
	n = http_build_reply(out, sizeof(out), 407);
	ck_assert_uint_eq(http_build_reply(out, n, 407), 0);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = tcase_create("request");
	tcase_add_test(tc, connect_domain);
	tcase_add_test(tc, connect_ipv6_literal);
	tcase_add_test(tc, connect_bad_targets);
	tcase_add_test(tc, absolute_form);
	tcase_add_test(tc, absolute_form_defaults);
	tcase_add_test(tc, absolute_form_refusals);
	tcase_add_test(tc, request_line_refusals);
	tcase_add_test(tc, lf_only_lines_accepted);
	tcase_add_test(tc, bare_cr_refused);
	tcase_add_test(tc, field_refusals);
	tcase_add_test(tc, header_cap);
	tcase_add_test(tc, header_end_piecewise);
	tcase_add_test(tc, basic_credentials);
	tcase_add_test(tc, body_framing);
	suite_add_tcase(s, tc);

	tc = tcase_create("rewrite");
	tcase_add_test(tc, rewrite_drops_hop_fields);
	tcase_add_test(tc, rewrite_needs_room);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_test(tc, body_length);
	tcase_add_test(tc, body_chunked);
	tcase_add_test(tc, body_chunked_broken);
	suite_add_tcase(s, tc);

	tc = tcase_create("replies");
	tcase_add_test(tc, replies);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (checklib_run(http_suite()));
}
