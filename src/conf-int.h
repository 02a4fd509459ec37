/*
 * Private to the config parser: what its files share with each other.
 * They call each other in one direction only, each using the ones above
 * it:
 *
 *	conf-lex.c	the line syntax (pure)
 *	conf-value.c	each kind of value (pure)
 *	conf-keys.c	the key table, conf_set, where each key was set
 *	conf.c		files, the secret file, role checks (conf_finish)
 *	conf-check.c	what the config names outside itself (conf_verify)
 *
 * Nothing else includes this file; the public API and struct conf are in
 * conf.h.
 */
#ifndef CONF_INT_H
#define CONF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "compat.h"
#include "conf.h"

#define CONF_CLIP		64	/* value bytes quoted in a message */

/* conf-lex.c */
int	conf_iscontrol(int);
void	conf_free_secret(char *);

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
uint16_t conf_listen_port(const struct conf_listen *);
int	conf_listen_move(struct conf_listen *, unsigned int);
int	conf_listen_clash(const struct conf_listen *,
	    const struct conf_listen *);

/* conf-keys.c */
int	conf_set_defaults(struct conf *, char **cause);
void	conf_free_where(struct conf *);

#endif
