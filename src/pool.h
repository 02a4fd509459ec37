/*
 * The server's worker pool: registered worker links, and the choice of
 * which one carries a new SOCKS request (fewest active sessions, ties
 * round-robin; draining, full, unresponsive, ejected and dead workers
 * get none).
 */
#ifndef POOL_H
#define POOL_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

#include "relay.h"
#include "socks.h"

struct pool_open;

/*
 * Outcome of a pool request.  On success `e` is the session end, ready to
 * be joined to a relay, and `bound` the worker's bound address (NULL from
 * a legacy worker); `via` names the worker.  On failure e is NULL: why is
 * SOCKS_FAIL_NONE when no worker could take the request at all (the
 * caller applies NO_WORKER), else what the last worker tried said.
 *
 * pool_open never calls cb before it returns, so the caller can store the
 * pointer it returns first; cb is called exactly once, unless
 * pool_open_cancel comes first, and the request is freed before it runs.
 */
typedef void	(*pool_open_cb)(struct end *e, enum socks_failure why,
		    const struct sockaddr *bound, const char *via, void *arg);

void		 pool_link_accept(int fd, const struct sockaddr *, socklen_t);
size_t		 pool_pending_count(void);
size_t		 pool_link_count(void);
unsigned int	 pool_pending_from(const struct sockaddr *);
int		 pool_has_worker(void);
size_t		 pool_worker_count(void);
size_t		 pool_unresponsive_count(void);

/* What the status page and metrics show of one worker link. */
struct pool_info {
	const char	*name;
	const char	*addr;
	int		 registered;
	int		 esp;
	int		 draining;
	const char	*state;		/* registering, unresponsive, ... */
	long long	 up_since;	/* time(3), 0 if not registered */
	size_t		 sessions;
	uint64_t	 sessions_total;
	uint64_t	 bytes_sent;
	uint64_t	 bytes_received;
};
void		 pool_foreach(void (*)(const struct pool_info *, void *),
		    void *);
void		 pool_stop(void);
void		 pool_abort_all(void);
struct pool_open *pool_open(const struct socks_request *, pool_open_cb,
		    void *);
void		 pool_open_cancel(struct pool_open *);

#endif
