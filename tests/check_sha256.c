/*
 * Unit tests for sha256.c: the FIPS 180-4 / NIST examples fed whole and
 * in odd-sized pieces, the RFC 4231 HMAC-SHA256 cases, hex output and
 * the constant-time compare.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

#include "checklib.h"

struct digest_vector {
	const char	*msg;
	size_t		 repeat;	/* msg is fed this many times */
	const char	*hex;
};

static const struct digest_vector digest_vectors[] = {
	{ "", 1,
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", 1,
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 1,
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	{ "a", 1000000,
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

/* Build the whole message of a vector in fresh memory. */
static uint8_t *
vector_message(const struct digest_vector *v, size_t *lenp)
{
	size_t	 unit = strlen(v->msg), i;
	uint8_t	*p;

	*lenp = unit * v->repeat;
	p = malloc(*lenp + 1);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < v->repeat; i++)
		memcpy(p + i * unit, v->msg, unit);
	return (p);
}

START_TEST(test_digest_whole_message)
{
	const struct digest_vector	*v = &digest_vectors[_i];
	uint8_t				 out[SHA256_DIGEST_LENGTH], *msg;
	char				 hex[SHA256_HEX_LENGTH];
	size_t				 len;

	msg = vector_message(v, &len);
	sha256(msg, len, out);
	sha256_hex(out, sizeof(out), hex);
	ck_assert_str_eq(hex, v->hex);
	free(msg);
}
END_TEST

START_TEST(test_digest_odd_pieces)
{
	static const size_t		 sizes[] = { 1, 3, 7, 63, 64, 65, 127,
					    1000, 4097 };
	const struct digest_vector	*v = &digest_vectors[_i];
	struct sha256_ctx		 ctx;
	uint8_t				 out[SHA256_DIGEST_LENGTH], *msg;
	char				 hex[SHA256_HEX_LENGTH];
	size_t				 len, off, n, s, k;

	msg = vector_message(v, &len);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		sha256_init(&ctx);
		/* Vary the piece size so block boundaries fall anywhere. */
		for (off = 0, k = 0; off < len; off += n, k++) {
			n = sizes[s] + (k % 5);
			if (n > len - off)
				n = len - off;
			sha256_update(&ctx, msg + off, n);
		}
		sha256_update(&ctx, msg, 0);
		sha256_final(&ctx, out);
		sha256_hex(out, sizeof(out), hex);
		ck_assert_msg(strcmp(hex, v->hex) == 0,
		    "pieces of %zu: got %s want %s", sizes[s], hex, v->hex);
	}
	free(msg);
}
END_TEST

/*
 * Lengths around the 55/56/64-byte padding edges, against
 * digests from an independent implementation (Python hashlib).
 */
static const struct {
	size_t		 len;
	const char	*hex;
} padding_edges[] = {
	{ 55,
	  "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
	{ 56,
	  "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
	{ 63,
	  "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
	{ 64,
	  "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
	{ 65,
	  "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
};

START_TEST(test_digest_padding_boundaries)
{
	uint8_t	msg[65], out[SHA256_DIGEST_LENGTH];
	char	hex[SHA256_HEX_LENGTH];
	size_t	i;

	memset(msg, 'a', sizeof(msg));
	for (i = 0; i < sizeof(padding_edges) / sizeof(padding_edges[0]); i++) {
		sha256(msg, padding_edges[i].len, out);
		sha256_hex(out, sizeof(out), hex);
		ck_assert_msg(strcmp(hex, padding_edges[i].hex) == 0,
		    "length %zu: got %s", padding_edges[i].len, hex);
	}
}
END_TEST

struct hmac_vector {
	const char	*key;
	size_t		 keylen;
	const char	*msg;
	size_t		 msglen;
	const char	*hex;		/* may be truncated (case 5) */
};

static char	hmac_key20_0b[20], hmac_key20_aa[20], hmac_key25[25];
static char	hmac_key20_0c[20], hmac_key131_aa[131];
static char	hmac_msg50_dd[50], hmac_msg50_cd[50];

static const struct hmac_vector hmac_vectors[] = {
	/* RFC 4231 4.2, test case 1 */
	{ hmac_key20_0b, 20, "Hi There", 8,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	/* 4.3, case 2: a key shorter than the output */
	{ "Jefe", 4, "what do ya want for nothing?", 28,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	/* 4.4, case 3 */
	{ hmac_key20_aa, 20, hmac_msg50_dd, 50,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	/* 4.5, case 4 */
	{ hmac_key25, 25, hmac_msg50_cd, 50,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	/* 4.6, case 5: output truncated to 128 bits */
	{ hmac_key20_0c, 20, "Test With Truncation", 20,
	  "a3b6167473100ee06e0c796c2955552b" },
	/* 4.7, case 6: a key larger than a block */
	{ hmac_key131_aa, 131,
	  "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	/* 4.8, case 7: key and data larger than a block */
	{ hmac_key131_aa, 131,
	  "This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being "
	  "used by the HMAC algorithm.", 152,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

/* Fill the RFC 4231 keys and messages that are runs of one byte. */
static void
hmac_setup(void)
{
	size_t	i;

	memset(hmac_key20_0b, 0x0b, sizeof(hmac_key20_0b));
	memset(hmac_key20_aa, 0xaa, sizeof(hmac_key20_aa));
	memset(hmac_key20_0c, 0x0c, sizeof(hmac_key20_0c));
	memset(hmac_key131_aa, 0xaa, sizeof(hmac_key131_aa));
	memset(hmac_msg50_dd, 0xdd, sizeof(hmac_msg50_dd));
	memset(hmac_msg50_cd, 0xcd, sizeof(hmac_msg50_cd));
	for (i = 0; i < sizeof(hmac_key25); i++)
		hmac_key25[i] = i + 1;
}

START_TEST(test_hmac_rfc4231)
{
	const struct hmac_vector	*v = &hmac_vectors[_i];
	uint8_t				 out[SHA256_DIGEST_LENGTH];
	char				 hex[SHA256_HEX_LENGTH];
	size_t				 want = strlen(v->hex);

	hmac_sha256(v->key, v->keylen, v->msg, v->msglen, out);
	sha256_hex(out, want / 2, hex);
	ck_assert_str_eq(hex, v->hex);
}
END_TEST

START_TEST(test_hmac_incremental_matches_one_shot)
{
	const struct hmac_vector	*v = &hmac_vectors[_i];
	struct hmac_sha256_ctx		 ctx;
	uint8_t				 whole[SHA256_DIGEST_LENGTH];
	uint8_t				 pieces[SHA256_DIGEST_LENGTH];
	size_t				 off, n;

	hmac_sha256(v->key, v->keylen, v->msg, v->msglen, whole);
	hmac_sha256_init(&ctx, v->key, v->keylen);
	for (off = 0; off < v->msglen; off += n) {
		n = v->msglen - off < 7 ? v->msglen - off : 7;
		hmac_sha256_update(&ctx, v->msg + off, n);
	}
	hmac_sha256_final(&ctx, pieces);
	ck_assert_mem_eq(whole, pieces, sizeof(whole));
}
END_TEST

START_TEST(test_hmac_key_changes_result)
{
	uint8_t	a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];

	hmac_sha256("secret", 6, "RGST a b w", 10, a);
	hmac_sha256("secreT", 6, "RGST a b w", 10, b);
	ck_assert_int_eq(sha256_timingsafe_equal(a, b, sizeof(a)), 0);
	hmac_sha256("", 0, "RGST a b w", 10, a);
	hmac_sha256(NULL, 0, "RGST a b w", 10, b);
	ck_assert_int_eq(sha256_timingsafe_equal(a, b, sizeof(a)), 1);
}
END_TEST

START_TEST(test_hex_lowercase)
{
	static const uint8_t	bytes[] = { 0x00, 0x0f, 0xa5, 0xff, 0x10 };
	char			hex[2 * sizeof(bytes) + 1];

	memset(hex, 'x', sizeof(hex));
	sha256_hex(bytes, sizeof(bytes), hex);
	ck_assert_str_eq(hex, "000fa5ff10");
	sha256_hex(bytes, 0, hex);
	ck_assert_str_eq(hex, "");
}
END_TEST

START_TEST(test_timingsafe_equal)
{
	ck_assert_int_eq(sha256_timingsafe_equal("abcd", "abcd", 4), 1);
	ck_assert_int_eq(sha256_timingsafe_equal("abcd", "abce", 4), 0);
	ck_assert_int_eq(sha256_timingsafe_equal("xbcd", "abcd", 4), 0);
	ck_assert_int_eq(sha256_timingsafe_equal("\x80", "\x00", 1), 0);
	ck_assert_int_eq(sha256_timingsafe_equal("abcd", "abce", 3), 1);
	ck_assert_int_eq(sha256_timingsafe_equal("a", "b", 0), 1);
}
END_TEST

static Suite *
sha256_suite(void)
{
	Suite	*s = suite_create("sha256");
	TCase	*tc;

	tc = tcase_create("digest");
	tcase_add_loop_test(tc, test_digest_whole_message, 0,
	    sizeof(digest_vectors) / sizeof(digest_vectors[0]));
	tcase_add_loop_test(tc, test_digest_odd_pieces, 0,
	    sizeof(digest_vectors) / sizeof(digest_vectors[0]));
	tcase_add_test(tc, test_digest_padding_boundaries);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("hmac");
	tcase_add_unchecked_fixture(tc, hmac_setup, NULL);
	tcase_add_loop_test(tc, test_hmac_rfc4231, 0,
	    sizeof(hmac_vectors) / sizeof(hmac_vectors[0]));
	tcase_add_loop_test(tc, test_hmac_incremental_matches_one_shot, 0,
	    sizeof(hmac_vectors) / sizeof(hmac_vectors[0]));
	tcase_add_test(tc, test_hmac_key_changes_result);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_hex_lowercase);
	tcase_add_test(tc, test_timingsafe_equal);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(sha256_suite()));
}
