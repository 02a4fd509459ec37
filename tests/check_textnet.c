/*
 * Unit tests of the text-net codec (src/textnet.c): header parsing split
 * at every byte boundary and coalesced with bodies and further headers,
 * every limit and malformed field, argument encoding and decoding with
 * the Node library's "%00" quirk, and formatting round trips.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textnet.h"

#include "checklib.h"

#define SENTINEL	((size_t)0xdeadbeef)

static struct textnet_msg	msg;

/* Parse s, which must be one complete header; returns the result. */
static enum textnet_parse
parse(const char *s, const char **why)
{
	size_t	used = SENTINEL;
	enum textnet_parse r;

	*why = NULL;
	r = textnet_parse_header(s, strlen(s), &used, &msg, why);
	if (r == TEXTNET_PARSE_OK)
		ck_assert_uint_eq(used, strlen(s));
	else
		ck_assert_msg(used == SENTINEL, "used set without OK");
	if (r == TEXTNET_PARSE_ERROR)
		ck_assert_ptr_nonnull(*why);
	return (r);
}

/* Check that s is refused, with a reason. */
static void
check_bad(const char *s)
{
	const char	*why;

	ck_assert_msg(parse(s, &why) == TEXTNET_PARSE_ERROR,
	    "accepted: \"%s\"", s);
}

/* Check that s parses. */
static void
check_good(const char *s)
{
	const char	*why;

	ck_assert_msg(parse(s, &why) == TEXTNET_PARSE_OK,
	    "refused (%s): \"%s\"", why, s);
}

START_TEST(command_without_args)
{
	check_good("PING 0 0\r\n");
	ck_assert_str_eq(msg.code, "PING");
	ck_assert_int_eq(msg.response, 0);
	ck_assert_uint_eq(msg.tid, 0);
	ck_assert_uint_eq(msg.body_len, 0);
	ck_assert_int_eq(msg.nargs, 0);
}
END_TEST

START_TEST(response_code)
{
	check_good("100 5 0\r\n");
	ck_assert_str_eq(msg.code, "100");
	ck_assert_int_eq(msg.response, 1);
	ck_assert_uint_eq(msg.tid, 5);
	check_good("20100 1 0\r\n");
	ck_assert_int_eq(msg.response, 1);
}
END_TEST

START_TEST(session_with_args)
{
	check_good("SESS 12 517 1 S SOCKS example.com 443 connect\r\n");
	ck_assert_str_eq(msg.code, "SESS");
	ck_assert_uint_eq(msg.tid, 12);
	ck_assert_uint_eq(msg.body_len, 517);
	ck_assert_int_eq(msg.nargs, 6);
	ck_assert_str_eq(msg.args[0], "1");
	ck_assert_str_eq(msg.args[1], "S");
	ck_assert_str_eq(msg.args[2], "SOCKS");
	ck_assert_str_eq(msg.args[3], "example.com");
	ck_assert_str_eq(msg.args[4], "443");
	ck_assert_str_eq(msg.args[5], "connect");
}
END_TEST

START_TEST(lf_alone_ends_header)
{
	check_good("RGST 0 0 box7\n");
	ck_assert_int_eq(msg.nargs, 1);
	ck_assert_str_eq(msg.args[0], "box7");
}
END_TEST

START_TEST(runs_of_blanks_split_fields)
{
	check_good("  SESS\t 3  \t0 7 \t P  \r\n");
	ck_assert_str_eq(msg.code, "SESS");
	ck_assert_uint_eq(msg.tid, 3);
	ck_assert_uint_eq(msg.body_len, 0);
	ck_assert_int_eq(msg.nargs, 2);
	ck_assert_str_eq(msg.args[0], "7");
	ck_assert_str_eq(msg.args[1], "P");
}
END_TEST

