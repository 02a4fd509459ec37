#!/bin/sh
# soak.sh: endurance at length, by hand (not part of make check).
#
#   soak.sh [-b BUILDDIR] [-d SECONDS] [-n TUNNELS] [-c CLIENTS]
#           [-k KILL_EVERY] [-i SAMPLE_EVERY] [-o OUTDIR] [-p PAUSE_MS]
#           [-C KEY=VALUE]...
#
# Runs a server (NO_WORKER=refuse) and two workers from BUILDDIR
# (default: this tree; build it with ./configure --enable-asan for
# ASan, LSan and UBSan), holds TUNNELS (5,000) idle tunnels through them
# for SECONDS (3,600) while CLIENTS (6) more open, echo and close tunnels
# (tchurn, every byte checked; each client waits PAUSE_MS, default 0,
# between two tunnels, to leave the CPUs to other work), and kills one
# worker with SIGKILL and starts it again every KILL_EVERY seconds (300;
# 0 never).
# Every SAMPLE_EVERY seconds (30) it records the VmRSS and descriptor
# count of the server and the workers in OUTDIR/samples.txt.  At the end
# it closes every tunnel, waits for the daemons to settle, records
# their descriptors against the baseline taken before the load, stops
# them with SIGTERM and looks for sanitizer reports in their logs.
# Prints a summary; exits 0 when no byte was corrupt, the descriptors
# came back to the baseline, no sanitizer spoke and (with no worker
# killed: a killed worker takes its held tunnels with it) every held
# tunnel echoed at the end; 1 otherwise.  OUTDIR (default a fresh directory
# under /tmp) keeps the logs.  Each -C line is added to the three
# daemons' configs (-C POLLER=epoll, say).  With no worker killed the
# workers' descriptors are held to their baselines too.

BUILD=.
SECS=3600
TUNNELS=5000
CLIENTS=6
KILL_EVERY=300
SAMPLE=30
OUT=

EXTRA=
PAUSE=0
while getopts b:C:c:d:i:k:n:o:p: opt; do
	case $opt in
	C) EXTRA="$EXTRA$OPTARG
" ;;
	b) BUILD=$OPTARG ;;
	c) CLIENTS=$OPTARG ;;
	d) SECS=$OPTARG ;;
	i) SAMPLE=$OPTARG ;;
	k) KILL_EVERY=$OPTARG ;;
	n) TUNNELS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	p) PAUSE=$OPTARG ;;
	*) echo "usage: soak.sh [-b BUILDDIR] [-d SECONDS] [-n TUNNELS]" \
	       "[-c CLIENTS] [-k KILL_EVERY] [-i SAMPLE_EVERY] [-o OUTDIR]" \
	       "[-p PAUSE_MS] [-C KEY=VALUE]" >&2
	   exit 2 ;;
	esac
done
ESOCKSD=$BUILD/src/esocksd
TSINK=$BUILD/tests/tsink
TCHURN=$BUILD/tests/tchurn
for f in "$ESOCKSD" "$TSINK" "$TCHURN"; do
	[ -x "$f" ] || { echo "soak.sh: $f not built" >&2; exit 2; }
done
[ -n "$OUT" ] || OUT=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX") || exit 1
mkdir -p "$OUT" || exit 1
ulimit -n "$(ulimit -H -n)" 2>/dev/null
# LeakSanitizer reports at exit; keep going after a UBSan report.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS
PIDS=
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

port() {
	"$TSINK" -F
}
SP=$(port)
WP=$(port)
cat >"$OUT/server.conf" <<EOF
SOCKS_LISTEN=127.0.0.1:$SP
WORKER_LISTEN=127.0.0.1:$WP
NO_WORKER=refuse
LOG_CONNECTION=no
LOG_ACCESS=no
PIDFILE=$OUT/server.pid
$EXTRA
EOF
"$ESOCKSD" -f -c "$OUT/server.conf" server >"$OUT/server.log" 2>&1 &
SRV=$!
PIDS="$PIDS $SRV"
"$TSINK" -l 127.0.0.1:0 -m echo -P "$OUT/sink.port" 2>"$OUT/sink.log" &
PIDS="$PIDS $!"
sleep 1
ECHO=$(cat "$OUT/sink.port")

