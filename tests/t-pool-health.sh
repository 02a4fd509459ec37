#!/bin/sh
# Passive health: three workers, one of whose dials all fail with
# ECONNREFUSED (a worker fault made real by tests/tfault.so, a connect(2)
# interposer loaded into that worker only; its link to the server works).
# DEST_DENY refusals, which every worker gives, do not count against
# anyone.  After EJECT_FAILURES refusals in a row the broken worker is
# ejected (logged once under LOG_EVENT, state=ejected on /status):
# then 200 requests succeed (at least 98%) and none goes to it until
# its cool-down ends.  Back on trial it fails once and is ejected again
# for twice as long; healed, it is chosen and connects again.  Last, a
# SIGSTOPed worker stops being chosen within WORKER_RESPONSE_TIMEOUT.
# Prints the figures: requests failed before and after the ejection,
# time to eject, time to notice the frozen worker.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
TFAULT=$(cd "$TOP_BUILDDIR" && pwd)/tests/tfault.so
[ -r "$TFAULT" ] || skip "tests/tfault.so (connect interposer) not built"

start_sink echo
ECHO=$SINK_PORT
DENIED=$(free_port)
COOL=4

# Milliseconds of the wall clock (GNU date, or whole seconds).
now_ms() {
	_t=$(date +%s%N 2>/dev/null)
	case $_t in
	*N|'') echo $(($(date +%s) * 1000)) ;;
	*) echo $((_t / 1000000)) ;;
	esac
}

# request [DEST]: one tunnel to the echo sink (or DEST); its exit in $rc.
request() {
	"$SOCKSC" -x 127.0.0.1:$SP -t "127.0.0.1:${1:-$ECHO}" -n -w 10 \
	    >/dev/null 2>&1
	rc=$?
}

# vias N: the via= of the last N access lines, one a line.
vias() {
	grep '^access ' "$SRV_LOG" | tail -n $1 |
	    sed 's/.* via=\([^ ]*\) .*/\1/'
}

# http PATH: GET PATH from the stats listener; the body to $T/body.
http() {
	printf 'GET %s HTTP/1.0\r\nHost: x\r\n\r\n' "$1" |
	    "$SOCKSC" -D -t "127.0.0.1:$ST" -w 10 2>/dev/null |
	    tr -d '\r' | sed '1,/^$/d' >"$T/body"
}

SP=$(free_port)
WP=$(free_port)
ST=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$ST" \
    NO_WORKER=refuse LOG_EVENT=yes EJECT_FAILURES=3 EJECT_TIME=$COOL \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG
echo refuse >"$T/fault"
for name in wa wb wc; do
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" RECONNECT_INTERVAL=0.2 CONNECT_TIMEOUT=4 \
	    "DEST_DENY=127.0.0.1/32:$DENIED" "PIDFILE=$T/$name.pid"
	if [ $name = wc ]; then
		# Only wc: its dials fail, its link to WP works.
		LD_PRELOAD=$TFAULT TFAULT_FILE=$T/fault TFAULT_PASS_PORT=$WP \
		    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
		export LD_PRELOAD TFAULT_FILE TFAULT_PASS_PORT ASAN_OPTIONS
	fi
	start_esocksd worker "$T/$name.conf"
	unset LD_PRELOAD TFAULT_FILE TFAULT_PASS_PORT
	eval "PID_$name=\$ESOCKSD_PID"
	wait_log "$SRV_LOG" "worker $name \\(.*\\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done

# DEST_DENY refusals, at least 3 in a row from wc: no one's fault.
i=0
while [ $i -lt 40 ] &&
    [ "$(grep -c "^access .* via=wc result=denied" "$SRV_LOG")" -lt 3 ]; do
	request $DENIED
	[ $rc -eq 3 ] || fail "a denied destination gave exit $rc, want 3"
	i=$((i + 1))
done
[ "$(grep -c "^access .* via=wc result=denied" "$SRV_LOG")" -ge 3 ] ||
    fail "wc refused fewer than 3 of $i denied requests"
grep -q 'ejected' "$SRV_LOG" && fail "DEST_DENY refusals ejected a worker"

# Until wc is ejected, one request in three fails.
t0=$(now_ms)
before=0
i=0
while [ $i -lt 30 ] && ! grep -q 'worker wc (.*) ejected' "$SRV_LOG"; do
	request
	[ $rc -eq 0 ] || before=$((before + 1))
	i=$((i + 1))
done
eject_ms=$(($(now_ms) - t0))
wait_log "$SRV_LOG" 'worker wc \(.*\) ejected: 3 connect failures in a row' \
    1 || fail "wc not ejected after 3 refusals in a row ($i requests)"
grep 'worker wc (.*) ejected' "$SRV_LOG"
[ "$before" -eq 3 ] ||
    fail "$before requests failed before the ejection, want 3"
