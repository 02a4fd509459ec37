/*
 * SHA-crypt with SHA-256 ("$5$"), after Ulrich Drepper's specification
 * "Unix crypt using SHA-256 and SHA-512".  passwd.c checks stored
 * hashes with shacrypt_check when it loads the PASSWORD_FILE and
 * verifies RFC 1929 passwords against them with shacrypt_verify.
 *
 * Differences from glibc's crypt(3), all on input glibc would accept:
 * a "rounds=" field that is not digits followed by '$' is an error here
 * rather than part of the salt, and keys longer than SHACRYPT_KEY_MAX
 * are refused, because steps 13-15 of the algorithm hash the key once per
 * byte of its length, so its cost grows with the square of that length.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sha256.h"
#include "shacrypt.h"

#define SHACRYPT_PREFIX		"$5$"
#define SHACRYPT_ROUNDS_PREFIX	"rounds="
#define SHACRYPT_DIGEST_CHARS	43	/* 32 bytes in the crypt base-64 */

static const char shacrypt_b64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* A setting or stored hash taken apart; pointers are into the input. */
struct shacrypt_setting {
	unsigned long	 rounds;	/* as written, saturated */
	int		 custom;	/* "rounds=" was given */
	const char	*salt;
	size_t		 saltlen;	/* the whole salt field */
	const char	*rest;		/* what follows the salt field */
};

/* Split "$5$[rounds=N$]salt[$...]"; 0 on success or -1 and why. */
static int
shacrypt_parse(const char *s, struct shacrypt_setting *set, const char **why)
{
	const char	*p;

	memset(set, 0, sizeof(*set));
	if (strncmp(s, SHACRYPT_PREFIX, strlen(SHACRYPT_PREFIX)) != 0) {
		*why = "not a SHA-256 crypt hash ($5$)";
		return (-1);
	}
	p = s + strlen(SHACRYPT_PREFIX);
	set->rounds = SHACRYPT_ROUNDS_DEFAULT;
	if (strncmp(p, SHACRYPT_ROUNDS_PREFIX,
	    strlen(SHACRYPT_ROUNDS_PREFIX)) == 0) {
		p += strlen(SHACRYPT_ROUNDS_PREFIX);
		if (*p < '0' || *p > '9') {
			*why = "rounds is not a number";
			return (-1);
		}
		set->rounds = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			/*
			 * Saturate just past the maximum, which is clamped
			 * anyway, so a long number cannot overflow.
			 */
			if (set->rounds > SHACRYPT_ROUNDS_MAX / 10)
				set->rounds = SHACRYPT_ROUNDS_MAX + 1UL;
			else
				set->rounds = set->rounds * 10 + (*p - '0');
		}
		if (*p != '$') {
			*why = "rounds is not a number";
			return (-1);
		}
		p++;
		set->custom = 1;
	}
	set->salt = p;
	set->saltlen = strcspn(p, "$");
	set->rest = p + set->saltlen;
	return (0);
}

/* Append n characters of crypt base-64 for the 24 bits b2 b1 b0. */
static char *
shacrypt_b64_from_24bit(char *p, uint8_t b2, uint8_t b1, uint8_t b0, int n)
{
	uint32_t	w = (uint32_t)b2 << 16 | (uint32_t)b1 << 8 | b0;

	while (n-- > 0) {
		*p++ = shacrypt_b64[w & 0x3f];
		w >>= 6;
	}
	return (p);
}

/* Add len bytes of a digest-length pattern, repeating it as needed. */
static void
shacrypt_update_repeat(struct sha256_ctx *ctx, const uint8_t *pattern,
    size_t len)
{
	for (; len > SHA256_DIGEST_LENGTH; len -= SHA256_DIGEST_LENGTH)
		sha256_update(ctx, pattern, SHA256_DIGEST_LENGTH);
	sha256_update(ctx, pattern, len);
}

/*
 * Hash key under setting ("$5$salt" or "$5$rounds=N$salt", possibly
 * followed by "$digest", which is ignored) and write the full crypt
 * string to out.  Rounds are clamped to 1000..999999999 and the salt is
 * cut to 16 characters, as the specification says.  Returns 0, or -1
 * for a setting that is not "$5$", a key that is too long or an out
 * buffer that is too small.
 */
