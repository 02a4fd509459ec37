#!/bin/sh
# The test tools themselves, without the daemon: tsink's modes driven by
# socksc -D, socksc's exit statuses, and its SOCKS client refusing
# answers that are not SOCKS.  If these fail, every other t-*.sh lies.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$SOCKSC" ] && [ -x "$TSINK" ] || skip "socksc or tsink not built"

# expect_rc WANT CMD...: run CMD, fail unless it exits WANT.
expect_rc() {
	_want=$1
	shift
	"$@"
	_got=$?
	[ "$_got" -eq "$_want" ] || fail "exit $_got, want $_want: $*"
}

# The generator and checksum agree with themselves through a pipe.
start_sink sum
SUM=$SINK_PORT
want=$("$SOCKSC" -G 100000 -k)
case $want in
"bytes=100000 sum="????????????????) ;;
*) fail "socksc -G -k printed '$want'" ;;
esac
got=$("$SOCKSC" -G 100000 | "$SOCKSC" -D -t 127.0.0.1:$SUM)
[ "$got" = "$want" ] || fail "sum of piped -G: '$got' != '$want'"
got=$("$SOCKSC" -D -t 127.0.0.1:$SUM -g 3M -w 20)
want=$("$SOCKSC" -G 3M -k)
[ "$got" = "$want" ] || fail "sum mode: '$got' != '$want'"
[ "$("$SOCKSC" -G 3M -k)" != "$("$SOCKSC" -G 3145727 -k)" ] ||
    fail "checksum blind to a missing byte"

# echo: netcat mode, then 5 MiB each way at once with half-close.
start_sink echo
ECHO=$SINK_PORT
got=$(echo hello | "$SOCKSC" -D -t 127.0.0.1:$ECHO -w 10)
[ "$got" = hello ] || fail "echo returned '$got'"
got=$("$SOCKSC" -D -t 127.0.0.1:$ECHO -g 5M -k -w 20)
want=$("$SOCKSC" -G 5M -k)
[ "$got" = "$want" ] || fail "echo of 5M: '$got' != '$want'"
got=$("$SOCKSC" -D -t 127.0.0.1:$ECHO -e early -w 10 </dev/null)
[ "$got" = early ] || fail "-e in direct mode returned '$got'"

# source:N sends exactly the generator's first N bytes.
start_sink source:1000000
got=$("$SOCKSC" -D -t 127.0.0.1:$SINK_PORT -k -w 10 </dev/null)
want=$("$SOCKSC" -G 1000000 -k)
[ "$got" = "$want" ] || fail "source: '$got' != '$want'"

# discard counts, bound reports the address it saw.
start_sink discard
got=$("$SOCKSC" -D -t 127.0.0.1:$SINK_PORT -g 123457 -w 10)
[ "$got" = "bytes=123457" ] || fail "discard answered '$got'"
start_sink bound
got=$("$SOCKSC" -D -t 127.0.0.1:$SINK_PORT -w 10 </dev/null)
case $got in
peer=127.0.0.1:[0-9]*) ;;
*) fail "bound answered '$got'" ;;
esac

# hold: never answers, but lets go when we half-close.
start_sink hold
HOLD=$SINK_PORT
expect_rc 0 "$SOCKSC" -D -t 127.0.0.1:$HOLD -w 5 </dev/null
expect_rc 5 "$SOCKSC" -D -t 127.0.0.1:$HOLD -H -w 1 2>/dev/null

# Exit statuses: usage, refused connect, connect that hangs (blackhole).
expect_rc 2 "$SOCKSC" -t 127.0.0.1:1 2>/dev/null
expect_rc 2 "$SOCKSC" -x 127.0.0.1:1 -t 127.0.0.1:1 -v 6 2>/dev/null
CLOSED=$(free_port)
expect_rc 4 "$SOCKSC" -D -t 127.0.0.1:$CLOSED -w 5 </dev/null 2>/dev/null
start_sink blackhole
start=$(date +%s)
expect_rc 5 "$SOCKSC" -D -t 127.0.0.1:$SINK_PORT -w 2 </dev/null 2>/dev/null
[ $(( $(date +%s) - start )) -ge 1 ] || fail "blackhole timed out too soon"

# The SOCKS client rejects non-SOCKS answers and handles a silent proxy.
expect_rc 4 "$SOCKSC" -x 127.0.0.1:$ECHO -t 127.0.0.1:80 -n -w 5 2>/dev/null
expect_rc 4 "$SOCKSC" -x 127.0.0.1:$ECHO -t 127.0.0.1:80 -v 4 -n -w 5 \
    2>/dev/null
expect_rc 4 "$SOCKSC" -x 127.0.0.1:$ECHO -t example.org:80 -v 4a -c \
    -n -w 5 2>/dev/null
start_sink bound
expect_rc 4 "$SOCKSC" -x 127.0.0.1:$SINK_PORT -t 127.0.0.1:80 -n -w 5 \
    2>/dev/null
expect_rc 5 "$SOCKSC" -x 127.0.0.1:$HOLD -t 127.0.0.1:80 -n -w 1 2>/dev/null

# IPv6 loopback, where the machine has it.
if have_ipv6; then
	start_sink echo '[::1]:0'
	got=$(echo six | "$SOCKSC" -D -t "[::1]:$SINK_PORT" -w 10)
	[ "$got" = six ] || fail "IPv6 echo returned '$got'"
fi
# free_port never hands out a port twice while this test holds it: 300
# draws from its 12,000 ports would repeat one with about 97% odds
# without the reservation.  Each port it gives binds.
i=0
: >"$T/drawn"
while [ $i -lt 300 ]; do
	free_port >>"$T/drawn" || fail "free_port failed on draw $i"
	i=$((i + 1))
done
[ "$(sort -u "$T/drawn" | wc -l)" -eq 300 ] ||
    fail "free_port repeated a port: $(sort "$T/drawn" | uniq -d | head -n 3)"
while read -r p; do
	[ -d "$LIB_PORTDIR/$p" ] || fail "free_port did not reserve $p"
done <"$T/drawn"
p=$(free_port '[::1]:0') 2>/dev/null && have_ipv6 && {
	"$TSINK" -l "[::1]:$p" -P "$T/v6.port" -m echo &
	track_pid $!
	wait_for "test -s '$T/v6.port'" 5 || fail "IPv6 free port $p did not bind"
}

exit 0
