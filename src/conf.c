/*
 * The config file: shell-style KEY=value lines (DESIGN.md, "Contract:
 * config files") parsed into a struct conf.  main calls conf_load for the
 * file, conf_set for each -o, then conf_finish for the role; a reload does
 * the same into a fresh struct.  Nothing here logs: every error comes
 * back as a cause naming the key, and conf_load adds file:line.
 *
 * The syntax is the subset of sh that means the same to the shell and to
 * us, so an init script can source the file: no expansion, no escapes
 * outside double quotes, one value per line.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "cidr.h"
#include "conf.h"
#include "log.h"
#include "xmalloc.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/var/run"
#endif

#define CONF_LINE_MAX		8192	/* bytes in one config line */
#define CONF_SECRET_MAX		4096	/* bytes in the secret file's line */
#define CONF_COUNT_MAX		1000000	/* MAX_CLIENTS and friends */
#define CONF_TIME_MAX		(30ULL * 24 * 3600 * 1000) /* 30 days in ms */
#define CONF_NAME_MAX		255
#define CONF_CLIP		64	/* value bytes quoted in a message */

enum conf_type {
	CONF_TIME,		/* uint64_t ms, from seconds */
	CONF_INT,		/* int */
	CONF_UINT,		/* unsigned int */
	CONF_BOOL,		/* int 0/1 */
	CONF_STRING,		/* char *, empty = NULL */
	CONF_NAME,		/* char *, a worker name, empty = NULL */
	CONF_LISTEN,		/* struct conf_listen array + count */
	CONF_SERVERS,		/* struct conf_hostport array + count */
	CONF_CIDR,		/* struct cidr_list, no ports */
	CONF_CIDR_PORT,		/* struct cidr_list with ports */
	CONF_NO_WORKER,
	CONF_AUTH,
	CONF_FACILITY
};

struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;		/* field in struct conf */
	size_t		 count_off;	/* count field for arrays */
	uint64_t	 min;		/* numbers: inclusive range */
	uint64_t	 max;
	const char	*dflt;		/* as it would appear in a file */
};

