/*
 * Unit tests for the user-name parameters codec (src/userparam.c) and
 * the tag sets it fills (src/tags.c): where BASE ends, each key and its
 * limits, repeats, and every way a name is refused.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tags.h"
#include "userparam.h"

#include "checklib.h"

/* Parse a name that must be accepted. */
static struct userparam
parse_ok(const char *user)
{
	struct userparam	 up;
	char			*cause = NULL;

	if (userparam_parse(user, &up, &cause) != 0)
		ck_abort_msg("'%s' refused: %s", user, cause);
	ck_assert_ptr_null(cause);
	return (up);
}

/* Parse a name that must be refused, with a cause holding want. */
static void
parse_bad(const char *user, const char *want)
{
	struct userparam	 up;
	char			*cause = NULL;

	if (userparam_parse(user, &up, &cause) == 0)
		ck_abort_msg("'%s' accepted", user);
	ck_assert_ptr_nonnull(cause);
	if (strstr(cause, want) == NULL)
		ck_abort_msg("'%s': cause '%s' lacks '%s'", user, cause, want);
	free(cause);
}

START_TEST(test_plain_name)
{
	struct userparam	up;

	up = parse_ok("alice");
	ck_assert_str_eq(up.base, "alice");
	ck_assert_int_eq(up.tags.n, 0);
	ck_assert_str_eq(up.worker, "");
	ck_assert_str_eq(up.session, "");
	ck_assert_uint_eq(up.ttl, 0);
	ck_assert_int_eq(up.strict, 0);
	ck_assert_int_eq(userparam_has_filters(&up), 0);
	up = parse_ok("");
	ck_assert_str_eq(up.base, "");
}
END_TEST

START_TEST(test_base_keeps_dashes)
{
	struct userparam	up;

	/* No known -KEY- at all: the whole name is the account. */
	up = parse_ok("my-shop-foo-bar");
	ck_assert_str_eq(up.base, "my-shop-foo-bar");
	up = parse_ok("alice-tag");
	ck_assert_str_eq(up.base, "alice-tag");
	up = parse_ok("tag-eu");
	ck_assert_str_eq(up.base, "tag-eu");
	ck_assert_int_eq(up.tags.n, 0);
	up = parse_ok("my-shop-tag-eu");
	ck_assert_str_eq(up.base, "my-shop");
	ck_assert_int_eq(up.tags.n, 1);
	ck_assert_str_eq(up.tags.tag[0], "eu");
}
END_TEST

START_TEST(test_empty_base)
{
	struct userparam	up;

	up = parse_ok("-tag-eu");
	ck_assert_str_eq(up.base, "");
	ck_assert_str_eq(up.tags.tag[0], "eu");
	ck_assert_int_eq(userparam_has_filters(&up), 1);
	up = parse_ok("x-tag-eu");
	ck_assert_str_eq(up.base, "x");
}
END_TEST

START_TEST(test_all_keys)
{
	struct userparam	up;

	up = parse_ok("alice-tag-eu-tag-de-session-x7Y-ttl-30-sticky-strict");
	ck_assert_str_eq(up.base, "alice");
	ck_assert_int_eq(up.tags.n, 2);
	ck_assert_str_eq(up.tags.tag[0], "eu");
	ck_assert_str_eq(up.tags.tag[1], "de");
	ck_assert_str_eq(up.session, "x7Y");
	ck_assert_uint_eq(up.ttl, 30);
	ck_assert_int_eq(up.strict, 1);
	up = parse_ok("alice-session-x-sticky-soft");
	ck_assert_int_eq(up.strict, 0);
	ck_assert_int_eq(userparam_has_filters(&up), 0);
	/* The same tag twice is one tag. */
	up = parse_ok("a-tag-eu-tag-eu");
	ck_assert_int_eq(up.tags.n, 1);
}
END_TEST

START_TEST(test_worker_with_dashes)
{
	struct userparam	up;

	up = parse_ok("alice-worker-box-7.example-tag-eu");
	ck_assert_str_eq(up.worker, "box-7.example");
	ck_assert_str_eq(up.tags.tag[0], "eu");
	ck_assert_int_eq(userparam_has_filters(&up), 1);
	up = parse_ok("alice-worker-a-b-c");
	ck_assert_str_eq(up.worker, "a-b-c");
	up = parse_ok("alice-worker-w1@host:2");
	ck_assert_str_eq(up.worker, "w1@host:2");
}
END_TEST

