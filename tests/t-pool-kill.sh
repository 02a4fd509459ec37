#!/bin/sh
# A worker killed with SIGKILL mid-transfer costs only its own tunnel:
# two slow uploads run at once, one on each worker; killing the worker of
# one leaves the other to finish intact, new tunnels go through the
# survivor, and the killed worker, started again, registers and takes
# work again.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

PIECE=262144
PIECES=24
"$SOCKSC" -G $((PIECE * PIECES)) >"$T/data" || fail "socksc -G failed"
WANT=$("$SOCKSC" -G $((PIECE * PIECES)) -k)

# Write $T/data to stdout a piece at a time, 0.2 s apart (about 5 s).
slow_feed() {
	_i=0
	while [ $_i -lt $PIECES ]; do
		dd if="$T/data" bs=$PIECE skip=$_i count=1 2>/dev/null ||
		    return 1
		sleep 0.2
		_i=$((_i + 1))
	done
}

# Which worker carries the tunnel to port $1 (from the tunnel open line)?
via_of() {
	sed -n "s/^tunnel .* -> 127\.0\.0\.1:$1 via \([^ ]*\) open$/\1/p" \
	    "$SRV_LOG" | tail -n 1
}

# echo_tunnels N: N tunnels one after another, each echoing 64 KiB.
echo_tunnels() {
	_i=0
	while [ $_i -lt $1 ]; do
		_got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 64K \
		    -k -w 10 2>"$T/echo.err") ||
		    fail "echo tunnel failed: $(cat "$T/echo.err")"
		[ "$_got" = "$ECHO_WANT" ] ||
		    fail "echo tunnel damaged: '$_got' != '$ECHO_WANT'"
		_i=$((_i + 1))
	done
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse LOG_SESSION=yes \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
for name in wa wb; do
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" RECONNECT_INTERVAL=0.2 \
	    "PIDFILE=$T/$name.pid"
	start_esocksd worker "$T/$name.conf"
	eval "PID_$name=\$ESOCKSD_PID"
done
for name in wa wb; do
	wait_log "$SRV_LOG" "worker $name \(.*\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done

start_sink echo
ECHO=$SINK_PORT
ECHO_WANT=$("$SOCKSC" -G 64K -k)
start_sink sum
SUM1=$SINK_PORT
start_sink sum
SUM2=$SINK_PORT

# Transfer 1, then transfer 2: fewest sessions puts them on different
# workers.
slow_feed | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SUM1 -w 30 \
    >"$T/out1" 2>"$T/err1" &
C1=$!
track_pid $C1
wait_log "$SRV_LOG" "-> 127\.0\.0\.1:$SUM1 via .* open" 10 ||
    fail "transfer 1 did not start"
slow_feed | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SUM2 -w 30 \
    >"$T/out2" 2>"$T/err2" &
C2=$!
track_pid $C2
wait_log "$SRV_LOG" "-> 127\.0\.0\.1:$SUM2 via .* open" 10 ||
    fail "transfer 2 did not start"
V1=$(via_of $SUM1)
V2=$(via_of $SUM2)
case "$V1/$V2" in
wa/wb|wb/wa) ;;
*) fail "the two transfers are not on different workers: '$V1', '$V2'" ;;
esac
eval "VICTIM=\$PID_$V1"

# Mid-transfer (about 1 s of 5 in): kill transfer 1's worker.
sleep 1
lib_alive $C1 && lib_alive $C2 || fail "a transfer ended before the kill"
kill -9 $VICTIM
wait $VICTIM 2>/dev/null
wait_log "$SRV_LOG" "worker $V1 \(.*\) left the pool" 5 ||
    fail "server did not drop the killed worker $V1"

# Only transfer 1 is lost; transfer 2 finishes intact.
wait_for "! lib_alive $C1" 10 || fail "transfer 1 hangs after its worker died"
wait $C1
rc1=$?
[ $rc1 -ne 0 ] ||
    fail "transfer 1 exited 0 although its worker was killed: $(cat "$T/out1")"
wait_for "! lib_alive $C2" 20 || fail "transfer 2 did not finish"
wait $C2 || fail "transfer 2 (via $V2) failed, exit $?: $(cat "$T/err2")"
got=$(cat "$T/out2")
[ "$got" = "$WANT" ] ||
    fail "transfer 2 (via $V2) damaged: '$got' != '$WANT'"

# New tunnels keep working, through the survivor.
before=$(grep -c '^access ' "$SRV_LOG")
echo_tunnels 4
wait_for "[ \$(grep -c '^access ' '$SRV_LOG') -ge $((before + 4)) ]" 5 ||
    fail "no access lines for the tunnels after the kill"
n=$(grep '^access ' "$SRV_LOG" | tail -n +$((before + 1)) |
    grep -c " via=$V2 result=ok ")
[ "$n" -eq 4 ] || fail "$n of 4 tunnels after the kill went via $V2"

# The killed worker, started again, re-registers and takes work.
start_esocksd worker "$T/$V1.conf"
wait_for "[ \$(grep -c 'worker $V1 (.*) joined the pool' '$SRV_LOG') -ge 2 ]" \
    10 || fail "restarted worker $V1 did not join the pool again"
before=$(grep -c '^access ' "$SRV_LOG")
echo_tunnels 4
wait_for "[ \$(grep -c '^access ' '$SRV_LOG') -ge $((before + 4)) ]" 5 ||
    fail "no access lines for the tunnels after the restart"
n=$(grep '^access ' "$SRV_LOG" | tail -n +$((before + 1)) |
    grep -c " via=$V1 result=ok ")
[ "$n" -ge 1 ] || fail "restarted worker $V1 took none of 4 tunnels"
exit 0
