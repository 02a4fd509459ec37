/*
 * The sticky-session table (sticky.h): entries keyed by account and
 * session id, found through a hash of both, kept in order of creation so
 * the oldest goes first when the table is full, and removed once their
 * lifetime is over: at lookup, and by a sweep every STICKY_SWEEP_MS
 * while the table holds anything.  A session's lifetime runs from its
 * first connection; moving it to another worker keeps it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "ev.h"
#include "sha256.h"
#include "sticky.h"
#include "xmalloc.h"

#define STICKY_BUCKETS	16384	/* a power of two */
#define STICKY_SWEEP_MS	10000

struct sticky_entry {
	char				*account;
	char				*session;
	char				*worker;
	uint64_t			 expires;	/* ms, ev_now() */
	size_t				 bucket;
	struct sticky_entry		*next;		/* in its bucket */
	TAILQ_ENTRY(sticky_entry)	 entry;		/* by creation */
};
TAILQ_HEAD(sticky_list, sticky_entry);

static struct sticky_entry	*sticky_table[STICKY_BUCKETS];
static struct sticky_list	 sticky_all = TAILQ_HEAD_INITIALIZER(sticky_all);
static size_t			 sticky_n;
static struct ev_timer		 sticky_timer;
static int			 sticky_timer_ready;

static void	sticky_sweep_cb(void *);

/* The hash of account and session: the first bytes of their SHA-256. */
static void
sticky_digest(const char *account, const char *session, const char *worker,
    uint8_t out[SHA256_DIGEST_LENGTH])
{
	struct sha256_ctx	ctx;

	sha256_init(&ctx);
	/* NUL-separated, so "ab"+"c" and "a"+"bc" differ. */
	sha256_update(&ctx, account, strlen(account) + 1);
	sha256_update(&ctx, session, strlen(session) + 1);
	if (worker != NULL)
		sha256_update(&ctx, worker, strlen(worker));
	sha256_final(&ctx, out);
}

/* The first eight bytes of a digest as a number, big-endian. */
static uint64_t
sticky_u64(const uint8_t *d)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | d[i];
	return (v);
}

/*
 * The rendezvous score of worker for an account's session: the highest
 * scoring worker among those that match takes the session.  It depends
 * on the three names only, so every server computes the same, and a
 * worker joining takes only the sessions it scores highest on.
 */
uint64_t
sticky_score(const char *account, const char *session, const char *worker)
{
	uint8_t	d[SHA256_DIGEST_LENGTH];

	sticky_digest(account, session, worker, d);
	return (sticky_u64(d));
}

/* The bucket of an account's session. */
static size_t
sticky_bucket(const char *account, const char *session)
{
	uint8_t	d[SHA256_DIGEST_LENGTH];

	sticky_digest(account, session, NULL, d);
	return ((size_t)(sticky_u64(d) & (STICKY_BUCKETS - 1)));
}

/* Unlink and free one entry. */
static void
sticky_remove(struct sticky_entry *e)
{
	struct sticky_entry	**pp;

	for (pp = &sticky_table[e->bucket]; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	TAILQ_REMOVE(&sticky_all, e, entry);
	sticky_n--;
	free(e->account);
	free(e->session);
	free(e->worker);
	free(e);
}

/* The live entry of an account's session, or NULL (expired ones go). */
static struct sticky_entry *
sticky_find(const char *account, const char *session)
{
	struct sticky_entry	*e;

	for (e = sticky_table[sticky_bucket(account, session)]; e != NULL;
	    e = e->next) {
		if (strcmp(e->account, account) != 0 ||
		    strcmp(e->session, session) != 0)
			continue;
		if (e->expires <= ev_now()) {
			sticky_remove(e);
			return (NULL);
		}
		return (e);
	}
	return (NULL);
}

/* The worker an account's session is pinned to now, or NULL. */
const char *
sticky_lookup(const char *account, const char *session)
{
	struct sticky_entry	*e;

	e = sticky_find(account, session);
	return (e != NULL ? e->worker : NULL);
}

/*
 * Pin an account's session to worker.  A session already pinned moves
 * and keeps its lifetime; a new one lives ttl ms from now.
 */
void
sticky_pin(const char *account, const char *session, const char *worker,
    uint64_t ttl)
{
	struct sticky_entry	*e;

	if ((e = sticky_find(account, session)) != NULL) {
		free(e->worker);
		e->worker = xstrdup(worker);
		return;
	}
	if (sticky_n >= STICKY_MAX)
		sticky_remove(TAILQ_FIRST(&sticky_all));
	e = xcalloc(1, sizeof(*e));
	e->account = xstrdup(account);
	e->session = xstrdup(session);
	e->worker = xstrdup(worker);
	e->expires = ev_now() + ttl;
	e->bucket = sticky_bucket(account, session);
	e->next = sticky_table[e->bucket];
	sticky_table[e->bucket] = e;
	TAILQ_INSERT_TAIL(&sticky_all, e, entry);
	sticky_n++;
	if (!sticky_timer_ready) {
		ev_timer_init(&sticky_timer, sticky_sweep_cb, NULL);
		sticky_timer_ready = 1;
	}
	if (!ev_timer_pending(&sticky_timer))
		ev_timer_start(&sticky_timer, STICKY_SWEEP_MS);
}

/* Forget every expired session; sweep again while any is left. */
static void
sticky_sweep_cb(void *arg)
{
	struct sticky_entry	*e, *next;
	uint64_t		 now = ev_now();

	TAILQ_FOREACH_SAFE(e, &sticky_all, entry, next) {
		if (e->expires <= now)
			sticky_remove(e);
	}
	if (sticky_n > 0)
		ev_timer_start(&sticky_timer, STICKY_SWEEP_MS);
}

/* Sticky sessions alive now (for /metrics). */
size_t
sticky_count(void)
{
	struct sticky_entry	*e;
	uint64_t		 now = ev_now();
	size_t			 n = 0;

	TAILQ_FOREACH(e, &sticky_all, entry) {
		if (e->expires > now)
			n++;
	}
	return (n);
}

/* Forget every session (exit). */
void
sticky_clear(void)
{
	while (!TAILQ_EMPTY(&sticky_all))
		sticky_remove(TAILQ_FIRST(&sticky_all));
	if (sticky_timer_ready)
		ev_timer_stop(&sticky_timer);
}
