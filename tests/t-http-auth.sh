#!/bin/sh
# AUTH=password for HTTP proxy clients: Proxy-Authorization: Basic is
# checked against the same PASSWORD_FILE as SOCKS5 logins.  Without
# credentials, with a wrong password or an unknown user the answer is
# 407 with Proxy-Authenticate: Basic realm="esocksd", and closed; with
# the right ones CONNECT and absolute-form requests go through, the
# access line names the user, and the origin never sees the credentials.
# The user name's parameters (-tag-eu-session-x) choose the worker as a
# SOCKS5 one does, and so does the account's policy (tags=); one the
# codec refuses is a failed login.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/lib-http.sh"

need_curl
# As t-sec-auth.sh: openssl's hash where it makes "$5$" ones, else a
# published SHA-crypt vector.
if H1=$(openssl passwd -5 -salt esocksauth 'first pass' 2>/dev/null) &&
    case $H1 in '$5$'*) true ;; *) false ;; esac; then
	P1='first pass'
else
	H1='$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'
	P1='Hello world!'
fi
umask 077
printf 'alice:%s\nerin:%s:tags=us\n' "$H1" "$H1" >"$T/passwd"

start_origin
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" AUTH=password \
    "PASSWORD_FILE=$T/passwd"
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG

# denied WHAT CREDENTIALS-FIELD: a raw CONNECT answered 407 and closed.
denied() {
	_got=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\n%s\r\n' $ORIGIN_PORT \
	    "$2" | raw_http $SP | tr -d '\r')
	[ "$(status_of "$_got")" = 407 ] || fail "$1: answered '$_got'"
	printf '%s\n' "$_got" |
	    grep -q -x -F 'Proxy-Authenticate: Basic realm="esocksd"' ||
	    fail "$1: no Proxy-Authenticate in '$_got'"
	printf '%s\n' "$_got" | grep -q -x 'Connection: close' ||
	    fail "$1: no Connection: close in '$_got'"
	grep -q timeout "$T/raw.err" && fail "$1: not closed after 407"
	:
}
b64() {
	printf '%s' "$1" | base64 | tr -d '\n'
}
denied "no credentials" ""
denied "wrong password" "Proxy-Authorization: Basic $(b64 'alice:wrong')
"
denied "unknown user" "Proxy-Authorization: Basic $(b64 "bob:$P1")
"
denied "another scheme" "Proxy-Authorization: Bearer $(b64 "alice:$P1")
"
grep -q 'bad password for user alice' "$SLOG" ||
    fail "no log line for alice's wrong password"
grep -q 'bad password for user bob' "$SLOG" ||
    fail "no log line for the unknown user"
grep -q 'HTTP 407: no credentials' "$SLOG" ||
    fail "no log line for the request without credentials"

# curl: no credentials or wrong ones, 407; the right ones, through.
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' \
    -x "http://127.0.0.1:$SP" "http://127.0.0.1:$ORIGIN_PORT/" 2>&1)
[ "$code" = 407 ] || fail "curl -x without credentials: '$code'"
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -U 'alice:nope' \
    -x "http://127.0.0.1:$SP" "http://127.0.0.1:$ORIGIN_PORT/" 2>&1)
[ "$code" = 407 ] || fail "curl -x with a wrong password: '$code'"
got=$(curl -sS -m 10 -p -U "alice:$P1" -x "http://127.0.0.1:$SP" \
    "http://127.0.0.1:$ORIGIN_PORT/tunnel" 2>"$T/curl.err")
[ "$got" = "thttpd 1" ] || fail "curl -p as alice: '$got' $(cat "$T/curl.err")"
wait_log "$SLOG" "^access .* user=alice cmd=connect dest=127.0.0.1:$ORIGIN_PORT via=direct result=ok " 5 ||
    fail "no access line naming alice for CONNECT"
got=$(curl -sS -m 10 -U "alice:$P1" -x "http://127.0.0.1:$SP" \
    "http://127.0.0.1:$ORIGIN_PORT/get" 2>"$T/curl.err")
[ "$got" = "thttpd 2" ] || fail "curl -x as alice: '$got' $(cat "$T/curl.err")"
wait_log "$SLOG" "^access .* user=alice cmd=http dest=127.0.0.1:$ORIGIN_PORT via=direct result=ok " 5 ||
    fail "no access line naming alice for GET"
! origin_request 2 | grep -q -i '^proxy-authorization' ||
    fail "the origin got the credentials: $(origin_request 2)"

# User-name parameters, as in a SOCKS5 user name: the account is BASE,
# -tag- picks the worker, a bad value is a failed login.
for w in weu:eu wus:us; do
	write_conf "$T/${w%:*}.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=${w%:*}" "WORKER_TAGS=${w#*:}" \
	    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/${w%:*}.pid"
	start_esocksd worker "$T/${w%:*}.conf"
done
for name in weu wus; do
	wait_log "$SLOG" "worker $name \(.*\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done
ESOCKSD_PID=$(cat "$T/server.pid")
got=$(curl -sS -m 10 -p -U "alice-tag-eu-session-x:$P1" \
    -x "http://127.0.0.1:$SP" "http://127.0.0.1:$ORIGIN_PORT/eu" \
    2>"$T/curl.err")
[ "$got" = "thttpd 3" ] || fail "curl -p tag eu: '$got' $(cat "$T/curl.err")"
wait_log "$SLOG" "^access .* user=alice-tag-eu-session-x cmd=connect .* via=weu result=ok .* session=x tags=eu$" 5 ||
    fail "no CONNECT via weu with session=x tags=eu"
got=$(curl -sS -m 10 -U "alice-tag-us:$P1" -x "http://127.0.0.1:$SP" \
    "http://127.0.0.1:$ORIGIN_PORT/us" 2>"$T/curl.err")
[ "$got" = "thttpd 4" ] || fail "curl -x tag us: '$got' $(cat "$T/curl.err")"
wait_log "$SLOG" "^access .* user=alice-tag-us cmd=http .* via=wus result=ok .* tags=us$" 5 ||
    fail "no GET via wus with tags=us"
# The account's policy in PASSWORD_FILE applies too: erin's tags=us
# keeps all four of her requests on wus.
for n in 5 6 7 8; do
	got=$(curl -sS -m 10 -U "erin:$P1" -x "http://127.0.0.1:$SP" \
	    "http://127.0.0.1:$ORIGIN_PORT/erin" 2>"$T/curl.err")
	[ "$got" = "thttpd $n" ] ||
	    fail "curl -x as erin: '$got' $(cat "$T/curl.err")"
done
wait_for "[ \$(grep -c '^access .* user=erin ' '$SLOG') -ge 4 ]" 5 ||
    fail "fewer than 4 access lines for erin"
n=$(grep -c "^access .* user=erin cmd=http .* via=wus result=ok .* tags=us$" \
    "$SLOG")
[ "$n" -eq 4 ] || fail "$n of erin's 4 requests via wus (tags=us)"
denied "a bad parameter" "Proxy-Authorization: Basic $(b64 "alice-ttl-0:$P1")
"
grep -q 'user alice-ttl-0 refused' "$SLOG" ||
    fail "no log line for the refused user name"
stop_daemon
exit 0
