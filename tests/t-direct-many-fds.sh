#!/bin/sh
# More descriptors than FD_SETSIZE (1024): 640 tunnels held open at once
# (1280 sockets in the daemon) through esbench's idle measure, then one
# 8-byte echo on each; every one must come back, and the daemon's peak
# descriptor count (Linux /proc) must really pass 1024.  With select(),
# the default backend, the daemon says once that it watches more than
# 1,024 descriptors and which POLLER to use instead; with another backend
# it says nothing of the kind.  The descriptor limit is raised first;
# skipped if it cannot go above 4096.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# The daemon's open descriptors (Linux /proc), or 0.
nfds() {
	ls "/proc/$ESOCKSD_PID/fd" 2>/dev/null | wc -l | tr -d ' '
}

N=640
ESBENCH=${ESBENCH:-$TOP_BUILDDIR/tests/bench/esbench}
[ -x "$ESBENCH" ] || skip "$ESBENCH not built (make tests/bench/esbench)"
# ulimit -n is not POSIX, but every sh that runs this has it.
lim=$(ulimit -n 2>/dev/null) || skip "this sh has no ulimit -n"
if [ "$lim" != unlimited ] && [ "$lim" -lt 8192 ]; then
	ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -H -n)" 2>/dev/null
	lim=$(ulimit -n)
fi
[ "$lim" = unlimited ] || [ "$lim" -gt 4096 ] ||
    skip "cannot raise the descriptor limit above 4096 (it is $lim)"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    LOG_CONNECTION=no
start_sink command
SINK=$SINK_PORT
start_esocksd server "$T/esocksd.conf"
base=$(nfds)

"$ESBENCH" run -x 127.0.0.1:$SP -t 127.0.0.1:$SINK -m idle -n $N \
    >"$T/bench.out" 2>"$T/bench.err" &
bench=$!
track_pid $bench
# Sample the daemon's descriptors while the tunnels open and close.
peak=0
i=0
while lib_alive $bench && [ $i -lt 500 ]; do
	n=$(nfds)
	[ "$n" -gt "$peak" ] && peak=$n
	sleep 0.1
	i=$((i + 1))
done
lib_alive $bench && fail "esbench still running after 50 s"
wait $bench
rc=$?
[ $rc -eq 0 ] || fail "esbench exit $rc: $(cat "$T/bench.err")"
ok=$(sed -n 's/^idle_ok //p' "$T/bench.out")
opened=$(sed -n 's/^idle_opened //p' "$T/bench.out")
[ "$opened" = $N ] || fail "only $opened of $N tunnels opened: \
$(cat "$T/bench.err")"
[ "$ok" = $N ] || fail "only $ok of $N held tunnels echoed"
if [ -d "/proc/$ESOCKSD_PID/fd" ]; then
	[ "$peak" -gt 1100 ] ||
	    fail "the daemon peaked at $peak descriptors, not above 1024"
fi

# select() says once which backend scales; the others have no need to.
n=$(grep -c 'more than 1024 descriptors.*set POLLER=[a-z]* in the config' \
    "$ESOCKSD_LOG")
if [ "$LIB_POLLER" = select ]; then
	[ "$n" -eq 1 ] || fail "$n lines advising another POLLER, want 1"
else
	[ "$n" -eq 0 ] || fail "POLLER=$LIB_POLLER advises another POLLER"
fi

# Every tunnel is accounted for, and the descriptors are given back.
wait_for "[ \$(grep -c '^access .* result=ok ' '$ESOCKSD_LOG') -ge $N ]" 10 ||
    fail "$(grep -c '^access .* result=ok ' "$ESOCKSD_LOG") of $N \
tunnels logged result=ok"
wait_for "[ \"\$(nfds)\" -le $base ]" 5 ||
    fail "the daemon holds $(nfds) descriptors, $base before"
got=$(printf 'E\nafter\n' | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$SINK \
    -w 5 2>"$T/err")
[ "$got" = after ] || fail "echo after the crowd returned '$got': \
$(cat "$T/err")"
stop_daemon
exit 0
