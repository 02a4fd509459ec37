/*
 * The server's accounts at run time (AUTH=password): for each user of
 * the PASSWORD_FILE that has logged in, its tunnels now and in all, the
 * bytes they moved and the rate limit they share (rate=).  client.c
 * counts here; the metrics read it.  Entries are made at a user's first
 * login and live until exit, so the set is bounded by the names the
 * password file has held.
 */
#ifndef ACCOUNT_H
#define ACCOUNT_H

#include <stdint.h>

#include "passwd.h"
#include "ratelimit.h"

struct account {
	char		 name[PASSWD_USER_MAX + 1];
	uint64_t	 active;	/* requests and tunnels now */
	uint64_t	 total;		/* requests let through */
	uint64_t	 bytes_up;
	uint64_t	 bytes_down;
	struct ratelimit limit;		/* rate=, shared by its tunnels */
	struct account	*next;
};

struct account		*account_get(const char *, uint64_t);
const struct account	*account_first(void);
void			 account_free_all(void);

#endif
