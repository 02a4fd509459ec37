/*
 * The pages of STATS_LISTEN, rendered from the counters (stats.c) and
 * the pool: Prometheus text for GET /metrics, a table of workers for
 * GET /status.  stats-http.c serves them.
 */
#include "config.h"

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "buf.h"
#include "compat.h"
#include "log.h"
#include "pool.h"
#include "stats.h"
#include "sticky.h"
#include "tags.h"

/* Append printf-style text to b. */
static void
stats_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("vasprintf");
	buf_add(b, line, n);
	free(line);
}

/* Label values are worker names: escape what the text format requires. */
static const char *
stats_label(const char *in, char *out, size_t size)
{
	size_t	o = 0;

	for (; *in != '\0' && o + 3 < size; in++) {
		if (*in == '"' || *in == '\\') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
	return (out);
}

/* Write a metric's HELP and TYPE lines. */
static void
stats_metric_head(struct buf *b, const char *name, const char *type,
    const char *help)
{
	stats_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* Render every counter in the Prometheus text exposition format. */
void
stats_render_metrics(struct buf *b)
{
	const struct {
		const char	*name, *type, *help;
		uint64_t	 value;
	} globals[] = {
		{ "esocksd_workers_registered", "gauge",
		    "Workers registered in the pool.", pool_worker_count() },
		{ "esocksd_workers_unresponsive", "gauge",
		    "Registered workers that owe an answer past "
		    "WORKER_RESPONSE_TIMEOUT.", pool_unresponsive_count() },
		{ "esocksd_clients_active", "gauge",
		    "SOCKS client connections open now.",
		    stats_totals()->clients_active },
		{ "esocksd_clients_accepted_total", "counter",
		    "SOCKS client connections accepted.",
		    stats_totals()->clients_accepted },
		{ "esocksd_clients_refused_total", "counter",
		    "Client connections refused by rule or cap.",
		    stats_totals()->clients_refused },
		{ "esocksd_handshake_errors_total", "counter",
		    "SOCKS handshakes that failed or timed out.",
		    stats_totals()->handshake_errors },
		{ "esocksd_worker_links_refused_total", "counter",
		    "Worker port connections refused by rule or cap.",
		    stats_totals()->links_refused },
		{ "esocksd_link_errors_total", "counter",
		    "Worker links dropped for protocol errors or silence.",
		    stats_totals()->link_errors },
		{ "esocksd_link_reconnects_total", "counter",
		    "Worker link redials.", stats_totals()->link_reconnects },
		{ "esocksd_sticky_sessions", "gauge",
		    "Sticky sessions (-session-ID) alive, pinned to a worker.",
		    sticky_count() },
	};
	const struct {
		const char	*name, *type, *help;
		size_t		 offset;
	} accounts[] = {
		{ "esocksd_account_sessions_active", "gauge",
		    "Requests and tunnels open now, by account.",
		    offsetof(struct account, active) },
		{ "esocksd_account_sessions_total", "counter",
		    "Requests let through, by account.",
		    offsetof(struct account, total) },
		{ "esocksd_account_bytes_up_total", "counter",
		    "Bytes from clients to destinations, by account.",
		    offsetof(struct account, bytes_up) },
		{ "esocksd_account_bytes_down_total", "counter",
		    "Bytes from destinations to clients, by account.",
		    offsetof(struct account, bytes_down) },
	};
	const struct account		*a;
	const struct {
		const char	*name, *type, *help;
		size_t		 offset;
	} routes[] = {
		{ "esocksd_sessions_active", "gauge",
		    "Tunnels open now, by route.",
		    offsetof(struct stats_route, active) },
		{ "esocksd_sessions_total", "counter",
		    "Tunnels opened, by route.",
		    offsetof(struct stats_route, total) },
		{ "esocksd_bytes_up_total", "counter",
		    "Bytes from clients to destinations, by route.",
		    offsetof(struct stats_route, bytes_up) },
		{ "esocksd_bytes_down_total", "counter",
		    "Bytes from destinations to clients, by route.",
		    offsetof(struct stats_route, bytes_down) },
	};
	const struct stats_route	*r;
	char			 l[300];
	size_t			 i;
	int			 f;

	for (i = 0; i < nitems(globals); i++) {
		stats_metric_head(b, globals[i].name, globals[i].type,
		    globals[i].help);
		stats_printf(b, "%s %llu\n", globals[i].name,
		    (unsigned long long)globals[i].value);
	}
	for (i = 0; i < nitems(routes); i++) {
		stats_metric_head(b, routes[i].name, routes[i].type,
		    routes[i].help);
		for (r = stats_route_first(); r != NULL; r = r->next)
			stats_printf(b, "%s{worker=\"%s\"} %llu\n",
			    routes[i].name, stats_label(r->name, l, sizeof(l)),
			    (unsigned long long)*(uint64_t *)((char *)r +
			    routes[i].offset));
	}
	/* Accounts come from the password file: a bounded label set. */
	for (i = 0; i < nitems(accounts); i++) {
		stats_metric_head(b, accounts[i].name, accounts[i].type,
		    accounts[i].help);
		for (a = account_first(); a != NULL; a = a->next)
			stats_printf(b, "%s{account=\"%s\"} %llu\n",
			    accounts[i].name, stats_label(a->name, l,
			    sizeof(l)), (unsigned long long)*(uint64_t *)
			    ((char *)a + accounts[i].offset));
	}
	stats_metric_head(b, "esocksd_connect_failures_total", "counter",
	    "Destinations not reached, by route and reason.");
	for (r = stats_route_first(); r != NULL; r = r->next)
		for (f = SOCKS_FAIL_DENIED; f <= SOCKS_FAIL_FAILURE; f++)
			if (r->failures[f] > 0)
				stats_printf(b, "esocksd_connect_failures_total"
				    "{worker=\"%s\",reason=\"%s\"} %llu\n",
				    stats_label(r->name, l, sizeof(l)),
				    socks_failure_name(f),
				    (unsigned long long)r->failures[f]);
}

/* Write one worker's row of /status into the buffer arg. */
static void
stats_status_row(const struct pool_info *w, void *arg)
{
	struct buf	*b = arg;
	char		 since[32] = "-", tags[TAGS_TEXT_MAX], state[32];
	time_t		 t = (time_t)w->up_since;
	struct tm	 tm;

	if (w->up_since != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(state, sizeof(state), "%s%s", w->state,
	    w->registered && !w->esp ? " legacy" : "");
	/* TAGS last: the columns before it keep their places. */
	stats_printf(b, "%-24.24s %-28.28s %-20s %8zu %10llu %14llu %14llu "
	    "%-12s %s\n", w->name, w->addr, since, w->sessions,
	    (unsigned long long)w->sessions_total,
	    (unsigned long long)w->bytes_sent,
	    (unsigned long long)w->bytes_received,
	    state, tags_format(w->tags, ',', tags, sizeof(tags)));
}

/* Render the human-readable table of workers. */
void
stats_render_status(struct buf *b)
{
	stats_printf(b, "esocksd %s: %zu workers registered, %llu clients, "
	    "%llu tunnels\n\n", PACKAGE_VERSION, pool_worker_count(),
	    (unsigned long long)stats_totals()->clients_active,
	    (unsigned long long)stats_totals()->tunnels_active);
	stats_printf(b, "%-24s %-28s %-20s %8s %10s %14s %14s %-12s %s\n",
	    "WORKER", "ADDRESS", "UP SINCE", "SESSIONS", "TOTAL",
	    "BYTES SENT", "BYTES RECV", "STATE", "TAGS");
	pool_foreach(stats_status_row, b);
}
