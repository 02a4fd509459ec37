#!/bin/sh
# SIGTERM on a worker whose tunnel is off the link but still flushing:
# the destination sends its FIN at once and reads nothing for 5 s, the
# client uploads and half-closes, so both sides have sent F (the session
# is gone from the link, the server logs the tunnel) while the worker
# still holds upload bytes for the destination.  The worker, stopped
# then, closes its idle link, waits for the upload to reach the
# destination whole, and exits 0 with no sanitizer report (the relay
# used to read the server record freed with the link).
#
# How much the kernel takes unread depends on the machine (about 4 MB on
# Linux by default), and the worker holds at most one window (256 KiB)
# beyond it, so the upload grows 128 KiB a try until the worker holds
# bytes when both F are through.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

TSTALL=$TOP_BUILDDIR/tests/tstall
[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] &&
    [ -x "$TSTALL" ] || skip "esocksd, socksc, tsink or tstall not built"

# The stalling destination: FIN at once, reads after 5 s.
"$TSTALL" -P "$T/stall.port" -s 5000 >"$T/stall.out" 2>"$T/stall.err" &
track_pid $!
LIB_LOGS="$LIB_LOGS $T/stall.err"
wait_for "test -s '$T/stall.port'" 10 || fail "tstall did not start"
STALL=$(cat "$T/stall.port")

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG
write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=wflush \
    LOG_SESSION=yes "PIDFILE=$T/w.pid"
start_esocksd worker "$T/w.conf"
WRK_PID=$ESOCKSD_PID
WRK_LOG=$ESOCKSD_LOG
wait_log "$SRV_LOG" 'worker wflush \(.*\) joined the pool' 10 ||
    fail "worker did not join the pool"

# upload SIZE: one tunnel carrying SIZE bytes up; 0 once the server has
# logged it (both F are through), 1 if it is held up (the kernel did not
# take all but one window of it, so the destination must read first).
upload() {
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$STALL -g $1 -w 30 \
	    >/dev/null 2>"$T/err.$1" &
	track_pid $!
	wait_log "$SRV_LOG" "^access .* via=wflush result=ok up=$1 " 3
}

SIZE=524288
TRIES=0
while :; do
	TRIES=$((TRIES + 1))
	[ $TRIES -le 100 ] || fail "no upload of up to $SIZE bytes was held"
	upload $SIZE || skip "an upload of $SIZE bytes stalled before the" \
	    "worker held any: this kernel buffers unevenly"
	# The worker hears the server's F a moment after the server logs.
	sleep 0.3
	grep -q "session 127\.0\.0\.1:$STALL closed: ok up=$SIZE " \
	    "$WRK_LOG" || break
	SIZE=$((SIZE + 131072))
done
grep -q "^bytes=$SIZE\$" "$T/stall.out" &&
    fail "the destination read already: the test came too late"

kill -TERM $WRK_PID
wait_for "grep -q '^bytes=$SIZE\$' '$T/stall.out'" 15 ||
    fail "the destination did not get all $SIZE bytes:" \
    "$(tail -n 1 "$T/stall.out")"
wait_for "! lib_alive $WRK_PID" 5 ||
    fail "the worker still runs after its last tunnel ended"
grep -q 'second .*exiting now' "$WRK_LOG" &&
    fail "the worker needed a second signal"
stop_daemon
ESOCKSD_PID=$SRV_PID
ESOCKSD_LOG=$SRV_LOG
stop_daemon
exit 0
