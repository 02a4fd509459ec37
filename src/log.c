/*
 * Log sink for the whole daemon.  Under -f lines go to stderr, each
 * started with the local time (log_stamp_stderr), otherwise to syslog
 * with the configured facility, which stamps them itself.  Helpers never log their own
 * errors; they hand a cause to the caller, who logs it here once.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	log_foreground = 1;
static int	log_verbose;
static int	log_facility = LOG_DAEMON;
static int	log_opened;
static int	log_stamp;	/* stderr lines start with the time */
static int	log_classes[LOGC_MAX] = { 1, 0, 0, 1, 1 };

static void	log_vlog(int, const char *, va_list, int);

/* Choose where log lines go; called once at start and again after fork. */
void
log_init(int foreground, int verbose, int facility)
{
	log_foreground = foreground;
	log_verbose = verbose;
	log_facility = facility;
	tzset();
	if (!foreground) {
		openlog("esocksd", LOG_PID | LOG_NDELAY, facility);
		log_opened = 1;
	}
}

/*
 * Whether stderr is the systemd journal's stream: $JOURNAL_STREAM holds
 * its device and inode, and the journal stamps each line itself.
 */
static int
log_stderr_is_journal(void)
{
	struct stat		 st;
	const char		*env = getenv("JOURNAL_STREAM");
	char			*end;
	unsigned long long	 dev, ino;

	if (env == NULL || fstat(STDERR_FILENO, &st) == -1)
		return (0);
	errno = 0;
	dev = strtoull(env, &end, 10);
	if (*end != ':' || errno != 0)
		return (0);
	ino = strtoull(end + 1, &end, 10);
	if (*end != '\0' || errno != 0)
		return (0);
	return ((unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino);
}

/*
 * ESOCKSD_LOG_TIME read with the config's words for a switch: 1 for
 * yes, true, on, 1; 0 for no, false, off, 0 (any case); -1 otherwise.
 */
static int
log_env_switch(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0)
		return (1);
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0)
		return (0);
	return (-1);
}

/*
 * A daemon in the foreground (-f) calls this once: from then on each
 * stderr line starts with the local time, to the millisecond, unless
 * stderr is the systemd journal or ESOCKSD_LOG_TIME=no (a supervisor
 * whose logger stamps lines, the test suite) asks for none.  A value
 * that is no switch is named in a warning and lines are stamped.
 */
void
log_stamp_stderr(void)
{
	const char	*env = getenv("ESOCKSD_LOG_TIME");
	int		 on = env != NULL ? log_env_switch(env) : 1;

	log_stamp = on != 0 && !log_stderr_is_journal();
	if (on == -1)
		log_warnx("ESOCKSD_LOG_TIME=%s: want yes or no; lines keep "
		    "their time", env);
}

/* Switch the syslog facility on reload (SYSLOG_FACILITY). */
void
log_set_facility(int facility)
{
	if (facility == log_facility)
		return;
	log_facility = facility;
	if (log_opened) {
		closelog();
		openlog("esocksd", LOG_PID | LOG_NDELAY, facility);
	}
}

/* Turn one of the config's log classes on or off. */
void
log_class_enable(enum log_class class, int on)
{
	if (class < LOGC_MAX)
		log_classes[class] = on;
}

/* Tell whether lines of a class are wanted, to skip formatting them. */
int
log_class_enabled(enum log_class class)
{
	return (class < LOGC_MAX && log_classes[class]);
}

/* Write one line of a log class at info level, if that class is on. */
void
log_line(enum log_class class, const char *fmt, ...)
{
	va_list	ap;

	if (!log_class_enabled(class))
		return;
	va_start(ap, fmt);
	log_vlog(class == LOGC_ERROR ? LOG_WARNING : LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

/*
 * Copy src to dst with every byte outside 0x21-0x7e, and '%', written as
 * %XX, so that a peer's string can neither split a log line nor pass
 * for another field.  Stops before an escape that would not fit; dst
 * of LOG_ESCAPE_SIZE(strlen(src)) bytes always holds it all.
 */
char *
log_escape(char *dst, size_t size, const char *src)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	size_t			 n = 0;

	if (size == 0)
		return (dst);
	for (p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p >= 0x21 && *p <= 0x7e && *p != '%') {
			if (n + 1 >= size)
				break;
			dst[n++] = *p;
			continue;
		}
		if (n + 3 >= size)
			break;
		dst[n++] = '%';
		dst[n++] = hex[*p >> 4];
		dst[n++] = hex[*p & 0xf];
	}
	dst[n] = '\0';
	return (dst);
}

/*
 * The local time as 2026-12-07T11:20:53.123+00:00 (RFC 3339, which log
 * tools parse; strftime's %z has no colon) and a blank, into buf (empty
 * when the clock cannot say).
 */
static void
log_format_time(char *buf, size_t size)
{
	struct timespec	ts;
	struct tm	tm;
	char		date[32], zone[8];

	buf[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    localtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    strftime(zone, sizeof(zone), "%z", &tm) == 0)
		return;
	if (strlen(zone) == 5)		/* +hhmm */
		snprintf(buf, size, "%s.%03ld%.3s:%s ", date,
		    ts.tv_nsec / 1000000L, zone, zone + 3);
	else
		snprintf(buf, size, "%s.%03ld%s ", date,
		    ts.tv_nsec / 1000000L, zone);
}

/*
 * Write one line at priority pri, with errno's text if asked.  On
 * stderr the stamp and the line go out in one write, so that the lines
 * of several processes (PROCESSES) sharing it do not mix.
 */
static void
log_vlog(int pri, const char *fmt, va_list ap, int with_errno)
{
	/* An access line with a fully escaped 255-byte user name fits. */
	char	 line[2048], stamp[64];
	int	 saved_errno = errno;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (with_errno) {
		size_t	len = strlen(line);

		snprintf(line + len, sizeof(line) - len, ": %s",
		    strerror(saved_errno));
	}
	if (log_foreground) {
		stamp[0] = '\0';
		if (log_stamp)
			log_format_time(stamp, sizeof(stamp));
		fprintf(stderr, "%s%s\n", stamp, line);
		fflush(stderr);
	} else
		syslog(log_facility | pri, "%s", line);
	errno = saved_errno;
}

/* Log a warning followed by the current errno's text. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, fmt, ap, 1);
	va_end(ap);
}

/* Log a warning without errno. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

/* Log an informational line. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

/* Log a debug line, shown only with -d. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_vlog(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

/* Log a fatal error with errno's text and exit 1. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

/* Log a fatal error and exit 1. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
