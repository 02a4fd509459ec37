/*
 * Daemon plumbing for main.c, in start-up order: lock the PID file (so a
 * second instance refuses before it touches any port), detach, write our
 * PID into the locked file, drop privileges, report ready.  The lock is
 * an flock() on the open file, which survives the fork and dies with the
 * process.  The parent of the fork waits on a pipe until the child
 * reports, and exits with the child's status, so whoever started us (an
 * init script) learns whether the daemon really runs.
 *
 * Beside the PID file the daemon keeps a reload status file, opened with
 * it (before privileges are dropped) and rewritten after every SIGHUP:
 * one line, "PID N ok" or "PID N failed: CAUSE", N counting the reloads
 * since start (0, "started", at start).  esocksd -r sends the SIGHUP and
 * waits for N to move, so that an init script's reload says how it went.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "xmalloc.h"

/* Bytes of a failed child's message that reach the parent's stderr. */
#define DAEMON_MESSAGE_MAX	1024

/* The longest reload status line, and how often esocksd -r looks at it. */
#define DAEMON_STATUS_MAX	1024
#define DAEMON_STATUS_POLL_MS	50

static int		 daemon_pid_fd = -1;
static char		*daemon_pid_path;
static int		 daemon_ready_fd = -1;	/* the child's end */
static int		 daemon_status_fd = -1;
static char		*daemon_status_file;
static unsigned long	 daemon_reloads;

/*
 * The reload status file of a PID file: its name with ".pid" replaced by
 * ".reload", or ".reload" appended.
 */
char *
daemon_status_path(const char *pidfile)
{
	size_t	len = strlen(pidfile);
	char	*path;

	if (len > 4 && strcmp(pidfile + len - 4, ".pid") == 0)
		xasprintf(&path, "%.*s.reload", (int)(len - 4), pidfile);
	else
		xasprintf(&path, "%s.reload", pidfile);
	return (path);
}

/* Open (create) the reload status file of the PID file at path. */
static int
daemon_status_open(const char *path, char **cause)
{
	struct stat	st;
	char		*file;
	int		 fd;

	file = daemon_status_path(path);
	fd = open(file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(cause, "reload status file %s: %s", file,
		    fd == -1 ? strerror(errno) : "not a regular file");
		if (fd != -1)
			close(fd);
		free(file);
		return (-1);
	}
	if (daemon_status_fd != -1)
		close(daemon_status_fd);
	free(daemon_status_file);
	daemon_status_fd = fd;
	daemon_status_file = file;
	return (0);
}

/* Replace the status file's line with "PID N TEXT"; errors are ignored. */
static void
daemon_status_write(const char *text)
{
	char	line[DAEMON_STATUS_MAX];
	int	len;

	if (daemon_status_fd == -1)
		return;
	/* Room for the newline; a cause is cut at its own first one. */
	if (snprintf(line, sizeof(line) - 1, "%ld %lu %s", (long)getpid(),
	    daemon_reloads, text) < 0)
		return;
	line[strcspn(line, "\n")] = '\0';
	len = strlen(line);
	line[len++] = '\n';
	if (ftruncate(daemon_status_fd, 0) == 0)
		(void)pwrite(daemon_status_fd, line, len, 0);
}

/*
 * Record how the reload asked for by a SIGHUP ended: cause NULL for
 * success, else why it failed and the old configuration stays.
 */
void
daemon_reload_done(const char *cause)
{
	char	*text;

	daemon_reloads++;
	if (cause == NULL) {
		daemon_status_write("ok");
		return;
	}
	xasprintf(&text, "failed: %s", cause);
	daemon_status_write(text);
	free(text);
}

/*
 * Open and lock the PID file.  It is never followed through a symlink and
 * must be a regular file; if another process holds the lock, say which.
 * Once locked it is emptied until daemon_pidfile_write, so that a PID a
 * killed daemon left in it is never taken for ours (esocksd -r).
 * Returns -2 when the file cannot be opened at all, -1 on other errors.
 */
int
daemon_pidfile_lock(const char *path, char **cause)
{
	struct stat	st;
	char		buf[32];
	ssize_t		n;
	int		fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1) {
		xasprintf(cause, "PID file %s: %s", path, strerror(errno));
		return (-2);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(cause, "PID file %s: not a regular file", path);
		close(fd);
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			xasprintf(cause, "PID file %s is locked by pid %s: "
			    "another esocksd is running", path,
			    buf[0] != '\0' ? buf : "(unknown)");
		} else
			xasprintf(cause, "PID file %s: lock: %s", path,
			    strerror(errno));
		close(fd);
		return (-1);
	}
	if (daemon_status_open(path, cause) == -1) {
		close(fd);
		return (-1);
	}
	/* Ours now: a PID left by a killed daemon names no process. */
	(void)ftruncate(fd, 0);
	daemon_pid_fd = fd;
	free(daemon_pid_path);
	daemon_pid_path = xstrdup(path);
	return (0);
}

