#!/bin/sh
# Bulk data through a worker, both ways at once, on one link: 4 tunnels
# each echo data back while 2 more upload to a summing sink.  Bulk reads
# are spliced onto the link, and large frames off it into the sockets
# (mux-splice.c).  Every byte must arrive
# intact and in order (checksums), in three runs:
#   plain     48 MiB echoed and 96 MiB uploaded per tunnel;
#   body      splice(2) into a socket moves at most 4,096 bytes a call
#             (tests/tfault.so, TFAULT_SPLICE_MAX), so a frame's body is
#             left in the link's pipe, to go out before what queues
#             behind it while the other sessions wait;
#   header    send(2) on a socket moves at most 16 bytes a call
#             (TFAULT_SEND_MAX), so the frame header itself is cut short
#             and the body is read back into the link's buffer behind it.
# The last two skip when tests/tfault.so is not built.  Then the worker
# is killed while spliced uploads are in flight, and again in the middle
# of downloads, the server cut while splicing a frame's body off the
# link: the server carries on, and the next tunnel, on a new worker, is
# intact.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
TFAULT=$(cd "$TOP_BUILDDIR" && pwd)/tests/tfault.so

start_sink echo
ECHO=$SINK_PORT
start_sink sum
SUM=$SINK_PORT
start_sink source:4G
SOURCE=$SINK_PORT

# bulk_daemon ROLE NAME [VAR=VALUE...]: esocksd ROLE on NAME's config, in
# the background (its PID in $!), with tfault.so and the VAR=VALUE
# settings in its environment when there are any.
bulk_daemon() {
	_role=$1
	_conf=$T/$2.$1.conf
	shift 2
	(
		if [ $# -gt 0 ]; then
			export LD_PRELOAD="$TFAULT" "$@"
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}
			export ASAN_OPTIONS="${ASAN_OPTIONS}verify_asan_link_order=0"
		fi
		exec "$ESOCKSD" -f -c "$_conf" "$_role"
	) >"${_conf%.conf}.log" 2>&1 &
	track_pid $!
}

# bulk_pool NAME [-w] [VAR=VALUE...]: a server (SOCKS port in $_sp, PID
# in $_spid, log in $T/NAME.server.log) and its worker (PID in $_wpid),
# with the VAR=VALUE settings in their environment (-w: in the worker's
# only); returns once the worker has joined the pool.
bulk_pool() {
	_name=$1
	_senv=yes
	shift
	if [ "${1:-}" = -w ]; then
		_senv=
		shift
	fi
	_sp=$(free_port)
	_wp=$(free_port)
	write_conf "$T/$_name.server.conf" "SOCKS_LISTEN=127.0.0.1:$_sp" \
	    "WORKER_LISTEN=127.0.0.1:$_wp" NO_WORKER=refuse \
	    "PIDFILE=$T/$_name.server.pid"
	write_conf "$T/$_name.worker.conf" "SERVERS=127.0.0.1:$_wp" \
	    WORKER_NAME=bulk "PIDFILE=$T/$_name.worker.pid"
	if [ -n "$_senv" ]; then
		bulk_daemon server "$_name" "$@"
	else
		bulk_daemon server "$_name"
	fi
	_spid=$!
	bulk_daemon worker "$_name" "$@"
	_wpid=$!
	wait_log "$T/$_name.server.log" "worker bulk \(.*\) joined the pool" \
	    10 || fail "$_name: worker did not join the pool"
}

