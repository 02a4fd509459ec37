#!/bin/sh
# A client that half-closes after its request and then resets, while
# the destination's connect is still pending: when the connect completes
# about a second later, writing the reply fails at once (the client's
# reset) and the tunnel ends inside the code that set it up.  The daemon
# must live through it with no sanitizer report, log the request once,
# and keep serving.  (tlate: a destination whose connects complete
# late; socksc -R finrst: half-close, then reset.)
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

TLATE=${TLATE:-$TOP_BUILDDIR/tests/tlate}

# Start tlate with a delay of $1 ms serving $2; sets LATE_PORT.
start_late() {
	LIB_NSINK=$((LIB_NSINK + 1))
	_pf="$T/late.$LIB_NSINK.port"
	"$TLATE" -d "$1" -m "$2" -P "$_pf" 2>"$T/late.$LIB_NSINK.log" &
	track_pid $!
	LIB_LOGS="$LIB_LOGS $T/late.$LIB_NSINK.log"
	wait_for "test -s '$_pf'" 10 || fail "tlate did not start"
	LATE_PORT=$(cat "$_pf")
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    CONNECT_TIMEOUT=8
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

for v in 5 4; do
	start_late 600 hold
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$LATE_PORT -v $v \
	    -R finrst -e early -w 5 2>"$T/err" ||
	    fail "socksc -R finrst -v $v: $(cat "$T/err")"
	# The connect completes at the first SYN retransmission (~1 s).
	wait_log "$ESOCKSD_LOG" "^access .* dest=127\\.0\\.0\\.1:$LATE_PORT " \
	    6 || fail "SOCKS$v: no access line for the client that reset"
	lib_alive $ESOCKSD_PID || fail "SOCKS$v: esocksd died"
	got=$(echo after$v | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
	    -w 5 2>"$T/err") || fail "tunnel after the reset: $(cat "$T/err")"
	[ "$got" = after$v ] || fail "echo after the reset returned '$got'"
done
n=$(grep -c "^access .* dest=127\\.0\\.0\\.1:$LATE_PORT " "$ESOCKSD_LOG")
[ "$n" -eq 1 ] || fail "$n access lines for one request"
stop_daemon
exit 0
