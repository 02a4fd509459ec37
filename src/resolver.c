/*
 * The resolver thread pool behind resolver.h.  Queries wait in a queue
 * guarded by a mutex; a worker thread takes one, calls getaddrinfo and
 * moves it to the done queue, then writes a byte to the pipe.  The loop
 * drains the done queue and calls back.  Numeric hosts skip the threads.
 * Threads are added while every one is busy, up to RESOLVER_MAX_THREADS,
 * so one slow name does not hold up the others.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "ev.h"
#include "log.h"
#include "resolver.h"
#include "xmalloc.h"

#define RESOLVER_MAX_THREADS	32
/* Names waiting for a thread beyond this fail at once (a flood of them). */
#define RESOLVER_MAX_QUEUED	4096

struct resolver_query {
	char				*host;
	char				*port;
	resolver_cb			 cb;
	void				*arg;
	int				 cancelled;	/* under resolver_lock */
	int				 error;
	struct addrinfo			*res;
	TAILQ_ENTRY(resolver_query)	 entry;
};
TAILQ_HEAD(resolver_queue, resolver_query);

static pthread_mutex_t		resolver_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		resolver_cond = PTHREAD_COND_INITIALIZER;
static struct resolver_queue	resolver_todo =
    TAILQ_HEAD_INITIALIZER(resolver_todo);
static struct resolver_queue	resolver_done =
    TAILQ_HEAD_INITIALIZER(resolver_done);
static int			resolver_threads;
static int			resolver_idle;
static int			resolver_pipe[2] = { -1, -1 };
static size_t			resolver_queued;

static void	 resolver_pipe_cb(int, int, void *);
static void	*resolver_thread(void *);

/* Create the answer pipe; threads start on the first lookup. */
void
resolver_init(void)
{
	int	i;

	if (resolver_pipe[0] != -1)
		return;
	if (pipe(resolver_pipe) == -1)
		fatal("resolver pipe");
	for (i = 0; i < 2; i++)
		if (fcntl(resolver_pipe[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(resolver_pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			fatal("resolver pipe fcntl");
	ev_io_set(resolver_pipe[0], EV_READ, resolver_pipe_cb, NULL);
}

static void
resolver_hints(struct addrinfo *hints, int numeric)
{
	memset(hints, 0, sizeof(*hints));
	hints->ai_family = AF_UNSPEC;
	hints->ai_socktype = SOCK_STREAM;
	hints->ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
}

static void
resolver_spawn(void)
{
	pthread_t	t;
	pthread_attr_t	attr;
	sigset_t	all, old;
	int		error;

	/* Threads take no signals: they belong to the loop's self-pipe. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	error = pthread_create(&t, &attr, resolver_thread, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		if (resolver_threads == 0)
			fatalx("resolver: pthread_create: %s",
			    strerror(error));
		log_warnx("resolver: pthread_create: %s", strerror(error));
		return;
	}
	resolver_threads++;
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
	unsigned char		 c = 0;

	q = xcalloc(1, sizeof(*q));
	q->host = xstrdup(host);
	q->port = xstrdup(port);
	q->cb = cb;
	q->arg = arg;

	resolver_hints(&hints, 1);
	if (getaddrinfo(host, port, &hints, &q->res) == 0) {
		pthread_mutex_lock(&resolver_lock);
		TAILQ_INSERT_TAIL(&resolver_done, q, entry);
		pthread_mutex_unlock(&resolver_lock);
		(void)write(resolver_pipe[1], &c, 1);
		return (q);
	}
	q->res = NULL;

	pthread_mutex_lock(&resolver_lock);
	if (resolver_queued >= RESOLVER_MAX_QUEUED) {
		/* Answer "no such name" through the pipe, like any other. */
		q->error = EAI_AGAIN;
		TAILQ_INSERT_TAIL(&resolver_done, q, entry);
		pthread_mutex_unlock(&resolver_lock);
		(void)write(resolver_pipe[1], &c, 1);
		return (q);
	}
	resolver_queued++;
	TAILQ_INSERT_TAIL(&resolver_todo, q, entry);
	if (resolver_idle == 0 && resolver_threads < RESOLVER_MAX_THREADS)
		resolver_spawn();
	pthread_cond_signal(&resolver_cond);
	pthread_mutex_unlock(&resolver_lock);
	return (q);
}

/* Forget a query: its callback will not run, and it is freed when done. */
void
resolver_cancel(struct resolver_query *q)
{
	pthread_mutex_lock(&resolver_lock);
	q->cancelled = 1;
	pthread_mutex_unlock(&resolver_lock);
}

static void *
resolver_thread(void *unused)
{
	struct resolver_query	*q;
	struct addrinfo		 hints;
	unsigned char		 c = 0;

	pthread_mutex_lock(&resolver_lock);
	for (;;) {
		while ((q = TAILQ_FIRST(&resolver_todo)) == NULL) {
			resolver_idle++;
			pthread_cond_wait(&resolver_cond, &resolver_lock);
			resolver_idle--;
		}
		TAILQ_REMOVE(&resolver_todo, q, entry);
		resolver_queued--;
		/* A cancelled query is not worth a lookup. */
		if (!q->cancelled) {
			pthread_mutex_unlock(&resolver_lock);
			resolver_hints(&hints, 0);
			q->error = getaddrinfo(q->host, q->port, &hints,
			    &q->res);
			if (q->error != 0)
				q->res = NULL;
			pthread_mutex_lock(&resolver_lock);
		}
		TAILQ_INSERT_TAIL(&resolver_done, q, entry);
		(void)write(resolver_pipe[1], &c, 1);
	}
	return (NULL);
}

static void
resolver_pipe_cb(int fd, int events, void *arg)
{
	struct resolver_queue	 ready;
	struct resolver_query	*q;
	unsigned char		 buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	TAILQ_INIT(&ready);
	pthread_mutex_lock(&resolver_lock);
	TAILQ_CONCAT(&ready, &resolver_done, entry);
	pthread_mutex_unlock(&resolver_lock);

	while ((q = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, q, entry);
		/* Only this thread sets cancelled, so no lock to read it. */
		if (!q->cancelled)
			q->cb(q->res, q->error, q->arg);
		if (q->res != NULL)
			freeaddrinfo(q->res);
		free(q->host);
		free(q->port);
		free(q);
	}
}
