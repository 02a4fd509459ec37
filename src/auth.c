/*
 * Password checks (auth.h).  SHA-crypt is slow by design and every
 * tunnel would wait for it on the loop, so checks run in a small pool of
 * threads of their own (job.c), on copies of the entry: a reload may
 * free the database while a check runs.  Checks beyond the queue are
 * answered AUTH_BUSY at once.
 */
#include "config.h"

#include <stdlib.h>

#include "auth.h"
#include "conf.h"
#include "job.h"
#include "passwd.h"
#include "xmalloc.h"

/* CPU-bound work: a thread per core or two is all that helps. */
#define AUTH_THREADS	2
#define AUTH_QUEUED	32

/* The work of a password check in the pool, and whom to tell. */
struct auth_job {
	struct passwd_attempt	*attempt;
	int			 ok;
	auth_cb			 cb;
	void			*arg;
};

static struct passwd_db	*auth_db;
static struct job_pool	*auth_pool;

/* Load conf's PASSWORD_FILE when AUTH=password; *out is NULL otherwise. */
int
auth_load(const struct conf *conf, struct passwd_db **out, char **cause)
{
	*out = NULL;
	if (conf->auth != CONF_AUTH_PASSWORD)
		return (0);
	if ((*out = passwd_load(conf->password_file, cause)) == NULL)
		return (-1);
	return (0);
}

/* Put db in force (NULL: none) and free the one it replaces. */
void
auth_set(struct passwd_db *db)
{
	if (auth_db != NULL && auth_db != db)
		passwd_free(auth_db);
	auth_db = db;
}

/* The hashing, in a pool thread, on copies. */
static void
auth_work(void *arg)
{
	struct auth_job	*aj = arg;

	aj->ok = passwd_attempt_verify(aj->attempt);
}

/* The outcome, in the loop. */
static void
auth_done(void *arg, enum job_result result)
{
	struct auth_job	*aj = arg;

	if (result == JOB_REFUSED)
		aj->cb(AUTH_BUSY, aj->arg);
	else
		aj->cb(aj->ok ? AUTH_OK : AUTH_BAD, aj->arg);
}

/* Release a check, answered or cancelled. */
static void
auth_free(void *arg)
{
	struct auth_job	*aj = arg;

	passwd_attempt_free(aj->attempt);
	free(aj);
}

/*
 * The policy of an account in the PASSWORD_FILE in force (tags=,
 * max_sessions=, no_worker=, rate=); -1 and an empty policy when there
 * is no such user.
 */
int
auth_policy(const char *user, struct passwd_policy *out)
{
	return (passwd_policy(auth_db, user, out));
}

/*
 * Check a user's password against the PASSWORD_FILE in force, off the
 * loop.  cb is called from the loop later, never from inside this call,
 * unless the returned job is cancelled first (job_cancel).
 */
struct job *
auth_check(const char *user, const char *password, auth_cb cb, void *arg)
{
	struct auth_job	*aj;

	if (auth_pool == NULL)
		auth_pool = job_pool_new("password checks", AUTH_THREADS,
		    AUTH_QUEUED);
	aj = xcalloc(1, sizeof(*aj));
	aj->attempt = passwd_attempt_new(auth_db, user, password);
	aj->cb = cb;
	aj->arg = arg;
	return (job_run(auth_pool, auth_work, auth_done, auth_free, aj));
}
