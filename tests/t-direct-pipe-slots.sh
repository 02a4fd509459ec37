#!/bin/sh
# A spliced tunnel whose client stops reading must not spin the daemon.
# The destination (tsink pages:N) sends 64 KiB at once, so that the
# tunnel splices, then the rest in half-page pieces from separate pages:
# each piece takes a slot of the splice pipe, and the pipe runs out of
# slots long before it holds its capacity in bytes.  While the client
# stalls for a few seconds the daemon must use next to no CPU; then the
# client reads and every byte arrives intact.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
grep -q '^#define HAVE_SPLICE 1' "$TOP_BUILDDIR/config.h" 2>/dev/null ||
    skip "no splice(2): the daemon copies instead"
[ -r /proc/self/stat ] || skip "no /proc/PID/stat to read CPU time from"
command -v mkfifo >/dev/null 2>&1 || skip "no mkfifo"
HZ=$(getconf CLK_TCK 2>/dev/null) || skip "no CLK_TCK"

SIZE=8M
STALL=3
# Spinning takes a core, one tick per tick; a waiting daemon takes none.
# Allow a tenth of the stall for a loaded machine.
MAX_TICKS=$((HZ * STALL / 10))

# Set TICKS to utime + stime of process $1, in clock ticks: fields 14
# and 15 of its stat line, counted after the command name.
cpu_ticks() {
	_stat=$(cat "/proc/$1/stat") || fail "cannot read /proc/$1/stat"
	echo "/proc/$1/stat: $_stat"
	TICKS=$(printf '%s\n' "$_stat" | sed 's/.*) //' |
	    awk '$12 ~ /^[0-9]+$/ && $13 ~ /^[0-9]+$/ { print $12 + $13 }')
	[ -n "$TICKS" ] || fail "no CPU times in /proc/$1/stat"
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" LOG_SESSION=yes
start_sink "pages:$SIZE"
PAGES=$SINK_PORT
start_sink sum
SUM=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# The stalled client: its stdout is a fifo whose only reader (a sleep,
# which holds the fifo open and never reads) lets the pipe fill up, so
# socksc stops reading the tunnel.
mkfifo "$T/fifo" || fail "mkfifo failed"
sleep 60 <"$T/fifo" &
NOREAD=$!
track_pid $NOREAD
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$PAGES -w 60 \
    >"$T/fifo" 2>"$T/stalled.err" </dev/null &
STALLED=$!
track_pid $STALLED
wait_log "$ESOCKSD_LOG" "-> 127\.0\.0\.1:$PAGES via direct open" 10 ||
    fail "the tunnel did not open"

# Let every buffer on the way fill, then watch the daemon wait.
sleep 1
cpu_ticks "$ESOCKSD_PID"
before=$TICKS
sleep $STALL
cpu_ticks "$ESOCKSD_PID"
used=$((TICKS - before))
echo "daemon CPU over a ${STALL} s stall: $used ticks ($HZ a second)"
[ "$used" -le "$MAX_TICKS" ] ||
    fail "the daemon used $used ticks of CPU in ${STALL} s while the" \
    "client stalled (limit $MAX_TICKS): it spins on a full pipe"
lib_alive $STALLED || fail "stalled client ended: $(cat "$T/stalled.err")"

# Now read: all of it comes through, intact.
"$SOCKSC" -D -t 127.0.0.1:$SUM -w 30 <"$T/fifo" >"$T/got" \
    2>"$T/reader.err" &
READER=$!
track_pid $READER
sleep 0.2
kill $NOREAD
wait_for "! lib_alive $READER" 30 ||
    fail "the stalled tunnel did not finish within 30 s once read"
wait $READER || fail "reading the tunnel failed: $(cat "$T/reader.err")"
wait_for "! lib_alive $STALLED" 5 || fail "stalled client did not end"
wait $STALLED || fail "stalled client failed, exit $?: $(cat "$T/stalled.err")"
want=$("$SOCKSC" -G $SIZE -k)
got=$(cat "$T/got")
[ "$got" = "$want" ] || fail "tunnel damaged: '$got', want '$want'"
stop_daemon
exit 0
