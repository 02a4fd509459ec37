/*
 * The config file: shell-style KEY=value lines (DESIGN.md, "Contract:
 * config files") parsed into a struct conf.  main calls conf_load for the
 * file, conf_set for each -o, then conf_finish for the role; a reload does
 * the same into a fresh struct.  Nothing here logs: every error comes
 * back as a cause naming the key, and conf_load adds file:line.
 *
 * The syntax is the subset of sh that means the same to the shell and to
 * us, so an init script can source the file: no expansion, no escapes
 * outside double quotes, one value per line.
 *
 * This file holds the file side: the line syntax, loading, the role
 * checks and listen address comparison.  The key table and conf_set are
 * in conf-keys.c, the parsers for each kind of value in conf-value.c.
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

/* Wipe a string that may hold a secret, then free it; NULL is fine. */
void
conf_free_secret(char *s)
{
	if (s == NULL)
		return;
	sha256_explicit_bzero(s, strlen(s));
	free(s);
}

/* Whether c is a blank between words: space or tab. */
static int
conf_isblank(int c)
{
	return (c == ' ' || c == '\t');
}

/* Whether c is a control character (TAB is allowed as a blank). */
int
conf_iscontrol(int c)
{
	return ((c >= 0 && c < 0x20 && c != '\t') || c == 0x7f);
}

/* Whether the rest of a line after a value is blank or a comment. */
static int
conf_rest_empty(const char *p)
{
	if (*p == '\0')
		return (1);
	if (!conf_isblank(*p))
		return (0);
	while (conf_isblank(*p))
		p++;
	return (*p == '\0' || *p == '#');
}

/* The cause for a '$' or '`' in a value. */
static int
conf_no_expansion(int c, char **cause)
{
	xasprintf(cause, "'%c' in a value: no expansion, the daemon never "
	    "runs a shell", c);
	return (-1);
}

/*
 * Take "KEY=" off the front of p, KEY being A-Z, 0-9 and _ and not
 * starting with a digit.  Returns what follows the '=' with *key
 * allocated, or NULL with a cause.
 */
