/*
 * One SOCKS client on the server: the handshake, the request, the choice
 * between a worker and a direct dial, the reply, and the tunnel until
 * both directions are done; then the access log line.
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <sys/types.h>
#include <sys/socket.h>

struct ipcount;

/* Clients on the server now, by address (MAX_CLIENTS_PER_IP). */
extern struct ipcount	client_addrs;

void	client_accept(int fd, const struct sockaddr *, socklen_t);
size_t	client_count(void);
void	client_shutdown(void);
void	client_abort_all(void);

#endif
