#!/bin/sh
# SIGTERM on a worker with a tunnel in flight: it tells the server it is
# draining, the server gives it no new session (with NO_WORKER=refuse and
# no other worker a new request is refused), the tunnel in flight
# finishes intact, and the worker exits 0 right after it, not before.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

PIECE=262144
PIECES=20
"$SOCKSC" -G $((PIECE * PIECES)) >"$T/data" || fail "socksc -G failed"
WANT=$("$SOCKSC" -G $((PIECE * PIECES)) -k)

# Write $T/data to stdout a piece at a time, 0.2 s apart (about 4 s).
slow_feed() {
	_i=0
	while [ $_i -lt $PIECES ]; do
		dd if="$T/data" bs=$PIECE skip=$_i count=1 2>/dev/null ||
		    return 1
		sleep 0.2
		_i=$((_i + 1))
	done
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse LOG_SESSION=yes \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=wdrain \
    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/w.pid"
start_esocksd worker "$T/w.conf"
WRK_PID=$ESOCKSD_PID
WRK_LOG=$ESOCKSD_LOG
wait_log "$SRV_LOG" 'worker wdrain \(.*\) joined the pool' 10 ||
    fail "worker did not join the pool"
start_sink sum
SUM=$SINK_PORT
start_sink echo
ECHO=$SINK_PORT

slow_feed | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SUM -w 30 \
    >"$T/out" 2>"$T/err" &
CLIENT=$!
track_pid $CLIENT
wait_log "$SRV_LOG" "-> 127\.0\.0\.1:$SUM via wdrain open" 10 ||
    fail "the tunnel did not open via the worker"
sleep 0.5

kill -TERM $WRK_PID
wait_log "$SRV_LOG" 'worker wdrain \(.*\) is draining' 5 ||
    fail "server did not log that the worker is draining"

# No new session for the draining worker: refused (0x01).
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 5 >/dev/null \
    2>"$T/new.err"
rc=$?
[ $rc -eq 3 ] && grep -q '^reply=0x01 ' "$T/new.err" ||
    fail "new request while the only worker drains: exit $rc," \
    "$(cat "$T/new.err"); want refused with 0x01"
grep -q "^access .* dest=127\.0\.0\.1:$ECHO via=wdrain " "$SRV_LOG" &&
    fail "the draining worker was given a new session"

# The worker waits for its tunnel, which is still running.
lib_alive $CLIENT || fail "the tunnel ended right after SIGTERM"
lib_alive $WRK_PID || fail "the worker exited with a tunnel in flight"

wait_for "! lib_alive $CLIENT" 15 || fail "the tunnel did not finish"
wait $CLIENT || {
	rc=$?
	grep -q "^access .* via=wdrain result=link-lost " "$SRV_LOG" &&
	    echo "(the server lost the worker link before the tunnel's" \
	    "last frames arrived: the draining worker closed it too early)" >&2
	fail "the tunnel failed, exit $rc: $(cat "$T/err")"
}
got=$(cat "$T/out")
[ "$got" = "$WANT" ] || fail "the tunnel's data damaged: '$got' != '$WANT'"
wait_for "! lib_alive $WRK_PID" 5 ||
    fail "worker still running 5 s after its last tunnel ended"
wait $WRK_PID
rc=$?
[ $rc -eq 0 ] || fail "worker exited $rc after draining, want 0"
wait_log "$SRV_LOG" 'worker wdrain \(.*\) left the pool' 5 ||
    fail "server did not log the worker leaving"
grep -q "^access .* dest=127\.0\.0\.1:$SUM via=wdrain result=ok " \
    "$SRV_LOG" || fail "no result=ok access line for the drained tunnel"
exit 0