[ "$(grep -c "^access .* via=wc result=refused" "$SRV_LOG")" -eq 3 ] ||
    fail "wc did not refuse exactly 3 requests"
grep -Eq 'worker w[ab] \(.*\) ejected' "$SRV_LOG" &&
    fail "a healthy worker was ejected"
http /status
grep -q '^wc .* ejected' "$T/body" ||
    fail "/status does not show wc as ejected: $(cat "$T/body")"

# 200 requests, 10 at a time, while wc is out.
ok=0
n=0
while [ $n -lt 200 ]; do
	pids=
	j=0
	while [ $j -lt 10 ]; do
		"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 10 \
		    >/dev/null 2>&1 &
		pids="$pids $!"
		j=$((j + 1))
	done
	for p in $pids; do
		wait $p && ok=$((ok + 1))
	done
	n=$((n + 10))
done
after=$((200 - ok))
echo "requests failed: $before before the ejection (in $i, ${eject_ms} ms" \
    "to eject), $after of 200 after"
[ $ok -ge 196 ] || fail "only $ok of 200 requests succeeded after the ejection"
# None went to wc while it was out: between the two lines, only the
# access line of the refusal that ejected it (logged just after).
sed -n '/worker wc (.*) ejected/,/worker wc (.*) back from ejection/p' \
    "$SRV_LOG" | grep '^access .* via=wc ' >"$T/out"
[ "$(wc -l <"$T/out")" -le 1 ] && ! grep -qv 'result=refused' "$T/out" ||
    fail "wc was given requests while ejected: $(cat "$T/out")"

# Back on trial after the cool-down: it fails once, out twice as long.
wait_log "$SRV_LOG" 'worker wc \(.*\) back from ejection after [0-9]+ ms, on trial' \
    $((COOL + 5)) || fail "wc did not come back after its cool-down"
i=0
while [ $i -lt 10 ] &&
    ! grep -q 'worker wc (.*) ejected.* (on trial)' "$SRV_LOG"; do
	request
	i=$((i + 1))
done
wait_log "$SRV_LOG" \
    "worker wc \\(.*\\) ejected: 1 connect failures in a row \\(on trial\\).* out for $((2 * COOL))000 ms \\(ejection 2 in a row\\)" \
    1 || fail "wc on trial was not ejected again for twice as long"

# Healed during the cool-down: back, chosen, and its dials connect.
rm -f "$T/fault"
wait_for "[ \$(grep -c 'worker wc (.*) back from ejection' '$SRV_LOG') -eq 2 ]" \
    $((2 * COOL + 5)) || fail "wc did not come back a second time"
# (p2c draws two workers at random: give it up to 30 requests.)
from=$(grep -c '^access ' "$SRV_LOG")
i=0
while [ $i -lt 30 ] && ! grep '^access ' "$SRV_LOG" |
    tail -n +$((from + 1)) | grep -q ' via=wc result=ok '; do
	request
	[ $rc -eq 0 ] || fail "a request failed after wc healed: exit $rc"
	i=$((i + 1))
done
grep '^access ' "$SRV_LOG" | tail -n +$((from + 1)) |
    grep -q ' via=wc result=ok ' ||
    fail "the healed wc was not chosen in $i requests"
[ "$(grep -c 'worker w. (.*) ejected' "$SRV_LOG")" -eq 2 ] ||
    fail "not exactly two ejections logged"

# A frozen worker: the request it is given waits no longer than
# WORKER_RESPONSE_TIMEOUT (3 s) before it goes elsewhere, and it is
# chosen for nothing after.  (Under p2c it may be given nothing for a
# while if its latency was high: requests go on until it is marked.)
kill -STOP $PID_wb
t0=$(now_ms)
max=0
while [ $(($(now_ms) - t0)) -lt 25000 ] &&
    ! grep -q 'worker wb (.*) unresponsive' "$SRV_LOG"; do
	t=$(now_ms)
	request
	[ $rc -eq 0 ] || fail "a request failed while wb was frozen: exit $rc"
	t=$(($(now_ms) - t))
	[ $t -gt $max ] && max=$t
done
frozen_ms=$(($(now_ms) - t0))
grep -q 'worker wb (.*) unresponsive' "$SRV_LOG" ||
    fail "the frozen wb was not marked unresponsive"
from=$(grep -c '^access ' "$SRV_LOG")
i=0
while [ $i -lt 10 ]; do
	request
	[ $rc -eq 0 ] || fail "a request failed while wb was frozen: exit $rc"
	i=$((i + 1))
done
kill -CONT $PID_wb
grep '^access ' "$SRV_LOG" | tail -n +$((from + 1)) | grep -q ' via=wb ' &&
    fail "the frozen wb was chosen after it was marked unresponsive"
echo "frozen worker: marked ${frozen_ms} ms after SIGSTOP; the request" \
    "it held waited ${max} ms"
[ $max -lt 6000 ] || fail "a request waited ${max} ms for the frozen worker"
exit 0
