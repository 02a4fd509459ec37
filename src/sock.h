/*
 * Socket helpers shared by listeners, dialers and the worker link:
 * non-blocking listen/accept/connect, TCP_NODELAY, and address text.
 */
#ifndef SOCK_H
#define SOCK_H

#include <sys/types.h>
#include <sys/socket.h>

/* Room for "[ffff:...:ffff]:65535" and a NUL. */
#define SOCK_ADDRSTRLEN	64

int		 sock_listen(const struct sockaddr *, socklen_t, int backlog,
		    int shared, char **cause);
int		 sock_accept(int, struct sockaddr_storage *, socklen_t *);
int		 sock_connect(const struct sockaddr *, socklen_t, int *fdp);
int		 sock_connect_result(int);
void		 sock_set_nodelay(int);
int		 sock_set_nonblock(int);
const char	*sock_ntop(const struct sockaddr *, char *, size_t);
void		 sock_local(int, struct sockaddr_storage *);
const char	*sock_ntop_host(const struct sockaddr *, char *, size_t);
int		 sock_port(const struct sockaddr *);
socklen_t	 sock_len(const struct sockaddr *);
int		 sock_pton(const char *host, const char *port,
		    struct sockaddr_storage *);

#endif
