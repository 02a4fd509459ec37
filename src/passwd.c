/*
 * The PASSWORD_FILE: one "user:hash" line per user, the hash a SHA-crypt
 * "$5$" string as `openssl passwd -5` or `mkpasswd -m sha-256` writes
 * it, then optionally ":key=value key=value" (the account's policy:
 * tags=, max_sessions=, no_worker=, rate=).  Lines may be indented; blank lines and lines starting with '#'
 * are skipped.  Every hash is checked at load time, so a typo is an
 * error with file:line when the config is read, not a login that can
 * never succeed.  The server calls passwd_check for each RFC 1929
 * authentication, in two steps: passwd_attempt_new looks the user up and
 * copies what the check needs, in the loop; passwd_attempt_verify does
 * the costly hashing, in a thread if the caller likes, while a reload
 * may free the database.
 *
 * Rounds are capped at PASSWD_ROUNDS_MAX, below what SHA-crypt allows:
 * every login and every probe pays them, and a check that outlasts the
 * handshake deadline could never let anyone in anyway.
 *
 * Timing: a probe with an unknown user name is verified against a
 * stand-in hash with the rounds of the file's first entry, so it costs
 * what a known user costs when the entries share a rounds count (the
 * usual case), and the user is looked up by comparing SHA-256 digests
 * of the names in constant time, touching every entry.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "passwd.h"
#include "sha256.h"
#include "shacrypt.h"
#include "xmalloc.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

/* Salt and digest of the stand-in hash checked for unknown users. */
#define PASSWD_DUMMY_SALT	"unknownuser0000"
#define PASSWD_DUMMY_DIGEST	\
	"..........................................."

struct passwd_entry {
	uint8_t		 namehash[SHA256_DIGEST_LENGTH];
	char		*name;
	char		*hash;
	struct passwd_policy policy;
};

/* One check: copies of the hash and password, so the database may go. */
struct passwd_attempt {
	char		*hash;		/* the user's, or the stand-in */
	char		*password;	/* wiped once verified */
	int		 known;		/* the user is in the file */
};

struct passwd_db {
	struct passwd_entry	*entries;
	size_t			 count;
	size_t			 alloc;
	char			*dummy;		/* hash for unknown users */
};

/*
 * Read the options of a line into policy: blank-separated key=value
 * words.  Returns 0, or -1 and why (static text or *cause).
 */
static int
passwd_parse_options(char *opts, struct passwd_policy *policy, char **cause)
{
	char		*word, *value, *why = NULL;
	const char	*errstr;
	long long	 n;

	while ((word = strsep(&opts, " \t")) != NULL) {
		if (*word == '\0')
			continue;
		if ((value = strchr(word, '=')) == NULL) {
			xasprintf(cause, "option '%.40s' is not key=value",
			    word);
			return (-1);
		}
		*value++ = '\0';
		if (strcmp(word, "tags") == 0) {
			if (tags_parse(&policy->tags, value, ',', &why) != 0 ||
			    policy->tags.n == 0) {
				xasprintf(cause, "tags=: %s", why != NULL ?
				    why : "empty");
				free(why);
				return (-1);
			}
		} else if (strcmp(word, "max_sessions") == 0) {
			n = strtonum(value, 0, 1000000, &errstr);
			if (errstr != NULL) {
				xasprintf(cause, "max_sessions= is %s (want 0 "
				    "to 1000000)", errstr);
				return (-1);
			}
			policy->max_sessions = (unsigned int)n;
		} else if (strcmp(word, "no_worker") == 0) {
			if (strcmp(value, "direct") == 0)
				policy->no_worker = CONF_NO_WORKER_DIRECT;
			else if (strcmp(value, "refuse") == 0)
				policy->no_worker = CONF_NO_WORKER_REFUSE;
			else {
				xasprintf(cause, "no_worker= wants direct or "
				    "refuse");
				return (-1);
			}
		} else if (strcmp(word, "rate") == 0) {
			n = strtonum(value, 1, (long long)PASSWD_RATE_MAX,
			    &errstr);
			if (errstr != NULL) {
				xasprintf(cause, "rate= is %s (want bytes per "
				    "second, 1 to %llu)", errstr,
				    (unsigned long long)PASSWD_RATE_MAX);
				return (-1);
			}
			policy->rate = (uint64_t)n;
		} else {
			xasprintf(cause, "unknown option '%.40s' (want tags=, "
			    "max_sessions=, no_worker= or rate=)", word);
			return (-1);
		}
	}
	return (0);
}

