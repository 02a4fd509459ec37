/*
 * SHA-crypt with SHA-256, the "$5$" scheme of Ulrich Drepper's "Unix
 * crypt using SHA-256 and SHA-512": the hashes that `openssl passwd -5`
 * and `mkpasswd -m sha-256` write, as kept in the PASSWORD_FILE.
 * Pure functions: no I/O, no allocation.
 */
#ifndef SHACRYPT_H
#define SHACRYPT_H

#include <stddef.h>

#define SHACRYPT_ROUNDS_DEFAULT	5000
#define SHACRYPT_ROUNDS_MIN	1000
#define SHACRYPT_ROUNDS_MAX	999999999
#define SHACRYPT_SALT_MAX	16
/* Longest password hashed; see shacrypt.c for why there is a limit. */
#define SHACRYPT_KEY_MAX	1024
/* Most rounds shacrypt_verify will spend on one stored hash. */
#define SHACRYPT_VERIFY_ROUNDS_MAX 10000000
/* Big enough for any result: "$5$rounds=999999999$" salt "$" digest. */
#define SHACRYPT_HASH_SIZE	96

int	shacrypt_sha256(const char *, const char *, char *, size_t);
int	shacrypt_check(const char *, unsigned long *, const char **);
int	shacrypt_verify(const char *, const char *);

#endif
