/*
 * PROCESSES: with more than one, the daemon's first process becomes a
 * supervisor that does no network work.  It forks the processes that do
 * (each a whole server or worker with its own reactor: nothing mutable
 * is shared on the data path), holds the PID file, passes SIGHUP,
 * SIGTERM, SIGINT and SIGUSR1 on, restarts a process that dies (after a
 * second, longer when it keeps dying soon after its start) and reports
 * one reload status for all.  Each process talks to it over its own
 * socket pair, one line per event ("ready", "failed CAUSE", "reload ok",
 * "reload failed CAUSE"); a process whose supervisor is gone (the pair
 * reads EOF) stops as on SIGTERM.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "procs.h"
#include "sock.h"
#include "xmalloc.h"

#define PROCS_RESTART_MS	1000	/* first restart delay */
#define PROCS_RESTART_MAX_MS	30000
#define PROCS_QUICK_MS		10000	/* dying sooner doubles the delay */
#define PROCS_RELOAD_MS		8000	/* esocksd -r waits 10 s */
#define PROCS_KILL_MS		15000	/* after SIGTERM; the grace is 10 s */
#define PROCS_LINE_MAX		512

/* One process of PROCESSES, as the supervisor sees it. */
struct procs_child {
	unsigned int	 index;
	pid_t		 pid;		/* 0 while not running */
	int		 fd;		/* our end of its socket pair, or -1 */
	int		 ready;		/* said "ready" since its last fork */
	int		 reloading;	/* owes an answer to a SIGHUP */
	char		*cause;		/* its "failed" line, if any */
	uint64_t	 forked;	/* ev_now() at fork */
	uint64_t	 delay;		/* before its next restart */
	struct ev_timer	 restart;
	char		 line[PROCS_LINE_MAX];
	size_t		 len;
};

static const struct procs_ops	*procs_ops;
static struct procs_child	*procs;
static unsigned int		 procs_n;
static int			 procs_starting;
static int			 procs_stopping;
static int			 procs_reloading;
static char			*procs_reload_cause;
static struct ev_timer		 procs_reload_timer;
static struct ev_timer		 procs_kill_timer;
static int			 procs_fd = -1;	/* in a child: its end */
static void			(*procs_gone_cb)(void);

static void	procs_spawn(struct procs_child *);

/* The signals the supervisor handles, held across a fork. */
static void
procs_hold_signals(int how)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(how, &set, NULL);
}

/* Send signo to every running process. */
static void
procs_signal_all(int signo)
{
	unsigned int	i;

	for (i = 0; i < procs_n; i++)
		if (procs[i].pid > 0)
			(void)kill(procs[i].pid, signo);
}

/* Whether any process is still running. */
static int
procs_any_running(void)
{
	unsigned int	i;

	for (i = 0; i < procs_n; i++)
		if (procs[i].pid > 0)
			return (1);
	return (0);
}

/* The reload is over for every process, or ran out of time: report. */
static void
procs_reload_end(void)
{
	unsigned int	i;

	for (i = 0; i < procs_n; i++)
		procs[i].reloading = 0;
	procs_reloading = 0;
	ev_timer_stop(&procs_reload_timer);
	procs_ops->reloaded(procs_reload_cause);
	free(procs_reload_cause);
	procs_reload_cause = NULL;
}

/* Process c answered the reload (cause NULL: it took the new config). */
static void
procs_reload_answer(struct procs_child *c, const char *cause)
{
	unsigned int	i;

	if (!c->reloading)
		return;
	c->reloading = 0;
	if (cause != NULL && procs_reload_cause == NULL)
		xasprintf(&procs_reload_cause, "process %u: %s", c->index,
		    cause);
	for (i = 0; i < procs_n; i++)
		if (procs[i].reloading)
			return;
	procs_reload_end();
}

