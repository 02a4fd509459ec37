#!/bin/sh
# Per-account policy in PASSWORD_FILE (issue 11), "user:hash:key=value":
# tags= keeps an account on workers with one of its tags whatever it
# asks, max_sessions= caps its tunnels at once (the next is refused with
# SOCKS5 0x02 until one ends), no_worker= overrides NO_WORKER for it,
# rate= limits the bytes per second of all its tunnels together (the
# measured rate within 20% of the limit, down through a worker, up
# direct, and two tunnels at once together); a bad option is a config error; SIGHUP reloads the policy;
# /metrics counts sessions and bytes per account.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

# A published vector of the SHA-crypt specification (check_shacrypt.c).
H='$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'
P='Hello world!'
RATE=300000
umask 077
cat >"$T/passwd" <<EOF2
alice:$H:tags=eu
bob:$H:max_sessions=2
carol:$H:rate=$RATE
dave:$H:no_worker=refuse
erin:$H
EOF2

SP=$(free_port)
WP=$(free_port)
HP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$HP" \
    AUTH=password "PASSWORD_FILE=$T/passwd" NO_WORKER=direct \
    LOG_SESSION=yes "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
SRV_PID=$ESOCKSD_PID
start_sink echo
ECHO=$SINK_PORT

# ask USER [DEST]: one echo tunnel; prints socksc's exit status.
ask() {
	echo hi | "$SOCKSC" -x 127.0.0.1:$SP -t "127.0.0.1:${2:-$ECHO}" \
	    -U "$1:$P" -w 5 >/dev/null 2>"$T/err"
	echo $?
}

# 1. No worker yet: erin goes direct (NO_WORKER=direct), dave is refused.
rc=$(ask erin)
[ "$rc" -eq 0 ] || fail "erin without workers: exited $rc"
rc=$(ask dave)
[ "$rc" -eq 3 ] || fail "dave (no_worker=refuse): exited $rc, want 3"
wait_log "$SRV_LOG" '^access .* user=dave .* via=none result=failure ' 5 ||
    fail "no access line refusing dave via=none"
grep -q '^access .* user=erin .* via=direct result=ok ' "$SRV_LOG" ||
    fail "no access line for erin via=direct"

# 2. rate=, up: carol's upload, dialed by the server itself.
start_sink sum
SUM=$SINK_PORT
BYTES=$((RATE * 3))
# measure WHAT ARGS...: socksc's seconds for BYTES, as a rate in $rate.
measure() {
	_what=$1
	shift
	_t0=$(date +%s%N)
	"$SOCKSC" -x 127.0.0.1:$SP -U "carol:$P" -w 20 "$@" >"$T/m.out" \
	    2>"$T/m.err" || fail "$_what: socksc failed: $(cat "$T/m.err")"
	_t1=$(date +%s%N)
	grep -q "bytes=$BYTES " "$T/m.out" ||
	    fail "$_what: got '$(cat "$T/m.out")', want $BYTES bytes"
	rate=$((BYTES * 1000 / ((_t1 - _t0) / 1000000)))
	echo "$_what: $rate bytes/s for rate=$RATE"
	[ "$rate" -ge $((RATE * 8 / 10)) ] && [ "$rate" -le $((RATE * 12 / 10)) ] ||
	    fail "$_what: measured $rate bytes/s, limit $RATE (20%)"
}
measure "carol up, direct" -t 127.0.0.1:$SUM -g $BYTES
# The sum sink's answer line came down that tunnel.
ANSWER=$(wc -c <"$T/m.out" | tr -d ' ')

# The workers: weu tagged eu, wus tagged us.
for w in weu:eu wus:us; do
	write_conf "$T/${w%:*}.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=${w%:*}" "WORKER_TAGS=${w#*:}" \
	    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/${w%:*}.pid"
	start_esocksd worker "$T/${w%:*}.conf"
done
for name in weu wus; do
	wait_log "$SRV_LOG" "worker $name \(.*\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done

# 3. rate=, down: carol's download through a worker.
start_sink "source:$BYTES"
SOURCE=$SINK_PORT
measure "carol down, via a worker" -t 127.0.0.1:$SOURCE -k </dev/null

# Two tunnels at once share the one budget: together within 20% of it.
HALF=$((BYTES / 2))
start_sink "source:$HALF"
HALFSRC=$SINK_PORT
t0=$(date +%s%N)
for i in 1 2; do
	"$SOCKSC" -x 127.0.0.1:$SP -U "carol:$P" -t 127.0.0.1:$HALFSRC -k \
	    -w 20 </dev/null >"$T/par$i.out" 2>"$T/par$i.err" &
	eval "PAR$i=$!"
	track_pid $!
done
wait "$PAR1" || fail "parallel download 1: $(cat "$T/par1.err")"
wait "$PAR2" || fail "parallel download 2: $(cat "$T/par2.err")"
t1=$(date +%s%N)
grep -q "bytes=$HALF " "$T/par1.out" && grep -q "bytes=$HALF " "$T/par2.out" ||
    fail "parallel downloads: $(cat "$T/par1.out" "$T/par2.out")"
rate=$((2 * HALF * 1000 / ((t1 - t0) / 1000000)))
echo "carol, two tunnels at once: $rate bytes/s together for rate=$RATE"
[ "$rate" -ge $((RATE * 8 / 10)) ] && [ "$rate" -le $((RATE * 12 / 10)) ] ||
    fail "two tunnels: measured $rate bytes/s together, limit $RATE (20%)"

