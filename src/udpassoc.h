/*
 * A SOCKS5 UDP ASSOCIATE on the server (RFC 1928 section 7): the relay
 * socket the client sends its datagrams to, and the far side that sends
 * them on: a udpexit in direct mode, or a UDP session on a worker link.
 * Only datagrams from the client's address (and port, once known or
 * given in the request) are taken; fragments are dropped and counted.
 * The association ends when its TCP control connection closes, or after
 * UDP_IDLE_TIMEOUT without a datagram either way.  client.c opens one
 * for a UDP ASSOCIATE request and logs its access line when it ends.
 */
#ifndef UDPASSOC_H
#define UDPASSOC_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

struct udpassoc;
struct mux_session;

/* What moved, for the access line (bytes are payload only). */
struct udpassoc_counts {
	uint64_t	dgrams_up;	/* client to targets */
	uint64_t	dgrams_down;	/* targets to client */
	uint64_t	bytes_up;
	uint64_t	bytes_down;
	uint64_t	dropped;	/* any reason, both ways */
	uint64_t	fragments;	/* FRAG != 0, within dropped */
};

/* The association is over: why (ok, idle, reset-by-peer...). */
typedef void	(*udpassoc_done_cb)(struct udpassoc *, const char *result,
		    void *arg);

struct udpassoc	*udpassoc_new(int ctlfd, const struct sockaddr *client,
		    uint16_t client_port, char **cause);
void		 udpassoc_bound(struct udpassoc *, struct sockaddr_storage *);
void		 udpassoc_start(struct udpassoc *, struct mux_session *,
		    udpassoc_done_cb, void *arg);
void		 udpassoc_counts(const struct udpassoc *,
		    struct udpassoc_counts *);
void		 udpassoc_abort(struct udpassoc *, const char *why);
void		 udpassoc_free(struct udpassoc *);

#endif
