/*
 * Parsers for config values: decimal numbers, seconds, booleans, worker
 * and host names, listen address lists and SERVERS host:port lists, and
 * how two listen addresses compare.  Pure: text in, a value or a reason
 * out, no I/O and no logging.  conf_set (conf-keys.c) calls them for
 * each key, conf_finish for the worker name taken from the host name and
 * the listen clashes, the server for the listeners a reload keeps.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf-int.h"
#include "xmalloc.h"

/* Parse a non-negative decimal integer no larger than max. */
int
conf_parse_number(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;

	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return (-1);
	}
	*out = v;
	return (0);
}

/*
 * Parse seconds with optional decimals ("10", "0.5", ".25") into
 * milliseconds.  Digits past the third decimal must be zero: we do not
 * round silently.  Returns 0, -1 for bad syntax, -2 for a value finer
 * than a millisecond or -3 for one above max.
 */
int
conf_parse_seconds(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	 sec = 0, ms = 0, scale = 100;
	const char	*p = s;
	int		 digits = 0, fine = 0, big = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (sec <= max / 1000)
			sec = sec * 10 + (uint64_t)(*p - '0');
		if (sec > max / 1000)
			big = 1;
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return (-1);
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (scale == 0) {
				if (*p != '0')
					fine = 1;
				continue;
			}
			ms += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p != '\0' || digits == 0)
		return (-1);
	if (fine)
		return (-2);
	if (big || sec * 1000 + ms > max)
		return (-3);
	*out = sec * 1000 + ms;
	return (0);
}

/* Parse a boolean word: yes/no, true/false, on/off, 1/0. */
int
conf_parse_bool(const char *s, int *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0)
		*out = 1;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0)
		*out = 0;
	else
		return (-1);
	return (0);
}

/* Parse a port, 0..65535, decimal. */
static int
conf_parse_port(const char *s, uint16_t *out)
{
	uint64_t	v;

	if (strlen(s) > 5 || conf_parse_number(s, 65535, &v) != 0)
		return (-1);
	*out = (uint16_t)v;
	return (0);
}

/*
 * Whether s may name a worker, in WORKER_NAME and in a worker's RGST: it
 * lands in log lines, the access log's via=, /status and Prometheus
 * labels, so 1..CONF_WORKER_NAME_MAX of [A-Za-z0-9._:@-], and none of
 * the names the server gives its own routes.
 */
int
conf_valid_worker_name(const char *s)
{
	static const char	*reserved[] = { "direct", "other", "none" };
	size_t			 len = strlen(s), i;

	if (len == 0 || len > CONF_WORKER_NAME_MAX)
		return (0);
	if (strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@-") != len)
		return (0);
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(s, reserved[i]) == 0)
			return (0);
	return (1);
}

/* Whether s is a host name or dotted IPv4 address we are willing to dial. */
static int
conf_valid_host(const char *s)
{
	size_t	len = strlen(s);

	if (len == 0 || len > 253 || s[0] == '-' || s[0] == '.')
		return (0);
	return (strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == len);
}

/* Free an array of listen addresses. */
void
conf_free_listen(struct conf_listen *l, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(l[i].text);
	free(l);
}

/* Free an array of host:port pairs. */
void
conf_free_hostports(struct conf_hostport *h, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(h[i].host);
		free(h[i].port);
		free(h[i].text);
	}
	free(h);
}

/*
 * Split s, "HOST:PORT" or "[IPv6]:PORT", in a copy: *host and *port point
 * into *copy, which the caller frees, and *bracketed says which form it
 * was.  Returns 0, or -1 with the reason in *why (left alone when s is
 * simply not of either form, for the caller's own wording).
 */
static int
conf_split_hostport(const char *s, char **copy, char **host, char **port,
    int *bracketed, const char **why)
{
	char	*end;

	*copy = xstrdup(s);
	if (**copy == '[') {
		if ((end = strchr(*copy, ']')) == NULL || end[1] != ':')
			return (-1);
		*end = '\0';
		*host = *copy + 1;
		*port = end + 2;
		*bracketed = 1;
		return (0);
	}
	if ((end = strchr(*copy, ':')) == NULL)
		return (-1);
	if (strchr(end + 1, ':') != NULL) {
		*why = "IPv6 addresses go in brackets: [IPv6]:PORT";
		return (-1);
	}
	*end = '\0';
	*host = *copy;
	*port = end + 1;
	*bracketed = 0;
	return (0);
}

