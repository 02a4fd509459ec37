#!/bin/sh
# A flood on the worker port cannot starve SOCKS clients.  A server held
# to 256 descriptors (ulimit -n) is sent 400 idle connections from one
# address on its worker port, each redialed 50 ms after it is closed,
# while a client makes one request after another: every request gets
# through.  With the defaults it is WORKER_PENDING_PER_IP that holds the
# flood to 16 links; reloaded with both pending caps off (0), the
# descriptors kept for clients (a quarter of the limit) still do.  The
# refusals are counted (links_refused=) and logged under LOG_ERROR a
# line a second or so, with LOG_CONNECTION off.
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

[ -d /proc/self/fd ] || skip "needs /proc/PID/fd"

LIMIT=256
FLOOD=400
NREQ=40
TFLOOD=$TOP_BUILDDIR/tests/tflood

start_sink echo
ECHO=$SINK_PORT

# The daemon, started through a wrapper that lowers its limit.
REAL=$ESOCKSD
ESOCKSD=$T/esocksd-lowfd
printf '#!/bin/sh\nulimit -n %d || exit 99\nexec "%s" "$@"\n' \
    $LIMIT "$REAL" >"$ESOCKSD"
chmod +x "$ESOCKSD"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    LOG_CONNECTION=no
start_esocksd server "$T/server.conf"
LOG=$ESOCKSD_LOG
PID=$ESOCKSD_PID

nfd() {
	ls "/proc/$PID/fd" 2>/dev/null | wc -l | tr -d ' '
}

# requests NAME: NREQ requests, one after another, while the flood
# runs; fails unless every one got its bytes back.
requests() {
	_ok=0
	_i=0
	while [ $_i -lt $NREQ ]; do
		_got=$(echo "req$_i" | "$SOCKSC" -x 127.0.0.1:$SP \
		    -t 127.0.0.1:$ECHO -w 5 2>/dev/null)
		[ "$_got" = "req$_i" ] && _ok=$((_ok + 1))
		_i=$((_i + 1))
	done
	echo "$1: $_ok of $NREQ client requests got through" \
	    "($(nfd) descriptors open)" >&2
	[ $_ok -eq $NREQ ] ||
	    fail "$1: only $_ok of $NREQ client requests got through"
}

# flood SECONDS: start the flood on the worker port.
flood() {
	"$TFLOOD" -t 127.0.0.1:$WP -n $FLOOD -p 50 -d "$1" >"$T/flood.out" \
	    2>&1 &
	FLOOD_PID=$!
	track_pid $FLOOD_PID
}

# links_refused N: SIGUSR1, then the links_refused= of counters line N.
links_refused() {
	kill -USR1 $PID
	wait_for "[ \$(grep -c '^counters: workers' '$LOG') -ge $1 ]" 5 ||
	    fail "no counters line $1 on SIGUSR1"
	grep '^counters: workers' "$LOG" | sed -n "$1p" |
	    sed 's/.* links_refused=\([0-9]*\).*/\1/'
}

got=$(echo warm | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 5 \
    2>/dev/null)
[ "$got" = warm ] || fail "no tunnel before the flood: '$got'"
sleep 0.3
BASE=$(nfd)

# --- The defaults: 16 unregistered links from one address at most.
flood 30
wait_for "[ \$(nfd) -ge $((BASE + 16)) ]" 10 ||
    fail "the flood did not reach the server"
sleep 1
requests "pending caps"
grep -q -E 'refused 127\.0\.0\.1:[0-9]+ on worker 127\.0\.0\.1:[0-9]+: WORKER_PENDING_PER_IP \(16\) reached' "$LOG" ||
    fail "no refusal by WORKER_PENDING_PER_IP under the flood"
n=$(nfd)
[ $n -le $((BASE + 16 + 2)) ] ||
    fail "the flood holds $((n - BASE)) descriptors, more than 16 links"
n=$(links_refused 1)
[ "$n" -gt 0 ] 2>/dev/null || fail "links_refused=$n under the flood"
kill $FLOOD_PID
wait $FLOOD_PID
echo "flood: $(cat "$T/flood.out")" >&2

# --- Both caps off: the descriptors kept for clients hold it.
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    LOG_CONNECTION=no WORKER_PENDING_MAX=0 WORKER_PENDING_PER_IP=0
kill -HUP $PID
wait_log "$LOG" '^reloaded ' 10 || fail "the reload failed"
flood 30
wait_for "[ \$(nfd) -ge $((BASE + 150)) ]" 10 ||
    fail "the flood did not reach the server"
sleep 1
requests "no pending caps"
grep -q -E 'refused 127\.0\.0\.1:[0-9]+ on worker 127\.0\.0\.1:[0-9]+: worker links may use 192 descriptors, the rest are kept for clients' "$LOG" ||
    fail "no refusal for the clients' descriptors under the flood"
grep -q 'out of descriptors' "$LOG" &&
    fail "the server ran out of descriptors under the flood"
kill $FLOOD_PID
wait $FLOOD_PID
echo "flood: $(cat "$T/flood.out")" >&2

# Refusals are logged about once a second, with the count of the rest.
grep 'connections* refused on the worker port since the last such line' \
    "$LOG" | head -n 2 >&2
lines=$(grep -c -E '^refused .* on worker |refused on the worker port' \
    "$LOG")
[ "$lines" -le 120 ] || fail "$lines refusal lines for two floods: a flood"
grep -q -E '^[0-9]+ more connections* refused on the worker port since the last such line; the latest: refused 127\.0\.0\.1:' \
    "$LOG" || fail "no line summing up the refusals held back"

# The flood's links are gone: the descriptors come back.
wait_for "[ \$(nfd) -le $BASE ]" 15 ||
    fail "descriptors: $(nfd) now, $BASE before the flood (a leak)"
got=$(echo after | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 5 \
    2>/dev/null)
[ "$got" = after ] || fail "no tunnel after the flood: '$got'"

# --- A server busy with clients still takes a worker: it is the worker
# links that are counted, not the number of the descriptor a new one
# gets.  200 idle clients hold the low descriptors, past the 192 that
# worker links may use; a worker must still join.
"$TFLOOD" -t 127.0.0.1:$SP -n 200 -d 30 >"$T/clients.out" 2>&1 &
CLIENTS_PID=$!
track_pid $CLIENTS_PID
wait_for "[ \$(nfd) -ge $((BASE + 200)) ]" 10 ||
    fail "the idle clients did not reach the server ($(nfd) descriptors)"
write_conf "$T/worker.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=busy \
    "PIDFILE=$T/worker.pid"
start_esocksd worker "$T/worker.conf"
wait_log "$LOG" 'worker busy \(.*\) joined the pool' 10 ||
    fail "a worker could not join a server busy with clients" \
    "($(nfd) descriptors): $(grep 'on worker' "$LOG" | tail -n 1)"
kill $CLIENTS_PID
wait $CLIENTS_PID
sec_finish
exit 0
