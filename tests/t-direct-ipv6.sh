#!/bin/sh
# Direct mode over IPv6: SOCKS5 CONNECT to [::1] (address type 4, and
# "::1" sent as a name), a client reaching the proxy over [::1], the
# bound address in the reply being the daemon's real IPv6 source, and
# the access line bracketing IPv6 addresses.  Skipped without ::1.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

have_ipv6 || skip "no IPv6 loopback (::1) on this machine"

SP=$(free_port)
SP6=$(free_port '[::1]:0')
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN='127.0.0.1:$SP [::1]:$SP6'" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid"
start_sink echo '[::1]:0'
ECHO=$SINK_PORT
start_sink bound '[::1]:0'
BOUND=$SINK_PORT
start_esocksd server "$T/esocksd.conf"
WANT1M=$("$SOCKSC" -G 1M -k)

# check PROXY [SOCKSC-ARGS]: echo, 1 MiB echo and bound address to [::1].
check() {
	_px=$1
	shift
	_what="via $_px to [::1]${1:+ ($*)}"
	_got=$(echo six | "$SOCKSC" -x "$_px" -t "[::1]:$ECHO" -w 10 "$@" \
	    2>"$T/err")
	_rc=$?
	[ $_rc -eq 0 ] || fail "$_what: socksc exit $_rc: $(cat "$T/err")"
	[ "$_got" = six ] || fail "$_what: echo returned '$_got'"
	_got=$("$SOCKSC" -x "$_px" -t "[::1]:$ECHO" -g 1M -k -w 20 "$@" \
	    2>"$T/err")
	[ "$_got" = "$WANT1M" ] ||
	    fail "$_what: 1M echo: got '$_got', want '$WANT1M': $(cat "$T/err")"
	_peer=$("$SOCKSC" -x "$_px" -t "[::1]:$BOUND" -w 10 "$@" \
	    </dev/null 2>"$T/err")
	_line=$(grep '^reply=' "$T/err")
	case $_line in
	"reply=0x00 bound=[::1]:"[1-9]*) ;;
	*) fail "$_what: reply line '$_line', want bound=[::1]:PORT" ;;
	esac
	[ "peer=${_line#*bound=}" = "$_peer" ] ||
	    fail "$_what: reply says '$_line', the sink saw '$_peer'"
}

check "127.0.0.1:$SP"
check "127.0.0.1:$SP" -a
check "[::1]:$SP6"

wait_for "[ \$(grep -c '^access .* result=ok ' '$ESOCKSD_LOG') -ge 9 ]" 5 ||
    fail "expected 9 access lines with result=ok"
grep -E -q "^access client=\[::1\]:[0-9]+ user=- cmd=connect \
dest=\[::1\]:$ECHO via=direct result=ok up=4 down=4 ms=[0-9]+ session=- \
tags=-\$" \
    "$ESOCKSD_LOG" || fail "no access line for the IPv6 client and dest"
stop_daemon
exit 0
