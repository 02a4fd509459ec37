#!/bin/sh
# DRAIN goes only over a link whose handshake is done (PROTOCOL.md 2 and
# 3): before it, either side takes nothing but the handshake and counts
# anything else as a protocol error.  A worker stopped while it waits for
# the server's HELO (the server is frozen here, so the kernel has taken
# the connection but no one answers) closes the link without a DRAIN:
# the server, once it runs again, sees a link that closed, not a
# protocol error to log under LOG_ERROR and count in link_errors.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SECRET=0123456789abcdef0123456789abcdef
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    "WORKER_SECRET=$SECRET" LOG_EVENT=yes LOG_ERROR=yes
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG
SPID=$ESOCKSD_PID

kill -STOP $SPID
write_conf "$T/worker.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=w1 \
    "WORKER_SECRET=$SECRET" "PIDFILE=$T/worker.pid"
start_esocksd worker "$T/worker.conf"
if ! wait_link $WP 5; then
	kill -CONT $SPID
	fail "the worker did not connect to the frozen server"
fi
sleep 0.3
stop_daemon
kill -CONT $SPID

wait_log "$SLOG" 'worker link from 127\.0\.0\.1:[0-9]+ closed: ' 10 ||
    fail "the server did not see the link close"
grep 'worker link from' "$SLOG" >&2
grep -q 'DRAIN before registration' "$SLOG" &&
    fail "the stopping worker sent DRAIN before it registered"
kill -USR1 $SPID
wait_log "$SLOG" '^counters: workers' 5 || fail "no counters on SIGUSR1"
grep -q '^counters: workers.* link_errors=0 ' "$SLOG" ||
    fail "the link was counted as an error: $(grep '^counters: w' "$SLOG")"
ESOCKSD_PID=$SPID
ESOCKSD_LOG=$SLOG
stop_daemon
exit 0