static const char *
conf_parse_key(const char *p, char **key, char **cause)
{
	const char	*start = p, *keyend;

	if (*p == '_' || (*p >= 'A' && *p <= 'Z')) {
		while (*p == '_' || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9'))
			p++;
		if (*p == '=') {
			*key = xstrndup(start, p - start);
			return (p + 1);
		}
		if (*p == '\0' || conf_isblank(*p)) {
			keyend = p;
			while (conf_isblank(*p))
				p++;
			if (*p == '=')
				xasprintf(cause, "no blanks allowed before "
				    "'='");
			else
				xasprintf(cause, "want KEY=value, no '=' after "
				    "%.*s", (int)(keyend - start > CONF_CLIP ?
				    CONF_CLIP : keyend - start), start);
			return (NULL);
		}
	}
	for (p = start; *p != '\0' && *p != '=' && !conf_isblank(*p); p++)
		/* nothing */;
	xasprintf(cause, "want KEY=value with KEY of A-Z 0-9 _, not '%.*s'",
	    (int)(p - start > CONF_CLIP ? CONF_CLIP : p - start), start);
	return (NULL);
}

/*
 * End a quoted value: p is where its scan stopped, on the closing quote
 * or on the end of the line; after the quote only blanks or a comment.
 */
static int
conf_value_closed(const char *p, char quote, char **cause)
{
	if (*p == '\0') {
		xasprintf(cause, "unterminated %c quote", quote);
		return (-1);
	}
	if (!conf_rest_empty(p + 1)) {
		xasprintf(cause, "text after closing quote");
		return (-1);
	}
	return (0);
}

/*
 * A '...' value, p just past the opening quote: everything up to the
 * closing quote, taken as it is, as in sh.  Writes it to out.
 */
static int
conf_value_single(const char *p, char *out, char **cause)
{
	for (; *p != '\'' && *p != '\0'; p++)
		*out++ = *p;
	*out = '\0';
	return (conf_value_closed(p, '\'', cause));
}

/*
 * A "..." value, p just past the opening quote: a backslash escapes
 * only " \ $ and `, as in sh, and since we never expand, an unescaped $
 * or ` is an error.  Writes the value to out.
 */
static int
conf_value_double(const char *p, char *out, char **cause)
{
	for (; *p != '"' && *p != '\0'; p++) {
		if (*p == '$' || *p == '`')
			return (conf_no_expansion(*p, cause));
		if (*p == '\\' && p[1] != '\0' &&
		    strchr("\"\\$`", p[1]) != NULL)
			p++;
		*out++ = *p;
	}
	*out = '\0';
	return (conf_value_closed(p, '"', cause));
}

/*
 * A bare value: one word without the characters the shell would read
 * differently.  "KEY=" then blanks or a comment is empty, as in sh.
 * Writes the value to out.
 */
static int
conf_value_bare(const char *p, char *out, char **cause)
{
	*out = '\0';
	if (conf_isblank(*p)) {
		if (conf_rest_empty(p))
			return (0);
		xasprintf(cause, "no blanks allowed after '=' (quote the "
		    "value)");
		return (-1);
	}
	for (; *p != '\0' && !conf_isblank(*p); p++) {
		if (*p == '$' || *p == '`')
			return (conf_no_expansion(*p, cause));
		if (strchr("'\"\\;&|<>()~", *p) != NULL) {
			xasprintf(cause, "'%c' in an unquoted value (quote the "
			    "value)", *p);
			return (-1);
		}
		*out++ = *p;
	}
	*out = '\0';
	if (!conf_rest_empty(p)) {
		xasprintf(cause, "blank in an unquoted value (quote the "
		    "value)");
		return (-1);
	}
	return (0);
}

/*
 * Parse one line.  Returns 0 for a blank or comment line, 1 with key and
 * value allocated for KEY=value, or -1 with a cause.  A trailing newline
 * is ignored.  The copies may hold WORKER_SECRET: they are wiped.
 */
int
conf_parse_line(const char *line, char **key, char **value, char **cause)
{
	const char	*p;
	char		*v;
	size_t		 len;
	int		 rc;

	*key = *value = NULL;
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	for (p = line; p < line + len; p++) {
		if (conf_iscontrol((unsigned char)*p)) {
			xasprintf(cause, *p == '\r' ? "carriage return in line "
			    "(DOS line ending?)" : "control character in line");
			return (-1);
		}
	}
	v = xstrndup(line, len);

	p = v;
	while (conf_isblank(*p))
		p++;
	if (*p == '\0' || *p == '#') {
		conf_free_secret(v);
		return (0);
	}
	if (strncmp(p, "export", 6) == 0 && conf_isblank(p[6])) {
		p += 6;
		while (conf_isblank(*p))
			p++;
	}
	if ((p = conf_parse_key(p, key, cause)) == NULL) {
		conf_free_secret(v);
		return (-1);
	}

	*value = xcalloc(1, strlen(p) + 1);
	if (*p == '\'')
		rc = conf_value_single(p + 1, *value, cause);
	else if (*p == '"')
		rc = conf_value_double(p + 1, *value, cause);
	else
		rc = conf_value_bare(p, *value, cause);
	conf_free_secret(v);
	if (rc == -1) {
		free(*key);
		conf_free_secret(*value);
		*key = *value = NULL;
		return (-1);
	}
	return (1);
}

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
	if (conf == NULL)
		return;
	free(conf->path);
	conf_free_where(conf);
	conf_free_listen(conf->socks_listen, conf->socks_listen_count);
	conf_free_listen(conf->worker_listen, conf->worker_listen_count);
	conf_free_listen(conf->stats_listen, conf->stats_listen_count);
	cidr_list_free(&conf->client_allow);
	cidr_list_free(&conf->stats_allow);
	free(conf->password_file);
	conf_free_hostports(conf->servers, conf->servers_count);
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

/* Port of a listen address, host order. */
static uint16_t
conf_listen_port(const struct conf_listen *l)
{
	if (l->ss.ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)&l->ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)&l->ss)->sin6_port));
}

