/*
 * Dialing a destination: resolve the name off the loop, then try each
 * address in turn until one connects or CONNECT_TIMEOUT runs out.  The
 * destination rules (DEST_ALLOW / DEST_DENY) are applied to every
 * address before connect(), so a name that resolves to a denied address
 * is denied and no connection is ever attempted to it.  Used by the
 * server in direct mode and by the worker.
 */
#ifndef DIAL_H
#define DIAL_H

#include <sys/types.h>
#include <sys/socket.h>

#include "socks.h"

struct dial;

/* fd is -1 on failure, with why set; on success the caller owns fd. */
typedef void	(*dial_cb)(int fd, enum socks_failure why, void *arg);

/* With DIAL_RULES the DEST_ALLOW / DEST_DENY rules apply (destinations). */
#define DIAL_RULES	0x1

struct dial	*dial_start(const char *host, int port, int flags, dial_cb,
		    void *arg);
void		 dial_cancel(struct dial *);

#endif
