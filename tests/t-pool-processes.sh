#!/bin/sh
# PROCESSES: a server of 3 processes shares its SOCKS port, each process
# with its own worker and stats port (WORKER_LISTEN and STATS_LISTEN
# port + i); a worker of 2 processes links to all three.  Tunnels spread
# over the 3 (each one's /metrics counts some), every byte arrives; a
# process killed is restarted and its links come back; a reload reaches
# every process and is reported once; SIGTERM stops them all and removes
# the PID file.  A worker's processes stop when their supervisor dies.
# Start-up fails as a whole when one process cannot bind, and -t
# rejects ports that PROCESSES would move past 65535 or onto another.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
command -v curl >/dev/null 2>&1 || skip "curl not installed"
[ -r /proc/net/tcp ] || skip "no /proc/net/tcp to see the listeners"

SP=$(free_port)
WP=$(free_ports 3) || fail "no 3 consecutive free ports"
TP=$(free_ports 3) || fail "no 3 consecutive free ports"

# -t: PROCESSES moves the worker port onto the SOCKS port, or past 65535.
write_conf "$T/clash.conf" "SOCKS_LISTEN=127.0.0.1:$((WP + 1))" \
    "WORKER_LISTEN=127.0.0.1:$WP" PROCESSES=2 "PIDFILE=$T/clash.pid"
"$ESOCKSD" -t -c "$T/clash.conf" server >"$T/clash.out" 2>&1 &&
    fail "-t took WORKER_LISTEN moved onto SOCKS_LISTEN"
grep -q "cannot both be bound" "$T/clash.out" ||
    fail "-t did not name the clash: $(cat "$T/clash.out")"
"$ESOCKSD" -t -c "$T/clash.conf" -o PROCESSES=1 server >/dev/null 2>&1 ||
    fail "-t refused the same ports with one process"
"$ESOCKSD" -t -c "$T/clash.conf" -o WORKER_LISTEN=127.0.0.1:65535 server \
    >"$T/high.out" 2>&1 && fail "-t took a worker port past 65535"
grep -q "PROCESSES=2 moves WORKER_LISTEN" "$T/high.out" ||
    fail "-t did not name PROCESSES: $(cat "$T/high.out")"

# Start-up fails as a whole when process 2 cannot bind its worker port.
start_sink echo
BUSY=$SINK_PORT
write_conf "$T/busy.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$((BUSY - 2))" PROCESSES=3 \
    "PIDFILE=$T/busy.pid"
if [ $((BUSY - 2)) -gt 1024 ]; then
	"$ESOCKSD" -f -c "$T/busy.conf" server >"$T/busy.log" 2>&1 &
	BPID=$!
	track_pid $BPID
	wait_for "! lib_alive $BPID" 10 || fail "start-up did not fail"
	wait "$BPID"
	rc=$?
	[ "$rc" -eq 1 ] || fail "status $rc when a process could not bind"
	grep -q "listen on 127.0.0.1:$BUSY" "$T/busy.log" ||
	    fail "no word of the port: $(cat "$T/busy.log")"
	[ ! -s "$T/busy.pid" ] || fail "PID file left after a failed start"
fi

write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$TP" \
    PROCESSES=3 NO_WORKER=refuse "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
SPID=$ESOCKSD_PID
wait_log "$SRV_LOG" "started as server with 3 processes" 10 ||
    fail "the server's processes did not start"
for i in 0 1 2; do
	lib_listening $((WP + i)) || fail "no worker port $((WP + i))"
	lib_listening $((TP + i)) || fail "no stats port $((TP + i))"
done

write_conf "$T/worker.conf" \
    "SERVERS='127.0.0.1:$WP 127.0.0.1:$((WP + 1)) 127.0.0.1:$((WP + 2))'" \
    WORKER_NAME=wp PROCESSES=2 RECONNECT_INTERVAL=0.2 "PIDFILE=$T/worker.pid"
