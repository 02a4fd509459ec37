/*
 * The daemon's counters (stats.c), the pages rendered from them
 * (stats-render.c) and the stats listener's HTTP side (stats-http.c).  The totals are what SIGUSR1 logs and /metrics shows;
 * every module counts through the stats_* calls below and reads them
 * back with stats_totals().  On the server every tunnel is also counted
 * under the route that carried it: a worker's name, or "direct" for the
 * server itself; the worker counts totals only (via NULL).
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

struct conf;

/* stats-http.c */
int	stats_accept(int fd, const struct sockaddr *, socklen_t);
void	stats_http_close_all(void);
void	stats_http_set_worker(int);

/* stats-listen.c: the worker's own STATS_LISTEN */
int	stats_listen_start(struct conf *, char **);
void	stats_listen_close_all(void);

/* A latency histogram, Prometheus style: bucket i counts <= bound i. */
#define STATS_HIST_BUCKETS	14
struct stats_hist {
	uint64_t	buckets[STATS_HIST_BUCKETS];	/* not cumulative */
	uint64_t	count;
	uint64_t	sum_us;
};
extern const double	stats_hist_bounds[STATS_HIST_BUCKETS];	/* s */

/* The daemon-wide counters. */
struct stats_totals {
	uint64_t	clients_accepted;
	uint64_t	clients_active;
	uint64_t	clients_refused;	/* by rule or cap */
	uint64_t	tunnels_total;
	uint64_t	tunnels_active;
	uint64_t	bytes_up;		/* client to destination */
	uint64_t	bytes_down;
	uint64_t	handshake_errors;
	uint64_t	connect_failures[SOCKS_FAIL_FAILURE + 1];
	uint64_t	link_errors;
	uint64_t	link_reconnects;
	uint64_t	links_refused;		/* worker port, at accept */
	uint64_t	links_up;		/* a worker's registered links */
	struct stats_hist handshake;		/* SOCKS, accept to request */
	struct stats_hist dial;			/* a worker's dials */
};

/* The counters of one route (a worker's name, "direct", "none"). */
struct stats_route {
	char			 name[128];
	uint64_t		 active;
	uint64_t		 total;
	uint64_t		 bytes_up;
	uint64_t		 bytes_down;
	uint64_t		 failures[SOCKS_FAIL_FAILURE + 1];
	uint64_t		 ejections;	/* passive health */
	struct stats_hist	 connect;	/* request to the worker's A */
	struct stats_route	*next;
};

/* stats.c */
const struct stats_totals *stats_totals(void);
uint64_t stats_connect_failures(void);
void	stats_client_accepted(void);
void	stats_client_open(void);
void	stats_client_close(void);
void	stats_client_refused(void);
void	stats_handshake_error(void);
void	stats_link_error(void);
void	stats_link_reconnect(void);
void	stats_link_refused(void);
void	stats_tunnel_open(const char *via);
void	stats_tunnel_done(const char *via, uint64_t up, uint64_t down);
void	stats_connect_failed(const char *via, enum socks_failure);
void	stats_handshake_done(uint64_t us);
void	stats_dial_done(uint64_t us);
void	stats_worker_connected(const char *via, uint64_t us);
void	stats_worker_ejected(const char *via);
void	stats_link_up(int up);
const struct stats_route *stats_route_first(void);
void	stats_free(void);

/* stats-render.c */
void	stats_render_metrics(struct buf *);
void	stats_render_status(struct buf *);
void	stats_render_status_json(struct buf *);
void	stats_render_worker_metrics(struct buf *);
void	stats_render_worker_status(struct buf *, int json);

#endif