# bulk NAME ECHO_SIZE UP_SIZE [VAR=VALUE...]: a server and a worker with
# the VAR=VALUE settings in their environment (LD_PRELOAD=tfault.so with
# any), the six tunnels, their checksums, then both daemons stopped.
bulk() {
	_name=$1
	_echo=$2
	_up=$3
	shift 3
	bulk_pool "$_name" "$@"

	_want_echo=$("$SOCKSC" -G "$_echo" -k)
	_want_up=$("$SOCKSC" -G "$_up" -k)
	_pids=
	for _i in 0 1 2 3 4 5; do
		if [ $_i -lt 4 ]; then
			"$SOCKSC" -x 127.0.0.1:$_sp -t 127.0.0.1:$ECHO \
			    -g "$_echo" -k -w 120 \
			    >"$T/$_name.out.$_i" 2>"$T/$_name.err.$_i" &
		else
			"$SOCKSC" -x 127.0.0.1:$_sp -t 127.0.0.1:$SUM \
			    -g "$_up" -w 120 \
			    >"$T/$_name.out.$_i" 2>"$T/$_name.err.$_i" &
		fi
		_pids="$_pids $!"
		track_pid $!
	done
	_i=0
	for _p in $_pids; do
		wait "$_p" || fail "$_name: tunnel $_i exited $?:" \
		    "$(cat "$T/$_name.err.$_i")"
		_i=$((_i + 1))
	done
	for _i in 0 1 2 3 4 5; do
		_want=$_want_echo
		[ $_i -ge 4 ] && _want=$_want_up
		_got=$(cat "$T/$_name.out.$_i")
		[ "$_got" = "$_want" ] || fail "$_name: tunnel $_i: data" \
		    "damaged: got '$_got', want '$_want'"
	done
	for _p in $_wpid $_spid; do
		stop_pid "$_p" || fail "$_name: esocksd exited $? on SIGTERM"
	done
	if grep -E -q 'Sanitizer|runtime error:' "$T/$_name".*.log; then
		fail "$_name: sanitizer report in $T/$_name.*.log"
	fi
	echo "$_name: 6 tunnels through the worker, intact"
}

bulk plain 48M 96M
if [ -r "$TFAULT" ]; then
	bulk body 8M 16M TFAULT_SPLICE_MAX=4096
	bulk header 4M 8M TFAULT_SEND_MAX=16
else
	echo "tests/tfault.so not built: the short-write runs are left out"
fi

# vanish NAME up|down [-w] [VAR=VALUE...]: SIGKILL the worker in the
# middle of two bulk transfers, uploads (which the server splices onto
# the link) or downloads (whose frames the server splices off it, so
# that it is cut in the middle of a body), with the settings as for
# bulk_pool.  The server must carry on, and the next tunnel, on a new
# worker, be intact.
vanish() {
	_name=$1
	_kind=$2
	shift 2
	bulk_pool "$_name" "$@"
	_log=$T/$_name.server.log
	_base=$(ls "/proc/$_wpid/fd" | wc -l)
	for _i in 1 2; do
		if [ "$_kind" = up ]; then
			"$SOCKSC" -x 127.0.0.1:$_sp -t 127.0.0.1:$SUM -g 4G \
			    -w 30 >/dev/null 2>&1 &
		else
			"$SOCKSC" -x 127.0.0.1:$_sp -t 127.0.0.1:$SOURCE -k \
			    -w 30 </dev/null >/dev/null 2>&1 &
		fi
		track_pid $!
	done
	# Both have their destination sockets on the worker.
	wait_for "[ \$(ls /proc/$_wpid/fd | wc -l) -ge $((_base + 2)) ]" \
	    10 || fail "$_name: the transfers did not start"
	sleep 1
	kill -9 "$_wpid"
	wait_log "$_log" "worker bulk \(.*\) left the pool" 10 ||
	    fail "$_name: the server did not see the worker go"
	lib_alive "$_spid" || fail "$_name: the server died with its worker"
	bulk_daemon worker "$_name"
	wait_for "[ \$(grep -c 'worker bulk (.*) joined the pool' '$_log') \
	    -ge 2 ]" 10 || fail "$_name: the new worker did not join the pool"
	_got=$("$SOCKSC" -x 127.0.0.1:$_sp -t 127.0.0.1:$ECHO -g 8M -k \
	    -w 30) || fail "$_name: the tunnel after the kill failed"
	[ "$_got" = "$("$SOCKSC" -G 8M -k)" ] ||
	    fail "$_name: the tunnel after the kill damaged its data: $_got"
	stop_pid "$_spid" || fail "$_name: server exited $? on SIGTERM"
	if grep -E -q 'Sanitizer|runtime error:' "$_log"; then
		fail "$_name: sanitizer report in $_log"
	fi
	echo "$_name: the worker killed mid-$_kind, the server carried on"
}

vanish vanish-up up
# With tfault.so the worker sends each body in pieces of 4 KiB, so the
# server is all the likelier to be in the middle of one when it dies.
if [ -r "$TFAULT" ]; then
	vanish vanish-down down -w TFAULT_SPLICE_MAX=4096
else
	vanish vanish-down down
fi
exit 0
