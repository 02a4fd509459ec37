/*
 * Becoming a daemon: the locked PID file, fork and setsid, the standard
 * descriptors on /dev/null, dropping to USER/GROUP after binding, and
 * telling the parent of the fork how start-up ended.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <sys/types.h>

int	daemon_pidfile_lock(const char *path, char **cause);
int	daemon_pidfile_write(char **cause);
void	daemon_pidfile_remove(void);
int	daemon_detach(char **cause);
void	daemon_ready(void);
void	daemon_ready_fail(int status, const char *message);
int	daemon_drop_privileges(const char *user, const char *group,
	    char **cause);

#endif
