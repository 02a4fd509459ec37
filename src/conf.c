/*
 * The config file: shell-style KEY=value lines (DESIGN.md, "Contract:
 * config files") parsed into a struct conf.  main calls conf_load for the
 * file, conf_set for each -o, then conf_finish for the role; a reload does
 * the same into a fresh struct.  Nothing here logs: every error comes
 * back as a cause naming the key, and conf_load adds file:line.
 *
 * This file holds the file side: loading, the secret file and the role
 * checks, listen clashes among them.  It sits on top of the others (see
 * conf-int.h): the line syntax is in conf-lex.c, the parsers for each
 * kind of value in conf-value.c, the key table and conf_set in
 * conf-keys.c.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "conf.h"
#include "conf-int.h"
#include "log.h"
#include "install-paths.h"
#include "sha256.h"
#include "xmalloc.h"

#define CONF_LINE_MAX		8192	/* bytes in one config line */
#define CONF_SECRET_MAX		4096	/* bytes in the secret file's line */

/*
 * Fail with a cause that starts where key was set ("path:line: " or
 * "-o KEY: "), so that an error found once every key is in still points
 * at the line to fix.  Returns -1.
 */
int
conf_fail_at(const struct conf *conf, const char *key, char **cause,
    const char *fmt, ...)
{
	const char	*where = conf_where(conf, key);
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	if (where == NULL)
		*cause = msg;
	else {
		xasprintf(cause, "%s: %s", where, msg);
		free(msg);
	}
	return (-1);
}

/* A configuration holding the documented defaults. */
struct conf *
conf_new(void)
{
	struct conf	*conf;
	char		*cause;

	conf = xcalloc(1, sizeof(*conf));
	/* A bad built-in default is a bug, not a user error. */
	if (conf_set_defaults(conf, &cause) != 0)
		fatalx("conf_new: %s", cause);
	return (conf);
}

/* Free a configuration and everything it holds. */
void
conf_free(struct conf *conf)
{
	enum conf_listen_kind	kind;

	if (conf == NULL)
		return;
	free(conf->path);
	conf_free_where(conf);
	for (kind = 0; kind < CONF_LISTEN_KINDS; kind++)
		conf_free_listen(conf->listen[kind].addrs,
		    conf->listen[kind].count);
	cidr_list_free(&conf->client_allow);
	cidr_list_free(&conf->stats_allow);
	cidr_list_free(&conf->worker_allow);
	free(conf->password_file);
	conf_free_hostports(conf->servers, conf->servers_count);
	conf_free_hostports(conf->probe_target, conf->probe_target_count);
	free(conf->worker_name);
	conf_free_secret(conf->worker_secret);
	free(conf->worker_secret_file);
	cidr_list_free(&conf->dest_allow);
	cidr_list_free(&conf->dest_deny);
	free(conf->pidfile);
	free(conf->user);
	free(conf->group);
	free(conf);
}

/*
 * Read a config file over the defaults.  Returns the configuration, or
 * NULL with a cause "PATH:LINE: message" (or "PATH: error" when the file
 * cannot be read).
 */
