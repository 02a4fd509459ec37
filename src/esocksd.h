/*
 * State shared across the daemon's modules: the configuration in force
 * and the counters that SIGUSR1, the access log and the metrics report.
 */
#ifndef ESOCKSD_H
#define ESOCKSD_H

#include <stdint.h>

#include "conf.h"
#include "socks.h"

/* The configuration in force; replaced whole on a successful reload. */
extern struct conf	*cfg;

struct counters {
	uint64_t	clients_accepted;
	uint64_t	clients_active;
	uint64_t	clients_refused;	/* by rule or cap */
	uint64_t	tunnels_total;
	uint64_t	tunnels_active;
	uint64_t	bytes_up;		/* client to destination */
	uint64_t	bytes_down;
	uint64_t	handshake_errors;
	uint64_t	connect_failures[SOCKS_FAIL_FAILURE + 1];
	uint64_t	link_errors;
	uint64_t	link_reconnects;
};

extern struct counters	counters;

void	main_check_idle(void);

#endif
