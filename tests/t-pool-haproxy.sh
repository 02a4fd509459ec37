#!/bin/sh
# Two servers behind HAProxy (mode tcp, leastconn, health checks), three
# workers each listing both servers, as doc/operations.md describes it.
# Clients through HAProxy reach the workers via both servers and every
# byte comes back; then one server is SIGKILLed: its in-flight tunnel is
# lost, the other server's in-flight tunnel carries on, new requests
# work (redispatched until HAProxy's checks mark it down, then sent to
# the survivor), and the workers keep their links to the survivor and
# redial the dead one with backoff.  NO_WORKER=
# refuse on both servers, so a request that finds no worker fails
# instead of going direct.  Skipped without haproxy.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
HAPROXY=$(command -v haproxy) || HAPROXY=/usr/sbin/haproxy
[ -x "$HAPROXY" ] || skip "haproxy not installed"

WORKERS="w1 w2 w3"
start_sink echo
ECHO=$SINK_PORT
start_sink echo
LONG_ECHO=$SINK_PORT		# the in-flight tunnels' destination
WANT=$("$SOCKSC" -G 200K -k)

# Two servers, s1 and s2.
for s in s1 s2; do
	sp=$(free_port) || fail "no free port"
	wp=$(free_port) || fail "no free port"
	write_conf "$T/$s.conf" "SOCKS_LISTEN=127.0.0.1:$sp" \
	    "WORKER_LISTEN=127.0.0.1:$wp" NO_WORKER=refuse LOG_SESSION=yes \
	    "PIDFILE=$T/$s.pid"
	start_esocksd server "$T/$s.conf"
	eval "SP_$s=$sp WP_$s=$wp PID_$s=\$ESOCKSD_PID LOG_$s=\$ESOCKSD_LOG"
done

# Three workers, each with both servers in SERVERS.
for w in $WORKERS; do
	write_conf "$T/$w.conf" "SERVERS='127.0.0.1:$WP_s1 127.0.0.1:$WP_s2'" \
	    "WORKER_NAME=$w" RECONNECT_INTERVAL=0.2 LOG_EVENT=yes \
	    "PIDFILE=$T/$w.pid"
	start_esocksd worker "$T/$w.conf"
	eval "PID_$w=\$ESOCKSD_PID LOG_$w=\$ESOCKSD_LOG"
done
for s in s1 s2; do
	eval "log=\$LOG_$s"
	for w in $WORKERS; do
		wait_log "$log" "worker $w \(.*\) joined the pool" 10 ||
		    fail "worker $w did not join the pool of server $s"
	done
done

# HAProxy in front of both servers' SOCKS ports, in the foreground.
HP=$(free_port) || fail "no free port"
cat >"$T/haproxy.cfg" <<EOF
defaults
	mode tcp
	timeout connect 2s
	timeout client 30s
	timeout server 30s
frontend socks
	bind 127.0.0.1:$HP
	default_backend esocksd
backend esocksd
	balance leastconn
	option redispatch
	retries 2
	server s1 127.0.0.1:$SP_s1 check inter 500ms fall 2 rise 1
	server s2 127.0.0.1:$SP_s2 check inter 500ms fall 2 rise 1
EOF
"$HAPROXY" -c -q -f "$T/haproxy.cfg" >"$T/haproxy.check" 2>&1 ||
    fail "haproxy rejects the config: $(cat "$T/haproxy.check")"
HA_LOG=$T/haproxy.log
LIB_LOGS="$LIB_LOGS $HA_LOG"
"$HAPROXY" -db -f "$T/haproxy.cfg" >"$HA_LOG" 2>&1 &
HA_PID=$!
track_pid $HA_PID
wait_for "lib_listening $HP" 10 || fail "haproxy is not listening on $HP"

# access_count S: server S's access lines so far.
access_count() {
	eval "_log=\$LOG_$1"
	grep -c '^access ' "$_log"
}