int
shacrypt_sha256(const char *key, const char *setting, char *out,
    size_t outsize)
{
	struct shacrypt_setting	 set;
	struct sha256_ctx	 ctx, alt;
	uint8_t			 a[SHA256_DIGEST_LENGTH];
	uint8_t			 b[SHA256_DIGEST_LENGTH];
	uint8_t			 dp[SHA256_DIGEST_LENGTH];
	uint8_t			 ds[SHA256_DIGEST_LENGTH];
	char			 head[SHACRYPT_HASH_SIZE], *p;
	const char		*why;
	unsigned long		 rounds, r;
	size_t			 keylen, saltlen, i, n;
	int			 len;

	if (shacrypt_parse(setting, &set, &why) != 0)
		return (-1);
	keylen = strlen(key);
	if (keylen > SHACRYPT_KEY_MAX)
		return (-1);
	rounds = set.rounds;
	if (rounds < SHACRYPT_ROUNDS_MIN)
		rounds = SHACRYPT_ROUNDS_MIN;
	if (rounds > SHACRYPT_ROUNDS_MAX)
		rounds = SHACRYPT_ROUNDS_MAX;
	saltlen = set.saltlen;
	if (saltlen > SHACRYPT_SALT_MAX)
		saltlen = SHACRYPT_SALT_MAX;

	/* The prefix of the result; check it fits before spending work. */
	if (set.custom)
		len = snprintf(head, sizeof(head), "%srounds=%lu$%.*s$",
		    SHACRYPT_PREFIX, rounds, (int)saltlen, set.salt);
	else
		len = snprintf(head, sizeof(head), "%s%.*s$",
		    SHACRYPT_PREFIX, (int)saltlen, set.salt);
	if (len < 0 || (size_t)len >= sizeof(head) ||
	    outsize <= (size_t)len + SHACRYPT_DIGEST_CHARS)
		return (-1);

	/* Steps 4-8: digest B of key, salt, key. */
	sha256_init(&alt);
	sha256_update(&alt, key, keylen);
	sha256_update(&alt, set.salt, saltlen);
	sha256_update(&alt, key, keylen);
	sha256_final(&alt, b);

	/* Steps 1-3 and 9-12: digest A. */
	sha256_init(&ctx);
	sha256_update(&ctx, key, keylen);
	sha256_update(&ctx, set.salt, saltlen);
	shacrypt_update_repeat(&ctx, b, keylen);
	for (n = keylen; n > 0; n >>= 1) {
		if (n & 1)
			sha256_update(&ctx, b, sizeof(b));
		else
			sha256_update(&ctx, key, keylen);
	}
	sha256_final(&ctx, a);

	/* Steps 13-15: DP, the key hashed once per byte of its length. */
	sha256_init(&alt);
	for (i = 0; i < keylen; i++)
		sha256_update(&alt, key, keylen);
	sha256_final(&alt, dp);

	/* Steps 17-19: DS, the salt hashed 16 + A[0] times. */
	sha256_init(&alt);
	for (i = 0; i < 16U + a[0]; i++)
		sha256_update(&alt, set.salt, saltlen);
	sha256_final(&alt, ds);

	/*
	 * Step 21: the rounds.  P and S of steps 16 and 20 are DP and DS
	 * repeated to the key and salt lengths, added piecewise here.
	 */
	for (r = 0; r < rounds; r++) {
		sha256_init(&ctx);
		if (r & 1)
			shacrypt_update_repeat(&ctx, dp, keylen);
		else
			sha256_update(&ctx, a, sizeof(a));
		if (r % 3 != 0)
			shacrypt_update_repeat(&ctx, ds, saltlen);
		if (r % 7 != 0)
			shacrypt_update_repeat(&ctx, dp, keylen);
		if (r & 1)
			sha256_update(&ctx, a, sizeof(a));
		else
			shacrypt_update_repeat(&ctx, dp, keylen);
		sha256_final(&ctx, a);
	}

	/* Step 22: the result, bytes permuted as the specification says. */
	memcpy(out, head, len);
	p = out + len;
	p = shacrypt_b64_from_24bit(p, a[0], a[10], a[20], 4);
	p = shacrypt_b64_from_24bit(p, a[21], a[1], a[11], 4);
	p = shacrypt_b64_from_24bit(p, a[12], a[22], a[2], 4);
	p = shacrypt_b64_from_24bit(p, a[3], a[13], a[23], 4);
	p = shacrypt_b64_from_24bit(p, a[24], a[4], a[14], 4);
	p = shacrypt_b64_from_24bit(p, a[15], a[25], a[5], 4);
	p = shacrypt_b64_from_24bit(p, a[6], a[16], a[26], 4);
	p = shacrypt_b64_from_24bit(p, a[27], a[7], a[17], 4);
	p = shacrypt_b64_from_24bit(p, a[18], a[28], a[8], 4);
	p = shacrypt_b64_from_24bit(p, a[9], a[19], a[29], 4);
	p = shacrypt_b64_from_24bit(p, 0, a[31], a[30], 3);
	*p = '\0';

	sha256_explicit_bzero(a, sizeof(a));
	sha256_explicit_bzero(b, sizeof(b));
	sha256_explicit_bzero(dp, sizeof(dp));
	sha256_explicit_bzero(ds, sizeof(ds));
	return (0);
}

