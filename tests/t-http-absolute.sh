#!/bin/sh
# Absolute-form HTTP requests on the SOCKS port (curl -x, http_proxy), in
# direct mode and through a worker: the origin gets the request in
# origin-form with Host from the URI, without hop-by-hop and Proxy-*
# fields, with Connection: close, and with its body (Content-Length or
# chunked) intact; a pipelined second request, for another origin, is
# not forwarded; LF-only lines are accepted and sent on as CRLF; a bare
# CR is 400, a header over 16 KiB 431; the access line says cmd=http.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/lib-http.sh"

need_curl
start_origin
O1=$ORIGIN_PORT
D1=$ORIGIN_DIR
start_origin
O2=$ORIGIN_PORT
D2=$ORIGIN_DIR

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG

# req N: origin 1's request N.
req() {
	ORIGIN_DIR=$D1 origin_request "$1"
}

# has N LINE / lacks N PATTERN: a header line in origin 1's request N.
has() {
	req "$1" | tr -d '\r' | grep -q -x -F "$2" ||
	    fail "request $1 lacks '$2': $(req "$1")"
}
lacks() {
	! req "$1" | grep -q -i -E "$2" ||
	    fail "request $1 has '$2': $(req "$1")"
}

# A GET with fields the proxy must take out, and one it must keep.
got=$(curl -sS -m 10 -x "http://127.0.0.1:$SP" -H 'Proxy-Foo: secret' \
    -H 'Connection: X-Secret' -H 'X-Secret: 1' -H 'Keep-Alive: 5' \
    -H 'TE: trailers' -H 'X-Kept: yes' \
    "http://127.0.0.1:$O1/a/b?c=d" 2>"$T/curl.err")
[ "$got" = "thttpd 1" ] || fail "curl -x GET: got '$got' $(cat "$T/curl.err")"
[ "$(req 1 | head -n 1)" = "$(printf 'GET /a/b?c=d HTTP/1.1\r')" ] ||
    fail "the origin's request line: '$(req 1 | head -n 1)'"
has 1 "Host: 127.0.0.1:$O1"
has 1 "Connection: close"
has 1 "X-Kept: yes"
lacks 1 '^(proxy-|x-secret|keep-alive|te:)'
[ "$(req 1 | grep -c -i '^connection:')" -eq 1 ] ||
    fail "more than one Connection field: $(req 1)"
wait_log "$SLOG" "^access .* cmd=http dest=127.0.0.1:$O1 via=direct result=ok " 5 ||
    fail "no cmd=http access line"

# Bodies: Content-Length, and chunked, reach the origin intact.
got=$(curl -sS -m 10 -x "http://127.0.0.1:$SP" -d 'hello=world' \
    "http://127.0.0.1:$O1/post" 2>"$T/curl.err")
[ "$got" = "thttpd 2" ] || fail "POST: got '$got' $(cat "$T/curl.err")"
has 2 "Content-Length: 11"
[ "$(req 2 | tail -c 11)" = "hello=world" ] ||
    fail "POST body: $(req 2)"
"$SOCKSC" -G 100K >"$T/big"
got=$(curl -sS -m 10 -x "http://127.0.0.1:$SP" \
    -H 'Transfer-Encoding: chunked' --data-binary "@$T/big" \
    "http://127.0.0.1:$O1/chunked" 2>"$T/curl.err")
[ "$got" = "thttpd 3" ] || fail "chunked POST: got '$got' $(cat "$T/curl.err")"
has 3 "Transfer-Encoding: chunked"
[ "$(req 3 | tail -c 5 | od -An -c | tr -d ' ')" = '0\r\n\r\n' ] ||
    fail "the chunked body did not end with the last chunk"

# Pipelined: a second request, for origin 2, behind the first (and
# behind a body) is not forwarded anywhere.
got=$(printf 'GET http://127.0.0.1:%s/one HTTP/1.1\r\nHost: x\r\n\r\nGET http://127.0.0.1:%s/two HTTP/1.1\r\nHost: y\r\n\r\n' \
    $O1 $O2 | raw_http $SP)
[ "$(status_of "$got")" = 200 ] || fail "pipelined: answered '$got'"
lacks 4 'two|GET http'
[ "$(req 4 | grep -c GET)" -eq 1 ] || fail "pipelined: $(req 4)"
got=$(printf 'POST http://127.0.0.1:%s/body HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET http://127.0.0.1:%s/two HTTP/1.1\r\n\r\n' \
    $O1 $O2 | raw_http $SP)
[ "$(status_of "$got")" = 200 ] || fail "pipelined after a body: '$got'"
[ "$(req 5 | tail -c 9)" = "$(printf '\r\n\r\nhello')" ] ||
    fail "pipelined after a body: origin 1 got $(req 5)"
wait_log "$SLOG" "dropping bytes after the request" 5 ||
    fail "no log line for the dropped pipelined request"
sleep 0.3
[ -z "$(ls "$D2")" ] || fail "origin 2 got a request: $(cat "$D2"/*)"

# LF-only lines: accepted, sent on with CRLF.
got=$(printf 'GET http://127.0.0.1:%s/lf HTTP/1.1\nX-A: b\n\n' $O1 |
    raw_http $SP)
[ "$(status_of "$got")" = 200 ] || fail "LF-only request: answered '$got'"
[ "$(req 6)" = "$(printf 'GET /lf HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nX-A: b\r\nConnection: close\r\n\r\n' $O1)" ] ||
    fail "LF-only request reached the origin as '$(req 6)'"

# Refused: bare CR, a header over 16 KiB, origin-form.
refuse() {
	_st=$(status_of "$2")
	[ "$_st" = "$1" ] || fail "$3: answered '$2', want $1"
	printf '%s' "$2" | grep -q '^Connection: close' ||
	    fail "$3: the $1 answer lacks Connection: close"
	grep -q timeout "$T/raw.err" && fail "$3: not closed after $1"
	:
}
refuse 400 "$(printf 'GET http://127.0.0.1:%s/ HTTP/1.1\rX: 1\r\n\r\n' $O1 |
    raw_http $SP)" "bare CR"
pad=$(printf '%17000s' '' | tr ' ' a)
refuse 431 "$(printf 'GET http://127.0.0.1:%s/ HTTP/1.1\r\nX-Pad: %s\r\n\r\n' \
    $O1 "$pad" | raw_http $SP)" "17000-byte header"
grep -q 'HTTP 431: request header too long' "$SLOG" ||
    fail "no log line for the long header"
refuse 400 "$(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | raw_http $SP)" \
    "origin-form"
[ ! -f "$D1/req.7" ] || fail "a refused request reached the origin"

# Through a worker: the same, via its name.
write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=hw2 \
    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/w.pid"
start_esocksd worker "$T/w.conf"
WPID=$ESOCKSD_PID
wait_log "$SLOG" 'worker hw2 .* joined the pool' 10 ||
    fail "the worker did not register"
got=$(curl -sS -m 10 -x "http://127.0.0.1:$SP" -H 'Proxy-Foo: secret' \
    "http://127.0.0.1:$O1/via-worker" 2>"$T/curl.err")
[ "$got" = "thttpd 7" ] || fail "GET via the worker: '$got' $(cat "$T/curl.err")"
lacks 7 '^proxy-'
has 7 "Connection: close"
wait_log "$SLOG" "^access .* cmd=http dest=127.0.0.1:$O1 via=hw2 result=ok " 5 ||
    fail "no cmd=http via=hw2 access line"
stop_pid $WPID >/dev/null
ESOCKSD_PID=$(cat "$T/server.pid")
stop_daemon
exit 0
