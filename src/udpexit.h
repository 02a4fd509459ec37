/*
 * The outward side of one UDP association: the role that sends a
 * client's datagrams to their targets (the server in direct mode, the
 * worker otherwise).  It resolves names off the loop, applies
 * DEST_ALLOW / DEST_DENY to every target address, caps the distinct
 * targets (UDP_MAX_TARGETS) and the datagrams sent per second
 * (UDP_RATE), and hands back only replies that come from a target the
 * client has sent to: nothing from anyone else is relayed.
 */
#ifndef UDPEXIT_H
#define UDPEXIT_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* Longest datagram payload taken or given. */
#define UDPEXIT_DGRAM_MAX	65535

struct udpexit;

/* A reply from a target: from is its address.  It must not free the exit. */
typedef void	(*udpexit_reply_cb)(const struct sockaddr *from,
		    const uint8_t *data, size_t len, void *arg);

/* What the association dropped, for its access line. */
struct udpexit_counts {
	uint64_t	denied;		/* DEST_* rules */
	uint64_t	capped;		/* target cap or rate */
	uint64_t	unresolved;	/* name did not resolve */
	uint64_t	failed;		/* sendto failed */
};

struct udpexit	*udpexit_new(udpexit_reply_cb, void *arg);
void		 udpexit_send(struct udpexit *, const char *host,
		    uint16_t port, const uint8_t *data, size_t len);
const struct udpexit_counts *udpexit_counts(const struct udpexit *);
void		 udpexit_free(struct udpexit *);

#endif