/*
 * Parse one numeric listen address: IPv4:PORT, [IPv6]:PORT or *:PORT.
 * Returns 0, or -1 with the reason in *why.
 */
static int
conf_parse_listen_one(const char *s, struct conf_listen *l, const char **why)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&l->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&l->ss;
	char			*copy, *host, *port;
	uint16_t		 portnum;
	int			 bracketed, rc = -1;

	memset(l, 0, sizeof(*l));
	*why = "want IPv4:PORT, [IPv6]:PORT or *:PORT";
	if (conf_split_hostport(s, &copy, &host, &port, &bracketed, why) != 0)
		goto out;
	if (bracketed) {
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			*why = "bad IPv6 address";
			goto out;
		}
		sin6->sin6_family = AF_INET6;
		l->sslen = sizeof(*sin6);
	} else {
		if (strcmp(host, "*") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			*why = "want a numeric address";
			goto out;
		}
		sin->sin_family = AF_INET;
		l->sslen = sizeof(*sin);
	}
	if (conf_parse_port(port, &portnum) != 0) {
		*why = "port must be 0..65535";
		goto out;
	}
	if (l->ss.ss_family == AF_INET)
		sin->sin_port = htons(portnum);
	else
		sin6->sin6_port = htons(portnum);
	l->text = xstrdup(s);
	rc = 0;
out:
	free(copy);
	return (rc);
}

/* Port of a listen address, host order. */
uint16_t
conf_listen_port(const struct conf_listen *l)
{
	if (l->ss.ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)&l->ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)&l->ss)->sin6_port));
}

/*
 * Move a listen address's port up by n (a port of 0, any free one, stays
 * 0) and rewrite its text to match; -1 when the port would pass 65535.
 */
int
conf_listen_move(struct conf_listen *l, unsigned int n)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&l->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&l->ss;
	char			 host[INET6_ADDRSTRLEN];
	unsigned int		 port = conf_listen_port(l);

	if (port == 0 || n == 0)
		return (0);
	if (port + n > 65535)
		return (-1);
	port += n;
	free(l->text);
	if (l->ss.ss_family == AF_INET) {
		sin->sin_port = htons(port);
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		xasprintf(&l->text, "%s:%u", host, port);
	} else {
		sin6->sin6_port = htons(port);
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		xasprintf(&l->text, "[%s]:%u", host, port);
	}
	return (0);
}

/*
 * The listen addresses of process n of PROCESSES (0 the first): SOCKS
 * ports are shared by every process, each process has its own worker
 * and stats ports, the configured ones moved up by n.  Returns -1 when
 * a port would pass 65535 (conf_finish checks that beforehand).
 */
int
conf_listen_shift(struct conf *conf, unsigned int n)
{
	enum conf_listen_kind	kind;
	size_t			i;

	for (kind = 0; kind < CONF_LISTEN_KINDS; kind++) {
		if (kind == CONF_LISTEN_SOCKS)
			continue;
		for (i = 0; i < conf->listen[kind].count; i++)
			if (conf_listen_move(&conf->listen[kind].addrs[i],
			    n) == -1)
				return (-1);
	}
	return (0);
}

/*
 * Whether two listen addresses compare equal: same family, address and
 * port.
 */
int
conf_listen_equal(const struct conf_listen *a, const struct conf_listen *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return (0);
	switch (a->ss.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return (a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0);
	}
	return (0);
}

/*
 * Whether two listen addresses cannot both be bound: the same port (not
 * 0, which the kernel picks afresh each time) and family, and the same
 * address or either the wildcard.
 */
int
conf_listen_clash(const struct conf_listen *a, const struct conf_listen *b)
{
	static const uint8_t	 zero[16];
	const void		*aa, *ba;
	size_t			 len;

	if (a->ss.ss_family != b->ss.ss_family || conf_listen_port(a) == 0 ||
	    conf_listen_port(a) != conf_listen_port(b))
		return (0);
	if (a->ss.ss_family == AF_INET) {
		aa = &((const struct sockaddr_in *)&a->ss)->sin_addr;
		ba = &((const struct sockaddr_in *)&b->ss)->sin_addr;
		len = 4;
	} else {
		aa = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
		ba = &((const struct sockaddr_in6 *)&b->ss)->sin6_addr;
		len = 16;
	}
	return (memcmp(aa, ba, len) == 0 || memcmp(aa, zero, len) == 0 ||
	    memcmp(ba, zero, len) == 0);
}