#define F(f)	offsetof(struct conf, f)
static const struct conf_key conf_keys[] = {
	{ "SOCKS_LISTEN", CONF_LISTEN, F(socks_listen),
	    F(socks_listen_count), 0, 0, "127.0.0.1:1080" },
	{ "WORKER_LISTEN", CONF_LISTEN, F(worker_listen),
	    F(worker_listen_count), 0, 0, "127.0.0.1:8081" },
	{ "STATS_LISTEN", CONF_LISTEN, F(stats_listen),
	    F(stats_listen_count), 0, 0, "" },
	{ "LISTEN_BACKLOG", CONF_INT, F(listen_backlog), 0, 1, 65535,
	    "1024" },
	{ "NO_WORKER", CONF_NO_WORKER, F(no_worker), 0, 0, 0, "direct" },
	{ "WORKER_IDLE_CLOSE", CONF_TIME, F(worker_idle_close), 0, 1,
	    CONF_TIME_MAX, "60" },
	{ "CLIENT_ALLOW", CONF_CIDR, F(client_allow), 0, 0, 0,
	    "127.0.0.0/8 ::1/128" },
	{ "AUTH", CONF_AUTH, F(auth), 0, 0, 0, "none" },
	{ "PASSWORD_FILE", CONF_STRING, F(password_file), 0, 0, 0, "" },
	{ "HANDSHAKE_TIMEOUT", CONF_TIME, F(handshake_timeout), 0, 1,
	    CONF_TIME_MAX, "10" },
	{ "MAX_CLIENTS", CONF_UINT, F(max_clients), 0, 0, CONF_COUNT_MAX,
	    "0" },
	{ "MAX_CLIENTS_PER_IP", CONF_UINT, F(max_clients_per_ip), 0, 0,
	    CONF_COUNT_MAX, "0" },
	{ "STATS_ALLOW", CONF_CIDR, F(stats_allow), 0, 0, 0,
	    "127.0.0.0/8 ::1/128" },
	{ "OPEN_PROXY", CONF_BOOL, F(open_proxy), 0, 0, 0, "no" },
	{ "SERVERS", CONF_SERVERS, F(servers), F(servers_count), 0, 0,
	    "127.0.0.1:8081" },
	{ "WORKER_NAME", CONF_NAME, F(worker_name), 0, 0, 0, "" },
	{ "PING_INTERVAL", CONF_TIME, F(ping_interval), 0, 1, CONF_TIME_MAX,
	    "30" },
	{ "RECONNECT_INTERVAL", CONF_TIME, F(reconnect_interval), 0, 1,
	    CONF_TIME_MAX, "3" },
	{ "WORKER_MAX_SESSIONS", CONF_UINT, F(worker_max_sessions), 0, 0,
	    CONF_COUNT_MAX, "0" },
	{ "WORKER_SECRET", CONF_STRING, F(worker_secret), 0, 0, 0, "" },
	{ "WORKER_SECRET_FILE", CONF_STRING, F(worker_secret_file), 0, 0, 0,
	    "" },
	{ "CONNECT_TIMEOUT", CONF_TIME, F(connect_timeout), 0, 1,
	    CONF_TIME_MAX, "10" },
	{ "IDLE_TIMEOUT", CONF_TIME, F(idle_timeout), 0, 0, CONF_TIME_MAX,
	    "0" },
	{ "DEST_ALLOW", CONF_CIDR_PORT, F(dest_allow), 0, 0, 0, "" },
	{ "DEST_DENY", CONF_CIDR_PORT, F(dest_deny), 0, 0, 0, "" },
	{ "PIDFILE", CONF_STRING, F(pidfile), 0, 0, 0, "" },
	{ "USER", CONF_STRING, F(user), 0, 0, 0, "" },
	{ "GROUP", CONF_STRING, F(group), 0, 0, 0, "" },
	{ "SYSLOG_FACILITY", CONF_FACILITY, F(syslog_facility), 0, 0, 0,
	    "daemon" },
	{ "LOG_CONNECTION", CONF_BOOL, F(log_connection), 0, 0, 0, "yes" },
	{ "LOG_SESSION", CONF_BOOL, F(log_session), 0, 0, 0, "no" },
	{ "LOG_EVENT", CONF_BOOL, F(log_event), 0, 0, 0, "no" },
	{ "LOG_ERROR", CONF_BOOL, F(log_error), 0, 0, 0, "yes" },
	{ "LOG_ACCESS", CONF_BOOL, F(log_access), 0, 0, 0, "yes" },
};
#undef F