START_TEST(split_at_every_byte)
{
	const char		*s = "SESS 9 4 5 S SOCKS a%20b 80 connect\r\n";
	struct textnet_msg	 whole;
	const char		*why;
	size_t			 len, k, used;

	len = strlen(s);
	for (k = 0; k < len; k++) {
		used = SENTINEL;
		ck_assert_int_eq(textnet_parse_header(s, k, &used, &msg,
		    &why), TEXTNET_PARSE_NEED);
		ck_assert_uint_eq(used, SENTINEL);
	}
	ck_assert_int_eq(textnet_parse_header(s, len, &used, &whole, &why),
	    TEXTNET_PARSE_OK);
	ck_assert_uint_eq(used, len);
	ck_assert_int_eq(whole.nargs, 6);
	ck_assert_str_eq(whole.args[3], "a b");
	ck_assert_uint_eq(whole.body_len, 4);
}
END_TEST

START_TEST(coalesced_headers_and_bodies)
{
	const char	*s = "SESS 1 5 1 P\r\nhello"
			    "PING 2 0\n"
			    "SESS 3 3 1 F\r\nend"
			    "100 4";
	const char	*why;
	size_t		 len, off, used;

	len = strlen(s);
	off = 0;
	ck_assert_int_eq(textnet_parse_header(s + off, len - off, &used, &msg,
	    &why), TEXTNET_PARSE_OK);
	ck_assert_uint_eq(used, 14);
	ck_assert_uint_eq(msg.body_len, 5);
	ck_assert_int_eq(memcmp(s + off + used, "hello", 5), 0);
	off += used + msg.body_len;

	ck_assert_int_eq(textnet_parse_header(s + off, len - off, &used, &msg,
	    &why), TEXTNET_PARSE_OK);
	ck_assert_str_eq(msg.code, "PING");
	ck_assert_uint_eq(used, 9);
	off += used + msg.body_len;

	ck_assert_int_eq(textnet_parse_header(s + off, len - off, &used, &msg,
	    &why), TEXTNET_PARSE_OK);
	ck_assert_str_eq(msg.args[1], "F");
	ck_assert_int_eq(memcmp(s + off + used, "end", 3), 0);
	off += used + msg.body_len;

	used = SENTINEL;
	ck_assert_int_eq(textnet_parse_header(s + off, len - off, &used, &msg,
	    &why), TEXTNET_PARSE_NEED);
	ck_assert_uint_eq(used, SENTINEL);
}
END_TEST

START_TEST(codes)
{
	check_good("RGST 0 0\r\n");
	check_good("A12 0 0\r\n");
	check_good("ABCDE 0 0\r\n");
	check_good("201 0 0 unknown_command\r\n");
	check_bad("AB 0 0\r\n");
	check_bad("12 0 0\r\n");
	check_bad("ABCDEF 0 0\r\n");
	check_bad("123456 0 0\r\n");
	check_bad("1AB 0 0\r\n");
	check_bad("ping 0 0\r\n");
	check_bad("PI-G 0 0\r\n");
	check_bad("P\xc3\x89NG 0 0\r\n");

	ck_assert(textnet_valid_code("SESS", 4, NULL));
	ck_assert(!textnet_valid_code("SESS", 2, NULL));
}
END_TEST

START_TEST(transaction_ids)
{
	check_good("PING 18446744073709551615 0\r\n");
	ck_assert_uint_eq(msg.tid, UINT64_MAX);
	check_good("PING 007 0\r\n");
	ck_assert_uint_eq(msg.tid, 7);
	check_bad("PING 18446744073709551616 0\r\n");
	check_bad("PING 99999999999999999999999 0\r\n");
	check_bad("PING -1 0\r\n");
	check_bad("PING +1 0\r\n");
	check_bad("PING 1x 0\r\n");
	check_bad("PING 0x10 0\r\n");
}
END_TEST

/* Parse s whole with textnet_parse_number; -1 or the value in *v. */
static int
number(const char *s, uint64_t *v)
{
	*v = 12345;
	return (textnet_parse_number(s, strlen(s), v));
}

