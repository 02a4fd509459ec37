/*
 * Becoming a daemon: the locked PID file, fork and setsid, the standard
 * descriptors on /dev/null, dropping to USER/GROUP after binding, and
 * telling the parent of the fork how start-up ended; the reload status
 * file, written by the daemon and waited on by esocksd -r.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <sys/types.h>

int	daemon_pidfile_lock(const char *path, char **cause);
int	daemon_pidfile_write(char **cause);
void	daemon_pidfile_remove(void);
void	daemon_forget(void);
int	daemon_detach(char **cause);
void	daemon_ready(void);
void	daemon_ready_fail(int status, const char *message);
char	*daemon_status_path(const char *pidfile);
void	daemon_reload_done(const char *cause);
int	daemon_reload_request(const char *pidfile, int timeout_ms,
	    char **cause);
int	daemon_drop_privileges(const char *user, const char *group,
	    char **cause);

#endif