static const struct {
	const char	*name;
	int		 value;
} conf_facilities[] = {
	{ "daemon", LOG_DAEMON },
	{ "user", LOG_USER },
	{ "auth", LOG_AUTH },
#ifdef LOG_AUTHPRIV
	{ "authpriv", LOG_AUTHPRIV },
#endif
	{ "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

/* Whether c is a blank between words: space or tab. */
static int
conf_isblank(int c)
{
	return (c == ' ' || c == '\t');
}

/* Whether c is a control character (TAB is allowed as a blank). */
static int
conf_iscontrol(int c)
{
	return ((c >= 0 && c < 0x20 && c != '\t') || c == 0x7f);
}

/* Whether the rest of a line after a value is blank or a comment. */
static int
conf_rest_empty(const char *p)
{
	if (*p == '\0')
		return (1);
	if (!conf_isblank(*p))
		return (0);
	while (conf_isblank(*p))
		p++;
	return (*p == '\0' || *p == '#');
}

/*
 * Parse one line.  Returns 0 for a blank or comment line, 1 with key and
 * value allocated for KEY=value, or -1 with a cause.  A trailing newline
 * is ignored.
 */
int
conf_parse_line(const char *line, char **key, char **value, char **cause)
{
	const char	*p, *start, *keyend;
	char		*out, *v;
	size_t		 len;

	*key = *value = NULL;
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	for (p = line; p < line + len; p++) {
		if (conf_iscontrol((unsigned char)*p)) {
			xasprintf(cause, *p == '\r' ? "carriage return in line "
			    "(DOS line ending?)" : "control character in line");
			return (-1);
		}
	}
	v = xstrndup(line, len);

	p = v;
	while (conf_isblank(*p))
		p++;
	if (*p == '\0' || *p == '#') {
		free(v);
		return (0);
	}
	if (strncmp(p, "export", 6) == 0 && conf_isblank(p[6])) {
		p += 6;
		while (conf_isblank(*p))
			p++;
	}

	start = p;
	if (!(*p == '_' || (*p >= 'A' && *p <= 'Z')))
		goto badkey;
	while (*p == '_' || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9'))
		p++;
	if (*p == '\0' || conf_isblank(*p)) {
		keyend = p;
		while (conf_isblank(*p))
			p++;
		if (*p == '=')
			xasprintf(cause, "no blanks allowed before '='");
		else
			xasprintf(cause, "want KEY=value, no '=' after %.*s",
			    (int)(keyend - start > CONF_CLIP ? CONF_CLIP :
			    keyend - start), start);
		goto fail;
	}
	if (*p != '=')
		goto badkey;
	*key = xstrndup(start, p - start);
	p++;

	out = *value = xcalloc(1, strlen(p) + 1);
	if (conf_isblank(*p)) {
		/* "KEY=" then blanks or a comment is empty, as in sh. */
		if (!conf_rest_empty(p)) {
			xasprintf(cause, "no blanks allowed after '=' "
			    "(quote the value)");
			goto fail;
		}
	} else if (*p == '\'') {
		for (p++; *p != '\'' && *p != '\0'; p++)
			*out++ = *p;
		if (*p == '\0') {
			xasprintf(cause, "unterminated ' quote");
			goto fail;
		}
		if (!conf_rest_empty(p + 1)) {
			xasprintf(cause, "text after closing quote");
			goto fail;
		}
	} else if (*p == '"') {
		for (p++; *p != '"' && *p != '\0'; p++) {
			if (*p == '$' || *p == '`')
				goto expansion;
			if (*p == '\\' && p[1] != '\0' &&
			    strchr("\"\\$`", p[1]) != NULL)
				p++;
			*out++ = *p;
		}
		if (*p == '\0') {
			xasprintf(cause, "unterminated \" quote");
			goto fail;
		}
		if (!conf_rest_empty(p + 1)) {
			xasprintf(cause, "text after closing quote");
			goto fail;
		}
	} else {
		for (; *p != '\0' && !conf_isblank(*p); p++) {
			if (*p == '$' || *p == '`')
				goto expansion;
			if (strchr("'\"\\;&|<>()~", *p) != NULL) {
				xasprintf(cause, "'%c' in an unquoted value "
				    "(quote the value)", *p);
				goto fail;
			}
			*out++ = *p;
		}
		if (!conf_rest_empty(p)) {
			xasprintf(cause, "blank in an unquoted value "
			    "(quote the value)");
			goto fail;
		}
	}
	*out = '\0';
	free(v);
	return (1);

badkey:
	for (p = start; *p != '\0' && *p != '=' && !conf_isblank(*p); p++)
		/* nothing */;
	xasprintf(cause, "want KEY=value with KEY of A-Z 0-9 _, not '%.*s'",
	    (int)(p - start > CONF_CLIP ? CONF_CLIP : p - start), start);
	goto fail;
expansion:
	xasprintf(cause, "'%c' in a value: no expansion, the daemon never "
	    "runs a shell", *p);
fail:
	free(v);
	free(*key);
	free(*value);
	*key = *value = NULL;
	return (-1);
}

/* Look a key up in the table. */
static const struct conf_key *
conf_find_key(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(conf_keys); i++) {
		if (strcmp(conf_keys[i].name, name) == 0)
			return (&conf_keys[i]);
	}
	return (NULL);
}

/* Parse a non-negative decimal integer no larger than max. */
static int
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
static int
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
static int
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

/* Whether s is a worker name: 1..255 of [A-Za-z0-9._:@-]. */
static int
conf_valid_name(const char *s)
{
	size_t	len = strlen(s);

	if (len == 0 || len > CONF_NAME_MAX)
		return (0);
	return (strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@-") == len);
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
static void
conf_free_listen(struct conf_listen *l, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(l[i].text);
	free(l);
}

/* Free an array of host:port pairs. */
static void
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
 * Parse one numeric listen address: IPv4:PORT, [IPv6]:PORT or *:PORT.
 * Returns 0, or -1 with the reason in *why.
 */
static int
conf_parse_listen_one(const char *s, struct conf_listen *l, const char **why)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&l->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&l->ss;
	char			*copy, *host, *port, *end;
	uint16_t		 portnum;
	int			 rc = -1;

	memset(l, 0, sizeof(*l));
	copy = xstrdup(s);
	*why = "want IPv4:PORT, [IPv6]:PORT or *:PORT";
	if (copy[0] == '[') {
		if ((end = strchr(copy, ']')) == NULL || end[1] != ':')
			goto out;
		*end = '\0';
		host = copy + 1;
		port = end + 2;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			*why = "bad IPv6 address";
			goto out;
		}
		sin6->sin6_family = AF_INET6;
		l->sslen = sizeof(*sin6);
	} else {
		if ((end = strchr(copy, ':')) == NULL)
			goto out;
		if (strchr(end + 1, ':') != NULL) {
			*why = "IPv6 addresses go in brackets: [IPv6]:PORT";
			goto out;
		}
		*end = '\0';
		host = copy;
		port = end + 1;
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
static uint16_t
conf_listen_port(const struct conf_listen *l)
{
	if (l->ss.ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)&l->ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)&l->ss)->sin6_port));
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
static int
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
static int
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

/* Parse one HOST:PORT or [IPv6]:PORT to dial; the port may not be 0. */
static int
conf_parse_hostport_one(const char *s, struct conf_hostport *h,
    const char **why)
{
	struct in6_addr	 in6;
	char		*copy, *host, *port, *end;
	uint16_t	 portnum;
	int		 rc = -1;

	memset(h, 0, sizeof(*h));
	copy = xstrdup(s);
	*why = "want HOST:PORT or [IPv6]:PORT";
	if (copy[0] == '[') {
		if ((end = strchr(copy, ']')) == NULL || end[1] != ':')
			goto out;
		*end = '\0';
		host = copy + 1;
		port = end + 2;
		if (inet_pton(AF_INET6, host, &in6) != 1) {
			*why = "bad IPv6 address";
			goto out;
		}
	} else {
		if ((end = strchr(copy, ':')) == NULL)
			goto out;
		if (strchr(end + 1, ':') != NULL) {
			*why = "IPv6 addresses go in brackets: [IPv6]:PORT";
			goto out;
		}
		*end = '\0';
		host = copy;
		port = end + 1;
		if (!conf_valid_host(host)) {
			*why = "bad host name";
			goto out;
		}
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

/* Parse the SERVERS list; the same server twice is an error. */
static int
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

/*
 * Validate and store one key, replacing any earlier value.  Used for
 * file lines and -o overrides alike.  Returns 0, or -1 with a cause
 * naming the key.
 */
int
conf_set(struct conf *conf, const char *key, const char *value,
    char **cause)
{
	const struct conf_key	*k;
	void			*field;
	struct cidr_list	 list;
	struct conf_listen	*listen;
	struct conf_hostport	*servers;
	size_t			 count, i;
	uint64_t		 n;
	int			 b;
	const char		*p, *want;
	char			*why;

	if ((k = conf_find_key(key)) == NULL) {
		xasprintf(cause, "unknown key %.*s", CONF_CLIP, key);
		return (-1);
	}
	for (p = value; *p != '\0'; p++) {
		if (conf_iscontrol((unsigned char)*p)) {
			xasprintf(cause, "bad value for %s: control character",
			    k->name);
			return (-1);
		}
	}
	field = (char *)conf + k->off;

	switch (k->type) {
	case CONF_TIME:
		switch (conf_parse_seconds(value, k->max, &n)) {
		case -1:
			want = "want seconds";
			goto bad;
		case -2:
			want = "want seconds, at most 3 decimals";
			goto bad;
		case -3:
			want = "want seconds, at most 2592000 (30 days)";
			goto bad;
		}
		if (n < k->min) {
			want = "want seconds, more than 0";
			goto bad;
		}
		*(uint64_t *)field = n;
		break;
	case CONF_INT:
	case CONF_UINT:
		if (conf_parse_number(value, k->max, &n) != 0 || n < k->min) {
			xasprintf(cause, "bad value for %s: '%.*s' (want an "
			    "integer %llu..%llu)", k->name, CONF_CLIP, value,
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
			return (-1);
		}
		if (k->type == CONF_INT)
			*(int *)field = (int)n;
		else
			*(unsigned int *)field = (unsigned int)n;
		break;
	case CONF_BOOL:
		if (conf_parse_bool(value, &b) != 0) {
			want = "want yes or no";
			goto bad;
		}
		*(int *)field = b;
		break;
	case CONF_NAME:
		if (*value != '\0' && !conf_valid_name(value)) {
			want = "want 1..255 of A-Z a-z 0-9 . _ : @ -";
			goto bad;
		}
		/* FALLTHROUGH */
	case CONF_STRING:
		free(*(char **)field);
		*(char **)field = *value == '\0' ? NULL : xstrdup(value);
		if (field == &conf->worker_secret)
			conf->worker_secret_from_file = 0;
		break;
	case CONF_LISTEN:
		if (conf_parse_listen(k->name, value, &listen, &count,
		    cause) != 0)
			return (-1);
		conf_free_listen(*(struct conf_listen **)field,
		    *(size_t *)((char *)conf + k->count_off));
		*(struct conf_listen **)field = listen;
		*(size_t *)((char *)conf + k->count_off) = count;
		break;
	case CONF_SERVERS:
		if (conf_parse_servers(k->name, value, &servers, &count,
		    cause) != 0)
			return (-1);
		conf_free_hostports(conf->servers, conf->servers_count);
		conf->servers = servers;
		conf->servers_count = count;
		break;
	case CONF_CIDR:
	case CONF_CIDR_PORT:
		if (cidr_list_parse(value, k->type == CONF_CIDR_PORT, &list,
		    &why) != 0) {
			xasprintf(cause, "%s: %s", k->name, why);
			free(why);
			return (-1);
		}
		cidr_list_free(field);
		*(struct cidr_list *)field = list;
		break;
	case CONF_NO_WORKER:
		if (strcasecmp(value, "direct") == 0)
			conf->no_worker = CONF_NO_WORKER_DIRECT;
		else if (strcasecmp(value, "refuse") == 0)
			conf->no_worker = CONF_NO_WORKER_REFUSE;
		else {
			want = "want direct or refuse";
			goto bad;
		}
		break;
	case CONF_AUTH:
		if (strcasecmp(value, "none") == 0)
			conf->auth = CONF_AUTH_NONE;
		else if (strcasecmp(value, "password") == 0)
			conf->auth = CONF_AUTH_PASSWORD;
		else {
			want = "want none or password";
			goto bad;
		}
		break;
	case CONF_FACILITY:
		for (i = 0; i < nitems(conf_facilities); i++) {
			if (strcasecmp(value, conf_facilities[i].name) == 0)
				break;
		}
		if (i == nitems(conf_facilities)) {
			want = "want daemon, user, auth, authpriv or "
			    "local0..local7";
			goto bad;
		}
		conf->syslog_facility = conf_facilities[i].value;
		break;
	}
	return (0);

bad:
	xasprintf(cause, "bad value for %s: '%.*s%s' (%s)", k->name, CONF_CLIP,
	    value, strlen(value) > CONF_CLIP ? "..." : "", want);
	return (-1);
}

/* A configuration holding the documented defaults. */
struct conf *
conf_new(void)
{
	struct conf	*conf;
	char		*cause;
	size_t		 i;

	conf = xcalloc(1, sizeof(*conf));
	for (i = 0; i < nitems(conf_keys); i++) {
		/* A bad built-in default is a bug, not a user error. */
		if (conf_set(conf, conf_keys[i].name, conf_keys[i].dflt,
		    &cause) != 0)
			fatalx("conf_new: %s", cause);
	}
	return (conf);
}

/* Free a configuration and everything it holds. */
void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->path);
	conf_free_listen(conf->socks_listen, conf->socks_listen_count);
	conf_free_listen(conf->worker_listen, conf->worker_listen_count);
	conf_free_listen(conf->stats_listen, conf->stats_listen_count);
	cidr_list_free(&conf->client_allow);
	cidr_list_free(&conf->stats_allow);
	free(conf->password_file);
	conf_free_hostports(conf->servers, conf->servers_count);
	free(conf->worker_name);
	if (conf->worker_secret != NULL) {
		/* Do not leave the secret lying around in freed memory. */
		volatile char	*s = conf->worker_secret;

		while (*s != '\0')
			*s++ = '\0';
		free(conf->worker_secret);
	}
	free(conf->worker_secret_file);
	cidr_list_free(&conf->dest_allow);
	cidr_list_free(&conf->dest_deny);
	free(conf->pidfile);
	free(conf->user);
	free(conf->group);
	free(conf);
}

/*
 * Read a config file over the defaults.  Returns the configuration, or
 * NULL with a cause "PATH:LINE: message" (or "PATH: error" when the file
 * cannot be read).
 */
struct conf *
conf_load(const char *path, char **cause)
{
	struct conf	*conf;
	FILE		*f;
	char		*line = NULL, *key, *value, *why;
	size_t		 size = 0;
	ssize_t		 len;
	unsigned long	 lineno = 0;
	int		 rc;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	conf = conf_new();
	conf->path = xstrdup(path);
	while ((len = getline(&line, &size, f)) != -1) {
		lineno++;
		if (len > CONF_LINE_MAX + 1 || (len == CONF_LINE_MAX + 1 &&
		    line[len - 1] != '\n')) {
			xasprintf(cause, "%s:%lu: line longer than %d bytes",
			    path, lineno, CONF_LINE_MAX);
			goto fail;
		}
		if (strlen(line) != (size_t)len) {
			xasprintf(cause, "%s:%lu: NUL byte in line", path,
			    lineno);
			goto fail;
		}
		rc = conf_parse_line(line, &key, &value, &why);
		if (rc == 1) {
			rc = conf_set(conf, key, value, &why);
			free(key);
			free(value);
		}
		if (rc == -1) {
			xasprintf(cause, "%s:%lu: %s", path, lineno, why);
			free(why);
			goto fail;
		}
	}
	if (ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(line);
	fclose(f);
	return (conf);

fail:
	free(line);
	fclose(f);
	conf_free(conf);
	return (NULL);
}

/*
 * Read the first line of WORKER_SECRET_FILE into worker_secret and note
 * whether group or others may read the file.
 */
static int
conf_read_secret_file(struct conf *conf, char **cause)
{
	const char	*path = conf->worker_secret_file;
	char		 buf[CONF_SECRET_MAX + 2], *nl;
	struct stat	 st;
	size_t		 have = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOCTTY)) == -1) {
		xasprintf(cause, "WORKER_SECRET_FILE: %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		xasprintf(cause, "WORKER_SECRET_FILE: %s: %s", path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	while (have < sizeof(buf) - 1) {
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "WORKER_SECRET_FILE: %s: %s", path,
			    strerror(errno));
			close(fd);
			return (-1);
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (memchr(buf, '\n', have) != NULL)
			break;
	}
	close(fd);

	if ((nl = memchr(buf, '\n', have)) != NULL)
		have = nl - buf;
	else if (have > CONF_SECRET_MAX) {
		xasprintf(cause, "WORKER_SECRET_FILE: %s: first line longer "
		    "than %d bytes", path, CONF_SECRET_MAX);
		return (-1);
	}
	if (have > 0 && buf[have - 1] == '\r')
		have--;
	if (have > CONF_SECRET_MAX) {
		xasprintf(cause, "WORKER_SECRET_FILE: %s: first line longer "
		    "than %d bytes", path, CONF_SECRET_MAX);
		return (-1);
	}
	if (have == 0) {
		xasprintf(cause, "WORKER_SECRET_FILE: %s: empty secret", path);
		return (-1);
	}
	if (memchr(buf, '\0', have) != NULL) {
		xasprintf(cause, "WORKER_SECRET_FILE: %s: NUL byte in secret",
		    path);
		return (-1);
	}
	free(conf->worker_secret);
	conf->worker_secret = xstrndup(buf, have);
	conf->worker_secret_from_file = 1;
	conf->secret_file_insecure = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
	memset(buf, 0, sizeof(buf));
	return (0);
}

