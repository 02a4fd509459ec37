/*
 * Unit tests of the server's worker pool (src/pool*.c).  A fake worker
 * plays the far end of a socketpair whose other end pool_link_accept
 * takes over as a worker link: the test writes protocol lines into it
 * and reads back what the pool answered.  Covers how pool_open reports
 * its outcome, registration and its refusals.  Every ev_run is bounded
 * by a guard timer that fails the test.
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
#include "compat.h"
#include "cfg.h"
#include "conf.h"
#include "ev.h"
#include "pool.h"
#include "stats.h"
#include "textnet.h"

#include "checklib.h"

#define GUARD_MS	8000
#define CHUNK		65536
#define NONCE		"00112233445566778899aabbccddeeff"

/* The fake worker: its end of the socketpair and what it heard. */
struct fake {
	int		 fd;
	struct buf	 in;
	struct buf	 out;
	int		 eof;
};

/* What a pool_open callback heard. */
struct outcome {
	int		 calls;
	struct end	*end;
	enum socks_failure why;
	char		 via[128];
};

static struct fake	 fake;
static struct outcome	 outcome;
static int		 open_returned;	/* pool_open has returned */
static int		 called_early;	/* cb ran before it returned */
static uint64_t		 link_errors_before;	/* stats at setup */

/* Move bytes between the fake worker's buffers and its socket. */
static void
fake_io_cb(int fd, int events, void *arg)
{
	ssize_t	n;

	if (events & EV_WRITE) {
		n = buf_write_fd(&fake.out, fd);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			fake.eof = 1;
			buf_free(&fake.out);
		}
		if (buf_len(&fake.out) == 0)
			ev_io_disable(fd, EV_WRITE);
	}
	if (events & EV_READ) {
		n = buf_read_fd(&fake.in, fd, CHUNK);
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			fake.eof = 1;
			ev_io_disable(fd, EV_READ);
		}
	}
}

/* A worker link from 127.0.0.1:40000 with the fake worker at its end. */
static void
fake_connect(void)
{
	struct sockaddr_in	sin;
	int			sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_ne(fcntl(sv[0], F_SETFL, O_NONBLOCK), -1);
	ck_assert_int_ne(fcntl(sv[1], F_SETFL, O_NONBLOCK), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fake.fd = sv[0];
	ev_io_set(fake.fd, EV_READ, fake_io_cb, &fake);
	pool_link_accept(sv[1], (struct sockaddr *)&sin, sizeof(sin));
}

/* Hang up the fake worker and forget what it heard. */
static void
fake_hang_up(void)
{
	if (fake.fd != -1) {
		ev_io_del(fake.fd);
		close(fake.fd);
	}
	buf_free(&fake.in);
	buf_free(&fake.out);
	memset(&fake, 0, sizeof(fake));
	fake.fd = -1;
}

/* Queue a formatted line for the fake worker to send. */
static void
fake_sendf(const char *fmt, ...)
{
	char	line[TEXTNET_MAX_HEADER];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(line));
	buf_add(&fake.out, line, n);
	ev_io_enable(fake.fd, EV_WRITE);
}

/* Count the messages the fake worker got with code and, if set, arg0. */
static int
fake_count(const char *code, const char *arg0)
{
	static struct textnet_msg m;
	const char		*why;
	const char		*p = (const char *)buf_head(&fake.in);
	size_t			 len = buf_len(&fake.in), off = 0, used;
	int			 count = 0;

	while (off < len && textnet_parse_header(p + off, len - off, &used,
	    &m, &why) == TEXTNET_PARSE_OK && len - off - used >= m.body_len) {
		off += used + m.body_len;
		if (strcmp(m.code, code) != 0)
			continue;
		if (arg0 != NULL && (m.nargs < 1 ||
		    strcmp(m.args[0], arg0) != 0))
			continue;
		count++;
	}
	return (count);
}

/* Predicates for checklib_run_until. */
static int
fake_closed(void)
{
	return (fake.eof);
}

static int
outcome_reported(void)
{
	return (outcome.calls > 0);
}

static int
fake_got_helo(void)
{
	return (fake_count("HELO", "esp/1") == 1);
}

