#!/bin/sh
# scale.sh: how a proxy copes with many idle tunnels ("make bench" runs
# it after bench.sh; the figures are in doc/PERFORMANCE.md).
#
#   scale.sh [-b BENCHDIR] [-e ESOCKSD] [-R REPEATS] [-H HELD...]
#            [-P PROCS...] [-r ROUNDS] [-d SECONDS] [-m TARGETS]
#            [-W POLLERS] [-C ROUNDCOST_HELD]
#
# For each target and each number of idle tunnels held (HELD, default
# "0 8000 20000"), opens the tunnels through the proxy from several
# holder processes (eshold, 5,000 tunnels each: a process here may hold
# only ulimit -Hn descriptors) to two esbench sinks (a third, holding
# nothing, answers the measures: a sink polls every connection it
# holds, and would slow them itself), notes how long
# opening them took, then measures the connection rate (connect +
# 64-byte echo + close, 8 clients, SECONDS) and the 1-byte round trip
# (ROUNDS) with them held, and closes them.  Targets (-m, a comma list,
# default all that are installed):
#   epoll4       esocksd POLLER=epoll PROCESSES=4, direct mode
#   epoll1       esocksd POLLER=epoll, one process (HELD up to 8000: a
#                process holds 2 descriptors per tunnel)
#   selectN      esocksd POLLER=select PROCESSES=N for each N of PROCS
#                (default "1 2 4 8"; HELD up to 8000)
#   dante        danted (Debian's dante-server) if installed
#   microsocks   microsocks if installed (one process: HELD up to 8000)
#   none         no target: only the kernel's select() cost, the simulated
#                workers and the round cost
# Also the kernel's own cost of a blocking select() over 1,000, 4,000
# and 16,000 loopback TCP descriptors (eshold selectcost -t), and 1,000
# simulated workers (wsim) registered on one server for each POLLER of
# -W ("epoll select"; "" skips it): registration time, server RSS per
# link, whether every one got sessions from 8 clients' SECONDS of
# connections, and how long the last waited for its first from the
# moment all were registered.  And, where perf(1) is installed, what a
# loop round costs esocksd itself with POLLER=select, one process: for
# each number of idle tunnels of -C ("0 500 2000 8000": about 0, 1,000,
# 4,000 and 16,000 descriptors) held, its CPU time per pselect6 call
# while ROUNDS round trips run through it ("" skips it).  Each measure
# runs REPEATS times (3);
# the table gives medians and each ratio to the same target with none
# held.  The measuring client runs on CPU 0 and its sink on
# CPU 1 (taskset), as in bench.sh.  Every process started is stopped by
# PID.  SCALE_KEEP=1 in the environment keeps the scratch directory (the
# proxies' logs) and names it at the end.
#
# Before each of Dante's holds, and after Dante, the script waits for the
# TIME_WAIT sockets of the measures before to go (drain_time_wait in
# benchlib.sh says why).

BENCH=tests/bench
. "$(dirname "$0")/benchlib.sh"
ESOCKSD=src/esocksd
REPEATS=3
HELD="0 8000 20000"
PROCS="1 2 4 8"
ROUNDS=2000
SECS=3
TARGETS=
PER_HOLDER=5000
WSIM_LINKS=1000
WSIM_POLLERS="epoll select"
ROUNDCOST="0 500 2000 8000"

while getopts b:C:d:e:H:m:P:r:R:W: opt; do
	case $opt in
	C) ROUNDCOST=$OPTARG ;;
	W) WSIM_POLLERS=$OPTARG ;;
	b) BENCH=$OPTARG ;;
	d) SECS=$OPTARG ;;
	e) ESOCKSD=$OPTARG ;;
	H) HELD=$OPTARG ;;
	m) TARGETS=$OPTARG ;;
	P) PROCS=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	R) REPEATS=$OPTARG ;;
	*) echo "usage: scale.sh [-b BENCHDIR] [-e ESOCKSD] [-R REPEATS]" \
	       "[-H HELD] [-P PROCS] [-r ROUNDS] [-d SECONDS] [-m TARGETS]" >&2
	   exit 2 ;;
	esac