static int	passwd_parse_line(struct passwd_db *, char *, const char *,
		    unsigned long, char **);

/*
 * Take one line apart and add its entry; 0 for an entry, a blank line
 * or a comment, -1 and cause for a bad line.
 */
static int
passwd_parse_line(struct passwd_db *db, char *line, const char *path,
    unsigned long lineno, char **cause)
{
	struct passwd_entry	*e;
	struct passwd_policy	 policy;
	char			*name, *hash, *end, *opts, *bad = NULL;
	const char		*why;
	uint8_t			 namehash[SHA256_DIGEST_LENGTH];
	unsigned long		 rounds;
	size_t			 i;
	int			 dup;

	line += strspn(line, " \t");
	end = line + strlen(line);
	while (end > line && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (*line == '\0' || *line == '#')
		return (0);

	name = line;
	if ((hash = strchr(line, ':')) == NULL) {
		xasprintf(cause, "%s:%lu: no ':' between user and hash",
		    path, lineno);
		return (-1);
	}
	*hash++ = '\0';
	memset(&policy, 0, sizeof(policy));
	policy.no_worker = -1;
	if ((opts = strchr(hash, ':')) != NULL) {
		*opts++ = '\0';
		if (passwd_parse_options(opts, &policy, &bad) != 0) {
			xasprintf(cause, "%s:%lu: user %s: %s", path, lineno,
			    name, bad);
			free(bad);
			return (-1);
		}
	}
	if (*name == '\0') {
		xasprintf(cause, "%s:%lu: empty user name", path, lineno);
		return (-1);
	}
	if (strlen(name) > PASSWD_USER_MAX) {
		xasprintf(cause, "%s:%lu: user name longer than %d bytes",
		    path, lineno, PASSWD_USER_MAX);
		return (-1);
	}
	if (shacrypt_check(hash, &rounds, &why) != 0) {
		xasprintf(cause, "%s:%lu: user %s: %s", path, lineno, name,
		    why);
		return (-1);
	}
	if (rounds > PASSWD_ROUNDS_MAX) {
		xasprintf(cause, "%s:%lu: user %s: rounds above %d, too costly "
		    "to check at every login", path, lineno, name,
		    PASSWD_ROUNDS_MAX);
		return (-1);
	}
	sha256(name, strlen(name), namehash);
	dup = 0;
	for (i = 0; i < db->count; i++)
		if (strcmp(db->entries[i].name, name) == 0)
			dup = 1;
	if (dup) {
		xasprintf(cause, "%s:%lu: duplicate user %s", path, lineno,
		    name);
		return (-1);
	}

	if (db->count == db->alloc) {
		db->alloc = db->alloc ? db->alloc * 2 : 8;
		db->entries = xreallocarray(db->entries, db->alloc,
		    sizeof(*db->entries));
	}
	e = &db->entries[db->count++];
	memcpy(e->namehash, namehash, sizeof(e->namehash));
	e->name = xstrdup(name);
	e->hash = xstrdup(hash);
	e->policy = policy;
	return (0);
}

/*
 * Read the password file at path.  Returns the database, or NULL and a
 * cause naming the file and, for a bad line, the line number.
 */
struct passwd_db *
passwd_load(const char *path, char **cause)
{
	struct passwd_db	*db;
	struct stat		 st;
	FILE			*f;
	char			*line = NULL;
	size_t			 linesize = 0;
	unsigned long		 lineno = 0, rounds = SHACRYPT_ROUNDS_DEFAULT;
	const char		*why;
	ssize_t			 len;
	int			 fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		close(fd);
		return (NULL);
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}

	db = xcalloc(1, sizeof(*db));
	while ((len = getline(&line, &linesize, f)) != -1) {
		lineno++;
		if ((size_t)len != strlen(line)) {
			xasprintf(cause, "%s:%lu: NUL byte in line", path,
			    lineno);
			error = 1;
			break;
		}
		if (passwd_parse_line(db, line, path, lineno, cause) != 0) {
			error = 1;
			break;
		}
	}
	if (!error && ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		error = 1;
	}
	if (line != NULL)
		sha256_explicit_bzero(line, linesize);
	free(line);
	fclose(f);
	if (error) {
		passwd_free(db);
		return (NULL);
	}

	if (db->count > 0)
		(void)shacrypt_check(db->entries[0].hash, &rounds, &why);
	xasprintf(&db->dummy, "$5$rounds=%lu$%s$%s", rounds,
	    PASSWD_DUMMY_SALT, PASSWD_DUMMY_DIGEST);
	return (db);
}

