/*
 * The user-name parameters codec (userparam.h).  BASE is everything
 * before the first "-KEY-" whose KEY is one we know, so an account may
 * hold dashes ("my-shop-tag-eu" is account "my-shop"); from there on the
 * name must be nothing but -KEY-VALUE pairs, and an unknown key or a bad
 * value refuses the whole name.  Values of tag, session, ttl and sticky
 * hold no dash and end at the next one; a worker name may hold dashes,
 * so its value runs to the next "-KEY-" of a known key, or the end.
 * Pure: no I/O, no logging; errors come back as a cause.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "conf.h"
#include "userparam.h"
#include "xmalloc.h"

enum userparam_key {
	USERPARAM_TAG,
	USERPARAM_WORKER,
	USERPARAM_SESSION,
	USERPARAM_TTL,
	USERPARAM_STICKY,
	USERPARAM_NONE = -1
};

static const char *const userparam_keys[] = {
	"tag", "worker", "session", "ttl", "sticky"
};

/* The known key whose name and a dash start s, or USERPARAM_NONE. */
static enum userparam_key
userparam_key_at(const char *s)
{
	size_t	i, len;

	for (i = 0; i < nitems(userparam_keys); i++) {
		len = strlen(userparam_keys[i]);
		if (strncmp(s, userparam_keys[i], len) == 0 && s[len] == '-')
			return ((enum userparam_key)i);
	}
	return (USERPARAM_NONE);
}

/* Where the next "-KEY-" of a known key starts in s, or its end. */
static const char *
userparam_next_key(const char *s)
{
	const char	*p;

	for (p = s; (p = strchr(p, '-')) != NULL; p++) {
		if (userparam_key_at(p + 1) != USERPARAM_NONE)
			return (p);
	}
	return (s + strlen(s));
}

/* Tell whether len bytes at s are a session id: [A-Za-z0-9]{1,64}. */
static int
userparam_valid_session(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > USERPARAM_SESSION_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return (0);
	}
	return (1);
}

/* Parse a ttl value, 1..USERPARAM_TTL_MAX minutes; 0 when bad. */
static unsigned int
userparam_ttl(const char *s, size_t len)
{
	unsigned int	v = 0;
	size_t		i;

	if (len == 0 || len > 4)
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		v = v * 10 + (s[i] - '0');
	}
	return (v <= USERPARAM_TTL_MAX ? v : 0);
}

/* Take one KEY's value of len bytes at v into up. */
static int
userparam_value(struct userparam *up, enum userparam_key k, const char *v,
    size_t len, char **cause)
{
	char	name[USERPARAM_WORKER_MAX + 1];

	switch (k) {
	case USERPARAM_TAG:
		return (tags_add(&up->tags, v, len, cause));
	case USERPARAM_WORKER:
		if (up->worker[0] != '\0')
			break;
		if (len == 0 || len > USERPARAM_WORKER_MAX)
			goto bad;
		memcpy(name, v, len);
		name[len] = '\0';
		if (!conf_valid_worker_name(name))
			goto bad;
		strlcpy(up->worker, name, sizeof(up->worker));
		return (0);
	case USERPARAM_SESSION:
		if (up->session[0] != '\0')
			break;
		if (!userparam_valid_session(v, len))
			goto bad;
		memcpy(up->session, v, len);
		up->session[len] = '\0';
		return (0);
	case USERPARAM_TTL:
		if (up->ttl != 0)
			break;
		if ((up->ttl = userparam_ttl(v, len)) == 0)
			goto bad;
		return (0);
	case USERPARAM_STICKY:
		if (len == 6 && memcmp(v, "strict", 6) == 0)
			up->strict = 1;
		else if (len == 4 && memcmp(v, "soft", 4) == 0)
			up->strict = 0;
		else
			goto bad;
		return (0);
	case USERPARAM_NONE:
		break;
	}
	xasprintf(cause, "%s given twice", userparam_keys[k]);
	return (-1);
bad:
	xasprintf(cause, "bad %s value '%.*s'", userparam_keys[k],
	    len > 40 ? 40 : (int)len, v);
	return (-1);
}

/*
 * Read user (a NUL-ended name of at most USERPARAM_USER_MAX bytes) into
 * up.  Returns 0, or -1 and a cause for an unknown key, a bad or missing
 * value or a key given twice (tag excepted: each -tag- adds one).
 */
int
userparam_parse(const char *user, struct userparam *up, char **cause)
{
	const char		*p, *v, *end;
	enum userparam_key	 k;
	size_t			 len;

	memset(up, 0, sizeof(*up));
	if (strlen(user) > USERPARAM_USER_MAX) {
		xasprintf(cause, "user name longer than %d bytes",
		    USERPARAM_USER_MAX);
		return (-1);
	}
	p = userparam_next_key(user);
	memcpy(up->base, user, p - user);
	up->base[p - user] = '\0';
	while (*p != '\0') {
		/* p is at a dash; a known key must follow. */
		p++;
		len = strcspn(p, "-");
		if ((k = userparam_key_at(p)) == USERPARAM_NONE) {
			xasprintf(cause, "unknown key '%.*s'",
			    len > 40 ? 40 : (int)len, p);
			return (-1);
		}
		v = p + strlen(userparam_keys[k]) + 1;
		if (k == USERPARAM_WORKER)
			end = userparam_next_key(v);
		else
			end = v + strcspn(v, "-");
		if (userparam_value(up, k, v, end - v, cause) != 0)
			return (-1);
		p = end;
	}
	return (0);
}

/* Tell whether up narrows the workers a request may use. */
int
userparam_has_filters(const struct userparam *up)
{
	return (up->tags.n > 0 || up->worker[0] != '\0');
}
