#!/bin/sh
# A request that races a worker's DRAIN is tried on another worker.  The
# race is made certain: the server is frozen (SIGSTOP) while requests
# arrive and worker wa, which has a tunnel in flight so it stays
# draining, gets SIGTERM; on SIGCONT the server reads the requests
# (their connections are older than wa's link, so they are read first)
# and hands some to wa before it reads wa's DRAIN.  wa refuses them, and
# every request must still succeed, through wb.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

RACERS=4
start_sink echo
ECHO=$SINK_PORT
start_sink hold
HOLD=$SINK_PORT
WANT=$("$SOCKSC" -G 10K -k)

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse LOG_SESSION=yes \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG
for name in wa wb; do
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" RECONNECT_INTERVAL=0.2 LOG_SESSION=yes \
	    "PIDFILE=$T/$name.pid"
done

# hold WORKER: a tunnel to the hold sink that stays open; it must go
# through WORKER.
hold() {
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLD -H -w 60 \
	    >/dev/null 2>&1 &
	track_pid $!
	wait_log "$SRV_LOG" "-> 127\\.0\\.0\\.1:$HOLD via $1 open" 10 ||
	    fail "the held tunnel did not open via $1"
}

start_esocksd worker "$T/wb.conf"
wait_log "$SRV_LOG" 'worker wb \(.*\) joined the pool' 10 ||
    fail "worker wb did not join the pool"
hold wb

# The racers connect now, before wa's link exists, and send their SOCKS4
# request a byte every 400 ms: the last byte goes out about 3.2 s later.
i=0
while [ $i -lt $RACERS ]; do
	"$SOCKSC" -v 4 -s 400 -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 10K -k \
	    -w 30 >"$T/race.$i" 2>"$T/race.$i.err" &
	eval "RACER_$i=\$!"
	track_pid $!
	i=$((i + 1))
done
sleep 0.3

start_esocksd worker "$T/wa.conf"
WA_PID=$ESOCKSD_PID
WA_LOG=$ESOCKSD_LOG
wait_log "$SRV_LOG" 'worker wa \(.*\) joined the pool' 10 ||
    fail "worker wa did not join the pool"
# wa has one session like wb: the racers are shared between them.
hold wa

# Freeze the server before the racers finish their requests, drain wa,
# and thaw the server once the requests and wa's DRAIN are all waiting.
kill -STOP $SRV_PID
sleep 3.5
kill -TERM $WA_PID
wait_log "$WA_LOG" 'no longer accepting' 5 ||
    fail "worker wa did not log its SIGTERM"
sleep 0.5
kill -CONT $SRV_PID

i=0
while [ $i -lt $RACERS ]; do
	eval "_p=\$RACER_$i"
	wait $_p || fail "request $i failed while wa drained:" \
	    "$(cat "$T/race.$i.err")"
	[ "$(cat "$T/race.$i")" = "$WANT" ] ||
	    fail "request $i damaged while wa drained"
	i=$((i + 1))
done
# The race was hit: wa was handed requests after it sent DRAIN.
grep -q 'refused: draining' "$WA_LOG" ||
    fail "no request reached wa after its DRAIN: the race was not hit"
grep -q "^access .* dest=127\\.0\\.0\\.1:$ECHO via=wa " "$SRV_LOG" &&
    fail "a request was carried by the draining worker wa"
exit 0
