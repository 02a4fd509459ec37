#!/bin/sh
# STATS_LISTEN: GET /metrics answers 200 with Prometheus text whose
# counters follow the traffic (workers, tunnels and bytes by route,
# connect failures by reason), GET /status answers 200 with a table of
# the workers, anything else is 404 (or 405 for another method), and a
# client outside STATS_ALLOW is closed without a byte.
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

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
ST=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$ST" \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG
SPID=$ESOCKSD_PID

# http METHOD PATH [PORT]: one HTTP/1.0 request; the answer, CRs removed,
# goes to $T/resp, its status line to $status and its body to $T/body.
http() {
	printf '%s %s HTTP/1.0\r\nHost: x\r\n\r\n' "$1" "$2" |
	    "$SOCKSC" -D -t "127.0.0.1:${3:-$ST}" -w 10 2>"$T/http.err" |
	    tr -d '\r' >"$T/resp"
	status=$(sed -n 1p "$T/resp")
	sed '1,/^$/d' "$T/resp" >"$T/body"
}

# metric LINE-START: the value of the first sample line that starts with
# LINE-START followed by a blank (empty when there is none).
metric() {
	awk -v k="$1" 'substr($0, 1, length(k) + 1) == k " " {
	    print substr($0, length(k) + 2); exit }' "$T/body"
}

# expect_metric NAME WANT: fail unless the metric's value is WANT.
expect_metric() {
	_v=$(metric "$1")
	[ "$_v" = "$2" ] ||
	    fail "metric $1 is '$_v', want '$2'; metrics: $(cat "$T/body")"
}

# A fresh server: 200, the Prometheus format, the pool empty.
http GET /metrics
[ "$status" = "HTTP/1.0 200 OK" ] ||
    fail "GET /metrics answered '$status' ($(cat "$T/http.err"))"
grep -q -i '^Content-Type: text/plain; version=0\.0\.4$' "$T/resp" ||
    fail "GET /metrics lacks the Prometheus content type: $(cat "$T/resp")"
len=$(sed -n 's/^Content-Length: //p' "$T/resp")
[ "$len" = "$(wc -c <"$T/body" | tr -d ' ')" ] ||
    fail "Content-Length $len does not match the body"
grep -q '^# TYPE esocksd_workers_registered gauge$' "$T/body" ||
    fail "no TYPE line for esocksd_workers_registered"
expect_metric esocksd_workers_registered 0
# Every line is a comment or "name{labels} value" with a number.
LABEL='[a-z_]+="[^"]*"'
SAMPLE="[a-z_]+(\\{$LABEL(,$LABEL)*\\})? [0-9]+(\\.[0-9]+)?"
bad=$(grep -v -E "^(# (HELP|TYPE) .*|$SAMPLE)\$" "$T/body")
[ -z "$bad" ] || fail "lines not in the Prometheus text format: $bad"

# A direct tunnel of known size, and a refused connect.
CLOSED=$(free_port)
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 12345 -k -w 10 \
    >/dev/null 2>&1 || fail "the direct tunnel failed"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$CLOSED -n -w 10 >/dev/null 2>&1
[ $? -eq 3 ] || fail "a connect to a closed port was not refused"
wait_log "$SLOG" "access .*dest=127\\.0\\.0\\.1:$CLOSED .*result=refused" ||
    fail "no access line for the refused connect"
http GET /metrics
[ "$status" = "HTTP/1.0 200 OK" ] || fail "GET /metrics answered '$status'"
expect_metric 'esocksd_sessions_total{worker="direct"}' 1
expect_metric 'esocksd_sessions_active{worker="direct"}' 0
expect_metric 'esocksd_bytes_up_total{worker="direct"}' 12345
expect_metric 'esocksd_bytes_down_total{worker="direct"}' 12345
expect_metric \
    'esocksd_connect_failures_total{worker="direct",reason="refused"}' 1
[ "$(metric esocksd_clients_accepted_total)" -ge 2 ] ||
    fail "esocksd_clients_accepted_total below 2: $(cat "$T/body")"

# A worker registers: it is counted, named on /status, and carries
# tunnels counted under its name.
write_conf "$T/worker.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=statsbox \
    "PIDFILE=$T/worker.pid"
start_esocksd worker "$T/worker.conf"
wait_log "$SLOG" 'worker statsbox .* joined the pool' ||
    fail "the worker did not register"
http GET /metrics
expect_metric esocksd_workers_registered 1
got=$(echo via-worker | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
    -w 10 2>/dev/null)
[ "$got" = via-worker ] || fail "no tunnel through the worker: '$got'"
wait_log "$SLOG" 'access .*via=statsbox result=ok' ||
    fail "the tunnel did not go through the worker"
http GET /metrics
expect_metric 'esocksd_sessions_total{worker="statsbox"}' 1
expect_metric 'esocksd_bytes_up_total{worker="statsbox"}' 11
expect_metric 'esocksd_sessions_total{worker="direct"}' 1

http GET /status
[ "$status" = "HTTP/1.0 200 OK" ] || fail "GET /status answered '$status'"
grep -q '1 workers registered' "$T/body" ||
    fail "/status does not count the worker: $(cat "$T/body")"
# WORKER ADDRESS UP-SINCE SESSIONS TOTAL SENT RECEIVED STATE TAGS
ROW='^statsbox +127\.0\.0\.1:[0-9]+ +[0-9T:-]+Z +0 +1 +[0-9]+ +[0-9]+ +up +-$'
grep -q -E "$ROW" "$T/body" ||
    fail "/status has no row for statsbox: $(cat "$T/body")"

# Anything else: 404, another method 405.
for path in / /metrics/ /metricsx /status/x /favicon.ico; do
	http GET "$path"
	[ "$status" = "HTTP/1.0 404 Not Found" ] ||
	    fail "GET $path answered '$status', want 404"
done
http POST /metrics
case $status in
"HTTP/1.0 404 "*|"HTTP/1.0 405 "*) ;;
*) fail "POST /metrics answered '$status', want 404 or 405" ;;
esac
lib_alive $SPID || fail "the server died"

# STATS_ALLOW that excludes 127.0.0.1: closed before a byte.
SP2=$(free_port)
ST2=$(free_port)
write_conf "$T/closed.conf" "SOCKS_LISTEN=127.0.0.1:$SP2" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "STATS_LISTEN=127.0.0.1:$ST2" \
    "PIDFILE=$T/closed.pid" STATS_ALLOW=127.0.0.2/32
start_esocksd server "$T/closed.conf"
CLOG=$ESOCKSD_LOG
http GET /metrics $ST2
[ -z "$status" ] && [ ! -s "$T/resp" ] ||
    fail "a client outside STATS_ALLOW got an answer:" "$(cat "$T/resp")"
LO='127\.0\.0\.1'
wait_log "$CLOG" "refused $LO:[0-9]+ on stats $LO:$ST2: not in STATS_ALLOW" ||
    fail "no log line for the client outside STATS_ALLOW"
# The SOCKS port's CLIENT_ALLOW is separate: it still serves.
got=$(echo socks | "$SOCKSC" -x 127.0.0.1:$SP2 -t 127.0.0.1:$ECHO -w 10 \
    2>/dev/null)
[ "$got" = socks ] || fail "STATS_ALLOW closed the SOCKS port too: '$got'"
sec_finish
exit 0
