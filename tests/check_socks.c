/*
 * Unit tests of the SOCKS codec (src/socks.c): every message type, every
 * error and its reply, input split at every byte boundary, input with
 * trailing bytes, the reply builders and the failure-reason tables.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socks.h"

#include "checklib.h"

/* A parser of any message type, its output behind a void pointer. */
typedef enum socks_parse (*socks_parser)(const uint8_t *, size_t, size_t *,
    void *, struct socks_error *);

static enum socks_parse
parse_greeting(const uint8_t *p, size_t len, size_t *used, void *out,
    struct socks_error *err)
{
	return (socks5_parse_greeting(p, len, used, out, err));
}

static enum socks_parse
parse_userpass(const uint8_t *p, size_t len, size_t *used, void *out,
    struct socks_error *err)
{
	return (socks5_parse_userpass(p, len, used, out, err));
}

static enum socks_parse
parse_request5(const uint8_t *p, size_t len, size_t *used, void *out,
    struct socks_error *err)
{
	return (socks5_parse_request(p, len, used, out, err));
}

static enum socks_parse
parse_request4(const uint8_t *p, size_t len, size_t *used, void *out,
    struct socks_error *err)
{
	return (socks4_parse_request(p, len, used, out, err));
}

#define SENTINEL	((size_t)0xdeadbeef)

/*
 * Check a complete valid message: every proper prefix is NEED and leaves
 * *used alone, the whole is OK with *used == len, and the same message
 * followed by extra bytes is OK with the same result and *used == len.
 * The parsed result is left in out.
 */
static void
check_complete(socks_parser parse, const uint8_t *msg, size_t len,
    void *out, size_t outsize)
{
	struct socks_error	 err;
	uint8_t			*buf;
	void			*again;
	size_t			 used, k;

	for (k = 0; k < len; k++) {
		used = SENTINEL;
		ck_assert_int_eq(parse(msg, k, &used, out, &err),
		    SOCKS_PARSE_NEED);
		ck_assert_msg(used == SENTINEL, "used set on NEED at %zu", k);
	}
	used = SENTINEL;
	ck_assert_int_eq(parse(msg, len, &used, out, &err), SOCKS_PARSE_OK);
	ck_assert_uint_eq(used, len);

	buf = malloc(len + 7);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, msg, len);
	memcpy(buf + len, "\x05\x01\x00trail", 7);
	again = malloc(outsize);
	ck_assert_ptr_nonnull(again);
	used = SENTINEL;
	ck_assert_int_eq(parse(buf, len + 7, &used, again, &err),
	    SOCKS_PARSE_OK);
	ck_assert_uint_eq(used, len);
	ck_assert_int_eq(memcmp(out, again, outsize), 0);
	free(again);
	free(buf);
}

/* Check that msg fails with exactly the given reply and leaves *used. */
static void
check_error(socks_parser parse, const uint8_t *msg, size_t len, void *out,
    const uint8_t *reply, size_t replylen)
{
	struct socks_error	err;
	size_t			used = SENTINEL;

	memset(&err, 0xaa, sizeof(err));
	ck_assert_int_eq(parse(msg, len, &used, out, &err), SOCKS_PARSE_ERROR);
	ck_assert_msg(used == SENTINEL, "used set on ERROR");
	ck_assert_ptr_nonnull(err.why);
	ck_assert_uint_eq(err.replylen, replylen);
	if (replylen > 0)
		ck_assert_int_eq(memcmp(err.reply, reply, replylen), 0);
}

/* The 10-byte SOCKS5 error reply carrying rep. */
static const uint8_t *
reply5(uint8_t rep)
{
	static uint8_t	r[10];

	memset(r, 0, sizeof(r));
	r[0] = 5;
	r[1] = rep;
	r[3] = SOCKS_ATYP_IPV4;
	return (r);
}

static const uint8_t reply4_rejected[8] = { 0, SOCKS4_REJECTED };

START_TEST(version_from_first_byte)
{
	const uint8_t	v4[] = { 4 }, v5[] = { 5 }, other[] = { 'G' };

	ck_assert_int_eq(socks_version(v4, 1), SOCKS_V4);
	ck_assert_int_eq(socks_version(v5, 1), SOCKS_V5);
	ck_assert_int_eq(socks_version(other, 1), -1);
	ck_assert_int_eq(socks_version(v5, 0), -1);
}
END_TEST

START_TEST(greeting_parses_methods)
{
	const uint8_t		msg[] = { 5, 2, SOCKS5_METHOD_NONE,
				    SOCKS5_METHOD_PASSWORD };
	struct socks_greeting	g;

	check_complete(parse_greeting, msg, sizeof(msg), &g, sizeof(g));
	ck_assert_uint_eq(g.nmethods, 2);
	ck_assert(socks5_greeting_has(&g, SOCKS5_METHOD_NONE));
	ck_assert(socks5_greeting_has(&g, SOCKS5_METHOD_PASSWORD));
	ck_assert(!socks5_greeting_has(&g, SOCKS5_METHOD_GSSAPI));
}
END_TEST