start_esocksd worker "$T/worker.conf"
WRK_PID=$ESOCKSD_PID
wait_for "[ \$(grep -c 'worker wp (.*) joined the pool' '$SRV_LOG') -ge 6 ]" \
    10 || fail "not every worker process linked to every server process"

# run_tunnels N TAG: N echo tunnels, 4 at a time, each checked.
ECHO=$BUSY
SUM_64K=$("$SOCKSC" -G 64K -k)
run_tunnels() {
	_i=0
	while [ $_i -lt "$1" ]; do
		_pids=
		for _j in 1 2 3 4; do
			"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 64K -k \
			    -w 20 >"$T/out.$2.$_i.$_j" 2>"$T/err.$2.$_i.$_j" &
			_pids="$_pids $!"
		done
		for _p in $_pids; do
			wait "$_p" || fail "$2: a tunnel failed"
		done
		for _j in 1 2 3 4; do
			[ "$(cat "$T/out.$2.$_i.$_j")" = "$SUM_64K" ] ||
			    fail "$2: data damaged"
		done
		_i=$((_i + 4))
	done
}
run_tunnels 60 spread
for i in 0 1 2; do
	n=$(curl -s "http://127.0.0.1:$((TP + i))/metrics" |
	    sed -n 's/^esocksd_clients_accepted_total //p')
	[ -n "$n" ] && [ "$n" -gt 0 ] ||
	    fail "process $i took no client of 60 (clients_accepted '$n')"
	echo "process $i: $n clients"
done
n=$(grep -c '^access .* via=wp result=ok' "$SRV_LOG")
[ "$n" -eq 60 ] || fail "$n access lines via=wp result=ok, want 60"

# A process killed is restarted, and the worker links to it again.
CHILDREN=$(pgrep -P "$SPID" | tr '\n' ' ')
set -- $CHILDREN
[ $# -eq 3 ] || fail "want 3 processes under the supervisor: $CHILDREN"
kill -9 "$2"
wait_log "$SRV_LOG" "process [0-9] \\(pid $2\\) was killed by signal 9; restarting it in 1000 ms" 5 ||
    fail "no word of the killed process"
wait_log "$SRV_LOG" "process [0-9] restarted \\(pid [0-9]*\\)" 10 ||
    fail "the killed process was not restarted"
wait_for "[ \$(grep -c 'worker wp (.*) joined the pool' '$SRV_LOG') -ge 8 ]" \
    10 || fail "the worker did not link to the restarted process"
[ "$(pgrep -P "$SPID" | wc -l)" -eq 3 ] || fail "not 3 processes again"
run_tunnels 20 restarted

# One reload status for all, after every process took the config.
"$ESOCKSD" -r -c "$T/server.conf" server >"$T/reload.out" 2>&1 ||
    fail "esocksd -r: $(cat "$T/reload.out")"
[ "$(grep -c 'reloaded .*server.conf$' "$SRV_LOG")" -eq 3 ] ||
    fail "not every process reloaded"
grep -q "^$SPID 1 ok$" "$T/server.reload" ||
    fail "reload status: $(cat "$T/server.reload")"

# SIGTERM: every process stops, the supervisor exits 0, no PID file.
stop_daemon_pid() {
	stop_pid "$1" 20
	_rc=$?
	[ "$_rc" -eq 0 ] || fail "supervisor $1 exited $_rc on SIGTERM"
}
stop_daemon_pid "$SPID"
for p in $CHILDREN; do
	lib_alive "$p" && fail "process $p outlived its supervisor's stop"
done
[ ! -e "$T/server.pid" ] || fail "PID file left: $(cat "$T/server.pid")"

# The worker's processes stop when their supervisor is killed.
WCHILDREN=$(pgrep -P "$WRK_PID" | tr '\n' ' ')
[ -n "$WCHILDREN" ] || fail "no worker processes"
kill -9 "$WRK_PID"
for p in $WCHILDREN; do
	wait_for "! lib_alive $p" 15 ||
	    fail "worker process $p outlived its supervisor"
done
exit 0
