/*
 * Unit tests of the link control messages (src/linkmsg.c): each one
 * formatted to the exact bytes PROTOCOL.md 2 and 3 give, parsed back to
 * the struct it came from, and the parsers' answers to what a legacy or
 * hostile peer sends instead (HELO we do not understand, an esp/1 RGST
 * without nonce or proof, window= and max= out of range, a 100 that is
 * not OK, a 403 without a reason).
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkmsg.h"
#include "textnet.h"

#include "checklib.h"

#define NONCE	"00112233445566778899aabbccddeeff"
#define NONCE2	"ffeeddccbbaa99887766554433221100"
#define PROOF	"3c2f00000000000000000000000000000000000000000000000000000088"

static struct textnet_msg	msg;

/* Parse s, one complete header, into msg. */
static void
parse(const char *s)
{
	const char	*why = NULL;
	size_t		 used = 0;

	ck_assert_msg(textnet_parse_header(s, strlen(s), &used, &msg, &why) ==
	    TEXTNET_PARSE_OK, "'%s' did not parse: %s", s, why);
	ck_assert_uint_eq(used, strlen(s));
}

/* Frame o as text-net bytes, check them against want, and parse them. */
static void
check_bytes(const struct linkmsg_out *o, const char *want)
{
	char	line[TEXTNET_MAX_HEADER];
	size_t	n;

	n = textnet_format(line, sizeof(line), o->code, o->tid, 0, o->nargs,
	    o->args);
	ck_assert_uint_gt(n, 0);
	ck_assert_str_eq(line, want);
	parse(line);
}

START_TEST(helo_round_trip)
{
	struct linkmsg_out	 o;
	const char		*nonce = NULL;

	linkmsg_helo(&o, NONCE);
	check_bytes(&o, "HELO 0 0 esp/1 " NONCE "\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_HELO);
	ck_assert_int_eq(linkmsg_parse_helo(&msg, &nonce), 0);
	ck_assert_str_eq(nonce, NONCE);
}
END_TEST

START_TEST(helo_not_understood)
{
	const char	*bad[] = {
		"HELO 0 0\r\n",
		"HELO 0 0 esp/1\r\n",
		"HELO 0 0 esp/2 " NONCE "\r\n",
		"HELO 0 0 esp/1 0011\r\n",		/* too short */
		"HELO 0 0 esp/1 " NONCE "zz\r\n",	/* not hex */
	};
	const char	*nonce;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(bad[i]);
		nonce = NULL;
		ck_assert_msg(linkmsg_parse_helo(&msg, &nonce) == -1,
		    "'%s' understood", bad[i]);
		ck_assert_ptr_null(nonce);
	}
}
END_TEST

