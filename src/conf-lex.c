/*
 * The config file's line syntax: one line in, a KEY and its value out
 * (or a blank line, or the reason it is not valid).  The syntax is the
 * subset of sh that means the same to the shell and to us, so an init
 * script can source the file: no expansion, no escapes outside double
 * quotes, one value per line.  A pure codec: no I/O, no logging, nothing
 * about which keys exist (conf-keys.c) or what their values mean
 * (conf-value.c).  conf_load calls it for each line of a file, the
 * fuzz target tests/fuzz/fuzz_conf.c on its own.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-int.h"
#include "sha256.h"
#include "xmalloc.h"

/* Wipe a string that may hold a secret, then free it; NULL is fine. */
void
conf_free_secret(char *s)
{
	if (s == NULL)
		return;
	sha256_explicit_bzero(s, strlen(s));
	free(s);
}

/* Whether c is a blank between words: space or tab. */
static int
conf_isblank(int c)
{
	return (c == ' ' || c == '\t');
}

/* Whether c is a control character (TAB is allowed as a blank). */
int
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

/* The cause for a '$' or '`' in a value. */
static int
conf_no_expansion(int c, char **cause)
{
	xasprintf(cause, "'%c' in a value: no expansion, the daemon never "
	    "runs a shell", c);
	return (-1);
}

/*
 * Take "KEY=" off the front of p, KEY being A-Z, 0-9 and _ and not
 * starting with a digit.  Returns what follows the '=' with *key
 * allocated, or NULL with a cause.
 */
static const char *
conf_parse_key(const char *p, char **key, char **cause)
{
	const char	*start = p, *keyend;

	if (*p == '_' || (*p >= 'A' && *p <= 'Z')) {
		while (*p == '_' || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9'))
			p++;
		if (*p == '=') {
			*key = xstrndup(start, p - start);
			return (p + 1);
		}
		if (*p == '\0' || conf_isblank(*p)) {
			keyend = p;
			while (conf_isblank(*p))
				p++;
			if (*p == '=')
				xasprintf(cause, "no blanks allowed before "
				    "'='");
			else
				xasprintf(cause, "want KEY=value, no '=' after "
				    "%.*s", (int)(keyend - start > CONF_CLIP ?
				    CONF_CLIP : keyend - start), start);
			return (NULL);
		}
	}
	for (p = start; *p != '\0' && *p != '=' && !conf_isblank(*p); p++)
		/* nothing */;
	xasprintf(cause, "want KEY=value with KEY of A-Z 0-9 _, not '%.*s'",
	    (int)(p - start > CONF_CLIP ? CONF_CLIP : p - start), start);
	return (NULL);
}

/*
 * End a quoted value: p is where its scan stopped, on the closing quote
 * or on the end of the line; after the quote only blanks or a comment.
 */
static int
conf_value_closed(const char *p, char quote, char **cause)
{
	if (*p == '\0') {
		xasprintf(cause, "unterminated %c quote", quote);
		return (-1);
	}
	if (!conf_rest_empty(p + 1)) {
		xasprintf(cause, "text after closing quote");
		return (-1);
	}
	return (0);
}

/*
 * A '...' value, p just past the opening quote: everything up to the
 * closing quote, taken as it is, as in sh.  Writes it to out.
 */
static int
conf_value_single(const char *p, char *out, char **cause)
{
	for (; *p != '\'' && *p != '\0'; p++)
		*out++ = *p;
	*out = '\0';
	return (conf_value_closed(p, '\'', cause));
}

/*
 * A "..." value, p just past the opening quote: a backslash escapes
 * only " \ $ and `, as in sh, and since we never expand, an unescaped $
 * or ` is an error.  Writes the value to out.
 */
static int
conf_value_double(const char *p, char *out, char **cause)
{
	for (; *p != '"' && *p != '\0'; p++) {
		if (*p == '$' || *p == '`')
			return (conf_no_expansion(*p, cause));
		if (*p == '\\' && p[1] != '\0' &&
		    strchr("\"\\$`", p[1]) != NULL)
			p++;
		*out++ = *p;
	}
	*out = '\0';
	return (conf_value_closed(p, '"', cause));
}

/*
 * A bare value: one word without the characters the shell would read
 * differently.  "KEY=" then blanks or a comment is empty, as in sh.
 * Writes the value to out.
 */
static int
conf_value_bare(const char *p, char *out, char **cause)
{
	*out = '\0';
	if (conf_isblank(*p)) {
		if (conf_rest_empty(p))
			return (0);
		xasprintf(cause, "no blanks allowed after '=' (quote the "
		    "value)");
		return (-1);
	}
	for (; *p != '\0' && !conf_isblank(*p); p++) {
		if (*p == '$' || *p == '`')
			return (conf_no_expansion(*p, cause));
		if (strchr("'\"\\;&|<>()~", *p) != NULL) {
			xasprintf(cause, "'%c' in an unquoted value (quote the "
			    "value)", *p);
			return (-1);
		}
		*out++ = *p;
	}
	*out = '\0';
	if (!conf_rest_empty(p)) {
		xasprintf(cause, "blank in an unquoted value (quote the "
		    "value)");
		return (-1);
	}
	return (0);
}

/*
 * Parse one line.  Returns 0 for a blank or comment line, 1 with key and
 * value allocated for KEY=value, or -1 with a cause.  A trailing newline
 * is ignored.  The copies may hold WORKER_SECRET: they are wiped.
 */
int
conf_parse_line(const char *line, char **key, char **value, char **cause)
{
	const char	*p;
	char		*v;
	size_t		 len;
	int		 rc;

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
		conf_free_secret(v);
		return (0);
	}
	if (strncmp(p, "export", 6) == 0 && conf_isblank(p[6])) {
		p += 6;
		while (conf_isblank(*p))
			p++;
	}
	if ((p = conf_parse_key(p, key, cause)) == NULL) {
		conf_free_secret(v);
		return (-1);
	}

	*value = xcalloc(1, strlen(p) + 1);
	if (*p == '\'')
		rc = conf_value_single(p + 1, *value, cause);
	else if (*p == '"')
		rc = conf_value_double(p + 1, *value, cause);
	else
		rc = conf_value_bare(p, *value, cause);
	conf_free_secret(v);
	if (rc == -1) {
		free(*key);
		conf_free_secret(*value);
		*key = *value = NULL;
		return (-1);
	}
	return (1);
}
