/*
 * The PASSWORD_FILE for AUTH=password: "user:hash" lines with SHA-crypt
 * "$5$" hashes, each optionally followed by ":key=value ..." options, the
 * account's policy; '#' comments and blank lines.  The server loads it at
 * start and on reload and checks RFC 1929 user names and passwords
 * against it.  Named passwd_db so as not to clash with <pwd.h>.
 */
#ifndef PASSWD_H
#define PASSWD_H

#include <stddef.h>
#include <stdint.h>

#include "tags.h"

/* RFC 1929 carries user names in at most 255 bytes. */
#define PASSWD_USER_MAX	255
/* Most SHA-crypt rounds a hash in the file may ask for. */
#define PASSWD_ROUNDS_MAX	1000000

/* Most rate= an account may be given, bytes per second. */
#define PASSWD_RATE_MAX		1000000000000ULL

/* What an account may do: the options of its line. */
struct passwd_policy {
	struct tags	tags;		/* tags=: only workers with one of them */
	unsigned int	max_sessions;	/* max_sessions=: 0 = no cap */
	int		no_worker;	/* no_worker=: -1 NO_WORKER, else conf's */
	uint64_t	rate;		/* rate=: bytes/s both ways, 0 = none */
};

struct passwd_db;
struct passwd_attempt;

struct passwd_db *passwd_load(const char *, char **);
int		 passwd_check(const struct passwd_db *, const char *,
		    const char *);
struct passwd_attempt *passwd_attempt_new(const struct passwd_db *,
		    const char *, const char *);
int		 passwd_attempt_verify(struct passwd_attempt *);
void		 passwd_attempt_free(struct passwd_attempt *);
size_t		 passwd_count(const struct passwd_db *);
const char	*passwd_user(const struct passwd_db *, size_t);
int		 passwd_policy(const struct passwd_db *, const char *,
		    struct passwd_policy *);
void		 passwd_free(struct passwd_db *);

#endif
