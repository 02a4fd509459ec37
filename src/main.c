/*
 * esocksd: the command line, start-up in the OpenBSD order (parse the
 * config, bind, daemonize, write the PID file, drop privileges), the
 * signals (HUP reload, TERM/INT graceful stop, USR1 counters) and the
 * loop.  Both roles live in this one program.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "conf.h"
#include "daemon.h"
#include "ev.h"
#include "log.h"
#include "install-paths.h"
#include "procs.h"
#include "resolver.h"
#include "server.h"
#include "worker.h"
#include "xmalloc.h"

/* How long SIGTERM lets tunnels finish (DESIGN.md). */
#define MAIN_GRACE_MS	10000
/* How long esocksd -r waits for the daemon to say how its reload went. */
#define MAIN_RELOAD_WAIT_MS	10000

/* What main asks of a role; each role is one of these. */
struct role {
	/* Bind or dial what the config asks for; -1 and a cause on error. */
	int	(*start)(struct conf *, char **cause);
	/* Check and take a new config, or refuse it with a cause. */
	int	(*reload)(struct conf *, char **cause);
	/* Stop taking new work; what is in flight may finish. */
	void	(*stop)(void);
	/* Whether nothing is left to finish (asked only, never acting). */
	int	(*idle)(void);
	/* Close everything at once (exit). */
	void	(*abort_all)(void);
	/* Log the SIGUSR1 counters lines. */
	void	(*log_counters)(void);
};

static const struct role main_roles[] = {
	[CONF_ROLE_SERVER] = {
		.start = server_start,
		.reload = server_reload,
		.stop = server_stop,
		.idle = server_idle,
		.abort_all = server_abort_all,
		.log_counters = server_log_counters
	},
	[CONF_ROLE_WORKER] = {
		.start = worker_start,
		.reload = worker_reload,
		.stop = worker_stop,
		.idle = worker_idle,
		.abort_all = worker_abort_all,
		.log_counters = worker_log_counters
	}
};

static enum conf_role	 main_role;
static const struct role *main_role_ops;	/* main_roles[main_role] */
static char		*main_conf_path;
static char		*main_cwd;	/* at start: relative paths use it */
static char		*main_pidfile;
static char		**main_overrides;
static int		 main_noverrides;
static int		 main_foreground;	/* -f */
static int		 main_verbose;		/* -d */
static int		 main_configtest;	/* -t */
static int		 main_reload;		/* -r */
static int		 main_stopping;
static int		 main_supervisor;	/* PROCESSES > 1, the parent */
static unsigned int	 main_index;		/* which of PROCESSES we are */
static struct ev_timer	 main_grace_timer;

/* Print the synopsis and exit with the usage status, 2. */
static __dead void
main_usage(void)
{
	fprintf(stderr,
	    "usage: esocksd [-f] [-d]... [-c file | -e env] [-p pidfile] "
	    "[-o key=value]... server|worker\n"
	    "       esocksd -t [-c file | -e env] [-o key=value]... "
	    "server|worker\n"
	    "       esocksd -r [-c file | -e env] [-p pidfile] "
	    "[-o key=value]... server|worker\n"
	    "       esocksd -V\n");
	exit(2);
}

/* The config file to read: -c, else -e, else $ESOCKSD_ENV, else local. */
static char *
main_conf_file(const char *file, const char *env)
{
	char	*path;

	if (file == NULL) {
		if (env == NULL && (env = getenv("ESOCKSD_ENV")) == NULL)
			env = "local";
		if (*env == '\0' || strchr(env, '/') != NULL ||
		    strcmp(env, "..") == 0) {
			fprintf(stderr, "esocksd: bad environment name '%s'\n",
			    env);
			exit(2);
		}
		xasprintf(&path, "%s/esocksd/%s.conf", SYSCONFDIR, env);
		return (path);
	}
	/* Absolute, so a reload still finds it after chdir("/"). */
	if (*file != '/' && main_cwd != NULL) {
		xasprintf(&path, "%s/%s", main_cwd, file);
		return (path);
	}
	return (xstrdup(file));
}

