#!/bin/sh
# Garbage on both ports: random bytes, and a few near-misses, on the
# SOCKS port and the worker port, 50 connections each, leave the daemon
# serving, and every descriptor they took is given back (the count in
# /proc/PID/fd returns to its baseline).
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

[ -d /proc/self/fd ] || skip "needs /proc/PID/fd to count descriptors"
[ -r /dev/urandom ] || skip "needs /dev/urandom"

ROUNDS=50
BATCH=5

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
# Random bytes can spell a SOCKS4 CONNECT to any address: DEST_ALLOW
# admits only the echo sink, so nothing else is ever dialled.
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    "DEST_ALLOW=127.0.0.1:$ECHO" HANDSHAKE_TIMEOUT=2 LOG_EVENT=yes
start_esocksd server "$T/server.conf"
LOG=$ESOCKSD_LOG
PID=$ESOCKSD_PID

# Descriptors the daemon holds now.
nfd() {
	ls "/proc/$PID/fd" 2>/dev/null | wc -l | tr -d ' '
}

# A tunnel through the proxy answers; the argument names the moment.
check_serving() {
	_got=$(echo "$1" | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
	    -w 10 2>"$T/err")
	[ "$_got" = "$1" ] ||
	    fail "$1: no working tunnel: '$_got' $(cat "$T/err")"
}

# Send stdin to PORT as raw TCP and read whatever comes back.
raw() {
	"$SOCKSC" -D -t "127.0.0.1:$1" -w 10 >/dev/null 2>&1
}

# Warm up (resolver threads and their pipes), then take the baseline.
check_serving warmup
sleep 0.3
BASE=$(nfd)
[ "$BASE" -gt 0 ] || fail "cannot count the daemon's descriptors"

for port in $SP $WP; do
	i=0
	while [ $i -lt $ROUNDS ]; do
		j=0
		pids=
		while [ $j -lt $BATCH ]; do
			head -c 4096 /dev/urandom | raw $port &
			pids="$pids $!"
			j=$((j + 1))
		done
		for p in $pids; do
			wait $p
		done
		i=$((i + BATCH))
	done
	lib_alive $PID || fail "the daemon died of random bytes on port $port"
done

# Near-misses: valid starts that go wrong, and closes without a byte.
{ printf '\005\001\000'; head -c 2000 /dev/urandom; } | raw $SP
{ printf '\005\002\002\000\001\004'; head -c 600 /dev/urandom; } | raw $SP
{ printf '\004\001\000\120'; head -c 3000 /dev/urandom | tr -d '\000'; } |
    raw $SP
printf 'GET / HTTP/1.0\r\n\r\n' | raw $SP
raw $SP </dev/null
printf 'RGST 0 0\r\n' | raw $WP
head -c 9000 /dev/zero | tr '\000' A | raw $WP
printf 'SESS 1 0 1 S SOCKS\000 x 80 connect\r\n' | raw $WP
printf 'PING 1 -5\r\n' | raw $WP
raw $WP </dev/null
lib_alive $PID || fail "the daemon died of malformed handshakes"

# Every garbage connection was closed with a reason.
grep -q "not a SOCKS 4 or 5 request" "$LOG" ||
    fail "no log line for random bytes on the SOCKS port"
grep -E -q "worker link from 127\\.0\\.0\\.1:[0-9]+ closed: \
(invalid message code|header too long|NUL byte in header)" "$LOG" ||
    fail "no log line for random bytes on the worker port"

check_serving after-garbage
wait_for "[ \$(nfd) -le $BASE ]" 10 ||
    fail "descriptors: $(nfd) now, $BASE before the garbage (a leak)"
# The SIGUSR1 counters line is still written: the loop is healthy.
kill -USR1 $PID
wait_log "$LOG" 'counters: workers=0 ' 5 ||
    fail "no counters line after SIGUSR1"
stop_pid $PID
rc=$?
[ $rc -eq 0 ] || fail "the daemon exited $rc after the garbage"
sec_finish
exit 0
