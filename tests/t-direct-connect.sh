#!/bin/sh
# Direct mode (no worker): SOCKS5 CONNECT to an IPv4 address, to a host
# name and to a number sent as a name, SOCKS4 and SOCKS4a CONNECT.  The
# echo comes back intact, and the reply's bound address is the daemon's
# real outgoing address: the one a "bound" sink sees as its peer.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid"
start_sink echo
ECHO=$SINK_PORT
start_sink bound
BOUND=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# check HOST VERSION [SOCKSC-ARGS]: an echo, a 1 MiB echo and the bound
# address, each through its own tunnel to HOST.
check() {
	_h=$1
	_v=$2
	shift 2
	_what="SOCKS$_v to $_h${1:+ ($*)}"
	_msg="hello through $_what"
	_got=$(printf '%s\n' "$_msg" | "$SOCKSC" -x 127.0.0.1:$SP \
	    -t "$_h:$ECHO" -v "$_v" -w 10 "$@" 2>"$T/err")
	_rc=$?
	[ $_rc -eq 0 ] || fail "$_what: socksc exit $_rc: $(cat "$T/err")"
	[ "$_got" = "$_msg" ] || fail "$_what: echo returned '$_got'"

	_got=$("$SOCKSC" -x 127.0.0.1:$SP -t "$_h:$ECHO" -v "$_v" -g 1M -k \
	    -w 20 "$@" 2>"$T/err")
	_rc=$?
	[ $_rc -eq 0 ] || fail "$_what: 1M echo: exit $_rc: $(cat "$T/err")"
	[ "$_got" = "$WANT1M" ] ||
	    fail "$_what: 1M echo: got '$_got', want '$WANT1M'"

	# The sink reports its peer: the reply must name that address.
	_peer=$("$SOCKSC" -x 127.0.0.1:$SP -t "$_h:$BOUND" -v "$_v" -w 10 \
	    "$@" </dev/null 2>"$T/err")
	_rc=$?
	[ $_rc -eq 0 ] || fail "$_what: bound: exit $_rc: $(cat "$T/err")"
	_line=$(grep '^reply=' "$T/err")
	case $_line in
	"reply=0x00 bound="*|"reply=0x5a bound="*) ;;
	*) fail "$_what: reply line '$_line'" ;;
	esac
	_bound=${_line#*bound=}
	case $_bound in
	0.0.0.0:*|*:0|"[::]:"*|-)
		fail "$_what: reply carries $_bound, not the real address" ;;
	esac
	[ "peer=$_bound" = "$_peer" ] ||
	    fail "$_what: reply says bound=$_bound, the sink saw '$_peer'"
}

WANT1M=$("$SOCKSC" -G 1M -k)
check 127.0.0.1 5
check localhost 5
check 127.0.0.1 5 -a
check 127.0.0.1 4
check localhost 4a
check 127.0.0.1 4a

# One access line per tunnel, all ok: 6 checks x 3 tunnels.
wait_for "[ \$(grep -c ' result=ok ' '$ESOCKSD_LOG') -ge 18 ]" 5 ||
    fail "expected 18 access lines with result=ok"
n=$(grep -c '^access ' "$ESOCKSD_LOG")
[ "$n" -eq 18 ] || fail "$n access lines, want 18"
grep -q 'dest=localhost:' "$ESOCKSD_LOG" ||
    fail "access log does not name the host name destination"
stop_daemon
exit 0
