#!/bin/sh
# `promtool check metrics` (Prometheus's own linter, Debian package
# prometheus) accepts /metrics of both roles, after traffic, so that
# every series (histograms, per-worker states, process_*) is present.
# Skips without promtool.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
command -v promtool >/dev/null 2>&1 ||
    skip "promtool not installed (Debian package prometheus)"

start_sink echo
ECHO=$SINK_PORT

# metrics PORT FILE: GET /metrics into FILE.
metrics() {
	printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' |
	    "$SOCKSC" -D -t "127.0.0.1:$1" -w 10 2>/dev/null |
	    tr -d '\r' | sed '1,/^$/d' >"$2"
	[ -s "$2" ] || fail "no metrics from port $1"
}

SP=$(free_port)
WP=$(free_port)
ST=$(free_port)
WS=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$ST" \
    NO_WORKER=refuse "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=w1 \
    "STATS_LISTEN=127.0.0.1:$WS" "PIDFILE=$T/w.pid"
start_esocksd worker "$T/w.conf"
wait_log "$SRV_LOG" 'joined the pool' 10 || fail "the worker did not join"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 1K -k -w 10 >/dev/null ||
    fail "a request failed"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:1 -n -w 10 >/dev/null 2>&1

metrics $ST "$T/server.prom"
metrics $WS "$T/worker.prom"
for role in server worker; do
	promtool check metrics <"$T/$role.prom" >"$T/$role.lint" 2>&1 ||
	    fail "promtool on the $role's metrics: $(cat "$T/$role.lint")"
	echo "promtool: the $role's $(grep -vc '^#' "$T/$role.prom") series pass"
done
exit 0