START_TEST(test_limits)
{
	struct userparam	up;
	char			name[300];

	up = parse_ok("a-ttl-1");
	ck_assert_uint_eq(up.ttl, 1);
	up = parse_ok("a-ttl-1440");
	ck_assert_uint_eq(up.ttl, 1440);
	parse_bad("a-ttl-0", "bad ttl");
	parse_bad("a-ttl-1441", "bad ttl");
	parse_bad("a-ttl-99999", "bad ttl");
	parse_bad("a-ttl-1m", "bad ttl");
	/* 64 characters of session id, then 65. */
	snprintf(name, sizeof(name), "a-session-%064d", 7);
	up = parse_ok(name);
	ck_assert_uint_eq(strlen(up.session), 64);
	snprintf(name, sizeof(name), "a-session-%065d", 7);
	parse_bad(name, "bad session");
	/* 32 bytes of tag, then 33. */
	up = parse_ok("a-tag-abcdefghijklmnopqrstuvwxyz012345");
	ck_assert_uint_eq(strlen(up.tags.tag[0]), 32);
	parse_bad("a-tag-abcdefghijklmnopqrstuvwxyz0123456", "bad tag");
	memset(name, 'a', 256);
	name[256] = '\0';
	parse_bad(name, "longer than");
}
END_TEST

START_TEST(test_refused)
{
	parse_bad("alice-tag-eu-foo-bar", "unknown key 'foo'");
	parse_bad("alice-tag-eu-", "unknown key");
	parse_bad("alice-tag-", "bad tag");
	parse_bad("alice-tag-EU", "bad tag");
	parse_bad("alice-tag-e+u", "bad tag");
	parse_bad("alice-session-", "bad session");
	parse_bad("alice-session-a_b", "bad session");
	parse_bad("alice-session-a-session-b", "session given twice");
	parse_bad("alice-sticky-hard", "bad sticky");
	parse_bad("alice-ttl-5-ttl-6", "ttl given twice");
	parse_bad("alice-worker-", "bad worker");
	parse_bad("alice-worker-direct", "bad worker");
	parse_bad("alice-worker-a-worker-b", "worker given twice");
	parse_bad("alice-worker-a b", "bad worker");
	parse_bad("a-tag-t1-tag-t2-tag-t3-tag-t4-tag-t5-tag-t6-tag-t7-tag-t8"
	    "-tag-t9-tag-t10-tag-t11-tag-t12-tag-t13-tag-t14-tag-t15-tag-t16"
	    "-tag-t17", "more than 16");
}
END_TEST

START_TEST(test_tags_parse)
{
	struct tags	 t, w;
	char		*cause = NULL;
	char		 text[TAGS_TEXT_MAX];

	ck_assert_int_eq(tags_parse(&t, "  eu de\thetzner ", ' ', &cause), 0);
	ck_assert_int_eq(t.n, 3);
	ck_assert_str_eq(tags_format(&t, ',', text, sizeof(text)),
	    "eu,de,hetzner");
	ck_assert_int_eq(tags_parse(&w, "de,eu", ',', &cause), 0);
	ck_assert_int_eq(tags_has_all(&t, &w), 1);
	ck_assert_int_eq(tags_parse(&w, "us,eu", ',', &cause), 0);
	ck_assert_int_eq(tags_has_all(&t, &w), 0);
	ck_assert_int_eq(tags_has_any(&t, &w), 1);
	ck_assert_int_eq(tags_parse(&w, "us", ',', &cause), 0);
	ck_assert_int_eq(tags_has_any(&t, &w), 0);
	ck_assert_int_eq(tags_parse(&w, "", ',', &cause), 0);
	ck_assert_int_eq(tags_has_any(&t, &w), 1);
	ck_assert_str_eq(tags_format(&w, ',', text, sizeof(text)), "-");

	ck_assert_int_eq(tags_parse(&t, "eu,,de", ',', &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(tags_parse(&t, "eu,", ',', &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(tags_parse(&t, "Eu", ' ', &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(tags_parse(&t, "a b c d e f g h i j k l m n o p q",
	    ' ', &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "more than 16"));
	free(cause);
}
END_TEST

static Suite *
userparam_suite(void)
{
	Suite	*s = suite_create("userparam");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_plain_name);
	tcase_add_test(tc, test_base_keeps_dashes);
	tcase_add_test(tc, test_empty_base);
	tcase_add_test(tc, test_all_keys);
	tcase_add_test(tc, test_worker_with_dashes);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_tags_parse);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(userparam_suite()));
}
