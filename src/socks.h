/*
 * SOCKS 4, 4a and 5 messages (RFC 1928, RFC 1929, the SOCKS4 and 4a
 * notes): a pure codec.  Parsers take the bytes received so far and say
 * "need more", "here is the message and how many bytes it used", or
 * "bad input, and here is the reply to send before closing".  No I/O,
 * no logging; every length is checked before it is used.
 */
#ifndef SOCKS_H
#define SOCKS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#define SOCKS_V4			4
#define SOCKS_V5			5

#define SOCKS_CMD_CONNECT		1
#define SOCKS_CMD_BIND			2
#define SOCKS_CMD_UDP			3

#define SOCKS_ATYP_IPV4			1
#define SOCKS_ATYP_DOMAIN		3
#define SOCKS_ATYP_IPV6			4

/* SOCKS5 authentication methods (RFC 1928 section 3). */
enum socks5_method {
	SOCKS5_METHOD_NONE = 0x00,
	SOCKS5_METHOD_GSSAPI = 0x01,
	SOCKS5_METHOD_PASSWORD = 0x02,
	SOCKS5_METHOD_UNACCEPTABLE = 0xff
};

enum socks5_reply {
	SOCKS5_SUCCEEDED = 0x00,
	SOCKS5_FAILURE = 0x01,
	SOCKS5_NOT_ALLOWED = 0x02,
	SOCKS5_NET_UNREACHABLE = 0x03,
	SOCKS5_HOST_UNREACHABLE = 0x04,
	SOCKS5_REFUSED = 0x05,
	SOCKS5_TTL_EXPIRED = 0x06,
	SOCKS5_CMD_UNSUPPORTED = 0x07,
	SOCKS5_ATYP_UNSUPPORTED = 0x08
};

#define SOCKS4_GRANTED			0x5a
#define SOCKS4_REJECTED			0x5b

/* A SOCKS4 user id or 4a host name with no NUL within this is refused. */
#define SOCKS4_MAX_FIELD		512

enum socks_parse {
	SOCKS_PARSE_ERROR = -1,		/* see err, errlen */
	SOCKS_PARSE_NEED = 0,		/* incomplete: wait for more bytes */
	SOCKS_PARSE_OK = 1		/* complete: *used bytes consumed */
};

/* Why a parse failed, and what to answer before closing. */
struct socks_error {
	const char	*why;		/* for the log line */
	uint8_t		 reply[32];	/* bytes to send, may be empty */
	size_t		 replylen;
};

struct socks_greeting {
	uint8_t		nmethods;
	uint8_t		methods[255];
};

struct socks_request {
	int		version;	/* SOCKS_V4 or SOCKS_V5 */
	int		cmd;		/* SOCKS_CMD_* */
	int		atyp;		/* SOCKS_ATYP_*; SOCKS4a is DOMAIN */
	char		host[256];	/* name or numeric text, NUL-ended */
	uint16_t	port;		/* host order */
	char		user[SOCKS4_MAX_FIELD + 1];	/* SOCKS4 user id */
};

struct socks_userpass {
	char		user[256];
	char		pass[256];
};

/* First byte tells the version: 4, 5, or -1 for neither. */
int	socks_version(const uint8_t *, size_t);

enum socks_parse socks5_parse_greeting(const uint8_t *, size_t, size_t *used,
	    struct socks_greeting *, struct socks_error *);
int	socks5_greeting_has(const struct socks_greeting *,
	    enum socks5_method);
size_t	socks5_build_method(uint8_t *out, enum socks5_method);

enum socks_parse socks5_parse_userpass(const uint8_t *, size_t, size_t *used,
	    struct socks_userpass *, struct socks_error *);
size_t	socks5_build_userpass_reply(uint8_t *out, int ok);

enum socks_parse socks5_parse_request(const uint8_t *, size_t, size_t *used,
	    struct socks_request *, struct socks_error *);
enum socks_parse socks4_parse_request(const uint8_t *, size_t, size_t *used,
	    struct socks_request *, struct socks_error *);

/*
 * The header of a SOCKS5 UDP datagram (RFC 1928 section 7): RSV RSV FRAG
 * ATYP DST.ADDR DST.PORT, then the data.  A datagram is whole or nothing,
 * so a short one is an error, never "need more".
 */
struct socks_udp_header {
	uint8_t		frag;		/* 0 for a whole datagram */
	int		atyp;		/* SOCKS_ATYP_* */
	char		host[256];	/* name or numeric text, NUL-ended */
	uint16_t	port;		/* host order */
};

/* Longest header socks5_build_udp_header writes (IPv6). */
#define SOCKS_UDP_HEADER_MAX	22

int	socks5_parse_udp(const uint8_t *, size_t, size_t *hdrlen,
	    struct socks_udp_header *, const char **why);
size_t	socks5_build_udp_header(uint8_t *out, const struct sockaddr *src);

/* out must hold SOCKS_REPLY_MAX bytes; bound may be NULL (all zeros). */
#define SOCKS_REPLY_MAX		22
size_t	socks5_build_reply(uint8_t *out, enum socks5_reply,
	    const struct sockaddr *bound);
size_t	socks4_build_reply(uint8_t *out, int granted,
	    const struct sockaddr *bound);

/*
 * Why a destination could not be reached: the reason words of the worker
 * link's R flag (PROTOCOL.md 4), shared by direct dialing and workers.
 */
enum socks_failure {
	SOCKS_FAIL_NONE,		/* connected */
	SOCKS_FAIL_DENIED,		/* "denied" */
	SOCKS_FAIL_NETUNREACH,		/* "netunreach" */
	SOCKS_FAIL_HOSTUNREACH,		/* "hostunreach" */
	SOCKS_FAIL_REFUSED,		/* "refused" */
	SOCKS_FAIL_TIMEOUT,		/* "timeout" */
	SOCKS_FAIL_DNS,			/* "dns" */
	SOCKS_FAIL_FAILURE		/* "failure", and any unknown word */
};

const char	*socks_failure_name(enum socks_failure);
enum socks_failure socks_failure_from_name(const char *);
enum socks_failure socks_failure_from_errno(int);
enum socks5_reply socks5_reply_from_failure(enum socks_failure);
const char	*socks5_reply_name(enum socks5_reply);

#endif
