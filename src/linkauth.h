/*
 * Proofs for authenticated worker registration (PROTOCOL.md 2): HMAC-
 * SHA256 of the nonces and name under the shared secret, in hex, and a
 * constant-time comparison.  Shared by the server (pool-link.c) and worker.
 */
#ifndef LINKAUTH_H
#define LINKAUTH_H

#include "sha256.h"

#define LINKAUTH_NONCE_BYTES	16
#define LINKAUTH_NONCE_HEX	(2 * LINKAUTH_NONCE_BYTES + 1)

int	linkauth_has_secret(const char *secret);
void	linkauth_nonce(char out[LINKAUTH_NONCE_HEX]);
void	linkauth_rgst_proof(const char *secret, const char *server_nonce,
	    const char *worker_nonce, const char *name,
	    char out[SHA256_HEX_LENGTH]);
void	linkauth_ok_proof(const char *secret, const char *worker_nonce,
	    const char *server_nonce, char out[SHA256_HEX_LENGTH]);
int	linkauth_equal(const char *expected, const char *got);
int	linkauth_valid_nonce(const char *);

#endif