done
ESBENCH=$BENCH/esbench
ESHOLD=$BENCH/eshold
WSIM=$BENCH/wsim
for f in "$ESBENCH" "$ESHOLD" "$WSIM" "$ESOCKSD"; do
	[ -x "$f" ] || { echo "scale.sh: $f not built" >&2; exit 2; }
done
DANTED=$(command -v danted || command -v sockd || ls /usr/sbin/danted 2>/dev/null)
MICROSOCKS=$(command -v microsocks)
if [ -z "$TARGETS" ]; then
	TARGETS="epoll4,epoll1"
	for n in $PROCS; do
		TARGETS="$TARGETS,select$n"
	done
	[ -n "$DANTED" ] && TARGETS="$TARGETS,dante"
	[ -n "$MICROSOCKS" ] && TARGETS="$TARGETS,microsocks"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/esscale.XXXXXX") || exit 1
PIDS=
cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	for p in $PIDS $HOLDERS $DPID; do
		kill "$p" 2>/dev/null
	done
	sleep 1
	for p in $PIDS $HOLDERS $DPID; do
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "$SCALE_KEEP" ]; then
		echo "scale.sh: kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ulimit -n "$(ulimit -H -n)" 2>/dev/null

# Wait up to $2 s for file $1 to be non-empty.
wait_file() {
	_i=0
	while [ ! -s "$1" ]; do
		_i=$((_i + 1))
		[ $_i -ge $(($2 * 10)) ] && return 1
		sleep 0.1
	done
}

# As bench.sh does: the measuring client on CPU 0, its sink on CPU 1.
CLIENT_CPU=
SINK_CPU=
if command -v taskset >/dev/null 2>&1 &&
    [ "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)" -ge 2 ] &&
    taskset -c 1 true 2>/dev/null; then
	CLIENT_CPU="taskset -c 0"
	SINK_CPU="taskset -c 1"
fi

SINKS=
for i in 0 1 2; do
	pin=
	[ $i -eq 0 ] && pin=$SINK_CPU
	$pin "$ESBENCH" sink -P "$T/sink$i.port" 2>/dev/null &
	PIDS="$PIDS $!"
	wait_file "$T/sink$i.port" 10 || { echo "scale.sh: no sink" >&2; exit 1; }
	SINKS="$SINKS 127.0.0.1:$(cat "$T/sink$i.port")"
done
set -- $SINKS
SINK=$1

# PID and every descendant of it, comma-separated.
family() {
	_list=$1
	_new=$1
	while [ -n "$_new" ]; do
		_next=
		for _p in $_new; do
			_next="$_next $(pgrep -P "$_p" | tr '\n' ' ')"
		done
		_new=$(echo $_next)
		[ -n "$_new" ] && _list="$_list $_new"
	done
	echo $_list | tr ' ' ','
}

# start_target NAME: start it on a free port; PROXY and DPID set.
start_target() {
	port=$("$ESBENCH" freeport)
	wport=$("$ESBENCH" freeport)
	PROXY=127.0.0.1:$port
	case $1 in
	epoll*|select*)
		poller=${1%%[0-9]*}
		procs=${1#"$poller"}
		cat >"$T/$1.conf" <<-EOF
		SOCKS_LISTEN=$PROXY
		WORKER_LISTEN=127.0.0.1:$wport
		POLLER=$poller
		PROCESSES=$procs
		LOG_ACCESS=no
		LOG_CONNECTION=no
		PIDFILE=$T/$1.pid
		EOF
		"$ESOCKSD" -f -c "$T/$1.conf" server >"$T/$1.log" 2>&1 &
		DPID=$!
		;;
	dante)
		start_dante "$DANTED" "$T" "$port"
		DPID=$!
		;;
	microsocks)
		"$MICROSOCKS" -i 127.0.0.1 -p "$port" >"$T/microsocks.log" 2>&1 &
		DPID=$!
		;;
	esac
	"$ESBENCH" probe -x "$PROXY" -t "$SINK" -w 15 2>"$T/probe.err" || {
		echo "scale.sh: $1 did not come up: $(cat "$T/probe.err")" >&2
		return 1
	}
}

