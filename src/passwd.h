/*
 * The PASSWORD_FILE for AUTH=password: "user:hash" lines with SHA-crypt
 * "$5$" hashes, '#' comments and blank lines.  The server loads it at
 * start and on reload and checks RFC 1929 user names and passwords
 * against it.  Named passwd_db so as not to clash with <pwd.h>.
 */
#ifndef PASSWD_H
#define PASSWD_H

#include <stddef.h>

/* RFC 1929 carries user names in at most 255 bytes. */
#define PASSWD_USER_MAX	255
/* Most SHA-crypt rounds a hash in the file may ask for. */
#define PASSWD_ROUNDS_MAX	1000000

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
void		 passwd_free(struct passwd_db *);

#endif
