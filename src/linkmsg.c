/*
 * The worker link's control messages behind linkmsg.h: what a message
 * is, and the handshake's messages formatted from and parsed into
 * structs.  The window=, max= and weight= options are read here once,
 * for both RGST (the worker's) and 100 OK (the server's, window= only).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "linkauth.h"
#include "linkmsg.h"

/* Tell what a parsed message is. */
enum linkmsg_kind
linkmsg_kind(const struct textnet_msg *m)
{
	if (m->response) {
		if (strcmp(m->code, "100") == 0)
			return (m->tid == 0 ? LINKMSG_OK : LINKMSG_PONG);
		if (strcmp(m->code, "403") == 0)
			return (LINKMSG_REFUSED);
		if (strcmp(m->code, "201") == 0)
			return (LINKMSG_UNKNOWN);
		return (LINKMSG_RESPONSE);
	}
	if (strcmp(m->code, "HELO") == 0)
		return (LINKMSG_HELO);
	if (strcmp(m->code, "RGST") == 0)
		return (LINKMSG_RGST);
	if (strcmp(m->code, "PING") == 0)
		return (LINKMSG_PING);
	if (strcmp(m->code, "DRAIN") == 0)
		return (LINKMSG_DRAIN);
	if (strcmp(m->code, "SESS") == 0)
		return (LINKMSG_SESS);
	return (LINKMSG_OTHER);
}

/* Start a message to send: code and tid, no arguments yet. */
static void
linkmsg_out_init(struct linkmsg_out *o, const char *code, uint64_t tid)
{
	memset(o, 0, sizeof(*o));
	o->code = code;
	o->tid = tid;
}

/*
 * Read the options from args[first] on: window= within its bounds,
 * max= and weight= within their own, and the last tags= as it is (the
 * role checks it).  A bad value keeps what was there (the default, or an
 * earlier good value) and says why in *window_error, or r's max_error
 * or weight_error (strtonum's words); unknown options are ignored.  r is
 * NULL for a 100 OK, which carries only window=.
 */
static void
linkmsg_options(const struct textnet_msg *m, int first, uint32_t *window,
    const char **window_error, struct linkmsg_rgst *r)
{
	const char	*errstr;
	long long	 v;
	int		 i;

	for (i = first; i < m->nargs; i++) {
		if (strncmp(m->args[i], "window=", 7) == 0) {
			v = strtonum(m->args[i] + 7, LINKMSG_WINDOW_MIN,
			    LINKMSG_WINDOW_MAX, &errstr);
			if (errstr == NULL)
				*window = (uint32_t)v;
			else
				*window_error = errstr;
		} else if (r != NULL && strncmp(m->args[i], "max=", 4) == 0) {
			v = strtonum(m->args[i] + 4, 0, LINKMSG_MAX_SESSIONS,
			    &errstr);
			if (errstr == NULL)
				r->max_sessions = (unsigned int)v;
			else
				r->max_error = errstr;
		} else if (r != NULL &&
		    strncmp(m->args[i], "weight=", 7) == 0) {
			v = strtonum(m->args[i] + 7, 1, LINKMSG_WEIGHT_MAX,
			    &errstr);
			if (errstr == NULL)
				r->weight = (unsigned int)v;
			else
				r->weight_error = errstr;
		} else if (r != NULL &&
		    strncmp(m->args[i], "tags=", 5) == 0)
			r->tags = m->args[i] + 5;
		else if (r != NULL && strncmp(m->args[i], "cmds=", 5) == 0)
			r->cmds = m->args[i] + 5;
	}
}

/* HELO 0 0 esp/1 <nonce>: the server's greeting. */
void
linkmsg_helo(struct linkmsg_out *o, const char *nonce)
{
	linkmsg_out_init(o, "HELO", 0);
	o->args[o->nargs++] = LINKMSG_VERSION;
	o->args[o->nargs++] = nonce;
}

/*
 * Read a HELO: 0 and the server's nonce when it is an esp/1 greeting with
 * a valid nonce, -1 for any other HELO (one we do not understand).
 */
int
linkmsg_parse_helo(const struct textnet_msg *m, const char **nonce)
{
	if (m->nargs < 2 || strcmp(m->args[0], LINKMSG_VERSION) != 0 ||
	    !linkauth_valid_nonce(m->args[1]))
		return (-1);
	*nonce = m->args[1];
	return (0);
}

/*
 * RGST 0 0 <name>, or, with r->esp, the extended RGST 0 0 <name> esp/1
 * <nonce> <proof> window=<n> [max=<n>] [tags=<a,b>] [weight=<n>] (max=
 * only when there is a cap, tags= only when there are tags, weight= only
 * above 1).
 */
