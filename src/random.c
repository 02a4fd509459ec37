/*
 * Random bytes from the kernel: getrandom(2) where configure found it,
 * then arc4random_buf(3), then /dev/urandom.  The worker link draws its
 * nonces here and the worker its reconnect jitter.  There is no fallback
 * to a weaker source: if none of these works the daemon stops.
 */
#include "config.h"

#include <sys/types.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "random.h"

#ifndef HAVE_ARC4RANDOM_BUF
#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

#define RANDOM_DEVICE	"/dev/urandom"

/* Kept open once opened, so running out of descriptors cannot stop us. */
static int	random_fd = -1;

/* Fill buf from /dev/urandom or die. */
static void
random_device(void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;

	if (random_fd == -1 &&
	    (random_fd = open(RANDOM_DEVICE, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("open %s", RANDOM_DEVICE);
	while (len > 0) {
		n = read(random_fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			fatal("read %s", RANDOM_DEVICE);
		if (n == 0)
			fatalx("read %s: end of file", RANDOM_DEVICE);
		p += n;
		len -= n;
	}
}
#endif

/* Fill buf with len bytes fit for nonces; dies if no source works. */
void
random_bytes(void *buf, size_t len)
{
#ifdef HAVE_GETRANDOM
	unsigned char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		/* Linux returns at most 32 MiB - 1 per call; loop. */
		n = getrandom(p, len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ENOSYS)
			break;		/* older kernel: try the others */
		if (n == -1)
			fatal("getrandom");
		p += n;
		len -= n;
	}
	if (len == 0)
		return;
	buf = p;
#endif
#ifdef HAVE_ARC4RANDOM_BUF
	arc4random_buf(buf, len);
#else
	random_device(buf, len);
#endif
}

/* Write nbytes random bytes as 2 * nbytes lowercase hex digits and a NUL. */
void
random_hex(char *out, size_t nbytes)
{
	static const char	digits[] = "0123456789abcdef";
	unsigned char		chunk[32];
	size_t			i, n;

	while (nbytes > 0) {
		n = nbytes < sizeof(chunk) ? nbytes : sizeof(chunk);
		random_bytes(chunk, n);
		for (i = 0; i < n; i++) {
			*out++ = digits[chunk[i] >> 4];
			*out++ = digits[chunk[i] & 0xf];
		}
		nbytes -= n;
	}
	*out = '\0';
}

/*
 * A uniform number in [0, bound), 0 when bound < 2.  Values below
 * 2^32 mod bound are drawn again so every result is equally likely.
 */
uint32_t
random_uniform(uint32_t bound)
{
	uint32_t	r, min;

	if (bound < 2)
		return (0);
	min = -bound % bound;	/* 2^32 mod bound, in 32-bit arithmetic */
	for (;;) {
		random_bytes(&r, sizeof(r));
		if (r >= min)
			return (r % bound);
	}
}
