/*
 * Unit tests for passwd.c: loading a PASSWORD_FILE from a temporary
 * directory, checking right and wrong passwords and unknown users, also
 * in two steps that outlive the database, and the file:line errors for
 * bad lines.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "passwd.h"

#include "checklib.h"

/* Made with `openssl passwd -5 -salt ...` on the build machine. */
#define HASH_ALICE	"$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0"
#define PASS_ALICE	"secret"
#define HASH_BOB	"$5$bobsalt$27YGuqwBI4MJfElQf8Tm88XuF2jSCSXhBcsRAt5pHRA"
#define PASS_BOB	"hunter2"
#define HASH_CAROL	"$5$rounds=1000$carolsalt$" \
			"Lgl6493Lm75uNvl732jirHG7lCTp9dGAiPX6eJ8TqZ7"
#define PASS_CAROL	"pass word:with colon"

static char	tmpdir[64];
static char	path[128];

/* Make a private directory for this test's files. */
static void
tmp_setup(void)
{
	strcpy(tmpdir, "/tmp/check_passwd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/passwords", tmpdir);
}

/* Remove the file and directory tmp_setup made. */
static void
tmp_teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
}

/* Write len bytes of text to the test file with the given mode. */
static void
write_file_len(const char *text, size_t len, mode_t mode)
{
	FILE	*f;

	unlink(path);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* Write a string to the test file with the given mode. */
static void
write_file(const char *text, mode_t mode)
{
	write_file_len(text, strlen(text), mode);
}

/* Load the test file expecting failure; return the cause. */
static char *
load_fails(void)
{
	struct passwd_db	*db;
	char			*cause = NULL;

	db = passwd_load(path, &cause);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(cause);
	return (cause);
}

/* Assert cause is "PATH:LINE: " followed by text containing what. */
static void
assert_cause(char *cause, unsigned long line, const char *what)
{
	char	prefix[256];

	snprintf(prefix, sizeof(prefix), "%s:%lu: ", path, line);
	ck_assert_msg(strncmp(cause, prefix, strlen(prefix)) == 0,
	    "cause \"%s\" does not start with \"%s\"", cause, prefix);
	ck_assert_msg(strstr(cause + strlen(prefix), what) != NULL,
	    "cause \"%s\" does not say \"%s\"", cause, what);
	free(cause);
}

static const char good_file[] =
    "# esocksd users\n"
    "\n"
    "alice:" HASH_ALICE "\n"
    "   # an indented comment\n"
    "\t\n"
    "bob:" HASH_BOB "\r\n"
    "  carol:" HASH_CAROL "  \n"
    "#dave:" HASH_ALICE "\n";

START_TEST(test_right_password_accepted)
{
	struct passwd_db	*db;
	char			*cause = NULL;

	write_file(good_file, 0600);
	db = passwd_load(path, &cause);
	ck_assert_msg(db != NULL, "load failed: %s", cause);
	ck_assert_uint_eq(passwd_count(db), 3);
	ck_assert_int_eq(passwd_check(db, "alice", PASS_ALICE), 1);
	ck_assert_int_eq(passwd_check(db, "bob", PASS_BOB), 1);
	ck_assert_int_eq(passwd_check(db, "carol", PASS_CAROL), 1);
	passwd_free(db);
}
END_TEST

START_TEST(test_wrong_password_refused)
{
	struct passwd_db	*db;
	char			*cause = NULL;

	write_file(good_file, 0600);
	db = passwd_load(path, &cause);
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(passwd_check(db, "alice", "Secret"), 0);
	ck_assert_int_eq(passwd_check(db, "alice", ""), 0);
	ck_assert_int_eq(passwd_check(db, "alice", PASS_ALICE " "), 0);
	/* Another user's password is not this user's. */
	ck_assert_int_eq(passwd_check(db, "alice", PASS_BOB), 0);
	ck_assert_int_eq(passwd_check(db, "bob", PASS_ALICE), 0);
	ck_assert_int_eq(passwd_check(db, "alice", NULL), 0);
	passwd_free(db);
}
END_TEST

START_TEST(test_unknown_user_refused)
{
	struct passwd_db	*db;
	char			*cause = NULL;

	write_file(good_file, 0600);
	db = passwd_load(path, &cause);
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(passwd_check(db, "mallory", PASS_ALICE), 0);
	ck_assert_int_eq(passwd_check(db, "alic", PASS_ALICE), 0);
	ck_assert_int_eq(passwd_check(db, "alicee", PASS_ALICE), 0);
	ck_assert_int_eq(passwd_check(db, "Alice", PASS_ALICE), 0);
	ck_assert_int_eq(passwd_check(db, "", PASS_ALICE), 0);
	/* Commented-out users do not exist. */
	ck_assert_int_eq(passwd_check(db, "dave", PASS_ALICE), 0);
	ck_assert_int_eq(passwd_check(db, "#dave", PASS_ALICE), 0);
	ck_assert_int_eq(passwd_check(db, NULL, PASS_ALICE), 0);
	passwd_free(db);
}
END_TEST

/* CPU seconds one passwd_check takes, the least of a few tries. */
static double
check_cost(const struct passwd_db *db, const char *user)
{
	struct timespec	start, end;
	double		t, best = -1;
	int		i;

	for (i = 0; i < 5; i++) {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
		ck_assert_int_eq(passwd_check(db, user, "wrong"), 0);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &end);
		t = (end.tv_sec - start.tv_sec) +
		    (end.tv_nsec - start.tv_nsec) / 1e9;
		if (best < 0 || t < best)
			best = t;
	}
	return (best);
}