START_TEST(greeting_takes_255_methods)
{
	uint8_t			msg[2 + 255];
	struct socks_greeting	g;
	size_t			i;

	msg[0] = 5;
	msg[1] = 255;
	for (i = 0; i < 255; i++)
		msg[2 + i] = (uint8_t)(i + 1);
	check_complete(parse_greeting, msg, sizeof(msg), &g, sizeof(g));
	ck_assert_uint_eq(g.nmethods, 255);
	ck_assert(socks5_greeting_has(&g, 0xff));
	ck_assert(!socks5_greeting_has(&g, 0x00));
}
END_TEST

START_TEST(greeting_without_methods_is_refused)
{
	const uint8_t		msg[] = { 5, 0 };
	const uint8_t		reply[] = { 5, 0xff };
	struct socks_greeting	g;

	check_error(parse_greeting, msg, sizeof(msg), &g, reply,
	    sizeof(reply));
}
END_TEST

START_TEST(greeting_wrong_version_has_no_reply)
{
	const uint8_t		msg[] = { 4, 1, 0 };
	const uint8_t		http[] = { 'G', 'E', 'T', ' ' };
	struct socks_greeting	g;

	check_error(parse_greeting, msg, sizeof(msg), &g, NULL, 0);
	check_error(parse_greeting, msg, 1, &g, NULL, 0);
	check_error(parse_greeting, http, sizeof(http), &g, NULL, 0);
}
END_TEST

START_TEST(method_reply_is_two_bytes)
{
	uint8_t	out[2];

	ck_assert_uint_eq(socks5_build_method(out, SOCKS5_METHOD_PASSWORD),
	    2);
	ck_assert_uint_eq(out[0], 5);
	ck_assert_uint_eq(out[1], SOCKS5_METHOD_PASSWORD);
}
END_TEST

START_TEST(userpass_parses)
{
	const uint8_t		msg[] = { 1, 3, 'b', 'o', 'b', 4,
				    's', '3', 'c', 'r' };
	struct socks_userpass	up;

	check_complete(parse_userpass, msg, sizeof(msg), &up, sizeof(up));
	ck_assert_str_eq(up.user, "bob");
	ck_assert_str_eq(up.pass, "s3cr");
}
END_TEST

START_TEST(userpass_takes_empty_and_longest_fields)
{
	const uint8_t		empty[] = { 1, 0, 0 };
	uint8_t			big[3 + 255 + 255];
	struct socks_userpass	up;

	check_complete(parse_userpass, empty, sizeof(empty), &up, sizeof(up));
	ck_assert_str_eq(up.user, "");
	ck_assert_str_eq(up.pass, "");

	big[0] = 1;
	big[1] = 255;
	memset(big + 2, 'u', 255);
	big[2 + 255] = 255;
	memset(big + 3 + 255, 'p', 255);
	check_complete(parse_userpass, big, sizeof(big), &up, sizeof(up));
	ck_assert_uint_eq(strlen(up.user), 255);
	ck_assert_uint_eq(strlen(up.pass), 255);
	ck_assert_int_eq(up.user[254], 'u');
	ck_assert_int_eq(up.pass[254], 'p');
}
END_TEST

START_TEST(userpass_wrong_version_is_failure)
{
	const uint8_t		msg[] = { 5, 1, 'a', 1, 'b' };
	const uint8_t		reply[] = { 1, 1 };
	struct socks_userpass	up;

	check_error(parse_userpass, msg, sizeof(msg), &up, reply,
	    sizeof(reply));
}
END_TEST

START_TEST(userpass_nul_byte_is_failure)
{
	const uint8_t		user[] = { 1, 3, 'a', 0, 'b', 1, 'p' };
	const uint8_t		pass[] = { 1, 1, 'a', 3, 'p', 0, 'x' };
	const uint8_t		reply[] = { 1, 1 };
	struct socks_userpass	up;

	check_error(parse_userpass, user, sizeof(user), &up, reply,
	    sizeof(reply));
	check_error(parse_userpass, pass, sizeof(pass), &up, reply,
	    sizeof(reply));
}
END_TEST

START_TEST(userpass_reply_says_ok_or_not)
{
	uint8_t	out[2];

	ck_assert_uint_eq(socks5_build_userpass_reply(out, 1), 2);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(out[1], 0);
	ck_assert_uint_eq(socks5_build_userpass_reply(out, 0), 2);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(out[1], 1);
}
END_TEST

START_TEST(request5_ipv4)
{
	const uint8_t		msg[] = { 5, SOCKS_CMD_CONNECT, 0,
				    SOCKS_ATYP_IPV4, 127, 0, 0, 1, 0, 80 };
	struct socks_request	req;

	check_complete(parse_request5, msg, sizeof(msg), &req, sizeof(req));
	ck_assert_int_eq(req.version, SOCKS_V5);
	ck_assert_int_eq(req.cmd, SOCKS_CMD_CONNECT);
	ck_assert_int_eq(req.atyp, SOCKS_ATYP_IPV4);
	ck_assert_str_eq(req.host, "127.0.0.1");
	ck_assert_uint_eq(req.port, 80);
	ck_assert_str_eq(req.user, "");
}
END_TEST

