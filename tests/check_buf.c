/*
 * Unit tests of the byte buffer (src/buf.c): an empty buffer owns no
 * storage, appends and drains keep the bytes in order across growth and
 * sliding (which reuses the storage), a drained buffer gives its memory
 * back, and
 * the fd helpers pass read(2)/write(2) results through, EAGAIN included.
 * Reads size themselves from what came before: small for a trickle,
 * growing while reads come back full, never doubling the storage for a
 * partial message left over, and a busy buffer keeps its storage.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

#include "checklib.h"

/* The n-th byte of a pattern that does not repeat at powers of two. */
static unsigned char
pattern(size_t n)
{
	return ((unsigned char)((n * 7 + (n >> 12)) % 253));
}

/* Check that b holds exactly the pattern bytes [from, from + len). */
static void
check_pattern(const struct buf *b, size_t from, size_t len)
{
	const unsigned char	*p = buf_head(b);
	size_t			 i;

	ck_assert_uint_eq(buf_len(b), len);
	for (i = 0; i < len; i++) {
		if (p[i] != pattern(from + i))
			ck_abort_msg("byte %zu is %u, want %u", from + i,
			    p[i], pattern(from + i));
	}
}

/* The most the read tests ask buf_read_fd for: what a pipe holds. */
#define READ_MAX	(64 * 1024)

/* Make a pipe with both ends non-blocking. */
static void
nonblocking_pipe(int fds[2])
{
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_ne(fcntl(fds[0], F_SETFL, O_NONBLOCK), -1);
	ck_assert_int_ne(fcntl(fds[1], F_SETFL, O_NONBLOCK), -1);
}

START_TEST(empty_buffer_has_no_storage)
{
	struct buf	b;

	memset(&b, 0xa5, sizeof(b));
	buf_init(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.size, 0);
	ck_assert_uint_eq(buf_len(&b), 0);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(add_then_drain_in_order)
{
	struct buf	b;

	buf_init(&b);
	buf_add(&b, "hello ", 6);
	buf_add(&b, "world", 5);
	ck_assert_uint_eq(buf_len(&b), 11);
	ck_assert_mem_eq(buf_head(&b), "hello world", 11);
	buf_drain(&b, 6);
	ck_assert_uint_eq(buf_len(&b), 5);
	ck_assert_mem_eq(buf_head(&b), "world", 5);
	buf_add(&b, "!", 1);
	ck_assert_mem_eq(buf_head(&b), "world!", 6);
	buf_free(&b);
}
END_TEST

START_TEST(add_of_nothing_allocates_nothing)
{
	struct buf	b;

	buf_init(&b);
	buf_add(&b, "x", 0);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(buf_len(&b), 0);
}
END_TEST

START_TEST(growth_keeps_data)
{
	struct buf	 b;
	unsigned char	 chunk[1000];
	size_t		 total = 0, i, k;

	buf_init(&b);
	/* 300 KB in odd-sized pieces forces several reallocations. */
	for (k = 0; total < 300 * 1024; k++) {
		size_t	n = 1 + (k * 37) % sizeof(chunk);

		for (i = 0; i < n; i++)
			chunk[i] = pattern(total + i);
		buf_add(&b, chunk, n);
		total += n;
		ck_assert_uint_ge(b.size, b.off + b.len);
	}
	check_pattern(&b, 0, total);
	buf_free(&b);
}
END_TEST

START_TEST(add_after_drain_slides_unread_bytes)
{
	struct buf	 b;
	unsigned char	 chunk[3000];
	unsigned char	*more;
	size_t		 i, size;

	buf_init(&b);
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = pattern(i);
	buf_add(&b, chunk, sizeof(chunk));
	size = b.size;
	buf_drain(&b, 2000);
	check_pattern(&b, 2000, 1000);

	/* Fits only by sliding the unread bytes to the front: no growth. */
	more = malloc(3 * size);
	ck_assert_ptr_nonnull(more);
	for (i = 0; i < size - 1000; i++)
		more[i] = pattern(3000 + i);
	buf_add(&b, more, size - 1000);
	ck_assert_uint_eq(b.size, size);
	check_pattern(&b, 2000, size);

	/* Does not fit at all: grows, still in order. */
	for (i = 0; i < 2 * size; i++)
		more[i] = pattern(2000 + size + i);
	buf_add(&b, more, 2 * size);
	ck_assert_uint_gt(b.size, size);
	check_pattern(&b, 2000, 3 * size);
	free(more);
	buf_free(&b);
}
END_TEST

START_TEST(drain_to_zero_frees_storage)
{
	struct buf	b;

	buf_init(&b);
	buf_add(&b, "0123456789", 10);
	ck_assert_ptr_nonnull(b.data);
	buf_drain(&b, 4);
	ck_assert_ptr_nonnull(b.data);
	buf_drain(&b, 6);
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.size, 0);
	ck_assert_uint_eq(b.off, 0);

	/* Usable again afterwards. */
	buf_add(&b, "xy", 2);
	ck_assert_mem_eq(buf_head(&b), "xy", 2);
	buf_free(&b);
}
END_TEST