/*
 * Write our PID into the locked file (after detaching), and "started"
 * into the reload status file first, so that whoever reads the PID finds
 * a status of this process.
 */
int
daemon_pidfile_write(char **cause)
{
	char	buf[32];
	int	len;

	if (daemon_pid_fd == -1)
		return (0);
	daemon_status_write("started");
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(daemon_pid_fd, 0) == -1 ||
	    pwrite(daemon_pid_fd, buf, len, 0) != len) {
		xasprintf(cause, "PID file %s: %s", daemon_pid_path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Remove the PID file at exit.  After dropping privileges we may no
 * longer unlink in a root-owned run directory: then empty the file, so
 * that it names no process.  An absent or empty PID file means stopped.
 */
void
daemon_pidfile_remove(void)
{
	if (daemon_pid_fd == -1)
		return;
	if (unlink(daemon_pid_path) == -1)
		(void)ftruncate(daemon_pid_fd, 0);
	close(daemon_pid_fd);
	daemon_pid_fd = -1;
	free(daemon_pid_path);
	daemon_pid_path = NULL;
	if (daemon_status_fd != -1) {
		if (unlink(daemon_status_file) == -1)
			(void)ftruncate(daemon_status_fd, 0);
		close(daemon_status_fd);
		daemon_status_fd = -1;
	}
	free(daemon_status_file);
	daemon_status_file = NULL;
}

/*
 * In a process forked by the supervisor (PROCESSES): close the PID file,
 * the reload status file and the start-up pipe without a word.  They
 * stay the supervisor's, which writes, reports and removes them.
 */
void
daemon_forget(void)
{
	if (daemon_pid_fd != -1)
		close(daemon_pid_fd);
	daemon_pid_fd = -1;
	free(daemon_pid_path);
	daemon_pid_path = NULL;
	if (daemon_status_fd != -1)
		close(daemon_status_fd);
	daemon_status_fd = -1;
	free(daemon_status_file);
	daemon_status_file = NULL;
	if (daemon_ready_fd != -1)
		close(daemon_ready_fd);
	daemon_ready_fd = -1;
}

/*
 * The parent's side of daemon_detach: wait for the child's report and
 * exit with its status, its message on stderr.  A child that dies
 * without a word is a failure too.
 */
static __dead void
daemon_wait_child(int fd, pid_t pid)
{
	char	buf[1 + DAEMON_MESSAGE_MAX];
	size_t	have = 0;
	ssize_t	n;
	int	status;

	/* Signals meant for the daemon must not reach its self-pipe. */
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	while (have < sizeof(buf)) {
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	if (have == 0) {
		if (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status))
			fprintf(stderr, "esocksd: the daemon was killed by "
			    "signal %d during start-up\n", WTERMSIG(status));
		else
			fprintf(stderr, "esocksd: the daemon exited during "
			    "start-up\n");
		_exit(1);
	}
	if (have > 1)
		fprintf(stderr, "esocksd: %.*s\n", (int)(have - 1), buf + 1);
	/*
	 * A daemon that failed exits right after it says so; wait for it,
	 * so that once this exits its listeners are closed too and a
	 * restart finds the ports free.
	 */
	if (buf[0] != 0)
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			continue;
	_exit((unsigned char)buf[0]);
}

/*
 * Detach from the terminal: fork (the parent waits for daemon_ready or
 * daemon_ready_fail, then exits), start a new session, chdir to /, and
 * put /dev/null on descriptors 0, 1 and 2.
 */
int
daemon_detach(char **cause)
{
	pid_t	pid;
	int	fd, ready[2];

	if (pipe(ready) == -1) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		return (-1);
	}
	if (fcntl(ready[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(ready[1], F_SETFD, FD_CLOEXEC) == -1) {
		xasprintf(cause, "fcntl: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return (-1);
	}
	switch (pid = fork()) {
	case -1:
		xasprintf(cause, "fork: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return (-1);
	case 0:
		break;
	default:
		close(ready[1]);
		daemon_wait_child(ready[0], pid);
	}
	close(ready[0]);
	daemon_ready_fd = ready[1];
	if (setsid() == -1) {
		xasprintf(cause, "setsid: %s", strerror(errno));
		return (-1);
	}
	if (chdir("/") == -1) {
		xasprintf(cause, "chdir /: %s", strerror(errno));
		return (-1);
	}
	if ((fd = open("/dev/null", O_RDWR)) == -1) {
		xasprintf(cause, "/dev/null: %s", strerror(errno));
		return (-1);
	}
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1) {
		xasprintf(cause, "dup2: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	if (fd > STDERR_FILENO)
		close(fd);
	return (0);
}

/* Send the waiting parent its exit status and a message, once. */
static void
daemon_report(int status, const char *message)
{
	char	buf[1 + DAEMON_MESSAGE_MAX];
	size_t	len = 0, off = 0;
	ssize_t	n;

	if (daemon_ready_fd == -1)
		return;
	buf[0] = (char)status;
	if (message != NULL) {
		len = strlen(message);
		if (len > DAEMON_MESSAGE_MAX)
			len = DAEMON_MESSAGE_MAX;
		memcpy(buf + 1, message, len);
	}
	/* A parent gone (EPIPE, SIGPIPE ignored) has nobody to tell. */
	while (off < 1 + len) {
		n = write(daemon_ready_fd, buf + off, 1 + len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(daemon_ready_fd);
	daemon_ready_fd = -1;
}

/*
 * Start-up is done (PID file written, privileges dropped, signals
 * handled): the parent of daemon_detach exits 0.  No-op in the
 * foreground.
 */
void
daemon_ready(void)
{
	daemon_report(0, NULL);
}

/*
 * Start-up failed after daemon_detach: the parent prints message and
 * exits with status (1 runtime, 2 config).  No-op in the foreground.
 */
void
daemon_ready_fail(int status, const char *message)
{
	daemon_report(status, message);
}

/*
 * Become USER (and GROUP, else USER's group): supplementary groups first,
 * then the group, then the user, and check that root cannot come back.
 * Any failure is an error: start-up must not go on half-privileged.
 */
int
daemon_drop_privileges(const char *user, const char *group, char **cause)
{
	struct passwd	*pw = NULL;
	struct group	*gr;
	uid_t		 uid;
	gid_t		 gid;

	if ((user == NULL || *user == '\0') && (group == NULL || *group == '\0'))
		return (0);
	if (user != NULL && *user != '\0') {
		if ((pw = getpwnam(user)) == NULL) {
			xasprintf(cause, "USER %s: no such user", user);
			return (-1);
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else {
		uid = getuid();
		gid = getgid();
	}
	if (group != NULL && *group != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			xasprintf(cause, "GROUP %s: no such group", group);
			return (-1);
		}
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1) {
		xasprintf(cause, "setgroups: %s", strerror(errno));
		return (-1);
	}
#ifdef HAVE_SETRESGID
	if (setresgid(gid, gid, gid) == -1) {
#else
	if (setgid(gid) == -1 || setegid(gid) == -1) {
#endif
		xasprintf(cause, "setgid %ld: %s", (long)gid, strerror(errno));
		return (-1);
	}
	if (pw != NULL) {
#ifdef HAVE_SETRESUID
		if (setresuid(uid, uid, uid) == -1) {
#else
		if (setuid(uid) == -1 || seteuid(uid) == -1) {
#endif
			xasprintf(cause, "setuid %ld: %s", (long)uid,
			    strerror(errno));
			return (-1);
		}
		if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
			xasprintf(cause, "privileges could be regained after "
			    "dropping to %s", user);
			return (-1);
		}
	}
	if (getgid() != gid || getegid() != gid) {
		xasprintf(cause, "group is still %ld after setgid",
		    (long)getegid());
		return (-1);
	}
	return (0);
}

/* Read up to size - 1 bytes of path into buf; -1 and errno on error. */
static ssize_t
daemon_read_file(const char *path, char *buf, size_t size)
{
	ssize_t	n;
	int	fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (-1);
	n = read(fd, buf, size - 1);
	saved = errno;
	close(fd);
	errno = saved;
	if (n >= 0)
		buf[n] = '\0';
	return (n);
}

/*
 * Read the PID file at path into buf (up to size - 1 bytes) if a daemon
 * holds its lock; -1 and a cause saying why not.  A daemon killed with
 * SIGKILL leaves the file naming a PID the system may give to any other
 * process: only the lock, which dies with the daemon, says it runs.
 * The probe takes a shared lock for an instant when nobody holds one.
 */
static int
daemon_pidfile_read_held(const char *path, char *buf, size_t size,
    char **cause)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		xasprintf(cause, "PID file %s: %s: not running", path,
		    strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		xasprintf(cause, "PID file %s is not locked by a daemon: "
		    "not running", path);
		return (-1);
	}
	if (errno != EWOULDBLOCK) {
		xasprintf(cause, "PID file %s: lock: %s", path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	n = pread(fd, buf, size - 1, 0);
	if (n == -1)
		xasprintf(cause, "PID file %s: %s", path, strerror(errno));
	else
		buf[n] = '\0';
	close(fd);
	return (n == -1 ? -1 : 0);
}

/*
 * Read the reload status file: the PID and reload count of its line, and
 * in *text what follows them.  -1 when it is missing, empty or garbled.
 */
static int
daemon_status_read(const char *file, long *pid, unsigned long *n,
    char *buf, size_t size, const char **text)
{
	char	*p, *end;

	if (daemon_read_file(file, buf, size) <= 0)
		return (-1);
	buf[strcspn(buf, "\n")] = '\0';
	errno = 0;
	*pid = strtol(buf, &end, 10);
	if (end == buf || *end != ' ' || errno != 0)
		return (-1);
	p = end + 1;
	*n = strtoul(p, &end, 10);
	if (end == p || *end != ' ' || errno != 0)
		return (-1);
	*text = end + 1;
	return (0);
}

/*
 * esocksd -r: send SIGHUP to the daemon named by pidfile and wait up to
 * timeout_ms for its reload status to move.  0 when it reloaded, -1 and
 * a cause when it is not running, its reload failed (the cause is the
 * daemon's) or it gave no answer.
 */
int
daemon_reload_request(const char *pidfile, int timeout_ms, char **cause)
{
	struct timespec	 ts = { 0, DAEMON_STATUS_POLL_MS * 1000000L };
	char		 buf[DAEMON_STATUS_MAX], *file, *end;
	const char	*text;
	unsigned long	 n, before = 0;
	long		 pid, spid;
	int		 waited, rc = -1;

	if (daemon_pidfile_read_held(pidfile, buf, 32, cause) == -1)
		return (-1);
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (end == buf || (*end != '\n' && *end != '\0') || errno != 0 ||
	    pid <= 1 || pid > INT_MAX) {
		xasprintf(cause, "PID file %s names no process: not running",
		    pidfile);
		return (-1);
	}
	if (kill((pid_t)pid, 0) == -1) {
		xasprintf(cause, "pid %ld (from %s): %s", pid, pidfile,
		    errno == ESRCH ? "not running" : strerror(errno));
		return (-1);
	}
	file = daemon_status_path(pidfile);
	if (daemon_status_read(file, &spid, &n, buf, sizeof(buf), &text) == 0 &&
	    spid == pid)
		before = n;
	else if (access(file, F_OK) == -1) {
		/* A daemon from before reload statuses: HUP, cannot tell. */
		if (kill((pid_t)pid, SIGHUP) == -1)
			xasprintf(cause, "pid %ld: SIGHUP: %s", pid,
			    strerror(errno));
		else
			xasprintf(cause, "sent SIGHUP to pid %ld, which keeps "
			    "no %s: see its log for how the reload went", pid,
			    file);
		free(file);
		return (-1);
	}
	if (kill((pid_t)pid, SIGHUP) == -1) {
		xasprintf(cause, "pid %ld: SIGHUP: %s", pid, strerror(errno));
		free(file);
		return (-1);
	}
	for (waited = 0; waited <= timeout_ms;
	    waited += DAEMON_STATUS_POLL_MS) {
		if (daemon_status_read(file, &spid, &n, buf, sizeof(buf),
		    &text) == 0 && spid == pid && n > before) {
			if (strcmp(text, "ok") == 0)
				rc = 0;
			else if (strncmp(text, "failed: ", 8) == 0)
				xasprintf(cause, "%s", text + 8);
			else
				xasprintf(cause, "pid %ld: reload status "
				    "'%s' in %s", pid, text, file);
			free(file);
			return (rc);
		}
		if (kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
			xasprintf(cause, "pid %ld exited during the reload",
			    pid);
			free(file);
			return (-1);
		}
		nanosleep(&ts, NULL);
	}
	xasprintf(cause, "pid %ld gave no reload status in %s within %d s: "
	    "see its log", pid, file, timeout_ms / 1000);
	free(file);
	return (-1);
}
