#!/bin/sh
# Direct mode reply codes and malformed handshakes: a refused port gives
# SOCKS5 0x05 and SOCKS4 0x5b, an unresolvable name 0x04, BIND and UDP
# ASSOCIATE 0x07, an unknown address type 0x08, an empty SOCKS5 host
# name 0x01 without any lookup; a wrong version byte (or HTTP, with
# HTTP_PROXY=no) is closed at once,
# and a SOCKS4 user id longer than 512 bytes is refused before its NUL.
# Raw requests go through socksc -D (plain TCP), answers are shown in hex.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
# A long handshake timeout: a prompt close below is never the timer's.
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    HANDSHAKE_TIMEOUT=30 CONNECT_TIMEOUT=20 HTTP_PROXY=no
start_sink echo
ECHO=$SINK_PORT
CLOSED=$(free_port)
start_esocksd server "$T/esocksd.conf"

# reply WANT TARGET [SOCKSC-ARGS]: the proxy refuses with reply WANT.
reply() {
	_want=$1
	_t=$2
	shift 2
	"$SOCKSC" -x 127.0.0.1:$SP -t "$_t" -n -w 25 "$@" 2>"$T/err"
	_rc=$?
	_line=$(grep '^reply=' "$T/err")
	[ $_rc -eq 3 ] && [ "${_line%% *}" = "reply=$_want" ] ||
	    fail "$_t $*: socksc exit $_rc, want reply=$_want: $(cat "$T/err")"
}

# hex: stdin as space-separated hex bytes on one line.
hex() {
	od -An -tx1 | tr -s ' \n' '  ' | sed -e 's/^ *//' -e 's/ *$//'
}

# raw FORMAT: send printf FORMAT's bytes as plain TCP, then half-close;
# print the answer in hex.
raw() {
	printf "$1" | "$SOCKSC" -D -t 127.0.0.1:$SP -w 5 2>"$T/err" | hex
}

# Octal escapes of a port number's two bytes, for a printf format.
port_bytes() {
	printf '\\%03o\\%03o' $(($1 / 256)) $(($1 % 256))
}

# Refused port, for every version.
reply 0x05 127.0.0.1:$CLOSED
reply 0x05 localhost:$CLOSED
reply 0x5b 127.0.0.1:$CLOSED -v 4
reply 0x5b localhost:$CLOSED -v 4a
grep -q "dest=127.0.0.1:$CLOSED via=direct result=refused up=0 down=0" \
    "$ESOCKSD_LOG" || fail "no access line with result=refused"

# A name that does not resolve.
reply 0x04 no-such-host.invalid:80
reply 0x5b no-such-host.invalid:80 -v 4a
grep -q 'dest=no-such-host.invalid:80 via=direct result=dns' \
    "$ESOCKSD_LOG" || fail "no access line with result=dns"

# An unknown command: 0x07 (BIND and UDP ASSOCIATE: t-direct-bind and
# t-direct-udp).
EP=$(port_bytes $ECHO)
REFUSED5='05 00 05 07 00 01 00 00 00 00 00 00'
for cmd in 011; do
	got=$(raw "\005\001\000\005\\$cmd\000\001\177\000\000\001$EP")
	[ "$got" = "$REFUSED5" ] ||
	    fail "SOCKS5 command \\$cmd answered '$got', want '$REFUSED5'"
done
grep -q "cmd=unknown dest=127.0.0.1:$ECHO via=direct result=unsupported" \
    "$ESOCKSD_LOG" || fail "no access line for the refused command"

# Unknown address type 5: 0x08.
got=$(raw "\005\001\000\005\001\000\005\177\000\000\001$EP")
[ "$got" = '05 00 05 08 00 01 00 00 00 00 00 00' ] ||
    fail "address type 5 answered '$got'"

# A SOCKS5 host name of length 0: general failure, and no lookup at all.
got=$(raw "\005\001\000\005\001\000\003\000\000\120")
[ "$got" = '05 00 05 01 00 01 00 00 00 00 00 00' ] ||
    fail "empty host name answered '$got'"
wait_log "$ESOCKSD_LOG" 'empty host name' 5 ||
    fail "no log line for the empty host name"
! grep -E -q 'connect to :80|dest=-:80|dest=:80' "$ESOCKSD_LOG" ||
    fail "the empty host name went on to a lookup or connect"

# A wrong version byte, or HTTP with HTTP_PROXY=no: closed at once,
# nothing answered.  The client keeps its side open (-H): only the
# daemon can end this in time.
for first in "$(printf '\006\001\001')" 'GET / HTTP/1.0' \
    "$(printf '\001\002\003')"; do
	got=$("$SOCKSC" -D -t 127.0.0.1:$SP -e "$first" -H -w 5 2>"$T/err" |
	    hex)
	[ -z "$got" ] || fail "'$first' answered '$got'"
	grep -q timeout "$T/err" && fail "'$first' was not closed within 5 s"
done
n=$(grep -c 'not a SOCKS 4 or 5 request' "$ESOCKSD_LOG")
[ "$n" -eq 3 ] || fail "$n 'not a SOCKS' log lines for 3 bad versions"

# SOCKS4 user id: 600 bytes and no NUL yet is refused without waiting
# for the rest (the client holds its side open).
long=$(printf '%600s' '' | tr ' ' u)
got=$("$SOCKSC" -D -t 127.0.0.1:$SP -H -w 5 \
    -e "$(printf '\004\001\001\002\003\004')$long" 2>"$T/err" | hex)
grep -q timeout "$T/err" && fail "long SOCKS4 user id: not closed in 5 s"
[ "$got" = '00 5b 00 00 00 00 00 00' ] ||
    fail "600-byte SOCKS4 user id answered '$got'"
grep -q 'SOCKS4 user id too long' "$ESOCKSD_LOG" ||
    fail "no log line for the long user id"

# ... while 512 bytes with its NUL is a valid request: the tunnel works.
u512=$(printf '%512s' '' | tr ' ' u)
got=$({ printf "\004\001$EP\177\000\000\001"; printf '%s' "$u512";
    printf '\000ping'; } | "$SOCKSC" -D -t 127.0.0.1:$SP -w 5 | hex)
case $got in
'00 5a '*' 70 69 6e 67') ;;
*) fail "512-byte SOCKS4 user id: answered '$got'" ;;
esac

stop_daemon
exit 0
