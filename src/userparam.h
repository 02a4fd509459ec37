/*
 * Parameters in a proxy user name (a SOCKS5 RFC 1929 user name, a
 * SOCKS4/4a user id, the user of an HTTP proxy request):
 * BASE[-KEY-VALUE]..., with KEY one of tag, worker, session, ttl and
 * sticky.  A pure codec: userparam_parse takes the name and fills a
 * struct userparam, or says why the name is refused.  Every front end
 * (client.c for SOCKS, the HTTP proxy) calls it the same way and hands
 * the result to the pool.
 */
#ifndef USERPARAM_H
#define USERPARAM_H

#include "tags.h"

#define USERPARAM_USER_MAX	255	/* bytes in a user name */
#define USERPARAM_SESSION_MAX	64	/* bytes in a session id */
#define USERPARAM_WORKER_MAX	127	/* CONF_WORKER_NAME_MAX */
#define USERPARAM_TTL_MAX	1440	/* minutes */

struct userparam {
	char		base[USERPARAM_USER_MAX + 1];	/* the account */
	struct tags	tags;		/* -tag-T: all must match */
	char		worker[USERPARAM_WORKER_MAX + 1]; /* "" = any */
	char		session[USERPARAM_SESSION_MAX + 1]; /* "" = none */
	unsigned int	ttl;		/* minutes; 0 = STICKY_TTL */
	int		strict;		/* -sticky-strict */
};

int	userparam_parse(const char *, struct userparam *, char **);
int	userparam_has_filters(const struct userparam *);

#endif