stop_target() {
	kill "$DPID" 2>/dev/null
	_i=0
	while kill -0 "$DPID" 2>/dev/null && [ $_i -lt 150 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

# hold N: open N tunnels through $PROXY; OPEN_S and OPENED set.
HOLDERS=
hold() {
	OPEN_S=0
	OPENED=0
	[ "$1" -gt 0 ] || return 0
	left=$1
	j=0
	rm -f "$T"/ready.*
	while [ "$left" -gt 0 ]; do
		n=$PER_HOLDER
		[ "$left" -lt $n ] && n=$left
		# Sinks 1 and 2 hold; sink 0 stays idle for the measures
		# (a sink polls every connection it holds).
		set -- $SINKS
		shift $((1 + j % 2))
		# Each holder from its own source address: see eshold.c.
		"$ESHOLD" hold -s 127.0.0.$((10 + j)) -x "$PROXY" -t "$1" \
		    -n $n -P "$T/ready.$j" \
		    2>>"$T/hold.err" &
		HOLDERS="$HOLDERS $!"
		left=$((left - n))
		j=$((j + 1))
	done
	k=0
	while [ $k -lt $j ]; do
		wait_file "$T/ready.$k" 300 || break
		read -r _w _o _s <"$T/ready.$k"
		OPENED=$((OPENED + _o))
		OPEN_S=$(echo "$OPEN_S $_s" | awk '{ print ($2 > $1) ? $2 : $1 }')
		k=$((k + 1))
	done
}

unhold() {
	for p in $HOLDERS; do
		kill "$p" 2>/dev/null
	done
	for p in $HOLDERS; do
		wait "$p" 2>/dev/null
	done
	HOLDERS=
}

# roundcost_measure: esocksd's CPU time per loop round (per pselect6
# call, counted by perf) with POLLER=select in one process, for each
# number of tunnels held in ROUNDCOST, while a round-trip measure runs.
roundcost_measure() {
	[ -n "$ROUNDCOST" ] || return 0
	command -v perf >/dev/null 2>&1 ||
	    { echo "scale.sh: no perf: round cost left out" >&2; return 0; }
	start_target select1 || { stop_target; return 0; }
	for h in $ROUNDCOST; do
		hold "$h"
		sleep 1
		perf stat -x, -e task-clock,syscalls:sys_enter_pselect6 \
		    -p "$DPID" -o "$T/perf.out" &
		perf=$!
		sleep 0.5
		$CLIENT_CPU "$ESBENCH" run -x "$PROXY" -t "$SINK" -r "$ROUNDS" \
		    -m rtt >"$T/rc.out" 2>&1
		kill -INT $perf
		wait $perf
		echo "$h $(ls "/proc/$DPID/fd" | wc -l)" \
		    "$(awk -F, '$3 == "task-clock" { ms = $1 }
			$3 ~ /pselect6/ { n = $1 }
			END { printf "%d %.1f", n, n ? ms * 1000 / n : 0 }' \
		    "$T/perf.out")" \
		    "$(sed -n 's/^rtt_p50_us //p' "$T/rc.out")" >>"$T/roundcost"
		echo "scale.sh: run $r: round cost: $(tail -n 1 "$T/roundcost")" >&2
		unhold
	done
	stop_target
}

# workers_measure POLLER: a server with WSIM_LINKS simulated workers
# (wsim) registered, NO_WORKER=refuse, then 8 clients for SECONDS:
# RSS per link, every link given sessions, how long the last one
# waited for its first.
workers_measure() {
	port=$("$ESBENCH" freeport)
	wport=$("$ESBENCH" freeport)
	cat >"$T/wsim.conf" <<-EOF
	SOCKS_LISTEN=127.0.0.1:$port
	WORKER_LISTEN=127.0.0.1:$wport
	POLLER=$1
	NO_WORKER=refuse
	WORKER_PENDING_MAX=0
	WORKER_PENDING_PER_IP=0
	LOG_ACCESS=no
	LOG_CONNECTION=no
	PIDFILE=$T/wsim.pid
	EOF
	"$ESOCKSD" -f -c "$T/wsim.conf" server >"$T/wsim.log" 2>&1 &
	DPID=$!
	sleep 1
	rss0=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' \
	    "/proc/$DPID/status")
	rm -f "$T/wsim.ready"
	"$WSIM" -s "127.0.0.1:$wport" -n "$WSIM_LINKS" -P "$T/wsim.ready" \
	    -d $((SECS + 2)) >"$T/wsim.out" 2>"$T/wsim.err" &
	wpid=$!
	wait_file "$T/wsim.ready" 120 || { kill $wpid; stop_target; return; }
	rss1=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' \
	    "/proc/$DPID/status")
	$CLIENT_CPU "$ESBENCH" run -x "127.0.0.1:$port" -t 127.0.0.1:9 \
	    -d "$SECS" -m conn -p "$DPID" >"$T/wsim.run" 2>&1
	wait $wpid
	read -r _w _n reg_s <"$T/wsim.ready"
	echo "$1 $WSIM_LINKS $reg_s $(( (rss1 - rss0) * 1024 / WSIM_LINKS ))" \
	    "$(sed -n 's/^with_sessions //p' "$T/wsim.out")" \
	    "$(sed -n 's/^first_session_max_s //p' "$T/wsim.out")" \
	    "$(sed -n 's/^conn_per_s //p' "$T/wsim.run")" \
	    "$(sed -n 's/^conn_cpu_us //p' "$T/wsim.run")" >>"$T/workers"
	echo "scale.sh: run $r: $WSIM_LINKS workers, POLLER=$1:" \
	    "$(tail -n 1 "$T/workers")" >&2
	stop_target
}

echo "scale.sh: targets $TARGETS; held: $HELD; $REPEATS runs each" >&2
: >"$T/workers"
: >"$T/roundcost"
: >"$T/results"
r=1
while [ $r -le "$REPEATS" ]; do
	for n in 1000 4000 16000; do
		"$ESHOLD" selectcost -t -n $n -r 200 >>"$T/select.txt"
	done
	for target in $(echo "$TARGETS" | tr ',' ' '); do
		[ "$target" = none ] && continue
		start_target "$target" || { stop_target; continue; }
		for h in $HELD; do
			case $target in
			epoll1|select*|microsocks)
				[ "$h" -gt 8000 ] && continue ;;
			dante) drain_time_wait ;;
			esac
			hold "$h"
			sleep 1
			pids=$(family "$DPID")
			$CLIENT_CPU "$ESBENCH" run -x "$PROXY" -t "$SINK" -d "$SECS" \
			    -r "$ROUNDS" -m conn,rtt -p "$pids" \
			    >"$T/run.out" 2>"$T/run.err"
			conn=$(sed -n 's/^conn_per_s //p' "$T/run.out")
			rtt=$(sed -n 's/^rtt_p50_us //p' "$T/run.out")
			cpu=$(sed -n 's/^conn_cpu_us //p' "$T/run.out")
			echo "$target $h ${OPENED:-0} ${OPEN_S:-0}" \
			    "${conn:--} ${rtt:--} ${cpu:--}" >>"$T/results"
			echo "scale.sh: run $r: $target held=$h opened=$OPENED" \
			    "in ${OPEN_S}s conn/s=${conn:--} rtt=${rtt:--}us" >&2
			unhold
		done
		stop_target
		# Dante's ports stay taken for their TIME_WAIT, for every
		# connect() from 127.0.0.1: let them go before what follows.
		[ "$target" = dante ] && drain_time_wait
	done
	for poller in $WSIM_POLLERS; do
		workers_measure "$poller"
	done
	roundcost_measure
	r=$((r + 1))
