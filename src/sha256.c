/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104).  Words are loaded and
 * stored a byte at a time in big-endian order, so the code makes no
 * assumption about the host's byte order or alignment.  The worker link
 * uses HMAC for its registration proofs and shacrypt.c builds password
 * hashes on the plain digest.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "sha256.h"

#define ROTR(x, n)	(((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z)	(((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z)	(((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x)	(ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x)	(ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x)	(ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x)	(ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static const uint32_t sha256_h0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
};

/*
 * Calling memset through a volatile pointer keeps the compiler from
 * dropping a wipe of memory that is not read again.
 */
static void *(*const volatile sha256_memset)(void *, int, size_t) = memset;

static void	sha256_transform(uint32_t [8], const uint8_t *);

/* Read a big-endian 32-bit word from four bytes. */
static uint32_t
sha256_load32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* Write a 32-bit word as four big-endian bytes. */
static void
sha256_store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Mix one 64-byte block into the chaining state (FIPS 180-4 6.2.2). */
static void
sha256_transform(uint32_t state[8], const uint8_t *data)
{
	uint32_t	w[64], a, b, c, d, e, f, g, h, t1, t2;
	int		i;

	for (i = 0; i < 16; i++)
		w[i] = sha256_load32(data + 4 * i);
	for (i = 16; i < 64; i++)
		w[i] = SSIG1(w[i - 2]) + w[i - 7] + SSIG0(w[i - 15]) +
		    w[i - 16];

	a = state[0];
	b = state[1];
	c = state[2];
	d = state[3];
	e = state[4];
	f = state[5];
	g = state[6];
	h = state[7];
	for (i = 0; i < 64; i++) {
		t1 = h + BSIG1(e) + CH(e, f, g) + sha256_k[i] + w[i];
		t2 = BSIG0(a) + MAJ(a, b, c);
		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	state[4] += e;
	state[5] += f;
	state[6] += g;
	state[7] += h;
}

/* Start a new digest. */
void
sha256_init(struct sha256_ctx *ctx)
{
	memcpy(ctx->state, sha256_h0, sizeof(ctx->state));
	ctx->count = 0;
	ctx->blocklen = 0;
}

/* Feed len bytes; pieces of any size give the same digest as one call. */
void
sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
	const uint8_t	*p = data;
	size_t		 n;

	ctx->count += len;
	if (ctx->blocklen > 0) {
		n = SHA256_BLOCK_LENGTH - ctx->blocklen;
		if (n > len)
			n = len;
		memcpy(ctx->block + ctx->blocklen, p, n);
		ctx->blocklen += n;
		p += n;
		len -= n;
		if (ctx->blocklen < SHA256_BLOCK_LENGTH)
			return;
		sha256_transform(ctx->state, ctx->block);
		ctx->blocklen = 0;
	}
	while (len >= SHA256_BLOCK_LENGTH) {
		sha256_transform(ctx->state, p);
		p += SHA256_BLOCK_LENGTH;
		len -= SHA256_BLOCK_LENGTH;
	}
	if (len > 0) {
		memcpy(ctx->block, p, len);
		ctx->blocklen = len;
	}
}

/* Pad, write the digest to out and wipe the context. */
void
sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_LENGTH])
{
	uint64_t	bits = ctx->count * 8;
	int		i;

	ctx->block[ctx->blocklen++] = 0x80;
	if (ctx->blocklen > SHA256_BLOCK_LENGTH - 8) {
		memset(ctx->block + ctx->blocklen, 0,
		    SHA256_BLOCK_LENGTH - ctx->blocklen);
		sha256_transform(ctx->state, ctx->block);
		ctx->blocklen = 0;
	}
	memset(ctx->block + ctx->blocklen, 0,
	    SHA256_BLOCK_LENGTH - 8 - ctx->blocklen);
	for (i = 0; i < 8; i++)
		ctx->block[SHA256_BLOCK_LENGTH - 1 - i] =
		    (uint8_t)(bits >> (8 * i));
	sha256_transform(ctx->state, ctx->block);

	for (i = 0; i < 8; i++)
		sha256_store32(out + 4 * i, ctx->state[i]);
	sha256_explicit_bzero(ctx, sizeof(*ctx));
}

/* Digest of one buffer. */
void
sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LENGTH])
{
	struct sha256_ctx	ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, data, len);
	sha256_final(&ctx, out);
}

/* Start an HMAC under key; keys longer than a block are hashed first. */
void
hmac_sha256_init(struct hmac_sha256_ctx *ctx, const void *key, size_t keylen)
{
	uint8_t	pad[SHA256_BLOCK_LENGTH];
	size_t	i;

	memset(pad, 0, sizeof(pad));
	if (keylen > SHA256_BLOCK_LENGTH)
		sha256(key, keylen, pad);
	else if (keylen > 0)
		memcpy(pad, key, keylen);

	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	sha256_init(&ctx->inner);
	sha256_update(&ctx->inner, pad, sizeof(pad));

	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	sha256_init(&ctx->outer);
	sha256_update(&ctx->outer, pad, sizeof(pad));

	sha256_explicit_bzero(pad, sizeof(pad));
}

/* Feed message bytes to an HMAC. */
void
hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data, size_t len)
{
	sha256_update(&ctx->inner, data, len);
}

/* Write the HMAC to out and wipe the context. */
void
hmac_sha256_final(struct hmac_sha256_ctx *ctx,
    uint8_t out[SHA256_DIGEST_LENGTH])
{
	uint8_t	inner[SHA256_DIGEST_LENGTH];

	sha256_final(&ctx->inner, inner);
	sha256_update(&ctx->outer, inner, sizeof(inner));
	sha256_final(&ctx->outer, out);
	sha256_explicit_bzero(inner, sizeof(inner));
}

/* HMAC-SHA256 of one message under key. */
void
hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
    uint8_t out[SHA256_DIGEST_LENGTH])
{
	struct hmac_sha256_ctx	ctx;

	hmac_sha256_init(&ctx, key, keylen);
	hmac_sha256_update(&ctx, msg, msglen);
	hmac_sha256_final(&ctx, out);
}

/* Write len bytes as 2 * len lowercase hex digits and a NUL. */
void
sha256_hex(const uint8_t *data, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/*
 * Compare two buffers in time that depends only on len, so a peer cannot
 * learn how many leading bytes of a proof it guessed right.  Returns 1
 * when equal, 0 otherwise.
 */
int
sha256_timingsafe_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t	*pa = a, *pb = b;
	uint8_t			 diff = 0;
	size_t			 i;

	for (i = 0; i < len; i++)
		diff |= pa[i] ^ pb[i];
	return (diff == 0);
}

/* Wipe memory holding secrets in a way the optimiser keeps. */
void
sha256_explicit_bzero(void *p, size_t len)
{
	sha256_memset(p, 0, len);
}
