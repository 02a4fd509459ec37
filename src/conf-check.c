/*
 * What a configuration names outside itself, checked before anything is
 * bound: the PASSWORD_FILE must load, USER and GROUP must exist.  main
 * runs conf_verify after conf_finish for -t, for a start and for every
 * reload, so a config that cannot run is a config error (exit 2, file
 * and line) and never a daemon that dies after forking.  conf_warnings
 * lists what works but deserves an operator's look, for -t to print and
 * for a start or reload to log.
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

/*
 * Hand each warning about a configuration that works but deserves an
 * operator's look to warn: secrets or hashes in files others than the
 * daemon can read, and a worker port beyond loopback that anyone may
 * register on.  Run after conf_verify, which notes the files' modes.
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
