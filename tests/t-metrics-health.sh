#!/bin/sh
# Metrics on both roles.  A worker honours STATS_LISTEN (it used to be
# ignored): /metrics shows its links, sessions, bytes, connect failures
# by reason and dial latency; /status answers in text and, with
# ?format=json, in JSON.  The server shows each worker's state gauge,
# connect-latency histogram and ejections, the handshake histogram, and
# esocksd_build_info and the process_* series; /status?format=json
# lists the workers.  One worker (wb) refuses every dial (tests/tfault.so)
# and is ejected: its state and ejection counter say so, its own
# /metrics counts the refusals.  STATS_ALLOW guards the worker's page too.
# Every daemon then stops cleanly on SIGTERM (no sanitizer report).
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
TFAULT=$(cd "$TOP_BUILDDIR" && pwd)/tests/tfault.so
[ -r "$TFAULT" ] || skip "tests/tfault.so (connect interposer) not built"

start_sink echo
ECHO=$SINK_PORT

# http PORT PATH: GET PATH; the body to $T/body, the head to $T/head.
http() {
	printf 'GET %s HTTP/1.0\r\nHost: x\r\n\r\n' "$2" |
	    "$SOCKSC" -D -t "127.0.0.1:$1" -w 10 2>/dev/null |
	    tr -d '\r' >"$T/page"
	sed '/^$/,$d' "$T/page" >"$T/head"
	sed '1,/^$/d' "$T/page" >"$T/body"
}

# has PATTERN: the body has a line matching PATTERN (grep -E).
has() {
	grep -Eq "$1" "$T/body" ||
	    fail "no line matching '$1' in: $(cat "$T/body")"
}

SP=$(free_port)
WP=$(free_port)
ST=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$ST" \
    NO_WORKER=refuse EJECT_FAILURES=2 LOG_EVENT=yes \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
SRV_PID=$ESOCKSD_PID
for name in wa wb; do
	port=$(free_port)
	eval "STATS_$name=$port"
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" RECONNECT_INTERVAL=0.2 \
	    "STATS_LISTEN=127.0.0.1:$port" "PIDFILE=$T/$name.pid"
	if [ $name = wb ]; then
		LD_PRELOAD=$TFAULT TFAULT_MODE=refuse TFAULT_PASS_PORT=$WP \
		    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
		export LD_PRELOAD TFAULT_MODE TFAULT_PASS_PORT ASAN_OPTIONS
	fi
	start_esocksd worker "$T/$name.conf"
	unset LD_PRELOAD TFAULT_MODE TFAULT_PASS_PORT
	eval "LOG_$name=\$ESOCKSD_LOG"
	eval "PID_$name=\$ESOCKSD_PID"
	wait_log "$SRV_LOG" "worker $name \\(.*\\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done
wait_log "$LOG_wa" "worker listening on stats 127\\.0\\.0\\.1:$STATS_wa" 5 ||
    fail "the worker does not say it listens on STATS_LISTEN"

# Until wb is ejected, then a few more through wa.
i=0
while [ $i -lt 20 ] && ! grep -q 'worker wb (.*) ejected' "$SRV_LOG"; do
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 1K -k -w 10 \
	    >/dev/null 2>&1
	i=$((i + 1))
done
grep -q 'worker wb (.*) ejected' "$SRV_LOG" || fail "wb was not ejected"
for i in 1 2 3; do
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 1K -k -w 10 \
	    >/dev/null 2>&1 || fail "a request through wa failed"
done

# The worker's pages.
http $STATS_wa /metrics
grep -q '^Content-Type: text/plain; version=0.0.4' "$T/head" ||
    fail "worker /metrics: $(cat "$T/head")"
has '^esocksd_worker_links_up 1$'
has '^esocksd_sessions_total [1-9]'
has '^esocksd_bytes_up_total [1-9]'
has '^esocksd_dial_seconds_count [1-9]'
has '^esocksd_dial_seconds_bucket\{le="\+Inf"\} [1-9]'
has '^esocksd_build_info\{version="[^"]+"\} 1$'
has '^esocksd_connect_failures_total\{reason="refused"\} 0$'
if [ -d /proc/self/fd ]; then
	has '^process_open_fds [1-9]'
	has '^process_resident_memory_bytes [1-9]'
	has '^process_start_time_seconds [1-9]'
fi
http $STATS_wb /metrics
has '^esocksd_connect_failures_total\{reason="refused"\} [2-9]'
http $STATS_wa /status
has '^esocksd .* worker: 1 links up'
http $STATS_wa '/status?format=json'
grep -q '^Content-Type: application/json' "$T/head" ||
    fail "worker JSON status: $(cat "$T/head")"
has '^\{"version":"[^"]+","role":"worker","links_up":1,'

# The server's pages.
http $ST /metrics
has '^esocksd_worker_state\{worker="wa",state="up"\} 1$'
has '^esocksd_worker_state\{worker="wb",state="ejected"\} 1$'
has '^esocksd_worker_state\{worker="wb",state="up"\} 0$'
has '^esocksd_worker_ejections_total\{worker="wb"\} 1$'
has '^esocksd_worker_connect_seconds_count\{worker="wa"\} [1-9]'
has '^esocksd_worker_connect_seconds_bucket\{worker="wa",le="\+Inf"\} [1-9]'
has '^esocksd_handshake_seconds_count [1-9]'
has '^esocksd_build_info\{version="[^"]+"\} 1$'
http $ST '/status?format=json'
grep -q '^Content-Type: application/json' "$T/head" ||
    fail "server JSON status: $(cat "$T/head")"
has '^\{"version":"[^"]+","role":"server","workers_registered":2,'
has '"name":"wb","address":"127\.0\.0\.1:[0-9]+","up_since":"[-0-9T:]+Z",.*"state":"ejected",'
has '"ejections":1,'
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; json.load(sys.stdin)' <"$T/body" ||
	    fail "the server's JSON status does not parse: $(cat "$T/body")"
fi

# STATS_ALLOW applies to the worker's listener too.
write_conf "$T/wa.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=wa \
    RECONNECT_INTERVAL=0.2 "STATS_LISTEN=127.0.0.1:$STATS_wa" \
    STATS_ALLOW=10.0.0.0/8 "PIDFILE=$T/wa.pid"
kill -HUP "$(cat "$T/wa.pid")"
wait_log "$LOG_wa" "reloaded $T/wa.conf" 5 || fail "wa did not reload"
http $STATS_wa /metrics
[ -s "$T/body" ] && fail "a refused address read the worker's metrics"
wait_log "$LOG_wa" "refused 127\\.0\\.0\\.1:[0-9]+ on stats .*STATS_ALLOW" 5 ||
    fail "the refusal on the worker's stats port was not logged"

for d in wa wb; do
	eval "ESOCKSD_PID=\$PID_$d ESOCKSD_LOG=\$LOG_$d"
	stop_daemon
done
ESOCKSD_PID=$SRV_PID ESOCKSD_LOG=$SRV_LOG
stop_daemon
exit 0
