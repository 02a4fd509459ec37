/*
 * Inside a server client, shared by client.c (the SOCKS handshake, the
 * connect, the tunnel and the access line) and client-http.c (HTTP
 * proxy requests, which take the same connect and tunnel path).  No
 * other file includes it.
 */
#ifndef CLIENT_INT_H
#define CLIENT_INT_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "ev.h"
#include "passwd.h"
#include "pool.h"
#include "sock.h"
#include "socks.h"
#include "tags.h"
#include "tunnel.h"
#include "udpassoc.h"
#include "userparam.h"

struct account;
struct bindwait;
struct client_http;
struct mux_session;
struct end;
struct stream;

/* Greeting, RFC 1929 sub-negotiation and request fit with room to spare. */
#define CLIENT_HANDSHAKE_MAX	2048

/*
 * Where a client is, in order.  The states that read the handshake
 * (START to HTTP) each have a handler in client_parse; in the
 * others the client waits for something else and only buffers bytes.
 */
enum client_state {
	CLIENT_START,		/* the first byte tells the version */
	CLIENT_GREETING,	/* SOCKS5 method selection */
	CLIENT_AUTH,		/* RFC 1929 user name and password */
	CLIENT_AUTH_CHECK,	/* waiting for the password check */
	CLIENT_REQUEST5,	/* SOCKS5 request */
	CLIENT_REQUEST4,	/* SOCKS4 or 4a request */
	CLIENT_HTTP,		/* an HTTP proxy request (client-http.c) */
	CLIENT_CONNECTING,	/* waiting for the dial or a worker */
	CLIENT_RELAYING,	/* the relay owns the socket */
	CLIENT_CLOSED		/* gone; freed at the end of the round */
};

struct client {
	int			 fd;
	struct sockaddr_storage	 addr;
	char			 addrtext[SOCK_ADDRSTRLEN];
	enum client_state	 state;
	struct buf		 in;
	struct ev_timer		 timer;
	struct socks_request	 req;
	char			 user[256];
	struct userparam	 param;		/* parsed from user */
	struct pool_want	 want;
	char			 tags[TAGS_TEXT_MAX];	/* the worker's */
	struct passwd_policy	 policy;	/* its account's */
	struct account		*account;	/* AUTH=password */
	int			 counted;	/* in account->active */
	char			 via[TUNNEL_VIA_SIZE];
	uint64_t		 start;
	struct dial		*dial;
	struct pool_open	*pool;
	struct job		*auth;		/* password check running */
	struct tunnel		 tunnel;	/* once CLIENT_RELAYING */
	struct client_http	*http;		/* an HTTP client, else NULL */
	struct bindwait		*bind;		/* a direct BIND's listener */
	struct mux_session	*bindsession;	/* a BIND waiting on a worker */
	struct udpassoc		*udp;		/* a UDP ASSOCIATE's relay */
	struct udpassoc_counts	 udpcounts;	/* for its access line */
	TAILQ_ENTRY(client)	 entry;
};
TAILQ_HEAD(client_list, client);

/* client.c */
void	client_close(struct client *, const char *why);
int	client_send(struct client *, const void *, size_t);
void	client_connect(struct client *);
int	client_parse_user(struct client *, const char *);
int	client_password_result(struct client *, enum auth_result);

/* client-http.c */
enum client_state client_http_on_request(struct client *);
size_t	client_http_reply(struct client *, struct stream *, uint8_t *,
	    size_t);
void	client_http_started(struct client *);
int	client_http_status(enum socks5_reply);
const char *client_http_cmd_name(const struct client *);
void	client_http_free(struct client *);

#endif