/* A process gave no reload answer in PROCS_RELOAD_MS. */
static void
procs_reload_timeout_cb(void *arg)
{
	unsigned int	i;

	for (i = 0; i < procs_n; i++) {
		if (procs[i].reloading && procs_reload_cause == NULL)
			xasprintf(&procs_reload_cause, "process %u did not "
			    "answer the reload", procs[i].index);
	}
	procs_reload_end();
}

/* Whether every process has said it is ready. */
static int
procs_all_ready(void)
{
	unsigned int	i;

	for (i = 0; i < procs_n; i++)
		if (!procs[i].ready)
			return (0);
	return (1);
}

/* Act on one line from process c. */
static void
procs_line(struct procs_child *c, const char *line)
{
	if (strcmp(line, "ready") == 0) {
		c->ready = 1;
		if (procs_starting) {
			if (procs_all_ready()) {
				procs_starting = 0;
				procs_ops->ready();
			}
		} else
			log_info("process %u restarted (pid %ld)", c->index,
			    (long)c->pid);
	} else if (strncmp(line, "failed ", 7) == 0) {
		free(c->cause);
		c->cause = xstrdup(line + 7);
	} else if (strcmp(line, "reload ok") == 0)
		procs_reload_answer(c, NULL);
	else if (strncmp(line, "reload failed ", 14) == 0)
		procs_reload_answer(c, line + 14);
	else
		log_warnx("process %u: unexpected '%.64s'", c->index, line);
}

/* Close our end of process c's socket pair. */
static void
procs_close(struct procs_child *c)
{
	if (c->fd == -1)
		return;
	ev_io_del(c->fd);
	close(c->fd);
	c->fd = -1;
}

/* Process c's socket pair is readable: take its complete lines. */
static void
procs_read_cb(int fd, int events, void *arg)
{
	struct procs_child	*c = arg;
	char			*nl;
	ssize_t			 n;
	size_t			 used;

	n = read(fd, c->line + c->len, sizeof(c->line) - 1 - c->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		procs_close(c);
		return;
	}
	c->len += (size_t)n;
	c->line[c->len] = '\0';
	while ((nl = strchr(c->line, '\n')) != NULL) {
		*nl = '\0';
		procs_line(c, c->line);
		used = (size_t)(nl + 1 - c->line);
		memmove(c->line, nl + 1, c->len - used + 1);
		c->len -= used;
	}
	if (c->len == sizeof(c->line) - 1) {
		log_warnx("process %u: line too long", c->index);
		c->len = 0;
	}
}

/* Restart process c once its delay has passed. */
static void
procs_restart_cb(void *arg)
{
	struct procs_child	*c = arg;

	if (!procs_stopping)
		procs_spawn(c);
}

/* Say how a process ended, from its wait status. */
static void
procs_describe(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "was killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(buf, size, "ended (status %d)", status);
}

/* Process c has ended: fail start-up, restart it, or count it gone. */
static void
procs_ended(struct procs_child *c, int status)
{
	char	how[64], *cause;
	pid_t	pid = c->pid;

	procs_describe(status, how, sizeof(how));
	procs_close(c);
	c->pid = 0;
	if (c->reloading)
		procs_reload_answer(c, how);
	if (procs_stopping) {
		if (!procs_any_running())
			ev_break();
		return;
	}
	if (procs_starting) {
		if (c->cause != NULL)
			cause = xstrdup(c->cause);
		else
			xasprintf(&cause, "process %u %s during start-up",
			    c->index, how);
		procs_stopping = 1;
		procs_signal_all(SIGKILL);
		procs_ops->fail(cause);
	}
	/* Dying again soon after a restart doubles the delay. */
	if (c->delay > 0 && ev_now() - c->forked < PROCS_QUICK_MS) {
		c->delay *= 2;
		if (c->delay > PROCS_RESTART_MAX_MS)
			c->delay = PROCS_RESTART_MAX_MS;
	} else
		c->delay = PROCS_RESTART_MS;
	log_warnx("process %u (pid %ld) %s%s%s; restarting it in %llu ms",
	    c->index, (long)pid, how, c->cause != NULL ? ": " : "",
	    c->cause != NULL ? c->cause : "", (unsigned long long)c->delay);
	ev_timer_start(&c->restart, c->delay);
}

