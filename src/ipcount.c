/*
 * The per-address connection counters behind ipcount.h: chained hashing
 * over a fixed bucket array per table, sized for tens of thousands of
 * addresses.  client.c keeps one table, pool-link.c another.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipcount.h"
#include "xmalloc.h"

struct ipcount_entry {
	uint8_t			 key[16];
	unsigned int		 count;
	struct ipcount_entry	*next;
};

/* The table key of an address: IPv4 as its mapped IPv6 form. */
static void
ipcount_key(const struct sockaddr *sa, uint8_t key[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		memcpy(key, mapped, 12);
		memcpy(key + 12,
		    &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6)
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    16);
}

/* Where the entry for key is, or would be linked in its bucket. */
static struct ipcount_entry **
ipcount_find(struct ipcount *t, const uint8_t key[16])
{
	struct ipcount_entry	**ep;
	uint32_t		  h = 2166136261u;
	int			  i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	ep = &t->buckets[h % IPCOUNT_BUCKETS];
	while (*ep != NULL && memcmp((*ep)->key, key, 16) != 0)
		ep = &(*ep)->next;
	return (ep);
}

/* Connections currently counted for this address in t. */
unsigned int
ipcount_get(struct ipcount *t, const struct sockaddr *sa)
{
	struct ipcount_entry	**ep;
	uint8_t			  key[16];

	ipcount_key(sa, key);
	ep = ipcount_find(t, key);
	return (*ep != NULL ? (*ep)->count : 0);
}

/* Count one more connection from this address; returns the new count. */
unsigned int
ipcount_add(struct ipcount *t, const struct sockaddr *sa)
{
	struct ipcount_entry	**ep;
	uint8_t			  key[16];

	ipcount_key(sa, key);
	ep = ipcount_find(t, key);
	if (*ep == NULL) {
		*ep = xcalloc(1, sizeof(**ep));
		memcpy((*ep)->key, key, 16);
	}
	return (++(*ep)->count);
}

/* Count one connection less; the entry goes when it reaches zero. */
void
ipcount_del(struct ipcount *t, const struct sockaddr *sa)
{
	struct ipcount_entry	**ep, *e;
	uint8_t			  key[16];

	ipcount_key(sa, key);
	ep = ipcount_find(t, key);
	if ((e = *ep) == NULL)
		return;
	if (--e->count == 0) {
		*ep = e->next;
		free(e);
	}
}