START_TEST(test_unknown_user_costs_like_known)
{
	struct passwd_db	*db;
	char			*cause = NULL;
	double			 known, unknown;

	/*
	 * Skipping the hash for an unknown user would make it hundreds of
	 * times cheaper; allow a wide margin so a busy machine cannot
	 * make this fail.
	 */
	write_file(good_file, 0600);
	db = passwd_load(path, &cause);
	ck_assert_ptr_nonnull(db);
	known = check_cost(db, "alice");
	unknown = check_cost(db, "mallory");
	ck_assert_msg(unknown > known / 4,
	    "unknown user took %.6fs, known %.6fs", unknown, known);
	passwd_free(db);
}
END_TEST

START_TEST(test_empty_file_refuses_everyone)
{
	struct passwd_db	*db;
	char			*cause = NULL;

	write_file("# nobody yet\n\n", 0600);
	db = passwd_load(path, &cause);
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_eq(passwd_count(db), 0);
	ck_assert_int_eq(passwd_check(db, "alice", PASS_ALICE), 0);
	passwd_free(db);
}
END_TEST

START_TEST(test_last_line_without_newline)
{
	struct passwd_db	*db;
	char			*cause = NULL;

	write_file("alice:" HASH_ALICE, 0600);
	db = passwd_load(path, &cause);
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(passwd_check(db, "alice", PASS_ALICE), 1);
	passwd_free(db);
}
END_TEST

START_TEST(test_line_without_colon_names_line)
{
	write_file("# users\nalice:" HASH_ALICE "\nbob " HASH_BOB "\n", 0600);
	assert_cause(load_fails(), 3, "no ':'");
}
END_TEST

