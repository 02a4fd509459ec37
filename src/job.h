/*
 * Blocking work off the loop.  A job runs a function in a thread of a
 * small pool, then calls its callback in the loop's thread with the
 * outcome; the answers of every pool come back through one pipe the
 * reactor watches.  The resolver runs getaddrinfo this way and the
 * server its password checks, each in a pool of its own so that one
 * kind of work cannot starve the other.
 *
 * A pool starts threads while more jobs wait than threads are idle, up
 * to its cap, and holds at most its queue cap of waiting jobs: beyond
 * that a job is refused (its callback says so, without running it).  A
 * job can be cancelled until its callback has run; a cancelled job's
 * callback never runs, though its work may already be under way.
 */
#ifndef JOB_H
#define JOB_H

#include <stddef.h>

struct job;
struct job_pool;

enum job_result {
	JOB_DONE,		/* the work ran */
	JOB_REFUSED		/* the queue was full: the work never ran */
};

/* Runs in a pool thread: it may block, and must not touch the loop. */
typedef void	(*job_work_cb)(void *arg);
/* Runs in the loop's thread once the work is done, unless cancelled. */
typedef void	(*job_done_cb)(void *arg, enum job_result);
/* Runs in the loop's thread last, cancelled or not: release arg. */
typedef void	(*job_free_cb)(void *arg);

struct job_pool	*job_pool_new(const char *name, unsigned int max_threads,
		    size_t max_queued);
struct job	*job_run(struct job_pool *, job_work_cb, job_done_cb,
		    job_free_cb, void *arg);
void		 job_cancel(struct job *);
unsigned int	 job_pool_threads(struct job_pool *);

#endif
