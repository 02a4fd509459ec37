/*
 * The thread pools behind job.h.  One mutex guards every pool's queue
 * and the shared list of finished jobs; a pool thread takes a job from
 * its pool's queue, runs the work without the lock, moves the job to
 * the finished list and writes a byte to the pipe.  The loop drains the
 * pipe, takes the whole finished list and calls back.
 *
 * A new thread is started when the jobs waiting outnumber the threads
 * waiting for work.  Counting the idle threads is not enough: a thread
 * woken for one job still counts as idle until it runs again, so two
 * jobs queued in the same loop round with one idle thread would start
 * none, and the second would wait behind the first, however slow.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "ev.h"
#include "job.h"
#include "log.h"
#include "xmalloc.h"

#define JOB_STACK_SIZE	(256 * 1024)

enum job_state {
	JOB_QUEUED,		/* in its pool's queue */
	JOB_RUNNING,		/* a thread runs its work */
	JOB_FINISHED		/* on job_finished, or being called back */
};

struct job {
	struct job_pool		*pool;
	job_work_cb		 work;
	job_done_cb		 done;
	job_free_cb		 free;
	void			*arg;
	enum job_state		 state;		/* under job_lock */
	enum job_result		 result;
	int			 cancelled;	/* loop thread only */
	TAILQ_ENTRY(job)	 entry;
};
TAILQ_HEAD(job_queue, job);

struct job_pool {
	char			*name;
	unsigned int		 max_threads;
	size_t			 max_queued;
	unsigned int		 threads;
	unsigned int		 idle;		/* threads waiting for work */
	size_t			 queued;	/* jobs in todo */
	pthread_cond_t		 cond;
	struct job_queue	 todo;
};

static pthread_mutex_t	job_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job_queue	job_finished = TAILQ_HEAD_INITIALIZER(job_finished);
static int		job_pipe[2] = { -1, -1 };

static void	 job_pipe_cb(int, int, void *);
static void	*job_thread(void *);

