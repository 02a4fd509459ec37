/*
 * The worker role: a link to every server in SERVERS, registration,
 * keep-alive and reconnection, and for each session a dial and a relay.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdint.h>

#include "conf.h"

/* Reconnect backoff cap, unless RECONNECT_INTERVAL is longer. */
#define WORKER_BACKOFF_MAX_MS	60000

int	worker_start(struct conf *, char **cause);
int	worker_reload(struct conf *, char **cause);
void	worker_stop(void);
int	worker_idle(void);
void	worker_abort_all(void);
void	worker_log_counters(void);

uint64_t worker_backoff_next(uint64_t backoff, uint64_t first);
uint64_t worker_backoff_delay(uint64_t backoff, uint64_t first,
	    uint64_t jitter);

#endif