START_TEST(esp_rgst_round_trip)
{
	struct linkmsg_rgst	r, back;
	struct linkmsg_out	o;

	memset(&r, 0, sizeof(r));
	r.name = "box7";
	r.esp = 1;
	r.nonce = NONCE;
	r.proof = PROOF;
	r.window = LINKMSG_WINDOW_DEFAULT;
	r.max_sessions = 10;
	r.tags = "eu,fast";
	r.weight = 3;
	r.cmds = "bind,udp";
	linkmsg_rgst(&o, &r);
	check_bytes(&o, "RGST 0 0 box7 esp/1 " NONCE " " PROOF
	    " window=262144 max=10 tags=eu,fast weight=3 cmds=bind,udp\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_RGST);
	linkmsg_parse_rgst(&msg, &back);
	ck_assert_str_eq(back.name, "box7");
	ck_assert(back.esp && back.complete);
	ck_assert_str_eq(back.nonce, NONCE);
	ck_assert_str_eq(back.proof, PROOF);
	ck_assert_uint_eq(back.window, LINKMSG_WINDOW_DEFAULT);
	ck_assert_uint_eq(back.max_sessions, 10);
	ck_assert_str_eq(back.tags, "eu,fast");
	ck_assert_uint_eq(back.weight, 3);
	ck_assert_str_eq(back.cmds, "bind,udp");
	ck_assert_ptr_null(back.window_error);
	ck_assert_ptr_null(back.max_error);
	ck_assert_ptr_null(back.weight_error);
}
END_TEST

START_TEST(esp_rgst_without_a_cap_or_tags_sends_neither)
{
	struct linkmsg_rgst	r;
	struct linkmsg_out	o;

	memset(&r, 0, sizeof(r));
	r.name = "box";
	r.esp = 1;
	r.nonce = NONCE;
	r.proof = "-";
	r.window = 4096;
	r.weight = 1;		/* the default: not sent */
	linkmsg_rgst(&o, &r);
	check_bytes(&o, "RGST 0 0 box esp/1 " NONCE " - window=4096\r\n");
	r.tags = "";
	r.cmds = "";
	linkmsg_rgst(&o, &r);
	check_bytes(&o, "RGST 0 0 box esp/1 " NONCE " - window=4096\r\n");
}
END_TEST

START_TEST(legacy_rgst_round_trip)
{
	struct linkmsg_rgst	r, back;
	struct linkmsg_out	o;

	memset(&r, 0, sizeof(r));
	r.name = "oldbox";
	linkmsg_rgst(&o, &r);
	check_bytes(&o, "RGST 0 0 oldbox\r\n");
	linkmsg_parse_rgst(&msg, &back);
	ck_assert_str_eq(back.name, "oldbox");
	ck_assert(!back.esp && !back.complete);
	ck_assert_uint_eq(back.window, LINKMSG_WINDOW_DEFAULT);

	r.name = NULL;
	linkmsg_rgst(&o, &r);
	check_bytes(&o, "RGST 0 0\r\n");
	linkmsg_parse_rgst(&msg, &back);
	ck_assert_ptr_null(back.name);
	ck_assert(!back.esp);
}
END_TEST

/* A legacy RGST's later arguments are never read as options. */
START_TEST(legacy_rgst_options_are_not_read)
{
	struct linkmsg_rgst	r;

	parse("RGST 0 0 oldbox something window=x max=5\r\n");
	linkmsg_parse_rgst(&msg, &r);
	ck_assert(!r.esp);
	ck_assert_uint_eq(r.max_sessions, 0);
	ck_assert_ptr_null(r.window_error);
}
END_TEST

START_TEST(esp_rgst_incomplete)
{
	const char		*bad[] = {
		"RGST 0 0 box esp/1\r\n",
		"RGST 0 0 box esp/1 " NONCE "\r\n",
		"RGST 0 0 box esp/1 0011 -\r\n",
		"RGST 0 0 box esp/1 " NONCE "%20 -\r\n",
	};
	struct linkmsg_rgst	 r;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(bad[i]);
		linkmsg_parse_rgst(&msg, &r);
		ck_assert_msg(r.esp && !r.complete, "'%s': esp %d complete %d",
		    bad[i], r.esp, r.complete);
		ck_assert_ptr_null(r.proof);
	}
}
END_TEST

