/*
 * The daemon's counters, in total and for tunnels by route.  Clients,
 * tunnels, links and the pool count here; SIGUSR1 and the pages
 * (stats-render.c) read them back.  It calls nothing above it, so every
 * layer may count.
 */
#include "config.h"

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "stats.h"
#include "xmalloc.h"

/* Routes beyond this many are counted together, so names cannot grow us. */
#define STATS_MAX_ROUTES	1024

static struct stats_totals	 stats;
static struct stats_route	*stats_routes;
static size_t			 stats_nroutes;

/* The totals so far, for SIGUSR1 and the pages. */
const struct stats_totals *
stats_totals(void)
{
	return (&stats);
}

/* Destinations not reached, whatever the reason. */
uint64_t
stats_connect_failures(void)
{
	uint64_t	n = 0;
	int		f;

	for (f = SOCKS_FAIL_NONE + 1; f <= SOCKS_FAIL_FAILURE; f++)
		n += stats.connect_failures[f];
	return (n);
}

/* A client connection passed the rules and caps. */
void
stats_client_accepted(void)
{
	stats.clients_accepted++;
}

/* A SOCKS client is now handled (from accept to its close). */
void
stats_client_open(void)
{
	stats.clients_active++;
}

/* A SOCKS client is closed. */
void
stats_client_close(void)
{
	stats.clients_active--;
}

/* A client refused by rule, cap or password. */
void
stats_client_refused(void)
{
	stats.clients_refused++;
}

/* A SOCKS handshake failed or timed out. */
void
stats_handshake_error(void)
{
	stats.handshake_errors++;
}

/* A worker link was dropped for a protocol error or silence. */
void
stats_link_error(void)
{
	stats.link_errors++;
}

/* A worker redials a server after losing its link. */
void
stats_link_reconnect(void)
{
	stats.link_reconnects++;
}

/* The server refused a connection to its worker port at accept. */
void
stats_link_refused(void)
{
	stats.links_refused++;
}

/*
 * The counters of route via, made on first use; past STATS_MAX_ROUTES
 * new names share the route "other".
 */
static struct stats_route *
stats_route(const char *via)
{
	struct stats_route	*r;

	for (r = stats_routes; r != NULL; r = r->next)
		if (strcmp(r->name, via) == 0)
			return (r);
	if (stats_nroutes >= STATS_MAX_ROUTES)
		via = "other";
	for (r = stats_routes; r != NULL; r = r->next)
		if (strcmp(r->name, via) == 0)
			return (r);
	r = xcalloc(1, sizeof(*r));
	strlcpy(r->name, via, sizeof(r->name));
	r->next = stats_routes;
	stats_routes = r;
	stats_nroutes++;
	return (r);
}

/*
 * A tunnel opened through via (a worker's name or "direct"; NULL on a
 * worker, which counts totals only).
 */
void
stats_tunnel_open(const char *via)
{
	struct stats_route	*r;

	stats.tunnels_total++;
	stats.tunnels_active++;
	if (via == NULL)
		return;
	r = stats_route(via);
	r->active++;
	r->total++;
}

/* A tunnel through via ended, having moved up and down bytes. */
void
stats_tunnel_done(const char *via, uint64_t up, uint64_t down)
{
	struct stats_route	*r;

	stats.tunnels_active--;
	stats.bytes_up += up;
	stats.bytes_down += down;
	if (via == NULL)
		return;
	r = stats_route(via);
	if (r->active > 0)
		r->active--;
	r->bytes_up += up;
	r->bytes_down += down;
}

/* A destination could not be reached through via (NULL: totals only). */
void
stats_connect_failed(const char *via, enum socks_failure why)
{
	if (why > SOCKS_FAIL_FAILURE)
		return;
	stats.connect_failures[why]++;
	if (via != NULL)
		stats_route(via)->failures[why]++;
}

/* Bucket bounds in seconds: 1 ms to 10 s. */
const double	stats_hist_bounds[STATS_HIST_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10
};

/* Count one duration of us microseconds in h. */
static void
stats_hist_add(struct stats_hist *h, uint64_t us)
{
	size_t	i;

	h->count++;
	h->sum_us += us;
	for (i = 0; i < STATS_HIST_BUCKETS; i++)
		if ((double)us <= stats_hist_bounds[i] * 1e6) {
			h->buckets[i]++;
			break;
		}
}

/* A SOCKS handshake finished in us: from accept to the request read. */
void
stats_handshake_done(uint64_t us)
{
	stats_hist_add(&stats.handshake, us);
}

/* A worker's dial finished (connected or not) in us. */
void
stats_dial_done(uint64_t us)
{
	stats_hist_add(&stats.dial, us);
}

/* The worker via connected a request in us (request to its answer). */
void
stats_worker_connected(const char *via, uint64_t us)
{
	stats_hist_add(&stats_route(via)->connect, us);
}

/* Passive health ejected the worker via. */
void
stats_worker_ejected(const char *via)
{
	stats_route(via)->ejections++;
}

/* A worker's link to a server registered (up) or went down. */
void
stats_link_up(int up)
{
	if (up)
		stats.links_up++;
	else if (stats.links_up > 0)
		stats.links_up--;
}

/* The first route counted (the others follow by next), or NULL. */
const struct stats_route *
stats_route_first(void)
{
	return (stats_routes);
}

/* Forget every route (exit). */
void
stats_free(void)
{
	struct stats_route	*r;

	while ((r = stats_routes) != NULL) {
		stats_routes = r->next;
		free(r);
	}
	stats_nroutes = 0;
}