/*
 * Whether two listen addresses compare equal: same family, address and
 * port.
 */
int
conf_listen_equal(const struct conf_listen *a, const struct conf_listen *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return (0);
	switch (a->ss.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return (a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0);
	}
	return (0);
}

/*
 * Whether two listen addresses cannot both be bound: the same port (not
 * 0, which the kernel picks afresh each time) and family, and the same
 * address or either the wildcard.
 */
static int
conf_listen_clash(const struct conf_listen *a, const struct conf_listen *b)
{
	static const uint8_t	 zero[16];
	const void		*aa, *ba;
	size_t			 len;

	if (a->ss.ss_family != b->ss.ss_family || conf_listen_port(a) == 0 ||
	    conf_listen_port(a) != conf_listen_port(b))
		return (0);
	if (a->ss.ss_family == AF_INET) {
		aa = &((const struct sockaddr_in *)&a->ss)->sin_addr;
		ba = &((const struct sockaddr_in *)&b->ss)->sin_addr;
		len = 4;
	} else {
		aa = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
		ba = &((const struct sockaddr_in6 *)&b->ss)->sin6_addr;
		len = 16;
	}
	return (memcmp(aa, ba, len) == 0 || memcmp(aa, zero, len) == 0 ||
	    memcmp(ba, zero, len) == 0);
}

/*
 * Name one side of a listen clash: "KEY ADDR", after where KEY was set
 * when it was set somewhere.
 */
static char *
conf_clash_side(const struct conf *conf, const char *key,
    const struct conf_listen *l)
{
	const char	*where = conf_where(conf, key);
	char		*s;

	if (where != NULL)
		xasprintf(&s, "%s: %s %s", where, key, l->text);
	else
		xasprintf(&s, "%s %s", key, l->text);
	return (s);
}

/*
 * Check that no two server listen addresses clash.  The cause names the
 * line of each key, the one set in the file first, and the line only once
 * for two addresses of one key.
 */
static int
conf_check_listen_clash(struct conf *conf, char **cause)
{
	struct {
		const char		*name;
		struct conf_listen	*l;
		size_t			 n;
	} sets[] = {
		{ "SOCKS_LISTEN", conf->socks_listen,
		    conf->socks_listen_count },
		{ "WORKER_LISTEN", conf->worker_listen,
		    conf->worker_listen_count },
		{ "STATS_LISTEN", conf->stats_listen,
		    conf->stats_listen_count },
	};
	size_t	si, sj, i, j;
	char	*a, *b;

	for (si = 0; si < nitems(sets); si++) {
		for (i = 0; i < sets[si].n; i++) {
			for (sj = si; sj < nitems(sets); sj++) {
				for (j = (sj == si ? i + 1 : 0);
				    j < sets[sj].n; j++) {
					if (!conf_listen_clash(&sets[si].l[i],
					    &sets[sj].l[j]))
						continue;
					a = conf_clash_side(conf,
					    sets[si].name, &sets[si].l[i]);
					if (sj == si)
						xasprintf(&b, "%s %s",
						    sets[sj].name,
						    sets[sj].l[j].text);
					else
						b = conf_clash_side(conf,
						    sets[sj].name,
						    &sets[sj].l[j]);
					/* A located side first. */
					if (conf_where(conf,
					    sets[si].name) == NULL &&
					    conf_where(conf,
					    sets[sj].name) != NULL)
						xasprintf(cause, "%s and %s "
						    "cannot both be bound", b,
						    a);
					else
						xasprintf(cause, "%s and %s "
						    "cannot both be bound", a,
						    b);
					free(a);
					free(b);
					return (-1);
				}
			}
		}
	}
	return (0);
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

	if (conf->socks_listen_count == 0)
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
