/*
 * Private to mux-link.c and mux-session.c; nothing else includes it.  The
 * link and session structures behind the opaque types of mux.h, and the
 * few functions each half calls in the other: the link frames SESS
 * messages for the sessions and hands SESS messages to them, and a
 * session tells the link when it may read again or that it is gone.
 */
#ifndef MUX_INT_H
#define MUX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compat.h"
#include "ev.h"
#include "mux.h"
#include "relay.h"
#include "textnet.h"

/* Bits of a session's state (not the F, R... flags on the wire). */
#define MUX_STATE_SENT_F	0x01
#define MUX_STATE_RECV_F	0x02
#define MUX_STATE_EOF_GIVEN	0x04	/* relay_eof delivered */
#define MUX_STATE_RESET		0x08
#define MUX_STATE_ACCEPTED	0x10
#define MUX_STATE_IN_TABLE	0x20
#define MUX_STATE_BLOCKED	0x40	/* waiting for link room */
#define MUX_STATE_LEGACY_FULL	0x80	/* counted in link->legacy_full */

struct mux_session {
	struct end			 end;	/* first: the relay sees this */
	struct mux_link			*link;
	uint64_t			 id;
	int				 state;	/* MUX_STATE_* */
	mux_session_cb			 cb;
	void				*arg;
	mux_datagram_cb			 dgram_cb;	/* UDP sessions */
	void				*dgram_arg;
	int64_t				 send_window;
	uint64_t			 recv_left;
	uint64_t			 recv_unacked;
	struct buf			 held;
	struct mux_session		*table_next;
	TAILQ_ENTRY(mux_session)	 blocked_entry;
};
TAILQ_HEAD(mux_session_list, mux_session);

struct mux_link {
	int			 fd;
	enum mux_side		 side;
	const struct mux_link_ops *ops;
	void			*owner;
	char			 name[128];
	struct buf		 in;
	struct buf		 out;
	int			 established;	/* handshake done */
	int			 esp;
	uint32_t		 peer_window;
	uint64_t		 tid;
	uint64_t		 next_id;	/* next id we open */
	uint64_t		 max_peer_id;	/* highest id the peer opened */
	struct mux_session	**table;
	size_t			 table_size;	/* power of two */
	size_t			 count;
	struct mux_session_list	 blocked;
	int			 have_msg;
	size_t			 msg_hlen;
	struct textnet_msg	 msg;
	int			 legacy_full;
	int			 closing;
	int			 failed;	/* the peer's fault */
	int			 dead;
	int			 write_failed;
	int			 dirty;		/* on mux_link_dirty */
	TAILQ_ENTRY(mux_link)	 dirty_entry;
	struct ev_timer		 close_timer;
	struct ev_timer		 resume_timer;	/* parse what is buffered */
	char			*close_why;
	uint64_t		 last_rx, last_tx;
	int			 awaiting;	/* sent what wants an answer */
	uint64_t		 await_since;	/* ...and nothing came since */
	uint64_t		 bytes_rx, bytes_tx;
	/* A spliced frame's bytes the socket has not taken, ahead of out. */
	int			 pipe[2];
	size_t			 piped;
	/* A P frame's body being spliced to its session: bytes still due. */
	uint64_t		 body_id;
	size_t			 body_left;
	int			 splice_next;	/* bulk: read the next header alone */
};

/* mux-link.c */
void	mux_link_send_session(struct mux_link *, uint64_t id,
	    const char *flags, const void *body, size_t blen, int nargs,
	    const char *const *extra);
void	mux_link_unpause(struct mux_link *);
size_t	mux_link_queued(struct mux_link *);

/* mux-splice.c */
ssize_t	mux_link_splice_session(struct mux_link *, uint64_t id, int fd,
	    size_t max);
int	mux_link_splice_flush(struct mux_link *);
void	mux_link_splice_release(struct mux_link *);
int	mux_link_splice_wanted(struct mux_link *, const struct textnet_msg *);
size_t	mux_link_splice_peek(struct mux_link *);
void	mux_link_splice_start(struct mux_link *);
int	mux_link_splice_body(struct mux_link *);

/* mux-session.c */
int	mux_session_message(struct mux_link *, const struct textnet_msg *,
	    const unsigned char *body, const char **why);
void	mux_session_unlink(struct mux_session *);
void	mux_session_free_now(struct mux_session *);
ssize_t	mux_session_splice_data(struct mux_link *, uint64_t id, size_t len);

#endif
