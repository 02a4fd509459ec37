/*
 * Unit tests for the log helpers (src/log.c): log_escape, which makes a
 * peer's string safe to put into a key=value log line.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#include "checklib.h"

START_TEST(escape_keeps_printable_bytes)
{
	char	out[LOG_ESCAPE_SIZE(64)];

	ck_assert_str_eq(log_escape(out, sizeof(out), "alice"), "alice");
	ck_assert_str_eq(log_escape(out, sizeof(out), "a.b-c_d@e=f[]"),
	    "a.b-c_d@e=f[]");
	ck_assert_str_eq(log_escape(out, sizeof(out), ""), "");
}
END_TEST

START_TEST(escape_encodes_space_control_percent_and_high_bytes)
{
	char	out[LOG_ESCAPE_SIZE(64)];

	ck_assert_str_eq(log_escape(out, sizeof(out), "a b"), "a%20b");
	ck_assert_str_eq(log_escape(out, sizeof(out), "x\ny\r\t"),
	    "x%0Ay%0D%09");
	ck_assert_str_eq(log_escape(out, sizeof(out), "100%"), "100%25");
	ck_assert_str_eq(log_escape(out, sizeof(out), "\x01\x7f\x80\xff"),
	    "%01%7F%80%FF");
}
END_TEST

START_TEST(escape_cannot_forge_a_line_or_a_field)
{
	const char	*forged = "x result=ok\nbad password for user root";
	char		 out[LOG_ESCAPE_SIZE(64)];

	log_escape(out, sizeof(out), forged);
	ck_assert_ptr_null(strchr(out, ' '));
	ck_assert_ptr_null(strchr(out, '\n'));
	ck_assert_str_eq(out,
	    "x%20result=ok%0Abad%20password%20for%20user%20root");
}
END_TEST

START_TEST(escape_worst_case_fits_its_size)
{
	char	in[256], out[LOG_ESCAPE_SIZE(255)];
	size_t	i;

	for (i = 0; i < 255; i++)
		in[i] = (char)(0x80 + i % 0x80);
	in[255] = '\0';
	log_escape(out, sizeof(out), in);
	ck_assert_uint_eq(strlen(out), 3 * 255);
}
END_TEST

START_TEST(escape_truncates_at_whole_escapes)
{
	char	out[8];

	/* "ab%0A" is 5; the next escape would need 3 more plus the NUL. */
	ck_assert_str_eq(log_escape(out, sizeof(out), "ab\n\ncd"), "ab%0A");
	ck_assert_str_eq(log_escape(out, sizeof(out), "abcdefghij"),
	    "abcdefg");
	ck_assert_str_eq(log_escape(out, 1, "abc"), "");
	memset(out, 'z', sizeof(out));
	log_escape(out, 0, "abc");
	ck_assert_int_eq(out[0], 'z');
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc;

	tc = tcase_create("escape");
	tcase_add_test(tc, escape_keeps_printable_bytes);
	tcase_add_test(tc, escape_encodes_space_control_percent_and_high_bytes);
	tcase_add_test(tc, escape_cannot_forge_a_line_or_a_field);
	tcase_add_test(tc, escape_worst_case_fits_its_size);
	tcase_add_test(tc, escape_truncates_at_whole_escapes);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(log_suite()));
}
