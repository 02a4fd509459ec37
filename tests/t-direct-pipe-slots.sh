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

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" LOG_SESSION=yes
start_sink "pages:$SIZE"
PAGES=$SINK_PORT
start_sink sum
SUM=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# A client that stops reading (lib.sh).
stall_start $SP $PAGES 60
wait_log "$ESOCKSD_LOG" "-> 127\.0\.0\.1:$PAGES via direct open" 10 ||
    fail "the tunnel did not open"

# Let every buffer on the way fill, then watch the daemon wait.
sleep 1
before=$(cpu_ticks "$ESOCKSD_PID") || exit 1
sleep $STALL
after=$(cpu_ticks "$ESOCKSD_PID") || exit 1
used=$((after - before))
echo "daemon CPU over a ${STALL} s stall: $used ticks ($HZ a second)"
[ "$used" -le "$MAX_TICKS" ] ||
    fail "the daemon used $used ticks of CPU in ${STALL} s while the" \
    "client stalled (limit $MAX_TICKS): it spins on a full pipe"
lib_alive $STALLED || fail "stalled client ended: $(cat "$T/stalled.err")"

# Now read: all of it comes through, intact.
stall_drain $SUM 30
[ "$STALLED_RC" -eq 0 ] ||
    fail "stalled client failed, exit $STALLED_RC: $(cat "$T/stalled.err")"
want=$("$SOCKSC" -G $SIZE -k)
[ "$STALLED_GOT" = "$want" ] ||
    fail "tunnel damaged: '$STALLED_GOT', want '$want'"
stop_daemon
exit 0
