#!/bin/sh
# HTTP CONNECT on the SOCKS port, in direct mode and through a worker:
# curl -p reaches an origin through the tunnel (also at an IPv6 literal),
# early bytes after the header go through, the access line says
# cmd=connect with via=; refusals answer 400, 403, 502 (refused, no
# worker) and 504 (connect timeout), small and closed.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/lib-http.sh"

need_curl
start_origin
ORIGIN=$ORIGIN_PORT
start_sink echo
ECHO=$SINK_PORT
start_sink blackhole
HOLE=$SINK_PORT
DEAD=$(free_port)

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN='127.0.0.1:$SP [::1]:$SP'" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" CONNECT_TIMEOUT=1 \
    "DEST_DENY=127.0.0.2/32"
have_ipv6 || write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" CONNECT_TIMEOUT=1 \
    "DEST_DENY=127.0.0.2/32"
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG

# get N URL VIA: curl through a CONNECT tunnel, the origin's answer N,
# and the access line naming VIA.
get() {
	_got=$(curl -sS -m 10 -p -x "http://127.0.0.1:$SP" "$2" 2>"$T/curl.err")
	[ "$_got" = "thttpd $1" ] ||
	    fail "curl -p $2: got '$_got' $(cat "$T/curl.err")"
	_req=$(origin_request "$1" | head -n 1 | tr -d '\r')
	[ "$_req" = "GET /path?q=$1 HTTP/1.1" ] ||
	    fail "the origin got '$_req' through the tunnel"
	wait_log "$SLOG" "^access .* cmd=connect dest=$4:$ORIGIN via=$3 result=ok " 5 ||
	    fail "no access line for CONNECT $4:$ORIGIN via $3"
}

get 1 "http://127.0.0.1:$ORIGIN/path?q=1" direct 127.0.0.1
grep -q "connection from" "$SLOG" || fail "no connection line"

# A CONNECT written by hand, with the tunnel's first bytes behind it.
got=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\nhello\n' \
    $ECHO | raw_http $SP | tr -d '\r')
want=$(printf 'HTTP/1.1 200 Connection established\n\nhello')
[ "$got" = "$want" ] || fail "CONNECT with early bytes answered '$got'"

# Refusals: each a status line, Connection: close, and the close.
refuse() {
	_got=$(printf "$2" | raw_http $SP)
	_st=$(status_of "$_got")
	[ "$_st" = "$1" ] || fail "'$2' answered '$_got', want $1"
	printf '%s' "$_got" | grep -q '^Connection: close' ||
	    fail "the $1 answer lacks Connection: close: '$_got'"
	grep -q timeout "$T/raw.err" && fail "'$2': not closed after $1"
	:
}
refuse 400 'CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n'
refuse 400 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nBad Header: x\r\n\r\n'
refuse 403 "CONNECT 127.0.0.2:$ECHO HTTP/1.1\r\n\r\n"
refuse 502 "CONNECT 127.0.0.1:$DEAD HTTP/1.1\r\n\r\n"
refuse 504 "CONNECT 127.0.0.1:$HOLE HTTP/1.1\r\n\r\n"
wait_log "$SLOG" "^access .* cmd=connect dest=127.0.0.1:$HOLE via=direct result=timeout " 5 ||
    fail "no access line for the timed-out CONNECT"
grep -q "^access .* cmd=connect dest=127.0.0.2:$ECHO via=direct result=denied " \
    "$SLOG" || fail "no access line for the denied CONNECT"
grep -q 'HTTP 400: bad CONNECT target' "$SLOG" ||
    fail "no log line for the bad CONNECT target"

if have_ipv6; then
	start_origin '[::1]:0'
	got=$(curl -sS -m 10 -p -x "http://[::1]:$SP" \
	    "http://[::1]:$ORIGIN_PORT/path" 2>"$T/curl.err")
	[ "$got" = "thttpd 1" ] ||
	    fail "CONNECT [::1]:$ORIGIN_PORT: got '$got' $(cat "$T/curl.err")"
	wait_log "$SLOG" "^access .* cmd=connect dest=\[::1\]:$ORIGIN_PORT via=direct result=ok " 5 ||
	    fail "no access line for CONNECT [::1]"
fi

# Through a worker: the same, via the worker's name; with none left
# under NO_WORKER=refuse, 502.
stop_daemon
write_conf "$T/pool.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" NO_WORKER=refuse
start_esocksd server "$T/pool.conf"
SLOG=$ESOCKSD_LOG
refuse 502 "CONNECT 127.0.0.1:$ORIGIN HTTP/1.1\r\n\r\n"
wait_log "$SLOG" "^access .* cmd=connect dest=127.0.0.1:$ORIGIN via=none result=failure " 5 ||
    fail "no via=none access line for CONNECT with no worker"
write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=hw1 \
    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/w.pid"
start_esocksd worker "$T/w.conf"
WPID=$ESOCKSD_PID
wait_tunnel $SP || fail "the worker never took a tunnel"
start_origin
ORIGIN=$ORIGIN_PORT
get 1 "http://127.0.0.1:$ORIGIN/path?q=1" hw1 127.0.0.1
stop_pid $WPID >/dev/null
ESOCKSD_PID=$(cat "$T/server.pid")
stop_daemon
exit 0
