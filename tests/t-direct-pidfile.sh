#!/bin/sh
# The PID file: it holds the daemon's PID; a second instance with the
# same file (from its config or from -p) refuses to start, exits 1 and
# names the PID holding it, leaving the file alone; the file is removed
# at exit; a stale file left by a dead process does not block a start;
# a start that fails after taking the file (its port is busy) removes it.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

PIDF=$T/esocksd.pid
SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$PIDF"
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$T/esocksd.conf"
FIRST=$ESOCKSD_PID
wait_for "[ -s '$PIDF' ]" 5 || fail "no PID file"
[ "$(cat "$PIDF")" = "$FIRST" ] ||
    fail "PID file holds '$(cat "$PIDF")', the daemon is $FIRST"

# second NAME ARGS...: another instance must refuse, naming $FIRST.
second() {
	_name=$1
	shift
	"$ESOCKSD" -f "$@" server >"$T/$_name.log" 2>&1 &
	_p=$!
	track_pid $_p
	wait_for "! lib_alive $_p" 5 || fail "$_name instance did not refuse"
	wait $_p
	_rc=$?
	[ $_rc -eq 1 ] || fail "$_name instance: exit $_rc, want 1: \
$(cat "$T/$_name.log")"
	grep -q "$PIDF.*$FIRST" "$T/$_name.log" ||
	    fail "$_name instance's message names neither the file nor PID \
$FIRST: $(cat "$T/$_name.log")"
	[ "$(cat "$PIDF")" = "$FIRST" ] ||
	    fail "after the $_name instance the PID file holds '$(cat "$PIDF")'"
}
SP2=$(free_port)
WP2=$(free_port)
write_conf "$T/second.conf" "SOCKS_LISTEN=127.0.0.1:$SP2" \
    "WORKER_LISTEN=127.0.0.1:$WP2" "PIDFILE=$PIDF"
second second -c "$T/second.conf"
write_conf "$T/third.conf" "SOCKS_LISTEN=127.0.0.1:$SP2" \
    "WORKER_LISTEN=127.0.0.1:$WP2" "PIDFILE=$T/other.pid"
second third -c "$T/third.conf" -p "$PIDF"

# The first one is untouched and serves.
got=$(echo still | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 5 \
    2>"$T/err") || fail "tunnel after the refusals: $(cat "$T/err")"
[ "$got" = still ] || fail "echo after the refusals returned '$got'"

stop_daemon
[ -e "$PIDF" ] && fail "PID file still there after exit"

# A stale file (a PID nobody holds the lock for) is taken over.
echo 99999 >"$PIDF"
start_esocksd server "$T/esocksd.conf"
wait_for "[ \"\$(cat '$PIDF')\" = '$ESOCKSD_PID' ]" 5 ||
    fail "stale PID file not rewritten: '$(cat "$PIDF")'"
stop_daemon
[ -e "$PIDF" ] && fail "PID file still there after the second exit"

# The PID file is taken before binding: a port in use fails the start
# after that, and the file must go with it.
start_sink hold
write_conf "$T/busy.conf" "SOCKS_LISTEN=127.0.0.1:$SINK_PORT" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$PIDF"
"$ESOCKSD" -f -c "$T/busy.conf" server >"$T/busy.log" 2>&1 &
p=$!
track_pid $p
wait_for "! lib_alive $p" 10 || fail "a start on a busy port kept running"
wait $p
rc=$?
[ $rc -eq 1 ] || fail "a start on a busy port: exit $rc, want 1: \
$(cat "$T/busy.log")"
grep -q "127.0.0.1:$SINK_PORT" "$T/busy.log" ||
    fail "the failed start does not name the port: $(cat "$T/busy.log")"
[ -e "$PIDF" ] && fail "a failed start left its PID file behind"
exit 0
