/*
 * libFuzzer target for the user-name parameters codec (src/userparam.c)
 * and tag lists (src/tags.c).  Each input, cut at its first NUL, is
 * parsed as a user name and as tag lists; the codec's promises are
 * checked: a refusal comes with a cause, an accepted name gives a BASE
 * that starts it, values within their limits, and rebuilding the name
 * from what was parsed parses to the same thing.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "fuzz.h"
#include "tags.h"
#include "userparam.h"

/* Check an accepted name's fields, then rebuild and parse it again. */
static void
fuzz_check(const char *user, const struct userparam *up)
{
	struct userparam	 again;
	char			 name[2048], *cause = NULL;
	int			 i;

	FUZZ_CHECK(strncmp(user, up->base, strlen(up->base)) == 0);
	FUZZ_CHECK(up->tags.n >= 0 && up->tags.n <= TAGS_MAX);
	for (i = 0; i < up->tags.n; i++)
		FUZZ_CHECK(tags_valid(up->tags.tag[i],
		    strlen(up->tags.tag[i])));
	FUZZ_CHECK(strlen(up->session) <= USERPARAM_SESSION_MAX);
	FUZZ_CHECK(up->ttl <= USERPARAM_TTL_MAX);
	FUZZ_CHECK(up->strict == 0 || up->strict == 1);

	snprintf(name, sizeof(name), "%s", up->base);
	for (i = 0; i < up->tags.n; i++) {
		strlcat(name, "-tag-", sizeof(name));
		strlcat(name, up->tags.tag[i], sizeof(name));
	}
	if (up->session[0] != '\0') {
		strlcat(name, "-session-", sizeof(name));
		strlcat(name, up->session, sizeof(name));
	}
	if (up->worker[0] != '\0') {
		strlcat(name, "-worker-", sizeof(name));
		strlcat(name, up->worker, sizeof(name));
	}
	if (strlen(name) > USERPARAM_USER_MAX)
		return;
	if (userparam_parse(name, &again, &cause) != 0) {
		fprintf(stderr, "'%s' rebuilt as '%s': %s\n", user, name,
		    cause);
		FUZZ_CHECK(!"a rebuilt name is refused");
	}
	FUZZ_CHECK(strcmp(again.base, up->base) == 0);
	FUZZ_CHECK(again.tags.n == up->tags.n);
	FUZZ_CHECK(strcmp(again.session, up->session) == 0);
	FUZZ_CHECK(strcmp(again.worker, up->worker) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct userparam	 up;
	struct tags		 t;
	char			*s, *cause = NULL;
	size_t			 len;

	len = strnlen((const char *)data, size);
	s = malloc(len + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, len);
	s[len] = '\0';

	if (userparam_parse(s, &up, &cause) == 0) {
		FUZZ_CHECK(cause == NULL);
		fuzz_check(s, &up);
	} else {
		FUZZ_CHECK(cause != NULL);
		free(cause);
		cause = NULL;
	}
	if (tags_parse(&t, s, ',', &cause) != 0) {
		FUZZ_CHECK(cause != NULL);
		free(cause);
		cause = NULL;
	}
	if (tags_parse(&t, s, ' ', &cause) != 0) {
		FUZZ_CHECK(cause != NULL);
		free(cause);
	}
	free(s);
	return (0);
}