# requests N: N echo tunnels through HAProxy, 4 at a time, each intact.
requests() {
	_i=0
	while [ $_i -lt "$1" ]; do
		_pids=
		for _j in 1 2 3 4; do
			[ $_i -lt "$1" ] || break
			"$SOCKSC" -x 127.0.0.1:$HP -t 127.0.0.1:$ECHO -g 200K \
			    -k -w 10 >"$T/out.$_i" 2>"$T/err.$_i" &
			_pids="$_pids $!:$_i"
			track_pid $!
			_i=$((_i + 1))
		done
		for _p in $_pids; do
			_n=${_p#*:}
			wait "${_p%:*}" || fail "request $_n through haproxy" \
			    "failed: $(cat "$T/err.$_n")"
			_got=$(cat "$T/out.$_n")
			[ "$_got" = "$WANT" ] ||
			    fail "request $_n damaged: '$_got' != '$WANT'"
		done
	done
}

# new_access S FROM: server S's access lines after the first FROM.
new_access() {
	eval "_log=\$LOG_$1"
	grep '^access ' "$_log" | tail -n +$(($2 + 1))
}

# via_workers S FROM N: server S logged N more access lines after the
# first FROM, every one of them ok via one of the workers.
via_workers() {
	wait_for "[ \$(access_count $1) -ge $(($2 + $3)) ]" 5 ||
	    fail "server $1: $(($(access_count $1) - $2)) new access" \
	    "lines, want $3"
	_bad=$(new_access "$1" "$2" |
	    grep -E -v ' via=(w1|w2|w3) result=ok ' | head -n 1)
	[ -z "$_bad" ] || fail "server $1: not via a worker: $_bad"
}

# Both servers carry requests, through the workers.
requests 12
wait_for "[ \$((\$(access_count s1) + \$(access_count s2))) -ge 12 ]" 5 ||
    fail "fewer than 12 access lines on the two servers"
n1=$(access_count s1)
n2=$(access_count s2)
[ "$n1" -gt 0 ] || fail "server s1 carried none of 12 requests ($n2 on s2)"
[ "$n2" -gt 0 ] || fail "server s2 carried none of 12 requests ($n1 on s1)"
via_workers s1 0 "$n1"
via_workers s2 0 "$n2"
[ $((n1 + n2)) -eq 12 ] || fail "$((n1 + n2)) access lines for 12 requests"
for s in s1 s2; do
	printf 'server %s:' $s
	for w in $WORKERS; do
		printf ' via=%s %s' $w "$(new_access $s 0 | grep -c " via=$w ")"
	done
	echo
done

# The counters agree: each server has the three workers, each worker
# is registered with both servers.
for s in s1 s2 $WORKERS; do
	eval "pid=\$PID_$s"
	kill -USR1 "$pid"
done
for s in s1 s2; do
	eval "log=\$LOG_$s"
	wait_log "$log" '^counters: workers=3 ' 5 ||
	    fail "server $s does not count 3 workers on SIGUSR1"
done
for w in $WORKERS; do
	eval "log=\$LOG_$w"
	wait_log "$log" '^counters: links_up=2 ' 5 ||
	    fail "worker $w does not count 2 links up on SIGUSR1"
done

# One tunnel in flight on each server, straight to its SOCKS port: 80
# one-byte round trips 50 ms apart, 4 s in all.
"$SOCKSC" -x 127.0.0.1:$SP_s1 -t 127.0.0.1:$LONG_ECHO -p 80 -w 20 \
    >"$T/long.s1.out" 2>"$T/long.s1.err" &
LONG_s1=$!
track_pid $LONG_s1
"$SOCKSC" -x 127.0.0.1:$SP_s2 -t 127.0.0.1:$LONG_ECHO -p 80 -w 20 \
    >"$T/long.s2.out" 2>"$T/long.s2.err" &
LONG_s2=$!
track_pid $LONG_s2
for s in s1 s2; do
	eval "log=\$LOG_$s"
	wait_log "$log" "^tunnel .* -> 127\.0\.0\.1:$LONG_ECHO via w[123] open" 5 ||
	    fail "the in-flight tunnel on server $s did not open"
done

# SIGKILL server s1.
before2=$(access_count s2)
kill -9 $PID_s1
wait $PID_s1 2>/dev/null

# Before HAProxy's checks notice, a client it sends to s1 is refused and
# redispatched to s2 (option redispatch): new requests keep working.
requests 8
wait $LONG_s1 && fail "the tunnel in flight on the killed server went on"
wait $LONG_s2 ||
    fail "the tunnel in flight on server s2 failed: $(cat "$T/long.s2.err")"
grep -q '^rtt_max_ms=' "$T/long.s2.out" ||
    fail "no round-trip figures from the tunnel on server s2"

# The workers lost s1 only, and redial it with backoff.
for w in $WORKERS; do
	eval "log=\$LOG_$w pid=\$PID_$w"
	wait_log "$log" "link to server 127\.0\.0\.1:$WP_s1 lost" 5 ||
	    fail "worker $w did not notice that server s1 died"
	wait_for "[ \$(grep -c 'server 127\.0\.0\.1:$WP_s1: redialling in' \
	    '$log') -ge 3 ]" 10 ||
	    fail "worker $w does not keep redialling server s1"
	lib_alive "$pid" || fail "worker $w exited"
	! grep -q "link to server 127\.0\.0\.1:$WP_s2 lost" "$log" ||
	    fail "worker $w lost its link to server s2 too"
	kill -USR1 "$pid"
	wait_log "$log" '^counters: links_up=1 ' 5 ||
	    fail "worker $w does not count 1 link up after the kill"
done
! grep -q 'left the pool' "$LOG_s2" ||
    fail "a worker left server s2's pool: $(grep 'left the pool' "$LOG_s2")"

# HAProxy marks s1 down; after that every request works, via s2.
wait_log "$HA_LOG" 'Server esocksd/s1 is DOWN' 10 ||
    fail "haproxy did not mark server s1 down within 10 s"
grep -q 'Server esocksd/s2 is DOWN' "$HA_LOG" &&
    fail "haproxy marked server s2 down"
requests 12
via_workers s2 "$before2" 21	# 8 + 12 and the in-flight one
echo "after the kill: $(($(access_count s2) - before2)) access lines on s2"

lib_alive $HA_PID || fail "haproxy exited"
stop_pid $HA_PID
for w in $WORKERS; do
	eval "pid=\$PID_$w"
	stop_pid "$pid" || fail "worker $w exited $? on SIGTERM"
done
stop_pid $PID_s2 || fail "server s2 exited $? on SIGTERM"
for s in s2 $WORKERS; do
	eval "log=\$LOG_$s"
	! grep -E -q 'Sanitizer|runtime error:' "$log" ||
	    fail "sanitizer report in $log"
done
exit 0
