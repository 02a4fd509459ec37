/*
 * Unit tests for the config parser: the line syntax (src/conf-lex.c, the
 * "line" cases), every key's good and bad values (conf-value.c,
 * conf-keys.c), files with file:line errors, -o style overrides, the
 * defaults and the role checks of conf_finish (conf.c).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "install-paths.h"

#include "checklib.h"

#define nelem(a)	(sizeof(a) / sizeof((a)[0]))

/* The listen addresses of each kind, for short assertions. */
#define SOCKS(c)	((c)->listen[CONF_LISTEN_SOCKS])
#define WORKER(c)	((c)->listen[CONF_LISTEN_WORKER])
#define STATS(c)	((c)->listen[CONF_LISTEN_STATS])

/* Temp files made by a test, removed by the teardown. */
static char	*temp_paths[16];
static size_t	 temp_count;

/* Write content (len bytes) to a fresh temp file; return its path. */
static const char *
temp_file(const char *content, size_t len, mode_t mode)
{
	const char	*dir = getenv("TMPDIR");
	char		*path;
	int		 fd;

	ck_assert_uint_lt(temp_count, nelem(temp_paths));
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	ck_assert_int_gt(asprintf(&path, "%s/check_conf.XXXXXX", dir), 0);
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
	temp_paths[temp_count++] = path;
	return (path);
}

/* Temp file from a C string, mode 0600. */
static const char *
temp_text(const char *content)
{
	return (temp_file(content, strlen(content), 0600));
}

static void
temp_teardown(void)
{
	size_t	i;

	for (i = 0; i < temp_count; i++) {
		unlink(temp_paths[i]);
		free(temp_paths[i]);
	}
	temp_count = 0;
}

/* The line must parse as KEY=value with these two. */
static void
line_ok(const char *line, const char *key, const char *value)
{
	char	*k, *v, *cause = NULL;
	int	 rc;

	rc = conf_parse_line(line, &k, &v, &cause);
	if (rc != 1)
		ck_abort_msg("line '%s': rc %d, cause %s", line, rc,
		    cause ? cause : "(none)");
	ck_assert_str_eq(k, key);
	ck_assert_str_eq(v, value);
	free(k);
	free(v);
}

/* The line must be blank or a comment. */
static void
line_empty(const char *line)
{
	char	*k = NULL, *v = NULL, *cause = NULL;

	ck_assert_int_eq(conf_parse_line(line, &k, &v, &cause), 0);
	ck_assert_ptr_null(k);
	ck_assert_ptr_null(v);
	ck_assert_ptr_null(cause);
}

/* The line must fail with a cause containing want. */
static void
line_bad(const char *line, const char *want)
{
	char	*k = NULL, *v = NULL, *cause = NULL;

	if (conf_parse_line(line, &k, &v, &cause) != -1)
		ck_abort_msg("line '%s' accepted", line);
	ck_assert_ptr_null(k);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(cause);
	if (strstr(cause, want) == NULL)
		ck_abort_msg("line '%s': cause '%s' lacks '%s'", line, cause,
		    want);
	free(cause);
}

/* conf_set must accept the value. */
static void
set_ok(struct conf *conf, const char *key, const char *value)
{
	char	*cause = NULL;

	if (conf_set(conf, key, value, &cause) != 0)
		ck_abort_msg("%s=%s: %s", key, value, cause);
}

/* conf_set must reject the value with a cause containing want. */
static void
set_bad(struct conf *conf, const char *key, const char *value,
    const char *want)
{
	char	*cause = NULL;

	if (conf_set(conf, key, value, &cause) == 0)
		ck_abort_msg("%s='%s' accepted", key, value);
	ck_assert_ptr_nonnull(cause);
	if (strstr(cause, want) == NULL)
		ck_abort_msg("%s='%s': cause '%s' lacks '%s'", key, value,
		    cause, want);
	free(cause);
}

/* conf_finish must fail with a cause containing want. */
static void
finish_bad(struct conf *conf, enum conf_role role, const char *want)
{
	char	*cause = NULL;

	if (conf_finish(conf, role, &cause) == 0)
		ck_abort_msg("conf_finish accepted, wanted '%s'", want);
	if (strstr(cause, want) == NULL)
		ck_abort_msg("cause '%s' lacks '%s'", cause, want);
	free(cause);
}

/* conf_finish must succeed. */
static void
finish_ok(struct conf *conf, enum conf_role role)
{
	char	*cause = NULL;

	if (conf_finish(conf, role, &cause) != 0)
		ck_abort_msg("conf_finish: %s", cause);
}

/* conf_finish and conf_verify must succeed. */
static void
verify_ok(struct conf *conf, enum conf_role role)
{
	char	*cause = NULL;

	finish_ok(conf, role);
	if (conf_verify(conf, role, &cause) != 0)
		ck_abort_msg("conf_verify: %s", cause);
}

/* Port of a listen address, host order. */
static unsigned int
listen_port(const struct conf_listen *l)
{
	if (l->ss.ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)&l->ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)&l->ss)->sin6_port));
}

/* Address of a listen address as text. */
static const char *
listen_addr(const struct conf_listen *l, char *buf, size_t len)
{
	const void	*a;

	if (l->ss.ss_family == AF_INET)
		a = &((const struct sockaddr_in *)&l->ss)->sin_addr;
	else
		a = &((const struct sockaddr_in6 *)&l->ss)->sin6_addr;
	ck_assert_ptr_nonnull(inet_ntop(l->ss.ss_family, a, buf, len));
	return (buf);
}

START_TEST(test_line_blank_and_comment)
{
	line_empty("");
	line_empty("\n");
	line_empty("   ");
	line_empty("\t \t");
	line_empty("# a comment");
	line_empty("   # indented comment $x `y` 'z");
	line_empty("#KEY=value");
}
END_TEST

START_TEST(test_line_bare_values)
{
	line_ok("KEY=value", "KEY", "value");
	line_ok("KEY=value\n", "KEY", "value");
	line_ok("  KEY=value", "KEY", "value");
	line_ok("KEY=value # comment", "KEY", "value");
	line_ok("KEY=value\t#comment", "KEY", "value");
	line_ok("KEY=value   ", "KEY", "value");
	line_ok("KEY=a#b", "KEY", "a#b");
	line_ok("KEY=#x", "KEY", "#x");
	line_ok("_K9_=x", "_K9_", "x");
	line_ok("SOCKS_LISTEN=*:1080", "SOCKS_LISTEN", "*:1080");
	line_ok("DEST_DENY=[::1/128]:22", "DEST_DENY", "[::1/128]:22");
	line_ok("K=a/b.c-d_e:f@g,h+i=j%k!l?m*", "K",
	    "a/b.c-d_e:f@g,h+i=j%k!l?m*");
}
END_TEST

START_TEST(test_line_empty_values)
{
	line_ok("KEY=", "KEY", "");
	line_ok("KEY=\n", "KEY", "");
	line_ok("KEY=   ", "KEY", "");
	line_ok("KEY= # comment", "KEY", "");
	line_ok("KEY=''", "KEY", "");
	line_ok("KEY=\"\"", "KEY", "");
}
END_TEST

START_TEST(test_line_export)
{
	line_ok("export KEY=v", "KEY", "v");
	line_ok("export\tKEY=v", "KEY", "v");
	line_ok("  export   KEY='a b'", "KEY", "a b");
	line_bad("exportKEY=v", "KEY");
	line_bad("export KEY", "no '=' after KEY");
	line_bad("export", "want KEY=value");
}
END_TEST

START_TEST(test_line_single_quotes)
{
	line_ok("KEY='a b'", "KEY", "a b");
	line_ok("KEY='$x `y` \\ \"'", "KEY", "$x `y` \\ \"");
	line_ok("KEY='a' # comment", "KEY", "a");
	line_ok("KEY='#'", "KEY", "#");
	line_bad("KEY='abc", "unterminated");
	line_bad("KEY='a'b", "text after closing quote");
	line_bad("KEY='a' b", "text after closing quote");
	line_bad("KEY='a''b'", "text after closing quote");
	line_bad("KEY='a'\"b\"", "text after closing quote");
}
END_TEST

START_TEST(test_line_double_quotes)
{
	line_ok("KEY=\"a b\"", "KEY", "a b");
	line_ok("KEY=\"a \\\" b\"", "KEY", "a \" b");
	line_ok("KEY=\"\\\\\"", "KEY", "\\");
	line_ok("KEY=\"\\$x\"", "KEY", "$x");
	line_ok("KEY=\"\\`x\\`\"", "KEY", "`x`");
	/* Other backslashes stay, as in sh. */
	line_ok("KEY=\"a\\nb\"", "KEY", "a\\nb");
	line_ok("KEY=\"a'b\" # c", "KEY", "a'b");
	line_bad("KEY=\"$x\"", "no expansion");
	line_bad("KEY=\"a${x}\"", "no expansion");
	line_bad("KEY=\"`id`\"", "no expansion");
	line_bad("KEY=\"abc", "unterminated");
	line_bad("KEY=\"a\\\"", "unterminated");
	line_bad("KEY=\"a\"b", "text after closing quote");
	line_bad("KEY=\"a\" b", "text after closing quote");
}
END_TEST

START_TEST(test_line_bare_errors)
{
	line_bad("KEY=$x", "no expansion");
	line_bad("KEY=a$", "no expansion");
	line_bad("KEY=`id`", "no expansion");
	line_bad("KEY=a b", "blank in an unquoted value");
	line_bad("KEY=a\tb", "blank in an unquoted value");
	line_bad("KEY=a'b'", "quote the value");
	line_bad("KEY=a\"b\"", "quote the value");
	line_bad("KEY=a\\ b", "quote the value");
	line_bad("KEY=a;b", "quote the value");
	line_bad("KEY=a|b", "quote the value");
	line_bad("KEY=a&", "quote the value");
	line_bad("KEY=a>b", "quote the value");
	line_bad("KEY=(a)", "quote the value");
	line_bad("KEY=~/x", "quote the value");
}
END_TEST