/* The pool's answer to a request. */
static void
open_cb(struct end *e, enum socks_failure why, const struct sockaddr *bound,
    const char *via, void *arg)
{
	if (!open_returned)
		called_early = 1;
	outcome.calls++;
	outcome.end = e;
	outcome.why = why;
	snprintf(outcome.via, sizeof(outcome.via), "%s", via);
}

/* Link errors counted since the test began. */
static uint64_t
link_errors(void)
{
	return (stats_totals()->link_errors - link_errors_before);
}

/* A fresh reactor and config per test. */
static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	ev_init();
	cfg = conf_new();
	link_errors_before = stats_totals()->link_errors;
	memset(&fake, 0, sizeof(fake));
	fake.fd = -1;
	memset(&outcome, 0, sizeof(outcome));
	open_returned = called_early = 0;
	checklib_loop_init(GUARD_MS);
}

/* Close every link, run the deferred frees, release all. */
static void
teardown(void)
{
	pool_abort_all();
	fake_hang_up();
	checklib_run_for(1);
	ev_free();
	conf_free(cfg);
	cfg = NULL;
}

START_TEST(open_with_no_worker_reports_from_the_loop)
{
	struct socks_request	 req;
	struct pool_open	*po;

	memset(&req, 0, sizeof(req));
	strlcpy(req.host, "example.com", sizeof(req.host));
	req.port = 443;
	po = pool_open(&req, NULL, open_cb, NULL);
	open_returned = 1;
	ck_assert_ptr_nonnull(po);
	ck_assert_msg(!called_early, "pool_open called back before returning");
	checklib_run_until(outcome_reported);
	ck_assert_int_eq(outcome.calls, 1);
	ck_assert_ptr_null(outcome.end);
	ck_assert_int_eq(outcome.why, SOCKS_FAIL_NONE);
	ck_assert_str_eq(outcome.via, "none");
	checklib_run_for(20);
	ck_assert_int_eq(outcome.calls, 1);
}
END_TEST

START_TEST(open_cancelled_before_the_loop_reports_nothing)
{
	struct socks_request	 req;
	struct pool_open	*po;

	memset(&req, 0, sizeof(req));
	strlcpy(req.host, "example.com", sizeof(req.host));
	req.port = 443;
	po = pool_open(&req, NULL, open_cb, NULL);
	open_returned = 1;
	pool_open_cancel(po);
	checklib_run_for(20);
	ck_assert_int_eq(outcome.calls, 0);
}
END_TEST

START_TEST(esp_registration_is_answered_ok)
{
	fake_connect();
	checklib_run_until(fake_got_helo);
	fake_sendf("RGST 0 0 box esp/1 %s -\r\n", NONCE);
	checklib_run_for(50);
	ck_assert_int_eq(fake_count("100", "OK"), 1);
	ck_assert_int_eq(pool_worker_count(), 1);
	ck_assert(pool_has_worker());
}
END_TEST

/* Send line as the fake worker's RGST; expect 403 reason and a close. */
static void
check_refused(const char *line, const char *reason)
{
	fake_connect();
	checklib_run_until(fake_got_helo);
	fake_sendf("%s", line);
	checklib_run_until(fake_closed);
	ck_assert_msg(fake_count("403", reason) == 1,
	    "%s: no 403 %s before the close", line, reason);
	ck_assert_int_eq(fake_count("100", NULL), 0);
	ck_assert_int_eq(pool_worker_count(), 0);
	ck_assert(!pool_has_worker());
}

START_TEST(esp_registration_without_proof_is_bad_proof)
{
	check_refused("RGST 0 0 box esp/1 " NONCE "\r\n", "bad_proof");
}
END_TEST

START_TEST(esp_registration_without_nonce_is_bad_proof)
{
	check_refused("RGST 0 0 box esp/1\r\n", "bad_proof");
}
END_TEST

START_TEST(esp_registration_without_proof_is_bad_proof_with_a_secret)
{
	cfg->worker_secret = strdup("sesame");
	check_refused("RGST 0 0 box esp/1 " NONCE "\r\n", "bad_proof");
}
END_TEST

