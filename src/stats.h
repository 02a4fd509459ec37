/*
 * The stats listener's HTTP side: GET /metrics (Prometheus text format)
 * and GET /status (a table of workers), served from the reactor.
 */
#ifndef STATS_H
#define STATS_H

#include <sys/types.h>
#include <sys/socket.h>

void	stats_accept(int fd, const struct sockaddr *, socklen_t);

#endif
