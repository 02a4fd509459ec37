/*
 * Helpers shared by the test tools (socksc, tsink) and the benchmark
 * (esbench): host:port parsing, sockets with deadlines, a SOCKS 4/4a/5
 * client handshake written independently of the daemon's codec, a
 * deterministic byte generator, a checksum, and the poll() server that
 * tsink and "esbench sink" run.  Test code only; nothing here is linked
 * into esocksd.  One header, one file per concern: testlib-proc.c (clock,
 * sizes, limits), testlib-net.c (sockets), testlib-port.c (free ports,
 * port files), testlib-data.c (generator, checksum), testlib-socks.c (the
 * SOCKS client), testlib-serve.c (the test server).
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#define TESTLIB_BUFSIZE		65536
#define TESTLIB_ADDRSTRLEN	300	/* "[v6]:port" or "name:port" */
#define TESTLIB_SUMSTRLEN	64	/* "bytes=N sum=HEX" */

/* Deterministic byte stream: xorshift64*, fixed seed, chunking-proof. */
struct testlib_gen {
	uint64_t	state;
	uint8_t		spare[8];	/* unused bytes of the last word */
	size_t		nspare;
};

/* FNV-1a 64 over a byte stream, plus its length. */
struct testlib_sum {
	uint64_t	hash;
	uint64_t	bytes;
};

/* SOCKS versions the client speaks; 4a is its own value. */
enum testlib_socks_version {
	TESTLIB_SOCKS4 = 4,
	TESTLIB_SOCKS4A = 0x4a,
	TESTLIB_SOCKS5 = 5
};

/* How a handshake ended. */
enum testlib_socks_status {
	TESTLIB_SOCKS_OK = 0,		/* tunnel open */
	TESTLIB_SOCKS_REFUSED = 1,	/* the proxy said no: see result */
	TESTLIB_SOCKS_ERROR = 2		/* I/O error, EOF or bad bytes */
};

/* Which answer carried the refusal. */
enum testlib_socks_stage {
	TESTLIB_STAGE_METHOD,		/* SOCKS5 method selection */
	TESTLIB_STAGE_AUTH,		/* RFC 1929 status */
	TESTLIB_STAGE_REPLY		/* the request's reply */
};

/* What the client asks for, and how it sends the bytes. */
struct testlib_socks {
	enum testlib_socks_version version;
	const char	*host;		/* destination, name or numeric */
	uint16_t	 port;
	const char	*user;		/* RFC 1929 (SOCKS5) or user id (4) */
	const char	*pass;
	int		 force_domain;	/* SOCKS5 ATYP 3 even for numbers */
	int		 split_ms;	/* >= 0: one byte per write, pause */
	int		 pipeline;	/* everything in one write, no waits */
	const void	*early;		/* sent right after the request */
	size_t		 earlylen;
};

/* What the proxy answered. */
struct testlib_socks_result {
	enum testlib_socks_stage stage;
	int		 code;		/* method, auth status or reply code */
	char		 bound[TESTLIB_ADDRSTRLEN];
};

/* Per-connection behaviour of the test server. */
enum testlib_serve_mode {
	TESTLIB_SERVE_ECHO,	/* echo; on EOF flush, shut down, close */
	TESTLIB_SERVE_SUM,	/* read to EOF, answer "bytes=N sum=HEX\n" */
	TESTLIB_SERVE_SOURCE,	/* send N generator bytes, then close */
	TESTLIB_SERVE_DISCARD,	/* read to EOF, answer "bytes=N\n" */
	TESTLIB_SERVE_HOLD,	/* never read; close when the peer does */
	TESTLIB_SERVE_BOUND,	/* answer "peer=HOST:PORT\n", then close */
	TESTLIB_SERVE_COMMAND	/* first line picks: "E", "D", "S N" */
};

uint64_t	 testlib_now_us(void);
void		 testlib_sleep_ms(int);
int		 testlib_parse_size(const char *, uint64_t *);
void		 testlib_raise_nofile(void);

int		 testlib_split_hostport(const char *, char **, char **,
		     char **);
int		 testlib_resolve(const char *, const char *, int,
		     struct sockaddr_storage *, socklen_t *, char **);
int		 testlib_listen(const char *, int, char **);
int		 testlib_connect(const char *, int, char **);
int		 testlib_connect_addr(const struct sockaddr *, socklen_t, int,
		     char **);
int		 testlib_connect_from(const struct sockaddr *, socklen_t,
		    const struct sockaddr *, socklen_t, int, char **);
void		 testlib_format_addr(const struct sockaddr *, socklen_t,
		     char *, size_t);
int		 testlib_local_port(int);
int		 testlib_free_port(const char *, char **);
uint32_t	 testlib_seed(void);
int		 testlib_write_portfile(const char *, int, char **);
int		 testlib_set_nonblock(int, int);
int		 testlib_write_full(int, const void *, size_t);
ssize_t		 testlib_read_full(int, void *, size_t);

void		 testlib_gen_init(struct testlib_gen *);
void		 testlib_gen_fill(struct testlib_gen *, void *, size_t);

void		 testlib_sum_init(struct testlib_sum *);
void		 testlib_sum_add(struct testlib_sum *, const void *, size_t);
void		 testlib_sum_format(const struct testlib_sum *, char *,
		     size_t);

enum testlib_socks_status testlib_socks_handshake(int,
		     const struct testlib_socks *,
		     struct testlib_socks_result *, char **);
int		 testlib_socks5_open(const struct sockaddr *, socklen_t,
		     const struct sockaddr *, socklen_t, const char *,
		     uint16_t, int, enum testlib_socks_status *,
		     struct testlib_socks_result *, char **);

int		 testlib_serve_parse_mode(const char *,
		     enum testlib_serve_mode *, uint64_t *);
void		 testlib_serve(int, enum testlib_serve_mode, uint64_t);

int		 testlib_socks_send_request(int, const struct testlib_socks *,
		     char **);
enum testlib_socks_status testlib_socks_read_replies(int,
		     const struct testlib_socks *, int,
		     struct testlib_socks_result *, char **);
int		 testlib_fill_accept_queue(int, char **);

#endif
