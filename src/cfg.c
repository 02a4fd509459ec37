/*
 * The configuration in force (cfg.h).  It lives in the library, not in
 * main.c, so that the modules reading it and their unit suites link
 * without the program around them.
 */
#include "config.h"

#include <stddef.h>

#include "cfg.h"
#include "conf.h"

struct conf	*cfg;

/* Put conf in force and free the configuration it replaces (NULL: none). */
void
cfg_replace(struct conf *conf)
{
	if (cfg != NULL && cfg != conf)
		conf_free(cfg);
	cfg = conf;
}
