#!/bin/sh
# SIGTERM: with a tunnel open the daemon stops accepting at once (new
# connects are refused, clients still in their handshake are closed),
# lets the tunnel finish intact, then exits 0 and removes its PID file;
# an idle daemon exits promptly; a second SIGTERM during the grace time
# exits at once, cutting what is left.  SIGINT behaves as SIGTERM.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# A bounded wait for a background child; its exit status, or 124.
reap() {
	wait_for "! lib_alive $1" "$2" || return 124
	wait "$1"
}

PIDF=$T/esocksd.pid
SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$PIDF"
start_sink echo
ECHO=$SINK_PORT
start_sink hold
HOLD=$SINK_PORT

# 1. A tunnel in flight: its input pauses until $T/go exists (<= 20 s).
start_esocksd server "$T/esocksd.conf"
wait_for "[ -s '$PIDF' ]" 5 || fail "no PID file"
{
	echo first
	i=0
	while [ ! -e "$T/go" ] && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo second
} | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 30 \
    >"$T/tunnel.out" 2>"$T/tunnel.err" &
tunnel=$!
track_pid $tunnel
wait_for "grep -q first '$T/tunnel.out'" 5 || fail "the tunnel did not open"
# ... and a client that has only sent its greeting.
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -s 1000 -n -w 10 \
    2>"$T/hs.err" &
hs=$!
track_pid $hs
wait_for "[ \$(grep -c 'connection from' '$ESOCKSD_LOG') -ge 2 ]" 5 ||
    fail "the handshaking client did not connect"

kill -TERM $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" 'no longer accepting' 5 ||
    fail "no 'no longer accepting' line after SIGTERM"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 5 2>"$T/err"
rc=$?
[ $rc -eq 4 ] || fail "a new connect during the grace time: exit $rc, \
want 4 (refused): $(cat "$T/err")"
reap $hs 5
rc=$?
[ $rc -eq 4 ] || fail "client in its handshake at SIGTERM: exit $rc, want 4"
lib_alive $ESOCKSD_PID || fail "esocksd exited with a tunnel still open"
lib_alive $tunnel || fail "the tunnel was cut by SIGTERM"
[ -e "$PIDF" ] || fail "PID file removed before the daemon exits"

: >"$T/go"
reap $tunnel 10
rc=$?
[ $rc -eq 0 ] || fail "tunnel across SIGTERM: exit $rc: $(cat "$T/tunnel.err")"
[ "$(cat "$T/tunnel.out")" = "first
second" ] || fail "tunnel across SIGTERM got '$(cat "$T/tunnel.out")'"
reap $ESOCKSD_PID 5
rc=$?
[ $rc -eq 0 ] || fail "esocksd exit $rc after its last tunnel, want 0"
[ -e "$PIDF" ] && fail "PID file left after exit"
grep -q 'esocksd stopped' "$ESOCKSD_LOG" || fail "no 'esocksd stopped' line"
grep -E -q 'Sanitizer|runtime error:' "$ESOCKSD_LOG" &&
    fail "sanitizer report in $ESOCKSD_LOG"

# 2. Idle: gone within 2 s of SIGTERM (and of SIGINT), not 10.
for sig in TERM INT; do
	start_esocksd server "$T/esocksd.conf"
	wait_for "[ -s '$PIDF' ]" 5 || fail "no PID file"
	kill -$sig $ESOCKSD_PID
	reap $ESOCKSD_PID 2
	rc=$?
	[ $rc -eq 0 ] ||
	    fail "idle esocksd, SIG$sig: exit $rc within 2 s, want 0"
	[ -e "$PIDF" ] && fail "PID file left after SIG$sig"
	grep -E -q 'Sanitizer|runtime error:' "$ESOCKSD_LOG" &&
	    fail "sanitizer report in $ESOCKSD_LOG"
done

# 3. A second SIGTERM during the grace time: out at once, tunnel cut.
start_esocksd server "$T/esocksd.conf"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLD -H -w 20 >/dev/null \
    2>"$T/held.err" &
held=$!
track_pid $held
wait_for "grep -q '^reply=0x00' '$T/held.err'" 5 || fail "no held tunnel"
kill -TERM $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" 'no longer accepting' 5 || fail "no first SIGTERM"
sleep 0.5
lib_alive $ESOCKSD_PID || fail "esocksd left with a tunnel in its grace time"
kill -TERM $ESOCKSD_PID
reap $ESOCKSD_PID 2
rc=$?
[ $rc -eq 0 ] || fail "second SIGTERM: exit $rc within 2 s, want 0"
[ -e "$PIDF" ] && fail "PID file left after the second SIGTERM"
reap $held 3
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 4 ] ||
    fail "the held tunnel was not closed at exit: exit $rc"
grep -E -q 'Sanitizer|runtime error:' "$ESOCKSD_LOG" &&
    fail "sanitizer report in $ESOCKSD_LOG"
exit 0
