/*
 * Allocation that never fails: on exhaustion the daemon logs and exits,
 * so no caller checks for NULL.
 */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stddef.h>
#include "compat.h"

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) PRINTFLIKE(2, 3);

#endif