START_TEST(request5_ipv6)
{
	uint8_t			msg[4 + 16 + 2] = { 5, SOCKS_CMD_BIND, 0,
				    SOCKS_ATYP_IPV6 };
	struct socks_request	req;

	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::7", msg + 4), 1);
	msg[20] = 0x01;
	msg[21] = 0xbb;
	check_complete(parse_request5, msg, sizeof(msg), &req, sizeof(req));
	ck_assert_int_eq(req.cmd, SOCKS_CMD_BIND);
	ck_assert_int_eq(req.atyp, SOCKS_ATYP_IPV6);
	ck_assert_str_eq(req.host, "2001:db8::7");
	ck_assert_uint_eq(req.port, 443);
}
END_TEST

START_TEST(request5_domain)
{
	const uint8_t		msg[] = { 5, SOCKS_CMD_CONNECT, 0,
				    SOCKS_ATYP_DOMAIN, 11, 'e', 'x', 'a', 'm',
				    'p', 'l', 'e', '.', 'c', 'o', 'm',
				    0xff, 0xfe };
	struct socks_request	req;

	check_complete(parse_request5, msg, sizeof(msg), &req, sizeof(req));
	ck_assert_int_eq(req.atyp, SOCKS_ATYP_DOMAIN);
	ck_assert_str_eq(req.host, "example.com");
	ck_assert_uint_eq(req.port, 65534);
}
END_TEST

START_TEST(request5_longest_domain)
{
	uint8_t			msg[5 + 255 + 2] = { 5, SOCKS_CMD_CONNECT, 0,
				    SOCKS_ATYP_DOMAIN, 255 };
	struct socks_request	req;

	memset(msg + 5, 'h', 255);
	check_complete(parse_request5, msg, sizeof(msg), &req, sizeof(req));
	ck_assert_uint_eq(strlen(req.host), 255);
	ck_assert_uint_eq(req.port, 0);
}
END_TEST

START_TEST(request5_any_command_and_reserved_byte_parse)
{
	const uint8_t		udp[] = { 5, SOCKS_CMD_UDP, 0x7f,
				    SOCKS_ATYP_IPV4, 0, 0, 0, 0, 0, 0 };
	const uint8_t		odd[] = { 5, 0x99, 0, SOCKS_ATYP_IPV4,
				    10, 1, 2, 3, 0x1f, 0x90 };
	struct socks_request	req;

	check_complete(parse_request5, udp, sizeof(udp), &req, sizeof(req));
	ck_assert_int_eq(req.cmd, SOCKS_CMD_UDP);
	ck_assert_str_eq(req.host, "0.0.0.0");
	check_complete(parse_request5, odd, sizeof(odd), &req, sizeof(req));
	ck_assert_int_eq(req.cmd, 0x99);
	ck_assert_str_eq(req.host, "10.1.2.3");
	ck_assert_uint_eq(req.port, 8080);
}
END_TEST

START_TEST(request5_empty_domain_is_general_failure)
{
	const uint8_t		msg[] = { 5, 1, 0, SOCKS_ATYP_DOMAIN, 0,
				    0, 80 };
	struct socks_request	req;

	check_error(parse_request5, msg, sizeof(msg), &req,
	    reply5(SOCKS5_FAILURE), 10);
	/* Known as soon as the length byte arrives. */
	check_error(parse_request5, msg, 5, &req, reply5(SOCKS5_FAILURE), 10);
}
END_TEST

START_TEST(request5_nul_in_domain_is_host_unreachable)
{
	const uint8_t		msg[] = { 5, 1, 0, SOCKS_ATYP_DOMAIN, 3,
				    'a', 0, 'b', 0, 80 };
	struct socks_request	req;

	check_error(parse_request5, msg, sizeof(msg), &req,
	    reply5(SOCKS5_HOST_UNREACHABLE), 10);
}
END_TEST

START_TEST(request5_unprintable_domain_is_host_unreachable)
{
	/* A name that would split an access line and forge fields. */
	const char		*forged = "evil result=ok up=999\naccess x";
	const uint8_t		 bad[] = { ' ', '\t', '\r', '\n', 0x01, 0x1f,
				    0x7f, 0x80, 0xc3, 0xff };
	uint8_t			 msg[5 + 255 + 2];
	struct socks_request	 req;
	size_t			 i, len;

	len = strlen(forged);
	msg[0] = 5;
	msg[1] = SOCKS_CMD_CONNECT;
	msg[2] = 0;
	msg[3] = SOCKS_ATYP_DOMAIN;
	msg[4] = len;
	memcpy(msg + 5, forged, len);
	msg[5 + len] = 0;
	msg[6 + len] = 80;
	check_error(parse_request5, msg, 7 + len, &req,
	    reply5(SOCKS5_HOST_UNREACHABLE), 10);

	/* Each bad byte alone, first, in the middle and last. */
	msg[4] = 3;
	msg[8] = 0;
	msg[9] = 80;
	for (i = 0; i < sizeof(bad); i++) {
		memcpy(msg + 5, "abc", 3);
		msg[5 + i % 3] = bad[i];
		check_error(parse_request5, msg, 10, &req,
		    reply5(SOCKS5_HOST_UNREACHABLE), 10);
	}

	/* Every printable byte but the space is fine. */
	for (i = 0x21; i <= 0x7e; i++) {
		msg[4] = 1;
		msg[5] = (uint8_t)i;
		msg[6] = 0;
		msg[7] = 80;
		check_complete(parse_request5, msg, 8, &req, sizeof(req));
		ck_assert_int_eq((unsigned char)req.host[0], i);
	}
}
END_TEST

