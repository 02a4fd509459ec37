/*
 * Unit tests of the worker link (src/mux-link.c, src/mux-session.c) with
 * the relay and socket streams behind it (src/relay.c, src/stream.c).
 * Two links talk over a socketpair in one process, one MUX_ACCEPTOR (the
 * server) and one MUX_DIALER (the worker), each with an owner that
 * records what it hears; or one link talks to a raw descriptor that the
 * test writes protocol bytes into.  Flow control is measured from
 * outside: the receiving stream's pending output, and how much the
 * sending socket accepted.
 * Every ev_run is bounded by a guard timer that fails the test.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "conf.h"
#include "ev.h"
#include "mux.h"
#include "relay.h"
#include "stats.h"
#include "stream.h"
#include "textnet.h"

#include "checklib.h"

#define GUARD_MS	8000
#define MAX_OPENS	8
#define MAX_JOINED	8
#define CHUNK		(64 * 1024)
#define TRANSFER_SIZE	(2 * 1024 * 1024)
#define LEGACY_SIZE	(4 * 1024 * 1024)
#define STALL_MS	500
#define BOUND_HOST	"192.0.2.7"
#define BOUND_PORT	51812

/* A session end joined to a relay with a stream on a socket. */
struct joined {
	struct stream	*stream;
	struct relay	*relay;		/* NULL once done */
	int		 done;
	char		 result[64];
	uint64_t	 bytes[2];
};

/* What a session's callback heard before it was joined. */
struct sess_rec {
	int		 accepted, rejected, lost, connected;
	char		 text[128];	/* host on ACCEPTED, else reason */
	char		 port[16];
	int		 join_fd;	/* >= 0: join on ACCEPTED */
	struct joined	 j;
};

enum open_action {
	OPEN_HOLD,		/* set a callback, do nothing more */
	OPEN_ACCEPT,		/* accept, not joined */
	OPEN_REJECT,		/* reject with reject_reason */
	OPEN_JOIN		/* accept and join to a stream on join_fd */
};

/* A link's owner: what the link told it. */
struct owner {
	struct mux_link		*link;		/* NULL once closed */
	int			 closed;
	char			 closed_why[128];
	int			 messages;
	char			 last_code[TEXTNET_MAX_CODE + 1];
	int			 opens;
	struct mux_session	*opened[MAX_OPENS];
	int			 open_nargs;	/* of the last S */
	char			 open_args[8][64];
	enum open_action	 action;
	const char		*reject_reason;
	int			 join_fd;
	struct sess_rec		 peer_sess;	/* cb of peer-opened ones */
	struct joined		 j;		/* for OPEN_JOIN */
};

/* The far side of a socket, driven by the test: bytes in and out. */
struct raw {
	int		 fd;
	struct buf	 in;
	struct buf	 out;
	int		 eof;		/* read 0 or a reset */
};

static struct owner	 acc, dia;	/* the owners of the two links */
static int		 sv[2] = { -1, -1 };	/* the link socketpair */
static struct raw	 raw;		/* plays a peer on sv[0] */
static struct raw	 far;		/* a far socket the test reads */
static struct joined	*joined[MAX_JOINED];
static int		 njoined;
static int		 extra_fds[16];
static int		 nextra;
static struct textnet_msg found;	/* the last message raw_count matched */
static const unsigned char *found_body;	/* its body, inside raw.in */
static size_t		 expect_rx;	/* bytes the link should have read */

/* Close fd at teardown. */
static void
keep_fd(int fd)
{
	ck_assert_int_lt(nextra, 16);
	extra_fds[nextra++] = fd;
}

/* The relay ended: record why and what it carried. */
static void
joined_done_cb(struct relay *r, const char *result, void *arg)
{
	struct joined	*j = arg;

	j->done++;
	snprintf(j->result, sizeof(j->result), "%s", result);
	j->bytes[0] = r->bytes[0];
	j->bytes[1] = r->bytes[1];
	j->relay = NULL;
	j->stream = NULL;
}

/*
 * Join session s to a stream on fd the way the daemon does: the worker
 * puts the session first (worker.c), the server the client (client.c).
 */
static void
join_session(struct mux_session *s, int fd, int session_first,
    struct joined *j)
{
	struct end	*se = mux_session_end(s);
	struct relay	*r;

	ck_assert_int_lt(njoined, MAX_JOINED);
	memset(j, 0, sizeof(*j));
	joined[njoined++] = j;
	j->stream = stream_new(fd);
	if (session_first) {
		r = relay_new(se, &j->stream->end, joined_done_cb, j);
		j->relay = r;
		se->ops->resume(se);
		if (!relay_dead(r))
			stream_start(j->stream);
	} else {
		r = relay_new(&j->stream->end, se, joined_done_cb, j);
		j->relay = r;
		stream_start(j->stream);
		se->ops->resume(se);
	}
}

/* Join two streams on fds a and b directly (direct mode). */
static void
join_streams(int a, int b, struct joined *j)
{
	struct stream	*sa, *sb;

	ck_assert_int_lt(njoined, MAX_JOINED);
	memset(j, 0, sizeof(*j));
	joined[njoined++] = j;
	sa = stream_new(a);
	sb = stream_new(b);
	j->stream = sb;
	j->relay = relay_new(&sa->end, &sb->end, joined_done_cb, j);
	stream_start(sa);
	stream_start(sb);
}

/* Record what a session heard; join it when told to. */
static void
sess_cb(struct mux_session *s, enum mux_event ev, const char *text,
    const char *port, void *arg)
{
	struct sess_rec	*rec = arg;

	snprintf(rec->text, sizeof(rec->text), "%s",
	    text != NULL ? text : "(null)");
	snprintf(rec->port, sizeof(rec->port), "%s",
	    port != NULL ? port : "(null)");
	switch (ev) {
	case MUX_SESSION_ACCEPTED:
		rec->accepted++;
		if (rec->join_fd >= 0) {
			join_session(s, rec->join_fd, 0, &rec->j);
			rec->join_fd = -1;
		}
		break;
	case MUX_SESSION_REJECTED:
		rec->rejected++;
		break;
	case MUX_SESSION_LOST:
		rec->lost++;
		break;
	case MUX_SESSION_CONNECTED:
		rec->connected++;
		break;
	}
}

/* A fresh record for a session that is not joined automatically. */
static void
sess_rec_init(struct sess_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->join_fd = -1;
}

/* The address the dialer reports in A. */
static void
bound_address(struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(BOUND_PORT);
	ck_assert_int_eq(inet_pton(AF_INET, BOUND_HOST, &sin->sin_addr), 1);
}

/* Record a non-SESS message; commands are unknown. */
static int
owner_message(struct mux_link *l, const struct textnet_msg *m,
    const unsigned char *body, const char **why)
{
	struct owner	*o = mux_link_owner(l);

	o->messages++;
	snprintf(o->last_code, sizeof(o->last_code), "%s", m->code);
	/* Like pool.c and worker.c: commands we do not know get 201. */
	return (m->response ? 0 : 1);
}

