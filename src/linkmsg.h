/*
 * The worker link's control messages (PROTOCOL.md 2 and 3): the
 * handshake (HELO, RGST, the 100 OK or 403 answering it) and the keep-
 * alive and drain notifications (PING and its 100, DRAIN).  Pure: a
 * struct in, the code, tid and arguments for mux_link_send (textnet
 * frames them) out; a parsed textnet message in, a struct out.  No I/O,
 * no logging: what a role does with a message stays in pool-link.c and
 * worker.c.
 */
#ifndef LINKMSG_H
#define LINKMSG_H

#include <stdint.h>

#include "tags.h"
#include "textnet.h"

#define LINKMSG_VERSION		"esp/1"

/* What a peer may announce as its window= (PROTOCOL.md 2). */
#define LINKMSG_WINDOW_DEFAULT	262144
#define LINKMSG_WINDOW_MIN	1024
#define LINKMSG_WINDOW_MAX	(64LL * TEXTNET_MAX_BODY)
/* The largest max= a worker may announce. */
#define LINKMSG_MAX_SESSIONS	1000000
/* The largest weight= (WORKER_WEIGHT); 1 when none is given. */
#define LINKMSG_WEIGHT_MAX	1000

/* The reasons of a 403 answering RGST. */
#define LINKMSG_BAD_PROOF	"bad_proof"
#define LINKMSG_AUTH_REQUIRED	"auth_required"
#define LINKMSG_BAD_NAME	"bad_name"

#define LINKMSG_MAX_ARGS	10

/* What a message is, by its code (and tid, for 100). */
enum linkmsg_kind {
	LINKMSG_OTHER,		/* a command of no concern here */
	LINKMSG_HELO,
	LINKMSG_RGST,
	LINKMSG_PING,
	LINKMSG_DRAIN,
	LINKMSG_SESS,
	LINKMSG_OK,		/* 100 with tid 0: the answer to RGST */
	LINKMSG_PONG,		/* 100 with a tid: the answer to a PING */
	LINKMSG_REFUSED,	/* 403: RGST refused */
	LINKMSG_UNKNOWN,	/* 201: "unknown_command" or "invalid_command" */
	LINKMSG_RESPONSE	/* any other response */
};

/*
 * A message to send: mux_link_send(l, code, tid, nargs, args).  The
 * arguments point into the caller's strings and into the storage here,
 * so the struct must outlive the send.
 */
struct linkmsg_out {
	const char	*code;
	uint64_t	 tid;
	int		 nargs;
	const char	*args[LINKMSG_MAX_ARGS];
	char		 window[32];	/* "window=N" */
	char		 max[32];	/* "max=N" */
	char		 tags[TAGS_TEXT_MAX + 8];	/* "tags=a,b" */
	char		 weight[32];	/* "weight=N" */
	char		 cmds[64];	/* "cmds=bind,udp" */
};

/* RGST: legacy (a name, or none) or extended (esp/1, nonce, proof...). */
struct linkmsg_rgst {
	const char	*name;		/* NULL: none given */
	int		 esp;		/* the second argument is esp/1 */
	int		 complete;	/* esp/1 with a valid nonce and a proof */
	const char	*nonce;
	const char	*proof;
	uint32_t	 window;	/* LINKMSG_WINDOW_DEFAULT unless given */
	unsigned int	 max_sessions;	/* 0: no cap */
	const char	*tags;		/* tags=, unchecked; NULL: none */
	unsigned int	 weight;	/* 1 unless given */
	const char	*cmds;		/* cmds=, unchecked; NULL: none */
	const char	*window_error;	/* why a window= was ignored */
	const char	*max_error;	/* why a max= was ignored */
	const char	*weight_error;	/* why a weight= was ignored */
};

/* 100 OK answering RGST: the server's proof and its window. */
struct linkmsg_ok {
	const char	*proof;
	uint32_t	 window;
	const char	*window_error;	/* why a window= was ignored */
};

enum linkmsg_kind linkmsg_kind(const struct textnet_msg *);

void	linkmsg_helo(struct linkmsg_out *, const char *nonce);
int	linkmsg_parse_helo(const struct textnet_msg *, const char **nonce);
void	linkmsg_rgst(struct linkmsg_out *, const struct linkmsg_rgst *);
void	linkmsg_parse_rgst(const struct textnet_msg *, struct linkmsg_rgst *);
void	linkmsg_ok(struct linkmsg_out *, const char *proof, uint32_t window);
int	linkmsg_parse_ok(const struct textnet_msg *, struct linkmsg_ok *);
void	linkmsg_refuse(struct linkmsg_out *, const char *reason);
const char *linkmsg_parse_refused(const struct textnet_msg *);
void	linkmsg_ping(struct linkmsg_out *, uint64_t tid);
void	linkmsg_pong(struct linkmsg_out *, uint64_t tid);
void	linkmsg_drain(struct linkmsg_out *);

#endif