START_TEST(drain_past_end_frees_storage)
{
	struct buf	b;

	buf_init(&b);
	buf_add(&b, "abc", 3);
	buf_drain(&b, 1000);
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(read_fd_appends)
{
	struct buf	b;
	int		p[2];

	nonblocking_pipe(p);
	buf_init(&b);
	buf_add(&b, "<", 1);
	ck_assert_int_eq(write(p[1], "abc", 3), 3);
	ck_assert_int_eq(buf_read_fd(&b, p[0], 100), 3);
	ck_assert_uint_eq(buf_len(&b), 4);
	ck_assert_mem_eq(buf_head(&b), "<abc", 4);

	/* At most max bytes per call. */
	ck_assert_int_eq(write(p[1], "defgh", 5), 5);
	ck_assert_int_eq(buf_read_fd(&b, p[0], 2), 2);
	ck_assert_mem_eq(buf_head(&b), "<abcde", 6);
	ck_assert_int_eq(buf_read_fd(&b, p[0], 100), 3);
	ck_assert_mem_eq(buf_head(&b), "<abcdefgh", 9);
	buf_free(&b);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(read_fd_eagain_on_empty_pipe)
{
	struct buf	b;
	int		p[2];

	nonblocking_pipe(p);
	buf_init(&b);
	errno = 0;
	ck_assert_int_eq(buf_read_fd(&b, p[0], 4096), -1);
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
	/* A failed read leaves an empty buffer without storage. */
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_ptr_null(b.data);

	/* A non-empty buffer keeps its bytes. */
	buf_add(&b, "keep", 4);
	errno = 0;
	ck_assert_int_eq(buf_read_fd(&b, p[0], 4096), -1);
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
	ck_assert_uint_eq(buf_len(&b), 4);
	ck_assert_mem_eq(buf_head(&b), "keep", 4);
	buf_free(&b);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(read_fd_eof_returns_zero)
{
	struct buf	b;
	int		p[2];

	nonblocking_pipe(p);
	close(p[1]);
	buf_init(&b);
	ck_assert_int_eq(buf_read_fd(&b, p[0], 4096), 0);
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_ptr_null(b.data);
	close(p[0]);
}
END_TEST

/* Write pattern bytes from *written on until the pipe is full. */
static void
fill_pipe(int fd, size_t *written)
{
	unsigned char	chunk[4096];
	size_t		i;
	ssize_t		n;

	for (;;) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = pattern(*written + i);
		if ((n = write(fd, chunk, sizeof(chunk))) == -1) {
			ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
			return;
		}
		*written += n;
	}
}

/*
 * Read from a full pipe into b, with READ_MAX, until a read brings
 * READ_MAX, draining b after each: a busy descriptor.  *consumed counts
 * the pattern bytes read.
 */
static void
read_until_full_reads(struct buf *b, int p[2], size_t *written,
    size_t *consumed)
{
	ssize_t	n = 0;
	int	i;

	for (i = 0; i < 20 && n != READ_MAX; i++) {
		fill_pipe(p[1], written);
		n = buf_read_fd(b, p[0], READ_MAX);
		ck_assert_int_gt(n, 0);
		check_pattern(b, *consumed, n);
		*consumed += n;
		buf_drain(b, n);
	}
	ck_assert_int_eq(n, READ_MAX);
}

START_TEST(read_fd_small_read_takes_little_storage)
{
	struct buf	b;
	unsigned char	chunk[1000];
	size_t		i;
	int		p[2];

	nonblocking_pipe(p);
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = pattern(i);
	ck_assert_int_eq(write(p[1], chunk, sizeof(chunk)), sizeof(chunk));
	buf_init(&b);
	/* The worker link asks for 256 KiB; 1,000 bytes need no more. */
	ck_assert_int_eq(buf_read_fd(&b, p[0], 256 * 1024), sizeof(chunk));
	check_pattern(&b, 0, sizeof(chunk));
	ck_assert_uint_le(b.size, 4096);
	buf_free(&b);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(read_fd_offers_more_while_reads_come_back_full)
{
	struct buf	b;
	size_t		written = 0, consumed = 0, want = 4096;
	ssize_t		n;
	int		p[2], i;

	nonblocking_pipe(p);
	buf_init(&b);
	for (i = 0; i < 8; i++) {
		fill_pipe(p[1], &written);
		n = buf_read_fd(&b, p[0], READ_MAX);
		ck_assert_int_eq(n, want);
		ck_assert_uint_le(b.size, READ_MAX);
		check_pattern(&b, consumed, n);
		consumed += n;
		buf_drain(&b, n);
		want = want < READ_MAX ? want * 2 : READ_MAX;
	}
	buf_free(&b);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(read_fd_leftover_does_not_double_storage)
{
	struct buf	b;
	size_t		written = 0, consumed = 0;
	int		p[2];

	nonblocking_pipe(p);
	buf_init(&b);
	read_until_full_reads(&b, p, &written, &consumed);

	/* A full read whose last 100 bytes start a message not yet whole. */
	fill_pipe(p[1], &written);
	ck_assert_int_eq(buf_read_fd(&b, p[0], READ_MAX), READ_MAX);
	buf_drain(&b, READ_MAX - 100);
	consumed += READ_MAX - 100;
	fill_pipe(p[1], &written);
	ck_assert_int_eq(buf_read_fd(&b, p[0], READ_MAX), READ_MAX - 100);
	check_pattern(&b, consumed, READ_MAX);
	ck_assert_uint_eq(b.size, READ_MAX);
	buf_free(&b);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(read_fd_busy_buffer_keeps_its_storage)
{
	struct buf	 b;
	unsigned char	*data;
	size_t		 written = 0, consumed = 0;
	int		 p[2];

	nonblocking_pipe(p);
	buf_init(&b);
	read_until_full_reads(&b, p, &written, &consumed);
	/* Drained empty, and the next read goes where the last one did. */
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_ptr_nonnull(b.data);
	data = b.data;
	fill_pipe(p[1], &written);
	ck_assert_int_eq(buf_read_fd(&b, p[0], READ_MAX), READ_MAX);
	ck_assert_ptr_eq(b.data, data);
	check_pattern(&b, consumed, READ_MAX);
	buf_free(&b);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(read_fd_quiet_buffer_gives_storage_back)
{
	struct buf	b;
	unsigned char	chunk[100];
	size_t		written = 0, consumed = 0, i;
	int		p[2], round;

	nonblocking_pipe(p);
	buf_init(&b);
	read_until_full_reads(&b, p, &written, &consumed);
	/* The pipe runs dry: from now on 100 bytes a read. */
	while (buf_read_fd(&b, p[0], READ_MAX) > 0)
		buf_drain(&b, buf_len(&b));
	consumed = written;
	for (round = 0; round < 8; round++) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = pattern(written + i);
		ck_assert_int_eq(write(p[1], chunk, sizeof(chunk)),
		    sizeof(chunk));
		written += sizeof(chunk);
		ck_assert_int_eq(buf_read_fd(&b, p[0], READ_MAX),
		    sizeof(chunk));
		check_pattern(&b, consumed, sizeof(chunk));
		consumed += sizeof(chunk);
		buf_drain(&b, sizeof(chunk));
		/* Little used storage is not kept. */
		ck_assert_ptr_null(b.data);
	}
	/* And the reads offered have shrunk back to the smallest. */
	ck_assert_int_eq(write(p[1], chunk, 1), 1);
	ck_assert_int_eq(buf_read_fd(&b, p[0], READ_MAX), 1);
	ck_assert_uint_eq(b.size, 4096);
	buf_free(&b);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(write_fd_sends_and_drains)
{
	struct buf	b;
	char		out[16];
	int		sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	buf_init(&b);
	buf_add(&b, "hello", 5);
	ck_assert_int_eq(buf_write_fd(&b, sv[0]), 5);
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(read(sv[1], out, sizeof(out)), 5);
	ck_assert_mem_eq(out, "hello", 5);

	/* Nothing to write is not an error and does not touch the fd. */
	ck_assert_int_eq(buf_write_fd(&b, -1), 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(write_fd_partial_then_eagain)
{
	struct buf	 b;
	unsigned char	*chunk, *got;
	size_t		 total = 4 * 1024 * 1024, sent = 0, i;
	ssize_t		 n;
	int		 p[2];

	nonblocking_pipe(p);
	chunk = malloc(total);
	got = malloc(total);
	ck_assert_ptr_nonnull(chunk);
	ck_assert_ptr_nonnull(got);
	for (i = 0; i < total; i++)
		chunk[i] = pattern(i);
	buf_init(&b);
	buf_add(&b, chunk, total);

	/* More than any pipe holds: the kernel takes part of it. */
	n = buf_write_fd(&b, p[1]);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_lt((size_t)n, total);
	sent = n;
	check_pattern(&b, sent, total - sent);

	/* The pipe is full now: EAGAIN, and nothing is lost. */
	errno = 0;
	ck_assert_int_eq(buf_write_fd(&b, p[1]), -1);
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
	check_pattern(&b, sent, total - sent);

	/* Drain the pipe and write the rest: all of it, in order. */
	i = 0;
	while (i < total) {
		n = read(p[0], got + i, total - i);
		if (n > 0) {
			i += n;
			continue;
		}
		ck_assert_int_eq(n, -1);
		ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
		ck_assert_uint_gt(buf_len(&b), 0);
		n = buf_write_fd(&b, p[1]);
		ck_assert_int_gt(n, 0);
	}
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_ptr_null(b.data);
	ck_assert_mem_eq(got, chunk, total);
	free(chunk);
	free(got);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(write_fd_to_closed_pipe_fails)
{
	struct buf	b;
	int		p[2];

	nonblocking_pipe(p);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	buf_init(&b);
	buf_add(&b, "lost", 4);
	errno = 0;
	ck_assert_int_eq(buf_write_fd(&b, p[1]), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_uint_eq(buf_len(&b), 4);
	buf_free(&b);
	close(p[1]);
}
END_TEST

/* The buffer's test cases. */
static Suite *
buf_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("buf");

	tc = tcase_create("storage");
	tcase_add_test(tc, empty_buffer_has_no_storage);
	tcase_add_test(tc, add_then_drain_in_order);
	tcase_add_test(tc, add_of_nothing_allocates_nothing);
	tcase_add_test(tc, growth_keeps_data);
	tcase_add_test(tc, add_after_drain_slides_unread_bytes);
	tcase_add_test(tc, drain_to_zero_frees_storage);
	tcase_add_test(tc, drain_past_end_frees_storage);
	suite_add_tcase(s, tc);

	tc = tcase_create("descriptors");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, read_fd_appends);
	tcase_add_test(tc, read_fd_eagain_on_empty_pipe);
	tcase_add_test(tc, read_fd_eof_returns_zero);
	tcase_add_test(tc, write_fd_sends_and_drains);
	tcase_add_test(tc, write_fd_partial_then_eagain);
	tcase_add_test(tc, write_fd_to_closed_pipe_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("read sizing");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, read_fd_small_read_takes_little_storage);
	tcase_add_test(tc, read_fd_offers_more_while_reads_come_back_full);
	tcase_add_test(tc, read_fd_leftover_does_not_double_storage);
	tcase_add_test(tc, read_fd_busy_buffer_keeps_its_storage);
	tcase_add_test(tc, read_fd_quiet_buffer_gives_storage_back);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return (checklib_run(buf_suite()));
}