done

# The median of a space-separated list, for the tables' awk programs.
AWK_MEDIAN='
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((n + 1) / 2)]
}'

echo
echo "Kernel select() per round, blocking, median of $REPEATS runs (us):"
awk '{ v[$2] = v[$2] " " $3 }
    END { for (n in v) print n, v[n] }' "$T/select.txt" | sort -n |
    while read -r n vals; do
	echo "  $n descriptors: $(echo $vals | tr ' ' '\n' | sort -n |
	    awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
    done
if [ -s "$T/roundcost" ]; then
	echo
	echo "esocksd POLLER=select, one process: CPU per loop round," \
	    "medians of $REPEATS runs"
	printf '%8s %12s %10s %16s %12s\n' held descriptors waits \
	    cpu_per_wait_us rtt_p50_us
	awk "$AWK_MEDIAN"'
	{
		k = $1
		if (!(k in seen)) { seen[k] = 1; order[++n] = k }
		for (c = 2; c <= 5; c++)
			v[k, c] = v[k, c] " " $c
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]
			printf "%8s %12s %10s %16s %12s\n", k, median(v[k, 2]),
			    median(v[k, 3]), median(v[k, 4]), median(v[k, 5])
		}
	}' "$T/roundcost"
fi
echo
echo "Medians of $REPEATS runs; (xR) is the ratio to the same target with none held"
printf '%-12s %6s %8s %8s %14s %14s %8s\n' target held opened open_s \
    conn_per_s rtt_p50_us conn_cpu
