#!/bin/sh
# bench.sh: measure esocksd against a direct connection ("make bench").
#
#   bench.sh [-U] [-b ESBENCH] [-e ESOCKSD] [-d SECONDS] [-n IDLE]
#            [-r ROUNDS] [-m MEASURES] [-H HELD] [-o KEY=VALUE]...
#            [NAME=HOST:PORT]...
#
# Starts an esbench sink on a free loopback port and runs "esbench run"
# against it directly, then through each proxy: the NAME=HOST:PORT
# SOCKS5 proxies given, or, when none is given, esocksd started here
# twice with throw-away configs on free ports: "esocksd-direct" (a
# server with no worker, proxying itself) and "esocksd-pool" (a server
# with NO_WORKER=refuse plus one worker, so every tunnel crosses the
# worker link), then Dante (danted) and microsocks when installed
# (Dante once the TIME_WAIT sockets of the measures before it are gone:
# drain_time_wait in benchlib.sh says why).  The CPU time of a proxy is
# that of its processes and their children, reaped ones included.
# Each setup is stopped before the next starts, so they do not share
# the CPUs.  Prints a table of each measure with its ratio
# to direct, and the VmRSS of the esocksd processes before, during and
# after the idle-tunnel test.  Every process started is stopped by PID.
#
# With two CPUs or more and taskset(1), the client runs on CPU 0 and the
# sink on CPU 1 in every target, and the proxies where the scheduler puts
# them.  Unpinned, a 1-byte round trip between two processes that the
# scheduler happens to put on one CPU takes a tenth of one that crosses
# CPUs (no cross-CPU wake-up), so the direct baseline jumped between the
# two from one run to the next.  -U leaves everything unpinned.
#
# -H HELD holds that many idle tunnels open through each target (to a
# second sink, so that the measured one does not watch them) during all
# the measures: what a proxy costs with many tunnels held.  -o KEY=VALUE
# adds a line to every esocksd config started here (say, POLLER=epoll).
# Exit 0 when every target ran every measure, 1 otherwise.

. "$(dirname "$0")/benchlib.sh"
ESBENCH=${ESBENCH:-tests/bench/esbench}
ESOCKSD=${ESOCKSD:-src/esocksd}
SECONDS_PER=5
IDLE=5000
ROUNDS=20000
MEASURES=
PIN=yes
HELD=0
EXTRA_CONF=

usage() {
	echo "usage: bench.sh [-U] [-b ESBENCH] [-e ESOCKSD] [-d SECONDS]" \
	    "[-n IDLE] [-r ROUNDS] [-m MEASURES] [-H HELD]" \
	    "[-o KEY=VALUE]... [NAME=HOST:PORT]..." >&2
	exit 2
}

while getopts UH:b:d:e:m:n:o:r: opt; do
	case $opt in
	U) PIN= ;;
	H) HELD=$OPTARG ;;
	o)
		case $OPTARG in
		[A-Z]*=*) ;;
		*) usage ;;
		esac
		EXTRA_CONF="$EXTRA_CONF
$OPTARG" ;;
	b) ESBENCH=$OPTARG ;;
	d) SECONDS_PER=$OPTARG ;;
	e) ESOCKSD=$OPTARG ;;
	m) MEASURES=$OPTARG ;;
	n) IDLE=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
for arg in "$@"; do
	case $arg in
	?*=?*:[0-9]*) ;;
	*) usage ;;
	esac
done
[ -x "$ESBENCH" ] || { echo "bench.sh: $ESBENCH not built" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/esbench.XXXXXX") || exit 1
PIDS=
FAILED=

# Is process $1 running (not gone, not a zombie)?
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	if [ -r "/proc/$1/stat" ]; then
		[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
		    cut -d' ' -f1)" != Z ] ||
		    return 1
	fi
	return 0
}

