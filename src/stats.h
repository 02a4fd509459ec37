/*
 * Per-route tunnel statistics (stats.c) and the stats listener's HTTP
 * side (stats-http.c).  Every tunnel is counted under the route that
 * carried it: a worker's name, or "direct" for the server itself.
 * STATS_LISTEN serves them over HTTP from the reactor: GET /metrics in
 * the Prometheus text format, GET /status as a table of workers.
 */
#ifndef STATS_H
#define STATS_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

#include "buf.h"
#include "socks.h"

/* stats-http.c */
int	stats_accept(int fd, const struct sockaddr *, socklen_t);
void	stats_http_close_all(void);

/* stats.c */
void	stats_tunnel_open(const char *via);
void	stats_tunnel_done(const char *via, uint64_t up, uint64_t down);
void	stats_connect_failed(const char *via, enum socks_failure);
void	stats_render_metrics(struct buf *);
void	stats_render_status(struct buf *);
void	stats_close_all(void);

#endif
