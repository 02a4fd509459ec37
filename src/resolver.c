/*
 * The resolver behind resolver.h, a job pool (job.c) of its own: each
 * name is a job whose work calls getaddrinfo in a pool thread, and
 * whose callback hands the answer to the caller in the loop's thread.
 * Numeric hosts are answered without a thread, through the same path,
 * so the callback never runs inside resolver_lookup.  Threads are added
 * while names wait, up to RESOLVER_MAX_THREADS, so one slow name does
 * not hold up the others.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "resolver.h"
#include "xmalloc.h"

#define RESOLVER_MAX_THREADS	32
/* Names waiting for a thread beyond this fail at once (a flood of them). */
#define RESOLVER_MAX_QUEUED	4096

struct resolver_query {
	char		*host;
	char		*port;
	resolver_cb	 cb;
	void		*arg;
	int		 error;
	struct addrinfo	*res;
	struct job	*job;
};

static struct job_pool	*resolver_pool;

/* Create the resolver's pool; its threads start on the first lookup. */
void
resolver_init(void)
{
	if (resolver_pool == NULL)
		resolver_pool = job_pool_new("resolver", RESOLVER_MAX_THREADS,
		    RESOLVER_MAX_QUEUED);
}

/* Fill in the hints of every lookup: TCP, any family, numeric port. */
static void
resolver_hints(struct addrinfo *hints, int numeric)
{
	memset(hints, 0, sizeof(*hints));
	hints->ai_family = AF_UNSPEC;
	hints->ai_socktype = SOCK_STREAM;
	hints->ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
}

/* The job's work, in a pool thread: the lookup that may block. */
static void
resolver_work(void *arg)
{
	struct resolver_query	*q = arg;
	struct addrinfo		 hints;

	resolver_hints(&hints, 0);
	q->error = getaddrinfo(q->host, q->port, &hints, &q->res);
	if (q->error != 0)
		q->res = NULL;
}

/* The job's callback, in the loop: hand the answer over. */
static void
resolver_done(void *arg, enum job_result result)
{
	struct resolver_query	*q = arg;

	/* Too many names waiting: a temporary failure, like any other. */
	if (result == JOB_REFUSED)
		q->error = EAI_AGAIN;
	q->cb(q->res, q->error, q->arg);
}

/* Release a query once answered or cancelled. */
static void
resolver_free(void *arg)
{
	struct resolver_query	*q = arg;

	if (q->res != NULL)
		freeaddrinfo(q->res);
	free(q->host);
	free(q->port);
	free(q);
}

/*
 * Look up host:port (a numeric port) and call cb from the loop later,
 * never from inside this call.  The query can be cancelled until then.
 */
struct resolver_query *
resolver_lookup(const char *host, const char *port, resolver_cb cb,
    void *arg)
{
	struct resolver_query	*q;
	struct addrinfo		 hints;

	resolver_init();
	q = xcalloc(1, sizeof(*q));
	q->host = xstrdup(host);
	q->port = xstrdup(port);
	q->cb = cb;
	q->arg = arg;

	resolver_hints(&hints, 1);
	if (getaddrinfo(host, port, &hints, &q->res) == 0) {
		q->job = job_run(resolver_pool, NULL, resolver_done,
		    resolver_free, q);
		return (q);
	}
	q->res = NULL;
	q->job = job_run(resolver_pool, resolver_work, resolver_done,
	    resolver_free, q);
	return (q);
}

/* Forget a query: its callback will not run, and it is freed when done. */
void
resolver_cancel(struct resolver_query *q)
{
	job_cancel(q->job);
}
