#!/bin/sh
# Running out of descriptors: a server limited to 64 (ulimit -n) and
# offered 120 idle connections must not spin on its listener (its CPU
# time over 2 s of overload stays low), must not flood its log, and
# serves again within about a second once the connections are gone,
# with every descriptor given back.
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

[ -r /proc/self/stat ] && [ -d /proc/self/fd ] ||
    skip "needs /proc/PID/stat and /proc/PID/fd"

LIMIT=64
NCLIENTS=120

# Milliseconds on a monotonic clock.
now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

start_sink echo
ECHO=$SINK_PORT

# The daemon, started through a wrapper that lowers its limit.
REAL=$ESOCKSD
ESOCKSD=$T/esocksd-lowfd
printf '#!/bin/sh\nulimit -n %d || exit 99\nexec "%s" "$@"\n' \
    $LIMIT "$REAL" >"$ESOCKSD"
chmod +x "$ESOCKSD"

SP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/server.pid" \
    HANDSHAKE_TIMEOUT=30 LOG_CONNECTION=no
start_esocksd server "$T/server.conf"
LOG=$ESOCKSD_LOG
PID=$ESOCKSD_PID
grep -q "^Max open files  *$LIMIT  *$LIMIT " "/proc/$PID/limits" ||
    fail "the daemon's descriptor limit is not $LIMIT:" \
    "$(grep 'open files' "/proc/$PID/limits")"

nfd() {
	ls "/proc/$PID/fd" 2>/dev/null | wc -l | tr -d ' '
}

got=$(echo warm | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 5 \
    2>/dev/null)
[ "$got" = warm ] || fail "no tunnel before the overload: '$got'"
sleep 0.3
BASE=$(nfd)

# Idle clients that hold their connection (the handshake deadline is
# far away) until they are killed or the server closes them.
PIDS=
i=0
while [ $i -lt $NCLIENTS ]; do
	"$SOCKSC" -D -t 127.0.0.1:$SP -H -w 40 >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	track_pid $!
	i=$((i + 1))
done
wait_log "$LOG" 'out of descriptors accepting on 127\.0\.0\.1:' 10 ||
    fail "no 'out of descriptors' line with $NCLIENTS clients and" \
    "ulimit -n $LIMIT ($(nfd) descriptors open)"
lib_alive $PID || fail "the daemon died out of descriptors"

# Over 2 s of overload, a quarter of one CPU at most.
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
c0=$(cpu_ticks $PID) || exit 1
sleep 2
c1=$(cpu_ticks $PID) || exit 1
used=$((c1 - c0))
max=$((HZ * 2 / 4))
[ $used -le $max ] ||
    fail "the daemon spins out of descriptors: $used ticks of CPU in 2 s" \
    "(at most $max allowed, $HZ a second)"
lib_alive $PID || fail "the daemon died out of descriptors"

# The clients go; the daemon serves again at once.
for p in $PIDS; do
	kill $p 2>/dev/null
done
for p in $PIDS; do
	wait $p 2>/dev/null
done
t0=$(now_ms)
wait_for "'$SOCKSC' -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 2" 5 ||
    fail "the daemon does not serve 5 s after the connections closed"
el=$(( $(now_ms) - t0 ))
[ $el -le 1500 ] ||
    fail "the daemon took $el ms to serve again after the overload"
got=$(echo back | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 5 \
    2>/dev/null)
[ "$got" = back ] || fail "no full tunnel after the overload: '$got'"
wait_for "[ \$(nfd) -le $BASE ]" 5 ||
    fail "descriptors: $(nfd) now, $BASE before the overload (a leak)"

# The warning is rate-limited (at most one a second).
n=$(grep -c 'out of descriptors' "$LOG")
[ "$n" -le 15 ] || fail "'out of descriptors' logged $n times: a flood"
stop_pid $PID
rc=$?
[ $rc -eq 0 ] || fail "the daemon exited $rc after the overload"
sec_finish
exit 0