struct conf *
conf_load(const char *path, char **cause)
{
	struct conf	*conf;
	FILE		*f;
	char		*line = NULL, *key, *value, *why, *where;
	size_t		 size = 0;
	ssize_t		 len;
	unsigned long	 lineno = 0;
	int		 rc;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	conf = conf_new();
	conf->path = xstrdup(path);
	while ((len = getline(&line, &size, f)) != -1) {
		lineno++;
		if (len > CONF_LINE_MAX + 1 || (len == CONF_LINE_MAX + 1 &&
		    line[len - 1] != '\n')) {
			xasprintf(cause, "%s:%lu: line longer than %d bytes",
			    path, lineno, CONF_LINE_MAX);
			goto fail;
		}
		if (strlen(line) != (size_t)len) {
			xasprintf(cause, "%s:%lu: NUL byte in line", path,
			    lineno);
			goto fail;
		}
		rc = conf_parse_line(line, &key, &value, &why);
		if (rc == 1) {
			rc = conf_set(conf, key, value, &why);
			if (rc == 0) {
				xasprintf(&where, "%s:%lu", path, lineno);
				conf_set_where(conf, key, where);
				free(where);
			}
			free(key);
			conf_free_secret(value);
		}
		if (rc == -1) {
			xasprintf(cause, "%s:%lu: %s", path, lineno, why);
			free(why);
			goto fail;
		}
	}
	if (ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (line != NULL)
		sha256_explicit_bzero(line, size);
	free(line);
	fclose(f);
	return (conf);

fail:
	if (line != NULL)
		sha256_explicit_bzero(line, size);
	free(line);
	fclose(f);
	conf_free(conf);
	return (NULL);
}

/*
 * Read the first line of WORKER_SECRET_FILE into worker_secret and note
 * the file's mode and group for conf_verify.  The file is read to its
 * end (or as far as a secret can reach), so that a FIFO's writer has
 * closed before the next read of the file opens it again.  The stack
 * copy is wiped on every way out.
 */
static int
conf_read_secret_file(struct conf *conf, char **cause)
{
	const char	*key = "WORKER_SECRET_FILE";
	const char	*path = conf->worker_secret_file;
	char		 buf[CONF_SECRET_MAX + 2], *nl;
	struct stat	 st;
	size_t		 have = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NOCTTY)) == -1)
		return (conf_fail_at(conf, key, cause, "%s: %s: %s", key, path,
		    strerror(errno)));
	if (fstat(fd, &st) == -1) {
		close(fd);
		return (conf_fail_at(conf, key, cause, "%s: %s: %s", key, path,
		    strerror(errno)));
	}
	while (have < sizeof(buf) - 1) {
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			conf_fail_at(conf, key, cause, "%s: %s: %s", key, path,
			    strerror(errno));
			close(fd);
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);

	/* A newline lies within the CONF_SECRET_MAX + 1 bytes read. */
	if ((nl = memchr(buf, '\n', have)) != NULL)
		have = nl - buf;
	else if (have > CONF_SECRET_MAX) {
		conf_fail_at(conf, key, cause, "%s: %s: first line longer "
		    "than %d bytes", key, path, CONF_SECRET_MAX);
		goto out;
	}
	if (have > 0 && buf[have - 1] == '\r')
		have--;
	if (have == 0) {
		conf_fail_at(conf, key, cause, "%s: %s: empty secret", key,
		    path);
		goto out;
	}
	if (memchr(buf, '\0', have) != NULL) {
		conf_fail_at(conf, key, cause, "%s: %s: NUL byte in secret",
		    key, path);
		goto out;
	}
	conf_free_secret(conf->worker_secret);
	conf->worker_secret = xstrndup(buf, have);
	conf->worker_secret_from_file = 1;
	conf->secret_file_mode = st.st_mode;
	conf->secret_file_gid = st.st_gid;
	rc = 0;
out:
	sha256_explicit_bzero(buf, sizeof(buf));
	return (rc);
}

/* A listen address and the kind whose key set it. */
struct conf_listen_ref {
	enum conf_listen_kind		 kind;
	const struct conf_listen	*addr;
};

/*
 * Name one side of a listen clash: "KEY ADDR", after where KEY was set
 * when it was set somewhere and located says to.
 */
static char *
conf_clash_side(const struct conf *conf, const struct conf_listen_ref *r,
    int located)
{
	const char	*key = conf_listen_key(r->kind);
	const char	*where = located ? conf_where(conf, key) : NULL;
	char		*s;

	if (where != NULL)
		xasprintf(&s, "%s: %s %s", where, key, r->addr->text);
	else
		xasprintf(&s, "%s %s", key, r->addr->text);
	return (s);
}

/*
 * The cause for a clash of a and b, a the earlier: the line of each key,
 * the one set in the file first, and the line only once for two
 * addresses of one key.  Returns -1.
 */
