/*
 * The rules of passive health, apart from the pool that applies them.
 * Each connect result a worker reports is a success (its latency feeds
 * an EWMA), a failure that may be the worker's fault (refused,
 * unreachable, timed out), or neutral (DEST_DENY, a name that does not
 * resolve, a general failure).  A fault counts only when the destination
 * is not failing through other workers too: a small table remembers the
 * last result per destination.  After EJECT_FAILURES counted faults in a
 * row the worker is ejected for a cool-down that grows with each
 * ejection in a row (the first EJECT_TIME, then twice, three times...,
 * at most EJECT_TIME_MAX, as in Envoy's outlier detection); afterwards
 * it is on trial: one success clears it, one fault ejects it again.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>

#include "health.h"

/* A destination's last result counts for this long. */
#define HEALTH_DEST_MS		60000
/* Weight of a new latency sample in the EWMA: 1/HEALTH_EWMA_DIV. */
#define HEALTH_EWMA_DIV		4

/* Tell what a connect result says about the worker. */
enum health_verdict
health_verdict(enum socks_failure why)
{
	switch (why) {
	case SOCKS_FAIL_NONE:
		return (HEALTH_OK);
	case SOCKS_FAIL_NETUNREACH:
	case SOCKS_FAIL_HOSTUNREACH:
	case SOCKS_FAIL_REFUSED:
	case SOCKS_FAIL_TIMEOUT:
		return (HEALTH_FAULT);
	default:
		/* DEST_DENY, NXDOMAIN, or a failure that says nothing. */
		return (HEALTH_NEUTRAL);
	}
}

/* A destination's key in the table (FNV-1a of host and port). */
uint32_t
health_dest_hash(const char *host, unsigned int port)
{
	uint32_t	h = 2166136261U;

	for (; *host != '\0'; host++) {
		h ^= (unsigned char)*host;
		h *= 16777619U;
	}
	h ^= port & 0xff;
	h *= 16777619U;
	h ^= port >> 8;
	h *= 16777619U;
	return (h);
}

/*
 * Record that worker (a serial) reached the destination (ok) or not, and
 * tell whether a failure counts against the worker: not when another
 * worker failed to reach the same destination within the last minute.
 */
int
health_dest_counts(struct health_dests *d, uint32_t hash, uint32_t worker,
    int ok, uint64_t now)
{
	struct health_dest	*s = &d->slot[hash % HEALTH_DESTS];
	int			 counts = 1;

	if (!ok && s->hash == hash && s->when != 0 && s->worker != worker &&
	    !s->ok && now - s->when < HEALTH_DEST_MS)
		counts = 0;
	s->hash = hash;
	s->worker = worker;
	s->when = now;
	s->ok = ok;
	return (counts);
}

/* Feed one connect latency into the EWMA. */
void
health_latency(struct health *h, uint64_t latency_us)
{
	if (latency_us == 0)
		latency_us = 1;
	if (h->ewma_us == 0)
		h->ewma_us = latency_us;
	else
		h->ewma_us = (h->ewma_us * (HEALTH_EWMA_DIV - 1) +
		    latency_us) / HEALTH_EWMA_DIV;
}

/* The worker connected a destination in latency_us. */
void
health_success(struct health *h, uint64_t latency_us)
{
	h->connects_ok++;
	h->consecutive = 0;
	h->trial = 0;
	health_latency(h, latency_us);
}

/*
 * A failure counted against the worker: tell whether it should now be
 * ejected (the caller checks the pool's cap, then calls health_eject).
 */
int
health_failure(struct health *h, const struct health_conf *c)
{
	h->worker_faults++;
	h->consecutive++;
	if (c->failures == 0 || h->ejected)
		return (0);
	return (h->trial || h->consecutive >= c->failures);
}

/*
 * Eject the worker at now; the cool-down (returned) grows with ejections
 * in a row, which start over once a worker stayed back longer than its
 * last cool-down.
 */
uint64_t
health_eject(struct health *h, const struct health_conf *c, uint64_t now)
{
	uint64_t	cool;

	if (h->ejections > 0 && !h->trial &&
	    now - h->returned_at > h->last_cooldown)
		h->ejections = 0;
	h->ejections++;
	h->ejections_total++;
	cool = c->eject_ms * h->ejections;
	if (cool > c->eject_max_ms || cool / h->ejections != c->eject_ms)
		cool = c->eject_max_ms;
	h->ejected = 1;
	h->trial = 0;
	h->consecutive = 0;
	h->ejected_at = now;
	h->until = now + cool;
	h->last_cooldown = cool;
	return (cool);
}

/* At now, end a cool-down that is over: tell whether it just did. */
int
health_cooled(struct health *h, uint64_t now)
{
	if (!h->ejected || now < h->until)
		return (0);
	h->ejected = 0;
	h->trial = 1;
	h->returned_at = now;
	return (1);
}

/*
 * Tell whether one more of all registered workers may be ejected while
 * out of them already are: at most max_percent of them out at once, and
 * never the last one in.
 */
int
health_may_eject(size_t out, size_t all, unsigned int max_percent)
{
	if (out >= all || all - out <= 1)
		return (0);
	return ((out + 1) * 100 <= all * max_percent);
}