/* A worker without a secret sends the proof "-": told so, not bad_proof. */
START_TEST(esp_registration_with_no_secret_to_a_secret_is_auth_required)
{
	cfg->worker_secret = strdup("sesame");
	check_refused("RGST 0 0 box esp/1 " NONCE " -\r\n", "auth_required");
	ck_assert_int_eq(fake_count("403", "bad_proof"), 0);
}
END_TEST

/* A proof made with another secret is bad_proof. */
START_TEST(esp_registration_with_a_wrong_proof_is_bad_proof)
{
	char	line[256];

	cfg->worker_secret = strdup("sesame");
	snprintf(line, sizeof(line), "RGST 0 0 box esp/1 %s %064d\r\n",
	    NONCE, 0);
	check_refused(line, "bad_proof");
	ck_assert_int_eq(fake_count("403", "auth_required"), 0);
}
END_TEST

START_TEST(legacy_registration_needs_no_secret)
{
	fake_connect();
	checklib_run_until(fake_got_helo);
	fake_sendf("RGST 0 0 oldbox\r\n");
	checklib_run_for(50);
	ck_assert_int_eq(pool_worker_count(), 1);
	ck_assert_int_eq(fake_count("100", NULL), 0);
	ck_assert(!fake.eof);
}
END_TEST

START_TEST(legacy_registration_with_a_secret_is_auth_required)
{
	cfg->worker_secret = strdup("sesame");
	check_refused("RGST 0 0 oldbox\r\n", "auth_required");
}
END_TEST

/* Record the name of the one registered worker link. */
static void
name_cb(const struct pool_info *info, void *arg)
{
	if (info->registered)
		snprintf(arg, 128, "%s", info->name);
}

/* Register with line; expect the pool to show the worker as want. */
static void
check_registered_as(const char *line, const char *want)
{
	char	name[128] = "";

	fake_connect();
	checklib_run_until(fake_got_helo);
	fake_sendf("%s", line);
	checklib_run_for(50);
	ck_assert_msg(!fake.eof, "%s: refused", line);
	ck_assert_int_eq(pool_worker_count(), 1);
	pool_foreach(name_cb, name);
	ck_assert_str_eq(name, want);
	pool_abort_all();
	fake_hang_up();
	checklib_run_for(1);
}

START_TEST(unsafe_or_reserved_names_are_refused)
{
	static const char	*names[] = {
		"bad%0aname", "bad%0d%0aaccess", "esc%1b[31m", "box%ff",
		"caf%c3%a9", "two%20words", "per%25cent", "slash/box",
		"quote\"", "%00", "direct", "Direct", "other", "none",
		/* 128 bytes: one too many. */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaa"
	};
	char			 line[512];
	size_t			 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(line, sizeof(line), "RGST 0 0 %s esp/1 %s -\r\n",
		    names[i], NONCE);
		check_refused(line, "bad_name");
		fake_hang_up();
		checklib_run_for(1);
		/* A legacy RGST is held to the same names. */
		if (strcmp(names[i], "%00") == 0)
			continue;
		snprintf(line, sizeof(line), "RGST 0 0 %s\r\n", names[i]);
		check_refused(line, "bad_name");
		fake_hang_up();
		checklib_run_for(1);
	}
}
END_TEST