# start_worker I: worker I (w0, w1), its PID in W_I.
start_worker() {
	cat >"$OUT/w$1.conf" <<-EOF
	SERVERS=127.0.0.1:$WP
	WORKER_NAME=w$1
	RECONNECT_INTERVAL=0.2
	LOG_CONNECTION=no
	LOG_ACCESS=no
	PIDFILE=$OUT/w$1.pid
	$EXTRA
	EOF
	"$ESOCKSD" -f -c "$OUT/w$1.conf" worker >>"$OUT/w$1.log" 2>&1 &
	eval "W_$1=\$!"
	PIDS="$PIDS $!"
}
start_worker 0
start_worker 1
sleep 2

# fds PID, rss PID: descriptors open, VmRSS in kB.
fds() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}
rss() {
	sed -n "s/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status" 2>/dev/null
}
sample() {
	echo "$1 server rss=$(rss $SRV) fds=$(fds $SRV)" \
	    "w0 rss=$(rss $W_0) fds=$(fds $W_0)" \
	    "w1 rss=$(rss $W_1) fds=$(fds $W_1)" >>"$OUT/samples.txt"
}
BASE_SRV=$(fds $SRV)
BASE_W0=$(fds $W_0)
BASE_W1=$(fds $W_1)
sample "t=0 baseline"
START=$(date +%s)

"$TCHURN" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -d "$SECS" -c "$CLIENTS" \
    -h "$TUNNELS" -p "$PAUSE" >"$OUT/churn.out" 2>"$OUT/churn.err" &
CHURN=$!
PIDS="$PIDS $CHURN"
next_kill=$KILL_EVERY
k=0
while kill -0 $CHURN 2>/dev/null; do
	sleep "$SAMPLE"
	t=$(( $(date +%s) - START ))
	sample "t=$t"
	if [ "$KILL_EVERY" -gt 0 ] && [ $t -ge $next_kill ] &&
	    [ $t -lt "$SECS" ]; then
		i=$((k % 2))
		eval "kill -9 \$W_$i"
		# Reap it first: until it is gone its PID file stays locked,
		# and the new worker would refuse to start.
		eval "wait \$W_$i" 2>/dev/null
		start_worker $i
		echo "t=$t killed and restarted w$i" >>"$OUT/samples.txt"
		k=$((k + 1))
		next_kill=$((next_kill + KILL_EVERY))
	fi
done
wait $CHURN
churn_rc=$?
sleep 5
sample "t=$(( $(date +%s) - START )) after, tunnels closed"
END_SRV=$(fds $SRV)
END_W0=$(fds $W_0)
END_W1=$(fds $W_1)
for p in $SRV $W_0 $W_1; do
	kill "$p" 2>/dev/null
done
for p in $SRV $W_0 $W_1; do
	wait "$p" 2>/dev/null
done

rc=0
echo "soak: $SECS s, $TUNNELS held tunnels, $CLIENTS churning clients," \
    "$k worker kills; logs in $OUT"
cat "$OUT/churn.out"
[ "$churn_rc" -eq 0 ] || { echo "soak: FAIL: tchurn exited $churn_rc"; rc=1; }
held=$(sed -n 's/^held_ok //p' "$OUT/churn.out")
# A killed worker takes the held tunnels it carried with it.
if [ "$k" -eq 0 ] && [ "$held" != "$TUNNELS" ]; then
	echo "soak: FAIL: $held of $TUNNELS held tunnels echoed"
	rc=1
fi
echo "soak: server descriptors: $BASE_SRV before, $END_SRV after"
[ "$END_SRV" -le "$BASE_SRV" ] ||
    { echo "soak: FAIL: server descriptors not back to baseline"; rc=1; }
echo "soak: worker descriptors: w0 $BASE_W0 before, $END_W0 after;" \
    "w1 $BASE_W1 before, $END_W1 after"
if [ "$k" -eq 0 ] &&
    { [ "$END_W0" -gt "$BASE_W0" ] || [ "$END_W1" -gt "$BASE_W1" ]; }; then
	echo "soak: FAIL: worker descriptors not back to baseline"
	rc=1
fi
echo "soak: RSS and descriptors, first, middle and last samples:"
n=$(wc -l <"$OUT/samples.txt")
sed -n "1p;2p;$(( (n + 1) / 2 ))p;$((n - 1))p;${n}p" "$OUT/samples.txt"
if grep -l -E 'Sanitizer|runtime error:' "$OUT"/*.log; then
	echo "soak: FAIL: sanitizer reports in the logs above"
	rc=1
else
	echo "soak: no sanitizer report in any log"
fi
exit $rc
