/*
 * What a configuration names outside itself, checked before anything is
 * bound: the PASSWORD_FILE must load, USER and GROUP must exist.  main
 * runs conf_verify after conf_finish for -t, for a start and for every
 * reload, so a config that cannot run is a config error (exit 2, file
 * and line) and never a daemon that dies after forking.  conf_warnings
 * lists what works but deserves an operator's look, for -t to print and
 * for a start or reload to log, among them the "SET THIS" placeholders
 * live.conf ships with (conf_placeholders).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf-int.h"
#include "passwd.h"
#include "xmalloc.h"

/*
 * Whether a file of this mode and group can be read by someone beyond
 * the daemon: anyone at all, or a group other than the one the daemon
 * drops to (root:GROUP with mode 0640 is how a secret is kept readable
 * by a daemon that reloads it after dropping privileges).
 */
static int
conf_exposed(mode_t mode, gid_t gid, gid_t run_gid)
{
	if (mode & S_IROTH)
		return (1);
	return ((mode & S_IRGRP) && (run_gid == (gid_t)-1 || gid != run_gid));
}

/* Load the password file once to check every line, and note its mode. */
static int
conf_verify_passwords(struct conf *conf, char **cause)
{
	struct passwd_db	*db;
	struct stat		 st;
	char			*why;
	int			 rc;

	if ((db = passwd_load(conf->password_file, &why)) == NULL) {
		rc = conf_fail_at(conf, "PASSWORD_FILE", cause,
		    "PASSWORD_FILE: %s", why);
		free(why);
		return (rc);
	}
	passwd_free(db);
	if (stat(conf->password_file, &st) == 0)
		conf->password_file_insecure = conf_exposed(st.st_mode,
		    st.st_gid, conf->run_gid);
	return (0);
}

/*
 * Check that USER and GROUP name a user and a group of this system, and
 * note the group the daemon will run as: GROUP, else USER's own group.
 */
static int
conf_verify_user(struct conf *conf, char **cause)
{
	struct passwd	*pw;
	struct group	*gr;

	conf->run_gid = (gid_t)-1;
	if (conf->user != NULL) {
		errno = 0;
		if ((pw = getpwnam(conf->user)) == NULL)
			return (conf_fail_at(conf, "USER", cause, "USER %s: %s",
			    conf->user, errno == 0 || errno == ENOENT ||
			    errno == ESRCH ? "no such user" : strerror(errno)));
		conf->run_gid = pw->pw_gid;
	}
	if (conf->group != NULL) {
		errno = 0;
		if ((gr = getgrnam(conf->group)) == NULL)
			return (conf_fail_at(conf, "GROUP", cause,
			    "GROUP %s: %s", conf->group, errno == 0 ||
			    errno == ENOENT || errno == ESRCH ?
			    "no such group" : strerror(errno)));
		conf->run_gid = gr->gr_gid;
	}
	return (0);
}

/*
 * Check what the config names outside itself, after conf_finish: USER
 * and GROUP, and the password file of a server with AUTH=password; note
 * whether that file or the secret file is exposed.  Returns 0, or -1
 * with a cause starting with the key's file:line.
 */
int
conf_verify(struct conf *conf, enum conf_role role, char **cause)
{
	conf->password_file_insecure = 0;
	conf->secret_file_insecure = 0;
	if (conf_verify_user(conf, cause) != 0)
		return (-1);
	if (conf->worker_secret_from_file)
		conf->secret_file_insecure = conf_exposed(
		    conf->secret_file_mode, conf->secret_file_gid,
		    conf->run_gid);
	if (role == CONF_ROLE_SERVER && conf->auth == CONF_AUTH_PASSWORD &&
	    conf_verify_passwords(conf, cause) != 0)
		return (-1);
	return (0);
}

/* Whether a listen address is on the loopback network. */
static int
conf_loopback(const struct conf_listen *l)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (l->ss.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&l->ss;
		return ((ntohl(sin->sin_addr.s_addr) >> 24) == 127);
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&l->ss;
		return (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	}
	return (0);
}

/* CLIENT_ALLOW as live.conf ships it, "SET THIS": every RFC 1918 network. */
static const char *const conf_shipped_client_allow[] = {
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", NULL
};

/* WORKER_ALLOW as live.conf ships it, "SET THIS": loopback and RFC 1918. */
static const char *const conf_shipped_worker_allow[] = {
	"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
	"192.168.0.0/16", NULL
};

/* Whether two rules are the same network and ports. */
static int
conf_same_rule(const struct cidr *a, const struct cidr *b)
{
	size_t	len = a->family == AF_INET ? 4 : 16;

	return (a->family == b->family && a->prefix == b->prefix &&
	    a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	    memcmp(a->addr, b->addr, len) == 0);
}

/*
 * Whether a list of rules still is a placeholder live.conf ships, the
 * same rules in the same order (shipped ends with NULL).
 */
