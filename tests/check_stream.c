/*
 * Unit tests of socket streams under the relay (src/stream.c,
 * src/relay.c) in direct mode: a tunnel between two AF_UNIX socketpairs
 * whose far ends the test plays, a destination that writes and a client
 * that reads when told.  A paused producer is resumed only once its
 * consumer has half its room again, every byte arrives in order across
 * pauses, and IDLE_TIMEOUT resets rather than closes a tunnel that holds
 * bytes for a stalled client, while a slow but reading client is not
 * idle.  Every ev_run is bounded by a guard timer that fails the test.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "relay.h"
#include "stream.h"

#include "checklib.h"

#define GUARD_MS	10000
#define CHUNK		(16 * 1024)
#define CLIENT_SNDBUF	(16 * 1024)	/* the stream's socket to the client */

/* A direct tunnel and the far ends the test plays. */
struct tunnel {
	struct stream	*client;	/* ends[0]: towards the client */
	struct stream	*dest;		/* ends[1]: towards the destination */
	struct relay	*relay;		/* NULL once done */
	int		 cfd;		/* the client's socket (test reads) */
	int		 dfd;		/* the destination's (test writes) */
	uint64_t	 sent;		/* pattern bytes written to dfd */
	uint64_t	 got;		/* pattern bytes read from cfd */
	int		 done;
	int		 gentle;	/* the relay's choice at its end */
	char		 result[32];
};

static struct tunnel	tun;

/* The n-th byte of the destination's stream. */
static unsigned char
pattern(uint64_t n)
{
	return ((unsigned char)((n * 7 + (n >> 12)) % 253));
}

/* The relay ended: record why, and whether it closed gently. */
static void
tunnel_done_cb(struct relay *r, const char *result, void *arg)
{
	struct tunnel	*t = arg;

	t->done++;
	t->gentle = r->gentle;
	snprintf(t->result, sizeof(t->result), "%s", result);
	t->relay = NULL;
	t->client = t->dest = NULL;
	ev_break();
}

/*
 * Open a tunnel the way the server does in direct mode.  The client's
 * socket takes little, so that the stream's own buffer fills soon.
 */
static void
tunnel_open(struct tunnel *t)
{
	int	c[2], d[2], size = CLIENT_SNDBUF;

	memset(t, 0, sizeof(*t));
	checklib_socketpair(c);
	checklib_socketpair(d);
	ck_assert_int_eq(setsockopt(c[0], SOL_SOCKET, SO_SNDBUF, &size,
	    sizeof(size)), 0);
	t->cfd = c[1];
	t->dfd = d[1];
	t->client = stream_new(c[0]);
	t->dest = stream_new(d[0]);
	t->relay = relay_new(&t->client->end, &t->dest->end, tunnel_done_cb,
	    t);
	stream_start(t->client);
	stream_start(t->dest);
}

/* The destination writes what its socket takes. */
static void
dest_write(struct tunnel *t)
{
	unsigned char	chunk[CHUNK];
	size_t		i;
	ssize_t		n;

	for (;;) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = pattern(t->sent + i);
		n = write(t->dfd, chunk, sizeof(chunk));
		if (n == -1) {
			ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
			return;
		}
		t->sent += n;
	}
}

/* The client reads up to max bytes, checking them; -1 at EOF or error. */
static ssize_t
client_read(struct tunnel *t, size_t max)
{
	unsigned char	chunk[CHUNK];
	ssize_t		n, i, total = 0;

	while ((size_t)total < max) {
		n = read(t->cfd, chunk, max - total < sizeof(chunk) ?
		    max - total : sizeof(chunk));
		if (n == 0)
			return (total > 0 ? total : -1);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return (-1);
		}
		for (i = 0; i < n; i++) {
			if (chunk[i] != pattern(t->got + i))
				ck_abort_msg("byte %llu is %u, want %u",
				    (unsigned long long)(t->got + i), chunk[i],
				    pattern(t->got + i));
		}
		t->got += n;
		total += n;
	}
	return (total);
}

/* Bytes the client stream holds for the client. */
static size_t
client_pending(struct tunnel *t)
{
	return (t->client->end.ops->pending(&t->client->end));
}

/* Feed the tunnel, the client reading nothing, until the reader pauses. */
static void
fill_until_paused(struct tunnel *t)
{
	int	i;

	for (i = 0; i < 500 && !t->dest->paused; i++) {
		dest_write(t);
		checklib_run_for(2);
		ck_assert_int_eq(t->done, 0);
	}
	ck_assert_msg(t->dest->paused, "the destination's stream never "
	    "paused with %zu bytes pending", client_pending(t));
	/* Keep the destination's socket full behind the paused reader. */
	dest_write(t);
}

/* A fresh reactor per test. */
static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	ev_init();
	checklib_loop_init(GUARD_MS);
}

