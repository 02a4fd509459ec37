#!/bin/sh
# A ping flood on the worker port from a peer that never reads (it
# registers and drains first: before RGST a PING would close its link at
# once, and a draining worker is given no tunnel): the server answers
# every PING that carries a tid, its answers pile up, and once a link has
# 8 MiB queued the server drops it as "peer is not reading" instead of
# growing, logged at the error level (LOG_EVENT is
# off) and counted in link_errors.  Meanwhile a registered worker keeps
# carrying tunnels and the server's RSS stays small.  Needs bash for
# /dev/tcp (skipped with 77 without it).
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

command -v bash >/dev/null 2>&1 || skip "no bash for /dev/tcp"

# Under --enable-asan freed memory waits in ASan's quarantine (256 MiB by
# default) and counts as resident: keep it small so RSS measures us.
ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    NO_WORKER=refuse HANDSHAKE_TIMEOUT=120
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG
SPID=$ESOCKSD_PID
write_conf "$T/steady.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=steady \
    "PIDFILE=$T/steady.pid"
start_esocksd worker "$T/steady.conf"
WPID=$ESOCKSD_PID
wait_log "$SLOG" 'worker steady .* joined the pool' ||
    fail "the steady worker did not register"

# 1.5 million PINGs (about 20 MB) written without ever reading an answer.
bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$WP"' || exit 1
    awk "BEGIN { printf \"RGST 0 0 flooder\r\nDRAIN 0 0\r\n\";
	for (i = 1; i <= 1500000; i++) printf \"PING %d 0\r\n\", i }" >&3
    sleep 10' >"$T/flood.log" 2>&1 &
FLOOD=$!
track_pid $FLOOD

# While it runs, tunnels through the steady worker still work.
i=0
while [ $i -lt 5 ]; do
	got=$(printf 'ping%d' $i | "$SOCKSC" -x 127.0.0.1:$SP \
	    -t 127.0.0.1:$ECHO -w 10 2>"$T/err") ||
	    fail "tunnel $i during the flood: $(cat "$T/err")"
	[ "$got" = "ping$i" ] || fail "tunnel $i during the flood gave '$got'"
	i=$((i + 1))
done

wait_log "$SLOG" \
    '^worker flooder \(127\.0\.0\.1:[0-9]+\) left the pool: peer is not reading$' \
    30 ||
    fail "the flooding link was not dropped for not reading"
kill -USR1 $SPID
wait_log "$SLOG" 'counters: .* link_errors=' 5 ||
    fail "no counters line after SIGUSR1"
n=$(sed -n 's/^counters: .* link_errors=\([0-9]*\).*/\1/p' "$SLOG" |
    tail -n 1)
[ "$n" = 1 ] || fail "link_errors=$n after the flood, want 1"
rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$SPID/status)
[ -n "$rss" ] && [ "$rss" -lt 65536 ] ||
    fail "server RSS after the flood is ${rss:-?} kB, want < 64 MiB"
grep -q 'worker steady .* left the pool' "$SLOG" &&
    fail "the steady worker was dropped during the flood"

got=$(printf 'after' | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
    -w 10 2>"$T/err") || fail "tunnel after the flood: $(cat "$T/err")"
[ "$got" = after ] || fail "tunnel after the flood gave '$got'"

kill $FLOOD 2>/dev/null
stop_pid $WPID || fail "worker did not stop cleanly"
ESOCKSD_PID=$SPID
ESOCKSD_LOG=$SLOG
stop_daemon
exit 0