/* Check that no two server listen addresses clash. */
static int
conf_check_listen_clash(struct conf *conf, char **cause)
{
	struct {
		const char		*name;
		struct conf_listen	*l;
		size_t			 n;
	} sets[] = {
		{ "SOCKS_LISTEN", conf->socks_listen,
		    conf->socks_listen_count },
		{ "WORKER_LISTEN", conf->worker_listen,
		    conf->worker_listen_count },
		{ "STATS_LISTEN", conf->stats_listen,
		    conf->stats_listen_count },
	};
	size_t	si, sj, i, j;

	for (si = 0; si < nitems(sets); si++) {
		for (i = 0; i < sets[si].n; i++) {
			for (sj = si; sj < nitems(sets); sj++) {
				for (j = (sj == si ? i + 1 : 0);
				    j < sets[sj].n; j++) {
					if (!conf_listen_clash(&sets[si].l[i],
					    &sets[sj].l[j]))
						continue;
					xasprintf(cause, "%s %s and %s %s "
					    "cannot both be bound",
					    sets[si].name, sets[si].l[i].text,
					    sets[sj].name, sets[sj].l[j].text);
					return (-1);
				}
			}
		}
	}
	return (0);
}

/*
 * Role-specific checks and defaults, run once all overrides are in:
 * PIDFILE, WORKER_NAME, the secret file, listen clashes, AUTH and the
 * open-proxy rule.  Returns 0, or -1 with a cause naming the key.
 */