/*
 * Check that hash is a stored "$5$" hash we will verify: salt of at
 * most 16 characters, 43 digest characters, and rounds no fewer than
 * 1000 (crypt never writes fewer) and no more than
 * SHACRYPT_VERIFY_ROUNDS_MAX.  That cap is ours, not the
 * specification's: one line with rounds=999999999 in a PASSWORD_FILE
 * would make every login, and every probe with an unknown user name,
 * take minutes of CPU.  Returns 0 and the rounds, or -1 and why.
 */
int
shacrypt_check(const char *hash, unsigned long *roundsp, const char **why)
{
	struct shacrypt_setting	 set;
	const char		*digest;

	if (shacrypt_parse(hash, &set, why) != 0)
		return (-1);
	if (set.rounds < SHACRYPT_ROUNDS_MIN) {
		*why = "rounds below 1000";
		return (-1);
	}
	if (set.rounds > SHACRYPT_VERIFY_ROUNDS_MAX) {
		*why = "rounds above 10000000, too costly to verify";
		return (-1);
	}
	if (set.saltlen > SHACRYPT_SALT_MAX) {
		*why = "salt longer than 16 characters";
		return (-1);
	}
	if (*set.rest != '$') {
		*why = "no digest after the salt";
		return (-1);
	}
	digest = set.rest + 1;
	if (strlen(digest) != SHACRYPT_DIGEST_CHARS ||
	    strspn(digest, shacrypt_b64) != SHACRYPT_DIGEST_CHARS) {
		*why = "digest is not 43 crypt base-64 characters";
		return (-1);
	}
	if (roundsp != NULL)
		*roundsp = set.rounds;
	return (0);
}

/*
 * Return 1 when password matches the stored hash, else 0, also for a
 * hash that shacrypt_check refuses.  The digests are compared in
 * constant time.
 */
int
shacrypt_verify(const char *password, const char *hash)
{
	char		 out[SHACRYPT_HASH_SIZE];
	const char	*why;
	size_t		 hashlen, outlen;
	int		 match;

	if (shacrypt_check(hash, NULL, &why) != 0)
		return (0);
	if (shacrypt_sha256(password, hash, out, sizeof(out)) != 0)
		return (0);
	/*
	 * Only the digests are compared: the salt and rounds of out were
	 * read from hash, which may spell the rounds differently
	 * ("rounds=05000").
	 */
	hashlen = strlen(hash);
	outlen = strlen(out);
	match = sha256_timingsafe_equal(
	    hash + hashlen - SHACRYPT_DIGEST_CHARS,
	    out + outlen - SHACRYPT_DIGEST_CHARS, SHACRYPT_DIGEST_CHARS);
	sha256_explicit_bzero(out, sizeof(out));
	return (match);
}
