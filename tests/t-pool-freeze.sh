#!/bin/sh
# A frozen worker (SIGSTOP) stops pinging; the server drops it after
# WORKER_IDLE_CLOSE (2 s) and sends new tunnels to the other worker.  A
# request handed to the frozen worker before the drop is tried again
# elsewhere.  Once the other worker is gone too, NO_WORKER=direct takes
# over.  SIGCONT: the frozen worker finds its link closed, reconnects
# and carries tunnels again.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

start_sink echo
ECHO=$SINK_PORT
WANT=$("$SOCKSC" -G 100K -k)

# tunnels N: N echo tunnels one after another, each intact.
tunnels() {
	_i=0
	while [ $_i -lt $1 ]; do
		_got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 100K \
		    -k -w 10 2>"$T/c.err") ||
		    fail "tunnel failed: $(cat "$T/c.err")"
		[ "$_got" = "$WANT" ] ||
		    fail "tunnel damaged: '$_got' != '$WANT'"
		_i=$((_i + 1))
	done
}

# vias N: the via= of the last N access lines, one a line.
vias() {
	grep '^access ' "$SRV_LOG" | tail -n $1 |
	    sed 's/.* via=\([^ ]*\) .*/\1/'
}

# Milliseconds of the monotonic-enough wall clock (GNU date or seconds).
now_ms() {
	_t=$(date +%s%N 2>/dev/null)
	case $_t in
	*N|'') echo $(($(date +%s) * 1000)) ;;
	*) echo $((_t / 1000000)) ;;
	esac
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=direct WORKER_IDLE_CLOSE=2 \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
for name in wa wb; do
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" PING_INTERVAL=0.5 RECONNECT_INTERVAL=0.2 \
	    "PIDFILE=$T/$name.pid"
	start_esocksd worker "$T/$name.conf"
	eval "PID_$name=\$ESOCKSD_PID"
	eval "LOG_$name=\$ESOCKSD_LOG"
done
for name in wa wb; do
	wait_log "$SRV_LOG" "worker $name \(.*\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done

# Pings keep idle links up well past WORKER_IDLE_CLOSE.
sleep 3
grep -q 'left the pool' "$SRV_LOG" &&
    fail "an idle but pinging worker was dropped"
tunnels 2
[ "$(vias 2 | sort | tr '\n' ' ')" = "wa wb " ] ||
    fail "2 tunnels did not go one to each worker: $(vias 2 | tr '\n' ' ')"

# Freeze wa.
kill -STOP $PID_wa
t0=$(now_ms)

# Requests made now: those given to wa wait, then go to wb once wa is
# dropped.
before=$(grep -c '^access ' "$SRV_LOG")
for i in 1 2; do
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 100K -k -w 15 \
	    >"$T/frozen.$i" 2>"$T/frozen.$i.err" &
	eval "FROZEN_$i=\$!"
	track_pid $!
done

wait_log "$SRV_LOG" 'worker wa \(.*\) left the pool' 6 ||
    fail "frozen worker wa not dropped within 6 s (WORKER_IDLE_CLOSE=2)"
ms=$(($(now_ms) - t0))
echo "frozen worker dropped after ${ms} ms"
[ $ms -ge 1000 ] || fail "frozen worker dropped after only $ms ms"

for i in 1 2; do
	eval "_p=\$FROZEN_$i"
	wait $_p || fail "request $i made during the freeze failed:" \
	    "$(cat "$T/frozen.$i.err")"
	[ "$(cat "$T/frozen.$i")" = "$WANT" ] ||
	    fail "request $i made during the freeze damaged"
done
wait_for "[ \$(grep -c '^access ' '$SRV_LOG') -ge $((before + 2)) ]" 5 ||
    fail "no access lines for the requests made during the freeze"
[ "$(vias 2 | sort -u)" = wb ] ||
    fail "requests made during the freeze not all via wb:" \
    "$(vias 2 | tr '\n' ' ')"

# New tunnels go to wb.
tunnels 3
[ "$(vias 3 | sort -u)" = wb ] ||
    fail "tunnels after the drop not all via wb: $(vias 3 | tr '\n' ' ')"

# wb stops too: NO_WORKER=direct.
stop_pid $PID_wb || fail "worker wb exited $? on SIGTERM"
wait_log "$SRV_LOG" 'worker wb \(.*\) left the pool' 5 ||
    fail "worker wb did not leave"
tunnels 2
[ "$(vias 2 | sort -u)" = direct ] ||
    fail "tunnels with no worker not direct: $(vias 2 | tr '\n' ' ')"

# Thaw wa: it reconnects and works again.
kill -CONT $PID_wa
wait_for "[ \$(grep -c 'worker wa (.*) joined the pool' '$SRV_LOG') -ge 2 ]" \
    10 || fail "thawed worker wa did not join the pool again"
tunnels 2
[ "$(vias 2 | sort -u)" = wa ] ||
    fail "tunnels after the thaw not via wa: $(vias 2 | tr '\n' ' ')"
exit 0
