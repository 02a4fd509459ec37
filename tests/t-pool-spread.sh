#!/bin/sh
# The worker pool spreads tunnels: a server with two workers of different
# WORKER_NAMEs carries 20 concurrent tunnels, both names show up in the
# access log's via=, nothing goes direct, and every byte arrives intact
# both ways (checksums of echo and sum sinks).
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
for name in wa wb; do
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" RECONNECT_INTERVAL=0.2 \
	    "PIDFILE=$T/$name.pid"
	start_esocksd worker "$T/$name.conf"
done
for name in wa wb; do
	wait_log "$SRV_LOG" "worker $name \(.*\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done

start_sink echo
ECHO=$SINK_PORT
start_sink sum
SUM=$SINK_PORT
SUM_256K=$("$SOCKSC" -G 256K -k)
SUM_1M=$("$SOCKSC" -G 1M -k)

# 20 tunnels at once: even ones echo 256 KiB back, odd ones upload 1 MiB.
i=0
pids=
while [ $i -lt 20 ]; do
	if [ $((i % 2)) -eq 0 ]; then
		"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 256K -k \
		    -w 20 >"$T/out.$i" 2>"$T/err.$i" &
	else
		"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SUM -g 1M \
		    -w 20 >"$T/out.$i" 2>"$T/err.$i" &
	fi
	pids="$pids $!"
	track_pid $!
	i=$((i + 1))
done
i=0
for p in $pids; do
	wait "$p" || fail "tunnel $i exited $?: $(cat "$T/err.$i")"
	i=$((i + 1))
done
i=0
while [ $i -lt 20 ]; do
	got=$(cat "$T/out.$i")
	if [ $((i % 2)) -eq 0 ]; then
		want=$SUM_256K
	else
		want=$SUM_1M
	fi
	[ "$got" = "$want" ] ||
	    fail "tunnel $i: data damaged: got '$got', want '$want'"
	i=$((i + 1))
done

# One access line per tunnel, each via one of the two workers.
wait_for "[ \$(grep -c '^access .*result=ok' '$SRV_LOG') -ge 20 ]" 5 ||
    fail "fewer than 20 access lines with result=ok"
n=$(grep -c '^access ' "$SRV_LOG")
[ "$n" -eq 20 ] || fail "$n access lines, want 20"
na=$(grep -c '^access .* via=wa ' "$SRV_LOG")
nb=$(grep -c '^access .* via=wb ' "$SRV_LOG")
[ $((na + nb)) -eq 20 ] ||
    fail "only $((na + nb)) of 20 tunnels went via wa or wb"
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] ||
    fail "tunnels not spread: via=wa $na, via=wb $nb"
echo "spread: via=wa $na, via=wb $nb"
exit 0
