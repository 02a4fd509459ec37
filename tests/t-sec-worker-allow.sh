#!/bin/sh
# WORKER_ALLOW closes a worker-port connection from outside its CIDRs at
# accept: with WORKER_ALLOW=127.0.0.2/32 a worker dialing from 127.0.0.1
# never joins the pool, the refusal is counted (links_refused=) and
# logged under LOG_ERROR although LOG_CONNECTION is off, and a peer from
# 127.0.0.2 is greeted.  Reloaded with 127.0.0.1 allowed, the worker
# joins.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Stop every process still running, then fail on any sanitizer report
# (an --enable-asan build) in the daemons' logs.
sec_finish() {
	for _p in $LIB_PIDS; do
		lib_alive $_p && stop_pid $_p
	done
	_bad=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    $LIB_LOGS /dev/null)
	[ -z "$_bad" ] || fail "sanitizer report in $_bad"
}

TFLOOD=$TOP_BUILDDIR/tests/tflood

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    NO_WORKER=refuse LOG_CONNECTION=no WORKER_ALLOW=127.0.0.2/32
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG
SPID=$ESOCKSD_PID
write_conf "$T/worker.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=outsider \
    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/worker.pid"
start_esocksd worker "$T/worker.conf"

wait_log "$SLOG" "refused 127\\.0\\.0\\.1:[0-9]+ on worker 127\\.0\\.0\\.1:$WP: \
not in WORKER_ALLOW" ||
    fail "no log line for the worker refused by WORKER_ALLOW"
sleep 1
grep -q 'joined the pool' "$SLOG" &&
    fail "a worker outside WORKER_ALLOW joined the pool"
grep -q 'worker link from' "$SLOG" &&
    fail "a worker outside WORKER_ALLOW got as far as a link"
out=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 5 2>&1)
case $out in
"reply=0x01 "*) ;;
*) fail "with the only worker refused, NO_WORKER=refuse gave '$out'" ;;
esac
kill -USR1 $SPID
wait_log "$SLOG" '^counters: workers=0 .* links_refused=[1-9]' 5 ||
    fail "the refused worker links are not counted:" \
    "$(grep '^counters: workers' "$SLOG")"

# A peer from 127.0.0.2 is inside WORKER_ALLOW: its link stays open.
out=$("$TFLOOD" -b 127.0.0.2 -t 127.0.0.1:$WP -n 1 -d 1)
[ "$out" = "connects=1 closed=0 failed=0 open_max=1" ] ||
    fail "a peer from 127.0.0.2 inside WORKER_ALLOW: $out"
out=$("$TFLOOD" -t 127.0.0.1:$WP -n 1 -d 1)
case $out in
"connects="*" closed=0 "*) fail "a peer from 127.0.0.1 was kept: $out" ;;
"connects="*) ;;
*) fail "tflood from 127.0.0.1: $out" ;;
esac

# Reloaded to allow 127.0.0.1, the worker joins at its next dial.
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    NO_WORKER=refuse LOG_CONNECTION=no WORKER_ALLOW=127.0.0.1/32
kill -HUP $SPID
wait_log "$SLOG" '^reloaded ' 10 || fail "the reload failed"
wait_log "$SLOG" 'worker outsider .* joined the pool' 20 ||
    fail "the worker did not join once WORKER_ALLOW admitted it"
got=$(echo inside | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 10 \
    2>/dev/null)
[ "$got" = inside ] || fail "no tunnel through the admitted worker: '$got'"
sec_finish
exit 0