START_TEST(safe_names_are_kept)
{
	check_registered_as("RGST 0 0 box-1.example_org:7@lab esp/1 " NONCE
	    " -\r\n", "box-1.example_org:7@lab");
	check_registered_as("RGST 0 0 directly esp/1 " NONCE " -\r\n",
	    "directly");
	check_registered_as("RGST 0 0 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    " esp/1 " NONCE " -\r\n",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	check_registered_as("RGST 0 0 node-host.local\r\n", "node-host.local");
}
END_TEST

START_TEST(legacy_registration_without_a_name_uses_the_address)
{
	check_registered_as("RGST 0 0\r\n", "127.0.0.1:40000");
	check_registered_as("RGST 0 0 %00\r\n", "127.0.0.1:40000");
}
END_TEST

/* Send this test's log lines (stderr) to a file read by log_has. */
static FILE *
log_capture(void)
{
	FILE	*f;

	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	fflush(stderr);
	ck_assert_int_ne(dup2(fileno(f), STDERR_FILENO), -1);
	return (f);
}

/* Tell whether a captured log line contains needle. */
static int
log_has(FILE *f, const char *needle)
{
	char	line[1024];
	int	found = 0;

	fflush(stderr);
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			found = 1;
	return (found);
}

START_TEST(bad_window_keeps_the_default_with_a_warning)
{
	FILE	*f = log_capture();

	fake_connect();
	checklib_run_until(fake_got_helo);
	fake_sendf("RGST 0 0 box esp/1 %s - window=12 max=x\r\n", NONCE);
	checklib_run_for(50);
	ck_assert_int_eq(fake_count("100", "OK"), 1);
	ck_assert_int_eq(pool_worker_count(), 1);
	ck_assert_msg(log_has(f, "worker link from 127.0.0.1:40000: window= "
	    "is too small (want 1024 to 67108864); using 262144"),
	    "no warning for window=12");
	ck_assert_msg(log_has(f, "worker link from 127.0.0.1:40000: max= is "
	    "invalid"), "no warning for max=x");
	fclose(f);
}
END_TEST

/*
 * The fake worker answers every 50 ms while the timer runs, with the 201
 * a legacy worker answers HELO with: the one message besides RGST that
 * an unregistered link may send.
 */
static void
answer_cb(void *arg)
{
	struct ev_timer	*t = arg;

	if (fake.eof)
		return;
	fake_sendf("201 0 0 unknown_command\r\n");
	ev_timer_start(t, 50);
}

START_TEST(link_that_answers_but_never_registers_is_closed)
{
	struct ev_timer	ping;
	uint64_t	start;

	cfg->handshake_timeout = 300;
	fake_connect();
	start = ev_now();
	ev_timer_init(&ping, answer_cb, &ping);
	ev_timer_start(&ping, 0);
	checklib_run_until(fake_closed);
	ev_timer_stop(&ping);
	ck_assert_uint_ge(ev_now() - start, 300);
	ck_assert_uint_eq(link_errors(), 1);
	ck_assert_int_eq(pool_worker_count(), 0);
}
END_TEST

/*
 * Send line before any RGST; expect the link closed at once, long before
 * HANDSHAKE_TIMEOUT, counted, and nothing registered.
 */
static void
check_closed_before_rgst(const char *line)
{
	uint64_t	start;

	cfg->handshake_timeout = 5000;
	fake_connect();
	checklib_run_until(fake_got_helo);
	start = ev_now();
	fake_sendf("%s", line);
	checklib_run_until(fake_closed);
	ck_assert_msg(ev_now() - start < 1000, "%s: closed after %llu ms",
	    line, (unsigned long long)(ev_now() - start));
	ck_assert_uint_eq(link_errors(), 1);
	ck_assert_int_eq(pool_worker_count(), 0);
	ck_assert_int_eq(fake_count("100", NULL), 0);
}

START_TEST(ping_before_rgst_closes_the_link)
{
	check_closed_before_rgst("PING 0 0\r\n");
}
END_TEST

START_TEST(drain_before_rgst_closes_the_link)
{
	check_closed_before_rgst("DRAIN 0 0\r\n");
}
END_TEST

START_TEST(unknown_command_before_rgst_closes_the_link)
{
	check_closed_before_rgst("FOO 7 0\r\n");
	ck_assert_int_eq(fake_count("201", NULL), 0);
}
END_TEST

START_TEST(response_other_than_201_before_rgst_closes_the_link)
{
	check_closed_before_rgst("100 0 0 OK - window=262144\r\n");
}
END_TEST

START_TEST(sess_before_rgst_closes_the_link)
{
	check_closed_before_rgst("SESS 1 0 2 S SOCKS 127.0.0.1 9 connect\r\n");
	ck_assert_int_eq(fake_count("SESS", NULL), 0);
}
END_TEST

/*
 * A declared body before RGST closes the link as soon as the header is
 * read: the megabyte it announces is never waited for.
 */
START_TEST(body_before_rgst_closes_the_link_without_waiting)
{
	check_closed_before_rgst("PING 0 1048576\r\n");
}
END_TEST

/* Even with a valid RGST after it: the body comes first. */
START_TEST(rgst_with_a_body_is_refused)
{
	check_closed_before_rgst("RGST 0 5 box esp/1 " NONCE " -\r\nhello");
}
END_TEST

START_TEST(registered_link_outlives_the_registration_deadline)
{
	cfg->handshake_timeout = 100;
	fake_connect();
	checklib_run_until(fake_got_helo);
	fake_sendf("RGST 0 0 box esp/1 %s -\r\n", NONCE);
	checklib_run_for(300);
	ck_assert(!fake.eof);
	ck_assert_int_eq(pool_worker_count(), 1);
	ck_assert_uint_eq(link_errors(), 0);
}
END_TEST

/* Register the fake worker (esp/1, no secret) and wait for the OK. */
static void
fake_register(void)
{
	fake_connect();
	checklib_run_until(fake_got_helo);
	fake_sendf("RGST 0 0 box esp/1 %s -\r\n", NONCE);
	checklib_run_for(50);
	ck_assert_int_eq(fake_count("100", "OK"), 1);
}

/*
 * A stopping server tells its registered workers DRAIN, never a link
 * still registering: such a worker takes nothing before our 100 OK and
 * would count the DRAIN as a protocol error.
 */
START_TEST(stop_drains_registered_workers_only)
{
	fake_connect();
	checklib_run_until(fake_got_helo);
	pool_stop();
	checklib_run_for(50);
	ck_assert_int_eq(fake_count("DRAIN", NULL), 0);
	ck_assert(!fake.eof);
	fake_hang_up();
	checklib_run_for(10);

	fake_register();
	pool_stop();
	checklib_run_for(50);
	ck_assert_int_eq(fake_count("DRAIN", NULL), 1);
}
END_TEST

static int
fake_got_sess(void)
{
	return (fake_count("SESS", "1") >= 1);
}

/* Open a request to example.com:443 and wait until the worker has it. */
static void
open_request(void)
{
	struct socks_request	 req;

	memset(&req, 0, sizeof(req));
	strlcpy(req.host, "example.com", sizeof(req.host));
	req.port = 443;
	ck_assert_ptr_nonnull(pool_open(&req, NULL, open_cb, NULL));
	open_returned = 1;
	checklib_run_until(fake_got_sess);
}

/*
 * The worker's answer to a request that crossed its DRAIN, for each
 * line: the request is tried elsewhere (here there is no one else, so
 * the caller hears SOCKS_FAIL_NONE and applies NO_WORKER), not failed.
 */
static void
check_drain_race(const char *lines)
{
	fake_register();
	open_request();
	fake_sendf("%s", lines);
	checklib_run_until(outcome_reported);
	ck_assert_int_eq(outcome.calls, 1);
	ck_assert_ptr_null(outcome.end);
	ck_assert_msg(outcome.why == SOCKS_FAIL_NONE, "%s: reported %s, want "
	    "a retry", lines, socks_failure_name(outcome.why));
	ck_assert(!pool_has_worker());
}

START_TEST(request_refused_as_draining_is_retried)
{
	check_drain_race("SESS 1 0 1 R draining\r\n");
}
END_TEST

START_TEST(request_failed_after_drain_is_retried)
{
	/* A worker that knows no `draining` answers `failure`. */
	check_drain_race("DRAIN 0 0\r\nSESS 1 0 1 R failure\r\n");
}
END_TEST

START_TEST(request_refused_by_destination_after_drain_is_reported)
{
	fake_register();
	open_request();
	fake_sendf("DRAIN 0 0\r\nSESS 1 0 1 R refused\r\n");
	checklib_run_until(outcome_reported);
	ck_assert_int_eq(outcome.why, SOCKS_FAIL_REFUSED);
	ck_assert_str_eq(outcome.via, "box");
}
END_TEST

START_TEST(request_failed_without_drain_is_reported)
{
	fake_register();
	open_request();
	fake_sendf("SESS 1 0 1 R failure\r\n");
	checklib_run_until(outcome_reported);
	ck_assert_int_eq(outcome.why, SOCKS_FAIL_FAILURE);
	ck_assert(pool_has_worker());
}
END_TEST

static int
worker_chosen_again(void)
{
	return (pool_has_worker());
}

START_TEST(silent_worker_is_unresponsive_and_its_request_retried)
{
	uint64_t	start;

	cfg->worker_response_timeout = 300;
	fake_register();
	start = ev_now();
	open_request();
	checklib_run_until(outcome_reported);
	/* Retried at the deadline, not after CONNECT_TIMEOUT + 5 s. */
	ck_assert_uint_ge(ev_now() - start, 300);
	ck_assert_uint_lt(ev_now() - start, 1000);
	ck_assert_int_eq(outcome.why, SOCKS_FAIL_NONE);
	ck_assert_msg(fake_count("PING", NULL) == 1,
	    "the pool sent %d pings before the deadline, want 1",
	    fake_count("PING", NULL));
	ck_assert(!pool_has_worker());
	ck_assert(!fake.eof);
	/* Anything from the worker: chosen again. */
	fake_sendf("PING 0 0\r\n");
	checklib_run_until(worker_chosen_again);
}
END_TEST

static int	 pongs;

/* The fake worker answers each new ping of the pool, and only those. */
static void
pong_cb(void *arg)
{
	struct ev_timer	*t = arg;

	while (pongs < fake_count("PING", NULL)) {
		pongs++;
		fake_sendf("100 0 0\r\n");
	}
	ev_timer_start(t, 20);
}

START_TEST(worker_answering_pings_stays_chosen_while_it_dials)
{
	struct ev_timer	pong;

	/*
	 * The deadline is generous against the fake's 20 ms answers, so
	 * that a loaded machine's scheduling cannot miss it; five deadlines
	 * pass while the dial is outstanding.
	 */
	cfg->worker_response_timeout = 600;
	fake_register();
	pongs = 0;
	ev_timer_init(&pong, pong_cb, &pong);
	ev_timer_start(&pong, 0);
	open_request();
	/* Its dial takes long: no A or R, but it answers pings. */
	checklib_run_for(3000);
	ev_timer_stop(&pong);
	ck_assert_int_eq(outcome.calls, 0);
	ck_assert(pool_has_worker());
	ck_assert_int_ge(pongs, 2);
}
END_TEST

START_TEST(idle_worker_is_neither_pinged_nor_marked)
{
	cfg->worker_response_timeout = 100;
	fake_register();
	checklib_run_for(500);
	ck_assert_int_eq(fake_count("PING", NULL), 0);
	ck_assert(pool_has_worker());
}
END_TEST

START_TEST(zero_response_timeout_waits_for_the_answer_deadline)
{
	cfg->worker_response_timeout = 0;
	fake_register();
	open_request();
	checklib_run_for(500);
	ck_assert_int_eq(outcome.calls, 0);
	ck_assert_int_eq(fake_count("PING", NULL), 0);
	ck_assert(pool_has_worker());
}
END_TEST

START_TEST(legacy_worker_is_never_pinged_nor_marked)
{
	struct socks_request	 req;

	/* The Node library takes PING silently: asking would mark it. */
	cfg->worker_response_timeout = 100;
	fake_connect();
	checklib_run_until(fake_got_helo);
	fake_sendf("RGST 0 0 box\r\n");
	checklib_run_for(50);
	ck_assert(pool_has_worker());
	memset(&req, 0, sizeof(req));
	strlcpy(req.host, "example.com", sizeof(req.host));
	req.port = 443;
	ck_assert_ptr_nonnull(pool_open(&req, NULL, open_cb, NULL));
	checklib_run_until(outcome_reported);
	ck_assert_ptr_nonnull(outcome.end);
	checklib_run_for(500);
	ck_assert_int_eq(fake_count("PING", NULL), 0);
	ck_assert(pool_has_worker());
}
END_TEST

/* The pool's test cases. */
/* Whether the fake worker got an S for a udp session. */
static int
fake_got_udp_sess(void)
{
	const char	*want = " S SOCKS example.com 0 udp\r\n";

	return (buf_len(&fake.in) > 0 && memmem(buf_head(&fake.in),
	    buf_len(&fake.in), want, strlen(want)) != NULL);
}

/*
 * BIND and UDP ASSOCIATE go only to esp/1 workers that announced them in
 * cmds=; CONNECT goes to any.  A worker without cmds= gets neither.
 */
START_TEST(bind_and_udp_go_only_to_workers_announcing_them)
{
	struct socks_request	 req;

	fake_register();
	ck_assert(pool_has_worker_for(SOCKS_CMD_CONNECT));
	ck_assert(!pool_has_worker_for(SOCKS_CMD_BIND));
	ck_assert(!pool_has_worker_for(SOCKS_CMD_UDP));
	fake_hang_up();
	checklib_run_for(50);

	fake_connect();
	checklib_run_until(fake_got_helo);
	fake_sendf("RGST 0 0 box esp/1 %s - cmds=udp,frob\r\n", NONCE);
	checklib_run_for(50);
	ck_assert(pool_has_worker_for(SOCKS_CMD_UDP));
	ck_assert(!pool_has_worker_for(SOCKS_CMD_BIND));
	memset(&req, 0, sizeof(req));
	req.cmd = SOCKS_CMD_UDP;
	strlcpy(req.host, "example.com", sizeof(req.host));
	ck_assert_ptr_nonnull(pool_open(&req, NULL, open_cb, NULL));
	open_returned = 1;
	checklib_run_until(fake_got_udp_sess);
}
END_TEST

static Suite *
pool_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("pool");

	tc = tcase_create("requests");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, open_with_no_worker_reports_from_the_loop);
	tcase_add_test(tc, open_cancelled_before_the_loop_reports_nothing);
	tcase_add_test(tc, request_refused_as_draining_is_retried);
	tcase_add_test(tc, request_failed_after_drain_is_retried);
	tcase_add_test(tc,
	    request_refused_by_destination_after_drain_is_reported);
	tcase_add_test(tc, request_failed_without_drain_is_reported);
	tcase_add_test(tc, bind_and_udp_go_only_to_workers_announcing_them);
	tcase_add_test(tc, stop_drains_registered_workers_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("liveness");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc,
	    silent_worker_is_unresponsive_and_its_request_retried);
	tcase_add_test(tc, worker_answering_pings_stays_chosen_while_it_dials);
	tcase_add_test(tc, idle_worker_is_neither_pinged_nor_marked);
	tcase_add_test(tc, zero_response_timeout_waits_for_the_answer_deadline);
	tcase_add_test(tc, legacy_worker_is_never_pinged_nor_marked);
	suite_add_tcase(s, tc);

	tc = tcase_create("registration");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, esp_registration_is_answered_ok);
	tcase_add_test(tc, esp_registration_without_proof_is_bad_proof);
	tcase_add_test(tc, esp_registration_without_nonce_is_bad_proof);
	tcase_add_test(tc,
	    esp_registration_without_proof_is_bad_proof_with_a_secret);
	tcase_add_test(tc,
	    esp_registration_with_no_secret_to_a_secret_is_auth_required);
	tcase_add_test(tc, esp_registration_with_a_wrong_proof_is_bad_proof);
	tcase_add_test(tc, legacy_registration_needs_no_secret);
	tcase_add_test(tc, legacy_registration_with_a_secret_is_auth_required);
	tcase_add_test(tc, link_that_answers_but_never_registers_is_closed);
	tcase_add_test(tc, ping_before_rgst_closes_the_link);
	tcase_add_test(tc, drain_before_rgst_closes_the_link);
	tcase_add_test(tc, unknown_command_before_rgst_closes_the_link);
	tcase_add_test(tc,
	    response_other_than_201_before_rgst_closes_the_link);
	tcase_add_test(tc, sess_before_rgst_closes_the_link);
	tcase_add_test(tc, body_before_rgst_closes_the_link_without_waiting);
	tcase_add_test(tc, rgst_with_a_body_is_refused);
	tcase_add_test(tc, bad_window_keeps_the_default_with_a_warning);
	tcase_add_test(tc, unsafe_or_reserved_names_are_refused);
	tcase_add_test(tc, safe_names_are_kept);
	tcase_add_test(tc, legacy_registration_without_a_name_uses_the_address);
	tcase_add_test(tc, registered_link_outlives_the_registration_deadline);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (checklib_run(pool_suite()));
}