/* Parse one HOST:PORT or [IPv6]:PORT to dial; the port may not be 0. */
static int
conf_parse_hostport_one(const char *s, struct conf_hostport *h,
    const char **why)
{
	struct in6_addr		 in6;
	char			*copy, *host, *port;
	uint16_t		 portnum;
	int			 bracketed, rc = -1;

	memset(h, 0, sizeof(*h));
	*why = "want HOST:PORT or [IPv6]:PORT";
	if (conf_split_hostport(s, &copy, &host, &port, &bracketed, why) != 0)
		goto out;
	if (bracketed && inet_pton(AF_INET6, host, &in6) != 1) {
		*why = "bad IPv6 address";
		goto out;
	}
	if (!bracketed && !conf_valid_host(host)) {
		*why = "bad host name";
		goto out;
	}
	if (conf_parse_port(port, &portnum) != 0 || portnum == 0) {
		*why = "port must be 1..65535";
		goto out;
	}
	h->host = xstrdup(host);
	xasprintf(&h->port, "%u", (unsigned int)portnum);
	h->text = xstrdup(s);
	rc = 0;
out:
	free(copy);
	return (rc);
}

/* Split a value into its blank-separated words; returns the count. */
static size_t
conf_split(const char *value, char ***words)
{
	char	*copy, *next, *w;
	size_t	 n = 0;

	*words = NULL;
	copy = xstrdup(value);
	for (next = copy; (w = strsep(&next, " \t")) != NULL; /* */) {
		if (*w == '\0')
			continue;
		*words = xreallocarray(*words, n + 1, sizeof(**words));
		(*words)[n++] = xstrdup(w);
	}
	free(copy);
	return (n);
}

/* Free what conf_split returned. */
static void
conf_split_free(char **words, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(words[i]);
	free(words);
}

/* Parse a listen list for key; duplicates are an error. */
int
conf_parse_listen(const char *key, const char *value, struct conf_listen **out,
    size_t *count, char **cause)
{
	struct conf_listen	*l = NULL;
	char			**words;
	const char		*why;
	size_t			 n, i, j;

	n = conf_split(value, &words);
	if (n > 0)
		l = xcalloc(n, sizeof(*l));
	for (i = 0; i < n; i++) {
		if (conf_parse_listen_one(words[i], &l[i], &why) != 0) {
			xasprintf(cause, "bad value for %s: '%.*s' (%s)", key,
			    CONF_CLIP, words[i], why);
			goto fail;
		}
		for (j = 0; j < i; j++) {
			if (conf_listen_equal(&l[i], &l[j])) {
				xasprintf(cause, "duplicate address in %s: "
				    "'%s'", key, words[i]);
				i++;
				goto fail;
			}
		}
	}
	conf_split_free(words, n);
	*out = l;
	*count = n;
	return (0);

fail:
	conf_free_listen(l, i);
	conf_split_free(words, n);
	return (-1);
}

/* Parse the SERVERS list; the same server twice is an error. */
int
conf_parse_servers(const char *key, const char *value,
    struct conf_hostport **out, size_t *count, char **cause)
{
	struct conf_hostport	*h = NULL;
	char			**words;
	const char		*why;
	size_t			 n, i, j;

	n = conf_split(value, &words);
	if (n > 0)
		h = xcalloc(n, sizeof(*h));
	for (i = 0; i < n; i++) {
		if (conf_parse_hostport_one(words[i], &h[i], &why) != 0) {
			xasprintf(cause, "bad value for %s: '%.*s' (%s)", key,
			    CONF_CLIP, words[i], why);
			goto fail;
		}
		for (j = 0; j < i; j++) {
			if (strcasecmp(h[i].host, h[j].host) == 0 &&
			    strcmp(h[i].port, h[j].port) == 0) {
				xasprintf(cause, "duplicate server in %s: "
				    "'%s'", key, words[i]);
				i++;
				goto fail;
			}
		}
	}
	conf_split_free(words, n);
	*out = h;
	*count = n;
	return (0);

fail:
	conf_free_hostports(h, i);
	conf_split_free(words, n);
	return (-1);
}