START_TEST(request5_unknown_address_type)
{
	const uint8_t		msg[] = { 5, 1, 0, 2, 1, 2, 3, 4, 0, 80 };
	struct socks_request	req;

	check_error(parse_request5, msg, sizeof(msg), &req,
	    reply5(SOCKS5_ATYP_UNSUPPORTED), 10);
	check_error(parse_request5, msg, 4, &req,
	    reply5(SOCKS5_ATYP_UNSUPPORTED), 10);
}
END_TEST

START_TEST(request5_wrong_version)
{
	const uint8_t		msg[] = { 4, 1, 0, 1, 1, 2, 3, 4, 0, 80 };
	struct socks_request	req;

	check_error(parse_request5, msg, sizeof(msg), &req,
	    reply5(SOCKS5_FAILURE), 10);
}
END_TEST

START_TEST(request4_ipv4)
{
	const uint8_t		msg[] = { 4, SOCKS_CMD_CONNECT, 0x1f, 0x90,
				    192, 0, 2, 7, 'b', 'o', 'b', 0 };
	struct socks_request	req;

	check_complete(parse_request4, msg, sizeof(msg), &req, sizeof(req));
	ck_assert_int_eq(req.version, SOCKS_V4);
	ck_assert_int_eq(req.cmd, SOCKS_CMD_CONNECT);
	ck_assert_int_eq(req.atyp, SOCKS_ATYP_IPV4);
	ck_assert_str_eq(req.host, "192.0.2.7");
	ck_assert_uint_eq(req.port, 8080);
	ck_assert_str_eq(req.user, "bob");
}
END_TEST

START_TEST(request4_empty_user_and_bind)
{
	const uint8_t		msg[] = { 4, SOCKS_CMD_BIND, 0, 21,
				    0, 0, 0, 0, 0 };
	struct socks_request	req;

	check_complete(parse_request4, msg, sizeof(msg), &req, sizeof(req));
	ck_assert_int_eq(req.cmd, SOCKS_CMD_BIND);
	/* 0.0.0.0 is a plain address, not the 4a marker. */
	ck_assert_int_eq(req.atyp, SOCKS_ATYP_IPV4);
	ck_assert_str_eq(req.host, "0.0.0.0");
	ck_assert_str_eq(req.user, "");
}
END_TEST

START_TEST(request4a_domain)
{
	const uint8_t		msg[] = { 4, SOCKS_CMD_CONNECT, 1, 187,
				    0, 0, 0, 42, 'u', 0, 'e', 'x', '.',
				    'o', 'r', 'g', 0 };
	struct socks_request	req;

	check_complete(parse_request4, msg, sizeof(msg), &req, sizeof(req));
	ck_assert_int_eq(req.atyp, SOCKS_ATYP_DOMAIN);
	ck_assert_str_eq(req.host, "ex.org");
	ck_assert_str_eq(req.user, "u");
	ck_assert_uint_eq(req.port, 443);
}
END_TEST

START_TEST(request4_longest_user)
{
	uint8_t			msg[8 + SOCKS4_MAX_FIELD + 1] = { 4, 1, 0, 80,
				    10, 0, 0, 1 };
	struct socks_request	req;

	memset(msg + 8, 'u', SOCKS4_MAX_FIELD);
	msg[8 + SOCKS4_MAX_FIELD] = 0;
	check_complete(parse_request4, msg, sizeof(msg), &req, sizeof(req));
	ck_assert_uint_eq(strlen(req.user), SOCKS4_MAX_FIELD);
}
END_TEST

START_TEST(request4_user_without_nul_is_rejected)
{
	uint8_t			msg[8 + SOCKS4_MAX_FIELD + 1] = { 4, 1, 0, 80,
				    10, 0, 0, 1 };
	struct socks_request	req;
	struct socks_error	err;
	size_t			used = SENTINEL;

	memset(msg + 8, 'u', SOCKS4_MAX_FIELD + 1);
	/* One byte short of the limit: still waiting. */
	ck_assert_int_eq(socks4_parse_request(msg, sizeof(msg) - 1, &used,
	    &req, &err), SOCKS_PARSE_NEED);
	check_error(parse_request4, msg, sizeof(msg), &req, reply4_rejected,
	    sizeof(reply4_rejected));
}
END_TEST

