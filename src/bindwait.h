/*
 * The listening half of a SOCKS BIND: a socket on a local address that
 * takes the one connection a BIND waits for (RFC 1928 section 4, the
 * SOCKS4 BIND note).  A peer whose address is not the request's DST.ADDR
 * (when that is a number other than 0.0.0.0 or ::), or that DEST_ALLOW /
 * DEST_DENY refuse, is closed and the wait goes on; the first that
 * passes is handed over and the listener closes.  BIND_TIMEOUT bounds
 * the wait.  The server's client.c uses it in direct mode, the worker
 * for a bind session.
 */
#ifndef BINDWAIT_H
#define BINDWAIT_H

#include <sys/types.h>
#include <sys/socket.h>

#include "socks.h"

struct bindwait;

/*
 * The wait is over: fd is the peer's connection (the caller owns it)
 * and peer its address, or fd is -1 and why says what went wrong.
 */
typedef void	(*bindwait_cb)(int fd, const struct sockaddr *peer,
		    enum socks_failure why, void *arg);

struct bindwait	*bindwait_start(const struct sockaddr *local,
		    const char *expect, bindwait_cb, void *arg,
		    char **cause);
void		 bindwait_bound(struct bindwait *, struct sockaddr_storage *);
void		 bindwait_cancel(struct bindwait *);

#endif