START_TEST(rgst_options)
{
	struct linkmsg_rgst	r;

	parse("RGST 0 0 box esp/1 " NONCE " - tags=a,b window=1024 "
	    "max=1000000 other=1 tags=c\r\n");
	linkmsg_parse_rgst(&msg, &r);
	ck_assert_str_eq(r.tags, "c");		/* the last one counts */
	ck_assert_uint_eq(r.weight, 1);		/* none given */
	ck_assert_uint_eq(r.window, 1024);
	ck_assert_uint_eq(r.max_sessions, 1000000);
	ck_assert_ptr_null(r.window_error);
	ck_assert_ptr_null(r.max_error);

	parse("RGST 0 0 box esp/1 " NONCE " - window=1023 max=1000001\r\n");
	linkmsg_parse_rgst(&msg, &r);
	ck_assert_uint_eq(r.window, LINKMSG_WINDOW_DEFAULT);
	ck_assert_uint_eq(r.max_sessions, 0);
	ck_assert_str_eq(r.window_error, "too small");
	ck_assert_str_eq(r.max_error, "too large");

	parse("RGST 0 0 box esp/1 " NONCE " - window=x max=-1\r\n");
	linkmsg_parse_rgst(&msg, &r);
	ck_assert_uint_eq(r.window, LINKMSG_WINDOW_DEFAULT);
	ck_assert_str_eq(r.window_error, "invalid");
	ck_assert_str_eq(r.max_error, "too small");

	parse("RGST 0 0 box esp/1 " NONCE " - weight=1000\r\n");
	linkmsg_parse_rgst(&msg, &r);
	ck_assert_uint_eq(r.weight, 1000);
	ck_assert_ptr_null(r.weight_error);
	parse("RGST 0 0 box esp/1 " NONCE " - weight=0\r\n");
	linkmsg_parse_rgst(&msg, &r);
	ck_assert_uint_eq(r.weight, 1);
	ck_assert_str_eq(r.weight_error, "too small");
	parse("RGST 0 0 box esp/1 " NONCE " - weight=1001\r\n");
	linkmsg_parse_rgst(&msg, &r);
	ck_assert_uint_eq(r.weight, 1);
	ck_assert_str_eq(r.weight_error, "too large");

	parse("RGST 0 0 box esp/1 " NONCE " - window=67108864\r\n");
	linkmsg_parse_rgst(&msg, &r);
	ck_assert_uint_eq(r.window, LINKMSG_WINDOW_MAX);
	parse("RGST 0 0 box esp/1 " NONCE " - window=67108865\r\n");
	linkmsg_parse_rgst(&msg, &r);
	ck_assert_str_eq(r.window_error, "too large");
}
END_TEST

START_TEST(ok_round_trip)
{
	struct linkmsg_out	o;
	struct linkmsg_ok	ok;

	linkmsg_ok(&o, PROOF, LINKMSG_WINDOW_DEFAULT);
	check_bytes(&o, "100 0 0 OK " PROOF " window=262144\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_OK);
	ck_assert_int_eq(linkmsg_parse_ok(&msg, &ok), 0);
	ck_assert_str_eq(ok.proof, PROOF);
	ck_assert_uint_eq(ok.window, LINKMSG_WINDOW_DEFAULT);
	ck_assert_ptr_null(ok.window_error);

	parse("100 0 0 OK - window=65536 max=3\r\n");
	ck_assert_int_eq(linkmsg_parse_ok(&msg, &ok), 0);
	ck_assert_str_eq(ok.proof, "-");
	ck_assert_uint_eq(ok.window, 65536);

	parse("100 0 0 OK -\r\n");
	ck_assert_int_eq(linkmsg_parse_ok(&msg, &ok), 0);
	ck_assert_uint_eq(ok.window, LINKMSG_WINDOW_DEFAULT);

	parse("100 0 0 OK - window=x\r\n");
	ck_assert_int_eq(linkmsg_parse_ok(&msg, &ok), 0);
	ck_assert_uint_eq(ok.window, LINKMSG_WINDOW_DEFAULT);
	ck_assert_str_eq(ok.window_error, "invalid");
}
END_TEST

START_TEST(ok_that_is_not_ok)
{
	const char		*bad[] = {
		"100 0 0\r\n",
		"100 0 0 OK\r\n",
		"100 0 0 ok -\r\n",
		"100 0 0 FINE -\r\n",
	};
	struct linkmsg_ok	 ok;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(bad[i]);
		ck_assert_msg(linkmsg_parse_ok(&msg, &ok) == -1,
		    "'%s' taken as OK", bad[i]);
	}
}
END_TEST

