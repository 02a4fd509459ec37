/*
 * Fixtures shared by the check unit suites (tests/check_*.c): runs of
 * the reactor that a guard timer keeps from hanging a test, a
 * non-blocking socketpair, and the runner each suite's main() hands its
 * Suite to.  Test code only;
 * linked into every check_* program, never into esocksd.
 */
#ifndef CHECKLIB_H
#define CHECKLIB_H

#include <check.h>
#include <stdint.h>

void	checklib_loop_init(uint64_t);
void	checklib_break_cb(void *);
int	checklib_run_guarded(void);
void	checklib_run_bounded(void);
void	checklib_run_for(uint64_t);
void	checklib_run_until_(int (*)(void), const char *);
#define checklib_run_until(pred)	checklib_run_until_((pred), #pred)

void	checklib_socketpair(int [2]);

int	checklib_run(Suite *);
int	checklib_run_each_poller(Suite *(*)(void));

#endif
