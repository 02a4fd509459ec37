#!/bin/sh
# SIGHUP with a tunnel in flight: a 20 MiB echo is held half-way (its
# input waits on a FIFO) while the daemon reloads twice, once with an
# unrelated change and once moving SOCKS_LISTEN to another port; the
# transfer then completes intact, the log shows both reloads, the old
# port is closed and the new one serves.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
SP2=$(free_port)
CONF=$T/esocksd.conf
write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid"
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$CONF"

# The upload: 10 MiB, a pause until $T/go exists (at most 30 s), 10 MiB.
"$SOCKSC" -G 20M >"$T/data" || fail "socksc -G"
dd if="$T/data" of="$T/part1" bs=1048576 count=10 2>/dev/null
dd if="$T/data" of="$T/part2" bs=1048576 skip=10 2>/dev/null
rm -f "$T/data"
want=$("$SOCKSC" -G 20M -k)
{
	cat "$T/part1"
	i=0
	while [ ! -e "$T/go" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	cat "$T/part2"
} |
    "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -k -w 40 \
    >"$T/tunnel.out" 2>"$T/tunnel.err" &
tunnel=$!
track_pid $tunnel
wait_log "$ESOCKSD_LOG" 'connection from' 5 || fail "the tunnel never came"
sleep 0.5
lib_alive $tunnel || fail "the tunnel ended before the pause: \
$(cat "$T/tunnel.err")"

# Reload 1: only unrelated keys change.
write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    IDLE_TIMEOUT=30 LOG_SESSION=yes
kill -HUP $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" "^reloaded .*esocksd.conf" 5 ||
    fail "no 'reloaded' log line after SIGHUP"
grep -q "^reloading .*esocksd.conf" "$ESOCKSD_LOG" ||
    fail "no 'reloading' log line"

# Reload 2: the SOCKS listener moves.
write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP2" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    IDLE_TIMEOUT=30 LOG_SESSION=yes
kill -HUP $ESOCKSD_PID
wait_for "[ \$(grep -c '^reloaded ' '$ESOCKSD_LOG') -ge 2 ]" 5 ||
    fail "no second 'reloaded' log line"
grep -q "no longer listening on socks 127.0.0.1:$SP\$" "$ESOCKSD_LOG" ||
    fail "no 'no longer listening' line for the old SOCKS port"
grep -q "listening on socks 127.0.0.1:$SP2\$" "$ESOCKSD_LOG" ||
    fail "no 'listening' line for the new SOCKS port"
lib_alive $tunnel || fail "the tunnel did not survive the reloads: \
$(cat "$T/tunnel.err")"

got=$(echo new | "$SOCKSC" -x 127.0.0.1:$SP2 -t 127.0.0.1:$ECHO -w 5 \
    2>"$T/err") || fail "new SOCKS port after reload: $(cat "$T/err")"
[ "$got" = new ] || fail "new SOCKS port echoed '$got'"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 5 2>"$T/err"
rc=$?
[ $rc -eq 4 ] || fail "old SOCKS port after reload: exit $rc, want 4 \
(connection refused): $(cat "$T/err")"

# Let the rest flow: everything comes back.
: >"$T/go"
wait_for "! lib_alive $tunnel" 30 || fail "the tunnel did not finish"
wait $tunnel
rc=$?
[ $rc -eq 0 ] || fail "tunnel: socksc exit $rc: $(cat "$T/tunnel.err")"
got=$(cat "$T/tunnel.out")
[ "$got" = "$want" ] || fail "echo across reloads: '$got', want '$want'"
wait_log "$ESOCKSD_LOG" "dest=127.0.0.1:$ECHO via=direct result=ok \
up=20971520 down=20971520 " 5 || fail "no access line for the whole transfer"
stop_daemon
exit 0