/* The peer opened a session: record it and act. */
static void
owner_session_open(struct mux_link *l, struct mux_session *s,
    const struct textnet_msg *m)
{
	struct owner		*o = mux_link_owner(l);
	struct sockaddr_in	 sin;
	int			 i;

	ck_assert_int_lt(o->opens, MAX_OPENS);
	o->opened[o->opens++] = s;
	o->open_nargs = m->nargs;
	for (i = 0; i < m->nargs && i < 8; i++)
		snprintf(o->open_args[i], sizeof(o->open_args[i]), "%s",
		    m->args[i]);
	bound_address(&sin);
	switch (o->action) {
	case OPEN_HOLD:
		mux_session_set_cb(s, sess_cb, &o->peer_sess);
		break;
	case OPEN_ACCEPT:
		mux_session_set_cb(s, sess_cb, &o->peer_sess);
		mux_session_accept(s, (struct sockaddr *)&sin);
		break;
	case OPEN_REJECT:
		mux_session_reject(s, o->reject_reason);
		break;
	case OPEN_JOIN:
		mux_session_set_cb(s, sess_cb, &o->peer_sess);
		mux_session_accept(s, (struct sockaddr *)&sin);
		join_session(s, o->join_fd, 1, &o->j);
		break;
	}
}

/* The link is gone: record why. */
static void
owner_closed(struct mux_link *l, const char *why)
{
	struct owner	*o = mux_link_owner(l);

	o->closed++;
	snprintf(o->closed_why, sizeof(o->closed_why), "%s", why);
	o->link = NULL;
}

static const struct mux_link_ops owner_ops = {
	owner_message,
	owner_session_open,
	owner_closed
};

/* Two links on sv: the acceptor on sv[0], the dialer on sv[1]. */
static void
links_new(int esp)
{
	acc.link = mux_link_new(sv[0], MUX_ACCEPTOR, &owner_ops, &acc);
	dia.link = mux_link_new(sv[1], MUX_DIALER, &owner_ops, &dia);
	sv[0] = sv[1] = -1;
	mux_link_establish(acc.link, esp, MUX_WINDOW_DEFAULT);
	mux_link_establish(dia.link, esp, MUX_WINDOW_DEFAULT);
}

/* Move bytes between a raw peer's buffers and its socket. */
static void
raw_io_cb(int fd, int events, void *arg)
{
	struct raw	*r = arg;
	ssize_t		 n;

	if (events & EV_WRITE) {
		n = buf_write_fd(&r->out, fd);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			/* The link hung up on us; tests check r->eof. */
			r->eof = 1;
			buf_free(&r->out);
		}
		if (buf_len(&r->out) == 0)
			ev_io_disable(fd, EV_WRITE);
	}
	if (events & EV_READ) {
		n = buf_read_fd(&r->in, fd, CHUNK);
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			r->eof = 1;
			ev_io_disable(fd, EV_READ);
		}
	}
}

/* The test plays the peer on sv[0]; the link under test is on sv[1]. */
static struct mux_link *
raw_link_new(enum mux_side side, int esp)
{
	struct owner	*o = side == MUX_ACCEPTOR ? &acc : &dia;

	raw.fd = sv[0];
	sv[0] = -1;
	ev_io_set(raw.fd, EV_READ, raw_io_cb, &raw);
	o->link = mux_link_new(sv[1], side, &owner_ops, o);
	sv[1] = -1;
	mux_link_establish(o->link, esp, MUX_WINDOW_DEFAULT);
	return (o->link);
}

/* Queue bytes for the raw peer to send. */
static void
raw_send(const void *data, size_t len)
{
	buf_add(&raw.out, data, len);
	ev_io_enable(raw.fd, EV_WRITE);
}

/* Queue a formatted header for the raw peer to send. */
static void
raw_sendf(const char *fmt, ...)
{
	char	line[TEXTNET_MAX_HEADER];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(line));
	raw_send(line, n);
}

/* Count the messages raw received with code, arg0 and flag in arg1. */
static int
raw_count(const char *code, const char *arg0, int flag)
{
	const char		*why;
	const char		*p = (const char *)buf_head(&raw.in);
	size_t			 len = buf_len(&raw.in), off = 0, used;
	enum textnet_parse	 rc;
	static struct textnet_msg m;
	int			 count = 0, i;

	while (off < len) {
		rc = textnet_parse_header(p + off, len - off, &used, &m, &why);
		if (rc == TEXTNET_PARSE_NEED)
			break;
		ck_assert_msg(rc == TEXTNET_PARSE_OK, "link sent garbage: %s",
		    why);
		if (len - off - used < m.body_len)
			break;
		off += used + m.body_len;
		if (strcmp(m.code, code) != 0)
			continue;
		if (arg0 != NULL && (m.nargs < 1 ||
		    strcmp(m.args[0], arg0) != 0))
			continue;
		if (flag != 0 && (m.nargs < 2 ||
		    strchr(m.args[1], flag) == NULL))
			continue;
		/* The copy's arguments point into its own storage. */
		memcpy(&found, &m, sizeof(found));
		for (i = 0; i < m.nargs; i++)
			found.args[i] = found.storage +
			    (m.args[i] - m.storage);
		found_body = (const unsigned char *)p + off - m.body_len;
		count++;
	}
	return (count);
}

/* Sum the W increments raw received for session id. */
static uint64_t
raw_credit(const char *id)
{
	const char		*why;
	const char		*p = (const char *)buf_head(&raw.in);
	size_t			 len = buf_len(&raw.in), off = 0, used;
	static struct textnet_msg m;
	uint64_t		 sum = 0;

	while (off < len && textnet_parse_header(p + off, len - off, &used,
	    &m, &why) == TEXTNET_PARSE_OK && len - off - used >= m.body_len) {
		off += used + m.body_len;
		if (strcmp(m.code, "SESS") == 0 && m.nargs >= 3 &&
		    strcmp(m.args[0], id) == 0 && strchr(m.args[1], 'W'))
			sum += strtoull(m.args[2], NULL, 10);
	}
	return (sum);
}

/* Tell whether raw holds exactly the bytes s. */
static int
raw_in_is(const char *s)
{
	return (buf_len(&raw.in) == strlen(s) &&
	    memcmp(buf_head(&raw.in), s, strlen(s)) == 0);
}

/* A fresh reactor, config and link socketpair per test. */
static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	ev_init();
	cfg = conf_new();
	memset(&acc, 0, sizeof(acc));
	memset(&dia, 0, sizeof(dia));
	sess_rec_init(&acc.peer_sess);
	sess_rec_init(&dia.peer_sess);
	acc.join_fd = dia.join_fd = -1;
	memset(&raw, 0, sizeof(raw));
	raw.fd = -1;
	memset(&far, 0, sizeof(far));
	far.fd = -1;
	njoined = nextra = 0;
	checklib_loop_init(GUARD_MS);
	checklib_socketpair(sv);
}

/* Close what is left, run the deferred frees, release all. */
static void
teardown(void)
{
	int	i;

	for (i = 0; i < njoined; i++)
		if (joined[i]->relay != NULL)
			relay_abort(joined[i]->relay, "teardown");
	if (acc.link != NULL)
		mux_link_close(acc.link, "teardown");
	if (dia.link != NULL)
		mux_link_close(dia.link, "teardown");
	if (raw.fd != -1) {
		ev_io_del(raw.fd);
		close(raw.fd);
	}
	buf_free(&raw.in);
	buf_free(&raw.out);
	if (far.fd != -1)
		ev_io_del(far.fd);
	buf_free(&far.in);
	buf_free(&far.out);
	/* One more round frees what the closes deferred. */
	checklib_run_for(1);
	/* A descriptor that no link or raw peer took over is still ours. */
	for (i = 0; i < 2; i++)
		if (sv[i] != -1)
			close(sv[i]);
	for (i = 0; i < nextra; i++)
		close(extra_fds[i]);
	ev_free();
	conf_free(cfg);
	cfg = NULL;
}

