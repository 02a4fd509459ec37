/*
 * Shared by the fuzz targets and their replay driver: the libFuzzer
 * entry point, and a check that aborts (so both libFuzzer and a replay
 * under make check report it) when a codec breaks its own contract.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(e) do {						\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #e);				\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#endif
