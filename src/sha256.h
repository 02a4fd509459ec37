/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), written here so the
 * daemon needs no crypto library.  Used by the worker link's
 * authentication (PROTOCOL.md 2) and by SHA-crypt password hashes.
 * Pure functions: no I/O, no allocation.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LENGTH	32
#define SHA256_BLOCK_LENGTH	64
#define SHA256_HEX_LENGTH	(2 * SHA256_DIGEST_LENGTH + 1)

struct sha256_ctx {
	uint32_t	state[8];
	uint64_t	count;		/* bytes hashed so far */
	uint8_t		block[SHA256_BLOCK_LENGTH];
	size_t		blocklen;	/* bytes waiting in block */
};

struct hmac_sha256_ctx {
	struct sha256_ctx	inner;
	struct sha256_ctx	outer;
};

void	sha256_init(struct sha256_ctx *);
void	sha256_update(struct sha256_ctx *, const void *, size_t);
void	sha256_final(struct sha256_ctx *, uint8_t [SHA256_DIGEST_LENGTH]);
void	sha256(const void *, size_t, uint8_t [SHA256_DIGEST_LENGTH]);

void	hmac_sha256_init(struct hmac_sha256_ctx *, const void *, size_t);
void	hmac_sha256_update(struct hmac_sha256_ctx *, const void *, size_t);
void	hmac_sha256_final(struct hmac_sha256_ctx *,
	    uint8_t [SHA256_DIGEST_LENGTH]);
void	hmac_sha256(const void *, size_t, const void *, size_t,
	    uint8_t [SHA256_DIGEST_LENGTH]);

void	sha256_hex(const uint8_t *, size_t, char *);
int	sha256_timingsafe_equal(const void *, const void *, size_t);
void	sha256_explicit_bzero(void *, size_t);

#endif
