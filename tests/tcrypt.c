/*
 * tcrypt: print the SHA-crypt "$5$" hash of a password, for the
 * PASSWORD_FILE of the integration tests, which cannot count on
 * `openssl passwd -5` or mkpasswd being installed.
 *
 *   tcrypt ROUNDS SALT PASSWORD
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "shacrypt.h"

/* Hash argv[3] with argv[2] as salt and argv[1] rounds; print it. */
int
main(int argc, char **argv)
{
	char	setting[SHACRYPT_HASH_SIZE], out[SHACRYPT_HASH_SIZE];
	char	*end;
	long	rounds;

	if (argc != 4) {
		fprintf(stderr, "usage: tcrypt ROUNDS SALT PASSWORD\n");
		return (2);
	}
	rounds = strtol(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || rounds < 1000 ||
	    rounds > 999999999) {
		fprintf(stderr, "tcrypt: bad rounds %s\n", argv[1]);
		return (2);
	}
	snprintf(setting, sizeof(setting), "$5$rounds=%ld$%.16s", rounds,
	    argv[2]);
	if (shacrypt_sha256(argv[3], setting, out, sizeof(out)) != 0) {
		fprintf(stderr, "tcrypt: cannot hash with %s\n", setting);
		return (1);
	}
	printf("%s\n", out);
	return (0);
}