START_TEST(request4a_longest_host)
{
	uint8_t			msg[8 + 1 + 255 + 1] = { 4, 1, 0, 80,
				    0, 0, 0, 1, 0 };
	struct socks_request	req;

	memset(msg + 9, 'h', 255);
	msg[9 + 255] = 0;
	check_complete(parse_request4, msg, sizeof(msg), &req, sizeof(req));
	ck_assert_uint_eq(strlen(req.host), 255);
}
END_TEST

START_TEST(request4a_host_too_long_is_rejected)
{
	uint8_t			msg[8 + 1 + SOCKS4_MAX_FIELD + 1] = { 4, 1,
				    0, 80, 0, 0, 0, 1, 0 };
	struct socks_request	req;

	/* Longer than a host name can be, NUL or not. */
	memset(msg + 9, 'h', sizeof(msg) - 9);
	check_error(parse_request4, msg, sizeof(msg), &req, reply4_rejected,
	    sizeof(reply4_rejected));
	msg[9 + 300] = 0;
	check_error(parse_request4, msg, sizeof(msg), &req, reply4_rejected,
	    sizeof(reply4_rejected));
}
END_TEST

START_TEST(request4a_empty_host_is_rejected)
{
	const uint8_t		msg[] = { 4, 1, 0, 80, 0, 0, 0, 9, 'u', 0, 0 };
	struct socks_request	req;

	check_error(parse_request4, msg, sizeof(msg), &req, reply4_rejected,
	    sizeof(reply4_rejected));
}
END_TEST

START_TEST(request4a_unprintable_host_is_rejected)
{
	const uint8_t		space[] = { 4, 1, 0, 80, 0, 0, 0, 1, 'u', 0,
				    'a', ' ', 'b', 0 };
	const uint8_t		newline[] = { 4, 1, 0, 80, 0, 0, 0, 1, 0,
				    'a', '\n', 0 };
	const uint8_t		high[] = { 4, 1, 0, 80, 0, 0, 0, 1, 0, 0xe9,
				    0 };
	struct socks_request	req;

	check_error(parse_request4, space, sizeof(space), &req,
	    reply4_rejected, sizeof(reply4_rejected));
	check_error(parse_request4, newline, sizeof(newline), &req,
	    reply4_rejected, sizeof(reply4_rejected));
	check_error(parse_request4, high, sizeof(high), &req,
	    reply4_rejected, sizeof(reply4_rejected));
}
END_TEST

START_TEST(request4_wrong_version_or_command)
{
	const uint8_t		v5[] = { 5, 1, 0, 80, 1, 2, 3, 4, 0 };
	const uint8_t		udp[] = { 4, 3, 0, 80, 1, 2, 3, 4, 0 };
	struct socks_request	req;

	check_error(parse_request4, v5, sizeof(v5), &req, reply4_rejected,
	    sizeof(reply4_rejected));
	check_error(parse_request4, udp, sizeof(udp), &req, reply4_rejected,
	    sizeof(reply4_rejected));
	check_error(parse_request4, udp, 2, &req, reply4_rejected,
	    sizeof(reply4_rejected));
}
END_TEST

START_TEST(reply5_with_no_address)
{
	uint8_t		out[SOCKS_REPLY_MAX];
	const uint8_t	want[] = { 5, SOCKS5_REFUSED, 0, 1, 0, 0, 0, 0, 0, 0 };

	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(socks5_build_reply(out, SOCKS5_REFUSED, NULL), 10);
	ck_assert_int_eq(memcmp(out, want, sizeof(want)), 0);
}
END_TEST

START_TEST(reply5_with_ipv4)
{
	struct sockaddr_in	sin;
	uint8_t			out[SOCKS_REPLY_MAX];
	const uint8_t		want[] = { 5, 0, 0, 1, 192, 0, 2, 7,
				    0xca, 0x64 };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(51812);
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(socks5_build_reply(out, SOCKS5_SUCCEEDED,
	    (struct sockaddr *)&sin), 10);
	ck_assert_int_eq(memcmp(out, want, sizeof(want)), 0);
}
END_TEST

START_TEST(reply5_with_ipv6)
{
	struct sockaddr_in6	sin6;
	uint8_t			out[SOCKS_REPLY_MAX];
	uint8_t			want[22] = { 5, 0, 0, 4 };

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	memcpy(want + 4, &sin6.sin6_addr, 16);
	want[20] = 1;
	want[21] = 187;
	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(socks5_build_reply(out, SOCKS5_SUCCEEDED,
	    (struct sockaddr *)&sin6), 22);
	ck_assert_int_eq(memcmp(out, want, sizeof(want)), 0);
}
END_TEST