int
conf_finish(struct conf *conf, enum conf_role role, char **cause)
{
	char	host[CONF_NAME_MAX + 1];
	size_t	i;

	if (conf->pidfile == NULL)
		xasprintf(&conf->pidfile, "%s/esocksd-%s.pid", RUNSTATEDIR,
		    conf_role_name(role));

	if (conf->worker_name == NULL) {
		memset(host, 0, sizeof(host));
		if (gethostname(host, sizeof(host) - 1) == -1) {
			xasprintf(cause, "WORKER_NAME: gethostname: %s",
			    strerror(errno));
			return (-1);
		}
		if (!conf_valid_name(host)) {
			xasprintf(cause, "WORKER_NAME: host name '%.*s' is not "
			    "a valid worker name; set WORKER_NAME", CONF_CLIP,
			    host);
			return (-1);
		}
		conf->worker_name = xstrdup(host);
	}

	if (conf->worker_secret_file != NULL) {
		if (conf->worker_secret != NULL &&
		    !conf->worker_secret_from_file) {
			xasprintf(cause, "WORKER_SECRET and WORKER_SECRET_FILE "
			    "are both set; use one");
			return (-1);
		}
		if (conf_read_secret_file(conf, cause) != 0)
			return (-1);
	} else if (conf->worker_secret_from_file) {
		/* The file was unset by an override after an earlier finish. */
		free(conf->worker_secret);
		conf->worker_secret = NULL;
		conf->worker_secret_from_file = 0;
		conf->secret_file_insecure = 0;
	}

	if (role == CONF_ROLE_WORKER) {
		if (conf->servers_count == 0) {
			xasprintf(cause, "SERVERS is empty: a worker needs a "
			    "server to dial");
			return (-1);
		}
		return (0);
	}

	if (conf->socks_listen_count == 0) {
		xasprintf(cause, "SOCKS_LISTEN is empty: a server needs an "
		    "address for clients");
		return (-1);
	}
	if (conf_check_listen_clash(conf, cause) != 0)
		return (-1);
	if (conf->auth == CONF_AUTH_PASSWORD && conf->password_file == NULL) {
		xasprintf(cause, "AUTH=password needs PASSWORD_FILE");
		return (-1);
	}
	if (conf->auth == CONF_AUTH_NONE && !conf->open_proxy) {
		for (i = 0; i < conf->client_allow.count; i++) {
			if (cidr_is_private(&conf->client_allow.rules[i]))
				continue;
			xasprintf(cause, "CLIENT_ALLOW admits addresses beyond "
			    "private networks with AUTH=none; set "
			    "OPEN_PROXY=yes if you mean it");
			return (-1);
		}
	}
	return (0);
}

/* The role's name as on the command line. */
const char *
conf_role_name(enum conf_role role)
{
	switch (role) {
	case CONF_ROLE_SERVER:
		return ("server");
	case CONF_ROLE_WORKER:
		return ("worker");
	}
	return ("unknown");
}
