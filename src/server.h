/*
 * The server role: its listeners (SOCKS clients, worker links, stats),
 * accepting under CLIENT_ALLOW and the connection caps, the password
 * database, reload and graceful shutdown.
 */
#ifndef SERVER_H
#define SERVER_H

#include "conf.h"

int	server_start(struct conf *, char **cause);
int	server_reload(struct conf *, char **cause);
void	server_stop(void);
int	server_password_ok(const char *user, const char *password);
int	server_idle(void);
void	server_log_counters(void);

#endif
