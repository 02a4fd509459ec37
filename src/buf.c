/*
 * Growable byte buffer used by streams, the SOCKS handshake and the
 * worker link.  Unread bytes are kept at data[off..off+len); space is
 * reclaimed by sliding them to the front only when the tail runs short.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "xmalloc.h"

#define BUF_MIN_SIZE	4096

/* Make an empty buffer with no storage. */
void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

/* Release a buffer's storage and empty it. */
void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Bytes waiting in the buffer. */
size_t
buf_len(const struct buf *b)
{
	return (b->len);
}

/* The first unread byte; valid until the buffer is next changed. */
unsigned char *
buf_head(const struct buf *b)
{
	static unsigned char	empty[1];

	/* Never hand out NULL: callers pass it to memchr and friends. */
	if (b->data == NULL)
		return (empty);
	return (b->data + b->off);
}

/* Return a pointer to at least n bytes of free space after the data. */
void *
buf_reserve(struct buf *b, size_t n)
{
	size_t	need, size;

	if (b->size - b->off - b->len >= n && b->data != NULL)
		return (b->data + b->off + b->len);
	if (b->off > 0 && b->size - b->len >= n) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		return (b->data + b->len);
	}
	need = b->len + n;
	size = b->size ? b->size : BUF_MIN_SIZE;
	while (size < need)
		size *= 2;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	b->data = xreallocarray(b->data, size, 1);
	b->size = size;
	return (b->data + b->len);
}

/* Count n bytes written into space from buf_reserve as data. */
void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

/* Append a copy of len bytes. */
void
buf_add(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	memcpy(buf_reserve(b, len), data, len);
	b->len += len;
}

/* Discard n bytes from the front; an emptied buffer gives back its memory. */
void
buf_drain(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_free(b);
		return;
	}
	b->off += n;
	b->len -= n;
}

/* Discard everything and release the storage. */
void
buf_clear(struct buf *b)
{
	buf_free(b);
}

/* Read up to max bytes from fd onto the end; returns read(2)'s result. */
ssize_t
buf_read_fd(struct buf *b, int fd, size_t max)
{
	void	*p;
	ssize_t	 n;

	p = buf_reserve(b, max);
	n = read(fd, p, max);
	if (n > 0)
		b->len += n;
	else if (b->len == 0)
		buf_free(b);
	return (n);
}

/* Write as much as fd takes from the front; returns write(2)'s result. */
ssize_t
buf_write_fd(struct buf *b, int fd)
{
	ssize_t	n;

	if (b->len == 0)
		return (0);
	n = write(fd, b->data + b->off, b->len);
	if (n > 0)
		buf_drain(b, n);
	return (n);
}
