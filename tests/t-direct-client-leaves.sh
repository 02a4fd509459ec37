#!/bin/sh
# A client that resets while its request is connecting is noticed at
# once: with MAX_CLIENTS=1 the next client is served right away, not
# after CONNECT_TIMEOUT; the request is logged with result=aborted and
# the pending connect's descriptor is closed.  A client that half-closes
# while connecting (its pipelined bytes, even more than the handshake
# buffer holds, then EOF) still gets its whole tunnel.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

TLATE=${TLATE:-$TOP_BUILDDIR/tests/tlate}

# The daemon's open descriptors (Linux /proc), or "?".
nfds() {
	if [ -d "/proc/$ESOCKSD_PID/fd" ]; then
		ls "/proc/$ESOCKSD_PID/fd" | wc -l | tr -d ' '
	else
		echo '?'
	fi
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    CONNECT_TIMEOUT=20 MAX_CLIENTS=1
start_sink echo
ECHO=$SINK_PORT
start_sink blackhole
HOLE=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

got=$(echo x | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 10 \
    2>"$T/err") || fail "tunnel to the echo sink: $(cat "$T/err")"
[ "$got" = x ] || fail "echo returned '$got'"
wait_log "$ESOCKSD_LOG" '^access .* result=ok ' 5 || fail "no access line"
base=$(nfds)

# 1. Reset while connecting, SOCKS5 and SOCKS4: the only slot is free
# again within 2 s of a 20 s CONNECT_TIMEOUT.
n=0
for v in 5 4; do
	n=$((n + 1))
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLE -v $v -R rst -w 5 \
	    2>"$T/err" || fail "socksc -R rst -v $v: $(cat "$T/err")"
	wait_for "[ \$(grep -c 'result=aborted' '$ESOCKSD_LOG') -ge $n ]" 2 ||
	    fail "SOCKS$v: no result=aborted 2 s after the client reset"
	got=$(echo v$v | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
	    -w 2 2>"$T/err") ||
	    fail "SOCKS$v: the next client was not served: $(cat "$T/err")"
	[ "$got" = v$v ] || fail "echo after the reset returned '$got'"
done
grep -q "^access .* dest=127\\.0\\.0\\.1:$HOLE via=direct result=aborted " \
    "$ESOCKSD_LOG" || fail "access line of the aborted request"
grep -q "MAX_CLIENTS (1) reached" "$ESOCKSD_LOG" &&
    fail "a client was refused: the one that left still held its slot"
wait_for "[ \"\$(nfds)\" -le '$base' ]" 2 ||
    fail "daemon holds $(nfds) descriptors, $base before (the connect of \
a client that left still open?)"

# 2. Half-close while connecting, with 5000 bytes sent behind the
# request: the tunnel opens late and echoes every byte, then ends.
LIB_NSINK=$((LIB_NSINK + 1))
"$TLATE" -d 600 -m echo -P "$T/late.port" 2>"$T/late.log" &
track_pid $!
wait_for "test -s '$T/late.port'" 10 || fail "tlate did not start"
LATE=$(cat "$T/late.port")
early=$(printf '%05000d' 7)
got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$LATE -R fin -e "$early" \
    -w 10 2>"$T/err") || fail "socksc -R fin: $(cat "$T/err")"
grep -q '^reply=0x00 ' "$T/err" || fail "half-closed client: $(cat "$T/err")"
[ "$got" = "$early" ] ||
    fail "half-closed client got ${#got} bytes back, want 5000"
wait_log "$ESOCKSD_LOG" \
    "^access .* dest=127\\.0\\.0\\.1:$LATE via=direct result=ok up=5000 \
down=5000 " 5 || fail "access line of the half-closed client"
stop_daemon
exit 0
