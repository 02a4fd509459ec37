/*
 * What the parts of the pool share: pool.c (requests and their
 * sessions), pool-link.c (links and registration), pool-pick.c (the
 * choice of a worker) and pool-health.c (responsiveness, ejection,
 * probes).  A worker link's record, a request in flight, the list of
 * links, and the calls from one part to another; nothing outside the
 * pool includes it.
 */
#ifndef POOL_INT_H
#define POOL_INT_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <time.h>

#include "compat.h"
#include "conf.h"
#include "ev.h"
#include "health.h"
#include "linkauth.h"
#include "mux.h"
#include "pool.h"
#include "sock.h"
#include "tags.h"

/* Extra time a worker gets, beyond CONNECT_TIMEOUT, to answer A or R. */
#define POOL_ANSWER_MARGIN_MS	5000
/* Commands beyond CONNECT a worker announced in its RGST (cmds=). */
#define POOL_CMD_BIND		0x1
#define POOL_CMD_UDP		0x2
/* A worker's name, as via= in the access log. */
#define POOL_NAME_SIZE		(CONF_WORKER_NAME_MAX + 1)

struct pool_open;
TAILQ_HEAD(pool_open_list, pool_open);

struct pool_worker {
	struct mux_link			*link;
	struct sockaddr_storage		 ss;	/* for pool_pending_addrs */
	char				 addr[SOCK_ADDRSTRLEN];
	char				 name[POOL_NAME_SIZE];
	char				 nonce[LINKAUTH_NONCE_HEX];
	int				 registered;
	int				 esp;
	int				 draining;
	int				 dead;
	int				 unresponsive;
	uint64_t			 unresponsive_at;	/* ms */
	uint64_t			 watch_since;		/* ms */
	uint64_t			 pinged_at;		/* ms */
	struct pool_open_list		 pending;	/* sent, unanswered */
	struct ev_timer			 live_timer;
	unsigned int			 max_sessions;	/* 0 = no cap */
	struct tags			 tags;	/* tags= of its RGST */
	unsigned int			 weight;	/* RGST weight=, 1 */
	uint64_t			 measured_at;	/* ms, last latency */
	int				 cmds;		/* POOL_CMD_*, by cmds= */
	uint64_t			 last_pick;
	uint32_t			 serial;	/* for health_dests */
	struct health			 health;
	int				 cap_logged;	/* ejection capped */
	struct ev_timer			 eject_timer;	/* cool-down */
	struct ev_timer			 probe_timer;	/* PROBE_INTERVAL */
	struct mux_session		*probe;		/* out now, or NULL */
	uint64_t			 probe_sent_us;
	uint64_t			 sessions_total;
	time_t				 up_since;
	struct ev_timer			 idle_timer;
	struct ev_timer			 register_timer;
	TAILQ_ENTRY(pool_worker)	 entry;
};
TAILQ_HEAD(pool_worker_list, pool_worker);

struct pool_open {
	struct socks_request	 req;
	struct pool_want	 want;
	pool_open_cb		 cb;
	void			*arg;
	struct pool_worker	*worker;
	struct mux_session	*session;
	struct ev_timer		 timer;	/* answer deadline, or the report */
	uint64_t		 sent_us;	/* S sent, for the latency */
	int			 tries;
	enum socks_failure	 failure;	/* to report, if no session */
	char			 via[POOL_NAME_SIZE];
	int			 is_pending;	/* on worker->pending */
	TAILQ_ENTRY(pool_open)	 pending_entry;
};

/* Every worker link, registered or not (pool.c), and how many are. */
extern struct pool_worker_list	pool_workers;
extern size_t			pool_registered;

/* pool.c */
void			 pool_try(struct pool_open *, enum socks_failure);
void			 pool_pending_remove(struct pool_open *);

/* pool-pick.c */
struct pool_worker	*pool_pick(const struct pool_want *,
			    struct pool_worker *, int *);

/* pool-health.c */
void			 pool_health_init(struct pool_worker *);
void			 pool_health_stop(struct pool_worker *);
void			 pool_health_result(struct pool_open *,
			    enum socks_failure);
void			 pool_live_watch(struct pool_worker *);
void			 pool_probe_arm(struct pool_worker *);
uint64_t		 pool_now_us(void);

#endif /* POOL_INT_H */
