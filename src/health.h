/*
 * A worker's health as the server sees it (health.c): its connect
 * results, an EWMA of its connect latency, and outlier ejection after
 * consecutive failures that are the worker's fault.  Pure bookkeeping:
 * times come in as arguments, nothing logs, so the pool decides and
 * logs and a unit suite can drive every rule.
 */
#ifndef HEALTH_H
#define HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "socks.h"

/* The settings the rules read (from EJECT_* in the config). */
struct health_conf {
	unsigned int	failures;	/* in a row to eject; 0 = never */
	uint64_t	eject_ms;	/* first cool-down */
	uint64_t	eject_max_ms;	/* longest cool-down */
};

/* One worker's record; zeroed is a healthy worker never measured. */
struct health {
	unsigned int	consecutive;	/* worker-fault failures in a row */
	unsigned int	ejections;	/* in a row, for the cool-down */
	int		ejected;
	int		trial;		/* back from a cool-down, unproven */
	uint64_t	ejected_at;	/* ms */
	uint64_t	until;		/* ms, end of the cool-down */
	uint64_t	returned_at;	/* ms, end of the last cool-down */
	uint64_t	last_cooldown;	/* ms */
	uint64_t	ewma_us;	/* connect latency; 0 = none yet */
	uint64_t	connects_ok;
	uint64_t	connects_failed;	/* every failure */
	uint64_t	worker_faults;		/* those counted against it */
	uint64_t	ejections_total;
};

/* What a connect result says about the worker that reported it. */
enum health_verdict {
	HEALTH_OK,		/* connected */
	HEALTH_FAULT,		/* may be the worker's fault */
	HEALTH_NEUTRAL		/* the destination's or the rules' */
};

/* Destinations seen lately, to tell a bad worker from a bad destination. */
#define HEALTH_DESTS	256
struct health_dest {
	uint32_t	hash;
	uint32_t	worker;		/* serial of the worker that saw it */
	uint64_t	when;		/* ms */
	int		ok;
};
struct health_dests {
	struct health_dest	slot[HEALTH_DESTS];
};

enum health_verdict health_verdict(enum socks_failure);
uint32_t	health_dest_hash(const char *, unsigned int);
int		health_dest_counts(struct health_dests *, uint32_t hash,
		    uint32_t worker, int ok, uint64_t now);
void		health_success(struct health *, uint64_t latency_us);
int		health_failure(struct health *, const struct health_conf *);
uint64_t	health_eject(struct health *, const struct health_conf *,
		    uint64_t now);
int		health_cooled(struct health *, uint64_t now);
void		health_latency(struct health *, uint64_t latency_us);
int		health_may_eject(size_t out, size_t all,
		    unsigned int max_percent);

#endif