void
linkmsg_rgst(struct linkmsg_out *o, const struct linkmsg_rgst *r)
{
	linkmsg_out_init(o, "RGST", 0);
	if (r->name == NULL)
		return;		/* a legacy RGST naming no one */
	o->args[o->nargs++] = r->name;
	if (!r->esp)
		return;
	o->args[o->nargs++] = LINKMSG_VERSION;
	o->args[o->nargs++] = r->nonce;
	o->args[o->nargs++] = r->proof;
	snprintf(o->window, sizeof(o->window), "window=%u", r->window);
	o->args[o->nargs++] = o->window;
	if (r->max_sessions > 0) {
		snprintf(o->max, sizeof(o->max), "max=%u", r->max_sessions);
		o->args[o->nargs++] = o->max;
	}
	if (r->tags != NULL && *r->tags != '\0') {
		snprintf(o->tags, sizeof(o->tags), "tags=%s", r->tags);
		o->args[o->nargs++] = o->tags;
	}
	if (r->weight > 1) {
		snprintf(o->weight, sizeof(o->weight), "weight=%u", r->weight);
		o->args[o->nargs++] = o->weight;
	}
	if (r->cmds != NULL && *r->cmds != '\0') {
		snprintf(o->cmds, sizeof(o->cmds), "cmds=%s", r->cmds);
		o->args[o->nargs++] = o->cmds;
	}
}

/*
 * Read a RGST.  An extended one (second argument esp/1) is complete with
 * a valid nonce and a proof after it; its options are read, a legacy
 * one's never are.  Strings point into m.
 */
void
linkmsg_parse_rgst(const struct textnet_msg *m, struct linkmsg_rgst *r)
{
	memset(r, 0, sizeof(*r));
	r->window = LINKMSG_WINDOW_DEFAULT;
	r->weight = 1;
	r->name = m->nargs > 0 ? m->args[0] : NULL;
	r->esp = m->nargs >= 2 && strcmp(m->args[1], LINKMSG_VERSION) == 0;
	if (!r->esp || m->nargs < 4 || !linkauth_valid_nonce(m->args[2]))
		return;
	r->complete = 1;
	r->nonce = m->args[2];
	r->proof = m->args[3];
	linkmsg_options(m, 4, &r->window, &r->window_error, r);
}

/* 100 0 0 OK <proof> window=<n>: the server took the RGST. */
void
linkmsg_ok(struct linkmsg_out *o, const char *proof, uint32_t window)
{
	linkmsg_out_init(o, "100", 0);
	o->args[o->nargs++] = "OK";
	o->args[o->nargs++] = proof;
	snprintf(o->window, sizeof(o->window), "window=%u", window);
	o->args[o->nargs++] = o->window;
}

/*
 * Read a 100 answering RGST: 0 with the proof and window, -1 when it is
 * not "OK <proof>".
 */
int
linkmsg_parse_ok(const struct textnet_msg *m, struct linkmsg_ok *ok)
{
	memset(ok, 0, sizeof(*ok));
	ok->window = LINKMSG_WINDOW_DEFAULT;
	if (m->nargs < 2 || strcmp(m->args[0], "OK") != 0)
		return (-1);
	ok->proof = m->args[1];
	linkmsg_options(m, 2, &ok->window, &ok->window_error, NULL);
	return (0);
}

/* 403 0 0 <reason>: RGST refused. */
void
linkmsg_refuse(struct linkmsg_out *o, const char *reason)
{
	linkmsg_out_init(o, "403", 0);
	o->args[o->nargs++] = reason;
}

/* The reason of a 403, or "no reason" when it gives none. */
const char *
linkmsg_parse_refused(const struct textnet_msg *m)
{
	return (m->nargs > 0 ? m->args[0] : "no reason");
}

/* PING <tid> 0: tid 0 wants no answer (legacy), another a 100. */
void
linkmsg_ping(struct linkmsg_out *o, uint64_t tid)
{
	linkmsg_out_init(o, "PING", tid);
}

/* 100 <tid> 0: the answer to a PING. */
void
linkmsg_pong(struct linkmsg_out *o, uint64_t tid)
{
	linkmsg_out_init(o, "100", tid);
}

/* DRAIN 0 0: the sender is stopping; no new session for it. */
void
linkmsg_drain(struct linkmsg_out *o)
{
	linkmsg_out_init(o, "DRAIN", 0);
}
