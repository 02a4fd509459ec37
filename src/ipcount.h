/*
 * Concurrent connections per client address, for MAX_CLIENTS_PER_IP.
 * A small hash table keyed by the address bytes (IPv4-mapped IPv6 counts
 * as its IPv4 address); entries vanish when their count drops to zero.
 */
#ifndef IPCOUNT_H
#define IPCOUNT_H

#include <sys/types.h>
#include <sys/socket.h>

unsigned int	ipcount_get(const struct sockaddr *);
unsigned int	ipcount_add(const struct sockaddr *);
void		ipcount_del(const struct sockaddr *);

#endif
