/*
 * Unit tests of the one tunnel path (src/tunnel.c) between two socket
 * streams whose far sides the test plays: the owner's reply reaches the
 * client before anything else and the client's early bytes reach the
 * destination first; the tunnel is counted in the totals and under its
 * route (none on a worker), reports the bytes moved once, arms
 * IDLE_TIMEOUT from the configuration, and a client that is gone before
 * its reply ends the tunnel before tunnel_start returns.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "conf.h"
#include "ev.h"
#include "stats.h"
#include "stream.h"
#include "tunnel.h"

#include "checklib.h"

#define GUARD_MS	5000

/* The tunnel under test and the far sides the test plays. */
static struct tunnel	tun;
static int		cfd = -1;	/* the client's side (test) */
static int		dfd = -1;	/* the destination's side (test) */
static struct end	*near_end, *far_end;
static int		done_calls;
static char		done_result[32];
static uint64_t		done_up, done_down;

/* The owner's done callback: record what the tunnel reported. */
static void
done_cb(struct tunnel *t, const char *result, void *arg)
{
	ck_assert_ptr_eq(t, &tun);
	ck_assert_ptr_eq(arg, &tun);
	ck_assert_ptr_null(t->relay);
	done_calls++;
	snprintf(done_result, sizeof(done_result), "%s", result);
	done_up = t->up;
	done_down = t->down;
}

/* Whether the tunnel has reported its end. */
static int
tunnel_over(void)
{
	return (done_calls > 0);
}

/* Read exactly len bytes from fd within the guard time. */
static void
read_exact(int fd, char *out, size_t len)
{
	size_t	got = 0;
	ssize_t	n;

	while (got < len) {
		n = read(fd, out + got, len - got);
		if (n > 0) {
			got += n;
			continue;
		}
		ck_assert_msg(n == -1 && (errno == EAGAIN ||
		    errno == EWOULDBLOCK), "read: %zd, errno %d", n, errno);
		checklib_run_for(10);
	}
	out[got] = '\0';
}

/* Whether the metrics page has line (a whole line). */
static int
metrics_have(const char *line)
{
	struct buf	 b;
	char		*text, *want;
	int		 found;

	buf_init(&b);
	stats_render_metrics(&b);
	text = strndup((const char *)buf_head(&b), buf_len(&b));
	buf_free(&b);
	if (asprintf(&want, "\n%s\n", line) == -1)
		ck_abort_msg("asprintf");
	found = strstr(text, want) != NULL;
	free(want);
	free(text);
	return (found);
}

/* Two socket streams, a fresh reactor and configuration. */
static void
setup(void)
{
	int	c[2], d[2];

	signal(SIGPIPE, SIG_IGN);
	ev_init();
	checklib_loop_init(GUARD_MS);
	cfg_replace(conf_new());
	memset(&tun, 0, sizeof(tun));
	done_calls = 0;
	done_result[0] = '\0';
	checklib_socketpair(c);
	checklib_socketpair(d);
	cfd = c[1];
	dfd = d[1];
	near_end = &stream_new(c[0])->end;
	far_end = &stream_new(d[0])->end;
}

/* Close what the test played, let the tunnel end, free all. */
static void
teardown(void)
{
	if (cfd != -1)
		close(cfd);
	if (dfd != -1)
		close(dfd);
	cfd = dfd = -1;
	tunnel_abort(&tun, "test over");
	checklib_run_for(1);
	ev_free();
	cfg_replace(NULL);
}