START_TEST(numbers_are_plain_decimal_within_64_bits)
{
	uint64_t	v;

	ck_assert_int_eq(number("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(number("007", &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(number("18446744073709551615", &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(number("18446744073709551610", &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX - 5);
	ck_assert_int_eq(number("18446744073709551616", &v), -1);
	ck_assert_int_eq(number("99999999999999999999", &v), -1);
	ck_assert_int_eq(number("", &v), -1);
	ck_assert_int_eq(number("-1", &v), -1);
	ck_assert_int_eq(number("+1", &v), -1);
	ck_assert_int_eq(number(" 1", &v), -1);
	ck_assert_int_eq(number("1 ", &v), -1);
	ck_assert_int_eq(number("0x10", &v), -1);
	/* A refused number leaves *out alone. */
	ck_assert_uint_eq(v, 12345);
	/* Only len bytes are read: a field inside a longer header. */
	ck_assert_int_eq(textnet_parse_number("4096 x", 4, &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(textnet_parse_number("1", 0, &v), -1);
}
END_TEST

START_TEST(body_lengths)
{
	check_good("SESS 1 1048576 1 P\r\n");
	ck_assert_uint_eq(msg.body_len, TEXTNET_MAX_BODY);
	check_bad("SESS 1 1048577 1 P\r\n");
	check_bad("SESS 1 -1 1 P\r\n");
	check_bad("SESS 1 9223372036854775808 1 P\r\n");
	check_bad("SESS 1 18446744073709551616 1 P\r\n");
	check_bad("SESS 1 1e3 1 P\r\n");
	check_bad("SESS 1 +5 1 P\r\n");
	check_bad("SESS 1 0x10 1 P\r\n");
}
END_TEST

START_TEST(too_few_fields)
{
	check_bad("\r\n");
	check_bad("\n");
	check_bad(" \t \r\n");
	check_bad("PING\r\n");
	check_bad("PING 0\r\n");
}
END_TEST

START_TEST(nul_byte_is_refused)
{
	const char	s[] = "RGST 0 0 a\0b\r\n";
	const char	*why;
	size_t		used = SENTINEL;

	ck_assert_int_eq(textnet_parse_header(s, sizeof(s) - 1, &used, &msg,
	    &why), TEXTNET_PARSE_ERROR);
	ck_assert_uint_eq(used, SENTINEL);
}
END_TEST

START_TEST(header_length_limit)
{
	char		*s;
	const char	*why;
	size_t		 used, prefix;

	s = malloc(TEXTNET_MAX_HEADER + 2);
	ck_assert_ptr_nonnull(s);
	prefix = strlen("RGST 0 0 ");

	/* Exactly 4096 bytes with the CR LF: accepted. */
	memcpy(s, "RGST 0 0 ", prefix);
	memset(s + prefix, 'x', TEXTNET_MAX_HEADER - prefix - 2);
	memcpy(s + TEXTNET_MAX_HEADER - 2, "\r\n", 2);
	ck_assert_int_eq(textnet_parse_header(s, TEXTNET_MAX_HEADER, &used,
	    &msg, &why), TEXTNET_PARSE_OK);
	ck_assert_uint_eq(used, TEXTNET_MAX_HEADER);
	ck_assert_uint_eq(strlen(msg.args[0]), TEXTNET_MAX_HEADER - prefix - 2);

	/* No LF in 4095 bytes: still waiting. */
	ck_assert_int_eq(textnet_parse_header(s, TEXTNET_MAX_HEADER - 1,
	    &used, &msg, &why), TEXTNET_PARSE_NEED);

	/* One byte more before the LF: refused, LF present or not. */
	memset(s + prefix, 'x', TEXTNET_MAX_HEADER - prefix);
	memcpy(s + TEXTNET_MAX_HEADER, "\r\n", 2);
	why = NULL;
	ck_assert_int_eq(textnet_parse_header(s, TEXTNET_MAX_HEADER, &used,
	    &msg, &why), TEXTNET_PARSE_ERROR);
	ck_assert_str_eq(why, "header too long");
	ck_assert_int_eq(textnet_parse_header(s, TEXTNET_MAX_HEADER + 2,
	    &used, &msg, &why), TEXTNET_PARSE_ERROR);
	free(s);
}
END_TEST

START_TEST(argument_count_limit)
{
	char	s[1024];
	int	i;

	snprintf(s, sizeof(s), "SESS 1 0");
	for (i = 0; i < TEXTNET_MAX_ARGS; i++)
		strncat(s, " a", sizeof(s) - strlen(s) - 1);
	strncat(s, "\r\n", sizeof(s) - strlen(s) - 1);
	check_good(s);
	ck_assert_int_eq(msg.nargs, TEXTNET_MAX_ARGS);
	ck_assert_str_eq(msg.args[TEXTNET_MAX_ARGS - 1], "a");

	s[strlen(s) - 2] = '\0';
	strncat(s, " %00\r\n", sizeof(s) - strlen(s) - 1);
	check_bad(s);
}
END_TEST

START_TEST(arguments_fill_storage)
{
	char	*s, *p;
	int	 i;

	/* 64 args of 62 bytes: a 4042-byte header, all of it stored. */
	s = malloc(TEXTNET_MAX_HEADER + 1);
	ck_assert_ptr_nonnull(s);
	p = s + sprintf(s, "SESS 1 0");
	for (i = 0; i < TEXTNET_MAX_ARGS; i++) {
		*p++ = ' ';
		memset(p, 'a' + i % 26, 62);
		p += 62;
	}
	strcpy(p, "\r\n");
	ck_assert_uint_eq(strlen(s), 4042);
	check_good(s);
	ck_assert_int_eq(msg.nargs, TEXTNET_MAX_ARGS);
	for (i = 0; i < TEXTNET_MAX_ARGS; i++) {
		ck_assert_uint_eq(strlen(msg.args[i]), 62);
		ck_assert_int_eq(msg.args[i][61], 'a' + i % 26);
	}
	free(s);
}
END_TEST

START_TEST(argument_decoding)
{
	check_good("RGST 0 0 %41%4a%4A %25%20%09%0a%0d x%2By\r\n");
	ck_assert_int_eq(msg.nargs, 3);
	ck_assert_str_eq(msg.args[0], "AJJ");
	ck_assert_str_eq(msg.args[1], "% \t\n\r");
	ck_assert_str_eq(msg.args[2], "x+y");

	check_good("RGST 0 0 caf\xc3\xa9 %c3%A9\r\n");
	ck_assert_str_eq(msg.args[0], "caf\xc3\xa9");
	ck_assert_str_eq(msg.args[1], "\xc3\xa9");
}
END_TEST

START_TEST(lone_percent_00_is_empty)
{
	check_good("RGST 0 0 %00 b %00\r\n");
	ck_assert_int_eq(msg.nargs, 3);
	ck_assert_str_eq(msg.args[0], "");
	ck_assert_str_eq(msg.args[1], "b");
	ck_assert_str_eq(msg.args[2], "");
}
END_TEST

START_TEST(malformed_escapes_are_refused)
{
	check_bad("RGST 0 0 %\r\n");
	check_bad("RGST 0 0 %4\r\n");
	check_bad("RGST 0 0 abc%4\r\n");
	check_bad("RGST 0 0 %zz\r\n");
	check_bad("RGST 0 0 %g0\r\n");
	/* A NUL cannot live inside a C string. */
	check_bad("RGST 0 0 a%00b\r\n");
	check_bad("RGST 0 0 %00%00\r\n");
}
END_TEST

START_TEST(decode_into_small_buffer)
{
	char	out[4];

	ck_assert_int_eq(textnet_decode_arg(out, sizeof(out), "abc", 3), 3);
	ck_assert_str_eq(out, "abc");
	ck_assert_int_eq(textnet_decode_arg(out, sizeof(out), "abcd", 4), -1);
	ck_assert_int_eq(textnet_decode_arg(out, sizeof(out), "%41%42%43",
	    9), 3);
	ck_assert_str_eq(out, "ABC");
	ck_assert_int_eq(textnet_decode_arg(out, 1, "%00", 3), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(textnet_decode_arg(out, 0, "", 0), -1);
	ck_assert_int_eq(textnet_decode_arg(out, 1, "", 0), 0);
}
END_TEST

START_TEST(encode_escapes_exactly_five_bytes)
{
	char	out[64];

	ck_assert_uint_eq(textnet_encode_arg(out, sizeof(out),
	    "a b\tc\nd\re%f"), 21);
	ck_assert_str_eq(out, "a%20b%09c%0ad%0de%25f");
	ck_assert_uint_eq(textnet_encode_arg(out, sizeof(out),
	    "x+y/z=\xc3\xa9#"), 9);
	ck_assert_str_eq(out, "x+y/z=\xc3\xa9#");
}
END_TEST

START_TEST(encode_empty_as_percent_00)
{
	char	out[8];

	ck_assert_uint_eq(textnet_encode_arg(out, sizeof(out), ""), 3);
	ck_assert_str_eq(out, "%00");
	ck_assert_uint_eq(textnet_encode_arg(out, sizeof(out), NULL), 3);
	ck_assert_str_eq(out, "%00");
	ck_assert_uint_eq(textnet_encode_arg(out, 3, ""), 0);
}
END_TEST

START_TEST(encode_that_does_not_fit)
{
	char	out[8];

	ck_assert_uint_eq(textnet_encode_arg(out, 8, "1234567"), 7);
	ck_assert_uint_eq(textnet_encode_arg(out, 7, "1234567"), 0);
	ck_assert_uint_eq(textnet_encode_arg(out, 7, "123%"), 6);
	ck_assert_uint_eq(textnet_encode_arg(out, 6, "123%"), 0);
	ck_assert_uint_eq(textnet_encode_arg(out, 0, "a"), 0);
}
END_TEST

START_TEST(encode_decode_round_trip)
{
	char	all[256], enc[1024], dec[256];
	size_t	n;
	int	i;

	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	n = textnet_encode_arg(enc, sizeof(enc), all);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(n, strlen(enc));
	ck_assert_ptr_null(strpbrk(enc, " \t\r\n"));
	ck_assert_int_eq(textnet_decode_arg(dec, sizeof(dec), enc, n), 255);
	ck_assert_str_eq(dec, all);

	n = textnet_encode_arg(enc, sizeof(enc), "");
	ck_assert_int_eq(textnet_decode_arg(dec, sizeof(dec), enc, n), 0);
	ck_assert_str_eq(dec, "");
}
END_TEST

START_TEST(format_header)
{
	const char	*args[] = { "1", "S", "SOCKS", "example.com", "443",
			    "connect" };
	const char	*odd[] = { "a b", "", NULL, "100%" };
	char		 out[256];
	size_t		 n;

	n = textnet_format(out, sizeof(out), "SESS", 1, 0, 6, args);
	ck_assert_str_eq(out, "SESS 1 0 1 S SOCKS example.com 443 connect\r\n");
	ck_assert_uint_eq(n, strlen(out));

	n = textnet_format(out, sizeof(out), "PING", 0, 0, 0, NULL);
	ck_assert_str_eq(out, "PING 0 0\r\n");
	ck_assert_uint_eq(n, 10);

	n = textnet_format(out, sizeof(out), "SESS", UINT64_MAX,
	    TEXTNET_MAX_BODY, 4, odd);
	ck_assert_str_eq(out,
	    "SESS 18446744073709551615 1048576 a%20b %00 %00 100%25\r\n");
	ck_assert_uint_eq(n, strlen(out));
}
END_TEST

START_TEST(format_refuses_what_does_not_fit)
{
	char	out[16], *big, *arg;
	const char *args[1];
	size_t	n;

	n = textnet_format(out, sizeof(out), "PING", 0, 0, 0, NULL);
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(textnet_format(out, 11, "PING", 0, 0, 0, NULL), 10);
	ck_assert_uint_eq(textnet_format(out, 10, "PING", 0, 0, 0, NULL), 0);
	ck_assert_uint_eq(textnet_format(out, 9, "PING", 0, 0, 0, NULL), 0);
	ck_assert_uint_eq(textnet_format(out, 0, "PING", 0, 0, 0, NULL), 0);

	/* Bad codes are never written. */
	ck_assert_uint_eq(textnet_format(out, sizeof(out), "ping", 0, 0, 0,
	    NULL), 0);
	ck_assert_uint_eq(textnet_format(out, sizeof(out), "1AB", 0, 0, 0,
	    NULL), 0);
	ck_assert_uint_eq(textnet_format(out, sizeof(out), "PING", 0, 0, -1,
	    NULL), 0);

	/* Never more than a peer accepts, whatever room there is. */
	big = malloc(2 * TEXTNET_MAX_HEADER);
	arg = malloc(TEXTNET_MAX_HEADER);
	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(arg);
	memset(arg, 'x', TEXTNET_MAX_HEADER - 11);
	arg[TEXTNET_MAX_HEADER - 11] = '\0';
	args[0] = arg;
	n = textnet_format(big, 2 * TEXTNET_MAX_HEADER, "RGST", 0, 0, 1, args);
	ck_assert_uint_eq(n, TEXTNET_MAX_HEADER);
	arg[TEXTNET_MAX_HEADER - 11] = 'x';
	arg[TEXTNET_MAX_HEADER - 10] = '\0';
	ck_assert_uint_eq(textnet_format(big, 2 * TEXTNET_MAX_HEADER, "RGST",
	    0, 0, 1, args), 0);
	free(arg);
	free(big);
}
END_TEST

START_TEST(format_parse_round_trip)
{
	const char	*args[] = { "box 7", "esp/1", "", "50%\r\n",
			    "window=262144", "\t" };
	char		 out[512];
	const char	*why;
	size_t		 n, used;
	int		 i;

	n = textnet_format(out, sizeof(out), "RGST", 42, 17, 6, args);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(textnet_parse_header(out, n, &used, &msg, &why),
	    TEXTNET_PARSE_OK);
	ck_assert_uint_eq(used, n);
	ck_assert_str_eq(msg.code, "RGST");
	ck_assert_uint_eq(msg.tid, 42);
	ck_assert_uint_eq(msg.body_len, 17);
	ck_assert_int_eq(msg.nargs, 6);
	for (i = 0; i < 6; i++)
		ck_assert_str_eq(msg.args[i], args[i]);
}
END_TEST

static Suite *
textnet_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("textnet");

	tc = tcase_create("headers");
	tcase_add_test(tc, command_without_args);
	tcase_add_test(tc, response_code);
	tcase_add_test(tc, session_with_args);
	tcase_add_test(tc, lf_alone_ends_header);
	tcase_add_test(tc, runs_of_blanks_split_fields);
	tcase_add_test(tc, split_at_every_byte);
	tcase_add_test(tc, coalesced_headers_and_bodies);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed headers and limits");
	tcase_add_test(tc, codes);
	tcase_add_test(tc, transaction_ids);
	tcase_add_test(tc, numbers_are_plain_decimal_within_64_bits);
	tcase_add_test(tc, body_lengths);
	tcase_add_test(tc, too_few_fields);
	tcase_add_test(tc, nul_byte_is_refused);
	tcase_add_test(tc, header_length_limit);
	tcase_add_test(tc, argument_count_limit);
	tcase_add_test(tc, arguments_fill_storage);
	suite_add_tcase(s, tc);

	tc = tcase_create("argument encoding");
	tcase_add_test(tc, argument_decoding);
	tcase_add_test(tc, lone_percent_00_is_empty);
	tcase_add_test(tc, malformed_escapes_are_refused);
	tcase_add_test(tc, decode_into_small_buffer);
	tcase_add_test(tc, encode_escapes_exactly_five_bytes);
	tcase_add_test(tc, encode_empty_as_percent_00);
	tcase_add_test(tc, encode_that_does_not_fit);
	tcase_add_test(tc, encode_decode_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("formatting");
	tcase_add_test(tc, format_header);
	tcase_add_test(tc, format_refuses_what_does_not_fit);
	tcase_add_test(tc, format_parse_round_trip);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (checklib_run(textnet_suite()));
}
