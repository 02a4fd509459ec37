#!/bin/sh
# A slow password check stalls no tunnel: SHA-crypt runs in a thread of
# its own.  With a PASSWORD_FILE hash of 1000000 rounds (the most the
# file may hold), an open tunnel keeps echoing with low latency while
# two wrong-password logins are being checked; before, every tunnel
# waited out each check, one after the other.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

TCRYPT=${TCRYPT:-$TOP_BUILDDIR/tests/tcrypt}

# Milliseconds on a monotonic clock (Linux /proc/uptime), or skip.
now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}
[ -r /proc/uptime ] || skip "needs /proc/uptime for a clock"

# The cost of a check grows with the password's length.
SLOWPASS=$(printf '%032d' 7)
HSLOW=$("$TCRYPT" 1000000 slowsalt "$SLOWPASS") || fail "tcrypt failed"
HFAST=$("$TCRYPT" 1000 fastsalt fast) || fail "tcrypt failed"
umask 077
printf 'slow:%s\nfast:%s\n' "$HSLOW" "$HFAST" >"$T/passwd"

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/server.pid" \
    AUTH=password "PASSWORD_FILE=$T/passwd" HANDSHAKE_TIMEOUT=60
start_esocksd server "$T/server.conf"

# How long one slow check takes here, alone (and that it works).
t0=$(now_ms)
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -U "slow:$SLOWPASS" -n \
    -w 60 2>"$T/err" || fail "slow user with the right password: \
$(cat "$T/err")"
check_ms=$(($(now_ms) - t0))
[ "$check_ms" -ge 100 ] ||
    skip "one check took only $check_ms ms: too fast to tell"

# Pings through an open tunnel, long enough to cover both checks.
count=$(( (2 * check_ms + 1000) / 50 + 10 ))
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -U fast:fast -p $count \
    -w 120 >"$T/ping" 2>"$T/ping.err" &
ping=$!
track_pid $ping
sleep 0.3
for i in 1 2; do
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -U "slow:wrong$i" -n \
	    -w 60 >"$T/slow$i" 2>&1 &
	eval "slow$i=\$!"
	track_pid $!
done
for i in 1 2; do
	eval "p=\$slow$i"
	wait $p
	rc=$?
	[ $rc -eq 3 ] && [ "$(cat "$T/slow$i")" = auth=0x01 ] ||
	    fail "slow login $i: rc $rc, '$(cat "$T/slow$i")'"
done
wait $ping || fail "pings: $(cat "$T/ping.err")"
max=$(sed -n 's/^rtt_max_ms=\([0-9]*\) .*/\1/p' "$T/ping")
[ -n "$max" ] || fail "no ping result: '$(cat "$T/ping")'"
echo "one check: $check_ms ms; pings: $(cat "$T/ping")"
[ "$max" -lt $((check_ms / 2)) ] ||
    fail "a tunnel stalled $max ms while passwords were checked \
(one check takes $check_ms ms)"
[ "$(grep -c 'bad password for user slow' "$ESOCKSD_LOG")" -eq 2 ] ||
    fail "expected two 'bad password' lines"
stop_daemon
exit 0
