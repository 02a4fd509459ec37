/*
 * A byte buffer: contiguous, growing on demand, its storage released
 * when it empties so that thousands of idle tunnels cost no memory.
 * Caps are the caller's business: a buffer takes what it is given, and
 * callers stop feeding it when buf_len reaches their limit.
 *
 * A buffer that buf_read_fd fills learns how much its descriptor
 * delivers: it offers reads that grow while they come back full and
 * shrink when they come back nearly empty, and while reads use a good
 * part of its storage it keeps that storage when it empties, so a busy
 * worker link does not allocate and free on every read.
 */
#ifndef BUF_H
#define BUF_H

#include <sys/types.h>
#include <stddef.h>

struct buf {
	unsigned char	*data;
	size_t		 off;	/* first unread byte */
	size_t		 len;	/* bytes held, from off */
	size_t		 size;	/* bytes allocated */
	size_t		 read_size;	/* what buf_read_fd offers next */
	int		 keep;	/* keep the storage when drained empty */
};

void		 buf_init(struct buf *);
void		 buf_free(struct buf *);
size_t		 buf_len(const struct buf *);
unsigned char	*buf_head(const struct buf *);
void		 buf_add(struct buf *, const void *, size_t);
void		 buf_drain(struct buf *, size_t);
ssize_t		 buf_read_fd(struct buf *, int, size_t);
ssize_t		 buf_write_fd(struct buf *, int);

#endif