START_TEST(test_line_key_errors)
{
	line_bad("key=v", "want KEY=value");
	line_bad("Key=v", "want KEY=value");
	line_bad("1KEY=v", "want KEY=value");
	line_bad("KEY-X=v", "want KEY=value");
	line_bad("=v", "want KEY=value");
	line_bad("KEY =v", "no blanks allowed before '='");
	line_bad("KEY\t=v", "no blanks allowed before '='");
	line_bad("KEY= v", "no blanks allowed after '='");
	line_bad("KEY", "no '=' after KEY");
	line_bad("KEY v", "no '=' after KEY");
	line_bad("KEY=v\r", "carriage return");
	line_bad("KEY=v\r\n", "carriage return");
	line_bad("KEY=a\001b", "control character");
	line_bad("# comment\033[2J", "control character");
}
END_TEST

START_TEST(test_line_controls_and_clipping)
{
	char	 line[200], want[80];

	/* TAB is a blank, quoted or not; DEL and a newline inside are not. */
	line_ok("KEY='a\tb'", "KEY", "a\tb");
	line_ok("\tKEY=v\t# c", "KEY", "v");
	line_bad("KEY=a\177", "control character in line");
	line_bad("KEY=a\nb", "control character in line");
	line_bad("KEY='a\nb'", "control character in line");
	/* A bad key is quoted in the cause, clipped to 64 bytes. */
	memset(line, 'k', sizeof(line));
	memcpy(line + 150, "=v", 3);
	memcpy(want, "not '", 5);
	memset(want + 5, 'k', 64);
	memcpy(want + 69, "'", 2);
	line_bad(line, want);
}
END_TEST

START_TEST(test_defaults)
{
	struct conf	*c = conf_new();
	char		 buf[64];

	ck_assert_ptr_null(c->path);
	ck_assert_uint_eq(SOCKS(c).count, 1);
	ck_assert_str_eq(SOCKS(c).addrs[0].text, "127.0.0.1:1080");
	ck_assert_str_eq(listen_addr(&SOCKS(c).addrs[0], buf, sizeof(buf)),
	    "127.0.0.1");
	ck_assert_uint_eq(listen_port(&SOCKS(c).addrs[0]), 1080);
	ck_assert_uint_eq(WORKER(c).count, 1);
	ck_assert_uint_eq(listen_port(&WORKER(c).addrs[0]), 8081);
	ck_assert_uint_eq(STATS(c).count, 0);
	ck_assert_int_eq(c->listen_backlog, 1024);
	ck_assert_int_eq(c->no_worker, CONF_NO_WORKER_DIRECT);
	ck_assert_uint_eq(c->worker_idle_close, 60000);
	ck_assert_uint_eq(c->worker_response_timeout, 3000);
	ck_assert_uint_eq(c->eject_failures, 5);
	ck_assert_uint_eq(c->eject_time, 30000);
	ck_assert_uint_eq(c->eject_time_max, 300000);
	ck_assert_uint_eq(c->eject_max_percent, 50);
	ck_assert_int_eq(c->balance, CONF_BALANCE_P2C);
	ck_assert_uint_eq(c->worker_weight, 1);
	ck_assert_uint_eq(c->client_allow.count, 2);
	ck_assert_int_eq(c->client_allow.rules[0].family, AF_INET);
	ck_assert_uint_eq(c->client_allow.rules[0].prefix, 8);
	ck_assert_int_eq(c->client_allow.rules[1].family, AF_INET6);
	ck_assert_uint_eq(c->client_allow.rules[1].prefix, 128);
	ck_assert_int_eq(c->auth, CONF_AUTH_NONE);
	ck_assert_ptr_null(c->password_file);
	ck_assert_uint_eq(c->handshake_timeout, 10000);
	ck_assert_uint_eq(c->max_clients, 0);
	ck_assert_uint_eq(c->max_clients_per_ip, 0);
	ck_assert_uint_eq(c->stats_allow.count, 2);
	ck_assert_uint_eq(c->worker_allow.count, 2);
	ck_assert_int_eq(c->worker_allow.rules[0].family, AF_INET);
	ck_assert_uint_eq(c->worker_allow.rules[0].prefix, 8);
	ck_assert_int_eq(c->worker_allow.rules[1].family, AF_INET6);
	ck_assert_uint_eq(c->worker_allow.rules[1].prefix, 128);
	ck_assert_uint_eq(c->worker_pending_max, 256);
	ck_assert_uint_eq(c->worker_pending_per_ip, 16);
	ck_assert_int_eq(c->open_proxy, 0);
	ck_assert_uint_eq(c->servers_count, 1);
	ck_assert_str_eq(c->servers[0].host, "127.0.0.1");
	ck_assert_str_eq(c->servers[0].port, "8081");
	ck_assert_str_eq(c->servers[0].text, "127.0.0.1:8081");
	ck_assert_ptr_null(c->worker_name);
	ck_assert_uint_eq(c->ping_interval, 30000);
	ck_assert_uint_eq(c->reconnect_interval, 3000);
	ck_assert_uint_eq(c->worker_max_sessions, 0);
	ck_assert_ptr_null(c->worker_secret);
	ck_assert_ptr_null(c->worker_secret_file);
	ck_assert_uint_eq(c->connect_timeout, 10000);
	ck_assert_uint_eq(c->idle_timeout, 0);
	ck_assert_uint_eq(c->dest_allow.count, 0);
	ck_assert_uint_eq(c->dest_deny.count, 0);
	ck_assert_ptr_null(c->pidfile);
	ck_assert_ptr_null(c->user);
	ck_assert_ptr_null(c->group);
	ck_assert_int_eq(c->syslog_facility, LOG_DAEMON);
	ck_assert_int_eq(c->log_connection, 1);
	ck_assert_int_eq(c->log_session, 0);
	ck_assert_int_eq(c->log_event, 0);
	ck_assert_int_eq(c->log_error, 1);
	ck_assert_int_eq(c->log_access, 1);
	conf_free(c);
	conf_free(NULL);
}
END_TEST

START_TEST(test_set_times)
{
	struct conf	*c = conf_new();
	const char	*keys[] = {
		"WORKER_IDLE_CLOSE", "HANDSHAKE_TIMEOUT", "PING_INTERVAL",
		"RECONNECT_INTERVAL", "CONNECT_TIMEOUT",
		"WORKER_RESPONSE_TIMEOUT", "IDLE_TIMEOUT",
	};
	uint64_t	*fields[] = {
		&c->worker_idle_close, &c->handshake_timeout,
		&c->ping_interval, &c->reconnect_interval,
		&c->connect_timeout, &c->worker_response_timeout,
		&c->idle_timeout,
	};
	size_t		 i;
	char		*cause = NULL;

	for (i = 0; i < nelem(keys); i++) {
		set_ok(c, keys[i], "1.5");
		ck_assert_uint_eq(*fields[i], 1500);
		set_ok(c, keys[i], "7");
		ck_assert_uint_eq(*fields[i], 7000);
		set_ok(c, keys[i], ".25");
		ck_assert_uint_eq(*fields[i], 250);
		set_ok(c, keys[i], "0.001");
		ck_assert_uint_eq(*fields[i], 1);
		set_ok(c, keys[i], "2.5000");
		ck_assert_uint_eq(*fields[i], 2500);
		set_ok(c, keys[i], "2592000");
		ck_assert_uint_eq(*fields[i], 2592000000ULL);
		set_bad(c, keys[i], "abc", "(want seconds)");
		set_bad(c, keys[i], "", "(want seconds)");
		set_bad(c, keys[i], "-1", "(want seconds)");
		set_bad(c, keys[i], "+1", "(want seconds)");
		set_bad(c, keys[i], "1e3", "(want seconds)");
		set_bad(c, keys[i], "1.", "(want seconds)");
		set_bad(c, keys[i], ".", "(want seconds)");
		set_bad(c, keys[i], "1,5", "(want seconds)");
		set_bad(c, keys[i], " 1", "(want seconds)");
		set_bad(c, keys[i], "1s", "(want seconds)");
		set_bad(c, keys[i], "0.0005", "at most 3 decimals");
		set_bad(c, keys[i], "2592000.001", "at most 2592000");
		set_bad(c, keys[i], "99999999999999999999999", "at most");
		/* A rejected value leaves the old one. */
		ck_assert_uint_eq(*fields[i], 2592000000ULL);
	}

	ck_assert_int_eq(conf_set(c, "CONNECT_TIMEOUT", "abc", &cause), -1);
	ck_assert_str_eq(cause,
	    "bad value for CONNECT_TIMEOUT: 'abc' (want seconds)");
	free(cause);

	/*
	 * Zero means "none" only for the last two: IDLE_TIMEOUT, and
	 * WORKER_RESPONSE_TIMEOUT (no liveness check).
	 */
	set_ok(c, "IDLE_TIMEOUT", "0");
	ck_assert_uint_eq(c->idle_timeout, 0);
	set_ok(c, "IDLE_TIMEOUT", "0.000");
	set_ok(c, "WORKER_RESPONSE_TIMEOUT", "0");
	ck_assert_uint_eq(c->worker_response_timeout, 0);
	for (i = 0; i < nelem(keys) - 2; i++) {
		set_bad(c, keys[i], "0", "more than 0");
		set_bad(c, keys[i], "0.0", "more than 0");
	}
	conf_free(c);
}
END_TEST