# 4. tags=eu: alice only ever leaves through weu; asking us fails.
i=0
while [ $i -lt 10 ]; do
	rc=$(ask alice)
	[ "$rc" -eq 0 ] || fail "alice: exited $rc: $(cat "$T/err")"
	i=$((i + 1))
done
wait_for "[ \$(grep -c '^access .* user=alice ' '$SRV_LOG') -ge 10 ]" 5 ||
    fail "fewer than 10 access lines for alice"
n=$(grep -c '^access .* user=alice .* via=weu ' "$SRV_LOG")
[ "$n" -eq 10 ] || fail "alice went via weu $n times of 10"
rc=$(ask alice-tag-us)
[ "$rc" -eq 3 ] || fail "alice-tag-us: exited $rc, want 3"
grep -q 'reply=0x04' "$T/err" || fail "alice-tag-us: $(cat "$T/err")"

# 5. max_sessions=2: two tunnels held open, the third is refused.
n0=$(grep -c 'tunnel .* via w.. open' "$SRV_LOG")
for i in 1 2; do
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -U "bob:$P" -H -w 30 \
	    >/dev/null 2>"$T/hold$i.err" &
	eval "HOLD$i=$!"
	track_pid $!
done
wait_for "[ \$(grep -c 'tunnel .* via w.. open' '$SRV_LOG') -ge $((n0 + 2)) ]" 5 ||
    fail "bob's two tunnels did not open"
rc=$(ask bob)
[ "$rc" -eq 3 ] || fail "bob's third tunnel: exited $rc, want 3"
grep -q 'reply=0x02' "$T/err" || fail "bob's third: $(cat "$T/err")"
wait_log "$SRV_LOG" 'user bob refused: account bob has 2 tunnels \(max_sessions=2\)' 5 ||
    fail "no log line for bob's refusal"
grep -q '^access .* user=bob .* via=none result=max_sessions ' "$SRV_LOG" ||
    fail "no access line with result=max_sessions"
kill "$HOLD1"
wait_for "[ \$(grep -c '^access .* user=bob ' '$SRV_LOG') -ge 2 ]" 5 ||
    fail "bob's first tunnel did not end"
rc=$(ask bob)
[ "$rc" -eq 0 ] || fail "bob after one tunnel ended: exited $rc"

# 6. /metrics: per account, and the sticky sessions.
printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' |
    "$SOCKSC" -D -t 127.0.0.1:$HP -w 10 2>/dev/null | tr -d '\r' >"$T/metrics"
grep -q '^esocksd_account_sessions_active{account="bob"} 1$' "$T/metrics" ||
    fail "no account_sessions_active 1 for bob: $(grep account "$T/metrics")"
# alice: 10 tunnels and the -tag-us request that no worker took.
grep -q '^esocksd_account_sessions_total{account="alice"} 11$' \
    "$T/metrics" || fail "no account_sessions_total 11 for alice"
grep -q "^esocksd_account_bytes_down_total{account=\"carol\"} \
$((BYTES + ANSWER + 2 * HALF))\$" \
    "$T/metrics" || fail "carol's bytes down not counted"
grep -q "^esocksd_account_bytes_up_total{account=\"carol\"} $BYTES\$" \
    "$T/metrics" || fail "carol's bytes up not counted"
grep -q '^esocksd_sticky_sessions 0$' "$T/metrics" ||
    fail "no esocksd_sticky_sessions 0"
rc=$(ask erin-session-s1)
[ "$rc" -eq 0 ] || fail "erin-session-s1: exited $rc"
printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' |
    "$SOCKSC" -D -t 127.0.0.1:$HP -w 10 2>/dev/null | tr -d '\r' >"$T/metrics"
grep -q '^esocksd_sticky_sessions 1$' "$T/metrics" ||
    fail "no esocksd_sticky_sessions 1"

# 7. A bad option is a config error with file:line; SIGHUP reloads.
printf 'zed:%s:colour=red\n' "$H" >"$T/bad"
"$ESOCKSD" -t -o "PASSWORD_FILE=$T/bad" -c "$T/server.conf" server \
    >"$T/t.out" 2>&1 && fail "colour=red accepted"
grep -q "bad:1: user zed: unknown option 'colour'" "$T/t.out" ||
    fail "bad option: $(cat "$T/t.out")"
sed 's/^alice:\(.*\):tags=eu$/alice:\1:tags=us/' "$T/passwd" >"$T/p2"
mv "$T/p2" "$T/passwd"
kill -HUP "$SRV_PID"
wait_log "$SRV_LOG" 'reloaded' 5 || fail "no reload"
rc=$(ask alice)
[ "$rc" -eq 0 ] || fail "alice after reload: exited $rc"
wait_log "$SRV_LOG" '^access .* user=alice .* via=wus ' 5 ||
    fail "alice did not move to wus with tags=us after SIGHUP"
kill "$HOLD2" 2>/dev/null
# Stop everything; no sanitizer report (an --enable-asan build) allowed.
for p in $LIB_PIDS; do
	lib_alive "$p" && stop_pid "$p" >/dev/null
done
bad=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
    $LIB_LOGS /dev/null)
[ -z "$bad" ] || fail "sanitizer report in $bad"
exit 0
