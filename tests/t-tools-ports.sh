#!/bin/sh
# The test tools on a machine whose ephemeral ports are all taken: on a
# busy host (many parallel test runs, sockets in TIME_WAIT) outgoing
# connections can hold every port of ip_local_port_range, and bind(2) to
# port 0 then fails with EADDRINUSE although other ports are free.  A
# sink started on 127.0.0.1:0, and free_port, must still get a port.
# Runs in a network namespace of its own (unshare -n, Linux) with an
# ephemeral range of eight ports, held by eight connections; skips where
# that cannot be had.
if [ -z "$ESOCKS_NETNS" ] && command -v unshare >/dev/null 2>&1 &&
    command -v ip >/dev/null 2>&1; then
	for _u in "unshare -n" "unshare -r -n"; do
		if $_u sh -c 'ip link set lo up &&
		    echo "40000 40007" >/proc/sys/net/ipv4/ip_local_port_range' \
		    >/dev/null 2>&1; then
			ESOCKS_NETNS=1
			export ESOCKS_NETNS
			exec $_u sh -c 'ip link set lo up &&
			    echo "40000 40007" \
			    >/proc/sys/net/ipv4/ip_local_port_range &&
			    exec sh "$0" "$@"' "$0" "$@"
		fi
	done
fi

. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -n "$ESOCKS_NETNS" ] ||
    skip "needs a network namespace (unshare -n) with its own port range"
[ -x "$SOCKSC" ] && [ -x "$TSINK" ] || skip "socksc or tsink not built"
[ "$(cat /proc/sys/net/ipv4/ip_local_port_range | tr -s '\t ' ' ')" = \
    "40000 40007" ] || skip "cannot set ip_local_port_range"

# An echo sink, and eight clients that hold a connection to it each: one
# per ephemeral port.  The FIFO's writer keeps their input open.
start_sink echo "127.0.0.1:$(free_port)"
ECHO=$SINK_PORT
mkfifo "$T/hold" || fail "mkfifo"
sleep 60 >"$T/hold" &
track_pid $!
i=0
while [ $i -lt 8 ]; do
	"$SOCKSC" -D -t "127.0.0.1:$ECHO" -w 60 <"$T/hold" \
	    >/dev/null 2>"$T/c.$i.err" &
	track_pid $!
	i=$((i + 1))
done
# Wait until the eight hold every port of the range.
wait_for "[ \$(grep -c ':9C4[0-7] [0-9A-F]*:$(printf %04X "$ECHO") 01 ' \
    /proc/net/tcp) -eq 8 ]" 10 ||
    fail "the eight connections did not come up: $(cat "$T"/c.*.err)"
# No ephemeral port is left for another outgoing connection.
"$SOCKSC" -D -t "127.0.0.1:$ECHO" -n -w 2 >/dev/null 2>&1 &&
    fail "a ninth connection found an ephemeral port: the range is not full"

# A sink on port 0, free_port, and a sink on that port.
"$TSINK" -l 127.0.0.1:0 -m echo -P "$T/any.port" 2>"$T/any.err" &
track_pid $!
wait_for "test -s '$T/any.port'" 5 ||
    fail "tsink on 127.0.0.1:0 did not start: $(cat "$T/any.err")"
P=$(free_port) || fail "free_port failed"
start_sink sum "127.0.0.1:$P"
[ "$SINK_PORT" = "$P" ] || fail "sink on free port $P is on $SINK_PORT"
exit 0
