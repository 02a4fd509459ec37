#!/bin/sh
# Per-session flow control on the worker link.  A client that reads
# nothing while a 500 MiB source waits behind its tunnel must not make
# either daemon buffer it: both stay under 64 MiB resident.  Meanwhile a
# second tunnel on the same worker link moves 200 MiB, intact and within
# 30 s (no head-of-line blocking).  Then the stalled client reads, and
# its 500 MiB arrive intact too.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
[ -r /proc/self/status ] || skip "no /proc/PID/status to read VmRSS from"
command -v mkfifo >/dev/null 2>&1 || skip "no mkfifo"

RSS_LIMIT_KB=65536

# Under --enable-asan freed memory sits in ASan's quarantine (256 MiB by
# default) and counts as resident: keep it small so that VmRSS measures
# what the daemon holds, not what the sanitizer holds back.
ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

BIG=500M
SIDE=200M

# Sample both daemons' VmRSS (KiB) every 0.1 s into $T/rss.srv and
# $T/rss.wrk until $T/rss.stop exists.
rss_sampler() {
	while [ ! -e "$T/rss.stop" ]; do
		awk '/^VmRSS:/ { print $2 }' "/proc/$SRV_PID/status" \
		    >>"$T/rss.srv" 2>/dev/null
		awk '/^VmRSS:/ { print $2 }' "/proc/$WRK_PID/status" \
		    >>"$T/rss.wrk" 2>/dev/null
		sleep 0.1
	done
}

# The largest sample so far in file $1 (KiB).
rss_peak() {
	awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$1"
}

# Fail if a daemon went over the limit; $1 says when.
check_rss() {
	RSS_SRV=$(rss_peak "$T/rss.srv")
	RSS_WRK=$(rss_peak "$T/rss.wrk")
	echo "$1: peak VmRSS server ${RSS_SRV} KiB, worker ${RSS_WRK} KiB"
	[ "$RSS_SRV" -lt $RSS_LIMIT_KB ] ||
	    fail "$1: server VmRSS reached ${RSS_SRV} KiB" \
	    "(limit $RSS_LIMIT_KB): it buffers the stalled tunnel"
	[ "$RSS_WRK" -lt $RSS_LIMIT_KB ] ||
	    fail "$1: worker VmRSS reached ${RSS_WRK} KiB" \
	    "(limit $RSS_LIMIT_KB): it buffers the stalled tunnel"
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse LOG_SESSION=yes \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG
write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=wflow \
    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/w.pid"
start_esocksd worker "$T/w.conf"
WRK_PID=$ESOCKSD_PID
wait_log "$SRV_LOG" 'worker wflow \(.*\) joined the pool' 10 ||
    fail "worker did not join the pool"

start_sink "source:$BIG"
SOURCE=$SINK_PORT
start_sink sum
SUM=$SINK_PORT
start_sink sum
SUM_BIG=$SINK_PORT

# A client that stops reading (lib.sh).
stall_start $SP $SOURCE 120
wait_log "$SRV_LOG" "-> 127\.0\.0\.1:$SOURCE via wflow open" 10 ||
    fail "the stalled tunnel did not open via the worker"

# Let every buffer on the way fill up while watching the daemons.
: >"$T/rss.srv"
: >"$T/rss.wrk"
rss_sampler &
track_pid $!
sleep 2
lib_alive $STALLED || fail "stalled client ended: $(cat "$T/stalled.err")"
check_rss "stalled"

# A second tunnel on the same link moves 200 MiB meanwhile.
start=$(date +%s)
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SUM -g $SIDE -w 30 \
    >"$T/side.out" 2>"$T/side.err" &
SIDE_PID=$!
track_pid $SIDE_PID
wait $SIDE_PID
rc=$?
secs=$(($(date +%s) - start))
[ $rc -ne 5 ] || fail "200 MiB beside a stalled tunnel took over 30 s" \
    "(head-of-line blocking?)"
[ $rc -eq 0 ] || fail "side transfer failed, exit $rc: $(cat "$T/side.err")"
want=$("$SOCKSC" -G $SIDE -k)
got=$(cat "$T/side.out")
[ "$got" = "$want" ] || fail "side transfer damaged: '$got' != '$want'"
echo "side transfer: $SIDE in ${secs} s"
check_rss "side transfer"
lib_alive $STALLED ||
    fail "stalled client ended early: $(cat "$T/stalled.err")"

# Now read the stalled tunnel: all 500 MiB come through, intact.
stall_drain $SUM_BIG 60
[ "$STALLED_RC" -eq 0 ] ||
    fail "stalled client failed, exit $STALLED_RC: $(cat "$T/stalled.err")"
want=$("$SOCKSC" -G $BIG -k)
[ "$STALLED_GOT" = "$want" ] ||
    fail "stalled tunnel damaged: '$STALLED_GOT' != '$want'"
touch "$T/rss.stop"
check_rss "draining"
exit 0