/* Lower a socket's send buffer so that socket capacity stays small. */
static void
small_sndbuf(int fd)
{
	int	size = 32768;

	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size,
	    sizeof(size)), 0);
}

/* How many bytes a fresh small-buffered socketpair takes unread. */
static size_t
pair_capacity(void)
{
	static unsigned char	chunk[CHUNK];
	size_t			total = 0;
	ssize_t			n;
	int			p[2];

	checklib_socketpair(p);
	small_sndbuf(p[0]);
	while ((n = write(p[0], chunk, sizeof(chunk))) > 0)
		total += n;
	ck_assert(n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
	close(p[0]);
	close(p[1]);
	return (total);
}

/* The n-th byte of a pattern that does not repeat at powers of two. */
static unsigned char
pattern(size_t n)
{
	return ((unsigned char)((n * 7 + (n >> 12)) % 253));
}

/*
 * A bulk transfer from outside: the test writes pattern bytes into wfd
 * and, once reading is switched on, reads them back from rfd.  The
 * receiving stream's pending output is sampled all along.
 */
struct transfer {
	int		 wfd, rfd;
	size_t		 total, written, got;
	int		 reading;
	struct joined	*watch;		/* its stream is the receiving one */
	size_t		 max_pending;
	size_t		 last_written;
	uint64_t	 last_progress;
	int		 stalled;
	int		 reof;
	int		 werr;		/* errno of a failed write */
	int		 bad;
	size_t		 bad_at;
	struct ev_timer	 tick;
};

static struct transfer	tr;

/* Sample the receiving stream's pending output. */
static void
transfer_measure(void)
{
	size_t	pending;

	if (tr.watch == NULL || tr.watch->relay == NULL)
		return;
	/* What the stream took and has not sent: its buffer and any pipe. */
	pending = tr.watch->stream->end.ops->pending(&tr.watch->stream->end);
	if (pending > tr.max_pending)
		tr.max_pending = pending;
}

/* Write pattern bytes until the socket refuses. */
static void
transfer_write_cb(int fd, int events, void *arg)
{
	static unsigned char	chunk[CHUNK];
	size_t			len, i;
	ssize_t			n;

	while (tr.written < tr.total) {
		len = tr.total - tr.written;
		if (len > sizeof(chunk))
			len = sizeof(chunk);
		for (i = 0; i < len; i++)
			chunk[i] = pattern(tr.written + i);
		n = write(fd, chunk, len);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* The tunnel broke: the checks below say why. */
			tr.werr = n == -1 ? errno : EIO;
			break;
		}
		tr.written += n;
		transfer_measure();
	}
	ev_io_disable(fd, EV_WRITE);
}

/* Read and check pattern bytes. */
static void
transfer_read_cb(int fd, int events, void *arg)
{
	static unsigned char	chunk[CHUNK];
	ssize_t			n, i;

	n = read(fd, chunk, sizeof(chunk));
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		tr.reof = 1;
		ev_io_disable(fd, EV_READ);
		return;
	}
	for (i = 0; i < n && !tr.bad; i++) {
		if (chunk[i] != pattern(tr.got + i)) {
			tr.bad = 1;
			tr.bad_at = tr.got + i;
		}
	}
	tr.got += n;
	transfer_measure();
}

/* Sample, and call the writer stalled after STALL_MS. */
static void
transfer_tick_cb(void *arg)
{
	transfer_measure();
	if (tr.written != tr.last_written) {
		tr.last_written = tr.written;
		tr.last_progress = ev_now();
	} else if (ev_now() - tr.last_progress >= STALL_MS)
		tr.stalled = 1;
	ev_timer_start(&tr.tick, 2);
}

/* Predicates for checklib_run_until, here and below. */
static int
transfer_stalled(void)
{
	return (tr.stalled);
}

static int
transfer_done(void)
{
	return (tr.got >= tr.total || tr.bad || tr.reof || tr.werr);
}

/*
 * Push total bytes from wfd to rfd with rfd unread until the writer
 * stalls, then read everything.  The receiving stream (of j) must never
 * hold more than cap, and the writer must get no further than cap, plus
 * what the two small-buffered socketpairs hold, plus one read, plus
 * extra (what a link may queue beyond cap).
 */
static void
transfer_check(int wfd, int rfd, struct joined *j, size_t cap,
    size_t total, size_t extra)
{
	size_t	bound;

	memset(&tr, 0, sizeof(tr));
	tr.wfd = wfd;
	tr.rfd = rfd;
	tr.total = total;
	tr.watch = j;
	tr.last_progress = ev_now();
	bound = cap + 2 * pair_capacity() + stream_read_size() + extra;
	ck_assert_uint_lt(bound, total);

	ev_timer_init(&tr.tick, transfer_tick_cb, NULL);
	ev_timer_start(&tr.tick, 2);
	ev_io_set(wfd, EV_WRITE, transfer_write_cb, NULL);
	checklib_run_until(transfer_stalled);
	ck_assert_msg(j->relay != NULL, "relay ended: %s", j->result);
	ck_assert_msg(tr.werr == 0, "write: %s", strerror(tr.werr));
	ck_assert_uint_lt(tr.written, tr.total);
	ck_assert_msg(tr.written <= bound, "sender took %zu bytes with the "
	    "receiver stopped; at most %zu expected", tr.written, bound);
	ck_assert_msg(tr.max_pending <= cap, "receiver buffered %zu bytes, "
	    "more than %zu", tr.max_pending, cap);
	/* It did fill up: the stall came from the cap, not elsewhere. */
	ck_assert_msg(tr.max_pending >= cap / 2, "receiver buffered only "
	    "%zu bytes", tr.max_pending);
	ck_assert_ptr_nonnull(j->relay);

	tr.reading = 1;
	ev_io_set(rfd, EV_READ, transfer_read_cb, NULL);
	if (tr.written < tr.total)
		ev_io_enable(wfd, EV_WRITE);
	checklib_run_until(transfer_done);
	ck_assert_msg(j->relay != NULL, "relay ended: %s", j->result);
	ck_assert_msg(tr.werr == 0, "write: %s", strerror(tr.werr));
	ck_assert_msg(!tr.bad, "byte %zu arrived wrong", tr.bad_at);
	ck_assert_int_eq(tr.reof, 0);
	ck_assert_uint_eq(tr.got, tr.total);
	ck_assert_uint_eq(tr.written, tr.total);
	ck_assert_msg(tr.max_pending <= cap, "receiver buffered %zu bytes, "
	    "more than %zu", tr.max_pending, cap);
	ev_timer_stop(&tr.tick);
	ev_io_del(wfd);
	ev_io_del(rfd);
}


/* Start reading the far socket into far.in. */
static void
far_start(int fd)
{
	far.fd = fd;
	ev_io_set(fd, EV_READ, raw_io_cb, &far);
}

static int
far_holds_hello(void)
{
	return (buf_len(&far.in) >= 5);
}

static int
far_holds_hello_world(void)
{
	return (buf_len(&far.in) >= 11);
}

static int
far_eof(void)
{
	return (far.eof);
}

/* Session records for sessions the acceptor opens. */
static struct sess_rec	r1, r2;