# SIGTERM each PID, wait up to 12 s (the daemon drains for 10), then KILL.
stop_pids() {
	for p in "$@"; do
		kill "$p" 2>/dev/null
	done
	i=0
	while [ $i -lt 120 ]; do
		left=
		for p in "$@"; do
			alive "$p" && left="$left $p"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	for p in $left; do
		echo "bench.sh: $p did not stop, killing it" >&2
		kill -9 "$p" 2>/dev/null
	done
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP PIPE
	# shellcheck disable=SC2086
	[ -n "$PIDS" ] && stop_pids $PIDS
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# Pin the client and the sink to different CPUs (see the top).
CLIENT_CPU=
SINK_CPU=
if [ -n "$PIN" ] && command -v taskset >/dev/null 2>&1 &&
    [ "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)" -ge 2 ] &&
    taskset -c 1 true 2>/dev/null; then
	CLIENT_CPU="taskset -c 0"
	SINK_CPU="taskset -c 1"
	echo "bench.sh: client on CPU 0, sink on CPU 1, proxies unpinned" >&2
else
	echo "bench.sh: nothing pinned" >&2
fi

# The idle test needs about 2 descriptors per tunnel in the proxy.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -H -n)" 2>/dev/null

$SINK_CPU "$ESBENCH" sink -P "$T/sink.port" 2>"$T/sink.log" &
PIDS="$PIDS $!"
i=0
until [ -s "$T/sink.port" ]; do
	i=$((i + 1))
	[ $i -ge 100 ] && { echo "bench.sh: sink did not start" >&2; exit 1; }
	sleep 0.1
done
SINK=127.0.0.1:$(cat "$T/sink.port")
# The held tunnels' sink: another process, on the sink's CPU.
HOLD=
if [ "$HELD" -gt 0 ]; then
	$SINK_CPU "$ESBENCH" sink -P "$T/hold.port" 2>"$T/hold.log" &
	PIDS="$PIDS $!"
	i=0
	until [ -s "$T/hold.port" ]; do
		i=$((i + 1))
		[ $i -ge 100 ] &&
		    { echo "bench.sh: hold sink did not start" >&2; exit 1; }
		sleep 0.1
	done
	HOLD=127.0.0.1:$(cat "$T/hold.port")
fi

NAMES=
# run_target NAME [PROXY [PIDS]]: one esbench run, results in $T/res.NAME.
run_target() {
	name=$1
	NAMES="$NAMES $name"
	echo "bench.sh: running $name" >&2
	set -- run -t "$SINK" -d "$SECONDS_PER" -n "$IDLE" -r "$ROUNDS" \
	    ${MEASURES:+-m "$MEASURES"} ${2:+-x "$2"} ${3:+-p "$3"} \
	    ${HOLD:+-H "$HELD" -T "$HOLD"}
	if ! $CLIENT_CPU "$ESBENCH" "$@" >"$T/res.$name" 2>"$T/err.$name"
	then
		FAILED="$FAILED $name"
		sed "s/^/bench.sh: $name: /" "$T/err.$name" >&2
	fi
}

# start_daemon ROLE CONF: esocksd in the foreground, PID in $DPID; the
# -o lines are added to CONF first.
start_daemon() {
	[ -n "$EXTRA_CONF" ] && printf '%s\n' "$EXTRA_CONF" >>"$2"
	"$ESOCKSD" -f -c "$2" "$1" >"$2.log" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
}

# ready NAME PROXY LOG...: wait until an echo works through the proxy.
ready() {
	name=$1
	proxy=$2
	shift 2
	if "$ESBENCH" probe -x "$proxy" -t "$SINK" -w 15 2>"$T/probe.$name"
	then
		return 0
	fi
	echo "bench.sh: $name did not come up: $(cat "$T/probe.$name")" >&2
	for log in "$@"; do
		echo "---- $log" >&2
		tail -n 20 "$log" >&2
	done
	FAILED="$FAILED $name"
	NAMES="$NAMES $name"
	: >"$T/res.$name"
	return 1
}

run_target direct

if [ $# -gt 0 ]; then
	for arg in "$@"; do
		run_target "${arg%%=*}" "${arg#*=}"
	done
elif [ ! -x "$ESOCKSD" ]; then
	echo "bench.sh: $ESOCKSD not built; direct only" >&2
	FAILED="$FAILED esocksd"
else
	# A server proxying by itself.
	S1=$("$ESBENCH" freeport)
	W1=$("$ESBENCH" freeport)
	cat >"$T/direct.conf" <<-EOF
	SOCKS_LISTEN=127.0.0.1:$S1
	WORKER_LISTEN=127.0.0.1:$W1
	NO_WORKER=direct
	LOG_ACCESS=no
	LOG_CONNECTION=no
	PIDFILE=$T/direct.pid
	EOF
	start_daemon server "$T/direct.conf"
	spid=$DPID
	if ready esocksd-direct "127.0.0.1:$S1" "$T/direct.conf.log"; then
		run_target esocksd-direct "127.0.0.1:$S1" "$spid"
	fi
	stop_pids "$spid"

	# A server that only hands tunnels to its worker.
	S2=$("$ESBENCH" freeport)
	W2=$("$ESBENCH" freeport)
	cat >"$T/pool.conf" <<-EOF
	SOCKS_LISTEN=127.0.0.1:$S2
	WORKER_LISTEN=127.0.0.1:$W2
	NO_WORKER=refuse
	LOG_ACCESS=no
	LOG_CONNECTION=no
	PIDFILE=$T/pool.pid
	EOF
	cat >"$T/worker.conf" <<-EOF
	SERVERS=127.0.0.1:$W2
	WORKER_NAME=bench-worker
	LOG_ACCESS=no
	LOG_CONNECTION=no
	PIDFILE=$T/worker.pid
	EOF
	start_daemon server "$T/pool.conf"
	spid=$DPID
	start_daemon worker "$T/worker.conf"
	wpid=$DPID
	if ready esocksd-pool "127.0.0.1:$S2" "$T/pool.conf.log" \
	    "$T/worker.conf.log"; then
		run_target esocksd-pool "127.0.0.1:$S2" "$spid,$wpid"
	fi
	stop_pids "$spid" "$wpid"

	# Dante and microsocks, where installed, in the same run.
	DANTED=$(command -v danted || command -v sockd ||
	    ls /usr/sbin/danted 2>/dev/null)
	if [ -n "$DANTED" ]; then
		drain_time_wait
		S3=$("$ESBENCH" freeport)
		start_dante "$DANTED" "$T" "$S3"
		dpid=$!
		PIDS="$PIDS $dpid"
		if ready dante "127.0.0.1:$S3" "$T/dante.log"; then
			# Its processes, for the CPU and RSS sums.
			run_target dante "127.0.0.1:$S3" \
			    "$(echo $dpid $(pgrep -P $dpid) | tr ' ' ',')"
		fi
		stop_pids "$dpid"
		drain_time_wait
	fi
	if command -v microsocks >/dev/null 2>&1; then
		S4=$("$ESBENCH" freeport)
		microsocks -i 127.0.0.1 -p "$S4" >"$T/microsocks.log" 2>&1 &
		mpid=$!
		PIDS="$PIDS $mpid"
		if ready microsocks "127.0.0.1:$S4" "$T/microsocks.log"; then
			run_target microsocks "127.0.0.1:$S4" "$mpid"
		fi
		stop_pids "$mpid"
	fi
fi

# One column per target, a ratio to direct for the rates and latencies.
echo
echo "esbench: ${SECONDS_PER}s per timed measure, $IDLE idle tunnels," \
    "$ROUNDS round trips, $HELD tunnels held throughout" \
    "$(printf '%s' "$EXTRA_CONF" | tr '\n' ' ')"
# shellcheck disable=SC2086
(cd "$T" && for n in $NAMES; do echo "== $n"; cat "res.$n"; done) | awk '
	/^== / { t = $2; cols[++n] = t; next }
	{ v[t, $1] = $2 }
	END {
		split("held_opened held_open_s " \
		    "up1_MBps down1_MBps up8_MBps conn_per_s conn_failed " \
		    "conn_cpu_us cpu_s_per_GB " \
		    "rtt_p50_us rtt_p99_us idle_ok idle_opened idle_total " \
		    "idle_open_s " \
		    "rss_before_kB rss_held_kB rss_after_kB " \
		    "rss_per_tunnel_B", keys, " ")
		ratio["up1_MBps"] = ratio["down1_MBps"] = 1
		ratio["up8_MBps"] = ratio["conn_per_s"] = 1
		ratio["rtt_p50_us"] = ratio["rtt_p99_us"] = 1
		ratio["idle_open_s"] = ratio["held_open_s"] = 1
		printf "%-18s", "measure"
		for (c = 1; c <= n; c++)
			printf " %22s", cols[c]
		printf "\n"
		for (k = 1; k in keys; k++) {
			key = keys[k]
			line = sprintf("%-18s", key)
			any = 0
			for (c = 1; c <= n; c++) {
				if ((cols[c], key) in v) {
					any = 1
					cell = v[cols[c], key]
					d = v[cols[1], key]
					if (c > 1 && (key in ratio) && d > 0)
						cell = sprintf("%s (x%.2f)",
						    cell, cell / d)
				} else
					cell = "-"
				line = line sprintf(" %22s", cell)
			}
			if (any)
				print line
		}
	}'
if [ -n "$FAILED" ]; then
	echo "bench.sh: failed:$FAILED" >&2
	exit 1
fi
exit 0