START_TEST(test_set_counts)
{
	struct conf	*c = conf_new();
	const char	*keys[] = {
		"MAX_CLIENTS", "MAX_CLIENTS_PER_IP", "WORKER_MAX_SESSIONS",
	};
	unsigned int	*fields[] = {
		&c->max_clients, &c->max_clients_per_ip,
		&c->worker_max_sessions,
	};
	size_t		 i;

	for (i = 0; i < nelem(keys); i++) {
		set_ok(c, keys[i], "0");
		ck_assert_uint_eq(*fields[i], 0);
		set_ok(c, keys[i], "1000000");
		ck_assert_uint_eq(*fields[i], 1000000);
		set_ok(c, keys[i], "42");
		ck_assert_uint_eq(*fields[i], 42);
		set_bad(c, keys[i], "1000001", "(want an integer 0..1000000)");
		set_bad(c, keys[i], "-1", "want an integer");
		set_bad(c, keys[i], "1.5", "want an integer");
		set_bad(c, keys[i], "", "want an integer");
		set_bad(c, keys[i], "0x10", "want an integer");
		set_bad(c, keys[i], "18446744073709551617",
		    "want an integer");
		ck_assert_uint_eq(*fields[i], 42);
	}

	set_ok(c, "LISTEN_BACKLOG", "1");
	ck_assert_int_eq(c->listen_backlog, 1);
	set_ok(c, "LISTEN_BACKLOG", "65535");
	ck_assert_int_eq(c->listen_backlog, 65535);
	set_bad(c, "LISTEN_BACKLOG", "0", "LISTEN_BACKLOG: '0' "
	    "(want an integer 1..65535)");
	set_bad(c, "LISTEN_BACKLOG", "65536", "1..65535");
	set_bad(c, "LISTEN_BACKLOG", "many", "1..65535");
	conf_free(c);
}
END_TEST

START_TEST(test_set_booleans)
{
	struct conf	*c = conf_new();
	const char	*keys[] = {
		"OPEN_PROXY", "LOG_CONNECTION", "LOG_SESSION", "LOG_EVENT",
		"LOG_ERROR", "LOG_ACCESS",
	};
	int		*fields[] = {
		&c->open_proxy, &c->log_connection, &c->log_session,
		&c->log_event, &c->log_error, &c->log_access,
	};
	const char	*yes[] = { "yes", "true", "on", "1", "YES", "True" };
	const char	*no[] = { "no", "false", "off", "0", "NO", "Off" };
	size_t		 i, j;

	for (i = 0; i < nelem(keys); i++) {
		for (j = 0; j < nelem(yes); j++) {
			set_ok(c, keys[i], no[j]);
			ck_assert_int_eq(*fields[i], 0);
			set_ok(c, keys[i], yes[j]);
			ck_assert_int_eq(*fields[i], 1);
		}
		set_bad(c, keys[i], "maybe", "(want yes or no)");
		set_bad(c, keys[i], "", "(want yes or no)");
		set_bad(c, keys[i], "2", "(want yes or no)");
		set_bad(c, keys[i], "y", "(want yes or no)");
		ck_assert_int_eq(*fields[i], 1);
	}
	conf_free(c);
}
END_TEST

START_TEST(test_set_enums)
{
	struct conf	*c = conf_new();

	set_ok(c, "NO_WORKER", "refuse");
	ck_assert_int_eq(c->no_worker, CONF_NO_WORKER_REFUSE);
	set_ok(c, "NO_WORKER", "direct");
	ck_assert_int_eq(c->no_worker, CONF_NO_WORKER_DIRECT);
	set_ok(c, "NO_WORKER", "REFUSE");
	ck_assert_int_eq(c->no_worker, CONF_NO_WORKER_REFUSE);
	set_bad(c, "NO_WORKER", "proxy", "(want direct or refuse)");
	set_bad(c, "NO_WORKER", "", "(want direct or refuse)");

	set_ok(c, "AUTH", "password");
	ck_assert_int_eq(c->auth, CONF_AUTH_PASSWORD);
	set_ok(c, "AUTH", "none");
	ck_assert_int_eq(c->auth, CONF_AUTH_NONE);
	set_bad(c, "AUTH", "pam", "bad value for AUTH: 'pam' "
	    "(want none or password)");

	set_ok(c, "SYSLOG_FACILITY", "user");
	ck_assert_int_eq(c->syslog_facility, LOG_USER);
	set_ok(c, "SYSLOG_FACILITY", "auth");
	ck_assert_int_eq(c->syslog_facility, LOG_AUTH);
	set_ok(c, "SYSLOG_FACILITY", "authpriv");
	ck_assert_int_eq(c->syslog_facility, LOG_AUTHPRIV);
	set_ok(c, "SYSLOG_FACILITY", "local0");
	ck_assert_int_eq(c->syslog_facility, LOG_LOCAL0);
	set_ok(c, "SYSLOG_FACILITY", "LOCAL7");
	ck_assert_int_eq(c->syslog_facility, LOG_LOCAL7);
	set_ok(c, "SYSLOG_FACILITY", "Daemon");
	ck_assert_int_eq(c->syslog_facility, LOG_DAEMON);
	set_bad(c, "SYSLOG_FACILITY", "local8", "SYSLOG_FACILITY: 'local8'");
	set_bad(c, "SYSLOG_FACILITY", "kern", "local0..local7");
	set_bad(c, "SYSLOG_FACILITY", "", "local0..local7");
	ck_assert_int_eq(c->syslog_facility, LOG_DAEMON);
	conf_free(c);
}
END_TEST

START_TEST(test_set_strings)
{
	struct conf	*c = conf_new();
	const char	*keys[] = {
		"PASSWORD_FILE", "WORKER_SECRET", "WORKER_SECRET_FILE",
		"PIDFILE", "USER", "GROUP",
	};
	char		**fields[] = {
		&c->password_file, &c->worker_secret, &c->worker_secret_file,
		&c->pidfile, &c->user, &c->group,
	};
	char		 longname[CONF_WORKER_NAME_MAX + 2];
	size_t		 i;

	for (i = 0; i < nelem(keys); i++) {
		set_ok(c, keys[i], "first value");
		ck_assert_str_eq(*fields[i], "first value");
		set_ok(c, keys[i], "/second/value");
		ck_assert_str_eq(*fields[i], "/second/value");
		set_bad(c, keys[i], "a\nb", "control character");
		ck_assert_str_eq(*fields[i], "/second/value");
		set_ok(c, keys[i], "");
		ck_assert_ptr_null(*fields[i]);
		set_ok(c, keys[i], "again");
	}

	set_ok(c, "WORKER_NAME", "box-7.example.net");
	ck_assert_str_eq(c->worker_name, "box-7.example.net");
	set_ok(c, "WORKER_NAME", "eu_1:a@b");
	ck_assert_str_eq(c->worker_name, "eu_1:a@b");
	set_bad(c, "WORKER_NAME", "a b", "bad value for WORKER_NAME: 'a b'");
	set_bad(c, "WORKER_NAME", "a=b", "WORKER_NAME");
	set_bad(c, "WORKER_NAME", "a%b", "WORKER_NAME");
	ck_assert_str_eq(c->worker_name, "eu_1:a@b");
	/* What a server would refuse in RGST is refused here already. */
	set_bad(c, "WORKER_NAME", "direct", "not direct, other or none");
	set_bad(c, "WORKER_NAME", "Other", "WORKER_NAME");
	set_bad(c, "WORKER_NAME", "NONE", "WORKER_NAME");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	set_bad(c, "WORKER_NAME", longname, "want 1..127");
	longname[CONF_WORKER_NAME_MAX] = '\0';
	set_ok(c, "WORKER_NAME", longname);
	ck_assert_uint_eq(strlen(c->worker_name), CONF_WORKER_NAME_MAX);
	ck_assert_int_eq(conf_valid_worker_name("directly"), 1);
	set_ok(c, "WORKER_NAME", "");
	ck_assert_ptr_null(c->worker_name);
	conf_free(c);
}
END_TEST

