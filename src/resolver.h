/*
 * Name resolution off the loop.  getaddrinfo() blocks, so lookups run in
 * a small pool of POSIX threads; answers come back through a pipe that
 * the reactor watches, and the callback runs in the loop's thread.
 */
#ifndef RESOLVER_H
#define RESOLVER_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

struct resolver_query;

/* res is freed by the resolver after the callback returns. */
typedef void	(*resolver_cb)(const struct addrinfo *res, int gai_error,
		    void *arg);

void	resolver_init(void);
struct resolver_query *resolver_lookup(const char *host, const char *port,
	    resolver_cb, void *arg);
void	resolver_cancel(struct resolver_query *);

#endif
