/*
 * Accounts at run time (account.h): a list, short as the password file,
 * found by name at each login.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "compat.h"
#include "xmalloc.h"

static struct account	*account_list;

/*
 * The account called name, made at its first login; its rate limit is
 * set to rate (bytes/s, 0 none) as the password file in force says.
 */
struct account *
account_get(const char *name, uint64_t rate)
{
	struct account	*a;

	for (a = account_list; a != NULL; a = a->next) {
		if (strcmp(a->name, name) == 0) {
			if (a->limit.rate != rate)
				ratelimit_set_rate(&a->limit, rate);
			return (a);
		}
	}
	a = xcalloc(1, sizeof(*a));
	strlcpy(a->name, name, sizeof(a->name));
	ratelimit_init(&a->limit, rate);
	a->next = account_list;
	account_list = a;
	return (a);
}

/* The first account, for walking them all (->next). */
const struct account *
account_first(void)
{
	return (account_list);
}

/* Forget every account (exit: no tunnel is left). */
void
account_free_all(void)
{
	struct account	*a;

	while ((a = account_list) != NULL) {
		account_list = a->next;
		ratelimit_stop(&a->limit);
		free(a);
	}
}