START_TEST(test_set_listen)
{
	struct conf	*c = conf_new();
	char		 buf[64];
	char		*cause = NULL;

	set_ok(c, "SOCKS_LISTEN", "127.0.0.1:1080 [::1]:1081\t*:1082 "
	    "[::]:0");
	ck_assert_uint_eq(SOCKS(c).count, 4);
	ck_assert_int_eq(SOCKS(c).addrs[0].ss.ss_family, AF_INET);
	ck_assert_uint_eq(SOCKS(c).addrs[0].sslen,
	    sizeof(struct sockaddr_in));
	ck_assert_int_eq(SOCKS(c).addrs[1].ss.ss_family, AF_INET6);
	ck_assert_uint_eq(SOCKS(c).addrs[1].sslen,
	    sizeof(struct sockaddr_in6));
	ck_assert_str_eq(listen_addr(&SOCKS(c).addrs[1], buf, sizeof(buf)),
	    "::1");
	ck_assert_uint_eq(listen_port(&SOCKS(c).addrs[1]), 1081);
	ck_assert_str_eq(SOCKS(c).addrs[1].text, "[::1]:1081");
	ck_assert_int_eq(SOCKS(c).addrs[2].ss.ss_family, AF_INET);
	ck_assert_str_eq(listen_addr(&SOCKS(c).addrs[2], buf, sizeof(buf)),
	    "0.0.0.0");
	ck_assert_uint_eq(listen_port(&SOCKS(c).addrs[2]), 1082);
	ck_assert_str_eq(SOCKS(c).addrs[2].text, "*:1082");
	ck_assert_uint_eq(listen_port(&SOCKS(c).addrs[3]), 0);

	set_ok(c, "WORKER_LISTEN", "192.0.2.1:65535");
	ck_assert_uint_eq(WORKER(c).count, 1);
	ck_assert_uint_eq(listen_port(&WORKER(c).addrs[0]), 65535);
	set_ok(c, "STATS_LISTEN", "127.0.0.1:9100");
	ck_assert_uint_eq(STATS(c).count, 1);
	set_ok(c, "STATS_LISTEN", "");
	ck_assert_uint_eq(STATS(c).count, 0);
	ck_assert_ptr_null(STATS(c).addrs);

	set_bad(c, "SOCKS_LISTEN", "127.0.0.1", "bad value for SOCKS_LISTEN: "
	    "'127.0.0.1'");
	set_bad(c, "SOCKS_LISTEN", "localhost:1080", "numeric");
	set_bad(c, "SOCKS_LISTEN", "127.0.0.1:65536", "0..65535");
	set_bad(c, "SOCKS_LISTEN", "127.0.0.1:", "0..65535");
	set_bad(c, "SOCKS_LISTEN", "127.0.0.1:-1", "0..65535");
	set_bad(c, "SOCKS_LISTEN", "127.0.0.1:http", "0..65535");
	set_bad(c, "SOCKS_LISTEN", "127.1:1080", "numeric");
	set_bad(c, "SOCKS_LISTEN", "::1:1080", "brackets");
	set_bad(c, "SOCKS_LISTEN", "[::1]1080", "[IPv6]:PORT");
	set_bad(c, "SOCKS_LISTEN", "[::1:1080", "[IPv6]:PORT");
	set_bad(c, "SOCKS_LISTEN", "[127.0.0.1]:1080", "bad IPv6");
	set_bad(c, "SOCKS_LISTEN", "[fe80::1%lo]:80", "bad IPv6");
	set_bad(c, "SOCKS_LISTEN", "[*]:80", "bad IPv6");
	set_bad(c, "WORKER_LISTEN", "127.0.0.1:8081 nope", "WORKER_LISTEN: "
	    "'nope'");
	/* The failures above left the earlier value alone. */
	ck_assert_uint_eq(SOCKS(c).count, 4);
	ck_assert_uint_eq(WORKER(c).count, 1);

	ck_assert_int_eq(conf_set(c, "SOCKS_LISTEN",
	    "127.0.0.1:1080 [::1]:1080 127.0.0.1:1080", &cause), -1);
	ck_assert_str_eq(cause,
	    "duplicate address in SOCKS_LISTEN: '127.0.0.1:1080'");
	free(cause);
	set_bad(c, "STATS_LISTEN", "*:1080 0.0.0.0:1080", "duplicate");
	set_bad(c, "WORKER_LISTEN", "[::]:1080 [0::0]:1080", "duplicate");
	set_ok(c, "WORKER_LISTEN", "[::]:1080 0.0.0.0:1080 [::]:1081");
	conf_free(c);
}
END_TEST

START_TEST(test_set_servers)
{
	struct conf	*c = conf_new();

	set_ok(c, "SERVERS", "proxy.example.net:8081 [2001:db8::1]:8081 "
	    "192.0.2.1:1 my_host:65535");
	ck_assert_uint_eq(c->servers_count, 4);
	ck_assert_str_eq(c->servers[0].host, "proxy.example.net");
	ck_assert_str_eq(c->servers[0].port, "8081");
	ck_assert_str_eq(c->servers[0].text, "proxy.example.net:8081");
	ck_assert_str_eq(c->servers[1].host, "2001:db8::1");
	ck_assert_str_eq(c->servers[1].port, "8081");
	ck_assert_str_eq(c->servers[1].text, "[2001:db8::1]:8081");
	ck_assert_str_eq(c->servers[2].port, "1");

	set_bad(c, "SERVERS", "host", "bad value for SERVERS: 'host'");
	set_bad(c, "SERVERS", "host:0", "1..65535");
	set_bad(c, "SERVERS", "host:65536", "1..65535");
	set_bad(c, "SERVERS", "host:", "1..65535");
	set_bad(c, "SERVERS", ":80", "bad host");
	set_bad(c, "SERVERS", "ho$t:80", "bad host");
	set_bad(c, "SERVERS", "-host:80", "bad host");
	set_bad(c, "SERVERS", "::1:80", "brackets");
	set_bad(c, "SERVERS", "[::1]:0", "1..65535");
	set_bad(c, "SERVERS", "[zz]:80", "bad IPv6");
	set_bad(c, "SERVERS", "a:1 b:2 A:1", "duplicate server in SERVERS: "
	    "'A:1'");
	ck_assert_uint_eq(c->servers_count, 4);
	set_ok(c, "SERVERS", "");
	ck_assert_uint_eq(c->servers_count, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_set_cidr_lists)
{
	struct conf	*c = conf_new();

	set_ok(c, "CLIENT_ALLOW", "10.0.0.0/8 ::1 fd00::/8");
	ck_assert_uint_eq(c->client_allow.count, 3);
	set_ok(c, "STATS_ALLOW", "192.0.2.0/24");
	ck_assert_uint_eq(c->stats_allow.count, 1);
	set_ok(c, "WORKER_ALLOW", "198.51.100.0/24 2001:db8::/32");
	ck_assert_uint_eq(c->worker_allow.count, 2);
	set_bad(c, "WORKER_ALLOW", "198.51.100.7:8081", "WORKER_ALLOW: bad "
	    "address rule '198.51.100.7:8081'");
	ck_assert_uint_eq(c->worker_allow.count, 2);
	set_ok(c, "WORKER_PENDING_MAX", "0");
	ck_assert_uint_eq(c->worker_pending_max, 0);
	set_ok(c, "WORKER_PENDING_PER_IP", "4");
	ck_assert_uint_eq(c->worker_pending_per_ip, 4);
	set_bad(c, "WORKER_PENDING_PER_IP", "-1", "WORKER_PENDING_PER_IP");
	set_bad(c, "CLIENT_ALLOW", "10.0.0.0/8:22", "CLIENT_ALLOW: bad "
	    "address rule '10.0.0.0/8:22'");
	set_bad(c, "STATS_ALLOW", "[::1]:80", "STATS_ALLOW:");
	set_bad(c, "CLIENT_ALLOW", "10.0.0.0/33", "'10.0.0.0/33'");
	ck_assert_uint_eq(c->client_allow.count, 3);
	set_ok(c, "CLIENT_ALLOW", "");
	ck_assert_uint_eq(c->client_allow.count, 0);

	set_ok(c, "DEST_DENY", "127.0.0.0/8 ::1 10.0.0.0/8:22 "
	    "[2001:db8::/32]:80-443");
	ck_assert_uint_eq(c->dest_deny.count, 4);
	ck_assert_uint_eq(c->dest_deny.rules[3].port_hi, 443);
	set_ok(c, "DEST_ALLOW", "0.0.0.0/0:443");
	ck_assert_uint_eq(c->dest_allow.count, 1);
	set_bad(c, "DEST_ALLOW", "0.0.0.0/0:443-80", "DEST_ALLOW:");
	set_bad(c, "DEST_DENY", "1.2.3.4:70000", "DEST_DENY:");
	ck_assert_uint_eq(c->dest_deny.count, 4);
	conf_free(c);
}
END_TEST

START_TEST(test_set_unknown_key)
{
	struct conf	*c = conf_new();
	char		*cause = NULL;

	ck_assert_int_eq(conf_set(c, "SOCKS_PORT", "1080", &cause), -1);
	ck_assert_str_eq(cause, "unknown key SOCKS_PORT");
	free(cause);
	set_bad(c, "socks_listen", "127.0.0.1:1", "unknown key socks_listen");
	set_bad(c, "", "x", "unknown key");
	conf_free(c);
}
END_TEST

START_TEST(test_set_replaces_earlier_value)
{
	struct conf	*c = conf_new();

	/* Under ASan a forgotten free of the old value shows as a leak. */
	set_ok(c, "SOCKS_LISTEN", "127.0.0.1:1 127.0.0.1:2");
	set_ok(c, "SOCKS_LISTEN", "127.0.0.1:3");
	ck_assert_uint_eq(SOCKS(c).count, 1);
	ck_assert_str_eq(SOCKS(c).addrs[0].text, "127.0.0.1:3");
	set_ok(c, "SERVERS", "a:1 b:2");
	set_ok(c, "SERVERS", "c:3");
	ck_assert_uint_eq(c->servers_count, 1);
	ck_assert_str_eq(c->servers[0].host, "c");
	set_ok(c, "DEST_DENY", "10.0.0.0/8 11.0.0.0/8");
	set_ok(c, "DEST_DENY", "12.0.0.0/8");
	ck_assert_uint_eq(c->dest_deny.count, 1);
	ck_assert_uint_eq(c->dest_deny.rules[0].addr[0], 12);
	set_ok(c, "USER", "a");
	set_ok(c, "USER", "b");
	ck_assert_str_eq(c->user, "b");
	set_ok(c, "CONNECT_TIMEOUT", "3");
	set_ok(c, "CONNECT_TIMEOUT", "4");
	ck_assert_uint_eq(c->connect_timeout, 4000);
	conf_free(c);
}
END_TEST

START_TEST(test_load_file)
{
	const char	*path;
	struct conf	*c;
	char		*cause = NULL;

	path = temp_text(
	    "# esocksd test config\n"
	    "\n"
	    "SOCKS_LISTEN='127.0.0.1:1080 [::1]:1080'\n"
	    "export CONNECT_TIMEOUT=5\n"
	    "  NO_WORKER=refuse   # no direct fallback\n"
	    "DEST_DENY=\"127.0.0.0/8 ::1\"\n"
	    "CONNECT_TIMEOUT=7.5\n"
	    "WORKER_NAME=box7\n"
	    "USER=");
	c = conf_load(path, &cause);
	if (c == NULL)
		ck_abort_msg("%s", cause);
	ck_assert_str_eq(c->path, path);
	ck_assert_uint_eq(SOCKS(c).count, 2);
	/* The later line wins. */
	ck_assert_uint_eq(c->connect_timeout, 7500);
	ck_assert_int_eq(c->no_worker, CONF_NO_WORKER_REFUSE);
	ck_assert_uint_eq(c->dest_deny.count, 2);
	ck_assert_str_eq(c->worker_name, "box7");
	ck_assert_ptr_null(c->user);
	/* Keys not in the file keep their defaults. */
	ck_assert_uint_eq(WORKER(c).count, 1);
	ck_assert_uint_eq(c->handshake_timeout, 10000);
	ck_assert_int_eq(c->log_access, 1);

	/* -o overrides are conf_set calls after the load. */
	set_ok(c, "CONNECT_TIMEOUT", "9");
	ck_assert_uint_eq(c->connect_timeout, 9000);
	conf_free(c);

	c = conf_load(temp_text(""), &cause);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->connect_timeout, 10000);
	conf_free(c);
}
END_TEST

