/*
 * The server role: its listeners (SOCKS clients, worker links, stats),
 * accepting under CLIENT_ALLOW and the connection caps, loading the
 * PASSWORD_FILE (auth.c checks against it), reload and graceful
 * shutdown.
 */
#ifndef SERVER_H
#define SERVER_H

#include "conf.h"

int	server_start(struct conf *, char **cause);
int	server_reload(struct conf *, char **cause);
void	server_stop(void);
int	server_idle(void);
void	server_abort_all(void);
void	server_log_counters(void);

#endif