START_TEST(reply_first_then_early_bytes_then_both_ways)
{
	struct buf	 early;
	char		 got[64];
	uint64_t	 total = stats_totals()->tunnels_total;
	uint64_t	 active = stats_totals()->tunnels_active;

	buf_init(&early);
	buf_add(&early, "early", 5);
	tunnel_start(&tun, near_end, far_end, "w1", "REPLY", 5, &early,
	    done_cb, &tun);
	ck_assert_ptr_nonnull(tun.relay);
	ck_assert_uint_eq(buf_len(&early), 0);
	ck_assert_uint_eq(stats_totals()->tunnels_total, total + 1);
	ck_assert_uint_eq(stats_totals()->tunnels_active, active + 1);
	ck_assert(metrics_have("esocksd_sessions_active{worker=\"w1\"} 1"));

	read_exact(cfd, got, 5);
	ck_assert_str_eq(got, "REPLY");
	read_exact(dfd, got, 5);
	ck_assert_str_eq(got, "early");
	ck_assert_int_eq(write(cfd, "up", 2), 2);
	ck_assert_int_eq(write(dfd, "down!", 5), 5);
	read_exact(dfd, got, 2);
	ck_assert_str_eq(got, "up");
	read_exact(cfd, got, 5);
	ck_assert_str_eq(got, "down!");

	/* Both sides finish: the tunnel is over, once, with its bytes. */
	shutdown(cfd, SHUT_WR);
	shutdown(dfd, SHUT_WR);
	checklib_run_until(tunnel_over);
	checklib_run_for(10);
	ck_assert_int_eq(done_calls, 1);
	ck_assert_str_eq(done_result, "ok");
	ck_assert_uint_eq(done_up, 7);
	ck_assert_uint_eq(done_down, 5);
	ck_assert_uint_eq(stats_totals()->tunnels_active, active);
	ck_assert(metrics_have("esocksd_sessions_active{worker=\"w1\"} 0"));
	ck_assert(metrics_have("esocksd_bytes_up_total{worker=\"w1\"} 7"));
	ck_assert(metrics_have("esocksd_bytes_down_total{worker=\"w1\"} 5"));
}
END_TEST

START_TEST(no_route_counts_totals_only)
{
	uint64_t	total = stats_totals()->tunnels_total;
	uint64_t	up = stats_totals()->bytes_up;
	char		got[8];

	tunnel_start(&tun, near_end, far_end, NULL, NULL, 0, NULL, done_cb,
	    &tun);
	ck_assert_uint_eq(stats_totals()->tunnels_total, total + 1);
	ck_assert(!metrics_have("esocksd_sessions_total{worker=\"\"} 1"));
	ck_assert_int_eq(write(cfd, "abc", 3), 3);
	read_exact(dfd, got, 3);
	ck_assert_str_eq(got, "abc");
	close(cfd);
	close(dfd);
	cfd = dfd = -1;
	checklib_run_until(tunnel_over);
	ck_assert_uint_eq(stats_totals()->bytes_up, up + 3);
}
END_TEST

START_TEST(idle_timeout_comes_from_the_configuration)
{
	uint64_t	start = ev_now();

	cfg->idle_timeout = 100;
	tunnel_start(&tun, near_end, far_end, "direct", NULL, 0, NULL,
	    done_cb, &tun);
	checklib_run_until(tunnel_over);
	ck_assert_str_eq(done_result, "idle");
	ck_assert_uint_ge(ev_now() - start, 100);
}
END_TEST

START_TEST(client_gone_before_the_reply_ends_at_once)
{
	uint64_t	active = stats_totals()->tunnels_active;

	/* A client that reset: writing its reply fails at once. */
	close(cfd);
	cfd = -1;
	tunnel_start(&tun, near_end, far_end, "direct", "REPLY", 5, NULL,
	    done_cb, &tun);
	ck_assert_int_eq(done_calls, 1);
	ck_assert_ptr_null(tun.relay);
	ck_assert_uint_eq(stats_totals()->tunnels_active, active);
	checklib_run_for(10);
	ck_assert_int_eq(done_calls, 1);
}
END_TEST

/* The tunnel's test cases. */
static Suite *
tunnel_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("tunnel");
	tc = tcase_create("path");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, reply_first_then_early_bytes_then_both_ways);
	tcase_add_test(tc, no_route_counts_totals_only);
	tcase_add_test(tc, idle_timeout_comes_from_the_configuration);
	tcase_add_test(tc, client_gone_before_the_reply_ends_at_once);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(tunnel_suite()));
}
