/*
 * The config keys: one table row per key giving its kind, its field in
 * struct conf, its range and its documented default, and conf_set, which
 * checks a value against its key and stores it.  conf_load calls conf_set
 * for each file line, main for each -o, and conf_new fills a fresh
 * struct from the defaults here.  Nothing here logs: every error comes
 * back as a cause naming the key.  The parsers for each kind of value are
 * in conf-value.c.
 */
#include "config.h"

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "cidr.h"
#include "conf.h"
#include "conf-int.h"
#include "ev.h"
#include "tags.h"
#include "xmalloc.h"

#define CONF_COUNT_MAX		1000000	/* MAX_CLIENTS and friends */
#define CONF_TIME_MAX		(30ULL * 24 * 3600 * 1000) /* 30 days in ms */

enum conf_type {
	CONF_TIME,		/* uint64_t ms, from seconds */
	CONF_INT,		/* int */
	CONF_UINT,		/* unsigned int */
	CONF_BOOL,		/* int 0/1 */
	CONF_STRING,		/* char *, empty = NULL */
	CONF_NAME,		/* char *, a worker name, empty = NULL */
	CONF_LISTEN,		/* struct conf_listen_list */
	CONF_SERVERS,		/* struct conf_hostport array + count */
	CONF_CIDR,		/* struct cidr_list, no ports */
	CONF_CIDR_PORT,		/* struct cidr_list with ports */
	CONF_NO_WORKER,
	CONF_BALANCE,
	CONF_AUTH,
	CONF_FACILITY,
	CONF_POLLER,
	CONF_TAGS		/* struct tags, space-separated */
};

struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;		/* field in struct conf */
	size_t		 count_off;	/* CONF_SERVERS: its count field */
	uint64_t	 min;		/* numbers: inclusive range */
	uint64_t	 max;
	const char	*dflt;		/* as it would appear in a file */
};