START_TEST(reply5_with_other_family)
{
	struct sockaddr_un	sun;
	uint8_t			out[SOCKS_REPLY_MAX];
	const uint8_t		want[] = { 5, 1, 0, 1, 0, 0, 0, 0, 0, 0 };

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(socks5_build_reply(out, SOCKS5_FAILURE,
	    (struct sockaddr *)&sun), 10);
	ck_assert_int_eq(memcmp(out, want, sizeof(want)), 0);
}
END_TEST

START_TEST(reply4_granted_and_rejected)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	uint8_t			out[SOCKS_REPLY_MAX];
	const uint8_t		granted[] = { 0, 0x5a, 0x1f, 0x90,
				    10, 0, 0, 9 };
	const uint8_t		rejected[] = { 0, 0x5b, 0, 0, 0, 0, 0, 0 };
	const uint8_t		zeros[] = { 0, 0x5a, 0, 0, 0, 0, 0, 0 };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(8080);
	inet_pton(AF_INET, "10.0.0.9", &sin.sin_addr);
	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(socks4_build_reply(out, 1,
	    (struct sockaddr *)&sin), 8);
	ck_assert_int_eq(memcmp(out, granted, 8), 0);

	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(socks4_build_reply(out, 0, NULL), 8);
	ck_assert_int_eq(memcmp(out, rejected, 8), 0);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(8080);
	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(socks4_build_reply(out, 1,
	    (struct sockaddr *)&sin6), 8);
	ck_assert_int_eq(memcmp(out, zeros, 8), 0);
}
END_TEST

START_TEST(failure_names_round_trip)
{
	static const struct {
		enum socks_failure	 f;
		const char		*name;
	} t[] = {
		{ SOCKS_FAIL_DENIED, "denied" },
		{ SOCKS_FAIL_NETUNREACH, "netunreach" },
		{ SOCKS_FAIL_HOSTUNREACH, "hostunreach" },
		{ SOCKS_FAIL_REFUSED, "refused" },
		{ SOCKS_FAIL_TIMEOUT, "timeout" },
		{ SOCKS_FAIL_DNS, "dns" },
		{ SOCKS_FAIL_FAILURE, "failure" },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_str_eq(socks_failure_name(t[i].f), t[i].name);
		ck_assert_int_eq(socks_failure_from_name(t[i].name), t[i].f);
	}
	ck_assert_int_eq(socks_failure_from_name("REFUSED"),
	    SOCKS_FAIL_REFUSED);
	ck_assert_int_eq(socks_failure_from_name("TimeOut"),
	    SOCKS_FAIL_TIMEOUT);
}
END_TEST

START_TEST(failure_unknown_word_is_failure)
{
	ck_assert_int_eq(socks_failure_from_name("bogus"), SOCKS_FAIL_FAILURE);
	ck_assert_int_eq(socks_failure_from_name(""), SOCKS_FAIL_FAILURE);
	ck_assert_int_eq(socks_failure_from_name(NULL), SOCKS_FAIL_FAILURE);
	/* A reset reason never reads as success. */
	ck_assert_int_eq(socks_failure_from_name("ok"), SOCKS_FAIL_FAILURE);
	ck_assert_int_eq(socks_failure_from_name("refusedx"),
	    SOCKS_FAIL_FAILURE);
}
END_TEST

START_TEST(failure_from_errno)
{
	ck_assert_int_eq(socks_failure_from_errno(0), SOCKS_FAIL_NONE);
	ck_assert_int_eq(socks_failure_from_errno(ECONNREFUSED),
	    SOCKS_FAIL_REFUSED);
	ck_assert_int_eq(socks_failure_from_errno(ENETUNREACH),
	    SOCKS_FAIL_NETUNREACH);
	ck_assert_int_eq(socks_failure_from_errno(ENETDOWN),
	    SOCKS_FAIL_NETUNREACH);
	ck_assert_int_eq(socks_failure_from_errno(EHOSTUNREACH),
	    SOCKS_FAIL_HOSTUNREACH);
#ifdef EHOSTDOWN
	ck_assert_int_eq(socks_failure_from_errno(EHOSTDOWN),
	    SOCKS_FAIL_HOSTUNREACH);
#endif
	ck_assert_int_eq(socks_failure_from_errno(ETIMEDOUT),
	    SOCKS_FAIL_TIMEOUT);
	ck_assert_int_eq(socks_failure_from_errno(EACCES), SOCKS_FAIL_DENIED);
	ck_assert_int_eq(socks_failure_from_errno(EPERM), SOCKS_FAIL_DENIED);
	ck_assert_int_eq(socks_failure_from_errno(EMFILE),
	    SOCKS_FAIL_FAILURE);
	ck_assert_int_eq(socks_failure_from_errno(EINVAL),
	    SOCKS_FAIL_FAILURE);
}
END_TEST

