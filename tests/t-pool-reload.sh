#!/bin/sh
# SIGHUP on a worker follows a new SERVERS list: it registers with the
# server added, says goodbye (DRAIN) to the server removed, and a tunnel
# in flight through the removed server is not cut: it finishes, and only
# then does the worker close that link.  A bad file keeps the old list.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

start_sink echo
ECHO=$SINK_PORT

# Two servers, A and B.
SA=$(free_port); WA=$(free_port); SB=$(free_port); WB=$(free_port)
write_conf "$T/a.conf" "SOCKS_LISTEN=127.0.0.1:$SA" \
    "WORKER_LISTEN=127.0.0.1:$WA" "PIDFILE=$T/a.pid" NO_WORKER=refuse
start_esocksd server "$T/a.conf"
APID=$ESOCKSD_PID; ALOG=$ESOCKSD_LOG
write_conf "$T/b.conf" "SOCKS_LISTEN=127.0.0.1:$SB" \
    "WORKER_LISTEN=127.0.0.1:$WB" "PIDFILE=$T/b.pid" NO_WORKER=refuse
start_esocksd server "$T/b.conf"
BPID=$ESOCKSD_PID; BLOG=$ESOCKSD_LOG

write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WA" WORKER_NAME=mover \
    "PIDFILE=$T/w.pid" RECONNECT_INTERVAL=0.3
start_esocksd worker "$T/w.conf"
WPID=$ESOCKSD_PID; WLOG=$ESOCKSD_LOG
wait_log "$ALOG" 'worker mover .* joined the pool' ||
    fail "the worker did not register with A"

# A tunnel through A held open across the reload, fed through a FIFO.
mkfifo "$T/in"
"$SOCKSC" -x 127.0.0.1:$SA -t 127.0.0.1:$ECHO -w 20 <"$T/in" >"$T/out" \
    2>"$T/err" &
CLIENT=$!
track_pid $CLIENT
exec 3>"$T/in"
printf 'before-' >&3
wait_for "[ \"\$(cat '$T/out')\" = before- ]" 5 ||
    fail "the tunnel through A did not echo before the reload"

# A broken file: the old list stays, the link to A is untouched.
cp "$T/w.conf" "$T/w.good"
echo 'SERVERS=no port here' >>"$T/w.conf"
kill -HUP $WPID
wait_log "$WLOG" 'reload failed, keeping the old configuration' ||
    fail "the worker did not refuse the broken file"
cp "$T/w.good" "$T/w.conf"

# Now move the worker from A to B.
sed "s/^SERVERS=.*/SERVERS=127.0.0.1:$WB/" "$T/w.good" >"$T/w.conf"
kill -HUP $WPID
wait_log "$WLOG" "server 127\.0\.0\.1:$WA no longer in SERVERS" ||
    fail "the worker did not drop A from its list"
wait_log "$BLOG" 'worker mover .* joined the pool' ||
    fail "the worker did not register with B after the reload"
wait_log "$ALOG" 'worker mover .* is draining' ||
    fail "A was not told that the worker drains"
grep -q 'worker mover .* left the pool' "$ALOG" &&
    fail "the link to A closed while a tunnel was still on it"

# The tunnel through A still works, and ends cleanly.
printf 'after' >&3
exec 3>&-
wait $CLIENT || fail "the tunnel through A failed: $(cat "$T/err")"
[ "$(cat "$T/out")" = before-after ] ||
    fail "the tunnel through A gave '$(cat "$T/out")'"
wait_log "$ALOG" 'worker mover .* left the pool' ||
    fail "the worker kept its link to A after the last tunnel"

# New tunnels go through B.
got=$(printf 'via-b' | "$SOCKSC" -x 127.0.0.1:$SB -t 127.0.0.1:$ECHO \
    -w 10 2>"$T/err") || fail "tunnel through B: $(cat "$T/err")"
[ "$got" = via-b ] || fail "tunnel through B gave '$got'"
grep -q 'via=mover result=ok' "$BLOG" ||
    fail "the tunnel through B did not use the worker"

stop_daemon
for p in "$APID:$ALOG" "$BPID:$BLOG"; do
	ESOCKSD_PID=${p%%:*}
	ESOCKSD_LOG=${p#*:}
	stop_daemon
done
exit 0
