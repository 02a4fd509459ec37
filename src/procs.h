/*
 * PROCESSES: a supervisor that forks the processes doing the work, one
 * reactor each, restarts one that dies and passes signals on; and the
 * child's side of the socket pair between them.
 */
#ifndef PROCS_H
#define PROCS_H

#include "compat.h"

/* What the supervisor asks of main. */
struct procs_ops {
	/* In a new child: run process index until it stops; never returns. */
	__dead void	(*child)(unsigned int index);
	/* Every process has started. */
	void		(*ready)(void);
	/* A process failed to start: give up start-up; never returns. */
	__dead void	(*fail)(char *cause);
	/* SIGHUP: load the config anew; -1 and a cause keeps the old one. */
	int		(*reload)(char **cause);
	/* The reload is over: cause NULL when every process took it. */
	void		(*reloaded)(const char *cause);
};

void	procs_start(unsigned int n, const struct procs_ops *);
void	procs_free(void);

void	procs_child_watch(void (*gone)(void));
void	procs_child_ready(void);
void	procs_child_failed(const char *cause);
void	procs_child_reloaded(const char *cause);
int	procs_child(void);

#endif
