/*
 * Worker-link proofs behind linkauth.h.  The secret never crosses the
 * wire: each side proves it by an HMAC over both fresh nonces, so a
 * recorded registration cannot be replayed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkauth.h"
#include "random.h"
#include "sha256.h"
#include "xmalloc.h"

/* Tell whether a secret is configured (an empty one counts as none). */
int
linkauth_has_secret(const char *secret)
{
	return (secret != NULL && *secret != '\0');
}

/* A fresh nonce: LINKAUTH_NONCE_BYTES random bytes in hex. */
void
linkauth_nonce(char out[LINKAUTH_NONCE_HEX])
{
	random_hex(out, LINKAUTH_NONCE_BYTES);
}

/* HMAC-SHA256 of msg under the secret, in lowercase hex. */
static void
linkauth_hmac_hex(const char *secret, const char *msg,
    char out[SHA256_HEX_LENGTH])
{
	uint8_t	mac[SHA256_DIGEST_LENGTH];

	hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac);
	sha256_hex(mac, sizeof(mac), out);
}

/* The worker's proof: HMAC(secret, "RGST " snonce " " wnonce " " name). */
void
linkauth_rgst_proof(const char *secret, const char *server_nonce,
    const char *worker_nonce, const char *name, char out[SHA256_HEX_LENGTH])
{
	char	*msg;

	if (!linkauth_has_secret(secret)) {
		strlcpy(out, "-", SHA256_HEX_LENGTH);
		return;
	}
	xasprintf(&msg, "RGST %s %s %s", server_nonce, worker_nonce, name);
	linkauth_hmac_hex(secret, msg, out);
	free(msg);
}

/* The server's proof: HMAC(secret, "OK " wnonce " " snonce). */
void
linkauth_ok_proof(const char *secret, const char *worker_nonce,
    const char *server_nonce, char out[SHA256_HEX_LENGTH])
{
	char	*msg;

	if (!linkauth_has_secret(secret)) {
		strlcpy(out, "-", SHA256_HEX_LENGTH);
		return;
	}
	xasprintf(&msg, "OK %s %s", worker_nonce, server_nonce);
	linkauth_hmac_hex(secret, msg, out);
	free(msg);
}

/* Compare a received proof with the expected one in constant time. */
int
linkauth_equal(const char *expected, const char *got)
{
	size_t	len = strlen(expected);

	if (strlen(got) != len)
		return (0);
	return (sha256_timingsafe_equal(expected, got, len));
}

/* A nonce must be at least 16 bytes of hex (PROTOCOL.md 2). */
int
linkauth_valid_nonce(const char *s)
{
	size_t	len = strlen(s);

	return (len >= 2 * LINKAUTH_NONCE_BYTES && len <= 256 &&
	    strspn(s, "0123456789abcdefABCDEF") == len);
}
