/*
 * Worker tags: short labels of [a-z0-9_.] a worker declares (WORKER_TAGS,
 * sent in its RGST as tags=a,b) and clients ask for (-tag-T in the user
 * name, tags= of an account in PASSWORD_FILE).  A small set type with a
 * pure parser, shared by the config, the pool, the password file and the
 * user-name codec.
 */
#ifndef TAGS_H
#define TAGS_H

#include <stddef.h>

#define TAGS_MAX	16	/* tags in one set */
#define TAGS_LEN_MAX	32	/* bytes in one tag */
/* The longest text tags_format writes, NUL included. */
#define TAGS_TEXT_MAX	(TAGS_MAX * (TAGS_LEN_MAX + 1))

struct tags {
	int	n;
	char	tag[TAGS_MAX][TAGS_LEN_MAX + 1];
};

int	tags_valid(const char *, size_t);
int	tags_add(struct tags *, const char *, size_t, char **);
int	tags_parse(struct tags *, const char *, int, char **);
int	tags_has(const struct tags *, const char *);
int	tags_has_all(const struct tags *, const struct tags *);
int	tags_has_any(const struct tags *, const struct tags *);
const char *tags_format(const struct tags *, int, char *, size_t);

#endif
