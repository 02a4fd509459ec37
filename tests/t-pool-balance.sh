#!/bin/sh
# The balancer spreads by latency: three workers, one of which (wc)
# takes 20 ms longer over each dial (tests/tfault.so, a connect(2)
# interposer loaded into that worker only).  Under BALANCE=least every
# worker gets its share, wc too; reloaded to BALANCE=p2c (the power of
# two choices on sessions x connect latency), wc gets markedly fewer new
# sessions and the same requests finish sooner.  WORKER_WEIGHT, sent in
# RGST, lets a worker ask for more.  Prints the figures of both.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
TFAULT=$(cd "$TOP_BUILDDIR" && pwd)/tests/tfault.so
[ -r "$TFAULT" ] || skip "tests/tfault.so (connect interposer) not built"

ROUNDS=20	# of 3 concurrent requests
start_sink echo
ECHO=$SINK_PORT

# Milliseconds of the wall clock (GNU date, or whole seconds).
now_ms() {
	_t=$(date +%s%N 2>/dev/null)
	case $_t in
	*N|'') echo $(($(date +%s) * 1000)) ;;
	*) echo $((_t / 1000000)) ;;
	esac
}

# burst: ROUNDS rounds of 3 concurrent tunnels; sets $took (ms), and
# $na $nb $nc, the tunnels each worker carried.
burst() {
	_from=$(grep -c '^access ' "$SRV_LOG")
	_t=$(now_ms)
	_r=0
	while [ $_r -lt $ROUNDS ]; do
		_pids=
		for _j in 1 2 3; do
			"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 1K -k \
			    -w 10 >/dev/null 2>&1 &
			_pids="$_pids $!"
		done
		for _p in $_pids; do
			wait $_p || fail "a request failed"
		done
		_r=$((_r + 1))
	done
	took=$(($(now_ms) - _t))
	wait_for "[ \$(grep -c '^access ' '$SRV_LOG') -ge $((_from + 3 * ROUNDS)) ]" 5 ||
	    fail "access lines missing"
	grep '^access ' "$SRV_LOG" | tail -n +$((_from + 1)) >"$T/burst"
	na=$(grep -c ' via=wa ' "$T/burst")
	nb=$(grep -c ' via=wb ' "$T/burst")
	nc=$(grep -c ' via=wc ' "$T/burst")
}

# server BALANCE: (re)write the server's config.
server_conf() {
	write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
	    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse "BALANCE=$1" \
	    "PIDFILE=$T/server.pid"
}

SP=$(free_port)
WP=$(free_port)
server_conf least
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG
for name in wa wb wc; do
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" RECONNECT_INTERVAL=0.2 "PIDFILE=$T/$name.pid"
	if [ $name = wc ]; then
		LD_PRELOAD=$TFAULT TFAULT_MODE=delay TFAULT_DELAY_MS=20 \
		    TFAULT_PASS_PORT=$WP \
		    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
		export LD_PRELOAD TFAULT_MODE TFAULT_DELAY_MS TFAULT_PASS_PORT \
		    ASAN_OPTIONS
	fi
	start_esocksd worker "$T/$name.conf"
	unset LD_PRELOAD TFAULT_MODE TFAULT_DELAY_MS TFAULT_PASS_PORT
	wait_log "$SRV_LOG" "worker $name \\(.*\\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done

burst
least_took=$took
least_c=$nc
echo "BALANCE=least: wa=$na wb=$nb wc=$nc (slow), ${took} ms"
[ "$nc" -ge $((ROUNDS / 2)) ] ||
    fail "least: the slow wc got only $nc of $((3 * ROUNDS)) tunnels"

server_conf p2c
kill -HUP $SRV_PID
wait_log "$SRV_LOG" "reloaded $T/server.conf" 5 || fail "no reload"
burst
echo "BALANCE=p2c: wa=$na wb=$nb wc=$nc (slow), ${took} ms"
[ $((nc * 2)) -lt "$least_c" ] ||
    fail "p2c: the slow wc got $nc tunnels, least gave it $least_c"
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] || fail "p2c: not spread over wa and wb"

# WORKER_WEIGHT=1000 on a worker of the same speed: most of the tunnels.
write_conf "$T/wd.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=wd \
    WORKER_WEIGHT=1000 RECONNECT_INTERVAL=0.2 "PIDFILE=$T/wd.pid"
start_esocksd worker "$T/wd.conf"
wait_log "$SRV_LOG" "worker wd \\(.*\\) joined the pool" 10 ||
    fail "worker wd did not join the pool"
burst
nd=$(grep -c ' via=wd ' "$T/burst")
echo "BALANCE=p2c with wd WORKER_WEIGHT=1000: wa=$na wb=$nb wc=$nc wd=$nd"
[ "$nd" -gt $((na + nb + nc)) ] ||
    fail "the weighted wd got $nd tunnels, the others $((na + nb + nc))"
exit 0