START_TEST(refusal_round_trip)
{
	struct linkmsg_out	o;

	linkmsg_refuse(&o, LINKMSG_AUTH_REQUIRED);
	check_bytes(&o, "403 0 0 auth_required\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_REFUSED);
	ck_assert_str_eq(linkmsg_parse_refused(&msg), "auth_required");
	linkmsg_refuse(&o, LINKMSG_BAD_PROOF);
	check_bytes(&o, "403 0 0 bad_proof\r\n");
	linkmsg_refuse(&o, LINKMSG_BAD_NAME);
	check_bytes(&o, "403 0 0 bad_name\r\n");
	parse("403 0 0\r\n");
	ck_assert_str_eq(linkmsg_parse_refused(&msg), "no reason");
}
END_TEST

START_TEST(keepalive_and_drain)
{
	struct linkmsg_out	o;

	linkmsg_ping(&o, 0);
	check_bytes(&o, "PING 0 0\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_PING);
	linkmsg_ping(&o, 42);
	check_bytes(&o, "PING 42 0\r\n");
	linkmsg_pong(&o, 42);
	check_bytes(&o, "100 42 0\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_PONG);
	linkmsg_drain(&o);
	check_bytes(&o, "DRAIN 0 0\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_DRAIN);
}
END_TEST

START_TEST(kinds)
{
	parse("SESS 1 0 1 S SOCKS example.com 443 connect\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_SESS);
	parse("201 0 0 unknown_command\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_UNKNOWN);
	parse("500 3 0 message_timeout\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_RESPONSE);
	parse("FOO 7 0\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_OTHER);
	/* Codes are case-sensitive upper case: "helo" is no command. */
	parse("HELOX 0 0 esp/1 " NONCE "\r\n");
	ck_assert_int_eq(linkmsg_kind(&msg), LINKMSG_OTHER);
}
END_TEST

/* The worker's proof and nonce go out exactly; another nonce differs. */
START_TEST(rgst_keeps_each_field_in_place)
{
	struct linkmsg_rgst	r, back;
	struct linkmsg_out	o;

	memset(&r, 0, sizeof(r));
	r.name = "w";
	r.esp = 1;
	r.nonce = NONCE2;
	r.proof = "-";
	r.window = LINKMSG_WINDOW_MIN;
	r.max_sessions = LINKMSG_MAX_SESSIONS;
	linkmsg_rgst(&o, &r);
	check_bytes(&o, "RGST 0 0 w esp/1 " NONCE2 " - window=1024 "
	    "max=1000000\r\n");
	linkmsg_parse_rgst(&msg, &back);
	ck_assert_str_eq(back.nonce, NONCE2);
	ck_assert_uint_eq(back.window, LINKMSG_WINDOW_MIN);
	ck_assert_uint_eq(back.max_sessions, LINKMSG_MAX_SESSIONS);
}
END_TEST

static Suite *
linkmsg_suite(void)
{
	Suite	*s = suite_create("linkmsg");
	TCase	*tc;

	tc = tcase_create("handshake");
	tcase_add_test(tc, helo_round_trip);
	tcase_add_test(tc, helo_not_understood);
	tcase_add_test(tc, esp_rgst_round_trip);
	tcase_add_test(tc, esp_rgst_without_a_cap_or_tags_sends_neither);
	tcase_add_test(tc, legacy_rgst_round_trip);
	tcase_add_test(tc, legacy_rgst_options_are_not_read);
	tcase_add_test(tc, esp_rgst_incomplete);
	tcase_add_test(tc, rgst_options);
	tcase_add_test(tc, rgst_keeps_each_field_in_place);
	tcase_add_test(tc, ok_round_trip);
	tcase_add_test(tc, ok_that_is_not_ok);
	tcase_add_test(tc, refusal_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("notifications");
	tcase_add_test(tc, keepalive_and_drain);
	tcase_add_test(tc, kinds);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (checklib_run(linkmsg_suite()));
}