/* SIGCHLD: collect every process that ended. */
static void
procs_sigchld(int signo, void *arg)
{
	unsigned int	i;
	pid_t		pid;
	int		status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < procs_n; i++) {
			if (procs[i].pid == pid) {
				procs_ended(&procs[i], status);
				break;
			}
		}
	}
}

/* SIGTERM or SIGINT: pass SIGTERM on; stop when every process has. */
static void
procs_sigterm(int signo, void *arg)
{
	unsigned int	i;

	if (!procs_stopping) {
		log_info("%s: stopping %u processes", strsignal(signo),
		    procs_n);
		procs_stopping = 1;
		for (i = 0; i < procs_n; i++)
			ev_timer_stop(&procs[i].restart);
		ev_timer_start(&procs_kill_timer, PROCS_KILL_MS);
	}
	procs_signal_all(SIGTERM);
	if (!procs_any_running())
		ev_break();
}

/* A process outlived its grace time: kill it. */
static void
procs_kill_cb(void *arg)
{
	log_warnx("processes still running after %d s; killing them",
	    PROCS_KILL_MS / 1000);
	procs_signal_all(SIGKILL);
}

/* SIGHUP: reload here, then in every process, and report once. */
static void
procs_sighup(int signo, void *arg)
{
	unsigned int	i;
	char		*cause;

	if (procs_stopping) {
		procs_ops->reloaded("stopping: not reloaded");
		return;
	}
	if (procs_reloading)
		procs_reload_end();
	if (procs_ops->reload(&cause) == -1) {
		procs_ops->reloaded(cause);
		free(cause);
		return;
	}
	/* One that is not ready yet starts from the new config anyway. */
	for (i = 0; i < procs_n; i++) {
		if (procs[i].pid > 0 && procs[i].ready) {
			procs[i].reloading = 1;
			procs_reloading = 1;
			(void)kill(procs[i].pid, SIGHUP);
		}
	}
	if (!procs_reloading) {
		procs_ops->reloaded(NULL);
		return;
	}
	ev_timer_start(&procs_reload_timer, PROCS_RELOAD_MS);
}

/* SIGUSR1: every process logs its counters. */
static void
procs_sigusr1(int signo, void *arg)
{
	procs_signal_all(SIGUSR1);
}

/*
 * Fork process c.  The child closes the supervisor's descriptors and
 * runs procs_ops->child, which never returns; a fork that fails is
 * retried like a process that died.
 */
static void
procs_spawn(struct procs_child *c)
{
	unsigned int	i;
	int		sv[2];
	pid_t		pid;

	free(c->cause);
	c->cause = NULL;
	c->ready = 0;
	c->len = 0;
	c->forked = ev_now();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		log_warn("process %u: socketpair", c->index);
		goto retry;
	}
	procs_hold_signals(SIG_BLOCK);
	if ((pid = fork()) == -1) {
		log_warn("process %u: fork", c->index);
		procs_hold_signals(SIG_UNBLOCK);
		close(sv[0]);
		close(sv[1]);
		goto retry;
	}
	if (pid == 0) {
		/* Signals stay held until the child has its own handlers. */
		close(sv[0]);
		for (i = 0; i < procs_n; i++)
			if (procs[i].fd != -1)
				close(procs[i].fd);
		ev_signal_set(SIGCHLD, NULL, NULL);
		procs_fd = sv[1];
		procs_ops->child(c->index);
	}
	procs_hold_signals(SIG_UNBLOCK);
	close(sv[1]);
	(void)sock_set_nonblock(sv[0]);
	c->pid = pid;
	c->fd = sv[0];
	ev_io_set(c->fd, EV_READ, procs_read_cb, c);
	log_debug("process %u started (pid %ld)", c->index, (long)pid);
	return;
