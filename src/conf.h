/*
 * The daemon's configuration: shell-style KEY=value files (DESIGN.md,
 * "Contract: config files"), parsed into a struct conf.  Parsing never
 * logs: errors come back as a cause naming file:line or the -o option.
 * A reload parses into a fresh struct and swaps it in only when valid.
 */
#ifndef CONF_H
#define CONF_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stdint.h>

#include "cidr.h"
#include "compat.h"
#include "tags.h"

/* The longest worker name, in WORKER_NAME and in a worker's RGST. */
#define CONF_WORKER_NAME_MAX	127

enum conf_role {
	CONF_ROLE_SERVER,
	CONF_ROLE_WORKER
};

enum conf_no_worker {
	CONF_NO_WORKER_DIRECT,
	CONF_NO_WORKER_REFUSE
};

enum conf_balance {
	CONF_BALANCE_LEAST,	/* fewest sessions, ties round-robin */
	CONF_BALANCE_P2C	/* power of two choices on load x latency */
};

enum conf_auth {
	CONF_AUTH_NONE,
	CONF_AUTH_PASSWORD
};

/* The most processes PROCESSES may ask for. */
#define CONF_PROCESSES_MAX	64

/* What a server listens for: one *_LISTEN key each. */
enum conf_listen_kind {
	CONF_LISTEN_SOCKS,		/* SOCKS_LISTEN: clients */
	CONF_LISTEN_WORKER,		/* WORKER_LISTEN: worker links */
	CONF_LISTEN_STATS		/* STATS_LISTEN: /metrics, /status */
};
#define CONF_LISTEN_KINDS	3

/* One numeric listen address, e.g. 127.0.0.1:1080 or [::]:1080. */
struct conf_listen {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			*text;		/* as written in the config */
};

/* The addresses of one *_LISTEN key. */
struct conf_listen_list {
	struct conf_listen	*addrs;
	size_t			 count;
};

/* One host:port to dial (SERVERS); the host may be a name. */
struct conf_hostport {
	char	*host;
	char	*port;
	char	*text;
};

struct conf {
	char			*path;		/* file it came from, or NULL */
	char			**where;	/* by key: "path:line", "-o KEY" */

	struct conf_listen_list	 listen[CONF_LISTEN_KINDS]; /* by kind */
	int			 listen_backlog;
	unsigned int		 processes;	/* PROCESSES, at start only */
	enum conf_no_worker	 no_worker;
	uint64_t		 worker_idle_close;	/* ms */
	uint64_t		 worker_response_timeout; /* ms, 0 = off */
	unsigned int		 eject_failures;	/* 0 = never eject */
	uint64_t		 eject_time;		/* ms */
	uint64_t		 eject_time_max;	/* ms */
	unsigned int		 eject_max_percent;
	enum conf_balance	 balance;
	struct conf_hostport	*probe_target;		/* at most one */
	size_t			 probe_target_count;
	uint64_t		 probe_interval;	/* ms */
	struct cidr_list	 client_allow;
	struct cidr_list	 stats_allow;
	struct cidr_list	 worker_allow;
	enum conf_auth		 auth;
	char			*password_file;
	int			 password_file_insecure; /* by conf_verify */
	gid_t			 run_gid;	/* by conf_verify; -1: no drop */
	uint64_t		 handshake_timeout;	/* ms */
	unsigned int		 max_clients;		/* 0 = no cap */
	unsigned int		 max_clients_per_ip;
	unsigned int		 worker_pending_max;	/* 0 = no cap */
	unsigned int		 worker_pending_per_ip;	/* 0 = no cap */
	int			 open_proxy;
	int			 http_proxy;	/* HTTP on the SOCKS port */

	struct conf_hostport	*servers;
	size_t			 servers_count;
	char			*worker_name;
	struct tags		 worker_tags;	/* WORKER_TAGS */
	uint64_t		 sticky_ttl;		/* ms, STICKY_TTL */
	uint64_t		 ping_interval;		/* ms */
	uint64_t		 reconnect_interval;	/* ms */
	unsigned int		 worker_max_sessions;
	unsigned int		 worker_weight;		/* 1 = not sent */

	char			*worker_secret;
	char			*worker_secret_file;
	int			 worker_secret_from_file; /* by conf_finish */
	mode_t			 secret_file_mode;	/* by conf_finish */
	gid_t			 secret_file_gid;
	int			 secret_file_insecure;	/* by conf_verify */

	uint64_t		 connect_timeout;	/* ms */
	uint64_t		 idle_timeout;		/* ms, 0 = none */
	uint64_t		 bind_timeout;		/* ms */
	uint64_t		 udp_idle_timeout;	/* ms, 0 = none */
	unsigned int		 udp_max_targets;	/* 0 = no cap */
	unsigned int		 udp_rate;		/* per s, 0 = no cap */
	struct cidr_list	 dest_allow;
	struct cidr_list	 dest_deny;

	const char		*poller;	/* ev_poller_name's, static */
	char			*pidfile;
	char			*user;
	char			*group;
	int			 syslog_facility;	/* LOG_DAEMON, ... */
	int			 log_connection;
	int			 log_session;
	int			 log_event;
	int			 log_error;
	int			 log_access;
};

struct conf	*conf_new(void);
void		 conf_free(struct conf *);
int		 conf_parse_line(const char *, char **key, char **value,
		    char **cause);
int		 conf_set(struct conf *, const char *key, const char *value,
		    char **cause);
void		 conf_set_where(struct conf *, const char *key,
		    const char *where);
const char	*conf_where(const struct conf *, const char *key);
int		 conf_fail_at(const struct conf *, const char *key,
		    char **cause, const char *, ...) PRINTFLIKE(4, 5);
struct conf	*conf_load(const char *path, char **cause);
int		 conf_absolute_paths(struct conf *, const char *dir,
		    char **cause);
int		 conf_finish(struct conf *, enum conf_role, char **cause);
int		 conf_verify(struct conf *, enum conf_role, char **cause);
void		 conf_warnings(const struct conf *, enum conf_role,
		    void (*)(const char *, void *), void *);
void		 conf_placeholders(const struct conf *, enum conf_role,
		    void (*)(const char *, void *), void *);
const char	*conf_role_name(enum conf_role);
const char	*conf_listen_key(enum conf_listen_kind);
int		 conf_listen_equal(const struct conf_listen *,
		    const struct conf_listen *);
int		 conf_valid_worker_name(const char *);
int		 conf_listen_shift(struct conf *, unsigned int);

#endif
