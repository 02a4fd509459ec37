/*
 * Sets of worker tags (tags.h): validation, parsing of a space- or
 * comma-separated list, the tests the pool's filter stage asks, and the
 * text shown in /status and the access log.  Pure: no I/O, no logging.
 */
#include "config.h"

#include <string.h>

#include "compat.h"
#include "tags.h"
#include "xmalloc.h"

/* Tell whether len bytes at s make one tag: 1..32 of [a-z0-9_.]. */
int
tags_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > TAGS_LEN_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.'))
			return (0);
	}
	return (1);
}

/*
 * Add the tag of len bytes at s to the set (a tag already there is not
 * added twice).  Returns 0, or -1 and a cause for a bad tag or a set
 * already holding TAGS_MAX.
 */
int
tags_add(struct tags *t, const char *s, size_t len, char **cause)
{
	int	i;

	if (!tags_valid(s, len)) {
		xasprintf(cause, "bad tag '%.*s' (want 1..%d of a-z 0-9 _ .)",
		    len > 40 ? 40 : (int)len, s, TAGS_LEN_MAX);
		return (-1);
	}
	for (i = 0; i < t->n; i++) {
		if (strlen(t->tag[i]) == len && memcmp(t->tag[i], s, len) == 0)
			return (0);
	}
	if (t->n == TAGS_MAX) {
		xasprintf(cause, "more than %d tags", TAGS_MAX);
		return (-1);
	}
	memcpy(t->tag[t->n], s, len);
	t->tag[t->n][len] = '\0';
	t->n++;
	return (0);
}

/*
 * Parse a list into an empty set: tags separated by sep (',' gives
 * "a,b", no empty element), or by runs of blanks when sep is ' '.
 * Returns 0, or -1 and a cause.
 */
int
tags_parse(struct tags *t, const char *list, int sep, char **cause)
{
	const char	*p = list, *e;

	memset(t, 0, sizeof(*t));
	if (sep == ' ')
		p += strspn(p, " \t");
	while (*p != '\0') {
		if (sep == ' ')
			e = p + strcspn(p, " \t");
		else
			e = p + strcspn(p, (char[]){ (char)sep, '\0' });
		if (tags_add(t, p, e - p, cause) != 0)
			return (-1);
		p = e;
		if (sep == ' ')
			p += strspn(p, " \t");
		else if (*p == sep) {
			p++;
			if (*p == '\0') {
				xasprintf(cause, "empty tag at the end");
				return (-1);
			}
		}
	}
	return (0);
}

/* Tell whether the set holds tag. */
int
tags_has(const struct tags *t, const char *tag)
{
	int	i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->tag[i], tag) == 0)
			return (1);
	}
	return (0);
}

/* Tell whether have holds every tag of want (an empty want: yes). */
int
tags_has_all(const struct tags *have, const struct tags *want)
{
	int	i;

	for (i = 0; i < want->n; i++) {
		if (!tags_has(have, want->tag[i]))
			return (0);
	}
	return (1);
}

/* Tell whether have holds at least one tag of want (an empty want: yes). */
int
tags_has_any(const struct tags *have, const struct tags *want)
{
	int	i;

	if (want->n == 0)
		return (1);
	for (i = 0; i < want->n; i++) {
		if (tags_has(have, want->tag[i]))
			return (1);
	}
	return (0);
}

/* Write the set as text joined by sep into out; "-" for an empty set. */
const char *
tags_format(const struct tags *t, int sep, char *out, size_t size)
{
	size_t	o = 0;
	int	i;

	if (size == 0)
		return (out);
	out[0] = '\0';
	if (t == NULL || t->n == 0) {
		strlcpy(out, "-", size);
		return (out);
	}
	for (i = 0; i < t->n; i++) {
		if (i > 0 && o + 1 < size)
			out[o++] = (char)sep;
		out[o] = '\0';
		o = strlcat(out, t->tag[i], size);
		if (o >= size)
			break;
	}
	return (out);
}