static int
conf_cidr_shipped(const struct cidr_list *list,
    const char *const *shipped)
{
	struct cidr	rule;
	char		*cause;
	size_t		 i, n;

	for (n = 0; shipped[n] != NULL; n++)
		continue;
	if (list->count != n)
		return (0);
	for (i = 0; i < n; i++) {
		if (cidr_parse(shipped[i], 0, &rule, &cause) == -1) {
			free(cause);
			return (0);
		}
		if (!conf_same_rule(&rule, &list->rules[i]))
			return (0);
	}
	return (1);
}

/*
 * Whether a host name lies under a top-level domain reserved never to
 * resolve (RFC 2606, RFC 6761): .example, as live.conf's placeholder
 * esocks-server.example does, and .invalid.
 */
static int
conf_reserved_name(const char *host)
{
	static const char *const tld[] = { "example", "invalid" };
	size_t		 len = strlen(host), i, n;

	if (len > 0 && host[len - 1] == '.')
		len--;
	for (i = 0; i < sizeof(tld) / sizeof(tld[0]); i++) {
		n = strlen(tld[i]);
		if (len >= n && strncasecmp(host + len - n, tld[i], n) == 0 &&
		    (len == n || host[len - n - 1] == '.'))
			return (1);
	}
	return (0);
}

/*
 * Hand warn each "SET THIS" placeholder of live.conf still in the config
 * that role would use: CLIENT_ALLOW and WORKER_ALLOW for a server,
 * SERVERS for a worker.
 * conf_warnings runs it for the role; -t runs it for the other role too,
 * since one file serves both.
 */
void
conf_placeholders(const struct conf *conf, enum conf_role role,
    void (*warn)(const char *, void *), void *arg)
{
	const char	*where;
	char		*msg;
	size_t		 i;

	if (role == CONF_ROLE_SERVER) {
		if (conf_cidr_shipped(&conf->client_allow,
		    conf_shipped_client_allow)) {
			where = conf_where(conf, "CLIENT_ALLOW");
			xasprintf(&msg, "%s%sCLIENT_ALLOW is still the shipped "
			    "placeholder, every RFC 1918 network: list the "
			    "networks your clients are in",
			    where != NULL ? where : "",
			    where != NULL ? ": " : "");
			warn(msg, arg);
			free(msg);
		}
		if (conf_cidr_shipped(&conf->worker_allow,
		    conf_shipped_worker_allow)) {
			where = conf_where(conf, "WORKER_ALLOW");
			xasprintf(&msg, "%s%sWORKER_ALLOW is still the shipped "
			    "placeholder, loopback and every RFC 1918 network: "
			    "list your workers' addresses",
			    where != NULL ? where : "",
			    where != NULL ? ": " : "");
			warn(msg, arg);
			free(msg);
		}
		return;
	}
	for (i = 0; i < conf->servers_count; i++) {
		if (!conf_reserved_name(conf->servers[i].host))
			continue;
		where = conf_where(conf, "SERVERS");
		xasprintf(&msg, "%s%sSERVERS %s is a placeholder: the name "
		    "never resolves, so a worker never reaches a server; set "
		    "your servers' addresses", where != NULL ? where : "",
		    where != NULL ? ": " : "", conf->servers[i].text);
		warn(msg, arg);
		free(msg);
	}
}

/*
 * Hand each warning about a configuration that works but deserves an
 * operator's look to warn: secrets or hashes in files others than the
 * daemon can read, a worker port beyond loopback that anyone may
 * register on, and the role's placeholders still unset.  Run after
 * conf_verify, which notes the files' modes.
 */
void
conf_warnings(const struct conf *conf, enum conf_role role,
    void (*warn)(const char *, void *), void *arg)
{
	char	*msg;
	size_t	 i;

	if (conf->secret_file_insecure) {
		xasprintf(&msg, "%s is readable by group or others",
		    conf->worker_secret_file);
		warn(msg, arg);
		free(msg);
	}
	conf_placeholders(conf, role, warn, arg);
	if (role != CONF_ROLE_SERVER)
		return;
	if (conf->auth == CONF_AUTH_PASSWORD && conf->password_file_insecure) {
		xasprintf(&msg, "%s is readable by group or others",
		    conf->password_file);
		warn(msg, arg);
		free(msg);
	}
	if (conf->worker_secret != NULL && conf->worker_secret[0] != '\0')
		return;
	for (i = 0; i < conf->listen[CONF_LISTEN_WORKER].count; i++) {
		if (conf_loopback(&conf->listen[CONF_LISTEN_WORKER].addrs[i]))
			continue;
		xasprintf(&msg, "WORKER_LISTEN %s is not loopback and no "
		    "WORKER_SECRET is set: anyone who reaches it can register "
		    "as a worker and see client traffic",
		    conf->listen[CONF_LISTEN_WORKER].addrs[i].text);
		warn(msg, arg);
		free(msg);
	}
}
