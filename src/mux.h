/*
 * Sessions multiplexed on one text-net link (PROTOCOL.md 4).  A link owns
 * its socket, frames and parses messages, keeps the session table and the
 * per-session windows, and hands everything that is not a SESS message
 * to its owner (pool-link.c on the server, worker.c on the worker).  A session
 * is a relay end: once joined to a relay, bytes flow straight between the
 * link's buffers and the other end's socket.
 *
 * Before a session is joined to a relay, its owner hears about it through
 * a mux_session_cb; data that arrives meanwhile is held (within the
 * window) and delivered first once the relay resumes the session.
 */
#ifndef MUX_H
#define MUX_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "linkmsg.h"
#include "relay.h"
#include "textnet.h"

/* What a peer may announce as its window= (PROTOCOL.md 2). */
#define MUX_WINDOW_DEFAULT	LINKMSG_WINDOW_DEFAULT
#define MUX_WINDOW_MIN		LINKMSG_WINDOW_MIN
#define MUX_WINDOW_MAX		LINKMSG_WINDOW_MAX
/* Session data queued on a link beyond this waits for the link to drain. */
#define MUX_LINK_ROOM		(1024 * 1024)
/* Anything queued beyond this means the peer is not reading: drop it. */
#define MUX_LINK_HARD_CAP	(8 * 1024 * 1024)
/*
 * A P frame's body at most, copied or spliced.  Measured through a
 * worker on loopback (doc/PERFORMANCE.md): 60 KiB frames moved a single
 * download 1.7 times as fast as 128 KiB ones when spliced (1.1 times
 * when copied), and 8 uploads 1.4 times (1.3 copied), at less CPU;
 * 64 KiB less 128 bytes was as slow as 128 KiB.  TCP builds a send of
 * at most 64 KiB less room for headers, and a frame whose header and
 * body fit in one is what works.  Several frames fit a session's
 * window, so one leaves while the credit for the last is on its way
 * back.
 */
#define MUX_FRAME_MAX		(60 * 1024)

enum mux_side {
	MUX_ACCEPTOR,		/* the server: opens odd session ids */
	MUX_DIALER		/* the worker */
};

enum mux_event {
	MUX_SESSION_ACCEPTED,	/* A (or at once, from a legacy worker) */
	MUX_SESSION_REJECTED,	/* R before the relay was joined */
	MUX_SESSION_LOST,	/* the link died before the relay was joined */
	MUX_SESSION_CONNECTED	/* C: a BIND's peer connected (host, port) */
};

struct mux_link;
struct mux_session;

/*
 * Owner callbacks.  message: a message other than SESS, return 0 when
 * handled, 1 when it is not the owner's (answered 201 unknown_command
 * once the link is established, a protocol error that drops the link
 * before), or -1 (with *why) to drop the link.  session_open: the peer sent S; the owner must
 * set a callback and later accept or reject.  closed: the link is gone,
 * every session already failed; the link is freed after it returns.
 */
struct mux_link_ops {
	int	(*message)(struct mux_link *, const struct textnet_msg *,
		    const unsigned char *body, const char **why);
	void	(*session_open)(struct mux_link *, struct mux_session *,
		    const struct textnet_msg *);
	void	(*closed)(struct mux_link *, const char *why);
};

/* host/port on ACCEPTED (may be NULL) and CONNECTED, reason on REJECTED. */
typedef void	(*mux_session_cb)(struct mux_session *, enum mux_event,
		    const char *host_or_reason, const char *port, void *arg);

/*
 * A datagram on a UDP session (PROTOCOL.md 4): its P message's args, the
 * target (server to worker) or the source (worker to server).
 */
typedef void	(*mux_datagram_cb)(struct mux_session *, const char *host,
		    const char *port, const unsigned char *data, size_t len,
		    void *arg);

struct mux_link	*mux_link_new(int fd, enum mux_side,
		    const struct mux_link_ops *, void *owner);
void		*mux_link_owner(struct mux_link *);
void		 mux_link_set_name(struct mux_link *, const char *);
const char	*mux_link_name(struct mux_link *);
void		 mux_link_establish(struct mux_link *, int esp,
		    uint32_t peer_window);
int		 mux_link_esp(struct mux_link *);
uint64_t	 mux_link_send(struct mux_link *, const char *code,
		    uint64_t tid, int nargs, const char *const *args);
void		 mux_link_send_control(struct mux_link *,
		    const struct linkmsg_out *);
uint64_t	 mux_link_next_tid(struct mux_link *);
void		 mux_link_close(struct mux_link *, const char *why);
void		 mux_link_fail(struct mux_link *, const char *why);
int		 mux_link_failed(struct mux_link *);
void		 mux_link_close_after_flush(struct mux_link *,
		    const char *why);
size_t		 mux_link_sessions(struct mux_link *);
uint64_t	 mux_link_last_rx(struct mux_link *);
uint64_t	 mux_link_last_tx(struct mux_link *);
void		 mux_link_expect(struct mux_link *);
int		 mux_link_awaiting(struct mux_link *, uint64_t *since);
uint64_t	 mux_link_bytes(struct mux_link *, int sent);
void		 mux_link_local(struct mux_link *, struct sockaddr_storage *);

struct mux_session *mux_session_open(struct mux_link *, const char *host,
		    int port, const char *cmd, mux_session_cb, void *arg);
void		 mux_session_set_cb(struct mux_session *, mux_session_cb,
		    void *);
void		 mux_session_accept(struct mux_session *,
		    const struct sockaddr *bound);
void		 mux_session_connected(struct mux_session *,
		    const struct sockaddr *peer);
void		 mux_session_reject(struct mux_session *, const char *reason);
void		 mux_session_cancel(struct mux_session *);
void		 mux_session_set_datagram(struct mux_session *,
		    mux_datagram_cb, void *);
int		 mux_session_send_datagram(struct mux_session *,
		    const char *host, const char *port, const void *,
		    size_t);
struct end	*mux_session_end(struct mux_session *);
struct mux_session *mux_session_of_end(struct end *);
uint64_t	 mux_session_id(struct mux_session *);

#endif