/* Loading the content must fail with exactly "PATH:" + want. */
static void
load_bad(const char *content, size_t len, const char *want)
{
	const char	*path = temp_file(content, len, 0600);
	char		*cause = NULL, *expect;

	if (conf_load(path, &cause) != NULL)
		ck_abort_msg("loaded, wanted '%s'", want);
	ck_assert_int_gt(asprintf(&expect, "%s:%s", path, want), 0);
	ck_assert_str_eq(cause, expect);
	free(expect);
	free(cause);
}

START_TEST(test_load_errors_name_file_and_line)
{
	const char	*s;

	s = "# ok\nFOO=bar\n";
	load_bad(s, strlen(s), "2: unknown key FOO");
	s = "CONNECT_TIMEOUT=1\n\n#\nCONNECT_TIMEOUT=abc\n";
	load_bad(s, strlen(s), "4: bad value for CONNECT_TIMEOUT: 'abc' "
	    "(want seconds)");
	s = "USER='nobody\n";
	load_bad(s, strlen(s), "1: unterminated ' quote");
	s = "SOCKS_LISTEN=127.0.0.1:1 127.0.0.1:2\n";
	load_bad(s, strlen(s), "1: blank in an unquoted value "
	    "(quote the value)");
	s = "SOCKS_LISTEN='127.0.0.1:1 127.0.0.1:1'\n";
	load_bad(s, strlen(s), "1: duplicate address in SOCKS_LISTEN: "
	    "'127.0.0.1:1'");
	s = "USER=a\r\nGROUP=b\r\n";
	load_bad(s, strlen(s), "1: carriage return in line "
	    "(DOS line ending?)");
	s = "USER=a\nGROUP=b\0c\n";
	load_bad(s, 15, "2: NUL byte in line");
	s = "PIDFILE=$HOME/x.pid\n";
	load_bad(s, strlen(s), "1: '$' in a value: no expansion, the daemon "
	    "never runs a shell");
}
END_TEST

START_TEST(test_load_long_lines)
{
	char		*text;
	struct conf	*c;
	char		*cause = NULL;

	/* 8192 bytes before the newline is the most a line may hold. */
	text = malloc(8192 + 2 + 8192 + 2);
	ck_assert_ptr_nonnull(text);
	memset(text, 'x', 8192);
	text[0] = '#';
	text[8192] = '\n';
	text[8193] = '\0';
	c = conf_load(temp_text(text), &cause);
	if (c == NULL)
		ck_abort_msg("%s", cause);
	conf_free(c);

	memset(text, 'x', 8193);
	text[0] = '#';
	text[8193] = '\n';
	text[8194] = '\0';
	load_bad(text, strlen(text), "1: line longer than 8192 bytes");

	/* ...also as the last line without a newline. */
	memcpy(text, "USER=a\n", 7);
	memset(text + 7, 'x', 8193);
	text[7] = '#';
	text[7 + 8193] = '\0';
	load_bad(text, strlen(text), "2: line longer than 8192 bytes");
	free(text);
}
END_TEST

START_TEST(test_load_missing_file)
{
	char		*cause = NULL;
	const char	*path = "/nonexistent/esocksd/none.conf";

	ck_assert_ptr_null(conf_load(path, &cause));
	ck_assert_str_eq(cause, "/nonexistent/esocksd/none.conf: "
	    "No such file or directory");
	free(cause);

	/* A directory opens but does not read. */
	ck_assert_ptr_null(conf_load("/", &cause));
	ck_assert_str_eq(cause, "/: Is a directory");
	free(cause);
}
END_TEST

