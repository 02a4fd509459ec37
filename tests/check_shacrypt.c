/*
 * Unit tests for shacrypt.c: the SHA-256 vectors of Drepper's "Unix
 * crypt using SHA-256 and SHA-512", one hash made on the build machine
 * with `openssl passwd -5`, and the limits we add for stored hashes.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "shacrypt.h"

#include "checklib.h"

struct crypt_vector {
	const char	*setting;
	const char	*key;
	const char	*expected;
};

static const struct crypt_vector crypt_vectors[] = {
	/* The SHA-256 test vectors of Drepper's specification. */
	{ "$5$saltstring", "Hello world!",
	  "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5" },
	{ "$5$rounds=10000$saltstringsaltstring", "Hello world!",
	  "$5$rounds=10000$saltstringsaltst$"
	  "3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA" },
	{ "$5$rounds=5000$toolongsaltstring", "This is just a test",
	  "$5$rounds=5000$toolongsaltstrin$"
	  "Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5" },
	{ "$5$rounds=1400$anotherlongsaltstring",
	  "a very much longer text to encrypt.  This one even stretches "
	  "over morethan one line.",
	  "$5$rounds=1400$anotherlongsalts$"
	  "Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1" },
	{ "$5$rounds=77777$short",
	  "we have a short salt string but not a short password",
	  "$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/" },
	{ "$5$rounds=123456$asaltof16chars..", "a short string",
	  "$5$rounds=123456$asaltof16chars..$"
	  "gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD" },
	{ "$5$rounds=10$roundstoolow", "the minimum number is still observed",
	  "$5$rounds=1000$roundstoolow$"
	  "yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC" },
	/* `openssl passwd -5 -salt abc secret` (OpenSSL 3.0.19). */
	{ "$5$abc", "secret",
	  "$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0" },
};

