/*
 * Private to the config parser: what src/conf.c, src/conf-keys.c,
 * src/conf-value.c and src/conf-check.c share with each other.  Nothing
 * else includes this file; the public API and struct conf are in conf.h.
 */
#ifndef CONF_INT_H
#define CONF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "compat.h"
#include "conf.h"

#define CONF_CLIP		64	/* value bytes quoted in a message */

/* conf.c */
int	conf_iscontrol(int);
void	conf_free_secret(char *);
int	conf_fail_at(const struct conf *, const char *key, char **cause,
	    const char *, ...) PRINTFLIKE(4, 5);

/* conf-keys.c */
int	conf_set_defaults(struct conf *, char **cause);
void	conf_free_where(struct conf *);

/* conf-value.c */
int	conf_parse_number(const char *, uint64_t max, uint64_t *);
int	conf_parse_seconds(const char *, uint64_t max, uint64_t *);
int	conf_parse_bool(const char *, int *);
void	conf_free_listen(struct conf_listen *, size_t);
void	conf_free_hostports(struct conf_hostport *, size_t);
int	conf_parse_listen(const char *key, const char *,
	    struct conf_listen **, size_t *count, char **cause);
int	conf_parse_servers(const char *key, const char *,
	    struct conf_hostport **, size_t *count, char **cause);

#endif
