/*
 * Password checks for AUTH=password: the PASSWORD_FILE in force and the
 * threads that check RFC 1929 credentials against it off the loop.  The
 * server loads the file at start and on reload and puts it in force; a
 * client's handshake asks auth_check.
 */
#ifndef AUTH_H
#define AUTH_H

#include "conf.h"
#include "passwd.h"

struct job;

/* How a password check ended. */
enum auth_result {
	AUTH_OK,
	AUTH_BAD,
	AUTH_BUSY		/* too many checks waiting: not tried */
};

typedef void	(*auth_cb)(enum auth_result, void *arg);

int		 auth_load(const struct conf *, struct passwd_db **,
		    char **cause);
void		 auth_set(struct passwd_db *);
int		 auth_policy(const char *, struct passwd_policy *);
struct job	*auth_check(const char *user, const char *password, auth_cb,
		    void *arg);

#endif