#define F(f)	offsetof(struct conf, f)
static const struct conf_key conf_keys[] = {
	{ "SOCKS_LISTEN", CONF_LISTEN, F(listen[CONF_LISTEN_SOCKS]), 0, 0, 0,
	    "127.0.0.1:1080" },
	{ "WORKER_LISTEN", CONF_LISTEN, F(listen[CONF_LISTEN_WORKER]), 0, 0,
	    0, "127.0.0.1:8081" },
	{ "STATS_LISTEN", CONF_LISTEN, F(listen[CONF_LISTEN_STATS]), 0, 0, 0,
	    "" },
	{ "LISTEN_BACKLOG", CONF_INT, F(listen_backlog), 0, 1, 65535,
	    "1024" },
	{ "PROCESSES", CONF_UINT, F(processes), 0, 1, CONF_PROCESSES_MAX,
	    "1" },
	{ "NO_WORKER", CONF_NO_WORKER, F(no_worker), 0, 0, 0, "direct" },
	{ "WORKER_IDLE_CLOSE", CONF_TIME, F(worker_idle_close), 0, 1,
	    CONF_TIME_MAX, "60" },
	{ "WORKER_RESPONSE_TIMEOUT", CONF_TIME, F(worker_response_timeout),
	    0, 0, CONF_TIME_MAX, "3" },
	{ "BALANCE", CONF_BALANCE, F(balance), 0, 0, 0, "p2c" },
	{ "PROBE_TARGET", CONF_SERVERS, F(probe_target),
	    F(probe_target_count), 0, 0, "" },
	{ "PROBE_INTERVAL", CONF_TIME, F(probe_interval), 0, 100,
	    CONF_TIME_MAX, "30" },
	{ "EJECT_FAILURES", CONF_UINT, F(eject_failures), 0, 0,
	    CONF_COUNT_MAX, "5" },
	{ "EJECT_TIME", CONF_TIME, F(eject_time), 0, 1, CONF_TIME_MAX, "30" },
	{ "EJECT_TIME_MAX", CONF_TIME, F(eject_time_max), 0, 1, CONF_TIME_MAX,
	    "300" },
	{ "EJECT_MAX_PERCENT", CONF_UINT, F(eject_max_percent), 0, 0, 100,
	    "50" },
	{ "CLIENT_ALLOW", CONF_CIDR, F(client_allow), 0, 0, 0,
	    "127.0.0.0/8 ::1/128" },
	{ "AUTH", CONF_AUTH, F(auth), 0, 0, 0, "none" },
	{ "PASSWORD_FILE", CONF_STRING, F(password_file), 0, 0, 0, "" },
	{ "HANDSHAKE_TIMEOUT", CONF_TIME, F(handshake_timeout), 0, 1,
	    CONF_TIME_MAX, "10" },
	{ "MAX_CLIENTS", CONF_UINT, F(max_clients), 0, 0, CONF_COUNT_MAX,
	    "0" },
	{ "MAX_CLIENTS_PER_IP", CONF_UINT, F(max_clients_per_ip), 0, 0,
	    CONF_COUNT_MAX, "0" },
	{ "STATS_ALLOW", CONF_CIDR, F(stats_allow), 0, 0, 0,
	    "127.0.0.0/8 ::1/128" },
	{ "OPEN_PROXY", CONF_BOOL, F(open_proxy), 0, 0, 0, "no" },
	{ "HTTP_PROXY", CONF_BOOL, F(http_proxy), 0, 0, 0, "yes" },
	{ "WORKER_ALLOW", CONF_CIDR, F(worker_allow), 0, 0, 0,
	    "127.0.0.0/8 ::1/128" },
	{ "WORKER_PENDING_MAX", CONF_UINT, F(worker_pending_max), 0, 0,
	    CONF_COUNT_MAX, "256" },
	{ "WORKER_PENDING_PER_IP", CONF_UINT, F(worker_pending_per_ip), 0, 0,
	    CONF_COUNT_MAX, "16" },
	{ "SERVERS", CONF_SERVERS, F(servers), F(servers_count), 0, 0,
	    "127.0.0.1:8081" },
	{ "WORKER_NAME", CONF_NAME, F(worker_name), 0, 0, 0, "" },
	{ "WORKER_TAGS", CONF_TAGS, F(worker_tags), 0, 0, 0, "" },
	{ "STICKY_TTL", CONF_TIME, F(sticky_ttl), 0, 1, CONF_TIME_MAX,
	    "600" },
	{ "PING_INTERVAL", CONF_TIME, F(ping_interval), 0, 1, CONF_TIME_MAX,
	    "30" },
	{ "RECONNECT_INTERVAL", CONF_TIME, F(reconnect_interval), 0, 1,
	    CONF_TIME_MAX, "3" },
	{ "WORKER_MAX_SESSIONS", CONF_UINT, F(worker_max_sessions), 0, 0,
	    CONF_COUNT_MAX, "0" },
	{ "WORKER_WEIGHT", CONF_UINT, F(worker_weight), 0, 1, 1000, "1" },
	{ "WORKER_SECRET", CONF_STRING, F(worker_secret), 0, 0, 0, "" },
	{ "WORKER_SECRET_FILE", CONF_STRING, F(worker_secret_file), 0, 0, 0,
	    "" },
	{ "CONNECT_TIMEOUT", CONF_TIME, F(connect_timeout), 0, 1,
	    CONF_TIME_MAX, "10" },
	{ "IDLE_TIMEOUT", CONF_TIME, F(idle_timeout), 0, 0, CONF_TIME_MAX,
	    "0" },
	{ "BIND_TIMEOUT", CONF_TIME, F(bind_timeout), 0, 1, CONF_TIME_MAX,
	    "60" },
	{ "UDP_IDLE_TIMEOUT", CONF_TIME, F(udp_idle_timeout), 0, 0,
	    CONF_TIME_MAX, "120" },
	{ "UDP_MAX_TARGETS", CONF_UINT, F(udp_max_targets), 0, 0,
	    CONF_COUNT_MAX, "64" },
	{ "UDP_RATE", CONF_UINT, F(udp_rate), 0, 0, CONF_COUNT_MAX, "1000" },
	{ "DEST_ALLOW", CONF_CIDR_PORT, F(dest_allow), 0, 0, 0, "" },
	{ "DEST_DENY", CONF_CIDR_PORT, F(dest_deny), 0, 0, 0, "" },
	{ "POLLER", CONF_POLLER, F(poller), 0, 0, 0, "select" },
	{ "PIDFILE", CONF_STRING, F(pidfile), 0, 0, 0, "" },
	{ "USER", CONF_STRING, F(user), 0, 0, 0, "" },
	{ "GROUP", CONF_STRING, F(group), 0, 0, 0, "" },
	{ "SYSLOG_FACILITY", CONF_FACILITY, F(syslog_facility), 0, 0, 0,
	    "daemon" },
	{ "LOG_CONNECTION", CONF_BOOL, F(log_connection), 0, 0, 0, "yes" },
	{ "LOG_SESSION", CONF_BOOL, F(log_session), 0, 0, 0, "no" },
	{ "LOG_EVENT", CONF_BOOL, F(log_event), 0, 0, 0, "no" },
	{ "LOG_ERROR", CONF_BOOL, F(log_error), 0, 0, 0, "yes" },
	{ "LOG_ACCESS", CONF_BOOL, F(log_access), 0, 0, 0, "yes" },
};
#undef F

