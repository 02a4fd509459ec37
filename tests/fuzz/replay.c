/*
 * Replay driver for the fuzz targets: calls LLVMFuzzerTestOneInput once
 * on every file named on the command line, and on every file in a named
 * directory.  Linked with each target in every build, so the seed
 * corpora (and any crash input kept as a regression) run under make
 * check without libFuzzer.  Exits 0 if every input ran, 1 if a file
 * could not be read; a failing check in a target aborts.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Read a whole file into an exactly sized buffer; -1 on error. */
static int
replay_read(const char *path, uint8_t **out, size_t *outlen)
{
	FILE	*f;
	uint8_t	*data = NULL, *p;
	size_t	 len = 0, size = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return (-1);
	for (;;) {
		if (len == size) {
			size = size == 0 ? 4096 : size * 2;
			if ((p = realloc(data, size)) == NULL)
				goto fail;
			data = p;
		}
		n = fread(data + len, 1, size - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	/* An exactly sized copy, so ASan sees any read past the end. */
	if ((p = malloc(len == 0 ? 1 : len)) == NULL) {
		free(data);
		return (-1);
	}
	memcpy(p, data, len);
	free(data);
	*out = p;
	*outlen = len;
	return (0);
fail:
	free(data);
	fclose(f);
	return (-1);
}

/* Run the target on one file; -1 if it cannot be read. */
static int
replay_file(const char *path)
{
	uint8_t	*data;
	size_t	 len;

	if (replay_read(path, &data, &len) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return (0);
}

/* Run the target on a file, or on each regular file in a directory. */
static int
replay_path(const char *path, size_t *count)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		*sub;
	int		 rc = 0;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (replay_file(path) == -1)
			return (-1);
		(*count)++;
		return (0);
	}
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((sub = malloc(strlen(path) + strlen(de->d_name) + 2)) ==
		    NULL) {
			rc = -1;
			break;
		}
		sprintf(sub, "%s/%s", path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(sub) == -1)
				rc = -1;
			else
				(*count)++;
		}
		free(sub);
	}
	closedir(d);
	return (rc);
}

int
main(int argc, char **argv)
{
	size_t	count = 0;
	int	i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file|directory ...\n", argv[0]);
		return (2);
	}
	for (i = 1; i < argc; i++) {
		if (replay_path(argv[i], &count) == -1)
			rc = 1;
	}
	printf("replayed %zu inputs\n", count);
	return (rc);
}