START_TEST(test_policy_options)
{
	struct passwd_db	*db;
	struct passwd_policy	 pol;
	char			*cause = NULL;

	write_file("alice:" HASH_ALICE ":tags=eu,de max_sessions=3 "
	    "no_worker=refuse rate=100000\n"
	    "bob:" HASH_BOB "\n"
	    "carol:" HASH_CAROL ":  no_worker=direct  \n", 0600);
	db = passwd_load(path, &cause);
	ck_assert_msg(db != NULL, "load failed: %s", cause);
	ck_assert_int_eq(passwd_check(db, "alice", PASS_ALICE), 1);
	ck_assert_int_eq(passwd_policy(db, "alice", &pol), 0);
	ck_assert_int_eq(pol.tags.n, 2);
	ck_assert_str_eq(pol.tags.tag[1], "de");
	ck_assert_uint_eq(pol.max_sessions, 3);
	ck_assert_int_eq(pol.no_worker, CONF_NO_WORKER_REFUSE);
	ck_assert_uint_eq(pol.rate, 100000);
	ck_assert_int_eq(passwd_policy(db, "bob", &pol), 0);
	ck_assert_int_eq(pol.tags.n, 0);
	ck_assert_uint_eq(pol.max_sessions, 0);
	ck_assert_int_eq(pol.no_worker, -1);
	ck_assert_uint_eq(pol.rate, 0);
	ck_assert_int_eq(passwd_policy(db, "carol", &pol), 0);
	ck_assert_int_eq(pol.no_worker, CONF_NO_WORKER_DIRECT);
	ck_assert_int_eq(passwd_check(db, "carol", PASS_CAROL), 1);
	ck_assert_int_eq(passwd_policy(db, "nobody", &pol), -1);
	ck_assert_str_eq(passwd_user(db, 0), "alice");
	passwd_free(db);
}
END_TEST

START_TEST(test_bad_policy_names_line)
{
	write_file("alice:" HASH_ALICE "\nbob:" HASH_BOB ":colour=red\n",
	    0600);
	assert_cause(load_fails(), 2, "user bob: unknown option 'colour'");
	write_file("bob:" HASH_BOB ":tags=EU\n", 0600);
	assert_cause(load_fails(), 1, "tags=: bad tag");
	write_file("bob:" HASH_BOB ":tags=\n", 0600);
	assert_cause(load_fails(), 1, "tags=: empty");
	write_file("bob:" HASH_BOB ":max_sessions=-1\n", 0600);
	assert_cause(load_fails(), 1, "max_sessions= is too small");
	write_file("bob:" HASH_BOB ":rate=0\n", 0600);
	assert_cause(load_fails(), 1, "rate= is too small");
	write_file("bob:" HASH_BOB ":no_worker=maybe\n", 0600);
	assert_cause(load_fails(), 1, "no_worker= wants direct or refuse");
	write_file("bob:" HASH_BOB ":rate\n", 0600);
	assert_cause(load_fails(), 1, "not key=value");
}
END_TEST

START_TEST(test_bad_hash_names_line)
{
	write_file("alice:" HASH_ALICE "\n\nbob:hunter2\n", 0600);
	assert_cause(load_fails(), 3, "user bob: not a SHA-256 crypt hash");

	write_file("alice:$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/"
	    "O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1\n", 0600);
	assert_cause(load_fails(), 1, "not a SHA-256 crypt hash");

	write_file("alice:" HASH_ALICE "x\n", 0600);
	assert_cause(load_fails(), 1, "digest");

	write_file("alice:\n", 0600);
	assert_cause(load_fails(), 1, "not a SHA-256 crypt hash");
}
END_TEST

START_TEST(test_costly_rounds_refused)
{
	write_file("alice:$5$rounds=999999999$abc$"
	    "qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0\n", 0600);
	assert_cause(load_fails(), 1, "rounds above 10000000");
}
END_TEST

START_TEST(test_empty_and_long_user_names_refused)
{
	char	text[512];

	write_file(":" HASH_ALICE "\n", 0600);
	assert_cause(load_fails(), 1, "empty user name");

	memset(text, 'u', PASSWD_USER_MAX + 1);
	snprintf(text + PASSWD_USER_MAX + 1, sizeof(text) -
	    PASSWD_USER_MAX - 1, ":%s\n", HASH_ALICE);
	write_file(text, 0600);
	assert_cause(load_fails(), 1, "user name longer than 255");
}
END_TEST

START_TEST(test_duplicate_user_names_line)
{
	write_file("alice:" HASH_ALICE "\nbob:" HASH_BOB "\nalice:" HASH_BOB
	    "\n", 0600);
	assert_cause(load_fails(), 3, "duplicate user alice");
}
END_TEST

START_TEST(test_nul_byte_refused)
{
	static const char	text[] = "alice:" HASH_ALICE "\nbo\0b:x\n";

	write_file_len(text, sizeof(text) - 1, 0600);
	assert_cause(load_fails(), 2, "NUL");
}
END_TEST

