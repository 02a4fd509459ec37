#!/bin/sh
# What a config names outside itself is checked by -t, by a start and by
# a reload alike: a PASSWORD_FILE that is missing, holds a "$6$" hash or
# a bad line, and a USER or GROUP that does not exist.  -t and a start
# (in the foreground and as a daemon) exit 2 naming file:line and the
# key, bind nothing and leave no PID file; a SIGHUP with such a file
# keeps the old config.  -t prints the warnings a start would log.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

umask 077
H='$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'
printf 'alice:%s\n' "$H" >"$T/pw-good"
H6='$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJue'
H6=${H6}'sI68u4OTLiBFdcbYEdFCoEOfaS35inz1'
printf 'alice:%s\n' "$H6" >"$T/pw-sha512"
printf '# users\nalice:%s\nbob\n' "$H" >"$T/pw-badline"

SP=$(free_port)
WP=$(free_port)
CONF=$T/esocksd.conf
PIDF=$T/esocksd.pid
# conf LINE3 LINE4: a file with two good lines, then LINE3 and LINE4.
conf() {
	write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" \
	    "WORKER_LISTEN=127.0.0.1:$WP" "$1" "$2" "PIDFILE=$PIDF" \
	    LOG_ACCESS=no
}

# Each case: line 3, line 4, and what the message must hold.
set -- \
    "AUTH=password" "PASSWORD_FILE=/nonexistent/pw" \
    "$CONF:4: PASSWORD_FILE: /nonexistent/pw: No such file" \
    "AUTH=password" "PASSWORD_FILE=$T/pw-sha512" \
    "$CONF:4: PASSWORD_FILE: $T/pw-sha512:1: user alice:" \
    "PASSWORD_FILE=$T/pw-badline" "AUTH=password" \
    "$CONF:3: PASSWORD_FILE: $T/pw-badline:3: no ':'" \
    "USER=no-such-user-esocksd" "LOG_EVENT=no" \
    "$CONF:3: USER no-such-user-esocksd: no such user" \
    "LOG_EVENT=no" "GROUP=no-such-group-esocksd" \
    "$CONF:4: GROUP no-such-group-esocksd: no such group"
CASES=$#

# expect_config_error NAME: $T/NAME.out must be exit 2 with $want.
expect_config_error() {
	[ "$rc" -eq 2 ] || fail "$1 with '$l3' '$l4': exit $rc, want 2: \
$(cat "$T/$1.out")"
	grep -q -F -- "$want" "$T/$1.out" ||
	    fail "$1 with '$l3' '$l4' does not say '$want': $(cat "$T/$1.out")"
	grep -q 'listening on' "$T/$1.out" && fail "$1 bound before failing"
	[ -e "$PIDF" ] && fail "$1 with '$l3' '$l4' left $PIDF"
	lib_listening "$SP" && fail "$1 left port $SP bound"
	return 0
}

i=0
while [ $i -lt $CASES ]; do
	l3=$1 l4=$2 want=$3
	shift 3
	set -- "$@" "$l3" "$l4" "$want"
	i=$((i + 3))
	conf "$l3" "$l4"
	"$ESOCKSD" -t -c "$CONF" server >"$T/check.out" 2>&1
	rc=$?
	expect_config_error check
	"$ESOCKSD" -f -c "$CONF" server >"$T/start.out" 2>&1 &
	pid=$!
	track_pid $pid
	wait_for "! lib_alive $pid" 10 || fail "start with '$l3' '$l4' runs"
	wait $pid
	rc=$?
	expect_config_error start
	# As a daemon the error must reach the terminal, not only syslog.
	"$ESOCKSD" -c "$CONF" server >"$T/daemon.out" 2>&1
	rc=$?
	expect_config_error daemon
done

# The same files on SIGHUP: each is refused and the old config stays
# (the port serves, LOG_ACCESS=no is not applied).
write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$PIDF"
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$CONF"
n=0
while [ $# -gt 0 ]; do
	l3=$1 l4=$2 want=$3
	shift 3
	n=$((n + 1))
	conf "$l3" "$l4"
	kill -HUP "$ESOCKSD_PID"
	wait_for "[ \$(grep -c 'reload failed' '$ESOCKSD_LOG') -ge $n ]" 10 ||
	    fail "no 'reload failed' line for '$l3' '$l4'"
	grep 'reload failed' "$ESOCKSD_LOG" | tail -n 1 |
	    grep -q -F -- "$want" ||
	    fail "the failed reload for '$l3' '$l4' does not say '$want'"
	got=$(echo "after $n" | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
	    -w 5 2>"$T/err") || fail "tunnel after reload $n: $(cat "$T/err")"
	[ "$got" = "after $n" ] || fail "echo after reload $n: '$got'"
	wait_for "[ \$(grep -c '^access ' '$ESOCKSD_LOG') -ge $n ]" 5 ||
	    fail "no access line after reload $n: the bad file was applied"
done
grep -q '^reloaded ' "$ESOCKSD_LOG" && fail "a bad file was reloaded"
stop_daemon

# -t prints what a start would warn about, and still passes.
chmod 644 "$T/pw-good"
printf 's3cret\n' >"$T/secret"
chmod 604 "$T/secret"
write_conf "$T/warn.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=0.0.0.0:$WP" AUTH=password "PASSWORD_FILE=$T/pw-good" \
    "PIDFILE=$PIDF"
"$ESOCKSD" -t -c "$T/warn.conf" server >"$T/warn.out" 2>&1 ||
    fail "-t rejects a config that only deserves warnings: \
$(cat "$T/warn.out")"
grep -q "WORKER_LISTEN 0\\.0\\.0\\.0:$WP is not loopback and no WORKER_SECRET" \
    "$T/warn.out" || fail "-t does not warn about WORKER_LISTEN: \
$(cat "$T/warn.out")"
grep -q -F "$T/pw-good is readable by group or others" "$T/warn.out" ||
    fail "-t does not warn about the password file: $(cat "$T/warn.out")"
"$ESOCKSD" -t -c "$T/warn.conf" -o "WORKER_SECRET_FILE=$T/secret" server \
    >"$T/warn.out" 2>&1 || fail "-t with a secret file: $(cat "$T/warn.out")"
grep -q -F "$T/secret is readable by group or others" "$T/warn.out" ||
    fail "-t does not warn about the secret file: $(cat "$T/warn.out")"
grep -q 'is not loopback' "$T/warn.out" &&
    fail "-t warns about WORKER_LISTEN although a secret is set"
exit 0
