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
# is killed while spliced uploads are in flight: the server carries on,
# and the next tunnel, on a new worker, is intact.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
TFAULT=$(cd "$TOP_BUILDDIR" && pwd)/tests/tfault.so

start_sink echo
ECHO=$SINK_PORT
start_sink sum
SUM=$SINK_PORT

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

# bulk NAME ECHO_SIZE UP_SIZE [VAR=VALUE...]: a server and a worker with
# the VAR=VALUE settings in their environment (LD_PRELOAD=tfault.so with
# any), the six tunnels, their checksums, then both daemons stopped.
bulk() {
	_name=$1
	_echo=$2
	_up=$3
	shift 3
	_sp=$(free_port)
	_wp=$(free_port)
	write_conf "$T/$_name.server.conf" "SOCKS_LISTEN=127.0.0.1:$_sp" \
	    "WORKER_LISTEN=127.0.0.1:$_wp" NO_WORKER=refuse \
	    "PIDFILE=$T/$_name.server.pid"
	write_conf "$T/$_name.worker.conf" "SERVERS=127.0.0.1:$_wp" \
	    WORKER_NAME=bulk "PIDFILE=$T/$_name.worker.pid"
	bulk_daemon server "$_name" "$@"
	_spid=$!
	bulk_daemon worker "$_name" "$@"
	_wpid=$!
	wait_log "$T/$_name.server.log" "worker bulk \(.*\) joined the pool" \
	    10 || fail "$_name: worker did not join the pool"

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

# vanish: SIGKILL the worker in the middle of two bulk uploads.
_sp=$(free_port)
_wp=$(free_port)
write_conf "$T/vanish.server.conf" "SOCKS_LISTEN=127.0.0.1:$_sp" \
    "WORKER_LISTEN=127.0.0.1:$_wp" NO_WORKER=refuse \
    "PIDFILE=$T/vanish.server.pid"
write_conf "$T/vanish.worker.conf" "SERVERS=127.0.0.1:$_wp" \
    WORKER_NAME=bulk "PIDFILE=$T/vanish.worker.pid"
bulk_daemon server vanish
SPID=$!
bulk_daemon worker vanish
WPID=$!
LOG=$T/vanish.server.log
wait_log "$LOG" "worker bulk \(.*\) joined the pool" 10 ||
    fail "vanish: worker did not join the pool"
base=$(ls "/proc/$WPID/fd" | wc -l)
for i in 1 2; do
	"$SOCKSC" -x 127.0.0.1:$_sp -t 127.0.0.1:$SUM -g 4G -w 30 \
	    >/dev/null 2>&1 &
	track_pid $!
done
# Both uploads have their destination sockets on the worker.
wait_for "[ \$(ls /proc/$WPID/fd | wc -l) -ge $((base + 2)) ]" 10 ||
    fail "vanish: the uploads did not start"
sleep 1
kill -9 "$WPID"
wait_log "$LOG" "worker bulk \(.*\) left the pool" 10 ||
    fail "vanish: the server did not see the worker go"
lib_alive "$SPID" || fail "vanish: the server died with its worker"
bulk_daemon worker vanish
wait_for "[ \$(grep -c 'worker bulk (.*) joined the pool' '$LOG') -ge 2 ]" \
    10 || fail "vanish: the new worker did not join the pool"
got=$("$SOCKSC" -x 127.0.0.1:$_sp -t 127.0.0.1:$ECHO -g 8M -k -w 30) ||
    fail "vanish: the tunnel after the kill failed"
[ "$got" = "$("$SOCKSC" -G 8M -k)" ] ||
    fail "vanish: the tunnel after the kill damaged its data: $got"
stop_pid "$SPID" || fail "vanish: server exited $? on SIGTERM"
if grep -E -q 'Sanitizer|runtime error:' "$LOG"; then
	fail "vanish: sanitizer report in $LOG"
fi
echo "vanish: the worker killed mid-upload, the server carried on"
exit 0
