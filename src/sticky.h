/*
 * Sticky sessions of the server's pool: which worker an account's
 * session id (the -session-ID of a user name) is pinned to, until when;
 * and the rendezvous (highest random weight) score that picks a
 * session's worker, so every server sharing a fleet picks the same one
 * without a shared store.  pool-pick.c asks and pins; the table is bounded
 * (STICKY_MAX entries, the oldest made way for) and swept by a timer.
 */
#ifndef STICKY_H
#define STICKY_H

#include <stddef.h>
#include <stdint.h>

/* Sessions remembered at once; past this the oldest is forgotten. */
#define STICKY_MAX	65536

const char	*sticky_lookup(const char *, const char *);
void		 sticky_pin(const char *, const char *, const char *,
		    uint64_t);
size_t		 sticky_count(void);
void		 sticky_clear(void);
uint64_t	 sticky_score(const char *, const char *, const char *);

#endif