retry:
	if (procs_starting) {
		procs_stopping = 1;
		procs_signal_all(SIGKILL);
		procs_ops->fail(xstrdup("cannot start the processes"));
	}
	c->delay = c->delay > 0 ? c->delay : PROCS_RESTART_MS;
	ev_timer_start(&c->restart, c->delay);
}

/*
 * Become the supervisor of n processes: take the signals (after
 * ev_init) and fork them.  The caller runs the loop; it ends once every
 * process has stopped after a SIGTERM.
 */
void
procs_start(unsigned int n, const struct procs_ops *ops)
{
	unsigned int	i;

	procs_ops = ops;
	procs_n = n;
	procs = xcalloc(n, sizeof(*procs));
	procs_starting = 1;
	ev_timer_init(&procs_reload_timer, procs_reload_timeout_cb, NULL);
	ev_timer_init(&procs_kill_timer, procs_kill_cb, NULL);
	ev_signal_set(SIGCHLD, procs_sigchld, NULL);
	ev_signal_set(SIGHUP, procs_sighup, NULL);
	ev_signal_set(SIGTERM, procs_sigterm, NULL);
	ev_signal_set(SIGINT, procs_sigterm, NULL);
	ev_signal_set(SIGUSR1, procs_sigusr1, NULL);
	for (i = 0; i < n; i++) {
		procs[i].index = i;
		procs[i].fd = -1;
		procs[i].delay = 0;	/* not restarted yet */
		ev_timer_init(&procs[i].restart, procs_restart_cb, &procs[i]);
	}
	for (i = 0; i < n && !procs_stopping; i++)
		procs_spawn(&procs[i]);
}

/* Free the supervisor's table (at exit, for a leak checker). */
void
procs_free(void)
{
	unsigned int	i;

	for (i = 0; i < procs_n; i++) {
		procs_close(&procs[i]);
		free(procs[i].cause);
	}
	free(procs);
	procs = NULL;
	procs_n = 0;
	free(procs_reload_cause);
	procs_reload_cause = NULL;
}

/* Whether this is a process forked by the supervisor. */
int
procs_child(void)
{
	return (procs_fd != -1);
}

/* Send the supervisor one line; a supervisor gone has nobody to tell. */
static void
procs_child_send(const char *what, const char *cause)
{
	char	line[PROCS_LINE_MAX];
	int	len;

	if (procs_fd == -1)
		return;
	len = snprintf(line, sizeof(line) - 1, "%s%s%s", what,
	    cause != NULL ? " " : "", cause != NULL ? cause : "");
	if (len < 0)
		return;
	if ((size_t)len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[strcspn(line, "\n")] = '\0';
	len = strlen(line);
	line[len++] = '\n';
	(void)write(procs_fd, line, len);
}

/* The supervisor's end closed: it is gone, so stop. */
static void
procs_child_gone_cb(int fd, int events, void *arg)
{
	char	buf[64];
	ssize_t	n;

	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		return;
	ev_io_del(fd);
	log_warnx("the supervisor is gone; stopping");
	if (procs_gone_cb != NULL)
		procs_gone_cb();
}

/*
 * In a child, after its ev_init and its signal handlers: release the
 * signals held since the fork, and call gone if the supervisor goes.
 */
void
procs_child_watch(void (*gone)(void))
{
	if (procs_fd == -1)
		return;
	procs_hold_signals(SIG_UNBLOCK);
	procs_gone_cb = gone;
	(void)sock_set_nonblock(procs_fd);
	ev_io_set(procs_fd, EV_READ, procs_child_gone_cb, NULL);
}

/* In a child: start-up is done. */
void
procs_child_ready(void)
{
	procs_child_send("ready", NULL);
}

/* In a child: start-up failed for cause (the child exits next). */
void
procs_child_failed(const char *cause)
{
	procs_child_send("failed", cause);
}

/* In a child: how its reload went, cause NULL for success. */
void
procs_child_reloaded(const char *cause)
{
	if (cause == NULL)
		procs_child_send("reload ok", NULL);
	else
		procs_child_send("reload failed", cause);
}