awk "$AWK_MEDIAN"'
{
	k = $1 " " $2
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	op[k] = op[k] " " $3; os[k] = os[k] " " $4
	cn[k] = cn[k] " " $5; rt[k] = rt[k] " " $6; cu[k] = cu[k] " " $7
}
END {
	for (i = 1; i <= n; i++) {
		k = order[i]
		split(k, kk, " ")
		c = median(cn[k]); r = median(rt[k])
		b = kk[1] " 0"
		c0 = (b in seen) ? median(cn[b]) : 0
		r0 = (b in seen) ? median(rt[b]) : 0
		cs = (c0 > 0 && kk[2] > 0) ? sprintf("%s (x%.2f)", c, c / c0) : c
		rs = (r0 > 0 && kk[2] > 0) ? sprintf("%s (x%.2f)", r, r / r0) : r
		printf "%-12s %6s %8s %8s %14s %14s %8s\n", kk[1], kk[2],
		    median(op[k]), median(os[k]), cs, rs, median(cu[k])
	}
}' "$T/results"
if [ -s "$T/workers" ]; then
	echo
	echo "Simulated workers on one server, medians of $REPEATS runs"
	printf '%-8s %6s %8s %10s %14s %18s %10s %8s\n' poller links reg_s \
	    rss_B_link with_sessions first_session_max_s conn_per_s conn_cpu
	awk "$AWK_MEDIAN"'
	{
		k = $1
		if (!(k in seen)) { seen[k] = 1; order[++n] = k; links[k] = $2 }
		for (c = 3; c <= 8; c++)
			v[k, c] = v[k, c] " " $c
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]
			printf "%-8s %6s %8s %10s %14s %18s %10s %8s\n", k,
			    links[k], median(v[k, 3]), median(v[k, 4]),
			    median(v[k, 5]), median(v[k, 6]), median(v[k, 7]),
			    median(v[k, 8])
		}
	}' "$T/workers"
fi