/* Read the config with -o and -p applied; NULL and a cause on error. */
static struct conf *
main_load(char **cause)
{
	struct conf	*conf;
	char		*key, *value, *why, *where;
	int		 i;

	if ((conf = conf_load(main_conf_path, cause)) == NULL)
		return (NULL);
	for (i = 0; i < main_noverrides; i++) {
		value = strchr(main_overrides[i], '=');
		if (value == NULL) {
			xasprintf(cause, "-o %s: want KEY=VALUE",
			    main_overrides[i]);
			goto fail;
		}
		key = xstrndup(main_overrides[i], value - main_overrides[i]);
		if (conf_set(conf, key, value + 1, &why) == -1) {
			xasprintf(cause, "-o %s: %s", main_overrides[i], why);
			free(why);
			free(key);
			goto fail;
		}
		/* Not the value: it may be WORKER_SECRET. */
		xasprintf(&where, "-o %s", key);
		conf_set_where(conf, key, where);
		free(where);
		free(key);
	}
	if (main_pidfile != NULL) {
		if (conf_set(conf, "PIDFILE", main_pidfile, &why) == -1) {
			xasprintf(cause, "-p %s: %s", main_pidfile, why);
			free(why);
			goto fail;
		}
		conf_set_where(conf, "PIDFILE", "-p");
	}
	if (conf_absolute_paths(conf, main_cwd, cause) == -1 ||
	    conf_finish(conf, main_role, cause) == -1 ||
	    conf_verify(conf, main_role, cause) == -1)
		goto fail;
	/* conf_finish checked that every process's ports fit. */
	if (main_index > 0 && conf_listen_shift(conf, main_index) == -1) {
		xasprintf(cause, "PROCESSES: no ports for process %u",
		    main_index);
		goto fail;
	}
	return (conf);
fail:
	conf_free(conf);
	return (NULL);
}

/* Log one of conf_warnings' warnings. */
static void
main_warn(const char *msg, void *arg)
{
	log_warnx("%s", msg);
}

/* Whether two optional strings (USER, GROUP) differ. */
static int
main_changed(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != b);
	return (strcmp(a, b) != 0);
}

/* Apply the parts of the config that belong to logging. */
static void
main_apply_logging(struct conf *conf)
{
	log_set_facility(conf->syslog_facility);
	log_class_enable(LOGC_CONNECTION, conf->log_connection);
	log_class_enable(LOGC_SESSION, conf->log_session);
	log_class_enable(LOGC_EVENT, conf->log_event);
	log_class_enable(LOGC_ERROR, conf->log_error);
	log_class_enable(LOGC_ACCESS, conf->log_access);
}

/*
 * Report how a reload ended, cause NULL for success: to the reload
 * status file, or from one of PROCESSES to its supervisor, which
 * reports for all.
 */
static void
main_reload_report(const char *cause)
{
	if (procs_child())
		procs_child_reloaded(cause);
	else
		daemon_reload_done(cause);
}

/* The warnings of a reload that is taken: keys read only at start. */
static void
main_reload_warnings(struct conf *conf)
{
	if (procs_child())
		return;		/* the supervisor says it once */
	conf_warnings(conf, main_role, main_warn, NULL);
	if (main_changed(conf->user, cfg->user) ||
	    main_changed(conf->group, cfg->group))
		log_warnx("USER and GROUP changes take effect at the next "
		    "start");
	if (conf->processes != cfg->processes)
		log_warnx("PROCESSES changes take effect at the next start");
	if (strcmp(conf->poller, ev_poller()) != 0)
		log_warnx("POLLER=%s needs a restart; %s stays in use",
		    conf->poller, ev_poller());
}

/*
 * SIGHUP: re-read the config into a fresh struct and swap it in only if
 * it loads and the role accepts it; otherwise log why and keep the old.
 */