/*
 * Prepare the check of user's password, in the loop: find which hash to
 * verify against (the user's, or the stand-in for an unknown user, at
 * the same cost) and copy it with the password.  db may be NULL (no
 * file): the check then fails at no cost.
 */
struct passwd_attempt *
passwd_attempt_new(const struct passwd_db *db, const char *user,
    const char *password)
{
	struct passwd_attempt		*a;
	const struct passwd_entry	*found = NULL;
	uint8_t				 namehash[SHA256_DIGEST_LENGTH];
	size_t				 i;

	a = xcalloc(1, sizeof(*a));
	if (db == NULL || user == NULL || password == NULL)
		return (a);
	sha256(user, strlen(user), namehash);
	for (i = 0; i < db->count; i++) {
		if (sha256_timingsafe_equal(namehash,
		    db->entries[i].namehash, sizeof(namehash)))
			found = &db->entries[i];
	}
	/* A digest collision of two names is not the user. */
	a->known = found != NULL && strcmp(found->name, user) == 0;
	a->hash = xstrdup(found != NULL ? found->hash : db->dummy);
	a->password = xstrdup(password);
	return (a);
}

/*
 * Do the costly part of a check, safe in any thread: return 1 when the
 * user is known and the password matches, else 0.  The password copy
 * is wiped.
 */
int
passwd_attempt_verify(struct passwd_attempt *a)
{
	int	match;

	if (a->hash == NULL || a->password == NULL)
		return (0);
	match = shacrypt_verify(a->password, a->hash);
	sha256_explicit_bzero(a->password, strlen(a->password));
	return (a->known && match);
}

/* Free a check, wiping the password if it was never verified. */
void
passwd_attempt_free(struct passwd_attempt *a)
{
	if (a == NULL)
		return;
	if (a->password != NULL) {
		sha256_explicit_bzero(a->password, strlen(a->password));
		free(a->password);
	}
	free(a->hash);
	free(a);
}

/*
 * Return 1 when user is in the file and password matches its hash,
 * else 0, all at once.  An unknown user costs the same hashing as a
 * known one.
 */
int
passwd_check(const struct passwd_db *db, const char *user,
    const char *password)
{
	struct passwd_attempt	*a;
	int			 ok;

	a = passwd_attempt_new(db, user, password);
	ok = passwd_attempt_verify(a);
	passwd_attempt_free(a);
	return (ok);
}

/* Number of users in the file. */
size_t
passwd_count(const struct passwd_db *db)
{
	return (db->count);
}

/* The name of user i (0 to passwd_count - 1), for the metrics. */
const char *
passwd_user(const struct passwd_db *db, size_t i)
{
	return (i < db->count ? db->entries[i].name : NULL);
}

/*
 * Copy the policy of user (an account whose password was checked) into
 * out; 0, or -1 (and no policy: all zero, no_worker -1) when db is NULL
 * or the user is not in it.
 */
int
passwd_policy(const struct passwd_db *db, const char *user,
    struct passwd_policy *out)
{
	size_t	i;

	memset(out, 0, sizeof(*out));
	out->no_worker = -1;
	if (db == NULL)
		return (-1);
	for (i = 0; i < db->count; i++) {
		if (strcmp(db->entries[i].name, user) == 0) {
			*out = db->entries[i].policy;
			return (0);
		}
	}
	return (-1);
}

/* Free a database from passwd_load; NULL is allowed. */
void
passwd_free(struct passwd_db *db)
{
	size_t	i;

	if (db == NULL)
		return;
	for (i = 0; i < db->count; i++) {
		free(db->entries[i].name);
		free(db->entries[i].hash);
	}
	free(db->entries);
	free(db->dummy);
	free(db);
}
