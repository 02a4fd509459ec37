/*
 * Free ports for the integration tests (tsink -F, used by lib.sh's
 * free_port) and the port file a tool writes once it has bound.
 */
#include "config.h"

#include <sys/types.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "xmalloc.h"
#include "testlib.h"

/*
 * A seed that differs between processes started in quick succession: the
 * system's random source, else the nanosecond clock mixed with the PID.
 * (getpid() ^ time() is not: two PIDs one apart either side of a second
 * boundary give the same seed, hence the same "free" port twice.)
 * testlib_listen draws its port-0 ports with it too.
 */
uint32_t
testlib_seed(void)
{
	struct timespec	ts;
	uint32_t	seed;
	int		fd;

	if ((fd = open("/dev/urandom", O_RDONLY)) != -1) {
		if (read(fd, &seed, sizeof(seed)) == (ssize_t)sizeof(seed)) {
			close(fd);
			return (seed | 1);
		}
		close(fd);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (((uint32_t)ts.tv_nsec * 2654435761U ^ (uint32_t)getpid() << 16 ^
	    (uint32_t)ts.tv_sec) | 1);
}

/*
 * A port of host (an address, IPv6 without brackets) that is free now, drawn at random from 20000-31999,
 * below the ephemeral range: a port from bind(0) is one the next outgoing
 * connect of a parallel test may take before the daemon binds it.  When
 * 200 draws find nothing, let the kernel pick, racy as that is.  -1 and
 * *cause on failure.
 */
int
testlib_free_port(const char *host, char **cause)
{
	const char	*fmt = strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d";
	char		 spec[160];
	uint32_t	 x = testlib_seed();
	int		 i, lfd, port;

	for (i = 0; i < 200; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		port = 20000 + (int)(x % 12000);
		snprintf(spec, sizeof(spec), fmt, host, port);
		if ((lfd = testlib_listen(spec, 1, cause)) != -1) {
			close(lfd);
			return (port);
		}
		free(*cause);
	}
	snprintf(spec, sizeof(spec), fmt, host, 0);
	if ((lfd = testlib_listen(spec, 1, cause)) == -1)
		return (-1);
	port = testlib_local_port(lfd);
	close(lfd);
	return (port);
}

/* Write the port to path through a temporary file and rename(2). */
int
testlib_write_portfile(const char *path, int port, char **cause)
{
	char	*tmp;
	FILE	*f;
	int	 rc = -1;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return (-1);
	}
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
	else if (rename(tmp, path) == -1)
		xasprintf(cause, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	return (rc);
}
