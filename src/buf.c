/*
 * Growable byte buffer used by streams, the SOCKS handshake and the
 * worker link.  Unread bytes are kept at data[off..off+len); space is
 * reclaimed by sliding them to the front only when the tail runs short.
 * buf_read_fd sizes its reads from what the last ones brought (buf.h).
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

/* The smallest read buf_read_fd offers, and the least tail room it uses. */
#define BUF_READ_MIN	4096

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

/* Release the storage of an empty buffer; keep the read size it learned. */
static void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->size = 0;
	b->keep = 0;
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
static void *
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

/* Append a copy of len bytes. */
void
buf_add(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	memcpy(buf_reserve(b, len), data, len);
	b->len += len;
}

/*
 * Discard n bytes from the front; an emptied buffer gives back its
 * memory, unless buf_read_fd found it busy.
 */
void
buf_drain(struct buf *b, size_t n)
{
	if (n >= b->len) {
		if (b->keep)
			b->off = b->len = 0;
		else
			buf_release(b);
		return;
	}
	b->off += n;
	b->len -= n;
}

/*
 * Make tail room for a read of about want bytes.  Grow only when the
 * storage is smaller than want or cannot free BUF_READ_MIN (or want, if
 * less): a partial message left over is no reason to double it.
 * Otherwise read into the tail, first sliding the unread bytes to the
 * front when they are fewer than the bytes that frees, or the tail is
 * too short.
 */
static void
buf_read_room(struct buf *b, size_t want)
{
	unsigned char	*data;
	size_t		 size, need, tail, least;

	least = want < BUF_READ_MIN ? want : BUF_READ_MIN;
	if (b->len == 0)
		b->off = 0;
	tail = b->size - b->off - b->len;
	if (tail >= want)
		return;
	if (b->size >= want && b->size - b->len >= least) {
		if (b->off > 0 && (b->len <= b->off || tail < least)) {
			memmove(b->data, b->data + b->off, b->len);
			b->off = 0;
		}
		return;
	}
	need = b->len + least > want ? b->len + least : want;
	size = BUF_MIN_SIZE;
	while (size < need)
		size *= 2;
	/* Copy only the unread bytes, not the whole old storage. */
	data = xmalloc(size);
	if (b->len > 0)
		memcpy(data, b->data + b->off, b->len);
	free(b->data);
	b->data = data;
	b->size = size;
	b->off = 0;
}

/*
 * Read up to max bytes from fd onto the end; returns read(2)'s result.
 * The read offered grows while reads come back full and shrinks when
 * they bring under a quarter of it; storage that reads use well is
 * kept when the buffer empties, the rest given back.
 */
ssize_t
buf_read_fd(struct buf *b, int fd, size_t max)
{
	size_t	want, room;
	ssize_t	n;

	want = b->read_size > BUF_READ_MIN ? b->read_size : BUF_READ_MIN;
	if (want > max)
		want = max;
	if (want == 0)
		return (read(fd, buf_head(b), 0));
	buf_read_room(b, want);
	room = b->size - b->off - b->len;
	if (room > max)
		room = max;
	n = read(fd, b->data + b->off + b->len, room);
	if (n > 0) {
		b->len += n;
		if ((size_t)n == room) {
			/* More may wait: offer more, up to max. */
			room = room < max / 2 ? 2 * room : max;
			if (b->read_size < room)
				b->read_size = room;
		} else if ((size_t)n < want / 4)
			b->read_size = want / 2;
		b->keep = (size_t)n >= b->size / 4;
	} else if (b->len == 0 && !b->keep)
		buf_release(b);
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
