#!/bin/sh
# A hostile server floods a worker with sessions opened and reset at once
# (S then R, 20,000 times, for a destination that answers): the worker
# stays up, its memory and descriptors stay bounded and return to their
# baseline, and it keeps serving its real server.  The fake server is
# tests/tlinkpeer, a legacy text-net server that floods once it has the
# worker's RGST.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$TLINKPEER" ] || skip "tests/tlinkpeer not built"

# Under --enable-asan freed memory waits in ASan's quarantine (256 MiB by
# default) and counts as resident: keep it small so RSS measures us.
ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" NO_WORKER=refuse
start_esocksd server "$T/server.conf"
SPID=$ESOCKSD_PID
SLOG=$ESOCKSD_LOG

# The flood, written by a legacy text-net "server" that reads nothing
# but the RGST it waits for (no HELO: the worker registers legacy after
# two seconds).
awk -v port=$ECHO 'BEGIN {
	for (i = 1; i <= 20000; i++) {
		id = 2 * i - 1
		printf "SESS %d 0 %d S SOCKS 127.0.0.1 %d connect\r\n", 2 * i, id, port
		printf "SESS %d 0 %d R\r\n", 2 * i + 1, id
	}
}' >"$T/flood"
printf '@wait\n@file %s\n' "$T/flood" >"$T/fake.script"
"$TLINKPEER" -P "$T/fake.port" -s "$T/fake.script" 2>"$T/fake.log" &
track_pid $!
LIB_LOGS="$LIB_LOGS $T/fake.log"
wait_for "test -s '$T/fake.port'" 10 || fail "the fake server did not listen"
FP=$(cat "$T/fake.port")

write_conf "$T/worker.conf" "SERVERS='127.0.0.1:$WP 127.0.0.1:$FP'" \
    WORKER_NAME=victim "PIDFILE=$T/worker.pid" RECONNECT_INTERVAL=60
start_esocksd worker "$T/worker.conf"
WPID=$ESOCKSD_PID
wait_log "$SLOG" 'worker victim .* joined the pool' ||
    fail "the worker did not register with the real server"
fds0=$(ls /proc/$WPID/fd | wc -l)

# The worker takes in the whole flood within a few seconds: its counters
# (SIGUSR1) show every session the fake server opened.  (Not _n: that is
# wait_for's own.)
flood_seen() {
	kill -USR1 $WPID
	sleep 0.3
	_seen=$(sed -n 's/.*counters: links_up=.* sessions_total=\([0-9]*\).*/\1/p' \
	    "$ESOCKSD_LOG" | tail -n 1)
	[ "${_seen:-0}" -ge 20000 ]
}
wait_for flood_seen 30 || fail "the worker did not take in the flood"
lib_alive $WPID || fail "the worker died under the flood"
rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$WPID/status)
[ -n "$rss" ] && [ "$rss" -lt 65536 ] ||
    fail "worker RSS under the flood is ${rss:-?} kB, want < 64 MiB"

# It still carries tunnels for its real server.
got=$(printf 'still' | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
    -w 10 2>"$T/err") || fail "tunnel after the flood: $(cat "$T/err")"
[ "$got" = still ] || fail "tunnel after the flood gave '$got'"
grep -q 'via=victim result=ok' "$SLOG" ||
    fail "the tunnel did not go through the flooded worker"

# Every dial the flood started is over: descriptors back to the baseline
# (the fake server's link may be gone, so allow one less).
wait_for "[ \$(ls /proc/$WPID/fd | wc -l) -le $fds0 ]" 20 ||
    fail "worker holds $(ls /proc/$WPID/fd | wc -l) descriptors, $fds0 before"

stop_daemon
ESOCKSD_PID=$SPID
ESOCKSD_LOG=$SLOG
stop_daemon
exit 0
