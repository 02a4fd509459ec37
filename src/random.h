/*
 * Random bytes from the operating system, for link nonces (PROTOCOL.md 2)
 * and reconnect jitter.  Failure to get them is fatal: a nonce must
 * never be predictable.
 */
#ifndef RANDOM_H
#define RANDOM_H

#include <stddef.h>
#include <stdint.h>

void		random_bytes(void *, size_t);
void		random_hex(char *, size_t);
uint32_t	random_uniform(uint32_t);

#endif