static int
dia_opened_one(void)
{
	return (dia.opens >= 1);
}

static int
dia_opened_two(void)
{
	return (dia.opens >= 2);
}

/* The acceptor's session heard back: accepted, rejected or lost. */
static int
r1_heard(void)
{
	return (r1.accepted + r1.rejected + r1.lost > 0);
}

static int
acc_closed(void)
{
	return (acc.closed > 0);
}

static int
dia_closed(void)
{
	return (dia.closed > 0);
}

static int
raw_got_message(void)
{
	return (raw_count("201", NULL, 0) > 0 || raw.eof);
}

static int
raw_eof_and_closed(void)
{
	return (raw.eof && (dia.closed > 0 || acc.closed > 0));
}

static int
raw_got_accept(void)
{
	return (raw_count("SESS", "1", 'A') > 0 || raw.eof);
}

static int
raw_got_reset(void)
{
	return (raw_count("SESS", "1", 'R') > 0 || raw.eof);
}

static int
raw_got_reset_of_2(void)
{
	return (raw_count("SESS", "2", 'R') > 0 || raw.eof);
}

START_TEST(session_open_reaches_dialer_with_socks_args)
{
	struct mux_session	*s;

	links_new(0);
	sess_rec_init(&r1);
	sess_rec_init(&r2);
	s = mux_session_open(acc.link, "example.com", 443, "connect",
	    sess_cb, &r1);
	ck_assert_uint_eq(mux_session_id(s), 1);
	checklib_run_until(dia_opened_one);
	ck_assert_int_eq(dia.open_nargs, 6);
	ck_assert_str_eq(dia.open_args[0], "1");
	ck_assert_str_eq(dia.open_args[1], "S");
	ck_assert_str_eq(dia.open_args[2], "SOCKS");
	ck_assert_str_eq(dia.open_args[3], "example.com");
	ck_assert_str_eq(dia.open_args[4], "443");
	ck_assert_str_eq(dia.open_args[5], "connect");
	ck_assert_uint_eq(mux_session_id(dia.opened[0]), 1);

	/* The next one gets the next odd id; arguments survive encoding. */
	s = mux_session_open(acc.link, "a b%c", 80, "bind", sess_cb, &r2);
	ck_assert_uint_eq(mux_session_id(s), 3);
	checklib_run_until(dia_opened_two);
	ck_assert_str_eq(dia.open_args[0], "3");
	ck_assert_str_eq(dia.open_args[3], "a b%c");
	ck_assert_str_eq(dia.open_args[4], "80");
	ck_assert_str_eq(dia.open_args[5], "bind");
	ck_assert_uint_eq(mux_link_sessions(acc.link), 2);
	ck_assert_uint_eq(mux_link_sessions(dia.link), 2);
	ck_assert_int_eq(r1.accepted + r1.rejected + r1.lost, 0);
	ck_assert_int_eq(acc.closed + dia.closed, 0);
}
END_TEST

START_TEST(accept_reaches_acceptor_with_bound_address)
{
	links_new(1);
	sess_rec_init(&r1);
	dia.action = OPEN_ACCEPT;
	mux_session_open(acc.link, "example.com", 443, "connect", sess_cb,
	    &r1);
	checklib_run_until(r1_heard);
	ck_assert_int_eq(r1.accepted, 1);
	ck_assert_int_eq(r1.rejected + r1.lost, 0);
	ck_assert_str_eq(r1.text, BOUND_HOST);
	ck_assert_str_eq(r1.port, "51812");
	ck_assert_uint_eq(mux_link_sessions(acc.link), 1);
}
END_TEST

static int
r1_connected(void)
{
	return (r1.connected > 0 || r1.rejected + r1.lost > 0);
}