START_TEST(test_missing_file_names_file)
{
	char	*cause;
	char	 expect[256];

	unlink(path);
	cause = load_fails();
	snprintf(expect, sizeof(expect), "%s: ", path);
	ck_assert_msg(strncmp(cause, expect, strlen(expect)) == 0,
	    "cause \"%s\"", cause);
	free(cause);

	cause = NULL;
	ck_assert_ptr_null(passwd_load(tmpdir, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "not a regular file"));
	free(cause);
}
END_TEST

START_TEST(test_rounds_above_login_cap_refused)
{
	/* Within SHA-crypt's limits, beyond what a login may cost. */
	write_file("alice:" HASH_ALICE "\n"
	    "bob:$5$rounds=1000001$abc$"
	    "qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0\n", 0600);
	assert_cause(load_fails(), 2, "rounds above 1000000");
}
END_TEST

START_TEST(test_rounds_at_login_cap_load)
{
	struct passwd_db	*db;
	char			*cause = NULL;

	write_file("bob:$5$rounds=1000000$abc$"
	    "qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0\n", 0600);
	db = passwd_load(path, &cause);
	ck_assert_msg(db != NULL, "%s", cause);
	passwd_free(db);
}
END_TEST

START_TEST(test_attempt_outlives_its_database)
{
	struct passwd_db	*db;
	struct passwd_attempt	*right, *wrong, *unknown, *unused;
	char			*cause = NULL;

	/* Prepared in the loop, verified after a reload freed the file. */
	write_file(good_file, 0600);
	db = passwd_load(path, &cause);
	ck_assert_ptr_nonnull(db);
	right = passwd_attempt_new(db, "carol", PASS_CAROL);
	wrong = passwd_attempt_new(db, "carol", PASS_ALICE);
	unknown = passwd_attempt_new(db, "mallory", PASS_CAROL);
	unused = passwd_attempt_new(db, "alice", PASS_ALICE);
	passwd_free(db);
	ck_assert_int_eq(passwd_attempt_verify(right), 1);
	ck_assert_int_eq(passwd_attempt_verify(wrong), 0);
	ck_assert_int_eq(passwd_attempt_verify(unknown), 0);
	passwd_attempt_free(right);
	passwd_attempt_free(wrong);
	passwd_attempt_free(unknown);
	passwd_attempt_free(unused);

	/* No file at all: every attempt fails. */
	right = passwd_attempt_new(NULL, "carol", PASS_CAROL);
	ck_assert_int_eq(passwd_attempt_verify(right), 0);
	passwd_attempt_free(right);
	passwd_attempt_free(NULL);
}
END_TEST

START_TEST(test_free_null)
{
	passwd_free(NULL);
}
END_TEST

static Suite *
passwd_suite(void)
{
	Suite	*s = suite_create("passwd");
	TCase	*tc;

	tc = tcase_create("check");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_right_password_accepted);
	tcase_add_test(tc, test_wrong_password_refused);
	tcase_add_test(tc, test_unknown_user_refused);
	tcase_add_test(tc, test_unknown_user_costs_like_known);
	tcase_add_test(tc, test_empty_file_refuses_everyone);
	tcase_add_test(tc, test_last_line_without_newline);
	tcase_add_test(tc, test_attempt_outlives_its_database);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("load errors");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_line_without_colon_names_line);
	tcase_add_test(tc, test_bad_hash_names_line);
	tcase_add_test(tc, test_costly_rounds_refused);
	tcase_add_test(tc, test_rounds_above_login_cap_refused);
	tcase_add_test(tc, test_rounds_at_login_cap_load);
	tcase_add_test(tc, test_empty_and_long_user_names_refused);
	tcase_add_test(tc, test_duplicate_user_names_line);
	tcase_add_test(tc, test_nul_byte_refused);
	tcase_add_test(tc, test_missing_file_names_file);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_policy_options);
	tcase_add_test(tc, test_bad_policy_names_line);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(passwd_suite()));
}
