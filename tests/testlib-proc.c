/*
 * Process helpers of the test tools: the ASan options that keep leak
 * reports out of their exit status, the monotonic clock, sleeping, byte
 * counts with K/M/G suffixes and the descriptor limit.  Linked into
 * socksc, tsink, tlate, tstall and esbench; never into esocksd.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "testlib.h"

const char	*__asan_default_options(void);

/*
 * Under --enable-asan, keep the leak check out of the tools: they exit
 * right after their work with buffers still held, and a leak report
 * would replace the exit status that the tests read.  Memory errors are
 * still caught.  The daemon does not link this file.
 */
const char *
__asan_default_options(void)
{
	return ("detect_leaks=0");
}

/* Microseconds on the monotonic clock. */
uint64_t
testlib_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Sleep for ms milliseconds, resuming after signals. */
void
testlib_sleep_ms(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Parse a byte count with an optional K, M or G (binary) suffix. */
int
testlib_parse_size(const char *s, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;
	uint64_t		 mult = 1;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return (-1);
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	default:
		return (-1);
	}
	if (*end != '\0' || (v != 0 && UINT64_MAX / v < mult))
		return (-1);
	*out = v * mult;
	return (0);
}

/* Lift the soft descriptor limit to the hard one, higher if allowed. */
void
testlib_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 65536) {
		struct rlimit	want = { 65536, 65536 };

		/* Root may raise the hard limit; others keep theirs. */
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
		rl.rlim_cur = 1048576;
	setrlimit(RLIMIT_NOFILE, &rl);
}