/* A bind session: C after A names the peer to the acceptor. */
START_TEST(connected_reaches_acceptor_with_peer_address)
{
	struct sockaddr_in	sin;

	links_new(1);
	sess_rec_init(&r1);
	dia.action = OPEN_ACCEPT;
	mux_session_open(acc.link, "0.0.0.0", 0, "bind", sess_cb, &r1);
	checklib_run_until(r1_heard);
	ck_assert_int_eq(r1.accepted, 1);
	ck_assert_int_eq(r1.connected, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(4242);
	inet_pton(AF_INET, "198.51.100.9", &sin.sin_addr);
	mux_session_connected(dia.opened[0], (struct sockaddr *)&sin);
	checklib_run_until(r1_connected);
	ck_assert_int_eq(r1.connected, 1);
	ck_assert_str_eq(r1.text, "198.51.100.9");
	ck_assert_str_eq(r1.port, "4242");
}
END_TEST

/* What a UDP session's datagram callback heard last. */
struct dgram_rec {
	int	count;
	char	host[64];
	char	port[8];
	char	data[64];
	size_t	len;
};
static struct dgram_rec	dg_acc, dg_dia;

static void
dgram_cb(struct mux_session *s, const char *host, const char *port,
    const unsigned char *data, size_t len, void *arg)
{
	struct dgram_rec	*rec = arg;

	rec->count++;
	snprintf(rec->host, sizeof(rec->host), "%s", host);
	snprintf(rec->port, sizeof(rec->port), "%s", port);
	rec->len = len < sizeof(rec->data) ? len : sizeof(rec->data);
	memcpy(rec->data, data, rec->len);
}

static int
dg_dia_got_two(void)
{
	return (dg_dia.count >= 2);
}

static int
dg_acc_got_one(void)
{
	return (dg_acc.count >= 1);
}

/*
 * A UDP session: each P is one datagram with its address as args, an
 * empty one included, both ways; nothing reaches a relay.
 */
START_TEST(datagrams_travel_with_their_address)
{
	struct mux_session	*s;

	links_new(1);
	sess_rec_init(&r1);
	memset(&dg_acc, 0, sizeof(dg_acc));
	memset(&dg_dia, 0, sizeof(dg_dia));
	dia.action = OPEN_ACCEPT;
	s = mux_session_open(acc.link, "0.0.0.0", 0, "udp", sess_cb, &r1);
	checklib_run_until(r1_heard);
	ck_assert_int_eq(r1.accepted, 1);
	mux_session_set_datagram(s, dgram_cb, &dg_acc);
	mux_session_set_datagram(dia.opened[0], dgram_cb, &dg_dia);
	ck_assert_int_eq(mux_session_send_datagram(s, "a name", "53", "",
	    0), 0);
	ck_assert_int_eq(mux_session_send_datagram(s, "example.net", "53",
	    "query", 5), 0);
	checklib_run_until(dg_dia_got_two);
	ck_assert_str_eq(dg_dia.host, "example.net");
	ck_assert_str_eq(dg_dia.port, "53");
	ck_assert_uint_eq(dg_dia.len, 5);
	ck_assert(memcmp(dg_dia.data, "query", 5) == 0);
	ck_assert_int_eq(mux_session_send_datagram(dia.opened[0],
	    "198.51.100.1", "53", "answer", 6), 0);
	checklib_run_until(dg_acc_got_one);
	ck_assert_str_eq(dg_acc.host, "198.51.100.1");
	ck_assert_uint_eq(dg_acc.len, 6);
	ck_assert_int_eq(r1.rejected + r1.lost, 0);
	ck_assert_int_eq(acc.closed + dia.closed, 0);
}
END_TEST

START_TEST(accept_to_legacy_peer_sends_nothing)
{
	links_new(0);
	sess_rec_init(&r1);
	dia.action = OPEN_ACCEPT;
	mux_session_open(acc.link, "example.com", 443, "connect", sess_cb,
	    &r1);
	checklib_run_until(dia_opened_one);
	checklib_run_for(50);
	ck_assert_int_eq(r1.accepted + r1.rejected + r1.lost, 0);
	ck_assert_uint_eq(mux_link_bytes(dia.link, 1), 0);
}
END_TEST

START_TEST(reject_reaches_acceptor_with_reason)
{
	links_new(1);
	sess_rec_init(&r1);
	dia.action = OPEN_REJECT;
	dia.reject_reason = "refused";
	mux_session_open(acc.link, "example.com", 443, "connect", sess_cb,
	    &r1);
	checklib_run_until(r1_heard);
	ck_assert_int_eq(r1.rejected, 1);
	ck_assert_int_eq(r1.accepted + r1.lost, 0);
	ck_assert_str_eq(r1.text, "refused");
	ck_assert_uint_eq(mux_link_sessions(acc.link), 0);
	ck_assert_uint_eq(mux_link_sessions(dia.link), 0);
	ck_assert_int_eq(acc.closed + dia.closed, 0);
}
END_TEST

START_TEST(peer_closing_link_reports_lost_for_pending_sessions)
{
	links_new(1);
	sess_rec_init(&r1);
	sess_rec_init(&r2);
	dia.action = OPEN_HOLD;
	mux_session_open(acc.link, "a.example", 1, "connect", sess_cb, &r1);
	mux_session_open(acc.link, "b.example", 2, "connect", sess_cb, &r2);
	checklib_run_until(dia_opened_two);

	mux_link_close(dia.link, "going away");
	ck_assert_int_eq(dia.closed, 1);
	ck_assert_str_eq(dia.closed_why, "going away");
	ck_assert_ptr_null(dia.link);
	/* The dialer's own pending sessions were lost with the link. */
	ck_assert_int_eq(dia.peer_sess.lost, 2);
	ck_assert_str_eq(dia.peer_sess.text, "going away");

	checklib_run_until(acc_closed);
	ck_assert_int_eq(acc.closed, 1);
	ck_assert_int_eq(r1.lost, 1);
	ck_assert_int_eq(r2.lost, 1);
	ck_assert_int_eq(r1.accepted + r1.rejected, 0);
	ck_assert_int_eq(r2.accepted + r2.rejected, 0);
	ck_assert_str_eq(r1.text, acc.closed_why);
}
END_TEST

START_TEST(closing_link_reports_lost_at_once)
{
	links_new(1);
	sess_rec_init(&r1);
	sess_rec_init(&r2);
	mux_session_open(acc.link, "a.example", 1, "connect", sess_cb, &r1);
	mux_session_open(acc.link, "b.example", 2, "connect", sess_cb, &r2);
	mux_link_close(acc.link, "shutdown");
	ck_assert_int_eq(r1.lost, 1);
	ck_assert_int_eq(r2.lost, 1);
	ck_assert_str_eq(r1.text, "shutdown");
	ck_assert_str_eq(r2.text, "shutdown");
	ck_assert_int_eq(acc.closed, 1);
	ck_assert_str_eq(acc.closed_why, "shutdown");
	checklib_run_until(dia_closed);
}
END_TEST

START_TEST(sess_for_never_opened_id_closes_dialer_link)
{
	raw_link_new(MUX_DIALER, 1);
	/* A reset for an unknown id is ignored... */
	raw_sendf("SESS 1 0 9 R\r\n");
	checklib_run_for(30);
	ck_assert_int_eq(dia.closed, 0);
	ck_assert_int_eq(raw.eof, 0);
	/* ...data for one is a protocol error. */
	raw_sendf("SESS 2 5 7 P\r\nhello");
	checklib_run_until(raw_eof_and_closed);
	ck_assert_int_eq(dia.closed, 1);
	ck_assert_int_eq(dia.opens, 0);
}
END_TEST

START_TEST(sess_for_never_opened_id_closes_acceptor_link)
{
	raw_link_new(MUX_ACCEPTOR, 1);
	raw_sendf("SESS 1 0 5 F\r\n");
	checklib_run_until(raw_eof_and_closed);
	ck_assert_int_eq(acc.closed, 1);
}
END_TEST

START_TEST(s_with_even_id_closes_dialer_link)
{
	raw_link_new(MUX_DIALER, 1);
	raw_sendf("SESS 1 0 2 S SOCKS example.com 80 connect\r\n");
	checklib_run_until(raw_eof_and_closed);
	ck_assert_int_eq(dia.closed, 1);
	ck_assert_int_eq(dia.opens, 0);
	ck_assert_str_eq(dia.closed_why,
	    "S with a session id the peer may not open");
}
END_TEST

START_TEST(s_with_zero_id_closes_dialer_link)
{
	raw_link_new(MUX_DIALER, 1);
	raw_sendf("SESS 1 0 0 S SOCKS example.com 80 connect\r\n");
	checklib_run_until(raw_eof_and_closed);
	ck_assert_int_eq(dia.closed, 1);
	ck_assert_int_eq(dia.opens, 0);
}
END_TEST

START_TEST(s_with_odd_id_closes_acceptor_link)
{
	raw_link_new(MUX_ACCEPTOR, 1);
	raw_sendf("SESS 1 0 1 S SOCKS example.com 80 connect\r\n");
	checklib_run_until(raw_eof_and_closed);
	ck_assert_int_eq(acc.closed, 1);
	ck_assert_int_eq(raw_count("SESS", "1", 'R'), 0);
}
END_TEST

START_TEST(s_with_even_id_gets_r_from_acceptor)
{
	raw_link_new(MUX_ACCEPTOR, 1);
	raw_sendf("SESS 1 0 2 S SOCKS example.com 80 connect\r\n");
	checklib_run_until(raw_got_reset_of_2);
	ck_assert_int_eq(acc.opens, 0);
	checklib_run_for(30);
	ck_assert_int_eq(acc.closed, 0);
	ck_assert_int_eq(raw.eof, 0);
}
END_TEST

START_TEST(failing_a_closing_link_keeps_the_first_reason)
{
	uint64_t	errors = stats_totals()->link_errors;

	raw_link_new(MUX_ACCEPTOR, 1);
	mux_link_close_after_flush(acc.link, "bad_name");
	mux_link_fail(acc.link, "no RGST within HANDSHAKE_TIMEOUT");
	ck_assert_int_eq(acc.closed, 1);
	ck_assert_str_eq(acc.closed_why, "bad_name");
	ck_assert_uint_eq(stats_totals()->link_errors, errors);
}
END_TEST

START_TEST(unknown_command_gets_201_unknown_command)
{
	raw_link_new(MUX_DIALER, 1);
	/* A response is never answered, whatever it says. */
	raw_sendf("100 3 0\r\n");
	raw_sendf("FOO 7 0 some%20arg\r\n");
	checklib_run_until(raw_got_message);
	ck_assert_msg(raw_in_is("201 7 0 unknown_command\r\n"),
	    "got \"%.*s\"", (int)buf_len(&raw.in), buf_head(&raw.in));
	ck_assert_int_eq(dia.messages, 2);
	ck_assert_str_eq(dia.last_code, "FOO");
	checklib_run_for(30);
	ck_assert_int_eq(dia.closed, 0);
	ck_assert_int_eq(raw.eof, 0);
}
END_TEST

START_TEST(malformed_header_gets_invalid_command_and_closes)
{
	raw_link_new(MUX_DIALER, 1);
	raw_sendf("hello world\r\nPING 0 0\r\n");
	checklib_run_until(raw_eof_and_closed);
	ck_assert_msg(raw_in_is("201 0 0 invalid_command\r\n"),
	    "got \"%.*s\"", (int)buf_len(&raw.in), buf_head(&raw.in));
	ck_assert_int_eq(dia.closed, 1);
	/* Nothing after the bad header was dispatched. */
	ck_assert_int_eq(dia.messages, 0);
}
END_TEST

START_TEST(oversized_body_gets_invalid_command_and_closes)
{
	raw_link_new(MUX_ACCEPTOR, 1);
	raw_sendf("SESS 1 %d 1 P\r\n", TEXTNET_MAX_BODY + 1);
	checklib_run_until(raw_eof_and_closed);
	ck_assert_msg(raw_in_is("201 0 0 invalid_command\r\n"),
	    "got \"%.*s\"", (int)buf_len(&raw.in), buf_head(&raw.in));
	ck_assert_int_eq(acc.closed, 1);
}
END_TEST

/* The raw peer opens session 1 on the dialer and waits for its A. */
static void
raw_open_session_1(void)
{
	raw_sendf("SESS 1 0 1 S SOCKS example.com 80 connect\r\n");
	checklib_run_until(raw_got_accept);
	ck_assert_int_eq(raw_count("SESS", "1", 'A'), 1);
	ck_assert_int_ge(found.nargs, 4);
	ck_assert_str_eq(found.args[1], "A");
	ck_assert_str_eq(found.args[2], BOUND_HOST);
	ck_assert_str_eq(found.args[3], "51812");
}

/* Send a P body of len pattern bytes for session 1 from the raw peer. */
static void
raw_send_pattern(size_t from, size_t len)
{
	unsigned char	*body;
	size_t		 i;

	body = malloc(len);
	ck_assert_ptr_nonnull(body);
	for (i = 0; i < len; i++)
		body[i] = pattern(from + i);
	raw_sendf("SESS 2 %zu 1 P\r\n", len);
	raw_send(body, len);
	free(body);
}

static int
window_delivered(void)
{
	return (dia.j.relay == NULL ||
	    dia.j.relay->bytes[0] >= MUX_WINDOW_DEFAULT);
}

static int
window_read_and_credited(void)
{
	return (far.eof || raw.eof || (buf_len(&far.in) >=
	    MUX_WINDOW_DEFAULT && raw_credit("1") >= MUX_WINDOW_DEFAULT));
}

static int
two_windows_read(void)
{
	return (far.eof || raw.eof ||
	    buf_len(&far.in) >= 2 * MUX_WINDOW_DEFAULT);
}

START_TEST(window_exactly_used_is_delivered_and_credited_back)
{
	const unsigned char	*p;
	size_t			 i;
	int			 dp[2];

	checklib_socketpair(dp);
	keep_fd(dp[1]);
	raw_link_new(MUX_DIALER, 1);
	dia.action = OPEN_JOIN;
	dia.join_fd = dp[0];
	raw_open_session_1();

	/* A whole window while the far socket is not read: no reset. */
	raw_send_pattern(0, MUX_WINDOW_DEFAULT);
	checklib_run_until(window_delivered);
	ck_assert_ptr_nonnull(dia.j.relay);
	ck_assert_int_eq(raw_count("SESS", "1", 'R'), 0);

	/* Reading the far socket gives the window back, all of it. */
	far_start(dp[1]);
	checklib_run_until(window_read_and_credited);
	ck_assert_int_eq(far.eof, 0);
	ck_assert_uint_eq(buf_len(&far.in), MUX_WINDOW_DEFAULT);
	ck_assert_uint_eq(raw_credit("1"), MUX_WINDOW_DEFAULT);

	/* With the credit, a second whole window is fine too. */
	raw_send_pattern(MUX_WINDOW_DEFAULT, MUX_WINDOW_DEFAULT);
	checklib_run_until(two_windows_read);
	ck_assert_int_eq(far.eof, 0);
	ck_assert_uint_eq(buf_len(&far.in), 2 * MUX_WINDOW_DEFAULT);
	p = buf_head(&far.in);
	for (i = 0; i < 2 * MUX_WINDOW_DEFAULT; i++)
		if (p[i] != pattern(i))
			ck_abort_msg("byte %zu arrived wrong", i);
	ck_assert_int_eq(raw_count("SESS", "1", 'R'), 0);
	ck_assert_int_eq(dia.closed, 0);
}
END_TEST

START_TEST(window_overrun_resets_joined_session_not_link)
{
	char	c;
	ssize_t	n;
	int	dp[2];

	checklib_socketpair(dp);
	keep_fd(dp[1]);
	raw_link_new(MUX_DIALER, 1);
	dia.action = OPEN_JOIN;
	dia.join_fd = dp[0];
	raw_open_session_1();

	raw_send_pattern(0, MUX_WINDOW_DEFAULT + 1);
	checklib_run_until(raw_got_reset);
	ck_assert_int_eq(raw_count("SESS", "1", 'R'), 1);
	ck_assert_int_eq(dia.j.done, 1);
	ck_assert_str_eq(dia.j.result, "window-overrun");
	ck_assert_uint_eq(dia.j.bytes[0], 0);
	ck_assert_uint_eq(mux_link_sessions(dia.link), 0);

	/* The far socket was closed, and got none of the bytes. */
	n = read(dp[1], &c, 1);
	ck_assert_msg(n == 0 || (n == -1 && errno == ECONNRESET),
	    "far socket: read gave %zd (%s)", n, strerror(errno));

	/* The link is still up: a new session opens on it. */
	dia.action = OPEN_HOLD;
	raw_sendf("SESS 3 0 3 S SOCKS example.org 80 connect\r\n");
	checklib_run_until(dia_opened_two);
	ck_assert_str_eq(dia.open_args[3], "example.org");
	ck_assert_int_eq(dia.closed, 0);
	ck_assert_int_eq(raw.eof, 0);
}
END_TEST

START_TEST(window_overrun_before_join_fails_session_not_link)
{
	raw_link_new(MUX_DIALER, 1);
	dia.action = OPEN_ACCEPT;
	raw_open_session_1();

	raw_send_pattern(0, MUX_WINDOW_DEFAULT + 1);
	checklib_run_until(raw_got_reset);
	ck_assert_int_eq(raw_count("SESS", "1", 'R'), 1);
	/* The owner hears that the session failed, as from an R. */
	ck_assert_int_eq(dia.peer_sess.rejected, 1);
	ck_assert_int_eq(dia.peer_sess.accepted + dia.peer_sess.lost, 0);
	ck_assert_str_eq(dia.peer_sess.text, "failure");
	ck_assert_uint_eq(mux_link_sessions(dia.link), 0);
	checklib_run_for(30);
	ck_assert_int_eq(dia.closed, 0);
	ck_assert_int_eq(raw.eof, 0);
}
END_TEST

static int
link_read_all(void)
{
	return (dia.link == NULL || mux_link_bytes(dia.link, 0) >= expect_rx);
}

START_TEST(data_before_join_is_held_and_delivered_first)
{
	struct sockaddr_in	sin;
	const char		*first = "SESS 1 0 1 S SOCKS example.com 80 "
				    "connect\r\nSESS 2 5 1 P\r\nhello";
	int			dp[2];

	checklib_socketpair(dp);
	keep_fd(dp[1]);
	raw_link_new(MUX_DIALER, 1);
	dia.action = OPEN_HOLD;
	raw_send(first, strlen(first));
	expect_rx = strlen(first);
	checklib_run_until(link_read_all);
	ck_assert_ptr_nonnull(dia.link);
	ck_assert_int_eq(dia.opens, 1);
	ck_assert_uint_eq(mux_link_bytes(dia.link, 0), strlen(first));
	checklib_run_for(20);
	ck_assert_int_eq(raw_count("SESS", "1", 'R'), 0);

	/* Join later, as the worker does once its dial succeeds. */
	bound_address(&sin);
	mux_session_accept(dia.opened[0], (struct sockaddr *)&sin);
	join_session(dia.opened[0], dp[0], 1, &dia.j);
	far_start(dp[1]);
	checklib_run_until(far_holds_hello);
	raw_sendf("SESS 3 6 1 P\r\n world");
	checklib_run_until(far_holds_hello_world);
	ck_assert_uint_eq(buf_len(&far.in), 11);
	ck_assert_mem_eq(buf_head(&far.in), "hello world", 11);
	ck_assert_int_eq(far.eof, 0);
}
END_TEST

static int
raw_got_data_and_f(void)
{
	return (raw.eof || raw_count("SESS", "1", 'F') > 0);
}

static int
relay_over(void)
{
	return (dia.j.done > 0);
}

START_TEST(finish_half_closes_each_way)
{
	int	dp[2];

	checklib_socketpair(dp);
	keep_fd(dp[1]);
	raw_link_new(MUX_DIALER, 1);
	dia.action = OPEN_JOIN;
	dia.join_fd = dp[0];
	raw_open_session_1();
	far_start(dp[1]);

	/* Server to far socket: data, then F becomes EOF there. */
	raw_sendf("SESS 2 4 1 PF\r\nping");
	checklib_run_until(far_eof);
	ck_assert_uint_eq(buf_len(&far.in), 4);
	ck_assert_mem_eq(buf_head(&far.in), "ping", 4);
	ck_assert_int_eq(dia.j.done, 0);

	/* The other way still works; EOF there becomes F. */
	ck_assert_int_eq(write(dp[1], "pong", 4), 4);
	ck_assert_int_eq(shutdown(dp[1], SHUT_WR), 0);
	checklib_run_until(raw_got_data_and_f);
	ck_assert_int_eq(raw_count("SESS", "1", 'P'), 1);
	ck_assert_uint_eq(found.body_len, 4);
	ck_assert_mem_eq(found_body, "pong", 4);
	ck_assert_int_eq(raw_count("SESS", "1", 'F'), 1);
	checklib_run_until(relay_over);
	ck_assert_str_eq(dia.j.result, "ok");
	ck_assert_uint_eq(dia.j.bytes[0], 4);
	ck_assert_uint_eq(dia.j.bytes[1], 4);
	/* Both sides sent F: the session is forgotten. */
	ck_assert_uint_eq(mux_link_sessions(dia.link), 0);
	ck_assert_int_eq(raw_count("SESS", "1", 'R'), 0);
	ck_assert_int_eq(dia.closed, 0);
}
END_TEST

/*
 * A session from the acceptor to the dialer, joined at both ends: the
 * client socket cp[0] on the acceptor, the destination dp[0] on the
 * dialer; the test holds cp[1] and dp[1].  All send buffers are small.
 */
static void
open_joined_session(int esp, int cp[2], int dp[2])
{
	struct mux_session	*s;

	small_sndbuf(sv[0]);
	small_sndbuf(sv[1]);
	links_new(esp);
	checklib_socketpair(cp);
	checklib_socketpair(dp);
	small_sndbuf(cp[0]);
	small_sndbuf(cp[1]);
	small_sndbuf(dp[0]);
	small_sndbuf(dp[1]);
	keep_fd(cp[1]);
	keep_fd(dp[1]);
	sess_rec_init(&r1);
	r1.join_fd = cp[0];
	dia.action = OPEN_JOIN;
	dia.join_fd = dp[0];
	s = mux_session_open(acc.link, "example.com", 80, "connect",
	    sess_cb, &r1);
	if (esp)
		checklib_run_until(r1_heard);
	else {
		/* A legacy worker sends no A: the server goes ahead. */
		sess_cb(s, MUX_SESSION_ACCEPTED, NULL, NULL, &r1);
		checklib_run_until(dia_opened_one);
	}
	ck_assert_int_eq(r1.accepted, 1);
	ck_assert_ptr_nonnull(r1.j.relay);
	ck_assert_ptr_nonnull(dia.j.relay);
}

#define BIG_BODY	(512 * 1024)

static int
far_holds_big_body(void)
{
	return (far.eof || buf_len(&far.in) >= BIG_BODY);
}

static int
far_holds_big_body_and_tail(void)
{
	return (far.eof || buf_len(&far.in) >= BIG_BODY + 4);
}

START_TEST(closing_link_gives_sessions_no_room)
{
	struct mux_session	*s;
	struct end		*e;

	raw_link_new(MUX_ACCEPTOR, 1);
	sess_rec_init(&r1);
	s = mux_session_open(acc.link, "example.com", 443, "connect",
	    sess_cb, &r1);
	e = mux_session_end(s);
	ck_assert_uint_gt(e->ops->room(e), 0);
	/* As after a 403 or a protocol error: the link flushes, then goes. */
	mux_link_close_after_flush(acc.link, "refused");
	ck_assert_uint_eq(e->ops->room(e), 0);
	checklib_run_until(raw_eof_and_closed);
	ck_assert_int_eq(r1.lost, 1);
}
END_TEST

START_TEST(legacy_link_resumes_buffered_messages_after_drain)
{
	unsigned char	*body;
	size_t		 i;
	int		 dp[2];

	checklib_socketpair(dp);
	small_sndbuf(dp[0]);
	keep_fd(dp[1]);
	raw_link_new(MUX_DIALER, 0);
	dia.action = OPEN_JOIN;
	dia.join_fd = dp[0];

	/*
	 * One burst from a legacy server: a body that overfills the
	 * session's stream, and a small message right behind it.  The link
	 * reads both, stops at the full session, and has nothing more to
	 * read from its socket afterwards.
	 */
	body = malloc(BIG_BODY);
	ck_assert_ptr_nonnull(body);
	for (i = 0; i < BIG_BODY; i++)
		body[i] = pattern(i);
	raw_sendf("SESS 1 0 1 S SOCKS example.com 80 connect\r\n");
	raw_sendf("SESS 2 %d 1 P\r\n", BIG_BODY);
	raw_send(body, BIG_BODY);
	raw_sendf("SESS 3 4 1 P\r\ntail");
	free(body);
	expect_rx = buf_len(&raw.out);
	checklib_run_until(link_read_all);
	ck_assert_ptr_nonnull(dia.j.relay);
	ck_assert_uint_ge(buf_len(&dia.j.stream->out), STREAM_CAP);

	/* Once the far socket drains the stream, the tail must follow. */
	far_start(dp[1]);
	checklib_run_until(far_holds_big_body);
	checklib_run_until(far_holds_big_body_and_tail);
	ck_assert_int_eq(far.eof, 0);
	ck_assert_uint_eq(buf_len(&far.in), BIG_BODY + 4);
	ck_assert_mem_eq(buf_head(&far.in) + BIG_BODY, "tail", 4);
	ck_assert_int_eq(dia.closed, 0);
}
END_TEST

START_TEST(window_bounds_what_the_dialer_buffers)
{
	int	cp[2], dp[2];

	open_joined_session(1, cp, dp);
	/* Client (cp[1]) to destination (dp[1]) through both links. */
	transfer_check(cp[1], dp[1], &dia.j, MUX_WINDOW_DEFAULT,
	    TRANSFER_SIZE, 0);
	ck_assert_int_eq(acc.closed + dia.closed, 0);
	ck_assert_int_eq(r1.j.done + dia.j.done, 0);
}
END_TEST

START_TEST(window_bounds_what_the_acceptor_buffers)
{
	int	cp[2], dp[2];

	open_joined_session(1, cp, dp);
	/* Destination (dp[1]) back to the client (cp[1]). */
	transfer_check(dp[1], cp[1], &r1.j, MUX_WINDOW_DEFAULT,
	    TRANSFER_SIZE, 0);
	ck_assert_int_eq(acc.closed + dia.closed, 0);
	ck_assert_int_eq(r1.j.done + dia.j.done, 0);
}
END_TEST

START_TEST(legacy_link_bounds_what_the_dialer_buffers)
{
	int	cp[2], dp[2];

	open_joined_session(0, cp, dp);
	/*
	 * No windows: the dialer stops reading the link while the session's
	 * stream is full (plus the one body that filled it), and the
	 * acceptor stops reading the client once MUX_LINK_ROOM is queued,
	 * with the link socketpair and the dialer's input in between.
	 */
	transfer_check(cp[1], dp[1], &dia.j,
	    STREAM_CAP + stream_read_size(), LEGACY_SIZE,
	    MUX_LINK_ROOM + pair_capacity() + 3 * stream_read_size());
	ck_assert_int_eq(acc.closed + dia.closed, 0);
	ck_assert_int_eq(r1.j.done + dia.j.done, 0);
}
END_TEST

START_TEST(stream_cap_bounds_what_a_relay_buffers)
{
	static struct joined	j;
	int			a[2], b[2];

	checklib_socketpair(a);
	checklib_socketpair(b);
	small_sndbuf(a[1]);
	small_sndbuf(b[0]);
	keep_fd(a[1]);
	keep_fd(b[1]);
	join_streams(a[0], b[0], &j);
	transfer_check(a[1], b[1], &j, STREAM_CAP, TRANSFER_SIZE, 0);
	ck_assert_int_eq(j.done, 0);
}
END_TEST

static struct joined	direct;

static int
direct_done(void)
{
	return (direct.done > 0);
}

START_TEST(relay_carries_bytes_and_half_closes)
{
	char	got[16];
	int	a[2], b[2];

	checklib_socketpair(a);
	checklib_socketpair(b);
	keep_fd(a[1]);
	keep_fd(b[1]);
	join_streams(a[0], b[0], &direct);

	ck_assert_int_eq(write(a[1], "request", 7), 7);
	ck_assert_int_eq(shutdown(a[1], SHUT_WR), 0);
	far_start(b[1]);
	checklib_run_until(far_eof);
	ck_assert_uint_eq(buf_len(&far.in), 7);
	ck_assert_mem_eq(buf_head(&far.in), "request", 7);
	ck_assert_int_eq(direct.done, 0);

	ck_assert_int_eq(write(b[1], "response", 8), 8);
	ck_assert_int_eq(shutdown(b[1], SHUT_WR), 0);
	checklib_run_until(direct_done);
	ck_assert_str_eq(direct.result, "ok");
	ck_assert_uint_eq(direct.bytes[0], 7);
	ck_assert_uint_eq(direct.bytes[1], 8);
	ck_assert_int_eq(read(a[1], got, sizeof(got)), 8);
	ck_assert_mem_eq(got, "response", 8);
	ck_assert_int_eq(read(a[1], got, sizeof(got)), 0);
}
END_TEST

START_TEST(relay_idle_timeout_aborts)
{
	uint64_t	start;
	int		a[2], b[2];

	checklib_socketpair(a);
	checklib_socketpair(b);
	keep_fd(a[1]);
	keep_fd(b[1]);
	join_streams(a[0], b[0], &direct);
	ev_update_now();
	start = ev_now();
	relay_set_idle(direct.relay, 60);
	checklib_run_until(direct_done);
	ck_assert_str_eq(direct.result, "idle");
	ck_assert_uint_ge(ev_now() - start, 60);
}
END_TEST

/* The link's, relay's and streams' test cases. */
static Suite *
mux_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("mux");

	tc = tcase_create("sessions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, session_open_reaches_dialer_with_socks_args);
	tcase_add_test(tc, accept_reaches_acceptor_with_bound_address);
	tcase_add_test(tc, connected_reaches_acceptor_with_peer_address);
	tcase_add_test(tc, datagrams_travel_with_their_address);
	tcase_add_test(tc, accept_to_legacy_peer_sends_nothing);
	tcase_add_test(tc, reject_reaches_acceptor_with_reason);
	tcase_add_test(tc, peer_closing_link_reports_lost_for_pending_sessions);
	tcase_add_test(tc, closing_link_reports_lost_at_once);
	tcase_add_test(tc, data_before_join_is_held_and_delivered_first);
	tcase_add_test(tc, finish_half_closes_each_way);
	suite_add_tcase(s, tc);

	tc = tcase_create("protocol errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sess_for_never_opened_id_closes_dialer_link);
	tcase_add_test(tc, sess_for_never_opened_id_closes_acceptor_link);
	tcase_add_test(tc, s_with_even_id_closes_dialer_link);
	tcase_add_test(tc, s_with_zero_id_closes_dialer_link);
	tcase_add_test(tc, s_with_odd_id_closes_acceptor_link);
	tcase_add_test(tc, s_with_even_id_gets_r_from_acceptor);
	tcase_add_test(tc, failing_a_closing_link_keeps_the_first_reason);
	tcase_add_test(tc, unknown_command_gets_201_unknown_command);
	tcase_add_test(tc, malformed_header_gets_invalid_command_and_closes);
	tcase_add_test(tc, oversized_body_gets_invalid_command_and_closes);
	suite_add_tcase(s, tc);

	tc = tcase_create("flow control");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, window_exactly_used_is_delivered_and_credited_back);
	tcase_add_test(tc, window_overrun_resets_joined_session_not_link);
	tcase_add_test(tc, window_overrun_before_join_fails_session_not_link);
	tcase_add_test(tc, window_bounds_what_the_dialer_buffers);
	tcase_add_test(tc, window_bounds_what_the_acceptor_buffers);
	tcase_add_test(tc, legacy_link_resumes_buffered_messages_after_drain);
	tcase_add_test(tc, closing_link_gives_sessions_no_room);
	tcase_add_test(tc, legacy_link_bounds_what_the_dialer_buffers);
	suite_add_tcase(s, tc);

	tc = tcase_create("relay");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, relay_carries_bytes_and_half_closes);
	tcase_add_test(tc, relay_idle_timeout_aborts);
	tcase_add_test(tc, stream_cap_bounds_what_a_relay_buffers);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (checklib_run(mux_suite()));
}
