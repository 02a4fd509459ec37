/*
 * The pages of STATS_LISTEN, rendered from the counters (stats.c) and
 * the pool: Prometheus text for GET /metrics, a table of workers for
 * GET /status.  stats-http.c serves them.
 */
#include "config.h"

#include <sys/types.h>

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* Write one histogram's series (labels: "" or `k="v",`) from h. */
static void
stats_hist_series(struct buf *b, const char *name, const char *labels,
    const struct stats_hist *h)
{
	uint64_t	cum = 0;
	size_t		i;
	char		sep[4];

	for (i = 0; i < STATS_HIST_BUCKETS; i++) {
		cum += h->buckets[i];
		stats_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels,
		    stats_hist_bounds[i], (unsigned long long)cum);
	}
	stats_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
	    (unsigned long long)h->count);
	/* The labels without their trailing comma, in braces, or none. */
	if (*labels != '\0') {
		strlcpy(sep, "{", sizeof(sep));
		stats_printf(b, "%s_sum%s%.*s} %.6f\n%s_count%s%.*s} %llu\n",
		    name, sep, (int)strlen(labels) - 1, labels,
		    (double)h->sum_us / 1e6, name, sep,
		    (int)strlen(labels) - 1, labels,
		    (unsigned long long)h->count);
	} else
		stats_printf(b, "%s_sum %.6f\n%s_count %llu\n", name,
		    (double)h->sum_us / 1e6, name,
		    (unsigned long long)h->count);
}

/* Count the entries of a directory (open descriptors), -1 if unknown. */
static long
stats_count_dir(const char *path)
{
	DIR		*d;
	struct dirent	*e;
	long		 n = 0;

	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);		/* not the one opendir holds */
}

/*
 * The process's start (seconds since the epoch) and resident memory
 * (bytes) from Linux's /proc; 0 where unknown.
 */