START_TEST(test_finish_pidfile_and_name)
{
	struct conf	*c;
	char		 host[256];

	c = conf_new();
	finish_ok(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(c->pidfile, RUNSTATEDIR "/esocksd-server.pid");
	memset(host, 0, sizeof(host));
	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	ck_assert_str_eq(c->worker_name, host);
	conf_free(c);

	c = conf_new();
	finish_ok(c, CONF_ROLE_WORKER);
	ck_assert_str_eq(c->pidfile, RUNSTATEDIR "/esocksd-worker.pid");
	conf_free(c);

	c = conf_new();
	set_ok(c, "PIDFILE", "/tmp/x.pid");
	set_ok(c, "WORKER_NAME", "w1");
	finish_ok(c, CONF_ROLE_WORKER);
	ck_assert_str_eq(c->pidfile, "/tmp/x.pid");
	ck_assert_str_eq(c->worker_name, "w1");
	conf_free(c);

	ck_assert_str_eq(conf_role_name(CONF_ROLE_SERVER), "server");
	ck_assert_str_eq(conf_role_name(CONF_ROLE_WORKER), "worker");
}
END_TEST

START_TEST(test_finish_auth_password_needs_file)
{
	struct conf	*c = conf_new();

	set_ok(c, "AUTH", "password");
	finish_bad(c, CONF_ROLE_SERVER, "AUTH=password needs PASSWORD_FILE");
	set_ok(c, "PASSWORD_FILE", "/etc/esocksd/passwd");
	finish_ok(c, CONF_ROLE_SERVER);
	conf_free(c);

	/* A worker does not authenticate clients. */
	c = conf_new();
	set_ok(c, "AUTH", "password");
	finish_ok(c, CONF_ROLE_WORKER);
	conf_free(c);
}
END_TEST

START_TEST(test_finish_listen_clashes)
{
	struct conf	*c;

	c = conf_new();
	set_ok(c, "SOCKS_LISTEN", "127.0.0.1:1080");
	set_ok(c, "WORKER_LISTEN", "127.0.0.1:1080");
	finish_bad(c, CONF_ROLE_SERVER, "SOCKS_LISTEN 127.0.0.1:1080 and "
	    "WORKER_LISTEN 127.0.0.1:1080 cannot both be bound");
	/* The worker role has no listeners. */
	finish_ok(c, CONF_ROLE_WORKER);
	conf_free(c);

	c = conf_new();
	set_ok(c, "STATS_LISTEN", "[::1]:9100");
	set_ok(c, "WORKER_LISTEN", "127.0.0.1:8081 [::1]:9100");
	finish_bad(c, CONF_ROLE_SERVER, "STATS_LISTEN [::1]:9100");
	conf_free(c);

	c = conf_new();
	set_ok(c, "SOCKS_LISTEN", "127.0.0.1:1080 [::1]:1080");
	set_ok(c, "STATS_LISTEN", "[::1]:1080");
	finish_bad(c, CONF_ROLE_SERVER, "SOCKS_LISTEN [::1]:1080 and "
	    "STATS_LISTEN [::1]:1080");
	conf_free(c);

	/* The wildcard takes the port on every address of its family. */
	c = conf_new();
	set_ok(c, "SOCKS_LISTEN", "*:1080");
	set_ok(c, "WORKER_LISTEN", "127.0.0.1:1080");
	finish_bad(c, CONF_ROLE_SERVER, "cannot both be bound");
	conf_free(c);

	c = conf_new();
	set_ok(c, "SOCKS_LISTEN", "[::]:1080 127.0.0.1:1080");
	set_ok(c, "WORKER_LISTEN", "[::1]:1080");
	finish_bad(c, CONF_ROLE_SERVER, "cannot both be bound");
	conf_free(c);

	c = conf_new();
	set_ok(c, "SOCKS_LISTEN", "*:1080 127.0.0.1:1080");
	finish_bad(c, CONF_ROLE_SERVER, "SOCKS_LISTEN *:1080 and "
	    "SOCKS_LISTEN 127.0.0.1:1080");
	conf_free(c);

	/* Port 0 is a fresh port each time; other ports do not clash. */
	c = conf_new();
	set_ok(c, "SOCKS_LISTEN", "127.0.0.1:0 [::1]:1080");
	set_ok(c, "WORKER_LISTEN", "127.0.0.1:0 127.0.0.1:1080");
	set_ok(c, "STATS_LISTEN", "127.0.0.1:0 *:1081");
	finish_ok(c, CONF_ROLE_SERVER);
	conf_free(c);
}
END_TEST

START_TEST(test_finish_processes_ports)
{
	struct conf	*c;

	/* Process i has the worker and stats ports + i, SOCKS shared. */
	c = conf_new();
	set_ok(c, "PROCESSES", "3");
	set_ok(c, "SOCKS_LISTEN", "127.0.0.1:1080");
	set_ok(c, "WORKER_LISTEN", "127.0.0.1:8081 [::1]:0");
	set_ok(c, "STATS_LISTEN", "[::1]:9100");
	finish_ok(c, CONF_ROLE_SERVER);
	ck_assert_int_eq(conf_listen_shift(c, 2), 0);
	ck_assert_str_eq(c->listen[CONF_LISTEN_SOCKS].addrs[0].text,
	    "127.0.0.1:1080");
	ck_assert_str_eq(c->listen[CONF_LISTEN_WORKER].addrs[0].text,
	    "127.0.0.1:8083");
	ck_assert_str_eq(c->listen[CONF_LISTEN_WORKER].addrs[1].text,
	    "[::1]:0");
	ck_assert_str_eq(c->listen[CONF_LISTEN_STATS].addrs[0].text,
	    "[::1]:9102");
	conf_free(c);

	/* A moved port that lands on another listener clashes. */
	c = conf_new();
	set_ok(c, "PROCESSES", "3");
	set_ok(c, "SOCKS_LISTEN", "127.0.0.1:8083");
	set_ok(c, "WORKER_LISTEN", "127.0.0.1:8081");
	finish_bad(c, CONF_ROLE_SERVER, "SOCKS_LISTEN 127.0.0.1:8083 and "
	    "WORKER_LISTEN 127.0.0.1:8083 cannot both be bound");
	set_ok(c, "PROCESSES", "2");
	finish_ok(c, CONF_ROLE_SERVER);
	set_ok(c, "STATS_LISTEN", "127.0.0.1:8082");
	finish_bad(c, CONF_ROLE_SERVER, "cannot both be bound");
	conf_free(c);

	/* Nor may one pass 65535. */
	c = conf_new();
	set_ok(c, "PROCESSES", "2");
	set_ok(c, "STATS_LISTEN", "127.0.0.1:65535");
	finish_bad(c, CONF_ROLE_SERVER, "PROCESSES=2 moves STATS_LISTEN "
	    "127.0.0.1:65535 past port 65535");
	set_ok(c, "PROCESSES", "1");
	finish_ok(c, CONF_ROLE_SERVER);
	conf_free(c);

	c = conf_new();
	set_bad(c, "PROCESSES", "0", "PROCESSES");
	set_bad(c, "PROCESSES", "65", "PROCESSES");
	conf_free(c);
}
END_TEST

START_TEST(test_finish_open_proxy)
{
	struct conf	*c;
	const char	*msg = "CLIENT_ALLOW admits addresses beyond private "
	    "networks with AUTH=none; set OPEN_PROXY=yes if you mean it";
	char		*cause = NULL;

	c = conf_new();
	set_ok(c, "CLIENT_ALLOW", "10.0.0.0/8 0.0.0.0/0");
	ck_assert_int_eq(conf_finish(c, CONF_ROLE_SERVER, &cause), -1);
	ck_assert_str_eq(cause, msg);
	free(cause);
	/* The worker takes no clients. */
	finish_ok(c, CONF_ROLE_WORKER);
	set_ok(c, "OPEN_PROXY", "yes");
	finish_ok(c, CONF_ROLE_SERVER);
	conf_free(c);

	c = conf_new();
	set_ok(c, "CLIENT_ALLOW", "2001:db8::/32");
	finish_bad(c, CONF_ROLE_SERVER, msg);
	set_ok(c, "AUTH", "password");
	set_ok(c, "PASSWORD_FILE", "/x");
	finish_ok(c, CONF_ROLE_SERVER);
	conf_free(c);

	c = conf_new();
	set_ok(c, "CLIENT_ALLOW", "127.0.0.0/8 ::1 10.0.0.0/8 "
	    "172.16.0.0/12 192.168.0.0/16 169.254.0.0/16 100.64.0.0/10 "
	    "fc00::/7 fe80::/10");
	finish_ok(c, CONF_ROLE_SERVER);
	conf_free(c);

	c = conf_new();
	set_ok(c, "CLIENT_ALLOW", "172.16.0.0/11");
	finish_bad(c, CONF_ROLE_SERVER, msg);
	conf_free(c);
}
END_TEST

START_TEST(test_finish_needs_listeners_and_servers)
{
	struct conf	*c = conf_new();

	set_ok(c, "SOCKS_LISTEN", "");
	finish_bad(c, CONF_ROLE_SERVER, "SOCKS_LISTEN is empty");
	set_ok(c, "SERVERS", "");
	finish_bad(c, CONF_ROLE_WORKER, "SERVERS is empty");
	set_ok(c, "SOCKS_LISTEN", "127.0.0.1:0");
	set_ok(c, "WORKER_LISTEN", "");
	finish_ok(c, CONF_ROLE_SERVER);
	conf_free(c);
}
END_TEST

START_TEST(test_finish_secret_file)
{
	struct conf	*c;
	struct group	*gr;
	const char	*path;
	char		*big;

	c = conf_new();
	path = temp_file("s3cret value\nsecond line\n", 25, 0600);
	set_ok(c, "WORKER_SECRET_FILE", path);
	verify_ok(c, CONF_ROLE_WORKER);
	ck_assert_str_eq(c->worker_secret, "s3cret value");
	ck_assert_int_eq(c->secret_file_insecure, 0);
	/* A second finish (same conf) reads the file again, no conflict. */
	finish_ok(c, CONF_ROLE_WORKER);
	ck_assert_str_eq(c->worker_secret, "s3cret value");
	/* Both keys at once is an error. */
	set_ok(c, "WORKER_SECRET", "inline");
	finish_bad(c, CONF_ROLE_SERVER, "WORKER_SECRET and WORKER_SECRET_FILE "
	    "are both set");
	conf_free(c);

	c = conf_new();
	set_ok(c, "WORKER_SECRET_FILE", temp_file("abc", 3, 0640));
	verify_ok(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(c->worker_secret, "abc");
	ck_assert_int_eq(c->secret_file_insecure, 1);
	/* Readable by the group the daemon runs as, and no one else: fine. */
	ck_assert_ptr_nonnull(gr = getgrgid(getgid()));
	set_ok(c, "GROUP", gr->gr_name);
	verify_ok(c, CONF_ROLE_SERVER);
	ck_assert_int_eq(c->secret_file_insecure, 0);
	/* A group the daemon does not run as is someone else. */
	setgrent();
	while ((gr = getgrent()) != NULL && gr->gr_gid == getgid())
		;
	if (gr != NULL) {
		set_ok(c, "GROUP", gr->gr_name);
		endgrent();
		verify_ok(c, CONF_ROLE_SERVER);
		ck_assert_int_eq(c->secret_file_insecure, 1);
	} else
		endgrent();
	conf_free(c);

	c = conf_new();
	set_ok(c, "WORKER_SECRET_FILE", temp_file("abc\r\n", 5, 0604));
	ck_assert_ptr_nonnull(gr = getgrgid(getgid()));
	set_ok(c, "GROUP", gr->gr_name);
	verify_ok(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(c->worker_secret, "abc");
	/* Others can read it, whatever the group. */
	ck_assert_int_eq(c->secret_file_insecure, 1);
	conf_free(c);

	c = conf_new();
	set_ok(c, "WORKER_SECRET_FILE", temp_file("", 0, 0600));
	finish_bad(c, CONF_ROLE_WORKER, "empty secret");
	set_ok(c, "WORKER_SECRET_FILE", temp_file("\nsecret\n", 8, 0600));
	finish_bad(c, CONF_ROLE_WORKER, "empty secret");
	set_ok(c, "WORKER_SECRET_FILE", temp_file("a\0b\n", 4, 0600));
	finish_bad(c, CONF_ROLE_WORKER, "NUL byte");
	set_ok(c, "WORKER_SECRET_FILE", "/nonexistent/secret");
	finish_bad(c, CONF_ROLE_WORKER, "WORKER_SECRET_FILE: "
	    "/nonexistent/secret: No such file or directory");
	big = malloc(5000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'k', 5000);
	set_ok(c, "WORKER_SECRET_FILE", temp_file(big, 5000, 0600));
	finish_bad(c, CONF_ROLE_WORKER, "first line longer than 4096 bytes");
	big[4096] = '\n';
	set_ok(c, "WORKER_SECRET_FILE", temp_file(big, 5000, 0600));
	finish_ok(c, CONF_ROLE_WORKER);
	ck_assert_uint_eq(strlen(c->worker_secret), 4096);
	free(big);
	conf_free(c);

	/* An inline secret alone is kept as it is. */
	c = conf_new();
	set_ok(c, "WORKER_SECRET", "inline secret");
	verify_ok(c, CONF_ROLE_WORKER);
	ck_assert_str_eq(c->worker_secret, "inline secret");
	ck_assert_int_eq(c->secret_file_insecure, 0);
	conf_free(c);
}
END_TEST

/* conf_finish on file must fail with exactly want, "%s" being the path. */
static void
finish_file_bad(const char *file, const char *want)
{
	struct conf	*c;
	const char	*path = temp_text(file);
	char		*cause = NULL, *full;

	c = conf_load(path, &cause);
	if (c == NULL)
		ck_abort_msg("conf_load: %s", cause);
	ck_assert_int_eq(conf_finish(c, CONF_ROLE_SERVER, &cause), -1);
	ck_assert_int_gt(asprintf(&full, want, path, path), 0);
	ck_assert_str_eq(cause, full);
	free(full);
	free(cause);
	conf_free(c);
}

START_TEST(test_finish_errors_name_file_and_line)
{
	struct conf	*c;

	finish_file_bad("# x\nAUTH=password\n",
	    "%s:2: AUTH=password needs PASSWORD_FILE");
	finish_file_bad("SOCKS_LISTEN=127.0.0.1:1080\n\n"
	    "WORKER_LISTEN=127.0.0.1:1080\n",
	    "%s:1: SOCKS_LISTEN 127.0.0.1:1080 and %s:3: WORKER_LISTEN "
	    "127.0.0.1:1080 cannot both be bound");
	/* The default comes second; a later line for a key counts. */
	finish_file_bad("WORKER_LISTEN=127.0.0.1:8081\n"
	    "WORKER_LISTEN=127.0.0.1:1080\n",
	    "%s:2: WORKER_LISTEN 127.0.0.1:1080 and SOCKS_LISTEN "
	    "127.0.0.1:1080 cannot both be bound");
	finish_file_bad("SOCKS_LISTEN='*:1080 127.0.0.1:1080'\n",
	    "%s:1: SOCKS_LISTEN *:1080 and SOCKS_LISTEN 127.0.0.1:1080 "
	    "cannot both be bound");
	finish_file_bad("CLIENT_ALLOW=0.0.0.0/0\n",
	    "%s:1: CLIENT_ALLOW admits addresses beyond private networks "
	    "with AUTH=none; set OPEN_PROXY=yes if you mean it");
	finish_file_bad("AUTH=none\nWORKER_SECRET_FILE=/nonexistent/s\n",
	    "%s:2: WORKER_SECRET_FILE: /nonexistent/s: No such file or "
	    "directory");
	finish_file_bad("WORKER_SECRET=x\nWORKER_SECRET_FILE=/x\n",
	    "%s:2: WORKER_SECRET and WORKER_SECRET_FILE are both set; "
	    "use one");
	finish_file_bad("SOCKS_LISTEN=\n", "%s:1: SOCKS_LISTEN is empty: a "
	    "server needs an address for clients");

	/* main names an override "-o KEY"; a later plain set forgets it. */
	c = conf_new();
	set_ok(c, "AUTH", "password");
	conf_set_where(c, "AUTH", "-o AUTH");
	ck_assert_str_eq(conf_where(c, "AUTH"), "-o AUTH");
	ck_assert_ptr_null(conf_where(c, "PASSWORD_FILE"));
	finish_bad(c, CONF_ROLE_SERVER, "-o AUTH: AUTH=password needs");
	set_ok(c, "AUTH", "password");
	ck_assert_ptr_null(conf_where(c, "AUTH"));
	conf_free(c);
}
END_TEST

START_TEST(test_absolute_paths_against_start_dir)
{
	struct conf	*c;
	char		*cause = NULL;

	c = conf_new();
	set_ok(c, "PIDFILE", "run/x.pid");
	set_ok(c, "PASSWORD_FILE", "pw");
	set_ok(c, "WORKER_SECRET_FILE", "./s/secret");
	ck_assert_int_eq(conf_absolute_paths(c, "/srv/proxy", &cause), 0);
	ck_assert_str_eq(c->pidfile, "/srv/proxy/run/x.pid");
	ck_assert_str_eq(c->password_file, "/srv/proxy/pw");
	ck_assert_str_eq(c->worker_secret_file, "/srv/proxy/./s/secret");
	/* Absolute paths stay; so does the start dir "/". */
	ck_assert_int_eq(conf_absolute_paths(c, "/elsewhere", &cause), 0);
	ck_assert_str_eq(c->pidfile, "/srv/proxy/run/x.pid");
	set_ok(c, "PASSWORD_FILE", "pw");
	ck_assert_int_eq(conf_absolute_paths(c, "/", &cause), 0);
	ck_assert_str_eq(c->password_file, "/pw");
	conf_free(c);

	/* Unset paths stay unset. */
	c = conf_new();
	ck_assert_int_eq(conf_absolute_paths(c, "/srv", &cause), 0);
	ck_assert_ptr_null(c->pidfile);
	ck_assert_ptr_null(c->password_file);
	ck_assert_ptr_null(c->worker_secret_file);

	/* No known start dir: a relative path is an error at its line. */
	set_ok(c, "WORKER_SECRET_FILE", "secret");
	conf_set_where(c, "WORKER_SECRET_FILE", "-o WORKER_SECRET_FILE");
	ck_assert_int_eq(conf_absolute_paths(c, NULL, &cause), -1);
	ck_assert_str_eq(cause, "-o WORKER_SECRET_FILE: WORKER_SECRET_FILE: "
	    "relative path secret and the working directory is unknown");
	free(cause);
	conf_free(c);
}
END_TEST

/* conf_verify on a loaded file must fail with exactly want ("%s": path). */
static void
verify_file_bad(const char *file, enum conf_role role, const char *want)
{
	struct conf	*c;
	const char	*path = temp_text(file);
	char		*cause = NULL, *full;

	if ((c = conf_load(path, &cause)) == NULL)
		ck_abort_msg("conf_load: %s", cause);
	finish_ok(c, role);
	ck_assert_int_eq(conf_verify(c, role, &cause), -1);
	ck_assert_int_gt(asprintf(&full, want, path), 0);
	ck_assert_str_eq(cause, full);
	free(full);
	free(cause);
	conf_free(c);
}

START_TEST(test_verify_password_file_user_and_group)
{
	struct conf	*c;
	struct passwd	*pw;
	struct group	*gr;
	const char	*good, *sha512, *badline;
	char		*file, *cause = NULL;

	good = temp_text("alice:$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/"
	    "GNooZaBBGWEc5\n");
	sha512 = temp_text("alice:$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSM"
	    "HWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1\n");
	badline = temp_text("# users\nbob\n");

	verify_file_bad("AUTH=password\nPASSWORD_FILE=/nonexistent/pw\n",
	    CONF_ROLE_SERVER, "%s:2: PASSWORD_FILE: /nonexistent/pw: No such "
	    "file or directory");
	ck_assert_int_gt(asprintf(&file, "AUTH=password\nPASSWORD_FILE=%s\n",
	    sha512), 0);
	c = conf_load(temp_text(file), &cause);
	free(file);
	ck_assert_ptr_nonnull(c);
	finish_ok(c, CONF_ROLE_SERVER);
	ck_assert_int_eq(conf_verify(c, CONF_ROLE_SERVER, &cause), -1);
	if (strstr(cause, ":2: PASSWORD_FILE: ") == NULL ||
	    strstr(cause, ":1: user alice: ") == NULL)
		ck_abort_msg("a $6$ hash: cause '%s'", cause);
	free(cause);
	/* A worker has no clients to authenticate: the file is not read. */
	ck_assert_int_eq(conf_verify(c, CONF_ROLE_WORKER, &cause), 0);
	conf_free(c);

	ck_assert_int_gt(asprintf(&file, "PASSWORD_FILE=%s\nAUTH=password\n",
	    badline), 0);
	c = conf_load(temp_text(file), &cause);
	free(file);
	ck_assert_ptr_nonnull(c);
	finish_ok(c, CONF_ROLE_SERVER);
	ck_assert_int_eq(conf_verify(c, CONF_ROLE_SERVER, &cause), -1);
	if (strstr(cause, ":1: PASSWORD_FILE: ") == NULL ||
	    strstr(cause, ":2: no ':' between user and hash") == NULL)
		ck_abort_msg("a bad line: cause '%s'", cause);
	free(cause);
	/* AUTH=none never reads it. */
	set_ok(c, "AUTH", "none");
	ck_assert_int_eq(conf_verify(c, CONF_ROLE_SERVER, &cause), 0);
	conf_free(c);

	verify_file_bad("\nUSER=no-such-user-esocksd\n", CONF_ROLE_WORKER,
	    "%s:2: USER no-such-user-esocksd: no such user");
	verify_file_bad("GROUP=no-such-group-esocksd\n", CONF_ROLE_SERVER,
	    "%s:1: GROUP no-such-group-esocksd: no such group");

	/* What exists passes, and the password file's mode is noted. */
	ck_assert_ptr_nonnull(pw = getpwuid(getuid()));
	ck_assert_ptr_nonnull(gr = getgrgid(getgid()));
	c = conf_new();
	set_ok(c, "USER", pw->pw_name);
	set_ok(c, "GROUP", gr->gr_name);
	set_ok(c, "AUTH", "password");
	set_ok(c, "PASSWORD_FILE", good);
	finish_ok(c, CONF_ROLE_SERVER);
	if (conf_verify(c, CONF_ROLE_SERVER, &cause) != 0)
		ck_abort_msg("conf_verify: %s", cause);
	ck_assert_int_eq(c->password_file_insecure, 0);
	/* Its group is the daemon's GROUP: still nobody else. */
	ck_assert_int_eq(chmod(good, 0640), 0);
	ck_assert_int_eq(conf_verify(c, CONF_ROLE_SERVER, &cause), 0);
	ck_assert_int_eq(c->password_file_insecure, 0);
	ck_assert_int_eq(chmod(good, 0604), 0);
	ck_assert_int_eq(conf_verify(c, CONF_ROLE_SERVER, &cause), 0);
	ck_assert_int_eq(c->password_file_insecure, 1);
	/* Without USER or GROUP the daemon shares the file with the group. */
	ck_assert_int_eq(chmod(good, 0640), 0);
	set_ok(c, "USER", "");
	set_ok(c, "GROUP", "");
	finish_ok(c, CONF_ROLE_SERVER);
	ck_assert_int_eq(conf_verify(c, CONF_ROLE_SERVER, &cause), 0);
	ck_assert_int_eq(c->password_file_insecure, 1);
	conf_free(c);
}
END_TEST

/* conf_warnings callback: append the warning and a newline to a string. */
static void
warnings_collect(const char *msg, void *arg)
{
	char	**all = arg, *more;

	ck_assert_int_gt(asprintf(&more, "%s%s\n", *all, msg), 0);
	free(*all);
	*all = more;
}

/* The warnings for conf in role, one a line. */
static char *
warnings_of(const struct conf *conf, enum conf_role role)
{
	char	*all = strdup("");

	ck_assert_ptr_nonnull(all);
	conf_warnings(conf, role, warnings_collect, &all);
	return (all);
}

START_TEST(test_warnings_name_what_to_look_at)
{
	struct conf	*c;
	const char	*line = "a:$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/"
	    "GNooZaBBGWEc5\n";
	const char	*pw, *secret;
	char		*w, *cause = NULL, *want;

	pw = temp_file(line, strlen(line), 0644);
	secret = temp_file("s3cret\n", 7, 0604);

	/* The defaults deserve no warning. */
	c = conf_new();
	finish_ok(c, CONF_ROLE_SERVER);
	w = warnings_of(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(w, "");
	free(w);

	set_ok(c, "WORKER_LISTEN", "127.0.0.1:8081 0.0.0.0:8082 [::]:8083");
	set_ok(c, "AUTH", "password");
	set_ok(c, "PASSWORD_FILE", pw);
	finish_ok(c, CONF_ROLE_SERVER);
	ck_assert_int_eq(conf_verify(c, CONF_ROLE_SERVER, &cause), 0);
	w = warnings_of(c, CONF_ROLE_SERVER);
	ck_assert_int_gt(asprintf(&want, "%s is readable by group or others\n"
	    "WORKER_LISTEN 0.0.0.0:8082 is not loopback and no WORKER_SECRET "
	    "is set: anyone who reaches it can register as a worker and see "
	    "client traffic\n"
	    "WORKER_LISTEN [::]:8083 is not loopback and no WORKER_SECRET "
	    "is set: anyone who reaches it can register as a worker and see "
	    "client traffic\n", pw), 0);
	ck_assert_str_eq(w, want);
	free(want);
	free(w);
	/* A worker neither listens nor reads the password file. */
	w = warnings_of(c, CONF_ROLE_WORKER);
	ck_assert_str_eq(w, "");
	free(w);

	/* A secret (from a file others can read) ends the port warnings. */
	set_ok(c, "WORKER_SECRET_FILE", secret);
	set_ok(c, "AUTH", "none");
	set_ok(c, "OPEN_PROXY", "yes");
	verify_ok(c, CONF_ROLE_SERVER);
	w = warnings_of(c, CONF_ROLE_SERVER);
	ck_assert_int_gt(asprintf(&want, "%s is readable by group or others\n",
	    secret), 0);
	ck_assert_str_eq(w, want);
	free(w);
	w = warnings_of(c, CONF_ROLE_WORKER);
	ck_assert_str_eq(w, want);
	free(want);
	free(w);
	conf_free(c);
}
END_TEST

/* live.conf's "SET THIS" placeholders are warned about, and nothing else. */
START_TEST(test_warnings_placeholders)
{
	struct conf	*c;
	char		*w;

	c = conf_new();
	set_ok(c, "CLIENT_ALLOW", "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16");
	set_ok(c, "SERVERS", "esocks-server.example:8081 10.1.1.1:8081");
	finish_ok(c, CONF_ROLE_SERVER);
	w = warnings_of(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(w, "CLIENT_ALLOW is still the shipped placeholder, "
	    "every RFC 1918 network: list the networks your clients are "
	    "in\n");
	free(w);
	finish_ok(c, CONF_ROLE_WORKER);
	w = warnings_of(c, CONF_ROLE_WORKER);
	ck_assert_str_eq(w, "SERVERS esocks-server.example:8081 is a "
	    "placeholder: the name never resolves, so a worker never reaches "
	    "a server; set your servers' addresses\n");
	free(w);

	/* WORKER_ALLOW as shipped, loopback and RFC 1918: a server's. */
	set_ok(c, "WORKER_ALLOW", "127.0.0.0/8 ::1/128 10.0.0.0/8 "
	    "172.16.0.0/12 192.168.0.0/16");
	set_ok(c, "CLIENT_ALLOW", "10.1.0.0/16");
	finish_ok(c, CONF_ROLE_SERVER);
	w = warnings_of(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(w, "WORKER_ALLOW is still the shipped placeholder, "
	    "loopback and every RFC 1918 network: list your workers' "
	    "addresses\n");
	free(w);
	set_ok(c, "WORKER_ALLOW", "127.0.0.0/8 ::1/128 10.0.0.0/8 "
	    "172.16.0.0/12");
	finish_ok(c, CONF_ROLE_SERVER);
	w = warnings_of(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(w, "");
	free(w);
	set_ok(c, "CLIENT_ALLOW", "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16");

	/* Names under .invalid, any case, a trailing dot: placeholders. */
	set_ok(c, "SERVERS", "a.INVALID.:8081 example:8081 b.example.com:1");
	finish_ok(c, CONF_ROLE_WORKER);
	w = warnings_of(c, CONF_ROLE_WORKER);
	ck_assert_ptr_nonnull(strstr(w, "SERVERS a.INVALID.:8081 is a "));
	ck_assert_ptr_nonnull(strstr(w, "SERVERS example:8081 is a "));
	ck_assert_ptr_null(strstr(w, "b.example.com"));
	free(w);

	/* Any other CLIENT_ALLOW, a part of it or more, is the operator's. */
	set_ok(c, "CLIENT_ALLOW", "10.0.0.0/8 172.16.0.0/12");
	finish_ok(c, CONF_ROLE_SERVER);
	w = warnings_of(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(w, "");
	free(w);
	set_ok(c, "CLIENT_ALLOW",
	    "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.1");
	finish_ok(c, CONF_ROLE_SERVER);
	w = warnings_of(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(w, "");
	free(w);
	set_ok(c, "CLIENT_ALLOW", "10.0.0.0/8 172.16.0.0/12 192.168.0.0/24");
	finish_ok(c, CONF_ROLE_SERVER);
	w = warnings_of(c, CONF_ROLE_SERVER);
	ck_assert_str_eq(w, "");
	free(w);
	conf_free(c);
}
END_TEST

START_TEST(test_listen_equal)
{
	struct conf	*c = conf_new();

	set_ok(c, "SOCKS_LISTEN", "*:1080 0.0.0.0:1081 127.0.0.1:1080 "
	    "[::]:1080 [::1]:1080 [::1]:1081");
	set_ok(c, "WORKER_LISTEN", "0.0.0.0:1080 [0:0::1]:1080");
	ck_assert(conf_listen_equal(&SOCKS(c).addrs[0],
	    &WORKER(c).addrs[0]));
	ck_assert(conf_listen_equal(&SOCKS(c).addrs[4],
	    &WORKER(c).addrs[1]));
	ck_assert(!conf_listen_equal(&SOCKS(c).addrs[0],
	    &SOCKS(c).addrs[1]));		/* port */
	ck_assert(!conf_listen_equal(&SOCKS(c).addrs[0],
	    &SOCKS(c).addrs[2]));		/* address */
	ck_assert(!conf_listen_equal(&SOCKS(c).addrs[0],
	    &SOCKS(c).addrs[3]));		/* family */
	ck_assert(!conf_listen_equal(&SOCKS(c).addrs[4],
	    &SOCKS(c).addrs[5]));
	ck_assert(!conf_listen_equal(&SOCKS(c).addrs[3],
	    &SOCKS(c).addrs[4]));
	conf_free(c);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("line");
	tcase_add_test(tc, test_line_blank_and_comment);
	tcase_add_test(tc, test_line_bare_values);
	tcase_add_test(tc, test_line_empty_values);
	tcase_add_test(tc, test_line_export);
	tcase_add_test(tc, test_line_single_quotes);
	tcase_add_test(tc, test_line_double_quotes);
	tcase_add_test(tc, test_line_bare_errors);
	tcase_add_test(tc, test_line_key_errors);
	tcase_add_test(tc, test_line_controls_and_clipping);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_set_times);
	tcase_add_test(tc, test_set_counts);
	tcase_add_test(tc, test_set_booleans);
	tcase_add_test(tc, test_set_enums);
	tcase_add_test(tc, test_set_strings);
	tcase_add_test(tc, test_set_listen);
	tcase_add_test(tc, test_set_servers);
	tcase_add_test(tc, test_set_cidr_lists);
	tcase_add_test(tc, test_set_unknown_key);
	tcase_add_test(tc, test_set_replaces_earlier_value);
	tcase_add_test(tc, test_listen_equal);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, NULL, temp_teardown);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_errors_name_file_and_line);
	tcase_add_test(tc, test_load_long_lines);
	tcase_add_test(tc, test_load_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("finish");
	tcase_add_checked_fixture(tc, NULL, temp_teardown);
	tcase_add_test(tc, test_finish_pidfile_and_name);
	tcase_add_test(tc, test_finish_auth_password_needs_file);
	tcase_add_test(tc, test_finish_listen_clashes);
	tcase_add_test(tc, test_finish_processes_ports);
	tcase_add_test(tc, test_finish_open_proxy);
	tcase_add_test(tc, test_finish_needs_listeners_and_servers);
	tcase_add_test(tc, test_finish_secret_file);
	tcase_add_test(tc, test_finish_errors_name_file_and_line);
	tcase_add_test(tc, test_absolute_paths_against_start_dir);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_checked_fixture(tc, NULL, temp_teardown);
	tcase_add_test(tc, test_verify_password_file_user_and_group);
	tcase_add_test(tc, test_warnings_name_what_to_look_at);
	tcase_add_test(tc, test_warnings_placeholders);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(conf_suite()));
}
