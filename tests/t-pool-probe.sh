#!/bin/sh
# The active probe: with PROBE_TARGET and PROBE_INTERVAL the server asks
# each worker to connect the target now and then, with no client at all.
# A worker whose dials all fail (wb, through tests/tfault.so, a connect(2)
# interposer loaded into it only) is ejected by probes alone; the healthy
# one (wa) is measured (its probes connect) and stays in.  Without
# PROBE_TARGET (the default) nothing is probed.  The server, whose
# probes were in flight, stops cleanly on SIGTERM.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
TFAULT=$(cd "$TOP_BUILDDIR" && pwd)/tests/tfault.so
[ -r "$TFAULT" ] || skip "tests/tfault.so (connect interposer) not built"

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse LOG_EVENT=yes \
    LOG_SESSION=yes "PROBE_TARGET=127.0.0.1:$ECHO" PROBE_INTERVAL=0.2 \
    EJECT_FAILURES=3 "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG
for name in wa wb; do
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" RECONNECT_INTERVAL=0.2 "PIDFILE=$T/$name.pid"
	if [ $name = wb ]; then
		LD_PRELOAD=$TFAULT TFAULT_MODE=refuse TFAULT_PASS_PORT=$WP \
		    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
		export LD_PRELOAD TFAULT_MODE TFAULT_PASS_PORT ASAN_OPTIONS
	fi
	start_esocksd worker "$T/$name.conf"
	unset LD_PRELOAD TFAULT_MODE TFAULT_PASS_PORT
	wait_log "$SRV_LOG" "worker $name \\(.*\\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done

wait_log "$SRV_LOG" "probe of worker wa: 127\\.0\\.0\\.1:$ECHO connected in [0-9]+ us" 5 ||
    fail "no probe of wa connected"
wait_log "$SRV_LOG" "probe of worker wb: 127\\.0\\.0\\.1:$ECHO refused" 5 ||
    fail "no probe of wb refused"
wait_log "$SRV_LOG" "worker wb \\(.*\\) ejected: 3 connect failures in a row, last refused to 127\\.0\\.0\\.1:$ECHO" 10 ||
    fail "probes did not eject wb"
grep 'worker wb (.*) ejected' "$SRV_LOG"
grep -q 'worker wa (.*) ejected' "$SRV_LOG" && fail "the healthy wa was ejected"
grep -q '^access ' "$SRV_LOG" && fail "a probe was logged as a client's tunnel"

# No PROBE_TARGET: no probes.
grep -v '^PROBE_TARGET=' "$T/server.conf" >"$T/server.new"
mv "$T/server.new" "$T/server.conf"
kill -HUP $SRV_PID
wait_log "$SRV_LOG" "reloaded $T/server.conf" 5 || fail "no reload"
sleep 0.5
n=$(grep -c 'probe of worker' "$SRV_LOG")
sleep 1
[ "$(grep -c 'probe of worker' "$SRV_LOG")" -eq "$n" ] ||
    fail "probes went on without PROBE_TARGET"
ESOCKSD_PID=$SRV_PID ESOCKSD_LOG=$SRV_LOG
stop_daemon
exit 0
