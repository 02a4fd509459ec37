#!/bin/sh
# HANDSHAKE_TIMEOUT=1: a client that connects and sends nothing, and one
# that dribbles its handshake a byte every 300 ms, are closed about a
# second after accept (the deadline does not move with each byte); a
# quick split handshake still works, a tunnel quiet for longer than the
# handshake timeout is not cut, and the daemon's descriptors return to
# their count before.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# The daemon's open descriptors (Linux /proc), or "?".
nfds() {
	if [ -d "/proc/$ESOCKSD_PID/fd" ]; then
		ls "/proc/$ESOCKSD_PID/fd" | wc -l | tr -d ' '
	else
		echo '?'
	fi
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    HANDSHAKE_TIMEOUT=1
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# A split handshake well within the second works.
got=$(echo quick | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -s 20 \
    -w 10 2>"$T/err") || fail "quick split handshake: $(cat "$T/err")"
[ "$got" = quick ] || fail "quick split handshake echoed '$got'"
# Once the tunnel that just ended has closed its sockets.
base=$(settled nfds)

# Silent, and dribbling: both still open at 0.5 s, both closed by 2.5 s.
"$SOCKSC" -D -t 127.0.0.1:$SP -H -w 8 >/dev/null 2>"$T/silent.err" &
silent=$!
track_pid $silent
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -s 300 -n -w 8 \
    2>"$T/dribble.err" &
dribble=$!
track_pid $dribble
sleep 0.5
lib_alive $silent || fail "silent client closed before the timeout"
lib_alive $dribble || fail "dribbling client done before the timeout"
wait_for "! lib_alive $silent && ! lib_alive $dribble" 2 ||
    fail "clients still open 2.5 s after connecting (timeout is 1 s)"
# The silent one sees EOF (0); the dribbler an EOF or a reset (4).
wait $silent
rc=$?
[ $rc -eq 0 ] || fail "silent client: exit $rc: $(cat "$T/silent.err")"
wait $dribble
rc=$?
[ $rc -eq 4 ] || fail "dribbler: exit $rc: $(cat "$T/dribble.err")"
grep -q '^reply=' "$T/dribble.err" && fail "dribbler got a reply"
n=$(grep -c 'handshake timeout' "$ESOCKSD_LOG")
[ "$n" -eq 2 ] || fail "$n 'handshake timeout' log lines, want 2"

# Once the tunnel is open, the handshake deadline no longer applies.
got=$({ echo a; sleep 1.5; echo b; } | "$SOCKSC" -x 127.0.0.1:$SP \
    -t 127.0.0.1:$ECHO -w 10 2>"$T/err") ||
    fail "quiet tunnel: $(cat "$T/err")"
[ "$got" = "a
b" ] || fail "tunnel quiet for 1.5 s echoed '$got'"

wait_for "[ \"\$(nfds)\" = '$base' ]" 3 ||
    fail "daemon holds $(nfds) descriptors, $base before the timeouts"
stop_daemon
exit 0
