#!/bin/sh
# The server goes away and comes back on the same ports: the workers
# reconnect by themselves and tunnels work again.  After SIGTERM the
# server exits 0 and tells its workers to drain, so they redial at once;
# after SIGKILL they find out from the closed link and redial with their
# backoff (RECONNECT_INTERVAL small).  The worker processes stay the same.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

start_sink echo
ECHO=$SINK_PORT
WANT=$("$SOCKSC" -G 200K -k)

# tunnels_via_both LOG: 6 echo tunnels, each intact, via both workers.
tunnels_via_both() {
	_before=$(grep -c '^access ' "$1")
	_i=0
	while [ $_i -lt 6 ]; do
		_got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 200K \
		    -k -w 10 2>"$T/c.err") ||
		    fail "tunnel $_i failed: $(cat "$T/c.err")"
		[ "$_got" = "$WANT" ] ||
		    fail "tunnel $_i damaged: '$_got' != '$WANT'"
		_i=$((_i + 1))
	done
	wait_for "[ \$(grep -c '^access ' '$1') -ge $((_before + 6)) ]" 5 ||
	    fail "missing access lines"
	for _w in wa wb; do
		grep '^access ' "$1" | tail -n +$((_before + 1)) |
		    grep -q " via=$_w result=ok " ||
		    fail "no tunnel went via $_w"
	done
}

# wait_joined LOG: both workers registered with the server writing LOG.
wait_joined() {
	for _w in wa wb; do
		wait_log "$1" "worker $_w \(.*\) joined the pool" ${2:-10} ||
		    fail "worker $_w did not join the pool (${2:-10} s)"
	done
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG
for name in wa wb; do
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" RECONNECT_INTERVAL=0.3 \
	    "PIDFILE=$T/$name.pid"
	start_esocksd worker "$T/$name.conf"
	eval "PID_$name=\$ESOCKSD_PID"
	eval "LOG_$name=\$ESOCKSD_LOG"
done
wait_joined "$SRV_LOG"
tunnels_via_both "$SRV_LOG"

# SIGTERM: exit 0, workers told to drain, back within a few seconds.
stop_pid $SRV_PID
rc=$?
[ $rc -eq 0 ] || fail "server exited $rc on SIGTERM, want 0 (see its log)"
for name in wa wb; do
	eval "_log=\$LOG_$name"
	wait_log "$_log" 'server 127\.0\.0\.1:[0-9]+ is draining' 5 ||
	    fail "worker $name was not told the server is draining" \
	    "(no DRAIN reached it before the stopping server closed the link)"
done
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG
wait_joined "$SRV_LOG" 5
tunnels_via_both "$SRV_LOG"

# SIGKILL: no DRAIN; the workers notice the lost link and redial.
kill -9 $SRV_PID
wait $SRV_PID 2>/dev/null
for name in wa wb; do
	eval "_log=\$LOG_$name"
	wait_for "[ \$(grep -c 'link to server .* lost' '$_log') -ge 2 ]" 5 ||
	    fail "worker $name did not notice the killed server"
done
sleep 1		# the workers redial into nothing at least once
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
wait_joined "$SRV_LOG" 10
tunnels_via_both "$SRV_LOG"

for name in wa wb; do
	eval "_pid=\$PID_$name"
	lib_alive $_pid || fail "worker $name exited along the way"
	eval "_log=\$LOG_$name"
	n=$(grep -c "registered with server 127\.0\.0\.1:$WP as $name" "$_log")
	[ "$n" -eq 3 ] || fail "worker $name registered $n times, want 3"
done
exit 0