static void
main_sighup(int signo, void *arg)
{
	struct conf	*conf;
	char		*cause;

	if (main_stopping) {
		main_reload_report("stopping: not reloaded");
		return;
	}
	log_info("reloading %s", main_conf_path);
	if ((conf = main_load(&cause)) == NULL) {
		log_warnx("reload failed, keeping the old configuration: %s",
		    cause);
		main_reload_report(cause);
		free(cause);
		return;
	}
	conf->processes = cfg->processes;
	if (main_role_ops->reload(conf, &cause) == -1) {
		log_warnx("reload failed, keeping the old configuration: %s",
		    cause);
		main_reload_report(cause);
		free(cause);
		conf_free(conf);
		return;
	}
	main_reload_warnings(conf);
	cfg_replace(conf);
	main_apply_logging(cfg);
	log_info("reloaded %s", main_conf_path);
	main_reload_report(NULL);
}

/*
 * Before each wait of a graceful stop: leave the loop once the role has
 * nothing left.  The roles never call main: the loop asks them here.
 */
static void
main_stop_check(void)
{
	if (main_role_ops->idle())
		ev_break();
}

/* The 10 s grace of a graceful stop ran out: leave the loop anyway. */
static void
main_grace_cb(void *arg)
{
	log_info("grace time over, closing what is left");
	ev_break();
}

/*
 * SIGTERM or SIGINT: stop accepting and let tunnels finish for up to
 * MAIN_GRACE_MS; a second signal leaves at once.
 */
static void
main_sigterm(int signo, void *arg)
{
	if (main_stopping) {
		log_info("second %s: exiting now", strsignal(signo));
		ev_break();
		return;
	}
	main_stopping = 1;
	log_info("%s: no longer accepting; letting tunnels finish for up "
	    "to %d s", strsignal(signo), MAIN_GRACE_MS / 1000);
	main_role_ops->stop();
	/* Ends the loop before its next wait if nothing is left already. */
	ev_prepare_add(main_stop_check);
	ev_timer_init(&main_grace_timer, main_grace_cb, NULL);
	ev_timer_start(&main_grace_timer, MAIN_GRACE_MS);
}

/* SIGUSR1: log the role's counters. */
static void
main_sigusr1(int signo, void *arg)
{
	main_role_ops->log_counters();
}

/*
 * Give up start-up: log why, tell the parent waiting in daemon_detach
 * (so its exit status and stderr say it too), remove the PID file if we
 * hold it (it names no process) and exit with status, 1 for a runtime
 * failure.
 */
static __dead void
main_fail(int status, char *cause)
{
	log_warnx("%s", cause);
	procs_child_failed(cause);
	daemon_ready_fail(status, cause);
	free(cause);
	daemon_pidfile_remove();
	exit(status);
}

/*
 * Use every descriptor the hard limit allows: each tunnel holds two, and
 * the reactor is not capped at FD_SETSIZE.
 */
static void
main_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit RLIMIT_NOFILE");
}

/*
 * Hold (SIG_BLOCK) or release (SIG_UNBLOCK) SIGHUP and SIGUSR1: before
 * the handlers are in place their default action would kill us, and a
 * logrotate may send one during start-up.
 */
static void
main_hold_signals(int how)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(how, &set, NULL);
}