static int
conf_clash_fail(const struct conf *conf, const struct conf_listen_ref *a,
    const struct conf_listen_ref *b, char **cause)
{
	char	*sa, *sb;

	sa = conf_clash_side(conf, a, 1);
	sb = conf_clash_side(conf, b, b->kind != a->kind);
	if (conf_where(conf, conf_listen_key(a->kind)) == NULL &&
	    conf_where(conf, conf_listen_key(b->kind)) != NULL)
		xasprintf(cause, "%s and %s cannot both be bound", sb, sa);
	else
		xasprintf(cause, "%s and %s cannot both be bound", sa, sb);
	free(sa);
	free(sb);
	return (-1);
}

/*
 * Check that no two server listen addresses clash, comparing each with
 * every later one of all kinds, and with PROCESSES above 1 every
 * process's own worker and stats ports too (conf_listen_shift).
 * Returns 0, or -1 with a cause from conf_clash_fail.
 */
static int
conf_check_listen_clash(struct conf *conf, char **cause)
{
	struct conf_listen_ref	*all;
	struct conf_listen	*moved;
	enum conf_listen_kind	 kind;
	size_t			 n = 0, i, j;
	unsigned int		 p, procs = conf->processes;
	int			 rc = 0;

	if (procs < 1)
		procs = 1;
	for (kind = 0; kind < CONF_LISTEN_KINDS; kind++)
		n += conf->listen[kind].count * procs;
	all = xcalloc(n + 1, sizeof(*all));
	moved = xcalloc(n + 1, sizeof(*moved));
	n = 0;
	for (p = 0; p < procs; p++) {
		for (kind = 0; kind < CONF_LISTEN_KINDS; kind++) {
			if (p > 0 && kind == CONF_LISTEN_SOCKS)
				continue;	/* shared by every process */
			for (i = 0; i < conf->listen[kind].count; i++) {
				moved[n] = conf->listen[kind].addrs[i];
				moved[n].text = NULL;
				if (conf_listen_port(&moved[n]) + p > 65535) {
					rc = conf_fail_at(conf, "PROCESSES",
					    cause, "PROCESSES=%u moves %s %s "
					    "past port 65535", procs,
					    conf_listen_key(kind),
					    conf->listen[kind].addrs[i].text);
					goto out;
				}
				moved[n].text = xstrdup(
				    conf->listen[kind].addrs[i].text);
				(void)conf_listen_move(&moved[n], p);
				all[n].kind = kind;
				all[n].addr = &moved[n];
				n++;
			}
		}
	}
	for (i = 0; i < n && rc == 0; i++) {
		for (j = i + 1; j < n && rc == 0; j++) {
			if (conf_listen_clash(all[i].addr, all[j].addr))
				rc = conf_clash_fail(conf, &all[i], &all[j],
				    cause);
		}
	}
out:
	for (i = 0; i < n; i++)
		free(moved[i].text);
	free(moved);
	free(all);
	return (rc);
}

/*
 * Role-specific checks and defaults, run once all overrides are in:
 * PIDFILE, WORKER_NAME, the secret file, listen clashes, AUTH and the
 * open-proxy rule.  Returns 0, or -1 with a cause naming the key.
 */
