/*
 * Concurrent connections per peer address: clients for
 * MAX_CLIENTS_PER_IP, unregistered worker links for
 * WORKER_PENDING_PER_IP.  A small hash table keyed by the address bytes
 * (IPv4-mapped IPv6 counts as its IPv4 address); entries vanish when
 * their count drops to zero.  A zeroed struct ipcount is an empty table.
 */
#ifndef IPCOUNT_H
#define IPCOUNT_H

#include <sys/types.h>
#include <sys/socket.h>

#define IPCOUNT_BUCKETS	4096

struct ipcount_entry;

struct ipcount {
	struct ipcount_entry	*buckets[IPCOUNT_BUCKETS];
};

unsigned int	ipcount_get(struct ipcount *, const struct sockaddr *);
unsigned int	ipcount_add(struct ipcount *, const struct sockaddr *);
void		ipcount_del(struct ipcount *, const struct sockaddr *);

#endif