/* Read the command line into the main_* settings; bad usage exits 2. */
static void
main_parse_args(int argc, char **argv)
{
	const char	*file = NULL, *env = NULL;
	int		 ch;

	while ((ch = getopt(argc, argv, "c:de:fo:p:rtV")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'd':
			main_verbose++;
			break;
		case 'e':
			env = optarg;
			break;
		case 'f':
			main_foreground = 1;
			break;
		case 'o':
			main_overrides = xreallocarray(main_overrides,
			    main_noverrides + 1, sizeof(*main_overrides));
			main_overrides[main_noverrides++] = optarg;
			break;
		case 'p':
			main_pidfile = optarg;
			break;
		case 'r':
			main_reload = 1;
			break;
		case 't':
			main_configtest = 1;
			break;
		case 'V':
			printf("esocksd %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			main_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || (file != NULL && env != NULL) ||
	    (main_reload && main_configtest))
		main_usage();
	if (strcmp(argv[0], "server") == 0)
		main_role = CONF_ROLE_SERVER;
	else if (strcmp(argv[0], "worker") == 0)
		main_role = CONF_ROLE_WORKER;
	else {
		fprintf(stderr, "esocksd: unknown role '%s': want server or "
		    "worker\n", argv[0]);
		main_usage();
	}
	main_role_ops = &main_roles[main_role];

	main_cwd = getcwd(NULL, 0);
	main_conf_path = main_conf_file(file, env);
}

/* Take the role's signals: HUP reload, TERM and INT stop, USR1 counters. */
static void
main_role_signals(void)
{
	ev_signal_set(SIGHUP, main_sighup, NULL);
	ev_signal_set(SIGTERM, main_sigterm, NULL);
	ev_signal_set(SIGINT, main_sigterm, NULL);
	ev_signal_set(SIGUSR1, main_sigusr1, NULL);
	main_hold_signals(SIG_UNBLOCK);
}

/* The supervisor is gone: stop as on SIGTERM. */
static void
main_orphaned(void)
{
	main_sigterm(SIGTERM, NULL);
}

/*
 * One of PROCESSES, just forked by the supervisor: leave it the PID
 * file, take a reactor of our own and our ports, start the role, drop
 * privileges and run until stopped.
 */
static __dead void
main_child(unsigned int index)
{
	struct conf	*conf;
	char		*cause;
	int		 rc;

	main_supervisor = 0;
	main_index = index;
	daemon_forget();
	procs_free();
	ev_free();
	ev_init();
	main_role_signals();
	procs_child_watch(main_orphaned);
	/* Our own worker and stats ports (conf_listen_shift). */
	conf = cfg;
	cfg = NULL;
	if (index > 0 && conf_listen_shift(conf, index) == -1)
		main_fail(1, xstrdup("PROCESSES: no ports for this process"));
	cfg_replace(conf);
	if (main_role_ops->start(cfg, &cause) == -1)
		main_fail(1, cause);
	if (daemon_drop_privileges(cfg->user, cfg->group, &cause) == -1)
		main_fail(1, cause);
	resolver_init();
	procs_child_ready();
	log_info("esocksd %s process %u started as %s (pid %ld)",
	    PACKAGE_VERSION, index, conf_role_name(main_role),
	    (long)getpid());
	rc = ev_run();
	main_role_ops->abort_all();
	log_info("esocksd process %u stopped", index);
	cfg_replace(NULL);
	free(main_conf_path);
	free(main_cwd);
	free(main_overrides);
	ev_free();
	exit(rc == 0 ? 0 : 1);
}

/* Supervisor: every process has started. */
static void
main_procs_ready(void)
{
	daemon_ready();
	log_info("esocksd %s started as %s with %u processes (pid %ld)",
	    PACKAGE_VERSION, conf_role_name(main_role), cfg->processes,
	    (long)getpid());
}

/* Supervisor: a process failed to start; so does the daemon. */
static __dead void
main_procs_fail(char *cause)
{
	main_fail(1, cause);
}

/* Supervisor, SIGHUP: load the config for the processes it restarts. */
static int
main_procs_reload(char **cause)
{
	struct conf	*conf;

	log_info("reloading %s", main_conf_path);
	if ((conf = main_load(cause)) == NULL)
		return (-1);
	main_reload_warnings(conf);
	conf->processes = cfg->processes;
	cfg_replace(conf);
	main_apply_logging(cfg);
	return (0);
}

/* Supervisor: the processes have answered the reload. */
static void
main_procs_reloaded(const char *cause)
{
	if (cause != NULL)
		log_warnx("reload failed: %s", cause);
	else
		log_info("reloaded %s in every process", main_conf_path);
	daemon_reload_done(cause);
}

static const struct procs_ops main_procs_ops = {
	.child = main_child,
	.ready = main_procs_ready,
	.fail = main_procs_fail,
	.reload = main_procs_reload,
	.reloaded = main_procs_reloaded
};

/*
 * Start up with cfg loaded, in the OpenBSD order: signal handlers, PID
 * file lock, bind, daemonize, PID file, drop privileges.  With PROCESSES
 * above 1 this process only supervises: it daemonizes, writes the PID
 * file and forks the processes, which bind and drop privileges each;
 * it keeps its own (to restart one on a privileged port) and reports
 * start-up once every process is ready.  Any failure exits through
 * main_fail.
 */
static void
main_start(void)
{
	char	*cause;
	int	 rc;

	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();
	if (ev_poller_set(cfg->poller) == -1)
		fatalx("no reactor backend %s", cfg->poller);
	ev_init();
	main_supervisor = cfg->processes > 1;
	if (!main_supervisor)
		main_role_signals();
	/*
	 * In the foreground (an uninstalled build, a test) a PID file that
	 * cannot be created is only a warning; a locked one never is.
	 */
	if ((rc = daemon_pidfile_lock(cfg->pidfile, &cause)) != 0) {
		if (rc == -1 || !main_foreground)
			main_fail(1, cause);
		log_warnx("%s; running without a PID file", cause);
		free(cause);
	}
	if (!main_supervisor && main_role_ops->start(cfg, &cause) == -1)
		main_fail(1, cause);
	if (!main_foreground) {
		if (daemon_detach(&cause) == -1)
			main_fail(1, cause);
		log_init(0, main_verbose, cfg->syslog_facility);
	}
	if (daemon_pidfile_write(&cause) == -1)
		main_fail(1, cause);
	if (main_supervisor) {
		procs_start(cfg->processes, &main_procs_ops);
		main_hold_signals(SIG_UNBLOCK);
		return;
	}
	if (daemon_drop_privileges(cfg->user, cfg->group, &cause) == -1)
		main_fail(1, cause);
	resolver_init();
	daemon_ready();
	log_info("esocksd %s started as %s (pid %ld, poller %s)",
	    PACKAGE_VERSION, conf_role_name(main_role), (long)getpid(),
	    ev_poller());
}

/* Close what the loop left open and remove the PID file. */
static void
main_stop(void)
{
	if (main_supervisor)
		procs_free();
	else
		main_role_ops->abort_all();
	log_info("esocksd stopped");
	daemon_pidfile_remove();
}

/* Free what main keeps for reloads, for a leak checker's sake. */
static void
main_free(void)
{
	cfg_replace(NULL);
	free(main_conf_path);
	free(main_cwd);
	free(main_overrides);
}

/* esocksd: check the config (-t), or run a server or worker until stopped. */
int
main(int argc, char **argv)
{
	char	*cause;
	int	 rc;

	main_hold_signals(SIG_BLOCK);
	main_parse_args(argc, argv);
	log_init(1, main_verbose, 0);
	cfg_replace(main_load(&cause));
	if (cfg == NULL) {
		fprintf(stderr, "esocksd: %s\n", cause);
		free(cause);
		main_free();
		return (2);
	}
	conf_warnings(cfg, main_role, main_warn, NULL);
	if (main_configtest) {
		/* One file serves both roles: the other's placeholders too. */
		conf_placeholders(cfg, main_role == CONF_ROLE_SERVER ?
		    CONF_ROLE_WORKER : CONF_ROLE_SERVER, main_warn, NULL);
		printf("esocksd: %s: configuration OK for %s\n",
		    main_conf_path, conf_role_name(main_role));
		main_free();
		return (0);
	}
	if (main_reload) {
		/* The config is good for us; now ask the daemon. */
		rc = daemon_reload_request(cfg->pidfile, MAIN_RELOAD_WAIT_MS,
		    &cause);
		if (rc == -1) {
			fprintf(stderr, "esocksd: reload failed: %s\n", cause);
			free(cause);
		} else
			printf("esocksd: %s: reloaded\n", cfg->pidfile);
		main_free();
		return (rc == -1 ? 1 : 0);
	}
	main_apply_logging(cfg);
	if (main_foreground)
		log_stamp_stderr();

	main_start();
	rc = ev_run();
	main_stop();
	main_free();
	ev_free();
	return (rc == 0 ? 0 : 1);
}