/* Create the answer pipe and watch it; once, from the loop's thread. */
static void
job_pipe_open(void)
{
	int	i;

	if (job_pipe[0] != -1)
		return;
	if (pipe(job_pipe) == -1)
		fatal("job pipe");
	for (i = 0; i < 2; i++) {
		if (fcntl(job_pipe[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(job_pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			fatal("job pipe fcntl");
	}
	ev_io_set(job_pipe[0], EV_READ, job_pipe_cb, NULL);
}

/* Wake the loop: a full pipe already will, so a failed write is fine. */
static void
job_wake(void)
{
	unsigned char	c = 0;

	(void)write(job_pipe[1], &c, 1);
}

/*
 * Make a pool of at most max_threads threads (started as work comes)
 * holding at most max_queued waiting jobs.
 */
struct job_pool *
job_pool_new(const char *name, unsigned int max_threads, size_t max_queued)
{
	struct job_pool	*p;

	job_pipe_open();
	p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(name);
	p->max_threads = max_threads > 0 ? max_threads : 1;
	p->max_queued = max_queued;
	if (pthread_cond_init(&p->cond, NULL) != 0)
		fatalx("%s: pthread_cond_init failed", name);
	TAILQ_INIT(&p->todo);
	return (p);
}

/* Start one more thread for pool p; 0, or -1 if none could start. */
static int
job_spawn(struct job_pool *p)
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
	pthread_attr_setstacksize(&attr, JOB_STACK_SIZE);
	error = pthread_create(&t, &attr, job_thread, p);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		log_warnx("%s: pthread_create: %s", p->name, strerror(error));
		return (-1);
	}
	p->threads++;
	return (0);
}

/* Put a job on the finished list as refused, for the loop to answer. */
static void
job_refuse(struct job *j)
{
	j->state = JOB_FINISHED;
	j->result = JOB_REFUSED;
	TAILQ_INSERT_TAIL(&job_finished, j, entry);
}

/*
 * Run work(arg) in a thread of pool p, then done(arg, result) from the
 * loop, never from inside this call, then free(arg).  With work NULL
 * nothing runs in a thread: done is only deferred to the loop.  The job
 * may be cancelled until done has run.
 */
struct job *
job_run(struct job_pool *p, job_work_cb work, job_done_cb done,
    job_free_cb free_cb, void *arg)
{
	struct job	*j;

	j = xcalloc(1, sizeof(*j));
	j->pool = p;
	j->work = work;
	j->done = done;
	j->free = free_cb;
	j->arg = arg;

	pthread_mutex_lock(&job_lock);
	if (work == NULL) {
		j->state = JOB_FINISHED;
		j->result = JOB_DONE;
		TAILQ_INSERT_TAIL(&job_finished, j, entry);
		goto wake;
	}
	if (p->queued >= p->max_queued) {
		job_refuse(j);
		goto wake;
	}
	j->state = JOB_QUEUED;
	TAILQ_INSERT_TAIL(&p->todo, j, entry);
	p->queued++;
	if (p->queued > p->idle && p->threads < p->max_threads &&
	    job_spawn(p) == -1 && p->threads == 0) {
		/* No thread at all to run it: refuse rather than hang. */
		TAILQ_REMOVE(&p->todo, j, entry);
		p->queued--;
		job_refuse(j);
		goto wake;
	}
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&job_lock);
	return (j);
wake:
	pthread_mutex_unlock(&job_lock);
	job_wake();
	return (j);
}

/* Release a job and its argument, in the loop's thread. */
static void
job_free(struct job *j)
{
	if (j->free != NULL)
		j->free(j->arg);
	free(j);
}

/*
 * Forget a job: its callback will not run.  A job still waiting for a
 * thread is dropped at once; one whose work runs is freed when it ends.
 */
void
job_cancel(struct job *j)
{
	pthread_mutex_lock(&job_lock);
	if (j->state == JOB_QUEUED) {
		TAILQ_REMOVE(&j->pool->todo, j, entry);
		j->pool->queued--;
		pthread_mutex_unlock(&job_lock);
		job_free(j);
		return;
	}
	pthread_mutex_unlock(&job_lock);
	j->cancelled = 1;
}

/* Threads a pool has started (for tests). */
unsigned int
job_pool_threads(struct job_pool *p)
{
	unsigned int	n;

	pthread_mutex_lock(&job_lock);
	n = p->threads;
	pthread_mutex_unlock(&job_lock);
	return (n);
}

/* A pool thread: take a job, run it unlocked, hand it to the loop. */
static void *
job_thread(void *arg)
{
	struct job_pool	*p = arg;
	struct job	*j;

	pthread_mutex_lock(&job_lock);
	for (;;) {
		while ((j = TAILQ_FIRST(&p->todo)) == NULL) {
			p->idle++;
			pthread_cond_wait(&p->cond, &job_lock);
			p->idle--;
		}
		TAILQ_REMOVE(&p->todo, j, entry);
		p->queued--;
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&job_lock);

		j->work(j->arg);

		pthread_mutex_lock(&job_lock);
		j->state = JOB_FINISHED;
		j->result = JOB_DONE;
		TAILQ_INSERT_TAIL(&job_finished, j, entry);
		job_wake();
	}
	return (NULL);
}

/* The pipe is readable: call back every finished job, then free it. */
static void
job_pipe_cb(int fd, int events, void *arg)
{
	struct job_queue	 ready;
	struct job		*j;
	unsigned char		 buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	TAILQ_INIT(&ready);
	pthread_mutex_lock(&job_lock);
	TAILQ_CONCAT(&ready, &job_finished, entry);
	pthread_mutex_unlock(&job_lock);

	/* A callback may cancel a job further down the list: it is skipped. */
	while ((j = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, j, entry);
		if (!j->cancelled)
			j->done(j->arg, j->result);
		job_free(j);
	}
}