int
conf_finish(struct conf *conf, enum conf_role role, char **cause)
{
	char	host[256];	/* HOST_NAME_MAX is at most 255 */
	size_t	i;

	if (conf->pidfile == NULL)
		xasprintf(&conf->pidfile, "%s/esocksd-%s.pid", RUNSTATEDIR,
		    conf_role_name(role));

	if (conf->worker_name == NULL) {
		memset(host, 0, sizeof(host));
		if (gethostname(host, sizeof(host) - 1) == -1) {
			xasprintf(cause, "WORKER_NAME: gethostname: %s",
			    strerror(errno));
			return (-1);
		}
		if (!conf_valid_worker_name(host)) {
			xasprintf(cause, "WORKER_NAME: host name '%.*s' is not "
			    "a valid worker name; set WORKER_NAME", CONF_CLIP,
			    host);
			return (-1);
		}
		conf->worker_name = xstrdup(host);
	}

	if (conf->worker_secret_file != NULL) {
		if (conf->worker_secret != NULL &&
		    !conf->worker_secret_from_file)
			return (conf_fail_at(conf, "WORKER_SECRET_FILE", cause,
			    "WORKER_SECRET and WORKER_SECRET_FILE are both "
			    "set; use one"));
		if (conf_read_secret_file(conf, cause) != 0)
			return (-1);
	} else if (conf->worker_secret_from_file) {
		/* The file was unset by an override after an earlier finish. */
		conf_free_secret(conf->worker_secret);
		conf->worker_secret = NULL;
		conf->worker_secret_from_file = 0;
	}

	if (role == CONF_ROLE_WORKER) {
		if (conf->servers_count == 0)
			return (conf_fail_at(conf, "SERVERS", cause, "SERVERS "
			    "is empty: a worker needs a server to dial"));
		return (0);
	}

#if !defined(SO_REUSEPORT) && !defined(SO_REUSEPORT_LB)
	if (conf->processes > 1)
		return (conf_fail_at(conf, "PROCESSES", cause, "PROCESSES=%u: "
		    "this system has no SO_REUSEPORT for processes to share "
		    "SOCKS_LISTEN", conf->processes));
#endif
	if (conf->probe_target_count > 1)
		return (conf_fail_at(conf, "PROBE_TARGET", cause,
		    "PROBE_TARGET is one HOST:PORT"));
	if (conf->listen[CONF_LISTEN_SOCKS].count == 0)
		return (conf_fail_at(conf, "SOCKS_LISTEN", cause,
		    "SOCKS_LISTEN is empty: a server needs an address for "
		    "clients"));
	if (conf_check_listen_clash(conf, cause) != 0)
		return (-1);
	if (conf->auth == CONF_AUTH_PASSWORD && conf->password_file == NULL)
		return (conf_fail_at(conf, "AUTH", cause, "AUTH=password needs "
		    "PASSWORD_FILE"));
	if (conf->auth == CONF_AUTH_NONE && !conf->open_proxy) {
		for (i = 0; i < conf->client_allow.count; i++) {
			if (cidr_is_private(&conf->client_allow.rules[i]))
				continue;
			return (conf_fail_at(conf, "CLIENT_ALLOW", cause,
			    "CLIENT_ALLOW admits addresses beyond private "
			    "networks with AUTH=none; set OPEN_PROXY=yes if "
			    "you mean it"));
		}
	}
	return (0);
}

/*
 * Make PIDFILE, PASSWORD_FILE and WORKER_SECRET_FILE absolute against dir,
 * the working directory at start (NULL when unknown), so that a relative
 * path names the same file after the daemon's chdir("/") and on every
 * reload.  Returns 0, or -1 with a cause naming the key.
 */
int
conf_absolute_paths(struct conf *conf, const char *dir, char **cause)
{
	struct {
		const char	 *key;
		char		**path;
	} paths[] = {
		{ "PIDFILE", &conf->pidfile },
		{ "PASSWORD_FILE", &conf->password_file },
		{ "WORKER_SECRET_FILE", &conf->worker_secret_file },
	};
	char	*abs;
	size_t	 i;

	for (i = 0; i < nitems(paths); i++) {
		if (*paths[i].path == NULL || **paths[i].path == '/')
			continue;
		if (dir == NULL || *dir != '/')
			return (conf_fail_at(conf, paths[i].key, cause,
			    "%s: relative path %s and the working directory "
			    "is unknown", paths[i].key, *paths[i].path));
		xasprintf(&abs, "%s%s%s", dir,
		    dir[strlen(dir) - 1] == '/' ? "" : "/", *paths[i].path);
		free(*paths[i].path);
		*paths[i].path = abs;
	}
	return (0);
}

/* The role's name as on the command line. */
const char *
conf_role_name(enum conf_role role)
{
	switch (role) {
	case CONF_ROLE_SERVER:
		return ("server");
	case CONF_ROLE_WORKER:
		return ("worker");
	}
	return ("unknown");
}
