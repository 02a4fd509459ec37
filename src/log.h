/*
 * Logging in the OpenBSD daemon style: stderr in the foreground, syslog
 * otherwise.  log_warn appends strerror(errno); errno is preserved.
 * The five log classes of the config (LOG_CONNECTION ... LOG_ACCESS) are
 * switched on and off with log_class_enable and written with log_line.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "compat.h"

enum log_class {
	LOGC_CONNECTION,
	LOGC_SESSION,
	LOGC_EVENT,
	LOGC_ERROR,
	LOGC_ACCESS,
	LOGC_MAX
};

/* Room log_escape needs for a string of n bytes, with its NUL. */
#define LOG_ESCAPE_SIZE(n)	(3 * (n) + 1)

void	log_init(int foreground, int verbose, int facility);
void	log_stamp_stderr(void);
void	log_set_facility(int);
void	log_class_enable(enum log_class, int);
int	log_class_enabled(enum log_class);
void	log_line(enum log_class, const char *, ...) PRINTFLIKE(2, 3);
void	log_warn(const char *, ...) PRINTFLIKE(1, 2);
void	log_warnx(const char *, ...) PRINTFLIKE(1, 2);
void	log_info(const char *, ...) PRINTFLIKE(1, 2);
void	log_debug(const char *, ...) PRINTFLIKE(1, 2);
char	*log_escape(char *, size_t, const char *);
__dead void fatal(const char *, ...) PRINTFLIKE(1, 2);
__dead void fatalx(const char *, ...) PRINTFLIKE(1, 2);

#endif
