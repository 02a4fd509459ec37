/*
 * libFuzzer target for the config parser (the line syntax of
 * src/conf-lex.c, the keys and values of conf-keys.c and conf-value.c),
 * through its public interface only: the input is split into lines,
 * each line goes through conf_parse_line, and every KEY=value it yields
 * is stored with conf_set into one struct conf, which is freed at the end (so leaks
 * show under LeakSanitizer).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

/* Parse and apply every line of the input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*conf;
	char		*text, *line, *next, *key, *value, *cause;
	int		 r;

	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	conf = conf_new();
	FUZZ_CHECK(conf != NULL);
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		key = value = cause = NULL;
		r = conf_parse_line(line, &key, &value, &cause);
		FUZZ_CHECK(r == -1 || r == 0 || r == 1);
		if (r == -1)
			FUZZ_CHECK(cause != NULL);
		else if (r == 1) {
			FUZZ_CHECK(key != NULL && value != NULL);
			if (conf_set(conf, key, value, &cause) == -1)
				FUZZ_CHECK(cause != NULL);
		}
		free(cause);
		free(key);
		free(value);
	}
	conf_free(conf);
	free(text);
	return (0);
}
