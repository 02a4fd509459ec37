/*
 * The server's worker pool: registered worker links, and the choice of
 * which one carries a new SOCKS request.  The choice runs in stages:
 * the request's filters (tags, a worker's name, the account's tags),
 * then health (draining, full, unresponsive, ejected and dead workers
 * get none), then load (BALANCE: p2c or least), or
 * for a sticky session the worker it is pinned to or its rendezvous
 * choice.
 */
#ifndef POOL_H
#define POOL_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

#include "relay.h"
#include "socks.h"
#include "tags.h"
#include "userparam.h"

struct pool_open;

/*
 * What a request asks of its worker: filters every try must pass, and a
 * sticky session.  pool_want_init fills it from a parsed user name
 * (userparam.h) and the account's tags= (NULL for none); any front end
 * (SOCKS, HTTP) does the same and hands it to pool_open.
 */
struct pool_want {
	struct tags	tags;		/* the worker carries every one */
	struct tags	account_tags;	/* and at least one of these */
	char		worker[USERPARAM_WORKER_MAX + 1];	/* "" any */
	char		account[USERPARAM_USER_MAX + 1];	/* BASE */
	char		session[USERPARAM_SESSION_MAX + 1];	/* "" none */
	uint64_t	ttl;		/* ms; 0 = STICKY_TTL */
	int		strict;
	int		cmd;		/* SOCKS_CMD_*, set by pool_open */
};

/*
 * Outcome of a pool request.  On success `e` is the session end, ready to
 * be joined to a relay, and `bound` the worker's bound address (NULL from
 * a legacy worker); `via` names the worker.  On failure e is NULL: why is
 * SOCKS_FAIL_NONE when no worker could take the request at all (the
 * caller applies NO_WORKER), SOCKS_FAIL_HOSTUNREACH with via "none" when
 * the request has filters or a strict session and no worker may take it
 * (never NONE: NO_WORKER=direct does not apply), else what the last
 * worker tried said.
 *
 * pool_open never calls cb before it returns, so the caller can store the
 * pointer it returns first; cb is called exactly once, unless
 * pool_open_cancel comes first, and the request is freed before it runs.
 */
void		 pool_want_init(struct pool_want *,
		    const struct userparam *, const struct tags *);
int		 pool_want_filters(const struct pool_want *);

typedef void	(*pool_open_cb)(struct end *e, enum socks_failure why,
		    const struct sockaddr *bound, const char *via, void *arg);

void		 pool_link_accept(int fd, const struct sockaddr *, socklen_t);
size_t		 pool_pending_count(void);
size_t		 pool_link_count(void);
unsigned int	 pool_pending_from(const struct sockaddr *);
int		 pool_has_worker(void);
int		 pool_has_worker_for(int cmd);
size_t		 pool_worker_count(void);
size_t		 pool_unresponsive_count(void);
const struct tags *pool_worker_tags(const char *);

/* What the status page and metrics show of one worker link. */
struct pool_info {
	const char	*name;
	const char	*addr;
	int		 registered;
	int		 esp;
	int		 draining;
	const char	*state;		/* registering, unresponsive, ... */
	const struct tags *tags;	/* WORKER_TAGS it registered with */
	long long	 up_since;	/* time(3), 0 if not registered */
	size_t		 sessions;
	uint64_t	 sessions_total;
	uint64_t	 bytes_sent;
	uint64_t	 bytes_received;
	uint64_t	 latency_us;	/* connect latency EWMA, 0: none */
	uint64_t	 ejections;	/* by passive health, in all */
};
void		 pool_foreach(void (*)(const struct pool_info *, void *),
		    void *);
void		 pool_stop(void);
void		 pool_abort_all(void);
struct pool_open *pool_open(const struct socks_request *,
		    const struct pool_want *, pool_open_cb, void *);
void		 pool_open_cancel(struct pool_open *);

#endif
