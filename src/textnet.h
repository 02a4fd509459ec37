/*
 * The text-net message codec (PROTOCOL.md section 1): headers of the form
 * "CODE TID LEN [ARG]...\r\n" followed by LEN body bytes, and the
 * percent-encoding of arguments.  Pure: no I/O, no logging, no
 * allocation from a declared length.
 */
#ifndef TEXTNET_H
#define TEXTNET_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define TEXTNET_MAX_HEADER	4096		/* bytes, including CR LF */
#define TEXTNET_MAX_BODY	(1024 * 1024)
#define TEXTNET_MAX_ARGS	64
#define TEXTNET_MAX_CODE	5

enum textnet_parse {
	TEXTNET_PARSE_ERROR = -1,
	TEXTNET_PARSE_NEED = 0,
	TEXTNET_PARSE_OK = 1
};

/* One parsed header; args point into storage and are decoded. */
struct textnet_msg {
	char		 code[TEXTNET_MAX_CODE + 1];
	int		 response;		/* code is numeric */
	uint64_t	 tid;
	size_t		 body_len;
	int		 nargs;
	char		*args[TEXTNET_MAX_ARGS];
	char		 storage[TEXTNET_MAX_HEADER];
};

enum textnet_parse textnet_parse_header(const char *, size_t, size_t *used,
	    struct textnet_msg *, const char **why);
size_t	textnet_encode_arg(char *out, size_t outsize, const char *arg);
int	textnet_decode_arg(char *out, size_t outsize, const char *in,
	    size_t inlen);
int	textnet_valid_code(const char *, size_t, int *response);
int	textnet_parse_number(const char *, size_t, uint64_t *);
size_t	textnet_format(char *out, size_t outsize, const char *code,
	    uint64_t tid, size_t body_len, int nargs, const char *const *args);

#endif
