/*
 * A socket end for the relay: a connected non-blocking TCP socket with a
 * bounded output buffer.  Reads go straight from the kernel to the peer
 * end; writes go straight to the kernel and only the part it refuses is
 * buffered.  When the buffer holds STREAM_CAP bytes the stream reports no
 * room, and its producer stops reading until it has drained to half.
 *
 * Between two sockets (direct mode) on a system with splice(2), bytes go
 * from one socket to the other through a pipe without being copied to
 * user space; the pipe's content counts as the consuming stream's
 * pending output, and pipes are pooled so idle tunnels hold none.
 */
#ifndef STREAM_H
#define STREAM_H

#include "buf.h"
#include "relay.h"

/* Must be at least the session window, so a window's worth always fits. */
#define STREAM_CAP	(256 * 1024)

/*
 * Says how many of the len bytes just read from a stream's socket go on
 * to its peer: a prefix, the rest dropped; -1 resets the tunnel.
 */
typedef ssize_t	(*stream_filter_cb)(const void *, size_t len, void *arg);

struct stream {
	struct end	 end;		/* first: the relay sees this */
	int		 fd;
	struct buf	 out;
	int		 paused;	/* reading stopped for lack of room */
	int		 shut_pending;	/* shutdown(SHUT_WR) once out drains */
	int		 pipe[2];	/* splice pipe, -1 when none */
	size_t		 piped;		/* bytes in the pipe, before out */
	size_t		 pipe_cap;
	size_t		 pipe_full_at;	/* piped when the pipe filled, or 0 */
	int		 bulk;		/* reads are large: splice them */
	stream_filter_cb filter;	/* NULL: every byte goes on */
	void		*filter_arg;
};

struct stream	*stream_new(int fd);
void		 stream_start(struct stream *);
void		 stream_set_filter(struct stream *, stream_filter_cb, void *);
size_t		 stream_read_size(void);

#endif
