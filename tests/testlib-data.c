/*
 * The test data: a deterministic byte generator that chunking cannot
 * change, and the checksum both ends of a transfer print to compare it.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <inttypes.h>
#include <string.h>

#include "testlib.h"

#define TESTLIB_GEN_SEED	0x9e3779b97f4a7c15ULL
#define TESTLIB_FNV_OFFSET	0xcbf29ce484222325ULL
#define TESTLIB_FNV_PRIME	0x100000001b3ULL

/* Start the generator at its fixed seed. */
void
testlib_gen_init(struct testlib_gen *g)
{
	g->state = TESTLIB_GEN_SEED;
	g->nspare = 0;
}

/* One xorshift64* step. */
static uint64_t
testlib_gen_next(struct testlib_gen *g)
{
	g->state ^= g->state >> 12;
	g->state ^= g->state << 25;
	g->state ^= g->state >> 27;
	return (g->state * 0x2545f4914f6cdd1dULL);
}

/* Store a word little-endian whatever the host order. */
static void
testlib_gen_store(uint8_t *p, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &w, sizeof(w));
#else
	int	i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(w >> (8 * i));
#endif
}

/* Fill buf with the next len bytes; chunk sizes do not change the stream. */
void
testlib_gen_fill(struct testlib_gen *g, void *buf, size_t len)
{
	uint8_t	*p = buf;

	while (len > 0 && g->nspare > 0) {
		*p++ = g->spare[8 - g->nspare];
		g->nspare--;
		len--;
	}
	while (len >= 8) {
		testlib_gen_store(p, testlib_gen_next(g));
		p += 8;
		len -= 8;
	}
	if (len > 0) {
		testlib_gen_store(g->spare, testlib_gen_next(g));
		memcpy(p, g->spare, len);
		g->nspare = 8 - len;
	}
}

/* Start an empty checksum. */
void
testlib_sum_init(struct testlib_sum *s)
{
	s->hash = TESTLIB_FNV_OFFSET;
	s->bytes = 0;
}

/* Add bytes to the checksum. */
void
testlib_sum_add(struct testlib_sum *s, const void *buf, size_t len)
{
	const uint8_t	*p = buf, *end = p + len;
	uint64_t	 h = s->hash;

	while (p < end) {
		h ^= *p++;
		h *= TESTLIB_FNV_PRIME;
	}
	s->hash = h;
	s->bytes += len;
}

/* Format "bytes=N sum=HEX", the line socksc -k and tsink sum print. */
void
testlib_sum_format(const struct testlib_sum *s, char *out, size_t outlen)
{
	snprintf(out, outlen, "bytes=%" PRIu64 " sum=%016" PRIx64, s->bytes,
	    s->hash);
}