START_TEST(failure_to_socks5_reply)
{
	ck_assert_int_eq(socks5_reply_from_failure(SOCKS_FAIL_NONE), 0x00);
	ck_assert_int_eq(socks5_reply_from_failure(SOCKS_FAIL_DENIED), 0x02);
	ck_assert_int_eq(socks5_reply_from_failure(SOCKS_FAIL_NETUNREACH),
	    0x03);
	ck_assert_int_eq(socks5_reply_from_failure(SOCKS_FAIL_HOSTUNREACH),
	    0x04);
	ck_assert_int_eq(socks5_reply_from_failure(SOCKS_FAIL_REFUSED), 0x05);
	ck_assert_int_eq(socks5_reply_from_failure(SOCKS_FAIL_TIMEOUT), 0x06);
	ck_assert_int_eq(socks5_reply_from_failure(SOCKS_FAIL_DNS), 0x04);
	ck_assert_int_eq(socks5_reply_from_failure(SOCKS_FAIL_FAILURE), 0x01);
}
END_TEST

START_TEST(reply_names_are_short_words)
{
	ck_assert_str_eq(socks5_reply_name(SOCKS5_SUCCEEDED), "ok");
	ck_assert_str_eq(socks5_reply_name(SOCKS5_REFUSED), "refused");
	ck_assert_str_eq(socks5_reply_name(SOCKS5_NOT_ALLOWED), "denied");
	ck_assert_str_eq(socks5_reply_name(SOCKS5_TTL_EXPIRED), "timeout");
	ck_assert_str_eq(socks5_reply_name(SOCKS5_FAILURE), "failure");
	ck_assert_str_eq(socks5_reply_name((enum socks5_reply)0x42),
	    "unknown");
	ck_assert_ptr_null(strchr(socks5_reply_name(SOCKS5_CMD_UNSUPPORTED),
	    ' '));
	ck_assert_ptr_null(strchr(socks5_reply_name(SOCKS5_ATYP_UNSUPPORTED),
	    ' '));
}
END_TEST

/* A datagram header of each address type parses, data after it. */
START_TEST(udp_header_parses_each_type)
{
	static const uint8_t	v4[] = { 0, 0, 0, 1, 192, 0, 2, 7, 0x01, 0xbb,
				    'h', 'i' };
	static const uint8_t	v6[] = { 0, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8,
				    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 53,
				    'x' };
	static const uint8_t	dn[] = { 0, 0, 0, 3, 9, 'l', 'o', 'c', 'a',
				    'l', 'h', 'o', 's', 't', 0x30, 0x39 };
	struct socks_udp_header	h;
	const char		*why = NULL;
	size_t			 hl = SENTINEL;

	ck_assert_int_eq(socks5_parse_udp(v4, sizeof(v4), &hl, &h, &why), 0);
	ck_assert_uint_eq(hl, 10);
	ck_assert_str_eq(h.host, "192.0.2.7");
	ck_assert_uint_eq(h.port, 443);
	ck_assert_int_eq(h.atyp, SOCKS_ATYP_IPV4);
	ck_assert_uint_eq(h.frag, 0);

	ck_assert_int_eq(socks5_parse_udp(v6, sizeof(v6), &hl, &h, &why), 0);
	ck_assert_uint_eq(hl, 22);
	ck_assert_str_eq(h.host, "2001:db8::1");
	ck_assert_uint_eq(h.port, 53);

	/* A datagram with no data at all is still a datagram. */
	ck_assert_int_eq(socks5_parse_udp(dn, sizeof(dn), &hl, &h, &why), 0);
	ck_assert_uint_eq(hl, sizeof(dn));
	ck_assert_str_eq(h.host, "localhost");
	ck_assert_uint_eq(h.port, 12345);
	ck_assert_int_eq(h.atyp, SOCKS_ATYP_DOMAIN);
}
END_TEST

/* FRAG is reported, not refused: the caller drops and counts it. */
START_TEST(udp_header_reports_frag)
{
	static const uint8_t	p[] = { 0, 0, 3, 1, 127, 0, 0, 1, 0, 7, 'x' };
	struct socks_udp_header	h;
	const char		*why = NULL;
	size_t			 hl;

	ck_assert_int_eq(socks5_parse_udp(p, sizeof(p), &hl, &h, &why), 0);
	ck_assert_uint_eq(h.frag, 3);
}
END_TEST

/* Short, reserved bits, unknown types and bad names are errors. */
START_TEST(udp_header_errors)
{
	static const uint8_t	full[] = { 0, 0, 0, 1, 127, 0, 0, 1, 0, 7 };
	static const uint8_t	rsv[] = { 0, 1, 0, 1, 127, 0, 0, 1, 0, 7 };
	static const uint8_t	atyp[] = { 0, 0, 0, 2, 127, 0, 0, 1, 0, 7 };
	static const uint8_t	empty[] = { 0, 0, 0, 3, 0, 0, 7 };
	static const uint8_t	ctrl[] = { 0, 0, 0, 3, 2, 'a', '\n', 0, 7 };
	struct socks_udp_header	h;
	const char		*why;
	size_t			 hl, n;

	/* Every truncation of a header is an error, never "need more". */
	for (n = 0; n < sizeof(full); n++) {
		why = NULL;
		ck_assert_int_eq(socks5_parse_udp(full, n, &hl, &h, &why), -1);
		ck_assert_ptr_nonnull(why);
	}
	ck_assert_int_eq(socks5_parse_udp(rsv, sizeof(rsv), &hl, &h, &why),
	    -1);
	ck_assert_int_eq(socks5_parse_udp(atyp, sizeof(atyp), &hl, &h, &why),
	    -1);
	ck_assert_int_eq(socks5_parse_udp(empty, sizeof(empty), &hl, &h,
	    &why), -1);
	ck_assert_int_eq(socks5_parse_udp(ctrl, sizeof(ctrl), &hl, &h, &why),
	    -1);
}
END_TEST