static void
stats_process(double *start, double *rss)
{
	FILE			*f;
	char			 line[1024], *p;
	unsigned long long	 ticks = 0, btime = 0, pages = 0;
	long			 hz = sysconf(_SC_CLK_TCK);
	int			 i;

	*start = *rss = 0;
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%*u %llu", &pages) == 1)
			*rss = (double)pages * (double)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
	if ((f = fopen("/proc/self/stat", "r")) != NULL) {
		/* Field 22 counts from after the name's closing paren. */
		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strrchr(line, ')')) != NULL) {
			for (i = 0; i < 20 && p != NULL; i++)
				p = strchr(p + 1, ' ');
			if (p != NULL)
				ticks = strtoull(p + 1, NULL, 10);
		}
		fclose(f);
	}
	if ((f = fopen("/proc/stat", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(f);
	}
	if (btime > 0 && hz > 0)
		*start = (double)btime + (double)ticks / (double)hz;
}

/*
 * The series both roles show: the build, and the standard process_*
 * metrics (start time, descriptors, resident memory) where known.
 */
static void
stats_render_common(struct buf *b)
{
	double	start, rss;
	long	fds = stats_count_dir("/proc/self/fd");
	long	max = sysconf(_SC_OPEN_MAX);

	stats_metric_head(b, "esocksd_build_info", "gauge",
	    "Always 1; the version of this esocksd in a label.");
	stats_printf(b, "esocksd_build_info{version=\"%s\"} 1\n",
	    PACKAGE_VERSION);
	stats_process(&start, &rss);
	if (start > 0) {
		stats_metric_head(b, "process_start_time_seconds", "gauge",
		    "Start time of the process since unix epoch in seconds.");
		stats_printf(b, "process_start_time_seconds %.2f\n", start);
	}
	if (fds >= 0) {
		stats_metric_head(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		stats_printf(b, "process_open_fds %ld\n", fds);
	}
	if (max > 0) {
		stats_metric_head(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		stats_printf(b, "process_max_fds %ld\n", max);
	}
	if (rss > 0) {
		stats_metric_head(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		stats_printf(b, "process_resident_memory_bytes %.0f\n", rss);
	}
}

/* The states a worker's state gauge shows, one series each. */
static const char *stats_states[] = {
	"up", "ejected", "draining", "unresponsive"
};

/* Write a registered worker's state series into the buffer arg. */
static void
stats_state_rows(const struct pool_info *w, void *arg)
{
	struct buf	*b = arg;
	char		 l[300];
	size_t		 i;

	if (!w->registered)
		return;
	stats_label(w->name, l, sizeof(l));
	for (i = 0; i < nitems(stats_states); i++)
		stats_printf(b, "esocksd_worker_state{worker=\"%s\","
		    "state=\"%s\"} %d\n", l, stats_states[i],
		    strcmp(w->state, stats_states[i]) == 0);
}

/*
 * The server's health series: each worker's state, connect latency and
 * ejections, and the SOCKS handshake's duration.
 */
static void
stats_render_health(struct buf *b)
{
	const struct stats_route	*r;
	char				 l[300], labels[320];

	stats_metric_head(b, "esocksd_worker_state", "gauge",
	    "1 for the state each registered worker is in, else 0.");
	pool_foreach(stats_state_rows, b);
	stats_metric_head(b, "esocksd_worker_ejections_total", "counter",
	    "Ejections by passive health, by worker.");
	for (r = stats_route_first(); r != NULL; r = r->next)
		if (r->connect.count > 0 || r->ejections > 0)
			stats_printf(b, "esocksd_worker_ejections_total"
			    "{worker=\"%s\"} %llu\n",
			    stats_label(r->name, l, sizeof(l)),
			    (unsigned long long)r->ejections);
	stats_metric_head(b, "esocksd_worker_connect_seconds", "histogram",
	    "From a request sent to a worker to its connect answer.");
	for (r = stats_route_first(); r != NULL; r = r->next) {
		if (r->connect.count == 0)
			continue;
		snprintf(labels, sizeof(labels), "worker=\"%s\",",
		    stats_label(r->name, l, sizeof(l)));
		stats_hist_series(b, "esocksd_worker_connect_seconds", labels,
		    &r->connect);
	}
	stats_metric_head(b, "esocksd_handshake_seconds", "histogram",
	    "SOCKS handshakes, from accept to the request read.");
	stats_hist_series(b, "esocksd_handshake_seconds", "",
	    &stats_totals()->handshake);
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
	stats_render_health(b);
	stats_render_common(b);
}

/* A worker's /metrics: its links, sessions, bytes, dials. */
void
stats_render_worker_metrics(struct buf *b)
{
	const struct stats_totals	*t = stats_totals();
	const struct {
		const char	*name, *type, *help;
		uint64_t	 value;
	} globals[] = {
		{ "esocksd_worker_links_up", "gauge",
		    "Links to servers registered now.", t->links_up },
		{ "esocksd_sessions_active", "gauge",
		    "Sessions (tunnels) open now.", t->tunnels_active },
		{ "esocksd_sessions_total", "counter",
		    "Sessions (tunnels) opened.", t->tunnels_total },
		{ "esocksd_bytes_up_total", "counter",
		    "Bytes from clients to destinations.", t->bytes_up },
		{ "esocksd_bytes_down_total", "counter",
		    "Bytes from destinations to clients.", t->bytes_down },
		{ "esocksd_link_reconnects_total", "counter",
		    "Link redials.", t->link_reconnects },
		{ "esocksd_link_errors_total", "counter",
		    "Links dropped for protocol errors or silence.",
		    t->link_errors },
	};
	size_t	i;
	int	f;

	for (i = 0; i < nitems(globals); i++) {
		stats_metric_head(b, globals[i].name, globals[i].type,
		    globals[i].help);
		stats_printf(b, "%s %llu\n", globals[i].name,
		    (unsigned long long)globals[i].value);
	}
	stats_metric_head(b, "esocksd_connect_failures_total", "counter",
	    "Destinations not reached, by reason.");
	for (f = SOCKS_FAIL_DENIED; f <= SOCKS_FAIL_FAILURE; f++)
		stats_printf(b, "esocksd_connect_failures_total{reason=\"%s\"} "
		    "%llu\n", socks_failure_name(f),
		    (unsigned long long)t->connect_failures[f]);
	stats_metric_head(b, "esocksd_dial_seconds", "histogram",
	    "Destination dials, connected or not, from the request.");
	stats_hist_series(b, "esocksd_dial_seconds", "", &t->dial);
	stats_render_common(b);
}

/* A worker's /status: one line of totals, or the same as JSON. */
void
stats_render_worker_status(struct buf *b, int json)
{
	const struct stats_totals	*t = stats_totals();

	if (json)
		stats_printf(b, "{\"version\":\"%s\",\"role\":\"worker\","
		    "\"links_up\":%llu,\"sessions\":%llu,"
		    "\"sessions_total\":%llu,\"bytes_up\":%llu,"
		    "\"bytes_down\":%llu}\n", PACKAGE_VERSION,
		    (unsigned long long)t->links_up,
		    (unsigned long long)t->tunnels_active,
		    (unsigned long long)t->tunnels_total,
		    (unsigned long long)t->bytes_up,
		    (unsigned long long)t->bytes_down);
	else
		stats_printf(b, "esocksd %s worker: %llu links up, %llu "
		    "sessions, %llu in total\n", PACKAGE_VERSION,
		    (unsigned long long)t->links_up,
		    (unsigned long long)t->tunnels_active,
		    (unsigned long long)t->tunnels_total);
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

/* Append s as a JSON string, quoted and escaped. */
static void
stats_json_string(struct buf *b, const char *s)
{
	buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			stats_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			stats_printf(b, "\\u%04x", (unsigned char)*s);
		else
			buf_add(b, s, 1);
	}
	buf_add(b, "\"", 1);
}

/* Write one worker's object of /status?format=json into arg. */
static void
stats_status_json_row(const struct pool_info *w, void *arg)
{
	struct buf	**bp = arg, *b = bp[0];
	char		  since[32], tags[TAGS_TEXT_MAX];
	time_t		  t = (time_t)w->up_since;
	struct tm	  tm;

	stats_printf(b, "%s{\"name\":", bp[1] != NULL ? "," : "");
	bp[1] = b;
	stats_json_string(b, w->name);
	buf_add(b, ",\"address\":", 11);
	stats_json_string(b, w->addr);
	if (w->up_since != 0 && gmtime_r(&t, &tm) != NULL) {
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
		stats_printf(b, ",\"up_since\":\"%s\"", since);
	} else
		buf_add(b, ",\"up_since\":null", 16);
	stats_printf(b, ",\"sessions\":%zu,\"sessions_total\":%llu,"
	    "\"bytes_sent\":%llu,\"bytes_received\":%llu,\"state\":\"%s\","
	    "\"legacy\":%s,\"latency_us\":%llu,\"ejections\":%llu,"
	    "\"tags\":", w->sessions, (unsigned long long)w->sessions_total,
	    (unsigned long long)w->bytes_sent,
	    (unsigned long long)w->bytes_received, w->state,
	    w->registered && !w->esp ? "true" : "false",
	    (unsigned long long)w->latency_us,
	    (unsigned long long)w->ejections);
	tags_format(w->tags, ',', tags, sizeof(tags));
	stats_json_string(b, strcmp(tags, "-") == 0 ? "" : tags);
	buf_add(b, "}", 1);
}

/* Render /status as JSON: the totals and an array of workers. */
void
stats_render_status_json(struct buf *b)
{
	struct buf	*bp[2] = { b, NULL };

	stats_printf(b, "{\"version\":\"%s\",\"role\":\"server\","
	    "\"workers_registered\":%zu,\"clients\":%llu,\"tunnels\":%llu,"
	    "\"workers\":[", PACKAGE_VERSION, pool_worker_count(),
	    (unsigned long long)stats_totals()->clients_active,
	    (unsigned long long)stats_totals()->tunnels_active);
	pool_foreach(stats_status_json_row, bp);
	buf_add(b, "]}\n", 3);
}
