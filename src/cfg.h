/*
 * The configuration in force, for every module that reads a setting.
 * main loads it, replaces it whole on a successful reload and frees it
 * at exit; nothing else writes it.  A unit suite sets its own.
 */
#ifndef CFG_H
#define CFG_H

#include "conf.h"

extern struct conf	*cfg;

void	cfg_replace(struct conf *);

#endif
