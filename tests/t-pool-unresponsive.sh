#!/bin/sh
# A frozen worker (SIGSTOP) is noticed within WORKER_RESPONSE_TIMEOUT
# (the default, 3 s) of the first request it is given, long before
# WORKER_IDLE_CLOSE (60 s) or CONNECT_TIMEOUT + 5 s (15 s): it is marked
# unresponsive (logged once, shown by SIGUSR1, /status and /metrics),
# the request it held goes to the other worker at once, and no new
# request is given to it, so every request succeeds well within 6 s.
# SIGCONT: frames flow again, it is marked responsive and chosen again.
# A live worker whose dial hangs longer than the deadline is not marked:
# it answers the server's ping.
# BALANCE=least: the workers take turns, so the frozen one is given a
# request (under p2c a worker measured slower may be given none).
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

REQUESTS=8
BOUND_MS=6000
start_sink echo
ECHO=$SINK_PORT
start_sink blackhole
HOLE=$SINK_PORT
WANT=$("$SOCKSC" -G 10K -k)

# Milliseconds of the wall clock (GNU date, or whole seconds).
now_ms() {
	_t=$(date +%s%N 2>/dev/null)
	case $_t in
	*N|'') echo $(($(date +%s) * 1000)) ;;
	*) echo $((_t / 1000000)) ;;
	esac
}

# request: one echo tunnel, intact; its duration in ms goes to $took.
request() {
	_t=$(now_ms)
	_got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 10K -k \
	    -w 20 2>"$T/c.err") || fail "request failed: $(cat "$T/c.err")"
	[ "$_got" = "$WANT" ] || fail "request damaged: '$_got' != '$WANT'"
	took=$(($(now_ms) - _t))
}

# vias N: the via= of the last N access lines, one a line.
vias() {
	grep '^access ' "$SRV_LOG" | tail -n $1 |
	    sed 's/.* via=\([^ ]*\) .*/\1/'
}

# http PATH: GET PATH from the stats listener; the body to $T/body.
http() {
	printf 'GET %s HTTP/1.0\r\nHost: x\r\n\r\n' "$1" |
	    "$SOCKSC" -D -t "127.0.0.1:$ST" -w 10 2>/dev/null |
	    tr -d '\r' | sed '1,/^$/d' >"$T/body"
}

SP=$(free_port)
WP=$(free_port)
ST=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$ST" \
    NO_WORKER=refuse LOG_EVENT=yes BALANCE=least "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG
for name in wa wb; do
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" RECONNECT_INTERVAL=0.2 CONNECT_TIMEOUT=4 \
	    "PIDFILE=$T/$name.pid"
	start_esocksd worker "$T/$name.conf"
	eval "PID_$name=\$ESOCKSD_PID"
done
for name in wa wb; do
	wait_log "$SRV_LOG" "worker $name \\(.*\\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done
request
request
[ "$(vias 2 | sort | tr '\n' ' ')" = "wa wb " ] ||
    fail "2 requests did not go one to each worker: $(vias 2 | tr '\n' ' ')"

# An idle pool is never marked: nothing is outstanding.
sleep 4
grep -q 'unresponsive' "$SRV_LOG" && fail "an idle worker was marked"

# A dial that hangs for the worker's CONNECT_TIMEOUT (4 s, past the 3 s
# deadline): the worker answers pings meanwhile, so it is not marked and
# the request is not tried elsewhere; it fails as a timeout.
t=$(now_ms)
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLE -n -w 20 >/dev/null \
    2>"$T/hole.err"
rc=$?
took=$(($(now_ms) - t))
[ $rc -eq 3 ] || fail "request to a black hole: exit $rc, want 3" \
    "($(cat "$T/hole.err"))"
[ $took -ge 3500 ] || fail "request to a black hole refused after $took ms"
grep -q 'unresponsive' "$SRV_LOG" &&
    fail "a live worker with a slow dial was marked unresponsive"
wait_log "$SRV_LOG" \
    "^access .* dest=127\\.0\\.0\\.1:$HOLE via=w[ab] result=timeout " 5 ||
    fail "no result=timeout access line for the black hole"

kill -STOP $PID_wa
t0=$(now_ms)
before=$(grep -c '^access ' "$SRV_LOG")
max=0
i=0
while [ $i -lt $REQUESTS ]; do
	request
	echo "request $i: $took ms"
	[ $took -gt $max ] && max=$took
	i=$((i + 1))
done
wait_log "$SRV_LOG" 'worker wa \(.*\) unresponsive' 1 ||
    fail "the frozen worker wa was not marked unresponsive"
echo "slowest request during the freeze: $max ms (bound $BOUND_MS ms)"
[ $max -lt $BOUND_MS ] ||
    fail "a request took $max ms while wa was frozen, want < $BOUND_MS"
[ "$(grep -c 'worker wa (.*) unresponsive' "$SRV_LOG")" -eq 1 ] ||
    fail "the unresponsive worker was not logged exactly once"
grep 'worker wa (.*) unresponsive' "$SRV_LOG"
[ "$(vias $REQUESTS | sort -u)" = wb ] ||
    fail "requests during the freeze not all via wb:" \
    "$(vias $REQUESTS | tr '\n' ' ')"
grep -q 'left the pool' "$SRV_LOG" &&
    fail "the frozen worker was dropped: the test measured the wrong thing"

# The state is shown: SIGUSR1, /status, /metrics.
kill -USR1 $SRV_PID
wait_log "$SRV_LOG" '^counters: worker=wa .* state=unresponsive ' 5 ||
    fail "SIGUSR1 does not show wa as unresponsive"
http /status
grep -q '^wa .* unresponsive' "$T/body" ||
    fail "/status does not show wa as unresponsive: $(cat "$T/body")"
http /metrics
grep -q '^esocksd_workers_unresponsive 1$' "$T/body" ||
    fail "/metrics does not count wa as unresponsive"

# Thaw wa: marked responsive again, and chosen again.
kill -CONT $PID_wa
wait_log "$SRV_LOG" 'worker wa \(.*\) responsive again' 5 ||
    fail "the thawed worker wa was not marked responsive"
request
request
vias 2 | grep -q '^wa$' ||
    fail "the thawed worker wa was not chosen: $(vias 2 | tr '\n' ' ')"
http /metrics
grep -q '^esocksd_workers_unresponsive 0$' "$T/body" ||
    fail "/metrics still counts an unresponsive worker"
exit 0
