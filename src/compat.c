/*
 * Replacements for the BSD string functions that older glibc lacks; each
 * is compiled only when configure did not find the libc's own.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#ifndef HAVE_STRLCPY
/* Copy src into dst of size dsize, always terminated; returns strlen(src). */
size_t
strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t	len = strlen(src);

	if (dsize > 0) {
		size_t	n = len < dsize - 1 ? len : dsize - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return (len);
}
#endif

#ifndef HAVE_STRLCAT
/* Append src to dst of size dsize, always NUL-terminated. */
size_t
strlcat(char *dst, const char *src, size_t dsize)
{
	size_t	dlen = strnlen(dst, dsize);

	if (dlen == dsize)
		return (dsize + strlen(src));
	return (dlen + strlcpy(dst + dlen, src, dsize - dlen));
}
#endif

#ifndef HAVE_EXPLICIT_BZERO
/* Zero memory in a way the compiler may not optimise away. */
void
explicit_bzero(void *p, size_t n)
{
	static void *(*volatile memset_v)(void *, int, size_t) = memset;

	memset_v(p, 0, n);
}
#endif

#ifndef HAVE_STRTONUM
/*
 * Parse a decimal integer in [minval, maxval]; on error return 0 and set
 * *errstr to "invalid", "too small" or "too large".
 */
long long
strtonum(const char *s, long long minval, long long maxval,
    const char **errstr)
{
	long long	 v;
	char		*end;

	*errstr = NULL;
	if (minval > maxval || s == NULL || *s == '\0') {
		*errstr = "invalid";
		return (0);
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*errstr = "invalid";
		return (0);
	}
	if ((v == LLONG_MIN && errno == ERANGE) || v < minval) {
		*errstr = "too small";
		return (0);
	}
	if ((v == LLONG_MAX && errno == ERANGE) || v > maxval) {
		*errstr = "too large";
		return (0);
	}
	return (v);
}
#endif