static const struct {
	const char	*name;
	int		 value;
} conf_facilities[] = {
	{ "daemon", LOG_DAEMON },
	{ "user", LOG_USER },
	{ "auth", LOG_AUTH },
#ifdef LOG_AUTHPRIV
	{ "authpriv", LOG_AUTHPRIV },
#endif
	{ "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

/* Look a key up in the table. */
static const struct conf_key *
conf_find_key(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(conf_keys); i++) {
		if (strcmp(conf_keys[i].name, name) == 0)
			return (&conf_keys[i]);
	}
	return (NULL);
}

/* Fail with "bad value for KEY: 'VALUE' (WANT)", VALUE clipped. */
static int
conf_bad_value(const struct conf_key *k, const char *value, const char *want,
    char **cause)
{
	xasprintf(cause, "bad value for %s: '%.*s%s' (%s)", k->name, CONF_CLIP,
	    value, strlen(value) > CONF_CLIP ? "..." : "", want);
	return (-1);
}

/* CONF_TIME: seconds with up to three decimals, stored in ms. */
static int
conf_set_time(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	uint64_t	n;

	switch (conf_parse_seconds(value, k->max, &n)) {
	case -1:
		return (conf_bad_value(k, value, "want seconds", cause));
	case -2:
		return (conf_bad_value(k, value, "want seconds, at most 3 "
		    "decimals", cause));
	case -3:
		return (conf_bad_value(k, value, "want seconds, at most "
		    "2592000 (30 days)", cause));
	}
	if (n < k->min)
		return (conf_bad_value(k, value, "want seconds, more than 0",
		    cause));
	*(uint64_t *)field = n;
	return (0);
}

/* CONF_INT and CONF_UINT: a decimal in the key's range. */
static int
conf_set_number(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	uint64_t	n;

	if (conf_parse_number(value, k->max, &n) != 0 || n < k->min) {
		xasprintf(cause, "bad value for %s: '%.*s' (want an integer "
		    "%llu..%llu)", k->name, CONF_CLIP, value,
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return (-1);
	}
	if (k->type == CONF_INT)
		*(int *)field = (int)n;
	else
		*(unsigned int *)field = (unsigned int)n;
	return (0);
}

/* CONF_BOOL: yes/no and friends, stored as 0 or 1. */
static int
conf_set_bool(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	int	b;

	if (conf_parse_bool(value, &b) != 0)
		return (conf_bad_value(k, value, "want yes or no", cause));
	*(int *)field = b;
	return (0);
}

/*
 * CONF_STRING and CONF_NAME (a worker name): empty is NULL.  The secret
 * is wiped as it goes, and set inline it is no longer from a file.
 */
static int
conf_set_string(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	if (k->type == CONF_NAME && *value != '\0' &&
	    !conf_valid_worker_name(value))
		return (conf_bad_value(k, value, "want 1..127 of A-Z a-z 0-9 "
		    ". _ : @ -, and not direct, other or none", cause));
	if (field == &conf->worker_secret) {
		conf_free_secret(conf->worker_secret);
		conf->worker_secret_from_file = 0;
	} else
		free(*(char **)field);
	*(char **)field = *value == '\0' ? NULL : xstrdup(value);
	return (0);
}

/* CONF_LISTEN: a list of numeric listen addresses. */
static int
conf_set_listen(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	struct conf_listen_list	*list = field;
	struct conf_listen	*addrs;
	size_t			 count;

	if (conf_parse_listen(k->name, value, &addrs, &count, cause) != 0)
		return (-1);
	conf_free_listen(list->addrs, list->count);
	list->addrs = addrs;
	list->count = count;
	return (0);
}

/* CONF_SERVERS: a host:port list to dial (SERVERS, PROBE_TARGET). */
static int
conf_set_servers(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	struct conf_hostport	*servers;
	size_t			 count, *countp;

	if (conf_parse_servers(k->name, value, &servers, &count, cause) != 0)
		return (-1);
	countp = (size_t *)((char *)conf + k->count_off);
	conf_free_hostports(*(struct conf_hostport **)field, *countp);
	*(struct conf_hostport **)field = servers;
	*countp = count;
	return (0);
}

/* CONF_CIDR and CONF_CIDR_PORT: address rules, with ports for the latter. */
static int
conf_set_cidr(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	struct cidr_list	 list;
	char			*why;

	if (cidr_list_parse(value, k->type == CONF_CIDR_PORT, &list,
	    &why) != 0) {
		xasprintf(cause, "%s: %s", k->name, why);
		free(why);
		return (-1);
	}
	cidr_list_free(field);
	*(struct cidr_list *)field = list;
	return (0);
}

/* CONF_NO_WORKER: direct or refuse. */
static int
conf_set_no_worker(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	if (strcasecmp(value, "direct") == 0)
		conf->no_worker = CONF_NO_WORKER_DIRECT;
	else if (strcasecmp(value, "refuse") == 0)
		conf->no_worker = CONF_NO_WORKER_REFUSE;
	else
		return (conf_bad_value(k, value, "want direct or refuse",
		    cause));
	return (0);
}

/* CONF_BALANCE: least or p2c. */
static int
conf_set_balance(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	if (strcasecmp(value, "least") == 0)
		conf->balance = CONF_BALANCE_LEAST;
	else if (strcasecmp(value, "p2c") == 0)
		conf->balance = CONF_BALANCE_P2C;
	else
		return (conf_bad_value(k, value, "want least or p2c", cause));
	return (0);
}

/* CONF_AUTH: none or password. */
static int
conf_set_auth(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	if (strcasecmp(value, "none") == 0)
		conf->auth = CONF_AUTH_NONE;
	else if (strcasecmp(value, "password") == 0)
		conf->auth = CONF_AUTH_PASSWORD;
	else
		return (conf_bad_value(k, value, "want none or password",
		    cause));
	return (0);
}

/* CONF_FACILITY: a syslog facility by name. */
static int
conf_set_facility(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	size_t	i;

	for (i = 0; i < nitems(conf_facilities); i++) {
		if (strcasecmp(value, conf_facilities[i].name) == 0) {
			conf->syslog_facility = conf_facilities[i].value;
			return (0);
		}
	}
	return (conf_bad_value(k, value, "want daemon, user, auth, authpriv "
	    "or local0..local7", cause));
}

/*
 * CONF_POLLER: a reactor backend this build has (ev.h), stored as the
 * reactor's own name for it.
 */
static int
conf_set_poller(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	char		*want = NULL, *tmp;
	const char	*name, *sep;
	size_t		 i;
	int		 rc;

	for (i = 0; (name = ev_poller_name(i)) != NULL; i++) {
		if (strcasecmp(value, name) == 0) {
			conf->poller = name;
			free(want);
			return (0);
		}
		sep = i == 0 ? "" : ev_poller_name(i + 1) == NULL ? " or " :
		    ", ";
		tmp = want;
		xasprintf(&want, "%s%s%s", tmp != NULL ? tmp : "", sep, name);
		free(tmp);
	}
	tmp = want;
	xasprintf(&want, "want %s: this build has no other", tmp);
	free(tmp);
	rc = conf_bad_value(k, value, want, cause);
	free(want);
	return (rc);
}

/* CONF_TAGS: worker tags, 1..32 of a-z 0-9 _ . each, at most 16. */
static int
conf_set_tags(struct conf *conf, const struct conf_key *k, void *field,
    const char *value, char **cause)
{
	struct tags	 t;
	char		*why = NULL;

	if (tags_parse(&t, value, ' ', &why) != 0) {
		xasprintf(cause, "bad value for %s: %s", k->name, why);
		free(why);
		return (-1);
	}
	*(struct tags *)field = t;
	return (0);
}

/* The parser and store for each kind of value, by enum conf_type. */
static int (*const conf_setters[])(struct conf *, const struct conf_key *,
    void *, const char *, char **) = {
	[CONF_TIME] = conf_set_time,
	[CONF_INT] = conf_set_number,
	[CONF_UINT] = conf_set_number,
	[CONF_BOOL] = conf_set_bool,
	[CONF_STRING] = conf_set_string,
	[CONF_NAME] = conf_set_string,
	[CONF_LISTEN] = conf_set_listen,
	[CONF_SERVERS] = conf_set_servers,
	[CONF_CIDR] = conf_set_cidr,
	[CONF_CIDR_PORT] = conf_set_cidr,
	[CONF_NO_WORKER] = conf_set_no_worker,
	[CONF_BALANCE] = conf_set_balance,
	[CONF_AUTH] = conf_set_auth,
	[CONF_FACILITY] = conf_set_facility,
	[CONF_POLLER] = conf_set_poller,
	[CONF_TAGS] = conf_set_tags,
};

/*
 * Validate and store one key, replacing any earlier value.  Used for
 * file lines and -o overrides alike.  Returns 0, or -1 with a cause
 * naming the key.
 */
int
conf_set(struct conf *conf, const char *key, const char *value,
    char **cause)
{
	const struct conf_key	*k;
	const char		*p;

	if ((k = conf_find_key(key)) == NULL) {
		xasprintf(cause, "unknown key %.*s", CONF_CLIP, key);
		return (-1);
	}
	for (p = value; *p != '\0'; p++) {
		if (conf_iscontrol((unsigned char)*p)) {
			xasprintf(cause, "bad value for %s: control character",
			    k->name);
			return (-1);
		}
	}
	if (conf_setters[k->type](conf, k, (char *)conf + k->off, value,
	    cause) != 0)
		return (-1);
	/* The caller says where the new value came from, if it knows. */
	if (conf->where != NULL) {
		free(conf->where[k - conf_keys]);
		conf->where[k - conf_keys] = NULL;
	}
	return (0);
}

/*
 * Note where key got its value ("path:line", "-o KEY"), so that errors
 * found later, once all keys are in, can point there.
 */
void
conf_set_where(struct conf *conf, const char *key, const char *where)
{
	const struct conf_key	*k;
	size_t			 i;

	if ((k = conf_find_key(key)) == NULL)
		return;
	if (conf->where == NULL)
		conf->where = xcalloc(nitems(conf_keys), sizeof(*conf->where));
	i = k - conf_keys;
	free(conf->where[i]);
	conf->where[i] = xstrdup(where);
}

/* Where key got its value, or NULL for the default. */
const char *
conf_where(const struct conf *conf, const char *key)
{
	const struct conf_key	*k;

	if (conf->where == NULL || (k = conf_find_key(key)) == NULL)
		return (NULL);
	return (conf->where[k - conf_keys]);
}

/* Free what conf_set_where recorded. */
void
conf_free_where(struct conf *conf)
{
	size_t	i;

	if (conf->where == NULL)
		return;
	for (i = 0; i < nitems(conf_keys); i++)
		free(conf->where[i]);
	free(conf->where);
	conf->where = NULL;
}

/* The key that sets the listen addresses of kind, e.g. SOCKS_LISTEN. */
const char *
conf_listen_key(enum conf_listen_kind kind)
{
	switch (kind) {
	case CONF_LISTEN_SOCKS:
		return ("SOCKS_LISTEN");
	case CONF_LISTEN_WORKER:
		return ("WORKER_LISTEN");
	case CONF_LISTEN_STATS:
		return ("STATS_LISTEN");
	}
	return ("unknown");
}

/*
 * Set every key to its documented default, as conf_new does for a fresh
 * struct.  Returns 0, or -1 with a cause naming the key.
 */
int
conf_set_defaults(struct conf *conf, char **cause)
{
	size_t	i;

	for (i = 0; i < nitems(conf_keys); i++) {
		if (conf_set(conf, conf_keys[i].name, conf_keys[i].dflt,
		    cause) != 0)
			return (-1);
	}
	return (0);
}