/* End what is left of the tunnel and release the reactor. */
static void
teardown(void)
{
	if (tun.relay != NULL)
		relay_abort(tun.relay, "test");
	if (tun.cfd > 0)
		close(tun.cfd);
	if (tun.dfd > 0)
		close(tun.dfd);
	ev_free();
}

START_TEST(paused_reader_waits_for_half_the_room)
{
	uint64_t	before;
	size_t		pending;
	int		i;

	tunnel_open(&tun);
	fill_until_paused(&tun);
	before = tun.relay->bytes[1];
	pending = client_pending(&tun);

	/* The client reads a little: the stream sends a little more. */
	for (i = 0; i < 100 && client_pending(&tun) == pending; i++) {
		ck_assert_int_ge(client_read(&tun, 4096), 0);
		checklib_run_for(2);
	}
	ck_assert_uint_lt(client_pending(&tun), pending);
	ck_assert_uint_gt(client_pending(&tun), STREAM_CAP / 2);
	checklib_run_for(20);
	ck_assert_msg(tun.relay->bytes[1] == before, "the reader resumed "
	    "with only %zu bytes of room", STREAM_CAP - client_pending(&tun));
	ck_assert(tun.dest->paused);

	/* Reading on, the reader resumes once, for one large read. */
	for (i = 0; i < 1000 && tun.relay->bytes[1] == before; i++) {
		ck_assert_int_ge(client_read(&tun, 4096), 0);
		checklib_run_for(2);
	}
	ck_assert_uint_gt(tun.relay->bytes[1], before);
	ck_assert_uint_ge(tun.relay->bytes[1] - before, STREAM_CAP / 4);
}
END_TEST

START_TEST(bytes_arrive_in_order_across_pauses)
{
	ssize_t	n;
	int	i, rounds;

	tunnel_open(&tun);
	/* Stall and drain several times, then let everything through. */
	for (rounds = 0; rounds < 4; rounds++) {
		fill_until_paused(&tun);
		for (i = 0; i < 2000 && tun.dest->paused; i++) {
			ck_assert_int_ge(client_read(&tun, 8192), 0);
			checklib_run_for(1);
		}
		ck_assert(!tun.dest->paused);
	}
	ck_assert_int_eq(shutdown(tun.dfd, SHUT_WR), 0);
	for (i = 0; i < 5000 && !tun.done; i++) {
		checklib_run_for(1);
		if ((n = client_read(&tun, 1 << 20)) == -1)
			break;
	}
	ck_assert_uint_eq(tun.got, tun.sent);
	/* The client half-closes too: the tunnel ends well. */
	ck_assert_int_eq(shutdown(tun.cfd, SHUT_WR), 0);
	for (i = 0; i < 100 && !tun.done; i++)
		checklib_run_for(10);
	ck_assert_int_eq(tun.done, 1);
	ck_assert_str_eq(tun.result, "ok");
}
END_TEST

START_TEST(idle_with_nothing_pending_closes_gently)
{
	tunnel_open(&tun);
	relay_set_idle(tun.relay, 50);
	checklib_run_for(2000);
	ck_assert_int_eq(tun.done, 1);
	ck_assert_str_eq(tun.result, "idle");
	ck_assert_int_eq(tun.gentle, 1);
}
END_TEST

START_TEST(idle_with_bytes_pending_resets)
{
	tunnel_open(&tun);
	fill_until_paused(&tun);
	relay_set_idle(tun.relay, 100);
	checklib_run_for(2000);
	ck_assert_int_eq(tun.done, 1);
	ck_assert_str_eq(tun.result, "idle");
	ck_assert_msg(tun.gentle == 0, "an idle tunnel holding bytes for "
	    "its client ended with FIN, not a reset");
}
END_TEST

START_TEST(slow_delivery_is_not_idle)
{
	int	i;

	tunnel_open(&tun);
	fill_until_paused(&tun);
	/*
	 * 8 KiB every 30 ms for 1.2 s, longer than the idle timeout: the
	 * reader stays paused, bytes still move.  The timeout is far above
	 * the gap so that a loaded machine's scheduling cannot reach it.
	 */
	relay_set_idle(tun.relay, 800);
	for (i = 0; i < 40; i++) {
		ck_assert_int_ge(client_read(&tun, 8192), 0);
		checklib_run_for(30);
		ck_assert_msg(!tun.done, "a tunnel delivering to a slow client "
		    "ended as %s after %d ms", tun.result, 30 * (i + 1));
	}
}
END_TEST

/* The streams' test cases. */
static Suite *
stream_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("stream");

	tc = tcase_create("flow");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, paused_reader_waits_for_half_the_room);
	tcase_add_test(tc, bytes_arrive_in_order_across_pauses);
	suite_add_tcase(s, tc);

	tc = tcase_create("idle");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, idle_with_nothing_pending_closes_gently);
	tcase_add_test(tc, idle_with_bytes_pending_resets);
	tcase_add_test(tc, slow_delivery_is_not_idle);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (checklib_run(stream_suite()));
}
