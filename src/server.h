/*
 * The server role: its listeners (SOCKS clients, worker links, stats),
 * accepting under CLIENT_ALLOW and the connection caps, the password
 * database, reload and graceful shutdown.
 */
#ifndef SERVER_H
#define SERVER_H

#include "conf.h"

struct job;

/* How a password check ended. */
enum server_password {
	SERVER_PASSWORD_OK,
	SERVER_PASSWORD_BAD,
	SERVER_PASSWORD_BUSY		/* too many checks waiting: not tried */
};

typedef void	(*server_password_cb)(enum server_password, void *arg);

int	server_start(struct conf *, char **cause);
int	server_reload(struct conf *, char **cause);
void	server_stop(void);
struct job *server_password_check(const char *user, const char *password,
	    server_password_cb, void *arg);
int	server_idle(void);
void	server_abort_all(void);
void	server_log_counters(void);

#endif