START_TEST(test_vector_hashes)
{
	const struct crypt_vector	*v = &crypt_vectors[_i];
	char				 out[SHACRYPT_HASH_SIZE];

	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(shacrypt_sha256(v->key, v->setting, out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, v->expected);
}
END_TEST

START_TEST(test_vector_setting_with_digest_hashes_the_same)
{
	const struct crypt_vector	*v = &crypt_vectors[_i];
	char				 out[SHACRYPT_HASH_SIZE];

	/* A full hash as the setting: the digest after the salt is ignored. */
	ck_assert_int_eq(shacrypt_sha256(v->key, v->expected, out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, v->expected);
}
END_TEST

START_TEST(test_vector_verifies)
{
	const struct crypt_vector	*v = &crypt_vectors[_i];
	char				 wrong[256];

	ck_assert_int_eq(shacrypt_verify(v->key, v->expected), 1);
	/* One changed, one missing and one extra character fail. */
	ck_assert_uint_lt(strlen(v->key) + 2, sizeof(wrong));
	strcpy(wrong, v->key);
	wrong[0] ^= 1;
	ck_assert_int_eq(shacrypt_verify(wrong, v->expected), 0);
	strcpy(wrong, v->key);
	wrong[strlen(wrong) - 1] = '\0';
	ck_assert_int_eq(shacrypt_verify(wrong, v->expected), 0);
	strcpy(wrong, v->key);
	strcat(wrong, "!");
	ck_assert_int_eq(shacrypt_verify(wrong, v->expected), 0);
}
END_TEST

START_TEST(test_empty_key_and_salt)
{
	char	out[SHACRYPT_HASH_SIZE], again[SHACRYPT_HASH_SIZE];

	ck_assert_int_eq(shacrypt_sha256("", "$5$salt", out, sizeof(out)), 0);
	ck_assert_int_eq(strncmp(out, "$5$salt$", 8), 0);
	ck_assert_uint_eq(strlen(out), 8 + 43);
	ck_assert_int_eq(shacrypt_verify("", out), 1);
	ck_assert_int_eq(shacrypt_verify("x", out), 0);

	ck_assert_int_eq(shacrypt_sha256("pw", "$5$", again, sizeof(again)),
	    0);
	ck_assert_int_eq(strncmp(again, "$5$$", 4), 0);
	ck_assert_int_eq(shacrypt_verify("pw", again), 1);
}
END_TEST

START_TEST(test_rounds_clamped)
{
	char	out[SHACRYPT_HASH_SIZE];

	/* Below the minimum, even 0, means 1000 (the rounds=10 vector). */
	ck_assert_int_eq(shacrypt_sha256("the minimum number is still observed",
	    "$5$rounds=0$roundstoolow", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "$5$rounds=1000$roundstoolow$"
	    "yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC");

	/*
	 * An absurd count is clamped, not overflowed.  Running 999999999
	 * rounds is too slow for a test, so pass an out buffer one byte
	 * short of "$5$rounds=999999999$s$" and a digest: the size check
	 * must fail before any hashing (the tcase timeout catches it).
	 */
	ck_assert_int_eq(shacrypt_sha256("k",
	    "$5$rounds=99999999999999999999999$s", out, 22 + 43), -1);
}
END_TEST

START_TEST(test_rejects_other_schemes)
{
	char	out[SHACRYPT_HASH_SIZE];

	ck_assert_int_eq(shacrypt_sha256("k", "$6$salt", out, sizeof(out)),
	    -1);
	ck_assert_int_eq(shacrypt_sha256("k", "$1$salt", out, sizeof(out)),
	    -1);
	ck_assert_int_eq(shacrypt_sha256("k", "salt", out, sizeof(out)), -1);
	ck_assert_int_eq(shacrypt_sha256("k", "", out, sizeof(out)), -1);
	ck_assert_int_eq(shacrypt_sha256("k", "$5", out, sizeof(out)), -1);
	ck_assert_int_eq(shacrypt_sha256("k", "$5$rounds=$s", out,
	    sizeof(out)), -1);
	ck_assert_int_eq(shacrypt_sha256("k", "$5$rounds=12x$s", out,
	    sizeof(out)), -1);
	ck_assert_int_eq(shacrypt_sha256("k", "$5$rounds=-5$s", out,
	    sizeof(out)), -1);
	ck_assert_int_eq(shacrypt_verify("Hello world!",
	    "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNj"
	    "nQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"), 0);
	ck_assert_int_eq(shacrypt_verify("", ""), 0);
	ck_assert_int_eq(shacrypt_verify("secret", "secret"), 0);
}
END_TEST

START_TEST(test_output_buffer_too_small)
{
	const char	*expected =
	    "$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0";
	char		 out[SHACRYPT_HASH_SIZE];
	size_t		 need = strlen(expected) + 1;

	ck_assert_int_eq(shacrypt_sha256("secret", "$5$abc", out, need - 1),
	    -1);
	ck_assert_int_eq(shacrypt_sha256("secret", "$5$abc", out, 0), -1);
	ck_assert_int_eq(shacrypt_sha256("secret", "$5$abc", out, need), 0);
	ck_assert_str_eq(out, expected);
}
END_TEST

START_TEST(test_check_accepts_stored_hashes)
{
	const char	*why = NULL;
	unsigned long	 rounds = 0;

	ck_assert_int_eq(shacrypt_check(
	    "$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0", &rounds,
	    &why), 0);
	ck_assert_uint_eq(rounds, 5000);
	ck_assert_int_eq(shacrypt_check("$5$rounds=77777$short$"
	    "JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/", &rounds, &why), 0);
	ck_assert_uint_eq(rounds, 77777);
	ck_assert_int_eq(shacrypt_check("$5$rounds=10000000$s$"
	    "JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/", NULL, &why), 0);
}
END_TEST

START_TEST(test_check_refuses_bad_hashes)
{
	static const char *bad[] = {
		"",
		"x",
		"$6$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0",
		"$5$abc",					/* no digest */
		"$5$abc$",
		"$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH",	/* 42 */
		"$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH00",
		"$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6v_0",
		"$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0\n",
		"$5$rounds=10$roundstoolow$"
		    "yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC",
		"$5$rounds=10000001$s$"
		    "JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/",
		"$5$rounds=999999999$s$"
		    "JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/",
		"$5$rounds=99999999999999999999999$s$"
		    "JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/",
		"$5$toolongsaltstring$"
		    "JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/",
	};
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(shacrypt_check(bad[i], NULL, &why) == -1,
		    "accepted \"%s\"", bad[i]);
		ck_assert_ptr_nonnull(why);
		/* verify refuses them too, without running the rounds. */
		ck_assert_int_eq(shacrypt_verify("x", bad[i]), 0);
	}
}
END_TEST

START_TEST(test_verify_ignores_rounds_spelling)
{
	/* Leading zeros name the same 5000 rounds as the default. */
	ck_assert_int_eq(shacrypt_verify("secret", "$5$rounds=05000$abc$"
	    "qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0"), 1);
	ck_assert_int_eq(shacrypt_verify("secret", "$5$rounds=5001$abc$"
	    "qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0"), 0);
}
END_TEST

START_TEST(test_key_too_long_refused)
{
	char	*key, out[SHACRYPT_HASH_SIZE];

	key = malloc(SHACRYPT_KEY_MAX + 2);
	ck_assert_ptr_nonnull(key);
	memset(key, 'k', SHACRYPT_KEY_MAX + 1);
	key[SHACRYPT_KEY_MAX + 1] = '\0';
	ck_assert_int_eq(shacrypt_sha256(key, "$5$s", out, sizeof(out)), -1);
	key[SHACRYPT_KEY_MAX] = '\0';
	ck_assert_int_eq(shacrypt_sha256(key, "$5$s", out, sizeof(out)), 0);
	ck_assert_int_eq(shacrypt_verify(key, out), 1);
	free(key);
}
END_TEST

static Suite *
shacrypt_suite(void)
{
	Suite	*s = suite_create("shacrypt");
	TCase	*tc;
	int	 n = sizeof(crypt_vectors) / sizeof(crypt_vectors[0]);

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, test_vector_hashes, 0, n);
	tcase_add_loop_test(tc, test_vector_setting_with_digest_hashes_the_same,
	    0, n);
	tcase_add_loop_test(tc, test_vector_verifies, 0, n);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("settings");
	tcase_add_test(tc, test_empty_key_and_salt);
	tcase_add_test(tc, test_rounds_clamped);
	tcase_add_test(tc, test_rejects_other_schemes);
	tcase_add_test(tc, test_output_buffer_too_small);
	tcase_add_test(tc, test_key_too_long_refused);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("stored hashes");
	tcase_add_test(tc, test_check_accepts_stored_hashes);
	tcase_add_test(tc, test_check_refuses_bad_hashes);
	tcase_add_test(tc, test_verify_ignores_rounds_spelling);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(shacrypt_suite()));
}