/* The header built for a reply names the source and parses back. */
START_TEST(udp_header_builds_and_round_trips)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct socks_udp_header	h;
	uint8_t			out[SOCKS_UDP_HEADER_MAX];
	const char		*why;
	size_t			n, hl;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5353);
	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	n = socks5_build_udp_header(out, (struct sockaddr *)&sin);
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(out[2], 0);
	ck_assert_uint_eq(out[3], SOCKS_ATYP_IPV4);
	ck_assert_int_eq(socks5_parse_udp(out, n, &hl, &h, &why), 0);
	ck_assert_str_eq(h.host, "10.1.2.3");
	ck_assert_uint_eq(h.port, 5353);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(53);
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	n = socks5_build_udp_header(out, (struct sockaddr *)&sin6);
	ck_assert_uint_eq(n, SOCKS_UDP_HEADER_MAX);
	ck_assert_int_eq(socks5_parse_udp(out, n, &hl, &h, &why), 0);
	ck_assert_str_eq(h.host, "::1");
	ck_assert_uint_eq(h.port, 53);
}
END_TEST

static Suite *
socks_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("socks");

	tc = tcase_create("socks5 greeting");
	tcase_add_test(tc, version_from_first_byte);
	tcase_add_test(tc, greeting_parses_methods);
	tcase_add_test(tc, greeting_takes_255_methods);
	tcase_add_test(tc, greeting_without_methods_is_refused);
	tcase_add_test(tc, greeting_wrong_version_has_no_reply);
	tcase_add_test(tc, method_reply_is_two_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("username and password");
	tcase_add_test(tc, userpass_parses);
	tcase_add_test(tc, userpass_takes_empty_and_longest_fields);
	tcase_add_test(tc, userpass_wrong_version_is_failure);
	tcase_add_test(tc, userpass_nul_byte_is_failure);
	tcase_add_test(tc, userpass_reply_says_ok_or_not);
	suite_add_tcase(s, tc);

	tc = tcase_create("socks5 request");
	tcase_add_test(tc, request5_ipv4);
	tcase_add_test(tc, request5_ipv6);
	tcase_add_test(tc, request5_domain);
	tcase_add_test(tc, request5_longest_domain);
	tcase_add_test(tc, request5_any_command_and_reserved_byte_parse);
	tcase_add_test(tc, request5_empty_domain_is_general_failure);
	tcase_add_test(tc, request5_nul_in_domain_is_host_unreachable);
	tcase_add_test(tc, request5_unprintable_domain_is_host_unreachable);
	tcase_add_test(tc, request5_unknown_address_type);
	tcase_add_test(tc, request5_wrong_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("socks4 request");
	tcase_add_test(tc, request4_ipv4);
	tcase_add_test(tc, request4_empty_user_and_bind);
	tcase_add_test(tc, request4a_domain);
	tcase_add_test(tc, request4_longest_user);
	tcase_add_test(tc, request4_user_without_nul_is_rejected);
	tcase_add_test(tc, request4a_longest_host);
	tcase_add_test(tc, request4a_host_too_long_is_rejected);
	tcase_add_test(tc, request4a_empty_host_is_rejected);
	tcase_add_test(tc, request4a_unprintable_host_is_rejected);
	tcase_add_test(tc, request4_wrong_version_or_command);
	suite_add_tcase(s, tc);

	tc = tcase_create("replies");
	tcase_add_test(tc, reply5_with_no_address);
	tcase_add_test(tc, reply5_with_ipv4);
	tcase_add_test(tc, reply5_with_ipv6);
	tcase_add_test(tc, reply5_with_other_family);
	tcase_add_test(tc, reply4_granted_and_rejected);
	suite_add_tcase(s, tc);

	tc = tcase_create("udp datagram header");
	tcase_add_test(tc, udp_header_parses_each_type);
	tcase_add_test(tc, udp_header_reports_frag);
	tcase_add_test(tc, udp_header_errors);
	tcase_add_test(tc, udp_header_builds_and_round_trips);
	suite_add_tcase(s, tc);

	tc = tcase_create("failure reasons");
	tcase_add_test(tc, failure_names_round_trip);
	tcase_add_test(tc, failure_unknown_word_is_failure);
	tcase_add_test(tc, failure_from_errno);
	tcase_add_test(tc, failure_to_socks5_reply);
	tcase_add_test(tc, reply_names_are_short_words);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (checklib_run(socks_suite()));
}
