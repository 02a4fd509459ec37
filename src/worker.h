/*
 * The worker role: a link to every server in SERVERS, registration,
 * keep-alive and reconnection, and for each session a dial and a relay.
 */
#ifndef WORKER_H
#define WORKER_H

#include "conf.h"

int	worker_start(struct conf *, char **cause);
int	worker_reload(struct conf *, char **cause);
void	worker_stop(void);
int	worker_idle(void);
void	worker_abort_all(void);
void	worker_log_counters(void);

#endif
